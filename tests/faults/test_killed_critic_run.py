"""A critic run killed with SIGKILL: what it stored stays whole, the run is known to be interrupted, and running
the critic again asks the model only about the traces still missing."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from annotation.critics.config import get_critic
from annotation.critics.runs import mark_interrupted, run_critic, run_history
from annotation.ops.startup import prepare
from storage.db import session
from storage.tables import CriticRun
from tests.utils.critic_data import make_project, stub_critic
from tests.utils.openai_stub import STUB_KEY, OpenAIStub
from tests.utils.processes import cli_env, kill_when, sqlite_scalar, sqlite_sound, start_cli

TRACES = 40
STORED = "SELECT count(*) FROM judgment WHERE source_kind = 'model' AND status = 'submitted'"


def test_a_killed_run_is_marked_interrupted_and_resumes_where_it_stopped(tmp_path: Path):
    db = tmp_path / "redline.db"
    engine = prepare(f"sqlite:///{db}")
    make_project(engine, "p", TRACES)
    with OpenAIStub("The first error is in step 2.\n\\boxed{1}", delay_s=0.15) as stub:
        stub_critic(engine, stub.api_base)
        env = cli_env(f"sqlite:///{db}", CRITIC_STUB_KEY=STUB_KEY, LITELLM_LOCAL_MODEL_COST_MAP="True")
        args = ["critique", "--project", "p", "--critic", "stub-critic", "--concurrency", "4", "--quiet"]
        log = tmp_path / "critique.log"
        child = start_cli(args, env, log)
        kill_when(child, lambda: (sqlite_scalar(db, STORED) or 0) >= 8, log, poll_s=0.05)

        sqlite_sound(db)
        stored = sqlite_scalar(db, STORED)
        assert 8 <= stored < TRACES
        # Every stored result is whole: a parsed first error and the run's configuration hash.
        assert sqlite_scalar(db, STORED + " AND first_error = 1 AND json_extract(extra, '$.config_hash') IS NOT NULL")
        with session(engine) as s:
            (run,) = s.exec(select(CriticRun)).all()
        assert run.status == "running"  # as the dead process left it

        # Listing the runs recognises the dead process at once (same machine, pid gone).
        history = run_history(engine)
        assert [(r.id, r.status) for r in history] == [(run.id, "interrupted")]
        assert "running the critic again resumes it" in history[0].error
        assert mark_interrupted(engine) == []  # already marked

        # Run again (here in this process, which has litellm loaded already; the CLI calls the same function).
        asked_before = stub.requests
        again = run_critic(engine, get_critic(engine, "stub-critic"), "p", concurrency=4)
        assert (again.status, again.done, again.skipped, again.failed) == ("done", TRACES - stored, stored, 0)
        assert stub.requests - asked_before == TRACES - stored  # nothing critiqued twice
    assert sqlite_scalar(db, STORED) == TRACES
    with session(engine) as s:
        runs = s.exec(select(CriticRun).order_by(CriticRun.id)).all()
    assert [r.status for r in runs] == ["interrupted", "done"]
    assert (runs[1].skipped, runs[1].done) == (stored, TRACES - stored)
    sqlite_sound(db)
    engine.dispose()


def test_a_run_silent_too_long_is_interrupted_even_from_another_machine(sqlite_engine):
    from datetime import timedelta

    from storage.tables import Critic, Project, utcnow

    with session(sqlite_engine) as s:
        project, critic = Project(name="p"), Critic(name="c", model="m")
        s.add_all([project, critic])
        s.flush()
        old = utcnow() - timedelta(minutes=5)
        for process, beat in (("elsewhere:1", old), ("elsewhere:2", utcnow())):
            s.add(
                CriticRun(
                    critic_id=critic.id,
                    project_id=project.id,
                    config_hash="h",
                    filters={"process": process},
                    started_at=old,
                    heartbeat_at=beat,
                )
            )
        s.commit()
    assert mark_interrupted(sqlite_engine) == [1]  # silent for 5 minutes; run 2 beat just now
    assert [r.status for r in run_history(sqlite_engine)] == ["running", "interrupted"]
