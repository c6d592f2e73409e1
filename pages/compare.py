"""Compare: how one source's judgments (A) stand against another's (B), where they differ, and settling it."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from annotation.accounts.users import Account, projects_for
from annotation.core.model import (
    InvalidValue,
    Judgment,
    first_error_text,
)
from annotation.critics.keys import KeyNotAllowed
from annotation.critics.reason_agreement import judge_reasons, reason_accuracy
from annotation.judgments.visibility import ProjectView, project_view
from annotation.judgments.writing import StaleJudgment
from annotation.metrics import Comparison, ProjectJudgments, compare, data_version, load_project
from annotation.metrics.breakdowns import GROUPS
from annotation.metrics.disagreements import TraceView, trace_view
from annotation.metrics.first_error import KIND_LABELS, KINDS
from annotation.metrics.pairs import default_pair, source_label
from annotation.metrics.processbench import rounded
from annotation.metrics.span_report import SpanReport, span_report
from annotation.metrics.steps import MATRIX_LABELS
from annotation.workflow.adjudication import NotAllowed, adopt, consensus_of
from annotation.workflow.labelling import WorkingCopy
from annotation.workflow.surface import side_data, trace_images, trace_markup, work_data
from pages.auth import require_account
from pages.common import get_engine, md_escape
from pages.history_view import show_history
from pages.judging.component import judging_surface
from pages.judging.keymap import HELP, KEYS
from pages.revision_view import revision_section

BOOTSTRAP = 1000
BROWSE_LIMIT = 500


@st.cache_resource(max_entries=4, show_spinner=False)
def project_data(project: str, version: tuple[int, str]) -> ProjectJudgments:
    return load_project(get_engine(), project)


def visible_data(project: str, version: tuple[int, str], view: ProjectView) -> ProjectJudgments:
    """The project's judgments as far as this person may see them: every figure is made from these."""
    return project_data(project, version).seen_by(view)


@st.cache_data(max_entries=32, show_spinner=False)
def comparison(
    project: str, a: str, b: str, k: int, version: tuple[int, str], who: tuple[str, bool, bool]
) -> Comparison:
    view = ProjectView(*who)
    return compare(visible_data(project, version, view), a, b, k=k, resamples=BOOTSTRAP)


@st.cache_data(max_entries=32, show_spinner=False)
def spans_compared(
    project: str, a: str, b: str, version: tuple[int, str], who: tuple[str, bool, bool]
) -> SpanReport | None:
    return span_report(get_engine(), project, a, b, ProjectView(*who))


def step_name(first_error: int | None) -> str:
    """On Compare an unset first error is an answer that could not be used."""
    return first_error_text(first_error, unset="no answer")


def headline(result: Comparison) -> None:
    d = result.as_dict()
    st.caption(
        f"{result.n:,} pairs judged by both ({d['n_error']:,} where B has an error, {d['n_correct']:,} where it has "
        f"none). Brackets: 95% bootstrap interval over {BOOTSTRAP:,} resamples."
    )
    figures = [
        ("acc_error", "Accuracy on B's errors", "%"),
        ("acc_correct", "Accuracy on B's correct", "%"),
        ("f1", "ProcessBench F1", ""),
        ("first_error_accuracy", "First error exact", "%"),
        ("mcc", "Solution MCC", ""),
    ]
    # Three cards a row: six in one row cut their titles ("Accuracy on B's ...").
    columns = [*st.columns(3), *st.columns(3)]
    for column, (key, label, unit) in zip(columns, figures, strict=False):
        value, (low, high) = d[key], d["intervals"][key]
        column.metric(label, "–" if value is None else f"{value}{unit}", border=True)
        if low is not None:
            column.caption(f"[{low}, {high}]")
    kappa = d["step_kappa"]
    columns[-1].metric("Step kappa", "–" if kappa is None else f"{kappa:.3f}", border=True)
    columns[-1].caption(f"within ±{result.k}: {d['first_error_within_k']}%")


