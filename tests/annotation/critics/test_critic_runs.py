"""Batch runs through litellm against a real HTTP server on 127.0.0.1: progress, cost, failure, cancel, resume."""

from __future__ import annotations

import re
import threading

import pytest
from sqlmodel import select

from annotation.critics.runs import RunFilter, request_cancel, run_critic, run_history
from storage.db import session
from storage.tables import Critic, CriticRun, JudgmentRevision, JudgmentRow
from tests.utils.critic_data import make_project, register_stub_price, stub_critic
from tests.utils.openai_stub import STUB_KEY, OpenAIStub

SOURCE = "stub-critic"


def answer_by_trace(body) -> str:
    """Trace i (problem 'What is i + i') gets \\boxed{-1} when i is even, else \\boxed{1}."""
    i = int(re.search(r"What is (\d+) \+", body["messages"][0]["content"]).group(1))
    return "Looks fine. \\boxed{-1}" if i % 2 == 0 else "Paragraph 1 doubles wrongly. \\boxed{1}"


def model_judgments(engine, name: str = SOURCE) -> dict[int, JudgmentRow]:
    with session(engine) as s:
        rows = s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == "model", JudgmentRow.source_name == name))
        return {r.trace_id: r for r in rows}


def the_run(engine, run_id: int) -> CriticRun:
    with session(engine) as s:
        return s.get(CriticRun, run_id)


@pytest.fixture(autouse=True)
def priced_stub_model():
    register_stub_price()


def test_a_run_stores_one_judgment_per_trace_with_tokens_latency_and_cost(sqlite_engine, project):
    seen = []
    with OpenAIStub(answer_by_trace) as stub:
        config = stub_critic(sqlite_engine, stub.api_base)
        result = run_critic(sqlite_engine, config, project, concurrency=3, progress=lambda p: seen.append(p.finished))

    judged = model_judgments(sqlite_engine)
    assert result.status == "done" and result.total == 6 and result.done == 6 and result.failed == 0
    assert stub.requests == 6
    assert sorted(j.first_error for j in judged.values()) == [-1, -1, -1, 1, 1, 1]
    one = next(iter(judged.values()))
    assert one.status == "submitted" and one.critique and "boxed" in one.extra["raw"]
    assert one.extra["config_hash"] == config.config_hash()
    assert one.extra["model"] == "openai/stub-model" and one.extra["run_id"] == result.run_id
    assert one.extra["tokens"]["prompt"] > 0 and one.extra["tokens"]["completion"] > 0
    assert one.extra["latency_s"] > 0 and one.extra["cost"] > 0 and one.extra["unparsed"] is False
    assert len(one.extra["prompt_hash"]) == 16
    run = the_run(sqlite_engine, result.run_id)
    assert (run.status, run.total, run.done, run.failed, run.skipped) == ("done", 6, 6, 0, 0)
    assert run.cost == pytest.approx(sum(j.extra["cost"] for j in judged.values())) and run.cost > 0
    assert seen[0] == 0 and seen[-1] == 6 and seen == sorted(seen)
    assert run_history(sqlite_engine)[0].critic == SOURCE


def test_a_failing_trace_is_recorded_on_it_and_the_run_goes_on(sqlite_engine, project):
    def fail_trace_4(body):
        return 500 if "What is 4 +" in body["messages"][0]["content"] else None

    with OpenAIStub(answer_by_trace, fail_when=fail_trace_4) as stub:
        config = stub_critic(sqlite_engine, stub.api_base, retries=1)
        result = run_critic(sqlite_engine, config, project, concurrency=2, backoff_base_s=0.01)

    judged = model_judgments(sqlite_engine)
    failed = [j for j in judged.values() if j.status == "failed"]
    assert result.status == "done" and result.failed == 1 and result.done == 6
    assert len(failed) == 1 and failed[0].first_error is None
    assert "after 2 attempt(s)" in failed[0].extra["error"]
    assert STUB_KEY not in failed[0].extra["error"]
    assert sum(j.status == "submitted" for j in judged.values()) == 5
    assert the_run(sqlite_engine, result.run_id).failed == 1
    assert stub.requests == 5 + 2  # the failing trace was tried twice


def test_rate_limit_is_retried_with_backoff(sqlite_engine, project):
    with OpenAIStub(answer_by_trace, fail={1: 429, 2: 429}) as stub:
        config = stub_critic(sqlite_engine, stub.api_base, retries=3)
        result = run_critic(
            sqlite_engine, config, project, filters=RunFilter(limit=1), concurrency=1, backoff_base_s=0.01
        )

    (judgment,) = model_judgments(sqlite_engine).values()
    assert result.failed == 0 and judgment.status == "submitted" and judgment.extra["attempts"] == 3
    assert stub.requests == 3


