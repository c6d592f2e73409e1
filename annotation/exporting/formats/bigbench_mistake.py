"""BIG-Bench Mistake: ``mistake_index`` is the 0-based first mistake, null when the trace has none."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.core.model import NO_ERROR
from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions


class BigBenchMistake(Exporter):
    name = "bigbench-mistake"
    title = "BIG-Bench Mistake"
    description = "input, steps, answer, target, mistake_index (0-based, null = no mistake)"
    leaves_out_unfinished = False

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        return pa.schema(
            [
                ("input", pa.string()),
                ("steps", pa.list_(pa.string())),
                ("answer", pa.string()),
                ("target", pa.string()),
                ("mistake_index", pa.int64()),
            ]
        )

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        first = item.label.first_error if item.label else None
        if first is None:
            tally["no first error given"] += 1
            return
        yield {
            "input": item.trace.problem,
            "steps": list(item.trace.steps),
            "answer": item.trace.answer,
            "target": item.trace.reference_answer,
            "mistake_index": None if first == NO_ERROR else first,
        }

    def record_label(self, record: dict[str, Any]) -> str:
        return "no mistake (null)" if record["mistake_index"] is None else "has a mistake"
