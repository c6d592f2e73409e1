"""Redline's server: `streamlit run server.py` serves the app (app.py) and two routes of its own.

The routes set and clear the sign-in cookie with HttpOnly, SameSite=Strict and, behind TLS, Secure. A script
in the page can neither read nor set such a cookie, so after a sign-in the page hands the browser a one-time
code (valid for a minute, usable once) and the browser posts it here for the cookie; signing out posts here
to revoke the cookie's token and clear it.
"""

from __future__ import annotations

import functools

import streamlit as st
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from annotation.accounts.users import SESSION_COOKIE, redeem_handoff, revoke_token, session_hours
from annotation.ops.startup import prepare


@functools.cache
def engine() -> Engine:
    return prepare()


def _behind_tls(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _answer(ok: bool, status: int = 200) -> JSONResponse:
    response = JSONResponse({"ok": ok}, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def set_cookie(request: Request) -> JSONResponse:
    try:
        body = await request.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not code:
        return _answer(False, 400)
    hours = session_hours()
    token = await run_in_threadpool(redeem_handoff, engine(), code, hours=hours)
    if token is None:
        return _answer(False, 403)
    response = _answer(True)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(hours * 3600),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_behind_tls(request),
    )
    return response


async def clear_cookie(request: Request) -> JSONResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(revoke_token, engine(), token)
    response = _answer(True)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_behind_tls(request))
    return response


app = st.App(
    "app.py",
    routes=[
        Route("/auth/session", set_cookie, methods=["POST"]),
        Route("/auth/sign-out", clear_cookie, methods=["POST"]),
    ],
)
