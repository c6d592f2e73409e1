"""Checking an auto-critique: a person accepts, rejects or edits a model's verdict and explanation on each step.

The result is that person's own submitted judgment (source ``human:<username>``) that records which model
critique it started from and what changed, so comparisons and exports can use both. A later change to it
goes through the one write path (judgments.writing) with the version the person loaded: stale work is refused,
never overwritten, and a trace others completed meanwhile is refused as it is on Annotate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Engine
from sqlmodel import select

from annotation.core.model import NO_ERROR, InvalidValue, Judgment, Source, StepLabel, Trace, steps_from_first_error
from annotation.core.records import judgment_from_row, trace_from_row
from annotation.judgments.visibility import ProjectView
from annotation.judgments.writing import JudgmentWrite, NotOpen, StaleJudgment, record
from annotation.workflow.labelling import StepWork, WorkingCopy
from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, TraceRow

ACTIONS = ("accept", "reject", "edit")
RATINGS = ("helpful", "partly_helpful", "misleading")
RATING_TITLES = {"helpful": "Helpful", "partly_helpful": "Partly helpful", "misleading": "Misleading"}
Action = Literal["accept", "reject", "edit"]


class CheckRefused(Exception):
    """The check could not be saved as it is; nothing was written. The message says why and what to do."""


@dataclass(frozen=True)
class StepCheck:
    """What the person did with the model's view of one step."""

    step: int
    action: Action
    verdict: int | None = None  # edit: the person's verdict
    critique: str | None = None  # edit: the person's explanation


@dataclass
class CritiqueToCheck:
    """A trace with one model's judgment on it, and the checker's own earlier check if there is one."""

    trace_id: int
    position: int
    trace: Trace
    model: Judgment
    model_version: int
    mine: Judgment | None = None
    my_version: int | None = None
    model_steps: list[StepLabel] = field(default_factory=list)


def model_step_labels(model: Judgment, n_steps: int) -> list[StepLabel]:
    """The model's view of every step: its own labels where it gave them, else implied by its first error."""
    implied = steps_from_first_error(model.first_error, n_steps)
    labels = []
    for i in range(n_steps):
        given = model.steps[i] if i < len(model.steps) else None
        if given is not None and not given.is_empty():
            labels.append(StepLabel(given.verdict, given.critique, list(given.tags)))
        else:
            labels.append(StepLabel(implied[i].verdict if i < len(implied) else None))
    return labels


def _opposite(verdict: int | None, step: int) -> int:
    if verdict == 1:
        return -1
    if verdict == -1:
        return 1
    raise InvalidValue("steps", f"step {step}: the model gave no correct/wrong verdict to reject; edit it instead")


def checks_from_work(work: WorkingCopy, model_steps: list[StepLabel]) -> list[StepCheck]:
    """What a person's verdicts and explanations on the judging surface amount to, step by step: the model's
    verdict and explanation kept is an accept, the opposite verdict with no explanation a reject, anything
    else an edit. A step without a verdict is not checked."""
    checks = []
    for i, (step, model) in enumerate(zip(work.steps, model_steps, strict=True)):
        if step.verdict is None:
            continue
        text = step.critique.strip()
        if step.verdict == model.verdict and text == (model.critique or "").strip():
            checks.append(StepCheck(i, "accept"))
        elif model.verdict in (1, -1) and step.verdict == -model.verdict and not text:
            checks.append(StepCheck(i, "reject"))
        else:
            checks.append(StepCheck(i, "edit", verdict=step.verdict, critique=text or None))
    return checks


def work_from_check(item: CritiqueToCheck, model_source: Source) -> tuple[WorkingCopy, str | None]:
    """The surface's working copy for an item: my earlier check of it, else nothing checked; and my rating."""
    n = len(item.trace.steps)
    if item.mine is None or not is_checked(item, model_source):
        return WorkingCopy.blank(n), None
    steps = [StepWork() for _ in range(n)]
    for c in item.mine.extra.get("changes", []):
        i = c["step"]
        if not 0 <= i < n:
            continue
        model = item.model_steps[i]
        if c["action"] == "accept":
            steps[i] = StepWork(verdict=model.verdict, critique=model.critique or "")
        else:
            steps[i] = StepWork(verdict=c.get("verdict"), critique=c.get("critique") or "")
    work = WorkingCopy(steps=tuple(steps), critique=item.mine.critique or "")
    return work, item.mine.extra.get("critique_rating")


