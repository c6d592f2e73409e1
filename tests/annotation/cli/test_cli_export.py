"""`python -m annotation export`: the formats, outputs and options the page offers, from a terminal."""

from __future__ import annotations

import json

import datasets
import pytest

from annotation.ops.startup import prepare
from tests.utils import export_data
from tests.utils.cli import cli_database, run
from tests.utils.export_data import read_jsonl


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = cli_database(tmp_path, monkeypatch)
    engine = prepare(url)
    export_data.build(engine)
    engine.dispose()
    return url


def test_export_jsonl_with_a_summary_and_progress(db, tmp_path, capsys):
    out = tmp_path / "trl.jsonl"
    code, stdout, stderr = run(
        capsys, "export", "--project", export_data.PROJECT, "--format", "trl-stepwise", "--out", str(out)
    )

    assert code == 0
    assert "Records: 11 (train 11) from 11 of 12 traces read" in stdout
    assert f"wrote {out}" in stdout and "dataset card" in stdout
    assert "exporting" in stderr  # tqdm on stderr
    rows = read_jsonl(out)
    assert len(rows) == 11 and all(len(r["labels"]) == len(r["completions"]) for r in rows)


def test_export_parquet_split_with_options_as_json(db, tmp_path, capsys):
    out = tmp_path / "pb.parquet"
    code, stdout, _ = run(
        capsys,
        "export",
        "--project",
        export_data.PROJECT,
        "--format",
        "processbench",
        "--out",
        str(out),
        "--parquet",
        "--split",
        "0.5",
        "--source",
        "human",
        "--where",
        "task=even",
        "--quiet",
        "--json",
    )
    summary = json.loads(stdout)

    assert code == 0
    assert summary["files"] == [str(tmp_path / "pb-train.parquet"), str(tmp_path / "pb-test.parquet")]
    assert summary["left_out"] == {"no human label": 2}
    rows = [r for f in summary["files"] for r in datasets.Dataset.from_parquet(f, cache_dir=str(tmp_path)).to_list()]
    assert sorted(r["id"] for r in rows) == ["t-0", "t-1", "t-4", "t-5"]


def test_export_hf_folder_conversational_dpo(db, tmp_path, capsys):
    out = tmp_path / "dpo"
    code, _, _ = run(
        capsys,
        "export",
        "--project",
        export_data.PROJECT,
        "--format",
        "dpo",
        "--out",
        str(out),
        "--hf",
        "--conversational",
        "--quiet",
    )
    ds = datasets.load_from_disk(str(out))
    assert code == 0 and ds.num_rows == 4
    assert ds[0]["chosen"][0]["role"] == "assistant"


def test_bad_input_is_a_clear_error(db, tmp_path, capsys):
    code, _, err = run(
        capsys, "export", "--project", "missing", "--format", "kto", "--out", str(tmp_path / "k.jsonl"), "--quiet"
    )
    assert code == 1 and "no project named 'missing'" in err
    code, _, err = run(
        capsys,
        "export",
        "--project",
        export_data.PROJECT,
        "--format",
        "kto",
        "--out",
        str(tmp_path / "k.jsonl"),
        "--where",
        "task",
        "--quiet",
    )
    assert code == 2 and "where" in err and "KEY=VALUE" in err
    code, _, err = run(
        capsys,
        "export",
        "--project",
        export_data.PROJECT,
        "--format",
        "kto",
        "--out",
        str(tmp_path / "k.jsonl"),
        "--split",
        "2",
        "--quiet",
    )
    assert code == 2 and "between 0 and 1" in err
    assert not (tmp_path / "k.jsonl").exists()


def test_disagreements_left_out_from_the_command_line(db, tmp_path, capsys):
    out = tmp_path / "pb.jsonl"
    args = ["export", "--project", export_data.PROJECT, "--format", "processbench", "--out", str(out), "--quiet"]
    code, stdout, _ = run(capsys, *args)
    assert code == 0 and "Ties settled by the most recent judgment: 3 traces" in stdout
    code, stdout, _ = run(capsys, *args, "--disagreements", "leave_out")
    assert code == 0 and "3 the humans disagree on the first error" in stdout
    assert "Ties settled" not in stdout


def test_export_options_for_text_rows_and_the_critic_prompt(db, tmp_path, capsys):
    out = tmp_path / "kto.jsonl"
    code, _, err = run(
        capsys, "export", "--project", export_data.PROJECT, "--format", "kto", "--out", str(out), "--quiet",
        "--separator", "\\n\\nCritique:\\n", "--critic-prompt", "processbench",
    )  # fmt: skip
    assert code == 0, err
    rows = read_jsonl(out)
    assert rows and all(r["prompt"].endswith("\\boxed{}.\n\nCritique:\n") for r in rows)
    assert all(r["prompt"].startswith("The following is a math problem") for r in rows)
    assert (tmp_path / "kto.jsonl.README.md").exists()

    code, _, err = run(
        capsys, "export", "--project", export_data.PROJECT, "--format", "kto", "--out", str(out), "--separator", "\\x"
    )
    assert code == 2 and "separator" in err and "not one of" in err


@pytest.mark.parametrize("fmt", ["fgrlhf-rm-sentence", "fgrlhf-rm-subsentence", "fgrlhf-rm-token"])
def test_fine_grained_rlhf_reward_model_files_from_the_command_line(db, tmp_path, capsys, fmt):
    from tests.annotation.exporting.formats.test_fgrlhf_rm import HAND
    from tests.utils.files import write_jsonl

    path = write_jsonl(tmp_path / "qa.jsonl", HAND)
    assert run(capsys, "import", str(path), "--project", "qa", "--quiet")[0] == 0
    out = tmp_path / f"{fmt}.jsonl"
    code, stdout, _ = run(capsys, "export", "--project", "qa", "--format", fmt, "--out", str(out), "--quiet")
    assert code == 0 and f"wrote {out}" in stdout
    rows = read_jsonl(out)
    assert rows and all(set(r) == {"id", "text", "feedback_tags"} for r in rows)
    assert all(len(r["text"]) == len(r["feedback_tags"]) for r in rows)
