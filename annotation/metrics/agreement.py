"""Among human annotators: Krippendorff's alpha on the first error and on step verdicts, and pairwise kappa.

Alpha comes from the ``krippendorff`` package, kappa from scikit-learn. Units are the traces (for
the first error) or the steps (for verdicts) that at least two humans judged; "no error" is a
value of its own, and a human who gave no first error leaves that unit blank for them.
"""

from __future__ import annotations

import math
from itertools import combinations

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score

from annotation.metrics.pairs import UNJUDGED, UNSET, ProjectJudgments
from annotation.metrics.steps import step_verdicts


def _alpha(matrix: np.ndarray, level: str) -> float:
    filled = (~np.isnan(matrix)).sum(axis=0) >= 2
    matrix = matrix[:, filled]
    values = np.unique(matrix[~np.isnan(matrix)])
    if matrix.shape[1] == 0 or len(values) < 2:
        return math.nan
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level, value_domain=values))


def human_agreement(data: ProjectJudgments) -> dict:
    """Alpha and pairwise kappa over the project's human judgments; empty figures with fewer than two humans."""
    humans = data.humans()
    result: dict = {"humans": humans, "alpha_first_error": math.nan, "alpha_steps": math.nan, "units": 0, "pairs": []}
    if len(humans) < 2:
        return result
    rows = data.rows_of("human:*")
    counts = rows["trace_id"].value_counts()
    shared = np.sort(counts[counts >= 2].index.to_numpy())
    rows = rows[rows["trace_id"].isin(shared)]
    result["units"] = len(shared)
    if not len(shared):
        return result
    column = np.searchsorted(shared, rows["trace_id"].to_numpy())
    coder = np.asarray([humans.index(s) for s in rows["source"].astype(str)])
    first = np.full((len(humans), len(shared)), np.nan)
    fe = rows["first_error"].to_numpy()
    first[coder, column] = np.where(fe == UNJUDGED, np.nan, fe)
    result["alpha_first_error"] = _alpha(first, "nominal")

    n_steps = data.traces["n_steps"].reindex(shared).to_numpy().astype(np.int64)
    offsets = np.cumsum(n_steps) - n_steps
    steps = np.full((len(humans), int(n_steps.sum())), np.nan)
    row_steps = n_steps[column]
    verdicts = step_verdicts(fe, row_steps, rows["vstart"].to_numpy(), rows["vlen"].to_numpy(), data.verdicts).astype(
        float
    )
    verdicts[verdicts == UNSET] = np.nan
    position = np.repeat(offsets[column], row_steps) + (
        np.arange(int(row_steps.sum())) - np.repeat(np.cumsum(row_steps) - row_steps, row_steps)
    )
    steps[np.repeat(coder, row_steps), position] = verdicts
    result["alpha_steps"] = _alpha(steps, "ordinal")

    for i, j in combinations(range(len(humans)), 2):
        both = ~np.isnan(first[i]) & ~np.isnan(first[j])
        a, b = first[i][both], first[j][both]
        # Kappa is undefined (0/0) when the two used a single value between them.
        kappa = float(cohen_kappa_score(a, b)) if len(np.union1d(a, b)) > 1 else math.nan
        result["pairs"].append({"a": humans[i], "b": humans[j], "n": int(both.sum()), "kappa_first_error": kappa})
    return result
