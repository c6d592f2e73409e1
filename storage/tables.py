"""The tables. Invariants live here as constraints, so no code path can break them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")
# None stored as SQL NULL rather than JSON null.
NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


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
        CheckConstraint("label_mode IN ('first_error', 'every_step')", name="project_label_mode_valid"),
        CheckConstraint("queue_order IN ('import', 'random', 'priority')", name="project_queue_order_valid"),
        CheckConstraint("reservation_minutes >= 1", name="project_reservation_minutes_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    description: str = ""
    guidelines: str = Field(default="", sa_type=Text)
    taxonomy: list[str] = _json([])
    judgments_per_trace: int = 1
    # Blind: annotators see neither other people's judgments nor reference labels.
    blind: bool = False
    # first_error: steps after the first wrong one need no rating (PRM800K phase 2); every_step: all rated.
    label_mode: str = "first_error"
    queue_order: str = "import"
    reservation_minutes: int = 30
    licence: str = ""
    created_at: datetime = _when()


class TraceRow(SQLModel, table=True):
    __tablename__ = "trace"
    __table_args__ = (
        UniqueConstraint("project_id", "content_key", name="trace_once_per_project"),
        CheckConstraint("n_steps >= 1", name="trace_has_steps"),
        CheckConstraint("steps_version >= 1", name="trace_steps_version_positive"),
        CheckConstraint("position >= 0", name="trace_position_not_negative"),
        # One trace per position: imports take turns, and exports page by position without losing one.
        Index("trace_position_once_per_project", "project_id", "position", unique=True),
        # The queue walks these in import order, so picking the next trace never scans finished work.
        Index("trace_open_by_position", "project_id", "complete", "qc", "position"),
        Index("trace_qc_by_position", "project_id", "qc", "position"),
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
    # Steps made of parts, context and images (annotation.core.model.Trace.structure); NULL (SQL's, so that
    # "which traces have parts" is an index-free IS NOT NULL) for text steps.
    structure: dict[str, Any] | None = Field(default=None, sa_type=NULLABLE_JSON)
    # Bumped when an annotator merges or splits steps; the steps before are kept in trace_revision.
    steps_version: int = 1
    # Quality-control traces are served to every annotator; their reference label scores each one.
    qc: bool = False
    priority: float = 0.0
    # True once the trace has the submitted human judgments its project asks for (kept by the queue).
    complete: bool = False
    created_at: datetime = _when()


class TraceRevision(SQLModel, table=True):
    """A trace's steps before an annotator merged or split them: nothing a trace showed is ever lost."""

    __tablename__ = "trace_revision"
    __table_args__ = (UniqueConstraint("trace_id", "steps_version", name="trace_revision_once_per_version"),)

    id: int | None = Field(default=None, primary_key=True)
    trace_id: int = Field(sa_column=Column(Integer, ForeignKey("trace.id", ondelete="CASCADE"), nullable=False))
    steps_version: int
    steps: list[str] = _json([])
    structure: dict[str, Any] | None = _json()
    changed_by: str
    change: str = ""
    created_at: datetime = _when()


