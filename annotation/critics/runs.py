"""A batch run of a critic over a project (or a filtered part): concurrency, progress, cancel and resume.

Each trace's result is a judgment of source ``model:<critic name>``; a trace whose judgment from the same
configuration (same ``config_hash``) was submitted before is skipped, so a stopped run resumes where it
stopped. A trace that fails is recorded on that trace (status ``failed``) and the run goes on. Earlier
results are revised, never overwritten: their previous state is kept as a revision.

litellm is imported only when a run starts (``annotation.critics.calling``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from annotation.core.model import InvalidValue, Judgment
from annotation.core.parts import image_refs, is_remote
from annotation.core.records import trace_from_row
from annotation.critics.config import CriticConfig, api_key_for, critic_id, scrub
from annotation.critics.family import family_warning
from annotation.critics.quotes import spans_from_quotes
from annotation.judgments.writing import ANY_VERSION, JudgmentWrite, record
from annotation.projects.images import image_uris
from annotation.projects.overview import NoSuchProject
from storage import queries, work
from storage.db import session
from storage.tables import Critic, CriticRun, JudgmentRow, TraceRow, utcnow

REFERENCE_CHOICES = ("any", "error", "no_error", "unlabelled")
WRITE_EVERY_S = 0.5
WRITE_BATCH = 200


async def write_in_batches(
    queue: asyncio.Queue, flush: Callable[[list[Any]], Awaitable[bool]], taken: Callable[[], None]
) -> bool:
    """Take results from ``queue`` until ``None`` and hand them to ``flush`` a batch at a time: every WRITE_EVERY_S
    or WRITE_BATCH results, and the rest at the end; ``taken`` is told of each result. False (at once) when
    ``flush`` says storing failed. Shared by critic and revision runs: one writer, so one transaction at a time."""
    pending: list[Any] = []
    last = time.monotonic()
    finished = False
    while not finished:
        try:
            item = await asyncio.wait_for(queue.get(), timeout=WRITE_EVERY_S)
            if item is None:
                finished = True
            else:
                pending.append(item)
                taken()
        except TimeoutError:
            pass
        due = time.monotonic() - last >= WRITE_EVERY_S or len(pending) >= WRITE_BATCH
        if pending and (due or finished):
            batch, pending = pending, []
            if not await flush(batch):
                return False
            last = time.monotonic()
    return True


CANCEL_POLL_S = 0.2
DB_CANCEL_POLL_S = 2.0
RAMP_S = 0.01
RAMP_MAX_S = 1.0
# A live run touches its heartbeat every DB_CANCEL_POLL_S; one silent this long was stopped by a dead process.
STALE_AFTER_S = 60.0
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class RunFilter:
    """Which traces of the project a run covers: by generator, by the reference label, a slice by position."""

    generator: str | None = None
    reference: str = "any"  # any | error | no_error | unlabelled
    start: int = 0
    limit: int | None = None

    def validate(self) -> RunFilter:
        if self.reference not in REFERENCE_CHOICES:
            raise InvalidValue("reference", f"{self.reference!r} is not one of {', '.join(REFERENCE_CHOICES)}")
        if self.start < 0:
            raise InvalidValue("start", "start must not be negative")
        if self.limit is not None and self.limit < 1:
            raise InvalidValue("limit", "limit must be at least 1")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "any", 0)}


# The pace of a run is read over its latest results: at most this many, and from at least this many.
PACE_WINDOW = 50
MIN_MARKS = 3


@dataclass
class RunProgress:
    run_id: int
    total: int
    done: int = 0  # critiqued in this run, failures included
    skipped: int = 0  # already critiqued with this configuration
    failed: int = 0
    unparsed: int = 0
    cost: float = 0.0
    elapsed_s: float = 0.0
    status: str = "running"
    warning: str | None = None
    # Traces with images the critic is not shown (a text-only model, or links never fetched): it is told so.
    unseen_images: int = 0
    error: str | None = None
    # When the latest results came in (seconds into the run): the pace is read from these, not from the start.
    marks: deque[float] = field(default_factory=lambda: deque(maxlen=PACE_WINDOW))

    @property
    def finished(self) -> int:
        return self.done + self.skipped

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.finished / self.total)

    @property
    def eta_s(self) -> float | None:
        """Time left at the pace of the latest results; None until a few have come in.

        The pace since the start would count the wait for the first answers against every later one: with 8
        requests at once, the first result after 3.6 s said "about 3,649 s left" for a run that took 46 s."""
        if len(self.marks) < MIN_MARKS:
            return None
        span = self.marks[-1] - self.marks[0]
        if span <= 0:
            return None
        return (self.total - self.finished) / ((len(self.marks) - 1) / span)


ProgressCallback = Callable[[RunProgress], None]


@dataclass
class _Work:
    trace_id: int
    n_steps: int
    trace: Any  # annotation.core.model.Trace
    # Whether the critic is sent the trace's stored images (read just before its request).
    sees_images: bool = False
    # The steps the critic was shown (TraceRow.steps_version): a critique of steps since merged or split is not kept.
    steps_version: int = 1


@dataclass
class _Result:
    work: _Work
    judgment: Judgment
    failed: bool
    unparsed: bool
    cost: float


@dataclass
class _State:
    progress: RunProgress
    started: float
    results: list[_Result] = field(default_factory=list)


def select_traces(engine: Engine, project: str, filters: RunFilter) -> tuple[int, list[TraceRow]]:
    """The project's id and the traces a run covers, in import order."""
    with session(engine) as s:
        proj = queries.get_project(s, name=project)
        if proj is None:
            raise NoSuchProject(f"no project named {project!r}")
        query = select(TraceRow).where(TraceRow.project_id == proj.id).order_by(TraceRow.position)
        if filters.generator:
            query = query.where(TraceRow.generator == filters.generator)
        rows = list(s.exec(query))
        refs: dict[int, JudgmentRow] = {}
        if filters.reference != "any":
            ids = [r.id for r in rows]
            refs = {j.trace_id: j for j in queries.judgments_on(s, trace_ids=ids) if j.source_kind == "reference"}
    if filters.reference != "any":

        def keep(row: TraceRow) -> bool:
            ref = refs.get(row.id)
            label = None if ref is None else ref.first_error
            if filters.reference == "unlabelled":
                return label is None
            if label is None:
                return False
            return (label == -1) == (filters.reference == "no_error")

        rows = [r for r in rows if keep(r)]
    rows = rows[filters.start :]
    if filters.limit is not None:
        rows = rows[: filters.limit]
    return proj.id, rows


