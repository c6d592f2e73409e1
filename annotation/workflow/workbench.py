"""One person at work on one trace: open it with their draft, save drafts as they go, submit.

A draft is kept per trace and person, and versioned, so a second tab cannot overwrite it unseen.
A submission names the judgment version the person started from; when someone (or another tab)
submitted in between, it is refused with StaleJudgment and the draft stays, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from annotation.core.model import Judgment, Source, StepLabel, Trace
from annotation.core.records import judgment_from_row, trace_from_row
from annotation.judgments.visibility import ProjectView
from annotation.judgments.writing import JudgmentWrite, NotOpen, StaleJudgment, record
from annotation.projects.images import image_uris
from annotation.workflow.labelling import WorkingCopy
from storage import queries, work
from storage.db import session
from storage.tables import Project, TraceRow, utcnow
from storage.work import DraftConflict

__all__ = [
    "DraftConflict",
    "NotOpen",
    "OpenTrace",
    "ProjectRules",
    "StaleJudgment",
    "open_trace",
    "save_draft",
    "submit",
]


@dataclass(frozen=True, slots=True)
class ProjectRules:
    """What the Annotate page needs to know about the project."""

    id: int
    name: str
    label_mode: str
    taxonomy: tuple[str, ...]
    guidelines: str
    blind: bool
    judgments_per_trace: int
    reservation_minutes: int
    queue_order: str

    @classmethod
    def of(cls, project: Project) -> ProjectRules:
        return cls(
            id=project.id,
            name=project.name,
            label_mode=project.label_mode,
            taxonomy=tuple(project.taxonomy or ()),
            guidelines=project.guidelines,
            blind=project.blind,
            judgments_per_trace=project.judgments_per_trace,
            reservation_minutes=project.reservation_minutes,
            queue_order=project.queue_order,
        )


@dataclass(slots=True)
class OpenTrace:
    """A trace as one person opens it: their work so far and what they may see of others'."""

    trace_id: int
    position: int
    qc: bool
    trace: Trace
    work: WorkingCopy
    # The version of this person's judgment the work started from; 0 when there is none yet.
    base_version: int
    # None when there is no draft in the database yet.
    draft_version: int | None
    submitted: bool
    others: dict[str, Judgment] = field(default_factory=dict)
    # The stored images the trace shows, as data URIs by name.
    images: dict[str, str] = field(default_factory=dict)
    # Which version of the trace's steps this person sees (bumped when someone merges or splits them).
    steps_version: int = 1


def project_rules(engine: Engine, project: str) -> ProjectRules | None:
    with session(engine) as s:
        row = queries.get_project(s, name=project)
        return ProjectRules.of(row) if row is not None else None


def open_trace(engine: Engine, *, trace_id: int, username: str, rules: ProjectRules, is_admin: bool) -> OpenTrace:
    """Load a trace for ``username``: their draft if any, else their judgment, else a blank copy.

    What else it shows of the trace (others' judgments, the reference answer) is what judgments.visibility
    allows this person.
    """
    view = ProjectView(username=username, is_admin=is_admin, blind=rules.blind)
    with session(engine) as s:
        row = s.get(TraceRow, trace_id)
        if row is None or row.project_id != rules.id:
            raise LookupError(f"trace {trace_id} is not in project {rules.name!r}")
        mine = work.human_judgment(s, trace_id=trace_id, username=username)
        draft = work.get_draft(s, trace_id=trace_id, username=username)
        others_rows = [
            j
            for j in queries.judgments_on(s, trace_ids=[trace_id])
            if view.may_see(j.source_kind, j.source_name, qc=row.qc)
        ]
        trace = trace_from_row(row)
        images = image_uris(s, project_id=rules.id, trace=trace)
    if not view.sees_reference_fields(qc=row.qc):
        trace.reference_answer = None
        trace.reference_solution = None
    if draft is not None:
        copy = WorkingCopy.from_draft(draft.content, row.n_steps)
        base_version = draft.base_version
    elif mine is not None:
        copy = WorkingCopy.from_content(queries.judgment_content(mine), row.n_steps)
        base_version = mine.version
    else:
        copy = WorkingCopy.blank(row.n_steps)
        base_version = 0
    others = {
        str(j.source): j
        for j in (judgment_from_row(r) for r in others_rows)
        if not (j.source.kind == "human" and j.source.name == username)
    }
    return OpenTrace(
        trace_id=trace_id,
        position=row.position,
        qc=row.qc,
        trace=trace,
        work=copy,
        base_version=base_version,
        draft_version=draft.version if draft is not None else None,
        submitted=mine is not None and mine.status == "submitted" and draft is None,
        others=others,
        images=images,
        steps_version=row.steps_version or 1,
    )


