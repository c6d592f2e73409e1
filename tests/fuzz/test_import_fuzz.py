"""Every importer under hypothesis: near-valid records broken in random ways, and random bytes in every container.

Whatever the file holds, an import either succeeds or raises a clear error (ImportFailure naming the
file, or InvalidValue naming a field); nothing else escapes, and a failed import leaves the database
exactly as it was. Each broken record follows a valid one, so a partial import would show.

REDLINE_FUZZ_EXAMPLES raises the number of examples per test (CI keeps it small).
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, func, select, text

from annotation.core.errors import ImportFailure
from annotation.core.model import InvalidValue
from annotation.importing.files import import_file
from annotation.importing.formats import FORMATS
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from annotation.ops.startup import prepare
from storage.db import session
from storage.tables import JudgmentRow, TraceRow
from tests.conftest import POSTGRES_URL, _postgres_available, skip_or_fail

EXAMPLES = int(os.environ.get("REDLINE_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

GENERIC_MAPPING = FieldMapping(
    id="id", problem="question", steps="solution", first_error="label", critique="why", first_error_base=1
)

# One valid record per adapter, taking its richest path (predictions, phases, alternatives, labels).
VALID: dict[str, list[dict[str, Any]]] = {
    "processbench": [
        {
            "id": "gsm8k-1",
            "generator": "g",
            "problem": "What is 1+1?",
            "steps": ["1+1=2", "So 2"],
            "label": -1,
            "final_answer_correct": True,
            "prediction": 1,
            "generated_critique": ["fine", "wrong at 2"],
        }
    ],
    "bigbench-mistake": [{"input": "Q?", "steps": ["a", "b"], "answer": "2", "target": "2", "mistake_index": None}],
    "prm800k": [
        {
            "labeler": "l1",
            "timestamp": "2022-01-01",
            "generation": 1,
            "is_quality_control_question": False,
            "question": {
                "problem": "p",
                "ground_truth_answer": "2",
                "pre_generated_steps": ["a", "b", "c"],
                "pre_generated_answer": "2",
            },
            "label": {
                "steps": [
                    {"completions": [{"text": "a", "rating": 1}, {"text": "a'", "rating": 0}]},
                    {"completions": [{"text": "b", "rating": -1}]},
                ],
                "total_time": 1234,
                "finish_reason": "found_error",
            },
        },
        {
            "labeler": "l2",
            "timestamp": "2022-01-02",
            "question": {"problem": "q"},
            "label": {
                "steps": [
                    {"completions": [{"text": "a", "rating": 1}, {"text": "x", "rating": 0}], "chosen_completion": 0},
                    {"completions": [{"text": "b", "rating": -1}], "human_completion": {"text": "b fixed"}},
                ],
                "finish_reason": "solution",
            },
        },
    ],
    "prmbench": [
        {
            "idx": "7",
            "classification": "circular",
            "modified_question": "q",
            "modified_process": ["a", "b", "c"],
            "original_process": ["a", "b", "c"],
            "error_steps": [2, 3],
            "reason": "because",
        }
    ],
    "trl-stepwise": [{"prompt": "p", "completions": ["a", "b"], "labels": [True, False]}],
    "math-shepherd": [
        {"input": "Q? Step 1: a ки\nStep 2: b ки", "label": "Q? Step 1: a +\nStep 2: b -", "task": "GSM8K"}
    ],
    "generic": [{"id": "r1", "question": "q", "solution": "Step 1: a\nStep 2: b", "label": "2", "why": "because"}],
}

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "ки",
    "Step 1: ки",
    "\u202e\ufeff",
    "<script>window.pwned=1</script>",
    "null",
    "-1",
    "N/A",
    "1e400",
    "nan",
    "[1, 2]",
    "x" * 5000,
]
NASTY_NUMBERS = [-1, -2, 0, 1, 2, 2**31, 2**63, -(2**63) - 1, 10**30, -(10**30), 1.5, -0.0, 1e308]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(NASTY_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(NASTY_TEXT),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


def mutate(record: Any, data: st.DataObject) -> Any:
    """One change at a random place: drop it, replace it, add a key beside it, or wrap it in a list."""
    where = data.draw(st.sampled_from(list(paths(record))), label="path")
    how = data.draw(st.sampled_from(["drop", "replace", "add", "wrap", "stringify"]), label="how")
    if not where:
        return data.draw(values) if how == "replace" else record
    parent = record
    for key in where[:-1]:
        parent = parent[key]
    last = where[-1]
    if how == "drop":
        del parent[last]
    elif how == "replace":
        parent[last] = data.draw(values, label="value")
    elif how == "add" and isinstance(parent, dict):
        parent[data.draw(st.text(max_size=8), label="key")] = data.draw(values, label="value")
    elif how == "wrap":
        parent[last] = [parent[last]]
    elif how == "stringify":
        parent[last] = json.dumps(parent[last])
    return record


def write(path: Path, records: list[Any], container: str) -> Path:
    # ensure_ascii keeps lone surrogates as \\u escapes, the way a broken exporter writes them.
    if container == "json":
        path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One database for all examples of a module (hypothesis re-runs the test body, not the fixture)."""
    if request.param == "sqlite":
        engine = prepare(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'redline.db'}")
        yield engine
        engine.dispose()
        return
    if not _postgres_available():
        skip_or_fail("REDLINE_REQUIRE_POSTGRES", f"PostgreSQL is not reachable at {POSTGRES_URL}")
    schema = f"fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    engine = prepare(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def counts(engine: Engine) -> tuple[int, int]:
    with session(engine) as s:
        return (
            s.exec(select(func.count()).select_from(TraceRow)).one()[0],
            s.exec(select(func.count()).select_from(JudgmentRow)).one()[0],
        )


