"""Checking an auto-critique: the person's judgment records what they started from and what changed."""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotation.core.model import InvalidValue, Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.judgments.visibility import ProjectView
from annotation.workflow.checking import (
    CheckRefused,
    StepCheck,
    checked_judgment,
    critiques_to_check,
    model_sources,
    next_unchecked,
    submit_check,
)
from storage import queries
from storage.db import session
from storage.tables import JudgmentRevision, JudgmentRow, utcnow
from tests.utils.critic_data import make_project

CRITIC = Source("model", "judge")


def per_step_model() -> Judgment:
    return Judgment(
        CRITIC,
        first_error=1,
        steps=[StepLabel(1, "Adds correctly."), StepLabel(-1, "Doubling is wrong."), StepLabel(-1, "Follows from 1.")],
        critique="Step 1 doubles wrongly.",
    )


@pytest.fixture
def checked_project(engine):
    """Three traces; the critic judged traces 0 and 1 (trace 0 with per-step labels, trace 1 by index only)."""
    make_project(engine, "check", 3)
    with session(engine) as s:
        ids = [t.id for t in queries.traces_in(s, project_id=queries.get_project(s, name="check").id)]
        rows = [
            judgment_row(per_step_model(), trace_id=ids[0], now=utcnow()),
            judgment_row(
                Judgment(CRITIC, first_error=-1, critique="All fine. \\boxed{-1}"), trace_id=ids[1], now=utcnow()
            ),
        ]
        queries.insert_judgments(s, rows=rows)
        s.commit()
    return ids


def mine(engine, trace_id: int, user: str = "ann") -> JudgmentRow:
    with session(engine) as s:
        return s.exec(
            select(JudgmentRow).where(JudgmentRow.trace_id == trace_id, JudgmentRow.source_name == user)
        ).one()


def test_accept_reject_edit_make_a_human_judgment_that_records_the_changes():
    judgment = checked_judgment(
        model_source=CRITIC,
        model=per_step_model(),
        model_version=3,
        n_steps=3,
        checks=[
            StepCheck(0, "accept"),
            StepCheck(1, "reject"),
            StepCheck(2, "edit", verdict=-1, critique="  4 * 2 is 8, not 9. "),
        ],
        rating="partly_helpful",
        replacement="Step 2 multiplies wrongly; step 1 is fine.",
        username="ann",
    )

    assert judgment.source == Source("human", "ann") and judgment.status == "submitted"
    assert [s.verdict for s in judgment.steps] == [1, 1, -1]
    assert judgment.steps[0].critique == "Adds correctly." and judgment.steps[1].critique is None
    assert judgment.steps[2].critique == "4 * 2 is 8, not 9."
    assert judgment.first_error == 2 and judgment.finish_reason == "found_error"
    assert judgment.critique == "Step 2 multiplies wrongly; step 1 is fine."
    extra = judgment.extra
    assert extra["checked_from"] == "model:judge" and extra["from_version"] == 3
    assert extra["critique_rating"] == "partly_helpful" and extra["model_first_error"] == 1
    assert [c["action"] for c in extra["changes"]] == ["accept", "reject", "edit"]
    assert extra["changes"][1] == {"step": 1, "action": "reject", "model_verdict": -1, "verdict": 1}
    assert extra["changes"][2]["model_critique"] == "Follows from 1."


def test_steps_after_the_first_error_need_no_check_but_earlier_ones_do():
    ok = checked_judgment(
        model_source=CRITIC,
        model=per_step_model(),
        model_version=1,
        n_steps=3,
        checks=[StepCheck(0, "accept"), StepCheck(1, "accept")],
        rating="helpful",
        replacement=None,
        username="ann",
    )
    assert ok.first_error == 1 and ok.steps[2].verdict is None and ok.critique is None

    with pytest.raises(InvalidValue, match="step 1 is not checked yet"):
        checked_judgment(
            model_source=CRITIC,
            model=per_step_model(),
            model_version=1,
            n_steps=3,
            checks=[StepCheck(0, "accept"), StepCheck(2, "accept")],
            rating="helpful",
            replacement=None,
            username="ann",
        )


