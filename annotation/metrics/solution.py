"""Solution level: is the solution flawed? Accuracy, precision / recall / F1 for "flawed", and MCC (MR-GSM8K).

"Flawed" comes from the judgment's solution verdict when it gave one, else from its first error.
Pairs where either side's verdict is unknown are left out (``n`` says how many remain).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.metrics import matthews_corrcoef


def solution_scores(a_flawed: np.ndarray, b_flawed: np.ndarray) -> dict[str, float | int]:
    known = (a_flawed >= 0) & (b_flawed >= 0)
    a, b = a_flawed[known].astype(bool), b_flawed[known].astype(bool)
    n = int(known.sum())
    tp = int((a & b).sum())
    fp = int((a & ~b).sum())
    fn = int((~a & b).sum())
    tn = n - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan
    with warnings.catch_warnings():
        # One class on both sides: scikit-learn warns and returns 0, the convention the bootstrap follows too.
        warnings.simplefilter("ignore", UserWarning)
        mcc = float(matthews_corrcoef(b, a)) if n else math.nan
    return {
        "n": n,
        "accuracy": (tp + tn) / n if n else math.nan,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "mcc": mcc,
        # MR-GSM8K counts a negative MCC as 0 in its MR-Score.
        "mcc_mr_score": max(0.0, mcc) if not math.isnan(mcc) else math.nan,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }
