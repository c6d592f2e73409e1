"""The span measures of a project, for the Compare page and the CLI: loaded in plain columns, as far as the viewer
may see (judgments.visibility), then measured by annotation.metrics.spans."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Text, select, type_coerce

from annotation.core.model import Judgment, Source, StepLabel, Trace
from annotation.core.parts import read_structure, steps_of
from annotation.core.spans import ANSWER, Span, spans_from_data
from annotation.judgments.visibility import ProjectView
from annotation.metrics.spans import Place, SpanAgreement, char_alpha, over_propagation, span_agreement
from storage.tables import JudgmentRow, Project, TraceRow

_J = JudgmentRow.__table__.c
_T = TraceRow.__table__.c
ALL_HUMANS = "human:*"


@dataclass
class SpanReport:
    a: str
    b: str
    agreement: SpanAgreement
    alpha: float | None
    alpha_traces: int
    over_propagation: float | None
    propagation_steps: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "agreement": self.agreement.as_dict(),
            "char_alpha": self.alpha,
            "char_alpha_traces": self.alpha_traces,
            "over_propagation": self.over_propagation,
            "over_propagation_steps": self.propagation_steps,
        }


def _decode(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def text_lengths(trace: Trace) -> dict[Place, int]:
    """Every text a span may mark in the trace, by place, with its length in code points."""
    out: dict[Place, int] = {}
    for i, step in enumerate(steps_of(trace)):
        for k, part in enumerate(step.parts):
            if part.type in ("text", "thinking"):
                out[(i, k, "text")] = len(part.text or "")
            elif part.type == "tool_call":
                out[(i, k, "arguments")] = len(part.arguments or "")
            elif part.type == "tool_result":
                out[(i, k, "content")] = len(part.content or "")
    if trace.answer:
        out[(None, 0, ANSWER)] = len(trace.answer)
    return out


def span_report(engine: Engine, project: str, a: str, b: str, view: ProjectView | None = None) -> SpanReport | None:
    """None when no judgment of the project that ``view`` may see has a span."""
    view = view or ProjectView.admin()
    with engine.connect() as c:
        project_id = c.execute(select(Project.__table__.c.id).where(Project.__table__.c.name == project)).scalar()
        if project_id is None:
            return None
        rows = c.execute(
            select(
                _J.trace_id,
                _J.source_kind,
                _J.source_name,
                _J.first_error,
                type_coerce(_J.steps, Text),
                type_coerce(_J.spans, Text),
                _T.qc,
            )
            .join(TraceRow.__table__, _T.id == _J.trace_id)
            .where(_T.project_id == project_id, _J.status == "submitted")
        ).all()
    by_trace: dict[int, dict[str, tuple[int | None, Any, list[Span]]]] = defaultdict(dict)
    any_span = False
    for trace_id, kind, name, first, steps, spans, qc in rows:
        if not view.may_see(kind, name, qc=bool(qc)):
            continue
        found = spans_from_data(_decode(spans))
        any_span = any_span or bool(found)
        by_trace[trace_id][str(Source(kind, name))] = (first, steps, found)
    if not any_span:
        return None
    pairs = []
    for judged in by_trace.values():
        side_a, side_b = _side(judged, a), _side(judged, b)
        pairs.extend((x, y) for x in side_a for y in side_b if x is not y)
    agreement = span_agreement((x[2], y[2]) for x, y in pairs)
    # A critic against people: how often it calls later steps wrong that they call right.
    if b.startswith("model:") and not a.startswith("model:"):
        human_and_model = pairs
    elif a.startswith("model:") and not b.startswith("model:"):
        human_and_model = [(y, x) for x, y in pairs]
    else:
        human_and_model = []
    propagation = over_propagation((_judgment(h), _judgment(m)) for h, m in human_and_model)
    alpha, n = _alpha(engine, by_trace)
    return SpanReport(a, b, agreement, alpha, n, propagation.rate, propagation.steps)


def _side(judged: dict[str, tuple], source: str) -> list[tuple]:
    if source == ALL_HUMANS:
        return [v for k, v in judged.items() if k.startswith("human:")]
    return [judged[source]] if source in judged else []


def _judgment(values: tuple) -> Judgment:
    first, steps, spans = values
    labels = [StepLabel(**{k: s.get(k) for k in ("verdict", "because_of")}) for s in _decode(steps) or []]
    return Judgment(Source("reference"), first_error=first, steps=labels, spans=spans)


def _alpha(engine: Engine, by_trace: dict[int, dict[str, tuple]]) -> tuple[float | None, int]:
    """Among the people who judged a trace, on traces where two or more did and one of them marked a span."""
    wanted = {
        trace_id: {k: v[2] for k, v in judged.items() if k.startswith("human:")}
        for trace_id, judged in by_trace.items()
    }
    wanted = {t: coders for t, coders in wanted.items() if len(coders) >= 2 and any(coders.values())}
    if not wanted:
        return None, 0
    units = []
    ids = sorted(wanted)
    with engine.connect() as c:
        for start in range(0, len(ids), 2_000):
            chunk = ids[start : start + 2_000]
            query = select(_T.id, type_coerce(_T.steps, Text), type_coerce(_T.structure, Text), _T.answer).where(
                _T.id.in_(chunk)
            )
            for trace_id, steps, structure, answer in c.execute(query):
                trace = Trace(problem="-", steps=_decode(steps), answer=answer)
                read_structure(trace, _decode(structure))
                units.append((text_lengths(trace), wanted[trace_id]))
    return char_alpha(units), len(units)
