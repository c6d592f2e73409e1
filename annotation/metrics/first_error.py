"""First-error accuracy (exact and within k steps) and the kind of each disagreement.

Kinds, from A's side: ``false_alarm`` (A flags an error where B has none), ``missed`` (A says no error
where B has one: the "reluctance to say no"), ``too_early`` / ``too_late`` (both flag, A before or
after B), ``no_answer`` (A said nothing usable), ``solution`` (same first error, different verdict on
the solution), ``agree``.
"""

from __future__ import annotations

import math

import numpy as np

from annotation.core.model import NO_ERROR
from annotation.metrics.pairs import UNJUDGED

KINDS = ("false_alarm", "missed", "too_early", "too_late", "no_answer", "solution")
KIND_LABELS = {
    "false_alarm": "A flags an error, B has none",
    "missed": "A misses B's error",
    "too_early": "A flags too early",
    "too_late": "A flags too late",
    "no_answer": "A gave no usable answer",
    "solution": "same first error, other solution verdict",
    "agree": "agree",
}


def exact_accuracy(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pairs whose first errors are equal ("no error" equal to "no error")."""
    return float(np.mean(a == b)) if len(a) else math.nan


def within_k_accuracy(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Equal, or both flag an error at most ``k`` steps apart."""
    if not len(a):
        return math.nan
    near = (a >= 0) & (b >= 0) & (np.abs(a - b) <= k)
    return float(np.mean((a == b) | near))


def disagreement_kinds(a: np.ndarray, b: np.ndarray, a_flawed: np.ndarray, b_flawed: np.ndarray) -> np.ndarray:
    conditions = [
        a == UNJUDGED,
        (a >= 0) & (b == NO_ERROR),
        (a == NO_ERROR) & (b >= 0),
        (a >= 0) & (b >= 0) & (a < b),
        (a >= 0) & (b >= 0) & (a > b),
        (a_flawed >= 0) & (b_flawed >= 0) & (a_flawed != b_flawed),
    ]
    choices = ["no_answer", "false_alarm", "missed", "too_early", "too_late", "solution"]
    return np.select(conditions, choices, default="agree")


def kind_counts(kinds: np.ndarray) -> dict[str, int]:
    values, counts = np.unique(kinds, return_counts=True)
    found = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return {kind: int(found.get(kind, 0)) for kind in KINDS}
