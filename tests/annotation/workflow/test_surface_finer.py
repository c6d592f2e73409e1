"""What the surface may send finer than a step: spans in any text of the trace, what is missing, what a wrong step
builds on, and a corrected answer; each checked against the trace, naming the field when refused."""

from __future__ import annotations

import pytest

from annotation.core.model import Trace
from annotation.core.parts import Part, Step, set_steps
from annotation.core.spans import Missing, Span
from annotation.workflow.labelling import CORRECT, WRONG, WorkingCopy
from annotation.workflow.surface import MessageRefused, passages_data, read_work, trace_markup, work_data

TAXONOMY = ("calculation", "Missing-Answer")


def agent_trace() -> Trace:
    trace = Trace(problem="Where is order A17?", steps=[], answer="It shipped 😀 yesterday.")
    set_steps(
        trace,
        [
            Step([Part("text", text="Let me look.")]),
            Step(
                [
                    Part("tool_call", name="get_order", arguments='{"order_id": "A17"}', call_id="c1"),
                    Part("tool_result", name="get_order", content='{"status": "lost"}', call_id="c1"),
                ]
            ),
            Step([Part("text", text="It shipped.")]),
        ],
    )
    trace.context = {"passages": [["Orders", "A17 was lost.", "Refunds take a week."], "a passage of one text"]}
    return trace


def read(work: dict, before: WorkingCopy | None = None, trace: Trace | None = None) -> WorkingCopy:
    trace = trace or agent_trace()
    before = before or WorkingCopy.blank(len(trace.steps))
    return read_work(work, before=before, taxonomy=TAXONOMY, trace=trace)


def blank(n: int = 3) -> dict:
    return work_data(WorkingCopy.blank(n))


def test_spans_on_a_tool_call_a_tool_result_and_the_answer_are_taken_in_code_points():
    work = blank()
    work["spans"] = [
        {"step": 1, "part": 0, "field": "arguments", "start": 14, "end": 17, "type": "calculation", "note": "wrong id"},
        {"step": 1, "part": 1, "field": "content", "start": 12, "end": 16, "type": "calculation"},
        {"step": None, "part": 0, "field": "answer", "start": 11, "end": 22, "type": "calculation"},
    ]
    got = read(work)
    trace = agent_trace()
    assert [s.note for s in got.spans] == ["wrong id", "", ""]
    assert [(s.step, s.part, s.field, s.start, s.end) for s in got.spans] == [
        (1, 0, "arguments", 14, 17),
        (1, 1, "content", 12, 16),
        (None, 0, "answer", 11, 22),
    ]
    assert trace.step_parts[1].parts[0].arguments[14:17] == "A17"
    assert trace.step_parts[1].parts[1].content[12:16] == "lost"
    assert trace.answer[11:22] == "😀 yesterday"  # one code point for the emoji, two UTF-16 units in a browser


@pytest.mark.parametrize(
    ("span", "field", "says"),
    [
        ({"step": 1, "part": 0, "field": "text", "start": 0, "end": 2}, "work.spans[0].step", "has no 'text'"),
        ({"step": 1, "part": 5, "field": "content", "start": 0, "end": 2}, "work.spans[0].step", "has no part 5"),
        ({"step": 9, "part": 0, "field": "text", "start": 0, "end": 2}, "work.spans[0].step", "does not exist"),
        ({"step": None, "field": "text", "start": 0, "end": 2}, "work.spans[0].step", "marks the answer"),
        ({"step": None, "field": "answer", "start": 3, "end": 99}, "work.spans[0].end", "inside the text's 23"),
        ({"step": 0, "start": 0, "end": 2, "type": "made up"}, "work.spans[0].type", "taxonomy"),
        ({"step": 0, "start": -1, "end": 2}, "work.spans[0].start", "not an offset"),
        ({"step": 0, "start": 0, "end": 2, "note": 7}, "work.spans[0].note", "expected text"),
    ],
)
def test_a_span_that_names_no_text_of_the_trace_is_refused(span, field, says):
    work = blank()
    work["spans"] = [{"type": "calculation"} | span]
    with pytest.raises(MessageRefused) as caught:
        read(work)
    assert caught.value.field == field and says in caught.value.message


def test_a_span_group_is_kept_only_when_the_judgment_already_had_it():
    before = WorkingCopy(steps=WorkingCopy.blank(3).steps, spans=(Span(0, 0, 3, "calculation", group="g1"),))
    work = blank()
    work["spans"] = [
        {"step": 0, "start": 0, "end": 3, "type": "calculation", "group": "g1"},
        {"step": 2, "start": 0, "end": 2, "type": "calculation", "group": "forged"},
    ]
    got = read(work, before)
    assert [s.group for s in got.spans] == ["g1", None]


