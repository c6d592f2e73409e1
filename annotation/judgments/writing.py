"""The one write path for judgments: every judgment row, whoever makes it, is written by ``record``.

Annotate, Check critiques, adjudication, import merges and critic runs all come through here, so the
rules hold for each of them in the same way, in the caller's transaction:

1. the traces are locked (a row lock on PostgreSQL, the write lock on SQLite) before anything is read;
2. each write names the version its author read (``expected_version``; None when there was none), and
   a judgment that moved on since is refused with StaleJudgment; machine sources that replace their
   own output (imports, critic runs) say ``ANY_VERSION``;
3. a person submitting their own work (``by_worker``) gets a trace only while it is still open to them:
   not once others' submissions and holds cover what the project asks for (NotOpen), though they may
   always revise their own judgment, and quality-control traces go to everyone;
4. a changed judgment keeps its earlier state as a revision, an equal one is left alone;
5. the writer's hold on the trace is released and each touched trace's completion is recomputed;
6. spans lie inside the text they name and missing entries between the steps (annotation.core.spans);
7. a write that names the steps it was made on (``steps_version``) is refused with StaleJudgment when an
   annotator has merged or split the trace's steps since (annotation/workflow/restructure.py).

Nothing is committed here: the caller commits, or rolls everything back when a later step fails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from annotation.core.model import Judgment
from annotation.core.records import judgment_row, trace_from_row
from annotation.core.spans import check_spans
from storage import queries, work
from storage.queries import StaleJudgment
from storage.tables import JudgmentRow, Project, TraceRow, utcnow

__all__ = ["ANY_VERSION", "JudgmentWrite", "NotOpen", "StaleJudgment", "WriteResult", "record"]

# For a source that replaces its own earlier output whatever its version (imports, critic runs).
ANY_VERSION = -1
Outcome = Literal["added", "revised", "unchanged"]


class NotOpen(Exception):
    """The trace already has the judgments its project asks for (or others hold it); nothing was written."""


@dataclass(frozen=True, slots=True)
class JudgmentWrite:
    trace_id: int
    judgment: Judgment
    # The version of this source's judgment the author read: None (or 0) when there was none.
    expected_version: int | None = None
    changed_by: str = ""
    # A person submitting their own work, who may only take a trace still open to them.
    by_worker: bool = False
    # The trace's steps as the author saw them (TraceRow.steps_version); None: not checked.
    steps_version: int | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    trace_id: int
    source: str
    outcome: Outcome
    version: int


@dataclass(frozen=True, slots=True)
class _TraceFacts:
    project_id: int
    n_steps: int
    qc: bool
    steps_version: int


def record(s: Session, writes: Sequence[JudgmentWrite], *, now: datetime | None = None) -> list[WriteResult]:
    """Write every judgment in ``writes`` (all or none), following the rules above; results in the same order."""
    if not writes:
        return []
    now = now or utcnow()
    trace_ids = sorted({w.trace_id for w in writes})
    work.lock_traces(s, trace_ids=trace_ids)
    facts = _facts(s, trace_ids)
    _check_fine(s, [w for w in writes if w.judgment.spans or w.judgment.missing])
    existing = {(j.trace_id, j.source_kind, j.source_name): j for j in queries.judgments_on(s, trace_ids=trace_ids)}
    needed = _needed(s, {f.project_id for f in facts.values()})
    results: list[WriteResult] = []
    new_rows = []
    completion: dict[int, set[int]] = defaultdict(set)
    for w in writes:
        trace = facts.get(w.trace_id)
        if trace is None:
            raise LookupError(f"no trace with id {w.trace_id}")
        if w.steps_version is not None and w.steps_version != trace.steps_version:
            raise StaleJudgment(
                f"the steps of trace {w.trace_id} were merged or split since you opened it; reload to judge them"
            )
        w.judgment.validate(trace.n_steps)
        source = w.judgment.source
        row = existing.get((w.trace_id, source.kind, source.name))
        _check_version(w, row)
        if w.by_worker and row is None and not trace.qc:
            _check_open(s, w, needed[trace.project_id], now)
        content = w.judgment.content()
        if row is None:
            new_rows.append(judgment_row(w.judgment, trace_id=w.trace_id, now=now))
            results.append(WriteResult(w.trace_id, str(source), "added", 1))
        elif queries.judgment_content(row) == content:
            results.append(WriteResult(w.trace_id, str(source), "unchanged", row.version))
        else:
            revised = queries.revise_judgment(
                s, judgment=row, content=content, expected_version=row.version, changed_by=w.changed_by
            )
            results.append(WriteResult(w.trace_id, str(source), "revised", revised.version))
        if source.kind == "human":
            completion[trace.project_id].add(w.trace_id)
            if w.by_worker:
                work.release(s, trace_id=w.trace_id, username=source.name)
    _insert_new(s, new_rows)
    for project_id, ids in completion.items():
        work.refresh_completion(s, project_id=project_id, needed=needed[project_id], trace_ids=sorted(ids))
    return results


def _check_fine(s: Session, writes: list[JudgmentWrite]) -> None:
    """Spans and missing entries checked against the texts of their traces (read only when a write has some)."""
    if not writes:
        return
    ids = sorted({w.trace_id for w in writes})
    rows = s.execute(select(TraceRow).where(TraceRow.id.in_(ids))).scalars().all()
    traces = {row.id: trace_from_row(row) for row in rows}
    for w in writes:
        if w.trace_id in traces:
            check_spans(traces[w.trace_id], w.judgment.spans, w.judgment.missing)


def _facts(s: Session, trace_ids: list[int]) -> dict[int, _TraceFacts]:
    found: dict[int, _TraceFacts] = {}
    for start in range(0, len(trace_ids), queries.WRITE_CHUNK):
        chunk = trace_ids[start : start + queries.WRITE_CHUNK]
        query = select(TraceRow.id, TraceRow.project_id, TraceRow.n_steps, TraceRow.qc, TraceRow.steps_version).where(
            TraceRow.id.in_(chunk)
        )
        for trace_id, project_id, n_steps, qc, steps_version in s.execute(query):
            found[trace_id] = _TraceFacts(project_id, n_steps, bool(qc), steps_version or 1)
    return found


def _needed(s: Session, project_ids: set[int]) -> dict[int, int]:
    query = select(Project.id, Project.judgments_per_trace).where(Project.id.in_(sorted(project_ids)))
    return dict(s.execute(query).all())


def _check_version(w: JudgmentWrite, row: JudgmentRow | None) -> None:
    if w.expected_version == ANY_VERSION:
        return
    expected = w.expected_version or 0
    current = row.version if row is not None else 0
    if current == expected:
        return
    who = w.judgment.source
    if current == 0:
        raise StaleJudgment(f"the judgment of {who} on trace {w.trace_id} was removed since version {expected}")
    if expected == 0:
        raise StaleJudgment(
            f"{who} judged trace {w.trace_id} meanwhile (from another tab or session: now version {current}); "
            "reload to see it"
        )
    raise StaleJudgment(
        f"the judgment of {who} on trace {w.trace_id} changed since you opened it (now version {current}, "
        f"you started from version {expected}); reload to see it"
    )


def _check_open(s: Session, w: JudgmentWrite, needed: int, now: datetime) -> None:
    username = w.judgment.source.name
    if not work.still_open_to(s, trace_id=w.trace_id, username=username, needed=needed, now=now):
        raise NotOpen(
            f"trace {w.trace_id} already has the {needed} judgment(s) its project asks for, or others are working "
            "on it; nothing was saved as a submission"
        )


def _insert_new(s: Session, rows: list[dict]) -> None:
    """New judgments at once; a row another writer added meanwhile breaks the unique constraint, read as stale."""
    try:
        with s.begin_nested():
            queries.insert_judgments(s, rows=rows)
    except IntegrityError:
        raise StaleJudgment("this trace was just judged from another tab or session; reload to see it") from None
