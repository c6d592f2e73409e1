"""Agent traces with parts and images: stored, exported in Redline's shape, and imported again unchanged."""

import json

import pytest
from sqlmodel import select

from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.records import trace_from_row
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import export_project
from annotation.importing.files import import_file
from annotation.judgments.writing import ANY_VERSION, JudgmentWrite, record
from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, StoredImage, TraceRow
from tests.utils.chat_records import anthropic_record, openai_record, png
from tests.utils.files import write_jsonl


def traces_of(engine, project):
    with session(engine) as s:
        pid = queries.get_project(s, name=project).id
        rows = s.exec(select(TraceRow).where(TraceRow.project_id == pid).order_by(TraceRow.position)).all()
        return [trace_from_row(r) for r in rows]


def images_of(engine):
    with session(engine) as s:
        return {(i.project_id, i.name): bytes(i.data) for i in s.exec(select(StoredImage)).all()}


@pytest.mark.parametrize("output", ["jsonl", "parquet", "hf"])
def test_redline_export_keeps_every_part_and_image_and_imports_back_unchanged(engine, tmp_path, output):
    red, blue = png(colour=(255, 0, 0)), png(5, 5, (0, 0, 255))
    source = write_jsonl(tmp_path / "logs.jsonl", [openai_record(red), openai_record()])
    import_file(engine, source, project="agents", image_dir=tmp_path)
    other = write_jsonl(tmp_path / "claude.jsonl", [anthropic_record(blue)])
    summary = import_file(engine, other, project="agents", image_dir=tmp_path)
    assert summary.images_added == 1
    with session(engine) as s:
        trace_id = s.exec(select(TraceRow.id).order_by(TraceRow.position)).first()
        # A person marks the first tool call step wrong, with a critique, through the one write path.
        judgment = Judgment(
            Source("human", "ann"),
            first_error=0,
            steps=[StepLabel(verdict=-1, critique="get_shipping was called with broken arguments")],
        )
        list(record(s, [JudgmentWrite(trace_id, judgment, expected_version=ANY_VERSION, changed_by="test")]))
        s.commit()
    before = traces_of(engine, "agents")
    assert before[0].step_parts is not None and len(before) == 3

    out = tmp_path / "export" / ("agents" if output == "hf" else f"agents.{output}")
    done = export_project(engine, "agents", "redline", out, ExportOptions(output=output))
    folder = out if output == "hf" else out.parent
    assert done.images == 2 and sorted(p.name for p in (folder / "images").iterdir()) == sorted(
        name for _, name in images_of(engine)
    )
    if output == "jsonl":
        first = json.loads(out.read_text().splitlines()[0])
        parts = first["step_parts"][0]["parts"]
        assert [p["type"] for p in parts] == ["thinking", "tool_call", "tool_call", "tool_result", "tool_result"]
        assert parts[2]["arguments"] == '{"order_id": "A17"'
        assert first["images"] == [f"images/{before[0].images[0]}"]

    data = out
    if output == "hf":
        pytest.importorskip("datasets")
        from datasets import load_from_disk

        rows = load_from_disk(str(out)).to_list()
        data = write_jsonl(folder / "from-hf.jsonl", rows)
    again = import_file(engine, data, project="agents", image_dir=folder)
    assert (again.traces_added, again.traces_already_present, again.images_added) == (0, 3, 0)
    assert sum(again.judgments_added.values()) == 0 and again.judgments_unchanged == 1

    copy = import_file(engine, data, project="copy", image_dir=folder)
    assert copy.traces_added == 3 and copy.images_added == 2
    after = traces_of(engine, "copy")
    for a, b in zip(before, after, strict=True):
        assert (a.step_parts, a.context, a.images, a.steps, a.problem, a.metadata) == (
            b.step_parts,
            b.context,
            b.images,
            b.steps,
            b.problem,
            b.metadata,
        )
    stored = images_of(engine)
    assert {n: d for (_, n), d in stored.items()} and {d for d in stored.values()} == {red, blue}
    with session(engine) as s:
        copied = s.exec(select(JudgmentRow).where(JudgmentRow.source_name == "ann")).all()
    assert len(copied) == 2 and {j.steps[0]["critique"] for j in copied} == {
        "get_shipping was called with broken arguments"
    }


def test_tau_bench_round_trips_through_the_redline_export(sqlite_engine, datasets, tmp_path):
    source = datasets / "tau-bench" / "gpt-4o-airline.json"
    import_file(sqlite_engine, source, project="tau")
    out = tmp_path / "tau.jsonl"
    export_project(sqlite_engine, "tau", "redline", out, ExportOptions())
    again = import_file(sqlite_engine, out, project="tau")
    assert (again.traces_added, again.traces_already_present) == (0, 200)
    import_file(sqlite_engine, out, project="tau-copy")
    before, after = traces_of(sqlite_engine, "tau"), traces_of(sqlite_engine, "tau-copy")
    assert len(before) == len(after) == 200
    for a, b in zip(before, after, strict=True):
        assert (a.step_parts, a.context, a.steps, a.problem, a.metadata, a.record_id) == (
            b.step_parts,
            b.context,
            b.steps,
            b.problem,
            b.metadata,
            b.record_id,
        )
