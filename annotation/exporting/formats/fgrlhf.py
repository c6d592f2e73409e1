"""Fine-Grained RLHF's qa-feedback shape, written back from a judgment's spans, missing entries and corrected
answer (see annotation/importing/formats/fgrlhf.py for the fields).

Span offsets are put back into the whole answer (each step's ``offset`` plus the offsets in the step), the
pieces of a span that crossed sentences joined into one. An error's keys, and a missing entry's, come back in
the order they were read, and the other fields of the record from its metadata, so a file imported and
exported again is the same file in every value. A trace judged in Redline gets the same shape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.core.model import Judgment
from annotation.core.parts import Step, steps_of
from annotation.core.spans import Span
from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions

ERROR_KEYS = ("error type", "explanation", "start", "end")
MISSING_KEYS = ("error type", "passage_id", "sentence_id")
FEEDBACK_KEYS = ("errors", "missing-info", "corrected-prediction")


def answer_text(trace: Any) -> str:
    """The answer whole_offsets count in: the trace's answer, else its steps joined (an answer split into steps)."""
    return trace.answer if trace.answer is not None else "".join(trace.steps)


def whole_offsets(steps: list[Step], span: Span) -> tuple[int, int] | None:
    """A span's offsets in the whole answer (``steps``: the trace's, steps_of); None for a span on another text (a
    tool call's arguments)."""
    if span.step is None:
        return (span.start, span.end) if span.field == "answer" else None
    if span.step >= len(steps) or span.part != 0 or span.field != "text":
        return None
    base = steps[span.step].offset
    if base is None:
        if len(steps) != 1:
            return None
        base = 0
    return base + span.start, base + span.end


def placed_spans(item: ExportItem, judgment: Judgment) -> tuple[list[tuple[str, int, int, str]], int]:
    """The judgment's spans on the whole answer as (type, start, end, note), the pieces of a span that crossed
    sentences joined into one; and how many spans mark another text (see whole_offsets)."""
    merged: list[tuple[str, int, int, str]] = []
    groups: dict[str, int] = {}
    elsewhere = 0
    steps = steps_of(item.trace)  # once, not once per span (a text trace's are built anew each time)
    for span in judgment.spans:
        found = whole_offsets(steps, span)
        if found is None:
            elsewhere += 1
            continue
        start, end = found
        if span.group is not None and span.group in groups:
            k = groups[span.group]
            kind, a, b, note = merged[k]
            merged[k] = (kind, min(a, start), max(b, end), note)
            continue
        if span.group is not None:
            groups[span.group] = len(merged)
        merged.append((span.type, start, end, span.note))
    return merged, elsewhere


def errors_of(item: ExportItem, judgment: Judgment) -> list[dict[str, Any]]:
    kept = judgment.extra.get("fgrlhf", {}).get("errors", {}) if isinstance(judgment.extra, dict) else {}
    merged, _ = placed_spans(item, judgment)
    out = []
    for k, (kind, start, end, note) in enumerate(merged):
        values = {"error type": kind, "explanation": note, "start": start, "end": end}
        shape = kept.get(str(k))
        if shape:
            values |= shape.get("other", {})
            out.append({key: values[key] for key in shape["keys"] if key in values})
        else:
            out.append(values)
    return out


def missing_of(judgment: Judgment) -> list[dict[str, Any]]:
    kept = judgment.extra.get("fgrlhf", {}).get("missing", {}) if isinstance(judgment.extra, dict) else {}
    out = []
    for k, entry in enumerate(judgment.missing):
        values = {"error type": entry.type, "passage_id": entry.passage, "sentence_id": entry.sentence}
        shape = kept.get(str(k))
        if shape:
            values |= shape.get("other", {})
            out.append({key: values[key] for key in shape["keys"] if key in values})
        else:
            out.append(values)
    return out


class FGRLHFExport(Exporter):
    name = "fgrlhf"
    title = "Fine-Grained RLHF qa-feedback"
    description = "question, passages, prediction 1 (the trace's answer) and feedback: error spans, missing info"
    leaves_out_unfinished = False

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        error = pa.struct(
            [("error type", pa.string()), ("explanation", pa.string()), ("start", pa.int64()), ("end", pa.int64())]
        )
        missing = pa.struct([("error type", pa.string()), ("passage_id", pa.string()), ("sentence_id", pa.string())])
        feedback = pa.struct(
            [("errors", pa.list_(error)), ("missing-info", pa.list_(missing)), ("corrected-prediction", pa.string())]
        )
        return pa.schema(
            [
                ("question", pa.string()),
                ("passages", pa.string()),
                ("gold", pa.string()),
                ("prediction 1", pa.string()),
                ("feedback", feedback),
                ("meta", pa.string()),
            ]
        )

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        label = item.label
        t = item.trace
        if label is None:
            tally["no label"] += 1
            return
        answer = answer_text(t)
        shape = label.extra.get("fgrlhf", {}) if isinstance(label.extra, dict) else {}
        values = {
            "errors": errors_of(item, label),
            "missing-info": missing_of(label),
            "corrected-prediction": label.corrected_answer if label.corrected_answer is not None else answer,
        }
        keys = shape.get("feedback_keys") or list(FEEDBACK_KEYS)
        feedback = {key: values[key] for key in keys if key in values}
        record: dict[str, Any] = {"question": t.problem}
        if "passages" in t.context:
            record["passages"] = t.context["passages"]
        if t.reference_answer is not None:
            record["gold"] = t.reference_answer
        record["prediction 1"] = answer
        meta = dict(t.metadata)
        for key in ("prediction 2", "prediction 3", "prediction 4"):
            if key in meta:
                record[key] = meta.pop(key)
        record["feedback"] = feedback
        record |= meta
        if options.output != "jsonl":
            record = self._columns(record)
        yield record

    @staticmethod
    def _columns(record: dict[str, Any]) -> dict[str, Any]:
        """One typed shape for Parquet: passages, ids and the remaining fields as JSON text."""
        import json

        feedback = record["feedback"]
        fixed = {
            "question": record["question"],
            "passages": json.dumps(record.get("passages"), ensure_ascii=False),
            "gold": record.get("gold"),
            "prediction 1": record["prediction 1"],
            "feedback": {
                "errors": feedback.get("errors", []),
                "missing-info": [
                    {k: json.dumps(v, ensure_ascii=False) if k != "error type" else v for k, v in m.items()}
                    for m in feedback.get("missing-info", [])
                ],
                "corrected-prediction": feedback.get("corrected-prediction"),
            },
        }
        rest = {
            k: v for k, v in record.items() if k not in ("question", "passages", "gold", "prediction 1", "feedback")
        }
        fixed["meta"] = json.dumps(rest, ensure_ascii=False)
        return fixed

    def record_label(self, record: dict[str, Any]) -> str:
        return "has error spans" if record["feedback"].get("errors") else "no error span"
