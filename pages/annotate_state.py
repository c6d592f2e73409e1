"""The Annotate page's session state: which trace is open, the working copy the server holds, and saving it.

The browser keeps the working copy while a person works (pages/judging); what it sends lands here through
``change()``, which writes the draft and counts the time spent. ``ack`` is the last message taken for the
open trace, so the browser knows which of its changes the server holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import streamlit as st

from annotation.accounts.users import Account
from annotation.workflow.labelling import WorkingCopy
from annotation.workflow.queue import hold, next_trace, progress, project_totals
from annotation.workflow.surface import render_following, trace_data
from annotation.workflow.workbench import (
    DraftConflict,
    OpenTrace,
    ProjectRules,
    StaleJudgment,
    discard_draft,
    judgment_version,
    open_trace,
    save_draft,
)
from pages.common import DATABASE_DOWN, DATABASE_DOWN_MESSAGE, get_engine
from pages.judging.component import notice

STATE = "annotate_state"
# A pause longer than this between two actions is counted as this long: a person left the desk.
IDLE_CAP_S = 300.0


@dataclass
class Desk:
    """What this browser session is doing on the Annotate page."""

    rules: ProjectRules
    opened: OpenTrace
    progress: str = ""
    last_action: float = field(default_factory=time.monotonic)
    skipped: list[int] = field(default_factory=list)
    history: list[int] = field(default_factory=list)
    conflict: str | None = None
    # "draft": another tab saved a newer draft; "stale": the judgment was submitted elsewhere.
    conflict_kind: str | None = None
    # What the page says next, once: {"id", "kind", "text"}.
    notice: dict | None = None
    # The sequence number of the last message from the browser taken for this trace.
    ack: int = -1
    # Bumped when the server replaces the browser's work (the person chose the newer version).
    reset: int = 0
    # True while a change could not be written (the database was unreachable).
    unsaved: bool = False
    # The trace served after this one, held for this person and sent to the browser in advance, so that
    # submit-and-next shows it at once while the submission travels.
    upcoming: OpenTrace | None = None
    # The traces as markup, built once when opened (not on every rerun the surface's messages cause).
    markup: dict = field(default_factory=dict)
    upcoming_markup: dict | None = None

    @property
    def work(self) -> WorkingCopy:
        return self.opened.work

    @property
    def trace_id(self) -> int:
        return self.opened.trace_id


def desk() -> Desk | None:
    return st.session_state.get(STATE)


def say(d: Desk, kind: str, text: str) -> None:
    d.notice = notice(kind, text)


def open_desk(trace_id: int, rules: ProjectRules, account: Account, *, keep: Desk | None = None) -> Desk:
    engine = get_engine()
    opened = open_trace(engine, trace_id=trace_id, username=account.username, rules=rules, is_admin=account.is_admin)
    # Opened by hand (a reload, Back, Reopen) or served: either way it is held for this person now.
    hold(engine, rules, trace_id=trace_id, username=account.username)
    done = progress(engine, rules, username=account.username, totals=project_totals(engine, rules))
    new = Desk(rules=rules, opened=opened, progress=f"judged by me: {done.mine} of {done.assigned_to_me} traces")
    if keep is not None and keep.rules.id == rules.id:
        new.skipped = keep.skipped
        new.history = [*[t for t in keep.history if t != trace_id], trace_id][-200:]
    else:
        new.history = [trace_id]
    new.upcoming = _upcoming(new, account)
    new.markup = trace_data(opened)
    new.upcoming_markup = trace_data(new.upcoming) if new.upcoming is not None else None
    render_following(engine, rules, (new.upcoming or opened).position)
    st.session_state[STATE] = new
    # Only what changed: each write is a message to the browser.
    if st.query_params.get("project") != rules.name:
        st.query_params["project"] = rules.name
    st.query_params["trace"] = str(trace_id)
    return new


def _upcoming(d: Desk, account: Account) -> OpenTrace | None:
    engine = get_engine()
    trace_id = next_trace(engine, d.rules, username=account.username, exclude=(d.trace_id, *d.skipped))
    if trace_id is None:
        return None
    return open_trace(engine, trace_id=trace_id, username=account.username, rules=d.rules, is_admin=account.is_admin)


def timed(d: Desk, copy: WorkingCopy | None = None) -> WorkingCopy:
    """``copy`` (the working copy by default) with the time since the last action added."""
    copy = copy or d.work
    spent = d.work.time_spent_s + min(time.monotonic() - d.last_action, IDLE_CAP_S)
    return replace(copy, time_spent_s=spent)


def change(d: Desk, account: Account, copy: WorkingCopy) -> None:
    """Make ``copy`` the working copy and save it as a draft, adding the time since the last action."""
    copy = timed(d, copy)
    d.last_action = time.monotonic()
    try:
        save_draft(
            get_engine(), d.opened, username=account.username, copy=copy, hold_minutes=d.rules.reservation_minutes
        )
        d.unsaved = False
        if d.conflict_kind == "draft":
            d.conflict = d.conflict_kind = None
    except DATABASE_DOWN:
        # Kept here and in the browser; the next message writes everything since.
        d.opened.work = copy
        d.unsaved = True
        say(d, "error", DATABASE_DOWN_MESSAGE)
    except StaleJudgment as e:
        d.opened.work = copy
        d.conflict_kind = "stale"
        d.conflict = f"Not saved: {e}."
    except DraftConflict:
        d.opened.work = copy
        d.conflict_kind = "draft"
        d.conflict = (
            "This trace is open in another tab or window too, and that one saved a newer draft. "
            "Your changes here are kept on this page but not yet saved."
        )


def take_over(d: Desk, account: Account) -> None:
    """Keep this page's work over the newer draft or submission: the person chose to.

    The draft is saved over the other tab's; a later submission revises the newer judgment, which
    stays in the revision history.
    """
    fresh = open_trace(
        get_engine(), trace_id=d.trace_id, username=account.username, rules=d.rules, is_admin=account.is_admin
    )
    d.opened.draft_version = fresh.draft_version
    if d.conflict_kind == "stale":
        d.opened.base_version = judgment_version(get_engine(), trace_id=d.trace_id, username=account.username)
    else:
        d.opened.base_version = fresh.base_version
    d.conflict = d.conflict_kind = None
    change(d, account, d.work)


def load_newer(d: Desk, account: Account) -> None:
    """Drop this page's work and show what was saved or submitted elsewhere."""
    if d.conflict_kind == "stale":
        discard_draft(get_engine(), d.opened, username=account.username)
    fresh = open_desk(d.trace_id, d.rules, account, keep=d)
    fresh.ack, fresh.reset = d.ack, d.reset + 1
