"""Merge two neighbouring steps, or split one in two, before judging: a long reasoning trace split badly by
paragraphs is fixed by the person who reads it.

Only while nobody has judged the trace: no judgment of any source (reference labels, a model's critique,
anyone's submission, the person's own included) and no one else's draft. The steps before are kept as a
revision of the trace (trace_revision), the trace's ``steps_version`` is bumped, and everyone sees the new
steps from then on; a submission or draft made on the old steps is refused (judgments.writing). The person's
own draft follows its text: a merged step takes the worse verdict of the two and both critiques, a split
step's label stays with both halves (its critique, tags and correction with the first).

The trace's identity (``content_key``) stays that of the record imported, so importing the file again finds
it; labels that file carries are for the old steps, and are left out with a warning (importing.files).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine, select, update

from annotation.core.model import InvalidValue
from annotation.core.parts import Part, Step, set_steps, splittable_text, steps_of
from annotation.core.records import trace_from_row
from annotation.core.spans import Span
from annotation.workflow.labelling import StepWork, WorkingCopy
from storage import work
from storage.db import session
from storage.tables import Draft, JudgmentRow, TraceRevision, TraceRow, utcnow

OPERATIONS = ("merge", "split")
# Parts a step can be split inside: their text is what the person sees and points into.
SPLITTABLE = ("text", "thinking")


class CannotRestructure(Exception):
    """The steps cannot change (someone judged the trace, or the request does not fit it); nothing changed."""


def merged(steps: list[Step], i: int) -> list[Step]:
    if not 0 <= i < len(steps) - 1:
        raise InvalidValue("step", f"there is no step after step {i + 1} to merge it with")
    a, b = steps[i], steps[i + 1]
    if (a.role, a.agent) != (b.role, b.agent):
        raise InvalidValue("step", f"steps {i + 1} and {i + 2} come from different speakers; they stay apart")
    parts = [*a.parts, *b.parts]
    if len(parts) == 2 and parts[0].type == parts[1].type and parts[0].type in SPLITTABLE:
        first, second = parts[0].text or "", parts[1].text or ""
        # Pieces cut from one text (they carry offsets) join as they were; paragraphs with a blank line.
        adjacent = a.offset is not None and b.offset == a.offset + len(first)
        parts = [Part(parts[0].type, text=first + second if adjacent else f"{first}\n\n{second}")]
    messages = sorted({*a.messages, *b.messages})
    together = Step(parts, role=a.role, agent=a.agent, messages=messages, offset=a.offset)
    return [*steps[:i], together, *steps[i + 2 :]]


def split(steps: list[Step], i: int, at: int) -> list[Step]:
    """Step ``i`` cut at ``at``, a 0-based offset in Unicode code points into its one text (or thinking) part."""
    if not 0 <= i < len(steps):
        raise InvalidValue("step", f"the trace has no step {i + 1}")
    step = steps[i]
    if splittable_text(step) is None:
        raise InvalidValue("step", f"step {i + 1} is not one text; only a step of text or thinking can be split")
    part = step.parts[0]
    text = part.text or ""
    at = _stored_offset(text, at)
    head, tail = text[:at], text[at:]
    if not 0 < at < len(text) or not head.strip() or not tail.strip():
        raise InvalidValue("at", f"cut inside the text of step {i + 1}, with text on both sides")
    tail_offset = None
    if step.offset is not None:
        tail_offset = step.offset + at  # a piece of one text: kept exactly, so offsets into the whole still hold
    else:
        head, tail = head.rstrip(), tail.lstrip()
    halves = [
        Step([Part(part.type, text=head)], role=step.role, agent=step.agent, messages=list(step.messages),
             offset=step.offset),
        Step([Part(part.type, text=tail)], role=step.role, agent=step.agent, messages=list(step.messages),
             offset=tail_offset),
    ]  # fmt: skip
    return [*steps[:i], *halves, *steps[i + 1 :]]


def _stored_offset(text: str, at: int) -> int:
    """An offset counted in the text as a browser's text box holds it (every line break one \\n) in the text as
    stored, which may break lines with \\r\\n."""
    if "\r" not in text:
        return at
    seen = k = 0
    while k < len(text) and seen < at:
        k += 2 if text.startswith("\r\n", k) else 1
        seen += 1
    return k


def _worse(a: int | None, b: int | None) -> int | None:
    given = [v for v in (a, b) if v is not None]
    return min(given) if given else None


def _joined(a: str, b: str) -> str:
    return "\n\n".join(t for t in (a, b) if t)


def _moved_spans(copy: WorkingCopy, op: str, i: int, old: list[Step], new: list[Step]) -> tuple[Span, ...]:
    """The person's spans on the new steps: on the same words. Only single-text steps carry spans."""
    out = []
    for span in copy.spans:
        if span.step is None or span.step < i:
            out.append(span)
            continue
        if op == "merge":
            if span.step > i + 1:
                out.append(replace(span, step=span.step - 1))
            elif span.step == i:
                out.append(span)
            else:
                shift = len(splittable_text(new[i]) or "") - len(splittable_text(old[i + 1]) or "")
                out.append(replace(span, step=i, start=span.start + shift, end=span.end + shift))
            continue
        if span.step > i:
            out.append(replace(span, step=span.step + 1))
            continue
        head = splittable_text(new[i]) or ""
        tail = splittable_text(new[i + 1]) or ""
        tail_start = len(splittable_text(old[i]) or "") - len(tail)
        if span.start < len(head):
            out.append(replace(span, end=min(span.end, len(head))))
        if span.end > tail_start:
            start = max(span.start, tail_start) - tail_start
            out.append(replace(span, step=i + 1, start=start, end=span.end - tail_start))
    return tuple(x for x in out if x.start < x.end)


