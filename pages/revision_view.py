"""Compare's Revisions tab: does a critique help a model revise its solution? (annotation.revision)

Admins start a revision run here (a critique source, a reviser: a saved critic or a model string, what it is shown,
a grader),
watch it and cancel it; everyone reads the figures they may see: people and models side by side (VISCO's table),
one source's figures with their intervals and breakdowns, and each trace's result.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from annotation.accounts.users import Account
from annotation.core.model import InvalidValue
from annotation.critics.config import CriticConfig, api_key_for, list_critics
from annotation.critics.keys import KeyNotAllowed
from annotation.judgments.visibility import ProjectView
from annotation.metrics.pairs import source_label
from annotation.revision.grading import CRITIC_PREFIX, GRADER_NAMES
from annotation.revision.prompts import SHOW_TITLES, SHOWS
from annotation.revision.report import (
    GROUPS,
    RevisionReport,
    configurations,
    load_results,
    of_configuration,
    report_for,
    results_version,
    rows_of,
    side_by_side,
    sources_in,
    with_usefulness,
)
from annotation.revision.revisers import model_reviser, saved_reviser
from annotation.revision.runs import BackgroundRevision, NotAllowed, RevisionPlan, revision_history
from annotation.revision.traces import grade_text, trace_revisions
from pages.common import VISION_HELP, VISION_TITLES, get_engine, md_escape, show_run

BOOTSTRAP = 1000
SHOWN_ROWS = 5000


@st.cache_resource
def active_revisions() -> dict[int, BackgroundRevision]:
    """Runs started from this server process, by run id, so any rerun (or tab) can follow or cancel them."""
    return {}


@st.cache_data(max_entries=16, show_spinner=False)
def results(project: str, version: tuple[int, str], who: tuple[str, bool, bool]) -> pd.DataFrame:
    return load_results(get_engine(), project, ProjectView(*who))


def configuration_label(configuration: tuple[str, str, str], current: dict[str, str]) -> str:
    """ "reviser · graded by G · settings 1a2b3c4d", saying whether those are the saved critic's settings now."""
    reviser, reviser_hash, grader = configuration
    if reviser not in current:
        settings = f"settings {reviser_hash[:8]}"
    elif current[reviser] == reviser_hash:
        settings = f"settings {reviser_hash[:8]}, as saved now"
    else:
        settings = f"earlier settings {reviser_hash[:8]}"
    return f"{reviser} · graded by {grader} · {settings}"


@st.cache_data(max_entries=16, show_spinner=False)
def table(
    project: str, configuration: tuple[str, str, str], version: tuple[int, str], who: tuple[str, bool, bool]
) -> pd.DataFrame:
    return side_by_side(of_configuration(results(project, version, who), configuration), resamples=BOOTSTRAP)


# ---- starting and following a run (admins) -----------------------------------------------------------------------


def start(engine: Engine, account: Account, plan: RevisionPlan, concurrency: int) -> None:
    try:
        key = api_key_for(plan.reviser, st.secrets)
        plan = plan.validate()
    except (InvalidValue, KeyNotAllowed) as e:
        st.error(f"The run did not start, nothing was sent: {md_escape(e.message)}")
        return
    run = BackgroundRevision(
        engine, plan, concurrency=concurrency, account=account, api_key=key, secrets=st.secrets
    ).start()
    if run.progress is None:
        st.error(f"The run did not start: {md_escape(run.error or 'unknown error')}")
        return
    active_revisions()[run.progress.run_id] = run
    st.session_state["revise_run_id"] = run.progress.run_id


REVISER_KINDS = {"saved": "A saved critic", "model": "A model (litellm model string)"}
MODEL_FIELDS = ("revise_model", "revise_api_base", "revise_api_key_env", "revise_reviser_name", "revise_vision")


def reviser_form(engine: Engine, names: list[str]) -> CriticConfig | None:
    """The reviser chosen: a saved critic, or a model string with its server and key; None when no model is typed.
    Raises InvalidValue, naming the field, for a model string that would be refused."""
    kinds = list(REVISER_KINDS) if names else ["model"]
    kind = st.radio("Reviser", kinds, format_func=REVISER_KINDS.get, horizontal=True, key="revise_reviser_kind")
    if kind == "saved":
        # What was typed for a model is kept while a saved critic is shown (Streamlit forgets undrawn widgets).
        for key in MODEL_FIELDS:
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
        return saved_reviser(engine, st.selectbox("Critic that revises", names, key="revise_reviser"))
    left, middle, right = st.columns(3)
    model = left.text_input("Model", key="revise_model", placeholder="hosted_vllm/qwen2.5-7b-instruct")
    api_base = middle.text_input("API base (optional)", key="revise_api_base", placeholder="http://…/v1")
    key_env = right.text_input(
        "Key variable (optional)", key="revise_api_key_env", help="The name of an allowed variable holding the key"
    )
    left, right = st.columns(2)
    name = left.text_input("Name in the results", key="revise_reviser_name", placeholder="the model's name")
    vision = right.selectbox(
        "A trace's images", list(VISION_TITLES), format_func=VISION_TITLES.get, key="revise_vision", help=VISION_HELP
    )
    if not model.strip():
        return None
    return model_reviser(
        engine, model, api_base=api_base, api_key_env=key_env, name=name, vision=vision, secrets=st.secrets
    )


