"""Agreement on spans of wrong text, as fine-grained feedback papers measure it.

- Between two sources (A taken as the reference, B as the prediction), on the traces both judged: precision
  (the share of B's spans that match one of A's), recall (the share of A's that match one of B's) and F1, on
  *exact* spans (same text, same offsets, same error type) and on *overlap* (same text and type, ranges that
  share at least one character); overall and per error type.
- Among annotators: Krippendorff's alpha at the character level (nominal: each character of each judged text
  is the error type some span gives it, or none), over the traces at least two of them judged. Computed from
  the coincidence matrix directly: characters no one marked are counted in bulk, so a long text costs no more
  than its spans.
- Critics: over-propagation, the share of steps after the first error that a critic marks wrong where the
  human label says they are right (or wrong only because of an earlier step).

A span's place is (step, part, field); a span crossing steps counts once per step, as it is stored.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from annotation.core.model import NO_ERROR, WRONG, Judgment
from annotation.core.spans import Span

Place = tuple[int | None, int, str]


@dataclass
class PRF:
    matched_b: int = 0
    n_b: int = 0
    matched_a: int = 0
    n_a: int = 0

    @property
    def precision(self) -> float | None:
        return self.matched_b / self.n_b if self.n_b else None

    @property
    def recall(self) -> float | None:
        return self.matched_a / self.n_a if self.n_a else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    def as_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "n_a": self.n_a, "n_b": self.n_b}


@dataclass
class SpanAgreement:
    traces: int = 0
    exact: PRF = field(default_factory=PRF)
    overlap: PRF = field(default_factory=PRF)
    by_type: dict[str, dict[str, PRF]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "traces": self.traces,
            "exact": self.exact.as_dict(),
            "overlap": self.overlap.as_dict(),
            "by_type": {t: {k: v.as_dict() for k, v in m.items()} for t, m in sorted(self.by_type.items())},
        }


# A span as the measures read it: (step, part, field, start, end, type). Tuples: a project has millions.
Key = tuple[Any, int, str, int, int, str]


def key_of(span: Span) -> Key:
    return (span.step, span.part, span.field, span.start, span.end, span.type)


def key_from_dict(d: dict[str, Any]) -> Key:
    """A stored span (as checked when it was written) read straight into a key."""
    return (d.get("step"), d.get("part", 0), d.get("field", "text"), d["start"], d["end"], d["type"])


def _by_place_and_type(spans: Sequence[Key]) -> dict[tuple, list[Key]]:
    out: dict[tuple, list[Key]] = {}
    for k in spans:
        out.setdefault((k[0], k[1], k[2], k[5]), []).append(k)
    return out


def _hits(mine: Sequence[Key], theirs: Sequence[Key]) -> tuple[list[bool], list[bool]]:
    """For each of ``mine``: is it one of ``theirs`` exactly, and does it overlap one of the same type?"""
    exact_set = set(theirs)
    grouped = _by_place_and_type(theirs)
    exact, overlap = [], []
    for k in mine:
        exact.append(k in exact_set)
        overlap.append(any(o[3] < k[4] and k[3] < o[4] for o in grouped.get((k[0], k[1], k[2], k[5]), ())))
    return exact, overlap


def agreement_of_keys(pairs: Iterable[tuple[Sequence[Key], Sequence[Key]]]) -> SpanAgreement:
    out = SpanAgreement()
    by_type: dict[str, dict[str, PRF]] = {}
    for a, b in pairs:
        out.traces += 1
        if not a and not b:
            continue
        if len(set(a)) != len(a) or len(set(b)) != len(b):
            a_exact, b_exact = _exact_with_repeats(a, b), _exact_with_repeats(b, a)
            a_overlap, b_overlap = _hits(a, b)[1], _hits(b, a)[1]
        else:
            a_exact, a_overlap = _hits(a, b)
            b_exact, b_overlap = _hits(b, a)
        for side, spans, exact, overlap in (("a", a, a_exact, a_overlap), ("b", b, b_exact, b_overlap)):
            for k, hit_exact, hit_overlap in zip(spans, exact, overlap, strict=True):
                per = by_type.get(k[5])
                if per is None:
                    per = by_type[k[5]] = {"exact": PRF(), "overlap": PRF()}
                for prf, hit in ((out.exact, hit_exact), (out.overlap, hit_overlap), (per["exact"], hit_exact),
                                 (per["overlap"], hit_overlap)):  # fmt: skip
                    if side == "a":
                        prf.n_a += 1
                        prf.matched_a += hit
                    else:
                        prf.n_b += 1
                        prf.matched_b += hit
    out.by_type = by_type
    return out


def _exact_with_repeats(mine: Sequence[Key], theirs: Sequence[Key]) -> list[bool]:
    """Exact matches when a source marked the same span twice: each of theirs matches one of mine at most."""
    left = Counter(theirs)
    out = []
    for k in mine:
        out.append(left[k] > 0)
        if left[k] > 0:
            left[k] -= 1
    return out


def span_agreement(pairs: Iterable[tuple[Sequence[Span], Sequence[Span]]]) -> SpanAgreement:
    """``pairs``: for each trace both sources judged, (A's spans, B's spans)."""
    return agreement_of_keys(([key_of(s) for s in a], [key_of(s) for s in b]) for a, b in pairs)


def char_alpha(units: Iterable[tuple[Mapping[Place, int], Mapping[str, Sequence[Span]]]]) -> float | None:
    """Character-level nominal Krippendorff's alpha. ``units``: for each trace, the length of each of its texts
    by place, and each coder's spans on it (coders who judged the trace; two or more make it count)."""
    return alpha_of_keys(
        (lengths, {c: [key_of(s) for s in spans] for c, spans in coders.items()}) for lengths, coders in units
    )


