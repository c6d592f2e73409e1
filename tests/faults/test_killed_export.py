"""An export killed with SIGKILL mid-write leaves the finished export from before exactly as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotation.importing.files import import_file
from annotation.ops.startup import prepare
from tests.utils.files import processbench_record, write_jsonl
from tests.utils.processes import cli_env, kill_when, run_cli, start_cli

TRACES = 12_000


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(path: Path) -> int:
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return sum(1 for line in path.open(encoding="utf-8") if json.loads(line))


@pytest.mark.parametrize("output", ["jsonl", "parquet"])
def test_a_killed_export_leaves_the_earlier_file_whole(tmp_path: Path, output: str):
    db = tmp_path / "redline.db"
    engine = prepare(f"sqlite:///{db}")
    records = [processbench_record(i, label=i % 3 - 1) for i in range(TRACES)]
    import_file(engine, write_jsonl(tmp_path / "in.jsonl", records[:100]), project="p")
    engine.dispose()
    env = cli_env(f"sqlite:///{db}")
    out = tmp_path / "exports" / f"p.{output}"
    args = ["export", "--project", "p", "--format", "processbench", "--out", str(out), "--quiet"]
    if output == "parquet":
        args.append("--parquet")

    first = run_cli(args, env)
    assert first.returncode == 0, first.stderr
    before, card = digest(out), digest(out.parent / f"p.{output}.README.md")
    assert rows(out) == 100

    # Many more traces, so the next export takes long enough to be caught half-way.
    import_file(prepare(f"sqlite:///{db}"), write_jsonl(tmp_path / "more.jsonl", records), project="p")
    log = tmp_path / "export.log"
    child = start_cli(args, env, log)
    parts = lambda: [p for p in out.parent.glob(f".{out.name}.*.part") if p.stat().st_size > 0]  # noqa: E731
    kill_when(child, lambda: bool(parts()), log)

    assert digest(out) == before and rows(out) == 100  # the finished file is untouched
    assert digest(out.parent / f"p.{output}.README.md") == card
    leftovers = parts()
    assert all(p.name.startswith(".") for p in leftovers)  # only a hidden .part, never at the expected name

    again = run_cli(args, env)
    assert again.returncode == 0, again.stderr
    assert rows(out) == TRACES
