"""Math-Shepherd: `input` is the problem then the steps, each followed by the tag "ки"; `label` is the
same text with every tag replaced by "+" (correct) or "-" (wrong), or (as OpenRLHF's train_prm and Redline's
``openrlhf-prm`` export write it) a list of "+" / "-", one per tag."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from annotation.core.model import InvalidValue, Judgment, StepLabel, Trace, first_error_from_verdicts
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord, scalar_metadata, text
from annotation.importing.formats.reading import RawRecord

TAG = "ки"
_STEP_PREFIX = re.compile(r"^\s*Step\s*\d+\s*[:.]\s*", re.IGNORECASE)
_FIRST_STEP = re.compile(r"Step\s*1\s*[:.]", re.IGNORECASE)


class MathShepherd(Adapter):
    name = "math-shepherd"
    title = "Math-Shepherd"
    description = 'input (steps tagged "ки"), label (tags replaced by +/-), task'

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        return all(isinstance(r.get("input"), str) and TAG in r["input"] and "label" in r for r in sample)

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        d = raw.data
        source = text(d, "input")
        marks = d.get("label")
        label = None if isinstance(marks, list) else text(d, "label", required=False)
        if TAG not in source:
            raise InvalidValue("input", f'no step tag "{TAG}" in the input')
        segments = source.split(TAG)[:-1]
        head = segments[0]
        m = _FIRST_STEP.search(head)
        if not m:
            raise InvalidValue("input", 'cannot find where the steps begin (no "Step 1:")')
        problem = head[: m.start()].strip()
        steps = [_STEP_PREFIX.sub("", head[m.start() :]).strip()]
        steps += [_STEP_PREFIX.sub("", s).strip() for s in segments[1:]]
        judgments = []
        if isinstance(marks, list):
            if len(marks) != len(segments):
                raise InvalidValue("label", f"{len(marks)} labels for {len(segments)} tagged steps; give one per tag")
            bad = next((k for k, mark in enumerate(marks) if mark not in ("+", "-")), None)
            if bad is not None:
                raise InvalidValue(f"label[{bad}]", f"expected '+' or '-', got {marks[bad]!r}")
            judgments.append(_judgment(ctx, [1 if mark == "+" else -1 for mark in marks]))
        elif label is not None:
            verdicts = []
            pos = -1
            for k in range(len(segments)):
                pos = source.index(TAG, pos + 1)
                at = pos - k  # each earlier two-letter tag became one character
                mark = label[at] if at < len(label) else ""
                if mark not in "+-" or not mark:
                    raise InvalidValue("label", f"step {k + 1}: expected '+' or '-' where the input has its tag")
                verdicts.append(1 if mark == "+" else -1)
            judgments.append(_judgment(ctx, verdicts))
        task = text(d, "task", required=False)
        metadata = scalar_metadata(d, {"input", "label"})
        if task:
            metadata["subset"] = task
        trace = Trace(problem=problem, steps=steps, source_file=ctx.file, metadata=metadata)
        return ImportedRecord(trace, judgments, raw.number, raw.line)


def _judgment(ctx: ConvertContext, verdicts: list[int]) -> Judgment:
    first_error = first_error_from_verdicts(verdicts, finished=True)
    return Judgment(
        ctx.options.label_source,
        first_error=first_error,
        steps=[StepLabel(verdict=v) for v in verdicts],
        solution_correct=first_error == -1,
    )
