"""The export benchmark must keep working; its figures are read from `make bench`, not asserted here."""

import json

from benchmarks import BENCHMARKS, export_speed


def test_small_run_reports_both_outputs(tmp_path):
    out = tmp_path / "figures.json"
    code = export_speed.main(["--traces", "300", "--workdir", str(tmp_path), "--out", str(out)])
    figures = json.loads(out.read_text())

    assert code == 0
    assert "export_speed" in BENCHMARKS
    assert figures["traces"] == 300 and figures["judgments"] == 300 + 150 + 100
    for output in ("jsonl", "parquet"):
        run = figures["runs"][output]
        assert run["records"] == 300 and run["traces_read"] == 300
        assert run["seconds"] > 0 and run["peak_rss_mb"] > 0
        assert figures["checks"][f"{output}_complete"] is True
