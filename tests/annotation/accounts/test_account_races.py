"""Check-then-act on accounts holds under concurrency (finding 7 of the trust issue), on SQLite and PostgreSQL:
sign-in attempts are counted before the password is checked, one first admin, never zero admins."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from annotation.accounts import sign_in_limits
from annotation.accounts.sign_in_limits import MAX_FAILURES, TooManySignIns, limited_sign_in
from annotation.accounts.users import (
    SignInRefused,
    create_first_admin,
    create_user,
    has_users,
    list_users,
    update_user,
)
from annotation.core.model import InvalidValue
from storage.db import make_engine


def all_at_once(engine, jobs: list[Callable]) -> list[object]:
    """Each job in its own thread with its own engine (like separate requests or servers), started together."""
    start = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int) -> None:
        own = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            start.wait()
            results[i] = jobs[i](own)
        except Exception as e:
            results[i] = e
        finally:
            own.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_ten_wrong_passwords_at_once_reach_the_password_check_five_times(engine, monkeypatch):
    create_user(engine, username="ann", password="right-password-1")
    checked: list[str] = []

    def slow_wrong_check(engine, *, username: str, password: str):
        checked.append(password)
        time.sleep(0.05)  # a real argon2 check takes this long: the others arrive meanwhile
        raise SignInRefused("wrong username or password")

    monkeypatch.setattr(sign_in_limits, "sign_in", slow_wrong_check)
    results = all_at_once(
        engine, [lambda e, i=i: limited_sign_in(e, username="ann", password=f"guess-{i}") for i in range(10)]
    )

    assert len(checked) == MAX_FAILURES
    assert sum(isinstance(r, TooManySignIns) for r in results) == 10 - MAX_FAILURES
    assert all(isinstance(r, SignInRefused) for r in results)


def test_two_first_admins_at_once_make_one(engine):
    results = all_at_once(
        engine, [lambda e, n=n: create_first_admin(e, username=n, password="first-admin-1") for n in ("a", "b")]
    )

    assert sorted(type(r).__name__ for r in results) == ["Account", "InvalidValue"]
    assert [u.username for u in list_users(engine)] in (["a"], ["b"])


def test_two_admins_demoting_each_other_at_once_leave_one_admin(engine):
    for name in ("a", "b"):
        create_user(engine, username=name, password="an-admin-pass", role="admin")

    results = all_at_once(engine, [lambda e, n=n: update_user(e, username=n, role="annotator") for n in ("a", "b")])

    assert sum(isinstance(r, InvalidValue) for r in results) == 1
    assert [u.role for u in list_users(engine)].count("admin") == 1
    assert has_users(engine)


@pytest.mark.parametrize("change", [{"password": "a-new-password"}, {"active": False}])
def test_a_new_password_or_deactivation_ends_every_sign_in_of_that_person(engine, change):
    from annotation.accounts.users import account_for_token, issue_handoff, issue_token, redeem_handoff

    create_user(engine, username="ann", password="right-password-1")
    tokens = [issue_token(engine, username="ann", hours=1) for _ in range(2)]
    code = issue_handoff(engine, username="ann")

    update_user(engine, username="ann", **change)

    assert [account_for_token(engine, t) for t in tokens] == [None, None]
    assert redeem_handoff(engine, code, hours=1) is None


def test_a_handoff_code_gives_one_cookie_token_once(engine):
    from annotation.accounts.users import account_for_token, issue_handoff, redeem_handoff

    create_user(engine, username="ann", password="right-password-1")
    code = issue_handoff(engine, username="ann")

    first, second = redeem_handoff(engine, code, hours=1), redeem_handoff(engine, code, hours=1)

    assert account_for_token(engine, first).username == "ann" and second is None
    assert redeem_handoff(engine, "made-up", hours=1) is None
