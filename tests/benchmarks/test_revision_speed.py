"""The revision benchmark must keep working at a tiny size; its budgets are judged by `make bench`, not here."""

import json

from benchmarks import revision_speed


def test_tiny_run_reports_its_figures(tmp_path):
    out = tmp_path / "revision_speed.json"

    code = revision_speed.main(["--revisions", "12", "--concurrency", "4", "--delay", "0.05", "--out", str(out)])

    figures = json.loads(out.read_text())
    assert code == 0
    run = figures["run"]
    assert (run["revisions"], run["done"], run["failed"], run["status"]) == (12, 12, 0, "done")
    assert run["wall_s"] >= 3 * 0.05 and run["ideal_s"] == 12 / 4 * 0.05
    # A third of the answers need math-verify: its worker ran, and its CPU is counted.
    assert run["worker_cpu_s"] > 0 and run["cpu_ms_per_revision"] > run["worker_cpu_ms_per_revision"] > 0
    assert run["graded_right"] == 12 and figures["checks"]["graded"] is True
    assert set(figures["checks"]) == {"ratio", "cpu", "graded"}
    # The floors beside the figure: bare litellm on the same prompts, and what a process pays once.
    assert run["litellm_alone_cpu_ms_per_call"] > 0 and run["worker_start_cpu_s"] >= 0
