"""Merging and splitting steps before judging: only on an unjudged trace, the old steps kept, labels following."""

import pytest
from sqlmodel import select

from annotation.core.model import InvalidValue, Judgment, Source
from annotation.core.parts import Part, Step, steps_of
from annotation.core.records import trace_from_row
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from annotation.judgments.writing import ANY_VERSION, JudgmentWrite, StaleJudgment, record
from annotation.workflow.labelling import StepWork, WorkingCopy
from annotation.workflow.restructure import CannotRestructure, follow, merged, restructure, split
from annotation.workflow.workbench import open_trace, project_rules, save_draft, submit
from storage import work
from storage.db import session
from storage.tables import TraceRevision, TraceRow
from tests.utils.files import write_jsonl

THINKING = (
    "<think>First, 2+2=4.\n\nSo the sum is 4. Wait, the question asks for 2+3. Let me check: 5.</think>\n\nIt is 5."
)


def reasoning_project(engine, tmp_path, n=2):
    records = [{"problem": f"What is 2+3? ({i})", "steps": THINKING, "id": str(i)} for i in range(n)]
    options = ConvertOptions(mapping=FieldMapping(id="id", step_split="reflections"))
    import_file(engine, write_jsonl(tmp_path / "r.jsonl", records), project="R", fmt="generic", options=options)
    rules = project_rules(engine, "R")
    with session(engine) as s:
        ids = s.exec(select(TraceRow.id).order_by(TraceRow.position)).all()
    return rules, ids


def stored(engine, trace_id):
    with session(engine) as s:
        return trace_from_row(s.get(TraceRow, trace_id))


def test_long_reasoning_is_split_into_thinking_steps_at_reflections(engine, tmp_path):
    _, ids = reasoning_project(engine, tmp_path)
    steps = steps_of(stored(engine, ids[0]))
    assert [(s.parts[0].type, s.parts[0].text) for s in steps] == [
        ("thinking", "First, 2+2=4."),
        ("thinking", "So the sum is 4."),
        ("thinking", "Wait, the question asks for 2+3."),
        ("thinking", "Let me check: 5."),
        ("text", "It is 5."),
    ]


def test_merge_then_split_keeps_every_earlier_version_and_the_draft_follows(engine, tmp_path):
    rules, ids = reasoning_project(engine, tmp_path)
    tid = ids[0]
    opened = open_trace(engine, trace_id=tid, username="ann", rules=rules, is_admin=False)
    draft = WorkingCopy.blank(5)
    draft = WorkingCopy(
        steps=(StepWork(verdict=1), StepWork(verdict=-1, critique="4 is not the question"), *draft.steps[2:]),
        critique="",
        solution_correct=None,
        finish=None,
        finish_note="",
        time_spent_s=3.0,
    )
    save_draft(engine, opened, username="ann", copy=draft)

    said = restructure(engine, trace_id=tid, username="ann", op="merge", step=0, copy=draft)
    assert said == "steps 1 and 2 merged"
    after = stored(engine, tid)
    assert after.steps[0] == "[thinking]\nFirst, 2+2=4.\n\nSo the sum is 4." and len(after.steps) == 4
    with session(engine) as s:
        mine = work.get_draft(s, trace_id=tid, username="ann").content
    assert [x["verdict"] for x in mine["steps"]][:2] == [-1, None]
    assert mine["steps"][0]["critique"] == "4 is not the question"

    text = after.step_parts[0].parts[0].text
    restructure(engine, trace_id=tid, username="ann", op="split", step=0, at=text.index("So"))
    again = stored(engine, tid)
    assert [s.parts[0].text for s in again.step_parts[:2]] == ["First, 2+2=4.", "So the sum is 4."]
    with session(engine) as s:
        revisions = s.exec(select(TraceRevision).where(TraceRevision.trace_id == tid)).all()
        row = s.get(TraceRow, tid)
    assert [r.steps_version for r in revisions] == [1, 2] and row.steps_version == 3 and row.n_steps == 5
    assert len(revisions[0].steps) == 5 and len(revisions[1].steps) == 4

    # Work opened on the old steps cannot be saved or submitted on the new ones.
    with pytest.raises(StaleJudgment, match="merged or split"):
        save_draft(engine, opened, username="ann", copy=WorkingCopy.blank(5))
    with pytest.raises(StaleJudgment, match="merged or split"):
        submit(engine, opened, username="ann", copy=WorkingCopy.blank(5).all_correct(), rules=rules)


