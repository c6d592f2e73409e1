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
    p.add_argument(
        "--reason-judge",
        metavar="MODEL",
        help="also ask this litellm model whether A's critique at the first error names the same mistake as B's "
        "(A a model, B a human); verdicts are stored and accuracy(reason) reported",
    )
    p.add_argument("--reason-api-base", metavar="URL", help="api_base for --reason-judge (e.g. a local vLLM)")
    p.add_argument(
        "--reason-api-key-env",
        metavar="NAME",
        help="the variable holding the judge's API key; only names listed in REDLINE_API_KEY_NAMES are used",
    )


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
    if args.reason_judge:
        from annotation.critics.keys import KeyNotAllowed
        from annotation.critics.reason_agreement import judge_reasons, reason_accuracy

        if not (a.startswith("model:") and b.startswith("human:") and b != "human:*"):
            print(
                "error: --reason-judge compares a model (--a model:NAME) with one person (--b human:NAME)",
                file=sys.stderr,
            )
            return 2
        options = {"api_base": args.reason_api_base} if args.reason_api_base else {}
        try:
            judge_reasons(
                engine,
                args.project,
                human=b,
                model=a,
                judge=args.reason_judge,
                options=options,
                api_key_env=args.reason_api_key_env,
            )
        except KeyNotAllowed as e:
            print(f"error: {e.message}; nothing was sent", file=sys.stderr)
            return 2
        result["reason"] = reason_accuracy(engine, args.project, human=b, model=a, judge=args.reason_judge)
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(_text(result)))
        if "reason" in result:
            r = result["reason"]
            print(f"  reason        accuracy(reason) {r['accuracy_reason']}% ({r['same']} of {r['n_flawed']} flawed)")
    return 0
