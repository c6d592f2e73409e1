"""Read a project's traces and judgments in chunks of plain columns, never a whole project of ORM objects.

Traces come in import order, a chunk at a time by position (the index the queue uses), and the
judgments of each chunk in one query. Step dicts are read leniently: a step may carry keys beyond
verdict/critique/tags (the annotation page keeps an optional ``correction`` there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, func, select

from annotation.exports.base import ExportItem
from annotation.model import Judgment, Source, StepLabel, Trace
from storage.tables import JudgmentRow, Project, TraceRow

CHUNK = 2_000
_T = TraceRow.__table__.c
_J = JudgmentRow.__table__.c
TRACE_COLUMNS = (
    _T.id,
    _T.position,
    _T.record_id,
    _T.source_file,
    _T.problem,
    _T.steps,
    _T.answer,
    _T.reference_answer,
    _T.reference_solution,
    _T.generator,
    _T.meta,
)
JUDGMENT_COLUMNS = (
    _J.trace_id,
    _J.source_kind,
    _J.source_name,
    _J.first_error,
    _J.steps,
    _J.critique,
    _J.solution_correct,
    _J.finish_reason,
    _J.status,
    _J.time_spent_s,
    _J.extra,
    _J.updated_at,
)


def project_row(engine: Engine, name: str) -> dict[str, Any] | None:
    p = Project.__table__.c
    with engine.connect() as c:
        row = c.execute(select(p.id, p.name, p.licence, p.description).where(p.name == name)).first()
    return None if row is None else dict(row._mapping)


def count_traces(engine: Engine, project_id: int) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(TraceRow.__table__).where(_T.project_id == project_id)).one()[
            0
        ]


def _step_label(raw: Any) -> StepLabel:
    if not isinstance(raw, dict):
        return StepLabel()
    return StepLabel(verdict=raw.get("verdict"), critique=raw.get("critique"), tags=list(raw.get("tags") or []))


def _corrections(steps: list[Any], extra: dict[str, Any]) -> dict[int, str]:
    """Corrections kept per step (``steps[i]["correction"]``) or in ``extra["corrections"]`` by step index."""
    found: dict[int, str] = {}
    for i, raw in enumerate(steps):
        if isinstance(raw, dict) and isinstance(raw.get("correction"), str) and raw["correction"].strip():
            found[i] = raw["correction"]
    kept = extra.get("corrections")
    if isinstance(kept, dict):
        for key, text in kept.items():
            if str(key).lstrip("-").isdigit() and isinstance(text, str) and text.strip():
                found.setdefault(int(key), text)
    return found


def iter_items(
    engine: Engine, project_id: int, *, only_submitted: bool = True, chunk: int = CHUNK
) -> Iterator[ExportItem]:
    """Every trace of the project with its judgments, chunk by chunk, in import order."""
    last = -1
    while True:
        with engine.connect() as c:
            traces = c.execute(
                select(*TRACE_COLUMNS)
                .where(_T.project_id == project_id, _T.position > last)
                .order_by(_T.position)
                .limit(chunk)
            ).all()
            if not traces:
                return
            query = select(*JUDGMENT_COLUMNS).where(_J.trace_id.in_([t.id for t in traces]))
            if only_submitted:
                query = query.where(_J.status == "submitted")
            judgments = c.execute(query).all()
        by_trace: dict[int, list] = {}
        for j in judgments:
            by_trace.setdefault(j.trace_id, []).append(j)
        for t in traces:
            yield _item(t, by_trace.get(t.id, ()))
        last = traces[-1].position


def _item(t: Any, rows: Any) -> ExportItem:
    trace = Trace(
        problem=t.problem,
        steps=list(t.steps),
        answer=t.answer,
        reference_answer=t.reference_answer,
        reference_solution=t.reference_solution,
        generator=t.generator,
        record_id=t.record_id,
        source_file=t.source_file,
        metadata=dict(t.meta or {}),
    )
    item = ExportItem(trace_id=t.id, position=t.position, trace=trace, judgments={})
    for j in rows:
        source = Source(j.source_kind, j.source_name)
        key = str(source)
        raw_steps = list(j.steps or [])
        extra = dict(j.extra or {})
        item.judgments[key] = Judgment(
            source=source,
            first_error=j.first_error,
            steps=[_step_label(s) for s in raw_steps],
            critique=j.critique,
            solution_correct=j.solution_correct,
            finish_reason=j.finish_reason,
            status=j.status,
            time_spent_s=j.time_spent_s,
            extra=extra,
        )
        item.updated[key] = j.updated_at
        corrections = _corrections(raw_steps, extra)
        if corrections:
            item.corrections[key] = corrections
    return item


def sources_in(engine: Engine, project_id: int) -> list[str]:
    """Every judgment source on the project's traces, as ``kind`` or ``kind:name``, sorted."""
    query = (
        select(_J.source_kind, _J.source_name)
        .join(TraceRow.__table__, _T.id == _J.trace_id)
        .where(_T.project_id == project_id)
        .distinct()
    )
    with engine.connect() as c:
        found = c.execute(query).all()
    return sorted(f"{kind}:{name}" if name else kind for kind, name in found)
