"""Span measures: exact and overlap agreement per error type, character-level alpha among two annotators; and
the Annotate page of a trace with 200 spans.

Budgets: over 100,000 traces with 5 spans each from two annotators (every trace judged by both, so alpha
counts every trace), loading and measuring takes at most 3 s (``annotation.metrics.span_report``); the
Annotate page opening a trace whose draft holds 200 spans takes at most 150 ms of server time (the
Streamlit script run that serves it, through AppTest in a fresh session, median of ``--repeat``).

The SQLite database is filled directly through ``storage.queries``: 4 steps of about 60 characters per
trace; annotator B keeps most of A's spans, shortens some, retypes some and adds one now and then.

    python -m benchmarks.span_measures [--traces N] [--seed S] [--repeat R] [--check] [--workdir DIR]

Figures go to ``benchmarks/out/span_measures.json``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import OUT, finish, in_workdir

NAME = "span_measures"
BUDGET_S = 3.0
BUDGET_PAGE_S = 0.150
PAGE_SPANS = 200
BUDGET_TRACES = 100_000
STEPS = 4
SPANS = 5
TYPES = ("Irrelevant", "Wrong-Grounding", "Unverifiable", "Redundant", "Incoherent")


def build(url: str, traces: int, seed: int) -> None:
    from annotation.ops.startup import prepare
    from storage import queries
    from storage.db import session
    from storage.tables import utcnow

    rng = random.Random(seed)
    engine = prepare(url)
    now = utcnow()
    step_text = "The album was released in August 2018 through EMI Records. "
    with session(engine) as s, s.begin():
        project = queries.create_project(s, name="spans")
        ids = queries.insert_traces(
            s,
            rows=[
                {
                    "project_id": project.id,
                    "position": i,
                    "content_key": f"{i:064d}",
                    "problem": f"Question {i}",
                    "steps": [step_text] * STEPS,
                    "n_steps": STEPS,
                    "meta": {},
                    "created_at": now,
                }
                for i in range(traces)
            ],
        )
        base = {"critique": None, "finish_reason": None, "status": "submitted", "time_spent_s": None, "version": 1}
        rows = []
        for tid in ids:
            a = []
            for _ in range(SPANS):
                start = rng.randrange(0, len(step_text) - 10)
                a.append(
                    {"step": rng.randrange(STEPS), "part": 0, "field": "text", "start": start,
                     "end": start + rng.randrange(3, 10), "type": rng.choice(TYPES), "note": ""}
                )  # fmt: skip
            b = []
            for span in a:
                roll = rng.random()
                if roll < 0.15:
                    b.append(span | {"end": span["end"] - 1})
                elif roll < 0.25:
                    b.append(span | {"type": rng.choice(TYPES)})
                else:
                    b.append(dict(span))
            for name, spans in (("a", a), ("b", b)):
                rows.append(
                    base
                    | {"trace_id": tid, "source_kind": "human", "source_name": name,
                       "first_error": min(x["step"] for x in spans),
                       "steps": [], "extra": {}, "spans": spans, "missing": [], "corrected_answer": None,
                       "solution_correct": False, "created_at": now, "updated_at": now}
                )  # fmt: skip
        queries.insert_judgments(s, rows=rows)
    engine.dispose()


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from annotation.metrics.span_report import span_report
    from annotation.ops.startup import prepare

    db = workdir / f"spans-{args.traces}-{args.seed}.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        start = time.perf_counter()
        build(url, args.traces, args.seed)
        print(f"  built {db.name} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    engine = prepare(url)
    times, report = [], None
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = span_report(engine, "spans", "human:a", "human:b")
        times.append(time.perf_counter() - start)
    engine.dispose()
    assert report is not None
    result: dict[str, Any] = {
        "name": NAME,
        "traces": args.traces,
        "repeat": args.repeat,
        "seconds": statistics.median(times),
        "exact_f1": report.agreement.exact.f1,
        "overlap_f1": report.agreement.overlap.f1,
        "char_alpha": report.alpha,
        "alpha_traces": report.alpha_traces,
    }
    result["page_s"] = time_page(workdir, args.repeat)
    result["checks"] = {"measures": result["seconds"] <= BUDGET_S, "page": result["page_s"] <= BUDGET_PAGE_S}
    result["passed"] = all(result["checks"].values())
    result["budgets"] = {"seconds": BUDGET_S, "page_s": BUDGET_PAGE_S, "stated_for_traces": BUDGET_TRACES}
    return result


def time_page(workdir: Path, repeat: int) -> float:
    """Server time of the Annotate page opening a trace whose draft holds PAGE_SPANS spans."""
    import json
    import os

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from annotation.accounts.users import create_user
    from annotation.importing.files import import_file
    from annotation.ops.startup import prepare
    from annotation.workflow.labelling import WorkingCopy
    from annotation.workflow.workbench import open_trace, project_rules, save_draft
    from storage.db import session
    from tests.utils.app_session import signed_in

    db = workdir / "page.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    os.environ["DATABASE_URL"] = url
    engine = prepare(url)
    create_user(engine, username="bench-admin", password="bench-password-1", role="admin")
    sentence = "The album was released in August 2018 through EMI Records and sold well. "
    steps = [sentence * 4 for _ in range(20)]
    path = workdir / "page.jsonl"
    path.write_text(json.dumps({"problem": "When?", "steps": steps, "label": 0, "final_answer_correct": False}) + "\n")
    import_file(engine, path, project="page")
    from annotation.core.spans import Span
    from annotation.projects.settings import load_settings, save_settings

    save_settings(engine, "page", __import__("dataclasses").replace(load_settings(engine, "page"), taxonomy=TYPES))
    rules = project_rules(engine, "page")
    with session(engine) as s:
        from sqlmodel import select

        from storage.tables import TraceRow

        trace_id = s.exec(select(TraceRow.id)).one()
    opened = open_trace(engine, trace_id=trace_id, username="bench-admin", rules=rules, is_admin=True)
    spans = tuple(Span(k % 20, (k // 20) * 20, (k // 20) * 20 + 12, TYPES[k % len(TYPES)]) for k in range(PAGE_SPANS))
    save_draft(engine, opened, username="bench-admin", copy=WorkingCopy(steps=WorkingCopy.blank(20).steps, spans=spans))
    app = Path(__file__).resolve().parents[1] / "app.py"
    times = []
    for _ in range(repeat):
        st.cache_resource.clear()
        st.cache_data.clear()
        at = signed_in(AppTest.from_file(str(app), default_timeout=300), engine, "bench-admin")
        at.query_params["project"] = "page"
        at.query_params["trace"] = str(trace_id)
        at.run()
        start = time.perf_counter()
        at.switch_page("pages/annotate.py").run()
        times.append(time.perf_counter() - start)
        data = json.loads(next(e.proto.json for e in at.get("bidi_component") if "annotate_judge" in e.proto.id))
        assert len(data["work"]["spans"]) == PAGE_SPANS, "the page did not open the draft with its spans"
    engine.dispose()
    return statistics.median(times)


def report_text(r: dict[str, Any]) -> str:
    ok = "PASS" if r["checks"]["measures"] else "FAIL"  # the page's verdict is on its own line
    lines = [
        f"span_measures: {r['traces']:,} traces x {SPANS} spans by two annotators; median of {r['repeat']}",
        f"  load + exact/overlap per type + char alpha   {r['seconds']:.2f} s  {ok} (<= {BUDGET_S:g} s)",
        f"  exact F1 {r['exact_f1']:.3f}, overlap F1 {r['overlap_f1']:.3f}, alpha {r['char_alpha']:.3f} "
        f"over {r['alpha_traces']:,} traces",
        f"  Annotate page, a trace with {PAGE_SPANS} spans (server time)   {r['page_s'] * 1000:.0f} ms  "
        f"{'PASS' if r['checks']['page'] else 'FAIL'} (<= {BUDGET_PAGE_S * 1000:.0f} ms)",
    ]
    if r["traces"] != BUDGET_TRACES:
        lines.append(f"  note: the budget is stated for {BUDGET_TRACES:,} traces; this run used {r['traces']:,}.")
    lines.append(f"  overall: {'PASS' if r['passed'] else 'FAIL'}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.span_measures", description=__doc__.split("\n")[0])
    p.add_argument("--traces", type=int, default=BUDGET_TRACES)
    p.add_argument("--seed", type=int, default=20_261_130)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--check", action="store_true")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=OUT / f"{NAME}.json")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args, _ = _parser().parse_known_args(argv)
    if args.traces < 1 or args.repeat < 1:
        print("error: --traces and --repeat must be at least 1", file=sys.stderr)
        return 2
    result = in_workdir(args.workdir, "redline-spans-", lambda folder: measure(args, folder))
    return finish(result, report_text(result), args.out, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
