"""Per step: Cohen's kappa and a confusion matrix of verdicts on the steps both sides rated.

A judgment's verdicts are its own where it set any; a judgment with only a first error implies
them: the steps before it correct, the first error wrong, later ones unrated; "no error" makes
every step correct.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from annotation.core.model import NO_ERROR, VERDICT_NAMES
from annotation.metrics.pairs import UNJUDGED, UNSET

VERDICT_LABELS = (-1, 0, 1)
# Rows and columns of the step confusion matrix, in verdict order -1, 0, 1.
MATRIX_LABELS = tuple(VERDICT_NAMES[v] for v in sorted(VERDICT_NAMES))


def step_verdicts(
    first_error: np.ndarray, n_steps: np.ndarray, vstart: np.ndarray, vlen: np.ndarray, flat: np.ndarray
) -> np.ndarray:
    """One verdict per step of every row, rows one after the other (UNSET where none)."""
    n_steps = n_steps.astype(np.int64)
    total = int(n_steps.sum())
    row_start = np.cumsum(n_steps) - n_steps
    step = np.arange(total, dtype=np.int64) - np.repeat(row_start, n_steps)
    fe = np.repeat(first_error, n_steps)
    implied = np.where(
        (fe == NO_ERROR) | ((fe >= 0) & (step < fe)), 1, np.where((fe >= 0) & (step == fe), -1, UNSET)
    ).astype(np.int8)
    implied[fe == UNJUDGED] = UNSET
    length = np.repeat(vlen, n_steps)
    if not length.any():
        return implied
    start = np.repeat(vstart, n_steps)
    index = start + np.minimum(step, np.maximum(length - 1, 0))
    own = flat[np.minimum(index, len(flat) - 1)] if len(flat) else implied
    own = np.where(step < length, own, UNSET).astype(np.int8)
    return np.where(length > 0, own, implied)


def step_agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """``a``, ``b``: aligned per-step verdicts. The matrix has B's verdicts as rows, A's as columns."""
    both = (a != UNSET) & (b != UNSET)
    n = int(both.sum())
    if n == 0:
        return {"n": 0, "kappa": math.nan, "accuracy": math.nan, "confusion": [[0] * 3 for _ in range(3)]}
    # scikit-learn maps labels element by element in Python; with hundreds of thousands of steps it is
    # far quicker to hand it the nine (B, A) combinations weighted by how often each occurs: the same figures.
    counts = np.bincount((b[both].astype(np.int64) + 1) * 3 + (a[both].astype(np.int64) + 1), minlength=9)
    seen = np.flatnonzero(counts)
    labels = np.asarray(VERDICT_LABELS)
    y_b, y_a, weight = labels[seen // 3], labels[seen % 3], counts[seen]
    matrix = confusion_matrix(y_b, y_a, labels=list(VERDICT_LABELS), sample_weight=weight).astype(int)
    single = len(np.union1d(y_a, y_b)) == 1
    kappa = (
        math.nan if single else float(cohen_kappa_score(y_b, y_a, labels=list(VERDICT_LABELS), sample_weight=weight))
    )
    return {"n": n, "kappa": kappa, "accuracy": float(100 * np.trace(matrix) / n), "confusion": matrix.tolist()}
