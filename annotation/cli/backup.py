"""`python -m annotation backup PATH` and `python -m annotation restore PATH`: the database to a file and back.

    python -m annotation backup backups/redline-2026-01-31.db      # SQLite's online backup; the app may run
    python -m annotation restore backups/redline-2026-01-31.db --force

On PostgreSQL both print the pg_dump / pg_restore command to run instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import Engine

NAME = "backup"


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="copy the database to a file (SQLite online backup; pg_dump on PostgreSQL)")
    b.add_argument("path", type=Path)
    b.add_argument("--force", action="store_true", help="replace an existing file at PATH")
    r = sub.add_parser("restore", help="replace the database with a backup made by `backup`")
    r.add_argument("path", type=Path)
    r.add_argument(
        "--force", action="store_true", help="replace a database that holds work (it is kept beside itself first)"
    )
    # `restore` is a second subcommand of this module: cli.main looks modules up by NAME, so route it here.
    r.set_defaults(command=NAME, restoring=True)
    b.set_defaults(restoring=False)


def run(args: argparse.Namespace, engine: Engine) -> int:
    from annotation.ops.backup import BackupFailure, backup, restore

    action = restore if args.restoring else backup
    try:
        summary = action(engine, args.path, force=args.force)
    except BackupFailure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"restored {summary.path} from {args.path}" if args.restoring else f"backed up to {summary.path}")
    for line in summary.lines():
        print(f"  {line}")
    return 0
