""" "Next for me": which trace a person judges next, held for them for a while, and how far along they are.

A trace is open to a person when it still needs human judgments, they have not submitted one, and
not enough others are already on it (submitted, or holding a live reservation). Quality-control
traces go to every annotator. Orders: import order, random (a random starting point, then import
order), or priority (highest first; by default where model critics disagree most).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from annotation.workflow.workbench import ProjectRules
from storage import work
from storage.db import session
from storage.tables import utcnow

QUEUE_ORDERS = ("import", "random", "priority")
# One quality-control trace is served after every this many others, so they are not all at the start.
QC_EVERY = 10


@dataclass(frozen=True, slots=True)
class ProjectTotals:
    """Counts over the whole project: they grow with it, so a page may keep them for a few seconds."""

    traces: int
    complete: int
    qc: int
    open: int


@dataclass(frozen=True, slots=True)
class Progress:
    traces: int
    complete: int
    mine: int
    open_to_me: int

    @property
    def assigned_to_me(self) -> int:
        """What this person has done plus what is still open to them."""
        return self.mine + self.open_to_me

    @property
    def project_share(self) -> float:
        return self.complete / self.traces if self.traces else 0.0

    @property
    def my_share(self) -> float:
        return self.mine / self.assigned_to_me if self.assigned_to_me else 1.0


def next_trace(
    engine: Engine,
    rules: ProjectRules,
    *,
    username: str,
    exclude: tuple[int, ...] = (),
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> int | None:
    """The id of the trace to judge next (reserved for ``username``), or None when nothing is left.

    ``exclude`` holds what the person skipped in this sitting.
    """
    now = now or utcnow()
    with session(engine) as s:
        found = None
        want_qc = False
        if work.has_qc(s, project_id=rules.id):
            done_by_me = work.count_mine(s, project_id=rules.id, username=username)
            want_qc = done_by_me % QC_EVERY == QC_EVERY - 1
        args = {
            "project_id": rules.id,
            "username": username,
            "needed": rules.judgments_per_trace,
            "now": now,
            "exclude": exclude,
            "by_priority": rules.queue_order == "priority",
        }
        if want_qc:
            found = work.first_open_trace(s, **args, qc=True)
        if found is None and rules.queue_order == "random":
            start = (rng or random).randint(0, work.max_position(s, project_id=rules.id))
            found = work.first_open_trace(s, **args, from_position=start)
        if found is None:
            found = work.first_open_trace(s, **args)
        if found is None:
            found = work.first_open_trace(s, **args, qc=True)
        if found is None:
            return None
        # Hold it first, then look again: the lock (a row lock on PostgreSQL, the write lock the hold
        # takes on SQLite) makes a second person picking the same trace wait, then see this hold.
        work.lock_trace(s, trace_id=found[0])
        work.reserve(s, trace_id=found[0], username=username, until=now + timedelta(minutes=rules.reservation_minutes))
        if not work.still_open_to(s, trace_id=found[0], username=username, needed=rules.judgments_per_trace, now=now):
            # Someone took it between the pick and the lock: pick again without it.
            s.rollback()
            return next_trace(engine, rules, username=username, exclude=(*exclude, found[0]), now=now, rng=rng)
        s.commit()
    return found[0]


def still_open(engine: Engine, rules: ProjectRules, *, trace_id: int, username: str) -> bool:
    """Whether ``username`` may still judge the trace (nobody else completed it meanwhile)."""
    with session(engine) as s:
        if work.human_judgment(s, trace_id=trace_id, username=username) is not None:
            return False
        return work.still_open_to(
            s, trace_id=trace_id, username=username, needed=rules.judgments_per_trace, now=utcnow()
        )


def hold(engine: Engine, rules: ProjectRules, *, trace_id: int, username: str, now: datetime | None = None) -> None:
    """Reserve a trace the person opened by hand (going back, reopening their work)."""
    now = now or utcnow()
    with session(engine) as s:
        work.reserve(s, trace_id=trace_id, username=username, until=now + timedelta(minutes=rules.reservation_minutes))
        s.commit()


def project_totals(engine: Engine, rules: ProjectRules) -> ProjectTotals:
    with session(engine) as s:
        return ProjectTotals(**work.project_totals(s, project_id=rules.id))


def progress(engine: Engine, rules: ProjectRules, *, username: str, totals: ProjectTotals | None = None) -> Progress:
    """Mine (done / assigned) and the project's; ``totals`` may come from a short-lived cache."""
    totals = totals or project_totals(engine, rules)
    with session(engine) as s:
        mine = work.my_counts(s, project_id=rules.id, username=username)
    # Open to me: open traces I have not judged, and QC traces I have not judged.
    open_to_me = max(0, totals.open - mine["mine_on_open"]) + max(0, totals.qc - mine["mine_on_qc"])
    return Progress(traces=totals.traces, complete=totals.complete, mine=mine["mine"], open_to_me=open_to_me)


@dataclass(frozen=True, slots=True)
class WorkItem:
    trace_id: int
    position: int
    status: str
    when: datetime


def my_work(engine: Engine, rules: ProjectRules, *, username: str, limit: int = 200) -> list[WorkItem]:
    """This person's drafts and judgments in the project, latest first: to go back or reopen."""
    with session(engine) as s:
        rows = work.my_work(s, project_id=rules.id, username=username, limit=limit)
    return [WorkItem(*row) for row in rows]


def priorities_from_model_disagreement(engine: Engine, rules: ProjectRules) -> int:
    """Set each trace's priority to how much the model critics disagree on its first error.

    Priority = number of distinct first-error answers among model judgments, minus one (0 when they
    agree or there is at most one). Returns how many traces got a priority above 0.
    """
    with session(engine) as s:
        answers: dict[int, Counter] = {}
        for trace_id, first_error in work.model_first_errors(s, project_id=rules.id):
            answers.setdefault(trace_id, Counter())[first_error] += 1
        priorities = {t: float(len(c) - 1) for t, c in answers.items() if len(c) > 1}
        work.set_priorities(s, project_id=rules.id, priorities=priorities)
        s.commit()
    return len(priorities)
