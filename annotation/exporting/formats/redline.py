"""Redline's own shape: one record per trace with every judgment, for teams that post-process themselves.

``meta`` and each judgment's ``extra`` are free-form, so they are written as JSON text: one column type
for every row, in JSONL, Parquet and Hugging Face folders alike. ``label_source`` and ``first_error``
say which judgment the export's source choice picked (null when none).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.core.model import NO_ERROR
from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions


def _judgment(source: str, item: ExportItem) -> dict[str, Any]:
    j = item.judgments[source]
    corrections = item.corrections.get(source, {})
    return {
        "source": source,
        "first_error": j.first_error,
        "steps": [
            {"verdict": s.verdict, "critique": s.critique, "tags": list(s.tags), "correction": corrections.get(i)}
            for i, s in enumerate(j.steps)
        ],
        "critique": j.critique,
        "solution_correct": j.solution_correct,
        "finish_reason": j.finish_reason,
        "status": j.status,
        "time_spent_s": j.time_spent_s,
        "extra": json.dumps(j.extra, ensure_ascii=False, sort_keys=True),
    }


class Redline(Exporter):
    name = "redline"
    title = "Redline (every judgment)"
    description = "one record per trace: the trace, the chosen label, and every judgment with its step labels"
    leaves_out_unfinished = False
    needs_label = False

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        step = pa.struct(
            [
                ("verdict", pa.int64()),
                ("critique", pa.string()),
                ("tags", pa.list_(pa.string())),
                ("correction", pa.string()),
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
            ]
        )
        return pa.schema(
            [
                ("trace_id", pa.int64()),
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
            "label_source": item.label_source,
            "first_error": item.label.first_error if item.label else None,
            "human_agreement": item.agreement,
            "judgments": [_judgment(source, item) for source in sorted(item.judgments)],
        }

    def record_label(self, record: dict[str, Any]) -> str:
        first = record["first_error"]
        return "unlabelled" if first is None else "no error" if first == NO_ERROR else "has an error"
