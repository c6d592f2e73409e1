"""Any JSON / JSONL / CSV / Parquet file, read through a field mapping the user gives.

Besides a first error and a critique, a labels file may carry per-step lists (``step_critiques``,
``step_verdicts``, ``corrections``: one item per step, step_lists.py) and the ``source_file`` a record id belongs
to, by which its labels attach to a trace already in the project (importing/attach.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from annotation.core.model import (
    NO_ERROR,
    InvalidValue,
    Judgment,
    StepLabel,
    Trace,
    first_error_from_verdicts,
    verdicts_against_first_error,
)
from annotation.core.parts import set_steps, step_of_message, steps_of
from annotation.importing.formats.base import Adapter, ConvertContext, ConvertOptions, ImportedRecord
from annotation.importing.formats.chat import conversation_record
from annotation.importing.formats.openai_messages import looks_like_messages
from annotation.importing.formats.reading import RawRecord
from annotation.importing.formats.step_lists import texts_per_step, verdicts_per_step
from annotation.importing.formats.step_split import check_rule, reasoning_steps, split_steps

MAPPABLE = (
    "id",
    "problem",
    "steps",
    "answer",
    "reference_answer",
    "reference_solution",
    "generator",
    "first_error",
    "critique",
    "step_critiques",
    "step_verdicts",
    "corrections",
    "source_file",
    "image",
)
#: Fields that make a judgment: a record with any of them mapped carries the labels of the ``--as`` source.
LABEL_FIELDS = ("first_error", "critique", "step_critiques", "step_verdicts", "corrections")
DEFAULT_NO_ERROR = ("null", "-1", "N/A")
# Text fields that may be built from several columns, joined in order ("Question+Options", as MR-Ben needs).
JOINABLE = ("problem", "answer", "reference_answer", "reference_solution", "critique")
JOIN = "+"


@dataclass(slots=True)
class FieldMapping:
    """Which column holds each part of a trace; None = the file has no such column."""

    id: str | None = None
    problem: str | None = "problem"
    steps: str | None = "steps"
    answer: str | None = None
    reference_answer: str | None = None
    reference_solution: str | None = None
    generator: str | None = None
    first_error: str | None = None
    critique: str | None = None
    # One item per step: a critique, a verdict (-1/0/+1 or a word), a correction (null where a step has none).
    step_critiques: str | None = None
    step_verdicts: str | None = None
    corrections: str | None = None
    # The file the record id belongs to (default: the file imported), for matching traces already imported.
    source_file: str | None = None
    # The problem's image: a path relative to the file, a data URI, a URL (or a list of them).
    image: str | None = None
    step_split: str = "auto"
    first_error_base: int = 0
    no_error_values: tuple[str, ...] = field(default=DEFAULT_NO_ERROR)
    # A first error written as text ("Step 4 is wrong"): the step number is the regex's first group.
    first_error_pattern: str | None = None

    def __post_init__(self) -> None:
        check_rule(self.step_split)
        if self.first_error_pattern is not None:
            try:
                compiled = re.compile(self.first_error_pattern)
            except re.error as e:
                raise InvalidValue("first_error_pattern", f"the regex does not compile: {e}") from e
            if compiled.groups < 1:
                raise InvalidValue("first_error_pattern", "the regex needs a group around the step number: (\\d+)")
        if self.first_error_base not in (0, 1):
            raise InvalidValue("first_error_base", "the first-error base is 0 or 1")
        if not self.problem or not self.steps:
            raise InvalidValue("mapping", "the mapping must name the problem and the steps columns")

    @classmethod
    def from_pairs(cls, pairs: Sequence[str], **options: Any) -> FieldMapping:
        """From CLI-style ``FIELD=COLUMN`` pairs."""
        values: dict[str, Any] = {}
        for pair in pairs:
            key, sep, column = pair.partition("=")
            if not sep or key.strip() not in MAPPABLE:
                raise InvalidValue("map", f"{pair!r}: use FIELD=COLUMN with FIELD one of {', '.join(MAPPABLE)}")
            values[key.strip()] = column.strip() or None
        return cls(**values, **{k: v for k, v in options.items() if v is not None})

    def columns(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in MAPPABLE and getattr(self, f.name)}


def joined_columns(spec: str, data: dict[str, Any] | None = None) -> list[str]:
    """The columns a text field is read from: ``A+B`` is A then B, unless the file has a column named ``A+B``."""
    if JOIN not in spec or (data is not None and spec in data):
        return [spec]
    return [c.strip() for c in spec.split(JOIN) if c.strip()]


def _text_cell(data: dict[str, Any], spec: str | None, target: str, required: bool = False) -> str | None:
    """A text field from one column, or from several joined in order by a blank line (empty ones left out)."""
    if spec is None:
        return None
    columns = joined_columns(spec, data)
    if len(columns) == 1:
        return _as_text(_cell(data, columns[0], target, required), columns[0])
    parts = [_as_text(_cell(data, c, target, required), c) for c in columns]
    return "\n\n".join(p for p in parts if p) or None


def _cell(data: dict[str, Any], column: str | None, target: str, required: bool = False) -> Any:
    if column is None:
        return None
    if column not in data:
        if required:
            raise InvalidValue(column, f"missing (mapped to {target})")
        return None
    return data[column]


def _as_text(value: Any, column: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dict | list):
        raise InvalidValue(column, f"expected text, got {type(value).__name__}")
    return str(value)


class Generic(Adapter):
    name = "generic"
    title = "Generic (field mapping)"
    description = "any JSON, JSONL, CSV or Parquet file, with a mapping from Redline's fields to its columns"

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        return False  # chosen explicitly, never guessed: a wrong guess would import nonsense

    def file_field(self, name: str, options: ConvertOptions) -> str:
        mapping = options.mapping or FieldMapping()
        return getattr(mapping, name, None) or name if name in MAPPABLE else name

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        m: FieldMapping = ctx.options.mapping or FieldMapping()
        d = raw.data
        if looks_like_messages(d.get(m.steps)):
            return self._conversation(raw, ctx, m)
        problem = _text_cell(d, m.problem, "problem", required=True)
        if problem is None:
            raise InvalidValue(m.problem, "the problem is empty")
        cell = _cell(d, m.steps, "steps", required=True)
        reasoning = reasoning_steps(cell, m.step_split, m.steps)
        steps = split_steps(cell, m.step_split, m.steps) if reasoning is None else []
        known = {c for spec in m.columns().values() for c in joined_columns(spec, d)}
        trace = Trace(
            problem=problem,
            steps=steps,
            answer=_text_cell(d, m.answer, "answer"),
            reference_answer=_text_cell(d, m.reference_answer, "reference_answer"),
            reference_solution=_text_cell(d, m.reference_solution, "reference_solution"),
            generator=_as_text(_cell(d, m.generator, "generator"), m.generator),
            record_id=_as_text(_cell(d, m.id, "id"), m.id),
            source_file=_as_text(_cell(d, m.source_file, "source_file"), m.source_file) or ctx.file,
            metadata={k: v for k, v in d.items() if k not in known},
        )
        if reasoning is not None:
            set_steps(trace, reasoning)
        trace.images = self._images(d, m, ctx)
        first_error = (
            self._first_error(_cell(d, m.first_error, "first_error", required=True), m) if m.first_error else None
        )
        judgments = self._labels(d, m, ctx, first_error, len(trace.steps))
        return ImportedRecord(trace, judgments, raw.number, raw.line)

    @staticmethod
    def _labels(
        d: dict[str, Any], m: FieldMapping, ctx: ConvertContext, first_error: int | None, n_steps: int
    ) -> list[Judgment]:
        """The judgment the record's label columns make: the first error, the critique, and per step a verdict, a
        critique and a correction. None when no label column is mapped, or when every label cell of the record is
        empty (an empty judgment would count as submitted). Without a first-error column the first error follows
        the verdicts; with one, the verdicts must agree with it."""
        if not any(getattr(m, name) for name in LABEL_FIELDS):
            return []
        verdicts = verdicts_per_step(_cell(d, m.step_verdicts, "step_verdicts"), m.step_verdicts or "", n_steps)
        critiques = texts_per_step(_cell(d, m.step_critiques, "step_critiques"), m.step_critiques or "", n_steps)
        corrections = texts_per_step(_cell(d, m.corrections, "corrections"), m.corrections or "", n_steps)
        if verdicts is not None:
            if m.first_error:
                _check_agreement(verdicts, first_error, m)
            else:
                first_error = first_error_from_verdicts(verdicts, finished=None not in verdicts)
        steps = [
            StepLabel(
                verdict=verdicts[i] if verdicts else None,
                critique=critiques[i] if critiques else None,
                correction=corrections[i] if corrections else None,
            )
            for i in range(n_steps)
        ]
        while steps and steps[-1].is_empty():
            steps.pop()
        critique = _text_cell(d, m.critique, "critique")
        if first_error is None and critique is None and not steps:
            return []  # empty label cells: no judgment, which would count as submitted and complete the trace
        return [
            Judgment(
                ctx.options.label_source,
                first_error=first_error,
                steps=steps,
                critique=critique,
                solution_correct=None if first_error is None else first_error == NO_ERROR,
            )
        ]

    def _conversation(self, raw: RawRecord, ctx: ConvertContext, m: FieldMapping) -> ImportedRecord:
        """The steps column holds messages: grouped as the importer chose, with a first error given as the index
        of a message landing on the step that holds that message."""
        d = raw.data
        imported = conversation_record(raw, ctx, d, m.steps, _text_cell(d, m.problem, "problem"))
        trace = imported.trace
        trace.answer = _text_cell(d, m.answer, "answer")
        trace.reference_answer = _text_cell(d, m.reference_answer, "reference_answer")
        trace.reference_solution = _text_cell(d, m.reference_solution, "reference_solution")
        trace.generator = _as_text(_cell(d, m.generator, "generator"), m.generator) or trace.generator
        trace.record_id = _as_text(_cell(d, m.id, "id"), m.id) or trace.record_id
        trace.images = trace.images + self._images(d, m, ctx)
        known = {c for spec in m.columns().values() for c in joined_columns(spec, d)}
        trace.metadata = {k: v for k, v in trace.metadata.items() if k not in known}
        trace.source_file = _as_text(_cell(d, m.source_file, "source_file"), m.source_file) or trace.source_file
        first_error = None
        if m.first_error:
            message = self._first_error(_cell(d, m.first_error, "first_error", required=True), m)
            first_error = message if message == NO_ERROR else step_of_message(steps_of(trace), message)
            if first_error is None:
                raise InvalidValue(
                    m.first_error,
                    f"message {message + m.first_error_base} (counted from {m.first_error_base}) is not in "
                    "any step: it is the problem or the system prompt",
                )
        imported.judgments.extend(self._labels(d, m, ctx, first_error, len(trace.steps)))
        return imported

    @staticmethod
    def _images(d: dict[str, Any], m: FieldMapping, ctx: ConvertContext) -> list[str]:
        value = _cell(d, m.image, "image")
        if value is None or value == "":
            return []
        refs = value if isinstance(value, list) else [value]
        return [ctx.image(ref, m.image if len(refs) == 1 else f"{m.image}[{k}]") for k, ref in enumerate(refs)]

    @staticmethod
    def _first_error(value: Any, m: FieldMapping) -> int:
        column = m.first_error or "first_error"
        spelled = "null" if value is None else str(value).strip()
        if spelled in m.no_error_values or (value is None and "null" in m.no_error_values):
            return NO_ERROR
        if m.first_error_pattern and isinstance(value, str):
            found = re.search(m.first_error_pattern, value)
            if found is None or found.group(1) is None:
                raise InvalidValue(
                    column, f"{value!r} does not match the first-error pattern {m.first_error_pattern!r}"
                )
            value = spelled = found.group(1).strip()
        if value is None or spelled == "":
            raise InvalidValue(column, "empty, and empty is not one of the no-error values " + repr(m.no_error_values))
        try:
            number = int(float(spelled)) if not isinstance(value, bool) else None
        except (ValueError, OverflowError):  # not a number, or infinite
            number = None
        if number is None or float(spelled) != number:
            raise InvalidValue(
                column, f"{value!r} is neither a step number nor a no-error value {list(m.no_error_values)}"
            )
        index = number - m.first_error_base
        if index < 0:
            raise InvalidValue(column, f"step {number} does not exist with base {m.first_error_base}")
        return index


def _check_agreement(verdicts: list[int | None], first_error: int | None, m: FieldMapping) -> None:
    """Verdicts that contradict the first error the file gives are refused, naming the step."""
    column = m.step_verdicts or "step_verdicts"
    found = verdicts_against_first_error(first_error, verdicts)
    if found is None:
        return
    k, early = found
    if early:
        said = "no error" if first_error == NO_ERROR else f"the first error at step {first_error + 1}"
        raise InvalidValue(f"{column}[{k}]", f"step {k + 1} is wrong, but {m.first_error} says {said}")
    raise InvalidValue(
        f"{column}[{k}]", f"step {k + 1} is the first error in {m.first_error}, but its verdict is {verdicts[k]}"
    )


@dataclass(frozen=True, slots=True)
class BaseEvidence:
    """What a file proves of how its first-error column counts steps, and the record that proves it."""

    base: int
    reason: str


def first_error_base_evidence(records: Sequence[dict[str, Any]], mapping: FieldMapping) -> BaseEvidence | None:
    """A 0 in the first-error column proves it counts from 0; a value equal to its record's number of steps
    proves it counts from 1 (counting from 0 the last step is one less). None when no record shows either:
    then a person must say, never a silent guess."""
    column = mapping.first_error
    if not column:
        return None
    counted_from_one = None
    for n, data in enumerate(records, start=1):
        value = data.get(column)
        spelled = "null" if value is None else str(value).strip()
        if spelled in mapping.no_error_values or isinstance(value, bool):
            continue
        if mapping.first_error_pattern and isinstance(value, str):
            found = re.search(mapping.first_error_pattern, value)
            if found is None or found.group(1) is None:
                continue
            spelled = found.group(1).strip()
        try:
            number = float(spelled)
        except ValueError:
            continue
        if number == 0:
            return BaseEvidence(0, f"record {n} has {column} = 0")
        if counted_from_one is None and number.is_integer():
            try:
                cell, field = data.get(mapping.steps), mapping.steps or "steps"
                steps = reasoning_steps(cell, mapping.step_split, field) or split_steps(cell, mapping.step_split, field)
            except InvalidValue:
                continue
            if int(number) == len(steps):
                counted_from_one = BaseEvidence(1, f"record {n} has {column} = {int(number)}, its number of steps")
    return counted_from_one
