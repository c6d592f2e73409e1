"""Queries behind the work queue: reservations, drafts, completion and the next open trace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, cast, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.tables import Draft, JudgmentRow, Reservation, TraceRow, utcnow


class DraftConflict(Exception):
    """The draft changed in another tab since this one read it; nothing was written."""


def _mine(username: str):
    return exists().where(
        JudgmentRow.trace_id == TraceRow.id,
        JudgmentRow.source_kind == "human",
        JudgmentRow.source_name == username,
        JudgmentRow.status == "submitted",
    )


def _submitted_count():
    """Per trace (correlated): the submitted human judgments it has."""
    return (
        select(func.count(JudgmentRow.id))
        .where(
            JudgmentRow.trace_id == TraceRow.id,
            JudgmentRow.source_kind == "human",
            JudgmentRow.status == "submitted",
        )
        .scalar_subquery()
    )


def _held_by_others(username: str, now: datetime, needed: int):
    """Submitted human judgments plus live reservations by others reach what the project asks for."""
    submitted = _submitted_count()
    held = (
        select(func.count(Reservation.id))
        .where(Reservation.trace_id == TraceRow.id, Reservation.username != username, Reservation.expires_at > now)
        .scalar_subquery()
    )
    return submitted + held >= needed


def first_open_trace(
    session: Session,
    *,
    project_id: int,
    username: str,
    needed: int,
    now: datetime,
    exclude: Sequence[int] = (),
    from_position: int = 0,
    qc: bool = False,
    by_priority: bool = False,
) -> tuple[int, int] | None:
    """(id, position) of the first trace at or after ``from_position`` this person may take now.

    Open traces (``qc`` False) still need judgments and are not held by enough others; quality-control
    traces (``qc`` True) go to everyone. Either way, never one this person submitted already.
    """
    query = select(TraceRow.id, TraceRow.position).where(
        TraceRow.project_id == project_id, TraceRow.position >= from_position, ~_mine(username)
    )
    if qc:
        query = query.where(TraceRow.qc.is_(True))
    else:
        query = query.where(TraceRow.complete.is_(False), TraceRow.qc.is_(False))
        query = query.where(~_held_by_others(username, now, needed))
    if exclude:
        query = query.where(TraceRow.id.not_in(list(exclude)))
    order = (TraceRow.priority.desc(), TraceRow.position) if by_priority else (TraceRow.position,)
    # On PostgreSQL a trace another picker or submitter holds locked is passed over, not queued on:
    # thirty people asking at once then get thirty different traces. SQLite ignores the clause.
    query = query.order_by(*order).limit(1).with_for_update(skip_locked=True, of=TraceRow)
    row = session.execute(query).first()
    return (row[0], row[1]) if row else None


def max_position(session: Session, *, project_id: int) -> int:
    return session.execute(select(func.max(TraceRow.position)).where(TraceRow.project_id == project_id)).scalar() or 0


# A person holds the trace they are on and the one served next (sent to their browser in advance).
HOLDS_PER_PERSON = 2


def reserve(session: Session, *, trace_id: int, username: str, until: datetime) -> None:
    """Hold one trace for one person (or renew the hold). Of whatever else they held in the project, only their
    latest other hold stays (HOLDS_PER_PERSON in all): the trace they work on while the next one is held."""
    project_id = select(TraceRow.project_id).where(TraceRow.id == trace_id).scalar_subquery()
    # Walk this person's few reservations, not the project's many traces.
    in_project = exists().where(TraceRow.id == Reservation.trace_id, TraceRow.project_id == project_id)
    latest_other = (
        select(Reservation.trace_id)
        .where(Reservation.username == username, in_project, Reservation.trace_id != trace_id)
        .order_by(Reservation.expires_at.desc())
        .limit(HOLDS_PER_PERSON - 1)
    )
    kept = list(session.execute(latest_other).scalars())
    session.execute(
        delete(Reservation).where(Reservation.username == username, in_project, Reservation.trace_id.not_in(kept))
    )
    try:
        with session.begin_nested():
            session.execute(insert(Reservation).values(trace_id=trace_id, username=username, expires_at=until))
    except IntegrityError:
        pass  # another tab of the same person reserved it at the same moment: it is held either way


def lock_trace(session: Session, *, trace_id: int) -> None:
    """Serialise writers of one trace: a row lock on PostgreSQL. SQLite has one writer at a time, and a
    transaction holds that lock from its first write, so there the caller writes before it re-checks."""
    session.execute(select(TraceRow.id).where(TraceRow.id == trace_id).with_for_update())


def lock_traces(session: Session, *, trace_ids: Sequence[int]) -> None:
    """Serialise writers of these traces before they read anything: row locks in id order on PostgreSQL (so two
    writers never wait on each other in a circle); on SQLite a first write, which takes the database's one write
    lock for the rest of the transaction."""
    if not trace_ids:
        return
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(TraceRow).where(TraceRow.id == trace_ids[0]).values(complete=TraceRow.complete))
        return
    ids = sorted(trace_ids)
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        session.execute(select(TraceRow.id).where(TraceRow.id.in_(chunk)).order_by(TraceRow.id).with_for_update())


def still_open_to(session: Session, *, trace_id: int, username: str, needed: int, now: datetime) -> bool:
    """Whether the trace is still open to this person, counting everyone else's holds and submissions."""
    held = session.execute(
        select(TraceRow.qc, ~_held_by_others(username, now, needed)).where(TraceRow.id == trace_id)
    ).one()
    return bool(held[0] or held[1])


