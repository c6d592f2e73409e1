"""Sign in: the only page open to someone signed out. On a fresh install it creates the first admin."""

from __future__ import annotations

import streamlit as st

from annotation.accounts.sign_in_limits import limited_sign_in
from annotation.accounts.users import SignInRefused, create_first_admin, has_users
from annotation.core.model import InvalidValue
from pages.auth import oidc_configured, remember
from pages.common import get_engine, md_escape


def create_admin() -> None:
    state = st.session_state
    if state["sign_in_new_password"] != state["sign_in_new_password_again"]:
        state["sign_in_error"] = "The two passwords differ."
        return
    try:
        account = create_first_admin(
            get_engine(), username=state["sign_in_new_username"], password=state["sign_in_new_password"]
        )
    except InvalidValue as e:
        state["sign_in_error"] = f"{e.field}: {e.message}"
        return
    remember(account)


def check_password() -> None:
    state = st.session_state
    try:
        remember(limited_sign_in(get_engine(), username=state["sign_in_username"], password=state["sign_in_password"]))
    except SignInRefused as e:
        state["sign_in_error"] = str(e).capitalize() + "."


def first_admin_form() -> None:
    st.info(
        "This is a fresh install with no accounts yet. Create the first admin account here; "
        "admins then add annotators on the Admin page. "
        "(From a terminal: `python -m annotation user add NAME --role admin`.)"
    )
    with st.form("sign_in_first_admin"):
        st.text_input("Admin username", value="admin", key="sign_in_new_username")
        st.text_input("Password (8 characters or more)", type="password", key="sign_in_new_password")
        st.text_input("Password again", type="password", key="sign_in_new_password_again")
        st.form_submit_button("Create admin and sign in", type="primary", on_click=create_admin)


def password_form() -> None:
    with st.form("sign_in_form"):
        st.text_input("Username", key="sign_in_username")
        st.text_input("Password", type="password", key="sign_in_password")
        st.form_submit_button("Sign in", type="primary", on_click=check_password)


def sign_in_page() -> None:
    st.title("Redline")
    st.caption("Judge the reasoning of language models step by step.")
    if st.session_state.pop("auth_expired", False):
        st.warning("Your session expired; sign in again.")
    if st.session_state.pop("auth_ended", False):
        st.warning("You were signed out (elsewhere, or your password or account changed); sign in again.")
    if error := st.session_state.pop("sign_in_error", None):
        st.error(md_escape(error))
    if oidc_configured():
        st.button("Sign in with your organisation", key="sign_in_oidc", on_click=st.login, type="primary")
        return
    if not has_users(get_engine()):
        first_admin_form()
    else:
        password_form()


sign_in_page()