def run_form(engine: Engine, account: Account, project: str, sources: list[str], critics: list[CriticConfig]) -> None:
    if not sources:
        st.info("No judgments in this project yet to revise with.")
        return
    names = [c.name for c in critics]
    source = st.selectbox("Critiques of", sources, format_func=source_label, key="revise_source")
    try:
        reviser = reviser_form(engine, names)
        problem = None if reviser is not None else "Give the reviser's model."
    except InvalidValue as e:
        reviser, problem = None, e.message
    left, middle, right, last = st.columns(4)
    show = left.selectbox("The reviser is shown", SHOWS, format_func=SHOW_TITLES.get, key="revise_show")
    graders = [*GRADER_NAMES, *(CRITIC_PREFIX + n for n in names)]
    grader = middle.selectbox("Grader", graders, key="revise_grader", help="critic:NAME asks that critic's model")
    limit = right.number_input("At most (0 = all)", 0, 10_000_000, key="revise_limit")
    concurrency = last.number_input("Concurrency", 1, 256, value=8, key="revise_concurrency")
    busy = st.session_state.get("revise_run_id") in active_revisions() and (
        active_revisions()[st.session_state["revise_run_id"]].alive
    )
    if problem and st.session_state.get("revise_model", "").strip():
        st.warning(md_escape(problem))
    start_clicked = st.button(
        "Revise and grade", key="revise_start", type="primary", icon=":material/play_arrow:", disabled=busy
    )
    if start_clicked and reviser is None:
        st.error(f"The run did not start, nothing was sent: {md_escape(problem or '')}")
    elif start_clicked and reviser is not None:
        plan = RevisionPlan(project, source, reviser, show=show, grader=grader, limit=int(limit) or None)
        start(engine, account, plan, int(concurrency))
    run_id = st.session_state.get("revise_run_id")
    if run_id in active_revisions():
        run_progress(run_id)


@st.fragment(run_every=1.0)
def run_progress(run_id: int) -> None:
    run = active_revisions().get(run_id)
    if run is not None:
        show_run(
            run,
            run_id,
            name="Revision run",
            progress=lambda p: (
                f"{p.finished} of {p.total} ({p.skipped + p.cached} reused, {p.failed} failed, "
                f"{p.ungraded} not graded, {p.no_answer} without a final answer) · cost ${p.cost:.4f}"
            ),
            finished=lambda p: (
                f"{p.done} revised, {p.skipped + p.cached} reused, {p.failed} failed, "
                f"{p.ungraded} not graded (graded again next run), {p.no_reference} without a reference answer."
            ),
            keys="revise",
        )


def run_history(engine: Engine, project: str) -> None:
    runs = revision_history(engine, project=project)
    if not runs:
        return
    frame = pd.DataFrame(
        [
            {
                "run": r.id,
                "critiques": r.critiques,
                "shown": r.show,
                "reviser": r.reviser,
                "grader": r.grader,
                "status": r.status,
                "traces": r.total,
                "revised": r.done,
                "reused": r.cached,
                "failed": r.failed,
                "not graded": r.ungraded,
                "no reference": r.no_reference,
                "tokens": r.tokens,
                "cost ($)": round(r.cost, 6),
                "started": r.started_at,
                "by": r.started_by,
            }
            for r in runs
        ]
    )
    st.dataframe(frame, hide_index=True, key="revise_runs")


# ---- reading the results --------------------------------------------------------------------------------------


def _interval(ci: list) -> str:
    low, high = ci
    return "" if low is None else f"[{low}, {high}]"


@st.cache_data(max_entries=32, show_spinner=False)
def figures(
    project: str,
    configuration: tuple[str, str, str],
    version: tuple[int, str],
    who: tuple[str, bool, bool],
    source: str,
    show: str,
) -> RevisionReport:
    """One source's figures and breakdowns, bootstrapped once per version of the results, not on every rerun."""
    frame = of_configuration(results(project, version, who), configuration)
    return report_for(frame, source, show, resamples=BOOTSTRAP)