def import_or_clear_error(engine: Engine, path: Path, fmt: str | None) -> bool:
    """True when the file imported; a failure must be clear and change nothing."""
    options = ConvertOptions(mapping=GENERIC_MAPPING) if fmt == "generic" else None
    before = counts(engine)
    try:
        summary = import_file(engine, path, project="fuzz", fmt=fmt, options=options)
    except ImportFailure as e:
        assert e.file == path.name and str(e).startswith(path.name)
        assert e.message.strip()
        assert counts(engine) == before, f"a failed import changed the database: {e}"
        return False
    except InvalidValue as e:  # pragma: no cover - importers wrap these, but the contract allows them
        assert e.field and e.message
        assert counts(engine) == before
        return False
    assert counts(engine)[0] == before[0] + summary.traces_added
    return True


@pytest.mark.parametrize("fmt", list(VALID))
def test_the_valid_records_import(fuzz_engine: Engine, tmp_path: Path, fmt: str):
    """The starting points are valid, so what the fuzzing breaks is the mutation, not the base."""
    assert fmt in FORMATS.names()
    path = write(tmp_path / f"valid-{fmt}.jsonl", json.loads(json.dumps(VALID[fmt])), "jsonl")
    assert import_or_clear_error(fuzz_engine, path, fmt)


@pytest.mark.parametrize("fmt", list(VALID))
@FUZZ
@given(data=st.data())
def test_broken_records_fail_clearly_and_change_nothing(
    fuzz_engine: Engine, tmp_path_factory: pytest.TempPathFactory, fmt: str, data: st.DataObject
):
    base = VALID[fmt]
    broken = json.loads(json.dumps(data.draw(st.sampled_from(base), label="record")))
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        broken = mutate(broken, data)
    # A valid record first (with a fresh id, so it is new each time) and the broken one after it.
    good = json.loads(json.dumps(base[0]))
    good["_nonce"] = uuid.uuid4().hex
    container = data.draw(st.sampled_from(["jsonl", "json"]), label="container")
    folder = tmp_path_factory.mktemp("case")
    path = write(folder / f"{fmt}.{container}", [good, broken], container)
    named = data.draw(st.booleans(), label="format named") or fmt == "generic"
    import_or_clear_error(fuzz_engine, path, fmt if named else None)


def parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(VALID["processbench"] * 3), out)
    return out.getvalue()


VALID_FILES = {
    ".jsonl": "".join(json.dumps(r) + "\n" for r in VALID["processbench"] * 3).encode(),
    ".json": json.dumps(VALID["processbench"] * 3).encode(),
    ".csv": b'problem,steps,label\n"p","[""a"", ""b""]",1\n"q","Step 1: a\nStep 2: b",x\n',
    ".tsv": b"problem\tsteps\tlabel\np\ta\t0\n",
}


@FUZZ
@given(data=st.data())
def test_damaged_and_random_files_fail_clearly(
    fuzz_engine: Engine, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
):
    suffix = data.draw(st.sampled_from([".jsonl", ".json", ".csv", ".tsv", ".parquet"]), label="suffix")
    valid = parquet_bytes() if suffix == ".parquet" else VALID_FILES[suffix]
    kind = data.draw(st.sampled_from(["random bytes", "random text", "truncated", "flipped"]), label="kind")
    if kind == "random bytes":
        content = data.draw(st.binary(max_size=300), label="bytes")
    elif kind == "random text":
        content = data.draw(st.text(max_size=300), label="text").encode("utf-8")
    elif kind == "truncated":
        content = valid[: data.draw(st.integers(0, len(valid) - 1), label="cut")]
    else:
        content = bytearray(valid)
        for _ in range(data.draw(st.integers(1, 8), label="flips")):
            at = data.draw(st.integers(0, len(content) - 1), label="at")
            content[at] = data.draw(st.integers(0, 255), label="byte")
        content = bytes(content)
    path = tmp_path_factory.mktemp("file") / f"damaged{suffix}"
    path.write_bytes(content)
    fmt = "generic" if suffix in (".csv", ".tsv") and data.draw(st.booleans(), label="generic") else None
    import_or_clear_error(fuzz_engine, path, fmt)
