"""The rules of judging one trace: first-error mode, every-step mode, what blocks a submission."""

from dataclasses import replace

from annotation.core.model import NO_ERROR
from annotation.workflow.labelling import CORRECT, NEUTRAL, WRONG, WorkingCopy, summarise


def test_marking_a_step_wrong_in_first_error_mode_marks_the_unrated_ones_before_it_correct():
    work = WorkingCopy.blank(5).with_verdict(1, NEUTRAL, "first_error").with_verdict(3, WRONG, "first_error")
    assert [s.verdict for s in work.steps] == [CORRECT, NEUTRAL, CORRECT, WRONG, None]
    assert work.first_error("first_error") == 3
    assert work.greyed("first_error") == {4}
    assert work.missing("first_error") == []
    content = work.content("first_error")
    assert content["first_error"] == 3
    assert content["finish_reason"] == "found_error"
    assert content["solution_correct"] is False


def test_every_step_mode_needs_every_verdict_and_greys_nothing():
    work = WorkingCopy.blank(4).with_verdict(1, WRONG, "every_step")
    assert [s.verdict for s in work.steps] == [None, WRONG, None, None]
    assert work.first_error("every_step") is None  # step 1 is still unrated
    assert work.greyed("every_step") == set()
    assert work.missing("every_step") == ["a verdict on step 1, 3, 4"]
    work = work.with_verdict(0, CORRECT, "every_step").with_verdict(2, CORRECT, "every_step")
    work = work.with_verdict(3, NEUTRAL, "every_step")
    assert work.first_error("every_step") == 1
    assert summarise(work, "every_step").text == "First error: Step 2."
    assert summarise(work, "every_step").ready


def test_no_error_is_distinct_from_not_judged_and_from_step_one():
    blank = WorkingCopy.blank(3)
    assert blank.first_error("first_error") is None
    assert not summarise(blank, "first_error").ready
    clean = blank.all_correct()
    assert clean.first_error("first_error") == NO_ERROR
    assert clean.content("first_error")["finish_reason"] == "solution"
    assert clean.content("first_error")["solution_correct"] is True
    first = blank.with_verdict(0, WRONG, "first_error")
    assert first.first_error("first_error") == 0


def test_bad_problem_and_give_up_need_a_reason_and_carry_no_first_error():
    work = WorkingCopy.blank(3).with_verdict(0, WRONG, "first_error")
    gave_up = WorkingCopy(steps=work.steps, finish="give_up")
    assert gave_up.missing("first_error") == ["a reason for 'give up'"]
    gave_up = WorkingCopy(steps=work.steps, finish="give_up", finish_note="needs a calculator")
    content = gave_up.content("first_error")
    assert (content["finish_reason"], content["first_error"]) == ("give_up", None)
    assert content["extra"]["finish_note"] == "needs a calculator"


def test_a_draft_restores_every_field_and_content_restores_a_first_error_only_judgment():
    work = (
        WorkingCopy.blank(3)
        .with_verdict(2, WRONG, "first_error")
        .with_step(2, critique="2 + 2 is not 5", tags=("calculation",), correction="2 + 2 = 4")
    )
    work = WorkingCopy(**{**{f: getattr(work, f) for f in work.__slots__}, "critique": "overall", "time_spent_s": 4.5})
    assert WorkingCopy.from_draft(work.draft(), 3) == work
    imported = WorkingCopy.from_content({"first_error": 1, "steps": []}, 3)
    assert [s.verdict for s in imported.steps] == [CORRECT, WRONG, None]


def test_all_correct_after_an_error_also_clears_the_derived_wrong_answer():
    judged = WorkingCopy.from_content(
        WorkingCopy.blank(3).with_verdict(1, WRONG, "first_error").content("first_error"), 3
    )
    assert judged.solution_correct is False
    assert judged.all_correct().content("first_error")["solution_correct"] is True


def test_first_error_mode_submits_no_label_after_the_first_error_but_the_draft_keeps_them():
    work = WorkingCopy.blank(4).with_verdict(2, WRONG, "first_error").with_verdict(3, CORRECT, "first_error")
    work = work.with_step(3, critique="fine", tags=("logic",)).with_verdict(1, WRONG, "first_error")
    content = work.content("first_error")
    assert content["first_error"] == 1
    assert [s["verdict"] for s in content["steps"]] == [CORRECT, WRONG, None, None]
    assert content["steps"][3] == {"verdict": None, "critique": None, "tags": []}
    assert work.draft()["steps"][3]["critique"] == "fine"  # moving the first error back restores them
    assert work.content("every_step")["steps"][2]["verdict"] == WRONG


def test_a_step_made_correct_loses_its_error_tags_and_all_correct_clears_what_said_wrong():
    work = (
        WorkingCopy.blank(3)
        .with_verdict(0, WRONG, "every_step")
        .with_step(0, critique="no", tags=("logic",), correction="yes")
    )
    remade = work.with_verdict(0, CORRECT, "every_step")
    assert (remade.steps[0].tags, remade.steps[0].correction, remade.steps[0].critique) == ((), "", "no")
    everything = work.with_step(1, critique="a remark").all_correct()
    assert everything.steps[0].critique == "" and everything.steps[0].tags == ()
    assert everything.steps[1].critique == "a remark"
    assert all(s.verdict == CORRECT for s in everything.steps)


def test_wrong_because_of_an_earlier_step_is_submitted_only_where_it_still_holds():
    from annotation.workflow.labelling import StepWork

    steps = (
        StepWork(verdict=WRONG),
        StepWork(verdict=WRONG, because_of=0),
        StepWork(verdict=CORRECT, because_of=0),  # marked, then the verdict changed
        StepWork(verdict=WRONG, because_of=2),  # builds on a step that is not wrong
    )
    work = WorkingCopy(steps=steps)
    content = work.content("every_step")
    assert [s.get("because_of") for s in content["steps"]] == [None, 0, None, None]
    # The draft keeps what the person said, so changing the verdict back restores it.
    assert [s.because_of for s in WorkingCopy.from_draft(work.draft(), 4).steps] == [None, 0, 0, 2]
    # The first error is always original.
    first = WorkingCopy(steps=(StepWork(verdict=CORRECT), StepWork(verdict=WRONG, because_of=0)))
    assert first.content("every_step")["steps"][1].get("because_of") is None


def test_missing_entries_and_the_corrected_answer_go_into_drafts_and_judgments():
    from annotation.core.spans import Missing

    entry = Missing(2, "Missing-Answer", "the refund", passage=1, sentence=[3])
    work = replace(WorkingCopy.blank(2), missing_here=(entry,), corrected_answer="It was lost.")
    restored = WorkingCopy.from_draft(work.draft(), 2)
    assert restored.missing_here == (entry,) and restored.corrected_answer == "It was lost."
    content = work.all_correct().content("every_step")
    assert content["missing"] == [entry.as_dict()] and content["corrected_answer"] == "It was lost."
    again = WorkingCopy.from_content(content, 2)
    assert again.missing_here == (entry,) and again.corrected_answer == "It was lost."
    assert WorkingCopy.blank(2).all_correct().content("every_step")["corrected_answer"] is None
    # An entry past the steps (a draft from before a merge) is not shown.
    assert (
        WorkingCopy.from_draft(replace(work, missing_here=(replace(entry, position=5),)).draft(), 2).missing_here == ()
    )
