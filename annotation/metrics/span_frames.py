"""The span measures of annotation.metrics.spans over a whole project at once, with pandas: the same figures (the
tests hold the two to each other), fast enough for 100,000 traces of 5 spans from each source.

Spans are rows: ``trace``, ``source``, ``place`` (step, part and field as one integer), ``start``, ``end``,
``type``.

Character-level alpha needs no per-character work. With disjoint spans per person and text (where one
person's spans overlap, the later one gives way to the earlier, as the reference implementation reads a
character), the coincidence matrix is sums of lengths and of pairwise overlaps: for two people i and j on a
trace of total text length L, i's type-c characters that j marks k are the overlaps of their spans; those
j leaves unmarked are i's length of c less those overlaps; the characters neither marks are L less both
lengths plus their overlap. Each ordered pair of people on a trace with m of them weighs 1/(m-1).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from annotation.metrics.spans import PRF, SpanAgreement

COLUMNS = ["trace", "source", "place", "start", "end", "type"]


FIELD_CODES = {"text": 0, "arguments": 1, "content": 2, "answer": 3}


def place_code(step: int | None, part: int, field: str) -> int:
    """A span's text (step, part, field) as one integer, as span_report builds it for a whole project."""
    return ((-1 if step is None else step) + 1) * 1_000_000 + part * 4 + FIELD_CODES.get(field, 0)


def agreement(frame: pd.DataFrame, a: str, b: str, traces: np.ndarray) -> SpanAgreement:
    """A's spans against B's on ``traces`` (the traces both judged)."""
    out = SpanAgreement(traces=len(traces))
    keep = frame["trace"].isin(traces)
    side_a = frame[keep & (frame["source"] == a)]
    side_b = frame[keep & (frame["source"] == b)]
    if side_a.empty and side_b.empty:
        return out
    key = ["trace", "place", "start", "end", "type"]
    count_a = side_a.groupby(key, observed=True).size().rename("na")
    count_b = side_b.groupby(key, observed=True).size().rename("nb")
    both = pd.concat([count_a, count_b], axis=1).fillna(0)
    both["matched"] = np.minimum(both["na"], both["nb"])
    exact_by_type = both.groupby(level="type", observed=True)[["na", "nb", "matched"]].sum()
    hit_a = _overlap_hits(side_a, side_b)
    hit_b = _overlap_hits(side_b, side_a)
    over_a = side_a.assign(hit=hit_a).groupby("type", observed=True)["hit"].agg(["sum", "size"])
    over_b = side_b.assign(hit=hit_b).groupby("type", observed=True)["hit"].agg(["sum", "size"])
    types = sorted(set(exact_by_type.index) | set(over_a.index) | set(over_b.index))
    for t in types:
        exact = PRF()
        if t in exact_by_type.index:
            row = exact_by_type.loc[t]
            exact = PRF(int(row["matched"]), int(row["nb"]), int(row["matched"]), int(row["na"]))
        overlap = PRF(
            int(over_b.loc[t, "sum"]) if t in over_b.index else 0,
            int(over_b.loc[t, "size"]) if t in over_b.index else 0,
            int(over_a.loc[t, "sum"]) if t in over_a.index else 0,
            int(over_a.loc[t, "size"]) if t in over_a.index else 0,
        )
        out.by_type[str(t)] = {"exact": exact, "overlap": overlap}
        for total, part in ((out.exact, exact), (out.overlap, overlap)):
            total.matched_a += part.matched_a
            total.matched_b += part.matched_b
            total.n_a += part.n_a
            total.n_b += part.n_b
    return out


