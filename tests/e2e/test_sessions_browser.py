"""Sessions in the real app (finding 7 of the trust issue): the sign-in cookie is set by the server, HttpOnly
and SameSite=Strict, out of any script's reach; a tab already open stops working once its person signs out
in another tab or gets a new password."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from annotation.accounts.users import create_user, update_user
from annotation.ops.startup import prepare
from tests.e2e.conftest import PAGE_TIMEOUT_MS, PASSWORD, sign_in, wait_for_sign_in_cookie


@pytest.fixture(scope="module")
def db(app_database: str) -> Engine:
    engine = prepare(app_database)
    yield engine
    engine.dispose()


def signed_out(page) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("textbox", name="Password")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("You were signed out")).to_be_visible()


def test_the_cookie_is_httponly_and_no_script_sees_it(open_page):
    page = open_page("ann1")

    cookie = wait_for_sign_in_cookie(page)

    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert "redline_session" not in page.evaluate("document.cookie")
    # A reload is still signed in: the server read the cookie.
    page.reload()
    from playwright.sync_api import expect

    expect(page.get_by_text("Signed in as ann1")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def test_signing_out_in_one_tab_ends_the_other_tab(open_page, app_url):
    from playwright.sync_api import expect

    first = open_page("ann2")
    wait_for_sign_in_cookie(first)
    second = first.context.new_page()
    second.goto(app_url, timeout=PAGE_TIMEOUT_MS)
    expect(second.get_by_text("Signed in as ann2")).to_be_visible(timeout=PAGE_TIMEOUT_MS)

    first.get_by_role("button", name="Sign out").click()
    expect(first.get_by_role("textbox", name="Password")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    for _ in range(100):  # the browser clears its cookie through the server a moment after
        if not [c for c in first.context.cookies() if c["name"] == "redline_session"]:
            break
        first.wait_for_timeout(100)
    else:
        raise AssertionError("the sign-in cookie was not cleared")
    second.get_by_role("link", name="Compare", exact=True).click()

    signed_out(second)
    second.reload()  # and the cookie is gone, so a reload does not sign it in again
    expect(second.get_by_role("textbox", name="Password")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def test_a_new_password_ends_a_tab_that_is_already_open(open_page, db):
    create_user(db, username="ann7", password=PASSWORD)
    page = open_page("ann7")
    wait_for_sign_in_cookie(page)

    update_user(db, username="ann7", password="a-brand-new-password")
    page.get_by_role("link", name="Compare", exact=True).click()

    signed_out(page)
    page.reload()
    sign_in(page, "ann7", "a-brand-new-password")
