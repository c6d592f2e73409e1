"""The span measures of a project, for the Compare page and the CLI: loaded in plain columns, as far as the viewer
may see (judgments.visibility), then measured by annotation.metrics.spans."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Text, func, literal_column, null, select, type_coerce

from annotation.core.json_columns import decode, decode_all
from annotation.core.model import Judgment, Source, StepLabel, Trace
from annotation.core.parts import read_structure, steps_of
from annotation.core.spans import ANSWER, PART_FIELDS
from annotation.judgments.visibility import ProjectView
from annotation.metrics.span_frames import COLUMNS, FIELD_CODES, agreement, char_alpha
from annotation.metrics.spans import PRF, Place, Propagation, SpanAgreement, over_propagation
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
    # A critic's quotes (on either side) found in no step, and all it gave.
    unmatched_quotes: int = 0
    quotes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "agreement": self.agreement.as_dict(),
            "char_alpha": self.alpha,
            "char_alpha_traces": self.alpha_traces,
            "over_propagation": self.over_propagation,
            "over_propagation_steps": self.propagation_steps,
            "unmatched_quotes": self.unmatched_quotes,
            "quotes": self.quotes,
        }


def text_lengths(trace: Trace) -> dict[Place, int]:
    """Every text a span may mark in the trace, by place, with its length in code points."""
    out: dict[Place, int] = {}
    for i, step in enumerate(steps_of(trace)):
        for k, part in enumerate(step.parts):
            field = PART_FIELDS.get(part.type)
            if field is not None:
                out[(i, k, field)] = len(getattr(part, field) or "")
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
                # Step labels only for a critic against people (over-propagation): the rest reads spans alone.
                type_coerce(_J.steps, Text) if a.startswith("model:") != b.startswith("model:") else null(),
                type_coerce(_J.spans, Text),
                _T.qc,
            )
            .join(TraceRow.__table__, _T.id == _J.trace_id)
            .where(_T.project_id == project_id, _J.status == "submitted")
        ).all()
    rows = [r for r in rows if view.may_see(r[1], r[2], qc=bool(r[6]))]
    names = [f"{r[1]}:{r[2]}" if r[2] else r[1] for r in rows]
    frame = _frame(rows, names, decode_all([r[5] for r in rows]))
    if frame.empty:
        return None
    judged: dict[int, list[str]] = defaultdict(list)
    for row, name in zip(rows, names, strict=True):
        judged[row[0]].append(name)
    agreement = _agreement(frame, judged, a, b)
    alpha, n = _alpha(engine, frame, judged)
    propagation = _propagation(rows, names, a, b)
    unmatched, quotes = _quotes(engine, project_id, [x for x in (a, b) if x.startswith("model:")])
    return SpanReport(a, b, agreement, alpha, n, propagation.rate, propagation.steps, unmatched, quotes)


def _quotes(engine: Engine, project_id: int, models: list[str]) -> tuple[int, int]:
    """How many quotes the critics gave, and how many of them matched no text (annotation.critics.quotes)."""
    if not models:
        return 0, 0
    names = [m.partition(":")[2] for m in models]
    quotes = JudgmentRow.extra["quotes"]
    query = (
        select(func.sum(quotes["unmatched"].as_integer()), func.sum(quotes["matched"].as_integer()))
        .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
        .where(
            TraceRow.project_id == project_id, JudgmentRow.source_kind == "model", JudgmentRow.source_name.in_(names)
        )
    )
    with engine.connect() as c:
        unmatched, matched = c.execute(query).one()
    return int(unmatched or 0), int(unmatched or 0) + int(matched or 0)


def _frame(rows: list, names: list[str], spans: list[Any]) -> pd.DataFrame:
    """Every span as a row (trace, source, place, start, end, type), built column by column."""
    counts = np.fromiter((len(found) if found else 0 for found in spans), np.int64, len(spans))
    if not counts.sum():
        return pd.DataFrame(columns=COLUMNS)
    dicts = [d for found in spans if found for d in found]
    n = len(dicts)
    step = np.fromiter((-1 if (x := d.get("step")) is None else x for d in dicts), np.int64, n)
    part = np.fromiter((d.get("part", 0) for d in dicts), np.int64, n)
    field = np.fromiter((FIELD_CODES.get(d.get("field", "text"), 0) for d in dicts), np.int64, n)
    source_codes, source_names = pd.factorize(pd.Series(names, dtype=object))
    return pd.DataFrame(
        {
            "trace": np.repeat(np.fromiter((r[0] for r in rows), np.int64, len(rows)), counts),
            "source": pd.Categorical.from_codes(np.repeat(source_codes, counts), categories=source_names),
            "place": (step + 1) * 1_000_000 + part * 4 + field,
            "start": np.fromiter((d["start"] for d in dicts), np.int64, n),
            "end": np.fromiter((d["end"] for d in dicts), np.int64, n),
            "type": pd.Categorical([d["type"] for d in dicts]),
        }
    )


def _agreement(frame: pd.DataFrame, judged: dict[int, list[str]], a: str, b: str) -> SpanAgreement:
    """A against B on the traces both judged; ``human:*`` stands for each person in turn against B."""
    if a == ALL_HUMANS or b == ALL_HUMANS:
        return _all_humans(frame, judged, a, b)
    both = np.array([t for t, who in judged.items() if a in who and b in who and a != b], dtype=np.int64)
    return agreement(frame, a, b, both)


def _all_humans(frame: pd.DataFrame, judged: dict[int, list[str]], a: str, b: str) -> SpanAgreement:
    total = SpanAgreement()
    people = sorted({n for who in judged.values() for n in who if n.startswith("human:")})
    for person in people:
        x, y = (person, b) if a == ALL_HUMANS else (a, person)
        if x == y:
            continue
        part = _agreement(frame, judged, x, y)
        total.traces += part.traces
        for mine, theirs in ((total.exact, part.exact), (total.overlap, part.overlap)):
            _add(mine, theirs)
        for t, per in part.by_type.items():
            into = total.by_type.setdefault(t, {"exact": PRF(), "overlap": PRF()})
            for k in ("exact", "overlap"):
                _add(into[k], per[k])
    return total


def _add(into: PRF, more: PRF) -> None:
    into.matched_a += more.matched_a
    into.matched_b += more.matched_b
    into.n_a += more.n_a
    into.n_b += more.n_b


def _propagation(rows: list, names: list[str], a: str, b: str) -> Propagation:
    """A critic against people: how often it calls later steps wrong that they call right."""
    if a.startswith("model:") == b.startswith("model:"):
        return Propagation()
    human, model = (b, a) if a.startswith("model:") else (a, b)
    by_trace: dict[int, dict[str, Any]] = defaultdict(dict)
    for row, name in zip(rows, names, strict=True):
        if name in (model, human) or (human == ALL_HUMANS and name.startswith("human:")):
            by_trace[row[0]][name] = row
    pairs = []
    for judged in by_trace.values():
        if model not in judged:
            continue
        for name, row in judged.items():
            if name != model:
                pairs.append((_judgment(row), _judgment(judged[model])))
    return over_propagation(pairs)


def _judgment(row: Any) -> Judgment:
    steps = decode(row[4]) or []
    labels = [StepLabel(verdict=s.get("verdict"), because_of=s.get("because_of")) for s in steps]
    return Judgment(Source("reference"), first_error=row[3], steps=labels)


def _text_lengths(engine: Engine, ids: list[int]) -> dict[int, int]:
    """Each trace's total text length in characters: summed by the database for text traces, from the parts
    for the others."""
    lengths: dict[int, int] = {}
    with engine.connect() as c:
        in_step_texts = (
            "(SELECT sum(char_length(x)) FROM jsonb_array_elements_text(trace.steps) x)"
            if c.dialect.name == "postgresql"
            else "(SELECT sum(length(e.value)) FROM json_each(trace.steps) e)"
        )
        for start in range(0, len(ids), 5_000):
            chunk = ids[start : start + 5_000]
            plain = select(_T.id, literal_column(in_step_texts), func.coalesce(func.length(_T.answer), 0)).where(
                _T.id.in_(chunk), _T.structure.is_(None)
            )
            lengths.update({t: int(n or 0) + int(a or 0) for t, n, a in c.execute(plain)})
            rich = select(_T.id, type_coerce(_T.steps, Text), type_coerce(_T.structure, Text), _T.answer).where(
                _T.id.in_(chunk), _T.structure.is_not(None)
            )
            for trace_id, steps, structure, answer in c.execute(rich):
                trace = Trace(problem="-", steps=decode(steps), answer=answer)
                read_structure(trace, decode(structure))
                lengths[trace_id] = sum(text_lengths(trace).values())
    return lengths


def _alpha(engine: Engine, frame: pd.DataFrame, judged: dict[int, list[str]]) -> tuple[float | None, int]:
    """Among the people who judged a trace, on traces where two or more did and one of them marked a span."""
    people = frame[frame["source"].astype(str).str.startswith("human:")]
    marked = set(people["trace"].unique().tolist())
    coders = {t: [n for n in who if n.startswith("human:")] for t, who in judged.items() if t in marked}
    coders = {t: c for t, c in coders.items() if len(c) >= 2}
    if not coders:
        return None, 0
    lengths = _text_lengths(engine, sorted(coders))
    return char_alpha(people, coders, lengths), len(coders)