def _existing(engine: Engine, trace_ids: list[int], config: CriticConfig) -> dict[int, tuple[str | None, str]]:
    """trace id -> (config hash, status) of this critic's current judgments."""
    found: dict[int, tuple[str | None, str]] = {}
    with session(engine) as s:
        for start in range(0, len(trace_ids), queries.WRITE_CHUNK):
            chunk = trace_ids[start : start + queries.WRITE_CHUNK]
            query = select(JudgmentRow.trace_id, JudgmentRow.extra, JudgmentRow.status).where(
                JudgmentRow.trace_id.in_(chunk),
                JudgmentRow.source_kind == "model",
                JudgmentRow.source_name == config.name,
            )
            for trace_id, extra, status in s.exec(query):
                found[trace_id] = ((extra or {}).get("config_hash"), status)
    return found


def _success(config: CriticConfig, critique: Any, work: _Work, run_id: int, config_hash: str) -> Judgment:
    parsed = critique.parsed
    extra: dict[str, Any] = {
        "raw": critique.raw,
        "prompt_hash": critique.prompt_hash,
        "model": config.model,
        "template": config.template,
        "tokens": {"prompt": critique.prompt_tokens, "completion": critique.completion_tokens},
        "latency_s": round(critique.latency_s, 4),
        "cost": critique.cost,
        "config_hash": config_hash,
        "unparsed": parsed.unparsed,
        "parsed_from": parsed.how,
        "run_id": run_id,
        "attempts": critique.attempts,
    }
    if parsed.problem:
        extra["parse_problem"] = parsed.problem
    quoted = spans_from_quotes(parsed.quoted, work.trace)
    if parsed.quoted:
        extra["quotes"] = {"matched": len(quoted.spans), "unmatched": len(quoted.unmatched)}
        if quoted.unmatched:
            extra["unmatched_quotes"] = quoted.unmatched
    if config.samples > 1:
        extra["votes"] = critique.votes
    judgment = Judgment(
        source=config.source,
        first_error=parsed.first_error,
        steps=list(parsed.steps),
        critique=parsed.critique,
        status="submitted",
        extra=extra,
        spans=quoted.spans,
    )
    judgment.validate(work.n_steps)
    return judgment


