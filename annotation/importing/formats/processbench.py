"""ProcessBench: `label` is the 0-based earliest wrong step, -1 for none.

Files written by ProcessBench's evaluation script add `generated_critique` (text, or a list when
it voted over samples) and `prediction` (int, or null when no index could be parsed); those
become a model judgment when the import names a source for them.
"""

from __future__ import annotations

import re

from annotation.core.model import NO_ERROR, InvalidValue, Judgment, Source, Trace
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

KNOWN = {"id", "generator", "problem", "steps", "label", "prediction", "generated_critique", "match"}
DEFAULT_PREDICTIONS_SOURCE = Source("model", "processbench-predictions")
_SUBSET = re.compile(r"^(.*)-\d+$")


class ProcessBench(Adapter):
    name = "processbench"
    title = "ProcessBench"
    description = "id, generator, problem, steps, final_answer_correct, label (0-based, -1 = no error)"
    signature = frozenset({"problem", "steps", "label"})
    file_fields = {"first_error": "label"}

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        d = raw.data
        steps = text_list(d, "steps")
        record_id = text(d, "id", required=False)
        metadata = scalar_metadata(d, KNOWN)
        if record_id and (m := _SUBSET.match(record_id)):
            metadata.setdefault("subset", m.group(1))
        trace = Trace(
            problem=text(d, "problem"),
            steps=steps,
            generator=text(d, "generator", required=False),
            record_id=record_id,
            source_file=ctx.file,
            metadata=metadata,
        )
        label = integer(need(d, "label"), "label")
        if label < NO_ERROR:
            raise InvalidValue("label", f"{label} is neither a step index nor -1 (no error)")
        judgments = [Judgment(ctx.options.label_source, first_error=label, solution_correct=label == NO_ERROR)]
        if "prediction" in d:
            judgments.append(self._prediction(raw, ctx, len(steps)))
        return ImportedRecord(trace, judgments, raw.number, raw.line)

    def _prediction(self, raw: RawRecord, ctx: ConvertContext, n_steps: int) -> Judgment:
        d = raw.data
        critique = d.get("generated_critique")
        if critique is not None and not isinstance(critique, str | list):
            raise InvalidValue("generated_critique", f"expected text or a list of texts, got {type(critique).__name__}")
        samples = critique if isinstance(critique, list) else None
        if isinstance(critique, list):
            critique = "\n\n---\n\n".join(str(c) for c in critique)
        prediction = d.get("prediction")
        extra: dict = {"raw_prediction": prediction}
        if samples:
            extra["samples"] = len(samples)
        valid = (
            isinstance(prediction, int)
            and not isinstance(prediction, bool)
            and (prediction == NO_ERROR or 0 <= prediction < n_steps)
        )
        if not valid:
            extra["unparsed"] = True
            if prediction is not None:
                ctx.warn(raw, f"prediction {prediction!r} is not a step of this trace; kept as unparsed")
        first_error = prediction if valid else None
        source = ctx.options.predictions_source or DEFAULT_PREDICTIONS_SOURCE
        return Judgment(
            source,
            first_error=first_error,
            critique=critique,
            solution_correct=None if first_error is None else first_error == NO_ERROR,
            extra=extra,
        )
