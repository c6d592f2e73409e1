"""The pairs where A and B differ, and one trace with both sides' judgments, for the disagreement browser."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlmodel import select

from annotation.core.model import Judgment, Source, Trace
from annotation.core.records import judgment_from_row, trace_from_row
from annotation.judgments.visibility import ProjectView
from annotation.metrics.pairs import ALL_HUMANS, Pairs
from storage.db import session as open_session
from storage.tables import JudgmentRow, TraceRow

TABLE_COLUMNS = [
    "trace_id",
    "position",
    "record_id",
    "kind",
    "source_a",
    "source_b",
    "first_error_a",
    "first_error_b",
    "generator",
    "subset",
]


def disagreement_table(pairs: Pairs, kinds: np.ndarray) -> pd.DataFrame:
    """Pairs that disagree, in trace order, with their kind."""
    frame = pairs.frame.assign(kind=kinds)
    return frame.loc[kinds != "agree", TABLE_COLUMNS].reset_index(drop=True)


@dataclass(frozen=True)
class TraceView:
    trace_id: int
    trace: Trace
    judgments: dict[str, Judgment]
    versions: dict[str, int]
    position: int = 0


def _wanted(source: str, kind: str, name: str) -> bool:
    return source == (f"{kind}:{name}" if name else kind) or (source == ALL_HUMANS and kind == "human")


def trace_view(engine: Engine, trace_id: int, sources: list[str], view: ProjectView) -> TraceView:
    """The trace and the judgments of the given sources on it (all humans' when ALL_HUMANS is asked), as far as
    ``view`` may see them (judgments.visibility)."""
    with open_session(engine) as s:
        row = s.get(TraceRow, trace_id)
        if row is None:
            raise LookupError(f"no trace with id {trace_id}")
        found = s.exec(select(JudgmentRow).where(JudgmentRow.trace_id == trace_id, JudgmentRow.status != "draft"))
        judgments, versions = {}, {}
        for j in found:
            if not view.may_see(j.source_kind, j.source_name, qc=row.qc):
                continue
            if any(_wanted(src, j.source_kind, j.source_name) for src in sources):
                key = str(Source(j.source_kind, j.source_name))
                judgments[key] = judgment_from_row(j)
                versions[key] = j.version
        trace = trace_from_row(row)
        if not view.sees_reference_fields(qc=row.qc):
            trace.reference_answer = trace.reference_solution = None
        return TraceView(trace_id=trace_id, trace=trace, judgments=judgments, versions=versions, position=row.position)
