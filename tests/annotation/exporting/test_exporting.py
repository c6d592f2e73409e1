"""export_project: streams from SQLite and PostgreSQL alike, reports progress and counts, refuses bad requests."""

from __future__ import annotations

import pytest

from annotation.core.model import InvalidValue
from annotation.exporting.formats import stream
from annotation.exporting.formats.base import ExportFailure, ExportOptions
from annotation.exporting.run import export_project, preview
from annotation.projects.overview import NoSuchProject
from tests.utils import export_data
from tests.utils.export_data import read_jsonl


def test_export_streams_in_chunks_on_both_databases(engine, tmp_path, monkeypatch):
    export_data.build(engine)
    monkeypatch.setattr(stream, "CHUNK", 5)  # 12 traces in three chunks
    calls: list[tuple[str, int, int]] = []

    summary = export_project(
        engine,
        export_data.PROJECT,
        "redline",
        tmp_path / "all.jsonl",
        ExportOptions(),
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    rows = read_jsonl(tmp_path / "all.jsonl")

    assert [r["record_id"] for r in rows] == [f"t-{i}" for i in range(export_data.N_TRACES)]
    assert summary.records == 12 and summary.facts["traces_seen"] == 12
    assert calls[0] == ("exporting", 0, 12) and calls[-1] == ("exporting", 12, 12)
    first = rows[1]["judgments"]
    assert [j["source"] for j in first] == ["human:alice", "human:bob", "model:critic", "reference"]
    alice = first[0]
    assert alice["steps"][1]["correction"] == export_data.CORRECTION
    assert alice["steps"][1]["tags"] == ["arithmetic"]
    assert "human:dave" not in {j["source"] for j in rows[7]["judgments"]}  # a draft


def test_summary_lines_name_what_was_left_out(sqlite_engine, tmp_path):
    export_data.build(sqlite_engine)
    summary = export_project(sqlite_engine, export_data.PROJECT, "trl-stepwise", tmp_path / "t.jsonl")
    lines = summary.lines()
    assert lines[0] == "Records: 11 (train 11) from 11 of 12 traces read"
    assert "Left out: 1 labelled give_up" in lines
    assert summary.files == [str(tmp_path / "t.jsonl")]


def test_bad_requests_are_refused_before_anything_is_written(sqlite_engine, tmp_path):
    export_data.build(sqlite_engine)
    out = tmp_path / "x.jsonl"
    with pytest.raises(NoSuchProject):
        export_project(sqlite_engine, "nope", "processbench", out)
    with pytest.raises(ExportFailure, match="unknown export format 'csv'"):
        export_project(sqlite_engine, export_data.PROJECT, "csv", out)
    for options, field in (
        (ExportOptions(test_share=1.5), "split"),
        (ExportOptions(step_labels="some"), "step_labels"),
        (ExportOptions(min_agreement=2), "min_agreement"),
        (ExportOptions(pairs=("hugs",)), "pairs"),
        (ExportOptions(source="alien:x"), "source"),
        (ExportOptions(output="xml"), "output"),
    ):
        with pytest.raises(InvalidValue) as e:
            export_project(sqlite_engine, export_data.PROJECT, "processbench", out, options)
        assert e.value.field == field
    assert not out.exists()


def test_preview_reads_a_bounded_number_of_traces(sqlite_engine):
    export_data.build(sqlite_engine)
    records, facts = preview(sqlite_engine, export_data.PROJECT, "dpo", ExportOptions(), n=5, max_traces=3)
    assert facts.traces_seen == 3
    assert len(records) == 1  # the correction pair on trace 1; the critique pairs come later


def test_an_export_holds_only_what_its_viewer_may_see(sqlite_engine):
    """Exports read through the one visibility rule: in an annotator's view a QC trace keeps only their own."""
    from annotation.judgments.visibility import ProjectView
    from annotation.projects.settings import set_quality_control

    export_data.build(sqlite_engine)
    set_quality_control(sqlite_engine, export_data.PROJECT, positions=[1])
    project_id = stream.project_row(sqlite_engine, export_data.PROJECT)["id"]
    alice = ProjectView("alice", is_admin=False, blind=False)

    everything = list(stream.iter_items(sqlite_engine, project_id))
    seen = list(stream.iter_items(sqlite_engine, project_id, view=alice))

    assert sorted(everything[1].judgments) == ["human:alice", "human:bob", "model:critic", "reference"]
    assert sorted(seen[1].judgments) == ["human:alice"]
    assert "reference" in seen[2].judgments and everything[2].judgments.keys() == seen[2].judgments.keys()
