"""Properties over random judgments: A against itself is perfect; swapping A and B swaps the sides."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.metrics import compare
from annotation.metrics.bootstrap import cell_codes, headline_from_counts
from annotation.metrics.pairs import from_rows, make_pairs
from tests.utils.metrics_data import row, traces

N_STEPS = 5
first_errors = st.lists(st.tuples(st.integers(-1, N_STEPS - 1), st.integers(-1, N_STEPS - 1)), min_size=1, max_size=40)


def data_for(pairs: list[tuple[int, int]]):
    rows = [row(i + 1, "human:x", a) for i, (a, _) in enumerate(pairs)]
    rows += [row(i + 1, "human:y", b) for i, (_, b) in enumerate(pairs)]
    return from_rows("p", traces(len(pairs), N_STEPS), rows)


def same(x, y) -> bool:
    return (x is None and y is None) or (x is not None and y is not None and math.isclose(x, y, abs_tol=1e-3))


@settings(max_examples=60, deadline=None)
@given(first_errors)
def test_a_source_against_itself_is_perfect(pairs):
    d = compare(data_for(pairs), "human:x", "human:x", resamples=50).as_dict()
    for name in ("acc_error", "acc_correct", "f1", "first_error_accuracy", "first_error_within_k"):
        assert d[name] in (100.0, None)
    assert sum(d["disagreements"].values()) == 0
    assert d["solution"]["accuracy"] == 100.0
    assert d["mcc"] in (1.0, 0.0)  # 0 only when every solution is on one side (MCC undefined)
    assert d["step_kappa"] in (1.0, None)
    assert d["steps"]["accuracy"] == 100.0
    assert d["intervals"]["first_error_accuracy"] == [100.0, 100.0]


@settings(max_examples=60, deadline=None)
@given(first_errors)
def test_swapping_a_and_b_swaps_the_error_and_correct_sides(pairs):
    data = data_for(pairs)
    ab = compare(data, "human:x", "human:y", resamples=0).as_dict()
    ba = compare(data, "human:y", "human:x", resamples=0).as_dict()
    assert ab["disagreements"]["false_alarm"] == ba["disagreements"]["missed"]
    assert ab["disagreements"]["missed"] == ba["disagreements"]["false_alarm"]
    assert ab["disagreements"]["too_early"] == ba["disagreements"]["too_late"]
    assert ab["disagreements"]["too_late"] == ba["disagreements"]["too_early"]
    assert ab["n_error"] + ab["n_correct"] == ba["n_error"] + ba["n_correct"]
    assert ab["n_error"] == sum(a != -1 for _, a in pairs) and ba["n_error"] == sum(a != -1 for a, _ in pairs)
    assert same(ab["solution"]["precision"], ba["solution"]["recall"])
    assert same(ab["solution"]["recall"], ba["solution"]["precision"])
    assert np.array(ab["steps"]["confusion"]).T.tolist() == ba["steps"]["confusion"]
    assert same(ab["mcc"], ba["mcc"]) and same(ab["step_kappa"], ba["step_kappa"])
    assert ab["first_error_accuracy"] == ba["first_error_accuracy"]


@settings(max_examples=40, deadline=None)
@given(first_errors)
def test_bootstrap_cells_reproduce_the_point_figures(pairs):
    data = data_for(pairs)
    p = make_pairs(data, "human:x", "human:y")
    codes = cell_codes(p.col("first_error_a"), p.col("first_error_b"), p.col("flawed_a"), p.col("flawed_b"))
    from_cells = headline_from_counts(np.bincount(codes, minlength=20))
    result = compare(data, "human:x", "human:y", resamples=0)
    assert same(float(from_cells["acc_error"]), result.processbench["acc_error"]) or math.isnan(
        result.processbench["acc_error"]
    )
    assert same(float(from_cells["first_error_accuracy"]), result.first_error["exact"])
    assert same(float(from_cells["mcc"]), result.solution["mcc"])
