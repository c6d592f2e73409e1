"""Home lists every project with its counts; on an empty database it points to Import."""

from __future__ import annotations

import pytest

import pages.common
from annotation.ops.startup import prepare
from annotation.projects.demo import DEMO_PROJECT
from tests.pages.conftest import open_app


def test_home_lists_the_demo_project(database_url):
    at = open_app()

    assert [t.value for t in at.title] == ["Redline"]
    table = at.dataframe[0].value
    demo = table[table["project"] == DEMO_PROJECT]
    assert len(demo) == 1
    row = demo.iloc[0]
    assert row["traces"] == 36
    assert row["steps"] > row["traces"]
    assert row["reference"] == 36
    assert 0 < row["reference no error"] < 36
    assert row["human progress"] == 0.0
    assert len(at.get("plotly_chart")) == 1
    assert not at.error


def test_home_without_projects_points_to_import(database_url, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pages.common, "prepare", lambda load_demo=False: prepare(database_url))

    at = open_app()

    assert not at.dataframe
    assert "Import" in at.info[0].value
    assert not at.get("plotly_chart")


def test_the_judgments_chart_shows_small_sources_beside_large_ones(database_url):
    """Issue 17: on a linear scale 20,000 reference judgments hid the human ones."""
    import json

    at = open_app()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert all(bars.get("text") is not None for bars in spec["data"])  # each bar says its count