class StoredImage(SQLModel, table=True):
    """An image a trace shows, copied in at import: named by its content (SHA-256 and extension), kept once per
    project, in the database so every server behind a proxy and every backup has it."""

    __tablename__ = "stored_image"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="image_once_per_project"),
        CheckConstraint("size >= 0", name="image_size_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False))
    name: str = Field(max_length=80)
    media_type: str = Field(max_length=40)
    size: int
    data: bytes = Field(sa_type=LargeBinary)
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
        CheckConstraint("status IN ('draft', 'submitted', 'failed')", name="judgment_status_valid"),
        CheckConstraint("time_spent_s IS NULL OR time_spent_s >= 0", name="judgment_time_not_negative"),
        CheckConstraint("version >= 1", name="judgment_version_positive"),
        # One person's judgments, for their progress and their list of earlier work.
        Index("judgment_by_source", "source_kind", "source_name", "status"),
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
    # Finer than a step (annotation.core.spans): spans of wrong text, missing entries, the corrected answer.
    spans: list[dict[str, Any]] = _json([])
    missing: list[dict[str, Any]] = _json([])
    corrected_answer: str | None = Field(default=None, sa_type=Text)
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


class User(SQLModel, table=True):
    """A local account. Its judgments are those of source ``human:<username>``."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("length(username) > 0", name="user_name_not_empty"),
        CheckConstraint("role IN ('admin', 'annotator')", name="user_role_valid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    display_name: str = ""
    # argon2 hash; NULL for accounts that sign in through OIDC only.
    password_hash: str | None = None
    role: str = "annotator"
    active: bool = True
    created_at: datetime = _when()
    last_login_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class SignInToken(SQLModel, table=True):
    """A signed-in browser, remembered by a cookie so a reload stays signed in. Only the token's hash is kept."""

    __tablename__ = "sign_in_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = _when()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


class SignInHandoff(SQLModel, table=True):
    """A one-time code, valid for a minute, that a signed-in page hands the browser to fetch its HttpOnly cookie.

    The page cannot set an HttpOnly cookie itself; the browser posts this code to the server's sign-in route,
    which answers with the cookie. Only the code's hash is kept, and it is deleted when redeemed.
    """

    __tablename__ = "sign_in_handoff"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


class SignInAttempt(SQLModel, table=True):
    """A password sign-in, kept for a while so repeated failures for one username can be refused."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("sign_in_attempt_by_name", "username", "attempted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # As typed (normalised), whether or not such an account exists.
    username: str = Field(max_length=256)
    succeeded: bool = False
    attempted_at: datetime = _when()


class Membership(SQLModel, table=True):
    """Who works on which project."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("project_id", "user_id", name="membership_once"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False))
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )


class Reservation(SQLModel, table=True):
    """A trace held by one annotator until ``expires_at``, so two people are not served the same work."""

    __tablename__ = "reservation"
    __table_args__ = (UniqueConstraint("trace_id", "username", name="reservation_once_per_user"),)

    id: int | None = Field(default=None, primary_key=True)
    trace_id: int = Field(sa_column=Column(Integer, ForeignKey("trace.id", ondelete="CASCADE"), nullable=False))
    username: str = Field(index=True)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


