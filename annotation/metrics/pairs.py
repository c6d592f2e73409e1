"""One project's judgments, loaded lean (plain columns, no ORM objects) into arrays, and paired source by source.

A source is ``reference``, ``consensus``, ``human:NAME``, ``model:NAME`` or ``human:*`` ("all humans",
each human judgment paired on its own). A pair is one judgment of A and one of B on the same trace,
where B has said something (a first error or "no error"): B is the side measured against. A's
judgment counts even when it said nothing usable (an unparsed model answer, a human who gave up):
it then matches nothing.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Text, case, cast, false, func, literal, or_, select

from annotation.core.model import NO_ERROR, Source
from annotation.judgments.visibility import ALL_HUMANS, ProjectView
from storage import queries
from storage.db import session as open_session
from storage.tables import JudgmentRow, TraceRow

#: first_error of a judgment that said nothing usable: not judged, unparsed, or failed.
UNJUDGED = -2
#: a step verdict that is not set.
UNSET = -2


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
    unknown), vstart / vlen (the judgment's explicit step verdicts in ``verdicts``), tagged (the stored
    steps JSON when a step carries tags, else None). ``traces`` is indexed by trace id: position, n_steps,
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

    def seen_by(self, view: ProjectView) -> ProjectJudgments:
        """Only the judgments ``view`` may see (judgments.visibility): figures for a person are made from these."""
        if view.is_admin:
            return self
        j = self.judgments
        qc = self.traces["qc"].reindex(j["trace_id"].to_numpy()).fillna(False).to_numpy(dtype=bool)
        keep = view.visible_mask(j["kind"].astype(str).to_numpy(), j["source"].astype(str).to_numpy(), qc)
        kept = j[keep].reset_index(drop=True)
        kept["source"] = kept["source"].cat.remove_unused_categories()
        return ProjectJudgments(project=self.project, traces=self.traces, judgments=kept, verdicts=self.verdicts)

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
    from annotation.projects.overview import NoSuchProject

    proj = queries.get_project(s, name=name)
    if proj is None:
        raise NoSuchProject(f"no project named {name!r}")
    return proj


# Steps are stored as JSON lists of {"verdict", "critique", "tags"} (StepLabel). JSON escapes every quote
# inside a string, so `"name": ` with a bare quote can only be a key: scanning the bytes for keys is exact,
# and reads a hundred thousand lists in a fraction of the time a JSON parse of each would take.
_KEY_NAMES = (b"verdict", b"critique", b"tags")
_DIGIT_0 = ord("0")


def _find(data: np.ndarray, pattern: bytes) -> np.ndarray:
    at = np.flatnonzero(data[: max(0, len(data) - len(pattern) + 1)] == pattern[0])
    for k in range(1, len(pattern)):
        at = at[data[at + k] == pattern[k]]
    return at


def _keys(data: np.ndarray) -> list[np.ndarray]:
    """Per key name: the position of the value after each ``"name":`` in ``data`` (with or without a space, so
    compact JSON such as ``{"verdict":-1}`` reads as well as ``json.dumps``' default spacing)."""
    # `":` closes a key and nothing else (after a string value comes , ] or }), so one scan finds every key.
    closing = _find(data, b'":')
    value_at = closing + 2 + (data[np.minimum(closing + 2, len(data) - 1)] == ord(" "))
    found = []
    for name in _KEY_NAMES:
        keep = closing > len(name)
        at, values = closing[keep], value_at[keep]
        ok = data[at - len(name) - 1] == ord('"')
        for k, byte in enumerate(name):
            ok &= data[at - len(name) + k] == byte
        found.append(values[ok])
    return found


def _bare_mentions(data: np.ndarray, name: bytes) -> np.ndarray:
    """Positions of ``"name"`` outside any string (inside one, every quote is escaped with a backslash)."""
    at = _find(data, b'"' + name + b'"')
    return at[(at == 0) | (data[np.maximum(at - 1, 0)] != ord("\\"))]


def _scan_verdicts(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per text: its verdicts (flat, with starts and lengths) and whether the scan could read it."""
    data = np.frombuffer(("\n".join(texts) + "\n   ").encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))  # JSON text holds no raw newline: these are the separators
    n = len(texts)
    keys = _keys(data)
    counts = [np.bincount(np.searchsorted(ends, k), minlength=n + 1)[:n] for k in keys]
    at = keys[0]
    first, second, third = data[at], data[at + 1], data[at + 2]
    values = np.full(len(at), 99, dtype=np.int16)  # 99: not a verdict this scan knows
    digit = (first >= _DIGIT_0) & (first <= _DIGIT_0 + 1) & np.isin(second, (ord(","), ord("}")))
    negative = (first == ord("-")) & (second == _DIGIT_0 + 1) & np.isin(third, (ord(","), ord("}")))
    values[digit] = first[digit].astype(np.int16) - _DIGIT_0
    values[negative] = -1
    values[(first == ord("n")) & (second == ord("u"))] = UNSET
    bad_rows = np.bincount(np.searchsorted(ends, at[values == 99]), minlength=n + 1)[:n] > 0
    # A text where the scan found fewer keys than the text names (a layout it does not know) is parsed in full
    # instead, so an unfamiliar spelling can never read as "no verdicts".
    mentions = np.bincount(np.searchsorted(ends, _bare_mentions(data, b"verdict")), minlength=n + 1)[:n]
    readable = (counts[0] == counts[1]) & (counts[0] == counts[2]) & (counts[0] == mentions) & ~bad_rows
    lengths = counts[0]
    starts = np.cumsum(lengths) - lengths
    return values.astype(np.int8), starts, lengths, readable


def _parse_steps(texts: list[str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """Explicit step verdicts into one flat array (vstart, vlen per text; vlen 0 when none is set), and the
    texts that carry tags, kept for the error-tag breakdown."""
    n = len(texts)
    starts = np.zeros(n, dtype=np.int64)
    lengths = np.zeros(n, dtype=np.int64)
    tagged: list[str | None] = [None] * n
    listed = [i for i, t in enumerate(texts) if t and t != "[]"]
    if not listed:
        return np.zeros(0, dtype=np.int8), starts, lengths, tagged
    plain = [texts[i] if isinstance(texts[i], str) else json.dumps(texts[i]) for i in listed]
    flat, scan_starts, scan_lengths, readable = _scan_verdicts(plain)
    extra: list[int] = []
    index = np.asarray(listed)
    starts[index], lengths[index] = scan_starts, scan_lengths
    for j in np.flatnonzero(~readable):
        steps = json.loads(plain[j])
        verdicts = [s.get("verdict") if isinstance(s, dict) else None for s in steps]
        starts[listed[j]] = len(flat) + len(extra)
        lengths[listed[j]] = len(verdicts)
        extra.extend(UNSET if v not in (-1, 0, 1) else v for v in verdicts)
    flat = np.concatenate([flat, np.asarray(extra, dtype=np.int8)])
    # A list whose verdicts are all unset (critiques only) says nothing step by step: the first error decides.
    row = np.repeat(np.arange(n), lengths)
    rated = np.bincount(row, weights=flat[np.repeat(starts, lengths) + _within(lengths)] != UNSET, minlength=n)
    lengths[rated == 0] = 0
    for j, text in zip(listed, plain, strict=True):
        if '"tags": ["' in text:
            tagged[j] = text
    return flat, starts, lengths, tagged


def _within(lengths: np.ndarray) -> np.ndarray:
    """0, 1, ... within each run of the given lengths, runs one after the other."""
    return np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def tags_at_first_error(texts: np.ndarray, first_errors: np.ndarray) -> list[str | None]:
    """The tags on each judgment's first wrong step, joined, from the stored steps (None without any)."""
    out: list[str | None] = [None] * len(texts)
    for i in np.flatnonzero(pd.notna(texts)):
        steps, fe = json.loads(texts[i]), int(first_errors[i])
        if 0 <= fe < len(steps) and isinstance(steps[fe], dict) and steps[fe].get("tags"):
            out[i] = ", ".join(sorted(str(t) for t in steps[fe]["tags"]))
    return out


def _fetch(engine: Engine, query) -> list[tuple]:
    """Plain tuples straight from the driver: no ORM or result-row objects for hundreds of thousands of rows."""
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        raw.close()


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Hundreds of thousands of row tuples form no cycles, but would set the cyclic collector off again and
    again (it more than doubled the load time); reference counting still frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_project(engine: Engine, project: str) -> ProjectJudgments:
    """All non-draft judgments of ``project`` with the trace columns the measures group by."""
    with _no_cycle_collection():
        return _load_project(engine, project)


def _load_project(engine: Engine, project: str) -> ProjectJudgments:
    with open_session(engine) as s:
        project_id = _project(s, project).id
    trace_rows = _fetch(
        engine,
        select(
            TraceRow.id,
            TraceRow.position,
            TraceRow.n_steps,
            TraceRow.generator,
            func.coalesce(TraceRow.meta["subset"].as_string(), TraceRow.meta["task"].as_string()),
            TraceRow.record_id,
            TraceRow.qc,
        ).where(TraceRow.project_id == project_id),
    )
    # Folded in SQL so that every column arrives as plain ints or text: a failed judgment, an unparsed
    # answer and no answer at all are one value (UNJUDGED); solution_correct is 1, 0 or -1 (unset).
    unusable = or_(
        JudgmentRow.first_error.is_(None),
        JudgmentRow.status == "failed",
        func.coalesce(JudgmentRow.extra["unparsed"].as_boolean(), false()),
    )
    judgment_rows = _fetch(
        engine,
        select(
            JudgmentRow.trace_id,
            JudgmentRow.source_kind,
            case(
                (JudgmentRow.source_name == "", JudgmentRow.source_kind),
                else_=JudgmentRow.source_kind + literal(":") + JudgmentRow.source_name,
            ),
            case((unusable, UNJUDGED), else_=JudgmentRow.first_error),
            case((JudgmentRow.solution_correct.is_(None), -1), (JudgmentRow.solution_correct, 1), else_=0),
            cast(JudgmentRow.steps, Text),
        )
        .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
        .where(TraceRow.project_id == project_id, JudgmentRow.status != "draft"),
    )
    traces = pd.DataFrame(
        trace_rows, columns=["trace_id", "position", "n_steps", "generator", "subset", "record_id", "qc"]
    ).set_index("trace_id")
    return from_rows(project, traces, judgment_rows)


def from_rows(project: str, traces: pd.DataFrame, rows: list) -> ProjectJudgments:
    """Judgment rows (trace_id, kind, source, first_error or UNJUDGED, solution_correct 1/0/-1, steps JSON)."""
    trace_id, kind, source, first_error, solution_correct, steps = (
        zip(*rows, strict=True) if rows else [[] for _ in range(6)]
    )
    fe = np.asarray(first_error, dtype=np.int64)
    verdicts, vstart, vlen, tagged = _parse_steps(list(steps))
    sc = np.asarray(solution_correct, dtype=np.int8)
    flawed = np.where(sc == 1, 0, np.where(sc == 0, 1, np.where(fe >= 0, 1, np.where(fe == NO_ERROR, 0, -1))))
    judgments = pd.DataFrame(
        {
            "trace_id": np.asarray(trace_id, dtype=np.int64),
            "source": pd.Categorical(source),
            "kind": pd.Categorical(kind),
            "first_error": fe,
            "flawed": flawed.astype(np.int8),
            "vstart": vstart,
            "vlen": vlen,
            "tagged": tagged,
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


PAIR_COLUMNS = ["trace_id", "source", "first_error", "flawed", "vstart", "vlen", "tagged"]


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


def default_pair(choices: list[str]) -> tuple[str, str]:
    """A: a model when there is one, else a person; B: the reference, else the consensus, else another source."""
    b = next((s for s in ("reference", "consensus") if s in choices), choices[-1] if choices else "")
    a = next((s for s in choices if s.startswith("model:") and s != b), None)
    a = a or next((s for s in choices if s != b), b)
    return a, b
