"""PRM800K raw lines: per-step ratings in {-1, 0, +1} and a finish_reason.

Phase 2 lines rate a pre-generated solution (`question.pre_generated_steps`) and stop at the first
-1: the trace is the whole pre-generated solution, rated up to where the labeller stopped. Phase 1
lines build the solution as they go: the trace is the path of chosen (or human-written)
completions. Completions offered but not chosen are kept per step in the metadata, with their
ratings, so no label in the file is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotation.core.model import FINISH_REASONS, NO_ERROR, InvalidValue, Judgment, StepLabel, Trace
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord, integer, need, text
from annotation.importing.formats.reading import RawRecord


def _rating(value: Any, where: str) -> int | None:
    if value is None:
        return None
    r = integer(value, where)
    if r not in (-1, 0, 1):
        raise InvalidValue(where, f"rating {r} is not one of -1, 0, +1")
    return r


def _seconds(total_time_ms: Any) -> float | None:
    if isinstance(total_time_ms, bool) or not isinstance(total_time_ms, int | float):
        return None
    try:
        return total_time_ms / 1000
    except OverflowError:  # an integer too large for a float
        raise InvalidValue("label.total_time", f"{total_time_ms} ms is not a duration") from None


class PRM800K(Adapter):
    name = "prm800k"
    title = "PRM800K (raw lines)"
    description = (
        "labeler, question{problem, ground_truth_*, pre_generated_*}, label{steps[completions], finish_reason}"
    )
    file_fields = {"time_spent_s": "label.total_time", "problem": "question.problem"}

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        return all(
            isinstance(r.get("question"), dict) and isinstance(r.get("label"), dict) and "steps" in r["label"]
            for r in sample
        )

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        d = raw.data
        question = need(d, "question")
        label = need(d, "label")
        if not isinstance(question, dict):
            raise InvalidValue("question", "expected an object")
        if not isinstance(label, dict):
            raise InvalidValue("label", "expected an object")
        finish = label.get("finish_reason")
        if finish is not None and finish not in FINISH_REASONS:
            raise InvalidValue("label.finish_reason", f"{finish!r} is not one of {', '.join(FINISH_REASONS)}")
        rated = need(label, "steps") if "steps" in label else None
        if not isinstance(rated, list):
            raise InvalidValue("label.steps", "expected a list")
        pre = question.get("pre_generated_steps")
        if pre is not None:
            steps, verdicts, alternatives = self._phase2(pre, rated)
        else:
            steps, verdicts, alternatives = self._phase1(rated)
        if not steps:
            raise InvalidValue("label.steps", "no step was chosen, so the trace is empty")
        labels = [StepLabel(verdict=v) for v in verdicts]
        while labels and labels[-1].is_empty():
            labels.pop()
        first_error = next((i for i, v in enumerate(verdicts) if v == -1), None)
        if first_error is None and finish == "solution":
            first_error = NO_ERROR
        total_time = label.get("total_time")
        trace = Trace(
            problem=text(question, "problem"),
            steps=steps,
            answer=text(question, "pre_generated_answer", required=False),
            reference_answer=text(question, "ground_truth_answer", required=False),
            reference_solution=text(question, "ground_truth_solution", required=False),
            record_id=f"{d.get('labeler')}@{d.get('timestamp')}" if d.get("timestamp") else None,
            source_file=ctx.file,
            metadata={
                "phase": 2 if pre is not None else 1,
                "labeler": d.get("labeler"),
                "timestamp": d.get("timestamp"),
                "generation": d.get("generation"),
                "is_quality_control_question": d.get("is_quality_control_question"),
                "is_initial_screening_question": d.get("is_initial_screening_question"),
                "pre_generated_verifier_score": question.get("pre_generated_verifier_score"),
                "alternatives": alternatives,
            },
        )
        judgment = Judgment(
            ctx.options.label_source,
            first_error=first_error,
            steps=labels,
            finish_reason=finish,
            solution_correct=None if first_error is None else first_error == NO_ERROR,
            time_spent_s=_seconds(total_time),
        )
        return ImportedRecord(trace, [judgment], raw.number, raw.line)

    def _phase2(self, pre: Any, rated: list) -> tuple[list[str], list[int | None], dict[str, list]]:
        if not isinstance(pre, list) or not all(isinstance(s, str) for s in pre):
            raise InvalidValue("question.pre_generated_steps", "expected a list of text")
        if len(rated) > len(pre):
            raise InvalidValue("label.steps", f"{len(rated)} rated steps for {len(pre)} pre-generated steps")
        verdicts: list[int | None] = []
        alternatives: dict[str, list] = {}
        for i, step in enumerate(rated):
            completions = self._completions(step, i)
            verdicts.append(_rating(completions[0].get("rating"), f"label.steps[{i}].completions[0].rating"))
            if len(completions) > 1:
                alternatives[str(i)] = [{"text": c.get("text"), "rating": c.get("rating")} for c in completions[1:]]
        return list(pre), verdicts, alternatives

    def _phase1(self, rated: list) -> tuple[list[str], list[int | None], dict[str, list]]:
        steps: list[str] = []
        verdicts: list[int | None] = []
        alternatives: dict[str, list] = {}
        for i, step in enumerate(rated):
            completions = self._completions(step, i)
            chosen = step.get("chosen_completion")
            human = step.get("human_completion")
            others = completions
            at = len(steps)  # the position this label step fills in the trace
            if chosen is not None:
                chosen = integer(chosen, f"label.steps[{i}].chosen_completion")
                if not 0 <= chosen < len(completions):
                    raise InvalidValue(f"label.steps[{i}].chosen_completion", f"{chosen} is not a completion")
                steps.append(str(completions[chosen].get("text", "")))
                verdicts.append(_rating(completions[chosen].get("rating"), f"label.steps[{i}].completions"))
                others = [c for j, c in enumerate(completions) if j != chosen]
            elif isinstance(human, dict):
                steps.append(str(human.get("text", "")))
                verdicts.append(None)
            if others:
                alternatives[str(at)] = [{"text": c.get("text"), "rating": c.get("rating")} for c in others]
            if chosen is None and not isinstance(human, dict):
                break
        return steps, verdicts, alternatives

    @staticmethod
    def _completions(step: Any, i: int) -> list[dict]:
        if not isinstance(step, dict):
            raise InvalidValue(f"label.steps[{i}]", "expected an object")
        completions = step.get("completions")
        if not isinstance(completions, list) or not completions:
            raise InvalidValue(f"label.steps[{i}].completions", "expected a non-empty list")
        for j, c in enumerate(completions):
            if not isinstance(c, dict):
                raise InvalidValue(f"label.steps[{i}].completions[{j}]", f"expected an object, got {type(c).__name__}")
        return completions
