"""Redline's pages, served by `streamlit run server.py` (which adds the sign-in cookie routes). It names the
pages each role may open; each lives in pages/.

A page that is not in the navigation cannot be reached, not even by its URL, so the lists below are
the access rules: signed out, only Sign in; annotators, the work pages; admins, everything.
"""

from __future__ import annotations

import streamlit as st

from pages.auth import current_account, sign_out, write_cookie
from pages.common import DATABASE_DOWN, database_down

st.set_page_config(page_title="Redline", layout="wide")

try:
    account = current_account()
except DATABASE_DOWN:
    database_down()
write_cookie()
if account is None:
    pages = [st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:", default=True)]
else:
    work = [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/annotate.py", title="Annotate", icon=":material/edit_note:"),
        st.Page("pages/check_critiques.py", title="Check critiques", icon=":material/fact_check:"),
    ]
    data = [
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    ]
    admin = []
    if account.is_admin:
        data.insert(0, st.Page("pages/import_data.py", title="Import", icon=":material/upload_file:"))
        data.insert(1, st.Page("pages/export_data.py", title="Export", icon=":material/download:"))
        admin = [
            st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:"),
            st.Page("pages/critics.py", title="Critics", icon=":material/smart_toy:"),
        ]
    pages = {"Work": work, "Data": data, **({"Admin": admin} if admin else {})}
    with st.sidebar:
        st.caption(f"Signed in as **{account.username}** ({account.role})")
        if st.button("Sign out", key="auth_sign_out", icon=":material/logout:"):
            sign_out()

try:
    st.navigation(pages).run()
except DATABASE_DOWN:
    database_down()
