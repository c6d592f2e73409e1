"""Who is signed in, and the guards every page starts with. Local accounts, or OIDC when secrets hold [auth]."""

from __future__ import annotations

import time

import streamlit as st

from annotation.accounts import Account, account_for, sign_in_external
from pages.common import get_engine
from storage.config import settings

USER_KEY = "auth_username"
SINCE_KEY = "auth_signed_in_at"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def remember(account: Account) -> None:
    st.session_state[USER_KEY] = account.username
    st.session_state[SINCE_KEY] = time.time()


def forget() -> None:
    for key in (USER_KEY, SINCE_KEY):
        st.session_state.pop(key, None)


def current_account() -> Account | None:
    """The account of this browser session, checked against the database on every run."""
    if oidc_configured():
        if not st.user.is_logged_in:
            return None
        email = str(st.user.get("email") or st.user.get("sub") or "")
        return sign_in_external(get_engine(), email=email, name=str(st.user.get("name") or ""))
    username = st.session_state.get(USER_KEY)
    if not username:
        return None
    since = st.session_state.get(SINCE_KEY, 0.0)
    if time.time() - since > settings().session_hours * 3600:
        forget()
        st.session_state["auth_expired"] = True
        return None
    account = account_for(get_engine(), username)
    if account is None:
        forget()
    return account


def require_account() -> Account:
    account = current_account()
    if account is None:
        st.warning("Sign in to see this page.")
        st.stop()
    return account


def require_admin() -> Account:
    account = require_account()
    if not account.is_admin:
        st.error("This page is for admins.")
        st.stop()
    return account


def sign_out() -> None:
    if oidc_configured():
        st.logout()
    forget()
    st.rerun()