def _overlap_hits(mine: pd.DataFrame, theirs: pd.DataFrame) -> np.ndarray:
    """For each of ``mine``: does a span of ``theirs`` on the same text, of the same type, share a character?"""
    if mine.empty:
        return np.zeros(0, dtype=bool)
    if theirs.empty:
        return np.zeros(len(mine), dtype=bool)
    group_keys = ["trace", "place", "type"]
    joined = pd.concat([mine[group_keys], theirs[group_keys]], ignore_index=True)
    codes = joined.groupby(group_keys, observed=True, sort=True).ngroup().to_numpy()
    mine_group, their_group = codes[: len(mine)], codes[len(mine) :]
    big = np.int64(1) << 32
    their_start = their_group.astype(np.int64) * big + theirs["start"].to_numpy(np.int64)
    order = np.argsort(their_start, kind="stable")
    sorted_start = their_start[order]
    # The furthest end among their spans so far in each group (groups are ordered, so one running max serves).
    reach = np.maximum.accumulate(their_group[order].astype(np.int64) * big + theirs["end"].to_numpy(np.int64)[order])
    query = mine_group.astype(np.int64) * big + mine["end"].to_numpy(np.int64)
    idx = np.searchsorted(sorted_start, query, side="left")
    before = idx - 1
    valid = before >= 0
    safe = np.where(valid, before, 0)
    same_group = valid & (their_group[order][safe] == mine_group)
    return same_group & (reach[safe] - mine_group.astype(np.int64) * big > mine["start"].to_numpy(np.int64))


def disjoint(frame: pd.DataFrame) -> pd.DataFrame:
    """Each person's spans on each text made disjoint: where two overlap, the earlier (by start) keeps the
    characters, as a person reads one type per character."""
    if frame.empty:
        return frame
    f = frame.sort_values(["trace", "source", "place", "start", "end"], kind="stable").reset_index(drop=True)
    group = f.groupby(["trace", "source", "place"], observed=True, sort=False).ngroup().to_numpy(np.int64)
    big = np.int64(1) << 32
    reach = np.maximum.accumulate(group * big + f["end"].to_numpy(np.int64))
    previous = np.concatenate([[-1], reach[:-1]])
    same = np.concatenate([[False], group[1:] == group[:-1]])
    prior_end = np.where(same, previous - group * big, 0)
    start = np.maximum(f["start"].to_numpy(np.int64), prior_end)
    f = f.assign(start=start)
    return f[f["start"] < f["end"]]


def char_alpha(frame: pd.DataFrame, coders: Mapping[int, list[str]], lengths: Mapping[int, int]) -> float | None:
    """Nominal alpha over traces (``coders``: the people who judged each, two or more) whose texts total
    ``lengths[trace]`` characters; ``frame`` holds those people's spans."""
    units = {t: c for t, c in coders.items() if len(c) >= 2}
    if not units:
        return None
    f = disjoint(frame[frame["trace"].isin(list(units))])
    m = pd.Series({t: len(c) for t, c in units.items()}, name="m")
    weight = 1.0 / (m - 1)
    f = f.assign(length=f["end"] - f["start"])
    length_by_type = f.groupby("type", observed=True)["length"].sum()
    # Pairwise overlaps between different people on the same text.
    pairs = f.merge(f, on=["trace", "place"], suffixes=("_i", "_j"))
    pairs = pairs[pairs["source_i"] != pairs["source_j"]]
    overlap = np.minimum(pairs["end_i"], pairs["end_j"]) - np.maximum(pairs["start_i"], pairs["start_j"])
    pairs = pairs.assign(ov=np.clip(overlap, 0, None) * pairs["trace"].map(weight).to_numpy())
    pairs = pairs[pairs["ov"] > 0]
    ov = pairs.groupby(["type_i", "type_j"], observed=True)["ov"].sum()
    types = sorted({str(t) for t in length_by_type.index} | {str(t) for t in ov.index.get_level_values(0)})
    o: dict[tuple[str | None, str | None], float] = {}
    for (c, k), v in ov.items():
        o[(str(c), str(k))] = float(v)
    for c in types:
        marked = float(length_by_type.get(c, 0.0))
        row = sum(v for (x, _), v in o.items() if x == c)
        col = sum(v for (_, y), v in o.items() if y == c)
        o[(c, None)] = marked - row
        o[(None, c)] = marked - col
    total_length = sum(units_m * lengths.get(t, 0) for t, units_m in m.items())
    o[(None, None)] = total_length - 2 * float(length_by_type.sum()) + float(ov.sum())
    totals: dict[str | None, float] = {}
    for (c, _), v in o.items():
        totals[c] = totals.get(c, 0.0) + v
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(v for (c, k), v in o.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    return None if expected == 0 else 1.0 - (n - 1) * observed / expected
