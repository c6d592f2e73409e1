"""Which steps of a trace a process reward export keeps, and whether each is correct: shared by every PRM shape.

``first-error`` keeps the steps up to and including the first wrong one (as public PRM800K conversions do), all
of them when none is wrong. ``every-step`` keeps every step with its own verdict, for traces where every step
was rated. A neutral step (0) is not wrong, so it counts as correct.
"""

from __future__ import annotations

from collections import Counter

from annotation.core.model import NO_ERROR
from annotation.exporting.formats.base import ExportItem, ExportOptions


def labelled_steps(item: ExportItem, options: ExportOptions, tally: Counter) -> tuple[list[str], list[bool]] | None:
    """The kept steps and one boolean each (True = correct); None, with the reason tallied, when the trace has none."""
    label, steps = item.label, item.trace.steps
    if options.step_labels == "every-step":
        verdicts = [s.verdict for s in label.steps] if label else []
        if len(verdicts) < len(steps) or any(v is None for v in verdicts):
            tally["not every step rated"] += 1
            return None
        return list(steps), [v != -1 for v in verdicts[: len(steps)]]
    first = label.first_error if label else None
    if first is None:
        tally["no first error given"] += 1
        return None
    if first == NO_ERROR:
        return list(steps), [True] * len(steps)
    return list(steps[: first + 1]), [True] * first + [False]
