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


def _place(span: Span) -> Place:
    return (span.step, span.part, span.field)


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


def _overlaps(x: Span, others: Sequence[Span]) -> bool:
    return any(_place(o) == _place(x) and o.type == x.type and o.start < x.end and x.start < o.end for o in others)


def _exact_key(s: Span) -> tuple:
    return (*_place(s), s.start, s.end, s.type)


def _count(prf: PRF, a: Sequence[Span], b: Sequence[Span], exact: bool) -> None:
    if exact:
        keys_a, keys_b = Counter(map(_exact_key, a)), Counter(map(_exact_key, b))
        common = sum((keys_a & keys_b).values())
        prf.matched_a += common
        prf.matched_b += common
    else:
        prf.matched_a += sum(_overlaps(x, b) for x in a)
        prf.matched_b += sum(_overlaps(x, a) for x in b)
    prf.n_a += len(a)
    prf.n_b += len(b)


def span_agreement(pairs: Iterable[tuple[Sequence[Span], Sequence[Span]]]) -> SpanAgreement:
    """``pairs``: for each trace both sources judged, (A's spans, B's spans)."""
    out = SpanAgreement()
    for a, b in pairs:
        out.traces += 1
        _count(out.exact, a, b, exact=True)
        _count(out.overlap, a, b, exact=False)
        for kind in {s.type for s in (*a, *b)}:
            per = out.by_type.setdefault(kind, {"exact": PRF(), "overlap": PRF()})
            ta, tb = [s for s in a if s.type == kind], [s for s in b if s.type == kind]
            _count(per["exact"], ta, tb, exact=True)
            _count(per["overlap"], ta, tb, exact=False)
    return out


def char_alpha(units: Iterable[tuple[Mapping[Place, int], Mapping[str, Sequence[Span]]]]) -> float | None:
    """Character-level nominal Krippendorff's alpha. ``units``: for each trace, the length of each of its texts
    by place, and each coder's spans on it (coders who judged the trace; two or more make it count)."""
    o: dict[tuple[str | None, str | None], float] = defaultdict(float)
    for lengths, by_coder in units:
        coders = list(by_coder)
        m = len(coders)
        if m < 2:
            continue
        for place, length in lengths.items():
            _unit_pairs(o, place, length, [by_coder[c] for c in coders], m)
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


def _unit_pairs(o: dict, place: Place, length: int, spans_by_coder: list[Sequence[Span]], m: int) -> None:
    """Add one text's characters to the coincidence matrix ``o``: segment by segment between span bounds."""
    marks = []
    for spans in spans_by_coder:
        mine = sorted((s for s in spans if _place(s) == place and s.start < length), key=lambda s: s.start)
        marks.append(mine)
    bounds = sorted({0, length, *(min(b, length) for ms in marks for s in ms for b in (s.start, s.end))})
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


def _value_at(spans: Sequence[Span], at: int) -> str | None:
    for s in spans:
        if s.start <= at < s.end:
            return s.type
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
