"""Which judgment labels each trace, and which traces an export keeps.

Without a named source the best available label is used, trace by trace:

1. the consensus judgment, when there is one;
2. else the submitted human judgments: with one, that one; with several, the first error most of
   them chose, taking the most recently submitted judgment of that majority (its critiques come
   with it); on a tie between first errors, the most recently submitted judgment of the tied ones;
3. else the reference label.

Where the humans disagree, ``ExportOptions.disagreements`` says what happens: ``latest`` (the rule above),
``majority`` (ties left out) or ``leave_out`` (no trace where they disagree). The summary and the card say how
many ties the most recent judgment settled.

A named source (``human:alice``, ``model:critic``, ``reference``, ``consensus``) uses only that one;
``human`` alone picks among the humans as in step 2. Model judgments are never chosen unless named.
Agreement is the share of the trace's human judgments (with a first error) that chose the majority's
first error; it is measured only where two or more humans judged.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from annotation.core.model import InvalidValue, Judgment, Source, Trace
from annotation.exporting.formats.base import BEST, UNFINISHED, ExportItem, ExportOptions

ANY_HUMAN = "human"
TRACE_FIELDS = ("generator", "source_file", "record_id")
_OLDEST = datetime.min.replace(tzinfo=UTC)


def parse_source(text: str) -> str:
    """A source choice as typed by a person, checked and normalised; raises InvalidValue."""
    text = (text or "").strip()
    if text in ("", BEST):
        return BEST
    if text == ANY_HUMAN:
        return ANY_HUMAN
    return str(Source.parse(text))


def parse_where(pairs: list[str]) -> dict[str, str]:
    where: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidValue("where", f"{pair!r} is not KEY=VALUE")
        where[key.strip()] = value.strip()
    return where


def matches(trace: Trace, where: dict[str, str]) -> bool:
    """Every condition holds: a trace field or a metadata key, compared as text."""
    for key, wanted in where.items():
        value: Any = getattr(trace, key) if key in TRACE_FIELDS else trace.metadata.get(key)
        if value is None or str(value) != wanted:
            return False
    return True


def _when(updated: dict[str, datetime | None], source: str) -> datetime:
    stamp = updated.get(source)
    if stamp is None:
        return _OLDEST
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def human_majority(
    judgments: dict[str, Judgment], updated: dict[str, datetime | None]
) -> tuple[str | None, int, float | None]:
    """The human judgment standing for the humans, how many judged, and their agreement (None under two)."""
    judged = [src for src, j in judgments.items() if src.startswith("human:") and j.first_error is not None]
    if not judged:
        return None, 0, None
    votes = Counter(judgments[src].first_error for src in judged)
    top = max(votes.values())
    winners = {fe for fe, n in votes.items() if n == top}
    candidates = [src for src in judged if judgments[src].first_error in winners]
    chosen = max(candidates, key=lambda src: (_when(updated, src), src))
    agreement = top / len(judged) if len(judged) >= 2 else None
    return chosen, len(judged), agreement


def human_votes(judgments: dict[str, Judgment]) -> tuple[bool, bool]:
    """Whether the humans chose different first errors, and whether the most chosen ones tie."""
    votes = Counter(
        j.first_error for src, j in judgments.items() if src.startswith("human:") and j.first_error is not None
    )
    top = max(votes.values(), default=0)
    return len(votes) > 1, sum(1 for n in votes.values() if n == top) > 1


def choose_label(item: ExportItem, options: ExportOptions) -> None:
    """Set the item's label, label source, human count and agreement."""
    judgments = item.judgments
    chosen_human, item.humans, item.agreement = human_majority(judgments, item.updated)
    item.disagreement, item.tie = human_votes(judgments)
    source = options.source
    if source == BEST:
        if "consensus" in judgments:
            chosen = "consensus"
        elif chosen_human is not None:
            chosen = chosen_human
        elif "reference" in judgments:
            chosen = "reference"
        else:
            chosen = None
    elif source == ANY_HUMAN:
        chosen = chosen_human
    else:
        chosen = source if source in judgments else None
    item.label_source = chosen
    item.label = judgments.get(chosen) if chosen else None


def reason_to_leave_out(item: ExportItem, options: ExportOptions, leave_out_unfinished: bool) -> str | None:
    """Why a trace with its chosen label stays out of the export, or None to keep it."""
    if options.min_agreement is not None:
        if item.humans < 2:
            return "fewer than two human judgments to measure agreement"
        if item.agreement is None or item.agreement < options.min_agreement:
            return f"human agreement below {options.min_agreement:g}"
    human_label = (item.label_source or "").startswith("human:")
    if human_label and item.disagreement and options.disagreements == "leave_out":
        return "the humans disagree on the first error"
    if human_label and item.tie and options.disagreements == "majority":
        return "a tie between the humans' first errors"
    if leave_out_unfinished and item.label is not None and item.label.finish_reason in UNFINISHED:
        return f"labelled {item.label.finish_reason}"
    return None