def checked_judgment(
    *,
    model_source: Source,
    model: Judgment,
    model_version: int,
    n_steps: int,
    checks: list[StepCheck],
    rating: str,
    replacement: str | None,
    username: str,
    time_spent_s: float | None = None,
) -> Judgment:
    """The person's judgment built from their step checks; refused when a step before the first error is unchecked."""
    if rating not in RATINGS:
        raise InvalidValue("critique_rating", f"rate the critique as one of {', '.join(RATINGS)}")
    by_step: dict[int, StepCheck] = {}
    for c in checks:
        if c.action not in ACTIONS:
            raise InvalidValue("steps", f"step {c.step}: {c.action!r} is not one of {', '.join(ACTIONS)}")
        if not 0 <= c.step < n_steps:
            raise InvalidValue("steps", f"step {c.step} is outside the trace's steps 0..{n_steps - 1}")
        by_step[c.step] = c
    theirs = model_step_labels(model, n_steps)
    labels: list[StepLabel] = []
    changes: list[dict[str, Any]] = []
    first_error: int | None = None
    for i in range(n_steps):
        check = by_step.get(i)
        if check is None:
            if first_error is None:
                raise InvalidValue("steps", f"step {i} is not checked yet: accept, reject or edit it")
            labels.append(StepLabel())
            continue
        model_label = theirs[i]
        if check.action == "accept":
            if model_label.verdict is None:
                raise InvalidValue("steps", f"step {i}: the model gave no verdict to accept; edit it instead")
            label = StepLabel(model_label.verdict, model_label.critique, list(model_label.tags))
            changes.append({"step": i, "action": "accept", "verdict": label.verdict})
        elif check.action == "reject":
            label = StepLabel(_opposite(model_label.verdict, i))
            changes.append(
                {"step": i, "action": "reject", "model_verdict": model_label.verdict, "verdict": label.verdict}
            )
        else:
            if check.verdict not in (-1, 0, 1):
                raise InvalidValue("steps", f"step {i}: choose a verdict (correct, neutral or wrong) for the edit")
            text = (check.critique or "").strip() or None
            label = StepLabel(check.verdict, text)
            changes.append(
                {
                    "step": i,
                    "action": "edit",
                    "model_verdict": model_label.verdict,
                    "verdict": check.verdict,
                    "model_critique": model_label.critique,
                    "critique": text,
                }
            )
        labels.append(label)
        if label.verdict == -1 and first_error is None:
            first_error = i
    if first_error is None:
        first_error = NO_ERROR
    text = (replacement or "").strip() or None
    judgment = Judgment(
        source=Source("human", username),
        first_error=first_error,
        steps=labels,
        critique=text,
        solution_correct=None,
        finish_reason="solution" if first_error == NO_ERROR else "found_error",
        status="submitted",
        time_spent_s=time_spent_s,
        extra={
            "checked_from": str(model_source),
            "from_version": model_version,
            "critique_rating": rating,
            "model_first_error": model.first_error,
            "changes": changes,
            "replacement": text is not None,
        },
    )
    judgment.validate(n_steps)
    return judgment


def _row(s, trace_id: int, source: Source) -> JudgmentRow | None:
    return s.exec(
        select(JudgmentRow).where(
            JudgmentRow.trace_id == trace_id,
            JudgmentRow.source_kind == source.kind,
            JudgmentRow.source_name == source.name,
        )
    ).first()


