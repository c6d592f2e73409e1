"""Per-step lists a labels file carries (critiques, verdicts, corrections), read strictly: one item per step.

A list cell may be a list, or (in CSV) a JSON list in a text cell; ``null`` or an empty text where a step has
nothing. Verdicts are read as annotation.core.verdicts reads them (critics' answers too).
"""

from __future__ import annotations

import json
from typing import Any

from annotation.core.model import InvalidValue
from annotation.core.verdicts import SPELLINGS, parse_verdict


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
    """One step's verdict (annotation.core.verdicts: -1 / 0 / +1, a boolean, or a word for one), or nothing."""
    try:
        return parse_verdict(item)
    except ValueError:
        raise InvalidValue(f"{column}[{i}]", f"step {i + 1}: {item!r} is not a verdict ({SPELLINGS})") from None


def verdicts_per_step(value: Any, column: str, n_steps: int) -> list[int | None] | None:
    items = per_step(value, column, n_steps)
    return None if items is None else [verdict(item, column, i) for i, item in enumerate(items)]
