"""What revision runs read and write: the critiques to revise with, earlier results, and the results of a batch.

A run revises every trace a critique source judged (a submitted judgment that said something: a first error or
"no error"; a model's unparsed answer says nothing). ``human:*`` is every person's judgment, each revised on
its own. A trace without a reference answer cannot be graded: it is left out and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, false, func, insert, not_, update
from sqlmodel import select

from annotation.core.model import InvalidValue, Source, Trace
from annotation.core.parts import data_uri, image_refs, is_remote
from annotation.core.records import judgment_from_row, trace_from_row
from annotation.judgments.visibility import ALL_HUMANS
from annotation.projects.overview import NoSuchProject
from annotation.revision.answers import original_answer
from annotation.revision.prompts import IMAGE_PLACEHOLDER, request_hash, revision_messages
from storage import queries, work
from storage.db import session
from storage.tables import JudgmentRow, RevisionResult, TraceRow, utcnow


class MissingImage(Exception):
    """An image the request shows was deleted from the project after the run chose it; that request fails."""


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
    """An earlier result for the same trace and source, of the same configuration (show, reviser, its settings and
    grader)."""

    request_hash: str
    status: str
    critique_version: int | None
    original_answer: str | None
    reference: str | None


# A judgment that is a critique to revise with: submitted, and saying something (a first error or "no error"; a
# model's unparsed answer says nothing).
def critique_clause() -> Any:
    return and_(
        JudgmentRow.status == "submitted",
        JudgmentRow.first_error.is_not(None),
        not_(func.coalesce(JudgmentRow.extra["unparsed"].as_boolean(), false())),
    )


def source_clause(critiques: str) -> Any:
    if critiques == ALL_HUMANS:
        return JudgmentRow.source_kind == "human"
    source = Source.parse(critiques)
    return (JudgmentRow.source_kind == source.kind) & (JudgmentRow.source_name == source.name)


def source_of(kind: str, name: str) -> str:
    return f"{kind}:{name}" if name else kind


def select_items(
    engine: Engine,
    project: str,
    critiques: str,
    show: str,
    reviser_hash: str,
    limit: int | None = None,
    *,
    sees_images: bool = False,
) -> tuple[int, list[Item], int]:
    """The project's id, what to revise (in import order), and how many traces were left out for want of a reference
    answer (each once, however many of the source's judgments it has). A reviser that ``sees_images`` is sent the
    trace's stored images (placeholders here: fill_images puts the data in just before the request)."""
    with session(engine) as s:
        proj = queries.get_project(s, name=project)
        if proj is None:
            raise NoSuchProject(f"no project named {project!r}")
        rows = s.exec(
            select(JudgmentRow, TraceRow)
            .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
            .where(TraceRow.project_id == proj.id, source_clause(critiques), critique_clause())
            .order_by(TraceRow.position, JudgmentRow.source_kind, JudgmentRow.source_name)
        ).all()
        items: list[Item] = []
        no_reference: set[int] = set()  # traces, not judgments: human:* judges a trace once per person
        chosen = []
        for j, t in rows:
            if not (t.reference_answer or "").strip():
                no_reference.add(t.id)
                continue
            if limit is not None and len(chosen) >= limit:
                break
            chosen.append((j, t, trace_from_row(t)))
        stored: set[str] = set()
        if sees_images:
            names = {ref for _, _, trace in chosen for ref in image_refs(trace) if not is_remote(ref)}
            stored = queries.image_names(s, project_id=proj.id, names=names)
        for j, t, trace in chosen:
            images = {ref: IMAGE_PLACEHOLDER + ref for ref in image_refs(trace) if ref in stored}
            messages = revision_messages(trace, judgment_from_row(j), show, images)
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


def fill_images(engine: Engine, project_id: int, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages as sent: each image placeholder replaced by the stored image's data. Read just before the
    request, so that a run never holds every image at once; raises MissingImage for one no longer stored."""
    urls = [
        part["image_url"]["url"]
        for m in messages
        if isinstance(m["content"], list)
        for part in m["content"]
        if part.get("type") == "image_url"
    ]
    names = [u.removeprefix(IMAGE_PLACEHOLDER) for u in urls if u.startswith(IMAGE_PLACEHOLDER)]
    if not names:
        return messages
    with session(engine) as s:
        found = queries.images_named(s, project_id=project_id, names=names)
    missing = sorted(set(names) - set(found))
    if missing:
        raise MissingImage(f"image {missing[0]} is no longer stored in the project")

    def filled(part: dict[str, Any]) -> dict[str, Any]:
        url = part.get("image_url", {}).get("url", "") if part.get("type") == "image_url" else ""
        if not url.startswith(IMAGE_PLACEHOLDER):
            return part
        return {"type": "image_url", "image_url": {"url": data_uri(*found[url.removeprefix(IMAGE_PLACEHOLDER)])}}

    return [
        {**m, "content": [filled(p) for p in m["content"]]} if isinstance(m["content"], list) else m for m in messages
    ]


def stored_results(
    engine: Engine, items: list[Item], *, show: str, reviser: str, reviser_hash: str, grader: str
) -> dict[tuple[int, str], Stored]:
    """This configuration's earlier results for the items' traces: (trace id, source) -> what was stored."""
    found: dict[tuple[int, str], Stored] = {}
    trace_ids = sorted({i.trace_id for i in items})
    r = RevisionResult
    with session(engine) as s:
        for start in range(0, len(trace_ids), queries.WRITE_CHUNK):
            chunk = trace_ids[start : start + queries.WRITE_CHUNK]
            query = select(
                r.trace_id, r.critique_source, r.request_hash, r.status, r.critique_version, r.original_answer, r.extra
            ).where(
                r.trace_id.in_(chunk),
                r.show == show,
                r.reviser == reviser,
                r.reviser_hash == reviser_hash,
                r.grader == grader,
            )
            for trace_id, source, hash_, status, version, original, extra in s.exec(query):
                found[(trace_id, source)] = Stored(hash_, status, version, original, (extra or {}).get("reference"))
    return found


def current_critiques(engine: Engine, trace_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """(trace id, source) -> the version of that source's judgment of the trace, for the judgments that are a
    critique now (submitted and saying something). A result made with another version, or with a judgment no
    longer among these (withdrawn, emptied), is stale."""
    ids = sorted(set(trace_ids))
    j = JudgmentRow
    found: dict[tuple[int, str], int] = {}
    with session(engine) as s:
        for start in range(0, len(ids), queries.WRITE_CHUNK):
            query = select(j.trace_id, j.source_kind, j.source_name, j.version).where(
                j.trace_id.in_(ids[start : start + queries.WRITE_CHUNK]), critique_clause()
            )
            for trace_id, kind, name, version in s.exec(query):
                found[(trace_id, source_of(kind, name))] = version
    return found


def is_stale(current: dict[tuple[int, str], int], trace_id: int, source: str, critique_version: int | None) -> bool:
    """Whether a result was made with a critique other than the source's current one (see current_critiques)."""
    return current.get((trace_id, source)) != critique_version


def stored_replies(engine: Engine, hashes: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Replies already received for these requests (by any source's result): request hash -> (text, extra)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    unique = sorted(set(hashes))
    r = RevisionResult
    with session(engine) as s:
        for start in range(0, len(unique), queries.WRITE_CHUNK):
            chunk = unique[start : start + queries.WRITE_CHUNK]
            answered = r.status.in_(("done", "ungraded"))  # an ungraded result's reply is as good as any
            query = select(r.request_hash, r.revised_text, r.extra).where(r.request_hash.in_(chunk), answered)
            for hash_, text, extra in s.exec(query):
                found.setdefault(hash_, (text or "", dict(extra or {})))
    return found


def write_results(engine: Engine, rows: list[dict[str, Any]], *, show: str, reviser: str, run: Any = None) -> None:
    """One transaction: each row inserted, or replacing the result of the same trace, source and configuration
    (show, reviser, its settings' hash and grader); ``run(session)`` updates the run's counts in the same
    transaction."""
    now = utcnow()
    r = RevisionResult
    with session(engine) as s:
        trace_ids = sorted({row["trace_id"] for row in rows})
        work.lock_traces(s, trace_ids=trace_ids)
        ids = {
            (t, src, h, g): i
            for i, t, src, h, g in s.exec(
                select(r.id, r.trace_id, r.critique_source, r.reviser_hash, r.grader).where(
                    r.trace_id.in_(trace_ids), r.show == show, r.reviser == reviser
                )
            )
        }
        new, changed = [], []
        for row in rows:
            values = {**row, "show": show, "reviser": reviser, "updated_at": now}
            known = ids.get((row["trace_id"], row["critique_source"], row["reviser_hash"], row["grader"]))
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
