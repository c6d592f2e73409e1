"""Backup and restore: an SQLite round trip through the CLI, refusals that change nothing, PostgreSQL's commands."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from annotation.cli.main import main
from annotation.core.model import Judgment, Source
from annotation.core.records import judgment_row
from annotation.ops.backup import BackupFailure, backup, inspect_file, postgres_commands, restore
from annotation.ops.startup import prepare
from storage import queries
from storage.db import make_engine, migrate, session
from storage.tables import JudgmentRevision, JudgmentRow, TraceRow, utcnow
from tests.conftest import POSTGRES_URL, skip_or_fail
from tests.utils.projects import make_project


def add_revised_judgment(engine) -> None:
    """A human judgment changed once, so a revision must survive the round trip too."""
    with session(engine) as s:
        trace_id = s.exec(select(TraceRow.id).order_by(TraceRow.position)).first()
        row = judgment_row(Judgment(Source("human", "ann"), first_error=1), trace_id=trace_id, now=utcnow())
        queries.insert_judgments(s, rows=[row])
        stored = s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == "human")).one()
        content = Judgment(Source("human", "ann"), first_error=0).content()
        queries.revise_judgment(s, judgment=stored, content=content, expected_version=1, changed_by="ann")
        s.commit()


def counts(engine) -> tuple[int, int, int]:
    with session(engine) as s:
        return (
            len(s.exec(select(TraceRow.id)).all()),
            len(s.exec(select(JudgmentRow.id)).all()),
            len(s.exec(select(JudgmentRevision.id)).all()),
        )


def test_round_trip_through_the_cli_while_a_reader_holds_the_database(tmp_path, monkeypatch, capsys):
    db = tmp_path / "redline.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    engine = prepare()
    make_project(engine, tmp_path, traces=6)
    add_revised_judgment(engine)
    before = counts(engine)
    assert before == (6, 7, 1)
    out = tmp_path / "backups" / "b.db"
    # An open read transaction in another connection: the online backup does not wait for it or break it.
    with closing(sqlite3.connect(db)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM trace").fetchone()
        assert main(["backup", str(out)]) == 0
    assert f"backed up to {out}" in capsys.readouterr().out
    assert not list(out.parent.glob(".*.part"))
    assert inspect_file(out).counts == {"project": 1, "trace": 6, "judgment": 7, "app_user": 0}
    assert not Path(f"{out}-wal").exists()  # one self-contained file

    # Work lost after the backup: a whole project deleted.
    with engine.begin() as c:
        c.execute(text("DELETE FROM project"))
    assert counts(engine) == (0, 0, 0)
    make_project(engine, tmp_path, name="later", traces=2)

    assert main(["restore", str(out)]) == 1
    assert "holds work; give --force" in capsys.readouterr().err
    assert counts(engine) == (2, 2, 0)  # refused: nothing changed

    assert main(["restore", str(out), "--force"]) == 0
    printed = capsys.readouterr().out
    assert "restored" in printed and "kept at" in printed
    assert counts(engine) == before  # the same engine sees the restored rows
    kept = next(tmp_path.glob("redline.before-restore-*.db"))
    assert inspect_file(kept).counts["trace"] == 2  # the database as it was, kept
    with closing(sqlite3.connect(db)) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("SELECT content FROM judgment_revision").fetchone()[0]


def test_backup_refuses_to_replace_a_file_without_force(tmp_path):
    engine = prepare(f"sqlite:///{tmp_path / 'redline.db'}")
    out = tmp_path / "b.db"
    out.write_text("precious")
    with pytest.raises(BackupFailure, match="exists; choose another path, or give --force"):
        backup(engine, out)
    assert out.read_text() == "precious"
    backup(engine, out, force=True)
    assert inspect_file(out).revision


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a database at all", "is not an SQLite database"),
        (None, "is not a Redline database"),
        (b"", "is not an SQLite database"),
    ],
)
def test_restore_refuses_what_is_not_a_redline_backup(tmp_path, content, message):
    engine = prepare(f"sqlite:///{tmp_path / 'redline.db'}")
    make_project(engine, tmp_path, traces=3)
    source = tmp_path / "other.db"
    if content is None:
        with closing(sqlite3.connect(source)) as c:
            c.execute("CREATE TABLE t (x)")
            c.commit()
    else:
        source.write_bytes(content)
    with pytest.raises(BackupFailure, match=message):
        restore(engine, source, force=True)
    assert counts(engine)[0] == 3
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_restore_refuses_a_missing_file_and_a_newer_schema(tmp_path):
    engine = prepare(f"sqlite:///{tmp_path / 'redline.db'}")
    with pytest.raises(BackupFailure, match="does not exist"):
        restore(engine, tmp_path / "nope.db")
    newer = tmp_path / "newer.db"
    backup(engine, newer)
    with closing(sqlite3.connect(newer)) as c:
        c.execute("UPDATE alembic_version SET version_num = '9999'")
        c.commit()
    with pytest.raises(BackupFailure, match="schema '9999', which this version of Redline does not know"):
        restore(engine, newer)


def test_an_older_backup_is_brought_up_to_date(tmp_path):
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(old, "0003")
    old.dispose()
    engine = prepare(f"sqlite:///{tmp_path / 'redline.db'}")
    summary = restore(engine, tmp_path / "old.db")
    assert summary.revision == inspect_file(tmp_path / "redline.db").revision != "0003"
    make_project(engine, tmp_path, traces=2)  # the restored database works with today's tables


def test_postgres_gets_the_pg_dump_and_pg_restore_commands(monkeypatch, capsys, postgres_url, tmp_path):
    monkeypatch.setenv("DATABASE_URL", postgres_url.replace("postgres@", "postgres:hunter2@"))
    assert main(["backup", str(tmp_path / "r.dump")]) == 1
    err = capsys.readouterr().err
    assert "pg_dump --format=custom --no-owner" in err and "pg_restore --clean" in err
    assert "hunter2" not in err and "+psycopg" not in err
    assert main(["restore", str(tmp_path / "r.dump")]) == 1
    assert "pg_restore" in capsys.readouterr().err


def test_the_printed_postgres_commands_make_a_round_trip(tmp_path):
    """The commands printed for PostgreSQL really work: pg_dump one database, pg_restore into a fresh one."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        skip_or_fail("REDLINE_REQUIRE_POSTGRES", "pg_dump and pg_restore are not installed")
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except Exception:
        skip_or_fail("REDLINE_REQUIRE_POSTGRES", f"PostgreSQL is not reachable at {POSTGRES_URL}")
    names = [f"redline_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    urls = [make_url(POSTGRES_URL).set(database=n) for n in names]
    with admin.connect() as c:
        for n in names:
            c.execute(text(f'CREATE DATABASE "{n}"'))
    try:
        source = prepare(urls[0].render_as_string(hide_password=False))
        make_project(source, tmp_path, traces=4)
        add_revised_judgment(source)
        source.dispose()
        dump = tmp_path / "redline.dump"
        run = {"check": True, "capture_output": True, "timeout": 60}
        subprocess.run(shlex.split(postgres_commands(urls[0], dump)["backup"]), **run)
        subprocess.run(shlex.split(postgres_commands(urls[1], dump)["restore"]), **run)
        copy = make_engine(urls[1].render_as_string(hide_password=False))
        assert counts(copy) == (4, 5, 1)
        copy.dispose()
    finally:
        with admin.connect() as c:
            for n in names:
                c.execute(text(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'))
        admin.dispose()