def test_resume_skips_what_this_configuration_did_and_retries_failures(sqlite_engine, project):
    fail = {"on": True}
    with OpenAIStub(
        answer_by_trace, fail_when=lambda b: 500 if fail["on"] and "What is 1 +" in str(b) else None
    ) as stub:
        config = stub_critic(sqlite_engine, stub.api_base, retries=0)
        first = run_critic(sqlite_engine, config, project, concurrency=4)
        fail["on"] = False
        before = stub.requests
        second = run_critic(sqlite_engine, config, project, concurrency=4)
        again = stub.requests - before

    assert first.failed == 1
    assert (second.skipped, second.done, second.failed) == (5, 1, 0) and again == 1
    assert all(j.status == "submitted" for j in model_judgments(sqlite_engine).values())


def test_a_changed_configuration_critiques_again_and_keeps_the_earlier_results(sqlite_engine, project):
    with OpenAIStub(answer_by_trace) as stub:
        config = stub_critic(sqlite_engine, stub.api_base)
        run_critic(sqlite_engine, config, project, concurrency=4)
        earlier = {t: j.extra["config_hash"] for t, j in model_judgments(sqlite_engine).items()}
        warmer = stub_critic(sqlite_engine, stub.api_base, temperature=0.7)
        result = run_critic(sqlite_engine, warmer, project, concurrency=4)

    judged = model_judgments(sqlite_engine)
    assert warmer.config_hash() != config.config_hash()
    assert result.skipped == 0 and result.done == 6
    assert {j.version for j in judged.values()} == {2}
    with session(sqlite_engine) as s:
        kept = list(s.exec(select(JudgmentRevision)))
    assert len(kept) == 6 and {r.content["extra"]["config_hash"] for r in kept} == set(earlier.values())


def test_cancel_stops_the_run_and_resume_finishes_it(sqlite_engine):
    project = make_project(sqlite_engine, "slow", 8)
    cancel = threading.Event()

    def on_progress(p):
        if p.done >= 1:
            cancel.set()

    with OpenAIStub(answer_by_trace, delay_s=0.3) as stub:
        config = stub_critic(sqlite_engine, stub.api_base)
        stopped = run_critic(sqlite_engine, config, project, concurrency=1, progress=on_progress, cancel=cancel)
        resumed = run_critic(sqlite_engine, config, project, concurrency=8)

    assert stopped.status == "cancelled" and 1 <= stopped.done < 8
    assert the_run(sqlite_engine, stopped.run_id).status == "cancelled"
    assert resumed.status == "done" and resumed.skipped == stopped.done and resumed.done == 8 - stopped.done
    assert len(model_judgments(sqlite_engine)) == 8


def test_cancel_through_the_run_row_from_elsewhere(sqlite_engine):
    project = make_project(sqlite_engine, "slow-db", 6)
    started = threading.Event()
    run_ids = []

    def on_start(p):
        run_ids.append(p.run_id)
        started.set()

    def canceller():
        started.wait(10)
        assert request_cancel(sqlite_engine, run_ids[0])

    with OpenAIStub(answer_by_trace, delay_s=1.0) as stub:
        config = stub_critic(sqlite_engine, stub.api_base)
        thread = threading.Thread(target=canceller)
        thread.start()
        result = run_critic(sqlite_engine, config, project, concurrency=1, on_start=on_start)
        thread.join()

    assert result.status == "cancelled" and result.done < 6
    assert the_run(sqlite_engine, result.run_id).status == "cancelled"


def test_filters_choose_traces_and_the_family_warning(sqlite_engine, project):
    with OpenAIStub(answer_by_trace) as stub:
        config = stub_critic(sqlite_engine, stub.api_base, model="openai/qwen2.5-72b-instruct")
        result = run_critic(sqlite_engine, config, project, filters=RunFilter(reference="no_error"))

    assert result.total == 2  # traces 0 and 3 have the reference label "no error"
    assert "qwen" in result.warning and "Qwen2.5-7B-Instruct (2 traces)" in result.warning
    assert the_run(sqlite_engine, result.run_id).filters["reference"] == "no_error"


def test_the_api_key_is_sent_but_stored_nowhere(sqlite_engine, project):
    with OpenAIStub(answer_by_trace, fail={1: 500}) as stub:
        config = stub_critic(sqlite_engine, stub.api_base, retries=0)
        run_critic(sqlite_engine, config, project, api_key=STUB_KEY)

    assert stub.authorizations == {f"Bearer {STUB_KEY}"}
    with session(sqlite_engine) as s:
        dump = "\n".join(str(row) for table in (JudgmentRow, CriticRun, Critic) for row in s.exec(select(table)))
    assert "failed" in dump and "CRITIC_STUB_KEY" in dump  # the variable's name is kept, not its value
    assert STUB_KEY not in dump


def test_unknown_project_is_refused(sqlite_engine):
    from annotation.projects.overview import NoSuchProject

    config = stub_critic(sqlite_engine, "http://127.0.0.1:9/v1")
    with pytest.raises(NoSuchProject):
        run_critic(sqlite_engine, config, "nope")
