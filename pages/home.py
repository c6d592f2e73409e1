"""Home: what Redline is, and every project with its traces, judgments and human progress."""

from __future__ import annotations

import html

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from annotation.accounts.users import projects_for
from annotation.projects.overview import ProjectOverview, list_overviews
from annotation.workflow.queue import Progress, progress
from annotation.workflow.workbench import project_rules
from pages.auth import require_account
from pages.common import get_engine

SHOWN_KINDS = ("human", "model", "reference")


def projects_table(overviews: list[ProjectOverview], mine: dict[str, Progress]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "project": o.name,
                "my progress": mine[o.name].my_share if o.name in mine else None,
                "mine": f"{mine[o.name].mine} / {mine[o.name].assigned_to_me}" if o.name in mine else "",
                "traces": o.traces,
                "steps": o.steps,
                **{kind: o.judgments.get(kind, 0) for kind in SHOWN_KINDS},
                "reference no error": o.reference_no_error,
                "human progress": o.progress,
            }
            for o in overviews
        ]
    )


def judgments_chart(overviews: list[ProjectOverview]) -> go.Figure:
    counts = pd.DataFrame(
        [
            # Plotly reads a few HTML tags in labels; a project name is shown as written.
            {"project": html.escape(o.name), "source": kind, "judgments": o.judgments.get(kind, 0)}
            for o in overviews
            for kind in SHOWN_KINDS
        ]
    )
    figure = px.bar(counts, x="project", y="judgments", color="source", barmode="group", text="judgments")
    # A log scale and the count on each bar: 20,000 reference judgments must not hide 30 human ones.
    figure.update_yaxes(type="log", title="judgments (log scale)")
    figure.update_traces(textposition="outside", cliponaxis=False)
    figure.update_layout(xaxis_title=None, legend_title_text="source kind", margin={"t": 10})
    return figure


def home_page() -> None:
    st.title("Redline")
    st.write(
        "Redline is for judging the reasoning of language models step by step: import traces from "
        "ProcessBench, PRM800K, BIG-Bench Mistake or your own files, and compare where people, models and "
        "reference labels put the first wrong step."
    )
    account = require_account()
    engine = get_engine()
    allowed = set(projects_for(engine, account))
    overviews = [o for o in list_overviews(engine) if o.name in allowed]
    if not overviews:
        if account.is_admin:
            st.info("No projects yet. Open the **Import** page to bring in a file of traces.", icon=":material/info:")
            st.page_link("pages/import_data.py", label="Import a file", icon=":material/upload_file:")
        else:
            st.info("You are not on any project yet. An admin adds you to one on the Admin page.")
        return
    mine = {o.name: progress(engine, project_rules(engine, o.name), username=account.username) for o in overviews}
    st.subheader("Projects")
    st.page_link("pages/annotate.py", label="Start annotating", icon=":material/edit_note:")
    st.dataframe(
        projects_table(overviews, mine),
        hide_index=True,
        key="home_projects",
        column_config={
            "project": st.column_config.TextColumn("Project"),
            "my progress": st.column_config.ProgressColumn(
                "My progress",
                help="What I submitted out of what is mine to do",
                min_value=0.0,
                max_value=1.0,
                format="percent",
            ),
            "mine": st.column_config.TextColumn("Mine (done / assigned)"),
            "traces": st.column_config.NumberColumn("Traces"),
            "steps": st.column_config.NumberColumn("Steps"),
            "human": st.column_config.NumberColumn("Human judgments"),
            "model": st.column_config.NumberColumn("Model judgments"),
            "reference": st.column_config.NumberColumn("Reference judgments"),
            "reference no error": st.column_config.NumberColumn(
                "Reference: no error", help="Traces whose reference label says every step is right"
            ),
            "human progress": st.column_config.ProgressColumn(
                "Human progress",
                help="Submitted human judgments out of those the project asks for",
                min_value=0.0,
                max_value=1.0,
                format="percent",
            ),
        },
    )
    st.subheader("Judgments by source kind")
    st.plotly_chart(judgments_chart(overviews), key="home_judgments_chart")


home_page()
