"""Import speed: N synthetic ProcessBench traces of 8 steps each into SQLite, against a bare sqlite3 baseline.

Budget (for 100,000 traces on the 2-core machine): the import takes at most 30 s of wall-clock time,
its process peaks at most 1024 MB resident, and it takes at most 3 times as long as a bare ``sqlite3``
``executemany`` of the same rows.

Both sides run in their own child process, one after the other, reading the same JSONL file:

* Redline: the child makes a fresh database with ``annotation.ops.startup.prepare("sqlite:///...")`` and
  times ``annotation.importing.files.import_file`` (read, detect, convert and check every record, then write
  in one transaction). Its peak RSS is the child's high-water mark (``ru_maxrss`` from ``wait4``),
  so it includes the interpreter, SQLAlchemy, Alembic and the migration run before the import.
* Baseline: the child opens a copy of an empty database that ``prepare`` made (so the schema, its
  constraints and indexes are Redline's), sets Redline's pragmas (WAL, foreign keys, synchronous=NORMAL)
  and times: read the file line by line, ``json.loads`` each into a list of records (as Redline
  converts all before it writes), build the very rows Redline writes (same columns, same JSON text,
  same sha256 content key), then in one transaction insert the project and ``executemany`` the trace
  rows and the judgment rows, and commit. No validation.

After both, the rows of the two databases are compared (all columns but the timestamps), so the
baseline is known to have written exactly what Redline writes.

    python -m benchmarks.import_speed [--traces N] [--seed S] [--repeat R] [--check] [--workdir DIR]

The figures go to ``benchmarks/out/import_speed.json``. Exit status: 0 (a report, whatever the figures);
with ``--check``, 1 when a budget is missed or the rows differ; 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import OUT, finish, in_workdir

NAME = "import_speed"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_TRACES = 100_000
DEFAULT_SEED = 20_261_122
STEPS_PER_TRACE = 8
PROJECT = "benchmark"
DATA_FILE = "processbench_synthetic.jsonl"

BUDGET_WALL_S = 30.0
BUDGET_PEAK_RSS_MB = 1024.0
BUDGET_RATIO = 3.0
BUDGET_TRACES = 100_000

# Shaped after ProcessBench's gsm8k split: steps of about 180 characters, problems of about 250,
# ids "<subset>-<n>", labels -1 for about half the traces.
SUBSETS = ("gsm8k", "math", "olympiadbench", "omnimath")
GENERATORS = (
    "Qwen2-7B-Instruct",
    "Qwen2.5-Math-7B-Instruct",
    "Qwen2.5-72B-Instruct",
    "Meta-Llama-3-70B-Instruct",
    "Llama-3.1-8B-Instruct",
)
WORDS = tuple(
    " ".join(
        (
            "the number of apples is then so we get total each per cent of her his their which means that",
            "first second third next finally multiply divide add subtract equals remaining cost price dollars",
            "hours minutes days weeks students books marbles cookies boxes tickets friends distance speed",
            "rate area perimeter side length width height angle triangle circle radius square root sum",
            "difference product quotient fraction half quarter twice three times more less than after before",
            "therefore since because let x y n be equation solve for substitute into simplify check answer",
        )
    ).split(" ")
)
SYMBOLS = ("1/2", "3/4", "0.25", "$15", "12%", "=", "+", "-", "*", "/")
VOCAB = (*WORDS, *(str(n) for n in range(2, 40)), *SYMBOLS)
# As in gsm8k, where 4% of the steps hold a character beyond ASCII (and so the file as a whole does).
NON_ASCII = ("×", "÷", "√2", "≈", "π", "°", "€")
NON_ASCII_SHARE = 0.04
STEP_WORDS = (20, 52)  # about 180 characters a step
PROBLEM_WORDS = (30, 70)  # about 250 characters a problem

# What the ProcessBench adapter does not keep in metadata, and how it finds the subset (mirrored
# here so that the baseline child imports nothing of Redline; the row comparison checks the mirror).
PROCESSBENCH_KNOWN = {"id", "generator", "problem", "steps", "label", "prediction", "generated_critique", "match"}
SUBSET_RE = re.compile(r"^(.*)-\d+$")


# --- the synthetic file ---------------------------------------------------------------------------


def synthetic_record(rng: random.Random, i: int) -> dict[str, Any]:
    def sentence(lo_hi: tuple[int, int]) -> str:
        words = rng.choices(VOCAB, k=rng.randint(*lo_hi))
        if rng.random() < NON_ASCII_SHARE:
            words[rng.randrange(len(words))] = rng.choice(NON_ASCII)
        return " ".join(words).capitalize() + "."

    label = -1 if rng.random() < 0.48 else rng.randrange(STEPS_PER_TRACE)
    return {
        "id": f"{SUBSETS[i % len(SUBSETS)]}-{i}",
        "generator": GENERATORS[rng.randrange(len(GENERATORS))],
        "problem": sentence(PROBLEM_WORDS)[:-1] + "?",
        "steps": [sentence(STEP_WORDS) for _ in range(STEPS_PER_TRACE)],
        "final_answer_correct": label == -1 or rng.random() < 0.1,
        "label": label,
    }


def generate(path: Path, traces: int, seed: int) -> None:
    """Write ``traces`` ProcessBench records to ``path`` as JSONL; the same seed gives the same bytes."""
    from tqdm import tqdm

    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for i in tqdm(range(traces), desc="generating", unit="trace", file=sys.stderr, disable=None, mininterval=0.2):
            f.write(json.dumps(synthetic_record(rng, i), ensure_ascii=False))
            f.write("\n")


# --- the children ---------------------------------------------------------------------------------


def _maxrss_mb() -> float:
    """This process's RSS high-water mark: VmHWM (reset by exec), else ru_maxrss (which may carry the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_template(db: Path) -> dict[str, Any]:
    """An empty database as Redline makes it, for the baseline to copy (so the parent stays small)."""
    from annotation.ops.startup import prepare

    prepare(f"sqlite:///{db}").dispose()
    return {}


