"""Critics point at wrong words by quoting them; the quote becomes a span with exact offsets in the step.

The quote is looked for in the step's text as stored: exactly first, then ignoring differences of whitespace
(a model often reflows line breaks), mapped back to offsets in the original text. A quote found nowhere is
kept as text, with its step and type, and counted as unmatched: never guessed into a place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from annotation.core.parts import steps_of
from annotation.core.spans import PART_FIELDS, Span

_SPACE = re.compile(r"\s+")


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` is in ``text`` (code-point offsets, end exclusive), or None."""
    quote = quote.strip()
    if not quote:
        return None
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    # Whitespace-insensitive: both sides with every run of whitespace as one space, then offsets mapped back.
    squeezed, where = [], []
    previous_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if previous_space:
                continue
            squeezed.append(" ")
            previous_space = True
        else:
            squeezed.append(ch)
            previous_space = False
        where.append(i)
    wanted = _SPACE.sub(" ", quote)
    at = "".join(squeezed).find(wanted)
    if at < 0:
        return None
    start, last = where[at], where[at + len(wanted) - 1]
    return start, last + 1


@dataclass
class QuotedSpans:
    spans: list[Span]
    unmatched: list[dict[str, Any]]


def spans_from_quotes(raw: Any, trace: Any) -> QuotedSpans:
    """A critic's ``[{"step": i, "quote": "...", "type": "...", "note": "..."}]`` as spans: in the step's first
    part (text, thinking, a call's arguments, a result's content) that holds the quote."""
    out = QuotedSpans([], [])
    if not isinstance(raw, list):
        return out
    steps = steps_of(trace)
    for item in raw:
        if not isinstance(item, dict):
            continue
        step, quote = item.get("step"), item.get("quote")
        kind = str(item.get("type") or "error")
        note = str(item.get("note") or item.get("explanation") or "")
        span = None
        if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(steps) and isinstance(quote, str):
            for k, part in enumerate(steps[step].parts):
                field = PART_FIELDS.get(part.type)
                found = find_quote(getattr(part, field) or "", quote) if field else None
                if found is not None:
                    span = Span(step, found[0], found[1], kind, part=k, field=field, note=note)
                    break
        if span is None:
            out.unmatched.append({"step": step, "quote": quote, "type": kind, "note": note})
        else:
            out.spans.append(span)
    return out
