"""Stored spans read into columns as the measures need them, and bad stored spans named."""

import json

import pytest

from annotation.core.model import InvalidValue
from annotation.core.spans import Span
from annotation.metrics.span_columns import span_frame
from annotation.metrics.span_frames import place_code


def stored(*spans: Span) -> str:
    return json.dumps([s.as_dict() for s in spans])


def test_every_field_a_measure_reads_with_its_default():
    texts = [
        stored(Span(0, 1, 4, "X"), Span(None, 0, 2, "Y", field="answer")),
        None,
        "null",
        "[]",
        # Written before part and field were stored: text of the first part, as Span.from_dict reads it.
        json.dumps([{"step": 2, "start": 5, "end": 9, "type": "X", "note": "é\\n", "by": "x", "group": "g"}]),
        stored(Span(1, 0, 3, "Z", part=2, field="arguments")),
    ]
    sources = ["human:a", "human:b", "human:a", "human:a", "human:b", "human:a"]
    frame = span_frame([10, 11, 12, 13, 14, 15], sources, texts)
    got = [(t, str(s), p, a, b, str(k)) for t, s, p, a, b, k in frame.itertuples(index=False)]
    assert got == [
        (10, "human:a", place_code(0, 0, "text"), 1, 4, "X"),
        (10, "human:a", place_code(None, 0, "answer"), 0, 2, "Y"),
        (14, "human:b", place_code(2, 0, "text"), 5, 9, "X"),
        (15, "human:a", place_code(1, 2, "arguments"), 0, 3, "Z"),
    ]


def test_one_judgment_with_spans_longer_than_a_read_block():
    many = [Span(0, k, k + 1, "X", note="n" * 100) for k in range(20_000)]
    frame = span_frame([1, 2], ["human:a", "human:b"], [stored(*many), stored(Span(0, 0, 1, "Y"))])
    assert len(frame) == 20_001 and frame["end"].iloc[-2] == 20_000


def test_nothing_to_read():
    assert span_frame([], [], []).empty


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ('[{"step": 0, "start": "3", "end": 5, "type": "X"}]', "spans[0].start"),
        ('[{"step": 0, "start": 3, "type": "X"}]', "spans[0].end"),
        ('[{"step": 0, "start": 3, "end": 5}]', "spans[0].type"),
        ('[{"step": 0, "start": 3, "end": 5, "type": "X"}, null]', "spans[1]"),
    ],
)
def test_a_bad_stored_span_is_named_by_its_judgment_and_field(bad, field):
    with pytest.raises(InvalidValue) as caught:
        span_frame([1, 7], ["human:a", "human:b"], [stored(Span(0, 0, 1, "X")), bad])
    assert caught.value.field == f"judgment of trace 7 by human:b: {field}"


def test_chunks_read_apart_and_judgments_left_out_give_the_frame_of_the_rest():
    import numpy as np

    from annotation.metrics.span_columns import SpanParser

    texts = [stored(*(Span(k % 3, k, k + 2, "XYZ"[k % 3]) for k in range(i % 4))) if i % 5 else None for i in range(40)]
    ids, sources = list(range(40)), ["human:a" if i % 2 else "human:b" for i in range(40)]
    keep = np.array([i % 3 != 0 for i in range(40)])
    with SpanParser() as parser:
        for k in range(0, 40, 7):
            parser.add(texts[k : k + 7])
        chunked = parser.frame(ids, sources, keep)
    kept = [k for k in range(40) if keep[k]]
    whole = span_frame([ids[k] for k in kept], [sources[k] for k in kept], [texts[k] for k in kept])
    assert chunked.astype(str).values.tolist() == whole.astype(str).values.tolist() and len(whole) > 10
