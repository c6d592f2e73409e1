"""Read a project's traces and judgments in chunks of plain columns, never a whole project of ORM objects.

Traces come in import order, a chunk at a time by position (the index the queue uses), and the
judgments of each chunk in one query. JSON columns are read as text and decoded here: SQLAlchemy's
per-value JSON processing took more than half of a 100,000-trace export. Step dicts are read
leniently: a step may carry keys beyond verdict/critique/tags (the annotation page keeps an
optional ``correction`` there).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Text, func, select, type_coerce

from annotation.core.json_columns import decode_all
from annotation.core.model import Judgment, Source, StepLabel, Trace
from annotation.core.parts import read_structure
from annotation.core.spans import missing_from_data, spans_from_data
from annotation.exporting.formats.base import ExportItem
from annotation.judgments.visibility import ProjectView
from storage.tables import Critic, CriticRun, JudgmentRow, Project, StoredImage, TraceRow

CHUNK = 2_000
_T = TraceRow.__table__.c
_J = JudgmentRow.__table__.c
TRACE_COLUMNS = (
    _T.id,
    _T.position,
    _T.record_id,
    _T.source_file,
    _T.problem,
    type_coerce(_T.steps, Text).label("steps"),
    _T.answer,
    _T.reference_answer,
    _T.reference_solution,
    _T.generator,
    type_coerce(_T.meta, Text).label("meta"),
    type_coerce(_T.structure, Text).label("structure"),
    _T.qc,
    _T.content_key,
)
JUDGMENT_COLUMNS = (
    _J.trace_id,
    _J.source_kind,
    _J.source_name,
    _J.first_error,
    type_coerce(_J.steps, Text).label("steps"),
    _J.critique,
    _J.solution_correct,
    _J.finish_reason,
    _J.status,
    _J.time_spent_s,
    type_coerce(_J.extra, Text).label("extra"),
    type_coerce(_J.updated_at, Text).label("updated_at"),
    type_coerce(_J.spans, Text).label("spans"),
    type_coerce(_J.missing, Text).label("missing"),
    _J.corrected_answer,
)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def project_row(engine: Engine, name: str) -> dict[str, Any] | None:
    p = Project.__table__.c
    with engine.connect() as c:
        row = c.execute(select(p.id, p.name, p.licence, p.description).where(p.name == name)).first()
    return None if row is None else dict(row._mapping)


def project_shape(engine: Engine, project_id: int) -> tuple[bool, bool]:
    """Whether any of the project's traces has parts (or context), and whether the project stores images."""
    i = StoredImage.__table__.c
    with engine.connect() as c:
        parts = c.execute(select(_T.id).where(_T.project_id == project_id, _T.structure.is_not(None)).limit(1)).first()
        images = c.execute(select(i.id).where(i.project_id == project_id).limit(1)).first()
    return parts is not None, images is not None


def last_critic_template(engine: Engine, project_id: int) -> str | None:
    """The prompt template of the critic that last ran on the project, None when none has."""
    r, c = CriticRun.__table__.c, Critic.__table__.c
    query = (
        select(c.template)
        .select_from(CriticRun.__table__.join(Critic.__table__, r.critic_id == c.id))
        .where(r.project_id == project_id)
        .order_by(r.started_at.desc(), r.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def count_traces(engine: Engine, project_id: int) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(TraceRow.__table__).where(_T.project_id == project_id)).one()[
            0
        ]


def _step_label(raw: Any) -> StepLabel:
    if not isinstance(raw, dict):
        return StepLabel()
    return StepLabel(
        verdict=raw.get("verdict"),
        critique=raw.get("critique"),
        tags=list(raw.get("tags") or []),
        correction=raw.get("correction") or None,
        because_of=raw.get("because_of"),
    )


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
    engine: Engine,
    project_id: int,
    *,
    only_submitted: bool = True,
    chunk: int = CHUNK,
    view: ProjectView | None = None,
) -> Iterator[ExportItem]:
    """Every trace of the project with the judgments ``view`` may see (all, for the operator), chunk by chunk, in
    import order."""
    view = view or ProjectView.admin()
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
        trace_json = decode_all([v for t in traces for v in (t.steps, t.meta, t.structure)])
        judgment_json = decode_all([v for j in judgments for v in (j.steps, j.extra, j.spans, j.missing)])
        by_trace: dict[int, list] = {}
        qc = {t.id: bool(t.qc) for t in traces}
        for k, j in enumerate(judgments):
            if view.may_see(j.source_kind, j.source_name, qc=qc[j.trace_id]):
                by_trace.setdefault(j.trace_id, []).append((j, *judgment_json[4 * k : 4 * k + 4]))
        for k, t in enumerate(traces):
            item = _item(t, *trace_json[3 * k : 3 * k + 3], by_trace.get(t.id, ()))
            if not view.sees_reference_fields(qc=qc[t.id]):
                item.trace.reference_answer = item.trace.reference_solution = None
            yield item
        last = traces[-1].position


def _source(kind: str, name: str, known: dict[tuple[str, str], Source] = {}) -> Source:  # noqa: B006
    """One checked Source per (kind, name) for the whole process: a project has few sources and many judgments."""
    found = known.get((kind, name))
    if found is None:
        found = known[(kind, name)] = Source(kind, name)
    return found


def _item(t: Any, steps: list[str], meta: dict[str, Any] | None, structure: Any, rows: Any) -> ExportItem:
    trace = Trace(
        problem=t.problem,
        steps=steps,
        answer=t.answer,
        reference_answer=t.reference_answer,
        reference_solution=t.reference_solution,
        generator=t.generator,
        record_id=t.record_id,
        source_file=t.source_file,
        metadata=meta or {},
    )
    read_structure(trace, structure)
    item = ExportItem(trace_id=t.id, position=t.position, trace=trace, judgments={}, content_key=t.content_key)
    for j, raw_steps, extra, spans, missing in rows:
        source = _source(j.source_kind, j.source_name)
        key = str(source)
        raw_steps = raw_steps or []
        extra = extra or {}
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
            spans=spans_from_data(spans) if spans else [],
            missing=missing_from_data(missing) if missing else [],
            corrected_answer=j.corrected_answer,
        )
        item.updated[key] = _time(j.updated_at)
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
