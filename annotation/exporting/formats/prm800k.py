"""PRM800K raw lines: per-step ratings in {-1, 0, +1}, the finish_reason, and the question as PRM800K gives it.

Traces imported from PRM800K are written back as they came: the labeller, timestamp and flags from the
trace's metadata, each step's rating from the label, and the completions offered but not chosen (kept by
the importer per step, with their ratings) after the chosen one. Phase 2 lines rate the pre-generated
steps and stop where the labeller stopped; phase 1 lines rebuild the path of chosen and human-written
steps. What the importer does not keep cannot come back: the ``flagged`` marks (written as null) and, in
phase 1, the position of the chosen completion among those offered (it is written first, as index 0).

Other traces are written in the phase 2 shape: every trace step pre-generated, rated up to the first
wrong one (or from the label's own step verdicts), the finish_reason from the label or else from its
first error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.core.model import NO_ERROR, steps_from_first_error
from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions


def _completion(text: Any, rating: Any) -> dict[str, Any]:
    return {"text": text, "rating": rating, "flagged": None}


def _alternatives(meta: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    kept = meta.get("alternatives")
    if not isinstance(kept, dict):
        return {}
    return {int(k): [_completion(c.get("text"), c.get("rating")) for c in v] for k, v in kept.items()}


def _finish_reason(item: ExportItem) -> str | None:
    label = item.label
    assert label is not None
    if label.finish_reason is not None or label.first_error is None:
        return label.finish_reason
    return "solution" if label.first_error == NO_ERROR else "found_error"


def _verdicts(item: ExportItem) -> list[int | None]:
    label = item.label
    assert label is not None
    verdicts = [s.verdict for s in label.steps]
    if not verdicts or all(v is None for v in verdicts):
        verdicts = [s.verdict for s in steps_from_first_error(label.first_error, len(item.trace.steps))]
    return verdicts


def _phase2_steps(item: ExportItem, verdicts: list[int | None]) -> list[dict[str, Any]]:
    alternatives = _alternatives(item.trace.metadata)
    rated = max([len(verdicts), *(i + 1 for i in alternatives)])
    out = []
    for i in range(rated):
        rating = verdicts[i] if i < len(verdicts) else None
        completions = [_completion(item.trace.steps[i], rating), *alternatives.get(i, [])]
        chosen = None if rating == -1 else 0
        out.append({"completions": completions, "human_completion": None, "chosen_completion": chosen})
    return out


def _phase1_steps(item: ExportItem, verdicts: list[int | None]) -> list[dict[str, Any]]:
    alternatives = _alternatives(item.trace.metadata)
    out = []
    for i, text in enumerate(item.trace.steps):
        rating = verdicts[i] if i < len(verdicts) else None
        others = alternatives.get(i, [])
        if rating is None and others:
            # The importer rates a human-written step None; a chosen step rated None reads back the same way.
            human = {"text": text, "rating": None, "source": "human", "flagged": None}
            out.append({"completions": others, "human_completion": human, "chosen_completion": None})
        else:
            completions = [_completion(text, rating), *others]
            out.append({"completions": completions, "human_completion": None, "chosen_completion": 0})
    # The step where the labeller stopped without choosing: its offered completions only.
    unchosen = alternatives.get(len(item.trace.steps))
    if unchosen:
        out.append({"completions": unchosen, "human_completion": None, "chosen_completion": None})
    return out


def _labeler(item: ExportItem) -> str | None:
    kept = item.trace.metadata.get("labeler")
    if kept is not None:
        return str(kept)
    source = item.label_source or ""
    return source.partition(":")[2] or source or None


def _timestamp(item: ExportItem) -> str | None:
    kept = item.trace.metadata.get("timestamp")
    if kept is not None:
        return str(kept)
    stamp = item.updated.get(item.label_source or "")
    return stamp.isoformat() if stamp else None


class PRM800K(Exporter):
    name = "prm800k"
    title = "PRM800K (raw lines)"
    description = "labeler, timestamp, question{...}, label{steps[completions with ratings], total_time, finish_reason}"
    leaves_out_unfinished = False

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        completion = pa.struct([("text", pa.string()), ("rating", pa.int64()), ("flagged", pa.bool_())])
        human = pa.struct(
            [("text", pa.string()), ("rating", pa.int64()), ("source", pa.string()), ("flagged", pa.bool_())]
        )
        step = pa.struct(
            [
                ("completions", pa.list_(completion)),
                ("human_completion", human),
                ("chosen_completion", pa.int64()),
            ]
        )
        question = pa.struct(
            [
                ("problem", pa.string()),
                ("ground_truth_solution", pa.string()),
                ("ground_truth_answer", pa.string()),
                ("pre_generated_steps", pa.list_(pa.string())),
                ("pre_generated_answer", pa.string()),
                ("pre_generated_verifier_score", pa.float64()),
            ]
        )
        label = pa.struct([("steps", pa.list_(step)), ("total_time", pa.int64()), ("finish_reason", pa.string())])
        return pa.schema(
            [
                ("labeler", pa.string()),
                ("timestamp", pa.string()),
                ("generation", pa.int64()),
                ("is_quality_control_question", pa.bool_()),
                ("is_initial_screening_question", pa.bool_()),
                ("question", question),
                ("label", label),
            ]
        )

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        label = item.label
        if label is None or (label.first_error is None and label.finish_reason is None and not label.steps):
            tally["no ratings given"] += 1
            return
        trace, meta = item.trace, item.trace.metadata
        verdicts = _verdicts(item)
        phase1 = meta.get("phase") == 1
        question: dict[str, Any] = {"problem": trace.problem}
        optional = {
            "ground_truth_solution": trace.reference_solution,
            "ground_truth_answer": trace.reference_answer,
            "pre_generated_steps": None if phase1 else list(trace.steps),
            "pre_generated_answer": trace.answer,
            "pre_generated_verifier_score": meta.get("pre_generated_verifier_score"),
        }
        question.update({k: v for k, v in optional.items() if v is not None})
        yield {
            "labeler": _labeler(item),
            "timestamp": _timestamp(item),
            "generation": meta.get("generation"),
            "is_quality_control_question": meta.get("is_quality_control_question", False),
            "is_initial_screening_question": meta.get("is_initial_screening_question", False),
            "question": question,
            "label": {
                "steps": _phase1_steps(item, verdicts) if phase1 else _phase2_steps(item, verdicts),
                "total_time": None if label.time_spent_s is None else round(label.time_spent_s * 1000),
                "finish_reason": _finish_reason(item),
            },
        }

    def record_label(self, record: dict[str, Any]) -> str:
        return str(record["label"]["finish_reason"])
