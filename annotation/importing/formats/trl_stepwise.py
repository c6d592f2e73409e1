"""TRL stepwise supervision: `prompt`, `completions` (the steps), `labels` (true = the step is correct)."""

from __future__ import annotations

from annotation.core.model import InvalidValue, Judgment, StepLabel, Trace, first_error_from_verdicts
from annotation.importing.formats.base import (
    Adapter,
    ConvertContext,
    ImportedRecord,
    need,
    scalar_metadata,
    text,
    text_list,
)
from annotation.importing.formats.reading import RawRecord

KNOWN = {"prompt", "completions", "labels", "id"}


class TRLStepwise(Adapter):
    name = "trl-stepwise"
    title = "TRL stepwise supervision"
    description = "prompt, completions (list of steps), labels (list of booleans, one per step)"
    signature = frozenset({"prompt", "completions", "labels"})
    file_fields = {"first_error": "labels", "steps": "completions", "problem": "prompt"}

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        d = raw.data
        steps = text_list(d, "completions")
        labels = need(d, "labels")
        if not isinstance(labels, list) or not all(isinstance(x, bool) for x in labels):
            raise InvalidValue("labels", "expected a list of booleans")
        if len(labels) > len(steps):
            raise InvalidValue("labels", f"{len(labels)} labels for {len(steps)} completions")
        verdicts = [1 if ok else -1 for ok in labels]
        trace = Trace(
            problem=text(d, "prompt"),
            steps=steps,
            record_id=text(d, "id", required=False),
            source_file=ctx.file,
            metadata=scalar_metadata(d, KNOWN),
        )
        # Labels that stop early (TRL's PRM800K conversion stops at the first wrong step) still judge the trace.
        first_error = first_error_from_verdicts(verdicts, finished=len(labels) == len(steps))
        judgment = Judgment(
            ctx.options.label_source,
            first_error=first_error,
            steps=[StepLabel(verdict=v) for v in verdicts],
            solution_correct=None if first_error is None else all(labels) and len(labels) == len(steps),
        )
        return ImportedRecord(trace, [judgment], raw.number, raw.line)
