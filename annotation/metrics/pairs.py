"""One project's judgments, loaded lean (plain columns, no ORM objects) into arrays, and paired source by source.

A source is ``reference``, ``consensus``, ``human:NAME``, ``model:NAME`` or ``human:*`` ("all humans",
each human judgment paired on its own). A pair is one judgment of A and one of B on the same trace,
where B has said something (a first error or "no error"): B is the side measured against. A's
judgment counts even when it said nothing usable (an unparsed model answer, a human who gave up):
it then matches nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Text, cast, func, select

from annotation.model import NO_ERROR, Source
from storage import queries
from storage.db import session as open_session
from storage.tables import JudgmentRow, TraceRow

ALL_HUMANS = "human:*"
#: first_error of a judgment that said nothing usable: not judged, unparsed, or failed.
UNJUDGED = -2
#: a step verdict that is not set.
UNSET = -2


class NoSuchSource(LookupError):
    pass


def source_label(source: str) -> str:
    return "all humans" if source == ALL_HUMANS else source


def check_source(text: str) -> str:
    """A source as written on the command line or in a picker, normalised; raises InvalidValue."""
    text = text.strip()
    if text in (ALL_HUMANS, "all humans", "humans"):
        return ALL_HUMANS
    return str(Source.parse(text))


@dataclass(frozen=True)
class ProjectJudgments:
    """Every judgment of one project that is not a draft, as columns.

    ``judgments`` columns: trace_id, source, kind, first_error (UNJUDGED for none), flawed (1, 0, -1
    unknown), vstart / vlen (the judgment's explicit step verdicts in ``verdicts``), tag (the tags on
    its first wrong step, joined), critique_len. ``traces`` is indexed by trace id: position, n_steps,
    generator, subset, record_id.
    """

    project: str
    traces: pd.DataFrame
    judgments: pd.DataFrame
    verdicts: np.ndarray

    @property
    def sources(self) -> list[str]:
        return sorted(self.judgments["source"].unique().tolist())

    def humans(self) -> list[str]:
        return [s for s in self.sources if s.startswith("human:")]

    def models(self) -> list[str]:
        return [s for s in self.sources if s.startswith("model:")]

    def rows_of(self, source: str) -> pd.DataFrame:
        j = self.judgments
        if source == ALL_HUMANS:
            return j[j["kind"] == "human"]
        return j[j["source"] == source]


def data_version(engine: Engine, project: str) -> tuple[int, str]:
    """Changes whenever a judgment of the project is added or changed: a key for caches."""
    with open_session(engine) as s:
        proj = _project(s, project)
        n, last = s.exec(
            select(func.count(JudgmentRow.id), func.max(JudgmentRow.updated_at))
            .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
            .where(TraceRow.project_id == proj.id)
        ).one()
    return int(n), str(last)


def _project(s, name: str):
    from annotation.projects import NoSuchProject

    proj = queries.get_project(s, name=name)
    if proj is None:
        raise NoSuchProject(f"no project named {name!r}")
    return proj


def _parse_steps(texts: list[str | None], first_errors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Explicit step verdicts into one flat array, and the tags on each judgment's first wrong step."""
    flat: list[int] = []
    starts = np.zeros(len(texts), dtype=np.int64)
    lengths = np.zeros(len(texts), dtype=np.int64)
    tags: list[str | None] = [None] * len(texts)
    loads = json.loads
    for i, text in enumerate(texts):
        if not text or text == "[]":
            continue
        steps = loads(text) if isinstance(text, str) else text
        verdicts = [s.get("verdict") if isinstance(s, dict) else None for s in steps]
        fe = int(first_errors[i])
        if 0 <= fe < len(steps) and isinstance(steps[fe], dict) and steps[fe].get("tags"):
            tags[i] = ", ".join(sorted(str(t) for t in steps[fe]["tags"]))
        if all(v is None for v in verdicts):
            continue
        starts[i] = len(flat)
        lengths[i] = len(verdicts)
        flat.extend(UNSET if v is None else v for v in verdicts)
    return np.asarray(flat, dtype=np.int8), starts, lengths, tags


def load_project(engine: Engine, project: str) -> ProjectJudgments:
    """All non-draft judgments of ``project`` with the trace columns the measures group by."""
    with open_session(engine) as s:
        proj = _project(s, project)
        trace_rows = s.exec(
            select(
                TraceRow.id,
                TraceRow.position,
                TraceRow.n_steps,
                TraceRow.generator,
                func.coalesce(TraceRow.meta["subset"].as_string(), TraceRow.meta["task"].as_string()),
                TraceRow.record_id,
            ).where(TraceRow.project_id == proj.id)
        ).all()
        judgment_rows = s.exec(
            select(
                JudgmentRow.trace_id,
                JudgmentRow.source_kind,
                JudgmentRow.source_name,
                JudgmentRow.first_error,
                JudgmentRow.solution_correct,
                JudgmentRow.status,
                JudgmentRow.extra["unparsed"].as_boolean(),
                cast(JudgmentRow.steps, Text),
            )
            .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
            .where(TraceRow.project_id == proj.id, JudgmentRow.status != "draft")
        ).all()
    traces = pd.DataFrame(
        trace_rows, columns=["trace_id", "position", "n_steps", "generator", "subset", "record_id"]
    ).set_index("trace_id")
    return from_rows(project, traces, judgment_rows)