def child_redline(data: Path, db: Path) -> dict[str, Any]:
    from annotation.importing.files import import_file
    from annotation.ops.startup import prepare

    engine = prepare(f"sqlite:///{db}")
    before = _maxrss_mb()
    start = time.perf_counter()
    summary = import_file(engine, data, project=PROJECT)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return {
        "seconds": elapsed,
        "peak_rss_mb_before": before,
        "peak_rss_mb_self": _maxrss_mb(),
        "traces": summary.traces_added,
        "judgments": sum(summary.judgments_added.values()),
    }


def _sqlite_time(now: datetime) -> str:
    # How SQLAlchemy's SQLite DateTime stores a datetime: naive text with microseconds.
    return now.strftime("%Y-%m-%d %H:%M:%S.%f")


def child_baseline(data: Path, db: Path) -> dict[str, Any]:
    con = sqlite3.connect(db, timeout=10, isolation_level=None)
    # Redline's pragmas (storage.db._sqlite_pragmas).
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA busy_timeout=10000")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA synchronous=NORMAL")
    before = _maxrss_mb()
    dumps, loads, sha256 = json.dumps, json.loads, hashlib.sha256
    start = time.perf_counter()

    now = _sqlite_time(datetime.now(UTC))
    source_file = data.name
    con.execute("BEGIN")
    row = con.execute("SELECT id FROM project WHERE name = ?", (PROJECT,)).fetchone()
    if row is None:
        cur = con.execute(
            "INSERT INTO project (name, description, guidelines, taxonomy, judgments_per_trace, "
            "blind, label_mode, queue_order, reservation_minutes, licence, created_at) "
            "VALUES (?, '', '', '[]', 1, 0, 'first_error', 'import', 30, '', ?)",
            (PROJECT, now),
        )
        project_id = cur.lastrowid
    else:
        project_id = row[0]
    known = dict(con.execute("SELECT content_key, id FROM trace WHERE project_id = ?", (project_id,)).fetchall())
    position = con.execute(
        "SELECT coalesce(max(position) + 1, 0) FROM trace WHERE project_id = ?", (project_id,)
    ).fetchone()[0]
    trace_id = con.execute("SELECT coalesce(max(id), 0) + 1 FROM trace").fetchone()[0]

    trace_rows: list[tuple] = []
    judgment_rows: list[tuple] = []
    with data.open(encoding="utf-8-sig") as lines:
        records = [loads(line) for line in lines if not line.isspace()]
    for d in records:
        record_id = d.get("id")
        problem, steps = d["problem"], d["steps"]
        key = sha256(dumps([record_id, problem, steps], ensure_ascii=False).encode("utf-8")).hexdigest()
        if key in known:
            continue
        known[key] = trace_id
        meta = {k: v for k, v in d.items() if k not in PROCESSBENCH_KNOWN}
        if record_id and (m := SUBSET_RE.match(record_id)):
            meta.setdefault("subset", m.group(1))
        # fmt: off
        trace_rows.append((
            trace_id, project_id, position, key, record_id, source_file, problem, dumps(steps), len(steps),
            None, None, None, d.get("generator"), dumps(meta), now,
        ))
        # fmt: on
        label = d["label"]
        judgment_rows.append(
            (trace_id, "reference", "", label, "[]", None, label == -1, None, "submitted", None, "{}", 1, now, now)
        )
        trace_id += 1
        position += 1
    con.executemany(
        "INSERT INTO trace (id, project_id, position, content_key, record_id, source_file, problem, steps, "
        "n_steps, answer, reference_answer, reference_solution, generator, meta, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        trace_rows,
    )
    con.executemany(
        "INSERT INTO judgment (trace_id, source_kind, source_name, first_error, steps, critique, solution_correct, "
        "finish_reason, status, time_spent_s, extra, version, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        judgment_rows,
    )
    con.execute("COMMIT")

    elapsed = time.perf_counter() - start
    con.close()
    return {
        "seconds": elapsed,
        "peak_rss_mb_before": before,
        "peak_rss_mb_self": _maxrss_mb(),
        "traces": len(trace_rows),
        "judgments": len(judgment_rows),
    }


