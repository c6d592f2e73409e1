"""Annotate: the next trace for me, step by step; mark the first wrong step, rate steps, critique, submit.

Each step is its own fragment, so a click on one step's verdict redraws that step only; changes that
move the first error redraw the page. Every change is saved as a draft at once.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from annotation.accounts.users import Account, projects_for
from annotation.core.model import NO_ERROR, InvalidValue, first_error_text
from annotation.workflow.labelling import CHOSEN_FINISH, NEUTRAL, WRONG, summarise
from annotation.workflow.queue import ProjectTotals, my_work, next_trace, progress, project_totals
from annotation.workflow.workbench import DraftConflict, NotOpen, ProjectRules, StaleJudgment, project_rules, submit
from pages.annotate_state import (
    LABEL_VERDICTS,
    SOLUTION_LABELS,
    STATE,
    VERDICT_LABELS,
    Desk,
    change,
    correction_key,
    critique_key,
    desk,
    load_newer,
    open_desk,
    sync_verdicts,
    tags_key,
    take_over,
    timed,
    verdict_key,
)
from pages.auth import require_account
from pages.common import DATABASE_DOWN, DATABASE_DOWN_MESSAGE, focus_element, get_engine, shown_markdown
from pages.history_view import show_history

# A trace longer than this shows a window of this many steps around the current one.
STEP_WINDOW = 60
SHORTCUTS = [
    ("J / K", "next / previous step"),
    ("1 / 2 / 3", "current step correct / neutral / wrong"),
    ("E", "write a critique of the current step"),
    ("T", "error tags of the current step"),
    ("A", "every step correct (no error)"),
    ("Ctrl+Enter", "submit and go to the next trace"),
    ("X", "skip this trace for now"),
    ("B", "back to the trace before"),
    ("Tab", "leave a text box: single keys type text there, Ctrl+Enter works everywhere"),
]
SHORTCUTS_TABLE = "| key | does |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in SHORTCUTS)
FINISH_TITLES = {"none": "Judge the steps", "bad_problem": "Bad problem", "give_up": "Give up"}


# ---- actions (callbacks run before the page redraws) -------------------------------------------


def on_verdict(i: int) -> None:
    d, account = desk(), _account()
    before = d.work
    verdict = LABEL_VERDICTS.get(st.session_state[verdict_key(d, i)])
    d.cursor = i
    change(d, account, d.work.with_verdict(i, verdict, d.rules.label_mode))
    mode = d.rules.label_mode
    moved = before.first_error(mode) != d.work.first_error(mode) or before.first_wrong() != d.work.first_wrong()
    # Only a change that reaches other steps or the summary line redraws the whole page.
    d.full_rerun = sync_verdicts(d, before, clicked=i) or moved or before.greyed(mode) != d.work.greyed(mode)


def on_step_text(trace_id: int, i: int, field: str, key: str) -> None:
    d = desk()
    if d is None or d.trace_id != trace_id or key not in st.session_state:
        return  # the box belonged to a trace that is no longer open (submitted meanwhile): never another's step
    value = st.session_state[key]
    change(d, _account(), d.work.with_step(i, **{field: tuple(value) if field == "tags" else value}))


def on_trace_field(field: str) -> None:
    d = desk()
    value = st.session_state[f"annotate_{field}_{d.trace_id}"]
    if field == "solution":
        changes = {"solution_correct": {v: k for k, v in SOLUTION_LABELS.items()}.get(value)}
    elif field == "overall":
        changes = {"critique": value or ""}
    elif field == "finish":
        changes = {"finish": value if value in CHOSEN_FINISH else None}
    else:
        changes = {"finish_note": value or ""}
    change(d, _account(), replace(d.work, **changes))


def set_cursor_verdict(verdict: int) -> None:
    d = desk()
    if d.cursor in d.work.greyed(d.rules.label_mode):
        d.message = f"Step {d.cursor + 1} needs no verdict: it comes after the first error."
        return
    st.session_state[verdict_key(d, d.cursor)] = VERDICT_LABELS[verdict]
    on_verdict(d.cursor)
    d.full_rerun = False  # a toolbar button redraws the whole page anyway
    if d.cursor < len(d.work.steps) - 1 and verdict != WRONG:
        d.cursor += 1


def move_cursor(delta: int) -> None:
    d = desk()
    d.cursor = max(0, min(len(d.work.steps) - 1, d.cursor + delta))


def all_correct() -> None:
    d = desk()
    before = d.work
    change(d, _account(), d.work.all_correct())
    sync_verdicts(d, before)
    st.session_state[f"annotate_solution_{d.trace_id}"] = SOLUTION_LABELS.get(d.work.solution_correct)


def focus(what: str) -> None:
    desk().message = None
    st.session_state["annotate_focus"] = what


def submit_and_next() -> None:
    d, account = desk(), _account()
    if d.conflict:
        d.message = "Not submitted: first choose what to keep (see the message above)."
        return
    missing = d.work.missing(d.rules.label_mode)
    if missing:
        d.message = "Not submitted yet. Still needed: " + "; ".join(missing) + "."
        return
    copy = timed(d)
    try:
        submit(get_engine(), d.opened, username=account.username, copy=copy, rules=d.rules)
    except StaleJudgment as e:
        d.conflict_kind = "stale"
        d.conflict = f"Not submitted: {e}. Your work is kept as a draft."
        return
    except NotOpen as e:
        d.message = f"Not submitted: {e}. Your work is kept as a draft; press X to skip to a trace that is open to you."
        return
    except DATABASE_DOWN:
        d.message = "Not submitted: " + DATABASE_DOWN_MESSAGE
        return
    except DraftConflict:
        d.conflict_kind = "draft"
        d.conflict = (
            "Not submitted: another tab saved a newer draft of this trace. "
            "Your work is kept on this page; choose which to keep."
        )
        return
    except InvalidValue as e:
        d.message = f"Not submitted: {e.field}: {e.message}"
        return
    st.session_state["annotate_flash"] = f"Submitted trace #{d.opened.position + 1}."
    go_next(d, account)


def skip() -> None:
    d = desk()
    d.skipped.append(d.trace_id)
    st.session_state["annotate_flash"] = f"Skipped trace #{d.opened.position + 1}; its draft is kept."
    go_next(d, _account())


def back() -> None:
    d = desk()
    earlier = [t for t in d.history if t != d.trace_id]
    if not earlier:
        d.message = "There is no earlier trace in this sitting; open one from “My work” in the sidebar."
        return
    open_desk(earlier[-1], d.rules, _account(), keep=d)


def go_next(d: Desk, account: Account) -> None:
    trace_id = next_trace(get_engine(), d.rules, username=account.username, exclude=tuple(d.skipped))
    if trace_id is None and d.skipped:
        d.skipped.clear()  # only skipped ones are left: serve them again
        trace_id = next_trace(get_engine(), d.rules, username=account.username)
    if trace_id is None:
        st.session_state.pop(STATE, None)
        st.query_params.pop("trace", None)
        st.session_state["annotate_nothing_left"] = d.rules.id
        return
    open_desk(trace_id, d.rules, account, keep=d)


def reopen(trace_id: int) -> None:
    open_desk(trace_id, desk().rules, _account(), keep=desk())


def _account() -> Account:
    return st.session_state["annotate_account"]


# ---- drawing -----------------------------------------------------------------------------------


@st.fragment
def step_part(trace_id: int, i: int) -> None:
    d = desk()
    if d is None or d.trace_id != trace_id:
        # A step of the trace that was on screen before (its box sent a change as the page moved on): draw the
        # whole page again, so no step of one trace ever shows under another's problem.
        st.rerun(scope="app")
    mode = d.rules.label_mode
    step = d.work.steps[i]
    greyed = i in d.work.greyed(mode)
    first = d.work.first_wrong()
    with st.container(border=True, key=f"annotate_step_box_{i}"):
        badges = [f"**Step {i + 1}**"]
        if i == first:
            badges.append(":red-badge[:material/error: First error]")
        if i == d.cursor:
            badges.append(":blue-badge[Current]")
        if greyed:
            badges.append(":gray-badge[No rating needed]")
        st.markdown(" ".join(badges))
        text = d.opened.trace.steps[i]
        if greyed:
            st.caption(shown_markdown(text))
        else:
            st.markdown(shown_markdown(text))
        st.segmented_control(
            f"Verdict on step {i + 1}",
            list(LABEL_VERDICTS),
            key=verdict_key(d, i),
            on_change=on_verdict,
            args=(i,),
            disabled=greyed,
            label_visibility="collapsed",
        )
        box_open = i == d.cursor or step.critique or step.tags or step.verdict in (WRONG, NEUTRAL)
        if box_open and not greyed:
            st.text_area(
                f"Critique of step {i + 1}",
                key=critique_key(d, i),
                on_change=on_step_text,
                args=(trace_id, i, "critique", critique_key(d, i)),
                height=68,
                placeholder="What is wrong or doubtful here, and why",
            )
            if d.rules.taxonomy:
                st.multiselect(
                    f"Error tags of step {i + 1}",
                    list(dict.fromkeys([*d.rules.taxonomy, *step.tags])),
                    key=tags_key(d, i),
                    on_change=on_step_text,
                    args=(trace_id, i, "tags", tags_key(d, i)),
                )
            if step.verdict == WRONG:
                st.text_area(
                    f"Correction of step {i + 1} (optional)",
                    key=correction_key(d, i),
                    on_change=on_step_text,
                    args=(trace_id, i, "correction", correction_key(d, i)),
                    height=68,
                    placeholder="What the step should have said",
                )
    if d.full_rerun:
        d.full_rerun = False
        st.rerun(scope="app")


def steps_shown(d: Desk) -> range:
    """Every step, or for a very long trace a window that follows the current step (J/K, or Go to step)."""
    n = len(d.opened.trace.steps)
    if n <= STEP_WINDOW:
        return range(n)
    start = max(0, min(d.cursor - STEP_WINDOW // 3, n - STEP_WINDOW))
    shown = range(start, start + STEP_WINDOW)
    left, right = st.columns([3, 1])
    left.caption(f"A long trace: showing steps {start + 1}-{start + STEP_WINDOW} of {n}, around the current step.")
    right.number_input(
        "Go to step", min_value=1, max_value=n, value=d.cursor + 1, key=f"annotate_goto_{d.trace_id}", on_change=go_to
    )
    return shown


def go_to() -> None:
    d = desk()
    d.cursor = int(st.session_state[f"annotate_goto_{d.trace_id}"]) - 1


def toolbar() -> None:
    with st.container(horizontal=True, key="annotate_toolbar"):
        st.button(
            "Submit and next", key="annotate_submit", type="primary", on_click=submit_and_next, shortcut="Ctrl+Enter"
        )
        st.button("Skip", key="annotate_skip", on_click=skip, shortcut="X")
        st.button("Back", key="annotate_back", on_click=back, shortcut="B")
        st.button("All correct", key="annotate_all_correct", on_click=all_correct, shortcut="A")
        st.button("Next step", key="annotate_next_step", on_click=move_cursor, args=(1,), shortcut="J")
        st.button("Previous step", key="annotate_prev_step", on_click=move_cursor, args=(-1,), shortcut="K")
        st.button("Correct", key="annotate_mark_correct", on_click=set_cursor_verdict, args=(1,), shortcut="1")
        st.button("Neutral", key="annotate_mark_neutral", on_click=set_cursor_verdict, args=(0,), shortcut="2")
        st.button("Wrong", key="annotate_mark_wrong", on_click=set_cursor_verdict, args=(-1,), shortcut="3")
        st.button("Critique", key="annotate_focus_critique", on_click=focus, args=("critique",), shortcut="E")
        st.button("Tags", key="annotate_focus_tags", on_click=focus, args=("tags",), shortcut="T")


def trace_part(d: Desk) -> None:
    tid = d.trace_id
    st.subheader("The whole trace")
    left, right = st.columns(2)
    left.segmented_control(
        "Final answer",
        list(SOLUTION_LABELS.values()),
        key=f"annotate_solution_{tid}",
        on_change=on_trace_field,
        args=("solution",),
    )
    right.selectbox(
        "Finish",
        list(FINISH_TITLES),
        format_func=FINISH_TITLES.get,
        key=f"annotate_finish_{tid}",
        on_change=on_trace_field,
        args=("finish",),
    )
    if d.work.finish:
        st.text_input(
            "Why (required)", key=f"annotate_finish_note_{tid}", on_change=on_trace_field, args=("finish_note",)
        )
    st.text_area("Overall critique", key=f"annotate_overall_{tid}", on_change=on_trace_field, args=("overall",))
    trace = d.opened.trace
    has_reference = trace.reference_answer or trace.reference_solution
    if has_reference and st.toggle("Show the reference answer and solution", key="annotate_show_reference"):
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


def others_table(d: Desk) -> pd.DataFrame:
    rows = []
    for source, j in d.opened.others.items():
        rows.append(
            {
                "source": source,
                "first error": first_error_text(j.first_error),
                "status": j.status,
                "critique": j.critique,
            }
        )
    return pd.DataFrame(rows)


@st.cache_data(ttl=15, show_spinner=False)
def totals_of(rules: ProjectRules) -> ProjectTotals:
    """Project-wide counts grow with the project: kept for a few seconds rather than counted per click."""
    return project_totals(get_engine(), rules)


def sidebar(rules: ProjectRules, account: Account) -> None:
    with st.sidebar:
        done = progress(get_engine(), rules, username=account.username, totals=totals_of(rules))
        st.progress(done.my_share, text=f"Mine: {done.mine} of {done.assigned_to_me}")
        st.progress(done.project_share, text=f"Project: {done.complete} of {done.traces} traces complete")
        with st.expander("Guidelines", expanded=bool(rules.guidelines)):
            st.markdown(shown_markdown(rules.guidelines) or "_No guidelines for this project yet._")
        # Read only when asked for: the list is not needed on every click.
        if st.toggle("My earlier work", key="annotate_show_history"):
            items = my_work(get_engine(), rules, username=account.username, limit=50)
            labels = {i.trace_id: f"#{i.position + 1} · {i.status} · {i.when:%d %b %H:%M}" for i in items}
            if labels:
                chosen = st.selectbox("Reopen", list(labels), format_func=labels.get, key="annotate_reopen_choice")
                st.button("Open", key="annotate_reopen", on_click=reopen, args=(chosen,))
            else:
                st.caption("Nothing yet.")
        with st.expander("Keyboard shortcuts"):
            st.markdown(SHORTCUTS_TABLE)


def choose_trace(rules: ProjectRules, account: Account) -> Desk | None:
    """The trace this session works on: the open one, the one in the URL (a reload), or the next."""
    d = desk()
    wanted = st.query_params.get("trace")
    if d is not None and d.rules.id == rules.id and (wanted is None or wanted == str(d.trace_id)):
        d.rules = rules
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


def annotate_page() -> None:
    account = require_account()
    st.session_state["annotate_account"] = account
    projects = projects_for(get_engine(), account)
    if not projects:
        st.title("Annotate")
        st.info("You are not on any project yet. An admin adds you to one on the Admin page.")
        return
    current = desk()
    default = projects.index(current.rules.name) if current and current.rules.name in projects else 0
    project = st.sidebar.selectbox("Project", projects, index=default, key="annotate_project")
    rules = project_rules(get_engine(), project)
    sidebar(rules, account)
    d = choose_trace(rules, account)
    if flash := st.session_state.pop("annotate_flash", None):
        st.toast(flash)
    if d is None:
        st.title("Annotate")
        st.success("Nothing left for you in this project: every trace has the judgments it needs. Thank you!")
        if st.button("Look again", key="annotate_look_again"):
            st.session_state.pop("annotate_nothing_left", None)
            st.rerun()
        return
    trace = d.opened.trace
    status = "submitted, reopened" if d.opened.submitted else "draft" if d.opened.draft_version else "new"
    st.title(f"Trace #{d.opened.position + 1}")
    st.caption(f"{rules.name} · {len(trace.steps)} steps · {status} · mode: {rules.label_mode.replace('_', ' ')}")
    if d.conflict:
        st.error(d.conflict)
        with st.container(horizontal=True):
            st.button("Load the newer version", key="annotate_load_newer", on_click=load_newer, args=(d, account))
            st.button(
                "Keep mine (the newer one stays in the history)",
                key="annotate_take_over",
                on_click=take_over,
                args=(d, account),
            )
    if d.message:
        st.warning(d.message)
        d.message = None
    if d.unsaved:
        st.button("Save now", key="annotate_save_now", on_click=change, args=(d, account, d.work))
    toolbar()
    st.markdown("**Problem**")
    st.markdown(shown_markdown(trace.problem))
    for i in steps_shown(d):
        step_part(d.trace_id, i)
    summary = summarise(d.work, rules.label_mode)
    (st.error if summary.first_error not in (None, NO_ERROR) else st.info)(summary.text, icon=":material/flag:")
    if trace.answer:
        st.markdown("**The trace's answer**")
        st.markdown(shown_markdown(trace.answer))
    trace_part(d)
    st.caption(f"Time on this trace: {timed(d).time_spent_s:.0f} s (counted while you work; long pauses count 5 min)")
    if target := st.session_state.pop("annotate_focus", None):
        label = f"Critique of step {d.cursor + 1}" if target == "critique" else f"Error tags of step {d.cursor + 1}"
        focus_element(label)


annotate_page()
