"""What the Import page shows around an import, as plain data: a file's columns and format, a preview, a summary.

Nothing here touches the database or Streamlit; the page lays these values out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotation.core.errors import ImportFailure
from annotation.core.model import first_error_text
from annotation.importing.files import DETECT_SAMPLE, ImportSummary, ParsedFile, choose_adapter
from annotation.importing.formats import FORMATS
from annotation.importing.formats.generic import (
    DEFAULT_NO_ERROR,
    MAPPABLE,
    BaseEvidence,
    FieldMapping,
    first_error_base_evidence,
)
from annotation.importing.formats.reading import read_records

AUTO_DETECT = "auto-detect"
#: Columns read to offer a field mapping and to notice optional fields such as ProcessBench predictions.
COLUMN_SAMPLE = DETECT_SAMPLE
#: Columns a field is looked for under when the file does not use Redline's own field name.
COLUMN_GUESSES: dict[str, tuple[str, ...]] = {
    "id": ("id", "record_id", "uid", "idx"),
    "problem": ("problem", "question", "prompt", "query", "input"),
    "steps": ("steps", "solution", "response", "completion", "reasoning", "output"),
    "answer": ("answer", "final_answer", "prediction_answer"),
    "reference_answer": ("reference_answer", "gold_answer", "ground_truth", "target"),
    "reference_solution": ("reference_solution", "gold_solution"),
    "generator": ("generator", "model"),
    "first_error": ("first_error", "label", "first_error_step", "error_step"),
    "critique": ("critique", "explanation", "rationale"),
    "step_critiques": ("step_critiques", "critiques", "step_explanations"),
    "step_verdicts": ("step_verdicts", "verdicts", "step_labels", "step_ratings", "ratings"),
    "corrections": ("corrections", "step_corrections"),
    # Never guessed: it changes which traces an id names and the source file stored on new traces, so only a
    # person maps it (a column called "file" is as often a path of something else).
    "source_file": (),
}


@dataclass(frozen=True)
class FileSample:
    """The first records of a file: the columns they use and the format they match, if exactly one."""

    columns: list[str]
    detected: str | None
    detect_error: str | None
    # One value seen in each column (the first record that has it), shortened: what a person maps by.
    samples: dict[str, str] = field(default_factory=dict)

    @property
    def has_predictions(self) -> bool:
        """ProcessBench evaluation output carries a model's predictions next to the labels."""
        return "prediction" in self.columns


@dataclass(frozen=True)
class PreviewJudgment:
    source: str
    first_error: str


@dataclass(frozen=True)
class PreviewTrace:
    record: int
    record_id: str | None
    problem: str
    steps: list[str]
    judgments: list[PreviewJudgment]


def inspect_file(path: Path, display_name: str | None = None) -> FileSample:
    """Read the first records; raises ImportFailure when the file cannot be read at all."""
    name = display_name or path.name
    raw = read_records(path, name, limit=COLUMN_SAMPLE)
    columns: list[str] = []
    samples: dict[str, str] = {}
    for rec in raw:
        columns.extend(k for k in rec.data if k not in columns)
        for k, v in rec.data.items():
            if k not in samples and v not in (None, "", [], {}):
                samples[k] = _sample_text(v)
    try:
        detected, error = choose_adapter(raw, None, name).name, None
    except ImportFailure as e:
        detected, error = None, str(e)
    return FileSample(columns=columns, detected=detected, detect_error=error, samples=samples)


SAMPLE_CHARS = 120


def _sample_text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1] + "…"


def format_choices() -> list[str]:
    return [AUTO_DETECT, *FORMATS.names()]


def chosen_format(choice: str) -> str | None:
    """The format to pass to parse/import: None lets the records decide."""
    return None if choice == AUTO_DETECT else choice


def format_title(name: str) -> str:
    adapter = FORMATS.get(name)
    return f"{adapter.title} ({adapter.name})"


def guess_column(field_name: str, columns: Sequence[str]) -> str | None:
    """The file's column most likely to hold a mapped field, or None."""
    if field_name not in MAPPABLE:
        raise ValueError(f"{field_name!r} is not a mappable field")
    lowered = {c.lower(): c for c in columns}
    for candidate in COLUMN_GUESSES.get(field_name, (field_name,)):
        if candidate in lowered:
            return lowered[candidate]
    return None


def parse_no_error_values(text: str) -> tuple[str, ...]:
    """``"null, -1, N/A"`` -> ``("null", "-1", "N/A")``; an empty text keeps no value."""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def default_no_error_text() -> str:
    return ", ".join(DEFAULT_NO_ERROR)


def preview_traces(parsed: ParsedFile) -> list[PreviewTrace]:
    return [
        PreviewTrace(
            record=rec.number,
            record_id=rec.trace.record_id,
            problem=rec.trace.problem,
            steps=list(rec.trace.steps),
            judgments=[PreviewJudgment(str(j.source), first_error_text(j.first_error)) for j in rec.judgments],
        )
        for rec in parsed.records
    ]


def summary_lines(summary: ImportSummary) -> list[str]:
    """The summary the CLI prints, line by line, for a page to show."""
    added = ", ".join(f"{n} {src}" for src, n in summary.judgments_added.items()) or "none"
    matched = summary.matched_same + summary.matched_by_id + summary.matched_by_text
    lines = [
        f"Traces: {summary.traces_added} added, {summary.traces_already_present} already present",
        *(
            [
                f"Labels attached to traces already in the project: {matched} records matched "
                f"({summary.matched_same} the same id and text, {summary.matched_by_id} by record id, "
                f"{summary.matched_by_text} by problem and steps)"
            ]
            if matched
            else []
        ),
        *(
            [f"Records that matched no trace already in the project, added as new traces: {unmatched}"]
            if (unmatched := summary.new_traces_unmatched)
            else []
        ),
        f"Steps added: {summary.steps_added}",
        *([f"Images stored: {summary.images_added}"] if summary.images_added else []),
        f"Judgments added: {added}",
        f"Judgments unchanged: {summary.judgments_unchanged}",
    ]
    if summary.taxonomy_added:
        lines.append("Error types added to the project's taxonomy: " + ", ".join(summary.taxonomy_added))
    if summary.not_matching:
        lines.append(f"Records not matching --where, left out: {summary.not_matching}")
    if summary.skipped:
        lines.append(f"Bad records left out: {len(summary.skipped)}")
        lines.extend(f"  {reason}" for reason in summary.skipped)
    if summary.judgments_revised:
        revised = ", ".join(f"{n} {src}" for src, n in summary.judgments_revised.items())
        lines.append(f"Judgments revised (earlier revisions kept): {revised}")
    return lines


def step_base_in_file(path: Path, mapping: FieldMapping, display_name: str | None = None) -> BaseEvidence | None:
    """How the file's first-error column counts steps, as far as the whole file proves it."""
    return first_error_base_evidence([r.data for r in read_records(path, display_name or path.name)], mapping)
