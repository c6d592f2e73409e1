"""A step's verdict as people and models write it: one table for every reader (label imports, critics' answers).

-1 / 0 / +1 as numbers or text, a boolean (true = correct, as TRL's stepwise labels are), or a word for one.
"""

from __future__ import annotations

from typing import Any

from annotation.core.model import CORRECT, NEUTRAL, WRONG

VERDICT_WORDS: dict[str, int] = {
    "1": CORRECT,
    "+1": CORRECT,
    "+": CORRECT,
    "correct": CORRECT,
    "right": CORRECT,
    "true": CORRECT,
    "good": CORRECT,
    "positive": CORRECT,
    "0": NEUTRAL,
    "neutral": NEUTRAL,
    "ok": NEUTRAL,
    "-1": WRONG,
    "-": WRONG,
    "incorrect": WRONG,
    "wrong": WRONG,
    "false": WRONG,
    "error": WRONG,
    "bad": WRONG,
    "negative": WRONG,
}
#: How the accepted spellings are named in messages.
SPELLINGS = "-1, 0, +1, true / false, wrong, neutral, correct"


def parse_verdict(value: Any) -> int | None:
    """-1, 0 or +1; None for nothing (None or empty text). ValueError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return CORRECT if value else WRONG
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        spelled = value.strip().lower()
        if spelled in VERDICT_WORDS:
            return VERDICT_WORDS[spelled]
        try:
            number = float(spelled)
        except ValueError:
            number = None
    else:
        number = None
    if number not in (-1.0, 0.0, 1.0):
        raise ValueError(f"{value!r} is not a verdict ({SPELLINGS})")
    return int(number)
