"""Reading traces back with their judgments, in the canonical types."""

from __future__ import annotations

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


def load_traces(engine: Engine, project: str, *, limit: int | None = None, offset: int = 0) -> list[StoredTrace]:
    """Traces in import order, each with its judgments keyed by source (``reference``, ``human:alice``)."""
    with open_session(engine) as s:
        proj = queries.get_project(s, name=project)
        if proj is None:
            raise NoSuchProject(f"no project named {project!r}")
        rows = queries.traces_with_judgments(s, project_id=proj.id, limit=limit, offset=offset)
    stored = []
    for row, judgments in rows:
        converted = [judgment_from_row(j) for j in judgments]
        stored.append(StoredTrace(row.id, row.position, trace_from_row(row), {str(j.source): j for j in converted}))
    return stored
