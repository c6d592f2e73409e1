"""Grading a final answer against the trace's reference answer: math-verify (default), exact match, or an LLM.

Every grader first settles what needs no machinery: no answer is wrong; the same answer once normalised
(answers.normalise) is right. Exact match stops there. math-verify also settles plain numbers itself (what
math-verify would say, without its cost), and sends the rest to a worker process (verify_worker), because its
timeouts rely on signals, which work only in a main thread: the worker grades in its own main thread, and a
limit of ours kills it if an answer ever holds it longer. The LLM grader asks a saved critic configuration.

A grader remembers what it graded, so a run grades one pair of answers once.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotation.core.model import InvalidValue
from annotation.revision.answers import as_number, normalise

GRADER_NAMES = ("math-verify", "exact")
DEFAULT_GRADER = "math-verify"
CRITIC_PREFIX = "critic:"
# math-verify's own timeout per parse and per comparison, in the worker.
VERIFY_TIMEOUT_S = 5
# How long the worker may take to start (it imports sympy), and per pair beyond its own timeouts (a pair may take
# three of them: two parses and a comparison); how often a wait looks at the run's cancel.
START_LIMIT_S = 120.0
SLACK_S = 10.0
POLL_S = 0.2
CHUNK = 200
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Grade:
    # None: not graded (an LLM grader's call failed or gave no verdict, or the run was cancelled while grading): the
    # result is stored as ungraded, kept out of the figures, and graded again by the next run.
    correct: bool | None
    how: str  # "no answer", "exact", "number", "math-verify", "llm", "timeout", "llm: failed", "cancelled", ...

    @property
    def graded(self) -> bool:
        return self.correct is not None


NO_ANSWER = Grade(False, "no answer")
CANCELLED = Grade(None, "cancelled")


@dataclass(frozen=True, slots=True)
class ToGrade:
    """An answer (None: the solution gave none) against the reference answer; the problem is for an LLM grader."""

    answer: str | None
    reference: str
    problem: str = ""


def check_grader(text: str) -> str:
    """A grader as typed: ``math-verify``, ``exact`` or ``critic:NAME``; raises InvalidValue."""
    text = (text or "").strip()
    if text in GRADER_NAMES:
        return text
    if text.startswith(CRITIC_PREFIX) and text[len(CRITIC_PREFIX) :].strip():
        return CRITIC_PREFIX + text[len(CRITIC_PREFIX) :].strip()
    raise InvalidValue("grader", f"{text!r} is not a grader: use math-verify, exact or critic:NAME (a saved critic)")


class Grader:
    """Exact match; the base of the others, which settle fewer pairs themselves."""

    name = "exact"

    def __init__(self) -> None:
        self._known: dict[Any, Grade] = {}
        # Set when the run is cancelled: grading under way stops, and what it did not grade is left ungraded.
        self.stop = threading.Event()
        self.cost = 0.0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def quick(self, item: ToGrade) -> Grade | None:
        if item.answer is None or not item.answer.strip():
            return NO_ANSWER
        if normalise(item.answer) == normalise(item.reference):
            return Grade(True, "exact")
        return None

    def key(self, item: ToGrade) -> Any:
        return (item.answer, item.reference)

    async def settle(self, items: list[ToGrade]) -> list[Grade]:
        """Grades for what ``quick`` could not settle."""
        return [Grade(False, "exact") for _ in items]

    async def grade(self, items: Sequence[ToGrade]) -> list[Grade]:
        out: list[Grade | None] = []
        hard: dict[Any, ToGrade] = {}
        for item in items:
            grade = self._known.get(self.key(item)) or self.quick(item)
            out.append(grade)
            if grade is None:
                hard.setdefault(self.key(item), item)
        settled: dict[Any, Grade] = {}
        if hard:
            settled = dict(zip(hard, await self.settle(list(hard.values())), strict=True))
            # What could not be graded is asked again next time, not remembered.
            self._known.update((key, grade) for key, grade in settled.items() if grade.graded)
        return [g if g is not None else settled[self.key(item)] for g, item in zip(out, items, strict=True)]

    @property
    def cpu_s(self) -> float:
        """CPU time spent outside this process (a worker's); 0 for graders that have none."""
        return 0.0

    def close(self) -> None:
        pass


class Stopped(Exception):
    """The run was cancelled while the worker was grading: it was killed, and what it had not graded is not."""


def _message(line: bytes) -> dict[str, Any] | None:
    """A line of the protocol, or None for anything else the worker's stdout ever carries (it is skipped)."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


class VerifyWorker:
    """The math-verify worker process, started on first use; one request at a time, one reply line per pair.

    Each pair gets its own limit (SLACK_S beyond three of math-verify's timeouts: two parses and a comparison); a
    pair that holds the worker past it is graded wrong (``timeout``), the worker killed, and the rest of the request
    sent to a new one. ``stop`` (a run's cancel) is looked at while waiting: the worker is killed and the pairs not
    yet graded are left ungraded (CANCELLED)."""

    def __init__(self, timeout_s: int = VERIFY_TIMEOUT_S, *, command: list[str] | None = None) -> None:
        self.timeout_s = timeout_s
        self.command = command or [sys.executable, "-m", "annotation.revision.verify_worker"]
        self.cpu_s = 0.0  # the worker's CPU time, as it last reported it (plus that of workers killed before)
        self._spent_before = 0.0
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._lock = threading.Lock()

    @property
    def pair_limit_s(self) -> float:
        return SLACK_S + 3 * self.timeout_s

    def _start(self, stop: threading.Event | None = None) -> subprocess.Popen:
        env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=REPO
        )
        self._proc, self._buffer = proc, b""
        if self._read(START_LIMIT_S, stop) is None:
            raise RuntimeError("the math-verify worker did not start")
        return proc

    def _read(self, limit_s: float, stop: threading.Event | None = None) -> dict[str, Any] | None:
        """The worker's next message, or None (the worker killed) when it does not come within ``limit_s`` or the
        worker ends; raises Stopped (the worker killed) as soon as ``stop`` is set. Lines that are not the
        protocol's are skipped."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + limit_s
        while True:
            line, newline, rest = self._buffer.partition(b"\n")
            if newline:
                self._buffer = rest
                message = _message(line)
                if message is None:
                    continue
                self.cpu_s = self._spent_before + float(message.get("cpu_s", 0.0))
                return message
            if stop is not None and stop.is_set():
                self._kill()
                raise Stopped
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill()
                return None
            # Raw reads into our own buffer: a buffered readline could hold a second line select() cannot see.
            ready, _, _ = select.select([fd], [], [], min(left, POLL_S))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self._kill()
                    return None
                self._buffer += chunk

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
            self._buffer = b""
            self._spent_before = self.cpu_s

    def _ask(self, pairs: list[tuple[str, str]], out: list[Grade], stop: threading.Event | None) -> None:
        """Grades of ``pairs`` appended to ``out`` one by one, as the worker sends them."""
        done, broken = 0, 0
        while done < len(pairs):
            if stop is not None and stop.is_set():
                raise Stopped  # nothing asked yet: the worker, idle, is kept for the next run
            if self._proc is not None and self._proc.poll() is not None:
                self._kill()  # it died while idle (killed, out of memory): a new one
            proc = self._proc or self._start(stop)
            assert proc.stdin is not None
            todo = pairs[done:]
            try:
                proc.stdin.write((json.dumps({"pairs": todo, "timeout_s": self.timeout_s}) + "\n").encode("utf-8"))
                proc.stdin.flush()
            except OSError:  # it died just now: once more with a new one
                self._kill()
                broken += 1
                if broken > 1:
                    raise RuntimeError("the math-verify worker ends as soon as it is asked anything") from None
                continue
            for _ in todo:
                reply = self._read(self.pair_limit_s, stop)
                done += 1
                if reply is None or not isinstance(reply.get("result"), list):
                    out.append(Grade(False, "timeout"))  # it held the worker past our limit: the rest to a new one
                    break
                correct, how = reply["result"]
                out.append(Grade(bool(correct), str(how)))

    def verify(self, pairs: list[tuple[str, str]], stop: threading.Event | None = None) -> list[Grade]:
        return self.verify_counted(pairs, stop)[0]

    def verify_counted(
        self, pairs: list[tuple[str, str]], stop: threading.Event | None = None
    ) -> tuple[list[Grade], float]:
        """The grades, and the worker's CPU seconds they took (one request at a time, so no one else's). Waiting
        for another run's request to finish, a cancel (``stop``) is still seen at once."""
        while not self._lock.acquire(timeout=POLL_S):
            if stop is not None and stop.is_set():
                return [CANCELLED] * len(pairs), 0.0
        try:
            before = self.cpu_s
            out: list[Grade] = []
            try:
                for start in range(0, len(pairs), CHUNK):
                    self._ask(pairs[start : start + CHUNK], out, stop)
            except Stopped:
                pass
            return out + [CANCELLED] * (len(pairs) - len(out)), self.cpu_s - before
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                assert self._proc.stdin is not None
                try:
                    self._proc.stdin.close()  # the worker ends when its input does
                    self._proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self._kill()
                self._proc = None


_shared: VerifyWorker | None = None
_shared_lock = threading.Lock()


def shared_worker() -> VerifyWorker:
    """The process's math-verify worker, started on first use and kept for every run after: starting one (importing
    sympy) costs about half a second of CPU, once per server process rather than once per run. It ends with the
    process (its input closes), so nothing waits for it at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = VerifyWorker()
        return _shared


class MathVerifyGrader(Grader):
    name = "math-verify"

    def __init__(self, worker: VerifyWorker | None = None) -> None:
        super().__init__()
        self.worker = worker or shared_worker()
        self._cpu_s = 0.0

    def quick(self, item: ToGrade) -> Grade | None:
        grade = super().quick(item)
        if grade is not None:
            return grade
        assert item.answer is not None
        # Plain numbers are settled here as math-verify would: exact values compare exactly; a decimal that is not
        # exactly the other value goes to math-verify, which compares decimals rounded.
        a, r = as_number(item.answer), as_number(item.reference)
        if a is None or r is None:
            return None
        if a[0] == r[0]:
            return Grade(True, "number")
        return Grade(False, "number") if a[1] and r[1] else None

    async def settle(self, items: list[ToGrade]) -> list[Grade]:
        pairs = [(str(i.answer), i.reference) for i in items]
        grades, cpu_s = await asyncio.to_thread(self.worker.verify_counted, pairs, self.stop)
        self._cpu_s += cpu_s
        return grades

    @property
    def cpu_s(self) -> float:
        """The worker's CPU time spent on this grader's pairs (the worker's start among it, when they started it)."""
        return self._cpu_s

    def close(self) -> None:
        if self.worker is not _shared:
            self.worker.close()


GRADER_PROMPT = """Decide whether a given final answer is the same answer as the reference answer to a problem: \
equal in value or meaning, whatever the notation or wording.

Problem:
{problem}

Reference answer: {reference}
Given answer: {answer}

Reply with one line: VERDICT: SAME or VERDICT: DIFFERENT."""
_VERDICT = re.compile(r"VERDICT\s*:\s*\**\s*(SAME|DIFFERENT)", re.IGNORECASE)


class LLMGrader(Grader):
    """A saved critic configuration asked whether two answers are the same (for free-form answers)."""

    def __init__(self, config: Any, *, api_key: str | None = None, concurrency: int = 8, **caller_options: Any):
        from annotation.critics.calling import Caller

        super().__init__()
        self.name = CRITIC_PREFIX + config.name
        self.caller = Caller(config, api_key=api_key, **caller_options)
        self.concurrency = concurrency

    def key(self, item: ToGrade) -> Any:
        return (item.answer, item.reference, item.problem)

    async def _one(self, item: ToGrade, gate: asyncio.Semaphore) -> Grade:
        from annotation.critics.calling import CritiqueFailed

        prompt = GRADER_PROMPT.format(problem=item.problem, reference=item.reference, answer=item.answer)
        async with gate:
            if self.stop.is_set():
                return CANCELLED
            try:
                reply = await self.caller.ask([{"role": "user", "content": prompt}])
            except CritiqueFailed:
                # Not graded, not wrong: a failed call says nothing about the answer (graded again next run).
                return Grade(None, "llm: failed")
        self.cost += reply.cost
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        found = _VERDICT.findall(reply.text)
        if not found:
            return Grade(None, "llm: no verdict")
        return Grade(found[-1].upper() == "SAME", "llm")

    async def settle(self, items: list[ToGrade]) -> list[Grade]:
        gate = asyncio.Semaphore(self.concurrency)
        return list(await asyncio.gather(*(self._one(i, gate) for i in items)))


def make_grader(spec: str, *, engine: Any = None, secrets: Any = None, **caller_options: Any) -> Grader:
    """The grader a spec names; ``critic:NAME`` needs the engine to find the saved critic."""
    spec = check_grader(spec)
    if spec == "exact":
        return Grader()
    if spec == "math-verify":
        return MathVerifyGrader()
    from annotation.critics.config import api_key_for, get_critic

    name = spec[len(CRITIC_PREFIX) :]
    config = get_critic(engine, name) if engine is not None else None
    if config is None:
        raise InvalidValue("grader", f"no saved critic named {name!r} to grade with")
    key = caller_options.pop("api_key", None) or api_key_for(config, secrets)
    return LLMGrader(config, api_key=key, **caller_options)
