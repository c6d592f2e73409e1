"""Load and scale-out: many annotators at once, through the functions the Annotate page calls.

Each simulated annotator is one thread and does what a person's clicks do, in the page's order:
``annotation.workflow.queue.next_trace`` (pick and reserve), ``annotation.workflow.workbench.open_trace`` plus
``annotation.workflow.queue.hold`` (as ``pages/annotate_state.open_desk`` does), one or two
``annotation.workflow.workbench.save_draft`` (verdict clicks, then sometimes a critique) and
``annotation.workflow.workbench.submit``. All threads of a process share one engine built by
``annotation.ops.startup.prepare``, as the threads of one Streamlit server share ``get_engine()``.

Some annotators deliberately open a trace twice (two ``OpenTrace`` of the same trace, as two browser
tabs would): the second tab either saves a draft while the first is at work or submits after the first
did. Both must be refused (``DraftConflict`` or ``StaleJudgment``); they are counted as refused stale
edits, and a stale edit that gets through is a failure.

Every ``--other-every``-th turn an annotator also writes through the other paths, on a trace that others
have already completed (so a person's write there must be refused): the trace opened by its URL and
submitted (``NotOpen``), a model critique checked on Check critiques (``CheckRefused``), and, as an admin,
the trace's disagreement settled into its consensus (allowed; two at once refuse one as stale). A
person's write that gets through on a completed trace is counted as an intrusion, and is a failure.

Backends, each on a fresh database, each with ``judgments_per_trace`` 1 and 2 (overlap):

* ``sqlite``: a file in WAL mode (Redline's own pragmas, busy_timeout 10 s), one process.
* ``postgres``: a fresh schema in the PostgreSQL at ``--postgres-url``, one process.
* ``two-processes``: two OS processes (``python -m benchmarks.load_test --child``), each with its own
  engine and half the annotators, sharing one PostgreSQL schema: how a team grows past one server.

Afterwards the database is read back: every submission that returned a version must be stored with
that version and content (else it is lost), no trace may have more submitted human judgments than the
project asks for (duplicates), and each trace's ``complete`` flag must agree with its judgments.

    python -m benchmarks.load_test [--annotators 32] [--submissions 100] [--backends sqlite,postgres,two-processes]
                                   [--overlap 1,2] [--stale-every 10] [--check] [--out PATH]

The figures go to ``benchmarks/out/load_test.json``. Exit status: 0 (a report); with ``--check``, 1 when
anything was lost, a user saw an error other than a refused stale edit, a stale edit got through, a
trace got too many judgments or a stored row differs; 2 when the benchmark could not run (for
instance PostgreSQL asked for but unreachable).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import OUT, finish, in_workdir

NAME = "load_test"
REPO = Path(__file__).resolve().parents[1]
BACKENDS = ("sqlite", "postgres", "two-processes")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PROJECT = "load"
STEPS_PER_TRACE = 4
# Traces beyond annotators * submissions / judgments_per_trace, so nobody runs dry at the end.
MARGIN = 0.1
# Give up on an annotator after this many unexpected errors (each is counted and reported anyway).
MAX_ERRORS_PER_ANNOTATOR = 20
# Distinct stacks kept in the report, with how often each happened.
MAX_STACKS = 10


def postgres_url_default() -> str:
    return os.environ.get("REDLINE_TEST_POSTGRES_URL") or os.environ.get("POSTGRES_URL") or DEFAULT_POSTGRES_URL


# --- one annotator --------------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """What the annotators of one process did, and saw."""

    # (username, trace id, version returned, the content submitted)
    submissions: list[tuple[str, int, int, dict[str, Any]]] = field(default_factory=list)
    refused_stale: dict[str, int] = field(default_factory=dict)
    stale_accepted: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    ran_dry: int = 0
    draft_saves: int = 0
    # Writes through the other paths: a person's accepted on a completed trace (must stay 0), and settlings.
    intrusions_accepted: int = 0
    settled: int = 0

    def merge(self, other: Outcome) -> None:
        self.submissions += other.submissions
        for kind, n in other.refused_stale.items():
            self.refused_stale[kind] = self.refused_stale.get(kind, 0) + n
        self.stale_accepted += other.stale_accepted
        self.errors += other.errors
        self.next_ms += other.next_ms
        self.submit_ms += other.submit_ms
        self.ran_dry += other.ran_dry
        self.draft_saves += other.draft_saves
        self.intrusions_accepted += other.intrusions_accepted
        self.settled += other.settled

    def as_dict(self) -> dict[str, Any]:
        return {
            "submissions": [list(s) for s in self.submissions],
            "refused_stale": self.refused_stale,
            "stale_accepted": self.stale_accepted,
            "errors": self.errors,
            "next_ms": self.next_ms,
            "submit_ms": self.submit_ms,
            "ran_dry": self.ran_dry,
            "draft_saves": self.draft_saves,
            "intrusions_accepted": self.intrusions_accepted,
            "settled": self.settled,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        return cls(
            submissions=[tuple(s) for s in d["submissions"]],
            refused_stale=d["refused_stale"],
            stale_accepted=d["stale_accepted"],
            errors=d["errors"],
            next_ms=d["next_ms"],
            submit_ms=d["submit_ms"],
            ran_dry=d["ran_dry"],
            draft_saves=d["draft_saves"],
            intrusions_accepted=d["intrusions_accepted"],
            settled=d["settled"],
        )


def _error(step: str, username: str, exc: BaseException) -> dict[str, str]:
    return {
        "step": step,
        "user": username,
        "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "message": str(exc).splitlines()[0][:300] if str(exc) else "",
        "stack": "".join(traceback.format_exception(exc)),
    }


CRITIC = "model:critic"
ADMIN = "load-admin"
OTHER_KINDS = ("by_url", "check", "settle")


def _completed_by_others(engine: Any, project_id: int, username: str) -> int | None:
    """A random trace of the project that is complete and that ``username`` has not judged."""
    from sqlalchemy import exists, func, select

    from storage.db import session
    from storage.tables import JudgmentRow, TraceRow

    mine = exists().where(
        JudgmentRow.trace_id == TraceRow.id, JudgmentRow.source_kind == "human", JudgmentRow.source_name == username
    )
    with session(engine) as s:
        query = (
            select(TraceRow.id)
            .where(TraceRow.project_id == project_id, TraceRow.complete.is_(True), ~mine)
            .order_by(func.random())
            .limit(1)
        )
        return s.execute(query).scalar()


def _count(out: Outcome, kind: str) -> None:
    out.refused_stale[kind] = out.refused_stale.get(kind, 0) + 1


def other_write(engine: Any, rules: Any, *, username: str, kind: str, out: Outcome) -> None:
    """One write through another path than Annotate's queue, on a trace others completed."""
    from annotation.accounts.users import Account
    from annotation.core.model import Source
    from annotation.workflow.adjudication import adopt, consensus_of
    from annotation.workflow.checking import CheckRefused, StepCheck, submit_check
    from annotation.workflow.workbench import NotOpen, StaleJudgment, open_trace, submit

    trace_id = _completed_by_others(engine, rules.id, username)
    if trace_id is None:
        return
    if kind == "by_url":  # /annotate?trace=N, then Ctrl+Enter
        opened = open_trace(engine, trace_id=trace_id, username=username, rules=rules, is_admin=False)
        try:
            submit(engine, opened, username=username, copy=opened.work.all_correct(), rules=rules)
            out.intrusions_accepted += 1
        except (NotOpen, StaleJudgment) as e:
            _count(out, type(e).__name__)
    elif kind == "check":  # Check critiques: every step edited to "correct"
        checks = [StepCheck(i, "edit", verdict=1) for i in range(STEPS_PER_TRACE)]
        try:
            submit_check(
                engine,
                trace_id=trace_id,
                model_source=Source.parse(CRITIC),
                model_version=1,
                checks=checks,
                rating="helpful",
                replacement=None,
                username=username,
                loaded_version=None,
            )
            out.intrusions_accepted += 1
        except CheckRefused:
            _count(out, "CheckRefused")
    else:  # an admin settles it on the reference, naming the consensus version seen
        seen = consensus_of(engine, trace_id)
        try:
            adopt(
                engine,
                account=Account(username=ADMIN, role="admin"),
                trace_id=trace_id,
                source="reference",
                reason=f"settled by {username}'s turn",
                from_sources=["reference", CRITIC],
                expected_version=None if seen is None else seen[1],
            )
            out.settled += 1
        except StaleJudgment:
            _count(out, "StaleJudgment (consensus)")


