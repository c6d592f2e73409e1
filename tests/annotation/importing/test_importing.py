"""Imports land whole or not at all, never duplicate, and never lose an earlier label."""

import json

import pytest

from annotation.core.errors import ImportFailure
from annotation.core.model import Source
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.projects.overview import list_overviews, project_overview
from annotation.projects.traces import load_traces
from storage import queries
from storage.db import session
from tests.utils.files import processbench_record, write_jsonl

GOOD = [processbench_record(i, label=(i % 3) - 1) for i in range(50)]


def snapshot(engine):
    return [(o.name, o.traces, o.steps, o.judgments) for o in list_overviews(engine)]


def bad_files(tmp_path):
    """(file, expected fragments of the message) for each kind of bad input the issue names."""
    cases = {}
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(GOOD, indent=1)[:-300], encoding="utf-8")
    cases["truncated JSON"] = (truncated, ["truncated.json", "cut short"])
    cases["wrong type"] = (
        write_jsonl(tmp_path / "wrong_type.jsonl", [*GOOD[:10], {**GOOD[10], "label": "two"}]),
        ["wrong_type.jsonl", "record 11", "line 11", "field 'label'", "integer"],
    )
    missing = dict(GOOD[5])
    del missing["problem"]
    cases["missing field"] = (
        write_jsonl(tmp_path / "missing.jsonl", [*GOOD[:5], missing]),
        ["missing.jsonl", "record 6", "line 6", "field 'problem'", "missing"],
    )
    cases["empty steps"] = (
        write_jsonl(tmp_path / "empty_steps.jsonl", [*GOOD[:3], {**GOOD[3], "steps": []}]),
        ["empty_steps.jsonl", "record 4", "field 'steps'", "empty"],
    )
    cases["first error out of range"] = (
        write_jsonl(tmp_path / "range.jsonl", [*GOOD[:40], {**GOOD[40], "label": 3}]),
        ["range.jsonl", "record 41", "line 41", "field 'label'", "step 4", "3 steps"],
    )
    utf8 = tmp_path / "latin1.jsonl"
    lines = [json.dumps(r) for r in GOOD[:7]] + ['{"id": "x", "problem": "caf\xe9"}']
    utf8.write_bytes("\n".join(lines[:7]).encode() + b"\n" + lines[7].encode("latin-1") + b"\n")
    cases["invalid UTF-8"] = (utf8, ["latin1.jsonl", "line 8", "UTF-8"])
    csv_path = tmp_path / "quoted.csv"
    csv_path.write_text('problem,steps,err\n"p1","a\n\nb",0\n"p\n2","c\n\nd",x\n', encoding="utf-8")
    cases["CSV with quoted newlines"] = (csv_path, ["quoted.csv", "record 2", "line 5", "field 'err'"])
    return cases


