"""Server time of the Annotate page at 1,000, 10,000 and 100,000 traces (half of them judged).

`python -m benchmarks.annotate_speed [--sizes 1000,10000,100000] [--cycles N] [--check]`

For each size it builds a SQLite project of synthetic 8-step traces with one judgment on each of
the first half, then measures, as medians:

- pick: ``next_trace`` alone, the query that picks and reserves the next trace;
- cycle: one judging cycle through the real page in Streamlit's AppTest: submit, pick the next
  trace, render its Annotate page (AppTest's own overhead is included, so this is an upper bound);
- step click: a click on one step's verdict, which reruns that step's fragment only;
- 40 steps: a full render of the Annotate page for a trace of 40 steps.

Budgets (issue 3): cycle <= 100 ms at 100,000 and <= 1.5x the 1,000 figure; step click <= 30 ms;
pick <= 20 ms; 40 steps <= 100 ms. For comparison: Potato 2.12 spends 31 ms per cycle at 1,000
traces and 156 ms at 100,000; Label Studio 1.23 about 210 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import OUT, finish, in_workdir

NAME = "annotate_speed"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (1_000, 10_000, 100_000)
DEFAULT_CYCLES = 30
PROJECT = "annotate-benchmark"
USER = "bench"
ANNOTATORS = 20
BUDGETS_MS = {"cycle": 100.0, "step_click": 30.0, "pick": 20.0, "page_40_steps": 100.0}
BUDGET_GROWTH = 1.5
POTATO_MS = {1_000: 31.0, 100_000: 156.0}
CHUNK = 5_000


def build(url: str, traces: int, seed: int = 7) -> None:
    """A project of ``traces`` synthetic traces, the first half judged once each, and one 40-step trace."""
    from annotation.accounts.users import create_user
    from annotation.ops.startup import prepare
    from storage import queries, work
    from storage.db import session
    from storage.tables import utcnow

    rng = random.Random(seed)
    engine = prepare(url)
    create_user(engine, username=USER, password="benchmark-password", role="admin")
    now = utcnow()
    with session(engine) as s:
        project = queries.create_project(s, name=PROJECT, taxonomy=["calculation", "logic", "misread"])
        judged = traces // 2
        for start in range(0, traces, CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, traces)):
                # The first trace after the judged half has 40 steps: the first one served.
                n = 40 if i == judged else 8
                rows.append(
                    {
                        "project_id": project.id,
                        "position": i,
                        "content_key": f"{i:064x}",
                        "record_id": f"bench-{i}",
                        "source_file": "synthetic",
                        "problem": f"Problem {i}: what is {rng.randint(2, 99)} times {rng.randint(2, 99)}? " * 3,
                        "steps": [
                            f"Step {k + 1} of trace {i}: we compute $x_{k} = {k} + {i}$ and go on." for k in range(n)
                        ],
                        "n_steps": n,
                        "answer": str(i),
                        "generator": "synthetic",
                        "meta": {"subset": "bench"},
                        "qc": False,
                        "priority": 0.0,
                        "complete": False,
                        "created_at": now,
                    }
                )
            ids = queries.insert_traces(s, rows=rows)
            judgments = [
                {
                    "trace_id": trace_id,
                    "source_kind": "human",
                    "source_name": f"annotator{position % ANNOTATORS}",
                    "first_error": -1,
                    "steps": [{"verdict": 1, "critique": None, "tags": []}] * 8,
                    "critique": None,
                    "solution_correct": True,
                    "finish_reason": "solution",
                    "status": "submitted",
                    "time_spent_s": 30.0,
                    "extra": {},
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for trace_id, position in zip(ids, range(start, start + len(ids)), strict=True)
                if position < judged
            ]
            queries.insert_judgments(s, rows=judgments)
        work.refresh_completion(s, project_id=project.id, needed=1)
        s.commit()
    engine.dispose()


def median_ms(samples: Sequence[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


class _FragmentRuns:
    """Make AppTest rerun one fragment, as the browser asks the server to when a widget in it changes.

    AppTest always reruns the whole script; the server reruns only the fragment. This patches the
    RerunData that AppTest's runner builds so the next run is scoped to ``fragment_id``.
    """

    def __init__(self) -> None:
        from dataclasses import replace

        from streamlit.testing.v1 import local_script_runner

        self.module = local_script_runner
        self.original = local_script_runner.RerunData
        self.fragment_id: str | None = None
        outer = self

        def rerun_data(**kwargs: Any) -> Any:
            data = outer.original(**kwargs)
            if outer.fragment_id is None:
                return data
            return replace(data, fragment_id_queue=[outer.fragment_id], is_fragment_scoped_rerun=True)

        local_script_runner.RerunData = rerun_data

    def close(self) -> None:
        self.module.RerunData = self.original


@contextmanager
def _shared_script_cache() -> Iterator[None]:
    """Compile each page once, as the server does; AppTest would compile them again on every run."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test

    original, shared = app_test.ScriptCache, ScriptCache()
    app_test.ScriptCache = lambda: shared
    try:
        yield
    finally:
        app_test.ScriptCache = original


