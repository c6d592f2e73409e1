"""Translate between the canonical types and the rows storage keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from annotation.core.model import Judgment, Source, StepLabel, Trace
from annotation.core.parts import read_structure
from annotation.core.spans import missing_from_data, spans_from_data
from storage.tables import JudgmentRow, TraceRow


def trace_row(trace: Trace, *, project_id: int, position: int, key: str, now: datetime) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "position": position,
        "content_key": key,
        "record_id": trace.record_id,
        "source_file": trace.source_file,
        "problem": trace.problem,
        "steps": trace.steps,
        "n_steps": len(trace.steps),
        "answer": trace.answer,
        "reference_answer": trace.reference_answer,
        "reference_solution": trace.reference_solution,
        "generator": trace.generator,
        "meta": trace.metadata,
        "structure": trace.structure(),
        "steps_version": 1,
        "created_at": now,
    }


def judgment_row(judgment: Judgment, *, trace_id: int, now: datetime) -> dict[str, Any]:
    return {
        "trace_id": trace_id,
        "source_kind": judgment.source.kind,
        "source_name": judgment.source.name,
        **judgment.content(),
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def trace_from_row(row: TraceRow) -> Trace:
    trace = Trace(
        problem=row.problem,
        steps=list(row.steps),
        answer=row.answer,
        reference_answer=row.reference_answer,
        reference_solution=row.reference_solution,
        generator=row.generator,
        record_id=row.record_id,
        source_file=row.source_file,
        metadata=dict(row.meta or {}),
    )
    read_structure(trace, row.structure)
    return trace


def judgment_from_row(row: JudgmentRow) -> Judgment:
    return Judgment(
        source=Source(row.source_kind, row.source_name),
        first_error=row.first_error,
        steps=[StepLabel(**s) for s in row.steps or []],
        critique=row.critique,
        solution_correct=row.solution_correct,
        finish_reason=row.finish_reason,
        status=row.status,
        time_spent_s=row.time_spent_s,
        extra=dict(row.extra or {}),
        spans=spans_from_data(row.spans),
        missing=missing_from_data(row.missing),
        corrected_answer=row.corrected_answer,
    )
