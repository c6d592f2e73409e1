"""JSON columns read in bulk: SQLite hands them back as text, PostgreSQL's driver already decoded."""

from __future__ import annotations

from typing import Any

import orjson


def decode_all(values: list[Any]) -> list[Any]:
    """Many JSON values at once, in one call per chunk (a call per value costs more than the decoding)."""
    if not any(isinstance(v, str) for v in values):
        return values
    return orjson.loads("[" + ",".join("null" if v is None else v for v in values) + "]")


def decode(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value