class Draft(SQLModel, table=True):
    """Unsubmitted work, saved as the person works; ``base_version`` is the judgment version it started from."""

    __tablename__ = "draft"
    __table_args__ = (
        UniqueConstraint("trace_id", "username", name="draft_once_per_user"),
        CheckConstraint("base_version >= 0", name="draft_base_version_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    trace_id: int = Field(sa_column=Column(Integer, ForeignKey("trace.id", ondelete="CASCADE"), nullable=False))
    username: str = Field(index=True)
    content: dict[str, Any] = _json({})
    # 0 when no judgment existed yet.
    base_version: int = 0
    # Bumped on every save, so a second tab cannot overwrite a draft it did not read.
    version: int = 1
    updated_at: datetime = _when()


class Critic(SQLModel, table=True):
    """A saved critic configuration. API keys are never stored: they come from the environment or secrets."""

    __tablename__ = "critic"
    __table_args__ = (
        CheckConstraint("length(name) > 0", name="critic_name_not_empty"),
        CheckConstraint("samples >= 1", name="critic_samples_positive"),
        CheckConstraint("max_tokens >= 1", name="critic_max_tokens_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    model: str
    api_base: str | None = None
    template: str = "processbench"
    prompt: str | None = Field(default=None, sa_type=Text)
    temperature: float = 0.0
    max_tokens: int = 2048
    samples: int = 1
    params: dict[str, Any] = _json({})
    created_at: datetime = _when()
    updated_at: datetime = _when()


class CriticRun(SQLModel, table=True):
    """One batch of a critic over a project: its progress, cost and outcome."""

    __tablename__ = "critic_run"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'done', 'cancelled', 'failed', 'interrupted')", name="critic_run_status_valid"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    critic_id: int = Field(sa_column=Column(Integer, ForeignKey("critic.id", ondelete="CASCADE"), nullable=False))
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False))
    config_hash: str
    status: str = "running"
    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    cost: float = 0.0
    filters: dict[str, Any] = _json({})
    error: str | None = Field(default=None, sa_type=Text)
    started_at: datetime = _when()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Touched while the run lives; a "running" run whose heartbeat went stale was stopped by a dead process.
    heartbeat_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ReasonVerdict(SQLModel, table=True):
    """An LLM judge's answer: does the model's critique at the first error name the same mistake as the human's?"""

    __tablename__ = "reason_verdict"
    __table_args__ = (
        UniqueConstraint("trace_id", "human_source", "model_source", "judge", name="reason_verdict_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    trace_id: int = Field(sa_column=Column(Integer, ForeignKey("trace.id", ondelete="CASCADE"), nullable=False))
    human_source: str
    model_source: str
    judge: str
    same: bool | None = None
    raw: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _when()


REVISION_SHOWS = "show IN ('verdict', 'first-error', 'full', 'none')"


class RevisionRun(SQLModel, table=True):
    """One revision run: a reviser revising every trace a critique source judged, with what it was shown."""

    __tablename__ = "revision_run"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'done', 'cancelled', 'failed', 'interrupted')", name="revision_run_status_valid"
        ),
        CheckConstraint(REVISION_SHOWS, name="revision_run_show_valid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False))
    # The critique source as asked: reference, consensus, human:NAME, human:* or model:NAME.
    critiques: str
    show: str
    # The reviser's name (a saved critic's, or made from the model string) and its configuration hash.
    reviser: str
    reviser_hash: str
    grader: str
    status: str = "running"
    total: int = 0
    done: int = 0
    # Replies reused from an earlier run (the same request): no new request was sent.
    cached: int = 0
    failed: int = 0
    # Answered, but an answer could not be graded (left out of the figures, graded again by the next run).
    ungraded: int = 0
    no_reference: int = 0
    cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    filters: dict[str, Any] = _json({})
    error: str | None = Field(default=None, sa_type=Text)
    started_by: str = ""
    started_at: datetime = _when()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    heartbeat_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class RevisionResult(SQLModel, table=True):
    """One trace revised with one source's critique (or none), by one reviser: both answers and both grades."""

    __tablename__ = "revision_result"
    __table_args__ = (
        # One result per configuration: another reviser setting (its hash) or grader never overwrites it.
        UniqueConstraint(
            "trace_id", "critique_source", "show", "reviser", "reviser_hash", "grader", name="revision_result_once"
        ),
        # ungraded: the reply is kept but a grade is missing (an LLM grader failed, or the run was cancelled).
        CheckConstraint("status IN ('done', 'failed', 'ungraded')", name="revision_result_status_valid"),
        CheckConstraint(REVISION_SHOWS, name="revision_result_show_valid"),
        # A run finds the replies it can reuse by the request it would send.
        Index("revision_result_by_request", "request_hash"),
        Index("revision_result_by_reviser", "reviser", "show"),
    )

    id: int | None = Field(default=None, primary_key=True)
    trace_id: int = Field(sa_column=Column(Integer, ForeignKey("trace.id", ondelete="CASCADE"), nullable=False))
    # Whose critique the reviser was given: reference, consensus, human:NAME, model:NAME (one judgment's source).
    critique_source: str
    show: str
    reviser: str
    reviser_hash: str
    # The reviser's configuration and the exact messages sent: the same request is never sent twice.
    request_hash: str = Field(max_length=64)
    run_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("revision_run.id", ondelete="SET NULL"), nullable=True)
    )
    status: str = "done"
    # The version of the critique's judgment the reviser read.
    critique_version: int | None = None
    original_answer: str | None = Field(default=None, sa_type=Text)
    revised_answer: str | None = Field(default=None, sa_type=Text)
    revised_text: str | None = Field(default=None, sa_type=Text)
    original_correct: bool | None = None
    revised_correct: bool | None = None
    grader: str = ""
    # tokens, cost, latency_s, attempts, how each answer was graded, the error of a failed request.
    extra: dict[str, Any] = _json({})
    created_at: datetime = _when()
    updated_at: datetime = _when()
