"""Home: what Redline is, and every project with its traces, judgments and human progress."""

from __future__ import annotations

import html

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from annotation.projects import ProjectOverview, list_overviews
from pages.common import get_engine

SHOWN_KINDS = ("human", "model", "reference")


def projects_table(overviews: list[ProjectOverview]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "project": o.name,
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
    figure = px.bar(counts, x="project", y="judgments", color="source", barmode="group")
    figure.update_layout(xaxis_title=None, legend_title_text="source kind", margin={"t": 10})
    return figure


def home_page() -> None:
    st.title("Redline")
    st.write(
        "Redline is for judging the reasoning of language models step by step: import traces from "
        "ProcessBench, PRM800K, BIG-Bench Mistake or your own files, and compare where people, models and "
        "reference labels put the first wrong step."
    )
    overviews = list_overviews(get_engine())
    if not overviews:
        st.info("No projects yet. Open the **Import** page to bring in a file of traces.", icon=":material/info:")
        st.page_link("pages/import_data.py", label="Import a file", icon=":material/upload_file:")
        return
    st.subheader("Projects")
    st.dataframe(
        projects_table(overviews),
        hide_index=True,
        key="home_projects",
        column_config={
            "project": st.column_config.TextColumn("Project"),
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
