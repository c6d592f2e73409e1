"""`python -m annotation import ... --as human:NAME` on a project that has the traces: labels attach to them."""

from __future__ import annotations

import csv
import json

from tests.utils.cli import cli_database, run


def test_labels_csv_attaches_and_says_how_many_matched(tmp_path, monkeypatch, capsys):
    cli_database(tmp_path, monkeypatch)
    traces = tmp_path / "gsm.jsonl"
    records = [
        {"id": f"g-{i}", "problem": f"What is {i} + {i}?", "steps": [f"{i} + {i}", f"= {2 * i}"], "label": -1}
        for i in range(4)
    ]
    traces.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert run(capsys, "import", str(traces), "--project", "p", "--quiet")[0] == 0

    labels = tmp_path / "alice.csv"
    with labels.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["question", "steps", "critiques", "verdicts", "fixes"])
        w.writerow(["What is 1 + 1?", '["1 + 1", "= 2"]', '["right", "also right"]', '["+", "+"]', "[null, null]"])
        w.writerow(["What is 3 + 3?", '["3 + 3", "= 6"]', '["ok", "no: it is 6"]', '[1, "wrong"]', '[null, "= 6!"]'])
    code, out, err = run(
        capsys, "import", str(labels), "--project", "p", "--quiet", "--as", "human:alice",
        "--map", "problem=question", "--map", "steps=steps", "--map", "step_critiques=critiques",
        "--map", "step_verdicts=verdicts", "--map", "corrections=fixes",
    )  # fmt: skip
    assert code == 0, err
    assert "Traces: 0 added, 2 already present" in out
    assert "project: 2 records matched (0 the same id and text, 0 by record id, 2 by problem and steps)" in out
    assert "Judgments added: 2 human:alice" in out

    code, out, err = run(capsys, "stats", "--project", "p", "--json")
    assert json.loads(out)["traces"] == 4

    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["question", "steps", "critiques"])
        w.writerow(["What is 2 + 2?", '["2 + 2", "= 4"]', '["just one"]'])
    code, _, err = run(
        capsys, "import", str(bad), "--project", "p", "--quiet", "--as", "human:alice",
        "--map", "problem=question", "--map", "steps=steps", "--map", "step_critiques=critiques",
    )  # fmt: skip
    assert code == 1
    assert "bad.csv, record 1, line 2, field 'critiques': 1 items for 2 steps" in err
