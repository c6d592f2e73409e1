"""ProcessBench's score, as its evaluation code computes it (see docs/compare.md).

A prediction matches when it equals the label exactly; acc_error is the mean match over solutions
whose label is an error step, acc_correct over those labelled -1, and F1 their harmonic mean, all in
percent. F1 is computed from the unrounded accuracies; ``rounded`` gives the printed one decimal.
"""

from __future__ import annotations

import math

import numpy as np

from annotation.core.model import NO_ERROR


def _percent(matched: int, total: int) -> float:
    return 100.0 * matched / total if total else math.nan


def harmonic(acc_error: float, acc_correct: float) -> float:
    if math.isnan(acc_error) or math.isnan(acc_correct):
        return math.nan
    total = acc_error + acc_correct
    return 2 * acc_error * acc_correct / total if total else 0.0


def processbench_scores(predicted: np.ndarray, label: np.ndarray) -> dict[str, float | int]:
    """``predicted`` holds A's first errors (UNJUDGED never matches), ``label`` B's."""
    match = predicted == label
    error = label != NO_ERROR
    n_error = int(error.sum())
    n_correct = len(label) - n_error
    acc_error = _percent(int(match[error].sum()), n_error)
    acc_correct = _percent(int(match[~error].sum()), n_correct)
    return {
        "acc_error": acc_error,
        "acc_correct": acc_correct,
        "f1": harmonic(acc_error, acc_correct),
        "n_error": n_error,
        "n_correct": n_correct,
    }


def rounded(value: float, places: int = 1) -> float | None:
    """As ProcessBench prints: one decimal; NaN (nothing to measure) becomes None."""
    return None if value is None or math.isnan(value) else round(value, places)
