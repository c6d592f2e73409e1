"""What the Home page and the `stats` / `projects` commands show about projects."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from annotation.core.model import SOURCE_KINDS
from storage import queries
from storage.db import session as open_session


class NoSuchProject(LookupError):
    pass


@dataclass(frozen=True)
class ProjectOverview:
    name: str
    description: str
    traces: int
    steps: int
    judgments: dict[str, int]
    reference_no_error: int
    judgments_per_trace: int
    human_done: int

    @property
    def progress(self) -> float:
        """Share of the human judgments the project asks for that have been submitted."""
        wanted = self.traces * self.judgments_per_trace
        return min(1.0, self.human_done / wanted) if wanted else 0.0

    def as_stats(self) -> dict:
        return {
            "project": self.name,
            "traces": self.traces,
            "steps": self.steps,
            "judgments": self.judgments,
            "reference_no_error": self.reference_no_error,
        }


def _overview(project, counts: dict[str, int]) -> ProjectOverview:
    return ProjectOverview(
        name=project.name,
        description=project.description,
        traces=counts.get("traces", 0),
        steps=counts.get("steps", 0),
        judgments={kind: counts.get(f"judgments_{kind}", 0) for kind in SOURCE_KINDS},
        reference_no_error=counts.get("no_error_reference", 0),
        judgments_per_trace=project.judgments_per_trace,
        human_done=counts.get("submitted_human", 0),
    )


def list_overviews(engine: Engine) -> list[ProjectOverview]:
    with open_session(engine) as s:
        projects = queries.list_projects(s)
        counts = queries.project_counts(s)
        return [_overview(p, counts.get(p.id, {})) for p in projects]


def project_names(engine: Engine) -> list[str]:
    """Just the names, for pickers: no counting over traces and judgments."""
    with open_session(engine) as s:
        return [p.name for p in queries.list_projects(s)]


def project_overview(engine: Engine, name: str) -> ProjectOverview:
    with open_session(engine) as s:
        project = queries.get_project(s, name=name)
        if project is None:
            known = ", ".join(p.name for p in queries.list_projects(s)) or "none yet"
            raise NoSuchProject(f"no project named {name!r} (projects: {known})")
        counts = queries.project_counts(s, project_ids=[project.id])
        return _overview(project, counts.get(project.id, {}))
