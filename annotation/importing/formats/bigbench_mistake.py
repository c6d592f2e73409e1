"""BIG-Bench Mistake: `mistake_index` is 0-based, null when the trace has no mistake; the task is the file's name."""

from __future__ import annotations

from pathlib import PurePath

from annotation.core.model import NO_ERROR, InvalidValue, Judgment, Trace
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

KNOWN = {"input", "steps", "answer", "target", "mistake_index"}


class BigBenchMistake(Adapter):
    name = "bigbench-mistake"
    title = "BIG-Bench Mistake"
    description = "input, steps, answer, target, mistake_index (0-based, null = no mistake)"
    signature = frozenset({"input", "steps", "mistake_index"})
    file_fields = {"first_error": "mistake_index", "problem": "input"}

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        d = raw.data
        task = PurePath(ctx.file).stem
        index = need(d, "mistake_index")
        first_error = NO_ERROR if index is None else integer(index, "mistake_index")
        if index is not None and first_error < 0:
            raise InvalidValue("mistake_index", f"{index} is not a step index (use null for no mistake)")
        trace = Trace(
            problem=text(d, "input"),
            steps=text_list(d, "steps"),
            answer=text(d, "answer", required=False),
            reference_answer=text(d, "target", required=False),
            record_id=f"{task}-{raw.number}",
            source_file=ctx.file,
            metadata={"task": task, **scalar_metadata(d, KNOWN)},
        )
        judgment = Judgment(ctx.options.label_source, first_error=first_error, solution_correct=index is None)
        return ImportedRecord(trace, [judgment], raw.number, raw.line)
