"""A revision run: a reviser (a litellm critic configuration) revises every trace a source judged, given that
source's critique (or none), and each revised answer is graded against the reference, as is the original.

Like a critic run (annotation.critics.runs): requests go out ``concurrency`` at a time with the critic's retries;
progress, cost and tokens are recorded; it can be cancelled from any process; a run left by a dead process is
marked interrupted. It is resumable and cached: a request already answered (the same reviser configuration and
the same messages, whatever run or source sent it) is never sent again, and a result already graded the same way
is left as it is, so a second run with the same configuration sends nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from annotation.accounts.users import Account
from annotation.core.model import InvalidValue
from annotation.critics.config import api_key_for, scrub
from annotation.critics.runs import RAMP_MAX_S, RAMP_S, Background, watch_cancel, write_in_batches
from annotation.revision.answers import final_answer
from annotation.revision.bookkeeping import (
    RevisionRunRecord,
    cancel_run,
    copy_counts,
    finish,
    revision_history,
    start_run,
)
from annotation.revision.grading import Grader, ToGrade, make_grader
from annotation.revision.plan import NotAllowed, RevisionPlan, RevisionProgress
from annotation.revision.store import (
    Item,
    MissingImage,
    check_critiques,
    fill_images,
    select_items,
    stored_replies,
    stored_results,
    write_results,
)
from storage.tables import RevisionRun, utcnow

# The plan, progress and run rows live in their own modules; they are part of what a caller of runs uses.
__all__ = [
    "BackgroundRevision",
    "NotAllowed",
    "RevisionPlan",
    "RevisionProgress",
    "RevisionRunRecord",
    "cancel_run",
    "revision_history",
    "run_revision",
]


@dataclass
class _Outcome:
    items: list[Item]  # every item that sent this one request
    text: str | None
    extra: dict[str, Any]
    fresh: bool  # a request was sent for it in this run


async def _rows(outcomes: list[_Outcome], grader: Grader, plan: RevisionPlan, run_id: int) -> list[dict[str, Any]]:
    """Grade a batch (every original and revised answer in one call) and make its result rows."""
    answered = [(o, item) for o in outcomes if o.text is not None for item in o.items]
    answers = {id(o): final_answer(o.text) for o in outcomes if o.text is not None}
    to_grade = [ToGrade(i.original, i.reference, i.trace.problem) for _, i in answered]
    to_grade += [ToGrade(answers[id(o)], i.reference, i.trace.problem) for o, i in answered]
    grades = await grader.grade(to_grade)
    before, after = grades[: len(answered)], grades[len(answered) :]
    rows = []
    for (o, item), b, a in zip(answered, before, after, strict=True):
        extra = {**o.extra, "reference": item.reference, "graded": {"original": b.how, "revised": a.how}}
        # A grade that could not be made (not a wrong answer): kept out of the figures, graded again next run.
        status = "done" if b.graded and a.graded else "ungraded"
        rows.append(_row(item, run_id, plan, status, o.text, answers[id(o)], b.correct, a.correct, extra))
    for o in outcomes:
        if o.text is None:
            rows.extend(_row(i, run_id, plan, "failed", None, None, None, None, o.extra) for i in o.items)
    return rows


def _row(item: Item, run_id: int, plan: RevisionPlan, status: str, text, answer, before, after, extra) -> dict:
    return {
        "trace_id": item.trace_id,
        "critique_source": item.source,
        "reviser_hash": plan.reviser.config_hash(),
        "request_hash": item.request_hash,
        "run_id": run_id,
        "status": status,
        "critique_version": item.critique_version,
        "original_answer": item.original,
        "revised_answer": answer,
        "revised_text": text,
        "original_correct": before,
        "revised_correct": after,
        "grader": plan.grader,
        "extra": extra,
    }


def _count(p: RevisionProgress, outcomes: list[_Outcome], rows: list[dict[str, Any]]) -> None:
    for o in outcomes:
        n = len(o.items)
        if o.fresh:
            p.done += n
        else:
            p.cached += n
        if o.text is None:
            p.failed += n
        elif o.fresh:
            p.cost += float(o.extra.get("cost", 0.0))
            tokens = o.extra.get("tokens") or {}
            p.prompt_tokens += int(tokens.get("prompt", 0))
            p.completion_tokens += int(tokens.get("completion", 0))
    p.no_answer += sum(1 for r in rows if r["status"] == "done" and r["revised_answer"] is None)
    p.ungraded += sum(1 for r in rows if r["status"] == "ungraded")


async def _run(
    engine: Engine,
    plan: RevisionPlan,
    requests: dict[str, list[Item]],
    reuse: list[_Outcome],
    p: RevisionProgress,
    grader: Grader,
    *,
    concurrency: int,
    progress: Callable[[RevisionProgress], None] | None,
    cancel: threading.Event | None,
    caller_options: dict[str, Any],
    project_id: int,
) -> None:
    from annotation.critics.calling import Caller, CritiqueFailed

    caller = Caller(plan.reviser, **caller_options)
    started = time.monotonic()
    gate = asyncio.Semaphore(concurrency)
    queue: asyncio.Queue[_Outcome | None] = asyncio.Queue()
    for outcome in reuse:
        queue.put_nowait(outcome)

    async def one(index: int, items: list[Item]) -> None:
        async with gate:
            if index < concurrency:  # the first wave spread out, as critic runs do (answers not all at once)
                await asyncio.sleep(index * min(RAMP_S, RAMP_MAX_S / concurrency))
            try:
                messages = items[0].messages
                if any(isinstance(m["content"], list) for m in messages):  # images, read just before sending
                    messages = await asyncio.to_thread(fill_images, engine, project_id, messages)
                reply = await caller.ask(messages)
                extra = {
                    "model": plan.reviser.model,
                    "tokens": {"prompt": reply.prompt_tokens, "completion": reply.completion_tokens},
                    "cost": reply.cost,
                    "latency_s": round(reply.latency_s, 4),
                    "attempts": reply.attempts,
                }
                outcome = _Outcome(items, reply.text, extra, True)
            except asyncio.CancelledError:
                raise
            except (CritiqueFailed, MissingImage) as e:
                outcome = _Outcome(items, None, {"error": str(e)}, True)
            except Exception as e:  # one trace's bad luck must not stop the run
                message = scrub(f"{type(e).__name__}: {e}", caller_options.get("api_key"))[:2000]
                outcome = _Outcome(items, None, {"error": message}, True)
            queue.put_nowait(outcome)

    seen = {"cost": 0.0, "prompt": 0, "completion": 0}

    async def flush(batch: list[_Outcome]) -> bool:
        try:
            rows = await _rows(batch, grader, plan, p.run_id)

            def counts(s: Any) -> None:
                run = s.get(RevisionRun, p.run_id)
                if run is not None:
                    copy_counts(run, p)
                    run.heartbeat_at = utcnow()
                    s.add(run)

            _count(p, batch, rows)
            # An LLM grader's calls cost too: what it spent since the last batch.
            p.cost += grader.cost - seen["cost"]
            p.prompt_tokens += grader.prompt_tokens - seen["prompt"]
            p.completion_tokens += grader.completion_tokens - seen["completion"]
            seen.update(cost=grader.cost, prompt=grader.prompt_tokens, completion=grader.completion_tokens)
            await asyncio.to_thread(write_results, engine, rows, show=plan.show, reviser=plan.reviser.name, run=counts)
        except Exception as e:
            # Without storage (or grading) there is no point asking the model further: stop, and say why.
            p.status, p.error = "failed", f"could not store results: {type(e).__name__}: {e}"[:2000]
            return False
        p.elapsed_s = time.monotonic() - started
        if progress is not None:
            progress(p)
        return True

    async def writer() -> None:
        if not await write_in_batches(queue, flush, lambda: p.marks.append(time.monotonic() - started)):
            tasks.cancel()

    def stop() -> None:
        p.status = "cancelled"
        grader.stop.set()  # grading under way stops too: what it did not grade is stored ungraded
        tasks.cancel()

    tasks = asyncio.gather(*(one(i, items) for i, items in enumerate(requests.values())))
    writing = asyncio.create_task(writer())
    # Watched until the last result is written: a cancel while the last replies are graded stops the grading too.
    watcher = asyncio.create_task(watch_cancel(engine, p.run_id, cancel, until=writing, stop=stop, table=RevisionRun))
    try:
        await tasks
    except asyncio.CancelledError:
        if p.status not in ("cancelled", "failed"):
            raise
    finally:
        queue.put_nowait(None)
        try:
            await writing
        finally:
            watcher.cancel()


def _plan_work(
    engine: Engine, plan: RevisionPlan, items: list[Item]
) -> tuple[dict[str, list[Item]], list[_Outcome], int]:
    """Requests to send (one per distinct request), stored replies to grade again, and how many need nothing."""
    stored = stored_results(
        engine,
        items,
        show=plan.show,
        reviser=plan.reviser.name,
        reviser_hash=plan.reviser.config_hash(),
        grader=plan.grader,
    )
    replies = stored_replies(engine, [i.request_hash for i in items])
    requests: dict[str, list[Item]] = {}
    reuse: dict[str, list[Item]] = {}
    untouched = 0
    for item in items:
        before = stored.get((item.trace_id, item.source))
        # A result is left as it is only when graded, of the same request, answers and critique version: an
        # ungraded one is graded again, and one of an edited critique is made again (stale until then).
        same = (
            before is not None
            and before.status == "done"
            and before.request_hash == item.request_hash
            and before.critique_version == item.critique_version
            and before.original_answer == item.original
            and before.reference == item.reference
        )
        if same:
            untouched += 1
        elif item.request_hash in replies:
            reuse.setdefault(item.request_hash, []).append(item)
        else:
            requests.setdefault(item.request_hash, []).append(item)
    outcomes = [
        _Outcome(group, replies[h][0], {k: v for k, v in replies[h][1].items() if k != "graded"}, False)
        for h, group in reuse.items()
    ]
    return requests, outcomes, untouched


def run_revision(
    engine: Engine,
    plan: RevisionPlan,
    *,
    concurrency: int = 8,
    progress: Callable[[RevisionProgress], None] | None = None,
    cancel: threading.Event | None = None,
    on_start: Callable[[RevisionProgress], None] | None = None,
    account: Account | None = None,
    api_key: str | None = None,
    secrets: Mapping[str, Any] | None = None,
    grader: Grader | None = None,
    backoff_base_s: float | None = None,
    mock_response: Any = None,
) -> RevisionProgress:
    """Revise and grade every trace ``plan.critiques`` judged; returns the final counts.

    ``account``: who starts it (only an admin may); None for the operator on the command line."""
    if account is not None and not account.is_admin:
        raise NotAllowed("only admins start revision runs")
    plan = plan.validate()
    if concurrency < 1:
        raise InvalidValue("concurrency", "concurrency must be at least 1")
    check_critiques(engine, plan.project, plan.critiques)
    # Keys are read (or refused, naming them) before any run is recorded or request sent.
    key = api_key if api_key is not None else api_key_for(plan.reviser, secrets)
    grader = grader or make_grader(plan.grader, engine=engine, secrets=secrets, concurrency=concurrency)
    project_id, items, no_reference = select_items(
        engine,
        plan.project,
        plan.critiques,
        plan.show,
        plan.reviser.config_hash(),
        plan.limit,
        sees_images=plan.reviser.sees_images(),
    )
    requests, reuse, untouched = _plan_work(engine, plan, items)
    run_id = start_run(engine, plan, project_id, len(items), account.username if account else "command line")
    p = RevisionProgress(run_id=run_id, total=len(items), skipped=untouched, no_reference=no_reference)
    started = time.monotonic()
    if on_start is not None:
        on_start(p)
    if progress is not None:
        progress(p)
    caller_options: dict[str, Any] = {"api_key": key, "mock_response": mock_response}
    if backoff_base_s is not None:
        caller_options["backoff_base_s"] = backoff_base_s
    try:
        if requests or reuse:
            asyncio.run(
                _run(
                    engine,
                    plan,
                    requests,
                    reuse,
                    p,
                    grader,
                    concurrency=concurrency,
                    progress=progress,
                    cancel=cancel,
                    caller_options=caller_options,
                    project_id=project_id,
                )
            )
        if p.status == "running":
            p.status = "done"
    except KeyboardInterrupt:
        p.status = "cancelled"
        raise
    except (SQLAlchemyError, OSError, RuntimeError) as e:
        p.status, p.error = "failed", f"{type(e).__name__}: {e}"[:2000]
        raise
    finally:
        p.elapsed_s = time.monotonic() - started
        grader.close()
        finish(engine, p)
    return p


class BackgroundRevision(Background):
    """A revision run in a thread of its own, for the page."""

    def __init__(self, engine: Engine, plan: RevisionPlan, **options: Any) -> None:
        super().__init__(lambda **hooks: run_revision(engine, plan, **hooks, **options), "revision-run")
