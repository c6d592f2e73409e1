"""A critic's quoted words become spans with exact offsets, or stay unmatched and counted."""

from annotation.core.model import Trace
from annotation.core.parts import Part, Step
from annotation.critics.quotes import find_quote, spans_from_quotes


def test_exact_then_whitespace_insensitive():
    text = "First we add 2 and 3.\nThen   we\nmultiply by 4, giving 20."
    assert find_quote(text, "add 2 and 3") == (9, 20)
    start, end = find_quote(text, "Then we multiply by 4")
    assert text[start:end] == "Then   we\nmultiply by 4"
    assert find_quote(text, "divide by 4") is None and find_quote(text, "   ") is None
    # Code points, not UTF-16 units: the emoji is one character.
    assert find_quote("😀 wrong here", "wrong") == (2, 7)


def test_quotes_become_spans_on_the_part_that_holds_them():
    step = Step([Part("text", text="Let me look it up."), Part("tool_call", name="f", arguments='{"id": "A17"}')])
    trace = Trace(
        problem="p",
        steps=[step.text, "The total is 12."],
        step_parts=[step, Step([Part("text", text="The total is 12.")])],
    )
    got = spans_from_quotes(
        [
            {"step": 0, "quote": '"id": "A17"', "type": "wrong argument"},
            {"step": 1, "quote": "is 12", "type": "calculation", "note": "it is 14"},
            {"step": 1, "quote": "never said", "type": "calculation"},
            {"step": 9, "quote": "is 12"},
        ],
        trace,
    )
    assert [(s.step, s.part, s.field, s.start, s.end, s.type) for s in got.spans] == [
        (0, 1, "arguments", 1, 12, "wrong argument"),
        (1, 0, "text", 10, 15, "calculation"),
    ]
    assert got.spans[1].note == "it is 14"
    assert [u["quote"] for u in got.unmatched] == ["never said", "is 12"]


def test_a_critic_run_stores_quoted_errors_as_spans(sqlite_engine, tmp_path):
    import json

    from sqlmodel import select

    from annotation.critics.runs import run_critic
    from annotation.importing.files import import_file
    from storage.db import session
    from storage.tables import JudgmentRow
    from tests.utils.critic_data import stub_critic
    from tests.utils.files import write_jsonl
    from tests.utils.openai_stub import OpenAIStub

    records = [{"problem": "2+3?", "steps": ["2+3 is 6.", "So 6."], "label": 0, "final_answer_correct": False}]
    import_file(sqlite_engine, write_jsonl(tmp_path / "p.jsonl", records), project="P")
    answer = json.dumps(
        {
            "steps": [{"step": 0, "verdict": "incorrect", "explanation": "2+3 is 5"}],
            "spans": [{"step": 0, "quote": "is 6", "type": "calculation"}, {"step": 1, "quote": "is 7", "type": "x"}],
            "first_error": 0,
        }
    )
    with OpenAIStub(answer) as stub:
        config = stub_critic(sqlite_engine, stub.api_base, template="step_spans")
        run_critic(sqlite_engine, config, "P")
    with session(sqlite_engine) as s:
        row = s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == "model")).one()
    assert [(x["step"], x["start"], x["end"], x["type"]) for x in row.spans] == [(0, 4, 8, "calculation")]
    assert row.extra["quotes"] == {"matched": 1, "unmatched": 1}
    assert row.extra["unmatched_quotes"][0]["quote"] == "is 7"


def test_unmatched_quotes_are_counted_for_compare(sqlite_engine, tmp_path):
    import json

    from annotation.critics.runs import run_critic
    from annotation.importing.files import import_file
    from annotation.metrics.span_report import span_report
    from tests.utils.critic_data import stub_critic
    from tests.utils.files import write_jsonl
    from tests.utils.openai_stub import OpenAIStub

    records = [
        {"problem": f"2+{i}?", "steps": [f"2+{i} is 9.", "Done."], "label": 0, "final_answer_correct": False}
        for i in range(3)
    ]
    import_file(sqlite_engine, write_jsonl(tmp_path / "p.jsonl", records), project="P")
    answer = json.dumps(
        {
            "steps": [],
            "spans": [{"step": 0, "quote": "is 9", "type": "calc"}, {"step": 0, "quote": "nope", "type": "calc"}],
            "first_error": 0,
        }
    )
    with OpenAIStub(answer) as stub:
        run_critic(sqlite_engine, stub_critic(sqlite_engine, stub.api_base, template="step_spans"), "P")
    report = span_report(sqlite_engine, "P", "reference", "model:stub-critic")
    assert (report.quotes, report.unmatched_quotes) == (6, 3)
