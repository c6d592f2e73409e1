"""Fine-Grained RLHF's qa-feedback: a question with passages, four sampled answers, and human fine-grained
feedback on ``prediction 1``.

``prediction 1`` is the answer judged: one step by default, or one step per sentence (``sentences``), the
steps together covering the answer exactly (each keeps the whitespace after it and its ``offset`` in the
whole), so every character offset of the file has one place. The feedback becomes the source's judgment:

- ``feedback.errors`` (``{"error type", "start", "end", "explanation"}``, 0-based end-exclusive character
  offsets into ``prediction 1``) become spans; one that crosses sentences becomes a span per sentence sharing
  a group, so that the export writes it back whole;
- ``feedback["missing-info"]`` (``{"error type", "passage_id", "sentence_id"}``) become missing entries at
  the end of the answer, their passage and sentence kept as read (a ``sentence_id`` list stays a list);
- ``feedback["corrected-prediction"]`` is the corrected answer (an empty one stays ``""``).

The question and passages are the problem and its context; ``gold`` is the reference answer; ``prediction
2..4``, ``preference`` and anything else stay in the metadata. Exported back (format ``fgrlhf``), every
span's offsets, type and explanation, every missing-info entry and the corrected prediction are as read.
"""

from __future__ import annotations

import re
from typing import Any

from annotation.core.model import NO_ERROR, InvalidValue, Judgment, Trace
from annotation.core.parts import Part, Step, set_steps
from annotation.core.spans import Missing, Span
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord, integer, text
from annotation.importing.formats.reading import RawRecord

ANSWER = "prediction 1"
SPLITS = ("whole", "sentences")
KNOWN = {"question", "passages", "gold", ANSWER, "feedback"}
ERROR_KEYS = ("error type", "explanation", "start", "end")
MISSING_KEYS = ("error type", "passage_id", "sentence_id")
# A sentence ends at . ! or ? (and any closing quote or bracket); the next one starts after the spaces.
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")


def sentence_bounds(answer: str) -> list[int]:
    """Where each sentence starts: 0, then after each sentence end and the whitespace that follows it."""
    starts = [0]
    for m in _SENTENCE_END.finditer(answer):
        if m.end() < len(answer):
            starts.append(m.end())
    return starts


class FGRLHF(Adapter):
    name = "fgrlhf"
    title = "Fine-Grained RLHF qa-feedback"
    description = "question, passages, prediction 1..4, feedback (error spans, missing info, corrected prediction)"
    signature = frozenset({ANSWER, "feedback"})
    file_fields = {
        "problem": "question",
        "answer": ANSWER,
        "spans": "feedback.errors",
        "missing": "feedback.missing-info",
    }

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        d = raw.data
        answer = d.get(ANSWER)
        if not isinstance(answer, str) or not answer:
            raise InvalidValue(ANSWER, "expected the answer's text")
        split = ctx.options.answer_split
        if split not in SPLITS:
            raise InvalidValue("split", f"{split!r} is not one of {', '.join(SPLITS)}")
        starts = sentence_bounds(answer) if split == "sentences" else [0]
        ends = [*starts[1:], len(answer)]
        steps = [Step([Part("text", text=answer[a:b])], offset=a) for a, b in zip(starts, ends, strict=True)]
        passages = d.get("passages")
        if passages is not None and not isinstance(passages, list):
            raise InvalidValue("passages", f"expected a list of passages, got {type(passages).__name__}")
        gold = d.get("gold")
        trace = Trace(
            problem=text(d, "question"),
            steps=[],
            answer=answer,
            reference_answer=gold if isinstance(gold, str) else None,
            record_id=str(d["id"]) if isinstance(d.get("id"), str | int) else None,
            source_file=ctx.file,
            metadata={k: v for k, v in d.items() if k not in KNOWN or (k == "gold" and not isinstance(v, str))},
            context={"passages": passages} if passages else {},
        )
        set_steps(trace, steps)
        return ImportedRecord(trace, [self._judgment(d, starts, ends, ctx)], raw.number, raw.line)

    def _judgment(self, d: dict[str, Any], starts: list[int], ends: list[int], ctx: ConvertContext) -> Judgment:
        feedback = d.get("feedback")
        if not isinstance(feedback, dict):
            raise InvalidValue("feedback", "expected an object with errors, missing-info and corrected-prediction")
        answer = d[ANSWER]
        spans: list[Span] = []
        extras: dict[str, Any] = {}
        errors = feedback.get("errors") or []
        if not isinstance(errors, list):
            raise InvalidValue("feedback.errors", "expected a list")
        for k, error in enumerate(errors):
            where = f"feedback.errors[{k}]"
            if not isinstance(error, dict):
                raise InvalidValue(where, "expected an object")
            kind = error.get("error type")
            if not isinstance(kind, str) or not kind:
                raise InvalidValue(f"{where}.error type", "missing")
            start, end = integer(error.get("start"), f"{where}.start"), integer(error.get("end"), f"{where}.end")
            if not 0 <= start < end <= len(answer):
                raise InvalidValue(where, f"{start}-{end} is not a range in the answer of {len(answer)} characters")
            note = error.get("explanation")
            if note is not None and not isinstance(note, str):
                raise InvalidValue(f"{where}.explanation", "expected text")
            pieces = [(i, max(start, a), min(end, b)) for i, (a, b) in enumerate(zip(starts, ends, strict=True))]
            pieces = [(i, a, b) for i, a, b in pieces if a < b]
            group = f"error {k}" if len(pieces) > 1 else None
            for i, a, b in pieces:
                spans.append(Span(i, a - starts[i], b - starts[i], kind, note=note or "", group=group))
            other = {key: v for key, v in error.items() if key not in ERROR_KEYS}
            if other or list(error) != list(ERROR_KEYS) or note is None:
                extras[str(k)] = {"keys": list(error), "other": other}
        missing = []
        entries = feedback.get("missing-info") or []
        if not isinstance(entries, list):
            raise InvalidValue("feedback.missing-info", "expected a list")
        missing_extras: dict[str, Any] = {}
        for k, entry in enumerate(entries):
            where = f"feedback.missing-info[{k}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("error type"), str):
                raise InvalidValue(where, "expected an object with its error type")
            missing.append(
                Missing(len(starts), entry["error type"], "", entry.get("passage_id"), entry.get("sentence_id"))
            )
            if list(entry) != list(MISSING_KEYS):
                missing_extras[str(k)] = {
                    "keys": list(entry),
                    "other": {x: v for x, v in entry.items() if x not in MISSING_KEYS},
                }
        corrected = feedback.get("corrected-prediction")
        if corrected is not None and not isinstance(corrected, str):
            raise InvalidValue("feedback.corrected-prediction", "expected text")
        first = min((s.step for s in spans), default=NO_ERROR)
        extra: dict[str, Any] = {"fgrlhf": {"feedback_keys": list(feedback)}}
        if extras:
            extra["fgrlhf"]["errors"] = extras
        if missing_extras:
            extra["fgrlhf"]["missing"] = missing_extras
        return Judgment(
            ctx.options.label_source,
            first_error=first,
            solution_correct=not spans and not missing,
            spans=spans,
            missing=missing,
            corrected_answer=corrected,
            extra=extra,
        )
