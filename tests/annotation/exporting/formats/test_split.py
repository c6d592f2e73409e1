"""A split by problem never puts one problem on both sides, and is the same on every run."""

from __future__ import annotations

import pytest

from annotation.core.model import InvalidValue
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.formats.split import TEST, TRAIN, check_share, split_of
from annotation.exporting.run import export_project
from tests.utils import export_data
from tests.utils.export_data import read_jsonl


def test_share_of_problems_lands_in_test():
    problems = [f"question number {i}" for i in range(4_000)]
    sides = [split_of(p, 0.25) for p in problems]
    assert 0.22 < sides.count(TEST) / len(sides) < 0.28
    assert sides == [split_of(p, 0.25) for p in problems]
    assert split_of("A  question\n", 0.5) == split_of("a question", 0.5)
    assert {split_of(p, None) for p in problems[:50]} == {TRAIN}


def test_no_problem_on_both_sides(sqlite_engine, tmp_path):
    export_data.build(sqlite_engine)
    summary = export_project(
        sqlite_engine, export_data.PROJECT, "redline", tmp_path / "all.jsonl", ExportOptions(test_share=0.5)
    )
    train, test = (read_jsonl(tmp_path / f"all-{side}.jsonl") for side in (TRAIN, TEST))

    assert summary.files == [str(tmp_path / "all-train.jsonl"), str(tmp_path / "all-test.jsonl")]
    assert len(train) + len(test) == export_data.N_TRACES
    assert train and test
    assert not {r["problem"] for r in train} & {r["problem"] for r in test}
    # Both generators' traces of one problem stay together.
    assert all(len([r for r in train if r["problem"] == p]) == 2 for p in {r["problem"] for r in train})


@pytest.mark.parametrize("share", [0, 1, -0.1, 1.5])
def test_share_must_lie_inside_zero_and_one(share):
    with pytest.raises(InvalidValue, match="between 0 and 1"):
        check_share(share)
