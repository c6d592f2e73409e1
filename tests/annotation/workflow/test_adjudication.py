"""Admins settle disagreements into a consensus judgment; earlier decisions stay as revisions."""

import pytest
from sqlmodel import select

from annotation.accounts.users import Account
from annotation.core.model import InvalidValue, Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.workflow.adjudication import NotAllowed, adopt, consensus_of, settle
from storage import queries
from storage.db import session
from storage.queries import StaleJudgment, revisions_of
from storage.tables import JudgmentRow, utcnow

ADMIN = Account("boss", "admin")
ANNOTATOR = Account("ann1", "annotator")


@pytest.fixture
def trace_id(engine):
    with session(engine) as s, s.begin():
        project = queries.create_project(s, name="p")
        (tid,) = queries.insert_traces(
            s,
            rows=[
                {
                    "project_id": project.id,
                    "position": 0,
                    "content_key": "k",
                    "problem": "2+2?",
                    "steps": ["2+2=5", "so 5", "done"],
                    "n_steps": 3,
                    "meta": {},
                }
            ],
        )
        now = utcnow()
        h1 = Judgment(Source("human", "h1"), first_error=0, steps=[StepLabel(-1, "2+2 is 4", ["arithmetic"])])
        h2 = Judgment(Source("human", "h2"), first_error=1, critique="step 2 is wrong")
        queries.insert_judgments(
            s, rows=[judgment_row(h1, trace_id=tid, now=now), judgment_row(h2, trace_id=tid, now=now)]
        )
    return tid


def consensus_rows(engine):
    with session(engine) as s:
        return list(s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == "consensus")))


def test_admin_settles_and_the_decision_is_kept_with_who_and_why(engine, trace_id):
    judgment, version = settle(
        engine,
        account=ADMIN,
        trace_id=trace_id,
        judgment=Judgment(Source("human", "h1"), first_error=0),
        reason="2+2 is 4, not 5",
        from_sources=["human:h1", "human:h2"],
    )
    assert version == 1
    assert judgment.source == Source("consensus")
    stored, stored_version = consensus_of(engine, trace_id)
    assert stored_version == 1
    assert stored.first_error == 0 and stored.solution_correct is False
    assert stored.extra == {"decided_by": "boss", "reason": "2+2 is 4, not 5", "from": ["human:h1", "human:h2"]}


def test_changing_a_consensus_keeps_the_earlier_one(engine, trace_id):
    adopt(engine, account=ADMIN, trace_id=trace_id, source="human:h2", reason="first look", from_sources=["human:h2"])
    judgment, version = adopt(
        engine,
        account=ADMIN,
        trace_id=trace_id,
        source="human:h1",
        reason="on reflection step 1",
        from_sources=["human:h1", "human:h2"],
        expected_version=1,
    )
    assert version == 2
    assert judgment.first_error == 0 and judgment.steps[0].critique == "2+2 is 4"
    (row,) = consensus_rows(engine)
    with session(engine) as s:
        (earlier,) = revisions_of(s, judgment_id=row.id)
    assert earlier.changed_by == "boss"
    assert earlier.content["first_error"] == 1
    assert earlier.content["extra"]["reason"] == "first look"
    assert earlier.content["critique"] == "step 2 is wrong"


def test_a_decision_made_meanwhile_is_not_overwritten(engine, trace_id):
    adopt(engine, account=ADMIN, trace_id=trace_id, source="human:h2", reason="one", from_sources=["human:h2"])
    with pytest.raises(StaleJudgment):
        adopt(engine, account=ADMIN, trace_id=trace_id, source="human:h1", reason="two", from_sources=["human:h1"])
    adopt(
        engine, account=ADMIN, trace_id=trace_id, source="human:h1", reason="three", from_sources=[], expected_version=1
    )
    with pytest.raises(StaleJudgment):
        adopt(
            engine,
            account=ADMIN,
            trace_id=trace_id,
            source="human:h2",
            reason="four",
            from_sources=[],
            expected_version=1,
        )
    assert consensus_of(engine, trace_id)[0].extra["reason"] == "three"


def test_only_admins_with_a_reason_and_a_valid_step(engine, trace_id):
    with pytest.raises(NotAllowed):
        adopt(engine, account=ANNOTATOR, trace_id=trace_id, source="human:h1", reason="mine", from_sources=[])
    with pytest.raises(InvalidValue) as no_reason:
        adopt(engine, account=ADMIN, trace_id=trace_id, source="human:h1", reason="  ", from_sources=[])
    assert no_reason.value.field == "reason"
    with pytest.raises(InvalidValue) as bad_step:
        settle(
            engine,
            account=ADMIN,
            trace_id=trace_id,
            judgment=Judgment(Source("consensus"), first_error=3),
            reason="x",
            from_sources=[],
        )
    assert bad_step.value.field == "first_error"
    with pytest.raises(InvalidValue):
        adopt(engine, account=ADMIN, trace_id=trace_id, source="model:none", reason="x", from_sources=[])
    assert consensus_rows(engine) == []
