"""The span measures of annotation.metrics.spans over a whole project at once, in numpy: the same figures (the
tests hold the two to each other), fast enough for 100,000 traces of 5 spans from each source.

Spans are rows: ``trace``, ``source``, ``place`` (step, part and field as one integer), ``start``, ``end``,
``type``. Every measure is one sort of integer codes and a few passes over the sorted columns: groupby and
merge in pandas cost most of the time here, a million spans at a time.

Character-level alpha needs no per-character work. With disjoint spans per person and text (where one
person's spans overlap, the later one gives way to the earlier, as the reference implementation reads a
character), the coincidence matrix is sums of lengths and of pairwise overlaps: for two people i and j on a
trace of total text length L, i's type-c characters that j marks k are the overlaps of their spans; those
j leaves unmarked are i's length of c less those overlaps; the characters neither marks are L less both
lengths plus their overlap. Each ordered pair of people on a trace with m of them weighs 1/(m-1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
    keep = frame["trace"].isin(traces).to_numpy()
    is_a = keep & (frame["source"] == a).to_numpy()
    is_b = keep & (frame["source"] == b).to_numpy()
    rows = is_a | is_b
    if not rows.any():
        return out
    type_codes, type_names = _codes(frame["type"])
    kind = type_codes[rows]
    start, end = frame["start"].to_numpy(np.int64)[rows], frame["end"].to_numpy(np.int64)[rows]
    side_b = is_b[rows]
    texts = (frame["trace"].to_numpy(np.int64)[rows], frame["place"].to_numpy(np.int64)[rows], kind)
    order, group = _sort(texts, (start, end, side_b.astype(np.int64)))
    start, end, side_b, kind = start[order], end[order], side_b[order], kind[order]
    n_types = len(type_names)
    # Exact: runs of the same (trace, place, type, start, end); each of B's matches one of A's at most.
    new_key = _starts(group) | _starts(start) | _starts(end)
    key = np.cumsum(new_key) - 1
    n_a = np.bincount(key, weights=~side_b)
    n_b = np.bincount(key, weights=side_b)
    exact = np.bincount(kind[new_key], weights=np.minimum(n_a, n_b), minlength=n_types)
    hit_a = _overlap_hits(group, start, end, mine=~side_b)
    hit_b = _overlap_hits(group, start, end, mine=side_b)
    count = {side: np.bincount(kind[mask], minlength=n_types) for side, mask in (("a", ~side_b), ("b", side_b))}
    over_a = np.bincount(kind[~side_b], weights=hit_a, minlength=n_types)
    over_b = np.bincount(kind[side_b], weights=hit_b, minlength=n_types)
    present = np.flatnonzero(count["a"] + count["b"])
    for t in sorted(present, key=lambda t: type_names[t]):
        matched = int(exact[t])
        exact_prf = PRF(matched, int(count["b"][t]), matched, int(count["a"][t]))
        overlap_prf = PRF(int(over_b[t]), int(count["b"][t]), int(over_a[t]), int(count["a"][t]))
        out.by_type[str(type_names[t])] = {"exact": exact_prf, "overlap": overlap_prf}
        for total, part in ((out.exact, exact_prf), (out.overlap, overlap_prf)):
            total.matched_a += part.matched_a
            total.matched_b += part.matched_b
            total.n_a += part.n_a
            total.n_b += part.n_b
    return out


def _overlap_hits(group: np.ndarray, start: np.ndarray, end: np.ndarray, mine: np.ndarray) -> np.ndarray:
    """For each row where ``mine`` holds: does a row where it does not (the other side), in the same group (text
    and type), share a character with it? Rows are sorted by group, then start."""
    theirs = ~mine
    if not theirs.any():
        return np.zeros(int(mine.sum()), dtype=bool)
    big = np.int64(int(end.max()) + 1)
    their_group, my_group = group[theirs], group[mine]
    # Their spans that start before my end are a prefix of their group (sorted by start); the furthest end among
    # them (a running max: groups are ordered, so group * big keeps groups apart) says whether one reaches me.
    reach = np.maximum.accumulate(their_group * big + end[theirs])
    before = np.searchsorted(their_group * big + start[theirs], my_group * big + end[mine], side="left") - 1
    safe = np.maximum(before, 0)
    return (before >= 0) & (their_group[safe] == my_group) & (reach[safe] - my_group * big > start[mine])


def char_alpha(frame: pd.DataFrame, coders: Mapping[int, list[str]], lengths: Mapping[int, int]) -> float | None:
    """Nominal alpha over traces (``coders``: the people who judged each, two or more) whose texts total
    ``lengths[trace]`` characters; ``frame`` holds those people's spans."""
    units = {t: len(c) for t, c in coders.items() if len(c) >= 2}
    if not units:
        return None
    total_length = sum(m * lengths.get(t, 0) for t, m in units.items())
    traces = np.fromiter(units, np.int64, len(units))
    return alpha_of_units(frame, traces, np.fromiter(units.values(), np.int64, len(units)), total_length)


