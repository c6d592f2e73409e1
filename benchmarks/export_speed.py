"""Export speed: N synthetic traces of 8 steps each, with their judgments, exported to JSONL and to Parquet.

Budget (for 100,000 traces on the 2-core machine): each export takes at most 10 s of wall-clock time,
and its process peaks at most 1024 MB resident.

A first child process builds the database with ``storage.queries.insert_traces`` / ``insert_judgments``:
ProcessBench-shaped traces (as in import_speed), each with its reference label, half of them with a
human judgment that rates and critiques every step up to the first error, a third with a critic's
critique. Then each output runs in a child of its own, which times ``annotation.exporting.run.export_project``
(stream from SQLite in chunks, choose the label, write, dataset card). Peak RSS is that child's
high-water mark (``ru_maxrss`` from ``wait4``): interpreter, SQLAlchemy, pyarrow and the export.

    python -m benchmarks.export_speed [--traces N] [--format F] [--seed S] [--check] [--workdir DIR]

The figures go to ``benchmarks/out/export_speed.json``. Exit status: 0 (a report, whatever the figures);
with ``--check``, 1 when a budget is missed or a record is missing; 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import OUT, finish, in_workdir

NAME = "export_speed"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_TRACES = 100_000
DEFAULT_SEED = 20_261_123
DEFAULT_FORMAT = "trl-stepwise"
PROJECT = "benchmark"
OUTPUTS = ("jsonl", "parquet")
BUDGET_WALL_S = 10.0
BUDGET_PEAK_RSS_MB = 1024.0
BUDGET_TRACES = 100_000
WRITE_BATCH = 20_000


# --- the children ---------------------------------------------------------------------------------


def _maxrss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _judgments(rng: random.Random, record: dict[str, Any], trace_id: int, now: datetime) -> list[dict[str, Any]]:
    label = record["label"]
    rows = [
        {
            "trace_id": trace_id,
            "source_kind": "reference",
            "source_name": "",
            "first_error": label,
            "steps": [],
            "critique": None,
            "solution_correct": label == -1,
            "finish_reason": None,
            "time_spent_s": None,
            "status": "submitted",
            "extra": {},
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
    ]
    if trace_id % 2 == 0:
        stop = len(record["steps"]) if label == -1 else label + 1
        steps = [
            {"verdict": -1 if k == label else 1, "critique": f"Step {k} checked.", "tags": []} for k in range(stop)
        ]
        rows.append(rows[0] | {"source_kind": "human", "source_name": "alice", "steps": steps, "time_spent_s": 42.0})
    if trace_id % 3 == 0:
        guess = rng.choice((-1, 0, 1, 2, label))
        rows.append(
            rows[0]
            | {"source_kind": "model", "source_name": "critic", "first_error": guess, "critique": f"\\boxed{{{guess}}}"}
        )
    return rows


def child_build(db: Path, traces: int, seed: int) -> dict[str, Any]:
    from annotation.ops.startup import prepare
    from benchmarks.import_speed import synthetic_record
    from storage import queries
    from storage.db import session as open_session

    engine = prepare(f"sqlite:///{db}")
    rng = random.Random(seed)
    now = datetime.now(UTC)
    judgments = 0
    with open_session(engine) as s, s.begin():
        project = queries.create_project(s, name=PROJECT, licence="CC-BY-4.0")
        for start in range(0, traces, WRITE_BATCH):
            records = [synthetic_record(rng, i) for i in range(start, min(traces, start + WRITE_BATCH))]
            rows = [
                {
                    "project_id": project.id,
                    "position": start + k,
                    "content_key": f"{start + k:064d}",
                    "record_id": r["id"],
                    "problem": r["problem"],
                    "steps": r["steps"],
                    "n_steps": len(r["steps"]),
                    "generator": r["generator"],
                    "meta": {"final_answer_correct": r["final_answer_correct"]},
                    "created_at": now,
                }
                for k, r in enumerate(records)
            ]
            ids = queries.insert_traces(s, rows=rows)
            judgment_rows = [j for r, i in zip(records, ids, strict=True) for j in _judgments(rng, r, i, now)]
            queries.insert_judgments(s, rows=judgment_rows)
            judgments += len(judgment_rows)
    engine.dispose()
    return {"traces": traces, "judgments": judgments}


def child_export(db: Path, out: Path, fmt: str, output: str) -> dict[str, Any]:
    from annotation.exporting.formats.base import ExportOptions
    from annotation.exporting.run import export_project
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    before = _maxrss_mb()
    start = time.perf_counter()
    summary = export_project(engine, PROJECT, fmt, out, ExportOptions(output=output))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return {
        "seconds": elapsed,
        "peak_rss_mb_before": before,
        "records": summary.records,
        "traces_read": summary.facts["traces_seen"],
        "file_mb": out.stat().st_size / 2**20,
    }


def run_child(*args: str) -> dict[str, Any]:
    """A child process; its figures come back as the last line of its output, its peak RSS from wait4."""
    cmd = [sys.executable, "-m", "benchmarks.export_speed", "--child", *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(
            f"the child {' '.join(args[:1])} failed with exit status {os.waitstatus_to_exitcode(status)}"
        )
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["process_wall_s"] = time.perf_counter() - start
    return result


# --- the parent -----------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.export_speed",
        description="Export N synthetic traces with their judgments from SQLite to JSONL and to Parquet.",
    )
    p.add_argument("--traces", type=int, default=DEFAULT_TRACES, help=f"traces to export (default {DEFAULT_TRACES})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic data")
    p.add_argument("--format", default=DEFAULT_FORMAT, help=f"export format (default {DEFAULT_FORMAT})")
    p.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    p.add_argument("--workdir", type=Path, default=None, help="keep the database and outputs here (default: temp)")
    p.add_argument("--out", type=Path, default=OUT / f"{NAME}.json", help="where to write the figures as JSON")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    # Accepted so that `python -m benchmarks` can pass every benchmark the same options.
    p.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    return p


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    db = work / "export-bench.db"
    for old in work.glob("export-bench.db*"):
        old.unlink()
    start = time.perf_counter()
    built = run_child("build", str(db), str(args.traces), str(args.seed))
    build_s = time.perf_counter() - start
    runs = {}
    for output in OUTPUTS:
        print(f"exporting {args.traces:,} traces as {output} ...", file=sys.stderr, flush=True)
        runs[output] = run_child("export", str(db), str(work / f"export.{output}"), args.format, output)
    checks = {}
    for output, r in runs.items():
        checks[f"{output}_wall_time"] = r["seconds"] <= BUDGET_WALL_S
        checks[f"{output}_peak_rss"] = r["peak_rss_mb"] <= BUDGET_PEAK_RSS_MB
        checks[f"{output}_complete"] = r["traces_read"] == args.traces and r["records"] > 0
    return {
        "benchmark": NAME,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "traces": args.traces,
        "judgments": built["judgments"],
        "format": args.format,
        "seed": args.seed,
        "build_s": build_s,
        "runs": runs,
        "budgets": {
            "wall_time_s": BUDGET_WALL_S,
            "peak_rss_mb": BUDGET_PEAK_RSS_MB,
            "stated_for_traces": BUDGET_TRACES,
        },
        "checks": checks,
        "passed": all(checks.values()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }


def report(r: dict[str, Any]) -> str:
    c = r["checks"]
    lines = [f"export_speed: {r['traces']:,} traces x 8 steps, {r['judgments']:,} judgments, format {r['format']}"]
    for output, run in r["runs"].items():
        lines.append(
            f"  {output:<8} {run['seconds']:6.2f} s  {_verdict(c[f'{output}_wall_time'])} (<= {BUDGET_WALL_S:g} s)   "
            f"peak RSS {run['peak_rss_mb']:5.0f} MB  {_verdict(c[f'{output}_peak_rss'])} (<= {BUDGET_PEAK_RSS_MB:g} MB)"
            f"   {run['records']:,} records, {run['file_mb']:.0f} MB"
        )
    lines.append(
        "  Each export runs export_project() in its own process on the same SQLite database (built by a child "
        "with insert_traces/insert_judgments); peak RSS is that whole process."
    )
    if r["traces"] != BUDGET_TRACES:
        lines.append(f"  note: the budgets are stated for {BUDGET_TRACES:,} traces; this run used {r['traces']:,}.")
    lines.append(f"  overall: {_verdict(r['passed'])}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        role, *rest = args.child
        if role == "build":
            result = child_build(Path(rest[0]), int(rest[1]), int(rest[2]))
        else:
            result = child_export(Path(rest[0]), Path(rest[1]), rest[2], rest[3])
        print(json.dumps(result))
        return 0
    if args.traces < 1:
        print("error: --traces must be at least 1", file=sys.stderr)
        return 2
    try:
        result = in_workdir(args.workdir, "redline-export-bench-", lambda folder: measure(args, folder))
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return finish(result, report(result), args.out, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
