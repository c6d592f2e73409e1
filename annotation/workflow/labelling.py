"""The rules of judging one trace, as pure functions over a working copy (no database, no Streamlit).

Two label modes: in ``first_error`` mode (PRM800K phase 2) the steps after the first wrong one need
no rating, and marking step k wrong marks the unrated steps before it correct; in ``every_step``
mode every step gets its own verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from annotation.core.model import CORRECT, NEUTRAL, NO_ERROR, WRONG, InvalidValue
from annotation.core.spans import Missing, Span, missing_from_data, spans_from_data

LABEL_MODES = ("first_error", "every_step")
# The finish reasons a person chooses; found_error and solution follow from the verdicts.
CHOSEN_FINISH = ("bad_problem", "give_up")

TAXONOMY_PRESETS: dict[str, list[str]] = {
    "PRMBench": [
        "redundancy",
        "circular",
        "counterfactual",
        "step_contradiction",
        "domain_inconsistency",
        "confidence",
        "missing_condition",
        "deception",
        "multi_solutions",
    ],
    "Arithmetic and logic": [
        "calculation",
        "logic",
        "misread problem",
        "unjustified assumption",
        "wrong formula",
        "incomplete",
    ],
}


@dataclass(frozen=True, slots=True)
class StepWork:
    verdict: int | None = None
    critique: str = ""
    tags: tuple[str, ...] = ()
    correction: str = ""
    # Wrong only because it builds on this earlier step (error propagation); None: an original error.
    because_of: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict, "critique": self.critique or None, "tags": list(self.tags)}
        if self.correction:
            out["correction"] = self.correction
        if self.because_of is not None:
            out["because_of"] = self.because_of
        return out


@dataclass(frozen=True, slots=True)
class WorkingCopy:
    """What a person has said about one trace so far: a draft, or the content of a judgment."""

    steps: tuple[StepWork, ...]
    critique: str = ""
    solution_correct: bool | None = None
    finish: str | None = None  # bad_problem or give_up, chosen by the person
    finish_note: str = ""
    time_spent_s: float = 0.0
    # Wrong words marked in the steps' text (annotation.core.spans.Span), in the order they were marked.
    spans: tuple[Span, ...] = ()
    # "Something is missing here" between steps or at the end (annotation.core.spans.Missing).
    missing_here: tuple[Missing, ...] = ()
    # The whole answer as it should have been (Fine-Grained RLHF's corrected prediction).
    corrected_answer: str = ""

    @classmethod
    def blank(cls, n_steps: int) -> WorkingCopy:
        return cls(steps=tuple(StepWork() for _ in range(n_steps)))

    @classmethod
    def from_content(cls, content: dict[str, Any] | None, n_steps: int) -> WorkingCopy:
        """From a draft or judgment content; tolerant of judgments made elsewhere (imports, other modes)."""
        if not content:
            return cls.blank(n_steps)
        raw_steps = list(content.get("steps") or [])
        steps = []
        for i in range(n_steps):
            raw = raw_steps[i] if i < len(raw_steps) and isinstance(raw_steps[i], dict) else {}
            steps.append(
                StepWork(
                    verdict=raw.get("verdict"),
                    critique=raw.get("critique") or "",
                    tags=tuple(raw.get("tags") or ()),
                    correction=raw.get("correction") or "",
                    because_of=_earlier(raw.get("because_of"), i),
                )
            )
        first_error = content.get("first_error")
        if (
            first_error is not None
            and first_error >= 0
            and first_error < n_steps
            and steps[first_error].verdict is None
        ):
            # A judgment that only names its first error (an import, say): show it as verdicts.
            steps = [replace(s, verdict=CORRECT if s.verdict is None else s.verdict) for s in steps[:first_error]] + [
                replace(steps[first_error], verdict=WRONG),
                *steps[first_error + 1 :],
            ]
        extra = content.get("extra") or {}
        finish = content.get("finish_reason")
        return cls(
            steps=tuple(steps),
            critique=content.get("critique") or "",
            solution_correct=content.get("solution_correct"),
            finish=finish if finish in CHOSEN_FINISH else None,
            finish_note=extra.get("finish_note") or "",
            time_spent_s=float(content.get("time_spent_s") or 0.0),
            spans=_spans(content.get("spans"), n_steps),
            missing_here=_missing(content.get("missing"), n_steps),
            corrected_answer=content.get("corrected_answer") or "",
        )

    def first_error(self, mode: str) -> int | None:
        """0-based first wrong step, NO_ERROR when every step needing a verdict is fine, None while undecided."""
        for i, step in enumerate(self.steps):
            if step.verdict == WRONG:
                return i
            if step.verdict is None:
                return None
        return NO_ERROR

    def greyed(self, mode: str) -> set[int]:
        """Steps that need no rating: those after the first wrong one, in first-error mode."""
        first = self.first_wrong()
        if mode != "first_error" or first is None:
            return set()
        return set(range(first + 1, len(self.steps)))

    def first_wrong(self) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.verdict == WRONG), None)

    def with_step(self, index: int, **changes: Any) -> WorkingCopy:
        steps = list(self.steps)
        steps[index] = replace(steps[index], **changes)
        return replace(self, steps=tuple(steps))

    def with_verdict(self, index: int, verdict: int | None, mode: str) -> WorkingCopy:
        if verdict not in (None, CORRECT, NEUTRAL, WRONG):
            raise InvalidValue("verdict", f"{verdict!r} is not one of 1, 0, -1")
        steps = list(self.steps)
        steps[index] = _made_correct(steps[index]) if verdict == CORRECT else replace(steps[index], verdict=verdict)
        if mode == "first_error" and verdict == WRONG:
            steps = [_made_correct(s) if s.verdict is None else s for s in steps[:index]] + steps[index:]
        return replace(self, steps=tuple(steps))

    def all_correct(self) -> WorkingCopy:
        """Every step correct: the person says the trace has no error.

        A step it turns from wrong to correct loses what said it was wrong (critique, tags, correction).
        """
        steps = tuple(
            StepWork(verdict=CORRECT) if s.verdict == WRONG else _made_correct(s) if s.verdict is None else s
            for s in self.steps
        )
        # No error means the answer stands: a "wrong answer" derived from an earlier error goes too.
        return replace(self, steps=steps, solution_correct=True)

    def finish_reason(self, mode: str) -> str | None:
        if self.finish:
            return self.finish
        first = self.first_error(mode)
        if first is None:
            return None
        return "solution" if first == NO_ERROR else "found_error"

    def missing(self, mode: str) -> list[str]:
        """What still stops a submission, in words a person acts on; empty when it can be submitted."""
        if self.finish:
            return [] if self.finish_note.strip() else [f"a reason for '{self.finish.replace('_', ' ')}'"]
        unrated = [i + 1 for i, s in enumerate(self.steps) if s.verdict is None]
        if mode == "first_error":
            # Only the steps up to the first wrong one need a verdict.
            unrated = [] if self.first_error(mode) is not None else unrated[:1]
        if not unrated:
            return []
        listed = ", ".join(str(n) for n in unrated[:8]) + ("…" if len(unrated) > 8 else "")
        return [f"a verdict on step {listed}"]

    def settled(self, mode: str) -> WorkingCopy:
        """The copy as it is submitted: no label left on a step that no longer needs one.

        In first-error mode the steps after the first error carry no verdict, critique, tags or correction
        (they may still be in the draft, so a first error moved back restores them), and a correct step
        carries no error tags or correction.
        """
        greyed = self.greyed(mode)
        steps = tuple(
            StepWork()
            if i in greyed
            else replace(s, tags=(), correction="")
            if s.verdict == CORRECT and (s.tags or s.correction)
            else s
            for i, s in enumerate(self.steps)
        )
        first = self.first_wrong()
        # "Wrong because of step k" holds only for a wrong step after the first error that builds on a wrong step;
        # a verdict changed since leaves it in the draft (so changing back restores it), not in the judgment.
        steps = tuple(
            replace(s, because_of=None)
            if s.because_of is not None and (s.verdict != WRONG or i == first or steps[s.because_of].verdict != WRONG)
            else s
            for i, s in enumerate(steps)
        )
        return replace(self, steps=steps)

    def content(self, mode: str) -> dict[str, Any]:
        """The judgment content this copy submits (storage shape), settled (see ``settled``)."""
        copy = self.settled(mode)
        first = copy.first_error(mode) if not copy.finish else None
        if copy.finish is None and first is not None and first != NO_ERROR:
            solution_correct = False if copy.solution_correct is None else copy.solution_correct
        else:
            solution_correct = copy.solution_correct
        extra: dict[str, Any] = {"label_mode": mode}
        if copy.finish_note:
            extra["finish_note"] = copy.finish_note
        return {
            "first_error": first,
            "steps": [s.as_dict() for s in copy.steps],
            "critique": copy.critique or None,
            "solution_correct": solution_correct,
            "finish_reason": copy.finish_reason(mode),
            "time_spent_s": round(copy.time_spent_s, 3),
            "extra": extra,
            "spans": [x.as_dict() for x in copy.spans],
            "missing": [x.as_dict() for x in copy.missing_here],
            "corrected_answer": copy.corrected_answer or None,
        }

    def draft(self) -> dict[str, Any]:
        """Everything needed to restore the page exactly as it was."""
        return {
            "steps": [s.as_dict() for s in self.steps],
            "critique": self.critique,
            "solution_correct": self.solution_correct,
            "finish": self.finish,
            "finish_note": self.finish_note,
            "time_spent_s": self.time_spent_s,
            "spans": [x.as_dict() for x in self.spans],
            "missing": [x.as_dict() for x in self.missing_here],
            "corrected_answer": self.corrected_answer,
        }

    @classmethod
    def from_draft(cls, draft: dict[str, Any], n_steps: int) -> WorkingCopy:
        base = cls.from_content({"steps": draft.get("steps"), "critique": draft.get("critique")}, n_steps)
        return replace(
            base,
            solution_correct=draft.get("solution_correct"),
            finish=draft.get("finish") if draft.get("finish") in CHOSEN_FINISH else None,
            finish_note=draft.get("finish_note") or "",
            time_spent_s=float(draft.get("time_spent_s") or 0.0),
            spans=_spans(draft.get("spans"), n_steps),
            missing_here=_missing(draft.get("missing"), n_steps),
            corrected_answer=draft.get("corrected_answer") or "",
        )


def _earlier(value: Any, i: int) -> int | None:
    """A step index before step ``i``, or None (a label from elsewhere that says otherwise is not shown)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < i else None


