"""The Annotate benchmark must keep working; its figures are read from `make bench`, not asserted here."""

import json

import streamlit as st

from benchmarks import annotate_speed


def test_small_run_measures_every_figure(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.db")  # restored afterwards; the benchmark sets it
    out = tmp_path / "figures.json"
    try:
        code = annotate_speed.main(["--sizes", "200", "--cycles", "3", "--workdir", str(tmp_path), "--out", str(out)])
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
    figures = json.loads(out.read_text())
    assert code == 0
    (result,) = figures["results"]
    assert (result["traces"], result["judgments"]) == (200, 100)
    for name in ("pick", "cycle", "step_click", "page_40_steps"):
        assert result[name] > 0