CHILDREN = {
    "redline": child_redline,
    "baseline": child_baseline,
    "template": lambda _data, db: child_template(db),
}


def run_child(role: str, data: Path, db: Path) -> dict[str, Any]:
    """Run one side in a fresh interpreter; its peak RSS comes from wait4, its timing from itself."""
    cmd = [sys.executable, "-m", "benchmarks.import_speed", "--child", role, "--data", str(data), "--db", str(db)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"the {role} child failed with exit status {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["process_wall_s"] = wall
    return result


# --- checking the baseline wrote what Redline writes ----------------------------------------------

TRACE_COLUMNS = (
    "id, project_id, position, content_key, record_id, source_file, problem, steps, n_steps, answer, "
    "reference_answer, reference_solution, generator, meta"
)
JUDGMENT_COLUMNS = (
    "id, trace_id, source_kind, source_name, first_error, steps, critique, solution_correct, finish_reason, "
    "status, time_spent_s, extra, version"
)
PROJECT_COLUMNS = "id, name, description, guidelines, taxonomy, judgments_per_trace, blind"


def differing_rows(redline_db: Path, baseline_db: Path) -> dict[str, int]:
    """Rows found on one side only, per table, comparing every column but the timestamps."""
    con = sqlite3.connect(redline_db)
    try:
        con.execute("ATTACH DATABASE ? AS b", (str(baseline_db),))
        found = {}
        for table, columns in (("project", PROJECT_COLUMNS), ("trace", TRACE_COLUMNS), ("judgment", JUDGMENT_COLUMNS)):
            for left, right in (("main", "b"), ("b", "main")):
                only_left = f"SELECT {columns} FROM {left}.{table} EXCEPT SELECT {columns} FROM {right}.{table}"
                found[table] = found.get(table, 0) + con.execute(f"SELECT count(*) FROM ({only_left})").fetchone()[0]
        return found
    finally:
        con.close()


# --- the parent -----------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.import_speed",
        description="Import N synthetic ProcessBench traces into SQLite; compare with a bare sqlite3 executemany.",
    )
    p.add_argument("--traces", type=int, default=DEFAULT_TRACES, help=f"traces to import (default {DEFAULT_TRACES})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic data")
    p.add_argument("--repeat", type=int, default=3, help="runs of each side; the median counts (default 3)")
    p.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    p.add_argument("--workdir", type=Path, default=None, help="keep the data and databases here (default: a temp dir)")
    p.add_argument("--out", type=Path, default=OUT / f"{NAME}.json", help="where to write the figures as JSON")
    p.add_argument("--child", choices=tuple(CHILDREN), help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    return p


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    data = work / DATA_FILE
    start = time.perf_counter()
    generate(data, args.traces, args.seed)
    generation_s = time.perf_counter() - start
    template = work / "empty.db"
    run_child("template", data, template)

    redline_runs, baseline_runs = [], []
    for i in range(args.repeat):
        redline_db, baseline_db = work / f"redline-{i}.db", work / f"baseline-{i}.db"
        shutil.copyfile(template, baseline_db)
        # Alternate the order so neither side always runs on a warmer machine.
        sides = [("redline", redline_db, redline_runs), ("baseline", baseline_db, baseline_runs)]
        for role, db, runs in sides if i % 2 == 0 else sides[::-1]:
            print(f"run {i + 1}/{args.repeat}: {role} ...", file=sys.stderr, flush=True)
            runs.append(run_child(role, data, db))
    differing = differing_rows(redline_db, baseline_db)

    redline_s = statistics.median(r["seconds"] for r in redline_runs)
    baseline_s = statistics.median(r["seconds"] for r in baseline_runs)
    peak = max(r["peak_rss_mb"] for r in redline_runs)
    ratio = redline_s / baseline_s
    expected = {"traces": args.traces, "judgments": args.traces}
    complete = all({k: r[k] for k in expected} == expected for r in redline_runs + baseline_runs)
    checks = {
        "wall_time": redline_s <= BUDGET_WALL_S,
        "peak_rss": peak <= BUDGET_PEAK_RSS_MB,
        "ratio": ratio <= BUDGET_RATIO,
        "same_rows": complete and not any(differing.values()),
    }
    return {
        "benchmark": NAME,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "traces": args.traces,
        "steps_per_trace": STEPS_PER_TRACE,
        "seed": args.seed,
        "repeat": args.repeat,
        "file_mb": data.stat().st_size / 2**20,
        "generation_s": generation_s,
        "redline_s": redline_s,
        "redline_peak_rss_mb": peak,
        "baseline_s": baseline_s,
        "baseline_peak_rss_mb": max(r["peak_rss_mb"] for r in baseline_runs),
        "ratio": ratio,
        "budgets": {
            "wall_time_s": BUDGET_WALL_S,
            "peak_rss_mb": BUDGET_PEAK_RSS_MB,
            "ratio": BUDGET_RATIO,
            "stated_for_traces": BUDGET_TRACES,
        },
        "checks": checks,
        "passed": all(checks.values()),
        "differing_rows": differing,
        "runs": {"redline": redline_runs, "baseline": baseline_runs},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
    }


def report(r: dict[str, Any]) -> str:
    c = r["checks"]
    rows = [
        ("traces", f"{r['traces']:,} x {r['steps_per_trace']} steps ({r['file_mb']:.0f} MB JSONL)", ""),
        ("Redline import wall time", f"{r['redline_s']:.2f} s", f"{_verdict(c['wall_time'])} (<= {BUDGET_WALL_S:g} s)"),
        (
            "Redline import peak RSS",
            f"{r['redline_peak_rss_mb']:.0f} MB",
            f"{_verdict(c['peak_rss'])} (<= {BUDGET_PEAK_RSS_MB:g} MB)",
        ),
        ("bare sqlite3 baseline time", f"{r['baseline_s']:.2f} s", ""),
        ("bare sqlite3 baseline peak RSS", f"{r['baseline_peak_rss_mb']:.0f} MB", ""),
        ("ratio Redline / baseline", f"{r['ratio']:.2f}", f"{_verdict(c['ratio'])} (<= {BUDGET_RATIO:g})"),
        ("baseline wrote Redline's rows", "yes" if c["same_rows"] else f"NO {r['differing_rows']}", ""),
    ]
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    lines = [f"import_speed (median of {r['repeat']} run{'s' if r['repeat'] > 1 else ''} per side)"]
    lines += [f"  {name:<{width}}  {value:<{value_width}}  {verdict}".rstrip() for name, value, verdict in rows]
    lines += [
        "  Redline: import_file() in its own process on a fresh prepare()d database: read, detect, convert,",
        "    check and write in one transaction. Peak RSS is that whole process (interpreter, SQLAlchemy,",
        "    migrations and the import).",
        "  Baseline (bare sqlite3, own process): the same file read line by line and json.loads'd, the same",
        "    rows built (same JSON text, same content keys), then one transaction of executemany into the same",
        "    schema with Redline's pragmas (WAL, synchronous=NORMAL, foreign keys); no validation.",
    ]
    if r["traces"] != BUDGET_TRACES:
        lines.append(f"  note: the budgets are stated for {BUDGET_TRACES:,} traces; this run used {r['traces']:,}.")
    lines.append(f"  overall: {_verdict(r['passed'])}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        result = CHILDREN[args.child](args.data, args.db)
        print(json.dumps(result))
        return 0
    if args.traces < 1 or args.repeat < 1:
        print("error: --traces and --repeat must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.workdir:
            for pattern in ("empty.db*", "redline-*.db*", "baseline-*.db*"):
                for old in args.workdir.glob(pattern):
                    old.unlink()
        result = in_workdir(args.workdir, "redline-bench-", lambda folder: measure(args, folder))
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return finish(result, report(result), args.out, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
