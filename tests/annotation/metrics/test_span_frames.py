"""The numpy span measures (span_frames) held to the plain ones (spans) on random projects: spans on steps,
parts and the answer, repeated and overlapping spans of one person, two to four people, texts long enough that
the sort falls back from one packed key to several."""

import random

import numpy as np
import pandas as pd
import pytest

from annotation.core.spans import Span
from annotation.metrics import span_frames
from annotation.metrics.spans import char_alpha, span_agreement

PEOPLE = ("human:a", "human:b", "human:c", "human:d")


def random_project(seed: int, long_texts: bool = False):
    rng = random.Random(seed)
    units, pairs, rows, lengths = [], [], [], {}
    for trace in range(rng.randint(1, 50)):
        trace_id = (trace + 1) << 40 if long_texts else trace  # too wide to pack with the place and type
        places = {}
        for step in range(rng.randint(1, 3)):
            for part in range(rng.randint(1, 2)):
                places[(step, part, "text" if part == 0 else "arguments")] = rng.randint(2, 40)
        if rng.random() < 0.3:
            places[(None, 0, "answer")] = rng.randint(2, 20)
        if long_texts:
            places = {p: n * 100_000_000 for p, n in places.items()}
        lengths[trace_id] = sum(places.values())
        coders = {}
        for person in PEOPLE[: rng.randint(2, 4)]:
            spans = []
            for _ in range(rng.randint(0, 5)):
                place = rng.choice(list(places))
                start = rng.randrange(places[place] - 1)
                end = rng.randint(start + 1, places[place])
                spans.append(Span(place[0], start, end, rng.choice("XYZW"), part=place[1], field=place[2]))
            if spans and rng.random() < 0.2:
                spans.append(spans[0])  # the same span twice
            coders[person] = spans
            rows += [(trace_id, person, span_frames.place_code(x.step, x.part, x.field), x.start, x.end, x.type)
                     for x in spans]  # fmt: skip
        units.append((trace_id, places, coders))
        pairs.append((coders["human:a"], coders["human:b"]))
    frame = pd.DataFrame(rows, columns=span_frames.COLUMNS).astype({"source": "category", "type": "category"})
    return frame, units, pairs, lengths


@pytest.mark.parametrize("seed", range(12))
def test_agreement_and_alpha_as_the_plain_implementation(seed):
    frame, units, pairs, lengths = random_project(seed)
    traces = np.array([t for t, _, _ in units], dtype=np.int64)
    assert span_frames.agreement(frame, "human:a", "human:b", traces).as_dict() == span_agreement(pairs).as_dict()
    coders = {t: list(c) for t, _, c in units}
    expected = char_alpha([(places, c) for _, places, c in units])
    got = span_frames.char_alpha(frame, coders, lengths)
    assert (got is None) == (expected is None)
    assert got == pytest.approx(expected)


def test_huge_ids_and_offsets_sort_by_several_keys_and_give_the_same_figures():
    frame, units, pairs, lengths = random_project(3, long_texts=True)
    traces = np.array([t for t, _, _ in units], dtype=np.int64)
    assert span_frames.agreement(frame, "human:a", "human:b", traces).as_dict() == span_agreement(pairs).as_dict()
    expected = char_alpha([(places, c) for _, places, c in units])
    assert span_frames.char_alpha(frame, {t: list(c) for t, _, c in units}, lengths) == pytest.approx(expected)


def test_plain_string_columns_give_the_same_figures_as_categories():
    frame, units, pairs, _ = random_project(5)
    plain = frame.astype({"source": object, "type": object})
    traces = np.array([t for t, _, _ in units], dtype=np.int64)
    assert span_frames.agreement(plain, "human:a", "human:b", traces).as_dict() == span_agreement(pairs).as_dict()


def test_nothing_to_measure():
    empty = pd.DataFrame(columns=span_frames.COLUMNS)
    assert span_frames.agreement(empty, "human:a", "human:b", np.array([1, 2])).as_dict()["traces"] == 2
    assert span_frames.char_alpha(empty, {1: ["human:a"]}, {1: 5}) is None
