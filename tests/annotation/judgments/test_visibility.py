"""The one visibility rule: who sees which judgment, and the figures made only from what they may see."""

from __future__ import annotations

import numpy as np
import pytest

from annotation.judgments.visibility import ProjectView
from tests.utils.metrics_data import row, traces

ANN = ProjectView("ann", is_admin=False, blind=False)
BLIND = ProjectView("ann", is_admin=False, blind=True)
ADMIN = ProjectView("root", is_admin=True, blind=True)

CASES = [
    # kind, name, qc, open project, blind project
    ("human", "ann", False, True, True),
    ("human", "ann", True, True, True),
    ("human", "bob", False, True, False),
    ("human", "bob", True, False, False),
    ("reference", "", False, True, False),
    ("reference", "", True, False, False),
    ("consensus", "", True, False, False),
    ("model", "m", False, True, True),
    ("model", "m", True, False, False),
]


@pytest.mark.parametrize(("kind", "name", "qc", "open_", "blind"), CASES)
def test_the_rule(kind, name, qc, open_, blind):
    assert ANN.may_see(kind, name, qc=qc) is open_
    assert BLIND.may_see(kind, name, qc=qc) is blind
    assert ADMIN.may_see(kind, name, qc=qc)
    source = f"{kind}:{name}" if name else kind
    for view, expected in ((ANN, open_), (BLIND, blind), (ADMIN, True)):
        assert view.visible_mask(np.array([kind]), np.array([source]), np.array([qc]))[0] == expected


def test_reference_answers_follow_the_same_rule():
    assert ANN.sees_reference_fields(qc=False) and not ANN.sees_reference_fields(qc=True)
    assert not BLIND.sees_reference_fields(qc=False)
    assert ADMIN.sees_reference_fields(qc=True)


def test_figures_for_an_annotator_leave_out_the_reference_of_qc_traces():
    from annotation.metrics.pairs import from_rows

    t = traces(2)
    t["qc"] = [True, False]
    rows = [row(1, "reference", 1), row(2, "reference", -1), row(1, "human:ann", 1), row(2, "human:bob", 2)]
    data = from_rows("p", t, rows)

    seen = data.seen_by(ANN)
    assert sorted(zip(seen.judgments["trace_id"], seen.judgments["source"].astype(str), strict=True)) == [
        (1, "human:ann"),
        (2, "human:bob"),
        (2, "reference"),
    ]
    assert data.seen_by(ADMIN) is data
    assert ANN.sources_offered(seen.sources) == ["human:ann", "human:bob", "reference", "human:*"]
    assert BLIND.sources_offered(["human:ann", "human:bob", "model:m", "reference"]) == ["human:ann", "model:m"]
