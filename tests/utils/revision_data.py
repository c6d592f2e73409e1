"""A small project for revision tests: six graded traces (three right, three wrong), one without a reference answer,
critiques from the reference, two people, a model and a consensus, and a reviser whose answers are planned."""

from __future__ import annotations

from sqlalchemy import Engine

from annotation.core.model import REFERENCE, Judgment, Source, StepLabel
from annotation.core.records import judgment_row, trace_row
from storage import queries
from storage.db import session
from storage.tables import utcnow
from tests.utils.critic_data import make_trace, register_stub_price, stub_critic
from tests.utils.openai_stub import OpenAIStub, by_problem

RIGHT = (0, 1, 2)  # traces whose own answer is right; 3, 4, 5 are wrong; 6 has no reference answer
N = 7


def problem(i: int) -> str:
    return make_trace(i).problem


# What the reviser answers for trace i: kept right, broken, kept right, fixed, still wrong, no final answer.
REVISED = {
    0: "0 + 0 = 0, doubled 0.\nFinal answer: \\boxed{0}",
    1: "1 + 1 = 3, doubled 6... Final answer: \\boxed{5}",
    2: "Final answer: \\boxed{8}",
    3: "Fixing step 2: 3 + 3 = 6, doubled 12.\nFinal answer: \\boxed{12}",
    4: "Final answer: \\boxed{17}",
    5: "I could not finish this one.",
    6: "Final answer: \\boxed{24}",
}


def reviser_plan() -> dict[str, str]:
    return {problem(i): REVISED[i] for i in range(N)}


def revise(engine: Engine, *critiques: str, project: str = "revise", **plan) -> None:
    """Revise ``project`` with each source's critiques, through a saved critic "reviser" on a stub answering as
    REVISED plans; ``plan``: the rest of each RevisionPlan (show, grader...)."""
    from annotation.revision.runs import RevisionPlan, run_revision

    register_stub_price()
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        reviser = stub_critic(engine, stub.api_base, name="reviser")
        for source in critiques:
            run_revision(engine, RevisionPlan(project=project, critiques=source, reviser=reviser, **plan))


def _judgment(source: Source, i: int, *, critique: str | None = None) -> Judgment:
    wrong = i not in RIGHT
    steps = [StepLabel(verdict=1, critique="Fine."), StepLabel(verdict=-1 if wrong else 1, critique=critique)]
    return Judgment(source, first_error=1 if wrong else -1, steps=steps if source.kind == "human" else [])


def make_revision_project(
    engine: Engine, name: str = "revise", *, blind: bool = False, qc: tuple[int, ...] = ()
) -> str:
    now = utcnow()
    with session(engine) as s:
        project = queries.create_project(s, name=name, blind=blind)
        traces = []
        for i in range(N):
            t = make_trace(i)
            t.answer = str(4 * i) if i in RIGHT else str(4 * i + 1)
            t.reference_answer = None if i == 6 else str(4 * i)
            t.metadata = {"subset": "even" if i % 2 == 0 else "odd"}
            traces.append(t)
        rows = [trace_row(t, project_id=project.id, position=i, key=t.key(), now=now) for i, t in enumerate(traces)]
        for i, row in enumerate(rows):
            row["qc"] = i in qc
        ids = queries.insert_traces(s, rows=rows)
        judgments: list[tuple[int, Judgment]] = []
        for i, trace_id in enumerate(ids):
            judgments.append((trace_id, _judgment(REFERENCE, i)))
            judgments.append((trace_id, _judgment(Source("human", "alice"), i, critique="Doubling is wrong.")))
            if i < 3:
                judgments.append((trace_id, _judgment(Source("human", "bob"), i)))
            model = _judgment(Source("model", "critic"), i)
            if i == 3:
                model.first_error = -1  # the model misses trace 3's error
            judgments.append((trace_id, model))
        queries.insert_judgments(s, rows=[judgment_row(j, trace_id=t, now=now) for t, j in judgments])
        s.commit()
    return name
