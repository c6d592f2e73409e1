"""The critic benchmark must keep working at a tiny size; its budgets are judged by `make bench`, not here."""

import json

from benchmarks import critic_speed


def test_tiny_run_reports_its_figures(tmp_path):
    out = tmp_path / "critic_speed.json"

    code = critic_speed.main(
        ["--critiques", "12", "--concurrency", "4", "--delay", "0.05", "--traces", "99", "--out", str(out)]
    )

    figures = json.loads(out.read_text())
    assert code == 0
    run = figures["run"]
    assert (run["critiques"], run["done"], run["failed"], run["status"]) == (12, 12, 0, "done")
    assert run["wall_s"] >= 3 * 0.05 and run["ideal_s"] == 12 / 4 * 0.05
    assert run["cpu_ms_per_critique"] > 0
    assert figures["cold_start"]["first_page_s"] >= figures["cold_start"]["health_s"] > 0
    assert figures["litellm_at_page_load"] is False and figures["checks"]["lazy_litellm"] is True