def _failure(config: CriticConfig, message: str, run_id: int, config_hash: str) -> Judgment:
    judgment = Judgment(
        source=config.source,
        status="failed",
        extra={"error": message, "model": config.model, "config_hash": config_hash, "run_id": run_id},
    )
    return judgment


def _write(engine: Engine, config: CriticConfig, run_id: int, results: list[_Result], progress: RunProgress) -> None:
    """One transaction: new judgments inserted, existing ones revised (keeping their previous state), counts."""
    now = utcnow()
    with session(engine) as s:
        work.lock_traces(s, trace_ids=sorted({r.work.trace_id for r in results}))
        versions = queries.steps_versions(s, trace_ids=[r.work.trace_id for r in results])
        writes = []
        for r in results:
            judgment = r.judgment
            if versions.get(r.work.trace_id, 1) != r.work.steps_version:
                # Someone merged or split the steps while the model read them: its step indices no longer fit.
                message = "the trace's steps were merged or split during the run; run it again"
                judgment = _failure(config, message, run_id, config.config_hash())
                progress.failed += 0 if r.failed else 1
            writes.append(
                JudgmentWrite(
                    r.work.trace_id,
                    judgment,
                    expected_version=ANY_VERSION,
                    changed_by=f"critic run {run_id}",
                    steps_version=versions.get(r.work.trace_id, 1),
                )
            )
        record(s, writes, now=now)
        run = s.get(CriticRun, run_id)
        if run is not None:
            _copy_counts(run, progress)
            run.heartbeat_at = now
            s.add(run)
        s.commit()


def _copy_counts(run: CriticRun, progress: RunProgress) -> None:
    run.done, run.failed, run.skipped, run.cost = progress.done, progress.failed, progress.skipped, progress.cost


def request_cancel(engine: Engine, run_id: int, *, table: type = CriticRun) -> bool:
    """Ask a running run (of ``table``: critic runs, revision runs) to stop, from any process; True when it was
    running."""
    with session(engine) as s:
        run = s.get(table, run_id)
        if run is None or run.status != "running":
            return False
        run.status = "cancelled"
        s.add(run)
        s.commit()
        return True


def cancelled_in_db(engine: Engine, run_id: int, *, table: type = CriticRun) -> bool:
    """Whether someone cancelled the run; also the run's heartbeat, so it is not taken for a dead one."""
    with session(engine) as s:
        s.exec(update(table).where(table.id == run_id).values(heartbeat_at=utcnow()))
        s.commit()
        return s.exec(select(table.status).where(table.id == run_id)).first() == "cancelled"


