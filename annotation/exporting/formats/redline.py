"""Redline's own shape: one record per trace with every judgment, for teams that post-process themselves.

``meta`` and each judgment's ``extra`` are free-form, so they are written as JSON text: one column type
for every row, in JSONL, Parquet and Hugging Face folders alike. ``label_source`` and ``first_error``
say which judgment the export's source choice picked (null when none).

Steps made of parts are in ``step_parts`` (null for a trace whose steps are text only, whose ``steps`` say
everything): each step an object with ``role``, ``agent``, ``text`` and ``parts``, each part with its
``type`` and fields. ``context`` (system prompt, tools, passages) is JSON text. Images are files beside the
export, named by paths relative to it (``images/SHA256.png``); importing the export again (format
``redline``) gives the same traces and judgments.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.core.model import NO_ERROR
from annotation.core.parts import Step, image_path
from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions


def _judgment(source: str, item: ExportItem) -> dict[str, Any]:
    j = item.judgments[source]
    corrections = item.corrections.get(source, {})
    return {
        "source": source,
        "first_error": j.first_error,
        "steps": [
            {
                "verdict": s.verdict,
                "critique": s.critique,
                "tags": list(s.tags),
                "correction": corrections.get(i),
                "because_of": s.because_of,
            }
            for i, s in enumerate(j.steps)
        ],
        "critique": j.critique,
        "solution_correct": j.solution_correct,
        "finish_reason": j.finish_reason,
        "status": j.status,
        "time_spent_s": j.time_spent_s,
        "extra": json.dumps(j.extra, ensure_ascii=False, sort_keys=True),
        "spans": [s.as_dict() for s in j.spans],
        "missing": [m.as_dict() | {"passage": _json(m.passage), "sentence": _json(m.sentence)} for m in j.missing],
        "corrected_answer": j.corrected_answer,
    }


def _json(value: Any) -> str | None:
    """A missing entry's passage and sentence as JSON text: files give them as numbers, text or lists."""
    return None if value is None else json.dumps(value, ensure_ascii=False)


PART_COLUMNS = ("type", "text", "name", "arguments", "call_id", "content", "is_error", "image")


def _parted_step(step: Step) -> dict[str, Any]:
    return {
        "role": step.role,
        "agent": step.agent,
        "text": step.text,
        "messages": list(step.messages),
        "offset": step.offset,
        "parts": [
            {k: image_path(p.image) if k == "image" and p.image else getattr(p, k) for k in PART_COLUMNS}
            for p in step.parts
        ],
    }


class Redline(Exporter):
    name = "redline"
    title = "Redline (every judgment)"
    description = "one record per trace: the trace, the chosen label, and every judgment with its step labels"
    leaves_out_unfinished = False
    needs_label = False
    writes_images = True

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        part = pa.struct([(name, pa.bool_() if name == "is_error" else pa.string()) for name in PART_COLUMNS])
        parted_step = pa.struct(
            [
                ("role", pa.string()),
                ("agent", pa.string()),
                ("text", pa.string()),
                ("messages", pa.list_(pa.int64())),
                ("offset", pa.int64()),
                ("parts", pa.list_(part)),
            ]
        )

        step = pa.struct(
            [
                ("verdict", pa.int64()),
                ("critique", pa.string()),
                ("tags", pa.list_(pa.string())),
                ("correction", pa.string()),
                ("because_of", pa.int64()),
            ]
        )
        span = pa.struct(
            [
                ("step", pa.int64()),
                ("part", pa.int64()),
                ("field", pa.string()),
                ("start", pa.int64()),
                ("end", pa.int64()),
                ("type", pa.string()),
                ("note", pa.string()),
                ("by", pa.string()),
                ("group", pa.string()),
            ]
        )
        missing = pa.struct(
            [
                ("position", pa.int64()),
                ("type", pa.string()),
                ("note", pa.string()),
                ("passage", pa.string()),
                ("sentence", pa.string()),
                ("by", pa.string()),
            ]
        )
        judgment = pa.struct(
            [
                ("source", pa.string()),
                ("first_error", pa.int64()),
                ("steps", pa.list_(step)),
                ("critique", pa.string()),
                ("solution_correct", pa.bool_()),
                ("finish_reason", pa.string()),
                ("status", pa.string()),
                ("time_spent_s", pa.float64()),
                ("extra", pa.string()),
                ("spans", pa.list_(span)),
                ("missing", pa.list_(missing)),
                ("corrected_answer", pa.string()),
            ]
        )
        return pa.schema(
            [
                ("trace_id", pa.int64()),
                ("content_key", pa.string()),
                ("position", pa.int64()),
                ("record_id", pa.string()),
                ("source_file", pa.string()),
                ("problem", pa.string()),
                ("steps", pa.list_(pa.string())),
                ("answer", pa.string()),
                ("reference_answer", pa.string()),
                ("reference_solution", pa.string()),
                ("generator", pa.string()),
                ("meta", pa.string()),
                ("step_parts", pa.list_(parted_step)),
                ("context", pa.string()),
                ("images", pa.list_(pa.string())),
                ("label_source", pa.string()),
                ("first_error", pa.int64()),
                ("human_agreement", pa.float64()),
                ("judgments", pa.list_(judgment)),
            ]
        )

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        t = item.trace
        yield {
            "trace_id": item.trace_id,
            "content_key": item.content_key,
            "position": item.position,
            "record_id": t.record_id,
            "source_file": t.source_file,
            "problem": t.problem,
            "steps": list(t.steps),
            "answer": t.answer,
            "reference_answer": t.reference_answer,
            "reference_solution": t.reference_solution,
            "generator": t.generator,
            "meta": json.dumps(t.metadata, ensure_ascii=False, sort_keys=True),
            "step_parts": None if t.step_parts is None else [_parted_step(s) for s in t.step_parts],
            "context": json.dumps(t.context, ensure_ascii=False, sort_keys=True) if t.context else None,
            "images": [image_path(ref) for ref in t.images],
            "label_source": item.label_source,
            "first_error": item.label.first_error if item.label else None,
            "human_agreement": item.agreement,
            "judgments": [_judgment(source, item) for source in sorted(item.judgments)],
        }

    def record_label(self, record: dict[str, Any]) -> str:
        first = record["first_error"]
        return "unlabelled" if first is None else "no error" if first == NO_ERROR else "has an error"