def release(session: Session, *, trace_id: int, username: str) -> None:
    session.execute(delete(Reservation).where(Reservation.trace_id == trace_id, Reservation.username == username))


def get_draft(session: Session, *, trace_id: int, username: str) -> Draft | None:
    return session.execute(
        select(Draft).where(Draft.trace_id == trace_id, Draft.username == username)
    ).scalar_one_or_none()


def save_draft(
    session: Session,
    *,
    trace_id: int,
    username: str,
    content: dict[str, Any],
    base_version: int,
    expected_version: int | None,
) -> int:
    """Write a draft; ``expected_version`` None means "there was none". Returns the draft's new version.

    Raises DraftConflict when another tab wrote it in between, so neither tab's work is silently lost.
    """
    now = utcnow()
    if expected_version is None:
        if get_draft(session, trace_id=trace_id, username=username) is not None:
            raise DraftConflict(f"trace {trace_id} already has a draft by {username}")
        try:
            with session.begin_nested():
                session.execute(
                    insert(Draft).values(
                        trace_id=trace_id,
                        username=username,
                        content=content,
                        base_version=base_version,
                        version=1,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            # Another tab wrote the first draft at the same moment.
            raise DraftConflict(f"trace {trace_id} already has a draft by {username}") from None
        return 1
    result = session.execute(
        update(Draft)
        .where(Draft.trace_id == trace_id, Draft.username == username, Draft.version == expected_version)
        .values(content=content, base_version=base_version, version=expected_version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise DraftConflict(f"the draft of trace {trace_id} changed since version {expected_version}")
    return expected_version + 1


def delete_draft(session: Session, *, trace_id: int, username: str, expected_version: int | None = None) -> None:
    """Remove a draft; with ``expected_version``, only that version (DraftConflict when another tab moved on)."""
    query = delete(Draft).where(Draft.trace_id == trace_id, Draft.username == username)
    if expected_version is None:
        session.execute(query)
        return
    if session.execute(query.where(Draft.version == expected_version)).rowcount != 1:
        raise DraftConflict(f"the draft of trace {trace_id} changed since version {expected_version}")


def human_judgment(session: Session, *, trace_id: int, username: str) -> JudgmentRow | None:
    return session.execute(
        select(JudgmentRow).where(
            JudgmentRow.trace_id == trace_id, JudgmentRow.source_kind == "human", JudgmentRow.source_name == username
        )
    ).scalar_one_or_none()


def refresh_completion(
    session: Session, *, project_id: int, needed: int, trace_ids: Iterable[int] | None = None
) -> None:
    """Recompute ``trace.complete`` from the submitted human judgments (after imports or a settings change)."""
    submitted = _submitted_count()
    query = update(TraceRow).where(TraceRow.project_id == project_id)
    if trace_ids is not None:
        query = query.where(TraceRow.id.in_(list(trace_ids)))
    session.execute(query.values(complete=submitted >= needed))


def my_work(session: Session, *, project_id: int, username: str, limit: int = 200) -> list[tuple[int, int, str, Any]]:
    """(trace id, position, status, when) of this person's judgments and drafts, latest first."""
    judged = session.execute(
        select(TraceRow.id, TraceRow.position, JudgmentRow.status, JudgmentRow.updated_at)
        .join(JudgmentRow, JudgmentRow.trace_id == TraceRow.id)
        .where(
            TraceRow.project_id == project_id,
            JudgmentRow.source_kind == "human",
            JudgmentRow.source_name == username,
        )
        .order_by(JudgmentRow.updated_at.desc())
        .limit(limit)
    ).all()
    drafts = session.execute(
        select(TraceRow.id, TraceRow.position, Draft.updated_at)
        .join(Draft, Draft.trace_id == TraceRow.id)
        .where(TraceRow.project_id == project_id, Draft.username == username)
        .order_by(Draft.updated_at.desc())
        .limit(limit)
    ).all()
    rows = [(t, p, "draft", w) for t, p, w in drafts] + [(t, p, s, w) for t, p, s, w in judged]
    return sorted(rows, key=lambda r: r[3], reverse=True)[:limit]


def project_totals(session: Session, *, project_id: int) -> dict[str, int]:
    """Counts over the whole project (they grow with it, so pages may cache them briefly)."""
    traces, complete, qc, open_ = session.execute(
        select(
            func.count(TraceRow.id),
            func.coalesce(func.sum(cast(TraceRow.complete, Integer)), 0),
            func.coalesce(func.sum(cast(TraceRow.qc, Integer)), 0),
            func.coalesce(func.sum(cast(~TraceRow.complete & ~TraceRow.qc, Integer)), 0),
        ).where(TraceRow.project_id == project_id)
    ).one()
    return {"traces": traces, "complete": int(complete), "qc": int(qc), "open": int(open_)}


def my_counts(session: Session, *, project_id: int, username: str) -> dict[str, int]:
    """This person's submissions in the project: all, on still-open traces, on QC traces (by index)."""
    mine, on_open, on_qc = session.execute(
        select(
            func.count(JudgmentRow.id),
            func.coalesce(func.sum(cast(~TraceRow.complete & ~TraceRow.qc, Integer)), 0),
            func.coalesce(func.sum(cast(TraceRow.qc, Integer)), 0),
        )
        .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
        .where(
            JudgmentRow.source_kind == "human",
            JudgmentRow.source_name == username,
            JudgmentRow.status == "submitted",
            TraceRow.project_id == project_id,
        )
    ).one()
    return {"mine": mine, "mine_on_open": int(on_open), "mine_on_qc": int(on_qc)}


def has_qc(session: Session, *, project_id: int) -> bool:
    query = select(TraceRow.id).where(TraceRow.project_id == project_id, TraceRow.qc.is_(True)).limit(1)
    return session.execute(query).first() is not None


def count_mine(session: Session, *, project_id: int, username: str) -> int:
    return my_counts(session, project_id=project_id, username=username)["mine"]


def model_first_errors(session: Session, *, project_id: int) -> list[tuple[int, int | None]]:
    return list(
        session.execute(
            select(JudgmentRow.trace_id, JudgmentRow.first_error)
            .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
            .where(TraceRow.project_id == project_id, JudgmentRow.source_kind == "model")
        ).all()
    )


def set_priorities(session: Session, *, project_id: int, priorities: dict[int, float]) -> None:
    """Every trace of the project gets its priority from ``priorities`` (0 when absent)."""
    session.execute(update(TraceRow).where(TraceRow.project_id == project_id).values(priority=0.0))
    for trace_id, priority in priorities.items():
        session.execute(update(TraceRow).where(TraceRow.id == trace_id).values(priority=priority))


def traces_at(session: Session, *, project_id: int, positions: Sequence[int]) -> dict[int, int]:
    """position -> trace id for the given positions that exist."""
    rows = session.execute(
        select(TraceRow.position, TraceRow.id).where(
            TraceRow.project_id == project_id, TraceRow.position.in_(list(positions))
        )
    ).all()
    return dict(rows)


def with_reference(session: Session, *, trace_ids: Sequence[int]) -> set[int]:
    rows = session.execute(
        select(JudgmentRow.trace_id).where(
            JudgmentRow.trace_id.in_(list(trace_ids)),
            JudgmentRow.source_kind == "reference",
            JudgmentRow.first_error.is_not(None),
        )
    ).scalars()
    return set(rows)


def set_qc(session: Session, *, trace_ids: Sequence[int], qc: bool) -> None:
    session.execute(update(TraceRow).where(TraceRow.id.in_(list(trace_ids))).values(qc=qc))


def qc_pairs(session: Session, *, project_id: int) -> tuple[int, list[tuple[str, int | None, int | None]]]:
    """(count of QC traces, [(annotator, their first error, the reference's)] over submitted judgments)."""
    n_qc = session.execute(
        select(func.count(TraceRow.id)).where(TraceRow.project_id == project_id, TraceRow.qc.is_(True))
    ).scalar()
    human = JudgmentRow.__table__.alias("human")
    reference = JudgmentRow.__table__.alias("reference")
    rows = session.execute(
        select(human.c.source_name, human.c.first_error, reference.c.first_error)
        .join(TraceRow, TraceRow.id == human.c.trace_id)
        .join(reference, reference.c.trace_id == human.c.trace_id)
        .where(
            TraceRow.project_id == project_id,
            TraceRow.qc.is_(True),
            human.c.source_kind == "human",
            human.c.status == "submitted",
            reference.c.source_kind == "reference",
        )
    ).all()
    return n_qc, [tuple(r) for r in rows]
