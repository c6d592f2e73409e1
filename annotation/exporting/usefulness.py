"""Exports selected by usefulness: which critiques helped a reviser (annotation.revision), as training labels.

``--usefulness REVISER[/SHOW]`` (show ``full`` by default) reads that reviser's results: a critique is helpful when
the solution revised with it is right, harmful when it broke a right solution (annotation.revision.figures).
Then critique SFT keeps only labels whose critique was helpful, DPO pairs a helpful critique over a harmful one on
the same trace, and KTO labels each revised critique helpful (true) or harmful (false).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from sqlalchemy import Engine, select

from annotation.core.model import InvalidValue, Judgment
from annotation.exporting.formats.base import ExportItem
from annotation.exporting.formats.critique_text import critique_answer, model_critique
from annotation.judgments.visibility import ProjectView
from annotation.revision.figures import HARMFUL, HELPFUL, usefulness
from annotation.revision.prompts import SHOWS
from storage.tables import RevisionResult, TraceRow

FORMATS = ("critique-sft", "dpo", "kto")
CHUNK = 2_000


def parse_usefulness(text: str) -> tuple[str, str]:
    """``REVISER`` or ``REVISER/SHOW`` as typed; raises InvalidValue."""
    reviser, _, show = (text or "").strip().partition("/")
    show = show.strip() or "full"
    if not reviser.strip():
        raise InvalidValue("usefulness", "name the reviser whose results say which critiques helped: REVISER[/SHOW]")
    if show not in SHOWS:
        raise InvalidValue("usefulness", f"{show!r} is not one of {', '.join(SHOWS)}")
    return reviser.strip(), show


def with_usefulness(
    engine: Engine, items: Iterator[ExportItem], spec: str, view: ProjectView | None = None
) -> Iterator[ExportItem]:
    """The items, each with ``usefulness`` (source -> helpful / harmful) from the reviser's results, read a chunk
    of traces at a time; only results the viewer may see (judgments.visibility)."""
    reviser, show = parse_usefulness(spec)
    view = view or ProjectView.admin()
    r, t = RevisionResult.__table__.c, TraceRow.__table__.c
    while chunk := list(islice(items, CHUNK)):
        ids = [item.trace_id for item in chunk]
        with engine.connect() as c:
            rows = c.execute(
                select(r.trace_id, r.critique_source, r.original_correct, r.revised_correct, t.qc)
                .join(TraceRow.__table__, t.id == r.trace_id)
                .where(r.trace_id.in_(ids), r.reviser == reviser, r.show == show, r.status == "done")
            ).all()
        found: dict[int, dict[str, str]] = {}
        for trace_id, source, before, after, qc in rows:
            kind, _, name = source.partition(":")
            label = usefulness(before, after)
            if label is not None and view.may_see_revision(kind, name, qc=bool(qc)):
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
