"""What the figures are made of: error tags for the breakdown."""

from __future__ import annotations

from sqlmodel import select

from annotation.judgments.visibility import ProjectView
from annotation.revision.report import load_results, report_for
from annotation.revision.runs import RevisionPlan, run_revision
from storage.db import session
from storage.tables import JudgmentRow
from tests.utils.critic_data import stub_critic
from tests.utils.openai_stub import OpenAIStub, by_problem
from tests.utils.revision_data import reviser_plan


def _tag(engine, position: int, kind: str, name: str, tags: list[str]) -> None:
    with session(engine) as s:
        rows = s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == kind, JudgmentRow.source_name == name))
        row = sorted(rows, key=lambda r: r.trace_id)[position]
        steps = [dict(step) for step in row.steps] or [{}, {}]
        steps[row.first_error] = {**steps[row.first_error], "tags": tags}
        row.steps = steps
        s.add(row)
        s.commit()


def test_the_error_tag_is_the_references_else_the_critiques_own(sqlite_engine, project):
    _tag(sqlite_engine, 3, "reference", "", ["arithmetic"])
    _tag(sqlite_engine, 3, "human", "alice", ["logic"])  # the reference's tag wins
    _tag(sqlite_engine, 4, "human", "alice", ["misread", "arithmetic"])
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        reviser = stub_critic(sqlite_engine, stub.api_base, name="reviser")
        run_revision(sqlite_engine, RevisionPlan("revise", "human:alice", reviser, grader="exact"))
    frame = load_results(sqlite_engine, "revise", ProjectView.admin())
    assert frame["error tag"].fillna("").tolist() == ["", "", "", "arithmetic", "arithmetic, misread", ""]
    by_tag = report_for(frame, "human:alice", "full").breakdowns["error tag"]
    assert by_tag.set_index("error tag")["n"].to_dict() == {"(none)": 4, "arithmetic": 1, "arithmetic, misread": 1}


def test_traces_without_a_reference_answer_are_counted_once_whoever_judged_them(sqlite_engine, project):
    from annotation.core.model import Judgment, Source
    from annotation.core.records import judgment_row
    from annotation.revision.store import select_items
    from storage import queries
    from storage.tables import TraceRow, utcnow

    with session(sqlite_engine) as s:
        no_reference = s.exec(select(TraceRow.id).where(TraceRow.reference_answer.is_(None))).one()
        bob = Judgment(Source("human", "bob"), first_error=-1)
        queries.insert_judgments(s, rows=[judgment_row(bob, trace_id=no_reference, now=utcnow())])
        s.commit()
    _, items, missing = select_items(sqlite_engine, "revise", "human:*", "full", "hash")
    assert missing == 1 and len(items) == 9  # alice's and bob's judgments of the trace: one trace left out


def test_results_are_read_one_configuration_at_a_time_the_last_written_first():
    import pandas as pd

    from annotation.revision.report import configurations, of_configuration

    frame = pd.DataFrame(
        {
            "reviser": ["r", "r", "r", "q"],
            "reviser_hash": ["h1", "h2", "h1", "h1"],
            "grader": ["math-verify", "math-verify", "exact", "math-verify"],
            "updated_at": ["2026-01-01", "2026-01-03", "2026-01-02", "2026-01-01"],
        }
    )
    assert configurations(frame) == [
        ("r", "h2", "math-verify"),
        ("r", "h1", "exact"),
        ("r", "h1", "math-verify"),
        ("q", "h1", "math-verify"),
    ]
    assert of_configuration(frame, ("r", "h1", "math-verify")).index.tolist() == [0]