def test_an_index_only_critique_implies_its_step_verdicts():
    model = Judgment(CRITIC, first_error=-1)

    judgment = checked_judgment(
        model_source=CRITIC,
        model=model,
        model_version=1,
        n_steps=3,
        checks=[StepCheck(0, "accept"), StepCheck(1, "accept"), StepCheck(2, "reject")],
        rating="misleading",
        replacement=None,
        username="ann",
    )

    assert [s.verdict for s in judgment.steps] == [1, 1, -1] and judgment.first_error == 2


@pytest.mark.parametrize(
    ("checks", "rating", "message"),
    [
        ([StepCheck(0, "edit")], "helpful", "choose a verdict"),
        ([StepCheck(0, "accept")], "great", "rate the critique"),
        ([StepCheck(5, "accept")], "helpful", "outside"),
    ],
)
def test_bad_checks_are_refused_with_a_reason(checks, rating, message):
    with pytest.raises(InvalidValue, match=message):
        checked_judgment(
            model_source=CRITIC,
            model=per_step_model(),
            model_version=1,
            n_steps=3,
            checks=checks,
            rating=rating,
            replacement=None,
            username="ann",
        )


def test_submit_then_revise_with_the_loaded_version(engine, checked_project):
    trace = checked_project[0]
    args = {"trace_id": trace, "model_source": CRITIC, "model_version": 1, "username": "ann", "replacement": None}

    first = submit_check(
        engine, **args, checks=[StepCheck(0, "accept"), StepCheck(1, "accept")], rating="helpful", loaded_version=None
    )
    second = submit_check(engine, **args, checks=[StepCheck(0, "reject")], rating="misleading", loaded_version=first)

    row = mine(engine, trace)
    assert (first, second, row.version) == (1, 2, 2)
    assert row.first_error == 0 and row.extra["critique_rating"] == "misleading"
    with session(engine) as s:
        kept = list(s.exec(select(JudgmentRevision).where(JudgmentRevision.judgment_id == row.id)))
    assert len(kept) == 1 and kept[0].content["extra"]["critique_rating"] == "helpful"


def test_stale_work_is_refused_and_nothing_is_overwritten(engine, checked_project):
    trace = checked_project[0]
    args = {"trace_id": trace, "model_source": CRITIC, "model_version": 1, "username": "ann", "replacement": None}
    submit_check(
        engine, **args, checks=[StepCheck(0, "accept"), StepCheck(1, "accept")], rating="helpful", loaded_version=None
    )

    with pytest.raises(CheckRefused, match="changed since you opened it"):
        submit_check(engine, **args, checks=[StepCheck(0, "reject")], rating="misleading", loaded_version=None)
    with pytest.raises(CheckRefused, match="changed since you opened it"):
        submit_check(engine, **args, checks=[StepCheck(0, "reject")], rating="misleading", loaded_version=7)

    row = mine(engine, trace)
    assert row.version == 1 and row.extra["critique_rating"] == "helpful"


def test_listing_what_to_check_and_the_next_one(engine, checked_project):
    assert model_sources(engine, "check") == ["model:judge"]
    items = critiques_to_check(engine, "check", CRITIC, ProjectView("ann", False, False))
    assert [i.trace_id for i in items] == checked_project[:2]
    assert [s.verdict for s in items[1].model_steps] == [1, 1, 1]  # implied by "no error"
    assert next_unchecked(items, CRITIC) == 0

    submit_check(
        engine,
        trace_id=checked_project[0],
        model_source=CRITIC,
        model_version=items[0].model_version,
        checks=[StepCheck(0, "accept"), StepCheck(1, "accept")],
        rating="helpful",
        replacement=None,
        username="ann",
        loaded_version=None,
    )

    items = critiques_to_check(engine, "check", CRITIC, ProjectView("ann", False, False))
    assert items[0].my_version == 1 and next_unchecked(items, CRITIC) == 1
    assert next_unchecked(critiques_to_check(engine, "check", CRITIC, ProjectView("other", False, False)), CRITIC) == 0
