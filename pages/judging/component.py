"""Mounting the judging surface, and reading what it sent.

It is mounted with a fixed key inside a fragment: new data reaches the same instance (its state in the
browser survives), and a message from it reruns only the fragment. Its JavaScript and CSS are the files
beside this one, served as they are (no build step, so what is committed is what runs).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).parent

_SURFACE = st.components.v2.component(
    "redline_judge",
    js=(_HERE / "judge.js").read_text(encoding="utf-8"),
    css=(_HERE / "judge.css").read_text(encoding="utf-8"),
    # In the page, not a shadow root: the browser's text search must find trace text.
    isolate_styles=False,
)


def judging_surface(*, key: str, data: dict[str, Any], on_send: Callable[[], None]) -> None:
    _SURFACE(key=key, data=data, on_send_change=on_send, height="content")


def sent(key: str) -> Any:
    """The message the surface sent in this run (read in ``on_send``), or None."""
    state = st.session_state.get(key)
    return state.get("send") if state is not None else None


_NOTICES = itertools.count(1)


def notice(kind: str, text: str) -> dict[str, Any]:
    """What the surface says next, once: a new id each time, so the same words said twice show twice."""
    return {"id": next(_NOTICES), "kind": kind, "text": text}
