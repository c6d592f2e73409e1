"""Crashes the import fuzzing found, kept as cases: each now fails clearly (or imports) and changes nothing.

Before the fixes these escaped as UnicodeEncodeError, RecursionError, OverflowError, AttributeError,
TypeError, sqlite3/psycopg errors (PostgreSQL refuses NUL characters and NaN in JSON) or a pyarrow error.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from annotation.core.errors import ImportFailure
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from annotation.projects.traces import load_traces
from tests.fuzz.test_import_fuzz import VALID, counts

GOOD = VALID["processbench"][0]


def jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def prm800k(**label) -> dict:
    record = json.loads(json.dumps(VALID["prm800k"][0]))
    record["label"].update(label)
    return record


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


CASES = {
    "NUL in a problem": ([{**GOOD, "problem": "a\x00b"}], "processbench", ["field 'problem'", "NUL"]),
    "lone surrogate in a step": ([{**GOOD, "steps": ["a", "b\ud800"]}], "processbench", ["steps[1]", "surrogate"]),
    "NUL in a metadata key": ([{**GOOD, "x\x00": 1}], "processbench", ["NUL"]),
    "NUL in a metadata value": ([{**GOOD, "note": ["\x00"]}], "processbench", ["field 'note[0]'", "NUL"]),
    "critique of the wrong type": ([{**GOOD, "generated_critique": {"a": 1}}], None, ["generated_critique"]),
    "PRM800K completion not an object": (
        [prm800k(steps=[{"completions": [5]}])],
        "prm800k",
        ["label.steps[0].completions[0]", "object"],
    ),
    "PRM800K total_time NaN": ([prm800k(total_time=float("nan"))], "prm800k", ["label.total_time"]),
    "PRM800K total_time beyond a float": ([prm800k(total_time=10**400)], "prm800k", ["label.total_time"]),
    "PRMBench nested original process": (
        [{**VALID["prmbench"][0], "original_process": [["a"]]}],
        "prmbench",
        ["original_process", "list of text"],
    ),
    "metadata nested 150 deep": ([{**GOOD, "n": json.loads(deep(150))}], "processbench", ["nested more than 100"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_found_by_fuzzing_fails_clearly_and_changes_nothing(engine, tmp_path: Path, case: str):
    records, fmt, fragments = CASES[case]
    import_file(engine, jsonl(tmp_path / "first.jsonl", [{**GOOD, "id": "first-1"}]), project="p")
    before = counts(engine)
    path = jsonl(tmp_path / "case.jsonl", [VALID[fmt or "processbench"][0], *records])
    with pytest.raises(ImportFailure) as caught:
        import_file(engine, path, project="p", fmt=fmt)
    message = str(caught.value)
    for fragment in ["case.jsonl", "record 2", "line 2", *fragments]:
        assert fragment in message
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (deep(100_000), "nested too deeply"),
        ('{"problem": "p", "steps": ["a"], "label": ' + "9" * 5000 + "}", "not readable JSON"),
    ],
    ids=["nesting beyond the recursion limit", "an integer of 5,000 digits"],
)
@pytest.mark.parametrize("container", ["jsonl", "json"])
def test_unreadable_json_is_named(sqlite_engine, tmp_path: Path, content: str, fragment: str, container: str):
    path = tmp_path / f"bad.{container}"
    body = content if container == "jsonl" else f"[{json.dumps(GOOD)},\n{content}]"
    path.write_text(body + "\n", encoding="utf-8")
    with pytest.raises(ImportFailure, match=fragment) as caught:
        import_file(sqlite_engine, path, project="p")
    assert caught.value.line == (1 if container == "jsonl" else 2)
    assert counts(sqlite_engine) == (0, 0)


def test_an_infinite_first_error_in_a_generic_file_is_named(sqlite_engine, tmp_path: Path):
    path = jsonl(tmp_path / "g.jsonl", [{"problem": "p", "steps": "a\nb", "fe": "1e400"}])
    options = ConvertOptions(mapping=FieldMapping(first_error="fe"))
    with pytest.raises(ImportFailure, match="'fe'.*neither a step number"):
        import_file(sqlite_engine, path, project="p", fmt="generic", options=options)


def test_nan_in_metadata_is_kept_as_null_with_one_warning(engine, tmp_path: Path):
    """PostgreSQL refuses NaN in JSON; a float column of NaN (common in Parquet) still imports."""
    records = [{**GOOD, "id": f"n-{i}", "score": float("nan"), "extra": {"x": float("inf")}} for i in range(3)]
    summary = import_file(engine, jsonl(tmp_path / "nan.jsonl", records), project="p")
    assert summary.traces_added == 3
    assert [w for w in summary.warnings if "score" in w] == [
        "nan.jsonl, record 1, line 1: field 'score': nan is not a JSON number; kept as null (said once for this field)"
    ]
    stored = load_traces(engine, "p")
    assert [t.trace.metadata["score"] for t in stored] == [None, None, None]
    assert stored[0].trace.metadata["extra"] == {"x": None}


def test_a_parquet_file_damaged_past_its_checksums_is_named(sqlite_engine, tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(VALID["processbench"] * 3), out)
    damaged = bytearray(out.getvalue())
    damaged[164] = 128  # inside a text column: the file opens, a value is not UTF-8
    path = tmp_path / "damaged.parquet"
    path.write_bytes(bytes(damaged))
    with pytest.raises(ImportFailure, match="not a readable Parquet file"):
        import_file(sqlite_engine, path, project="p")
    assert counts(sqlite_engine) == (0, 0)
