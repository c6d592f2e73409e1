"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL where it runs), and the shared datasets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from annotation.ops.startup import prepare

ROOT = Path(__file__).resolve().parents[1]
DATASET_CANDIDATES = [
    Path(os.environ["REDLINE_DATASETS"]) if os.environ.get("REDLINE_DATASETS") else None,
    ROOT.parent / "shared" / "datasets",
    Path("/work/shared/datasets"),
]
POSTGRES_URL = os.environ.get("REDLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def required(flag: str) -> bool:
    return os.environ.get(flag, "") not in ("", "0", "false")


def skip_or_fail(flag: str, reason: str) -> None:
    if required(flag):
        pytest.fail(f"{reason} ({flag} is set, so this is required)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def datasets() -> Path:
    for candidate in DATASET_CANDIDATES:
        if candidate and candidate.is_dir():
            return candidate
    skip_or_fail("REDLINE_REQUIRE_DATASETS", "the shared datasets folder is absent")
    raise AssertionError("unreachable")


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'redline.db'}"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = prepare(sqlite_url(tmp_path))
    yield engine
    engine.dispose()


def _postgres_available() -> bool:
    try:
        probe = create_engine(POSTGRES_URL)
        with probe.connect():
            pass
        probe.dispose()
        return True
    except Exception:
        return False


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a schema of their own, dropped afterwards."""
    if not _postgres_available():
        skip_or_fail("REDLINE_REQUIRE_POSTGRES", f"PostgreSQL is not reachable at {POSTGRES_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        url = request.getfixturevalue("postgres_url")
    eng = prepare(url)
    yield eng
    eng.dispose()
