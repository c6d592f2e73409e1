"""The span measures of a project, for the Compare page and the CLI: loaded in plain columns, as far as the viewer
may see (judgments.visibility), then measured by annotation.metrics.span_frames (which the tests hold to the
plain implementation, annotation.metrics.spans)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Select, Text, cast, func, literal_column, null, select, type_coerce
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from annotation.core.gc_pause import gc_paused
from annotation.core.json_columns import decode
from annotation.core.model import Judgment, Source, StepLabel, Trace
from annotation.core.parts import read_structure, steps_of
from annotation.core.spans import ANSWER, PART_FIELDS
from annotation.judgments.visibility import ProjectView
from annotation.metrics.span_columns import CHUNK, SpanParser
from annotation.metrics.span_frames import agreement, alpha_of_units
from annotation.metrics.spans import PRF, Place, Propagation, SpanAgreement, over_propagation
from storage.tables import JudgmentRow, Project, TraceRow

_J = JudgmentRow.__table__.c
_T = TraceRow.__table__.c
ALL_HUMANS = "human:*"
T = TypeVar("T")


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
    # A row per judgment, a list per trace: hundreds of thousands of objects the cyclic collector would walk
    # again and again while they are made (they form no cycles).
    with gc_paused():
        return _span_report(engine, project, a, b, view or ProjectView.admin())


def _span_report(engine: Engine, project: str, a: str, b: str, view: ProjectView) -> SpanReport | None:
    critic_and_people = a.startswith("model:") != b.startswith("model:")
    with engine.connect() as c, SpanParser() as parser, ThreadPoolExecutor(2, "span-report") as helper:
        project_id = c.execute(select(Project.__table__.c.id).where(Project.__table__.c.name == project)).scalar()
        if project_id is None:
            return None
        rows: list[Any] = []
        for chunk in _chunks(c, _judgments_query(project_id, critic_and_people)):
            rows += chunk
            parser.add([r[5] for r in chunk])  # parsed in the parser's thread while the next chunk is fetched
        if not rows:
            return None
        trace_ids, kinds, source_names, _, _, _, qc = zip(*rows, strict=True)
        names = [f"{k}:{n}" if n else k for k, n in zip(kinds, source_names, strict=True)]
        visible = view.visible_mask(kinds, names, [bool(x) for x in qc])
        judged = Judged(np.asarray(trace_ids, dtype=np.int64)[visible], np.asarray(names, dtype=object)[visible])
        # Text lengths (for alpha) of the traces two or more people judged: the database sums them (letting go of
        # the GIL) on another connection while the spans are read.
        lengths = _in_background(helper, engine, _text_lengths, engine, project_id, set(judged.coders()[0].tolist()))
        frame = parser.frame(trace_ids, names, visible)
        if frame.empty:
            return None
        if not visible.all():
            rows, names = [r for r, v in zip(rows, visible, strict=True) if v], judged.sources()
        # Alpha on the helper's other thread while this one measures agreement (numpy lets go of the GIL).
        alpha_job = helper.submit(_alpha, frame, judged, lengths)
        agreement = _agreement(frame, judged, a, b)
        alpha, n = alpha_job.result()
    propagation = _propagation(rows, names, a, b) if critic_and_people else Propagation()
    unmatched, quotes = _quotes(engine, project_id, [x for x in (a, b) if x.startswith("model:")])
    return SpanReport(a, b, agreement, alpha, n, propagation.rate, propagation.steps, unmatched, quotes)


def _judgments_query(project_id: int, with_steps: bool) -> Select:
    return (
        select(
            _J.trace_id,
            _J.source_kind,
            _J.source_name,
            _J.first_error,
            # Step labels only for a critic against people (over-propagation): the rest reads spans alone.
            cast(_J.steps, Text) if with_steps else null(),
            # As text on every database (PostgreSQL's driver would decode jsonb into dicts): the parser reads it.
            cast(_J.spans, Text),
            _T.qc,
        )
        .join(TraceRow.__table__, _T.id == _J.trace_id)
        .where(_T.project_id == project_id, _J.status == "submitted")
    )


def _chunks(c: Connection, query: Select) -> Iterator[list[tuple]]:
    """The rows as plain tuples from the driver, CHUNK at a time: no result-row objects for 200,000 rows."""
    cursor = c.connection.driver_connection.cursor()
    try:
        cursor.execute(str(query.compile(dialect=c.dialect, compile_kwargs={"literal_binds": True})))
        while chunk := cursor.fetchmany(CHUNK):
            yield chunk
    finally:
        cursor.close()


def _in_background(pool: ThreadPoolExecutor, engine: Engine, work: Callable[..., T], *args: Any) -> Callable[[], T]:
    """``work(*args)`` on the pool's thread; here and now where another thread's connection would not reach this
    database (SQLite in memory: a connection per thread, or one shared by all)."""
    if isinstance(engine.pool, SingletonThreadPool | StaticPool):
        done = work(*args)
        return lambda: done
    return pool.submit(work, *args).result


class Judged:
    """Who judged which trace: a visible submitted judgment per row, by trace id and source name."""

    def __init__(self, trace: np.ndarray, source: np.ndarray) -> None:
        self.trace = trace
        codes, names = pd.factorize(source)
        self._codes, self._names = codes, list(names)
        self._humans = np.isin(codes, [k for k, n in enumerate(self._names) if n.startswith("human:")])

    def traces_of(self, name: str) -> np.ndarray:
        """Distinct: a source judges a trace once (judgment_once_per_source)."""
        if name not in self._names:
            return np.zeros(0, dtype=np.int64)
        return self.trace[self._codes == self._names.index(name)]

    def both(self, a: str, b: str) -> np.ndarray:
        if a == b:
            return np.zeros(0, dtype=np.int64)
        mine = self.traces_of(a)
        return mine[pd.Series(mine).isin(self.traces_of(b)).to_numpy()]

    def people(self) -> list[str]:
        return sorted(n for n in self._names if n.startswith("human:"))

    def coders(self) -> tuple[np.ndarray, np.ndarray]:
        """The traces two or more people judged, and how many did."""
        people = pd.Series(self.trace[self._humans]).value_counts(sort=False)
        people = people[people >= 2]
        return people.index.to_numpy(np.int64), people.to_numpy(np.int64)

    def sources(self) -> list[str]:
        return [self._names[k] for k in self._codes]


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


def _agreement(frame: pd.DataFrame, judged: Judged, a: str, b: str) -> SpanAgreement:
    """A against B on the traces both judged; ``human:*`` stands for each person in turn against B."""
    if a == ALL_HUMANS or b == ALL_HUMANS:
        return _all_humans(frame, judged, a, b)
    return agreement(frame, a, b, judged.both(a, b))


def _all_humans(frame: pd.DataFrame, judged: Judged, a: str, b: str) -> SpanAgreement:
    total = SpanAgreement()
    for person in judged.people():
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


def _text_lengths(engine: Engine, project_id: int, ids: set[int]) -> dict[int, int]:
    """Each of the traces' total text length in characters: summed by the database for text traces (one query
    for the project: a list of 100,000 ids costs more to send than the traces outside it to read), from the
    parts for the others. None asked (no trace two people judged), no query: it reads every trace's steps."""
    if not ids:
        return {}
    lengths: dict[int, int] = {}
    with engine.connect() as c:
        in_step_texts = (
            "(SELECT sum(char_length(x)) FROM jsonb_array_elements_text(trace.steps) x)"
            if c.dialect.name == "postgresql"
            else "(SELECT sum(length(e.value)) FROM json_each(trace.steps) e)"
        )
        of_project = _T.project_id == project_id
        plain = select(_T.id, literal_column(in_step_texts), func.coalesce(func.length(_T.answer), 0))
        for trace_id, n, answer in c.execute(plain.where(of_project, _T.structure.is_(None))):
            if trace_id in ids:
                lengths[trace_id] = int(n or 0) + int(answer)
        rich_ids = c.execute(select(_T.id).where(of_project, _T.structure.is_not(None))).scalars()
        rich_ids = [t for t in rich_ids if t in ids]
        for start in range(0, len(rich_ids), 5_000):
            chunk = rich_ids[start : start + 5_000]
            rich = select(_T.id, type_coerce(_T.steps, Text), type_coerce(_T.structure, Text), _T.answer).where(
                _T.id.in_(chunk)
            )
            for trace_id, steps, structure, answer in c.execute(rich):
                trace = Trace(problem="-", steps=decode(steps), answer=answer)
                read_structure(trace, decode(structure))
                lengths[trace_id] = sum(text_lengths(trace).values())
    return lengths


def _alpha(frame: pd.DataFrame, judged: Judged, lengths: Callable[[], dict[int, int]]) -> tuple[float | None, int]:
    """Among the people who judged a trace, on traces where two or more did and one of them marked a span. The
    text lengths are asked for last: they may still be being summed."""
    people = frame[frame["source"].isin(judged.people())]
    traces, coders = judged.coders()
    units = np.isin(traces, people["trace"].unique())
    if not units.any():
        return None, 0
    traces, coders = traces[units], coders[units]

    def total() -> int:
        found = lengths()
        return int(np.dot(coders, np.fromiter(map(found.get, traces.tolist(), repeat(0)), np.int64, len(traces))))

    return alpha_of_units(people, traces, coders, total), len(traces)
