"""What every page shares: the one engine of the process, and safe ways to show text that came from files."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from annotation.ops.outage import MESSAGE as OUTAGE_MESSAGE
from annotation.ops.outage import UNAVAILABLE
from annotation.ops.startup import prepare

# What a lost connection to the database raises, and what a person is told (one source: annotation.ops.outage).
DATABASE_DOWN = UNAVAILABLE
DATABASE_DOWN_MESSAGE = OUTAGE_MESSAGE

# Link targets Markdown would keep but nobody should follow from a trace: data:, javascript:, vbscript:.
_UNSAFE_LINK = re.compile(r"\]\(\s*<?\s*(data|javascript|vbscript)\s*:", re.IGNORECASE)

# The opening of Markdown image syntax, inline or by reference; escaping its bracket leaves plain text.
_IMAGE = re.compile(r"!\[")

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>$~|#])")


# What a model is sent of a trace's images: None leaves it to what litellm knows of the model.
VISION_TITLES = {None: "as litellm knows the model", True: "sent (a vision model)", False: "not sent (text only)"}
VISION_HELP = "Sent as image parts to a model that sees images; a text-only model is told how many it is not shown."


@st.cache_resource(show_spinner="Opening the database…")
def get_engine() -> Engine:
    """Built once per process from DATABASE_URL; migrates, and loads the demo into an empty database."""
    return prepare(load_demo=True)


@st.cache_resource
def upload_dir() -> Path:
    """A folder of this process for uploaded files, which the importer reads by path."""
    return Path(tempfile.mkdtemp(prefix="redline-uploads-"))


def save_upload(file_id: str, name: str, data: bytes) -> Path:
    """Write an upload once, keeping its suffix: the suffix tells CSV, TSV and Parquet apart."""
    path = upload_dir() / f"{re.sub(r'[^A-Za-z0-9-]', '', file_id)}{Path(name).suffix.lower()}"
    if not path.exists():
        path.write_bytes(data)
    return path


def shown_markdown(text: str) -> str:
    """Untrusted Markdown for st.markdown: rendered (LaTeX, code, lists) but with no link to data: or
    javascript: targets, and no image: ``![x](http://host/pixel.png)`` would make every reader's browser
    fetch the URL when the trace opens (telling the host who read which trace), so images read as text.
    Raw HTML is never rendered by st.markdown anyway."""
    return _UNSAFE_LINK.sub(lambda m: "]\\(" + m.group(1) + ":", _IMAGE.sub(r"!\\[", text))


def md_escape(text: str) -> str:
    """Text for a Markdown-rendering element (st.error, st.warning...) shown exactly as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


# Moves the keyboard focus to the input with the aria-label in ``data.label``. The input may be drawn after
# this runs, so it looks again for a moment. Components v2 run in the page itself (no frame), and only our own
# label text ever reaches the selector.
_FOCUS = st.components.v2.component(
    "redline_focus",
    js="""
export default function ({ data }) {
  let tries = 0;
  const selector = `[aria-label="${CSS.escape(data.label)}"]`;
  const timer = setInterval(() => {
    const el = document.querySelector(selector);
    if (el) { el.focus(); el.scrollIntoView({ block: "center" }); }
    if (el || ++tries > 40) clearInterval(timer);
  }, 50);
  return () => clearInterval(timer);
}
""",
)


def focus_element(aria_label: str) -> None:
    """Move the keyboard focus to the input with this label (our own label text, never trace text).

    A counter makes each request new data, so asking twice for the same box works twice.
    """
    count = st.session_state.get("_focus_requests", 0) + 1
    st.session_state["_focus_requests"] = count
    _FOCUS(data={"label": aria_label, "request": count}, height=0)


def database_down() -> None:
    """Say so plainly instead of a traceback, and stop this run."""
    st.error(DATABASE_DOWN_MESSAGE, icon=":material/cloud_off:")
    st.button("Try again", key="database_retry", on_click=lambda: None)
    st.stop()


def show_run(
    run: Any, run_id: int, *, name: str, progress: Callable[[Any], str], finished: Callable[[Any], str], keys: str
) -> None:
    """A background run (critics, revisions) as a progress bar with Cancel while it lives, then how it ended; once,
    when it ends, the whole page is drawn again so what sits outside the fragment (tables, figures) catches up.
    ``name``: "Run", "Revision run"; ``keys``: the prefix of its widgets' keys."""
    p = run.progress
    if run.error:
        st.error(f"{name} {run_id} stopped: {md_escape(run.error)}")
    if p is None:
        return
    eta = "" if p.eta_s is None else f" · about {p.eta_s:,.0f} s left"
    st.progress(p.fraction, text=f"{name} {run_id}: {progress(p)}{eta}")
    if run.alive:
        if st.button(f"Cancel {name.lower()}", key=f"{keys}_cancel", icon=":material/stop_circle:"):
            run.cancel()
            st.info("Cancelling: requests under way are dropped; what is done is kept. Run again to resume.")
        return
    done = {"done": st.success, "cancelled": st.warning, "failed": st.error}.get(p.status, st.info)
    done(f"{name} {run_id} {p.status}: {finished(p)}")
    if p.error:
        st.error(md_escape(p.error))
    if st.session_state.get(f"{keys}_shown_end") != run_id:
        st.session_state[f"{keys}_shown_end"] = run_id
        st.rerun(scope="app")
