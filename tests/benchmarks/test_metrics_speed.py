"""The metrics benchmark must keep working; its figures are read from `make bench`, not asserted here."""

import json

from benchmarks import metrics_speed


def test_small_run_reports_every_figure(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    out = tmp_path / "figures.json"
    code = metrics_speed.main(["--traces", "400", "--repeat", "1", "--workdir", str(tmp_path), "--out", str(out)])
    figures = json.loads(out.read_text())
    assert code == 0
    assert figures["traces"] == 400 and figures["pairs"] == 400
    assert figures["judgments"] > 3 * 400 * 0.95
    assert min(figures["measures_s"], figures["load_s"], figures["page_rerun_s"]) > 0
    assert figures["page_f1"] == str(figures["f1"])  # the page shows what the measures computed
    assert set(figures["checks"]) == {"measures", "rerun"}