def _missing(raw: Any, n_steps: int) -> tuple[Missing, ...]:
    """Missing entries as stored; as with spans, ones that do not read are shown without them."""
    try:
        found = missing_from_data(raw)
    except InvalidValue:
        return ()
    return tuple(x for x in found if x.position <= n_steps)


def _spans(raw: Any, n_steps: int) -> tuple[Span, ...]:
    """Spans as stored; a draft or judgment from elsewhere with spans that do not read is shown without them."""
    try:
        found = spans_from_data(raw)
    except InvalidValue:
        return ()
    return tuple(x for x in found if x.step is None or x.step < n_steps)


def _made_correct(step: StepWork) -> StepWork:
    """A step marked correct keeps its critique (a remark) but not its error tags or correction."""
    return replace(step, verdict=CORRECT, tags=(), correction="")


@dataclass(frozen=True, slots=True)
class Summary:
    """The one line under the steps: which step is first wrong, or what is left to do."""

    text: str
    first_error: int | None
    ready: bool
    missing: list[str] = field(default_factory=list)


def summarise(work: WorkingCopy, mode: str) -> Summary:
    missing = work.missing(mode)
    first = work.first_error(mode)
    if work.finish:
        text = f"Finished as {work.finish.replace('_', ' ')}."
    elif first is None:
        text = "No first error marked yet."
    elif first == NO_ERROR:
        text = "Every step is correct: no error."
    else:
        text = f"First error: Step {first + 1}."
    if missing:
        text += " Still needed: " + "; ".join(missing) + "."
    return Summary(text=text, first_error=first, ready=not missing, missing=missing)
