"""The same figures per group of traces (generator, subset, B's error tag) and per critic."""

from __future__ import annotations

import numpy as np
import pandas as pd

from annotation.core.model import NO_ERROR
from annotation.metrics.pairs import Pairs, ProjectJudgments, make_pairs, tags_at_first_error
from annotation.metrics.processbench import harmonic, processbench_scores

GROUPS = {"generator": "generator", "subset": "subset", "error tag": "error tag"}
NONE_GROUP = "(none)"


def breakdown(pairs: Pairs, by: str) -> pd.DataFrame:
    """One row per value of ``by`` (a GROUPS key): n, acc_error, acc_correct, f1, first_error_accuracy."""
    a, b = pairs.col("first_error_a"), pairs.col("first_error_b")
    match = a == b
    error = b != NO_ERROR
    if by == "error tag":
        groups = pd.Series(tags_at_first_error(pairs.col("tagged_b"), b), dtype=object)
    else:
        groups = pairs.frame[GROUPS[by]]
    frame = pd.DataFrame(
        {
            "group": groups.fillna(NONE_GROUP).astype(str).to_numpy(),
            "n": 1,
            "n_error": error.astype(int),
            "hit_error": (match & error).astype(int),
            "hit_correct": (match & ~error).astype(int),
        }
    )
    sums = frame.groupby("group", sort=True).sum()
    n_correct = sums["n"] - sums["n_error"]
    with np.errstate(divide="ignore", invalid="ignore"):
        acc_error = 100 * sums["hit_error"] / sums["n_error"].replace(0, np.nan)
        acc_correct = 100 * sums["hit_correct"] / n_correct.replace(0, np.nan)
    return pd.DataFrame(
        {
            by: sums.index,
            "n": sums["n"].to_numpy(),
            "acc_error": acc_error.to_numpy(),
            "acc_correct": acc_correct.to_numpy(),
            "f1": [harmonic(e, c) for e, c in zip(acc_error, acc_correct, strict=True)],
            "first_error_accuracy": (100 * (sums["hit_error"] + sums["hit_correct"]) / sums["n"]).to_numpy(),
        }
    )


def per_critic(data: ProjectJudgments, b: str) -> pd.DataFrame:
    """Every model source against B, with ProcessBench's three figures."""
    rows = []
    for critic in data.models():
        if critic == b:
            continue
        pairs = make_pairs(data, critic, b)
        if not len(pairs):
            continue
        scores = processbench_scores(pairs.col("first_error_a"), pairs.col("first_error_b"))
        rows.append({"critic": critic, "n": len(pairs), **scores})
    return pd.DataFrame(rows, columns=["critic", "n", "acc_error", "acc_correct", "f1", "n_error", "n_correct"])
