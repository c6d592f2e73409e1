"""Solution level: accuracy, precision / recall / F1 for "flawed", MCC, by hand."""

import math

import numpy as np
import pytest

from annotation.metrics import compare
from annotation.metrics.pairs import from_rows
from annotation.metrics.solution import solution_scores
from tests.utils.metrics_data import row, traces, two_sources


def test_hand_computed_case():
    # flawed B: 0 0 1 1 1; A: 0 1 1 ? 1 -> known pairs tp 2, fp 1, fn 0, tn 1.
    d = compare(two_sources([-1, 1, 2, None, 1], [-1, -1, 2, 0, 3]), "model:m", "reference", resamples=0).as_dict()
    s = d["solution"]
    assert s["n"] == 4
    assert s["confusion"] == {"tp": 2, "fp": 1, "fn": 0, "tn": 1}
    assert s["accuracy"] == 75.0
    assert s["precision"] == 66.7
    assert s["recall"] == 100.0
    assert s["f1"] == 80.0
    assert d["mcc"] == pytest.approx(2 / math.sqrt(12), abs=1e-4)


def test_a_solution_verdict_overrides_the_first_error():
    rows = [
        row(1, "human:ann", -1, solution_correct=False),  # every step fine, but the answer is wrong
        row(1, "reference", -1, solution_correct=True),
        row(2, "human:ann", 1),
        row(2, "reference", 1, solution_correct=False),
    ]
    d = compare(from_rows("p", traces(2), rows), "human:ann", "reference", resamples=0).as_dict()
    assert d["solution"]["confusion"] == {"tp": 1, "fp": 1, "fn": 0, "tn": 0}
    assert d["disagreements"]["solution"] == 1


def test_negative_mcc_counts_as_zero_in_the_mr_score():
    s = solution_scores(np.array([1, 0, 1, 0]), np.array([0, 1, 0, 1]))
    assert s["mcc"] == pytest.approx(-1.0)
    assert s["mcc_mr_score"] == 0.0
    assert s["accuracy"] == 0.0
