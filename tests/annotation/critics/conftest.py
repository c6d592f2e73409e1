"""Critic tests: a project of small traces, and an OpenAI-compatible stub on 127.0.0.1 (nothing reaches out)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

# Before litellm is imported anywhere: never download the cost map.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.utils.critic_data import make_project
from tests.utils.openai_stub import OpenAIStub


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub("\\boxed{-1}") as server:
        yield server


@pytest.fixture
def project(sqlite_engine: Engine) -> str:
    return make_project(sqlite_engine, "critic-test", 6)
