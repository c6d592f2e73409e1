"""Every figure of a revision run, computed by hand on small cases."""

import math

import numpy as np
import pandas as pd
import pytest

from annotation.revision.figures import HARMFUL, HELPFUL, figures_by, revision_figures, usefulness

# Ten traces: 4 wrong before (2 fixed, 2 still wrong), 6 right before (1 broken, 5 kept).
BEFORE = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1], dtype=bool)
AFTER = np.array([1, 1, 0, 0, 1, 1, 1, 1, 0, 1], dtype=bool)


def test_counts_and_rates_by_hand():
    f = revision_figures(BEFORE, AFTER)
    assert (f.n, f.n_wrong_before, f.n_right_before, f.fixed, f.broken) == (10, 4, 6, 2, 1)
    assert f.fix_rate == 50.0  # 2 of 4
    assert f.break_rate == pytest.approx(100 / 6)  # 1 of 6
    assert f.accuracy_before == 60.0 and f.accuracy_after == 70.0 and f.accuracy_change == pytest.approx(10.0)
    d = f.as_dict()
    assert d["break_rate"] == 16.7 and d["accuracy_change"] == 10.0


def test_intervals_hold_the_figure_and_stay_in_range():
    f = revision_figures(BEFORE, AFTER, resamples=2000, seed=1)
    for name in ("fix_rate", "break_rate", "accuracy_before", "accuracy_after", "accuracy_change"):
        low, high = f.ci[name]
        assert low <= getattr(f, name) <= high, name
    assert f.ci["fix_rate"][0] >= 0 and f.ci["fix_rate"][1] <= 100
    assert -100 <= f.ci["accuracy_change"][0] < 0 < f.ci["accuracy_change"][1] <= 100  # +10 on 10 is not sure


def test_the_same_draws_give_the_same_intervals():
    assert revision_figures(BEFORE, AFTER, seed=3).ci == revision_figures(BEFORE, AFTER, seed=3).ci


def test_nothing_to_measure_is_nan():
    all_right = revision_figures(np.ones(3, bool), np.ones(3, bool))
    assert math.isnan(all_right.fix_rate) and all_right.break_rate == 0.0 and all_right.accuracy_change == 0.0
    assert all_right.as_dict()["fix_rate"] is None
    empty = revision_figures(np.zeros(0, bool), np.zeros(0, bool))
    assert empty.n == 0 and math.isnan(empty.accuracy_before) and math.isnan(empty.ci["fix_rate"][0])


def test_figures_by_group():
    frame = pd.DataFrame({"before": BEFORE, "after": AFTER, "generator": ["g1"] * 4 + ["g2"] * 5 + [None]})
    table = figures_by(frame, "generator").set_index("generator")
    assert list(table.index) == ["(none)", "g1", "g2"]
    assert table.loc["g1", "fixed"] == 2 and table.loc["g1", "fix_rate"] == 50.0
    assert table.loc["g2", "broken"] == 1 and table.loc["g2", "break_rate"] == 20.0
    assert table.loc["(none)", "accuracy_after"] == 100.0


@pytest.mark.parametrize(
    ("before", "after", "label"),
    [(False, True, HELPFUL), (True, True, HELPFUL), (True, False, HARMFUL), (False, False, None), (None, True, None)],
)
def test_usefulness(before, after, label):
    assert usefulness(before, after) == label
