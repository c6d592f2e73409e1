"""A critic: a named, saved configuration of a model, a prompt template and sampling settings.

API keys are never part of it. A critic may name the environment variable (or Streamlit secret) that
holds its key, among those the operator allows (critics.keys); the key itself is read when the critic
runs and is kept nowhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from annotation.core.model import InvalidValue, Source
from annotation.critics import keys
from annotation.critics.templates import CUSTOM, PromptTemplate, resolve
from storage.db import session
from storage.tables import Critic, utcnow

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,79}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_RETRIES = 3


@dataclass(frozen=True)
class CriticConfig:
    name: str
    model: str
    api_base: str | None = None
    template: str = "processbench"
    prompt: str | None = None  # the template text when template == "custom"
    temperature: float = 0.0
    max_tokens: int = 2048
    samples: int = 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    # The NAME of the environment variable or Streamlit secret holding the API key; never the key.
    api_key_env: str | None = None
    extra_params: dict[str, Any] = field(default_factory=dict)
    # Whether the model is sent a trace's images: None asks litellm's model map (supports_vision).
    vision: bool | None = None

    @property
    def source(self) -> Source:
        return Source("model", self.name)

    def prompt_template(self) -> PromptTemplate:
        return resolve(self.template, self.prompt)

    def sees_images(self) -> bool:
        if self.vision is not None:
            return bool(self.vision)
        import litellm  # here, not at the top: importing litellm takes seconds, and most pages never call a model

        try:
            return bool(litellm.supports_vision(model=self.model))
        except Exception:  # a model litellm does not know: assume text only, and say so in the prompt
            return False

    def config_hash(self) -> str:
        """What decides a critique's content; a run skips traces already critiqued under the same hash."""
        blob = json.dumps(
            {
                "model": self.model,
                "api_base": self.api_base or None,
                "template": self.template,
                "prompt": self.prompt_template().full_text,
                "temperature": float(self.temperature),
                "max_tokens": int(self.max_tokens),
                "samples": int(self.samples),
                # Only when set, so that every critic saved before keeps its hash (and its cached critiques).
                **({"vision": bool(self.vision)} if self.vision is not None else {}),
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def validate(self) -> CriticConfig:
        if not NAME.match(self.name or ""):
            raise InvalidValue("name", "use 1-80 letters, digits and . _ @ + -, starting with a letter or digit")
        if not (self.model or "").strip():
            raise InvalidValue("model", "give a litellm model string, e.g. openai/gpt-4o-mini or ollama/qwen2.5")
        if self.api_base and not re.match(r"^https?://", self.api_base):
            raise InvalidValue("api_base", f"{self.api_base!r} is not an http(s) URL")
        if not 0.0 <= float(self.temperature) <= 2.0:
            raise InvalidValue("temperature", "use a temperature between 0 and 2")
        if int(self.max_tokens) < 1:
            raise InvalidValue("max_tokens", "max tokens must be at least 1")
        if not 1 <= int(self.samples) <= 32:
            raise InvalidValue("samples", "use 1 to 32 samples")
        if float(self.timeout_s) <= 0:
            raise InvalidValue("timeout_s", "the timeout must be positive")
        if not 0 <= int(self.retries) <= 10:
            raise InvalidValue("retries", "use 0 to 10 retries")
        if self.api_key_env and not ENV_NAME.match(self.api_key_env):
            raise InvalidValue("api_key_env", "give the NAME of an environment variable, e.g. OPENAI_API_KEY")
        self.prompt_template()
        return self

    def with_changes(self, **changes: Any) -> CriticConfig:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# Environment variables holding credentials (OPENAI_API_KEY, HF_TOKEN, AWS_SECRET_ACCESS_KEY...): litellm may read
# them itself, so their values are scrubbed from messages even when Redline never handled them.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_MIN_SECRET_LENGTH = 8


def scrub(message: str, *secrets: str | None) -> str:
    """The message with every credential in use replaced by ***: those given, and those in the environment."""
    found = {s for s in secrets if s} | {
        v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= _MIN_SECRET_LENGTH
    }
    for secret in sorted(found, key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


def api_key_for(config: CriticConfig, secrets: Mapping[str, Any] | None = None) -> str:
    """The key this critic's calls carry: the allowed variable it names, or a placeholder (see critics.keys)."""
    return keys.api_key(config.api_key_env, secrets)


_PARAMS = ("timeout_s", "retries", "api_key_env", "extra_params", "vision")


def _from_row(row: Critic) -> CriticConfig:
    params = dict(row.params or {})
    return CriticConfig(
        name=row.name,
        model=row.model,
        api_base=row.api_base,
        template=row.template,
        prompt=row.prompt,
        temperature=row.temperature,
        max_tokens=row.max_tokens,
        samples=row.samples,
        timeout_s=float(params.get("timeout_s", DEFAULT_TIMEOUT_S)),
        retries=int(params.get("retries", DEFAULT_RETRIES)),
        api_key_env=params.get("api_key_env") or None,
        extra_params=dict(params.get("extra_params") or {}),
        vision=params.get("vision"),
    )


def _row_values(config: CriticConfig) -> dict[str, Any]:
    values = asdict(config)
    params = {k: values.pop(k) for k in _PARAMS}
    values["params"] = params
    values["prompt"] = config.prompt if config.template == CUSTOM else None
    return values


def save_critic(engine: Engine, config: CriticConfig) -> CriticConfig:
    """Create the critic, or update the one of that name."""
    config.validate()
    with session(engine) as s:
        row = s.exec(select(Critic).where(Critic.name == config.name)).first()
        values = _row_values(config)
        if row is None:
            row = Critic(**values)
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
        s.add(row)
        s.commit()
        return _from_row(row)


def list_critics(engine: Engine) -> list[CriticConfig]:
    with session(engine) as s:
        return [_from_row(r) for r in s.exec(select(Critic).order_by(Critic.name))]


def get_critic(engine: Engine, name: str) -> CriticConfig | None:
    with session(engine) as s:
        row = s.exec(select(Critic).where(Critic.name == name)).first()
        return None if row is None else _from_row(row)


def critic_id(engine: Engine, name: str) -> int | None:
    with session(engine) as s:
        return s.exec(select(Critic.id).where(Critic.name == name)).first()


def default_name(model: str) -> str:
    """A critic name made from a model string: ``openai/gpt-4o-mini`` -> ``gpt-4o-mini``."""
    tail = model.strip().rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]+", "-", tail).strip("-._")
    return cleaned[:80] or "critic"
