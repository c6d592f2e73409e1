"""Revision results as a person may see them (judgments.visibility), and the figures made from them.

A result counts in the figures when its request was answered (a failed request is counted apart). Its source
is the critique's (``human:alice``); ``human:*`` pools every person's. Breakdowns: by generator, by subset (the
trace's ``subset`` or ``task``), and by error tag: the tags on the reference's first wrong step (the error the
solution really had), else on the critique's own, else "(none)".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Text, cast, func, select

from annotation.judgments.visibility import ALL_HUMANS, ProjectView
from annotation.metrics.pairs import source_label, tags_at_first_error
from annotation.revision.figures import RevisionFigures, figures_by, labelled, revision_figures, usefulness
from annotation.revision.prompts import SHOWS
from annotation.revision.store import current_critiques, is_stale, source_of
from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, Project, RevisionResult, TraceRow

GROUPS = ("generator", "subset", "error tag")
COLUMNS = [
    "trace_id",
    "position",
    "record_id",
    "generator",
    "subset",
    "qc",
    "critique_source",
    "kind",
    "show",
    "reviser",
    "reviser_hash",
    "grader",
    "status",
    "original_answer",
    "revised_answer",
    "original_correct",
    "revised_correct",
    "critique_version",
    "updated_at",
]


def load_results(
    engine: Engine,
    project: str,
    view: ProjectView,
    *,
    reviser: str | None = None,
    show: str | None = None,
    reviser_hash: str | None = None,
    grader: str | None = None,
) -> pd.DataFrame:
    """One row per result the viewer may see (COLUMNS, ``stale`` and ``error tag``), in import order.

    ``stale``: made with a critique other than the source's current one (edited since, or withdrawn): shown, but
    left out of the figures and of usefulness labels; a run of the same configuration makes it again."""
    from annotation.projects.overview import NoSuchProject

    r, t = RevisionResult, TraceRow
    with session(engine) as s:
        proj = queries.get_project(s, name=project)
        if proj is None:
            raise NoSuchProject(f"no project named {project!r}")
        query = (
            select(
                r.trace_id,
                t.position,
                t.record_id,
                t.generator,
                func.coalesce(t.meta["subset"].as_string(), t.meta["task"].as_string()),
                t.qc,
                r.critique_source,
                r.show,
                r.reviser,
                r.reviser_hash,
                r.grader,
                r.status,
                r.original_answer,
                r.revised_answer,
                r.original_correct,
                r.revised_correct,
                r.critique_version,
                r.updated_at,
            )
            .join(t, t.id == r.trace_id)
            .where(t.project_id == proj.id)
            .order_by(t.position, r.critique_source)
        )
        if reviser is not None:
            query = query.where(r.reviser == reviser)
        if show is not None:
            query = query.where(r.show == show)
        if reviser_hash is not None:
            query = query.where(r.reviser_hash == reviser_hash)
        if grader is not None:
            query = query.where(r.grader == grader)
        rows = [tuple(row) for row in s.exec(query)]
    names = [c for c in COLUMNS if c != "kind"]
    frame = pd.DataFrame(rows, columns=names)
    frame.insert(COLUMNS.index("kind"), "kind", [src.partition(":")[0] for src in frame["critique_source"]])
    keep = view.revision_mask(frame["kind"].to_numpy(), frame["critique_source"].to_numpy(), frame["qc"].to_numpy())
    frame = frame[keep].reset_index(drop=True)
    current = current_critiques(engine, frame["trace_id"].tolist())
    frame["stale"] = np.asarray(
        [
            is_stale(current, t, src, None if pd.isna(v) else int(v))
            for t, src, v in zip(frame["trace_id"], frame["critique_source"], frame["critique_version"], strict=True)
        ],
        dtype=bool,
    )
    frame["error tag"] = _error_tags(engine, frame)
    return frame


def _error_tags(engine: Engine, frame: pd.DataFrame) -> list[str | None]:
    """Per row: the tags on the reference's first wrong step, else on the critique's own (joined), else None."""
    if frame.empty:
        return []
    j = JudgmentRow
    trace_ids = sorted(set(frame["trace_id"].tolist()))
    tags: dict[tuple[int, str], str] = {}
    with session(engine) as s:
        for start in range(0, len(trace_ids), queries.WRITE_CHUNK):
            chunk = trace_ids[start : start + queries.WRITE_CHUNK]
            # Only judgments whose steps carry a tag: most carry none, and reading every steps list costs.
            query = select(j.trace_id, j.source_kind, j.source_name, j.first_error, cast(j.steps, Text)).where(
                j.trace_id.in_(chunk), j.first_error.is_not(None), cast(j.steps, Text).like('%"tags": ["%')
            )
            found = s.exec(query).all()
            if not found:
                continue
            ids, kinds, names, first_errors, steps = zip(*found, strict=True)
            at = tags_at_first_error(np.asarray(steps, dtype=object), np.asarray(first_errors))
            for trace_id, kind, name, joined in zip(ids, kinds, names, at, strict=True):
                if joined:
                    tags[(trace_id, source_of(kind, name))] = joined
    return [
        tags.get((t, "reference")) or tags.get((t, src))
        for t, src in zip(frame["trace_id"], frame["critique_source"], strict=True)
    ]


def rows_of(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    if source == ALL_HUMANS:
        return frame[frame["kind"] == "human"]
    return frame[frame["critique_source"] == source]


def graded(frame: pd.DataFrame) -> pd.DataFrame:
    """The results whose request was answered and both answers graded, made with the source's current critique,
    with ``before`` and ``after`` as booleans."""
    done = frame[(frame["status"] == "done") & ~frame["stale"].astype(bool)]
    return done.assign(before=done["original_correct"].astype(bool), after=done["revised_correct"].astype(bool))


@dataclass
class RevisionReport:
    source: str
    show: str
    figures: RevisionFigures
    failed: int
    no_answer: int
    # Answered but not graded (an LLM grader failed; a run cancelled while grading); made with an earlier version
    # of the critique, or one withdrawn: both left out of the figures and counted here.
    ungraded: int = 0
    stale: int = 0
    breakdowns: dict[str, pd.DataFrame] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "source": source_label(self.source),
            "show": self.show,
            **self.figures.as_dict(),
            "failed": self.failed,
            "no_answer": self.no_answer,
            "ungraded": self.ungraded,
            "stale": self.stale,
        }


def report_for(
    frame: pd.DataFrame, source: str, show: str, *, resamples: int = 1000, seed: int = 0, details: bool = True
) -> RevisionReport:
    """Figures (and, with ``details``, breakdowns) of one source's results under one show."""
    mine = rows_of(frame[frame["show"] == show], source)
    stale = mine["stale"].astype(bool)
    done = graded(mine)
    figures = revision_figures(done["before"].to_numpy(), done["after"].to_numpy(), resamples=resamples, seed=seed)
    breakdowns = {by: figures_by(done, by, resamples=resamples, seed=seed) for by in GROUPS} if details else {}
    return RevisionReport(
        source=source,
        show=show,
        figures=figures,
        failed=int(((mine["status"] == "failed") & ~stale).sum()),
        no_answer=int(done["revised_answer"].isna().sum()),
        ungraded=int(((mine["status"] == "ungraded") & ~stale).sum()),
        stale=int(stale.sum()),
        breakdowns=breakdowns,
    )


