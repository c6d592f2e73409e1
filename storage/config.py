"""Settings read from the environment (or a .env file)."""

from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/redline.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # A signed-in session ends after this long, whatever happens in it.
    session_hours: float = 12.0

    @field_validator("database_url")
    @classmethod
    def normalise(cls, url: str) -> str:
        return normalise_url(url)


def normalise_url(url: str) -> str:
    """Point bare PostgreSQL URLs at psycopg 3, the driver Redline ships."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url() -> str:
    return Settings().database_url


def settings() -> Settings:
    return Settings()
