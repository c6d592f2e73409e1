"""The judging surface's side of the conversation with the browser: what it is given, and what it may send.

While a person works, the working copy lives in the browser (pages/judging). It is sent back when it
matters: a draft, a submit, a skip. Nothing it sends is trusted: ``read_message`` checks every field
against the trace open on the server, and refuses (``MessageRefused``, naming the field) a message for
another trace, in another person's name, with a verdict out of range, a step past the end, or text or
tags that do not belong. A refused message changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from annotation.core.model import (
    NO_ERROR,
    VERDICT_NAMES,
    VERDICTS,
    WRONG,
    InvalidValue,
    Judgment,
    StepLabel,
    Trace,
    steps_from_first_error,
)
from annotation.core.parts import Step, image_refs, splittable_text
from annotation.core.records import trace_from_row
from annotation.core.spans import PART_FIELDS, Missing, Span, passage_sentences, span_text
from annotation.projects.images import image_uris
from annotation.rendering.markup import render_soon, to_html
from annotation.rendering.parts import context_html, images_html, part_texts, step_html
from annotation.workflow.labelling import CHOSEN_FINISH, StepWork, WorkingCopy
from annotation.workflow.workbench import OpenTrace, ProjectRules
from storage import queries
from storage.db import session
from storage.tables import TraceRow

# What the browser may ask for: keep a draft, or act on the trace (the working copy comes with each).
MESSAGE_KINDS = ("draft", "submit", "skip", "back", "load_newer", "take_over", "merge", "split")
# Longer than any critique a person types; a bigger field is a forged or broken message.
MAX_TEXT = 50_000
MAX_TAGS = 64
MAX_SPANS = 2_000


class MessageRefused(ValueError):
    """A message from the browser that does not fit the open trace; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    seq: int
    work: WorkingCopy | None
    # merge: the step joined with the next; split: the step cut, at ``at`` (code points into its text).
    step: int | None = None
    at: int | None = None


def read_message(
    raw: Any,
    *,
    trace_id: int,
    before: WorkingCopy,
    username: str,
    taxonomy: tuple[str, ...] = (),
    trace: Trace | None = None,
) -> Message:
    """The message the browser sent, checked against the trace open on the server (``trace_id``, whose work so
    far is ``before``; ``trace``: the trace itself, whose texts spans mark; without it no span is taken)."""
    if not isinstance(raw, dict):
        raise MessageRefused("message", "is not an object")
    kind = raw.get("kind")
    if kind not in MESSAGE_KINDS:
        raise MessageRefused("kind", f"{kind!r} is not one of {', '.join(MESSAGE_KINDS)}")
    seq = raw.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise MessageRefused("seq", f"{seq!r} is not a count")
    if raw.get("trace_id") != trace_id:
        raise MessageRefused("trace_id", f"the message is for trace {raw.get('trace_id')!r}, not the open one")
    if raw.get("user", username) != username:
        raise MessageRefused("user", f"the message is in the name of {raw.get('user')!r}, not of who is signed in")
    work = raw.get("work")
    step = at = None
    if kind in ("merge", "split"):
        step = _index(raw.get("step"), "step", len(before.steps) - (1 if kind == "merge" else 0))
        at = _index(raw.get("at"), "at", MAX_TEXT * 100) if kind == "split" else None
    if work is None and kind in ("skip", "back", "load_newer"):
        return Message(kind, seq, None)
    return Message(kind, seq, read_work(work, before=before, taxonomy=taxonomy, trace=trace), step, at)


