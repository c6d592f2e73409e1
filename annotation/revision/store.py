"""What revision runs read and write: the critiques to revise with, earlier results, and the results of a batch.

A run revises every trace a critique source judged (a submitted judgment that said something: a first error or
"no error"; a model's unparsed answer says nothing). ``human:*`` is every person's judgment, each revised on
its own. A trace without a reference answer cannot be graded: it is left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlmodel import select

from annotation.core.model import InvalidValue, Source, Trace
from annotation.core.records import judgment_from_row, trace_from_row
from annotation.judgments.visibility import ALL_HUMANS
from annotation.projects.overview import NoSuchProject
from annotation.revision.answers import original_answer
from annotation.revision.prompts import request_hash, revision_messages
from storage import queries, work
from storage.db import session
from storage.tables import JudgmentRow, RevisionResult, TraceRow, utcnow


@dataclass
class Item:
    """One judgment's critique to revise a trace with."""

    trace_id: int
    source: str
    critique_version: int
    trace: Trace
    reference: str
    original: str | None
    messages: list[dict[str, Any]]
    request_hash: str


@dataclass(frozen=True)
class Stored:
    """An earlier result for the same trace, source, show and reviser."""

    request_hash: str
    status: str
    grader: str
    original_answer: str | None
    reference: str | None


def source_clause(critiques: str) -> Any:
    if critiques == ALL_HUMANS:
        return JudgmentRow.source_kind == "human"
    source = Source.parse(critiques)
    return (JudgmentRow.source_kind == source.kind) & (JudgmentRow.source_name == source.name)


def source_of(kind: str, name: str) -> str:
    return f"{kind}:{name}" if name else kind


def select_items(
    engine: Engine, project: str, critiques: str, show: str, reviser_hash: str, limit: int | None = None
) -> tuple[int, list[Item], int]:
    """The project's id, what to revise (in import order), and how many traces were left out for want of a reference
    answer (each once, however many of the source's judgments it has)."""
    with session(engine) as s:
        proj = queries.get_project(s, name=project)
        if proj is None:
            raise NoSuchProject(f"no project named {project!r}")
        rows = s.exec(
            select(JudgmentRow, TraceRow)
            .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
            .where(
                TraceRow.project_id == proj.id,
                source_clause(critiques),
                JudgmentRow.status == "submitted",
                JudgmentRow.first_error.is_not(None),
            )
            .order_by(TraceRow.position, JudgmentRow.source_kind, JudgmentRow.source_name)
        ).all()
        items: list[Item] = []
        no_reference: set[int] = set()  # traces, not judgments: human:* judges a trace once per person
        for j, t in rows:
            if (j.extra or {}).get("unparsed"):
                continue
            if not (t.reference_answer or "").strip():
                no_reference.add(t.id)
                continue
            if limit is not None and len(items) >= limit:
                break
            trace = trace_from_row(t)
            messages = revision_messages(trace, judgment_from_row(j), show)
            items.append(
                Item(
                    trace_id=t.id,
                    source=source_of(j.source_kind, j.source_name),
                    critique_version=j.version,
                    trace=trace,
                    reference=t.reference_answer.strip(),
                    original=original_answer(trace),
                    messages=messages,
                    request_hash=request_hash(reviser_hash, messages),
                )
            )
        return proj.id, items, len(no_reference)


def stored_results(engine: Engine, items: list[Item], show: str, reviser: str) -> dict[tuple[int, str], Stored]:
    found: dict[tuple[int, str], Stored] = {}
    trace_ids = sorted({i.trace_id for i in items})
    r = RevisionResult
    with session(engine) as s:
        for start in range(0, len(trace_ids), queries.WRITE_CHUNK):
            chunk = trace_ids[start : start + queries.WRITE_CHUNK]
            query = select(
                r.trace_id, r.critique_source, r.request_hash, r.status, r.grader, r.original_answer, r.extra
            ).where(r.trace_id.in_(chunk), r.show == show, r.reviser == reviser)
            for trace_id, source, hash_, status, grader, original, extra in s.exec(query):
                found[(trace_id, source)] = Stored(hash_, status, grader, original, (extra or {}).get("reference"))
    return found


def stored_replies(engine: Engine, hashes: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Replies already received for these requests (by any source's result): request hash -> (text, extra)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    unique = sorted(set(hashes))
    r = RevisionResult
    with session(engine) as s:
        for start in range(0, len(unique), queries.WRITE_CHUNK):
            chunk = unique[start : start + queries.WRITE_CHUNK]
            query = select(r.request_hash, r.revised_text, r.extra).where(r.request_hash.in_(chunk), r.status == "done")
            for hash_, text, extra in s.exec(query):
                found.setdefault(hash_, (text or "", dict(extra or {})))
    return found


def write_results(engine: Engine, rows: list[dict[str, Any]], *, show: str, reviser: str, run: Any = None) -> None:
    """One transaction: each row inserted, or replacing the result of the same trace, source, show and reviser;
    ``run(session)`` updates the run's counts in the same transaction."""
    now = utcnow()
    r = RevisionResult
    with session(engine) as s:
        trace_ids = sorted({row["trace_id"] for row in rows})
        work.lock_traces(s, trace_ids=trace_ids)
        ids = {
            (t, src): i
            for i, t, src in s.exec(
                select(r.id, r.trace_id, r.critique_source).where(
                    r.trace_id.in_(trace_ids), r.show == show, r.reviser == reviser
                )
            )
        }
        new, changed = [], []
        for row in rows:
            values = {**row, "show": show, "reviser": reviser, "updated_at": now}
            known = ids.get((row["trace_id"], row["critique_source"]))
            if known is None:
                new.append({**values, "created_at": now})
            else:
                changed.append({**values, "id": known})
        if new:
            s.execute(insert(RevisionResult), new)
        if changed:
            s.execute(update(RevisionResult), changed)
        if run is not None:
            run(s)
        s.commit()


def sources_judged(engine: Engine, project: str) -> list[str]:
    """The critique sources a run can take in the project: those with a submitted judgment, and ``human:*``."""
    with session(engine) as s:
        proj = queries.get_project(s, name=project)
        if proj is None:
            raise NoSuchProject(f"no project named {project!r}")
        pairs = s.exec(
            select(JudgmentRow.source_kind, JudgmentRow.source_name)
            .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
            .where(TraceRow.project_id == proj.id, JudgmentRow.status == "submitted")
            .distinct()
        ).all()
    sources = sorted(source_of(kind, name) for kind, name in pairs)
    return [*sources, ALL_HUMANS] if any(s.startswith("human:") for s in sources) else sources


def check_critiques(engine: Engine, project: str, critiques: str) -> None:
    """Refuse a source with no judgment in the project, naming the ones it has."""
    known = sources_judged(engine, project)
    if critiques not in known:
        listed = ", ".join(known) or "none"
        raise InvalidValue("critiques", f"no judgments from {critiques} in {project!r} (sources: {listed})")
