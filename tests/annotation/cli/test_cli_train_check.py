"""`python -m annotation train-check`: an export loaded with datasets and checked as its trainer reads it."""

from __future__ import annotations

import json

import pytest

from annotation.ops.startup import prepare
from tests.utils import export_data
from tests.utils.cli import cli_database, run


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = cli_database(tmp_path, monkeypatch)
    engine = prepare(url)
    export_data.build(engine)
    engine.dispose()
    return url


@pytest.mark.parametrize("fmt", ["openrlhf-prm", "axolotl-prm", "trl-stepwise", "critique-sft", "dpo", "kto"])
def test_an_export_passes_the_check_of_its_trainer(db, tmp_path, capsys, fmt):
    out = tmp_path / f"{fmt}.parquet"
    code, _, err = run(capsys, "export", "--project", export_data.PROJECT, "--format", fmt, "--out", str(out),
                       "--parquet", "--quiet")  # fmt: skip
    assert code == 0, err
    code, stdout, _ = run(capsys, "train-check", str(out))  # the shape named by the export's card
    assert code == 0, stdout
    assert stdout.splitlines()[1].startswith("ok:")


def test_a_shape_a_trainer_would_misread_fails_with_its_rows_named(tmp_path, monkeypatch, capsys):
    url = cli_database(tmp_path, monkeypatch)
    bad = tmp_path / "dpo.jsonl"
    bad.write_text(json.dumps({"prompt": "Which is right?", "chosen": "This.", "rejected": "That."}) + "\n")
    code, stdout, _ = run(capsys, "train-check", str(bad), "--shape", "dpo", "--json")
    report = json.loads(stdout)
    assert code == 1 and not report["ok"]
    assert report["problems"] == [
        "train, row 0: the prompt runs straight into the chosen (no separator between them)",
        "train, row 0: the prompt runs straight into the rejected (no separator between them)",
    ]
    assert not (tmp_path / "cli.db").exists(), url  # no database is opened for a check of files

    code, _, err = run(capsys, "train-check", str(bad))
    assert code == 2 and "give the shape" in err
