"""Revision results follow the one visibility rule: graded against the reference answer, they are shown only where
the reference fields are (not on a blind project or a quality-control trace, to anyone but admins)."""

from __future__ import annotations

import pytest

from annotation.accounts.users import Account, create_user, set_members
from annotation.judgments.visibility import project_view
from annotation.revision.report import load_results
from annotation.revision.traces import trace_revisions
from storage.db import session
from storage.tables import TraceRow
from tests.utils.revision_data import make_revision_project, revise

ADMIN = Account(username="root", role="admin")
ALICE = Account(username="alice", role="annotator")
CAROL = Account(username="carol", role="annotator")


def revised(engine, name: str) -> None:
    revise(engine, "reference", "human:*", "model:critic", project=name)
    for user in ("alice", "carol"):
        create_user(engine, username=user, password="a-long-password", role="annotator")
    set_members(engine, project=name, usernames=["alice"])


def first_trace(engine) -> int:
    with session(engine) as s:
        return s.get(TraceRow, 1).id


@pytest.mark.parametrize("blind", [False, True])
def test_what_an_annotator_sees(sqlite_engine, blind):
    make_revision_project(sqlite_engine, blind=blind, qc=(0,))
    revised(sqlite_engine, "revise")
    everything = load_results(sqlite_engine, "revise", project_view(sqlite_engine, ADMIN, "revise"))
    mine = load_results(sqlite_engine, "revise", project_view(sqlite_engine, ALICE, "revise"))
    assert len(everything) == 6 + 9 + 6
    if blind:
        assert mine.empty
    else:
        # Everything but the quality-control trace (position 0).
        assert len(mine) == len(everything) - 4 and 0 not in set(mine["position"])
        assert set(mine["critique_source"]) == {"reference", "human:alice", "human:bob", "model:critic"}


def test_a_traces_results_for_its_history(sqlite_engine):
    make_revision_project(sqlite_engine)
    revised(sqlite_engine, "revise")
    trace = first_trace(sqlite_engine)
    shown = trace_revisions(sqlite_engine, trace, ALICE)
    assert [r.source for r in shown] == ["human:alice", "human:bob", "model:critic", "reference"]
    assert all(r.revised_answer == "0" and r.usefulness == "helpful" for r in shown)
    assert trace_revisions(sqlite_engine, trace, CAROL) == []  # not on the project
    assert [r.source for r in trace_revisions(sqlite_engine, trace, ADMIN, source="model:critic")] == ["model:critic"]
