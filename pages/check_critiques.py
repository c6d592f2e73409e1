"""Check critiques: a model's verdict and explanation beside each step; take it (Y), turn it over (N), or give
your own verdict (1/2/3) and explanation (E), rate the critique as a whole (G/P/M), and submit.

The steps are the judging surface Annotate uses (pages/judging), with the same keys. The result is my own
judgment, which records the model critique it started from and what I changed (annotation.workflow.checking).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import streamlit as st

from annotation.accounts.users import Account, projects_for
from annotation.core.model import InvalidValue, Source, first_error_text
from annotation.judgments.visibility import project_view
from annotation.rendering.markup import to_html
from annotation.revision.traces import trace_revisions, usefulness_note
from annotation.workflow.checking import (
    RATINGS,
    CheckRefused,
    CritiqueToCheck,
    checks_from_work,
    critiques_to_check,
    is_checked,
    model_sources,
    next_unchecked,
    submit_check,
    work_from_check,
)
from annotation.workflow.labelling import WorkingCopy
from annotation.workflow.surface import (
    MessageRefused,
    model_steps_data,
    read_message,
    trace_images,
    trace_markup,
    work_data,
)
from pages.auth import require_account
from pages.common import get_engine
from pages.judging.component import judging_surface, notice, sent
from pages.judging.keymap import CHECK_HELP, CHECK_HELP_TABLE, KEYS

STATE = "check_state"
SURFACE_KEY = "check_judge"


@dataclass
class CheckDesk:
    """The critique in front of me and what I said of it so far; kept in the session between reruns."""

    project: str
    source: str
    items: list[CritiqueToCheck]
    index: int
    work: WorkingCopy
    rating: str | None
    opened_at: float = field(default_factory=time.monotonic)
    ack: int = -1
    notice: dict | None = None

    @property
    def item(self) -> CritiqueToCheck:
        return self.items[self.index]


def desk() -> CheckDesk | None:
    return st.session_state.get(STATE)


def say(d: CheckDesk, kind: str, text: str) -> None:
    d.notice = notice(kind, text)


def load(project: str, source: str, account: Account) -> list[CritiqueToCheck]:
    engine = get_engine()
    return critiques_to_check(engine, project, Source.parse(source), project_view(engine, account, project))


def open_item(project: str, source: str, items: list[CritiqueToCheck], index: int) -> CheckDesk:
    work, rating = work_from_check(items[index], Source.parse(source))
    d = CheckDesk(project, source, items, index, work, rating)
    st.session_state[STATE] = d
    return d


# ---- what the surface sent ------------------------------------------------------------------------------------


def on_send() -> None:
    d, raw = desk(), sent(SURFACE_KEY)
    account = st.session_state["check_account"]
    if d is None or raw is None:
        return
    try:
        message = read_message(raw, trace_id=d.item.trace_id, before=d.work, username=account.username)
        rating = (raw.get("work") or {}).get("rating")
        if rating not in (None, *RATINGS):
            raise MessageRefused("work.rating", f"{rating!r} is not one of {', '.join(RATINGS)}")
    except MessageRefused as e:
        if e.field != "trace_id":
            d.ack = raw.get("seq", d.ack) if isinstance(raw, dict) else d.ack
            say(d, "error", f"Not saved: the page sent something this trace cannot take ({e}).")
        return
    d.ack = message.seq
    if message.work is not None:
        d.work, d.rating = message.work, rating
    if message.kind == "submit":
        submit(d, account)
    elif message.kind in ("skip", "back"):
        step = 1 if message.kind == "skip" else -1
        open_item(d.project, d.source, d.items, (d.index + step) % len(d.items))


def submit(d: CheckDesk, account: Account) -> None:
    item = d.item
    if d.rating is None:
        say(d, "warning", "Not submitted yet: rate the critique as a whole first (G, P or M).")
        return
    try:
        submit_check(
            get_engine(),
            trace_id=item.trace_id,
            model_source=Source.parse(d.source),
            model_version=item.model_version,
            checks=checks_from_work(d.work, item.model_steps),
            rating=d.rating,
            replacement=d.work.critique,
            username=account.username,
            loaded_version=item.my_version,
            time_spent_s=round(time.monotonic() - d.opened_at, 1),
        )
    except InvalidValue as e:
        say(d, "warning", f"Not submitted: {_one_based(e.message)}.")
        return
    except CheckRefused as e:
        say(d, "warning", f"Not submitted: {e}.")
        return
    items = load(d.project, d.source, account)
    after = next_unchecked(items, Source.parse(d.source), after=d.index)
    new = open_item(d.project, d.source, items, d.index if after is None else after)
    done = f"Saved your check of trace #{item.position + 1}."
    say(new, "success", done if after is not None else f"{done} Every critique from this critic is checked.")


def _one_based(message: str) -> str:
    """checking.py counts steps from 0; a person counts from 1."""
    return re.sub(r"\bstep (\d+)", lambda m: f"step {int(m.group(1)) + 1}", message)


# ---- drawing ----------------------------------------------------------------------------------------------------


def item_data(d: CheckDesk, account: Account, index: int, work: WorkingCopy, rating: str | None) -> dict:
    item = d.items[index]
    source = Source.parse(d.source)
    state = "checked by you before" if is_checked(item, source) else "not checked yet"
    said = first_error_text(item.model.first_error, unset="nothing parsable")
    return {
        "trace": trace_markup(
            item.trace_id, item.position, item.trace, trace_images(get_engine(), item.trace_id, item.trace)
        ),
        "work": work_data(work) | {"rating": rating},
        "model_steps": model_steps_data(item.model_steps),
        "model_overall": to_html(item.model.critique),
        # Beside the rating: what revising with this critique did (Compare · Revisions), where it was tried.
        "usefulness": usefulness_note(trace_revisions(get_engine(), item.trace_id, account, source=d.source)),
        "draft_version": None,
        "caption": f"{d.source} · {index + 1} of {len(d.items)} · {state} · the model's first error: {said}",
    }


def surface_data(d: CheckDesk, account: Account) -> dict:
    source = Source.parse(d.source)
    done = sum(is_checked(i, source) for i in d.items)
    after = next_unchecked(d.items, source, after=d.index)
    upcoming = None
    if after is not None and after != d.index:
        work, rating = work_from_check(d.items[after], source)
        upcoming = item_data(d, account, after, work, rating)
    return {
        "user": account.username,
        "keys": KEYS,
        "key_help": CHECK_HELP,
        "label_mode": "check",
        "taxonomy": [],
        "ack": d.ack,
        "reset": 0,
        "notice": d.notice,
        "conflict": None,
        "progress": f"Checked {done} of {len(d.items)} critiques",
        "upcoming": upcoming,
        **item_data(d, account, d.index, d.work, d.rating),
    }


@st.fragment
def workspace(project: str, source: str, account: Account) -> None:
    d = desk()
    if d is None or d.project != project or d.source != source:
        items = load(project, source, account)
        start = next_unchecked(items, Source.parse(source))
        d = open_item(project, source, items, 0 if start is None else start)
        if start is None:
            say(d, "info", "Every critique from this critic is checked. You can still change your checks.")
    judging_surface(key=SURFACE_KEY, data=surface_data(d, account), on_send=on_send)
    d.notice = None  # said once


def main() -> None:
    account = require_account()
    st.session_state["check_account"] = account
    engine = get_engine()
    st.title("Check critiques")
    st.caption("A model critiqued these traces. Check its verdict on each step, rate the critique, and submit.")
    projects = projects_for(engine, account)
    if not projects:
        st.info("You are not on any project yet; an admin can add you on the Admin page.")
        return
    project = st.selectbox("Project", projects, key="check_project")
    sources = model_sources(engine, project)
    if not sources:
        st.info("No model critiques in this project yet. An admin can run a critic on the Critics page.")
        return
    source = st.selectbox("Model critic", sources, key="check_source")
    workspace(project, source, account)
    with st.sidebar.expander("Keyboard shortcuts"):
        st.markdown(CHECK_HELP_TABLE)


main()