def position_histogram(result: Comparison) -> go.Figure:
    a, b = result.first_errors["a"], result.first_errors["b"]
    top = int(max(a.max(initial=0), b.max(initial=0)))
    labels = ["no error", "no usable answer", *[f"step {i + 1}" for i in range(top + 1)]]
    figure = go.Figure()
    for name, values in ((source_label(result.a), a), (source_label(result.b), b)):
        # -2: no usable answer, -1: no error, then the steps; "no error" comes first, as the biggest bar often is.
        counts = np.bincount(np.clip(values, -2, None) + 2, minlength=len(labels))
        figure.add_bar(x=labels, y=[counts[1], counts[0], *counts[2:]], name=html.escape(name))
    figure.update_layout(barmode="group", xaxis_title="first error", yaxis_title="traces", margin={"t": 30})
    # Categories, never a numeric axis: on one, "no error" and "no usable answer" were not drawn at all.
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=labels)
    return figure


def confusion_heatmap(result: Comparison) -> go.Figure:
    z = result.steps["confusion"]
    figure = go.Figure(
        go.Heatmap(
            z=z, x=list(MATRIX_LABELS), y=list(MATRIX_LABELS), text=z, texttemplate="%{text}", colorscale="Blues"
        )
    )
    figure.update_layout(
        xaxis_title=f"A: {html.escape(source_label(result.a))}",
        yaxis_title=f"B: {html.escape(source_label(result.b))}",
        margin={"t": 30},
    )
    return figure


