"""An API key is used, never kept: not in any table, the database file, logs, CLI output, exports or errors,
even when the provider echoes the key back in its error messages."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlmodel import SQLModel

from annotation.cli.main import main
from annotation.core.model import InvalidValue
from annotation.critics.config import get_critic
from annotation.critics.runs import run_critic, run_history
from annotation.exporting.formats import EXPORTS
from annotation.exporting.formats.base import ExportFailure, ExportOptions
from annotation.exporting.run import export_project
from annotation.ops.startup import prepare
from storage.db import session
from tests.utils.critic_data import make_project, stub_critic
from tests.utils.openai_stub import OpenAIStub

TRACES = 9


class EchoingStub(OpenAIStub):
    """A provider that repeats the key it was sent in its error messages, as careless servers do."""

    def _respond(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, payload = super()._respond(body)
        if status != 200:
            sent = " ".join(sorted(self.authorizations))
            payload["error"]["message"] = f"Incorrect API key provided: {sent}; headers were {sent!r}"
        return status, payload


def fails(body: dict[str, Any]) -> int | None:
    """Trace 1 is refused (401, not retried); trace 2 always fails with 500 (retried, then given up)."""
    prompt = json.dumps(body.get("messages"))
    return 401 if "What is 1 + 1" in prompt else 500 if "What is 2 + 2" in prompt else None


def everything_stored(engine, db_file: Path) -> str:
    """Every row of every table, and the raw bytes of the database file and its write-ahead log."""
    parts = []
    with session(engine) as s:
        for table in SQLModel.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in s.execute(select(table))]
    for path in (db_file, Path(f"{db_file}-wal")):
        if path.exists():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


@pytest.mark.parametrize("key_from", ["api_key_env", "provider_env"])
def test_the_key_appears_nowhere(tmp_path, monkeypatch, caplog, capfd, key_from):
    secret = f"sk-redline-{uuid.uuid4().hex}"
    db_file = tmp_path / "redline.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_file}")
    if key_from == "api_key_env":
        monkeypatch.setenv("CRITIC_STUB_KEY", secret)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-other-unused")
    else:  # no key named: the server's own provider key must not be sent either (critics.keys)
        monkeypatch.setenv("OPENAI_API_KEY", secret)
    caplog.set_level(logging.INFO)
    engine = prepare()
    make_project(engine, "p", TRACES)
    with EchoingStub("The first error is in step 2.\n\\boxed{1}", fail_when=fails) as stub:
        changes = {"retries": 1} if key_from == "api_key_env" else {"retries": 1, "api_key_env": ""}
        config = stub_critic(engine, stub.api_base, **changes)
        # Once through the CLI (its output captured), once as the Critics page runs it.
        assert main(["critique", "--project", "p", "--critic", config.name, "--quiet"]) == 1  # some failed
        result = run_critic(engine, get_critic(engine, config.name), "p", backoff_base_s=0.01)
        # The named key really was sent; with none named, the server's own key was not.
        assert any(secret in a for a in stub.authorizations) == (key_from == "api_key_env")
    assert result.failed == 2 and result.skipped == TRACES - 2
    errors = [r.error for r in run_history(engine)]

    exported = []
    for fmt in EXPORTS.names():
        for output in ("jsonl", "parquet"):
            options = ExportOptions(source="model:stub-critic", only_submitted=False, output=output)
            try:
                summary = export_project(engine, "p", fmt, tmp_path / "out" / f"{fmt}.{output}", options)
            except (ExportFailure, InvalidValue):
                continue  # a format this source cannot make
            exported += [Path(f).read_bytes().decode("latin-1") for f in [*summary.files, summary.card]]
    assert len(exported) >= 8

    captured = capfd.readouterr()  # file-descriptor level: litellm's own log handler writes there too
    stored = everything_stored(engine, db_file)
    with session(engine) as s:
        failures = [e for (e,) in s.execute(text("SELECT json_extract(extra, '$.error') FROM judgment")) if e]
    assert failures and all("Incorrect API key provided" in e and "***" in e for e in failures), failures
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for where, found in {
        "database": stored,
        "logs": logs,
        "stdout": captured.out,
        "stderr": captured.err,
        "run errors": repr(errors),
        "exports": "\n".join(exported),
    }.items():
        assert secret not in found, f"the key leaked into {where}"
        assert secret[3:20] not in found, f"part of the key leaked into {where}"
    engine.dispose()
