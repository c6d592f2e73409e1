"""Reading a critic's answer: the per-step JSON (validated with pydantic), else a final \\boxed{k}, else unparsed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from annotation.core.model import NO_ERROR, StepLabel, first_error_from_verdicts
from annotation.core.verdicts import parse_verdict

BOXED = re.compile(r"\\boxed\s*\{\s*\\?(?:text\{)?\s*([+-]?\d+)\s*\}?\s*\}")
FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class StepVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: int | None = None
    verdict: int
    explanation: str = ""

    @field_validator("verdict", mode="before")
    @classmethod
    def _verdict(cls, value: Any) -> int:
        found = parse_verdict(value)  # the words label imports read too
        if found is None:
            raise ValueError("the verdict is empty: give correct, incorrect or neutral")
        return found

    @field_validator("explanation", mode="before")
    @classmethod
    def _explanation(cls, value: Any) -> str:
        return "" if value is None else str(value)


class StepCritique(BaseModel):
    """The per-step JSON template's answer."""

    model_config = ConfigDict(extra="ignore")

    steps: list[StepVerdict]
    first_error: int | None = None
    summary: str | None = None
    # Wrong words, quoted: [{"step", "quote", "type", "note"}] (annotation.critics.quotes places them).
    spans: list[Any] = []


@dataclass
class Parsed:
    first_error: int | None
    steps: list[StepLabel] = field(default_factory=list)
    critique: str | None = None
    how: str = "unparsed"  # json | boxed | unparsed
    problem: str | None = None
    quoted: list[Any] = field(default_factory=list)

    @property
    def unparsed(self) -> bool:
        return self.how == "unparsed"


def _json_candidates(text: str) -> list[str]:
    found = [m.group(1) for m in FENCE.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        found.append(text[start : end + 1])
    return found


def _from_json(text: str, n_steps: int) -> Parsed | None:
    for candidate in _json_candidates(text):
        try:
            data = json.loads(candidate)
            answer = StepCritique.model_validate(data)
        except (ValueError, ValidationError):
            continue
        labels = [StepLabel(verdict=s.verdict, critique=s.explanation.strip() or None) for s in answer.steps]
        # A model that numbers its steps may skip or reorder some; place each by its own number when it has one.
        numbered = answer.steps and all(s.step is not None for s in answer.steps)
        if numbered and len({s.step for s in answer.steps}) == len(answer.steps):
            by_step = {s.step: label for s, label in zip(answer.steps, labels, strict=True)}
            if all(0 <= k < n_steps for k in by_step):
                labels = [by_step.get(i, StepLabel()) for i in range(max(by_step) + 1)]
        labels = labels[:n_steps]
        first = answer.first_error
        if first is None:
            first = first_error_from_verdicts([s.verdict for s in labels], finished=len(labels) == n_steps)
        return Parsed(first, labels, critique=(answer.summary or None), how="json", quoted=list(answer.spans))
    return None


def _from_boxed(text: str) -> Parsed | None:
    matches = BOXED.findall(text)
    if not matches:
        return None
    return Parsed(int(matches[-1]), critique=text.strip() or None, how="boxed")


def parse_answer(text: str | None, n_steps: int) -> Parsed:
    """The first error (0-based, -1 none) and any per-step labels in a critic's answer."""
    text = text or ""
    parsed = _from_json(text, n_steps) or _from_boxed(text)
    if parsed is None:
        return Parsed(None, critique=text.strip() or None, problem="neither the template's JSON nor a \\boxed{} index")
    if parsed.first_error is not None and not (parsed.first_error == NO_ERROR or 0 <= parsed.first_error < n_steps):
        return Parsed(
            None,
            critique=text.strip() or None,
            problem=f"index {parsed.first_error} is outside the trace's steps 0..{n_steps - 1} (or -1)",
        )
    return parsed
