"""Each adapter on small hand-written records, with the negative cases beside the positive ones."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from annotation.core.errors import ImportFailure
from annotation.core.model import NO_ERROR, InvalidValue, Source
from annotation.importing.files import parse_file
from annotation.importing.formats import FORMATS
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from tests.utils.files import processbench_record, write_jsonl


def parse(tmp_path, records, name="in.jsonl", **kwargs):
    return parse_file(write_jsonl(tmp_path / name, records), **kwargs)


def test_registry_refuses_duplicates_and_lists_formats_when_unknown():
    with pytest.raises(ValueError, match="twice"):
        FORMATS.register(FORMATS.get("processbench"))
    with pytest.raises(LookupError, match="processbench.*generic"):
        FORMATS.get("nope")


def test_unknown_fields_name_the_supported_formats(tmp_path):
    with pytest.raises(ImportFailure, match="no known format matches.*generic"):
        parse(tmp_path, [{"question": "q", "solution": "s"}])


def test_processbench_predictions_become_a_model_judgment(tmp_path):
    recs = [
        {**processbench_record(0, label=1), "generated_critique": "Step 1 is wrong \\boxed{1}", "prediction": 1},
        {**processbench_record(1, label=-1), "generated_critique": ["no", "none"], "prediction": None},
        {**processbench_record(2, label=-1), "generated_critique": "oops", "prediction": 7},
    ]
    opts = ConvertOptions(predictions_source=Source("model", "qwen-critic"))
    parsed = parse(tmp_path, recs, options=opts)
    by_id = {r.trace.record_id: {str(j.source): j for j in r.judgments} for r in parsed.records}
    assert by_id["t-0"]["model:qwen-critic"].first_error == 1
    assert by_id["t-0"]["reference"].first_error == 1
    unparsed = by_id["t-1"]["model:qwen-critic"]
    assert unparsed.first_error is None and unparsed.extra["unparsed"] is True
    assert "---" in unparsed.critique
    assert by_id["t-2"]["model:qwen-critic"].extra == {"raw_prediction": 7, "unparsed": True}
    assert len(parsed.warnings) == 1 and "prediction 7" in parsed.warnings[0]


def test_labels_can_be_imported_as_a_named_source(tmp_path):
    parsed = parse(tmp_path, [processbench_record(0)], options=ConvertOptions(label_source=Source.parse("human:ann")))
    assert str(parsed.records[0].judgments[0].source) == "human:ann"


def test_trl_stepwise(tmp_path):
    recs = [
        {"prompt": "2+2?", "completions": ["2+2=4", "so 4"], "labels": [True, True]},
        {"prompt": "3+3?", "completions": ["3+3=7", "so 7"], "labels": [False]},
    ]
    parsed = parse(tmp_path, recs)
    assert parsed.format == "trl-stepwise"
    ok, bad = (r.judgments[0] for r in parsed.records)
    assert ok.first_error == NO_ERROR and [s.verdict for s in ok.steps] == [1, 1]
    assert bad.first_error == 0 and [s.verdict for s in bad.steps] == [-1]
    with pytest.raises(ImportFailure, match="field 'labels'"):
        parse(tmp_path, [{"prompt": "p", "completions": ["a"], "labels": [True, False]}])


def test_math_shepherd(tmp_path):
    text = "Tom has 3 apples and eats one. How many are left? Step 1: He starts with 3. ки\nStep 2: 3 - 1 = 3. ки\n"
    label = text.replace("ки", "+", 1).replace("ки", "-", 1)
    parsed = parse(tmp_path, [{"input": text, "label": label, "task": "GSM8K"}])
    rec = parsed.records[0]
    assert parsed.format == "math-shepherd"
    assert rec.trace.problem == "Tom has 3 apples and eats one. How many are left?"
    assert rec.trace.steps == ["He starts with 3.", "3 - 1 = 3."]
    assert [s.verdict for s in rec.judgments[0].steps] == [1, -1]
    assert rec.judgments[0].first_error == 1
    assert rec.trace.metadata["subset"] == "GSM8K"


def test_generic_json_with_one_based_first_error_and_no_error_words(tmp_path):
    recs = [
        {"q": "A?", "sol": "Step 1: a\nStep 2: b\nStep 3: c", "err": "2", "why": "b is wrong"},
        {"q": "B?", "sol": "Step 1: a\nStep 2: b", "err": "N/A"},
    ]
    mapping = FieldMapping(problem="q", steps="sol", first_error="err", critique="why", first_error_base=1)
    parsed = parse(tmp_path, recs, fmt="generic", options=ConvertOptions(mapping=mapping))
    first, second = parsed.records
    assert first.trace.steps == ["a", "b", "c"]
    assert first.judgments[0].first_error == 1
    assert first.judgments[0].critique == "b is wrong"
    assert second.judgments[0].first_error == NO_ERROR


def test_generic_out_of_range_first_error_names_record_and_field(tmp_path):
    recs = [{"q": "A?", "sol": ["a", "b"], "err": 0}, {"q": "B?", "sol": ["a", "b"], "err": 5}]
    mapping = FieldMapping(problem="q", steps="sol", first_error="err")
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, recs, fmt="generic", options=ConvertOptions(mapping=mapping))
    assert (e.value.record, e.value.line, e.value.field) == (2, 2, "err")
    assert "step 6" in str(e.value) and "in.jsonl" in str(e.value)


def test_generic_csv_with_quoted_newlines(tmp_path):
    path = tmp_path / "traces.csv"
    path.write_text(
        'question,solution,first_wrong\n"What is 1+1?","1+1=2\n\nSo 2",-1\n"Two\nlines?","x\n\ny",1\n',
        encoding="utf-8",
    )
    mapping = FieldMapping(problem="question", steps="solution", first_error="first_wrong")
    parsed = parse_file(path, fmt="generic", options=ConvertOptions(mapping=mapping))
    assert [r.trace.steps for r in parsed.records] == [["1+1=2", "So 2"], ["x", "y"]]
    assert [r.line for r in parsed.records] == [2, 5]
    assert parsed.records[1].trace.problem == "Two\nlines?"
    path.write_text(path.read_text() + '"Third","a\n\nb",9\n', encoding="utf-8")
    with pytest.raises(ImportFailure) as e:
        parse_file(path, fmt="generic", options=ConvertOptions(mapping=mapping))
    # The third record starts on physical line 9: the cells above hold five quoted newlines.
    assert (e.value.record, e.value.line, e.value.field) == (3, 9, "first_wrong")


def test_generic_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    table = pa.table({"prompt": ["p1", "p2"], "steps": [["a", "b"], ["c"]], "first": [None, 0]})
    pq.write_table(table, path)
    mapping = FieldMapping(problem="prompt", steps="steps", first_error="first")
    parsed = parse_file(path, fmt="generic", options=ConvertOptions(mapping=mapping))
    assert [r.judgments[0].first_error for r in parsed.records] == [NO_ERROR, 0]


def test_mapping_from_cli_pairs():
    m = FieldMapping.from_pairs(["problem=q", "steps=s", "first_error=e"], first_error_base=1, step_split="lines")
    assert (m.problem, m.steps, m.first_error, m.first_error_base, m.step_split) == ("q", "s", "e", 1, "lines")
    with pytest.raises(InvalidValue, match="FIELD=COLUMN"):
        FieldMapping.from_pairs(["colour=x"])
    with pytest.raises(InvalidValue, match="regex"):
        FieldMapping(step_split="regex:(")


def test_detection_is_stable_for_each_known_shape():
    shapes = {
        "processbench": processbench_record(0),
        "bigbench-mistake": {"input": "q", "steps": ["a"], "mistake_index": None, "answer": "x", "target": "y"},
        "prmbench": {"modified_question": "q", "modified_process": ["a"], "error_steps": [], "reason": ""},
        "trl-stepwise": {"prompt": "p", "completions": ["a"], "labels": [True]},
        "math-shepherd": {"input": "q Step 1: a ки", "label": "q Step 1: a +"},
        "prm800k": {"question": {"problem": "q"}, "label": {"steps": []}},
    }
    for name, record in shapes.items():
        assert FORMATS.detect([record]).name == name
    assert json.dumps(shapes)  # the shapes are plain JSON, as files would hold them


def test_jsonl_lines_end_only_at_newline(tmp_path):
    # U+2028 and \x85 are legal inside JSON strings; they must not be taken for line breaks.
    record = {**processbench_record(0), "problem": "a\u2028b\x85c"}
    path = tmp_path / "odd.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n" + json.dumps(processbench_record(1)) + "\n")
    parsed = parse_file(path)
    assert parsed.records[0].trace.problem == "a\u2028b\x85c"
    assert [r.line for r in parsed.records] == [1, 2]