@pytest.mark.parametrize(
    "case",
    [
        "truncated JSON",
        "wrong type",
        "missing field",
        "empty steps",
        "first error out of range",
        "invalid UTF-8",
        "CSV with quoted newlines",
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(engine, tmp_path, case):
    import_file(engine, write_jsonl(tmp_path / "good.jsonl", GOOD[:5]), project="p")
    before = snapshot(engine)
    path, fragments = bad_files(tmp_path)[case]
    from annotation.importing.formats.generic import FieldMapping

    opts = ConvertOptions(mapping=FieldMapping(problem="problem", steps="steps", first_error="err"))
    fmt = "generic" if path.suffix == ".csv" else None
    with pytest.raises(ImportFailure) as e:
        import_file(engine, path, project="p", fmt=fmt, options=opts)
    for fragment in fragments:
        assert fragment in str(e.value)
    assert snapshot(engine) == before


def test_a_failure_while_writing_rolls_everything_back(engine, tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(queries, "insert_judgments", explode)
    with pytest.raises(RuntimeError):
        import_file(engine, write_jsonl(tmp_path / "a.jsonl", GOOD), project="fresh")
    assert snapshot(engine) == []  # not even the project


def test_reimport_adds_nothing_and_new_records_append_in_order(engine, tmp_path):
    first = import_file(engine, write_jsonl(tmp_path / "a.jsonl", GOOD[:30]), project="p")
    assert (first.traces_added, first.judgments_added["reference"]) == (30, 30)
    second = import_file(engine, write_jsonl(tmp_path / "b.jsonl", GOOD), project="p")
    assert (second.traces_added, second.traces_already_present, second.judgments_unchanged) == (20, 30, 30)
    stored = load_traces(engine, "p")
    assert [s.trace.record_id for s in stored] == [r["id"] for r in GOOD]
    assert [s.position for s in stored] == list(range(50))


def test_a_project_needs_a_name(engine, tmp_path):
    with pytest.raises(ImportFailure, match="project a name"):
        import_file(engine, write_jsonl(tmp_path / "a.jsonl", GOOD[:2]), project="  ")
    assert snapshot(engine) == []


def test_same_records_into_another_project_are_separate(engine, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", GOOD[:5])
    import_file(engine, path, project="one")
    import_file(engine, path, project="two")
    assert project_overview(engine, "one").traces == project_overview(engine, "two").traces == 5


def test_a_changed_label_is_revised_and_the_earlier_one_kept(engine, tmp_path):
    import_file(engine, write_jsonl(tmp_path / "a.jsonl", GOOD[:3]), project="p")
    changed = [dict(r) for r in GOOD[:3]]
    changed[1]["label"] = 2 if GOOD[1]["label"] != 2 else 1
    summary = import_file(engine, write_jsonl(tmp_path / "b.jsonl", changed), project="p")
    assert summary.judgments_revised == {"reference": 1}
    assert summary.judgments_unchanged == 2
    stored = load_traces(engine, "p")[1]
    assert stored.judgments["reference"].first_error == changed[1]["label"]
    with session(engine) as s:
        (row,) = queries.judgments_on(s, trace_ids=[stored.id])
        (revision,) = queries.revisions_of(s, judgment_id=row.id)
    assert row.version == 2
    assert revision.version == 1 and revision.content["first_error"] == GOOD[1]["label"]
    assert revision.changed_by == "import:b.jsonl"


def test_predictions_and_labels_from_one_file_land_as_two_sources(engine, tmp_path):
    recs = [{**processbench_record(i, label=-1), "prediction": -1, "generated_critique": "fine"} for i in range(4)]
    opts = ConvertOptions(predictions_source=Source.parse("model:critic-a"))
    summary = import_file(engine, write_jsonl(tmp_path / "gsm8k_correct.jsonl", recs), project="p", options=opts)
    assert summary.judgments_added == {"reference": 4, "model:critic-a": 4}
    assert project_overview(engine, "p").judgments["model"] == 4


def test_duplicate_records_inside_one_file_are_imported_once(engine, tmp_path):
    summary = import_file(engine, write_jsonl(tmp_path / "a.jsonl", [GOOD[0], GOOD[1], GOOD[0]]), project="p")
    assert summary.traces_added == 2
    assert any("same trace as record 1" in w for w in summary.warnings)


def test_the_garbage_collector_is_back_on_after_an_import_even_a_failed_one(engine, tmp_path):
    import gc

    import_file(engine, write_jsonl(tmp_path / "a.jsonl", GOOD[:3]), project="p")
    assert gc.isenabled()
    with pytest.raises(ImportFailure):
        import_file(engine, write_jsonl(tmp_path / "b.jsonl", [{**GOOD[0], "label": "x"}]), project="p")
    assert gc.isenabled()


def test_progress_reports_every_stage(engine, tmp_path):
    seen = []
    import_file(engine, write_jsonl(tmp_path / "a.jsonl", GOOD), project="p", progress=lambda *a: seen.append(a))
    stages = [s for s, _, _ in seen]
    assert stages[0] == "reading" and "checking" in stages and stages[-1] == "writing"
    assert seen[-1][1] == seen[-1][2]
