"""`python -m annotation critique ...`: run a model critic over a project, as the Critics page does.

    python -m annotation critique --project NAME --critic NAME
    python -m annotation critique --project NAME --model openai/gpt-4o-mini [--api-base URL] [--template T] [--name N]

With --model the critic is saved under --name (default: the model's name) so its runs and results can be
found again; the judgments' source is model:<name>. A run skips traces this same configuration has
already critiqued, so running the command again resumes an interrupted run.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import Engine

from annotation.core.model import InvalidValue
from annotation.critics.config import CriticConfig, default_name, get_critic, save_critic
from annotation.critics.keys import check_key_name
from annotation.critics.runs import REFERENCE_CHOICES, RunFilter, RunProgress
from annotation.critics.templates import template_names

NAME = "critique"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("critique", help="run a model critic (any litellm model) over a project's traces")
    p.add_argument("--project", required=True)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--critic", help="a saved critic's name")
    who.add_argument("--model", help="a litellm model string, e.g. openai/gpt-4o-mini, ollama/qwen2.5")
    p.add_argument("--api-base", default=None, help="the server's URL, e.g. http://127.0.0.1:8000/v1 (vLLM)")
    p.add_argument("--template", choices=template_names(), default=None, help="prompt template (default processbench)")
    p.add_argument("--prompt-file", default=None, help="with --template custom: the template text ($problem...)")
    p.add_argument("--name", default=None, help="with --model: the critic's name (default: the model's name)")
    p.add_argument(
        "--api-key-env",
        default=None,
        help="NAME of the environment variable holding the API key (listed in REDLINE_API_KEY_NAMES)",
    )
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--limit", type=int, default=None, help="critique at most the first N selected traces")
    p.add_argument("--samples", type=int, default=None, help="samples per trace; majority vote on the first error")
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--max-tokens", type=int, default=None)
    p.add_argument("--timeout", type=float, default=None, help="seconds per request")
    p.add_argument("--retries", type=int, default=None, help="retries on rate limits, timeouts and 5xx")
    p.add_argument("--generator", default=None, help="only traces from this generator")
    p.add_argument("--reference", choices=REFERENCE_CHOICES, default="any", help="only traces with this reference")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _changes(args: argparse.Namespace) -> dict:
    prompt = None
    if args.prompt_file:
        with open(args.prompt_file, encoding="utf-8") as f:
            prompt = f.read()
    return {
        "api_base": args.api_base,
        "template": args.template,
        "prompt": prompt,
        "samples": args.samples,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
        "timeout_s": args.timeout,
        "retries": args.retries,
        "api_key_env": args.api_key_env,
    }


def _critic(args: argparse.Namespace, engine: Engine) -> CriticConfig:
    """The critic to run, saved (created, or updated where the options changed it)."""
    changes = _changes(args)
    if args.critic:
        saved = get_critic(engine, args.critic)
        if saved is None:
            raise InvalidValue("critic", f"no saved critic named {args.critic!r}; give --model to make one")
    else:
        name = args.name or default_name(args.model)
        saved = get_critic(engine, name) or CriticConfig(name=name, model=args.model)
        changes["model"] = args.model
    config = saved.with_changes(**changes).validate()
    check_key_name(config.api_key_env)  # refused, naming it, before it is saved or anything is sent
    if config != saved or get_critic(engine, config.name) is None:
        save_critic(engine, config)
        print(f"saved critic {config.name!r} ({config.model}, template {config.template})", file=sys.stderr)
    return config


def run(args: argparse.Namespace, engine: Engine) -> int:
    from tqdm import tqdm

    from annotation.critics.runs import run_critic

    config = _critic(args, engine)
    filters = RunFilter(generator=args.generator, reference=args.reference, limit=args.limit)
    bar = tqdm(total=0, unit="trace", file=sys.stderr, disable=args.quiet or None, desc=f"model:{config.name}")

    def on_start(p: RunProgress) -> None:
        if p.warning:
            print(f"warning: {p.warning}", file=sys.stderr)
        bar.reset(total=p.total)

    def progress(p: RunProgress) -> None:
        bar.update(p.finished - bar.n)
        bar.set_postfix(failed=p.failed, cost=f"${p.cost:.4f}", refresh=False)

    try:
        hooks = {"progress": progress, "on_start": on_start}
        result = run_critic(engine, config, args.project, filters=filters, concurrency=args.concurrency, **hooks)
    finally:
        bar.close()
    print(
        f"run {result.run_id} {result.status}: {result.done} critiqued ({result.failed} failed, "
        f"{result.unparsed} unparsed), {result.skipped} already done; cost ${result.cost:.4f}; "
        f"source model:{config.name}"
    )
    return 0 if result.status == "done" and result.failed == 0 else 1
