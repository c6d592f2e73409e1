"""Check critiques shows, beside the rating, what revising the solution with the critique did."""

from __future__ import annotations

import os

from tests.pages.conftest import open_app
from tests.utils.revision_data import make_revision_project, revise
from tests.utils.surface import Surface

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
PAGE = "pages/check_critiques.py"


def test_the_usefulness_label_sits_beside_the_rating(database_url, db):
    make_revision_project(db)
    revise(db, "model:critic", show="verdict")
    at = open_app(PAGE)
    at.selectbox(key="check_project").set_value("revise").run()
    at.selectbox(key="check_source").set_value("model:critic").run()

    data = Surface(at, key="check_judge").data()
    assert data["caption"].startswith("model:critic · 1 of 7")
    assert data["usefulness"] == "Revised with this critique: helpful: kept a right solution right (reviser, verdict)"
    assert data["upcoming"]["usefulness"].startswith("Revised with this critique: harmful: broke a right solution")
