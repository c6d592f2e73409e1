"""The revision history of a trace's judgments, as a table per judgment (shared by Annotate and Compare)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotation.accounts.users import Account
from annotation.judgments.history import trace_history
from pages.common import get_engine, md_escape


def show_history(account: Account, trace_id: int, *, key: str) -> None:
    """Every version of each judgment the account may see on the trace, oldest first."""
    histories = trace_history(get_engine(), trace_id, account)
    if not histories:
        st.caption("No judgment you may see on this trace yet.")
        return
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