def annotator(
    engine: Any,
    rules: Any,
    *,
    username: str,
    submissions: int,
    stale_every: int,
    other_every: int,
    seed: int,
    start: threading.Barrier,
    out: Outcome,
) -> None:
    """One person: ``submissions`` traces picked, opened, clicked on, saved and submitted."""
    from annotation.workflow.labelling import WRONG
    from annotation.workflow.queue import hold, next_trace
    from annotation.workflow.workbench import DraftConflict, StaleJudgment, open_trace, save_draft, submit

    rng = random.Random(seed)
    mode = rules.label_mode
    done = attempts = 0
    start.wait()
    while done < submissions and len(out.errors) < MAX_ERRORS_PER_ANNOTATOR:
        attempts += 1
        step = "next_trace"
        try:
            if other_every and attempts % other_every == 0:
                step = OTHER_KINDS[(attempts // other_every) % len(OTHER_KINDS)]
                other_write(engine, rules, username=username, kind=step, out=out)
                step = "next_trace"
            t0 = time.perf_counter()
            trace_id = next_trace(engine, rules, username=username)
            out.next_ms.append((time.perf_counter() - t0) * 1000)
            if trace_id is None:
                out.ran_dry += 1
                return
            step = "open_trace"
            opened = open_trace(engine, trace_id=trace_id, username=username, rules=rules, is_admin=False)
            hold(engine, rules, trace_id=trace_id, username=username)
            # Every stale_every-th trace is also open in a second tab; two kinds, taking turns.
            stale_kind = None
            if stale_every and attempts % stale_every == 0:
                stale_kind = "draft_then_submit" if (attempts // stale_every) % 2 else "submit_after_submit"
                step = "open_trace (second tab)"
                other_tab = open_trace(engine, trace_id=trace_id, username=username, rules=rules, is_admin=False)

            step = "save_draft"
            first = rng.randrange(-1, len(opened.work.steps))
            copy = opened.work.all_correct() if first == -1 else opened.work.with_verdict(first, WRONG, mode)
            copy = replace(copy, time_spent_s=rng.uniform(5, 60))
            save_draft(engine, opened, username=username, copy=copy, hold_minutes=rules.reservation_minutes)
            out.draft_saves += 1
            if stale_kind == "draft_then_submit":
                step = "save_draft (second tab)"
                try:
                    save_draft(engine, other_tab, username=username, copy=other_tab.work.all_correct())
                    out.stale_accepted += 1
                except DraftConflict:
                    out.refused_stale["DraftConflict"] = out.refused_stale.get("DraftConflict", 0) + 1
            # The critique names who wrote it, where and when: a lost or swapped submission shows.
            copy = replace(copy, critique=f"{username} on trace {trace_id}, attempt {attempts}")
            if rng.random() < 0.5:
                step = "save_draft"
                save_draft(engine, opened, username=username, copy=copy, hold_minutes=rules.reservation_minutes)
                out.draft_saves += 1

            step = "submit"
            t0 = time.perf_counter()
            version = submit(engine, opened, username=username, copy=copy, rules=rules)
            out.submit_ms.append((time.perf_counter() - t0) * 1000)
            content = copy.content(mode)
            out.submissions.append(
                (username, trace_id, version, {k: content[k] for k in ("first_error", "critique", "steps")})
            )
            done += 1

            if stale_kind is not None:
                step = "submit (second tab)"
                try:
                    submit(
                        engine,
                        other_tab,
                        username=username,
                        copy=replace(other_tab.work.all_correct(), critique="stale second tab"),
                        rules=rules,
                    )
                    out.stale_accepted += 1
                except (StaleJudgment, DraftConflict) as e:
                    kind = type(e).__name__
                    out.refused_stale[kind] = out.refused_stale.get(kind, 0) + 1
        except Exception as e:  # anything else is an error a person would have seen
            out.errors.append(_error(step, username, e))


def run_annotators(
    url: str,
    *,
    project: str,
    usernames: Sequence[str],
    submissions: int,
    stale_every: int,
    other_every: int,
    seed: int,
    go=None,
) -> tuple[Outcome, float]:
    """Annotators as threads of this process, sharing one engine; returns what they did and the wall time."""
    from annotation.ops.startup import prepare
    from annotation.workflow.workbench import project_rules

    engine = prepare(url)  # as each app server does on start: migrations included
    try:
        rules = project_rules(engine, project)
        if rules is None:
            raise RuntimeError(f"project {project!r} is missing")
        if go is not None:
            go()
        start = threading.Barrier(len(usernames) + 1)
        outcomes = [Outcome() for _ in usernames]
        threads = [
            threading.Thread(
                target=annotator,
                name=f"annotator-{name}",
                args=(engine, rules),
                kwargs={
                    "username": name,
                    "submissions": submissions,
                    "stale_every": stale_every,
                    "other_every": other_every,
                    "seed": seed + i,
                    "start": start,
                    "out": out,
                },
                daemon=True,
            )
            for i, (name, out) in enumerate(zip(usernames, outcomes, strict=True))
        ]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        engine.dispose()
    total = Outcome()
    for out in outcomes:
        total.merge(out)
    return total, wall


# --- the databases --------------------------------------------------------------------------------


def _write_traces(path: Path, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            label = -1 if rng.random() < 0.5 else rng.randrange(STEPS_PER_TRACE)
            record = {
                "id": f"load-{i}",
                "generator": "load-model",
                "problem": f"Problem {i}: what is {i} + {i}?",
                "steps": [f"Step {k} of trace {i}: {rng.randint(0, 999)}." for k in range(STEPS_PER_TRACE)],
                "final_answer_correct": label == -1,
                "label": label,
                # A model critic's first error, for Check critiques.
                "prediction": -1 if rng.random() < 0.5 else rng.randrange(STEPS_PER_TRACE),
            }
            f.write(json.dumps(record) + "\n")
    return path


def prepare_project(url: str, work: Path, *, traces: int, judgments_per_trace: int, seed: int) -> None:
    """Migrate a fresh database and import ``traces`` traces into a project asking for that many judgments."""
    from annotation.core.model import Source
    from annotation.importing.files import import_file
    from annotation.importing.formats.base import ConvertOptions
    from annotation.ops.startup import prepare
    from annotation.projects.settings import load_settings, save_settings

    engine = prepare(url)
    try:
        data = _write_traces(work / f"traces-{traces}.jsonl", traces, seed)
        import_file(engine, data, project=PROJECT, options=ConvertOptions(predictions_source=Source.parse(CRITIC)))
        save_settings(engine, PROJECT, replace(load_settings(engine, PROJECT), judgments_per_trace=judgments_per_trace))
    finally:
        engine.dispose()


class PostgresSchema:
    """A schema of its own in the PostgreSQL at ``base``, dropped on exit; ``url`` points into it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.schema = f"load_{uuid.uuid4().hex[:12]}"
        sep = "&" if "?" in base else "?"
        self.url = f"{base}{sep}options=-csearch_path%3D{self.schema}"

    def __enter__(self) -> PostgresSchema:
        from sqlalchemy import create_engine, text

        self._admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import text

        with self._admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self._admin.dispose()


def postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL answers at ``url``, else why not."""
    from sqlalchemy import create_engine

    try:
        probe = create_engine(url)
        with probe.connect():
            pass
        probe.dispose()
        return None
    except Exception as e:
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def verify(url: str, outcome: Outcome, *, judgments_per_trace: int) -> dict[str, int]:
    """Read the database back and compare it with what the annotators were told."""
    from sqlalchemy import func, select

    from storage.db import make_engine, session
    from storage.tables import JudgmentRow, Project, TraceRow

    engine = make_engine(url)
    try:
        with session(engine) as s:
            project_id = s.execute(select(Project.id).where(Project.name == PROJECT)).scalar_one()
            rows = s.execute(
                select(
                    JudgmentRow.source_name,
                    JudgmentRow.trace_id,
                    JudgmentRow.version,
                    JudgmentRow.first_error,
                    JudgmentRow.critique,
                    JudgmentRow.steps,
                )
                .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
                .where(
                    TraceRow.project_id == project_id,
                    JudgmentRow.source_kind == "human",
                    JudgmentRow.status == "submitted",
                )
            ).all()
            counts = (
                select(JudgmentRow.trace_id, func.count(JudgmentRow.id).label("n"))
                .where(JudgmentRow.source_kind == "human", JudgmentRow.status == "submitted")
                .group_by(JudgmentRow.trace_id)
                .subquery()
            )
            flags = s.execute(
                select(TraceRow.complete, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.trace_id == TraceRow.id)
                .where(TraceRow.project_id == project_id)
            ).all()
    finally:
        engine.dispose()
    stored = {(r[0], r[1]): (r[2], {"first_error": r[3], "critique": r[4], "steps": r[5]}) for r in rows}
    lost = differing = 0
    for username, trace_id, version, content in outcome.submissions:
        found = stored.get((username, trace_id))
        if found is None or found[0] != version:
            lost += 1
        elif found[1] != content:
            differing += 1
    per_trace: dict[int, int] = {}
    for _, trace_id in stored:
        per_trace[trace_id] = per_trace.get(trace_id, 0) + 1
    return {
        "stored": len(rows),
        "lost": lost,
        "differing": differing,
        "duplicates": sum(1 for n in per_trace.values() if n > judgments_per_trace),
        "judgments_beyond_need": sum(n - judgments_per_trace for n in per_trace.values() if n > judgments_per_trace),
        "wrong_complete_flags": sum(1 for complete, n in flags if bool(complete) != (n >= judgments_per_trace)),
        # Judged enough yet still marked open: two submissions racing past each other's completion count.
        "complete_but_marked_open": sum(1 for complete, n in flags if not complete and n >= judgments_per_trace),
    }


# --- one run: a backend, an overlap ---------------------------------------------------------------


def _child_command(url: str, usernames: Sequence[str], args: argparse.Namespace, seed: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.load_test",
        "--child",
        "--url",
        url,
        "--users",
        ",".join(usernames),
        "--submissions",
        str(args.submissions),
        "--stale-every",
        str(args.stale_every),
        "--other-every",
        str(args.other_every),
        "--seed",
        str(seed),
    ]


def run_processes(url: str, usernames: Sequence[str], args: argparse.Namespace) -> tuple[Outcome, float, list[int]]:
    """Two app processes on one database, each with its own engine and half the annotators."""
    halves = [usernames[: len(usernames) // 2], usernames[len(usernames) // 2 :]]
    procs = [
        subprocess.Popen(
            _child_command(url, half, args, args.seed + 1000 * i),
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, half in enumerate(halves)
    ]
    try:
        # Both start (and migrate) first; then both begin at once.
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"an app process did not start (exit status {p.wait()})")
        t0 = time.perf_counter()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.close()
        outputs = [p.stdout.read() for p in procs if p.stdout is not None]
        statuses = [p.wait() for p in procs]
        wall = time.perf_counter() - t0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    if any(statuses):
        raise RuntimeError(f"an app process failed (exit statuses {statuses})")
    total = Outcome()
    for text in outputs:
        total.merge(Outcome.from_dict(json.loads(text.strip().splitlines()[-1])))
    return total, wall, [p.pid for p in procs]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _stacks(errors: list[dict[str, str]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for e in errors:
        key = (e["step"], e["type"], e["stack"].strip().splitlines()[-1] if e["stack"] else "")
        if key not in grouped:
            grouped[key] = {
                "step": e["step"],
                "type": e["type"],
                "message": e["message"],
                "count": 0,
                "stack": e["stack"],
            }
        grouped[key]["count"] += 1
    return sorted(grouped.values(), key=lambda g: -g["count"])[:MAX_STACKS]


def run_one(backend: str, judgments_per_trace: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    usernames = [f"ann{i:02d}" for i in range(args.annotators)]
    needed = args.annotators * args.submissions / judgments_per_trace
    traces = int(needed * (1 + MARGIN)) + args.annotators
    print(f"{backend}, {judgments_per_trace} judgment(s) per trace: {traces} traces ...", file=sys.stderr, flush=True)

    def measure(url: str) -> dict[str, Any]:
        prepare_project(url, work, traces=traces, judgments_per_trace=judgments_per_trace, seed=args.seed)
        if backend == "two-processes":
            outcome, wall, _ = run_processes(url, usernames, args)
            processes = 2
        else:
            outcome, wall = run_annotators(
                url,
                project=PROJECT,
                usernames=usernames,
                submissions=args.submissions,
                stale_every=args.stale_every,
                other_every=args.other_every,
                seed=args.seed,
            )
            processes = 1
        return {
            "outcome": outcome,
            "wall": wall,
            "processes": processes,
            "db": verify(url, outcome, judgments_per_trace=judgments_per_trace),
        }

    if backend == "sqlite":
        db = work / f"load-{judgments_per_trace}.db"
        for old in work.glob(f"{db.name}*"):
            old.unlink()
        m = measure(f"sqlite:///{db}")
    else:
        with PostgresSchema(args.postgres_url) as schema:
            m = measure(schema.url)
    outcome: Outcome = m["outcome"]
    made = len(outcome.submissions)
    refused = sum(outcome.refused_stale.values())
    result = {
        "backend": backend,
        "processes": m["processes"],
        "annotators": args.annotators,
        "threads_per_process": args.annotators // m["processes"],
        "judgments_per_trace": judgments_per_trace,
        "traces": traces,
        "submissions_asked": args.annotators * args.submissions,
        "submissions_made": made,
        **m["db"],
        "errors": len(outcome.errors),
        "refused_stale_edits": refused,
        "refused_stale_by_kind": outcome.refused_stale,
        "stale_edits_accepted": outcome.stale_accepted,
        "intrusions_accepted": outcome.intrusions_accepted,
        "settled": outcome.settled,
        "ran_dry": outcome.ran_dry,
        "draft_saves": outcome.draft_saves,
        "wall_s": m["wall"],
        "submissions_per_s": made / m["wall"] if m["wall"] else None,
        "next_trace_ms": {"p50": percentile(outcome.next_ms, 50), "p99": percentile(outcome.next_ms, 99)},
        "submit_ms": {"p50": percentile(outcome.submit_ms, 50), "p99": percentile(outcome.submit_ms, 99)},
        "error_stacks": _stacks(outcome.errors),
    }
    result["checks"] = {
        "nothing_lost": result["lost"] == 0 and result["differing"] == 0,
        "no_errors": result["errors"] == 0,
        "stale_edits_refused": result["stale_edits_accepted"] == 0,
        "completed_traces_refused": result["intrusions_accepted"] == 0,
        "no_duplicates": result["duplicates"] == 0,
        "all_stored": result["stored"] == made,
        "complete_flags": result["wrong_complete_flags"] == 0,
    }
    result["passed"] = all(result["checks"].values())
    return result


# --- report ---------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(r: dict[str, Any]) -> str:
    header = (
        "backend",
        "k",
        "made",
        "stored",
        "lost",
        "errors",
        "refused stale",
        "intrusions",
        "settled",
        "dupl.",
        "next p50/p99 ms",
        "submit p50/p99 ms",
        "subm./s",
        "",
    )
    rows = [header]
    for x in r["results"]:
        rows.append(
            (
                x["backend"],
                str(x["judgments_per_trace"]),
                str(x["submissions_made"]),
                str(x["stored"]),
                str(x["lost"] + x["differing"]),
                str(x["errors"]),
                str(x["refused_stale_edits"]),
                str(x["intrusions_accepted"]),
                str(x["settled"]),
                str(x["duplicates"]),
                f"{_ms(x['next_trace_ms']['p50'])} / {_ms(x['next_trace_ms']['p99'])}",
                f"{_ms(x['submit_ms']['p50'])} / {_ms(x['submit_ms']['p99'])}",
                f"{x['submissions_per_s']:.0f}" if x["submissions_per_s"] else "-",
                "PASS" if x["passed"] else "FAIL " + ",".join(k for k, ok in x["checks"].items() if not ok),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        f"load_test: {r['annotators']} annotators x {r['submissions']} submissions, a second tab on every "
        f"{r['stale_every']}th trace (k = judgments per trace)"
    ]
    lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    for x in r["results"]:
        for g in x["error_stacks"]:
            where = f"{x['backend']} k={x['judgments_per_trace']}"
            lines.append(f"  {where}: {g['count']} x {g['type']} in {g['step']}: {g['message']}")
            lines += ["    " + line for line in g["stack"].rstrip().splitlines()[-12:]]
    for skipped in r["skipped"]:
        lines.append(f"  skipped {skipped['backend']}: {skipped['reason']}")
    lines.append(f"  overall: {'PASS' if r['passed'] else 'FAIL'}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.load_test",
        description="Many annotators at once on SQLite, PostgreSQL and two app processes: nothing lost, no errors.",
    )
    p.add_argument("--annotators", type=int, default=32, help="simulated annotators, one thread each (default 32)")
    p.add_argument("--submissions", type=int, default=100, help="submissions per annotator (default 100)")
    p.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}")
    p.add_argument("--overlap", default="1,2", help="judgments per trace to run with, comma-separated (default 1,2)")
    p.add_argument(
        "--stale-every", type=int, default=10, help="every Nth trace is also open in a second tab (0: never)"
    )
    p.add_argument(
        "--other-every",
        type=int,
        default=5,
        help="every Nth turn also write by URL, by checking a critique or by settling, on a completed trace (0: never)",
    )
    p.add_argument("--postgres-url", default=postgres_url_default(), help="PostgreSQL to make fresh schemas in")
    p.add_argument(
        "--require-postgres", action="store_true", help="exit 2 when PostgreSQL is unreachable (else skip it)"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--check", action="store_true", help="exit 1 when anything was lost or a user saw an error")
    p.add_argument("--workdir", type=Path, default=None, help="keep the SQLite databases here (default: a temp dir)")
    p.add_argument("--out", type=Path, default=OUT / f"{NAME}.json", help="where to write the figures as JSON")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--users", help=argparse.SUPPRESS)
    return p


def settings(argv: Sequence[str] = ()) -> argparse.Namespace:
    """The options of a run, as the command line gives them (for tests that call ``run_one``)."""
    return _parser().parse_args(list(argv))


def child(args: argparse.Namespace) -> int:
    """One app process: its own engine, its annotators as threads; waits for "go" on stdin."""

    def ready_then_wait() -> None:
        print("ready", flush=True)
        sys.stdin.readline()

    outcome, _ = run_annotators(
        args.url,
        project=PROJECT,
        usernames=args.users.split(","),
        submissions=args.submissions,
        stale_every=args.stale_every,
        other_every=args.other_every,
        seed=args.seed,
        go=ready_then_wait,
    )
    print(json.dumps(outcome.as_dict()), flush=True)
    return 0


def measure_all(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"unknown backend(s) {', '.join(sorted(unknown))}; choose from {', '.join(BACKENDS)}")
    overlaps = [int(k) for k in args.overlap.split(",") if k.strip()]
    skipped = []
    if any(b != "sqlite" for b in backends) and (why := postgres_reachable(args.postgres_url)):
        if args.require_postgres:
            raise RuntimeError(f"PostgreSQL is not reachable at {args.postgres_url}: {why}")
        skipped = [{"backend": b, "reason": f"PostgreSQL unreachable: {why}"} for b in backends if b != "sqlite"]
        backends = ["sqlite"] if "sqlite" in backends else []
    results = [run_one(b, k, args, work) for b in backends for k in overlaps]
    return {
        "benchmark": NAME,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "annotators": args.annotators,
        "submissions": args.submissions,
        "stale_every": args.stale_every,
        "results": results,
        "skipped": skipped,
        "passed": all(r["passed"] for r in results),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    # Other benchmarks' options (--traces ...) are ignored, so `python -m benchmarks` can pass its own.
    args, _ignored = _parser().parse_known_args(argv)
    if args.child:
        return child(args)
    if args.annotators < 2 or args.submissions < 1 or args.stale_every < 0:
        print("error: --annotators must be at least 2, --submissions at least 1", file=sys.stderr)
        return 2
    try:
        result = in_workdir(args.workdir, "redline-load-", lambda folder: measure_all(args, folder))
    except (RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return finish(result, report(result), args.out, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
