"""`python -m annotation ...`: the same functions the pages call, for scripts and pipelines."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from annotation.accounts.users import has_users
from annotation.core.errors import ImportFailure
from annotation.core.model import REFERENCE, InvalidValue, Source
from annotation.importing.files import Progress, import_file
from annotation.importing.formats import FORMATS
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.conversation import STEPS_PER
from annotation.importing.formats.generic import DEFAULT_NO_ERROR, FieldMapping
from annotation.importing.formats.step_split import RULES
from annotation.importing.preview import step_base_in_file, summary_lines
from annotation.ops.startup import prepare
from annotation.projects.overview import NoSuchProject, list_overviews, project_overview

# Each module adds one subcommand: NAME, add_parser(subparsers) and run(args, engine) -> int.
# They are imported here, not at the top, so no command pays for another's heavy imports at parse time.
COMMAND_MODULES = (
    "annotation.cli.users",
    "annotation.cli.metrics",
    "annotation.cli.critique",
    "annotation.cli.revise",
    "annotation.cli.export",
    "annotation.cli.backup",
    "annotation.cli.train_check",
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m annotation", description="Redline: judge reasoning step by step.")
    sub = p.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import", help="import a file of traces (and any labels it carries) into a project")
    imp.add_argument("path", type=Path)
    imp.add_argument("--project", required=True)
    imp.add_argument("--format", choices=FORMATS.names(), help="default: detected from the records")
    imp.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="generic format: field mapping")
    imp.add_argument("--step-split", default=None, metavar="RULE", help=f"generic format: one of {', '.join(RULES)}")
    imp.add_argument("--first-error-base", type=int, choices=(0, 1), default=None)
    imp.add_argument(
        "--steps-per",
        choices=STEPS_PER,
        default="turn",
        help="conversations: one assistant turn with its tool results per step (default), or one message per step",
    )
    imp.add_argument(
        "--no-error",
        action="append",
        default=None,
        metavar="VALUE",
        help=f"a first-error value meaning 'no error' (repeatable; default {' '.join(DEFAULT_NO_ERROR)})",
    )
    imp.add_argument(
        "--as",
        dest="as_source",
        default=str(REFERENCE),
        metavar="SOURCE",
        help="whose labels the file carries: reference (default), model:NAME or human:NAME",
    )
    imp.add_argument(
        "--predictions-as",
        default=None,
        metavar="SOURCE",
        help="ProcessBench evaluation output: source for its predictions (default model:processbench-predictions)",
    )
    imp.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="keep only records whose FIELD is VALUE (repeatable; a.b reaches into objects)",
    )
    imp.add_argument(
        "--first-error-pattern",
        default=None,
        metavar="REGEX",
        help=r"generic: a first error written as text, its step number in group 1 (e.g. 'Step (\d+)')",
    )
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave out bad records and list each with its reason (default: a bad record stops the import)",
    )
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.add_argument("--json", action="store_true", help="print the summary as JSON")

    stats = sub.add_parser("stats", help="counts for one project")
    stats.add_argument("--project", required=True)
    stats.add_argument("--json", action="store_true")

    projects = sub.add_parser("projects", help="list projects with their counts")
    projects.add_argument("--json", action="store_true")

    init = sub.add_parser("init", help="migrate the database; with --demo, load the demo project when it is empty")
    init.add_argument("--demo", action="store_true")
    for module in _command_modules().values():
        module.add_parser(sub)
    return p


def _command_modules() -> dict:
    modules = [importlib.import_module(name) for name in COMMAND_MODULES]
    return {m.NAME: m for m in modules}


def _tqdm_progress() -> tuple[Progress, Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=1, unit="rec", file=sys.stderr, leave=False, mininterval=0.2)

    def progress(stage: str, done: int, total: int) -> None:
        if bar.desc != stage:
            bar.reset(total=total)
            bar.set_description(stage, refresh=False)
        bar.total = total
        bar.update(done - bar.n)

    return progress, bar.close


def where_pairs(pairs: list[str]) -> dict[str, str]:
    where = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidValue("where", f"{pair!r}: use FIELD=VALUE")
        where[key.strip()] = value
    return where


def _import(args: argparse.Namespace, engine) -> int:
    label_source = Source.parse(args.as_source)
    predictions = Source.parse(args.predictions_as) if args.predictions_as else None
    mapping = None
    if args.format == "generic" or args.map:
        mapping = FieldMapping.from_pairs(
            args.map,
            step_split=args.step_split,
            first_error_base=args.first_error_base,
            no_error_values=tuple(args.no_error) if args.no_error else None,
            first_error_pattern=args.first_error_pattern,
        )
    fmt = "generic" if args.map and not args.format else args.format
    if mapping is not None and mapping.first_error and args.first_error_base is None:
        # As on the Import page: read from the file when it shows it, never a silent guess.
        evidence = step_base_in_file(args.path, mapping)
        if evidence is None:
            raise InvalidValue(
                "first_error_base",
                f"{args.path.name} does not show whether its first errors count steps from 0 or from 1 "
                "(no 0, and no value equal to its record's number of steps): pass --first-error-base 0 or 1",
            )
        print(f"First errors counted from {evidence.base}: {evidence.reason}.", file=sys.stderr)
        mapping = replace(mapping, first_error_base=evidence.base)
    options = ConvertOptions(
        label_source=label_source,
        predictions_source=predictions,
        mapping=mapping,
        steps_per=args.steps_per,
        answer_split="sentences" if args.step_split == "sentences" and not args.map else "whole",
        messages_field=mapping.steps if mapping is not None and args.map else None,
    )
    progress, close = (None, lambda: None) if args.quiet else _tqdm_progress()
    try:
        summary = import_file(
            engine,
            args.path,
            project=args.project,
            fmt=fmt,
            options=options,
            progress=progress,
            image_dir=args.path if args.path.is_dir() else args.path.parent,
            skip_invalid=args.skip_invalid,
            where=where_pairs(args.where),
        )
    finally:
        close()
    if args.json:
        print(json.dumps(summary.as_dict()))
        return 0
    print(f"{summary.file} ({summary.format}) -> project {summary.project!r}")
    for line in summary_lines(summary):
        print(f"  {line}")
    for w in summary.warnings:
        print(f"  warning: {w}")
    return 0


def _projects(args: argparse.Namespace, engine) -> int:
    overviews = list_overviews(engine)
    if args.json:
        print(json.dumps([o.as_stats() for o in overviews]))
        return 0
    if not overviews:
        print("no projects yet; import a file with: python -m annotation import PATH --project NAME")
    for o in overviews:
        kinds = ", ".join(f"{k} {n}" for k, n in o.judgments.items() if n)
        print(f"{o.name}: {o.traces} traces, {o.steps} steps; judgments: {kinds or 'none'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    extra = _command_modules().get(args.command)
    if extra is not None and not getattr(extra, "NEEDS_DATABASE", True):
        return extra.run(args)
    try:
        engine = prepare(load_demo=getattr(args, "demo", False))
        if args.command == "import":
            return _import(args, engine)
        if args.command == "stats":
            overview = project_overview(engine, args.project)
            print(json.dumps(overview.as_stats(), indent=None if args.json else 2))
            return 0
        if args.command == "projects":
            return _projects(args, engine)
        if args.command == "init":
            print(f"database ready: {engine.url.render_as_string(hide_password=True)}")
            if not has_users(engine):
                print("no accounts yet: open the app to create the first admin, or run")
                print("  python -m annotation user add admin --role admin")
            return 0
        extra = _command_modules().get(args.command)
        if extra is not None:
            return extra.run(args, engine)
    except (ImportFailure, NoSuchProject) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except InvalidValue as e:
        print(f"error: {e.field}: {e.message}", file=sys.stderr)
        return 2
    return 2
