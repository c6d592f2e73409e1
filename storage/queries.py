"""Plain functions over a session: every read and write the rest of Redline needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, update
from sqlmodel import Session, select

from storage.tables import JudgmentRevision, JudgmentRow, Project, StoredImage, TraceRow, utcnow

WRITE_CHUNK = 5_000


class StaleJudgment(Exception):
    """The judgment changed since the caller read it; nothing was written."""


def get_project(session: Session, *, name: str) -> Project | None:
    return session.exec(select(Project).where(Project.name == name)).first()


def create_project(session: Session, *, name: str, **settings: Any) -> Project:
    project = Project(name=name, **settings)
    session.add(project)
    session.flush()
    return project


def ensure_project(session: Session, *, name: str) -> Project:
    """The project, created when missing (a writer creating it at the same moment makes this one's insert fail
    with IntegrityError: the caller starts again)."""
    return get_project(session, name=name) or create_project(session, name=name)


def lock_project(session: Session, *, project_id: int) -> None:
    """Writers that number a project's traces take turns: a row lock on PostgreSQL, the write lock on SQLite."""
    if session.get_bind().dialect.name == "sqlite":
        session.exec(update(Project).where(Project.id == project_id).values(name=Project.name))
    else:
        session.exec(select(Project.id).where(Project.id == project_id).with_for_update())


def list_projects(session: Session) -> list[Project]:
    return list(session.exec(select(Project).order_by(Project.created_at, Project.id)))


def trace_keys(session: Session, *, project_id: int) -> dict[str, int]:
    return dict(session.exec(select(TraceRow.content_key, TraceRow.id).where(TraceRow.project_id == project_id)).all())


def next_position(session: Session, *, project_id: int) -> int:
    top = session.exec(select(func.max(TraceRow.position)).where(TraceRow.project_id == project_id)).one()
    return 0 if top is None else top + 1


