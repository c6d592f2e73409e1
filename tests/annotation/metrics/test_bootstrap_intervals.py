"""Bootstrap intervals: around the point figure, repeatable with a seed, narrower with more traces."""

import math

import numpy as np

from annotation.metrics import compare
from annotation.metrics.bootstrap import bootstrap_intervals
from tests.utils.metrics_data import two_sources


def test_interval_holds_the_figure_and_repeats_with_the_seed():
    a = [-1, 1, 2, 0, 1, -1, 3, 2] * 5
    b = [-1, -1, 2, 0, 3, -1, 3, 1] * 5
    first = compare(two_sources(a, b), "model:m", "reference", resamples=500, seed=7)
    again = compare(two_sources(a, b), "model:m", "reference", resamples=500, seed=7)
    assert first.intervals == again.intervals
    for name, point in (("acc_error", first.processbench["acc_error"]), ("f1", first.processbench["f1"])):
        low, high = first.intervals[name]
        assert low < point < high
    low, high = first.intervals["first_error_accuracy"]
    assert low < 62.5 < high  # 25 of 40 match


def test_more_traces_give_a_narrower_interval():
    a, b = [-1, 1, 2, 0], [-1, -1, 2, 1]
    small = compare(two_sources(a * 5, b * 5), "model:m", "reference", resamples=400).intervals
    large = compare(two_sources(a * 200, b * 200), "model:m", "reference", resamples=400).intervals
    width = lambda iv: iv[1] - iv[0]  # noqa: E731
    assert width(large["first_error_accuracy"]) < width(small["first_error_accuracy"]) / 3


def test_nothing_to_resample():
    iv = bootstrap_intervals(np.array([], dtype=int), resamples=100)
    assert all(math.isnan(low) and math.isnan(high) for low, high in iv.values())
