"""PRMBench: `error_steps` are 1-based step numbers of injected errors ([] = none); `reason` is the critique."""

from __future__ import annotations

from annotation.core.model import NO_ERROR, InvalidValue, Judgment, StepLabel, Trace
from annotation.importing.formats.base import (
    Adapter,
    ConvertContext,
    ImportedRecord,
    integer,
    need,
    scalar_metadata,
    text,
    text_list,
)
from annotation.importing.formats.reading import RawRecord

KNOWN = {"modified_question", "modified_process", "original_process", "error_steps", "reason", "question"}


class PRMBench(Adapter):
    name = "prmbench"
    title = "PRMBench"
    description = "modified_question, modified_process, error_steps (1-based), reason, classification"
    signature = frozenset({"modified_process", "error_steps"})
    file_fields = {"first_error": "error_steps", "steps": "modified_process", "problem": "modified_question"}

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        d = raw.data
        steps = text_list(d, "modified_process")
        error_steps = need(d, "error_steps")
        if not isinstance(error_steps, list):
            raise InvalidValue("error_steps", f"expected a list of step numbers, got {type(error_steps).__name__}")
        numbers = sorted({integer(n, "error_steps") for n in error_steps})
        if numbers and numbers[0] < 1:
            raise InvalidValue("error_steps", f"step numbers start at 1, got {numbers[0]}")
        if numbers and numbers[0] > len(steps):
            raise InvalidValue(
                "error_steps", f"first error at step {numbers[0]} but the process has {len(steps)} steps"
            )
        beyond = [n for n in numbers if n > len(steps)]
        if beyond:
            ctx.warn(raw, f"error_steps {beyond} lie past the {len(steps)} steps; kept in the trace's metadata")
        classification = text(d, "classification", required=False)
        labels = [StepLabel() for _ in steps]
        for n in numbers:
            if n <= len(steps):
                labels[n - 1] = StepLabel(verdict=-1, tags=[classification] if classification else [])
        while labels and labels[-1].is_empty():
            labels.pop()
        original = d.get("original_process")
        if isinstance(original, list) and not all(isinstance(s, str) for s in original):
            raise InvalidValue("original_process", "expected a list of text")
        idx = text(d, "idx", required=False)
        metadata = scalar_metadata(d, KNOWN)
        metadata["error_steps"] = error_steps
        if classification:
            metadata["subset"] = classification
        trace = Trace(
            problem=text(d, "modified_question", required=False) or text(d, "question"),
            steps=steps,
            reference_solution="\n".join(original) if isinstance(original, list) else None,
            record_id=f"{idx}:{classification}" if idx else None,
            source_file=ctx.file,
            metadata=metadata,
        )
        first_error = numbers[0] - 1 if numbers else NO_ERROR
        judgment = Judgment(
            ctx.options.label_source,
            first_error=first_error,
            steps=labels,
            critique=text(d, "reason", required=False),
            solution_correct=not numbers,
        )
        return ImportedRecord(trace, [judgment], raw.number, raw.line)