def test_nobody_restructures_a_judged_trace_or_someone_elses_work(engine, tmp_path):
    rules, ids = reasoning_project(engine, tmp_path)
    with session(engine) as s:
        record(s, [JudgmentWrite(ids[0], Judgment(Source("reference"), first_error=2), expected_version=ANY_VERSION)])
        s.commit()
    with pytest.raises(CannotRestructure, match=r"already has judgments \(reference\)"):
        restructure(engine, trace_id=ids[0], username="ann", op="merge", step=0)
    opened = open_trace(engine, trace_id=ids[1], username="bob", rules=rules, is_admin=False)
    save_draft(engine, opened, username="bob", copy=WorkingCopy.blank(5))
    with pytest.raises(CannotRestructure, match="bob already started"):
        restructure(engine, trace_id=ids[1], username="ann", op="split", step=0, at=3)
    assert len(stored(engine, ids[1]).steps) == 5


def test_imported_labels_for_the_old_steps_are_left_out(engine, tmp_path):
    _, ids = reasoning_project(engine, tmp_path, n=1)
    restructure(engine, trace_id=ids[0], username="ann", op="merge", step=0)
    records = [{"problem": "What is 2+3? (0)", "steps": THINKING, "id": "0", "first": 2}]
    options = ConvertOptions(mapping=FieldMapping(id="id", step_split="reflections", first_error="first"))
    summary = import_file(
        engine, write_jsonl(tmp_path / "l.jsonl", records), project="R", fmt="generic", options=options
    )
    assert summary.traces_already_present == 1 and not summary.judgments_added
    assert any("merged or split" in w for w in summary.warnings)


def test_merge_and_split_rules():
    a = Step([Part("text", text="a")], role="assistant")
    b = Step([Part("tool_call", name="f", arguments="{}")], role="assistant", messages=[3])
    u = Step([Part("text", text="hi")], role="user")
    assert merged([a, b], 0)[0].parts == [*a.parts, *b.parts]
    with pytest.raises(InvalidValue, match="different speakers"):
        merged([a, u], 0)
    with pytest.raises(InvalidValue, match="no step after"):
        merged([a], 0)
    with pytest.raises(InvalidValue, match="not one text"):
        split([b], 0, 1)
    with pytest.raises(InvalidValue, match="text on both sides"):
        split([a], 0, 0)
    crlf = Step([Part("text", text="one\r\ntwo")])
    # The browser's text box counts the line break as one character.
    assert [s.parts[0].text for s in split([crlf], 0, 4)] == ["one", "two"]
    copy = WorkingCopy(
        steps=(StepWork(verdict=1, tags=("x",)), StepWork(verdict=-1, critique="c", tags=("y",))),
        critique="",
        solution_correct=None,
        finish=None,
        finish_note="",
        time_spent_s=0.0,
    )
    assert follow(copy, "merge", 0).steps == (StepWork(verdict=-1, critique="c", tags=("x", "y")),)
    assert follow(copy, "split", 1).steps[1:] == (copy.steps[1], StepWork(verdict=-1))


def test_pieces_of_one_text_keep_their_offsets_through_merge_and_split():
    whole = "Ada wrote it. Bob read it. Cy lost it."
    pieces = [(0, 14), (14, 27), (27, len(whole))]
    steps = [Step([Part("text", text=whole[a:b])], offset=a) for a, b in pieces]
    joined = merged(steps, 0)
    assert joined[0].parts[0].text == whole[:27] and joined[0].offset == 0
    again = split(joined, 0, 14)
    assert [(s.parts[0].text, s.offset) for s in again] == [(whole[a:b], a) for a, b in pieces]


def test_a_merged_trace_exported_and_imported_again_is_the_same_trace(engine, tmp_path):
    from annotation.exporting.formats.base import ExportOptions
    from annotation.exporting.run import export_project

    _, ids = reasoning_project(engine, tmp_path, n=1)
    restructure(engine, trace_id=ids[0], username="ann", op="merge", step=0)
    out = tmp_path / "r.jsonl"
    export_project(engine, "R", "redline", out, ExportOptions())
    again = import_file(engine, out, project="R")
    assert (again.traces_added, again.traces_already_present) == (0, 1)
    # A file claiming that identity for other steps does not take the trace over.
    import json

    record = json.loads(out.read_text())
    record["steps"] = ["something else"]
    record["step_parts"] = None
    forged = write_jsonl(tmp_path / "forged.jsonl", [record])
    assert import_file(engine, forged, project="R").traces_added == 1
