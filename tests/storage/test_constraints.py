"""Invariants that live in the schema: no code path, however careless, can break them."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, TraceRow, utcnow


def _trace(s, project_id, key="k1", **overrides):
    row = dict(
        project_id=project_id,
        position=0,
        content_key=key,
        problem="p",
        steps=["a", "b"],
        n_steps=2,
        meta={},
        created_at=utcnow(),
    )
    row.update(overrides)
    (tid,) = queries.insert_traces(s, rows=[row])
    return tid


def _judgment(trace_id, **overrides):
    now = utcnow()
    row = dict(
        trace_id=trace_id,
        source_kind="human",
        source_name="alice",
        first_error=None,
        steps=[],
        critique=None,
        solution_correct=None,
        finish_reason=None,
        status="draft",
        time_spent_s=None,
        extra={},
        version=1,
        created_at=now,
        updated_at=now,
    )
    row.update(overrides)
    return row


@pytest.fixture
def trace_id(engine):
    with session(engine) as s, s.begin():
        project = queries.create_project(s, name="c")
        return _trace(s, project.id)


@pytest.mark.parametrize(
    "overrides",
    [
        {"source_kind": "robot"},
        {"source_kind": "human", "source_name": ""},
        {"source_kind": "reference", "source_name": "bob"},
        {"first_error": -2},
        {"finish_reason": "bored"},
        {"status": "final"},
        {"time_spent_s": -1.0},
        {"version": 0},
        {"trace_id": 999_999},
    ],
)
def test_bad_judgments_are_refused_by_the_database(engine, trace_id, overrides):
    with pytest.raises(IntegrityError), session(engine) as s, s.begin():
        queries.insert_judgments(s, rows=[{**_judgment(trace_id), **overrides}])


def test_one_judgment_per_trace_and_source(engine, trace_id):
    with session(engine) as s, s.begin():
        queries.insert_judgments(s, rows=[_judgment(trace_id), _judgment(trace_id, source_name="bob")])
    with pytest.raises(IntegrityError), session(engine) as s, s.begin():
        queries.insert_judgments(s, rows=[_judgment(trace_id)])


def test_a_trace_once_per_project_and_never_without_steps(engine, trace_id):
    with session(engine) as s:
        project_id = s.get(TraceRow, trace_id).project_id
    with pytest.raises(IntegrityError), session(engine) as s, s.begin():
        _trace(s, project_id)
    with pytest.raises(IntegrityError), session(engine) as s, s.begin():
        _trace(s, project_id, key="k2", steps=[], n_steps=0)


def test_project_names_are_unique_and_not_empty(engine):
    with session(engine) as s, s.begin():
        queries.create_project(s, name="x")
    for name in ("x", ""):
        with pytest.raises(IntegrityError), session(engine) as s, s.begin():
            queries.create_project(s, name=name)


def test_stale_revision_is_refused_and_history_kept(engine, trace_id):
    with session(engine) as s, s.begin():
        queries.insert_judgments(s, rows=[_judgment(trace_id)])
    with session(engine) as s, s.begin():
        (row,) = queries.judgments_on(s, trace_ids=[trace_id])
        content = queries.judgment_content(row) | {"first_error": 1, "status": "submitted"}
        queries.revise_judgment(s, judgment=row, content=content, expected_version=1, changed_by="human:alice")
    with pytest.raises(queries.StaleJudgment), session(engine) as s, s.begin():
        (row,) = queries.judgments_on(s, trace_ids=[trace_id])
        queries.revise_judgment(s, judgment=row, content=content | {"first_error": 0}, expected_version=1)
    with session(engine) as s:
        (row,) = queries.judgments_on(s, trace_ids=[trace_id])
        assert (row.first_error, row.version) == (1, 2)
        (rev,) = queries.revisions_of(s, judgment_id=row.id)
        assert rev.content["first_error"] is None and rev.content["status"] == "draft"


def test_deleting_a_project_takes_its_traces_and_judgments(engine, trace_id):
    with session(engine) as s, s.begin():
        queries.insert_judgments(s, rows=[_judgment(trace_id)])
        s.delete(queries.get_project(s, name="c"))
    with session(engine) as s:
        assert s.get(TraceRow, trace_id) is None
        assert s.exec(select(JudgmentRow)).all() == []
