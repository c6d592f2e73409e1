"""Small projects for critic tests: traces with known steps, some with a reference label, and a priced stub model."""

from __future__ import annotations

import os

from sqlalchemy import Engine

from annotation.core.model import REFERENCE, Judgment, Trace
from annotation.core.records import judgment_row, trace_row
from annotation.critics.config import CriticConfig, save_critic
from annotation.critics.keys import ALLOWED_NAMES_ENV
from storage import queries
from storage.db import session
from storage.tables import utcnow
from tests.utils.openai_stub import STUB_KEY, STUB_MODEL

# Price of the stub model, per token, so a run through it has a cost to record.
STUB_INPUT_COST = 1e-6
STUB_OUTPUT_COST = 2e-6


def make_trace(i: int, generator: str = "Qwen2.5-7B-Instruct") -> Trace:
    return Trace(
        problem=f"What is {i} + {i}, then doubled?",
        steps=[f"{i} + {i} = {2 * i}.", f"Doubling gives {4 * i}.", f"The answer is {4 * i}."],
        answer=str(4 * i),
        reference_answer=str(4 * i),
        reference_solution=f"{i} + {i} = {2 * i}; doubled, {4 * i}.",
        generator=generator,
        record_id=f"t-{i}",
    )


def make_project(engine: Engine, name: str, n: int, *, generator: str = "Qwen2.5-7B-Instruct") -> str:
    """A project of ``n`` three-step traces; trace i has a reference label (i % 3 == 0: no error, else step 1)."""
    now = utcnow()
    with session(engine) as s:
        project = queries.create_project(s, name=name)
        traces = [make_trace(i, generator) for i in range(n)]
        rows = [trace_row(t, project_id=project.id, position=i, key=t.key(), now=now) for i, t in enumerate(traces)]
        ids = queries.insert_traces(s, rows=rows)
        labels = [Judgment(REFERENCE, first_error=-1 if i % 3 == 0 else 1) for i in range(n)]
        queries.insert_judgments(
            s, rows=[judgment_row(j, trace_id=t, now=now) for j, t in zip(labels, ids, strict=True)]
        )
        s.commit()
    return name


def register_stub_price() -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.register_model(
        {
            STUB_MODEL: {
                "input_cost_per_token": STUB_INPUT_COST,
                "output_cost_per_token": STUB_OUTPUT_COST,
                "litellm_provider": "openai",
                "mode": "chat",
            }
        }
    )


def allow_key_name(name: str) -> None:
    """Let critics use the key in ``name``, as an operator would list it in REDLINE_API_KEY_NAMES."""
    listed = os.environ.get(ALLOWED_NAMES_ENV, "").split()
    if name not in listed:
        os.environ[ALLOWED_NAMES_ENV] = " ".join([*listed, name])


def stub_critic(engine: Engine | None, api_base: str, *, name: str = "stub-critic", **changes) -> CriticConfig:
    """A critic pointed at the stub (saved when an engine is given), with fast timeouts for tests."""
    config = CriticConfig(
        name=name, model=STUB_MODEL, api_base=api_base, timeout_s=10, retries=2, api_key_env="CRITIC_STUB_KEY"
    ).with_changes(**changes)
    os.environ.setdefault("CRITIC_STUB_KEY", STUB_KEY)
    allow_key_name("CRITIC_STUB_KEY")
    return save_critic(engine, config) if engine is not None else config
