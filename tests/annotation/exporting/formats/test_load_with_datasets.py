"""Every format, in every output, loads back with Hugging Face `datasets` with the columns and types it promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest
from datasets import List, Value

from annotation.exporting.formats import EXPORTS
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import export_project
from tests.utils import export_data

TEXT, INT, BOOL = Value("string"), Value("int64"), Value("bool")
MESSAGES = List({"role": TEXT, "content": TEXT})
EXPECTED: dict[str, dict[str, Any]] = {
    "trl-stepwise": {"prompt": TEXT, "completions": List(TEXT), "labels": List(BOOL)},
    "processbench": {
        "id": TEXT,
        "generator": TEXT,
        "problem": TEXT,
        "steps": List(TEXT),
        "final_answer_correct": BOOL,
        "label": INT,
    },
    "bigbench-mistake": {"input": TEXT, "steps": List(TEXT), "answer": TEXT, "target": TEXT, "mistake_index": INT},
    "critique-sft": {"messages": MESSAGES},
    "dpo": {"prompt": TEXT, "chosen": TEXT, "rejected": TEXT},
    "kto": {"prompt": TEXT, "completion": TEXT, "label": BOOL},
    "prm800k": {"labeler": TEXT, "timestamp": None, "question": None, "label": None},  # JSON reads times as times
    "redline": {"trace_id": INT, "problem": TEXT, "steps": List(TEXT), "first_error": INT, "judgments": None},
}
EXPECTED_RECORDS = {
    "trl-stepwise": 11,
    "processbench": 12,
    "bigbench-mistake": 12,
    "critique-sft": 11,
    "dpo": 4,
    "kto": 11,
    "prm800k": 12,
    "redline": 12,
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """Every format written once as JSONL, Parquet and a Hugging Face folder."""
    from annotation.ops.startup import prepare

    folder = tmp_path_factory.mktemp("exports")
    engine = prepare(f"sqlite:///{folder / 'db.sqlite'}")
    export_data.build(engine)
    for fmt in EXPORTS.names():
        for output, name in (("jsonl", f"{fmt}.jsonl"), ("parquet", f"{fmt}.parquet"), ("hf", f"{fmt}-hf")):
            export_project(engine, export_data.PROJECT, fmt, folder / fmt / name, ExportOptions(output=output))
    engine.dispose()
    return folder


def without_nulls(value: Any) -> Any:
    """JSONL leaves out keys PRM800K itself leaves out; Parquet has a column for them, null."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def check_types(features: datasets.Features, fmt: str) -> None:
    for column, expected in EXPECTED[fmt].items():
        assert column in features, f"{fmt}: no column {column}"
        if expected is not None:
            assert features[column] == expected, f"{fmt}.{column}: {features[column]}"


def check_meaning(fmt: str, rows: list[dict[str, Any]]) -> None:
    if fmt == "trl-stepwise":
        assert all(len(r["labels"]) == len(r["completions"]) for r in rows)
        assert all(r["labels"][:-1] == [True] * (len(r["labels"]) - 1) for r in rows)
    if fmt == "critique-sft":
        assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in rows)
        assert all(r["messages"][1]["content"].rstrip().endswith("}") for r in rows)
    if fmt == "kto":
        assert {r["label"] for r in rows} == {True, False}


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_jsonl_loads_with_datasets(exported, fmt, tmp_path):
    ds = datasets.load_dataset(
        "json", data_files=str(exported / fmt / f"{fmt}.jsonl"), split="train", cache_dir=str(tmp_path)
    )
    assert ds.num_rows == EXPECTED_RECORDS[fmt]
    assert set(ds.column_names) == set(EXPORTS.get(fmt).arrow_schema(ExportOptions()).names)
    check_types(ds.features, fmt)
    check_meaning(fmt, ds.to_list())


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_parquet_and_hf_folder_load_with_the_format_schema_and_the_same_rows(exported, fmt, tmp_path):
    schema = EXPORTS.get(fmt).arrow_schema(ExportOptions())
    from_parquet = datasets.Dataset.from_parquet(str(exported / fmt / f"{fmt}.parquet"), cache_dir=str(tmp_path))
    from_disk = datasets.load_from_disk(str(exported / fmt / f"{fmt}-hf"))
    jsonl = export_data.read_jsonl(exported / fmt / f"{fmt}.jsonl")

    for ds in (from_parquet, from_disk):
        assert ds.column_names == schema.names
        assert ds.features == datasets.Features.from_arrow_schema(schema)
        check_types(ds.features, fmt)
        assert without_nulls(ds.to_list()) == without_nulls(jsonl)
    assert (exported / fmt / f"{fmt}-hf" / "README.md").read_text().startswith("---\nlicense: cc-by-4.0")


def test_conversational_preference_uses_chat_turns(tmp_path, sqlite_engine):
    export_data.build(sqlite_engine)
    options = ExportOptions(conversational=True, output="parquet")
    export_project(sqlite_engine, export_data.PROJECT, "dpo", tmp_path / "dpo.parquet", options)
    export_project(sqlite_engine, export_data.PROJECT, "kto", tmp_path / "kto.parquet", options)
    dpo = datasets.Dataset.from_parquet(str(tmp_path / "dpo.parquet"), cache_dir=str(tmp_path / "c"))
    kto = datasets.Dataset.from_parquet(str(tmp_path / "kto.parquet"), cache_dir=str(tmp_path / "c"))

    assert dpo.features == datasets.Features({"prompt": MESSAGES, "chosen": MESSAGES, "rejected": MESSAGES})
    assert kto.features == datasets.Features({"prompt": MESSAGES, "completion": MESSAGES, "label": BOOL})
    assert dpo[0]["prompt"][0]["role"] == "user" and dpo[0]["chosen"][0]["role"] == "assistant"