def save_draft(
    engine: Engine, opened: OpenTrace, *, username: str, copy: WorkingCopy, hold_minutes: int = 30
) -> OpenTrace:
    """Keep the work as a draft; returns the trace with the new draft version. Raises DraftConflict, and
    StaleJudgment when the trace's steps were merged or split since it was opened."""
    with session(engine) as s:
        now_version = s.exec(select(TraceRow.steps_version).where(TraceRow.id == opened.trace_id)).first()
        if now_version is not None and now_version != opened.steps_version:
            raise StaleJudgment(
                f"the steps of trace {opened.trace_id} were merged or split since you opened it; reload to judge them"
            )
        version = work.save_draft(
            s,
            trace_id=opened.trace_id,
            username=username,
            content=copy.draft(),
            base_version=opened.base_version,
            expected_version=opened.draft_version,
        )
        # Working on a trace keeps it held, however long it takes.
        work.reserve(s, trace_id=opened.trace_id, username=username, until=utcnow() + timedelta(minutes=hold_minutes))
        s.commit()
    opened.work = copy
    opened.draft_version = version
    opened.submitted = False
    return opened


def judgment_version(engine: Engine, *, trace_id: int, username: str) -> int:
    """The version of this person's judgment now; 0 when there is none."""
    with session(engine) as s:
        row = work.human_judgment(s, trace_id=trace_id, username=username)
        return row.version if row is not None else 0


def discard_draft(engine: Engine, opened: OpenTrace, *, username: str) -> None:
    with session(engine) as s:
        work.delete_draft(s, trace_id=opened.trace_id, username=username)
        s.commit()


def submit(engine: Engine, opened: OpenTrace, *, username: str, copy: WorkingCopy, rules: ProjectRules) -> int:
    """Store the work as this person's submitted judgment; returns its version.

    Written through the one write path (judgments.writing): refused (StaleJudgment) when the judgment is no
    longer at the version the work started from, (NotOpen) when others completed the trace meanwhile, and
    (DraftConflict) when another tab saved a newer draft; the draft stays whenever it is refused.
    """
    content = copy.content(rules.label_mode) | {"status": "submitted"}
    labels = [StepLabel(**step) for step in content["steps"]]
    judgment = Judgment(
        source=Source("human", username),
        **(content | {"steps": labels, "spans": list(copy.spans), "missing": list(copy.missing_here)}),
    )
    judgment.validate(len(opened.trace.steps))
    write = JudgmentWrite(
        opened.trace_id,
        judgment,
        expected_version=opened.base_version,
        changed_by=username,
        by_worker=True,
        steps_version=opened.steps_version,
    )
    with session(engine) as s:
        (result,) = record(s, [write])
        # A draft saved by another tab after this one read it is not thrown away by this submission.
        if opened.draft_version is not None:
            work.delete_draft(s, trace_id=opened.trace_id, username=username, expected_version=opened.draft_version)
        elif work.get_draft(s, trace_id=opened.trace_id, username=username) is not None:
            raise DraftConflict(f"another tab saved a draft of trace {opened.trace_id} since this one opened it")
        s.commit()
    return result.version
