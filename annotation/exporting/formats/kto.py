"""Unpaired preference for KTO (``prompt``, ``completion``, ``label``): critics' critiques judged right or wrong.

A model's critique is right when its first error is the human-checked label's (both -1 for "no error");
a critique whose index could not be read counts as wrong, as in ProcessBench's evaluation. With ``usefulness``, the
label is instead whether the critique helped a reviser (annotation.exporting.usefulness).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions
from annotation.exporting.formats.critique_text import model_critique
from annotation.exporting.formats.preference import (
    critic_input,
    human_checked,
    text_or_messages,
    turn,
    with_image_files,
    with_images,
)


class KTO(Exporter):
    name = "kto"
    writes_images = True
    title = "KTO unpaired preference"
    description = "prompt, completion (a critic's critique), label (true when it found the labelled first error)"
    trainer = "TRL 1.16.0: KTOTrainer (unpaired preference: prompt, completion, label; text joined as is)"
    uses_critic_prompt = uses_conversational = separates_prompt = True

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        kind = text_or_messages(options.conversational, options.tools)
        return with_images(pa.schema([("prompt", kind), ("completion", kind), ("label", pa.bool_())]), options)

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        if options.usefulness is not None:
            yield from self.by_usefulness(item, options, tally)
            return
        label = item.label
        if not human_checked(item) or label is None or label.first_error is None:
            tally["no human-checked first error"] += 1
            return
        made = 0
        prompt = critic_input(item.trace, options)
        for source, judgment in item.judgments.items():
            if not source.startswith("model:"):
                continue
            completion = model_critique(judgment, len(item.trace.steps))
            if not completion:
                continue
            made += 1
            record = {
                "prompt": prompt,
                "completion": turn("assistant", completion, options.conversational),
                "label": judgment.first_error == label.first_error,
            }
            yield with_image_files(record, item, options)
        if not made:
            tally["no model critique"] += 1

    def by_usefulness(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        """Every critique revised on the trace: true when it helped the reviser, false when it broke the solution."""
        from annotation.exporting.usefulness import critiques_by_label
        from annotation.revision.figures import HARMFUL, HELPFUL

        found = critiques_by_label(item)
        if not found[HELPFUL] and not found[HARMFUL]:
            tally["no critique that helped or harmed"] += 1
            return
        prompt = critic_input(item.trace, options)
        for label in (HELPFUL, HARMFUL):
            for text in found[label]:
                record = {
                    "prompt": prompt,
                    "completion": turn("assistant", text, options.conversational),
                    "label": label == HELPFUL,
                }
                yield with_image_files(record, item, options)

    def record_label(self, record: dict[str, Any]) -> str:
        return "right (true)" if record["label"] else "wrong (false)"