def test_missing_entries_between_steps_and_at_the_end_point_at_passages_and_sentences():
    work = blank()
    work["missing"] = [
        {"position": 1, "type": "Missing-Answer", "note": "no lookup of the refund"},
        {"position": 3, "type": "Missing-Answer", "note": "", "passage": 1, "sentence": [2]},
        {"position": 0, "type": "calculation", "note": "", "passage": 2},
    ]
    got = read(work)
    assert [(m.position, m.passage, m.sentence) for m in got.missing_here] == [
        (1, None, None),
        (3, 1, [2]),
        (0, 2, None),
    ]
    assert passages_data(agent_trace().context) == [
        {
            "number": 1,
            "title": "Orders",
            "sentences": [{"id": 1, "text": "A17 was lost."}, {"id": 2, "text": "Refunds take a week."}],
        },
        {"number": 2, "title": "a passage of one text", "sentences": []},
    ]


@pytest.mark.parametrize(
    ("entry", "field", "says"),
    [
        ({"position": 4}, "work.missing[0].position", "past the end of 3 steps"),
        ({"position": -1}, "work.missing[0].position", "not a position"),
        ({"position": 1, "type": "made up"}, "work.missing[0].type", "taxonomy"),
        ({"position": 1, "passage": 3}, "work.missing[0].passage", "1 to 2"),
        ({"position": 1, "passage": 0}, "work.missing[0].passage", "1 to 2"),
        ({"position": 1, "passage": 1, "sentence": [0]}, "work.missing[0].sentence", "not a sentence of passage 1"),
        ({"position": 1, "passage": 2, "sentence": 1}, "work.missing[0].sentence", "not a sentence of passage 2"),
        ({"position": 1, "sentence": [1]}, "work.missing[0].sentence", "needs its passage"),
        ({"position": 1, "note": 7}, "work.missing[0].note", "expected text"),
    ],
)
def test_a_missing_entry_out_of_place_is_refused(entry, field, says):
    work = blank()
    work["missing"] = [{"type": "Missing-Answer"} | entry]
    with pytest.raises(MessageRefused) as caught:
        read(work)
    assert caught.value.field == field and says in caught.value.message


def test_an_imported_pointer_that_is_not_redlines_numbering_is_kept_as_it_was():
    kept = Missing(3, "Missing-Answer", "", passage="p-9", sentence=[[4, 5]])
    before = WorkingCopy(steps=WorkingCopy.blank(3).steps, missing_here=(kept,))
    work = blank()
    work["missing"] = [kept.as_dict()]
    assert read(work, before).missing_here == (kept,)


def test_a_wrong_step_may_build_on_an_earlier_wrong_step_only():
    work = blank()
    work["steps"][0]["verdict"] = WRONG
    work["steps"][1] |= {"verdict": WRONG, "because_of": 0}
    assert read(work).steps[1].because_of == 0

    for because, verdicts, says in [
        (1, (WRONG, WRONG), "not an earlier step"),
        (2, (WRONG, WRONG), "not an earlier step"),
        (True, (WRONG, WRONG), "not an earlier step"),
        (0, (CORRECT, WRONG), "step 1 is not marked wrong"),
    ]:
        work = blank()
        work["steps"][0]["verdict"], work["steps"][1]["verdict"] = verdicts
        work["steps"][1]["because_of"] = because
        with pytest.raises(MessageRefused) as caught:
            read(work)
        assert caught.value.field == "work.steps[1].because_of" and says in caught.value.message


def test_the_corrected_answer_is_text():
    work = blank() | {"corrected_answer": "It was lost; a refund is on its way."}
    assert read(work).corrected_answer == "It was lost; a refund is on its way."
    with pytest.raises(MessageRefused) as caught:
        read(blank() | {"corrected_answer": ["no"]})
    assert caught.value.field == "work.corrected_answer"


def test_the_page_gets_every_markable_text_of_a_step_of_parts_and_the_answer_as_stored():
    data = trace_markup(1, 0, agent_trace())
    assert data["texts"] == ["Let me look.", None, "It shipped."]
    assert data["fields"][0] is None and data["fields"][2] is None
    assert data["fields"][1] == [
        {"part": 0, "field": "arguments", "label": "arguments of get_order", "text": '{"order_id": "A17"}'},
        {"part": 1, "field": "content", "label": "result of get_order", "text": '{"status": "lost"}'},
    ]
    assert data["answer_text"] == "It shipped 😀 yesterday."
    assert data["passages"][0]["number"] == 1
