"""Span measures of a project: the shared Fine-Grained RLHF sample against a second annotator's spans."""

import copy
import json

import pytest

from annotation.core.model import Source
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.judgments.visibility import ProjectView
from annotation.metrics.span_report import span_report
from tests.utils.files import write_jsonl

SAMPLE = "fgrlhf-qa-feedback-sample/dev_feedback.first100.json"


def two_annotators(engine, datasets, tmp_path):
    """The sample's feedback as ann1's, and ann2's: the same but every second span one character shorter."""
    records = json.loads((datasets / SAMPLE).read_text())
    import_file(
        engine,
        write_jsonl(tmp_path / "a.jsonl", records),
        project="qa",
        options=ConvertOptions(label_source=Source("human", "ann1")),
    )
    other = copy.deepcopy(records)
    shortened = 0
    for r in other:
        for k, e in enumerate(r["feedback"]["errors"]):
            if k % 2 == 1 and e["end"] - e["start"] > 1:
                e["end"] -= 1
                shortened += 1
    import_file(
        engine,
        write_jsonl(tmp_path / "b.jsonl", other),
        project="qa",
        options=ConvertOptions(label_source=Source("human", "ann2")),
    )
    return records, shortened


def test_exact_and_overlap_agreement_and_alpha(engine, datasets, tmp_path):
    records, shortened = two_annotators(engine, datasets, tmp_path)
    report = span_report(engine, "qa", "human:ann1", "human:ann2")
    total = sum(len(r["feedback"]["errors"]) for r in records)
    assert report.agreement.traces == 100
    assert report.agreement.exact.n_a == report.agreement.exact.n_b == total == 265
    assert report.agreement.exact.precision == pytest.approx((total - shortened) / total)
    assert report.agreement.overlap.f1 == 1.0
    assert 0.9 < report.alpha < 1.0 and report.alpha_traces > 0
    assert report.over_propagation is None
    assert report.as_dict()["agreement"]["by_type"]["Irrelevant"]["overlap"]["f1"] == 1.0


def test_what_a_viewer_may_not_see_is_not_measured(engine, datasets, tmp_path):
    two_annotators(engine, datasets, tmp_path)
    blind = ProjectView(username="ann1", is_admin=False, blind=True)
    report = span_report(engine, "qa", "human:ann1", "human:ann2", blind)
    assert report.agreement.traces == 0 and report.alpha is None


def test_a_project_without_spans_has_no_report(sqlite_engine, tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl", [{"problem": "1+1?", "steps": ["2"], "label": -1, "final_answer_correct": True}]
    )
    import_file(sqlite_engine, path, project="plain")
    assert span_report(sqlite_engine, "plain", "reference", "reference") is None


def test_an_in_memory_database_reads_its_text_lengths_on_its_own_connection(datasets, tmp_path):
    """SQLite in memory gives each thread another (empty) database: the lengths are read in the calling thread."""
    from annotation.ops.startup import prepare

    memory = prepare("sqlite://")
    two_annotators(memory, datasets, tmp_path)
    on_disk = prepare(f"sqlite:///{tmp_path / 'disk.db'}")
    two_annotators(on_disk, datasets, tmp_path)
    in_memory = span_report(memory, "qa", "human:ann1", "human:ann2")
    assert in_memory.alpha == span_report(on_disk, "qa", "human:ann1", "human:ann2").alpha
    assert 0.9 < in_memory.alpha < 1.0


def test_without_a_trace_two_people_judged_no_text_length_is_read(engine, datasets, tmp_path):
    """Alpha needs the text lengths of traces two or more people judged; with none, the project's steps are not
    summed (a query over every trace's steps)."""
    from sqlalchemy import event

    records = json.loads((datasets / SAMPLE).read_text())
    options = ConvertOptions(label_source=Source("human", "ann1"))
    import_file(engine, write_jsonl(tmp_path / "a.jsonl", records), project="qa", options=options)
    statements = []
    listen = (engine, "before_cursor_execute", lambda conn, cursor, statement, *_: statements.append(statement))
    event.listen(*listen)
    try:
        report = span_report(engine, "qa", "human:ann1", "human:ann2")
    finally:
        event.remove(*listen)
    assert report is not None and report.alpha is None and report.alpha_traces == 0
    assert statements and not any("json_each" in x or "jsonb_array_elements_text" in x for x in statements)
