"""What a revision run measures (RealCritic, VISCO): fixed, broken, fix and break rates, accuracy before and after.

Each revised trace has two grades: its original answer and its revised answer, right or wrong. Every figure is a
function of how many traces fall in each of four cells (wrong then wrong, wrong then right, right then wrong,
right then right), so the bootstrap draws those four counts from a multinomial (metrics.bootstrap).

- fixed: wrong, then right; broken: right, then wrong;
- fix rate: fixed over the originally wrong; break rate: broken over the originally right (percent);
- accuracy before / after: right over all revised (percent), and the change (after minus before, in points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from annotation.metrics.bootstrap import percentile_interval, resampled_counts
from annotation.metrics.processbench import rounded
from annotation.revision.prompts import NO_CRITIQUE

CELLS = 4  # 2 * right_before + right_after
WW, WR, RW, RR = range(CELLS)
RATES = ("fix_rate", "break_rate", "accuracy_before", "accuracy_after", "accuracy_change")
HELPFUL, HARMFUL = "helpful", "harmful"
NONE_GROUP = "(none)"


def usefulness(right_before: bool | None, right_after: bool | None) -> str | None:
    """A critique is helpful when the revision made with it is right (it fixed a wrong solution or kept a right one),
    harmful when it broke a right one; a wrong solution left wrong, or an ungraded one, gets no label."""
    if right_before is None or right_after is None:
        return None
    if right_after:
        return HELPFUL
    return HARMFUL if right_before else None


def labelled(status: str, show: str, stale: bool) -> bool:
    """Whether a result says anything of its critique's usefulness: both answers graded, made with the source's
    current critique, and with a critique at all (the ``none`` baseline revises without one)."""
    return status == "done" and show != NO_CRITIQUE and not stale


def outcome_codes(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return 2 * np.asarray(before, dtype=np.int64) + np.asarray(after, dtype=np.int64)


def rates_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every rate from cell counts of shape (..., 4); NaN where a rate has nothing to measure."""
    c = counts.astype(float)
    ww, wr, rw, rr = (c[..., k] for k in range(CELLS))
    n = ww + wr + rw + rr
    with np.errstate(divide="ignore", invalid="ignore"):
        before = 100 * (rw + rr) / n
        after = 100 * (wr + rr) / n
        return {
            "fix_rate": 100 * wr / (ww + wr),
            "break_rate": 100 * rw / (rw + rr),
            "accuracy_before": before,
            "accuracy_after": after,
            "accuracy_change": after - before,
        }


@dataclass
class RevisionFigures:
    n: int
    n_wrong_before: int
    n_right_before: int
    fixed: int
    broken: int
    fix_rate: float
    break_rate: float
    accuracy_before: float
    accuracy_after: float
    accuracy_change: float
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Counts as they are; rates in percent with one decimal (None where there is nothing to measure)."""
        return {
            "n": self.n,
            "n_wrong_before": self.n_wrong_before,
            "n_right_before": self.n_right_before,
            "fixed": self.fixed,
            "broken": self.broken,
            **{name: rounded(getattr(self, name)) for name in RATES},
            "ci": {name: [rounded(low), rounded(high)] for name, (low, high) in self.ci.items()},
        }


def revision_figures(
    before: np.ndarray, after: np.ndarray, *, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> RevisionFigures:
    """The figures of the revised traces whose original and revised answers were graded right (True) or wrong."""
    codes = outcome_codes(before, after)
    counts = np.bincount(codes, minlength=CELLS)
    rates = {name: float(v) for name, v in rates_from_counts(counts).items()}
    draws = resampled_counts(codes, CELLS, resamples=resamples, seed=seed)
    if draws is None:
        ci = {name: (math.nan, math.nan) for name in RATES}
    else:
        drawn = rates_from_counts(draws)
        ci = {name: percentile_interval(drawn[name], level) for name in RATES}
    return RevisionFigures(
        n=int(counts.sum()),
        n_wrong_before=int(counts[WW] + counts[WR]),
        n_right_before=int(counts[RW] + counts[RR]),
        fixed=int(counts[WR]),
        broken=int(counts[RW]),
        ci=ci,
        **rates,
    )


def figures_by(frame: pd.DataFrame, by: str, *, resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row of figures per value of column ``by`` of ``frame`` (columns ``before``, ``after``, ``by``)."""
    rows = []
    groups = frame[by].fillna(NONE_GROUP).astype(str)
    for group, part in frame.groupby(groups, sort=True):
        f = revision_figures(part["before"].to_numpy(), part["after"].to_numpy(), resamples=resamples, seed=seed)
        d = f.as_dict()
        ci = d.pop("ci")
        rows.append({by: group, **d, "fix_rate_ci": ci["fix_rate"], "accuracy_change_ci": ci["accuracy_change"]})
    columns = [by, "n", "n_wrong_before", "n_right_before", "fixed", "broken", *RATES]
    return pd.DataFrame(rows, columns=[*columns, "fix_rate_ci", "accuracy_change_ci"])