def insert_traces(session: Session, *, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many traces at once; returns their ids in the order given."""
    table = TraceRow.__table__
    ids: list[int] = []
    for start in range(0, len(rows), WRITE_CHUNK):
        chunk = rows[start : start + WRITE_CHUNK]
        result = session.exec(insert(table).returning(table.c.id, sort_by_parameter_order=True), params=chunk)
        ids.extend(result.scalars())
    return ids


def store_images(session: Session, *, project_id: int, images: Iterable[Any], now: datetime) -> int:
    """Images (each with ``name``, ``media_type``, ``data``) the project does not hold yet; how many were new."""
    images = list(images)
    if not images:
        return 0
    have = set(
        session.exec(
            select(StoredImage.name).where(
                StoredImage.project_id == project_id, StoredImage.name.in_([i.name for i in images])
            )
        ).all()
    )
    rows = [
        {
            "project_id": project_id,
            "name": i.name,
            "media_type": i.media_type,
            "size": len(i.data),
            "data": i.data,
            "created_at": now,
        }
        for i in images
        if i.name not in have
    ]
    for row in rows:
        session.exec(insert(StoredImage.__table__), params=[row])
    return len(rows)


def images_named(session: Session, *, project_id: int, names: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    """The stored images of the project by name: (media type, bytes)."""
    names = list(set(names))
    if not names:
        return {}
    rows = session.exec(
        select(StoredImage.name, StoredImage.media_type, StoredImage.data).where(
            StoredImage.project_id == project_id, StoredImage.name.in_(names)
        )
    ).all()
    return {name: (media_type, data) for name, media_type, data in rows}


def image_names(session: Session, *, project_id: int, names: Iterable[str]) -> set[str]:
    """Which of ``names`` the project stores (their data left unread)."""
    found: set[str] = set()
    names = sorted(set(names))
    for start in range(0, len(names), WRITE_CHUNK):
        chunk = names[start : start + WRITE_CHUNK]
        query = select(StoredImage.name).where(StoredImage.project_id == project_id, StoredImage.name.in_(chunk))
        found.update(session.exec(query))
    return found


#: What identifies a trace to a labels file: its row id, position, record id, file, text and steps version.
TRACE_IDENTITY = (
    TraceRow.id,
    TraceRow.position,
    TraceRow.record_id,
    TraceRow.source_file,
    TraceRow.problem,
    TraceRow.steps,
    TraceRow.steps_version,
)


def traces_with_record_ids(session: Session, *, project_id: int, record_ids: Sequence[str]) -> list[Any]:
    """The project's traces whose record id is one of these (TRACE_IDENTITY columns)."""
    found: list[Any] = []
    ids = sorted(set(record_ids))
    for start in range(0, len(ids), WRITE_CHUNK):
        chunk = ids[start : start + WRITE_CHUNK]
        query = select(*TRACE_IDENTITY).where(TraceRow.project_id == project_id, TraceRow.record_id.in_(chunk))
        found.extend(session.exec(query).all())
    return found


def iter_trace_identities(session: Session, *, project_id: int) -> Iterable[Any]:
    """Every trace of the project (TRACE_IDENTITY columns), streamed in import order."""
    query = select(*TRACE_IDENTITY).where(TraceRow.project_id == project_id).order_by(TraceRow.position)
    return session.exec(query.execution_options(yield_per=WRITE_CHUNK))


def trace_steps(session: Session, *, trace_id: int) -> list[str] | None:
    found = session.exec(select(TraceRow.steps).where(TraceRow.id == trace_id)).first()
    return None if found is None else list(found)


def steps_versions(session: Session, *, trace_ids: Sequence[int]) -> dict[int, int]:
    """Which version of their steps these traces are at (bumped by a merge or split)."""
    found: dict[int, int] = {}
    ids = sorted(set(trace_ids))
    for start in range(0, len(ids), WRITE_CHUNK):
        query = select(TraceRow.id, TraceRow.steps_version).where(TraceRow.id.in_(ids[start : start + WRITE_CHUNK]))
        found.update({i: v or 1 for i, v in session.exec(query).all()})
    return found


def set_taxonomy(session: Session, *, project_id: int, taxonomy: list[str]) -> None:
    session.exec(update(Project).where(Project.id == project_id).values(taxonomy=taxonomy))


def restructured(session: Session, *, trace_ids: Sequence[int]) -> set[int]:
    """Those of the traces whose steps an annotator merged or split since import."""
    found: set[int] = set()
    for start in range(0, len(trace_ids), WRITE_CHUNK):
        chunk = list(trace_ids[start : start + WRITE_CHUNK])
        query = select(TraceRow.id).where(TraceRow.id.in_(chunk), TraceRow.steps_version > 1)
        found.update(session.exec(query).all())
    return found


def insert_judgments(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    table = JudgmentRow.__table__
    for start in range(0, len(rows), WRITE_CHUNK):
        session.exec(insert(table), params=rows[start : start + WRITE_CHUNK])


def judgments_on(session: Session, *, trace_ids: Iterable[int]) -> list[JudgmentRow]:
    ids = list(trace_ids)
    found: list[JudgmentRow] = []
    for start in range(0, len(ids), WRITE_CHUNK):
        chunk = ids[start : start + WRITE_CHUNK]
        found.extend(session.exec(select(JudgmentRow).where(JudgmentRow.trace_id.in_(chunk))))
    return found


def revise_judgment(
    session: Session, *, judgment: JudgmentRow, content: dict[str, Any], expected_version: int, changed_by: str = ""
) -> JudgmentRow:
    """Replace a judgment's content, keeping its current state as a revision.

    Refused with StaleJudgment when someone else changed it after ``expected_version`` was read.
    """
    previous = judgment_content(judgment)
    now = utcnow()
    result = session.exec(
        update(JudgmentRow)
        .where(JudgmentRow.id == judgment.id, JudgmentRow.version == expected_version)
        .values(**content, version=expected_version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise StaleJudgment(f"judgment {judgment.id} changed since version {expected_version}")
    session.add(
        JudgmentRevision(
            judgment_id=judgment.id, version=expected_version, content=previous, changed_by=changed_by, recorded_at=now
        )
    )
    session.flush()
    session.refresh(judgment)
    return judgment


def judgment_content(row: JudgmentRow) -> dict[str, Any]:
    return {
        "first_error": row.first_error,
        "steps": row.steps,
        "critique": row.critique,
        "solution_correct": row.solution_correct,
        "finish_reason": row.finish_reason,
        "status": row.status,
        "time_spent_s": row.time_spent_s,
        "extra": row.extra,
        "spans": row.spans or [],
        "missing": row.missing or [],
        "corrected_answer": row.corrected_answer,
    }


def revisions_of(session: Session, *, judgment_id: int) -> list[JudgmentRevision]:
    query = (
        select(JudgmentRevision).where(JudgmentRevision.judgment_id == judgment_id).order_by(JudgmentRevision.version)
    )
    return list(session.exec(query))


def traces_in(session: Session, *, project_id: int, limit: int | None = None, offset: int = 0) -> list[TraceRow]:
    query = select(TraceRow).where(TraceRow.project_id == project_id).order_by(TraceRow.position).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def traces_after(session: Session, *, project_id: int, position: int, limit: int) -> list[TraceRow]:
    """The ``limit`` traces that follow ``position`` in import order."""
    query = (
        select(TraceRow)
        .where(TraceRow.project_id == project_id, TraceRow.position > position)
        .order_by(TraceRow.position)
        .limit(limit)
    )
    return list(session.exec(query))


def generator_counts(session: Session, *, project_id: int) -> dict[str, int]:
    """How many traces each generating model wrote, in one project (traces without a generator left out)."""
    query = (
        select(TraceRow.generator, func.count(TraceRow.id))
        .where(TraceRow.project_id == project_id, TraceRow.generator.is_not(None))
        .group_by(TraceRow.generator)
    )
    return dict(session.exec(query).all())


def project_counts(session: Session, *, project_ids: Sequence[int] | None = None) -> dict[int, dict[str, int]]:
    """Per project: traces, steps, and per source kind the judgments, those saying "no error", those submitted."""
    trace_q = select(TraceRow.project_id, func.count(TraceRow.id), func.coalesce(func.sum(TraceRow.n_steps), 0))
    if project_ids is not None:
        trace_q = trace_q.where(TraceRow.project_id.in_(project_ids))
    counts: dict[int, dict[str, int]] = {}
    for pid, n_traces, n_steps in session.exec(trace_q.group_by(TraceRow.project_id)):
        counts[pid] = {"traces": n_traces, "steps": int(n_steps)}
    judged_q = (
        select(
            TraceRow.project_id,
            JudgmentRow.source_kind,
            func.count(JudgmentRow.id),
            func.sum(case((JudgmentRow.first_error == -1, 1), else_=0)),
            func.sum(case((JudgmentRow.status == "submitted", 1), else_=0)),
        )
        .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
        .group_by(TraceRow.project_id, JudgmentRow.source_kind)
    )
    if project_ids is not None:
        judged_q = judged_q.where(TraceRow.project_id.in_(project_ids))
    for pid, kind, n, no_error, submitted in session.exec(judged_q):
        entry = counts.setdefault(pid, {"traces": 0, "steps": 0})
        entry[f"judgments_{kind}"] = n
        entry[f"no_error_{kind}"] = int(no_error or 0)
        entry[f"submitted_{kind}"] = int(submitted or 0)
    return counts


def traces_with_judgments(
    session: Session, *, project_id: int, limit: int | None = None, offset: int = 0
) -> list[tuple[TraceRow, list[JudgmentRow]]]:
    traces = traces_in(session, project_id=project_id, limit=limit, offset=offset)
    by_trace: dict[int, list[JudgmentRow]] = {t.id: [] for t in traces}
    for j in judgments_on(session, trace_ids=by_trace):
        by_trace[j.trace_id].append(j)
    return [(t, by_trace[t.id]) for t in traces]
