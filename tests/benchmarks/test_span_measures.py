"""The span-measure benchmark must keep working; its figures are read from `make bench`, not asserted here."""

import json

from benchmarks import span_measures


def test_a_small_run_measures_two_annotators(tmp_path):
    out = tmp_path / "figures.json"
    code = span_measures.main(["--traces", "200", "--repeat", "1", "--workdir", str(tmp_path), "--out", str(out)])
    figures = json.loads(out.read_text())
    assert code == 0
    assert 0 < figures["exact_f1"] < figures["overlap_f1"] <= 1 and figures["alpha_traces"] == 200
    assert figures["page_s"] > 0
