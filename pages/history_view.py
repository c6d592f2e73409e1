"""The revision history of a trace's judgments, as a table per judgment (shared by Annotate and Compare)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotation.accounts.users import Account
from annotation.judgments.history import trace_history
from annotation.revision.traces import grade_text, trace_revisions
from pages.common import get_engine, md_escape


def show_history(account: Account, trace_id: int, *, key: str) -> None:
    """Every version of each judgment the account may see on the trace, oldest first."""
    histories = trace_history(get_engine(), trace_id, account)
    if not histories:
        st.caption("No judgment you may see on this trace yet.")
    for i, h in enumerate(histories):
        st.caption(f"{md_escape(h.source)} · {len(h.versions)} version{'s' if len(h.versions) > 1 else ''}")
        table = pd.DataFrame(
            {
                "version": [v.version for v in h.versions],
                "made by": [v.made_by for v in h.versions],
                "when (UTC)": [v.made_at for v in h.versions],
                "says": [v.says for v in h.versions],
                "status": [v.status for v in h.versions],
                "what changed": ["; ".join(v.changes) for v in h.versions],
            }
        )
        st.dataframe(table, hide_index=True, key=f"{key}_{i}")
    revisions(account, trace_id, key=f"{key}_revisions")


def revisions(account: Account, trace_id: int, *, key: str) -> None:
    """The trace revised with each source's critique: both answers, both grades, and the revised text."""
    found = trace_revisions(get_engine(), trace_id, account)
    if not found:
        return
    st.caption("Revised with critiques (Compare · Revisions)")
    table = pd.DataFrame(
        {
            "critiques of": [r.source for r in found],
            "shown": [r.show for r in found],
            "reviser": [r.reviser for r in found],
            "graded by": [r.grader for r in found],
            "original answer": [r.original_answer for r in found],
            "original": [grade_text(r.original_correct) for r in found],
            "revised answer": [r.revised_answer or "(none)" for r in found],
            "revised": [grade_text(r.revised_correct) for r in found],
            "usefulness": [r.usefulness or "–" for r in found],
            # Stale: revised with a version of the critique changed or withdrawn since (no label until run again).
            "status": ["stale" if r.stale else r.status for r in found],
            "when (UTC)": [r.updated_at for r in found],
        }
    )
    st.dataframe(table, hide_index=True, key=key)
    for r in found:
        # Not an expander: this history is itself shown in one on Compare, and expanders do not nest.
        st.caption(f"Revised text · {md_escape(r.source)} · {r.show} · {md_escape(r.reviser)}")
        # As the model wrote it: shown as text, never rendered.
        st.code(r.revised_text or r.error or "", language=None, wrap_lines=True, height=160)
