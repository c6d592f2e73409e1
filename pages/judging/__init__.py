"""The judging surface: a Streamlit component (components v2) that keeps a trace's working copy in the browser."""
