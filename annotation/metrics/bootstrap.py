"""Bootstrap intervals for the headline figures.

Every headline figure depends only on how many pairs fall in each of a few cells (B's side x match x
solution cell), so resampling pairs with replacement is drawing those cell counts from a
multinomial: the same bootstrap as resampling rows, at the cost of a few arrays however many
traces there are.
"""

from __future__ import annotations

import math

import numpy as np

from annotation.core.model import NO_ERROR

SOLUTION_CELLS = 5  # tp, fp, fn, tn, unknown
CELLS = 4 * SOLUTION_CELLS
HEADLINE = ("acc_error", "acc_correct", "f1", "first_error_accuracy", "mcc")


def cell_codes(a: np.ndarray, b: np.ndarray, a_flawed: np.ndarray, b_flawed: np.ndarray) -> np.ndarray:
    side = (b != NO_ERROR).astype(np.int64)  # 1: B says error
    match = (a == b).astype(np.int64)
    known = (a_flawed >= 0) & (b_flawed >= 0)
    solution = np.where(
        known, np.select([(a_flawed == 1) & (b_flawed == 1), a_flawed == 1, b_flawed == 1], [0, 1, 2], 3), 4
    )
    return (side * 2 + match) * SOLUTION_CELLS + solution


def headline_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The headline figures from cell counts; ``counts`` has shape (..., CELLS)."""
    c = counts.reshape(*counts.shape[:-1], 4, SOLUTION_CELLS).astype(float)
    by_side = c.sum(axis=-1)  # correct-side miss, correct-side match, error-side miss, error-side match
    with np.errstate(divide="ignore", invalid="ignore"):
        acc_correct = 100 * by_side[..., 1] / (by_side[..., 0] + by_side[..., 1])
        acc_error = 100 * by_side[..., 3] / (by_side[..., 2] + by_side[..., 3])
        f1 = np.where(acc_error + acc_correct > 0, 2 * acc_error * acc_correct / (acc_error + acc_correct), 0.0)
        f1 = np.where(np.isnan(acc_error) | np.isnan(acc_correct), np.nan, f1)
        first = 100 * (by_side[..., 1] + by_side[..., 3]) / by_side.sum(axis=-1)
        tp, fp, fn, tn = (c[..., k].sum(axis=-1) for k in range(4))
        denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        # scikit-learn's convention: MCC is 0 when a margin is empty.
        mcc = np.where(denominator > 0, (tp * tn - fp * fn) / denominator, 0.0)
    return {"acc_error": acc_error, "acc_correct": acc_correct, "f1": f1, "first_error_accuracy": first, "mcc": mcc}


def resampled_counts(codes: np.ndarray, cells: int, *, resamples: int, seed: int) -> np.ndarray | None:
    """Cell counts of ``resamples`` bootstrap resamples of ``codes`` (shape (resamples, cells)); None when empty.

    Resampling the rows with replacement is drawing their cell counts from a multinomial."""
    n = len(codes)
    if n == 0 or resamples < 1:
        return None
    counts = np.bincount(codes, minlength=cells)
    return np.random.default_rng(seed).multinomial(n, counts / n, size=resamples)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of the measurable draws (NaN bounds when none is)."""
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (math.nan, math.nan)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))


def bootstrap_intervals(
    codes: np.ndarray, *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the headline figures; NaN bounds where a figure cannot be measured."""
    draws = resampled_counts(codes, CELLS, resamples=resamples, seed=seed)
    if draws is None:
        return {name: (math.nan, math.nan) for name in HEADLINE}
    figures = headline_from_counts(draws)
    return {name: percentile_interval(figures[name], level) for name in HEADLINE}
