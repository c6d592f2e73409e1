"""admin: being built."""

from __future__ import annotations

import streamlit as st

from pages.auth import require_account

require_account()
st.title("Admin")
