"""Judgments for the measures' tests, built in memory: no database needed to check arithmetic."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from annotation.metrics.pairs import UNJUDGED, ProjectJudgments, from_rows


def row(
    trace_id: int,
    source: str,
    first_error: int | None,
    *,
    solution_correct: bool | None = None,
    status: str = "submitted",
    unparsed: bool | None = None,
    steps: list[dict] | None = None,
) -> tuple:
    """A row as the loading query returns it (unusable answers folded into UNJUDGED, as in SQL)."""
    kind, _, _name = source.partition(":")
    unusable = first_error is None or status == "failed" or bool(unparsed)
    correct = -1 if solution_correct is None else int(solution_correct)
    labels = [{"verdict": None, "critique": None, "tags": [], **step} for step in steps or []]
    return (trace_id, kind, source, UNJUDGED if unusable else first_error, correct, json.dumps(labels))


def traces(n: int, n_steps: int | Sequence[int] = 4, generators: Sequence[str] | None = None) -> pd.DataFrame:
    steps = [n_steps] * n if isinstance(n_steps, int) else list(n_steps)
    return pd.DataFrame(
        {
            "trace_id": range(1, n + 1),
            "position": range(n),
            "n_steps": steps,
            "generator": list(generators) if generators else ["gen"] * n,
            "subset": ["s"] * n,
            "record_id": [f"r-{i}" for i in range(1, n + 1)],
        }
    ).set_index("trace_id")


def two_sources(a: Sequence[int | None], b: Sequence[int | None], n_steps: int = 4, **kw) -> ProjectJudgments:
    """``model:m`` says ``a``, ``reference`` says ``b``, trace by trace (None: unparsed for A, absent for B)."""
    rows = [row(i + 1, "model:m", fe, unparsed=True if fe is None else None) for i, fe in enumerate(a)]
    rows += [row(i + 1, "reference", fe) for i, fe in enumerate(b) if fe is not None]
    return from_rows("p", traces(len(a), n_steps, **kw), rows)
