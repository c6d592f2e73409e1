"""One trace's revision results, for its history (Compare, Annotate) and the Check critiques page: the original
and revised answers, both grades, the revised text, and the critique's usefulness. Only what the viewer may see
(judgments.visibility: the critique's source, and the reference fields the grades depend on)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import select

from annotation.accounts.users import Account
from annotation.judgments.history import trace_view
from annotation.revision.figures import labelled, usefulness
from annotation.revision.grading import DEFAULT_GRADER
from annotation.revision.prompts import NO_CRITIQUE
from annotation.revision.store import current_critiques, is_stale
from storage.db import session
from storage.tables import RevisionResult


@dataclass(frozen=True)
class TraceRevision:
    source: str
    show: str
    reviser: str
    grader: str
    status: str  # done, failed (the request), ungraded (an answer could not be graded)
    original_answer: str | None
    revised_answer: str | None
    original_correct: bool | None
    revised_correct: bool | None
    revised_text: str | None
    error: str | None
    updated_at: str
    reviser_hash: str = ""
    # Made with another version of the critique than the source's current one (edited since, or withdrawn).
    stale: bool = False

    @property
    def usefulness(self) -> str | None:
        """helpful / harmful, or None: only for a graded result of the current critique, and never for the ``none``
        baseline, which revised without one."""
        if not labelled(self.status, self.show, self.stale):
            return None
        return usefulness(self.original_correct, self.revised_correct)


def trace_revisions(
    engine: Engine, trace_id: int, viewer: Account, *, source: str | None = None
) -> list[TraceRevision]:
    """The trace's results the viewer may see (only ``source``'s when given), by source, show and reviser."""
    with session(engine) as s:
        seen = trace_view(s, engine, viewer, trace_id)
        if seen is None:
            return []
        view, qc = seen
        current = current_critiques(engine, [trace_id])
        query = select(RevisionResult).where(RevisionResult.trace_id == trace_id)
        if source is not None:
            query = query.where(RevisionResult.critique_source == source)
        order = (RevisionResult.critique_source, RevisionResult.show, RevisionResult.reviser, RevisionResult.grader)
        rows = s.exec(query.order_by(*order, RevisionResult.updated_at))
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
                    reviser_hash=r.reviser_hash,
                    stale=is_stale(current, trace_id, r.critique_source, r.critique_version),
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


def configuration_text(r: TraceRevision) -> str:
    """ "reviser, show", with the grader when it is not the default one."""
    graded = "" if r.grader == DEFAULT_GRADER else f", graded by {r.grader}"
    return f"{r.reviser}, {r.show}{graded}"


def usefulness_note(revisions: list[TraceRevision]) -> str | None:
    """What revising with this critique did, for the Check critiques page; None when it was never revised with it.

    Only results of the critique as it is now count (a stale one was made with an earlier version: it says so,
    without a label), and never the ``none`` baseline, which revised without it."""
    with_critique = [r for r in revisions if r.show != NO_CRITIQUE]
    parts = [
        f"{OUTCOMES[(bool(r.original_correct), bool(r.revised_correct))]} ({configuration_text(r)})"
        for r in with_critique
        if r.status == "done" and not r.stale
    ]
    stale = sorted({f"{r.reviser}, {r.show}" for r in with_critique if r.stale})
    if stale:
        parts.append(f"revised before this critique was last changed ({'; '.join(stale)}): run the revision again")
    return "Revised with this critique: " + "; ".join(parts) if parts else None
