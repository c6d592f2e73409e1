"""The tables. Invariants live here as constraints, so no code path can break them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json(default: Any = None) -> Any:
    return Field(default_factory=(lambda: type(default)()) if default is not None else None, sa_type=JSONType)


def _when() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


class Project(SQLModel, table=True):
    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint("length(name) > 0", name="project_name_not_empty"),
        CheckConstraint("judgments_per_trace >= 1", name="project_judgments_per_trace_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    description: str = ""
    guidelines: str = Field(default="", sa_type=Text)
    taxonomy: list[str] = _json([])
    judgments_per_trace: int = 1
    annotators_see_others: bool = True
    created_at: datetime = _when()


class TraceRow(SQLModel, table=True):
    __tablename__ = "trace"
    __table_args__ = (
        UniqueConstraint("project_id", "content_key", name="trace_once_per_project"),
        CheckConstraint("n_steps >= 1", name="trace_has_steps"),
        CheckConstraint("position >= 0", name="trace_position_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The unique (project_id, content_key) constraint is also the index for lookups by project.
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False))
    position: int
    content_key: str = Field(max_length=64)
    record_id: str | None = None
    source_file: str | None = None
    problem: str = Field(sa_type=Text)
    steps: list[str] = _json([])
    n_steps: int
    answer: str | None = Field(default=None, sa_type=Text)
    reference_answer: str | None = Field(default=None, sa_type=Text)
    reference_solution: str | None = Field(default=None, sa_type=Text)
    generator: str | None = None
    meta: dict[str, Any] = _json({})
    created_at: datetime = _when()


SOURCE_CHECK = (
    "(source_kind IN ('reference', 'consensus') AND source_name = '') OR "
    "(source_kind IN ('human', 'model') AND source_name <> '')"
)


class JudgmentRow(SQLModel, table=True):
    __tablename__ = "judgment"
    __table_args__ = (
        UniqueConstraint("trace_id", "source_kind", "source_name", name="judgment_once_per_source"),
        CheckConstraint(SOURCE_CHECK, name="judgment_source_valid"),
        CheckConstraint("first_error IS NULL OR first_error >= -1", name="judgment_first_error_valid"),
        CheckConstraint(
            "finish_reason IS NULL OR finish_reason IN ('found_error', 'solution', 'bad_problem', 'give_up')",
            name="judgment_finish_reason_valid",
        ),
        CheckConstraint("status IN ('draft', 'submitted')", name="judgment_status_valid"),
        CheckConstraint("time_spent_s IS NULL OR time_spent_s >= 0", name="judgment_time_not_negative"),
        CheckConstraint("version >= 1", name="judgment_version_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The unique (trace_id, source_kind, source_name) constraint is also the index for lookups by trace.
    trace_id: int = Field(sa_column=Column(Integer, ForeignKey("trace.id", ondelete="CASCADE"), nullable=False))
    source_kind: str
    source_name: str = ""
    # -1 = the source says "no error"; NULL = the source has not said.
    first_error: int | None = None
    steps: list[dict[str, Any]] = _json([])
    critique: str | None = Field(default=None, sa_type=Text)
    solution_correct: bool | None = None
    finish_reason: str | None = None
    status: str = "submitted"
    time_spent_s: float | None = None
    extra: dict[str, Any] = _json({})
    version: int = 1
    created_at: datetime = _when()
    updated_at: datetime = _when()


class JudgmentRevision(SQLModel, table=True):
    """An earlier state of a judgment, written before every change so nothing is ever lost."""

    __tablename__ = "judgment_revision"
    __table_args__ = (UniqueConstraint("judgment_id", "version", name="revision_once_per_version"),)

    id: int | None = Field(default=None, primary_key=True)
    judgment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("judgment.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    version: int
    content: dict[str, Any] = _json({})
    changed_by: str = ""
    recorded_at: datetime = _when()
