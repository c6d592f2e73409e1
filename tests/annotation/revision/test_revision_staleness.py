"""Results made with a critique that changed since (edited, or withdrawn) are stale: shown as such, out of the
figures, labels and exports, and made again by the next run; the ``none`` baseline never labels a critique."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlmodel import select

from annotation.core.model import InvalidValue
from annotation.core.records import judgment_from_row
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import export_project
from annotation.exporting.usefulness import parse_usefulness
from annotation.judgments.visibility import ProjectView
from annotation.judgments.writing import ANY_VERSION, JudgmentWrite, record
from annotation.revision.report import load_results, report_for, with_usefulness
from annotation.revision.runs import RevisionPlan, run_revision
from annotation.revision.traces import trace_revisions, usefulness_note
from storage.db import session
from storage.tables import JudgmentRow, TraceRow
from tests.utils.critic_data import stub_critic
from tests.utils.openai_stub import OpenAIStub, by_problem
from tests.utils.revision_data import reviser_plan

ADMIN = ProjectView.admin()


def trace_id(engine, position: int) -> int:
    with session(engine) as s:
        return s.exec(select(TraceRow.id).where(TraceRow.position == position)).one()


def edit(engine, position: int, name: str, **changes) -> None:
    """alice (or another) changes her judgment of a trace, through the one write path (its version goes up)."""
    tid = trace_id(engine, position)
    with session(engine) as s:
        row = s.exec(select(JudgmentRow).where(JudgmentRow.trace_id == tid, JudgmentRow.source_name == name)).one()
        judgment = dataclasses.replace(judgment_from_row(row), **changes)
        record(s, [JudgmentWrite(tid, judgment, expected_version=ANY_VERSION, changed_by=name)])
        s.commit()


def revise(engine, stub, critiques="human:alice", show="full"):
    reviser = stub_critic(engine, stub.api_base, name="reviser")
    return run_revision(engine, RevisionPlan("revise", critiques, reviser, show=show, grader="exact"))


def alice(engine) -> dict:
    frame = load_results(engine, "revise", ADMIN)
    return report_for(frame, "human:alice", "full").as_dict()


def test_a_result_of_an_edited_critique_is_stale_until_revised_again(sqlite_engine, project):
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        revise(sqlite_engine, stub)
        assert (alice(sqlite_engine)["n"], alice(sqlite_engine)["stale"]) == (6, 0)
        # alice changes her mind on trace 1 (right): it is wrong at step 1, she now says.
        edit(sqlite_engine, 1, "alice", first_error=0, critique="The first step is already wrong.")
        frame = load_results(sqlite_engine, "revise", ADMIN)
        assert frame.loc[frame["position"] == 1, "stale"].tolist() == [True]
        d = alice(sqlite_engine)
        assert (d["n"], d["stale"], d["broken"]) == (5, 1, 0)  # trace 1 was broken by the old critique
        assert with_usefulness(frame).loc[frame["position"] == 1, "usefulness"].isna().all()
        shown = trace_revisions(sqlite_engine, trace_id(sqlite_engine, 1), _admin(), source="human:alice")
        assert [(r.stale, r.usefulness) for r in shown] == [(True, None)]
        note = usefulness_note(shown)
        assert "harmful" not in note and "revised before this critique was last changed (reviser, full)" in note
        # Kept out of exports: no label for the old critique attached to the new text.
        assert _kto_sources(sqlite_engine, trace_id(sqlite_engine, 1)) == []
        sent = stub.requests
        again = revise(sqlite_engine, stub)
        assert stub.requests == sent + 1 and again.done == 1 and again.skipped == 5  # only the edited one
    d = alice(sqlite_engine)
    assert (d["n"], d["stale"]) == (6, 0)
    assert _kto_sources(sqlite_engine, trace_id(sqlite_engine, 1)) == ["human:alice"]


def test_a_withdrawn_critique_no_longer_counts(sqlite_engine, project):
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        revise(sqlite_engine, stub)
        edit(sqlite_engine, 3, "alice", status="draft")  # taken back to work on
        d = alice(sqlite_engine)
        assert (d["n"], d["stale"], d["fixed"]) == (5, 1, 0)  # trace 3 was the one fixed
        again = revise(sqlite_engine, stub)
        assert again.total == 5  # not revised again: it is no critique now
    assert alice(sqlite_engine)["stale"] == 1


def test_a_critique_changed_in_what_the_reviser_did_not_read_is_brought_up_to_date_without_a_request(
    sqlite_engine, project
):
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        revise(sqlite_engine, stub, show="verdict")
        edit(sqlite_engine, 4, "alice", critique="Doubling is wrong, and so is the sum.")  # the verdict is the same
        frame = load_results(sqlite_engine, "revise", ADMIN)
        assert frame["stale"].sum() == 1
        sent = stub.requests
        again = revise(sqlite_engine, stub, show="verdict")
        assert stub.requests == sent and again.cached == 1  # the same request: its reply graded again
    assert not load_results(sqlite_engine, "revise", ADMIN)["stale"].any()


def test_the_baseline_without_a_critique_labels_no_critique(sqlite_engine, project):
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        revise(sqlite_engine, stub, show="none")
    frame = load_results(sqlite_engine, "revise", ADMIN)
    assert len(frame) == 6 and with_usefulness(frame)["usefulness"].isna().all()
    shown = trace_revisions(sqlite_engine, trace_id(sqlite_engine, 0), _admin(), source="human:alice")
    assert [(r.show, r.usefulness) for r in shown] == [("none", None)] and usefulness_note(shown) is None
    with pytest.raises(InvalidValue, match="show none revises without a critique"):
        parse_usefulness("reviser/none")
    assert parse_usefulness(" reviser / verdict / critic: judge ") == ("reviser", "verdict", "critic:judge")


def _admin():
    from annotation.accounts.users import Account

    return Account(username="root", role="admin")


def _kto_sources(engine, trace: int) -> list[str]:
    """The sources whose critique of ``trace`` a KTO export by usefulness labels."""
    from annotation.exporting.formats.stream import iter_items
    from annotation.exporting.usefulness import with_usefulness as export_labels

    with session(engine) as s:
        project_id = s.get(TraceRow, trace).project_id
    items = export_labels(engine, iter_items(engine, project_id, only_submitted=True), "reviser/full")
    return sorted(next(i.usefulness for i in items if i.trace_id == trace))


def test_kto_leaves_stale_critiques_out(sqlite_engine, project, tmp_path):
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        revise(sqlite_engine, stub, critiques="human:*")
    out = tmp_path / "kto.jsonl"
    export_project(sqlite_engine, "revise", "kto", out, ExportOptions(usefulness="reviser/full/exact"))
    before = [json.loads(line) for line in out.read_text().splitlines()]
    edit(sqlite_engine, 0, "bob", first_error=0)  # bob's critique of trace 0 changes: its label goes
    export_project(sqlite_engine, "revise", "kto", out, ExportOptions(usefulness="reviser/full/exact"))
    after = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(after) == len(before) - 1