def headline(report: RevisionReport) -> None:
    d = report.as_dict()
    st.caption(
        f"{d['n']:,} traces revised ({d['n_wrong_before']:,} wrong before, {d['n_right_before']:,} right); "
        f"without a final answer (counted wrong): {d['no_answer']:,}; left out: {d['failed']:,} failed requests, "
        f"{d['ungraded']:,} answers not graded (graded again next run), {d['stale']:,} revised with a critique "
        f"changed or withdrawn since (stale; run again to revise the current one). "
        f"Brackets: 95% bootstrap interval over {BOOTSTRAP:,} resamples."
    )
    cards = [
        ("Fixed", f"{d['fixed']:,}", ""),
        ("Fix rate", "–" if d["fix_rate"] is None else f"{d['fix_rate']}%", _interval(d["ci"]["fix_rate"])),
        ("Broken", f"{d['broken']:,}", ""),
        ("Break rate", "–" if d["break_rate"] is None else f"{d['break_rate']}%", _interval(d["ci"]["break_rate"])),
        ("Accuracy before → after", f"{d['accuracy_before']}% → {d['accuracy_after']}%", ""),
        ("Change", "–" if d["accuracy_change"] is None else f"{d['accuracy_change']:+} pts", ""),
    ]
    columns = [*st.columns(3), *st.columns(3)]
    for column, (label, value, interval) in zip(columns, cards, strict=True):
        column.metric(label, value, border=True)
        if interval:
            column.caption(interval)
    columns[-1].caption(_interval(d["ci"]["accuracy_change"]))
    by = st.radio("Group by", list(GROUPS), horizontal=True, key="revise_group_by")
    st.dataframe(report.breakdowns[by], hide_index=True, key="revise_group_table")


def per_trace(frame: pd.DataFrame, account: Account, source: str, show: str) -> None:
    mine = with_usefulness(rows_of(frame[frame["show"] == show], source)).reset_index(drop=True)
    shown = pd.DataFrame(
        {
            "trace": mine["position"] + 1,
            "record": mine["record_id"],
            "critiques of": mine["critique_source"],
            "original answer": mine["original_answer"],
            "original": mine["original_correct"].map(grade_text),
            "revised answer": mine["revised_answer"].fillna("(none)"),
            "revised": mine["revised_correct"].map(grade_text),
            "usefulness": mine["usefulness"].fillna("–"),
            "status": mine["status"].where(~mine["stale"].astype(bool), "stale"),
        }
    )
    st.dataframe(shown.head(SHOWN_ROWS), hide_index=True, key="revise_traces")
    pick = st.selectbox(
        "Read a revision",
        list(range(min(len(mine), SHOWN_ROWS))),
        index=None,
        placeholder="Choose a trace to read the revised solution",
        format_func=lambda i: f"trace {mine['position'].iat[i] + 1} · {mine['critique_source'].iat[i]}",
        key="revise_open",
    )
    if pick is None:
        return
    row = mine.iloc[pick]
    found = trace_revisions(get_engine(), int(row["trace_id"]), account, source=str(row["critique_source"]))
    for r in found:
        if (r.show, r.reviser, r.reviser_hash, r.grader) == (show, row["reviser"], row["reviser_hash"], row["grader"]):
            st.caption(
                f"Original answer {r.original_answer!s} ({grade_text(r.original_correct)}) · revised answer "
                f"{r.revised_answer or '(none)'} ({grade_text(r.revised_correct)}) · graded by {r.grader}"
            )
            # As the model wrote it: shown as text, never rendered.
            st.code(r.revised_text or r.error or "", language=None, wrap_lines=True)


def results_section(account: Account, project: str, view: ProjectView, critics: list[CriticConfig]) -> None:
    who = (view.username, view.is_admin, view.blind)
    version = results_version(get_engine(), project)
    frame = results(project, version, who)
    if frame.empty:
        st.info("No revision results you may see in this project yet.")
        return
    current = {c.name: c.config_hash() for c in critics}
    configuration = st.selectbox(
        "Results of the reviser",
        configurations(frame),
        format_func=lambda c: configuration_label(c, current),
        key="revise_view_configuration",
        help="One reviser's settings and one grader at a time: results of others are never mixed in",
    )
    mine = of_configuration(frame, configuration)
    st.subheader("People and models side by side")
    st.dataframe(table(project, configuration, version, who), hide_index=True, key="revise_table")
    left, right = st.columns(2)
    source = left.selectbox(
        "Figures for the critiques of", sources_in(mine), format_func=source_label, key="revise_view_source"
    )
    shows = [s for s in SHOWS if s in set(mine["show"])]
    show = right.selectbox("When the reviser was shown", shows, format_func=SHOW_TITLES.get, key="revise_view_show")
    headline(figures(project, configuration, version, who, source, show))
    per_trace(mine, account, source, show)


def revision_section(account: Account, project: str, view: ProjectView, sources: list[str]) -> None:
    """``sources``: the project's sources of judgments, as Compare offers them (a run refuses one without any)."""
    st.caption(
        "A model revises each solution with a source's critique (or with none, the baseline) and its final answer "
        "is graded against the reference answer, as is the original: did the critique fix wrong solutions, and "
        "break right ones?"
    )
    critics = list_critics(get_engine())  # read once a rerun: the run form and the results' labels both name them
    if account.is_admin:
        with st.expander("Revise with critiques (admins)", expanded=True):
            try:
                run_form(get_engine(), account, project, sources, critics)
            except NotAllowed as e:
                st.error(md_escape(str(e)))
            run_history(get_engine(), project)
    results_section(account, project, view, critics)
