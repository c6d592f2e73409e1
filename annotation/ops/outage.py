"""A database that cannot be reached (restarted, network gone, SQLite busy too long), told apart from other
failures, with a message a person can act on.

Domain functions let SQLAlchemy's OperationalError / InterfaceError through; a page catches them with
``except UNAVAILABLE`` (or checks ``is_unavailable``), shows ``MESSAGE`` and keeps what the person typed in
the session, so the next save once the database is back stores it. The engine's pool_pre_ping replaces
connections that died meanwhile, so nothing needs restarting.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
MESSAGE = (
    "The database cannot be reached right now, so this was not saved. Your work stays on this page: "
    "try again in a moment."
)


def is_unavailable(error: BaseException) -> bool:
    """True for a database that is down or unreachable, not for refused data (constraints, stale versions)."""
    if isinstance(error, UNAVAILABLE):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
