"""First-error accuracy, exact and within k, and the kind of each disagreement, worked out by hand."""

import numpy as np

from annotation.metrics import compare
from annotation.metrics.first_error import disagreement_kinds, exact_accuracy, kind_counts, within_k_accuracy
from annotation.metrics.pairs import UNJUDGED
from tests.utils.metrics_data import two_sources

A = [-1, 1, 2, None, 1]
B = [-1, -1, 2, 0, 3]


def test_exact_and_within_k():
    d = compare(two_sources(A, B), "model:m", "reference", resamples=0, k=1).as_dict()
    assert d["first_error_accuracy"] == 40.0  # traces 1 and 3
    assert d["first_error_within_k"] == 40.0  # trace 5 is 2 steps off
    d2 = compare(two_sources(A, B), "model:m", "reference", resamples=0, k=2).as_dict()
    assert d2["first_error_within_k"] == 60.0


def test_within_k_never_pairs_no_error_with_an_early_step():
    a, b = np.array([-1, 0, UNJUDGED]), np.array([0, -1, 0])
    assert within_k_accuracy(a, b, 5) == 0.0
    assert exact_accuracy(a, b) == 0.0


def test_kinds_of_disagreement():
    a = np.array([-1, 1, 2, UNJUDGED, 1, 3, -1, 2])
    b = np.array([-1, -1, 2, 0, 3, 1, 2, 2])
    flawed_a = np.array([0, 1, 1, -1, 1, 1, 0, 0])  # the last says the solution is fine despite its error step
    flawed_b = np.array([0, 0, 1, 1, 1, 1, 1, 1])
    kinds = disagreement_kinds(a, b, flawed_a, flawed_b)
    assert kinds.tolist() == [
        "agree",
        "false_alarm",
        "agree",
        "no_answer",
        "too_early",
        "too_late",
        "missed",
        "solution",
    ]
    assert kind_counts(kinds) == {
        "false_alarm": 1,
        "missed": 1,
        "too_early": 1,
        "too_late": 1,
        "no_answer": 1,
        "solution": 1,
    }


def test_kind_counts_in_the_report():
    d = compare(two_sources(A, B), "model:m", "reference", resamples=0).as_dict()
    assert d["disagreements"] == {
        "false_alarm": 1,
        "missed": 0,
        "too_early": 1,
        "too_late": 0,
        "no_answer": 1,
        "solution": 0,
    }