def measure(url: str, cycles: int) -> dict[str, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from annotation.ops.startup import prepare
    from annotation.workflow.queue import next_trace
    from annotation.workflow.workbench import project_rules
    from tests.utils.app_session import signed_in

    os.environ["DATABASE_URL"] = url
    st.cache_resource.clear()
    engine = prepare(url)
    rules = project_rules(engine, PROJECT)

    at = signed_in(AppTest.from_file(str(REPO / "app.py"), default_timeout=60), engine, USER)
    at.run()
    at.switch_page("pages/annotate.py").run()
    assert not at.exception, [e.value for e in at.exception]

    # The first trace served is the 40-step one: time full renders of it.
    assert len(at.get("button_group")) >= 40, "the 40-step trace should be served first"
    page_40 = [timed(at.run) for _ in range(max(5, cycles // 3))]

    def trace_id() -> str:
        return at.query_params["trace"][0] if isinstance(at.query_params["trace"], list) else at.query_params["trace"]

    step_clicks, cycle_times = [], []
    fragments = _FragmentRuns()
    try:
        for n in range(cycles):
            tid = trace_id()
            key = f"annotate_verdict_{tid}_1"
            # The second step's fragment: registered second on the page.
            fragments.fragment_id = list(at._fragment_storage._fragments)[1]
            step_clicks.append(timed(lambda key=key: at.button_group(key=key).set_value("○ Neutral").run()))
            drawn = [w.key for w in at.get("button_group")]
            assert drawn == [key], f"the fragment run should draw step 2 only, drew {drawn}"
            fragments.fragment_id = None
            at.run()  # AppTest keeps only what the last run drew; draw the whole page again
            at.button(key="annotate_all_correct").click().run()
            before = tid
            cycle_times.append(timed(lambda: at.button(key="annotate_submit").click().run()))
            assert trace_id() != before, f"cycle {n}: the page did not move on: {[e.value for e in at.warning]}"
            assert not at.exception, [e.value for e in at.exception]
    finally:
        fragments.close()
    picks = [timed(lambda n=n: next_trace(engine, rules, username=f"picker{n}")) for n in range(cycles)]
    engine.dispose()
    return {
        "pick": median_ms(picks),
        "cycle": median_ms(cycle_times),
        "step_click": median_ms(step_clicks),
        "page_40_steps": median_ms(page_40),
    }


def run_size(traces: int, cycles: int, workdir: Path) -> dict[str, Any]:
    db = workdir / f"annotate-{traces}.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    start = time.perf_counter()
    build(url, traces)
    built = time.perf_counter() - start
    with _shared_script_cache():
        figures = measure(url, cycles)
    return {"traces": traces, "judgments": traces // 2, "build_s": round(built, 1), **figures}


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    problems = []
    for r in results:
        for name, budget in BUDGETS_MS.items():
            if r[name] > budget:
                problems.append(f"{r['traces']} traces: {name} {r[name]} ms > {budget} ms")
    smallest, largest = results[0], results[-1]
    if largest["traces"] > smallest["traces"] and largest["cycle"] > BUDGET_GROWTH * max(smallest["cycle"], 1.0):
        problems.append(
            f"cycle grows {largest['cycle'] / smallest['cycle']:.2f}x from {smallest['traces']} "
            f"to {largest['traces']} traces (budget {BUDGET_GROWTH}x)"
        )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.annotate_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--cycles", type=int, default=DEFAULT_CYCLES)
    parser.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT / f"{NAME}.json")
    args, _ = parser.parse_known_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"{NAME}: median server time in ms ({args.cycles} cycles per size)")
    print(f"{'traces':>8} {'judged':>8} {'pick':>7} {'cycle':>7} {'step':>7} {'40 steps':>9}  potato cycle")

    def every_size(folder: Path) -> list[dict[str, Any]]:
        results = []
        for size in sizes:
            r = run_size(size, args.cycles, folder)
            results.append(r)
            potato = POTATO_MS.get(size)
            print(
                f"{r['traces']:>8} {r['judgments']:>8} {r['pick']:>7} {r['cycle']:>7} {r['step_click']:>7} "
                f"{r['page_40_steps']:>9}  {potato if potato else '-'}",
                flush=True,
            )
        return results

    # A temporary folder unless one is named: the 100,000-trace database is hundreds of MB.
    results = in_workdir(args.workdir, "redline-annotate-bench-", every_size)
    problems = verdicts(results)
    lines = [f"  over budget: {p}" for p in problems] or ["  every figure within budget"]
    figures = {"results": results, "budgets_ms": BUDGETS_MS, "problems": problems, "passed": not problems}
    return finish(figures, "\n".join(lines), args.out, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
