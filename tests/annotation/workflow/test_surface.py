"""What the judging surface may send: every field checked against the open trace; a bad message changes nothing."""

from __future__ import annotations

import copy

import pytest

from annotation.workflow.labelling import CORRECT, WRONG
from annotation.workflow.surface import MessageRefused, read_message, trace_data, work_data
from annotation.workflow.workbench import open_trace
from tests.utils.projects import make_project


@pytest.fixture
def opened(engine, tmp_path):
    from annotation.projects.traces import load_traces

    rules = make_project(engine, tmp_path, taxonomy=["calculation", "logic"])
    trace_id = load_traces(engine, rules.name, limit=1)[0].id
    return rules, open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)


def read(raw, trace, taxonomy=("calculation", "logic")):
    return read_message(raw, trace_id=trace.trace_id, before=trace.work, username="ann", taxonomy=taxonomy)


def message(opened_trace, **changes):
    work = work_data(opened_trace.work)
    out = {"kind": "draft", "seq": 3, "trace_id": opened_trace.trace_id, "user": "ann", "work": work}
    return out | changes


def test_a_good_message_gives_the_working_copy(opened):
    _, trace = opened
    raw = message(trace)
    raw["work"]["steps"][1] |= {"verdict": WRONG, "critique": "2 + 2 is 4", "tags": ["calculation"]}
    raw["work"]["steps"][0]["verdict"] = CORRECT
    got = read(raw, trace)
    assert (got.kind, got.seq) == ("draft", 3)
    assert got.work.first_error("first_error") == 1
    assert got.work.steps[1].critique == "2 + 2 is 4" and got.work.steps[1].tags == ("calculation",)


def test_skip_and_back_need_no_work(opened):
    _, trace = opened
    got = read(message(trace, kind="skip", work=None), trace)
    assert got.kind == "skip" and got.work is None


def _bad(trace):
    steps = work_data(trace.work)["steps"]
    more = [*copy.deepcopy(steps), {"verdict": 1, "critique": "", "tags": [], "correction": ""}]
    return {
        "trace_id": message(trace, trace_id=trace.trace_id + 1),
        "user": message(trace, user="mallory"),
        "kind": message(trace, kind="delete_everything"),
        "seq": message(trace, seq=-1),
        "work.steps": message(trace, work=work_data(trace.work) | {"steps": more}),
        "work.steps[0].verdict": message(
            trace, work=work_data(trace.work) | {"steps": [{**steps[0], "verdict": 2}, *steps[1:]]}
        ),
        "work.steps[1].tags": message(
            trace, work=work_data(trace.work) | {"steps": [steps[0], {**steps[1], "tags": ["not-a-tag"]}, *steps[2:]]}
        ),
        "work.steps[2].critique": message(
            trace, work=work_data(trace.work) | {"steps": [*steps[:2], {**steps[2], "critique": 5}]}
        ),
        "work.finish": message(trace, work=work_data(trace.work) | {"finish": "rm -rf"}),
        "work.solution_correct": message(trace, work=work_data(trace.work) | {"solution_correct": "yes"}),
        "work.critique": message(trace, work=work_data(trace.work) | {"critique": "x" * 50_001}),
        "message": ["not", "an", "object"],
    }


@pytest.mark.parametrize(
    "field",
    [
        "trace_id",
        "user",
        "kind",
        "seq",
        "work.steps",
        "work.steps[0].verdict",
        "work.steps[1].tags",
        "work.steps[2].critique",
        "work.finish",
        "work.solution_correct",
        "work.critique",
        "message",
    ],
)
def test_a_message_that_does_not_fit_is_refused_naming_the_field(opened, field):
    _, trace = opened
    before = copy.deepcopy(trace.work)
    with pytest.raises(MessageRefused) as refused:
        read(_bad(trace)[field], trace)
    assert refused.value.field == field
    assert trace.work == before


def test_a_tag_already_on_the_step_stays_allowed_though_not_in_the_taxonomy(opened):

    _, trace = opened
    trace.work = trace.work.with_step(0, tags=("imported-tag",))
    raw = message(trace)
    got = read(raw, trace, taxonomy=("logic",))
    assert got.work.steps[0].tags == ("imported-tag",)


def test_the_browser_clock_is_not_asked_for_time_spent(opened):
    _, trace = opened
    raw = message(trace)
    raw["work"]["time_spent_s"] = 99_999
    assert read(raw, trace).work.time_spent_s == trace.work.time_spent_s


def test_the_trace_is_sent_as_markup(opened):
    _, trace = opened
    data = trace_data(trace)
    assert data["id"] == trace.trace_id and data["number"] == trace.position + 1
    assert len(data["steps"]) == len(trace.trace.steps) and data["problem"].startswith("<p>")


def test_a_step_does_not_repeat_the_number_the_page_shows():
    from annotation.workflow.surface import shown_step

    assert shown_step("Step 1: Add the numbers.", 0, 1) == "Add the numbers."
    assert shown_step("**Step 2.** Double it.", 1, 1) == "Double it."
    assert shown_step("3) Done.", 2, 1) == "Done."
    assert shown_step("Step 0: Start.", 0, 0) == "Start."
    assert shown_step("Step 4: not this step's number", 1, 1) == "Step 4: not this step's number"
    assert shown_step("2 + 2 = 4.", 1, 1) == "2 + 2 = 4."  # a number that is not numbering stays
    assert shown_step("1.5 is half of 3.", 0, 1) == "1.5 is half of 3."
    assert shown_step("Step 1:", 0, 1) == "Step 1:"  # nothing left to show otherwise


def test_the_stored_step_keeps_its_numbering(opened):
    from annotation.core.model import Trace
    from annotation.workflow.surface import trace_markup

    trace = Trace(problem="P", steps=["Step 1: a", "Step 2: b"])
    shown = trace_markup(1, 0, trace)
    assert "Step 1" not in shown["steps"][0] and "a" in shown["steps"][0]
    assert trace.steps == ["Step 1: a", "Step 2: b"]