def alpha_of_units(
    frame: pd.DataFrame, traces: np.ndarray, coders: np.ndarray, total_length: int | Callable[[], int]
) -> float | None:
    """char_alpha over ``traces`` (distinct), judged by ``coders[i]`` people each (two or more), whose texts
    times their coders total ``total_length`` characters (or a function giving it, asked once the spans are
    counted: the caller may still be summing it)."""
    if not len(traces):
        return None
    rows = frame["trace"].isin(traces).to_numpy()
    type_codes, type_names = _codes(frame["type"])
    trace, source, place, start, end, kind = _disjoint(
        frame["trace"].to_numpy(np.int64)[rows],
        _codes(frame["source"])[0][rows],
        frame["place"].to_numpy(np.int64)[rows],
        frame["start"].to_numpy(np.int64)[rows],
        frame["end"].to_numpy(np.int64)[rows],
        type_codes[rows],
    )
    n_types = len(type_names)
    length_by_type = np.bincount(kind, weights=end - start, minlength=n_types)
    by_trace = np.argsort(traces)
    weight = 1.0 / (coders[by_trace][np.searchsorted(traces[by_trace], trace)] - 1)
    ov = _pair_overlaps(trace, place, source, start, end, kind, weight, n_types=n_types)
    names = {t: str(type_names[t]) for t in np.flatnonzero(np.bincount(kind, minlength=n_types))}
    order = sorted(names, key=names.__getitem__)
    o: dict[tuple[str | None, str | None], float] = {}
    for c in order:
        for k in order:
            if ov[c, k] > 0:
                o[(names[c], names[k])] = float(ov[c, k])
    for c in order:
        o[(names[c], None)] = float(length_by_type[c]) - float(ov[c].sum())
        o[(None, names[c])] = float(length_by_type[c]) - float(ov[:, c].sum())
    total = total_length() if callable(total_length) else total_length
    o[(None, None)] = total - 2 * float(length_by_type.sum()) + float(ov.sum())
    totals: dict[str | None, float] = {}
    for (c, _), v in o.items():
        totals[c] = totals.get(c, 0.0) + v
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(v for (c, k), v in o.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    return None if expected == 0 else 1.0 - (n - 1) * observed / expected


def _disjoint(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each person's spans on each text made disjoint: where two overlap, the earlier (by start, then end) keeps
    the characters, as a person reads one type per character. ``columns``: trace, source, place, start, end and
    type codes; the same come back, without the spans emptied."""
    trace, source, place, start, end, kind = columns
    if not len(trace):
        return columns
    order, group = _sort((trace, source, place), (start, end))
    start, end = start[order], end[order]
    big = np.int64(int(end.max()) + 1)
    reach = np.maximum.accumulate(group * big + end)
    same = ~_starts(group)
    prior_end = np.where(same, np.concatenate([[0], reach[:-1]]) - group * big, 0)
    start = np.maximum(start, prior_end)
    kept = start < end
    return trace[order][kept], source[order][kept], place[order][kept], start[kept], end[kept], kind[order][kept]


def _pair_overlaps(*columns: np.ndarray, n_types: int) -> np.ndarray:
    """Sum over ordered pairs of spans by different people on the same text: their overlap in characters times
    the weight, by (type of the first, type of the second). ``columns``: trace, place, source, start, end, type
    code, weight."""
    out = np.zeros((n_types, n_types))
    if not len(columns[0]):
        return out
    order, group = _sort(columns[:2], ())
    source, start, end, kind, weight = (x[order] for x in columns[2:])
    # Each row with every later row of its group (the pairs the other way round are the same overlaps, added by
    # the transpose below): row i repeated once per later member, paired with them in turn.
    rows = np.arange(len(group))
    later = np.append(np.flatnonzero(_starts(group))[1:], len(group))[group] - rows - 1
    i = np.repeat(rows, later)
    j = i + 1 + np.arange(len(i)) - np.repeat(np.cumsum(later) - later, later)
    overlap = np.minimum(end[i], end[j]) - np.maximum(start[i], start[j])
    counted = (source[i] != source[j]) & (overlap > 0)
    i, j = i[counted], j[counted]
    cells = np.bincount(kind[i] * n_types + kind[j], weights=overlap[counted] * weight[i], minlength=n_types**2)
    out += cells.reshape(n_types, n_types)
    out += out.T.copy()
    return out


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column of names (error types, sources) as integer codes, and the names they stand for."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(np.int64), np.asarray(column.cat.categories, dtype=object)
    codes, names = pd.factorize(column.to_numpy())
    return codes.astype(np.int64), np.asarray(names, dtype=object)


def _starts(column: np.ndarray) -> np.ndarray:
    """Where a sorted column's value changes (the first row included)."""
    out = np.ones(len(column), dtype=bool)
    out[1:] = column[1:] != column[:-1]
    return out


def _sort(keys: tuple[np.ndarray, ...], minor: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The order that puts rows of the same ``keys`` together (groups in no particular order), each group sorted
    by the ``minor`` columns (all 0 or more) and otherwise as given; and each sorted row's group, numbered from 0.

    All the columns packed into one integer where they fit in 62 bits, so one sort does it; else the groups
    numbered first (which needs fewer bits), and a sort of several keys where even that does not fit."""
    if not len(keys[0]):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    packed = _pack(keys)
    if packed is None:
        packed = _dense(keys)
    key = _pack((packed, *minor))
    order = np.argsort(key, kind="stable") if key is not None else np.lexsort((*reversed(minor), packed))
    return order, np.cumsum(_starts(packed[order])) - 1


def _pack(columns: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """The columns side by side in one integer, the first most significant (so sorting it sorts by each in
    turn); None when they need more than 62 bits. Each column less its least value, which keeps its order."""
    shifted = [c.astype(np.int64) - c.min() for c in columns]
    widths = [int(c.max()).bit_length() for c in shifted]
    if sum(widths) > 62:
        return None
    out = np.zeros(len(columns[0]), dtype=np.int64)
    for column, width in zip(shifted, widths, strict=True):
        out = (out << width) | column
    return out


def _dense(columns: tuple[np.ndarray, ...]) -> np.ndarray:
    """One code per distinct combination of the columns' values, 0 to k-1 (in no particular order)."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        values, uniques = pd.factorize(column)
        # Each step stays below the number of rows, so the product never overflows.
        code, _ = pd.factorize(code * len(uniques) + values)
    return code.astype(np.int64)
