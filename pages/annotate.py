"""Annotate: the next trace for me, step by step; mark the first wrong step, rate steps, critique, submit.

The trace is judged on the judging surface (pages/judging), which answers every key in the browser and
sends the work here when it matters; a message reruns only the workspace fragment, and a submit answers
with the next trace. The URL names the project and the trace, so a reload or a bookmark returns to them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotation.accounts.users import Account, projects_for
from annotation.core.model import InvalidValue, first_error_text
from annotation.workflow.queue import my_work, next_trace, still_open
from annotation.workflow.restructure import CannotRestructure, restructure
from annotation.workflow.surface import MessageRefused, read_message, work_data
from annotation.workflow.workbench import (
    DraftConflict,
    NotOpen,
    OpenTrace,
    ProjectRules,
    StaleJudgment,
    project_rules,
    submit,
)
from pages.annotate_state import STATE, Desk, change, desk, load_newer, open_desk, say, take_over, timed
from pages.auth import require_account
from pages.common import DATABASE_DOWN, DATABASE_DOWN_MESSAGE, get_engine, shown_markdown
from pages.history_view import show_history
from pages.judging.component import judging_surface, sent
from pages.judging.keymap import HELP, HELP_TABLE, KEYS

SURFACE_KEY = "annotate_judge"
NOTHING_LEFT = "Nothing left for you in this project: every trace has the judgments it needs. Thank you!"


# ---- what the surface sent (runs before the workspace redraws) ------------------------------------------------


def on_send() -> None:
    d, account = desk(), _account()
    raw = sent(SURFACE_KEY)
    if d is None or raw is None:
        return
    try:
        message = read_message(
            raw,
            trace_id=d.trace_id,
            before=d.work,
            username=account.username,
            taxonomy=d.rules.taxonomy,
            trace=d.opened.trace,
        )
    except MessageRefused as e:
        if e.field != "trace_id":  # a message about a trace no longer open: the page shows the open one
            seq = raw.get("seq") if isinstance(raw, dict) else None
            d.ack = seq if isinstance(seq, int) and not isinstance(seq, bool) else d.ack
            say(d, "error", f"Not saved: the page sent something this trace cannot take ({e}).")
        return
    d.ack = message.seq
    if message.kind == "load_newer":
        load_newer(d, account)
        return
    if message.work is not None and message.work != d.work:
        change(d, account, message.work)
    if message.kind == "take_over":
        take_over(d, account)
    elif message.kind == "submit":
        submit_and_next(d, account)
    elif message.kind == "skip":
        skip(d, account)
    elif message.kind == "back":
        back(d, account)
    elif message.kind in ("merge", "split"):
        restructure_steps(d, account, message.kind, message.step, message.at)


def restructure_steps(d: Desk, account: Account, op: str, step: int, at: int | None) -> None:
    """Merge or split steps before judging (annotation/workflow/restructure.py), then show the new steps."""
    try:
        said = restructure(
            get_engine(),
            trace_id=d.trace_id,
            username=account.username,
            op=op,
            step=step,
            at=at,
            copy=timed(d),
            steps_version=d.opened.steps_version,
        )
    except (CannotRestructure, InvalidValue) as e:
        say(d, "warning", f"The steps stay as they are: {e.message if isinstance(e, InvalidValue) else e}.")
        return
    fresh = open_desk(d.trace_id, d.rules, account, keep=d)
    fresh.ack, fresh.reset = d.ack, d.reset + 1
    say(fresh, "success", f"Trace #{d.opened.position + 1}: {said}. Everyone now sees the new steps.")


def submit_and_next(d: Desk, account: Account) -> None:
    if d.conflict:
        say(d, "warning", "Not submitted: first choose what to keep (see the message above).")
        return
    missing = d.work.missing(d.rules.label_mode)
    if missing:
        say(d, "warning", "Not submitted yet. Still needed: " + "; ".join(missing) + ".")
        return
    try:
        submit(get_engine(), d.opened, username=account.username, copy=timed(d), rules=d.rules)
    except StaleJudgment as e:
        d.conflict_kind = "stale"
        d.conflict = f"Not submitted: {e}. Your work is kept as a draft."
        return
    except NotOpen as e:
        say(d, "warning", f"Not submitted: {e}. Your work is kept as a draft; press X to skip to a trace open to you.")
        return
    except DATABASE_DOWN:
        say(d, "error", "Not submitted: " + DATABASE_DOWN_MESSAGE)
        return
    except DraftConflict:
        d.conflict_kind = "draft"
        d.conflict = (
            "Not submitted: another tab saved a newer draft of this trace. "
            "Your work is kept on this page; choose which to keep."
        )
        return
    except InvalidValue as e:
        say(d, "warning", f"Not submitted: {e.field}: {e.message}")
        return
    go_next(d, account, f"Submitted trace #{d.opened.position + 1}.")


def skip(d: Desk, account: Account) -> None:
    d.skipped.append(d.trace_id)
    go_next(d, account, f"Skipped trace #{d.opened.position + 1}; its draft is kept.")


def back(d: Desk, account: Account) -> None:
    earlier = [t for t in d.history if t != d.trace_id]
    if not earlier:
        say(d, "info", "There is no earlier trace in this sitting; open one from “My earlier work” in the sidebar.")
        return
    open_desk(earlier[-1], d.rules, account, keep=d)


def go_next(d: Desk, account: Account, done: str) -> None:
    up = d.upcoming  # what the browser already shows, when it is still open to this person
    if (
        up is not None
        and up.trace_id not in d.skipped
        and still_open(get_engine(), d.rules, trace_id=up.trace_id, username=account.username)
    ):
        trace_id = up.trace_id
    else:
        trace_id = next_trace(get_engine(), d.rules, username=account.username, exclude=tuple(d.skipped))
    if trace_id is None and d.skipped:
        d.skipped.clear()  # only skipped ones are left: serve them again
        trace_id = next_trace(get_engine(), d.rules, username=account.username)
    if trace_id is None:
        st.session_state.pop(STATE, None)
        st.query_params.pop("trace", None)
        st.session_state["annotate_nothing_left"] = d.rules.id
        st.session_state["annotate_flash"] = done
        return
    say(open_desk(trace_id, d.rules, account, keep=d), "success", done)


def _account() -> Account:
    return st.session_state["annotate_account"]


# ---- drawing ----------------------------------------------------------------------------------------------------


def _caption(rules: ProjectRules, opened: OpenTrace) -> str:
    status = "submitted, reopened" if opened.submitted else "draft" if opened.draft_version else "new"
    mode = rules.label_mode.replace("_", " ")
    return f"{rules.name} · {len(opened.trace.steps)} steps · {status} · mode: {mode}"


def surface_data(d: Desk, account: Account) -> dict:
    rules, opened, up = d.rules, d.opened, d.upcoming
    conflict = {"kind": d.conflict_kind, "text": d.conflict} if d.conflict else None
    upcoming = None
    if up is not None:
        upcoming = {
            "trace": d.upcoming_markup,
            "work": work_data(up.work),
            "draft_version": up.draft_version,
            "caption": _caption(rules, up),
        }
    return {
        "user": account.username,
        "keys": KEYS,
        "key_help": HELP,
        "trace": d.markup,
        "work": work_data(d.work),
        "label_mode": rules.label_mode,
        "taxonomy": list(rules.taxonomy),
        "draft_version": opened.draft_version,
        "ack": d.ack,
        "reset": d.reset,
        "notice": d.notice,
        "conflict": conflict,
        "caption": _caption(rules, opened),
        "progress": d.progress,
        "upcoming": upcoming,
    }


def others_table(d: Desk) -> pd.DataFrame:
    rows = [
        {"source": source, "first error": first_error_text(j.first_error), "status": j.status, "critique": j.critique}
        for source, j in d.opened.others.items()
    ]
    return pd.DataFrame(rows)


def beside_the_trace(d: Desk) -> None:
    """What a person may look at next to the trace; ordinary Streamlit, below the surface."""
    trace = d.opened.trace
    if (trace.reference_answer or trace.reference_solution) and st.toggle(
        "Show the reference answer and solution", key="annotate_show_reference"
    ):
        if trace.reference_answer:
            st.markdown("**Reference answer**")
            st.markdown(shown_markdown(trace.reference_answer))
        if trace.reference_solution:
            st.markdown("**Reference solution**")
            st.markdown(shown_markdown(trace.reference_solution))
    if d.opened.others and st.toggle(
        f"Show other judgments of this trace ({len(d.opened.others)})", key="annotate_show_others"
    ):
        st.dataframe(others_table(d), hide_index=True, key="annotate_others")
    if st.toggle("Show the history of this trace's judgments", key="annotate_show_revisions"):
        show_history(_account(), d.trace_id, key="annotate_history")


def choose_trace(rules: ProjectRules, account: Account) -> Desk | None:
    """The trace this session works on: the open one, the one in the URL (a reload, a bookmark), or the next."""
    d = desk()
    wanted = st.query_params.get("trace")
    if d is not None and d.rules.id == rules.id and (wanted is None or wanted == str(d.trace_id)):
        d.rules = rules
        if wanted is None:
            st.query_params["trace"] = str(d.trace_id)
        return d
    if st.session_state.get("annotate_nothing_left") == rules.id:
        return None
    if wanted and wanted.isdigit():
        try:
            return open_desk(int(wanted), rules, account, keep=d)
        except LookupError:
            st.query_params.pop("trace", None)
    trace_id = next_trace(get_engine(), rules, username=account.username)
    return open_desk(trace_id, rules, account, keep=d) if trace_id is not None else None


@st.fragment
def workspace(project: str) -> None:
    account = _account()
    rules = project_rules(get_engine(), project)
    d = choose_trace(rules, account)
    if d is None:
        st.title("Annotate")
        if flash := st.session_state.pop("annotate_flash", None):
            st.toast(flash)
        st.success(NOTHING_LEFT)
        if st.button("Look again", key="annotate_look_again"):
            st.session_state.pop("annotate_nothing_left", None)
            st.rerun()
        return
    judging_surface(key=SURFACE_KEY, data=surface_data(d, account), on_send=on_send)
    d.notice = None  # said once
    beside_the_trace(d)


def sidebar(rules: ProjectRules, account: Account) -> None:
    with st.sidebar:
        with st.expander("Guidelines", expanded=bool(rules.guidelines)):
            st.markdown(shown_markdown(rules.guidelines) or "_No guidelines for this project yet._")
        # Read only when asked for: the list is not needed on every visit.
        if st.toggle("My earlier work", key="annotate_show_history"):
            items = my_work(get_engine(), rules, username=account.username, limit=50)
            labels = {i.trace_id: f"#{i.position + 1} · {i.status} · {i.when:%d %b %H:%M}" for i in items}
            if labels:
                chosen = st.selectbox("Reopen", list(labels), format_func=labels.get, key="annotate_reopen_choice")
                st.button("Open", key="annotate_reopen", on_click=reopen, args=(chosen, rules, account))
            else:
                st.caption("Nothing yet.")
        with st.expander("Keyboard shortcuts"):
            st.markdown(HELP_TABLE)


def reopen(trace_id: int, rules: ProjectRules, account: Account) -> None:
    open_desk(trace_id, rules, account, keep=desk())


def project_changed() -> None:
    st.query_params.pop("trace", None)
    st.session_state.pop("annotate_nothing_left", None)


def choose_project(projects: list[str]) -> str:
    """The project picked in the sidebar, else the one in the URL, else the one being worked on, else the first.

    Decided before anything is drawn, so the trace (what a person waits for) is drawn first and the sidebar after.
    """
    chosen = st.session_state.get("annotate_project")
    if chosen not in projects:
        wanted = st.query_params.get("project")
        current = desk()
        if wanted in projects:
            chosen = wanted
        elif current is not None and current.rules.name in projects:
            chosen = current.rules.name
        else:
            chosen = projects[0]
        st.session_state["annotate_project"] = chosen
    if st.query_params.get("project") != chosen:
        st.query_params["project"] = chosen
    return chosen


def annotate_page() -> None:
    account = require_account()
    st.session_state["annotate_account"] = account
    projects = projects_for(get_engine(), account)
    if not projects:
        st.title("Annotate")
        st.info("You are not on any project yet. An admin adds you to one on the Admin page.")
        return
    project = choose_project(projects)
    workspace(project)
    st.sidebar.selectbox("Project", projects, key="annotate_project", on_change=project_changed)
    sidebar(project_rules(get_engine(), project), account)


annotate_page()