def alpha_of_keys(units: Iterable[tuple[Mapping[Place, int], Mapping[str, Sequence[Key]]]]) -> float | None:
    o: dict[tuple[str | None, str | None], float] = defaultdict(float)
    unmarked = 0.0
    for lengths, by_coder in units:
        m = len(by_coder)
        if m < 2:
            continue
        marked: dict[Place, list[list[Key]]] = {}
        for c, spans in enumerate(by_coder.values()):
            for k in spans:
                place = (k[0], k[1], k[2])
                if place in lengths:
                    marked.setdefault(place, [[] for _ in range(m)])[c].append(k)
        for per_coder in marked.values():
            for spans in per_coder:
                spans.sort(key=lambda k: (k[3], k[4]))  # a character a person marked twice: the earlier span
        for place, length in lengths.items():
            per_coder = marked.get(place)
            if per_coder is None:
                unmarked += m * length  # every coder says "nothing wrong" of every character
            else:
                _unit_pairs(o, length, per_coder, m)
    o[(None, None)] += unmarked
    totals: dict[str | None, float] = defaultdict(float)
    for (c, _k), v in o.items():
        totals[c] += v
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(v for (c, k), v in o.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if expected == 0:
        return None
    return 1.0 - (n - 1) * observed / expected


def _unit_pairs(o: dict, length: int, marks: list[list[Key]], m: int) -> None:
    """Add one text's characters to the coincidence matrix ``o``: segment by segment between span bounds."""
    bounds = sorted({0, length, *(min(b, length) for ms in marks for k in ms for b in (k[3], k[4]))})
    covered = 0
    for lo, hi in pairwise(bounds):
        if hi <= lo:
            continue
        values = [_value_at(ms, lo) for ms in marks]
        if all(v is None for v in values):
            continue
        covered += hi - lo
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nk - (1 if c == k else 0))
                if pairs:
                    o[(c, k)] += pairs * (hi - lo) / (m - 1)
    o[(None, None)] += m * (length - covered)


def _value_at(spans: Sequence[Key], at: int) -> str | None:
    for k in spans:
        if k[3] <= at < k[4]:
            return k[5]
    return None


@dataclass
class Propagation:
    steps: int = 0
    over: int = 0

    @property
    def rate(self) -> float | None:
        return self.over / self.steps if self.steps else None


def over_propagation(pairs: Iterable[tuple[Judgment, Judgment]]) -> Propagation:
    """``pairs``: (human label, critic) per trace. Counts the steps after the human first error that the human
    rated (right, neutral, or wrong only because of an earlier step), and those of them the critic called wrong."""
    out = Propagation()
    for human, critic in pairs:
        first = human.first_error
        if first is None or first == NO_ERROR:
            continue
        for i in range(first + 1, len(human.steps)):
            label = human.steps[i]
            innocent = label.verdict in (0, 1) or (label.verdict == WRONG and label.because_of is not None)
            if not innocent:
                continue
            out.steps += 1
            theirs = critic.steps[i].verdict if i < len(critic.steps) else None
            if theirs == WRONG:
                out.over += 1
    return out
