"""Named locks for check-then-act decisions (the last admin, the first admin, sign-in counts).

Held until the transaction ends: on PostgreSQL a transaction-scoped advisory lock on the name; on SQLite the
database's one write lock, taken by a write that changes nothing (SQLite has one writer at a time, so any
name serialises with every other writer, which is what a lock on a name needs at least).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlmodel import Session


def _key(name: str) -> int:
    # A signed 64-bit number from the name, as pg_advisory_xact_lock takes.
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


def hold(session: Session, name: str) -> None:
    """Take the lock ``name`` for the rest of the session's transaction, waiting for it if another holds it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key(name)})
    else:
        session.execute(text("DELETE FROM sign_in_handoff WHERE 1 = 0"))
