"""Export: choose a project, a format, whose labels and which traces; look at the first records; then download."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st
from sqlalchemy import Engine

from annotation.core.model import InvalidValue
from annotation.exporting.formats import EXPORTS
from annotation.exporting.formats.base import (
    PAIR_KINDS,
    STEP_LABEL_MODES,
    ExportFailure,
    ExportOptions,
    separator_from,
    separator_spelled,
)
from annotation.exporting.formats.card import DISAGREEMENT_TITLES
from annotation.exporting.formats.critique_text import CRITIC_PROMPTS
from annotation.exporting.formats.selection import parse_where
from annotation.exporting.run import Download, export_download, preview, project_sources
from annotation.exporting.usefulness import FORMATS as USEFULNESS_FORMATS
from annotation.judgments.visibility import ProjectView, project_view
from annotation.projects.overview import project_names
from pages.auth import require_admin
from pages.common import get_engine, md_escape

PREVIEW_RECORDS = 5
OUTPUTS = {"jsonl": "JSON Lines", "parquet": "Parquet", "hf": "Hugging Face folder (zip)"}
UNFINISHED = {"format default": None, "leave them out": True, "keep them": False}
PROJECT_DEFAULT = "the project's default"
CRITIC_PROMPT_TITLES = {
    PROJECT_DEFAULT: "The project's default (ProcessBench's when its critics use it)",
    **dict(zip(CRITIC_PROMPTS, ("ProcessBench's template, exactly", "Redline's wording for any problem"), strict=True)),
}
PREPARED_KEY = "export_prepared"


def choose_options(fmt: str, sources: list[str]) -> ExportOptions | None:
    """The options as chosen on the page; None (with the reason shown) while one is invalid."""
    left, middle, right = st.columns(3)
    source = left.selectbox(
        "Labels from",
        sources,
        key="export_source",
        help="best: consensus, else the submitted human judgments (their majority, the most recent on a tie), "
        "else the reference label. human: the humans only, chosen the same way.",
    )
    output = middle.radio("Output", list(OUTPUTS), format_func=OUTPUTS.get, key="export_output")
    test_share = right.slider(
        "Test split (share of problems)",
        0.0,
        0.5,
        0.0,
        0.05,
        key="export_split",
        help="By a hash of the problem text: one problem never lands in both splits.",
    )
    step_labels, conversational, pairs, separator, critic_prompt = "first-error", False, PAIR_KINDS, "\n", None
    exporter = EXPORTS.get(fmt)
    if exporter.uses_step_labels:
        step_labels = st.radio("Step labels", STEP_LABEL_MODES, key="export_step_labels", horizontal=True)
    if exporter.uses_critic_prompt:
        titles = CRITIC_PROMPT_TITLES
        chosen_prompt = st.selectbox("Critic prompt", list(titles), format_func=titles.get, key="export_critic_prompt")
        critic_prompt = None if chosen_prompt == PROJECT_DEFAULT else chosen_prompt
    if exporter.uses_conversational:
        conversational = st.checkbox("Conversational (chat turns)", key="export_conversational")
    if exporter.uses_separator(ExportOptions(conversational=conversational)):
        spelled = st.text_input(
            "After the prompt" if exporter.uses_step_labels else "Between prompt and completion",
            value=separator_spelled("\n"),
            key="export_separator",
            help="Ends every text prompt, so what the trainer puts after it (the completion, the first step) does "
            "not run on from it: \\n is a newline, \\t a tab; empty for none.",
        )
        try:
            separator = separator_from(spelled)
        except InvalidValue as e:
            st.error(f"Separator: {md_escape(e.message)}")
            return None
    if fmt == "dpo":
        pairs = tuple(st.multiselect("Pairs", PAIR_KINDS, default=list(PAIR_KINDS), key="export_pairs"))
    usefulness = None
    if fmt in USEFULNESS_FORMATS:
        usefulness = (
            st.text_input(
                "Select by usefulness (REVISER, REVISER/SHOW or REVISER/SHOW/GRADER; empty: off)",
                key="export_usefulness",
                help="Critiques a reviser revised with (Compare · Revisions): critique SFT keeps those that helped, "
                "DPO pairs a helpful one over a harmful one on the same trace, KTO labels them helpful or harmful.",
            ).strip()
            or None
        )
    with st.expander("Filters"):
        use_agreement = st.checkbox("Require human agreement", key="export_use_agreement")
        agreement = st.slider("Least share of humans agreeing", 0.5, 1.0, 1.0, 0.05, key="export_min_agreement")
        disagreements = st.radio(
            "Where the people who judged a trace disagree",
            list(DISAGREEMENT_TITLES),
            format_func=DISAGREEMENT_TITLES.get,
            key="export_disagreements",
            help="The summary and the dataset card say how many ties the most recent judgment settled.",
        )
        unfinished = st.selectbox(
            "Labels that gave up or called the problem bad", list(UNFINISHED), key="export_unfinished"
        )
        drafts = st.checkbox("Count drafts and failed judgments too", key="export_include_drafts")
        where_text = st.text_area(
            "Only traces where (one KEY=VALUE a line)", key="export_where", placeholder="task=gsm8k\ngenerator=gpt-4o"
        )
        limit = st.number_input("At most this many traces (0 = all)", min_value=0, value=0, key="export_limit")
    try:
        where = parse_where([line for line in where_text.splitlines() if line.strip()])
    except InvalidValue as e:
        st.error(f"Filter: {md_escape(e.message)}")
        return None
    if fmt == "dpo" and not pairs:
        st.error("Choose at least one kind of pair.")
        return None
    return ExportOptions(
        source=source,
        only_submitted=not drafts,
        min_agreement=agreement if use_agreement else None,
        disagreements=disagreements,
        leave_out_unfinished=UNFINISHED[unfinished],
        where=where,
        limit=int(limit) or None,
        test_share=test_share or None,
        step_labels=step_labels,
        conversational=conversational,
        separator=separator,
        critic_prompt=critic_prompt,
        pairs=pairs,
        output=output,
        usefulness=usefulness,
    )


def show_preview(engine: Engine, project: str, fmt: str, options: ExportOptions, view: ProjectView) -> bool:
    """The first records as they will be written. Their text is the traces': shown as data, never as HTML."""
    st.subheader("First records")
    try:
        records, facts = preview(engine, project, fmt, options, n=PREVIEW_RECORDS, view=view)
    except (InvalidValue, ExportFailure) as e:
        st.error(md_escape(getattr(e, "message", str(e))))
        return False
    if not records:
        reasons = "; ".join(f"{n} {why}" for why, n in facts.left_out.most_common()) or "no trace matched"
        st.warning(f"No records in the first {facts.traces_seen} traces read ({md_escape(reasons)}).")
        return True
    st.dataframe(pd.DataFrame([flat(r) for r in records]), key="export_preview_table", hide_index=True)
    with st.expander("The first record as JSON"):
        st.json(records[0])
    return True


