"""The history of every judgment of a trace: each version, who made it, when, and what it changed.

A revision row keeps version ``v`` as it was, with who replaced it (``changed_by``) and when; so version 1
was made when the judgment was created, and version ``v + 1`` by the ``changed_by`` of revision ``v``.
Only the judgments the viewer may see are shown (judgments.visibility): on a blind project or a quality-control
trace an annotator sees their own and the models'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from annotation.accounts.users import Account
from annotation.core.model import first_error_text
from annotation.judgments.visibility import NoAccess, ProjectView, project_view
from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, Project, TraceRow

CONTENT_FIELDS = ("first_error", "steps", "critique", "solution_correct", "finish_reason", "status")


@dataclass(frozen=True)
class Version:
    version: int
    made_by: str
    made_at: str
    first_error: int | None
    status: str
    changes: tuple[str, ...]
    current: bool = False

    @property
    def says(self) -> str:
        return says(self.first_error)


@dataclass(frozen=True)
class JudgmentHistory:
    source: str
    versions: list[Version] = field(default_factory=list)

    @property
    def revised(self) -> bool:
        return len(self.versions) > 1


def says(first_error: int | None) -> str:
    """What a version says, in the history's sentences: "first error at step N", "no error", "not judged"."""
    text = first_error_text(first_error)
    return f"first error at {text}" if first_error is not None and first_error >= 0 else text


def _when(value: datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value is not None else ""


def _verdicts(steps: list[dict[str, Any]] | None) -> list[Any]:
    return [(s or {}).get("verdict") for s in steps or []]


def describe_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> tuple[str, ...]:
    """What changed from one version to the next, in words."""
    if before is None:
        return ("created",)
    changes = []
    if before.get("first_error") != after.get("first_error"):
        changes.append(f"{says(before.get('first_error'))} → {says(after.get('first_error'))}")
    old, new = _verdicts(before.get("steps")), _verdicts(after.get("steps"))
    moved = [i + 1 for i in range(max(len(old), len(new))) if (old[i : i + 1] or [None]) != (new[i : i + 1] or [None])]
    if moved:
        changes.append("step verdicts changed at " + ", ".join(str(i) for i in moved))
    elif before.get("steps") != after.get("steps"):
        changes.append("step notes changed")
    if before.get("critique") != after.get("critique"):
        changes.append("critique changed")
    for name in ("status", "finish_reason", "solution_correct"):
        if before.get(name) != after.get(name):
            changes.append(f"{name.replace('_', ' ')}: {before.get(name)} → {after.get(name)}")
    return tuple(changes) or ("no change in the label",)


def _history(row: JudgmentRow, revisions: list[Any]) -> JudgmentHistory:
    source = f"{row.source_kind}:{row.source_name}" if row.source_name else row.source_kind
    states = [r.content for r in revisions] + [queries.judgment_content(row)]
    authors = [source if row.source_kind in ("human", "model") else "import"] + [r.changed_by for r in revisions]
    times = [row.created_at] + [r.recorded_at for r in revisions]
    first_version = revisions[0].version if revisions else row.version
    versions = []
    for i, state in enumerate(states):
        versions.append(
            Version(
                version=first_version + i,
                made_by=authors[i] or "unknown",
                made_at=_when(times[i]),
                first_error=state.get("first_error"),
                status=state.get("status", ""),
                changes=describe_changes(states[i - 1] if i else None, state),
                current=i == len(states) - 1,
            )
        )
    return JudgmentHistory(source=source, versions=versions)


def trace_view(s: Session, engine: Engine, viewer: Account, trace_id: int) -> tuple[ProjectView, bool] | None:
    """What the viewer may see of the trace's project, and whether the trace is a quality-control one; None when
    the trace does not exist or is in a project the viewer does not work on."""
    found = s.exec(
        select(Project.name, TraceRow.qc)
        .join(TraceRow, TraceRow.project_id == Project.id)
        .where(TraceRow.id == trace_id)
    ).first()
    if found is None:
        return None
    project, qc = found
    try:
        return project_view(engine, viewer, project), qc
    except NoAccess:
        return None


def trace_history(engine: Engine, trace_id: int, viewer: Account) -> list[JudgmentHistory]:
    """Every judgment of the trace the viewer may see, each with its versions oldest first.

    Empty when the trace does not exist or is in a project the viewer does not work on.
    """
    with session(engine) as s:
        seen = trace_view(s, engine, viewer, trace_id)
        if seen is None:
            return []
        view, qc = seen
        rows = [
            j
            for j in queries.judgments_on(s, trace_ids=[trace_id])
            if view.may_see(j.source_kind, j.source_name, qc=qc)
        ]
        rows.sort(key=lambda j: (j.source_kind, j.source_name))
        return [_history(j, queries.revisions_of(s, judgment_id=j.id)) for j in rows]
