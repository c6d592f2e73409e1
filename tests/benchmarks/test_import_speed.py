"""The benchmark itself must keep working; its figures are read from `make bench`, not asserted here."""

import json

from benchmarks import import_speed


def test_small_run_writes_the_same_rows_as_the_baseline(tmp_path):
    out = tmp_path / "figures.json"
    code = import_speed.main(["--traces", "300", "--repeat", "1", "--workdir", str(tmp_path), "--out", str(out)])
    figures = json.loads(out.read_text())
    assert code == 0
    assert figures["traces"] == 300
    assert figures["checks"]["same_rows"] is True
    assert figures["redline_s"] > 0 and figures["baseline_s"] > 0 and figures["redline_peak_rss_mb"] > 0