def _index(value: Any, field: str, limit: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < limit:
        raise MessageRefused(field, f"{value!r} is not a position in this trace")
    return value


def read_work(
    raw: Any, *, before: WorkingCopy, taxonomy: tuple[str, ...] = (), trace: Trace | None = None
) -> WorkingCopy:
    if not isinstance(raw, dict):
        raise MessageRefused("work", "is not an object")
    steps = raw.get("steps")
    n = len(before.steps)
    if not isinstance(steps, list) or len(steps) != n:
        got = len(steps) if isinstance(steps, list) else type(steps).__name__
        raise MessageRefused("work.steps", f"the trace has {n} steps, the message {got}")
    read = tuple(_read_step(step, i, before.steps[i], taxonomy) for i, step in enumerate(steps))
    for i, step in enumerate(read):
        if step.because_of is not None and read[step.because_of].verdict != WRONG:
            raise MessageRefused(
                f"work.steps[{i}].because_of",
                f"step {step.because_of + 1} is not marked wrong, so nothing builds on it",
            )
    solution = raw.get("solution_correct")
    if solution not in (None, True, False):
        raise MessageRefused("work.solution_correct", f"{solution!r} is not true, false or null")
    finish = raw.get("finish")
    if finish not in (None, *CHOSEN_FINISH):
        raise MessageRefused("work.finish", f"{finish!r} is not one of {', '.join(CHOSEN_FINISH)}")
    return WorkingCopy(
        steps=read,
        critique=_text(raw.get("critique"), "work.critique"),
        solution_correct=solution,
        finish=finish,
        finish_note=_text(raw.get("finish_note"), "work.finish_note"),
        # Time is counted on the server, between messages: the browser's clock is not asked.
        time_spent_s=before.time_spent_s,
        spans=_read_spans(raw.get("spans"), before, taxonomy, trace),
        missing_here=_read_missing(raw.get("missing"), before, taxonomy, trace),
        corrected_answer=_text(raw.get("corrected_answer"), "work.corrected_answer"),
    )


def _read_spans(raw: Any, before: WorkingCopy, taxonomy: tuple[str, ...], trace: Trace | None) -> tuple[Span, ...]:
    """Spans a person marked: each in a text of the trace (a step's text or thinking, a tool call's arguments, a
    tool result, the answer), with offsets inside it (code points), of a type from the taxonomy (or one the
    judgment already had)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_SPANS:
        raise MessageRefused("work.spans", f"is not a list of at most {MAX_SPANS} spans")
    allowed = set(taxonomy) | {x.type for x in before.spans}
    kept_groups = {x.group for x in before.spans if x.group is not None}
    out = []
    for i, item in enumerate(raw):
        where = f"work.spans[{i}]"
        try:
            span = Span.from_dict(item, where)
        except InvalidValue as e:
            raise MessageRefused(e.field, e.message) from None
        try:
            text = span_text(trace, span) if trace is not None else None
        except InvalidValue as e:
            raise MessageRefused(f"{where}.step", e.message) from None
        if text is None:
            raise MessageRefused(f"{where}.step", "this page takes no spans")
        if not span.start < span.end <= len(text):
            raise MessageRefused(
                f"{where}.end", f"{span.start}-{span.end} is not inside the text's {len(text)} characters"
            )
        if span.type not in allowed:
            raise MessageRefused(f"{where}.type", f"{span.type!r} is not in the project's taxonomy")
        # A group joins the pieces of one span across steps (an import made them); the page only keeps them.
        group = span.group if span.group in kept_groups else None
        note = _text(span.note, f"{where}.note")
        out.append(Span(span.step, span.start, span.end, span.type, span.part, span.field, note, group=group))
    return tuple(out)


def _read_missing(raw: Any, before: WorkingCopy, taxonomy: tuple[str, ...], trace: Trace | None) -> tuple[Missing, ...]:
    """ "Something is missing here" entries: between steps or at the end, of a type from the taxonomy, pointing (or
    not) at a passage and sentence of the trace's context as passage_sentences numbers them."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_SPANS:
        raise MessageRefused("work.missing", f"is not a list of at most {MAX_SPANS} entries")
    allowed = set(taxonomy) | {x.type for x in before.missing_here}
    known = {_pointer(x) for x in before.missing_here}
    passages = passage_sentences(trace.context) if trace is not None else []
    out = []
    for i, item in enumerate(raw):
        where = f"work.missing[{i}]"
        try:
            entry = Missing.from_dict(item, where)
        except InvalidValue as e:
            raise MessageRefused(e.field, e.message) from None
        if entry.position > len(before.steps):
            raise MessageRefused(f"{where}.position", f"{entry.position} is past the end of {len(before.steps)} steps")
        if entry.type not in allowed:
            raise MessageRefused(f"{where}.type", f"{entry.type!r} is not in the project's taxonomy")
        if _pointer(entry) not in known:
            _check_pointer(entry, passages, where)
        note = _text(entry.note, f"{where}.note")
        out.append(Missing(entry.position, entry.type, note, entry.passage, entry.sentence))
    return tuple(out)


def _pointer(entry: Missing) -> str:
    # Where a missing entry points, as given (a sentence id may be a list): one read from a file stays as read.
    return json.dumps([entry.passage, entry.sentence])


def _check_pointer(entry: Missing, passages: list[list[int]], where: str) -> None:
    """A passage as numbered from 1, and sentences as the passage's list counts them (its title is 0)."""
    if entry.passage is None:
        if entry.sentence is not None:
            raise MessageRefused(f"{where}.sentence", "a sentence needs its passage")
        return
    p = entry.passage
    if not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= len(passages):
        raise MessageRefused(f"{where}.passage", f"{p!r} is not a passage of this trace (1 to {len(passages)})")
    if entry.sentence is None:
        return
    ids = entry.sentence if isinstance(entry.sentence, list) else [entry.sentence]
    for k in ids:
        if not isinstance(k, int) or isinstance(k, bool) or k not in passages[p - 1]:
            raise MessageRefused(f"{where}.sentence", f"{k!r} is not a sentence of passage {p}")


def _read_step(raw: Any, i: int, before: StepWork, taxonomy: tuple[str, ...]) -> StepWork:
    where = f"work.steps[{i}]"
    if not isinstance(raw, dict):
        raise MessageRefused(where, "is not an object")
    verdict = raw.get("verdict")
    if verdict not in (None, *VERDICTS) or isinstance(verdict, bool):
        raise MessageRefused(f"{where}.verdict", f"{verdict!r} is not one of 1, 0, -1 or null")
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(isinstance(t, str) for t in tags):
        raise MessageRefused(f"{where}.tags", "is not a list of tag names")
    allowed = set(taxonomy) | set(before.tags)
    unknown = [t for t in tags if t not in allowed]
    if unknown:
        raise MessageRefused(f"{where}.tags", f"{unknown[0]!r} is not in the project's taxonomy")
    return StepWork(
        verdict=verdict,
        critique=_text(raw.get("critique"), f"{where}.critique"),
        tags=tuple(dict.fromkeys(tags)),
        correction=_text(raw.get("correction"), f"{where}.correction"),
        because_of=_because_of(raw.get("because_of"), i, f"{where}.because_of"),
    )


def _because_of(value: Any, i: int, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < i:
        raise MessageRefused(where, f"{value!r} is not an earlier step (a step can be wrong because of one before it)")
    return value


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MessageRefused(where, "is not text")
    if len(value) > MAX_TEXT:
        raise MessageRefused(where, f"is longer than {MAX_TEXT:,} characters")
    return value


def work_data(work: WorkingCopy) -> dict[str, Any]:
    """The working copy in the shape the browser keeps (and sends back)."""
    return {
        "steps": [
            {
                "verdict": s.verdict,
                "critique": s.critique,
                "tags": list(s.tags),
                "correction": s.correction,
                "because_of": s.because_of,
            }
            for s in work.steps
        ],
        "critique": work.critique,
        "solution_correct": work.solution_correct,
        "finish": work.finish,
        "finish_note": work.finish_note,
        "spans": [_span_data(x) for x in work.spans],
        "missing": [x.as_dict() for x in work.missing_here],
        "corrected_answer": work.corrected_answer,
    }


def _span_data(span: Span) -> dict[str, Any]:
    out = {"step": span.step, "part": span.part, "field": span.field, "start": span.start, "end": span.end}
    out |= {"type": span.type, "note": span.note}
    if span.group is not None:
        out["group"] = span.group
    return out


def trace_data(opened: OpenTrace) -> dict[str, Any]:
    """The trace as sanitised markup (annotation.rendering): nothing in it runs or fetches."""
    return trace_markup(opened.trace_id, opened.position, opened.trace, opened.images)


# "Step 3:", "**Step 3.**", "3)" at the start of a step: numbering the page already shows.
_NUMBERING = re.compile(r"^\s*(?:\*\*)?\s*(?:step\s*)?(\d+)\s*[:.)](?:\*\*)?(?=\s)\s*", re.IGNORECASE)


def shown_step(text: str, index: int, first_number: int) -> str:
    """The step as shown: without a leading number that repeats its position (counted from the trace's own first
    number, 1 or 0). Display only: the stored text, and every export, keep the step as it was."""
    match = _NUMBERING.match(text)
    if match and int(match.group(1)) == first_number + index and match.end() < len(text):
        return text[match.end() :]
    return text


def shown_steps(steps: list[str]) -> list[str]:
    """Every step as shown (``shown_step``), counted from the trace's own first number (0 or 1)."""
    first = _NUMBERING.match(steps[0]) if steps else None
    first_number = 0 if first is not None and first.group(1) == "0" else 1
    return [shown_step(step, i, first_number) for i, step in enumerate(steps)]


def trace_markup(trace_id: int, position: int, trace: Trace, images: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``images``: the data URIs of the project's stored images the trace names (``trace_images``)."""
    images = images or {}
    fields: list[list[dict[str, Any]] | None]
    if trace.step_parts is None:
        steps = [to_html(step) for step in shown_steps(trace.steps)]
        texts: list[str | None] = list(trace.steps)
        fields = [None] * len(steps)
    else:
        steps = [step_html(step, images) for step in trace.step_parts]
        texts = [splittable_text(step) for step in trace.step_parts]
        fields = [
            None if text is not None else markable_fields(step)
            for step, text in zip(trace.step_parts, texts, strict=True)
        ]
    return {
        "id": trace_id,
        "number": position + 1,
        "context": context_html(trace.context),
        "problem": to_html(trace.problem) + images_html(trace.images, images),
        "steps": steps,
        # Each step's text as stored, where it is one text: what a split points into, and spans mark.
        "texts": texts,
        # Where a step is not one text: the texts in it that spans may mark (part, field, label, text).
        "fields": fields,
        "answer": to_html(trace.answer),
        "answer_text": trace.answer or "",
        "passages": passages_data(trace.context),
        "reference_answer": to_html(trace.reference_answer),
        "reference_solution": to_html(trace.reference_solution),
    }


def markable_fields(step: Step) -> list[dict[str, Any]]:
    """The texts of a step of several parts that spans may mark, as stored, with a label a person reads."""
    out = []
    for k, part in enumerate(step.parts):
        field = PART_FIELDS.get(part.type)
        if field is None:
            continue
        label = {
            "text": "text",
            "thinking": "thinking",
            "tool_call": f"arguments of {part.name or 'a tool call'}",
            "tool_result": f"result of {part.name or 'a tool'}",
        }[part.type]
        out.append({"part": k, "field": field, "label": label, "text": getattr(part, field) or ""})
    return out


def passages_data(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The context's passages for pointing at what is missing: numbered from 1, each with its title and its
    sentences by id (see core.spans.passage_sentences). Text only: the page sets it as text."""
    passages = context.get("passages") if isinstance(context, Mapping) else None
    if not isinstance(passages, list):
        return []
    out = []
    for number, (p, ids) in enumerate(zip(passages, passage_sentences(context), strict=True), start=1):
        if isinstance(p, list):
            title = str(p[0]) if p else ""
            sentences = [{"id": k, "text": str(p[k])[:200]} for k in ids]
        else:
            title = str(p.get("title") or p.get("text") or "") if isinstance(p, dict) else str(p)
            sentences = []
        out.append({"number": number, "title": title[:120], "sentences": sentences})
    return out


def trace_images(engine: Engine, trace_id: int, trace: Trace) -> dict[str, str]:
    """The stored images trace ``trace_id`` shows, as data URIs by name."""
    if not image_refs(trace):
        return {}
    with session(engine) as s:
        row = s.get(TraceRow, trace_id)
        return image_uris(s, project_id=row.project_id, trace=trace) if row is not None else {}


def model_steps_data(labels: list[StepLabel]) -> list[dict[str, Any]]:
    """A model's verdict and explanation on each step: the text (for the edit box) and its markup."""
    return [{"verdict": x.verdict, "critique": x.critique or "", "html": to_html(x.critique)} for x in labels]


def others_data(opened: OpenTrace) -> list[dict[str, Any]]:
    """Other judgments of the trace this person may see (the open trace holds only those)."""
    rows = []
    for source, j in opened.others.items():
        first = j.first_error
        rows.append(
            {
                "source": source,
                "first_error": None if first is None else "no error" if first == NO_ERROR else first,
                "critique": j.critique or "",
            }
        )
    return rows


def render_following(engine: Engine, rules: ProjectRules, position: int, *, count: int = 2) -> None:
    """Start rendering the traces that follow ``position``: in import order they are served next."""
    with session(engine) as s:
        rows = queries.traces_after(s, project_id=rules.id, position=position, limit=count)
        traces = [trace_from_row(row) for row in rows]
    texts = [text for t in traces for text in (t.problem, t.answer, *(t.steps if t.step_parts is None else ()))]
    texts += part_texts(step for t in traces for step in t.step_parts or ())
    render_soon(texts)


def side_data(
    name: str, judgment: Judgment | None, n_steps: int, summary: str, trace: Trace | None = None
) -> dict[str, Any]:
    """One source's judgment of a trace for the read-only view: each step's verdict (given, or implied by the
    first error), whether it is the first error, the critique as markup, the tags, and (given the trace) the
    spans it marked in the step, as their text, and what it found missing after the step."""
    implied = steps_from_first_error(judgment.first_error, n_steps) if judgment is not None else []
    spans: dict[int, list[dict[str, str]]] = {}
    missing: dict[int, list[dict[str, str]]] = {}
    if judgment is not None and trace is not None:
        for span in judgment.spans:
            if span.step is not None and span.step < n_steps:
                text = span_text(trace, span)[span.start : span.end]
                spans.setdefault(span.step, []).append(
                    {"text": text, "type": span.type, "note": span.note}
                    | {"part": span.part, "field": span.field, "start": span.start, "end": span.end}
                )
        for entry in judgment.missing:
            at = min(max(entry.position - 1, 0), n_steps - 1)
            missing.setdefault(at, []).append({"type": entry.type, "note": entry.note})
    steps = []
    for i in range(n_steps):
        label = judgment.steps[i] if judgment is not None and i < len(judgment.steps) else None
        verdict = label.verdict if label is not None else None
        if verdict is None and i < len(implied):
            verdict = implied[i].verdict
        steps.append(
            {
                "verdict": VERDICT_NAMES.get(verdict, "–"),
                "first": judgment is not None and judgment.first_error == i,
                "because_of": label.because_of if label is not None else None,
                "critique": to_html(label.critique) if label is not None else "",
                "tags": list(label.tags) if label is not None else [],
                "spans": spans.get(i, []),
                "missing": missing.get(i, []),
            }
        )
    return {"name": name, "summary": summary, "steps": steps}
