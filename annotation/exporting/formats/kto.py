"""Unpaired preference for KTO (``prompt``, ``completion``, ``label``): critics' critiques judged right or wrong.

A model's critique is right when its first error is the human-checked label's (both -1 for "no error");
a critique whose index could not be read counts as wrong, as in ProcessBench's evaluation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions
from annotation.exporting.formats.critique_text import critique_prompt, model_critique
from annotation.exporting.formats.preference import human_checked, text_or_messages, turn


class KTO(Exporter):
    name = "kto"
    title = "KTO unpaired preference"
    description = "prompt, completion (a critic's critique), label (true when it found the labelled first error)"

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        kind = text_or_messages(options.conversational)
        return pa.schema([("prompt", kind), ("completion", kind), ("label", pa.bool_())])

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        label = item.label
        if not human_checked(item) or label is None or label.first_error is None:
            tally["no human-checked first error"] += 1
            return
        made = 0
        prompt = critique_prompt(item.trace)
        for source, judgment in item.judgments.items():
            if not source.startswith("model:"):
                continue
            completion = model_critique(judgment, len(item.trace.steps))
            if not completion:
                continue
            made += 1
            yield {
                "prompt": turn("user", prompt, options.conversational),
                "completion": turn("assistant", completion, options.conversational),
                "label": judgment.first_error == label.first_error,
            }
        if not made:
            tally["no model critique"] += 1

    def record_label(self, record: dict[str, Any]) -> str:
        return "right (true)" if record["label"] else "wrong (false)"
