"""A small labelled project for export tests: references, two humans who sometimes disagree, a consensus,
a critic's critiques (right, wrong and unreadable), a correction, a draft and a give-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from annotation.core.model import NO_ERROR, Judgment, Source, StepLabel, Trace
from annotation.core.records import judgment_row, trace_row
from storage import queries
from storage.db import session as open_session

PROJECT = "Labelled"
LICENCE = "CC-BY-4.0"
N_TRACES = 12
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def trace(i: int) -> Trace:
    # Two generators solve each problem, so a split by problem has pairs of traces to keep together.
    problem = f"Problem {i // 2}: what is {i // 2} + {i // 2} <b>?</b>"
    return Trace(
        problem=problem,
        steps=[f"Step {k} of trace {i}." for k in range(4)],
        answer=str(i),
        reference_answer=str(i // 2 * 2),
        generator="gen-a" if i % 2 == 0 else "gen-b",
        record_id=f"t-{i}",
        metadata={"task": "even" if i % 4 < 2 else "odd", "bucket": i % 3},
    )


def reference_first_error(i: int) -> int:
    return NO_ERROR if i % 3 == 0 else i % 4


def human(name: str, first_error: int, *, status: str = "submitted", finish: str | None = None) -> Judgment:
    steps = []
    stop = 4 if first_error == NO_ERROR else first_error + 1
    for k in range(stop):
        wrong = k == first_error
        steps.append(
            StepLabel(
                verdict=-1 if wrong else 1,
                critique=f"{name} says step {k} is {'wrong: 2+2 is not 5' if wrong else 'fine'}",
                tags=["arithmetic"] if wrong else [],
            )
        )
    return Judgment(Source("human", name), first_error=first_error, steps=steps, status=status, finish_reason=finish)


def judgments_for(i: int) -> list[tuple[Judgment, dict[str, Any]]]:
    """Each judgment with row overrides (updated_at, extra step keys)."""
    ref = reference_first_error(i)
    found: list[tuple[Judgment, dict[str, Any]]] = [(Judgment(Source("reference"), first_error=ref), {})]
    if i < 6:
        alice = ref
        bob = ref if i % 2 == 0 else (NO_ERROR if ref != NO_ERROR else 2)
        found.append((human("alice", alice), {"updated_at": T0 + timedelta(hours=i)}))
        found.append((human("bob", bob), {"updated_at": T0 + timedelta(hours=i, minutes=30)}))
    if i == 0:
        found.append((Judgment(Source("consensus"), first_error=ref), {}))
    if i == 6:
        found.append((human("carol", 1, finish="give_up"), {}))
    if i == 7:
        found.append((human("dave", 2, status="draft"), {}))
    critic_first = ref if i % 2 == 0 else (1 if ref != 1 else NO_ERROR)
    if i == 11:
        critic_first = None
    found.append(
        (
            Judgment(
                Source("model", "critic"),
                first_error=critic_first,
                critique=f"The critic read trace {i}. \\boxed{{{critic_first}}}",
            ),
            {},
        )
    )
    return found


CORRECTED_TRACE = 1
CORRECTION = "Step 1 done right: 1 + 1 = 2."


def build(engine: Engine, name: str = PROJECT, licence: str = LICENCE) -> int:
    """Write the project; returns its id."""
    now = T0
    with open_session(engine) as s, s.begin():
        project = queries.create_project(s, name=name, licence=licence)
        rows = [trace_row(trace(i), project_id=project.id, position=i, key=f"k{i}", now=now) for i in range(N_TRACES)]
        ids = queries.insert_traces(s, rows=rows)
        judgment_rows = []
        for i, trace_id in enumerate(ids):
            for judgment, overrides in judgments_for(i):
                row = judgment_row(judgment, trace_id=trace_id, now=now) | overrides
                if i == CORRECTED_TRACE and str(judgment.source) == "human:alice":
                    row["steps"][judgment.first_error]["correction"] = CORRECTION
                judgment_rows.append(row)
        queries.insert_judgments(s, rows=judgment_rows)
        return project.id


def read_jsonl(path) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
