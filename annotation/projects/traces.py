"""Reading traces back with their judgments, in the canonical types."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine

from annotation.core.model import Judgment, Trace
from annotation.core.records import judgment_from_row, trace_from_row
from annotation.projects.overview import NoSuchProject
from storage import queries
from storage.db import session as open_session


@dataclass
class StoredTrace:
    id: int
    position: int
    trace: Trace
    judgments: dict[str, Judgment]


def _project_id(s, project: str) -> int:
    proj = queries.get_project(s, name=project)
    if proj is None:
        raise NoSuchProject(f"no project named {project!r}")
    return proj.id


def trace_number(engine: Engine, project: str, number: int) -> Trace | None:
    """Trace #``number`` of the project (1-based, in import order), without its judgments; None past the end."""
    if number < 1:
        return None
    with open_session(engine) as s:
        rows = queries.traces_in(s, project_id=_project_id(s, project), limit=1, offset=number - 1)
    return trace_from_row(rows[0]) if rows else None


def generators(engine: Engine, project: str) -> Counter[str]:
    """How many of the project's traces each model generated."""
    with open_session(engine) as s:
        return Counter(queries.generator_counts(s, project_id=_project_id(s, project)))


def load_traces(engine: Engine, project: str, *, limit: int | None = None, offset: int = 0) -> list[StoredTrace]:
    """Traces in import order, each with its judgments keyed by source (``reference``, ``human:alice``)."""
    with open_session(engine) as s:
        rows = queries.traces_with_judgments(s, project_id=_project_id(s, project), limit=limit, offset=offset)
    stored = []
    for row, judgments in rows:
        converted = [judgment_from_row(j) for j in judgments]
        stored.append(StoredTrace(row.id, row.position, trace_from_row(row), {str(j.source): j for j in converted}))
    return stored
