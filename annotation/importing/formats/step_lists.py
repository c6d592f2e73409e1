"""Per-step lists a labels file carries (critiques, verdicts, corrections), read strictly: one item per step.

A list cell may be a list, or (in CSV) a JSON list in a text cell; ``null`` or an empty text where a step has
nothing. Verdicts are -1 / 0 / +1, or the words people write for them.
"""

from __future__ import annotations

import json
from typing import Any

from annotation.core.model import InvalidValue

VERDICT_WORDS = {
    "1": 1,
    "+1": 1,
    "+": 1,
    "correct": 1,
    "good": 1,
    "positive": 1,
    "0": 0,
    "neutral": 0,
    "-1": -1,
    "-": -1,
    "wrong": -1,
    "incorrect": -1,
    "bad": -1,
    "negative": -1,
}


def per_step(value: Any, column: str, n_steps: int) -> list[Any] | None:
    """The cell as a list of exactly ``n_steps`` items; None when the cell is empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, list):
        raise InvalidValue(column, "expected a list with one item per step (a JSON list in a text cell is fine)")
    if len(value) != n_steps:
        raise InvalidValue(
            column, f"{len(value)} items for {n_steps} steps: give one per step (null where a step has none)"
        )
    return value


def texts_per_step(value: Any, column: str, n_steps: int) -> list[str | None] | None:
    items = per_step(value, column, n_steps)
    if items is None:
        return None
    out: list[str | None] = []
    for i, item in enumerate(items):
        if item is None or (isinstance(item, str) and not item.strip()):
            out.append(None)
        elif isinstance(item, str):
            out.append(item)
        else:
            raise InvalidValue(f"{column}[{i}]", f"step {i + 1}: expected text or null, got {type(item).__name__}")
    return out


def verdict(item: Any, column: str, i: int) -> int | None:
    """One step's verdict: -1, 0, +1 (as numbers or text), a word for one, or nothing."""
    if item is None or (isinstance(item, str) and not item.strip()):
        return None
    spelled = item.strip().lower() if isinstance(item, str) else None
    if spelled in VERDICT_WORDS:
        return VERDICT_WORDS[spelled]
    number: float | None = None
    if isinstance(item, int | float) and not isinstance(item, bool):
        number = float(item)
    elif spelled is not None:
        try:
            number = float(spelled)
        except ValueError:
            number = None
    if number not in (-1.0, 0.0, 1.0):
        raise InvalidValue(
            f"{column}[{i}]", f"step {i + 1}: {item!r} is not a verdict (-1, 0, +1, wrong, neutral, correct)"
        )
    return int(number)


def verdicts_per_step(value: Any, column: str, n_steps: int) -> list[int | None] | None:
    items = per_step(value, column, n_steps)
    return None if items is None else [verdict(item, column, i) for i, item in enumerate(items)]
