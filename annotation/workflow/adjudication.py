"""An admin settles a disagreement into the trace's ``consensus`` judgment, kept with who decided and why.

The consensus carries ``extra = {"decided_by": username, "reason": text, "from": [sources]}``. A
consensus is written through the one write path (judgments.writing), so an earlier decision stays as a
revision; the caller names the version it saw, and a decision made meanwhile by someone else is never
overwritten (StaleJudgment).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine
from sqlmodel import select

from annotation.accounts.users import Account
from annotation.core.model import NO_ERROR, InvalidValue, Judgment, Source
from annotation.core.records import judgment_from_row
from annotation.judgments.writing import JudgmentWrite, record
from storage.db import session as open_session
from storage.tables import JudgmentRow, TraceRow

CONSENSUS = Source("consensus")


class NotAllowed(PermissionError):
    """Only admins settle disagreements."""


def _consensus_row(s, trace_id: int) -> JudgmentRow | None:
    return s.exec(
        select(JudgmentRow).where(JudgmentRow.trace_id == trace_id, JudgmentRow.source_kind == CONSENSUS.kind)
    ).first()


def consensus_of(engine: Engine, trace_id: int) -> tuple[Judgment, int] | None:
    """The trace's consensus and its version, or None."""
    with open_session(engine) as s:
        row = _consensus_row(s, trace_id)
        return None if row is None else (judgment_from_row(row), row.version)


def settle(
    engine: Engine,
    *,
    account: Account,
    trace_id: int,
    judgment: Judgment,
    reason: str,
    from_sources: list[str],
    expected_version: int | None = None,
) -> tuple[Judgment, int]:
    """Write ``judgment``'s content as the trace's consensus. ``expected_version``: the consensus version the
    admin saw, or None when they saw none. Returns the consensus and its new version."""
    if not account.is_admin:
        raise NotAllowed(f"{account.username} is not an admin; only admins settle disagreements")
    reason = reason.strip()
    if not reason:
        raise InvalidValue("reason", "say why, so others can follow the decision")
    extra = {**judgment.extra, "decided_by": account.username, "reason": reason, "from": list(from_sources)}
    solution_correct = judgment.solution_correct
    if solution_correct is None and judgment.first_error is not None:
        solution_correct = judgment.first_error == NO_ERROR
    consensus = replace(judgment, source=CONSENSUS, extra=extra, solution_correct=solution_correct, status="submitted")
    with open_session(engine) as s, s.begin():
        if s.get(TraceRow, trace_id) is None:
            raise InvalidValue("trace", f"no trace with id {trace_id}")
        write = JudgmentWrite(trace_id, consensus, expected_version=expected_version, changed_by=account.username)
        (result,) = record(s, [write])
        row = _consensus_row(s, trace_id)
        return judgment_from_row(row), result.version


def adopt(
    engine: Engine,
    *,
    account: Account,
    trace_id: int,
    source: str,
    reason: str,
    from_sources: list[str],
    expected_version: int | None = None,
) -> tuple[Judgment, int]:
    """Settle on one side's judgment as it stands (its first error, step labels and critique)."""
    wanted = Source.parse(source)
    with open_session(engine) as s:
        row = s.exec(
            select(JudgmentRow).where(
                JudgmentRow.trace_id == trace_id,
                JudgmentRow.source_kind == wanted.kind,
                JudgmentRow.source_name == wanted.name,
            )
        ).first()
        if row is None:
            raise InvalidValue("source", f"{source} has no judgment on trace {trace_id}")
        chosen = judgment_from_row(row)
    chosen.extra = {}
    return settle(
        engine,
        account=account,
        trace_id=trace_id,
        judgment=chosen,
        reason=reason,
        from_sources=from_sources,
        expected_version=expected_version,
    )
