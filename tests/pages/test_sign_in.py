"""Signing in: the first admin on a fresh install, wrong passwords, and pages closed to the signed-out."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from annotation.accounts.users import account_for, create_user
from pages.auth import SINCE_KEY, USER_KEY
from tests.pages.conftest import APP, open_app


def test_a_fresh_install_makes_the_first_admin(database_url, db):
    at = open_app(user=None)
    assert "fresh install" in at.info[0].value
    at.text_input(key="sign_in_new_username").input("root")
    at.text_input(key="sign_in_new_password").input("a-long-password")
    at.text_input(key="sign_in_new_password_again").input("a-long-password")
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert at.session_state[USER_KEY] == "root"
    assert account_for(db, "root").is_admin
    home = open_app(user="root")
    assert any("Signed in as **root** (admin)" in c.value for c in home.sidebar.caption)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(database_url, db):
    create_user(db, username="eve", password="right-password")
    at = open_app(user=None)
    assert not at.info  # accounts exist: no first-admin form
    at.text_input(key="sign_in_username").input("eve")
    at.text_input(key="sign_in_password").input("wrong-password")
    at.get("form_submit_button")[0].click()
    at.run()
    assert at.error[0].value == "Wrong username or password."
    assert USER_KEY not in at.session_state
    at.text_input(key="sign_in_password").input("right-password")
    at.get("form_submit_button")[0].click()
    at.run()
    assert at.session_state[USER_KEY] == "eve"


def test_signed_out_sessions_only_see_sign_in(database_url, db):
    create_user(db, username="eve", password="right-password")
    at = open_app(user=None)
    assert [t.value for t in at.title] == ["Redline"]
    assert not at.dataframe and not at.get("button_group")


def test_an_expired_session_is_signed_out(database_url, db):
    import time

    at = open_app("pages/home.py")
    at.session_state[SINCE_KEY] = time.time() - 13 * 3600  # signed in 13 hours ago; sessions last 12
    at.run()
    assert at.warning[0].value == "Sign in to see this page."
    assert USER_KEY not in at.session_state
    assert at.session_state["auth_expired"]


def test_with_an_oidc_provider_in_secrets_sign_in_goes_through_it(database_url, db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.run()
    assert at.button(key="sign_in_oidc").label == "Sign in with your organisation"
    assert not at.get("form")

    assert not at.text_input  # no password form: the provider decides who comes in


def test_repeated_wrong_passwords_lock_the_username_for_a_while(database_url, db):
    create_user(db, username="eve", password="right-password")
    at = open_app(user=None)
    for _ in range(5):
        at.text_input(key="sign_in_username").input("eve")
        at.text_input(key="sign_in_password").input("wrong-password")
        at.get("form_submit_button")[0].click()
        at.run()
        assert at.error[0].value == "Wrong username or password."
    at.text_input(key="sign_in_username").input("eve")
    at.text_input(key="sign_in_password").input("right-password")  # even the right one, for now
    at.get("form_submit_button")[0].click()
    at.run()
    assert at.error[0].value.startswith("Too many failed sign-ins for this username; try again in 15 minutes")
    assert USER_KEY not in at.session_state
