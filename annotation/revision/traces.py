"""One trace's revision results, for its history (Compare, Annotate) and the Check critiques page: the original
and revised answers, both grades, the revised text, and the critique's usefulness. Only what the viewer may see
(judgments.visibility: the critique's source, and the reference fields the grades depend on)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import select

from annotation.accounts.users import Account
from annotation.judgments.visibility import NoAccess, project_view
from annotation.revision.figures import usefulness
from storage.db import session
from storage.tables import Project, RevisionResult, TraceRow


@dataclass(frozen=True)
class TraceRevision:
    source: str
    show: str
    reviser: str
    grader: str
    status: str
    original_answer: str | None
    revised_answer: str | None
    original_correct: bool | None
    revised_correct: bool | None
    revised_text: str | None
    error: str | None
    updated_at: str

    @property
    def usefulness(self) -> str | None:
        return usefulness(self.original_correct, self.revised_correct) if self.status == "done" else None


def trace_revisions(
    engine: Engine, trace_id: int, viewer: Account, *, source: str | None = None
) -> list[TraceRevision]:
    """The trace's results the viewer may see (only ``source``'s when given), by source, show and reviser."""
    with session(engine) as s:
        found = s.exec(
            select(Project.name, TraceRow.qc)
            .join(TraceRow, TraceRow.project_id == Project.id)
            .where(TraceRow.id == trace_id)
        ).first()
        if found is None:
            return []
        project, qc = found
        try:
            view = project_view(engine, viewer, project)
        except NoAccess:
            return []
        query = select(RevisionResult).where(RevisionResult.trace_id == trace_id)
        if source is not None:
            query = query.where(RevisionResult.critique_source == source)
        rows = s.exec(query.order_by(RevisionResult.critique_source, RevisionResult.show, RevisionResult.reviser))
        out = []
        for r in rows:
            kind, _, name = r.critique_source.partition(":")
            if not view.may_see_revision(kind, name, qc=qc):
                continue
            out.append(
                TraceRevision(
                    source=r.critique_source,
                    show=r.show,
                    reviser=r.reviser,
                    grader=r.grader,
                    status=r.status,
                    original_answer=r.original_answer,
                    revised_answer=r.revised_answer,
                    original_correct=r.original_correct,
                    revised_correct=r.revised_correct,
                    revised_text=r.revised_text,
                    error=(r.extra or {}).get("error"),
                    updated_at=r.updated_at.isoformat(sep=" ", timespec="seconds"),
                )
            )
        return out


def grade_text(correct: bool | None) -> str:
    return "–" if correct is None else ("right" if correct else "wrong")


OUTCOMES = {
    (False, True): "helpful: fixed a wrong solution",
    (True, True): "helpful: kept a right solution right",
    (True, False): "harmful: broke a right solution",
    (False, False): "no help: the solution stayed wrong",
}


def usefulness_note(revisions: list[TraceRevision]) -> str | None:
    """What revising with this critique did, for the Check critiques page; None when it was never revised."""
    done = [r for r in revisions if r.status == "done" and r.original_correct is not None]
    if not done:
        return None
    parts = [f"{OUTCOMES[(bool(r.original_correct), bool(r.revised_correct))]} ({r.reviser}, {r.show})" for r in done]
    return "Revised with this critique: " + "; ".join(parts)
