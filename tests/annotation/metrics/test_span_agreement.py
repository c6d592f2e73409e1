"""Span measures on cases small enough to count by hand, and alpha against the krippendorff package."""

import krippendorff
import numpy as np
import pytest

from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.spans import Span
from annotation.metrics.spans import char_alpha, over_propagation, span_agreement


def s(step, start, end, kind="X"):
    return Span(step, start, end, kind)


def test_exact_and_overlap_precision_recall_f1_by_hand():
    a = [s(0, 0, 5, "X"), s(0, 10, 15, "Y")]
    b = [s(0, 0, 5, "X"), s(0, 12, 20, "Y"), s(1, 0, 3, "X")]
    got = span_agreement([(a, b)])
    assert (got.exact.precision, got.exact.recall) == (pytest.approx(1 / 3), 0.5)
    assert got.exact.f1 == pytest.approx(0.4)
    assert (got.overlap.precision, got.overlap.recall, got.overlap.f1) == (
        pytest.approx(2 / 3),
        1.0,
        pytest.approx(0.8),
    )
    x = got.by_type["X"]
    assert (x["exact"].precision, x["exact"].recall) == (0.5, 1.0)
    y = got.by_type["Y"]
    assert (y["exact"].precision, y["exact"].recall, y["overlap"].f1) == (0.0, 0.0, 1.0)
    # Same offsets with another type, or on another part, do not match.
    other = span_agreement([([s(0, 0, 5, "X")], [s(0, 0, 5, "Y"), Span(0, 0, 5, "X", part=1)])])
    assert other.exact.f1 == 0.0 and other.overlap.f1 == 0.0


def test_nothing_to_compare_gives_no_figure():
    got = span_agreement([([], [])])
    assert got.traces == 1 and got.exact.precision is None and got.exact.f1 is None


def library_alpha(rows):
    return krippendorff.alpha(reliability_data=np.array(rows, dtype=float), level_of_measurement="nominal")


def test_char_alpha_by_hand_and_as_the_krippendorff_package_computes_it():
    lengths = {(0, 0, "text"): 10}
    # One coder marks the first five characters, the other nothing: o(X,none) = 5 both ways, o(none,none) = 10.
    one_sided = char_alpha([(lengths, {"a": [s(0, 0, 5)], "b": []})])
    assert one_sided == pytest.approx(1 - 19 * 10 / (5 * 15 * 2))
    assert one_sided == pytest.approx(library_alpha([[1] * 5 + [0] * 5, [0] * 10]))
    assert char_alpha([(lengths, {"a": [s(0, 0, 5)], "b": [s(0, 0, 5)]})]) == pytest.approx(1.0)


def test_char_alpha_with_three_coders_two_types_and_two_texts():
    lengths = {(0, 0, "text"): 8, (1, 0, "text"): 6}
    coders = {
        "a": [s(0, 0, 4, "X"), s(1, 2, 6, "Y")],
        "b": [s(0, 2, 6, "X"), s(1, 2, 4, "X")],
        "c": [s(0, 0, 4, "Y")],
    }
    codes = {None: 0, "X": 1, "Y": 2}

    def row(spans):
        out = []
        for step, length in ((0, 8), (1, 6)):
            for ch in range(length):
                hit = next((x.type for x in spans if x.step == step and x.start <= ch < x.end), None)
                out.append(codes[hit])
        return out

    expected = library_alpha([row(coders[c]) for c in "abc"])
    assert char_alpha([(lengths, coders)]) == pytest.approx(expected)


def test_a_trace_with_one_coder_does_not_count():
    assert char_alpha([({(0, 0, "text"): 5}, {"a": [s(0, 0, 2)]})]) is None


def test_over_propagation_counts_later_steps_the_critic_calls_wrong():
    human = Judgment(
        Source("human", "h"),
        first_error=1,
        steps=[StepLabel(1), StepLabel(-1), StepLabel(1), StepLabel(-1, because_of=1), StepLabel(-1)],
    )
    critic = Judgment(
        Source("model", "m"),
        first_error=1,
        steps=[StepLabel(1), StepLabel(-1), StepLabel(-1), StepLabel(-1), StepLabel(-1)],
    )
    got = over_propagation([(human, critic)])
    # Steps 3 and 4 (right; wrong only because of step 2) count; step 5 is an original error of its own.
    assert (got.steps, got.over, got.rate) == (2, 2, 1.0)


def test_the_project_wide_computation_gives_the_reference_figures():
    """annotation.metrics.span_frames against the plain implementation, on random spans (overlapping ones too)."""
    import random

    import pandas as pd

    from annotation.metrics import span_frames

    rng = random.Random(7)
    lengths, units, pairs, rows = {}, [], [], []
    for trace in range(60):
        n_steps = rng.randint(1, 3)
        places = {(step, 0, "text"): rng.randint(5, 40) for step in range(n_steps)}
        lengths[trace] = sum(places.values())
        coders = {}
        for coder in ("human:a", "human:b", "human:c")[: rng.randint(2, 3)]:
            spans = []
            for _ in range(rng.randint(0, 4)):
                step = rng.randrange(n_steps)
                start = rng.randrange(places[(step, 0, "text")] - 1)
                end = rng.randint(start + 1, places[(step, 0, "text")])
                spans.append(Span(step, start, end, rng.choice("XYZ")))
            coders[coder] = spans
            rows += [(trace, coder, span_frames.place_code(x.step, 0, "text"), x.start, x.end, x.type) for x in spans]
        units.append((places, coders))
        pairs.append((coders["human:a"], coders["human:b"]))
    frame = pd.DataFrame(rows, columns=span_frames.COLUMNS)
    frame["type"] = frame["type"].astype("category")
    both = pd.Series(range(60)).to_numpy()
    fast = span_frames.agreement(frame, "human:a", "human:b", both)
    slow = span_agreement(pairs)
    assert fast.as_dict() == slow.as_dict()
    coders = {t: list(c) for t, (_, c) in enumerate(units)}
    # The plain alpha reads a character once per person (the earliest span over it), as disjoint() does.
    assert span_frames.char_alpha(frame, coders, lengths) == pytest.approx(char_alpha(units))