def follow(copy: WorkingCopy, op: str, i: int) -> WorkingCopy:
    """The working copy on the new steps: each label stays with its text."""
    labels = list(copy.steps)
    if op == "merge":
        a, b = labels[i], labels[i + 1]
        one = StepWork(
            verdict=_worse(a.verdict, b.verdict),
            critique=_joined(a.critique, b.critique),
            tags=tuple(dict.fromkeys((*a.tags, *b.tags))),
            correction=_joined(a.correction, b.correction),
        )
        labels[i : i + 2] = [one]
    else:
        labels[i : i + 1] = [labels[i], StepWork(verdict=labels[i].verdict)]
    return replace(copy, steps=tuple(labels))


def restructure(
    engine: Engine,
    *,
    trace_id: int,
    username: str,
    op: str,
    step: int,
    at: int | None = None,
    copy: WorkingCopy | None = None,
    steps_version: int | None = None,
) -> str:
    """Merge step ``step`` with the next one, or split it at ``at``; ``copy`` (the person's work so far) is kept
    as their draft on the new steps. Returns what was done, in words. Raises CannotRestructure (someone's work is
    on the trace) or InvalidValue (a request that does not fit the steps). ``steps_version``: the steps the person
    sees; when they have changed since (another tab merged them), nothing is done."""
    if op not in OPERATIONS:
        raise InvalidValue("op", f"{op!r} is not one of {', '.join(OPERATIONS)}")
    with session(engine) as s:
        work.lock_traces(s, trace_ids=[trace_id])
        row = s.get(TraceRow, trace_id)
        if row is None:
            raise LookupError(f"no trace with id {trace_id}")
        if steps_version is not None and row.steps_version != steps_version:
            raise CannotRestructure(
                f"the steps of trace #{row.position + 1} changed since this page showed them; reload to see them"
            )
        judged = s.exec(
            select(JudgmentRow.source_kind, JudgmentRow.source_name).where(JudgmentRow.trace_id == trace_id)
        )
        sources = sorted(f"{k}:{n}" if n else k for k, n in judged.all())
        if sources:
            raise CannotRestructure(
                f"trace #{row.position + 1} already has judgments ({', '.join(sources)}); its steps stay as they are"
            )
        others = (
            s.execute(select(Draft.username).where(Draft.trace_id == trace_id, Draft.username != username))
            .scalars()
            .all()
        )
        if others:
            raise CannotRestructure(
                f"{', '.join(sorted(others))} already started on trace #{row.position + 1}; its steps stay as they are"
            )
        trace = trace_from_row(row)
        steps = steps_of(trace)
        new = merged(steps, step) if op == "merge" else split(steps, step, at if at is not None else -1)
        said = f"steps {step + 1} and {step + 2} merged" if op == "merge" else f"step {step + 1} split in two"
        s.add(
            TraceRevision(
                trace_id=trace_id,
                steps_version=row.steps_version,
                steps=list(row.steps),
                structure=row.structure,
                changed_by=username,
                change=said,
                created_at=utcnow(),
            )
        )
        set_steps(trace, new)
        s.exec(
            update(TraceRow)
            .where(TraceRow.id == trace_id)
            .values(
                steps=trace.steps,
                structure=trace.structure(),
                n_steps=len(trace.steps),
                steps_version=row.steps_version + 1,
            )
        )
        if copy is None or len(copy.steps) != len(steps):
            # No work came with the request: the person's saved draft (of the old steps) follows its text.
            saved = work.get_draft(s, trace_id=trace_id, username=username)
            copy = WorkingCopy.from_draft(saved.content, len(steps)) if saved is not None else None
        work.delete_draft(s, trace_id=trace_id, username=username)
        if copy is not None:
            kept = replace(follow(copy, op, step), spans=_moved_spans(copy, op, step, steps, new))
            work.save_draft(
                s, trace_id=trace_id, username=username, content=kept.draft(), base_version=0, expected_version=None
            )
        s.commit()
    return said
