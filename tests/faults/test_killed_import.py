"""An import killed with SIGKILL while it writes leaves no trace of itself; run again, it lands whole."""

from __future__ import annotations

import json
from pathlib import Path

from annotation.ops.startup import prepare
from tests.utils.files import processbench_record, write_jsonl
from tests.utils.processes import cli_env, kill_when, run_cli, sqlite_scalar, sqlite_sound, start_cli

RECORDS = 12_000
# The import's one transaction spills into the write-ahead log as it goes; past this size it is mid-write.
MID_WRITE_WAL_BYTES = 400_000


def test_an_import_killed_mid_write_changes_nothing_and_runs_again_whole(tmp_path: Path):
    db = tmp_path / "redline.db"
    prepare(f"sqlite:///{db}").dispose()
    data = write_jsonl(tmp_path / "big.jsonl", [processbench_record(i, label=i % 3 - 1) for i in range(RECORDS)])
    env = cli_env(f"sqlite:///{db}")
    args = ["import", str(data), "--project", "big", "--quiet", "--json"]
    log = tmp_path / "import.log"
    wal = Path(f"{db}-wal")

    child = start_cli(args, env, log)
    kill_when(child, lambda: wal.exists() and wal.stat().st_size > MID_WRITE_WAL_BYTES, log)

    sqlite_sound(db)
    assert sqlite_scalar(db, "SELECT count(*) FROM trace") == 0
    assert sqlite_scalar(db, "SELECT count(*) FROM judgment") == 0
    assert sqlite_scalar(db, "SELECT count(*) FROM project") == 0  # the project was part of the same transaction

    again = run_cli(args, env)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["traces_added"], summary["traces_already_present"]) == (RECORDS, 0)
    assert sqlite_scalar(db, "SELECT count(*) FROM trace") == RECORDS
    assert sqlite_scalar(db, "SELECT count(*) FROM judgment WHERE source_kind = 'reference'") == RECORDS
    assert sqlite_scalar(db, "SELECT count(DISTINCT position) FROM trace") == RECORDS
    sqlite_sound(db)
