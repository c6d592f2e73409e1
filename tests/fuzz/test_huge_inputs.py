"""Huge inputs: a 1 MB step and a 2,000-step trace import and read back whole; a 500 MB file is refused at
once with its limit named (or, for a JSONL preview, streamed), in a child process whose peak memory is measured.

The 500 MB files are sparse (a few valid records, then a hole), so writing one takes no time and no disk.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from annotation.core.errors import ImportFailure
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from annotation.importing.formats.reading import DEFAULT_MAX_FILE_MB, MAX_FILE_ENV, MAX_RECORD_BYTES
from annotation.projects.traces import load_traces
from tests.fuzz.test_import_fuzz import counts

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
HUGE_BYTES = 500 * MB
RSS_BOUND_MB = 1024
CHILD_TIMEOUT_S = 60


def record(i: int, steps: list[str], label: int = -1) -> dict:
    return {"id": f"huge-{i}", "generator": "g", "problem": f"Problem {i}", "steps": steps, "label": label}


def one_megabyte_step() -> str:
    # Varied text with every awkward character class: quotes, backslashes, newlines, non-ASCII, LaTeX.
    unit = 'Step "text" with \\frac{a}{b}, a newline\n, é, 数学, and a tab\t. '
    return (unit * (MB // len(unit) + 1))[:MB]


def test_a_one_megabyte_step_round_trips(engine, tmp_path: Path):
    big = one_megabyte_step()
    path = tmp_path / "big-step.jsonl"
    path.write_text(json.dumps(record(1, ["short", big, "end"], label=1)) + "\n", encoding="utf-8")
    summary = import_file(engine, path, project="huge")
    assert summary.traces_added == 1
    (stored,) = load_traces(engine, "huge")
    assert stored.trace.steps == ["short", big, "end"]
    assert stored.judgments["reference"].first_error == 1


def test_a_one_megabyte_cell_in_csv_round_trips(sqlite_engine, tmp_path: Path):
    """csv's own cell limit is 128 kB; the import raises it to its record limit."""
    big = one_megabyte_step()
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["problem", "steps", "label"], ["p", json.dumps(["a", big]), "1"]])
    options = ConvertOptions(mapping=FieldMapping(first_error="label", step_split="list"))
    import_file(sqlite_engine, path, project="huge", fmt="generic", options=options)
    (stored,) = load_traces(sqlite_engine, "huge")
    assert stored.trace.steps == ["a", big.strip()]  # the generic reader trims each step


def test_a_two_thousand_step_trace_round_trips(engine, tmp_path: Path):
    steps = [f"Step {i + 1}: carry the {i} forward, then add {i + 1}." for i in range(2000)]
    path = tmp_path / "long.json"
    path.write_text(json.dumps([record(1, steps, label=1999), record(2, steps[:3])]), encoding="utf-8")
    summary = import_file(engine, path, project="long")
    assert (summary.traces_added, summary.steps_added) == (2, 2003)
    first, second = load_traces(engine, "long")
    assert first.trace.steps == steps
    assert first.judgments["reference"].first_error == 1999
    assert second.trace.steps == steps[:3]


def sparse_file(path: Path, head: str, size: int) -> Path:
    """``head``, then a hole up to ``size`` bytes: the file claims its size at once and stores almost nothing."""
    with path.open("wb") as f:
        f.write(head.encode("utf-8"))
        f.truncate(size)
    return path


CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from annotation.core.errors import ImportFailure
    from annotation.importing.files import import_file, parse_file
    from annotation.ops.startup import prepare

    path, mode, db = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    engine = prepare(f"sqlite:///{db}")
    started = time.perf_counter()
    try:
        if mode == "preview":
            outcome = f"previewed {len(parse_file(path, limit=20).records)} records"
        else:
            outcome = f"imported {import_file(engine, path, project='p').traces_added} traces"
    except ImportFailure as e:
        outcome = f"refused: {e}"
    seconds = time.perf_counter() - started
    # VmHWM belongs to this process's own memory map (made at exec); ru_maxrss would carry the parent's peak over.
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    peak_mb = int(hwm.split()[1]) / 1024
    print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_rss_mb": peak_mb}))
    """
)


def run_child(path: Path, mode: str, tmp_path: Path, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode, str(tmp_path / f"{mode}.db")],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)} | env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(path.name, mode, result)  # the figures for docs/robustness.md (pytest -s)
    assert result["peak_rss_mb"] < RSS_BOUND_MB, result
    return result


def valid_head(n: int = 25) -> str:
    return "".join(json.dumps(record(i, ["a", "b"])) + "\n" for i in range(n))


def test_a_500_mb_jsonl_file_is_refused_at_once_with_its_limit(tmp_path: Path):
    path = sparse_file(tmp_path / "huge.jsonl", valid_head(), HUGE_BYTES)
    result = run_child(path, "import", tmp_path)
    assert result["outcome"].startswith("refused: huge.jsonl: the file is 500 MB;")
    assert f"at most {DEFAULT_MAX_FILE_MB} MB (set {MAX_FILE_ENV}" in result["outcome"]
    assert result["seconds"] < 5


def test_a_500_mb_jsonl_file_still_previews_by_streaming(tmp_path: Path):
    path = sparse_file(tmp_path / "huge.jsonl", valid_head(), HUGE_BYTES)
    result = run_child(path, "preview", tmp_path)
    assert result["outcome"] == "previewed 20 records"
    assert result["seconds"] < 5


def test_a_500_mb_line_is_refused_at_the_record_limit_when_the_file_limit_is_raised(tmp_path: Path):
    """With the file limit lifted, the endless line is read no further than one record may take."""
    path = sparse_file(tmp_path / "one-line.jsonl", valid_head(3) + '{"problem": "', HUGE_BYTES)
    result = run_child(path, "import", tmp_path, **{MAX_FILE_ENV: "1024"})
    assert result["outcome"].startswith("refused: one-line.jsonl, record 4, line 4: the line is longer than 64 MB")
    assert result["peak_rss_mb"] < 100 + 2 * MAX_RECORD_BYTES / MB
    assert result["seconds"] < 10


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_a_500_mb_file_read_whole_is_refused_even_for_a_preview(tmp_path: Path, suffix: str):
    head = "[" + json.dumps(record(1, ["a"])) + "," if suffix == ".json" else "problem,steps\np,a\n"
    path = sparse_file(tmp_path / f"huge{suffix}", head, HUGE_BYTES)
    result = run_child(path, "preview", tmp_path)
    assert result["outcome"].startswith(f"refused: huge{suffix}: the file is 500 MB;")
    assert result["seconds"] < 5


def test_a_parquet_file_is_limited_by_what_it_unpacks_to(sqlite_engine, tmp_path: Path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # 2 MB of repeated text compresses to almost nothing; with a 1 MB limit it is refused by its unpacked size.
    rows = [record(i, [f"{i} " + "x" * 1000, f"{i} " + "y" * 1000]) for i in range(1000)]
    path = tmp_path / "packed.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, compression="zstd")
    assert path.stat().st_size < MB
    monkeypatch.setenv(MAX_FILE_ENV, "1")
    refusal = r"the Parquet file unpacks to \d MB; Redline imports files of at most 1 MB"
    with pytest.raises(ImportFailure, match=refusal):
        import_file(sqlite_engine, path, project="p")
    assert counts(sqlite_engine) == (0, 0)
