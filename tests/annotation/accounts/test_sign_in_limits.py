"""Failed sign-ins: five for a username within 15 minutes lock it for 15 minutes, whether or not it exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from annotation.accounts import sign_in_limits
from annotation.accounts.sign_in_limits import MAX_FAILURES, TooManySignIns, limited_sign_in, locked_until
from annotation.accounts.users import SignInRefused, create_user
from storage.db import session
from storage.tables import SignInAttempt, utcnow

RIGHT, WRONG = "right-password", "wrong-password"


def fail(engine, username: str, times: int = MAX_FAILURES) -> None:
    for _ in range(times):
        with pytest.raises(SignInRefused) as refused:
            limited_sign_in(engine, username=username, password=WRONG)
        assert str(refused.value) == "wrong username or password"


def test_five_failures_lock_the_username_even_for_the_right_password(engine):
    create_user(engine, username="eve", password=RIGHT)
    fail(engine, "eve")
    with pytest.raises(TooManySignIns) as refused:
        limited_sign_in(engine, username="eve", password=RIGHT)
    assert str(refused.value) == "too many failed sign-ins for this username; try again in 15 minutes"
    assert 14 * 60 < refused.value.retry_after_s <= 15 * 60
    # Another name is not affected.
    create_user(engine, username="bob", password=RIGHT)
    assert limited_sign_in(engine, username="bob", password=RIGHT).username == "bob"


def test_a_missing_username_is_locked_the_same_way(engine):
    create_user(engine, username="eve", password=RIGHT)
    fail(engine, "eve")
    fail(engine, "nobody")
    messages = set()
    for name in ("eve", "nobody"):
        with pytest.raises(TooManySignIns) as refused:
            limited_sign_in(engine, username=name, password=WRONG)
        messages.add(str(refused.value))
    assert len(messages) == 1  # nothing tells an existing account from a missing one


def test_four_failures_and_a_success_clear_the_count(engine):
    create_user(engine, username="eve", password=RIGHT)
    fail(engine, "eve", MAX_FAILURES - 1)
    assert limited_sign_in(engine, username="eve", password=RIGHT).username == "eve"
    fail(engine, "eve", MAX_FAILURES - 1)
    assert locked_until(engine, "eve") is None
    assert limited_sign_in(engine, username=" EVE ".lower().strip(), password=RIGHT).username == "eve"


def test_the_lock_ends_after_fifteen_minutes(engine, monkeypatch):
    create_user(engine, username="eve", password=RIGHT)
    fail(engine, "eve")
    later = utcnow() + timedelta(minutes=15, seconds=5)
    monkeypatch.setattr(sign_in_limits, "utcnow", lambda: later)
    assert limited_sign_in(engine, username="eve", password=RIGHT).username == "eve"


def test_failures_spread_over_more_than_the_window_do_not_lock(engine, monkeypatch):
    create_user(engine, username="eve", password=RIGHT)
    start = utcnow()
    for i in range(MAX_FAILURES):
        monkeypatch.setattr(sign_in_limits, "utcnow", lambda i=i: start + timedelta(minutes=4 * i))
        fail(engine, "eve", 1)
    assert limited_sign_in(engine, username="eve", password=RIGHT).username == "eve"


def test_refused_attempts_do_not_extend_the_lock_and_old_attempts_are_pruned(engine, monkeypatch):
    fail(engine, "eve")
    for _ in range(3):
        with pytest.raises(TooManySignIns):
            limited_sign_in(engine, username="eve", password=WRONG)
    with session(engine) as s:
        assert len(s.exec(select(SignInAttempt)).all()) == MAX_FAILURES
    day_later = utcnow() + timedelta(days=1)
    monkeypatch.setattr(sign_in_limits, "utcnow", lambda: day_later)
    fail(engine, "eve", 1)
    with session(engine) as s:
        assert len(s.exec(select(SignInAttempt)).all()) == 1
