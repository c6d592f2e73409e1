"""Figures per generator, subset and error tag, and per critic."""

import pytest

from annotation.metrics import compare
from annotation.metrics.breakdowns import breakdown, per_critic
from annotation.metrics.pairs import from_rows, make_pairs
from tests.utils.metrics_data import row, traces, two_sources


def test_by_generator():
    data = two_sources([-1, 1, 2, 0], [-1, -1, 2, 1], generators=["g1", "g1", "g2", "g2"])
    table = breakdown(make_pairs(data, "model:m", "reference"), "generator")
    assert table["generator"].tolist() == ["g1", "g2"]
    assert table["n"].tolist() == [2, 2]
    assert table["acc_correct"].tolist() == [50.0, pytest.approx(float("nan"), nan_ok=True)]
    assert table["acc_error"].tolist()[1] == 50.0
    assert table["first_error_accuracy"].tolist() == [50.0, 50.0]


def test_by_error_tag_of_b():
    tagged = [{"verdict": 1}, {"verdict": -1, "tags": ["arithmetic"]}]
    rows = [
        row(1, "human:ann", 1, steps=tagged),
        row(2, "human:ann", 0),
        row(1, "model:m", 1),
        row(2, "model:m", 1),
    ]
    table = breakdown(make_pairs(from_rows("p", traces(2, 2), rows), "model:m", "human:ann"), "error tag")
    assert table["error tag"].tolist() == ["(none)", "arithmetic"]
    assert table["acc_error"].tolist() == [0.0, 100.0]


def test_every_critic_against_b():
    rows = [row(t, "reference", fe) for t, fe in ((1, -1), (2, 1))]
    rows += [row(1, "model:good", -1), row(2, "model:good", 1), row(1, "model:bad", 0), row(2, "model:bad", -1)]
    table = per_critic(from_rows("p", traces(2), rows), "reference")
    assert table.set_index("critic")["f1"].to_dict() == {"model:bad": 0.0, "model:good": 100.0}
    full = compare(from_rows("p", traces(2), rows), "model:good", "reference", resamples=0)
    assert full.critics["critic"].tolist() == ["model:bad", "model:good"]
