"""The agent-trace benchmark must keep working; its figures are read from `make bench`, not asserted here."""

import json

from benchmarks import agent_traces


def test_a_small_run_imports_and_opens_a_long_trajectory(tmp_path):
    out = tmp_path / "figures.json"
    code = agent_traces.main(
        ["--trajectories", "50", "--long", "60", "--repeat", "1", "--workdir", str(tmp_path), "--out", str(out)]
    )
    figures = json.loads(out.read_text())
    assert code == 0
    assert figures["import_traces"] == 50 and figures["messages_per_s"] > 0
    assert figures["long_messages"] == 60 and figures["long_steps"] > 20 and figures["open_cold_s"] > 0
