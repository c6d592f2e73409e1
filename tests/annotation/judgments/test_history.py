"""A trace's judgment history: each version with its author and time; blind projects show annotators only theirs."""

from __future__ import annotations

from sqlmodel import select

from annotation.accounts.users import Account, create_user, set_members
from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.judgments.history import describe_changes, trace_history
from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, TraceRow, utcnow
from tests.utils.projects import make_project

ADMIN = Account("root", "admin")
ANN = Account("ann", "annotator")


def first_trace(engine) -> int:
    with session(engine) as s:
        return s.exec(select(TraceRow.id).order_by(TraceRow.position)).first()


def judge(engine, trace_id: int, who: str, first_error: int) -> None:
    with session(engine) as s:
        row = judgment_row(Judgment(Source("human", who), first_error=first_error), trace_id=trace_id, now=utcnow())
        queries.insert_judgments(s, rows=[row])
        s.commit()


def revise(engine, trace_id: int, who: str, changed_by: str, **changes) -> None:
    with session(engine) as s:
        row = s.exec(select(JudgmentRow).where(JudgmentRow.trace_id == trace_id, JudgmentRow.source_name == who)).one()
        content = {**queries.judgment_content(row), **changes}
        queries.revise_judgment(s, judgment=row, content=content, expected_version=row.version, changed_by=changed_by)
        s.commit()


def setup(engine, tmp_path, *, blind: bool) -> int:
    make_project(engine, tmp_path, traces=2, blind=blind)
    for name in ("ann", "bob"):
        create_user(engine, username=name, password="a-long-password")
    set_members(engine, project="p", usernames=["ann", "bob"])
    trace_id = first_trace(engine)
    judge(engine, trace_id, "ann", 1)
    judge(engine, trace_id, "bob", -1)
    revise(engine, trace_id, "ann", "ann", first_error=0)
    revise(engine, trace_id, "ann", "root", first_error=-1, critique="checked again")
    return trace_id


def test_every_version_says_who_made_it_when_and_what_changed(engine, tmp_path):
    trace_id = setup(engine, tmp_path, blind=False)
    histories = {h.source: h for h in trace_history(engine, trace_id, ADMIN)}
    assert set(histories) == {"reference", "human:ann", "human:bob"}
    ann = histories["human:ann"]
    assert [v.version for v in ann.versions] == [1, 2, 3]
    assert [v.made_by for v in ann.versions] == ["human:ann", "ann", "root"]
    assert [v.says for v in ann.versions] == ["first error at step 2", "first error at step 1", "no error"]
    assert ann.versions[0].changes == ("created",)
    assert ann.versions[1].changes == ("first error at step 2 → first error at step 1",)
    assert ann.versions[2].changes == ("first error at step 1 → no error", "critique changed")
    assert [v.current for v in ann.versions] == [False, False, True]
    assert all(v.made_at for v in ann.versions)
    assert not histories["human:bob"].revised and histories["reference"].versions[0].made_by == "import"


def test_annotators_see_everyone_on_an_open_project(engine, tmp_path):
    trace_id = setup(engine, tmp_path, blind=False)
    assert {h.source for h in trace_history(engine, trace_id, ANN)} == {"reference", "human:ann", "human:bob"}


def test_blind_projects_show_an_annotator_only_their_own_history(engine, tmp_path):
    trace_id = setup(engine, tmp_path, blind=True)
    assert [h.source for h in trace_history(engine, trace_id, ANN)] == ["human:ann"]
    assert [h.source for h in trace_history(engine, trace_id, Account("bob", "annotator"))] == ["human:bob"]
    assert len(trace_history(engine, trace_id, ADMIN)) == 3


def test_nothing_for_people_off_the_project_or_a_missing_trace(engine, tmp_path):
    trace_id = setup(engine, tmp_path, blind=False)
    create_user(engine, username="eve", password="a-long-password")
    assert trace_history(engine, trace_id, Account("eve", "annotator")) == []
    assert trace_history(engine, 10_000, ADMIN) == []


def test_step_changes_are_named_by_step_number():
    before = Judgment(Source("human", "a"), steps=[StepLabel(1), StepLabel(1), StepLabel(None)]).content()
    after = Judgment(Source("human", "a"), steps=[StepLabel(1), StepLabel(-1), StepLabel(0, critique="x")]).content()
    assert describe_changes(before, after) == ("step verdicts changed at 2, 3",)
    noted = Judgment(Source("human", "a"), steps=[StepLabel(1, critique="why")]).content()
    plain = Judgment(Source("human", "a"), steps=[StepLabel(1)]).content()
    assert describe_changes(plain, noted) == ("step notes changed",)
    assert describe_changes(plain, plain) == ("no change in the label",)
