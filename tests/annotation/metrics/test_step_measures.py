"""Per step: verdicts implied by a first error, or given step by step; kappa and confusion, by hand."""

import numpy as np
import pytest

from annotation.metrics import compare
from annotation.metrics.pairs import UNJUDGED, UNSET, from_rows
from annotation.metrics.steps import step_agreement, step_verdicts
from tests.utils.metrics_data import row, traces, two_sources

U = UNSET


def test_verdicts_implied_by_first_errors():
    v = step_verdicts(
        np.array([-1, 1, UNJUDGED, 0]), np.array([3, 3, 2, 1]), np.zeros(4, int), np.zeros(4, int), np.array([])
    )
    assert v.tolist() == [1, 1, 1, 1, -1, U, U, U, -1]


def test_explicit_verdicts_win_and_unset_ones_stay_unset():
    flat = np.array([1, 0, -1, U], dtype=np.int8)
    v = step_verdicts(np.array([2, 2]), np.array([4, 4]), np.array([0, 0]), np.array([4, 0]), flat)
    assert v.tolist() == [1, 0, -1, U, 1, 1, -1, U]


def test_hand_computed_kappa_and_confusion():
    d = compare(two_sources([-1, 1, 2, None, 1], [-1, -1, 2, 0, 3]), "model:m", "reference", resamples=0).as_dict()
    # Rows are B's verdicts (wrong, neutral, correct), columns A's.
    assert d["steps"]["confusion"] == [[1, 0, 0], [0, 0, 0], [2, 0, 8]]
    assert d["steps"]["n"] == 11
    assert d["step_kappa"] == pytest.approx(16 / 38, abs=1e-4)
    assert d["steps"]["accuracy"] == pytest.approx(100 * 9 / 11, abs=1e-4)


def test_step_labels_of_a_human_against_a_first_error_label():
    steps = [{"verdict": 1}, {"verdict": 0}, {"verdict": -1}, {"verdict": None}]
    rows = [row(1, "human:ann", 2, steps=steps), row(1, "reference", 2)]
    d = compare(from_rows("p", traces(1), rows), "human:ann", "reference", resamples=0).as_dict()
    assert d["steps"]["confusion"] == [[1, 0, 0], [0, 0, 0], [0, 1, 1]]


def test_kappa_is_undefined_with_one_value_and_nothing_shared_is_empty():
    assert np.isnan(step_agreement(np.array([1, 1]), np.array([1, 1]))["kappa"])
    empty = step_agreement(np.array([U]), np.array([1]))
    assert empty["n"] == 0 and np.isnan(empty["kappa"])
