"""Krippendorff's alpha and pairwise kappa among human annotators, by hand."""

import math

import pytest

from annotation.metrics.agreement import human_agreement
from annotation.metrics.pairs import from_rows
from tests.utils.metrics_data import row, traces


def test_alpha_and_kappa_on_first_errors():
    rows = [
        row(1, "human:h1", 0),
        row(2, "human:h1", -1),
        row(3, "human:h1", 1),
        row(1, "human:h2", 0),
        row(2, "human:h2", -1),
        row(3, "human:h2", 2),
        row(4, "human:h1", 2),  # judged by one human only: no unit
        row(1, "reference", 3),  # not a human
    ]
    h = human_agreement(from_rows("p", traces(4), rows))
    assert h["humans"] == ["human:h1", "human:h2"]
    assert h["units"] == 3
    # coincidences: (0,0) x2, (-1,-1) x2, (1,2), (2,1); n = 6 -> 1 - (2/6) / (26/30)
    assert h["alpha_first_error"] == pytest.approx(16 / 26)
    assert h["pairs"] == [{"a": "human:h1", "b": "human:h2", "n": 3, "kappa_first_error": pytest.approx(4 / 7)}]


def test_alpha_on_step_verdicts_is_perfect_when_steps_agree():
    rows = [row(t, f"human:{h}", fe) for h in ("h1", "h2") for t, fe in ((1, 0), (2, -1), (3, 1))]
    h = human_agreement(from_rows("p", traces(3), rows))
    assert h["alpha_first_error"] == pytest.approx(1.0)
    assert h["alpha_steps"] == pytest.approx(1.0)


def test_alpha_on_step_verdicts_by_hand():
    # Two steps each. h1: trace 1 steps (1, 1) [no error]; h2: (1, -1) [error at step 2].
    # trace 2: both (-1, unset) -> one unit. Units: (1,1), (1,-1), (-1,-1).
    rows = [row(1, "human:h1", -1), row(1, "human:h2", 1), row(2, "human:h1", 0), row(2, "human:h2", 0)]
    h = human_agreement(from_rows("p", traces(2, n_steps=2), rows))
    # ordinal over values -1 < 1 with n_-1 = 3, n_1 = 3: with two values ordinal equals nominal.
    # o(1,-1) = o(-1,1) = 1; D_o = 2/6; D_e = (36 - 18) / 30 -> alpha = 1 - (1/3) / (18/30) = 4/9
    assert h["alpha_steps"] == pytest.approx(4 / 9)


def test_fewer_than_two_humans_gives_no_figures():
    h = human_agreement(from_rows("p", traces(1), [row(1, "human:h1", 0)]))
    assert math.isnan(h["alpha_first_error"]) and h["pairs"] == []
