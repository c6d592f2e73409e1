"""Finer than a step: a span of wrong text with its error type, and "something is missing here".

A span names the text it marks exactly: the step (or ``None`` for the trace's answer), the part of the
step, the field of that part (``text`` for text and thinking, ``arguments`` of a tool call, ``content`` of
a tool result, ``answer`` for the trace's answer), and 0-based, end-exclusive offsets in Unicode code points
(Python's ``str`` indices, not a browser's UTF-16 units) into that text exactly as stored. A span that
crosses steps is stored as one span per step sharing a ``group``, so a format that keeps one text (as
Fine-Grained RLHF's does) gets it back whole.

A missing entry sits at a position between steps (``position`` k: before step k, so 0 is before the first
step and n after the last) with its type and note, and may point at the passage and sentence of the
trace's context that hold what is missing (kept as the file gave them: a sentence id may be a list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from annotation.core.model import InvalidValue
from annotation.core.parts import text_step

ANSWER = "answer"
FIELDS = ("text", "arguments", "content", ANSWER)
# The field of each part type whose text a span may mark (an image has none).
PART_FIELDS = {"text": "text", "thinking": "text", "tool_call": "arguments", "tool_result": "content"}
MAX_NOTE = 50_000


@dataclass(slots=True)
class Span:
    step: int | None
    start: int
    end: int
    type: str
    part: int = 0
    field: str = "text"
    note: str = ""
    by: str | None = None
    group: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step,
            "part": self.part,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "type": self.type,
            "note": self.note,
        }
        if self.by is not None:
            out["by"] = self.by
        if self.group is not None:
            out["group"] = self.group
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> Span:
        if not isinstance(raw, dict):
            raise InvalidValue(where, "a span is an object")
        step = raw.get("step")
        if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
            raise InvalidValue(f"{where}.step", f"{step!r} is not a step index")
        values: dict[str, Any] = {"step": step}
        for key in ("start", "end", "part"):
            value = raw.get(key, 0 if key == "part" else None)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidValue(f"{where}.{key}", f"{value!r} is not an offset (0 or more)")
            values[key] = value
        for key, default in (("type", None), ("field", "text"), ("note", ""), ("by", None), ("group", None)):
            value = raw.get(key, default)
            if value is not None and not isinstance(value, str):
                raise InvalidValue(f"{where}.{key}", f"expected text, got {type(value).__name__}")
            values[key] = value
        if not values["type"]:
            raise InvalidValue(f"{where}.type", "a span needs an error type")
        return cls(**values)


@dataclass(slots=True)
class Missing:
    position: int
    type: str
    note: str = ""
    # Where the missing information is, in the trace's passages, as the source gave it.
    passage: Any = None
    sentence: Any = None
    by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"position": self.position, "type": self.type, "note": self.note}
        if self.passage is not None:
            out["passage"] = self.passage
        if self.sentence is not None:
            out["sentence"] = self.sentence
        if self.by is not None:
            out["by"] = self.by
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> Missing:
        if not isinstance(raw, dict):
            raise InvalidValue(where, "a missing entry is an object")
        position = raw.get("position")
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise InvalidValue(f"{where}.position", f"{position!r} is not a position between steps")
        kind = raw.get("type")
        if not isinstance(kind, str) or not kind:
            raise InvalidValue(f"{where}.type", "a missing entry needs a type")
        note = raw.get("note") or ""
        if not isinstance(note, str):
            raise InvalidValue(f"{where}.note", "expected text")
        return cls(position, kind, note, raw.get("passage"), raw.get("sentence"), raw.get("by"))


def spans_from_data(raw: Any, where: str = "spans") -> list[Span]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidValue(where, "expected a list of spans")
    return [Span.from_dict(s, f"{where}[{i}]") for i, s in enumerate(raw)]


def missing_from_data(raw: Any, where: str = "missing") -> list[Missing]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidValue(where, "expected a list of missing entries")
    return [Missing.from_dict(m, f"{where}[{i}]") for i, m in enumerate(raw)]


def span_text(trace: Any, span: Span) -> str:
    """The text a span's offsets count in, exactly as stored; InvalidValue when the span names none."""
    if span.step is None:
        if span.field != ANSWER:
            raise InvalidValue("spans", f"a span outside the steps marks the answer, not {span.field!r}")
        return trace.answer or ""
    n = len(trace.steps)
    if not 0 <= span.step < n:
        raise InvalidValue("spans", f"step {span.step + 1} does not exist (the trace has {n})")
    # Only the step marked is built (a text trace's steps are one text part each), not all of them for every span.
    parts = (
        trace.step_parts[span.step].parts if trace.step_parts is not None else text_step(trace.steps[span.step]).parts
    )
    if not 0 <= span.part < len(parts):
        raise InvalidValue("spans", f"step {span.step + 1} has no part {span.part}")
    part = parts[span.part]
    if PART_FIELDS.get(part.type) != span.field:
        raise InvalidValue("spans", f"step {span.step + 1}, part {span.part} ({part.type}) has no {span.field!r}")
    value = getattr(part, span.field)
    return value or ""


def check_spans(trace: Any, spans: list[Span], missing: list[Missing], taxonomy: tuple[str, ...] | None = None) -> None:
    """Every span inside its text and not empty; every missing entry between steps (or at the end)."""
    n = len(trace.steps)
    for i, span in enumerate(spans):
        where = f"spans[{i}]"
        text = span_text(trace, span)
        if not span.start < span.end <= len(text):
            raise InvalidValue(
                where, f"offsets {span.start}-{span.end} are not a non-empty range in a text of {len(text)} characters"
            )
        if len(span.note) > MAX_NOTE:
            raise InvalidValue(f"{where}.note", f"is longer than {MAX_NOTE:,} characters")
        if taxonomy is not None and span.type not in taxonomy:
            raise InvalidValue(f"{where}.type", f"{span.type!r} is not in the project's taxonomy")
    for i, entry in enumerate(missing):
        if entry.position > n:
            raise InvalidValue(f"missing[{i}].position", f"{entry.position} is past the end of {n} steps")
        if taxonomy is not None and entry.type not in taxonomy:
            raise InvalidValue(f"missing[{i}].type", f"{entry.type!r} is not in the project's taxonomy")


def passage_sentences(context: Any) -> list[list[int]]:
    """The sentence ids of each passage in a trace's context, passages numbered from 1 as Fine-Grained RLHF's
    ``passage_id`` counts them: a passage ``[title, sentence, ...]`` has sentences 1.. (its title is 0); a passage
    of one text has none to point at."""
    passages = context.get("passages") if isinstance(context, dict) else None
    if not isinstance(passages, list):
        return []
    return [list(range(1, len(p))) if isinstance(p, list) else [] for p in passages]
