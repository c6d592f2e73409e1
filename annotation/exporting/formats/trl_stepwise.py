"""TRL stepwise supervision: ``prompt``, ``completions`` (the steps), ``labels`` (true = the step is correct).

TRL's PRMTrainer wants one label per completion. ``first-error`` keeps the steps up to and including the
first wrong one (as public PRM800K conversions do), all of them when none is wrong. ``every-step`` keeps
every step with its own verdict, for traces where every step was rated. A neutral step (0) is not wrong,
so its label is true.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.core.model import NO_ERROR
from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions


class TRLStepwise(Exporter):
    name = "trl-stepwise"
    title = "TRL stepwise supervision"
    description = "prompt, completions (steps), labels (one boolean per step) for TRL's PRMTrainer"

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        return pa.schema(
            [("prompt", pa.string()), ("completions", pa.list_(pa.string())), ("labels", pa.list_(pa.bool_()))]
        )

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        label, steps = item.label, item.trace.steps
        if options.step_labels == "every-step":
            verdicts = [s.verdict for s in label.steps] if label else []
            if len(verdicts) < len(steps) or any(v is None for v in verdicts):
                tally["not every step rated"] += 1
                return
            labels = [v != -1 for v in verdicts[: len(steps)]]
            yield {"prompt": item.trace.problem, "completions": list(steps), "labels": labels}
            return
        first = label.first_error if label else None
        if first is None:
            tally["no first error given"] += 1
            return
        if first == NO_ERROR:
            yield {"prompt": item.trace.problem, "completions": list(steps), "labels": [True] * len(steps)}
            return
        labels = [True] * first + [False]
        yield {"prompt": item.trace.problem, "completions": steps[: first + 1], "labels": labels}

    def record_label(self, record: dict[str, Any]) -> str:
        return "every step correct" if all(record["labels"]) else "has a wrong step"
