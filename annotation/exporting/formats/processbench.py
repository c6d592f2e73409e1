"""ProcessBench's evaluation shape: ``label`` is the 0-based earliest wrong step, -1 when none is wrong.

``final_answer_correct`` is whether the final answer is right, which a trace with a wrong step may still
be: it is kept from the imported file when it was there, else the answer is compared with the reference
answer, else it follows the label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.core.model import NO_ERROR
from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions


def final_answer_correct(item: ExportItem) -> bool:
    kept = item.trace.metadata.get("final_answer_correct")
    if isinstance(kept, bool):
        return kept
    answer, reference = item.trace.answer, item.trace.reference_answer
    if answer is not None and reference is not None:
        return answer.strip() == reference.strip()
    return item.label is not None and item.label.first_error == NO_ERROR


def record_id(item: ExportItem) -> str:
    return item.trace.record_id or f"trace-{item.trace_id}"


class ProcessBench(Exporter):
    name = "processbench"
    title = "ProcessBench"
    description = "id, generator, problem, steps, final_answer_correct, label (0-based, -1 = no error)"
    leaves_out_unfinished = False

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        return pa.schema(
            [
                ("id", pa.string()),
                ("generator", pa.string()),
                ("problem", pa.string()),
                ("steps", pa.list_(pa.string())),
                ("final_answer_correct", pa.bool_()),
                ("label", pa.int64()),
            ]
        )

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        if item.label is None or item.label.first_error is None:
            tally["no first error given"] += 1
            return
        yield {
            "id": record_id(item),
            "generator": item.trace.generator or "",
            "problem": item.trace.problem,
            "steps": list(item.trace.steps),
            "final_answer_correct": final_answer_correct(item),
            "label": item.label.first_error,
        }

    def record_label(self, record: dict[str, Any]) -> str:
        return "no error (label -1)" if record["label"] == NO_ERROR else "has an error"
