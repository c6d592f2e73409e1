"""Stored spans read straight into columns: a project's judgments hold a million spans as JSON text, and decoding
them into Python dicts (then picking fields one by one) was most of the span measures' time. pyarrow's JSON
reader parses all of them in C++ into typed columns instead, with no Python object per span.

Each judgment's spans (a JSON list, or SQL NULL / JSON null for none) becomes one line ``{"s": [...]}`` of
newline-delimited JSON; the stored JSON never holds a raw newline (JSON escapes those inside strings, and
neither SQLAlchemy's serializer nor PostgreSQL's jsonb output put any between values), so lines are judgments.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from annotation.core.json_columns import decode
from annotation.core.model import InvalidValue
from annotation.core.spans import spans_from_data
from annotation.metrics.span_frames import COLUMNS, FIELD_CODES

# The fields the measures read; others (note, by, group) are skipped by the reader.
SCHEMA = pa.schema(
    [
        pa.field(
            "s",
            pa.list_(
                pa.struct(
                    [
                        ("step", pa.int64()),
                        ("part", pa.int64()),
                        ("field", pa.string()),
                        ("start", pa.int64()),
                        ("end", pa.int64()),
                        ("type", pa.string()),
                    ]
                )
            ),
        )
    ]
)
MIN_BLOCK = 1 << 20
# Judgments per chunk handed to the parser: enough to keep it busy, few enough that parsing one overlaps
# fetching the next.
CHUNK = 20_000


def span_frame(trace_ids: Sequence[int], sources: Sequence[str], texts: Sequence[str | None]) -> pd.DataFrame:
    """Every span of the judgments (``trace_ids[i]``, ``sources[i]``, spans as stored JSON ``texts[i]``) as a row of
    span_frames.COLUMNS. A span the stored JSON gets wrong raises InvalidValue naming its judgment and field."""
    with SpanParser() as parser:
        parser.add(texts)
        return parser.frame(trace_ids, sources)


class SpanParser:
    """Parses stored spans in a worker thread (pyarrow lets go of the GIL while it parses), chunk by chunk as they
    are added, so that the caller fetches the next chunk from the database meanwhile."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="span-parser")
        self._jobs: list[Future[pa.ListArray]] = []
        self._texts: list[str | None] = []

    def __enter__(self) -> SpanParser:
        return self

    def __exit__(self, *_: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, texts: Sequence[str | None]) -> None:
        if texts:
            self._texts.extend(texts)
            self._jobs.append(self._pool.submit(_parse, list(texts)))

    def frame(self, trace_ids: Sequence[int], sources: Sequence[str], keep: np.ndarray | None = None) -> pd.DataFrame:
        """The spans of every judgment added (in order, ``trace_ids`` and ``sources`` naming them), or of those
        where ``keep`` holds, as span_frames.COLUMNS."""
        try:
            parts = [job.result() for job in self._jobs]
        except pa.ArrowInvalid as e:
            _name_the_bad_one(trace_ids, sources, self._texts)
            raise InvalidValue("spans", f"stored spans could not be read: {e}") from e
        if not parts:
            return pd.DataFrame(columns=COLUMNS)
        lists = pa.concat_arrays(parts)
        spans = lists.flatten()
        if spans.null_count or any(spans.field(name).null_count for name in ("start", "end", "type")):
            _name_the_bad_one(trace_ids, sources, self._texts)
            raise InvalidValue("spans", "a stored span lacks its start, end or type")
        ids, names = np.asarray(trace_ids, dtype=np.int64), np.asarray(sources, dtype=object)
        if keep is not None and not keep.all():
            lists, ids, names = lists.filter(pa.array(keep)), ids[keep], names[keep]
        return _columns(lists, ids, names)


def _parse(texts: list[str | None]) -> pa.ListArray:
    """One chunk of stored spans, a JSON list (or none) per judgment, as a list array."""
    lines = ['{"s":' + ("null" if t is None else t) + "}" for t in texts]
    longest = max(map(len, lines))
    table = pj.read_json(
        io.BytesIO("\n".join(lines).encode()),
        # A block must hold a whole line: one judgment's spans may outgrow the default.
        read_options=pj.ReadOptions(block_size=max(MIN_BLOCK, 4 * longest + 16)),
        parse_options=pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore"),
    )
    if table.num_rows != len(texts):
        raise InvalidValue("spans", f"read {table.num_rows} lists of spans from {len(texts)} judgments")
    return table.column("s").combine_chunks()


def _columns(lists: pa.ListArray, trace_ids: np.ndarray, sources: np.ndarray) -> pd.DataFrame:
    counts = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    spans = lists.flatten()
    step = pc.fill_null(spans.field("step"), -1).to_numpy()
    part = pc.fill_null(spans.field("part"), 0).to_numpy()
    field = pc.fill_null(spans.field("field"), "text").dictionary_encode()
    field_code = np.array([FIELD_CODES.get(f, 0) for f in field.dictionary.to_pylist()], dtype=np.int64)
    types = spans.field("type").dictionary_encode()
    source_codes, source_names = pd.factorize(sources)
    return pd.DataFrame(
        {
            "trace": np.repeat(trace_ids, counts),
            "source": pd.Categorical.from_codes(np.repeat(source_codes, counts), categories=source_names),
            "place": (step + 1) * 1_000_000 + part * 4 + field_code[field.indices.to_numpy()],
            "start": spans.field("start").to_numpy(),
            "end": spans.field("end").to_numpy(),
            "type": pd.Categorical.from_codes(
                types.indices.to_numpy().astype(np.int64), categories=types.dictionary.to_pylist()
            ),
        },
        columns=COLUMNS,
    )


def _name_the_bad_one(trace_ids: Sequence[int], sources: Sequence[str], texts: Sequence[str | None]) -> None:
    """Read each judgment's spans as the app checks them, so that the error names the judgment and the field."""
    for trace_id, source, text in zip(trace_ids, sources, texts, strict=True):
        try:
            spans_from_data(decode(text))
        except (InvalidValue, ValueError) as e:
            where = getattr(e, "field", "spans")
            raise InvalidValue(f"judgment of trace {trace_id} by {source}: {where}", str(e)) from e
