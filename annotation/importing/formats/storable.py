"""What the database can keep: checked for every converted record before anything is written.

SQLite and PostgreSQL refuse different things (PostgreSQL: NUL characters, NaN in JSON), and a
refusal in the middle of the write would surface as a database error instead of a clear message
naming the record. Lone UTF-16 surrogates (valid in JSON's escapes, not in Unicode) cannot be
encoded at all. So every text must be text without those characters, and the free-form metadata
must be plain JSON; Parquet's dates and decimals become text, and NaN/Infinity (which JSON has no
number for) become null with a warning, because float columns in real files hold them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from annotation.core.model import InvalidValue
from annotation.importing.formats.base import ImportedRecord

#: Metadata nested deeper than this is refused: no real dataset needs it, and every reader recurses.
MAX_NESTING = 100
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

#: warn(field, message): the caller decides how often one field is worth a warning.
Warn = Callable[[str, str], None]


def check_text(value: Any, field: str, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise InvalidValue(field, f"expected text, got {type(value).__name__}")
    if m := _UNSTORABLE.search(value):
        char = m.group()
        what = "a NUL character" if char == "\x00" else "a lone UTF-16 surrogate (not valid Unicode)"
        raise InvalidValue(field, f"holds {what}, \\u{ord(char):04x} at character {m.start() + 1}; remove it")


def plain_json(value: Any, field: str, warn: Warn, depth: int = 0) -> Any:
    """``value`` as JSON the database keeps the same on SQLite and PostgreSQL."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        check_text(value, field)
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        warn(field, f"field '{field}': {value} is not a JSON number; kept as null")
        return None
    if depth >= MAX_NESTING:
        raise InvalidValue(field, f"nested more than {MAX_NESTING} levels deep")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidValue(field or "metadata", f"key {k!r} is not text")
            check_text(k, field or k)
            out[k] = plain_json(v, f"{field}.{k}" if field else k, warn, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [plain_json(v, f"{field}[{i}]", warn, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise InvalidValue(field, f"{type(value).__name__} cannot be stored; expected text, a number, a list or an object")


def check_storable(record: ImportedRecord, warn: Warn) -> None:
    """Raise InvalidValue (naming Redline's field) for what cannot be kept; tidy metadata in place."""
    trace = record.trace
    check_text(trace.problem, "problem", optional=False)
    for i, step in enumerate(trace.steps):
        check_text(step, f"steps[{i}]", optional=False)
    for name in ("answer", "reference_answer", "reference_solution", "generator", "record_id", "source_file"):
        check_text(getattr(trace, name), name)
    if (structure := trace.structure()) is not None:
        plain_json(structure, "step_parts", warn)  # every text in the parts, the context and the image names
    # Metadata keys are the file's own fields, so errors name them as they are (an empty prefix).
    trace.metadata = plain_json(trace.metadata, "", warn)
    for judgment in record.judgments:
        check_text(judgment.critique, "critique")
        check_text(judgment.finish_reason, "finish_reason")
        for i, label in enumerate(judgment.steps):
            check_text(label.critique, f"steps[{i}].critique")
            check_text(label.correction, f"steps[{i}].correction")
            for tag in label.tags:
                check_text(tag, f"steps[{i}].tags", optional=False)
        spent = judgment.time_spent_s
        if spent is not None and (isinstance(spent, bool) or not isinstance(spent, int | float)):
            raise InvalidValue("time_spent_s", f"expected a number of seconds, got {spent!r}")
        if spent is not None and not math.isfinite(spent):
            raise InvalidValue("time_spent_s", f"{spent} is not a number of seconds")
        judgment.extra = plain_json(judgment.extra, "extra", warn)
