"""Redline's entry point: `streamlit run app.py`. It names the pages; each page lives in pages/."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Redline", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/import_data.py", title="Import", icon=":material/upload_file:"),
    ]
)
navigation.run()
