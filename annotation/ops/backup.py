"""Backing up and restoring the database.

SQLite: SQLite's online backup API copies a consistent snapshot while the app keeps working, into a
temporary file that is checked and then renamed into place. Restoring copies a checked backup back through
the same API (so open connections see either the old or the new database, never a mix), after keeping the
current database beside it. PostgreSQL: pg_dump and pg_restore do this job; ``postgres_commands`` says how.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from storage.db import alembic_config, migrate
from storage.tables import utcnow

# Tables whose rows mean a database holds someone's work (an empty, freshly migrated one holds none).
WORK_TABLES = ("project", "trace", "judgment", "app_user")


class BackupFailure(Exception):
    """A backup or restore that was refused or failed; nothing was changed."""


@dataclass(frozen=True)
class BackupSummary:
    path: str
    revision: str
    counts: dict[str, int]
    kept_previous: str | None = None

    def lines(self) -> list[str]:
        counts = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        lines = [f"schema {self.revision}; {counts}"]
        if self.kept_previous:
            lines.append(f"the database as it was before is kept at {self.kept_previous}")
        return lines


def sqlite_path(engine: Engine) -> Path | None:
    """The database file, or None when the database is not an SQLite file."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def inspect_file(path: Path) -> BackupSummary:
    """Check that ``path`` is a sound Redline database; its schema revision and row counts."""
    if not path.is_file():
        raise BackupFailure(f"{path} does not exist")
    with open(path, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise BackupFailure(f"{path} is not an SQLite database")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as c:
            if c.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupFailure(f"{path} is damaged (SQLite's quick_check failed)")
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "alembic_version" not in tables:
                raise BackupFailure(f"{path} is not a Redline database (it has no alembic_version table)")
            row = c.execute("SELECT version_num FROM alembic_version").fetchone()
            counts = {t: c.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in WORK_TABLES if t in tables}
    except sqlite3.DatabaseError as e:
        raise BackupFailure(f"{path} cannot be read as a database: {e}") from e
    if row is None or row[0] not in known_revisions():
        raise BackupFailure(
            f"{path} has schema {row[0] if row else 'none'!r}, which this version of Redline does not know; "
            "restore it with the Redline version that made it"
        )
    return BackupSummary(path=str(path), revision=row[0], counts=counts)


def _copy(source: Path, target: Path, *, journal_mode: str) -> None:
    """A consistent snapshot of ``source`` written over ``target`` through SQLite's online backup API."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute(f"PRAGMA journal_mode={journal_mode}")


def _part(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")


def backup(engine: Engine, dest: Path, *, force: bool = False) -> BackupSummary:
    """Copy the SQLite database to ``dest`` while it stays in use; refused over an existing file without force."""
    source = sqlite_path(engine)
    if source is None:
        raise BackupFailure(postgres_advice(engine.url, dest, "backup"))
    dest = Path(dest).resolve()
    if dest == source:
        raise BackupFailure(f"{dest} is the database itself; choose another path")
    if dest.exists() and not force:
        raise BackupFailure(f"{dest} exists; choose another path, or give --force to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _part(dest)
    try:
        # A backup is one self-contained file: no -wal beside it.
        _copy(source, part, journal_mode="DELETE")
        summary = inspect_file(part)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return BackupSummary(path=str(dest), revision=summary.revision, counts=summary.counts)


def holds_work(engine: Engine) -> bool:
    path = sqlite_path(engine)
    if path is None or not path.exists():
        return False
    try:
        return any(inspect_file(path).counts.values())
    except BackupFailure:
        return True  # something unreadable is there: never overwrite it silently


def restore(engine: Engine, source: Path, *, force: bool = False) -> BackupSummary:
    """Replace the SQLite database with the backup at ``source``, then bring its schema up to date.

    A database holding work is replaced only with ``force``, and is first kept beside itself as
    ``<name>.before-restore-<time>.db``.
    """
    target = sqlite_path(engine)
    if target is None:
        raise BackupFailure(postgres_advice(engine.url, source, "restore"))
    source = Path(source).resolve()
    checked = inspect_file(source)
    if source == target:
        raise BackupFailure(f"{source} is the database itself")
    kept = None
    if holds_work(engine):
        if not force:
            raise BackupFailure(
                f"{target} holds work; give --force to replace it (it is kept as a copy beside itself first)"
            )
        kept = target.with_name(f"{target.stem}.before-restore-{utcnow():%Y%m%d-%H%M%S}{target.suffix or '.db'}")
        backup(engine, kept)
    engine.dispose()
    # SQLite writes the copy through its own locks, so a running app never reads a half-restored file.
    _copy(source, target, journal_mode="WAL")
    migrate(engine)  # an older backup is brought up to this version's schema
    summary = inspect_file(target)
    return BackupSummary(
        path=str(target), revision=summary.revision, counts=checked.counts, kept_previous=str(kept) if kept else None
    )


def libpq_url(url: URL) -> str:
    """The URL as pg_dump and psql take it: no SQLAlchemy driver, no password (give it in PGPASSWORD)."""
    plain = URL.create("postgresql", url.username, None, url.host, url.port, url.database, url.query)
    return plain.render_as_string(hide_password=False)


def postgres_commands(url: URL, path: Path) -> dict[str, str]:
    target = libpq_url(url)
    return {
        "backup": f'pg_dump --format=custom --no-owner --file="{path}" "{target}"',
        "restore": f'pg_restore --clean --if-exists --no-owner --single-transaction --dbname="{target}" "{path}"',
    }


def postgres_advice(url: URL, path: Path, action: str) -> str:
    if url.get_backend_name() != "postgresql":
        return f"{action} works on SQLite files and PostgreSQL (with pg_dump); this database is {url.drivername}"
    commands = postgres_commands(url, path)
    what = (
        "pg_dump makes a consistent backup while the app keeps running"
        if action == "backup"
        else "pg_restore puts a pg_dump backup back (stop the app first; --clean replaces what is there)"
    )
    return (
        f"this database is PostgreSQL, so Redline leaves {action} to its own tools: {what}:\n"
        f"  {commands[action]}\n"
        "Put the password in PGPASSWORD or ~/.pgpass. The other direction:\n"
        f"  {commands['restore' if action == 'backup' else 'backup']}"
    )