def from_rows(project: str, traces: pd.DataFrame, rows: list) -> ProjectJudgments:
    """Judgment rows (trace_id, kind, name, first_error, solution_correct, status, unparsed, steps JSON) as columns."""
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in range(8)]
    trace_id, kind, name, first_error, solution_correct, status, unparsed, steps = cols
    kind = np.asarray(kind, dtype=object)
    name = np.asarray(name, dtype=object)
    source = np.where(name == "", kind, kind + ":" + name) if len(kind) else np.asarray([], dtype=object)
    fe = pd.array(first_error, dtype="Int64")
    bad = (np.asarray(unparsed, dtype=object) == True) | (np.asarray(status, dtype=object) == "failed")  # noqa: E712
    fe = np.where(pd.isna(fe) | bad, UNJUDGED, fe.to_numpy(dtype=np.int64, na_value=UNJUDGED))
    verdicts, vstart, vlen, tags = _parse_steps(list(steps), fe)
    sc = np.asarray(solution_correct, dtype=object)
    flawed = np.where(sc == True, 0, np.where(sc == False, 1, -1))  # noqa: E712
    flawed = np.where(flawed >= 0, flawed, np.where(fe >= 0, 1, np.where(fe == NO_ERROR, 0, -1)))
    judgments = pd.DataFrame(
        {
            "trace_id": np.asarray(trace_id, dtype=np.int64),
            "source": pd.Categorical(source),
            "kind": pd.Categorical(kind),
            "first_error": fe.astype(np.int64),
            "flawed": flawed.astype(np.int8),
            "vstart": vstart,
            "vlen": vlen,
            "tag": tags,
        }
    )
    return ProjectJudgments(project=project, traces=traces, judgments=judgments, verdicts=verdicts)


@dataclass(frozen=True)
class Pairs:
    """A's and B's judgments side by side, one row per pair; ``frame`` columns end in _a and _b."""

    a: str
    b: str
    frame: pd.DataFrame
    verdicts: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)

    def col(self, name: str) -> np.ndarray:
        return self.frame[name].to_numpy()


PAIR_COLUMNS = ["trace_id", "source", "first_error", "flawed", "vstart", "vlen", "tag"]


def make_pairs(data: ProjectJudgments, a: str, b: str) -> Pairs:
    """Every judgment of A with every judgment of B on the same trace, where B said something."""
    left = data.rows_of(a)[PAIR_COLUMNS]
    right = data.rows_of(b)[PAIR_COLUMNS]
    right = right[right["first_error"] != UNJUDGED]
    merged = left.merge(right, on="trace_id", suffixes=("_a", "_b"))
    merged["source_a"] = merged["source_a"].astype(str)
    merged["source_b"] = merged["source_b"].astype(str)
    if a == ALL_HUMANS or b == ALL_HUMANS:
        merged = merged[merged["source_a"] != merged["source_b"]]
    trace_cols = data.traces.reindex(merged["trace_id"].to_numpy())
    for col in ("position", "n_steps", "generator", "subset", "record_id"):
        merged[col] = trace_cols[col].to_numpy()
    merged = merged.sort_values(["position", "source_a", "source_b"], kind="stable").reset_index(drop=True)
    return Pairs(a=a, b=b, frame=merged, verdicts=data.verdicts)


def choosable_sources(sources: list[str], *, username: str, is_admin: bool, blind: bool) -> list[str]:
    """What a person may compare: everything, plus "all humans"; on a blind project an annotator sees only
    their own judgments and the models' (no other people, no reference, no consensus drawn from people)."""
    if blind and not is_admin:
        own = f"human:{username}"
        return [s for s in sources if s == own or s.startswith("model:")]
    humans = [s for s in sources if s.startswith("human:")]
    return [*sources, ALL_HUMANS] if humans else list(sources)


def default_pair(choices: list[str]) -> tuple[str, str]:
    """A: a model when there is one, else a person; B: the reference, else the consensus, else another source."""
    b = next((s for s in ("reference", "consensus") if s in choices), choices[-1] if choices else "")
    a = next((s for s in choices if s.startswith("model:") and s != b), None)
    a = a or next((s for s in choices if s != b), b)
    return a, b
