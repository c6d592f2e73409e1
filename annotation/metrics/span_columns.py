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


def span_frame(trace_ids: Sequence[int], sources: Sequence[str], texts: Sequence[str | None]) -> pd.DataFrame:
    """Every span of the judgments (``trace_ids[i]``, ``sources[i]``, spans as stored JSON ``texts[i]``) as a row of
    span_frames.COLUMNS. A span the stored JSON gets wrong raises InvalidValue naming its judgment and field."""
    if not texts:
        return pd.DataFrame(columns=COLUMNS)
    lines = ['{"s":' + ("null" if t is None else t) + "}" for t in texts]
    longest = max(map(len, lines))
    data = "\n".join(lines).encode()
    try:
        table = pj.read_json(
            io.BytesIO(data),
            # A block must hold a whole line: one judgment's spans may outgrow the default.
            read_options=pj.ReadOptions(block_size=max(MIN_BLOCK, 4 * longest + 16)),
            parse_options=pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore"),
        )
    except pa.ArrowInvalid as e:
        _name_the_bad_one(trace_ids, sources, texts)
        raise InvalidValue("spans", f"stored spans could not be read: {e}") from e
    if table.num_rows != len(texts):
        raise InvalidValue("spans", f"read {table.num_rows} lists of spans from {len(texts)} judgments")
    lists = table.column("s").combine_chunks()
    counts = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    spans = lists.flatten()
    for name in ("start", "end", "type"):
        if spans.field(name).null_count:
            _name_the_bad_one(trace_ids, sources, texts)
            raise InvalidValue(f"spans.{name}", "a stored span has none")
    step = pc.fill_null(spans.field("step"), -1).to_numpy()
    part = pc.fill_null(spans.field("part"), 0).to_numpy()
    field = pc.fill_null(spans.field("field"), "text").dictionary_encode()
    field_code = np.array([FIELD_CODES.get(f, 0) for f in field.dictionary.to_pylist()], dtype=np.int64)
    types = spans.field("type").dictionary_encode()
    source_codes, source_names = pd.factorize(pd.Series(sources, dtype=object))
    return pd.DataFrame(
        {
            "trace": np.repeat(np.asarray(trace_ids, dtype=np.int64), counts),
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
