"""The Annotate page's session state: which trace is open, the working copy, and saving it as a draft.

Widgets are keyed by trace id and step, so a new trace starts with fresh widgets. Every change goes
through ``change()``, which updates the working copy, writes the draft and counts the time spent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import streamlit as st

from annotation.accounts.users import Account
from annotation.workflow.labelling import WorkingCopy
from annotation.workflow.queue import hold
from annotation.workflow.workbench import (
    DraftConflict,
    OpenTrace,
    ProjectRules,
    discard_draft,
    judgment_version,
    open_trace,
    save_draft,
)
from pages.common import DATABASE_DOWN, DATABASE_DOWN_MESSAGE, get_engine

STATE = "annotate_state"
# A pause longer than this between two actions is counted as this long: a person left the desk.
IDLE_CAP_S = 300.0

VERDICT_LABELS = {1: "✓ Correct", 0: "○ Neutral", -1: "✗ Wrong"}
LABEL_VERDICTS = {label: verdict for verdict, label in VERDICT_LABELS.items()}


@dataclass
class Desk:
    """What this browser session is doing on the Annotate page."""

    rules: ProjectRules
    opened: OpenTrace
    cursor: int = 0
    last_action: float = field(default_factory=time.monotonic)
    skipped: list[int] = field(default_factory=list)
    history: list[int] = field(default_factory=list)
    conflict: str | None = None
    # "draft": another tab saved a newer draft; "stale": the judgment was submitted elsewhere.
    conflict_kind: str | None = None
    message: str | None = None
    full_rerun: bool = False
    # True while a change could not be written (the database was unreachable).
    unsaved: bool = False

    @property
    def work(self) -> WorkingCopy:
        return self.opened.work

    @property
    def trace_id(self) -> int:
        return self.opened.trace_id


def desk() -> Desk | None:
    return st.session_state.get(STATE)


def open_desk(trace_id: int, rules: ProjectRules, account: Account, *, keep: Desk | None = None) -> Desk:
    opened = open_trace(
        get_engine(), trace_id=trace_id, username=account.username, rules=rules, is_admin=account.is_admin
    )
    # Opened by hand (a reload, Back, Reopen) or served: either way it is held for this person now.
    hold(get_engine(), rules, trace_id=trace_id, username=account.username)
    if keep is not None and keep.trace_id != trace_id:
        _forget_widgets(keep.trace_id)
    new = Desk(rules=rules, opened=opened)
    if keep is not None and keep.rules.id == rules.id:
        new.skipped = keep.skipped
        new.history = [*[t for t in keep.history if t != trace_id], trace_id][-200:]
    else:
        new.history = [trace_id]
    st.session_state[STATE] = new
    st.query_params["trace"] = str(trace_id)
    _seed_widgets(new)
    return new


def _forget_widgets(trace_id: int) -> None:
    """Drop the state of the previous trace's widgets, so a long sitting does not pile them up."""
    suffix = f"_{trace_id}"
    stale = [
        k
        for k in list(st.session_state.keys())
        if isinstance(k, str) and k.startswith("annotate_") and (k.endswith(suffix) or f"{suffix}_" in k)
    ]
    for key in stale:
        del st.session_state[key]


def verdict_key(d: Desk, i: int) -> str:
    return f"annotate_verdict_{d.trace_id}_{i}"


def critique_key(d: Desk, i: int) -> str:
    return f"annotate_critique_{d.trace_id}_{i}"


def tags_key(d: Desk, i: int) -> str:
    return f"annotate_tags_{d.trace_id}_{i}"


def correction_key(d: Desk, i: int) -> str:
    return f"annotate_correction_{d.trace_id}_{i}"


def _seed_widgets(d: Desk) -> None:
    """Put the working copy into the widgets' state, so a reload or a reopened trace shows it."""
    for i, step in enumerate(d.work.steps):
        st.session_state[verdict_key(d, i)] = VERDICT_LABELS.get(step.verdict)
        st.session_state[critique_key(d, i)] = step.critique
        st.session_state[tags_key(d, i)] = list(step.tags)
        st.session_state[correction_key(d, i)] = step.correction
    st.session_state[f"annotate_overall_{d.trace_id}"] = d.work.critique
    st.session_state[f"annotate_solution_{d.trace_id}"] = _solution_label(d.work.solution_correct)
    st.session_state[f"annotate_finish_{d.trace_id}"] = d.work.finish or "none"
    st.session_state[f"annotate_finish_note_{d.trace_id}"] = d.work.finish_note


SOLUTION_LABELS = {True: "Answer correct", False: "Answer wrong"}


def _solution_label(value: bool | None) -> str | None:
    return SOLUTION_LABELS.get(value) if value is not None else None


def sync_verdicts(d: Desk, before: WorkingCopy, clicked: int | None = None) -> bool:
    """Copy verdicts the rules changed (first-error mode fills earlier steps) into their widgets.

    Returns whether any step other than the one clicked changed, which needs the whole page redrawn.
    """
    changed = False
    for i, (old, new) in enumerate(zip(before.steps, d.work.steps, strict=True)):
        if old.verdict != new.verdict and i != clicked:
            st.session_state[verdict_key(d, i)] = VERDICT_LABELS.get(new.verdict)
            changed = True
    return changed


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
        # Kept on the page; the next change (or "Save now") writes everything since.
        d.opened.work = copy
        d.unsaved = True
        d.message = DATABASE_DOWN_MESSAGE
        return
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
    open_desk(d.trace_id, d.rules, account, keep=d)
