"""The Export page selects critiques by usefulness for critique SFT, DPO and KTO, and names a bad choice."""

from __future__ import annotations

import os

from tests.pages.conftest import open_app
from tests.utils.revision_data import make_revision_project, revise

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
PAGE = "pages/export_data.py"


def test_kto_by_usefulness_on_the_page(database_url, db):
    make_revision_project(db)
    revise(db, "model:critic")
    at = open_app(PAGE)
    at.selectbox(key="export_project").set_value("revise").run()
    at.selectbox(key="export_format").set_value("trl-stepwise").run()
    assert not [t for t in at.text_input if t.key == "export_usefulness"]  # only where it means something
    at.selectbox(key="export_format").set_value("kto").run()
    at.text_input(key="export_usefulness").set_value("reviser/everything").run()
    assert any("'everything' is not one of verdict, first-error, full, none" in e.value for e in at.error)
    at.text_input(key="export_usefulness").set_value("reviser").run()

    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    # Revised from model:critic's critiques: kept right (0, 2), fixed (3), broke (1).
    assert sorted(table["label"].tolist()) == ["False", "True", "True", "True"]
