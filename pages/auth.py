"""Who is signed in, and the guards every page starts with. Local accounts, or OIDC when secrets hold [auth].

A signed-in browser session holds a sign-in token, checked against the database on every run: signing out
elsewhere, a new password or a deactivation ends it at the next click. The browser is remembered across
reloads by an HttpOnly cookie that only the server sets (server.py): after a sign-in the page hands the
browser a one-time code, and the browser posts it to the server for the cookie, so no script in the page can
read the cookie or set one.
"""

from __future__ import annotations

import time

import streamlit as st

from annotation.accounts.users import (
    SESSION_COOKIE,
    Account,
    SignInRefused,
    account_for_token,
    issue_handoff,
    issue_token,
    revoke_token,
    session_hours,
    sign_in_external,
)
from annotation.core.model import InvalidValue
from pages.common import get_engine

USER_KEY = "auth_username"
SINCE_KEY = "auth_signed_in_at"
# What the next run asks the browser to do with the cookie: a one-time code to fetch it, or "" to clear it.
PENDING_COOKIE_KEY = "auth_pending_cookie"
TOKEN_KEY = "auth_token"
SET_COOKIE_PATH = "auth/session"
CLEAR_COOKIE_PATH = "auth/sign-out"

# Posts to one of server.py's routes, which answers with the Set-Cookie header; the page sees no token.
_COOKIE_REQUEST = st.components.v2.component(
    "redline_sign_in_cookie",
    js="""
export default function ({ data }) {
  fetch(data.url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code: data.code }),
  });
}
""",
)


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
        token = issue_token(get_engine(), username=account.username, hours=session_hours())
        st.session_state[PENDING_COOKIE_KEY] = issue_handoff(get_engine(), username=account.username)
    # Checked on every run, and revoked on sign-out.
    st.session_state[TOKEN_KEY] = token


def forget() -> None:
    for key in (USER_KEY, SINCE_KEY, TOKEN_KEY):
        st.session_state.pop(key, None)


def _route(path: str) -> str:
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{path}" if base else f"/{path}"


def write_cookie() -> None:
    """Have the browser fetch (or clear) its sign-in cookie from the server, once, after a sign-in or sign-out."""
    code = st.session_state.pop(PENDING_COOKIE_KEY, None)
    if code is None:
        return
    url = _route(SET_COOKIE_PATH if code else CLEAR_COOKIE_PATH)
    _COOKIE_REQUEST(data={"url": url, "code": code}, height=0, key=f"auth_cookie_{time.monotonic_ns()}")


def _remembered() -> Account | None:
    """A reload starts a new session: the browser's cookie, if live, signs it in again."""
    try:
        token = st.context.cookies.get(SESSION_COOKIE)
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
    if time.time() - since > session_hours() * 3600:
        forget()
        st.session_state["auth_expired"] = True
        return None
    # The token, not just the name: a sign-out elsewhere, a new password or a deactivation revoked it.
    account = account_for_token(get_engine(), st.session_state.get(TOKEN_KEY) or "")
    if account is None or account.username != username:
        forget()
        st.session_state["auth_ended"] = True
        return None
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
