"""An AppTest session signed in as a person, the way pages.auth.remember leaves a real one."""

from __future__ import annotations

import time

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from annotation.accounts.users import issue_token
from pages.auth import SINCE_KEY, TOKEN_KEY, USER_KEY


def signed_in(at: AppTest, engine: Engine, username: str, *, hours: float = 1.0) -> AppTest:
    """Mark the session signed in as ``username`` (who must exist), with a live sign-in token."""
    at.session_state[USER_KEY] = username
    at.session_state[SINCE_KEY] = time.time()
    at.session_state[TOKEN_KEY] = issue_token(engine, username=username, hours=hours)
    return at
