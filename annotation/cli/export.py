"""`python -m annotation export ...`: a project's labels as a training or evaluation dataset, with a dataset card."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy import Engine

from annotation.exporting.formats import EXPORTS
from annotation.exporting.formats.base import (
    DISAGREEMENTS,
    PAIR_KINDS,
    STEP_LABEL_MODES,
    ExportFailure,
    ExportOptions,
    separator_from,
)
from annotation.exporting.formats.critique_text import CRITIC_PROMPTS
from annotation.exporting.formats.selection import parse_where

NAME = "export"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a project's labels as a dataset (TRL, ProcessBench, PRM800K, critique SFT, DPO, KTO, Redline, "
        "Fine-Grained RLHF feedback and reward-model files)",
        description="Without --source the best available labels are used: consensus, else submitted human "
        "judgments (their majority; the most recent on a tie), else reference.",
    )
    p.add_argument("--project", required=True)
    p.add_argument("--format", required=True, choices=EXPORTS.names())
    p.add_argument(
        "--out", required=True, type=Path, help="a file (JSONL by default, Parquet with --parquet); a folder with --hf"
    )
    output = p.add_mutually_exclusive_group()
    output.add_argument("--parquet", action="store_true", help="write Parquet")
    output.add_argument("--hf", action="store_true", help="write a Hugging Face datasets folder (save_to_disk)")
    p.add_argument(
        "--source", default="best", help="best (default), consensus, reference, human, human:NAME, model:NAME"
    )
    p.add_argument(
        "--split", type=float, default=None, metavar="R", help="share of problems for a test split, e.g. 0.1"
    )
    p.add_argument("--step-labels", choices=STEP_LABEL_MODES, default="first-error", help="TRL stepwise labels")
    p.add_argument("--conversational", action="store_true", help="DPO/KTO: chat turns instead of plain text")
    p.add_argument(
        "--separator",
        default="\\n",
        metavar="TEXT",
        help="DPO/KTO text rows, axolotl-prm and trl-stepwise: what ends each prompt, before the completion or the "
        "first step (default \\n, a newline; "
        "\\n \\t \\r \\\\ are read as escapes; '' for none)",
    )
    p.add_argument(
        "--critic-prompt",
        choices=CRITIC_PROMPTS,
        default=None,
        help="critique SFT, DPO, KTO: ProcessBench's exact critic template, or Redline's wording for any problem "
        "(default: processbench when the critic last run on the project uses it, else redline)",
    )
    p.add_argument(
        "--pairs", default=",".join(PAIR_KINDS), help=f"DPO: which pairs, comma-separated ({', '.join(PAIR_KINDS)})"
    )
    p.add_argument("--min-agreement", type=float, default=None, metavar="X", help="least share of humans agreeing")
    p.add_argument(
        "--disagreements",
        choices=DISAGREEMENTS,
        default="latest",
        help="where humans disagree: the majority, a tie to the latest (latest); ties left out (majority); "
        "every such trace left out (leave_out)",
    )
    unfinished = p.add_mutually_exclusive_group()
    unfinished.add_argument(
        "--leave-out-unfinished",
        dest="leave_out_unfinished",
        action="store_const",
        const=True,
        default=None,
        help="leave out labels that gave up or called the problem bad (default for training formats)",
    )
    unfinished.add_argument(
        "--keep-unfinished", dest="leave_out_unfinished", action="store_const", const=False, help="keep them"
    )
    p.add_argument("--include-drafts", action="store_true", help="count drafts and failed judgments too")
    p.add_argument(
        "--where", action="append", default=[], metavar="KEY=VALUE", help="trace metadata filter (repeatable)"
    )
    p.add_argument("--limit", type=int, default=None, help="at most this many traces")
    p.add_argument(
        "--usefulness",
        default=None,
        metavar="REVISER[/SHOW[/GRADER]]",
        help="critique-sft: only critiques that helped this reviser; dpo: helpful over harmful critiques; kto: "
        "helpful (true) or harmful (false). SHOW as revised (default full; not none), GRADER as graded (default: "
        "the reviser's results written last)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def options_from(args: argparse.Namespace) -> ExportOptions:
    return ExportOptions(
        source=args.source,
        only_submitted=not args.include_drafts,
        min_agreement=args.min_agreement,
        disagreements=args.disagreements,
        leave_out_unfinished=args.leave_out_unfinished,
        where=parse_where(args.where),
        limit=args.limit,
        test_share=args.split,
        step_labels=args.step_labels,
        conversational=args.conversational,
        separator=separator_from(args.separator),
        critic_prompt=args.critic_prompt,
        pairs=tuple(p.strip() for p in args.pairs.split(",") if p.strip()),
        output="hf" if args.hf else "parquet" if args.parquet else "jsonl",
        usefulness=args.usefulness,
    )


def tqdm_progress():
    """A progress bar on stderr, so stdout stays the summary (or JSON) a script reads."""
    from tqdm import tqdm

    bar = tqdm(total=1, unit="trace", file=sys.stderr, leave=False, mininterval=0.2)
    current = [""]  # tqdm decorates its description, so the stage is kept here

    def progress(stage: str, done: int, total: int) -> None:
        if current[0] != stage:
            current[0] = stage
            bar.reset(total=total)
            bar.set_description(stage)
        bar.total = total
        bar.update(done - bar.n)

    return progress, bar.close


def run(args: argparse.Namespace, engine: Engine) -> int:
    from annotation.exporting.run import export_project

    progress, close = (None, lambda: None) if args.quiet else tqdm_progress()
    try:
        summary = export_project(engine, args.project, args.format, args.out, options_from(args), progress)
    except ExportFailure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        close()
    if args.json:
        print(json.dumps({"files": summary.files, "card": summary.card, **summary.facts}))
        return 0
    print(f"project {summary.project!r} -> {summary.format} ({summary.output})")
    for line in summary.lines():
        print(f"  {line}")
    for path in summary.files:
        print(f"  wrote {path}")
    print(f"  dataset card {summary.card}")
    return 0