def critic_bars(critics: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    names = [html.escape(c) for c in critics["critic"]]
    for key, label in (("acc_error", "acc_error"), ("acc_correct", "acc_correct"), ("f1", "F1")):
        figure.add_bar(x=names, y=critics[key], name=label)
    figure.update_layout(barmode="group", yaxis_title="%", yaxis_range=[0, 100], margin={"t": 30})
    return figure


def group_bars(table: pd.DataFrame, by: str) -> go.Figure:
    figure = go.Figure()
    names = [html.escape(str(g)) for g in table[by]]
    for key in ("f1", "first_error_accuracy"):
        figure.add_bar(x=names, y=table[key], name=key.replace("_", " "))
    figure.update_layout(barmode="group", yaxis_title="%", yaxis_range=[0, 100], margin={"t": 30})
    return figure


def charts(result: Comparison) -> None:
    left, right = st.columns(2)
    left.subheader("Where the first error falls")
    left.plotly_chart(position_histogram(result), key="compare_histogram")
    right.subheader("Step verdicts")
    right.plotly_chart(confusion_heatmap(result), key="compare_heatmap")
    if result.critics is not None and len(result.critics):
        st.subheader(f"Every critic against {source_label(result.b)}")
        st.plotly_chart(critic_bars(result.critics), key="compare_critics")
    st.subheader("Agreement by group")
    by = st.radio("Group by", list(GROUPS), horizontal=True, key="compare_group_by")
    table = result.breakdowns[by]
    st.plotly_chart(group_bars(table, by), key="compare_groups")
    # The same precision as the cards: one decimal.
    st.dataframe(table.round(1), hide_index=True, key="compare_group_table")


def judgment_summary(judgment: Judgment | None) -> str:
    if judgment is None:
        return "no judgment"
    verdict = step_name(judgment.first_error)
    if judgment.extra.get("unparsed"):
        verdict = "no usable answer"
    return verdict


def side_by_side(account: Account, view: TraceView, a_source: str, b_source: str) -> None:
    """Both sides on the judging surface, read-only: the steps rendered as on Annotate, each side's verdict,
    first error, critique and tags under every step (J/K move, F jumps to a first error)."""
    trace = view.trace
    n = len(trace.steps)
    a, b = view.judgments.get(a_source), view.judgments.get(b_source)
    data = {
        "user": account.username,
        "keys": KEYS,
        "key_help": [row for row in HELP if row[0].startswith(("J", "F", "?"))],
        "label_mode": "view",
        "taxonomy": [],
        "trace": trace_markup(view.trace_id, view.position, trace, trace_images(get_engine(), view.trace_id, trace)),
        "work": work_data(WorkingCopy.blank(n)),
        "sides": [
            side_data(f"A · {a_source}", a, n, judgment_summary(a), trace),
            side_data(f"B · {b_source}", b, n, judgment_summary(b), trace),
        ],
        "caption": f"A · {a_source}: {judgment_summary(a)} · B · {b_source}: {judgment_summary(b)}",
        "ack": -1,
        "reset": 0,
        "notice": None,
        "conflict": None,
        "draft_version": None,
        "progress": "",
    }
    judging_surface(key="compare_view", data=data, on_send=lambda: None)
    for name, judgment in ((f"A · {a_source}", a), (f"B · {b_source}", b)):
        if judgment is not None and judgment.critique:
            with st.expander(f"Critique of {name}"):
                st.text(judgment.critique)


def adjudication(account: Account, view: TraceView, a_source: str, b_source: str) -> None:
    st.subheader("Settle")
    existing = consensus_of(get_engine(), view.trace_id)
    version = None
    if existing is not None:
        judgment, version = existing
        st.text(
            f"Consensus (version {version}): {step_name(judgment.first_error)}, decided by "
            f"{judgment.extra.get('decided_by', '?')}: {judgment.extra.get('reason', '')}"
        )
    sides = [s for s in (a_source, b_source) if s in view.judgments and s != "consensus"]
    if not sides:
        return
    chosen = st.radio(
        "Whose judgment becomes the consensus?",
        sides,
        format_func=lambda s: f"{s}: {judgment_summary(view.judgments[s])}",
        key="compare_settle_choice",
    )
    reason = st.text_input("Why", key="compare_settle_reason", placeholder="e.g. step 2 misreads the question")
    if st.button("Settle", key="compare_settle", type="primary", icon=":material/gavel:"):
        try:
            adopt(
                get_engine(),
                account=account,
                trace_id=view.trace_id,
                source=chosen,
                reason=reason,
                from_sources=sorted(view.judgments),
                expected_version=version,
            )
        except InvalidValue as e:
            st.error(f"{e.field}: {md_escape(e.message)}")
            return
        except (StaleJudgment, NotAllowed) as e:
            st.error(md_escape(str(e)))
            return
        st.success("Settled: the consensus is saved with your reason.")
        st.rerun()


def history(account: Account, trace_id: int) -> None:
    """Every version of each judgment on the trace (only my own on a blind project), newest last."""
    show_history(account, trace_id, key="compare_history")


def browser(account: Account, view: ProjectView, result: Comparison) -> None:
    table = result.disagreements
    kinds = st.multiselect(
        "Kinds of disagreement",
        list(KINDS),
        default=list(KINDS),
        format_func=KIND_LABELS.get,
        key="compare_kinds",
    )
    st.caption(" · ".join(f"{KIND_LABELS[k]}: {n:,}" for k, n in result.kinds.items()))
    shown = table[table["kind"].isin(kinds)]
    st.caption(f"{len(shown):,} of {len(table):,} disagreements")
    if shown.empty:
        st.info("No disagreement of these kinds.")
        return
    display = pd.DataFrame(
        {
            "trace": shown["position"] + 1,
            "record": shown["record_id"],
            "kind": shown["kind"].map(KIND_LABELS),
            "A": shown["source_a"],
            "A says": shown["first_error_a"].map(step_name),
            "B": shown["source_b"],
            "B says": shown["first_error_b"].map(step_name),
            "generator": shown["generator"],
            "subset": shown["subset"],
        }
    )
    st.dataframe(display.head(5000), hide_index=True, key="compare_disagreements")
    options = list(range(min(len(shown), BROWSE_LIMIT)))
    rows = shown.iloc[: len(options)]
    pick = st.selectbox(
        "Open a trace",
        options,
        index=None,
        placeholder="Choose a disagreement to see both sides",
        format_func=lambda i: (
            f"trace {rows['position'].iat[i] + 1} · {KIND_LABELS[rows['kind'].iat[i]]} · "
            f"{rows['source_a'].iat[i]} vs {rows['source_b'].iat[i]}"
        ),
        key="compare_trace",
    )
    if pick is None:
        return
    chosen = rows.iloc[pick]
    a_source, b_source = str(chosen["source_a"]), str(chosen["source_b"])
    detail = trace_view(get_engine(), int(chosen["trace_id"]), [a_source, b_source, "consensus"], view)
    side_by_side(account, detail, a_source, b_source)
    with st.expander("History of this trace's judgments"):
        history(account, detail.trace_id)
    if account.is_admin:
        adjudication(account, detail, a_source, b_source)


def annotators(result: Comparison) -> None:
    h = result.humans or {}
    if len(h.get("humans", [])) < 2:
        st.info("Agreement among annotators needs at least two people's judgments on the same traces.")
        return
    left, right = st.columns(2)
    alpha_fe, alpha_steps = rounded(h["alpha_first_error"], 3), rounded(h["alpha_steps"], 3)
    left.metric("Krippendorff's alpha, first error", "–" if alpha_fe is None else alpha_fe, border=True)
    right.metric("Krippendorff's alpha, step verdicts", "–" if alpha_steps is None else alpha_steps, border=True)
    st.caption(f"Over {h['units']:,} traces judged by two people or more.")
    st.dataframe(pd.DataFrame(h["pairs"]), hide_index=True, key="compare_pairs")


def spans_tab(report: SpanReport) -> None:
    """Span agreement of A against B, per error type, and among annotators at the character level."""
    agreement = report.agreement
    cols = st.columns(4)
    for col, (label, prf) in zip(cols, (("exact", agreement.exact), ("overlap", agreement.overlap)), strict=False):
        f1 = rounded(prf.f1, 3)
        col.metric(f"Span F1, {label}", "–" if f1 is None else f1, border=True)
    alpha = rounded(report.alpha, 3)
    cols[2].metric("Character-level alpha (people)", "–" if alpha is None else alpha, border=True)
    over = rounded(None if report.over_propagation is None else 100 * report.over_propagation, 1)
    cols[3].metric("Critic over-propagation", "–" if over is None else f"{over}%", border=True)
    st.caption(
        f"Spans of {source_label(report.a)} (as reference) against {source_label(report.b)} on "
        f"{agreement.traces:,} traces both judged: precision is the share of B's spans matching one of A's, recall "
        f"the share of A's matched; exact = same text, offsets and type; overlap = same type, at least one "
        f"character shared. Alpha over {report.alpha_traces:,} traces marked by two people or more. "
        f"Over-propagation: of {report.propagation_steps:,} later steps the people call right (or wrong only "
        "because of an earlier one), the share the critic calls wrong."
    )
    rows = [
        {"error type": "all", "match": kind, **prf.as_dict()}
        for kind, prf in (("exact", agreement.exact), ("overlap", agreement.overlap))
    ] + [
        {"error type": t, "match": kind, **prf.as_dict()}
        for t, per in sorted(agreement.by_type.items())
        for kind, prf in per.items()
    ]
    st.dataframe(pd.DataFrame(rows).round(3), hide_index=True, key="compare_span_table")
    if report.quotes:
        st.caption(
            f"The critic quoted {report.quotes:,} passages as wrong; {report.unmatched_quotes:,} matched no text of "
            "their step and are kept as text only."
        )


def keep_choices(project: str, choices: list[str]) -> None:
    """Start each project from its own default A and B, and never keep a pick that is no longer offered."""
    default_a, default_b = default_pair(choices)
    moved = st.session_state.get("compare_for_project") != project
    for key, default in (("compare_a", default_a), ("compare_b", default_b)):
        if moved or st.session_state.get(key) not in choices:
            st.session_state[key] = default
    if moved:
        st.session_state.pop("compare_trace", None)
    st.session_state["compare_for_project"] = project


def reason_section(project: str, a: str, b: str) -> None:
    """MR-GSM8K's accuracy(reason): an LLM judge says whether A's critique at the first error names B's mistake."""
    st.caption(
        "Where the model and the person put the first error on the same step, a judge model reads both "
        "explanations and says whether they name the same mistake. Verdicts are stored; only new traces are asked."
    )
    left, middle, right = st.columns(3)
    judge = left.text_input("Judge model (litellm name)", value="openai/gpt-4o-mini", key="compare_reason_judge")
    api_base = middle.text_input("API base (optional)", key="compare_reason_api_base")
    key_env = right.text_input(
        "API key variable (optional)",
        key="compare_reason_key_env",
        help="The NAME of an allowed environment variable or secret holding the judge's key; without one, no key "
        "is sent.",
    )
    if st.button("Ask the judge", key="compare_reason_run"):
        bar = st.progress(0.0, text="Asking the judge…")
        options = {"api_base": api_base} if api_base.strip() else {}
        try:
            judge_reasons(
                get_engine(),
                project,
                human=b,
                model=a,
                judge=judge.strip(),
                options=options,
                api_key_env=key_env.strip() or None,
                secrets=st.secrets,
                progress=lambda done, total: bar.progress(done / total, text=f"Asked {done} of {total}"),
            )
        except KeyNotAllowed as e:
            st.error(f"Nothing was sent: {md_escape(e.message)}")
        except Exception as e:  # a provider's error, shown rather than a traceback
            st.error(f"The judge failed: {md_escape(type(e).__name__)}: {md_escape(str(e)[:300])}")
        bar.empty()
    figures = reason_accuracy(get_engine(), project, human=b, model=a, judge=judge.strip())
    if figures["judged"]:
        st.metric(
            "Accuracy (reason)",
            f"{figures['accuracy_reason']:.1f}%",
            help=f"{figures['same']} of {figures['n_flawed']} solutions {source_label(b)} found flawed",
        )


def compare_page() -> None:
    account = require_account()
    st.title("Compare")
    engine = get_engine()
    projects = projects_for(engine, account)
    if not projects:
        st.info("No project to compare yet.")
        return
    project = st.selectbox("Project", projects, key="compare_project")
    version = data_version(engine, project)
    view = project_view(engine, account, project)
    bar = st.progress(0.0, text="Loading judgments…")
    data = visible_data(project, version, view)
    choices = view.sources_offered(data.sources)
    if not choices:
        bar.empty()
        st.info("Nothing to compare yet: this project has no judgments you may see.")
        return
    keep_choices(project, choices)
    left, middle, right = st.columns([2, 2, 1])
    a = left.selectbox("A: the judgments measured", choices, format_func=source_label, key="compare_a")
    b = middle.selectbox("B: measured against", choices, format_func=source_label, key="compare_b")
    k = right.number_input("Within ± k steps", min_value=0, max_value=50, value=1, key="compare_k")
    if not view.sees_other_people():
        st.caption("This project is blind: you see your own judgments and the models', not other people's.")
    elif not account.is_admin:
        st.caption("Quality-control traces count only with your own judgments and the models'.")
    bar.progress(0.5, text="Measuring…")
    result = comparison(project, a, b, int(k), version, (view.username, view.is_admin, view.blind))
    bar.empty()
    # The Revisions tab stands apart from A and B: it is there even when they share no trace.
    tabs: list[str] = []
    spans = None
    if result.n == 0:
        st.info(f"No trace has judgments from both {source_label(a)} and {source_label(b)}.")
    else:
        headline(result)
        spans = spans_compared(project, a, b, version, (view.username, view.is_admin, view.blind))
        tabs = ["Charts", "Disagreements"] + (["Annotators"] if view.sees_other_people() else [])
        tabs += ["Spans"] if spans is not None else []
    shown = dict(zip([*tabs, "Revisions"], st.tabs([*tabs, "Revisions"]), strict=True))
    if result.n:
        with shown["Charts"]:
            charts(result)
        with shown["Disagreements"]:
            browser(account, view, result)
    if "Annotators" in shown:
        with shown["Annotators"]:
            annotators(result)
    if spans is not None:
        with shown["Spans"]:
            spans_tab(spans)
    with shown["Revisions"]:
        revision_section(account, project, view, choices)
    if result.n and account.is_admin and a.startswith("model:") and b.startswith("human:") and b != "human:*":
        with st.expander("Reason agreement (LLM judge)"):
            reason_section(project, a, b)


compare_page()
