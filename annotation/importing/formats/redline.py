"""Redline's own export read back: the trace as it was (parts, context, images) with every judgment.

Importing an export into the project it came from changes nothing (the traces are already there and the
judgments the same); into another project it recreates them. Images are read from the ``images/`` folder
beside the file, as the export wrote them.
"""

from __future__ import annotations

import json
from typing import Any

from annotation.core.model import InvalidValue, Judgment, Source, StepLabel, Trace
from annotation.core.parts import Part, Step
from annotation.core.spans import missing_from_data, spans_from_data
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord, integer, text
from annotation.importing.formats.reading import RawRecord


def _json_text(value: Any, where: str, default: Any) -> Any:
    """A field the export writes as JSON text (or, read from another tool, as the value itself)."""
    if value is None:
        return default
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as e:
        raise InvalidValue(where, f"not valid JSON text ({e})") from e


def _missing_values(raw: Any) -> Any:
    """A missing entry as exported: its passage and sentence are JSON text (see the export)."""
    if not isinstance(raw, dict):
        return raw
    return raw | {k: _json_text(raw.get(k), k, None) for k in ("passage", "sentence")}


class RedlineExport(Adapter):
    name = "redline"
    title = "Redline export"
    description = "Redline's own export (format redline): traces with their parts and every judgment"
    signature = frozenset({"trace_id", "position", "problem", "steps", "label_source", "judgments"})

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        d = raw.data
        steps = d.get("steps")
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            raise InvalidValue("steps", "expected a list of step texts")
        meta = _json_text(d.get("meta"), "meta", {})
        if not isinstance(meta, dict):
            raise InvalidValue("meta", "expected a JSON object")
        context = _json_text(d.get("context"), "context", {})
        if not isinstance(context, dict):
            raise InvalidValue("context", "expected a JSON object")
        trace = Trace(
            problem=text(d, "problem"),
            steps=list(steps),
            answer=text(d, "answer", required=False),
            reference_answer=text(d, "reference_answer", required=False),
            reference_solution=text(d, "reference_solution", required=False),
            generator=text(d, "generator", required=False),
            record_id=text(d, "record_id", required=False),
            source_file=text(d, "source_file", required=False),
            metadata=meta,
            context=context,
            images=[ctx.image(ref, f"images[{k}]") for k, ref in enumerate(d.get("images") or [])],
        )
        if d.get("step_parts") is not None:
            trace.step_parts = self._steps(d["step_parts"], ctx)
            texts = [s.text for s in trace.step_parts]
            if texts != trace.steps:
                k = next((i for i, (a, b) in enumerate(zip(texts, trace.steps, strict=False)) if a != b), len(texts))
                raise InvalidValue(f"step_parts[{k}]", "its text differs from steps: the record was edited by hand?")
        judgments = d.get("judgments") or []
        if not isinstance(judgments, list):
            raise InvalidValue("judgments", "expected a list")
        claimed = d.get("content_key")
        return ImportedRecord(
            trace,
            [self._judgment(j, f"judgments[{k}]") for k, j in enumerate(judgments)],
            raw.number,
            raw.line,
            claimed_key=claimed if isinstance(claimed, str) and len(claimed) == 64 else None,
        )

    @staticmethod
    def _steps(raw: Any, ctx: ConvertContext) -> list[Step]:
        if not isinstance(raw, list):
            raise InvalidValue("step_parts", "expected a list of steps")
        steps = []
        for i, s in enumerate(raw):
            where = f"step_parts[{i}]"
            if not isinstance(s, dict) or not isinstance(s.get("parts"), list):
                raise InvalidValue(where, "expected an object with its parts")
            parts = []
            for k, p in enumerate(s["parts"]):
                at = f"{where}.parts[{k}]"
                values = {key: v for key, v in (p.items() if isinstance(p, dict) else ()) if v is not None}
                if values.get("type") == "image" and "image" in values:
                    values["image"] = ctx.image(values["image"], f"{at}.image")
                parts.append(Part.from_dict(values, at))
            messages = s.get("messages") or []
            shape = {"parts": [], "role": s.get("role"), "agent": s.get("agent"), "messages": messages}
            step = Step.from_dict(shape | {"offset": s.get("offset")}, where)
            step.parts = parts
            steps.append(step)
        return steps

    @staticmethod
    def _judgment(raw: Any, where: str) -> Judgment:
        if not isinstance(raw, dict):
            raise InvalidValue(where, "expected an object")
        try:
            source = Source.parse(text(raw, "source"))
        except InvalidValue as e:
            raise InvalidValue(f"{where}.source", e.message) from e
        labels = []
        for i, s in enumerate(raw.get("steps") or []):
            if not isinstance(s, dict):
                raise InvalidValue(f"{where}.steps[{i}]", "expected an object")
            tags = s.get("tags") or []
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise InvalidValue(f"{where}.steps[{i}].tags", "expected a list of tag names")
            verdict = s.get("verdict")
            labels.append(
                StepLabel(
                    verdict=None if verdict is None else integer(verdict, f"{where}.steps[{i}].verdict"),
                    critique=s.get("critique"),
                    tags=list(tags),
                    correction=s.get("correction") or None,
                    because_of=None if s.get("because_of") is None else integer(s["because_of"], f"{where}.steps[{i}]"),
                )
            )
        extra = _json_text(raw.get("extra"), f"{where}.extra", {})
        first = raw.get("first_error")
        return Judgment(
            source=source,
            first_error=None if first is None else integer(first, f"{where}.first_error"),
            steps=labels,
            critique=raw.get("critique"),
            solution_correct=raw.get("solution_correct"),
            finish_reason=raw.get("finish_reason"),
            status=raw.get("status") or "submitted",
            time_spent_s=raw.get("time_spent_s"),
            extra=extra if isinstance(extra, dict) else {},
            spans=spans_from_data(raw.get("spans"), f"{where}.spans"),
            missing=missing_from_data([_missing_values(x) for x in raw.get("missing") or []], f"{where}.missing"),
            corrected_answer=raw.get("corrected_answer"),
        )
