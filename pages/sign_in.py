"""Sign in: the only page open to someone signed out. On a fresh install it creates the first admin."""

from __future__ import annotations

import streamlit as st

from annotation.accounts import SignInRefused, create_first_admin, has_users, sign_in
from annotation.model import InvalidValue
from pages.auth import oidc_configured, remember
from pages.common import get_engine


def first_admin_form() -> None:
    st.info(
        "This is a fresh install with no accounts yet. Create the first admin account here; "
        "admins then add annotators on the Admin page. "
        "(From a terminal: `python -m annotation user add NAME --role admin`.)"
    )
    with st.form("sign_in_first_admin"):
        username = st.text_input("Admin username", value="admin", key="sign_in_new_username")
        password = st.text_input("Password (8 characters or more)", type="password", key="sign_in_new_password")
        again = st.text_input("Password again", type="password", key="sign_in_new_password_again")
        if st.form_submit_button("Create admin and sign in", type="primary"):
            if password != again:
                st.error("The two passwords differ.")
                return
            try:
                remember(create_first_admin(get_engine(), username=username, password=password))
            except InvalidValue as e:
                st.error(f"{e.field}: {e.message}")
                return
            st.rerun()


def password_form() -> None:
    with st.form("sign_in_form"):
        username = st.text_input("Username", key="sign_in_username")
        password = st.text_input("Password", type="password", key="sign_in_password")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                remember(sign_in(get_engine(), username=username, password=password))
            except SignInRefused as e:
                st.error(str(e).capitalize() + ".")
                return
            st.rerun()


def sign_in_page() -> None:
    st.title("Redline")
    st.caption("Judge the reasoning of language models step by step.")
    if st.session_state.pop("auth_expired", False):
        st.warning("Your session expired; sign in again.")
    if oidc_configured():
        st.button("Sign in with your organisation", key="sign_in_oidc", on_click=st.login, type="primary")
        return
    if not has_users(get_engine()):
        first_admin_form()
    else:
        password_form()


sign_in_page()
