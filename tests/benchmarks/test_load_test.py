"""The load benchmark's command line must keep working: a tiny SQLite run reports every figure."""

import json

from benchmarks import load_test


def test_a_tiny_run_writes_its_figures_and_a_table(tmp_path, capsys):
    out = tmp_path / "figures.json"
    argv = ["--annotators", "4", "--submissions", "3", "--backends", "sqlite", "--overlap", "1"]
    code = load_test.main([*argv, "--stale-every", "3", "--workdir", str(tmp_path), "--out", str(out)])
    assert code == 0
    figures = json.loads(out.read_text())
    (r,) = figures["results"]
    assert (r["backend"], r["annotators"], r["judgments_per_trace"]) == ("sqlite", 4, 1)
    assert (r["submissions_made"], r["stored"], r["lost"], r["errors"]) == (12, 12, 0, 0)
    assert r["refused_stale_edits"] == 4 * 2  # one second tab each, refused at its draft and at its submission
    assert r["submit_ms"]["p50"] > 0 and r["next_trace_ms"]["p99"] >= r["next_trace_ms"]["p50"]
    table = capsys.readouterr().out
    assert "sqlite" in table and "refused stale" in table


def test_an_unknown_backend_is_refused(tmp_path, capsys):
    assert load_test.main(["--backends", "oracle", "--workdir", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
    assert "unknown backend(s) oracle" in capsys.readouterr().err
