"""`python -m annotation train-check PATH [--shape NAME]`: is an export what its trainer's data loading expects?"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from annotation.exporting.formats.base import ExportFailure
from annotation.exporting.trainer_shapes import SHAPES

NAME = "train-check"
#: Reads files only: no database is opened (or migrated) for it.
NEEDS_DATABASE = False


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        NAME,
        help="load an export with datasets and check it against a trainer's expected columns and types",
        description="No trainer is imported. The shape defaults to the format the export's dataset card names.",
    )
    p.add_argument("path", type=Path, help="a .jsonl / .parquet export, or a folder written with --hf")
    p.add_argument("--shape", choices=list(SHAPES), default=None, help="the trainer's shape (default: from the card)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, engine: object = None) -> int:
    from annotation.exporting.train_check import check_export

    try:
        report = check_export(args.path, args.shape)
    except ExportFailure as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1
