"""Critic speed: N critiques through litellm against a local OpenAI-compatible stub that answers after 1 s.

Budgets: 1,000 critiques at concurrency 64 take at most 1.2 times the ideal (N / concurrency x delay, about
15.6 s); the client's own CPU time per critique is reported (aim: 5 ms or less; litellm's overhead is most
of it); the app's cold start (``streamlit run server.py`` on a fresh SQLite database, until /_stcore/health is
ok and GET / is served) takes at most 3 s.

The stub runs in a process of its own, so the CPU time measured here (``time.process_time`` around
``run_critic``: prompts, HTTP through litellm, parsing, and writing the judgments to SQLite) is the
client's alone.

    python -m benchmarks.critic_speed [--critiques N] [--concurrency C] [--delay S] [--check] [--out PATH]

Other benchmarks' options (``--traces`` ...) are accepted and ignored, so ``python -m benchmarks`` can pass
the same options to all. Exit status: 0 (a report); with ``--check``, 1 when a budget is missed; 2 when
the benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import OUT

NAME = "critic_speed"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_CRITIQUES = 1_000
DEFAULT_CONCURRENCY = 64
DEFAULT_DELAY_S = 1.0
BUDGET_RATIO = 1.2
AIM_CPU_MS = 5.0
BUDGET_COLD_START_S = 3.0
START_TIMEOUT_S = 60.0


def _start_stub(delay_s: float) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "tests.utils.openai_stub", "--delay", str(delay_s), "--answer", "Fine. \\boxed{-1}"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline().strip())
    return proc, f"http://127.0.0.1:{port}/v1"


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def measure_critiques(work: Path, critiques: int, concurrency: int, delay_s: float) -> dict[str, Any]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import annotation.critics.calling  # noqa: F401  (litellm's import is not part of the run)
    from annotation.critics.config import CriticConfig, save_critic
    from annotation.critics.runs import run_critic
    from annotation.ops.startup import prepare
    from tests.utils.critic_data import make_project
    from tests.utils.openai_stub import STUB_KEY, STUB_MODEL

    engine = prepare(f"sqlite:///{work / 'critics.db'}")
    make_project(engine, "bench", critiques)
    stub, api_base = _start_stub(delay_s)
    try:
        config = save_critic(engine, CriticConfig(name="bench", model=STUB_MODEL, api_base=api_base, retries=0))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = run_critic(engine, config, "bench", concurrency=concurrency, api_key=STUB_KEY)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    finally:
        _stop(stub)
        engine.dispose()
    ideal = critiques / concurrency * delay_s
    return {
        "critiques": critiques,
        "concurrency": concurrency,
        "delay_s": delay_s,
        "status": result.status,
        "done": result.done,
        "failed": result.failed,
        "wall_s": wall,
        "ideal_s": ideal,
        "ratio": wall / ideal,
        "cpu_s": cpu,
        "cpu_ms_per_critique": cpu / critiques * 1000,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def measure_cold_start(work: Path) -> dict[str, Any]:
    """Process start to /_stcore/health ok and GET / served, on a fresh SQLite database."""
    port = _free_port()
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{work / 'cold.db'}",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    from tests.utils.processes import server_command

    cmd = server_command(port)
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        health = page = None
        while time.perf_counter() - start < START_TIMEOUT_S and page is None:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with {proc.returncode}")
            if health is None and _ok(f"{url}/_stcore/health"):
                health = time.perf_counter() - start
            if health is not None and _ok(f"{url}/"):
                page = time.perf_counter() - start
            else:
                time.sleep(0.02)
        if page is None:
            raise RuntimeError(f"the app did not serve within {START_TIMEOUT_S:g} s")
    finally:
        _stop(proc)
    return {"health_s": health, "first_page_s": page}


def litellm_at_page_load() -> bool:
    """Whether importing what the pages import at load time imports litellm (it must not)."""
    code = (
        "import sys, annotation.critics.config, annotation.critics.runs, annotation.critics.templates, "
        "annotation.critics.family, annotation.critics.parsing, annotation.workflow.checking, annotation.cli.critique; "
        "print('litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.critic_speed", description=__doc__.split("\n")[0])
    p.add_argument("--critiques", type=int, default=DEFAULT_CRITIQUES)
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    p.add_argument("--delay", type=float, default=DEFAULT_DELAY_S, help="the stub's answer delay in seconds")
    p.add_argument("--no-cold-start", action="store_true", help="skip the app cold-start measurement")
    p.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    p.add_argument("--out", type=Path, default=OUT / f"{NAME}.json")
    return p


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(r: dict[str, Any]) -> str:
    c, run = r["checks"], r["run"]
    lines = [
        f"critic_speed ({run['critiques']:,} critiques, concurrency {run['concurrency']}, "
        f"stub delay {run['delay_s']:g} s)",
        f"  wall time             {run['wall_s']:.2f} s (ideal {run['ideal_s']:.2f} s, ratio {run['ratio']:.3f})  "
        f"{_verdict(c['ratio'])} (<= {BUDGET_RATIO:g}x)",
        f"  client CPU/critique   {run['cpu_ms_per_critique']:.2f} ms  "
        f"{'within' if run['cpu_ms_per_critique'] <= AIM_CPU_MS else 'above'} the {AIM_CPU_MS:g} ms aim",
        f"  results               {run['done']} stored, {run['failed']} failed, status {run['status']}",
    ]
    if r.get("cold_start"):
        cs = r["cold_start"]
        lines.append(
            f"  app cold start        {cs['first_page_s']:.2f} s to first page (health {cs['health_s']:.2f} s)  "
            f"{_verdict(c['cold_start'])} (<= {BUDGET_COLD_START_S:g} s)"
        )
    lines.append(
        f"  litellm at page load  {'YES' if r['litellm_at_page_load'] else 'no'}  {_verdict(c['lazy_litellm'])}"
    )
    lines.append(f"  overall: {_verdict(r['passed'])}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args, _ignored = _parser().parse_known_args(argv)
    if args.critiques < 1 or args.concurrency < 1 or args.delay < 0:
        print("error: --critiques and --concurrency must be at least 1, --delay not negative", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="redline-critic-bench-") as tmp:
            run = measure_critiques(Path(tmp), args.critiques, args.concurrency, args.delay)
            cold = None if args.no_cold_start else measure_cold_start(Path(tmp))
        lazy = litellm_at_page_load()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    checks = {
        "ratio": run["ratio"] <= BUDGET_RATIO and run["done"] == args.critiques and run["failed"] == 0,
        "lazy_litellm": not lazy,
    }
    if cold is not None:
        checks["cold_start"] = cold["first_page_s"] <= BUDGET_COLD_START_S
    result = {
        "benchmark": NAME,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": run,
        "cold_start": cold,
        "litellm_at_page_load": lazy,
        "budgets": {"ratio": BUDGET_RATIO, "cpu_ms_aim": AIM_CPU_MS, "cold_start_s": BUDGET_COLD_START_S},
        "checks": checks,
        "passed": all(checks.values()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    print(report(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"  figures written to {args.out}")
    return 1 if args.check and not result["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
