"""TRL stepwise supervision: ``prompt``, ``completions`` (the steps), ``labels`` (true = the step is correct).

Read by TRL's PRMTrainer up to TRL 1.13 (``trl.experimental.prm``); TRL 1.14 removed the trainer and the
stepwise dataset type, so this shape is kept for projects that pin trl==1.13. Axolotl's own PRM trainer reads
the same columns (axolotl_prm.py). Which steps are kept: step_labels.py.

Both trainers tokenize the prompt and each step apart and put the prompt's tokens straight before the first
step's (the step separator goes after each step only), so the prompt ends with the export's separator (a newline
by default), as DPO and KTO text prompts do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions
from annotation.exporting.formats.step_labels import labelled_steps


class TRLStepwise(Exporter):
    name = "trl-stepwise"
    title = "TRL stepwise supervision"
    description = "prompt, completions (steps), labels (one boolean per step) for TRL 1.13's PRMTrainer"
    trainer = "TRL 1.13: trl.experimental.prm.PRMTrainer (removed in TRL 1.14; pin trl==1.13.0)"
    uses_step_labels = True
    separates_prompt = True

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        return pa.schema(
            [("prompt", pa.string()), ("completions", pa.list_(pa.string())), ("labels", pa.list_(pa.bool_()))]
        )

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        kept = labelled_steps(item, options, tally)
        if kept is not None:
            steps, labels = kept
            yield {"prompt": item.trace.problem + options.separator, "completions": steps, "labels": labels}

    def record_label(self, record: dict[str, Any]) -> str:
        return "every step correct" if all(record["labels"]) else "has a wrong step"