# A reviser's results are read one configuration at a time, as the CLI reports them: its name, the hash of its
# settings and the grader. Results of other settings (an edited critic, or a --model run that took its name) or of
# another grader are never mixed into one figure.
CONFIGURATION = ["reviser", "reviser_hash", "grader"]


def configurations(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The configurations with results, the one written last first."""
    last = frame.groupby(CONFIGURATION, sort=False)["updated_at"].max().sort_values(ascending=False, kind="stable")
    return [tuple(str(v) for v in key) for key in last.index]


def of_configuration(frame: pd.DataFrame, configuration: tuple[str, str, str]) -> pd.DataFrame:
    reviser, reviser_hash, grader = configuration
    return frame[(frame["reviser"] == reviser) & (frame["reviser_hash"] == reviser_hash) & (frame["grader"] == grader)]


def sources_in(frame: pd.DataFrame) -> list[str]:
    """Critique sources with results, with "all humans" when any person's critiques were revised."""
    sources = sorted(frame["critique_source"].unique().tolist())
    return [*sources, ALL_HUMANS] if any(s.startswith("human:") for s in sources) else sources


def side_by_side(frame: pd.DataFrame, *, resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """VISCO's table: one row per source and show (people and models side by side), with the figures."""
    rows = []
    for source in sources_in(frame):
        for show in SHOWS:
            if not len(rows_of(frame[frame["show"] == show], source)):
                continue
            d = report_for(frame, source, show, resamples=resamples, seed=seed, details=False).as_dict()
            ci = d.pop("ci")
            rows.append({**d, "fix_rate_ci": ci["fix_rate"], "accuracy_change_ci": ci["accuracy_change"]})
    kinds = {"human": 0, "all humans": 1, "consensus": 2, "reference": 3, "model": 4}

    def order(row: dict) -> tuple:
        kind = "all humans" if row["source"] == "all humans" else row["source"].partition(":")[0]
        return (kinds.get(kind, 5), row["source"], SHOWS.index(row["show"]))

    return pd.DataFrame(sorted(rows, key=order))


def with_usefulness(frame: pd.DataFrame) -> pd.DataFrame:
    """Each result with its critique's usefulness: helpful, harmful, or None (see ``labelled``)."""
    labels = [
        usefulness(None if b is None or pd.isna(b) else bool(b), None if a is None or pd.isna(a) else bool(a))
        if labelled(status, show, bool(stale))
        else None
        for b, a, status, show, stale in zip(
            frame["original_correct"],
            frame["revised_correct"],
            frame["status"],
            frame["show"],
            frame["stale"],
            strict=True,
        )
    ]
    return frame.assign(usefulness=np.asarray(labels, dtype=object))


def results_version(engine: Engine, project: str) -> tuple[int, str]:
    """Changes whenever a result of the project is added or changed: a key for caches."""
    r, t = RevisionResult, TraceRow
    with session(engine) as s:
        n, last = s.exec(
            select(func.count(r.id), func.max(r.updated_at))
            .join(t, t.id == r.trace_id)
            .join(Project, Project.id == t.project_id)
            .where(Project.name == project)
        ).one()
    return int(n), str(last)
