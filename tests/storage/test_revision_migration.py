"""Migration 0010: revision results kept per configuration (reviser hash and grader), and ungraded results."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import IntegrityError

from storage.db import alembic_config, make_engine, migrate
from storage.tables import Project, TraceRow

RESULT = (
    "INSERT INTO revision_result (trace_id, critique_source, show, reviser, reviser_hash, request_hash, status, "
    "grader, extra, created_at, updated_at) VALUES (1, 'reference', 'full', 'qwen', :hash, 'r', :status, :grader, "
    "'{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_engine(request, tmp_path) -> Engine:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine, "0009")
    yield engine
    engine.dispose()


def _insert(c, hash_: str, grader: str, status: str = "done") -> None:
    c.execute(text(RESULT), {"hash": hash_, "grader": grader, "status": status})


def test_results_of_other_settings_or_graders_no_longer_overwrite_each_other(old_engine):
    with old_engine.begin() as c:
        # Projects and traces are as they were at 0009: written as the tables say.
        project = c.execute(insert(Project.__table__).values(name="p")).inserted_primary_key[0]
        trace = {"project_id": project, "position": 0, "content_key": "k", "problem": "x", "steps": ["a"], "n_steps": 1}
        c.execute(insert(TraceRow.__table__).values(**trace))
        _insert(c, "h1", "math-verify")
        c.execute(
            text(
                "INSERT INTO revision_run (project_id, critiques, show, reviser, reviser_hash, grader, status, total, "
                "done, cached, failed, no_reference, cost, prompt_tokens, completion_tokens, filters, started_by, "
                "started_at) VALUES (1, 'reference', 'full', 'qwen', 'h1', 'math-verify', 'done', 1, 1, 0, 0, 0, 0, "
                "0, 0, '{}', 'x', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(IntegrityError), old_engine.begin() as c:
        _insert(c, "h2", "exact")  # before: one result per trace, source, show and reviser name
    migrate(old_engine)
    with old_engine.begin() as c:
        _insert(c, "h2", "math-verify")  # other settings
        _insert(c, "h1", "exact", "ungraded")  # another grader, its grade missing
        assert c.execute(text("SELECT count(*) FROM revision_result")).scalar() == 3
        assert c.execute(text("SELECT ungraded FROM revision_run")).scalar() == 0  # the run kept, counted 0
    with pytest.raises(IntegrityError), old_engine.begin() as c:
        _insert(c, "h1", "exact")  # the same configuration: still one result
    # And back: one result per (trace, source, show, reviser), the newest kept; ungraded read as failed.
    config = alembic_config()
    with old_engine.begin() as c:
        config.attributes["connection"] = c
        command.downgrade(config, "0009")
    with old_engine.connect() as c:
        assert c.execute(text("SELECT reviser_hash, grader, status FROM revision_result")).all() == [
            ("h1", "exact", "failed")
        ]
