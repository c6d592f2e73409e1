"""Running `python -m annotation ...` in a test: a database of the test's own, and the command's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotation.cli.main import main


def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL for the commands the test runs: a fresh SQLite file in its tmp_path."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of one command."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
