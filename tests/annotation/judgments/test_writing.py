"""The one write path (finding 4 of the trust issue), on SQLite and PostgreSQL: whoever writes a judgment,
the trace is locked, versions are checked, a trace completed by others is refused to a new worker, and
completion is kept right."""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotation.core.model import Judgment, Source, StepLabel
from annotation.judgments.writing import ANY_VERSION, JudgmentWrite, NotOpen, StaleJudgment, record
from annotation.projects.traces import load_traces
from annotation.workflow.checking import CheckRefused, StepCheck, submit_check
from annotation.workflow.labelling import WRONG
from annotation.workflow.workbench import open_trace, submit
from storage.db import session
from storage.queries import revisions_of
from storage.tables import JudgmentRow, TraceRow
from tests.utils.projects import make_project

CRITIC = Source("model", "judge")


def add_model_judgments(engine, trace_ids: list[int]) -> None:
    model = Judgment(CRITIC, first_error=1, steps=[StepLabel(1), StepLabel(-1, "wrong"), StepLabel(-1)])
    with session(engine) as s:
        record(s, [JudgmentWrite(t, model, expected_version=ANY_VERSION) for t in trace_ids])
        s.commit()


def humans_on(engine, trace_id: int) -> list[str]:
    with session(engine) as s:
        query = select(JudgmentRow.source_name).where(
            JudgmentRow.trace_id == trace_id, JudgmentRow.source_kind == "human"
        )
        return sorted(s.exec(query))


def complete(engine, trace_id: int) -> bool:
    with session(engine) as s:
        return s.get(TraceRow, trace_id).complete


def accept_all(engine, trace_id: int, username: str, loaded_version: int | None = None) -> int:
    checks = [StepCheck(i, "accept") for i in range(2)]
    return submit_check(
        engine,
        trace_id=trace_id,
        model_source=CRITIC,
        model_version=1,
        checks=checks,
        rating="helpful",
        replacement=None,
        username=username,
        loaded_version=loaded_version,
    )


def test_a_checked_trace_counts_as_complete(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=2)
    trace_id = load_traces(engine, rules.name, limit=1)[0].id
    add_model_judgments(engine, [trace_id])

    accept_all(engine, trace_id, "ann")

    assert complete(engine, trace_id)


def test_a_check_on_a_trace_another_annotator_completed_is_refused(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=2)
    trace_id = load_traces(engine, rules.name, limit=1)[0].id
    add_model_judgments(engine, [trace_id])
    accept_all(engine, trace_id, "ann")

    with pytest.raises(CheckRefused, match="already has the 1 judgment"):
        accept_all(engine, trace_id, "bob")

    assert humans_on(engine, trace_id) == ["ann"]
    # The person who checked it may still revise their own.
    assert accept_all(engine, trace_id, "ann", loaded_version=1) == 1  # unchanged content: same version


def test_annotate_by_url_cannot_submit_a_trace_another_completed(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=2)
    trace_id = load_traces(engine, rules.name, limit=1)[0].id
    first = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    submit(engine, first, username="ann", copy=first.work.with_verdict(0, WRONG, rules.label_mode), rules=rules)
    # bob opens /annotate?trace=N afterwards
    late = open_trace(engine, trace_id=trace_id, username="bob", rules=rules, is_admin=False)

    with pytest.raises(NotOpen):
        submit(engine, late, username="bob", copy=late.work.with_verdict(0, WRONG, rules.label_mode), rules=rules)

    assert humans_on(engine, trace_id) == ["ann"] and complete(engine, trace_id)


def test_with_two_per_trace_a_second_person_may_but_a_third_may_not(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=1, judgments_per_trace=2)
    trace_id = load_traces(engine, rules.name, limit=1)[0].id
    add_model_judgments(engine, [trace_id])
    accept_all(engine, trace_id, "ann")
    assert not complete(engine, trace_id)
    opened = open_trace(engine, trace_id=trace_id, username="bob", rules=rules, is_admin=False)
    submit(engine, opened, username="bob", copy=opened.work.with_verdict(0, WRONG, rules.label_mode), rules=rules)
    assert complete(engine, trace_id)

    with pytest.raises(CheckRefused):
        accept_all(engine, trace_id, "cat")
    assert humans_on(engine, trace_id) == ["ann", "bob"]


def test_a_stale_version_is_refused_and_a_change_keeps_its_revision(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=1)
    trace_id = load_traces(engine, rules.name, limit=1)[0].id
    first = Judgment(Source("consensus"), first_error=0, extra={"reason": "a"})
    second = Judgment(Source("consensus"), first_error=1, extra={"reason": "b"})
    with session(engine) as s:
        (added,) = record(s, [JudgmentWrite(trace_id, first)])
        s.commit()
    with session(engine) as s, pytest.raises(StaleJudgment):
        record(s, [JudgmentWrite(trace_id, second)])  # written as if none existed
    with session(engine) as s:
        (revised,) = record(s, [JudgmentWrite(trace_id, second, expected_version=1, changed_by="admin")])
        s.commit()
        row = s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == "consensus")).one()
        history = revisions_of(s, judgment_id=row.id)

    assert (added.outcome, revised.outcome, revised.version) == ("added", "revised", 2)
    assert [(r.version, r.content["first_error"], r.changed_by) for r in history] == [(1, 0, "admin")]
