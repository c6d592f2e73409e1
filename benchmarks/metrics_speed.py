"""Metrics speed: every measure of the Compare page over N traces judged by three sources, and a page rerun.

Budget (for 100,000 traces): loading the judgments and computing every measure for one choice of A
and B (ProcessBench, first error, kinds, solution MCC, step kappa, Krippendorff's alpha among the
humans, bootstrap intervals, breakdowns, per-critic figures, disagreement table) takes at most 2 s;
a rerun of the Compare page (through Streamlit's AppTest, everything cached) at most 1 s.

The database is SQLite, filled directly through ``storage.queries`` (the import itself has its own
benchmark): every trace has 8 steps and judgments from ``reference``, ``model:critic`` and
``human:ann1`` (with step labels, as the Annotate page writes them); ``human:ann2`` judges a tenth of
the traces too, so the agreement among people is measured.

    python -m benchmarks.metrics_speed [--traces N] [--seed S] [--repeat R] [--check] [--workdir DIR]

Figures go to ``benchmarks/out/metrics_speed.json``. Exit status: 0 (a report); with ``--check``, 1 when a
budget is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import OUT

NAME = "metrics_speed"
DEFAULT_TRACES = 100_000
DEFAULT_SEED = 20_261_122
STEPS = 8
PROJECT = "benchmark"
BUDGET_MEASURES_S = 2.0
BUDGET_RERUN_S = 1.0
BUDGET_TRACES = 100_000
SECOND_HUMAN_SHARE = 0.1
A, B = "model:critic", "reference"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.metrics_speed", description=__doc__.splitlines()[0])
    p.add_argument("--traces", type=int, default=DEFAULT_TRACES)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--repeat", type=int, default=3, help="timed runs; the median counts (default 3)")
    p.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    p.add_argument("--workdir", type=Path, default=None, help="keep the database here (default: a temp dir)")
    p.add_argument("--out", type=Path, default=OUT / f"{NAME}.json")
    return p


def _human_steps(first_error: int, rng) -> list[dict[str, Any]]:
    stop = STEPS if first_error == -1 else first_error
    steps = [{"verdict": 1, "critique": None, "tags": []} for _ in range(stop)]
    if first_error != -1:
        steps.append({"verdict": -1, "critique": "the sum is wrong", "tags": [rng.choice(["arithmetic", "logic"])]})
    return steps


def build(url: str, traces: int, seed: int) -> None:
    """A project of ``traces`` traces and their judgments, written in bulk."""
    import numpy as np

    from annotation.ops.startup import prepare
    from storage import queries
    from storage.db import session
    from storage.tables import utcnow

    rng = np.random.default_rng(seed)
    reference = np.where(rng.random(traces) < 0.48, -1, rng.integers(0, STEPS, traces))

    def noisy(share_right: float) -> np.ndarray:
        other = np.where(rng.random(traces) < 0.4, -1, rng.integers(0, STEPS, traces))
        return np.where(rng.random(traces) < share_right, reference, other)

    model, ann1, ann2 = noisy(0.6), noisy(0.85), noisy(0.8)
    unparsed = rng.random(traces) < 0.02
    second = rng.random(traces) < SECOND_HUMAN_SHARE
    subsets = ("gsm8k", "math", "olympiadbench", "omnimath")
    generators = ("Qwen2-7B", "Llama-3.1-8B", "Qwen2.5-72B")
    engine = prepare(url)
    now = utcnow()
    with session(engine) as s, s.begin():
        project = queries.create_project(s, name=PROJECT)
        ids = queries.insert_traces(
            s,
            rows=[
                {
                    "project_id": project.id,
                    "position": i,
                    "content_key": f"{i:064d}",
                    "record_id": f"{subsets[i % 4]}-{i}",
                    "problem": f"Problem {i}",
                    "steps": [f"step {j} of {i}" for j in range(STEPS)],
                    "n_steps": STEPS,
                    "generator": generators[i % 3],
                    "meta": {"subset": subsets[i % 4]},
                    "created_at": now,
                }
                for i in range(traces)
            ],
        )
        base = {"critique": None, "finish_reason": None, "status": "submitted", "time_spent_s": None, "version": 1}
        rows = []
        for i, tid in enumerate(ids):
            ref = int(reference[i])
            rows.append({**base, "trace_id": tid, "source_kind": "reference", "source_name": "",
                         "first_error": ref, "steps": [], "solution_correct": ref == -1, "extra": {},
                         "created_at": now, "updated_at": now})  # fmt: skip
            pred = None if unparsed[i] else int(model[i])
            rows.append({**base, "trace_id": tid, "source_kind": "model", "source_name": "critic",
                         "first_error": pred, "steps": [], "solution_correct": None if pred is None else pred == -1,
                         "critique": "paragraph by paragraph ...", "extra": {"unparsed": True} if pred is None else {},
                         "created_at": now, "updated_at": now})  # fmt: skip
            for name, labels, present in (("ann1", ann1, True), ("ann2", ann2, bool(second[i]))):
                if present:
                    fe = int(labels[i])
                    rows.append({**base, "trace_id": tid, "source_kind": "human", "source_name": name,
                                 "first_error": fe, "steps": _human_steps(fe, rng.__class__(np.random.PCG64(i))),
                                 "solution_correct": fe == -1, "extra": {}, "time_spent_s": 30.0,
                                 "created_at": now, "updated_at": now})  # fmt: skip
        queries.insert_judgments(s, rows=rows)
    from annotation.accounts.users import create_user

    create_user(engine, username="bench-admin", password="bench-password-1", role="admin")
    engine.dispose()


def time_measures(url: str, repeat: int) -> dict[str, Any]:
    from annotation.metrics import compare, load_project
    from annotation.ops.startup import prepare

    engine = prepare(url)
    loads, measures, totals = [], [], []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        data = load_project(engine, PROJECT)
        loaded = time.perf_counter()
        result = compare(data, A, B, k=1, resamples=1000)
        done = time.perf_counter()
        loads.append(loaded - start)
        measures.append(done - loaded)
        totals.append(done - start)
    engine.dispose()
    figures = result.as_dict()
    return {
        "load_s": statistics.median(loads),
        "measures_s": statistics.median(measures),
        "load_and_measures_s": statistics.median(totals),
        "pairs": figures["n"],
        "judgments": len(data.judgments),
        "f1": figures["f1"],
        "alpha_first_error": figures["humans"]["alpha_first_error"],
        "disagreements": len(result.disagreements),
    }


def time_page(url: str, repeat: int) -> dict[str, Any]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from annotation.ops.startup import prepare
    from tests.utils.app_session import signed_in

    os.environ["DATABASE_URL"] = url
    st.cache_resource.clear()
    st.cache_data.clear()
    app = Path(__file__).resolve().parents[1] / "app.py"
    engine = prepare(url)
    at = signed_in(AppTest.from_file(str(app), default_timeout=300), engine, "bench-admin")
    engine.dispose()
    at.run()
    start = time.perf_counter()
    at.switch_page("pages/compare.py").run()
    first = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"the Compare page failed: {[e.value for e in at.exception]}")
    reruns = []
    for _ in range(repeat):
        start = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - start)
    shown = {m.label: m.value for m in at.metric}
    st.cache_resource.clear()
    st.cache_data.clear()
    return {
        "page_first_run_s": first,
        "page_rerun_s": statistics.median(reruns),
        "page_f1": shown.get("ProcessBench F1"),
    }


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(r: dict[str, Any]) -> str:
    c = r["checks"]
    lines = [
        f"metrics_speed: {r['traces']:,} traces x {STEPS} steps, {r['judgments']:,} judgments "
        f"(reference, model:critic, human:ann1; human:ann2 on {SECOND_HUMAN_SHARE:.0%}); median of {r['repeat']}",
        f"  {A} against {B}: {r['pairs']:,} pairs, F1 {r['f1']}, {r['disagreements']:,} disagreements",
        f"  load judgments (lean query)         {r['load_s']:.2f} s",
        f"  every measure (incl. bootstrap x1000) {r['measures_s']:.2f} s",
        f"  load + every measure                {r['load_and_measures_s']:.2f} s  "
        f"{_verdict(c['measures'])} (<= {BUDGET_MEASURES_S:g} s)",
        f"  Compare page, first run (AppTest)   {r['page_first_run_s']:.2f} s",
        f"  Compare page, rerun (AppTest)       {r['page_rerun_s']:.2f} s  "
        f"{_verdict(c['rerun'])} (<= {BUDGET_RERUN_S:g} s)",
    ]
    if r["traces"] != BUDGET_TRACES:
        lines.append(f"  note: the budgets are stated for {BUDGET_TRACES:,} traces; this run used {r['traces']:,}.")
    lines.append(f"  overall: {_verdict(r['passed'])}")
    return "\n".join(lines)


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    db = workdir / f"metrics-{args.traces}-{args.seed}.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        start = time.perf_counter()
        build(url, args.traces, args.seed)
        print(f"  built {db.name} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    result: dict[str, Any] = {"name": NAME, "traces": args.traces, "repeat": args.repeat}
    result |= time_measures(url, args.repeat)
    result |= time_page(url, args.repeat)
    result["checks"] = {
        "measures": result["load_and_measures_s"] <= BUDGET_MEASURES_S,
        "rerun": result["page_rerun_s"] <= BUDGET_RERUN_S,
    }
    result["passed"] = all(result["checks"].values())
    result["budgets"] = {"measures_s": BUDGET_MEASURES_S, "rerun_s": BUDGET_RERUN_S, "stated_for_traces": BUDGET_TRACES}
    return result


def main(argv: Sequence[str] | None = None) -> int:
    # `python -m benchmarks` passes every benchmark the same options; those meant for others are ignored.
    args, _ = _parser().parse_known_args(argv)
    if args.traces < 1 or args.repeat < 1:
        print("error: --traces and --repeat must be at least 1", file=sys.stderr)
        return 2
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = measure(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="redline-metrics-") as tmp:
            result = measure(args, Path(tmp))
    print(report(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"  figures written to {args.out}")
    return 1 if args.check and not result["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
