"""Pages run through Streamlit's AppTest against a fresh SQLite database each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from annotation.accounts.users import account_for, create_user
from annotation.ops.startup import prepare
from tests.utils.app_session import signed_in

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
RUN_TIMEOUT_S = 30


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL for the app under test; the cached engine is dropped before and after."""
    url = f"sqlite:///{tmp_path / 'redline.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    # Files the tests type on the Import page are written under tmp_path, so that is the import folder.
    monkeypatch.setenv("REDLINE_IMPORT_DIR", str(tmp_path))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """A second engine on the app's database, to check what the pages wrote."""
    engine = prepare(database_url)
    yield engine
    engine.dispose()


def sign_in_as(at: AppTest, username: str = "admin", role: str = "admin") -> AppTest:
    """Make the account when it is missing, and mark the AppTest's session as signed in with it."""
    engine = prepare()
    if account_for(engine, username) is None:
        create_user(engine, username=username, password="test-password-1", role=role)
    signed_in(at, engine, username)
    engine.dispose()
    return at


def open_app(page: str | None = None, *, user: str | None = "admin", role: str = "admin") -> AppTest:
    """The app, signed in as ``user`` (None: signed out), switched to ``page``."""
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    if user is not None:
        sign_in_as(at, user, role)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return at
