"""Agent traces: importing many trajectories, and opening a long one on the Annotate page.

Budgets (on the 2-core machine):

* import: 10,000 OpenAI-message trajectories of 40 messages each (a system prompt, the task, then assistant
  turns that call a tool, its results, and text turns) at least 5,000 messages a second, from reading the
  JSONL file to the committed write (``annotation.importing.files.import_file`` into a fresh SQLite file,
  grouped by turn);
* Annotate: the page opening a 300-message trajectory (grouped by turn: 150 steps of tool calls and results)
  takes at most 300 ms of server time: the Streamlit script run that serves it (sidebar, queue, the trace's
  markup, the surface's data), timed through AppTest in a fresh session. "cold" is the first time the trace
  is ever rendered (the markup cache emptied); "warm" opens it again in a new session.

    python -m benchmarks.agent_traces [--trajectories N] [--messages M] [--long 300] [--repeat R] [--check]

Figures go to ``benchmarks/out/agent_traces.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import OUT, finish, in_workdir

NAME = "agent_traces"
BUDGET_MESSAGES_PER_S = 5_000.0
BUDGET_OPEN_S = 0.300
DEFAULT_TRAJECTORIES = 10_000
DEFAULT_MESSAGES = 40
DEFAULT_LONG = 300
TOOLS = ("get_user_details", "search_flights", "get_reservation", "update_baggage", "cancel_reservation")


def trajectory(rng: random.Random, i: int, messages: int) -> dict[str, Any]:
    out: list[dict[str, Any]] = [
        {"role": "system", "content": "You are an airline agent. Follow the policy. " * 20},
        {"role": "user", "content": f"Hi, I need to change reservation R{i:05d}; my id is user_{i}."},
    ]
    k = 0
    while len(out) < messages:
        k += 1
        if len(out) + 2 <= messages and rng.random() < 0.7:
            tool = rng.choice(TOOLS)
            call_id = f"call_{i}_{k}"
            args = json.dumps({"user_id": f"user_{i}", "reservation_id": f"R{i:05d}", "n": k})
            out.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": call_id, "type": "function", "function": {"name": tool, "arguments": args}}],
                }
            )
            result = json.dumps({"status": "ok", "items": [rng.randint(0, 999) for _ in range(rng.randint(3, 30))]})
            out.append({"role": "tool", "tool_call_id": call_id, "name": tool, "content": result})
        else:
            out.append({"role": "assistant", "content": f"Step {k}: I checked the booking; the fare is {k * 7} USD."})
    return {"task_id": i, "trial": 0, "reward": float(rng.random() < 0.5), "messages": out[:messages]}


def generate(path: Path, n: int, messages: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(trajectory(rng, i, messages)) + "\n")


def time_import(workdir: Path, n: int, messages: int, seed: int) -> dict[str, Any]:
    from annotation.importing.files import import_file
    from annotation.ops.startup import prepare

    data = workdir / f"trajectories-{n}x{messages}-{seed}.jsonl"
    if not data.exists():
        generate(data, n, messages, seed)
    db = workdir / "import.db"
    db.unlink(missing_ok=True)
    engine = prepare(f"sqlite:///{db}")
    start = time.perf_counter()
    summary = import_file(engine, data, project="agents")
    elapsed = time.perf_counter() - start
    engine.dispose()
    return {
        "import_s": elapsed,
        "import_traces": summary.traces_added,
        "import_steps": summary.steps_added,
        "messages_per_s": n * messages / elapsed,
        "file_mb": data.stat().st_size / 1e6,
    }


def time_open(workdir: Path, long: int, repeat: int) -> dict[str, Any]:
    import streamlit as st
    from sqlmodel import select
    from streamlit.testing.v1 import AppTest

    from annotation.accounts.users import create_user
    from annotation.importing.files import import_file
    from annotation.ops.startup import prepare
    from annotation.rendering.markup import to_html
    from storage.db import session
    from storage.tables import TraceRow
    from tests.utils.app_session import signed_in

    db = workdir / "annotate.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    os.environ["DATABASE_URL"] = url
    engine = prepare(url)
    create_user(engine, username="bench-admin", password="bench-password-1", role="admin")
    rng = random.Random(7)
    path = workdir / "long.jsonl"
    path.write_text("".join(json.dumps(trajectory(rng, i, long)) + "\n" for i in range(repeat + 2)), encoding="utf-8")
    summary = import_file(engine, path, project="long")
    app = Path(__file__).resolve().parents[1] / "app.py"

    def open_once(trace_number: int) -> tuple[float, int]:
        st.cache_resource.clear()
        st.cache_data.clear()
        at = signed_in(AppTest.from_file(str(app), default_timeout=300), engine, "bench-admin")
        at.query_params["project"] = "long"
        at.query_params["trace"] = str(trace_number)
        at.run()
        start = time.perf_counter()
        at.switch_page("pages/annotate.py").run()
        elapsed = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(f"the Annotate page failed: {[e.value for e in at.exception]}")
        steps = json.loads(next(e.proto.json for e in at.get("bidi_component") if "annotate_judge" in e.proto.id))
        return elapsed, len(steps["trace"]["steps"])

    with session(engine) as s:
        ids = list(s.exec(select(TraceRow.id).order_by(TraceRow.position)).all())
    cold, warm = [], []
    steps = 0
    for k in range(repeat):
        to_html.cache_clear()
        took, steps = open_once(ids[k])
        cold.append(took)
        took, _ = open_once(ids[k])
        warm.append(took)
    engine.dispose()
    return {
        "long_messages": long,
        "long_steps": steps,
        "long_traces_imported": summary.traces_added,
        "open_cold_s": statistics.median(cold),
        "open_warm_s": statistics.median(warm),
        "open_cold_max_s": max(cold),
    }


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"name": NAME, "trajectories": args.trajectories, "messages": args.messages}
    result |= time_import(workdir, args.trajectories, args.messages, args.seed)
    result |= time_open(workdir, args.long, args.repeat)
    result["checks"] = {
        "import": result["messages_per_s"] >= BUDGET_MESSAGES_PER_S,
        "open": result["open_cold_s"] <= BUDGET_OPEN_S,
    }
    result["passed"] = all(result["checks"].values())
    result["budgets"] = {"messages_per_s": BUDGET_MESSAGES_PER_S, "open_s": BUDGET_OPEN_S}
    return result


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(r: dict[str, Any]) -> str:
    c = r["checks"]
    return "\n".join(
        [
            f"agent_traces: {r['trajectories']:,} trajectories x {r['messages']} messages "
            f"({r['file_mb']:.0f} MB of JSONL, {r['import_steps']:,} steps by turn)",
            f"  import                      {r['import_s']:.1f} s = {r['messages_per_s']:,.0f} messages/s  "
            f"{_verdict(c['import'])} (>= {BUDGET_MESSAGES_PER_S:,.0f})",
            f"  Annotate, {r['long_messages']}-message trajectory ({r['long_steps']} steps), server time:",
            f"    first render (cold)       {r['open_cold_s'] * 1000:.0f} ms (max {r['open_cold_max_s'] * 1000:.0f})  "
            f"{_verdict(c['open'])} (<= {BUDGET_OPEN_S * 1000:.0f} ms)",
            f"    opened again (warm)       {r['open_warm_s'] * 1000:.0f} ms",
            f"  overall: {_verdict(r['passed'])}",
        ]
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.agent_traces", description=__doc__.split("\n")[0])
    p.add_argument("--trajectories", type=int, default=DEFAULT_TRAJECTORIES)
    p.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    p.add_argument("--long", type=int, default=DEFAULT_LONG, help="messages in the trajectory opened on Annotate")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--seed", type=int, default=20_261_130)
    p.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=OUT / f"{NAME}.json")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # `python -m benchmarks` passes every benchmark the same options; those meant for others are ignored.
    args, _ = _parser().parse_known_args(argv)
    if min(args.trajectories, args.messages, args.long, args.repeat) < 1:
        print("error: --trajectories, --messages, --long and --repeat must be at least 1", file=sys.stderr)
        return 2
    result = in_workdir(args.workdir, "redline-agents-", lambda folder: measure(args, folder))
    return finish(result, report(result), args.out, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
