"""The canonical types: one for a trace, one for a judgment, and the source that gave it.

Step indices are 0-based everywhere in Redline. A judgment's ``first_error`` is either a step
index, ``NO_ERROR`` (the source says every step is fine) or ``None`` (the source has not said):
"no error" and "not judged" never collapse into each other, nor into "error at step 0".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

NO_ERROR = -1

SOURCE_KINDS = ("human", "model", "reference", "consensus")
UNNAMED_KINDS = ("reference", "consensus")
FINISH_REASONS = ("found_error", "solution", "bad_problem", "give_up")
STATUSES = ("draft", "submitted", "failed")
VERDICTS = (-1, 0, 1)
CORRECT, NEUTRAL, WRONG = 1, 0, -1
VERDICT_NAMES = {CORRECT: "correct", NEUTRAL: "neutral", WRONG: "wrong"}

SourceKind = Literal["human", "model", "reference", "consensus"]


class InvalidValue(ValueError):
    """A value that breaks the model's rules; ``field`` names where it sits."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True, slots=True)
class Source:
    """Who gave a judgment: ``human:alice``, ``model:gpt-4o-critic``, ``reference``."""

    kind: str
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise InvalidValue("source", f"unknown source kind {self.kind!r}; use one of {', '.join(SOURCE_KINDS)}")
        if self.kind in UNNAMED_KINDS and self.name:
            raise InvalidValue("source", f"{self.kind!r} takes no name (got {self.kind}:{self.name})")
        if self.kind not in UNNAMED_KINDS and not self.name.strip():
            raise InvalidValue("source", f"a {self.kind} source needs a name, as in {self.kind}:NAME")

    @classmethod
    def parse(cls, text: str) -> Source:
        kind, _, name = text.strip().partition(":")
        return cls(kind=kind.strip(), name=name.strip())

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


REFERENCE = Source("reference")


@dataclass(slots=True)
class StepLabel:
    """One source's view of one step; every part may be unset."""

    verdict: int | None = None
    critique: str | None = None
    tags: list[str] = field(default_factory=list)
    # What the step should have said, where an annotator wrote it (preference pairs use it).
    correction: str | None = None
    # A wrong step that is wrong only because it builds on step ``because_of`` (an earlier one); None: an
    # original error (the first error always is).
    because_of: int | None = None

    def is_empty(self) -> bool:
        return self.verdict is None and not self.critique and not self.tags and not self.correction

    def as_dict(self) -> dict[str, Any]:
        out = {"verdict": self.verdict, "critique": self.critique, "tags": list(self.tags)}
        if self.correction:
            out["correction"] = self.correction
        if self.because_of is not None:
            out["because_of"] = self.because_of
        return out


