"""Fine-Grained RLHF qa-feedback in and out: every span, missing-info entry and corrected prediction as read."""

import json

import pytest

from annotation.core.model import Source
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import export_project
from annotation.importing.files import import_file, parse_file
from annotation.importing.formats.base import ConvertOptions
from annotation.projects.settings import load_settings
from tests.utils.files import write_jsonl

SAMPLE = "fgrlhf-qa-feedback-sample/dev_feedback.first100.json"


def dumped(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("split", ["whole", "sentences"])
def test_the_shared_sample_comes_back_identical(engine, datasets, tmp_path, split):
    source = datasets / SAMPLE
    original = json.loads(source.read_text())
    summary = import_file(engine, source, project="qa", options=ConvertOptions(answer_split=split))
    assert summary.traces_added == 100
    assert set(summary.taxonomy_added) == {
        "Irrelevant", "Wrong-Grounding", "Unverifiable", "Redundant", "Incoherent",
        "Missing-Answer", "Missing-Major-Auxiliary", "Missing-Minor-Auxiliary",
    }  # fmt: skip
    assert set(summary.taxonomy_added) <= set(load_settings(engine, "qa").taxonomy)
    out = tmp_path / "qa.jsonl"
    export_project(engine, "qa", "fgrlhf", out, ExportOptions(source="reference"))
    back = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(back) == 100
    spans = 0
    for a, b in zip(original, back, strict=True):
        assert dumped(a["feedback"]["errors"]) == dumped(b["feedback"]["errors"])
        assert dumped(a["feedback"]["missing-info"]) == dumped(b["feedback"]["missing-info"])
        assert dumped(a["feedback"]["corrected-prediction"]) == dumped(b["feedback"]["corrected-prediction"])
        assert dumped(a) == dumped({k: b[k] for k in a}) and set(a) == set(b)
        spans += len(b["feedback"]["errors"])
    assert spans == 265


def test_sentence_steps_cover_the_answer_and_a_crossing_span_is_split_and_grouped(datasets, tmp_path):
    parsed = parse_file(datasets / SAMPLE, options=ConvertOptions(answer_split="sentences"))
    for rec in parsed.records:
        steps = rec.trace.step_parts
        assert "".join(s.parts[0].text for s in steps) == rec.trace.answer
        assert [s.offset for s in steps] == [sum(len(t.parts[0].text) for t in steps[:i]) for i in range(len(steps))]
        for span in rec.judgments[0].spans:
            text = steps[span.step].parts[0].text
            assert 0 <= span.start < span.end <= len(text)
    grouped = [s for r in parsed.records for s in r.judgments[0].spans if s.group]
    assert grouped and len({(id(r), s.group) for r in parsed.records for s in r.judgments[0].spans if s.group}) < len(
        grouped
    )


def test_odd_values_come_back_as_read(sqlite_engine, tmp_path):
    record = {
        "question": "Who?",
        "passages": [["T", "One sentence.", "Two."]],
        "prediction 1": "Ada wrote it. Bob 😀 read it.",
        "prediction 2": "x",
        "feedback": {
            "errors": [{"error type": "Made-Up", "start": 14, "end": 22, "explanation": "no Bob", "by": "w3"}],
            "missing-info": [{"error type": "Missing-Answer", "passage_id": 0, "sentence_id": [1, 2]}],
            "corrected-prediction": "",
        },
        "preference": [1, 0, 2, 1, 1, 0],
    }
    path = write_jsonl(tmp_path / "odd.jsonl", [record])
    import_file(sqlite_engine, path, project="odd", options=ConvertOptions(answer_split="sentences"))
    out = tmp_path / "odd-out.jsonl"
    export_project(sqlite_engine, "odd", "fgrlhf", out, ExportOptions(source="reference"))
    [back] = [json.loads(line) for line in out.read_text().splitlines()]
    assert back == record
    # Offsets count code points: the emoji is one character, as in Python.
    assert back["prediction 1"][14:22] == "Bob 😀 re"


def test_a_span_outside_the_answer_is_refused(tmp_path):
    record = {
        "question": "Q",
        "prediction 1": "Short.",
        "feedback": {"errors": [{"error type": "X", "start": 2, "end": 99}]},
    }
    from annotation.core.errors import ImportFailure

    with pytest.raises(ImportFailure) as e:
        parse_file(write_jsonl(tmp_path / "bad.jsonl", [record]))
    assert e.value.field == "feedback.errors[0]" and "not a range" in str(e.value)


def test_spans_travel_through_the_redline_export(sqlite_engine, datasets, tmp_path):
    source = datasets / SAMPLE
    import_file(sqlite_engine, source, project="qa", options=ConvertOptions(answer_split="sentences"))
    red = tmp_path / "qa-redline.jsonl"
    export_project(sqlite_engine, "qa", "redline", red, ExportOptions())
    first = json.loads(red.read_text().splitlines()[0])
    assert first["judgments"][0]["spans"][0].keys() >= {"step", "part", "field", "start", "end", "type", "note"}
    assert import_file(sqlite_engine, red, project="qa").judgments_unchanged == 100
    import_file(sqlite_engine, red, project="copy")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    export_project(sqlite_engine, "qa", "fgrlhf", a, ExportOptions(source="reference"))
    export_project(sqlite_engine, "copy", "fgrlhf", b, ExportOptions(source="reference"))
    assert a.read_text() == b.read_text()


def test_corrected_answers_become_dpo_pairs_over_the_original(sqlite_engine, datasets, tmp_path):
    source = datasets / SAMPLE
    original = json.loads(source.read_text())
    import_file(sqlite_engine, source, project="qa", options=ConvertOptions(label_source=Source("human", "ann")))
    out = tmp_path / "dpo.jsonl"
    export_project(sqlite_engine, "qa", "dpo", out, ExportOptions(source="human:ann", pairs=("answer",)))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = [
        r for r in original
        if r["feedback"]["corrected-prediction"].strip() and r["feedback"]["corrected-prediction"] != r["prediction 1"]
    ]  # fmt: skip
    assert len(rows) == len(expected) > 0
    first = rows[0]
    assert first["chosen"] == expected[0]["feedback"]["corrected-prediction"]
    assert first["rejected"] == expected[0]["prediction 1"]
    assert first["prompt"].startswith("[Question]\n\n" + expected[0]["question"]) and "[Passages]" in first["prompt"]
