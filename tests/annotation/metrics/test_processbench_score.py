"""ProcessBench's acc_error / acc_correct / F1 on cases worked out by hand."""

import math

import numpy as np
import pytest

from annotation.metrics import compare
from annotation.metrics.processbench import harmonic, processbench_scores, rounded
from tests.utils.metrics_data import two_sources

# B (reference): -1, -1, 2, 0, 3; A (model): -1, 1, 2, unparsed, 1.
A = [-1, 1, 2, None, 1]
B = [-1, -1, 2, 0, 3]


def test_hand_computed_case():
    d = compare(two_sources(A, B), "model:m", "reference", resamples=0).as_dict()
    # error side: traces 3, 4, 5 -> only trace 3 matches; correct side: traces 1, 2 -> trace 1 matches.
    assert (d["n"], d["n_error"], d["n_correct"]) == (5, 3, 2)
    assert d["acc_error"] == 33.3
    assert d["acc_correct"] == 50.0
    assert d["f1"] == 40.0  # 2 * 33.33 * 50 / 83.33


def test_f1_comes_from_unrounded_accuracies():
    scores = processbench_scores(np.array([0, 1, 5, -1, -1, -1, 2]), np.array([0, 2, 5, -1, -1, 3, -1]))
    # error side: labels 0, 2, 5, 3 -> 2 of 4 match; correct side: indices 3, 4, 6 -> 2 of 3 match.
    assert scores["acc_error"] == pytest.approx(200 / 4)
    assert scores["acc_correct"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(2 * 50 * (200 / 3) / (50 + 200 / 3))
    assert rounded(scores["f1"]) == 57.1


def test_an_unparsed_prediction_never_matches_even_a_no_error_label():
    d = compare(two_sources([None, None], [-1, 0]), "model:m", "reference", resamples=0).as_dict()
    assert (d["acc_error"], d["acc_correct"], d["f1"]) == (0.0, 0.0, 0.0)
    assert d["disagreements"]["no_answer"] == 2


def test_a_side_with_no_traces_is_not_a_number():
    scores = processbench_scores(np.array([1, 2]), np.array([1, 0]))
    assert math.isnan(scores["acc_correct"]) and math.isnan(scores["f1"])
    assert rounded(scores["acc_correct"]) is None
    assert harmonic(0.0, 0.0) == 0.0


def test_traces_b_did_not_judge_are_left_out():
    d = compare(two_sources([1, 2, -1], [1, None, -1]), "model:m", "reference", resamples=0).as_dict()
    assert d["n"] == 2 and d["f1"] == 100.0