def flat(record: dict[str, Any]) -> dict[str, str]:
    """Nested values as short text, so every column of the table has one type."""
    return {k: v if isinstance(v, str) else str(v) for k, v in record.items()}


def label_chart(labels: Counter) -> None:
    if not labels:
        return
    frame = pd.DataFrame({"label": [html.escape(str(k)) for k in labels], "records": list(labels.values())})
    figure = px.bar(frame, x="label", y="records", title="Records by label")
    figure.update_layout(height=300, margin={"t": 40, "b": 0})
    st.plotly_chart(figure, key="export_label_chart")


def prepare_export(
    engine: Engine, project: str, fmt: str, options: ExportOptions, view: ProjectView
) -> Download | None:
    bar = st.progress(0.0, text="Starting…")

    def progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"{stage.capitalize()}: {done} of {total}")

    try:
        download = export_download(engine, project, fmt, options, progress, view)
    except (InvalidValue, ExportFailure) as e:
        bar.empty()
        st.error(md_escape(getattr(e, "message", str(e))))
        return None
    bar.progress(1.0, text="Done")
    return download


def show_download(download: Download) -> None:
    st.success(
        f"Ready: {md_escape(download.name)} ({len(download.data) / 1024:,.1f} KB)", icon=":material/check_circle:"
    )
    for line in download.summary.lines():
        st.text(line)
    label_chart(Counter(download.summary.facts.get("record_labels", {})))
    left, right = st.columns(2)
    left.download_button(
        "Download data",
        download.data,
        file_name=download.name,
        mime=download.mime,
        key="export_download",
        type="primary",
        icon=":material/download:",
    )
    right.download_button(
        "Download dataset card (README.md)",
        download.card,
        file_name="README.md",
        mime="text/markdown",
        key="export_download_card",
    )
    with st.expander("Dataset card"):
        st.text(download.card)


def export_page() -> None:
    account = require_admin()
    st.title("Export")
    st.write(
        "Turn a project's labels into a dataset a trainer reads: process-reward labels, critique SFT, "
        "preference pairs, or Redline's own shape with every judgment."
    )
    engine = get_engine()
    names = project_names(engine)
    if not names:
        st.info("No projects yet: import a file first.", icon=":material/info:")
        return
    project = st.selectbox("Project", names, key="export_project")
    fmt = st.selectbox(
        "Format", EXPORTS.names(), format_func=lambda n: f"{EXPORTS.get(n).title} ({n})", key="export_format"
    )
    st.caption(EXPORTS.get(fmt).description)
    options = choose_options(fmt, project_sources(engine, project))
    # What the export may hold is what this person may see (admins: everything).
    view = project_view(engine, account, project)
    if options is None or not show_preview(engine, project, fmt, options, view):
        return
    request = (project, fmt, repr(options))
    prepared = st.session_state.get(PREPARED_KEY)
    if prepared is not None and prepared[0] != request:
        prepared = None
        st.session_state.pop(PREPARED_KEY, None)
    if st.button("Prepare export", key="export_run", icon=":material/build:"):
        download = prepare_export(engine, project, fmt, options, view)
        prepared = (request, download) if download else None
        st.session_state[PREPARED_KEY] = prepared
    if prepared is not None:
        show_download(prepared[1])


export_page()
