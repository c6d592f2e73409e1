"""`python -m annotation`: the commands scripts and pipelines use."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.utils.cli import cli_database, run
from tests.utils.files import processbench_record, write_jsonl


@pytest.fixture
def db(tmp_path, monkeypatch):
    return cli_database(tmp_path, monkeypatch)


def test_import_then_stats_and_projects(db, tmp_path, capsys):
    path = write_jsonl(tmp_path / "pb.jsonl", [processbench_record(i, label=-1 if i < 3 else 1) for i in range(5)])
    code, out, _ = run(capsys, "import", str(path), "--project", "demo", "--quiet")
    assert code == 0 and "5 added" in out
    code, out, _ = run(capsys, "stats", "--project", "demo", "--json")
    stats = json.loads(out)
    assert code == 0
    assert stats["traces"] == 5 and stats["steps"] == 15
    assert stats["judgments"] == {"human": 0, "model": 0, "reference": 5, "consensus": 0}
    assert stats["reference_no_error"] == 3
    code, out, _ = run(capsys, "projects")
    assert code == 0 and "demo: 5 traces, 15 steps" in out


def test_generic_import_with_mapping_and_source(db, tmp_path, capsys):
    path = tmp_path / "mine.csv"
    path.write_text('q,sol,bad\nA?,"Step 1: x\nStep 2: y",2\nB?,"Step 1: z",none\n')
    code, out, err = run(
        capsys,
        "import",
        str(path),
        "--project",
        "mine",
        "--map",
        "problem=q",
        "--map",
        "steps=sol",
        "--map",
        "first_error=bad",
        "--first-error-base",
        "1",
        "--no-error",
        "none",
        "--step-split",
        "step-n",
        "--as",
        "human:alice",
        "--quiet",
        "--json",
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["format"] == "generic" and summary["judgments_added"] == {"human:alice": 2}
    code, out, _ = run(capsys, "stats", "--project", "mine", "--json")
    assert json.loads(out)["judgments"]["human"] == 2


def test_errors_exit_non_zero_with_the_message(db, tmp_path, capsys):
    path = write_jsonl(tmp_path / "bad.jsonl", [processbench_record(0), {**processbench_record(1), "label": 9}])
    code, _, err = run(capsys, "import", str(path), "--project", "p", "--quiet")
    assert code != 0
    assert "bad.jsonl, record 2, line 2, field 'label'" in err
    code, _, err = run(capsys, "stats", "--project", "p", "--json")
    assert code != 0 and "no project named 'p'" in err
    code, _, err = run(capsys, "import", str(path), "--project", "p", "--as", "robot:x")
    assert code != 0 and "source" in err


def test_module_entry_point_runs_in_a_fresh_process(db, tmp_path):
    env = {"DATABASE_URL": db, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "annotation", "init", "--demo"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "annotation", "projects", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    (demo,) = json.loads(done.stdout)
    assert demo["project"].startswith("Demo") and demo["traces"] == 36


def test_the_first_error_base_is_read_from_the_file_or_must_be_given(db, tmp_path, capsys):
    """Issue 17: without --first-error-base a mapped first-error column was counted from 0, silently."""
    args = ["--map", "problem=q", "--map", "steps=sol", "--map", "first_error=bad", "--step-split", "step-n"]
    shown = tmp_path / "shown.csv"
    shown.write_text('q,sol,bad\nA?,"Step 1: x\nStep 2: y",2\nB?,"Step 1: z",1\n')
    code, _, err = run(capsys, "import", str(shown), "--project", "shown", *args, "--quiet", "--json")
    assert code == 0, err
    assert "First errors counted from 1: record 1 has bad = 2, its number of steps." in err
    unclear = tmp_path / "unclear.csv"
    unclear.write_text('q,sol,bad\nA?,"Step 1: x\nStep 2: y\nStep 3: w",2\n')
    code, _, err = run(capsys, "import", str(unclear), "--project", "unclear", *args, "--quiet")
    assert code != 0 and "pass --first-error-base 0 or 1" in err
    code, _, err = run(capsys, "stats", "--project", "unclear", "--json")
    assert code != 0  # nothing was imported


def test_a_problem_joined_from_two_columns_on_the_command_line(db, tmp_path, capsys):
    path = tmp_path / "mrben.csv"
    path.write_text('Question,Options,sol\nWhich is prime?,A) 4 B) 5,"Choice B.\nSo B."\n')
    code, _, err = run(
        capsys, "import", str(path), "--project", "mr", "--map", "problem=Question+Options", "--map", "steps=sol",
        "--step-split", "lines", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    from annotation.ops.startup import prepare
    from annotation.projects.traces import load_traces

    engine = prepare(db)
    (trace,) = load_traces(engine, "mr")
    engine.dispose()
    assert trace.trace.problem == "Which is prime?\n\nA) 4 B) 5"