def submit_check(
    engine: Engine,
    *,
    trace_id: int,
    model_source: Source,
    model_version: int,
    checks: list[StepCheck],
    rating: str,
    replacement: str | None,
    username: str,
    loaded_version: int | None,
    time_spent_s: float | None = None,
) -> int:
    """Save the check as the person's judgment; returns its version.

    ``loaded_version`` is the version of the person's judgment on this trace when they opened it (None
    when there was none). Someone (or another tab) changing it since is refused with CheckRefused.
    """
    stale = (
        "your judgment on this trace changed since you opened it (another tab or session saved it); "
        "reload the trace to see it, then check again"
    )
    with session(engine) as s:
        trace = s.get(TraceRow, trace_id)
        model_row = _row(s, trace_id, model_source)
        if trace is None or model_row is None:
            raise CheckRefused(f"trace {trace_id} has no judgment from {model_source} any more")
        judgment = checked_judgment(
            model_source=model_source,
            model=judgment_from_row(model_row),
            model_version=model_version,
            n_steps=trace.n_steps,
            checks=checks,
            rating=rating,
            replacement=replacement,
            username=username,
            time_spent_s=time_spent_s,
        )
        write = JudgmentWrite(trace_id, judgment, expected_version=loaded_version, changed_by=username, by_worker=True)
        try:
            (result,) = record(s, [write])
        except StaleJudgment:
            s.rollback()
            raise CheckRefused(stale) from None
        except NotOpen as e:
            s.rollback()
            raise CheckRefused(str(e)) from None
        s.commit()
        return result.version


def model_sources(engine: Engine, project: str) -> list[str]:
    """The model sources with a submitted judgment in the project, e.g. ``model:gpt-4o-critic``."""
    with session(engine) as s:
        proj = queries.get_project(s, name=project)
        if proj is None:
            return []
        names = s.exec(
            select(JudgmentRow.source_name)
            .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
            .where(
                TraceRow.project_id == proj.id, JudgmentRow.source_kind == "model", JudgmentRow.status == "submitted"
            )
            .distinct()
        ).all()
    return sorted(f"model:{n}" for n in names)


def critiques_to_check(engine: Engine, project: str, model_source: Source, view: ProjectView) -> list[CritiqueToCheck]:
    """Every trace of the project with a submitted judgment from ``model_source`` that ``view`` may see (so not
    the quality-control traces, for annotators), in import order."""
    username = view.username
    with session(engine) as s:
        proj = queries.get_project(s, name=project)
        if proj is None:
            return []
        pairs = s.exec(
            select(TraceRow, JudgmentRow)
            .join(JudgmentRow, JudgmentRow.trace_id == TraceRow.id)
            .where(
                TraceRow.project_id == proj.id,
                JudgmentRow.source_kind == model_source.kind,
                JudgmentRow.source_name == model_source.name,
                JudgmentRow.status == "submitted",
            )
            .order_by(TraceRow.position)
        ).all()
        ids = [t.id for t, _ in pairs]
        mine = {
            j.trace_id: j
            for j in queries.judgments_on(s, trace_ids=ids)
            if j.source_kind == "human" and j.source_name == username
        }
    items = []
    for trace_row, model_row in pairs:
        if not view.may_see(model_source.kind, model_source.name, qc=trace_row.qc):
            continue
        model = judgment_from_row(model_row)
        my_row = mine.get(trace_row.id)
        items.append(
            CritiqueToCheck(
                trace_id=trace_row.id,
                position=trace_row.position,
                trace=_shown_trace(trace_row, view),
                model=model,
                model_version=model_row.version,
                mine=judgment_from_row(my_row) if my_row is not None else None,
                my_version=my_row.version if my_row is not None else None,
                model_steps=model_step_labels(model, trace_row.n_steps),
            )
        )
    return items


def _shown_trace(row: TraceRow, view: ProjectView) -> Trace:
    trace = trace_from_row(row)
    if not view.sees_reference_fields(qc=row.qc):
        trace.reference_answer = trace.reference_solution = None
    return trace


def is_checked(item: CritiqueToCheck, model_source: Source) -> bool:
    return item.mine is not None and item.mine.extra.get("checked_from") == str(model_source)


def next_unchecked(items: list[CritiqueToCheck], model_source: Source, after: int = -1) -> int | None:
    """Index of the next item (after ``after``, wrapping round) the person has not checked yet."""
    n = len(items)
    for k in range(1, n + 1):
        i = (after + k) % n
        if not is_checked(items[i], model_source):
            return i
    return None


def change_summary(extra: dict[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys(ACTIONS, 0)
    for c in extra.get("changes", []):
        counts[c["action"]] = counts.get(c["action"], 0) + 1
    return counts
