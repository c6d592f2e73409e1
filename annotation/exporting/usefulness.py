"""Exports selected by usefulness: which critiques helped a reviser (annotation.revision), as training labels.

``--usefulness REVISER[/SHOW[/GRADER]]`` (show ``full`` by default; ``none``, the baseline without a critique, is
refused) reads that reviser's results of one configuration (``configuration``), made with each source's current
critique: a critique is helpful when the solution revised with it is right, harmful when it broke a right solution
(annotation.revision.figures).
Then critique SFT keeps only labels whose critique was helpful, DPO pairs a helpful critique over a harmful one on
the same trace, and KTO labels each revised critique helpful (true) or harmful (false).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from sqlalchemy import Engine, func, select

from annotation.core.model import InvalidValue, Judgment
from annotation.exporting.formats.base import ExportItem
from annotation.exporting.formats.critique_text import critique_answer, model_critique
from annotation.judgments.visibility import ProjectView
from annotation.revision.figures import HARMFUL, HELPFUL, usefulness
from annotation.revision.grading import check_grader
from annotation.revision.prompts import NO_CRITIQUE, SHOWS
from annotation.revision.store import current_critiques, is_stale
from storage.tables import RevisionResult, TraceRow

FORMATS = ("critique-sft", "dpo", "kto")
CHUNK = 2_000


def parse_usefulness(text: str) -> tuple[str, str, str | None]:
    """``REVISER[/SHOW[/GRADER]]`` as typed: the reviser, the show (``full`` by default) and the grader (None: the
    configuration written last); raises InvalidValue."""
    reviser, _, rest = (text or "").strip().partition("/")
    show, _, grader = rest.partition("/")
    show = show.strip() or "full"
    if not reviser.strip():
        raise InvalidValue(
            "usefulness", "name the reviser whose results say which critiques helped: REVISER[/SHOW[/GRADER]]"
        )
    if show not in SHOWS:
        raise InvalidValue("usefulness", f"{show!r} is not one of {', '.join(SHOWS)}")
    if show == NO_CRITIQUE:
        raise InvalidValue(
            "usefulness",
            "show none revises without a critique, so its results say nothing of a critique's usefulness: "
            f"choose {', '.join(s for s in SHOWS if s != NO_CRITIQUE)}",
        )
    return reviser.strip(), show, check_grader(grader) if grader.strip() else None


def configuration(engine: Engine, project_id: int, reviser: str, show: str, grader: str | None) -> tuple[str, str]:
    """The one configuration (reviser settings' hash, grader) whose results label the export: of the reviser's
    results under ``show`` (and ``grader`` when given) in the project, those written last. Results of other settings
    or graders are never mixed in. ("", "") when there are none."""
    r, t = RevisionResult.__table__.c, TraceRow.__table__.c
    last = func.max(r.updated_at)
    query = (
        select(r.reviser_hash, r.grader)
        .join(TraceRow.__table__, t.id == r.trace_id)
        .where(t.project_id == project_id, r.reviser == reviser, r.show == show, r.status == "done")
        .group_by(r.reviser_hash, r.grader)
        .order_by(last.desc(), r.reviser_hash, r.grader)
        .limit(1)
    )
    if grader is not None:
        query = query.where(r.grader == grader)
    with engine.connect() as c:
        found = c.execute(query).first()
    return (found[0], found[1]) if found else ("", "")


def with_usefulness(
    engine: Engine, items: Iterator[ExportItem], spec: str, view: ProjectView | None = None
) -> Iterator[ExportItem]:
    """The items, each with ``usefulness`` (source -> helpful / harmful) from the reviser's results, read a chunk
    of traces at a time; only results the viewer may see (judgments.visibility), of one configuration
    (``configuration``), and made with the source's current critique (a result of an edited or withdrawn one is
    stale: no label)."""
    reviser, show, grader = parse_usefulness(spec)
    view = view or ProjectView.admin()
    r, t = RevisionResult.__table__.c, TraceRow.__table__.c
    chosen: tuple[str, str] | None = None
    while chunk := list(islice(items, CHUNK)):
        ids = [item.trace_id for item in chunk]
        with engine.connect() as c:
            if chosen is None:
                project_id = c.execute(select(t.project_id).where(t.id == ids[0])).scalar_one()
                chosen = configuration(engine, project_id, reviser, show, grader)
            rows = c.execute(
                select(r.trace_id, r.critique_source, r.critique_version, r.original_correct, r.revised_correct, t.qc)
                .join(TraceRow.__table__, t.id == r.trace_id)
                .where(
                    r.trace_id.in_(ids),
                    r.reviser == reviser,
                    r.show == show,
                    r.reviser_hash == chosen[0],
                    r.grader == chosen[1],
                    r.status == "done",
                )
            ).all()
        current = current_critiques(engine, ids) if rows else {}
        found: dict[int, dict[str, str]] = {}
        for trace_id, source, version, before, after, qc in rows:
            kind, _, name = source.partition(":")
            if is_stale(current, trace_id, source, version) or not view.may_see_revision(kind, name, qc=bool(qc)):
                continue
            label = usefulness(before, after)
            if label is not None:
                found.setdefault(trace_id, {})[source] = label
        for item in chunk:
            item.usefulness = found.get(item.trace_id, {})
            yield item


def critique_of(source: str, judgment: Judgment, n_steps: int) -> str | None:
    """A critique as a critic would write it: a model's own words, else written out from the judgment."""
    if source.startswith("model:"):
        return model_critique(judgment, n_steps)
    return None if judgment.first_error is None else critique_answer(judgment, n_steps)


def critiques_by_label(item: ExportItem) -> dict[str, list[str]]:
    """helpful / harmful -> the trace's critiques with that label (one each: the same text is not repeated)."""
    out: dict[str, list[str]] = {HELPFUL: [], HARMFUL: []}
    for source, label in sorted(item.usefulness.items()):
        judgment = item.judgments.get(source)
        text = None if judgment is None else critique_of(source, judgment, len(item.trace.steps))
        if text and text not in out[label]:
            out[label].append(text)
    return out