@dataclass(slots=True)
class Trace:
    problem: str
    steps: list[str]
    answer: str | None = None
    reference_answer: str | None = None
    reference_solution: str | None = None
    generator: str | None = None
    record_id: str | None = None
    source_file: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # Steps made of parts (annotation.core.parts.Step), when they are more than a line of text: then ``steps``
    # holds each one's plain text. None: every step is one text part, the text in ``steps``.
    step_parts: list[Any] | None = None
    # Shown above the steps: ``system`` (a prompt), ``tools`` (the JSON schemas offered), ``passages``.
    context: dict[str, Any] = field(default_factory=dict)
    # The problem's images, by stored name or remote URL (never fetched).
    images: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if not isinstance(self.problem, str) or not self.problem.strip():
            raise InvalidValue("problem", "the problem is empty")
        if not self.steps:
            raise InvalidValue("steps", "the steps list is empty")
        for i, step in enumerate(self.steps):
            if not isinstance(step, str):
                raise InvalidValue("steps", f"step {i + 1} is {type(step).__name__}, not text")
        if self.step_parts is not None and len(self.step_parts) != len(self.steps):
            raise InvalidValue("step_parts", f"{len(self.step_parts)} steps of parts for {len(self.steps)} steps")

    def structure(self) -> dict[str, Any] | None:
        """What a trace holds beyond text steps, as plain JSON (None for a trace of text steps only)."""
        if self.step_parts is None and not self.context and not self.images:
            return None
        return {
            "steps": None if self.step_parts is None else [s.as_dict() for s in self.step_parts],
            "context": self.context,
            "images": self.images,
        }

    def key(self) -> str:
        """Identity for de-duplication: the same record imported twice is one trace."""
        identity: list[Any] = [self.record_id, self.problem, self.steps]
        structure = self.structure()
        if structure is not None:  # only then, so that every text trace keeps the key it always had
            # Sorted: PostgreSQL's JSONB and Redline's own export reorder keys, and the trace stays the same.
            identity.append(json.dumps(structure, ensure_ascii=False, sort_keys=True))
        blob = json.dumps(identity, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class Judgment:
    source: Source
    first_error: int | None = None
    steps: list[StepLabel] = field(default_factory=list)
    critique: str | None = None
    solution_correct: bool | None = None
    finish_reason: str | None = None
    status: str = "submitted"
    time_spent_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Finer than a step (annotation.core.spans): wrong text with its error type, what is missing, and the
    # whole answer as it should have been.
    spans: list[Any] = field(default_factory=list)
    missing: list[Any] = field(default_factory=list)
    corrected_answer: str | None = None

    @property
    def is_judged(self) -> bool:
        return self.first_error is not None

    @property
    def has_error(self) -> bool | None:
        return None if self.first_error is None else self.first_error != NO_ERROR

    def validate(self, n_steps: int) -> None:
        if self.first_error is not None:
            if isinstance(self.first_error, bool) or not isinstance(self.first_error, int):
                raise InvalidValue("first_error", f"first error must be an integer, got {self.first_error!r}")
            if self.first_error != NO_ERROR and not 0 <= self.first_error < n_steps:
                raise InvalidValue(
                    "first_error",
                    f"first error points at step {self.first_error + 1} (0-based {self.first_error}) "
                    f"but the trace has {n_steps} steps",
                )
        if len(self.steps) > n_steps:
            raise InvalidValue("steps", f"{len(self.steps)} step labels for a trace of {n_steps} steps")
        for i, label in enumerate(self.steps):
            if label.verdict is not None and label.verdict not in VERDICTS:
                raise InvalidValue("steps", f"step {i + 1}: verdict {label.verdict!r} is not one of -1, 0, +1")
            if label.because_of is not None:
                k = label.because_of
                if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < i:
                    raise InvalidValue("steps", f"step {i + 1} can be wrong only because of an earlier step, not {k!r}")
                if label.verdict != WRONG:
                    raise InvalidValue("steps", f"step {i + 1} is wrong because of step {k + 1}, so it must be wrong")
                if i == self.first_error:
                    raise InvalidValue("steps", f"step {i + 1} is the first error: it is an original error")
        if self.finish_reason is not None and self.finish_reason not in FINISH_REASONS:
            raise InvalidValue("finish_reason", f"{self.finish_reason!r} is not one of {', '.join(FINISH_REASONS)}")
        if self.status not in STATUSES:
            raise InvalidValue("status", f"{self.status!r} is not one of {', '.join(STATUSES)}")
        if self.time_spent_s is not None and self.time_spent_s < 0:
            raise InvalidValue("time_spent_s", "time spent cannot be negative")

    def content(self) -> dict[str, Any]:
        """Everything a revision keeps, as plain JSON-ready data."""
        return {
            "first_error": self.first_error,
            "steps": [s.as_dict() for s in self.steps],
            "critique": self.critique,
            "solution_correct": self.solution_correct,
            "finish_reason": self.finish_reason,
            "status": self.status,
            "time_spent_s": self.time_spent_s,
            "extra": self.extra,
            "spans": [s.as_dict() for s in self.spans],
            "missing": [m.as_dict() for m in self.missing],
            "corrected_answer": self.corrected_answer,
        }


def first_error_text(first_error: int | None, *, unset: str = "not judged") -> str:
    """A first error as a person reads it, everywhere: "step N" (1-based), "no error", or ``unset``."""
    if first_error is None or first_error < NO_ERROR:
        return unset
    return "no error" if first_error == NO_ERROR else f"step {first_error + 1}"


def steps_from_first_error(first_error: int | None, n_steps: int) -> list[StepLabel]:
    """Per-step verdicts implied by a first-error label: correct before it, wrong at it, unset after."""
    if first_error is None:
        return []
    stop = n_steps if first_error == NO_ERROR else first_error
    labels = [StepLabel(verdict=1) for _ in range(stop)]
    if first_error != NO_ERROR:
        labels.append(StepLabel(verdict=-1))
    return labels


def first_error_from_verdicts(verdicts: list[int | None], finished: bool) -> int | None:
    """The first -1, else NO_ERROR when the source went through every step, else not judged."""
    for i, v in enumerate(verdicts):
        if v == -1:
            return i
    return NO_ERROR if finished else None


def verdicts_against_first_error(first_error: int | None, verdicts: list[int | None]) -> tuple[int, bool] | None:
    """Where per-step verdicts contradict a first error: ``(step, True)`` for a step wrong before the first error (or
    anywhere, when there is none), ``(first_error, False)`` when the first error's own verdict is not wrong; None
    when they agree. A first error beyond the verdicts is left to Judgment.validate."""
    if first_error is None:
        return None
    stop = len(verdicts) if first_error == NO_ERROR else min(first_error, len(verdicts))
    early = next((i for i in range(stop) if verdicts[i] == WRONG), None)
    if early is not None:
        return early, True
    if first_error != NO_ERROR and first_error < len(verdicts) and verdicts[first_error] not in (None, WRONG):
        return first_error, False
    return None
