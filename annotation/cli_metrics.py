"""`python -m annotation metrics ...`: how one source's judgments compare with another's, as the Compare page shows."""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy import Engine

NAME = "metrics"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metrics",
        help="compare source A with source B (ProcessBench F1, first-error accuracy, MCC, kappa, disagreements)",
    )
    p.add_argument("--project", required=True)
    p.add_argument("--a", required=True, metavar="SOURCE", help="e.g. model:NAME, human:NAME, human:* (all humans)")
    p.add_argument("--b", default="reference", metavar="SOURCE", help="the side measured against (default reference)")
    p.add_argument("--k", type=int, default=1, help="first-error accuracy within +-K steps (default 1)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _text(d: dict) -> list[str]:
    iv = d["intervals"]

    def with_interval(name: str) -> str:
        low, high = iv[name]
        return f"{d[name]} [{low}, {high}]" if low is not None else f"{d[name]}"

    lines = [
        f"{d['a']} against {d['b']} in {d['project']!r}: {d['n']} pairs ({d['n_error']} where B has an error)",
        f"  ProcessBench  acc_error {with_interval('acc_error')}  acc_correct {with_interval('acc_correct')}"
        f"  F1 {with_interval('f1')}",
        f"  first error   exact {with_interval('first_error_accuracy')}%"
        f"  within +-{d['k']} {d['first_error_within_k']}%",
        f"  solution      MCC {with_interval('mcc')}  accuracy {d['solution']['accuracy']}%"
        f"  F1(flawed) {d['solution']['f1']}%",
        f"  steps         kappa {d['step_kappa']} over {d['steps']['n']} steps both rated",
        "  disagreements " + ", ".join(f"{k} {v}" for k, v in d["disagreements"].items()),
    ]
    humans = d.get("humans") or {}
    if len(humans.get("humans", [])) >= 2:
        lines.append(
            f"  humans        alpha(first error) {humans['alpha_first_error']}  alpha(steps) {humans['alpha_steps']}"
            f" over {humans['units']} traces"
        )
    return lines


def run(args: argparse.Namespace, engine: Engine) -> int:
    from annotation.metrics import compare, load_project
    from annotation.metrics.pairs import check_source

    if args.k < 0 or args.bootstrap < 0:
        print("error: --k and --bootstrap cannot be negative", file=sys.stderr)
        return 2
    a, b = check_source(args.a), check_source(args.b)
    data = load_project(engine, args.project)
    known = data.sources
    for side, source in (("--a", a), ("--b", b)):
        if source != "human:*" and source not in known:
            print(
                f"error: {side}: no judgments from {source} in {args.project!r}"
                f" (sources: {', '.join(known) or 'none'})",
                file=sys.stderr,
            )
            return 2
    result = compare(data, a, b, k=args.k, resamples=args.bootstrap, seed=args.seed, details=False).as_dict()
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(_text(result)))
    return 0
