"""Who is signed in, and the guards every page starts with. Local accounts, or OIDC when secrets hold [auth]."""

from __future__ import annotations

import time

import streamlit as st

from annotation.accounts import (
    Account,
    SignInRefused,
    account_for,
    account_for_token,
    issue_token,
    revoke_token,
    sign_in_external,
)
from annotation.model import InvalidValue
from pages.common import get_engine
from storage.config import settings

USER_KEY = "auth_username"
SINCE_KEY = "auth_signed_in_at"
COOKIE = "redline_session"
# The cookie the next run writes (a new token) or clears (""), see write_cookie().
PENDING_COOKIE_KEY = "auth_pending_cookie"
TOKEN_KEY = "auth_token"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def remember(account: Account, *, token: str | None = None) -> None:
    """Sign this browser session in; without ``token``, a new one is issued for the cookie."""
    st.session_state[USER_KEY] = account.username
    st.session_state[SINCE_KEY] = time.time()
    if token is None:
        token = issue_token(get_engine(), username=account.username, hours=settings().session_hours)
        st.session_state[PENDING_COOKIE_KEY] = token
    # Kept to revoke on sign-out: the cookies this session saw were read when it connected.
    st.session_state[TOKEN_KEY] = token


def forget() -> None:
    for key in (USER_KEY, SINCE_KEY, TOKEN_KEY):
        st.session_state.pop(key, None)


def write_cookie() -> None:
    """Set or clear the sign-in cookie in the browser, once, after a sign-in or sign-out."""
    value = st.session_state.pop(PENDING_COOKIE_KEY, None)
    if value is None:
        return
    import json

    import streamlit.components.v1 as components

    max_age = int(settings().session_hours * 3600) if value else 0
    cookie = f"{COOKIE}={value}; path=/; max-age={max_age}; SameSite=Strict"
    components.html(f"<script>window.parent.document.cookie = {json.dumps(cookie)};</script>", height=0)


def _remembered() -> Account | None:
    """A reload starts a new session: the browser's cookie, if live, signs it in again."""
    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this run (AppTest, bare mode)
        return None
    account = account_for_token(get_engine(), token) if isinstance(token, str) and token else None
    if account is not None:
        remember(account, token=token)
    return account


def current_account() -> Account | None:
    """The account of this browser session, checked against the database on every run."""
    if oidc_configured():
        if not st.user.get("is_logged_in", False):
            return None
        if st.user.get("email") and st.user.get("email_verified") is False:
            st.error("Your organisation has not verified your email address; Redline cannot sign you in.")
            return None
        try:
            return sign_in_external(
                get_engine(),
                email=str(st.user.get("email") or ""),
                subject=str(st.user.get("sub") or ""),
                name=str(st.user.get("name") or ""),
            )
        except (InvalidValue, SignInRefused) as e:
            st.error(f"Cannot sign you in: {getattr(e, 'message', e)}")
            return None
    username = st.session_state.get(USER_KEY)
    if not username:
        return _remembered()
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
    token = st.session_state.get(TOKEN_KEY)
    if isinstance(token, str) and token:
        revoke_token(get_engine(), token)
    st.session_state[PENDING_COOKIE_KEY] = ""
    if oidc_configured():
        st.logout()
    forget()
    st.rerun()
