"""`python -m annotation critique`: a critic over a project through the stub; source model:<name>; resume."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import select

from annotation.cli.main import main
from annotation.critics.config import get_critic
from annotation.critics.keys import ALLOWED_NAMES_ENV
from annotation.ops.startup import prepare
from storage.db import session
from storage.tables import JudgmentRow
from tests.conftest import ROOT
from tests.utils.cli import cli_database
from tests.utils.critic_data import make_project, register_stub_price
from tests.utils.openai_stub import STUB_KEY, STUB_MODEL, OpenAIStub

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def engine_url(tmp_path, monkeypatch):
    url = cli_database(tmp_path, monkeypatch)
    monkeypatch.setenv("STUB_API_KEY", STUB_KEY)
    monkeypatch.setenv(ALLOWED_NAMES_ENV, "STUB_API_KEY")
    engine = prepare(url)
    make_project(engine, "cli-critique", 4)
    register_stub_price()
    yield engine
    engine.dispose()


def sources(engine) -> dict[str, int]:
    with session(engine) as s:
        rows = s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == "model"))
        found: dict[str, int] = {}
        for r in rows:
            found[f"model:{r.source_name}"] = found.get(f"model:{r.source_name}", 0) + 1
        return found


def test_model_option_saves_a_critic_and_writes_model_judgments(engine_url, capsys):
    with OpenAIStub("Step 1 is wrong. \\boxed{1}") as stub:
        code = main(
            [
                "critique",
                "--project",
                "cli-critique",
                "--model",
                STUB_MODEL,
                "--api-base",
                stub.api_base,
                "--api-key-env",
                "STUB_API_KEY",
                "--name",
                "cli-judge",
                "--concurrency",
                "2",
                "--limit",
                "3",
            ]
        )
        out, err = capsys.readouterr()
        again = main(["critique", "--project", "cli-critique", "--critic", "cli-judge"])
        out2, _ = capsys.readouterr()

    assert code == 0, err
    assert "3 critiqued (0 failed, 0 unparsed), 0 already done" in out and "source model:cli-judge" in out
    assert "saved critic 'cli-judge'" in err
    assert again == 0 and "1 critiqued (0 failed, 0 unparsed), 3 already done" in out2
    assert sources(engine_url) == {"model:cli-judge": 4}
    assert stub.requests == 4
    saved = get_critic(engine_url, "cli-judge")
    assert saved.api_base == stub.api_base and saved.api_key_env == "STUB_API_KEY"


def test_unknown_critic_is_a_clear_error(engine_url, capsys):
    code = main(["critique", "--project", "cli-critique", "--critic", "nobody"])

    assert code == 2
    assert "no saved critic named 'nobody'" in capsys.readouterr().err
    assert sources(engine_url) == {}


def test_unknown_project_is_a_clear_error(engine_url, capsys):
    code = main(["critique", "--project", "nope", "--model", STUB_MODEL, "--api-base", "http://127.0.0.1:9/v1"])

    assert code == 1 and "no project named 'nope'" in capsys.readouterr().err


def test_failures_give_a_non_zero_exit(engine_url, capsys):
    with OpenAIStub("\\boxed{-1}", fail={1: 400}) as stub:
        code = main(
            [
                *("critique", "--project", "cli-critique", "--model", STUB_MODEL, "--api-base", stub.api_base),
                *("--api-key-env", "STUB_API_KEY", "--concurrency", "1", "--retries", "0"),
            ]
        )
    out = capsys.readouterr().out
    assert code == 1 and "4 critiqued (1 failed" in out


def test_the_command_line_entry_point(engine_url):
    with OpenAIStub("\\boxed{0}") as stub:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "annotation", "critique", "--project", "cli-critique", "--model", STUB_MODEL),
                *("--api-base", stub.api_base, "--api-key-env", "STUB_API_KEY", "--name", "sub", "--quiet"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ | {"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        )
    assert done.returncode == 0, done.stderr
    assert "4 critiqued" in done.stdout and STUB_KEY not in done.stdout + done.stderr
    assert sources(engine_url) == {"model:sub": 4}