async def watch_cancel(
    engine: Engine,
    run_id: int,
    cancel: threading.Event | None,
    *,
    until: asyncio.Future,
    stop: Callable[[], None],
    table: type = CriticRun,
) -> None:
    """Until ``until`` is done, watch for a cancel: ``cancel`` set (every CANCEL_POLL_S), or the run (of ``table``)
    cancelled in the database from any process (every DB_CANCEL_POLL_S, which is also its heartbeat); then call
    ``stop`` once. Shared by critic and revision runs."""
    last_db = time.monotonic()
    while not until.done():
        await asyncio.sleep(CANCEL_POLL_S)
        stopping = cancel is not None and cancel.is_set()
        if not stopping and time.monotonic() - last_db >= DB_CANCEL_POLL_S:
            last_db = time.monotonic()
            try:
                stopping = await asyncio.to_thread(cancelled_in_db, engine, run_id, table=table)
            except SQLAlchemyError:
                stopping = False  # storage trouble shows up (and stops the run) when results are written
        if stopping:
            stop()
            return


def process_tag() -> str:
    """This process, as a run records it (host:pid), so a run left "running" by a dead process can be told."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(process: Any) -> bool:
    """True only when the run's process was on this machine and no longer exists."""
    host, _, pid = str(process or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def mark_interrupted(
    engine: Engine,
    *,
    stale_after_s: float = STALE_AFTER_S,
    table: type = CriticRun,
    again: str = "running the critic again resumes it",
) -> list[int]:
    """Runs still "running" whose process died (killed, server restarted) are marked interrupted.

    Such a run is recognised by its process being gone from this machine, or by a heartbeat silent for
    ``stale_after_s``. What it stored stays; running it again resumes it. Returns their ids.
    """
    now = utcnow()
    marked = []
    with session(engine) as s:
        for run in s.exec(select(table).where(table.status == "running")):
            beat = run.heartbeat_at or run.started_at
            if beat.tzinfo is None:  # SQLite returns naive UTC times
                beat = beat.replace(tzinfo=now.tzinfo)
            silent_s = (now - beat).total_seconds()
            if silent_s < stale_after_s and not _process_gone((run.filters or {}).get("process")):
                continue
            run.status = INTERRUPTED
            run.finished_at = now
            run.error = (
                f"interrupted: the process running it stopped (last sign of life {silent_s:,.0f} s ago); "
                f"what it stored is kept, and {again}"
            )
            s.add(run)
            marked.append(run.id)
        s.commit()
    return marked


def start_run(engine: Engine, config: CriticConfig, project_id: int, total: int, filters: RunFilter) -> int:
    cid = critic_id(engine, config.name)
    if cid is None:
        raise InvalidValue("critic", f"no saved critic named {config.name!r}; save it first")
    mark_interrupted(engine)
    with session(engine) as s:
        run = CriticRun(
            critic_id=cid,
            project_id=project_id,
            config_hash=config.config_hash(),
            total=total,
            filters={**filters.as_dict(), "model": config.model, "template": config.template, "process": process_tag()},
            heartbeat_at=utcnow(),
        )
        s.add(run)
        s.commit()
        return run.id


def _finish(engine: Engine, progress: RunProgress) -> None:
    with session(engine) as s:
        run = s.get(CriticRun, progress.run_id)
        if run is None:
            return
        run.status = progress.status
        _copy_counts(run, progress)
        run.error = progress.error
        run.finished_at = utcnow()
        s.add(run)
        s.commit()


async def _run(
    engine: Engine,
    config: CriticConfig,
    todo: list[_Work],
    state: _State,
    *,
    concurrency: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    caller_options: dict[str, Any],
) -> None:
    from annotation.critics.calling import Caller, CritiqueFailed

    caller = Caller(config, **caller_options)
    config_hash = config.config_hash()
    run_id = state.progress.run_id
    semaphore = asyncio.Semaphore(concurrency)
    queue: asyncio.Queue[_Result | None] = asyncio.Queue()

    async def one(index: int, work: _Work) -> None:
        async with semaphore:
            if index < concurrency:
                # A slow start: the first wave is spread out, so answers do not all come back (and queue
                # for this one event loop) at the same instant, round after round.
                await asyncio.sleep(index * min(RAMP_S, RAMP_MAX_S / concurrency))
            try:
                images = await asyncio.to_thread(_images_of, engine, work) if work.sees_images else {}
                critique = await caller.critique(work.trace, images)
                judgment = _success(config, critique, work, run_id, config_hash)
                result = _Result(work, judgment, False, critique.parsed.unparsed, critique.cost)
            except asyncio.CancelledError:
                raise
            except CritiqueFailed as e:
                result = _Result(work, _failure(config, str(e), run_id, config_hash), True, False, 0.0)
            except Exception as e:  # one trace's bad luck must not stop the run
                message = scrub(f"{type(e).__name__}: {e}", caller_options.get("api_key"))[:2000]
                result = _Result(work, _failure(config, message, run_id, config_hash), True, False, 0.0)
            queue.put_nowait(result)

    async def flush(batch: list[_Result]) -> bool:
        p = state.progress
        for r in batch:
            p.done += 1
            p.failed += r.failed
            p.unparsed += r.unparsed
            p.cost += r.cost
        p.elapsed_s = time.monotonic() - state.started
        try:
            await asyncio.to_thread(_write, engine, config, run_id, batch, p)
        except Exception as e:
            # Without storage there is no point asking the model further: stop, and say why.
            p.status, p.error = "failed", f"could not store results: {type(e).__name__}: {e}"[:2000]
            p.done -= len(batch)
            return False
        if progress is not None:
            progress(p)
        return True

    async def writer() -> None:
        if not await write_in_batches(
            queue, flush, lambda: state.progress.marks.append(time.monotonic() - state.started)
        ):
            tasks.cancel()

    def stop() -> None:
        state.progress.status = "cancelled"
        tasks.cancel()

    tasks = asyncio.gather(*(one(i, w) for i, w in enumerate(todo)))
    writing = asyncio.create_task(writer())
    watcher = asyncio.create_task(watch_cancel(engine, run_id, cancel, until=tasks, stop=stop))
    try:
        await tasks
    except asyncio.CancelledError:
        if state.progress.status not in ("cancelled", "failed"):
            raise
    finally:
        watcher.cancel()
        queue.put_nowait(None)
        await writing


def _images_of(engine: Engine, work: _Work) -> dict[str, str]:
    """One trace's stored images as data URIs, read just before its request (a run never holds them all)."""
    if not image_refs(work.trace):
        return {}
    with session(engine) as s:
        return image_uris(s, project_id=s.get(TraceRow, work.trace_id).project_id, trace=work.trace)


def run_critic(
    engine: Engine,
    config: CriticConfig,
    project: str,
    *,
    filters: RunFilter | None = None,
    concurrency: int = 8,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    api_key: str | None = None,
    backoff_base_s: float | None = None,
    mock_response: Any = None,
    on_start: Callable[[RunProgress], None] | None = None,
) -> RunProgress:
    """Critique every selected trace not yet critiqued under this configuration; returns the final counts."""
    filters = (filters or RunFilter()).validate()
    config.validate()
    if concurrency < 1:
        raise InvalidValue("concurrency", "concurrency must be at least 1")
    # The key is read (or refused, naming it) before any run is recorded or request sent.
    key = api_key if api_key is not None else api_key_for(config)
    project_id, rows = select_traces(engine, project, filters)
    config_hash = config.config_hash()
    existing = _existing(engine, [r.id for r in rows], config)
    todo = [
        _Work(r.id, r.n_steps, trace_from_row(r), steps_version=r.steps_version or 1)
        for r in rows
        if existing.get(r.id) != (config_hash, "submitted")
    ]
    sees = config.sees_images()
    for w in todo:
        w.sees_images = sees
    run_id = start_run(engine, config, project_id, len(rows), filters)
    state = _State(RunProgress(run_id=run_id, total=len(rows), skipped=len(rows) - len(todo)), time.monotonic())
    state.progress.warning = family_warning(config.model, Counter(r.generator for r in rows if r.generator))
    state.progress.unseen_images = sum(
        1 for w in todo if any(not w.sees_images or is_remote(ref) for ref in image_refs(w.trace))
    )
    if state.progress.unseen_images:
        seen = "cannot see images" if not sees else "is not sent remote image links"
        note = (
            f"{state.progress.unseen_images} trace(s) show images that {config.model} {seen}; "
            "its prompt says how many it is not shown."
        )
        state.progress.warning = f"{state.progress.warning} {note}" if state.progress.warning else note
    if on_start is not None:
        on_start(state.progress)
    if progress is not None:
        progress(state.progress)
    # The key is read now and handed to litellm; it is never stored, and errors are scrubbed of it.
    caller_options: dict[str, Any] = {"api_key": key, "mock_response": mock_response}
    if backoff_base_s is not None:
        caller_options["backoff_base_s"] = backoff_base_s
    try:
        if todo:
            asyncio.run(
                _run(
                    engine,
                    config,
                    todo,
                    state,
                    concurrency=concurrency,
                    progress=progress,
                    cancel=cancel,
                    caller_options=caller_options,
                )
            )
        if state.progress.status == "running":
            state.progress.status = "done"
    except KeyboardInterrupt:
        state.progress.status = "cancelled"
        raise
    except (SQLAlchemyError, OSError, RuntimeError) as e:
        state.progress.status = "failed"
        state.progress.error = f"{type(e).__name__}: {e}"[:2000]
        raise
    finally:
        state.progress.elapsed_s = time.monotonic() - state.started
        _finish(engine, state.progress)
    return state.progress


@dataclass
class RunRecord:
    id: int
    critic: str
    project: str
    status: str
    total: int
    done: int
    skipped: int
    failed: int
    cost: float
    started_at: str
    finished_at: str | None
    error: str | None


def run_history(engine: Engine, *, limit: int = 50) -> list[RunRecord]:
    from storage.tables import Project

    mark_interrupted(engine)
    with session(engine) as s:
        query = (
            select(CriticRun, Critic.name, Project.name)
            .join(Critic, Critic.id == CriticRun.critic_id)
            .join(Project, Project.id == CriticRun.project_id)
            .order_by(CriticRun.id.desc())
            .limit(limit)
        )
        return [
            RunRecord(
                id=run.id,
                critic=critic,
                project=project,
                status=run.status,
                total=run.total,
                done=run.done,
                skipped=run.skipped,
                failed=run.failed,
                cost=run.cost,
                started_at=run.started_at.isoformat(timespec="seconds"),
                finished_at=run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
                error=run.error,
            )
            for run, critic, project in s.exec(query)
        ]


class Background:
    """A run in a thread of its own, so a page can show its progress and cancel it while it goes on.

    ``call`` runs it, given ``progress``, ``cancel`` and ``on_start``, and returns its last progress."""

    def __init__(self, call: Callable[..., RunProgress], name: str = "run") -> None:
        self.cancel_event = threading.Event()
        self.progress: RunProgress | None = None
        self.error: str | None = None
        self._call = call
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._target, daemon=True, name=name)

    def _record(self, p: RunProgress) -> None:
        # A snapshot for the page: the run's thread goes on changing ``p`` (its marks too).
        fields = {k: getattr(p, k) for k in type(p).__dataclass_fields__}
        self.progress = type(p)(**(fields | {"marks": deque(p.marks, maxlen=PACE_WINDOW)}))
        self._started.set()

    def _target(self) -> None:
        try:
            final = self._call(progress=self._record, cancel=self.cancel_event, on_start=self._record)
            self._record(final)
        except Exception as e:
            self.error = f"{type(e).__name__}: {getattr(e, 'message', None) or e}"
        finally:
            self._started.set()

    def start(self, wait_s: float = 10.0) -> Background:
        """Start, and wait until the run exists (or failed to start) so the caller can show it."""
        self._thread.start()
        self._started.wait(wait_s)
        return self

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


class BackgroundRun(Background):
    """A critic run in the background."""

    def __init__(self, engine: Engine, config: CriticConfig, project: str, **options: Any) -> None:
        super().__init__(lambda **hooks: run_critic(engine, config, project, **hooks, **options), "critic-run")
