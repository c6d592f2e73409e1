"""A demo project written for Redline: short math and logic traces, some with a wrong step.

The traces are built from templates with the numbers worked out in code, so every "wrong"
step is wrong on purpose and every reference label is right.
"""

from __future__ import annotations

from sqlalchemy import Engine

from annotation.core.model import NO_ERROR, REFERENCE, Judgment, Trace
from annotation.importing.files import ImportSummary, ParsedFile, write_parsed
from annotation.importing.formats.base import ImportedRecord
from storage import queries
from storage.db import session as open_session

DEMO_PROJECT = "Demo: arithmetic and logic"
DEMO_GUIDELINES = """\
# Guidelines

Read the problem, then each step in order.

* Mark a step **correct** when it is true and follows from what came before.
* Mark it **wrong** at the *first* step that makes a mistake: an arithmetic slip, a misread
  condition, a false claim, or a conclusion that does not follow.
* Steps after the first wrong one need no rating in *first error* mode.
* If every step is right, choose **solution correct**.
"""
DEMO_TAXONOMY = ["arithmetic", "misread problem", "logic", "unjustified claim", "incomplete"]


def _shopping(i: int) -> tuple[Trace, int]:
    apples, price, paid = 3 + i % 5, 2 + i % 4, 50
    cost = apples * price
    wrong = i % 3 == 0
    shown = cost + (price if wrong else 0)
    steps = [
        f"Each apple costs {price} dollars and Mia buys {apples} apples.",
        f"The apples cost {apples} x {price} = {shown} dollars.",
        f"She pays with {paid} dollars, so her change is {paid} - {shown} = {paid - shown} dollars.",
        f"The answer is {paid - shown}.",
    ]
    problem = (
        f"Mia buys {apples} apples at {price} dollars each and pays with a 50-dollar note. "
        "How much change does she get?"
    )
    return Trace(
        problem,
        steps,
        answer=str(paid - shown),
        reference_answer=str(paid - cost),
        generator="demo-writer",
        record_id=f"shopping-{i}",
        metadata={"task": "arithmetic"},
    ), (1 if wrong else NO_ERROR)


def _speed(i: int) -> tuple[Trace, int]:
    km, hours = 60 + 15 * (i % 4), 2 + i % 3
    speed = km / hours
    wrong = i % 3 == 1
    steps = [
        f"The train covers {km} km in {hours} hours.",
        "Average speed is distance divided by time.",
        f"So the speed is {km} x {hours} = {km * hours} km/h."
        if wrong
        else f"So the speed is {km} / {hours} = {speed:.4g} km/h.",
    ]
    answer = f"{km * hours}" if wrong else f"{speed:.4g}"
    steps.append(f"The answer is {answer} km/h.")
    problem = f"A train travels {km} km in {hours} hours at a steady pace. What is its average speed?"
    return Trace(
        problem,
        steps,
        answer=answer,
        reference_answer=f"{speed:.4g}",
        generator="demo-writer",
        record_id=f"speed-{i}",
        metadata={"task": "arithmetic"},
    ), (2 if wrong else NO_ERROR)


def _order(i: int) -> tuple[Trace, int]:
    names = [("Ana", "Ben", "Cy"), ("Dee", "Eli", "Fay"), ("Gus", "Hal", "Ivy"), ("Jo", "Kai", "Lu")][i % 4]
    a, b, c = names
    wrong = i % 3 == 2
    steps = [
        f"{a} is taller than {b}.",
        f"{b} is taller than {c}.",
        f"Taller-than is transitive, so {a} is taller than {c}."
        if not wrong
        else f"Since {b} is in the middle, {c} must be taller than {a}.",
        f"So the tallest is {a}." if not wrong else f"So the tallest is {c}.",
    ]
    problem = f"{a} is taller than {b}, and {b} is taller than {c}. Who is the tallest?"
    return Trace(
        problem,
        steps,
        answer=c if wrong else a,
        reference_answer=a,
        generator="demo-writer",
        record_id=f"order-{i}",
        metadata={"task": "logic"},
    ), (2 if wrong else NO_ERROR)


def _parity(i: int) -> tuple[Trace, int]:
    n = 11 + 2 * i
    wrong = i % 4 == 3
    steps = [
        f"We want to know whether {n}^2 + {n} is even.",
        f"{n}^2 + {n} = {n} x ({n} + 1) = {n} x {n + 1}.",
        f"One of two consecutive integers is even, so the product {n} x {n + 1} is even."
        if not wrong
        else f"Both {n} and {n + 1} are odd, so the product is odd.",
        "So the number is even." if not wrong else "So the number is odd.",
    ]
    problem = f"Is {n}^2 + {n} even or odd?"
    return Trace(
        problem,
        steps,
        answer="odd" if wrong else "even",
        reference_answer="even",
        generator="demo-writer",
        record_id=f"parity-{i}",
        metadata={"task": "logic"},
    ), (2 if wrong else NO_ERROR)


def demo_records() -> list[ImportedRecord]:
    records = []
    makers = (_shopping, _speed, _order, _parity)
    for i in range(9):
        for maker in makers:
            trace, first_error = maker(i)
            trace.source_file = "demo"
            trace.metadata["subset"] = trace.metadata["task"]
            judgment = Judgment(REFERENCE, first_error=first_error, solution_correct=first_error == NO_ERROR)
            records.append(ImportedRecord(trace, [judgment], len(records) + 1, None))
    return records


def load_demo_if_empty(engine: Engine) -> ImportSummary | None:
    """Load the demo project into a database that has no project yet."""
    with open_session(engine) as s, s.begin():
        if queries.list_projects(s):
            return None
        queries.create_project(
            s,
            name=DEMO_PROJECT,
            description="A few dozen short traces to try Redline on.",
            guidelines=DEMO_GUIDELINES,
            taxonomy=DEMO_TAXONOMY,
        )
    parsed = ParsedFile(file="demo", format="demo", records=demo_records())
    return write_parsed(engine, parsed, project=DEMO_PROJECT)
