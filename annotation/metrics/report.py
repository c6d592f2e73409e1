"""Every measure for one choice of A and B, in one object: what the Compare page shows and the CLI prints."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from annotation.metrics.agreement import human_agreement
from annotation.metrics.bootstrap import bootstrap_intervals, cell_codes
from annotation.metrics.breakdowns import GROUPS, breakdown, per_critic
from annotation.metrics.disagreements import disagreement_table
from annotation.metrics.first_error import disagreement_kinds, exact_accuracy, kind_counts, within_k_accuracy
from annotation.metrics.pairs import Pairs, ProjectJudgments, make_pairs, source_label
from annotation.metrics.processbench import processbench_scores, rounded
from annotation.metrics.solution import solution_scores
from annotation.metrics.steps import step_agreement, step_verdicts


def _clean(value):
    """JSON-ready: NaN becomes None, numpy scalars plain numbers, floats rounded to 4 places."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


@dataclass
class Comparison:
    project: str
    a: str
    b: str
    k: int
    n: int
    processbench: dict
    first_error: dict
    kinds: dict[str, int]
    solution: dict
    steps: dict
    intervals: dict[str, tuple[float, float]]
    humans: dict | None = None
    breakdowns: dict[str, pd.DataFrame] = field(default_factory=dict)
    critics: pd.DataFrame | None = None
    disagreements: pd.DataFrame | None = None
    first_errors: dict[str, np.ndarray] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Percentages with one decimal, as ProcessBench prints them; MCC, kappa and alpha to 4 places."""
        pb = self.processbench
        return _clean(
            {
                "project": self.project,
                "a": source_label(self.a),
                "b": source_label(self.b),
                "n": self.n,
                "n_error": pb["n_error"],
                "n_correct": pb["n_correct"],
                "acc_error": rounded(pb["acc_error"]),
                "acc_correct": rounded(pb["acc_correct"]),
                "f1": rounded(pb["f1"]),
                "first_error_accuracy": rounded(self.first_error["exact"]),
                "k": self.k,
                "first_error_within_k": rounded(self.first_error["within_k"]),
                "mcc": self.solution["mcc"],
                "step_kappa": self.steps["kappa"],
                "disagreements": self.kinds,
                "solution": {
                    **{k: v for k, v in self.solution.items() if k not in ("accuracy", "precision", "recall", "f1")},
                    **{k: rounded(100 * self.solution[k]) for k in ("accuracy", "precision", "recall", "f1")},
                },
                "steps": self.steps,
                "intervals": {
                    name: [rounded(low, 1 if name != "mcc" else 4), rounded(high, 1 if name != "mcc" else 4)]
                    for name, (low, high) in self.intervals.items()
                },
                "humans": self.humans,
            }
        )


def pair_measures(pairs: Pairs, *, k: int = 1, resamples: int = 1000, seed: int = 0) -> dict:
    a, b = pairs.col("first_error_a"), pairs.col("first_error_b")
    a_flawed, b_flawed = pairs.col("flawed_a"), pairs.col("flawed_b")
    n_steps = pairs.col("n_steps")
    a_steps = step_verdicts(a, n_steps, pairs.col("vstart_a"), pairs.col("vlen_a"), pairs.verdicts)
    b_steps = step_verdicts(b, n_steps, pairs.col("vstart_b"), pairs.col("vlen_b"), pairs.verdicts)
    kinds = disagreement_kinds(a, b, a_flawed, b_flawed)
    return {
        "processbench": processbench_scores(a, b),
        "first_error": {
            "exact": 100 * exact_accuracy(a, b),
            "within_k": 100 * within_k_accuracy(a, b, k),
        },
        "kind_array": kinds,
        "kinds": kind_counts(kinds),
        "solution": solution_scores(a_flawed, b_flawed),
        "steps": step_agreement(a_steps, b_steps),
        "intervals": bootstrap_intervals(cell_codes(a, b, a_flawed, b_flawed), resamples=resamples, seed=seed),
    }


def compare(
    data: ProjectJudgments,
    a: str,
    b: str,
    *,
    k: int = 1,
    resamples: int = 1000,
    seed: int = 0,
    details: bool = True,
    humans: bool = True,
) -> Comparison:
    """All measures of A against B; ``details`` adds breakdowns, per-critic figures and the disagreement table."""
    pairs = make_pairs(data, a, b)
    m = pair_measures(pairs, k=k, resamples=resamples, seed=seed)
    result = Comparison(
        project=data.project,
        a=a,
        b=b,
        k=k,
        n=len(pairs),
        processbench=m["processbench"],
        first_error=m["first_error"],
        kinds=m["kinds"],
        solution=m["solution"],
        steps=m["steps"],
        intervals=m["intervals"],
        humans=human_agreement(data) if humans else None,
    )
    if details:
        result.breakdowns = {by: breakdown(pairs, by) for by in GROUPS}
        result.critics = per_critic(data, b)
        result.disagreements = disagreement_table(pairs, m["kind_array"])
        result.first_errors = {"a": pairs.col("first_error_a"), "b": pairs.col("first_error_b")}
    return result
