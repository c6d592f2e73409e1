"""Failed password sign-ins are limited per username, so a password cannot be guessed by trying many.

After ``MAX_FAILURES`` failures for one username within ``WINDOW``, further attempts for that username are
refused for ``LOCKOUT`` without the password being checked. Attempts are counted by the name as typed, so
the refusal reads the same whether or not such an account exists. A successful sign-in clears the count.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlmodel import select

from annotation.accounts.users import Account, SignInRefused, sign_in
from storage import locks
from storage.db import session
from storage.tables import SignInAttempt, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
# Attempts older than this can no longer matter; they are pruned as new ones are written.
KEEP = WINDOW + LOCKOUT
NAME_LENGTH = 256


class TooManySignIns(SignInRefused):
    """Refused without checking the password; ``retry_after_s`` says when trying again can help."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        minutes = max(1, math.ceil(retry_after_s / 60))
        super().__init__(
            f"too many failed sign-ins for this username; try again in {minutes} minute{'s' if minutes > 1 else ''}"
        )


def _key(username: str) -> str:
    return username.strip().casefold()[:NAME_LENGTH]


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=utcnow().tzinfo)  # SQLite gives naive UTC


def _locked_until(s, username: str, now: datetime) -> datetime | None:
    rows = s.exec(
        select(SignInAttempt.attempted_at, SignInAttempt.succeeded)
        .where(SignInAttempt.username == _key(username), SignInAttempt.attempted_at > now - KEEP)
        .order_by(SignInAttempt.attempted_at, SignInAttempt.id)
    ).all()
    failures: list[datetime] = []
    for when, succeeded in rows:
        failures = [] if succeeded else [*failures, _aware(when)]
    until = None
    # Any MAX_FAILURES failures within WINDOW lock the name for LOCKOUT after the last of them.
    for i in range(MAX_FAILURES - 1, len(failures)):
        if failures[i] - failures[i - MAX_FAILURES + 1] <= WINDOW:
            until = failures[i] + LOCKOUT
    return until if until is not None and until > now else None


def locked_until(engine: Engine, username: str, *, now: datetime | None = None) -> datetime | None:
    """When the lock on this username ends, or None when it may try now."""
    now = now or utcnow()
    with session(engine) as s:
        return _locked_until(s, username, now)


def _claim(engine: Engine, username: str) -> int:
    """Count this attempt before the password is checked: under the name's lock, refuse it while the name is
    locked, else store it as a failure (changed to a success if the password is right). Ten attempts sent at
    once thus take turns here, and only those the limit allows reach the password check."""
    now = utcnow()
    with session(engine) as s:
        locks.hold(s, f"sign-in:{_key(username)}")
        until = _locked_until(s, username, now)
        if until is not None:
            raise TooManySignIns((until - now).total_seconds())
        row = SignInAttempt(username=_key(username), succeeded=False, attempted_at=now)
        s.add(row)
        s.exec(delete(SignInAttempt).where(SignInAttempt.attempted_at < now - KEEP))
        s.commit()
        return row.id


@contextmanager
def attempt(engine: Engine, username: str) -> Iterator[None]:
    """Wrap a password check: refused while locked; counted as a failure before it runs, and turned into a
    success when nothing inside raises SignInRefused."""
    claimed = _claim(engine, username)
    yield
    with session(engine) as s:
        s.exec(update(SignInAttempt).where(SignInAttempt.id == claimed).values(succeeded=True))
        s.commit()


def limited_sign_in(engine: Engine, *, username: str, password: str) -> Account:
    """accounts.sign_in, refused with TooManySignIns (a SignInRefused) after repeated failures."""
    with attempt(engine, username):
        return sign_in(engine, username=username, password=password)
