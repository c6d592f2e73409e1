"""Revision tests: the small project of tests.utils.revision_data, and a reviser pointed at a stub on 127.0.0.1."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.utils.critic_data import register_stub_price
from tests.utils.revision_data import make_revision_project


@pytest.fixture
def project(sqlite_engine: Engine) -> str:
    register_stub_price()
    return make_revision_project(sqlite_engine)
