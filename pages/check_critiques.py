"""Check critiques: a model's verdict and explanation beside each step; accept, reject or edit each with one key.

Then rate the critique as a whole, write a replacement explanation where none is good, and submit: the
result is my own judgment, which records the model critique it started from and what I changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import streamlit as st

from annotation.accounts.users import projects_for
from annotation.core.model import VERDICT_NAMES, InvalidValue, Source, first_error_text
from annotation.judgments.visibility import project_view
from annotation.workflow.checking import (
    RATING_TITLES,
    CheckRefused,
    CritiqueToCheck,
    StepCheck,
    critiques_to_check,
    is_checked,
    model_sources,
    next_unchecked,
    submit_check,
)
from pages.auth import require_account
from pages.common import get_engine, md_escape

VERDICT_TITLES = {**VERDICT_NAMES, None: "no verdict"}
VERDICT_BADGES = {1: ":green-badge[correct]", 0: ":gray-badge[neutral]", -1: ":red-badge[wrong]"}
EDIT_CHOICES = {"Correct": 1, "Neutral": 0, "Wrong": -1}
STATE = "check_state"


@dataclass
class Desk:
    """What I am doing on the trace in front of me; kept in the session between reruns."""

    project: str
    source: str
    index: int
    trace_id: int
    checks: dict[int, StepCheck] = field(default_factory=dict)
    cursor: int = 0
    editing: bool = False
    opened_at: float = field(default_factory=time.monotonic)
    message: str | None = None


def desk() -> Desk:
    return st.session_state[STATE]


def open_item(project: str, source: str, items: list[CritiqueToCheck], index: int) -> None:
    item = items[index]
    checks: dict[int, StepCheck] = {}
    rating = None
    if item.mine is not None and is_checked(item, Source.parse(source)):
        # Show my earlier check, so changing it starts from what I saved.
        for c in item.mine.extra.get("changes", []):
            checks[c["step"]] = StepCheck(c["step"], c["action"], verdict=c.get("verdict"), critique=c.get("critique"))
        rating = item.mine.extra.get("critique_rating")
    st.session_state[STATE] = Desk(project, source, index, item.trace_id, checks=checks)
    st.session_state["check_rating"] = RATING_TITLES.get(rating) if rating else None
    st.session_state["check_replacement"] = (item.mine.critique or "") if checks and item.mine else ""
    for key in ("check_edit_verdict", "check_edit_text"):
        st.session_state.pop(key, None)


# ---- actions -----------------------------------------------------------------------------------


def act(action: str, items: list[CritiqueToCheck]) -> None:
    d = desk()
    n = len(items[d.index].trace.steps)
    if action == "edit":
        d.editing = True
        label = items[d.index].model_steps[d.cursor]
        st.session_state["check_edit_verdict"] = {v: k for k, v in EDIT_CHOICES.items()}.get(label.verdict, "Wrong")
        st.session_state["check_edit_text"] = label.critique or ""
        return
    d.checks[d.cursor] = StepCheck(d.cursor, action)  # type: ignore[arg-type]
    d.editing = False
    d.cursor = min(n - 1, d.cursor + 1)


def save_edit(items: list[CritiqueToCheck]) -> None:
    d = desk()
    verdict = EDIT_CHOICES.get(st.session_state.get("check_edit_verdict") or "")
    d.checks[d.cursor] = StepCheck(d.cursor, "edit", verdict=verdict, critique=st.session_state.get("check_edit_text"))
    d.editing = False
    d.cursor = min(len(items[d.index].trace.steps) - 1, d.cursor + 1)


def move(delta: int, n: int) -> None:
    d = desk()
    d.cursor = max(0, min(n - 1, d.cursor + delta))
    d.editing = False


def go(items: list[CritiqueToCheck], index: int) -> None:
    d = desk()
    open_item(d.project, d.source, items, index % len(items))


def submit(items: list[CritiqueToCheck], username: str) -> None:
    d = desk()
    item = items[d.index]
    rating_title = st.session_state.get("check_rating")
    rating = next((k for k, v in RATING_TITLES.items() if v == rating_title), None)
    if rating is None:
        d.message = "Not submitted yet: rate the critique as a whole first."
        return
    try:
        submit_check(
            get_engine(),
            trace_id=item.trace_id,
            model_source=Source.parse(d.source),
            model_version=item.model_version,
            checks=list(d.checks.values()),
            rating=rating,
            replacement=st.session_state.get("check_replacement"),
            username=username,
            loaded_version=item.my_version,
            time_spent_s=round(time.monotonic() - d.opened_at, 1),
        )
    except InvalidValue as e:
        d.message = f"Not submitted: {e.message}."
        return
    except CheckRefused as e:
        d.message = f"Not submitted: {e}."
        return
    st.session_state["check_flash"] = f"Saved your check of trace #{item.position + 1}."
    st.session_state["check_after"] = d.index
    st.session_state[STATE] = None  # the next run reloads the list and opens the next unchecked trace


# ---- drawing -----------------------------------------------------------------------------------


def step_box(item: CritiqueToCheck, i: int, d: Desk) -> None:
    model = item.model_steps[i]
    check = d.checks.get(i)
    with st.container(border=True, key=f"check_step_box_{i}"):
        left, right = st.columns([3, 2])
        badges = [f"**Step {i + 1}**"]
        if i == d.cursor:
            badges.append(":blue-badge[Current]")
        if check is not None:
            badges.append(
                {
                    "accept": ":green-badge[accepted]",
                    "reject": ":orange-badge[rejected]",
                    "edit": ":violet-badge[edited]",
                }[check.action]
            )
        left.markdown(" ".join(badges))
        left.markdown(md_escape(item.trace.steps[i]))
        right.markdown(f"Model: {VERDICT_BADGES.get(model.verdict, ':gray-badge[no verdict]')}")
        if model.critique:
            right.caption(md_escape(model.critique))
        if check is not None and check.action == "edit":
            right.markdown(f"You: {VERDICT_BADGES.get(check.verdict, '')}")
            if check.critique:
                right.caption(md_escape(check.critique))
        elif check is not None and check.action == "reject":
            flipped = {1: -1, -1: 1}.get(model.verdict)
            right.markdown(f"You: {VERDICT_BADGES.get(flipped, '')}")


def action_bar(items: list[CritiqueToCheck], n: int) -> None:
    d = desk()
    st.markdown(f"**Step {d.cursor + 1}** of {n}: what do you make of the model's verdict?")
    cols = st.columns(5)
    cols[0].button(
        "Accept", key="check_accept", shortcut="a", on_click=act, args=("accept", items), icon=":material/check:"
    )
    cols[1].button(
        "Reject", key="check_reject", shortcut="x", on_click=act, args=("reject", items), icon=":material/close:"
    )
    cols[2].button("Edit", key="check_edit", shortcut="e", on_click=act, args=("edit", items), icon=":material/edit:")
    cols[3].button("Previous step", key="check_step_prev", shortcut="k", on_click=move, args=(-1, n))
    cols[4].button("Next step", key="check_step_next", shortcut="j", on_click=move, args=(1, n))
    if d.editing:
        with st.container(border=True):
            st.radio(
                f"Your verdict on step {d.cursor + 1}", list(EDIT_CHOICES), key="check_edit_verdict", horizontal=True
            )
            st.text_area("Your explanation", key="check_edit_text", height=90)
            st.button("Save edit", key="check_edit_save", type="primary", on_click=save_edit, args=(items,))
    st.caption("Keys: A accept · X reject (the opposite verdict) · E edit · J/K next/previous step · Ctrl+Enter submit")


def main() -> None:
    account = require_account()
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
    items = critiques_to_check(engine, project, Source.parse(source), project_view(engine, account, project))

    d = st.session_state.get(STATE)
    if d is None or d.project != project or d.source != source or d.index >= len(items):
        after = st.session_state.pop("check_after", -1)
        start = next_unchecked(items, Source.parse(source), after=after)
        if start is None:
            st.session_state["check_all_done"] = True
        open_item(project, source, items, 0 if start is None else start)
        d = desk()
    item = items[d.index]
    n = len(item.trace.steps)

    flash = st.session_state.pop("check_flash", None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    if st.session_state.pop("check_all_done", False):
        st.info("Every critique from this critic is checked. You can still change your checks below.")
    done = sum(is_checked(i, Source.parse(source)) for i in items)
    st.progress(done / len(items), text=f"Checked {done} of {len(items)} critiques from {source}")
    nav = st.columns([1, 1, 4])
    nav[0].button("Previous trace", key="check_prev_trace", on_click=go, args=(items, d.index - 1))
    nav[1].button("Next trace", key="check_next_trace", on_click=go, args=(items, d.index + 1))
    state = "checked by you before" if is_checked(item, Source.parse(source)) else "not checked yet"
    nav[2].markdown(f"Trace **#{item.position + 1}** ({d.index + 1} of {len(items)}) · {state}")

    st.subheader("Problem")
    st.markdown(md_escape(item.trace.problem))
    model_first = item.model.first_error
    said = first_error_text(model_first, unset="nothing parsable")
    with st.expander(f"The model's critique (first error: {said})"):
        st.text(item.model.critique or "(no overall critique)")

    for i in range(n):
        step_box(item, i, d)
    action_bar(items, n)

    st.subheader("The critique as a whole")
    st.segmented_control("How good is the model's critique?", list(RATING_TITLES.values()), key="check_rating")
    st.text_area(
        "Replacement explanation (where none of the model's is good)",
        key="check_replacement",
        height=100,
        placeholder="What is actually wrong, and where.",
    )
    if d.message:
        st.error(md_escape(d.message))
        d.message = None
    st.button(
        "Submit and next",
        key="check_submit",
        type="primary",
        shortcut="ctrl+enter",
        on_click=submit,
        args=(items, account.username),
        icon=":material/send:",
    )


main()
