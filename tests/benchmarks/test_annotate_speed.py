"""The Annotate benchmark must keep working in Chromium; its figures are read from `make bench`, not asserted here.
What is asserted: every figure is measured, and type-ahead sequences store what their keys mean."""

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import annotate_speed
from benchmarks.chromium import CHROMIUM
from benchmarks.type_ahead import expected, random_sequence


@pytest.mark.browser
def test_small_run_measures_every_figure(tmp_path):
    from tests.conftest import skip_or_fail

    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        skip_or_fail("REDLINE_REQUIRE_BROWSER", f"Chromium is not installed at {CHROMIUM}")
    out = tmp_path / "figures.json"
    args = ["--sizes", "200", "--presses", "3", "--sequences", "2", "--workdir", str(tmp_path), "--out", str(out)]
    annotate_speed.main(args)
    figures = json.loads(out.read_text())
    (result,) = figures["results"]
    assert (result["traces"], result["judged"]) == (200, 100)
    for kind in ("verdict", "move", "first_error", "critique", "submit", "confirmed"):
        assert result["presses"][kind]["n"] >= 3 and result["presses"][kind]["median"] > 0
        assert result["300_steps"][kind]["n"] >= 1
    assert result["warm_open"] > 0 and result["cold_open"] > 0 and result["bare_open"] > 0
    assert all(f["exact"] == f["sequences"] == 2 for f in result["type_ahead"].values()), result["type_ahead"]


def test_type_ahead_sequences_mean_what_the_rules_say():
    import random

    assert expected(4, ["1", "1", "3", "Control+Enter"]) == (2, [1, 1, -1, None])
    assert expected(4, ["3", "j", "1", "Control+Enter"]) == (0, [-1, None, None, None])  # no verdict after the error
    assert expected(4, ["j", "j", "3", "k", "k", "f", "1", "Control+Enter"]) == (None, [1, 1, 1, None])
    rng = random.Random(1)
    for _ in range(200):
        keys = random_sequence(rng, 6)
        first, verdicts = expected(6, keys)
        assert first is not None and first >= 0 and verdicts[first] == -1, keys
