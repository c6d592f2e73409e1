"""`python -m annotation revise ...`: does a critique help? Revise every trace a source judged and grade the result.

    python -m annotation revise --project P --critiques SOURCE (--reviser NAME | --model M [--api-base URL]
        [--api-key-env NAME] [--name NAME]) [--show verdict|first-error|full|none]
        [--grader math-verify|exact|critic:NAME] [--concurrency N] [--limit N] --json

With --json it prints one JSON object: the source, show, counts, rates in percent and their 95% bootstrap
intervals (``ci``), over every result of this configuration (reviser, show, grader) for that source. Running
the same command again sends no request it sent before.

Exit status, as every command's (annotation.cli.main): 0; 1 when a request failed or an answer could not be graded,
and for a project that does not exist (NoSuchProject, as critique, metrics and export); 2 for a bad argument
(InvalidValue, named).
"""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy import Engine

from annotation.core.model import InvalidValue
from annotation.critics.config import CriticConfig
from annotation.revision.prompts import SHOWS
from annotation.revision.revisers import model_reviser, saved_reviser

NAME = "revise"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("revise", help="revise the traces a source judged with its critiques, and grade the answers")
    p.add_argument("--project", required=True)
    p.add_argument(
        "--critiques", required=True, metavar="SOURCE", help="reference, consensus, human:NAME, human:* or model:NAME"
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--reviser", help="a saved critic's name: its model and settings revise")
    who.add_argument("--model", help="a litellm model string, e.g. openai/gpt-4o-mini")
    p.add_argument("--api-base", default=None, help="with --model: the server's URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument(
        "--api-key-env", default=None, help="with --model: NAME of the variable holding the key (REDLINE_API_KEY_NAMES)"
    )
    p.add_argument(
        "--name",
        default=None,
        help="with --model: the reviser's name in the results (default: the model's); not a saved critic's name",
    )
    p.add_argument(
        "--vision",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --model: send (or, with --no-vision, do not send) the trace's images; default: as litellm knows "
        "the model",
    )
    p.add_argument("--show", choices=SHOWS, default="full", help="what the reviser is shown of the critique")
    p.add_argument("--grader", default="math-verify", help="math-verify (default), exact, or critic:NAME")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--limit", type=int, default=None, help="revise at most the first N critiques")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def reviser_of(args: argparse.Namespace, engine: Engine) -> CriticConfig:
    if args.reviser:
        if args.api_base or args.api_key_env or args.name or args.vision is not None:
            raise InvalidValue(
                "reviser", "--api-base, --api-key-env, --name and --vision go with --model; a saved critic has its own"
            )
        return saved_reviser(engine, args.reviser)
    try:
        return model_reviser(
            engine, args.model, api_base=args.api_base, api_key_env=args.api_key_env, name=args.name, vision=args.vision
        )
    except InvalidValue as e:
        if e.field != "name":
            raise
        raise InvalidValue("name", f"{e.message} (--reviser, or --name)") from None


def _text(d: dict) -> str:
    ci = d["ci"]

    def with_ci(name: str, unit: str = "%") -> str:
        low, high = ci[name]
        value = d[name]
        shown = "–" if value is None else f"{value}{unit}"
        return shown if low is None else f"{shown} [{low}, {high}]"

    run = d["run"]
    return "\n".join(
        [
            f"{d['source']} critiques ({d['show']}) revised by {d['reviser']}, graded by {d['grader']}: "
            f"{d['n']} traces ({d['n_wrong_before']} wrong, {d['n_right_before']} right before)",
            f"  fixed {d['fixed']}  fix rate {with_ci('fix_rate')}",
            f"  broken {d['broken']}  break rate {with_ci('break_rate')}",
            f"  accuracy {d['accuracy_before']}% -> {d['accuracy_after']}%"
            f"  change {with_ci('accuracy_change', ' pts')}",
            f"  run {run['id']} {run['status']}: {run['revised']} revised, {run['cached']} reused, {run['failed']} "
            f"failed, {run['ungraded']} not graded, {d['no_answer']} without a final answer, {d['no_reference']} "
            f"without a reference answer; cost ${run['cost']:.4f}, {run['prompt_tokens'] + run['completion_tokens']} "
            "tokens",
        ]
    )


def run(args: argparse.Namespace, engine: Engine) -> int:
    from tqdm import tqdm

    from annotation.judgments.visibility import ProjectView
    from annotation.metrics.pairs import check_source
    from annotation.revision.report import load_results, report_for
    from annotation.revision.runs import RevisionPlan, RevisionProgress, run_revision

    if args.bootstrap < 0:
        raise InvalidValue("bootstrap", "--bootstrap cannot be negative")
    reviser = reviser_of(args, engine)
    plan = RevisionPlan(
        project=args.project,
        critiques=check_source(args.critiques),
        reviser=reviser,
        show=args.show,
        grader=args.grader,
        limit=args.limit,
    ).validate()
    bar = tqdm(total=0, unit="trace", file=sys.stderr, disable=args.quiet or None, desc=f"revise {plan.critiques}")

    def progress(p: RevisionProgress) -> None:
        if bar.total != p.total:
            bar.reset(total=p.total)
        bar.update(p.finished - bar.n)
        bar.set_postfix(failed=p.failed, cost=f"${p.cost:.4f}", refresh=False)

    try:
        result = run_revision(engine, plan, concurrency=args.concurrency, progress=progress)
    finally:
        bar.close()
    frame = load_results(
        engine,
        plan.project,
        ProjectView.admin(),
        reviser=reviser.name,
        show=plan.show,
        reviser_hash=reviser.config_hash(),
        grader=plan.grader,
    )
    report = report_for(frame, plan.critiques, plan.show, resamples=args.bootstrap, details=False).as_dict()
    out = {
        **report,
        "reviser": reviser.name,
        "grader": plan.grader,
        "no_reference": result.no_reference,
        "run": {
            "id": result.run_id,
            "status": result.status,
            "revised": result.done,
            "cached": result.skipped + result.cached,
            "failed": result.failed,
            "ungraded": result.ungraded,
            "cost": result.cost,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "elapsed_s": round(result.elapsed_s, 3),
            "error": result.error,
        },
    }
    print(json.dumps(out) if args.json else _text(out))
    return 0 if result.status == "done" and result.failed == 0 and result.ungraded == 0 else 1
