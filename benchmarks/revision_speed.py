"""Revision speed: N revisions through litellm against a local OpenAI-compatible stub that answers after 1 s.

Budgets: 1,000 revisions at concurrency 64 take at most 1.2 times the ideal (N / concurrency x delay, about
16 s), and at most 6 ms of client CPU each, grading included. The stub runs in a process of its own and answers
as planned per problem, each right: a third plain integers, a third LaTeX fractions (``\\frac{8k}{2}`` for the
reference ``4k``; both settled without math-verify, as plain numbers), and a third LaTeX expressions
(``2^{2} \\cdot k``), which only math-verify can grade, in its worker process. The CPU measured is this
process's (``time.process_time`` around ``run_revision``: prompts, HTTP through litellm, grading, writing the
results to SQLite) plus the math-verify worker's on the run's answers, as it reports it. What a server process
pays once, whatever its runs (litellm's first call, the math-verify worker's start), happens before the clock
and is reported beside the figure.

    python -m benchmarks.revision_speed [--revisions N] [--concurrency C] [--delay S] [--check] [--out PATH]

Other benchmarks' options are accepted and ignored, so ``python -m benchmarks`` can pass the same options to all.
Exit status: 0 (a report); with ``--check``, 1 when a budget is missed; 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import OUT, finish
from benchmarks.critic_speed import REPO, _stop

NAME = "revision_speed"
DEFAULT_REVISIONS = 1_000
DEFAULT_CONCURRENCY = 64
DEFAULT_DELAY_S = 1.0
BUDGET_RATIO = 1.2
BUDGET_CPU_MS = 6.0


def _plan(revisions: int) -> dict[str, str]:
    from tests.utils.critic_data import make_trace

    plan = {}
    for i in range(revisions):
        answer = [f"{4 * i}", f"\\frac{{{8 * i}}}{{2}}", f"2^{{2}} \\cdot {i}"][i % 3]
        plan[make_trace(i).problem] = f"{i} + {i} = {2 * i}, doubled {4 * i}.\nFinal answer: \\boxed{{{answer}}}"
    return plan


def _start_stub(delay_s: float, plan_file: Path) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "tests.utils.openai_stub", "--delay", str(delay_s), "--plan", str(plan_file)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline().strip())
    return proc, f"http://127.0.0.1:{port}/v1"


def _warm_up(api_base: str, model: str, key: str) -> float:
    """One call through litellm before the clock starts; returns its CPU seconds. litellm loads the openai client
    and builds its pydantic models on the first call of a process (about 3 s of CPU here): a cost paid once per
    server process, not per revision, so it is reported beside the figure rather than spread over it."""
    import asyncio

    import litellm

    cpu0 = time.process_time()
    messages = [{"role": "user", "content": "warm up"}]
    asyncio.run(litellm.acompletion(model=model, api_base=api_base, api_key=key, messages=messages))
    return time.process_time() - cpu0


def _litellm_alone(api_base: str, model: str, key: str, messages: list[list[dict]], concurrency: int) -> float:
    """CPU milliseconds per call of bare ``litellm.acompletion`` (no Redline code) on the same prompts, stub and
    concurrency: the floor under the revision figure that only litellm can lower."""
    import asyncio

    import litellm

    async def calls() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(m: list[dict]) -> None:
            async with gate:
                await litellm.acompletion(model=model, api_base=api_base, api_key=key, messages=m, max_retries=0)

        await asyncio.gather(*(one(m) for m in messages))

    cpu0 = time.process_time()
    asyncio.run(calls())
    return (time.process_time() - cpu0) / len(messages) * 1000


def measure(work: Path, revisions: int, concurrency: int, delay_s: float) -> dict[str, Any]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import annotation.critics.calling  # noqa: F401  (litellm's import is not part of the run)
    from annotation.critics.config import CriticConfig, save_critic
    from annotation.ops.startup import prepare
    from annotation.revision.grading import MathVerifyGrader, shared_worker
    from annotation.revision.runs import RevisionPlan, run_revision
    from tests.utils.critic_data import make_project
    from tests.utils.openai_stub import STUB_KEY, STUB_MODEL

    engine = prepare(f"sqlite:///{work / 'revisions.db'}")
    make_project(engine, "bench", revisions)
    plan_file = work / "plan.json"
    plan_file.write_text(json.dumps(_plan(revisions)), encoding="utf-8")
    stub, api_base = _start_stub(delay_s, plan_file)
    grader = MathVerifyGrader()
    try:
        # The server's math-verify worker, started once per process (importing sympy) and kept: started before the
        # clock, as litellm's first call is, and reported beside the figure (0 when it already ran here).
        worker_start_cpu = shared_worker().verify_counted([("\\frac{1}{2}", "0.5")])[1]
        reviser = save_critic(engine, CriticConfig(name="bench", model=STUB_MODEL, api_base=api_base, retries=0))
        revision = RevisionPlan(project="bench", critiques="reference", reviser=reviser)
        warm_cpu = _warm_up(api_base, STUB_MODEL, STUB_KEY)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = run_revision(engine, revision, concurrency=concurrency, api_key=STUB_KEY, grader=grader)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        worker_cpu = grader.cpu_s
        right = _graded_right(engine)
        alone_ms = _litellm_alone(api_base, STUB_MODEL, STUB_KEY, _prompts(engine, 4 * concurrency), concurrency)
    finally:
        grader.close()
        _stop(stub)
        engine.dispose()
    ideal = revisions / concurrency * delay_s
    return {
        "revisions": revisions,
        "concurrency": concurrency,
        "delay_s": delay_s,
        "status": result.status,
        "done": result.done,
        "failed": result.failed,
        "graded_right": right,
        "wall_s": wall,
        "ideal_s": ideal,
        "ratio": wall / ideal,
        "cpu_s": cpu,
        "warm_up_cpu_s": warm_cpu,
        "worker_start_cpu_s": worker_start_cpu,
        "worker_cpu_s": worker_cpu,
        "cpu_ms_per_revision": (cpu + worker_cpu) / revisions * 1000,
        "worker_cpu_ms_per_revision": worker_cpu / revisions * 1000,
        "litellm_alone_cpu_ms_per_call": alone_ms,
    }


def _prompts(engine: Any, n: int) -> list[list[dict]]:
    """The messages of the first ``n`` revisions, as they were sent."""
    from annotation.revision.store import select_items

    _, items, _ = select_items(engine, "bench", "reference", "full", "", n)
    return [i.messages for i in items]


def _graded_right(engine: Any) -> int:
    """Every planned answer is right: the revisions graded so (math-verify's among them)."""
    from sqlmodel import func, select

    from storage.db import session
    from storage.tables import RevisionResult

    with session(engine) as s:
        return s.exec(select(func.count()).where(RevisionResult.revised_correct.is_(True))).one()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.revision_speed", description=__doc__.split("\n")[0])
    p.add_argument("--revisions", type=int, default=DEFAULT_REVISIONS)
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    p.add_argument("--delay", type=float, default=DEFAULT_DELAY_S, help="the stub's answer delay in seconds")
    p.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    p.add_argument("--out", type=Path, default=OUT / f"{NAME}.json")
    return p


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(r: dict[str, Any]) -> str:
    c, run = r["checks"], r["run"]
    return "\n".join(
        [
            f"revision_speed ({run['revisions']:,} revisions, concurrency {run['concurrency']}, "
            f"stub delay {run['delay_s']:g} s)",
            f"  wall time             {run['wall_s']:.2f} s (ideal {run['ideal_s']:.2f} s, ratio {run['ratio']:.3f})  "
            f"{_verdict(c['ratio'])} (<= {BUDGET_RATIO:g}x)",
            f"  client CPU/revision   {run['cpu_ms_per_revision']:.2f} ms (of which math-verify's worker "
            f"{run['worker_cpu_ms_per_revision']:.2f} ms)  {_verdict(c['cpu'])} (<= {BUDGET_CPU_MS:g} ms)",
            f"  litellm alone         {run['litellm_alone_cpu_ms_per_call']:.2f} ms of CPU per call (bare "
            "acompletion, same prompts, stub and concurrency): the floor under the figure above",
            f"  litellm's first call  {run.get('warm_up_cpu_s', 0) * 1000:.0f} ms of CPU, once a process (not counted)",
            f"  math-verify's start   {run.get('worker_start_cpu_s', 0) * 1000:.0f} ms of CPU, once a process "
            "(not counted)",
            f"  results               {run['done']} stored, {run['failed']} failed, "
            f"{run['graded_right']} graded right, status {run['status']}",
            f"  overall: {_verdict(r['passed'])}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args, _ignored = _parser().parse_known_args(argv)
    if args.revisions < 1 or args.concurrency < 1 or args.delay < 0:
        print("error: --revisions and --concurrency must be at least 1, --delay not negative", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="redline-revision-bench-") as tmp:
            run = measure(Path(tmp), args.revisions, args.concurrency, args.delay)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    checks = {
        "ratio": run["ratio"] <= BUDGET_RATIO and run["done"] == args.revisions and run["failed"] == 0,
        "graded": run["graded_right"] == args.revisions,
        "cpu": run["cpu_ms_per_revision"] <= BUDGET_CPU_MS,
    }
    result = {
        "benchmark": NAME,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": run,
        "budgets": {"ratio": BUDGET_RATIO, "cpu_ms": BUDGET_CPU_MS},
        "checks": checks,
        "passed": all(checks.values()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    return finish(result, report(result), args.out, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
