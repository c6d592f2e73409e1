"""Compare · Revisions: an admin starts a revision run, watches and cancels it; everyone reads what they may see."""

from __future__ import annotations

import os
import time

import pytest
from sqlmodel import select

from annotation.accounts.users import create_user, set_members
from annotation.critics.keys import ALLOWED_NAMES_ENV
from annotation.revision.runs import RevisionPlan, run_revision
from storage.db import session
from storage.tables import RevisionRun
from tests.pages.conftest import open_app
from tests.utils.critic_data import register_stub_price, stub_critic
from tests.utils.openai_stub import STUB_KEY, OpenAIStub, by_problem
from tests.utils.revision_data import make_revision_project, revise, reviser_plan

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
PAGE = "pages/compare.py"


@pytest.fixture(autouse=True)
def key_allowed(monkeypatch):
    monkeypatch.setenv(ALLOWED_NAMES_ENV, "CRITIC_STUB_KEY")
    register_stub_price()


def wait_for_run(db, timeout_s: float = 60.0) -> RevisionRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session(db) as s:
            run = s.exec(select(RevisionRun).order_by(RevisionRun.id.desc())).first()
        if run is not None and run.status != "running":
            return run
        time.sleep(0.1)
    raise AssertionError("the revision run did not finish")


def frame(at, *columns: str):
    """The first table with these columns (AppTest does not keep a table's key)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def open_compare(**who):
    at = open_app(PAGE, **who)
    at.selectbox(key="compare_project").set_value("revise").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_admin_starts_a_run_watches_it_and_reads_the_table(database_url, db):
    make_revision_project(db)
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        stub_critic(db, stub.api_base, name="reviser")
        at = open_compare()
        assert any("No revision results you may see" in i.value for i in at.info)
        at.selectbox(key="revise_source").set_value("human:alice")
        at.selectbox(key="revise_reviser").set_value("reviser")
        at.selectbox(key="revise_show").set_value("first-error")
        at.selectbox(key="revise_grader").set_value("exact")
        at.button(key="revise_start").click().run()
        run = wait_for_run(db)
        at.run()

    assert not at.exception, [e.value for e in at.exception]
    assert (run.status, run.total, run.done, run.no_reference, run.started_by) == ("done", 6, 6, 1, "admin")
    assert any("Revision run 1 done: 6 revised" in s.value for s in at.success)
    assert list(frame(at, "reviser", "reused", "status")["status"]) == ["done"]
    table = frame(at, "source", "show", "fix_rate")
    row = table[table["source"] == "human:alice"].iloc[0]
    assert (row["show"], row["n"], row["fixed"], row["broken"], row["fix_rate"]) == ("first-error", 6, 1, 1, 33.3)
    assert at.selectbox(key="revise_view_source").value == "human:alice"
    cards = {m.label: m.value for m in at.metric}
    assert (cards["Fixed"], cards["Fix rate"], cards["Broken"], cards["Break rate"]) == ("1", "33.3%", "1", "33.3%")
    assert (cards["Accuracy before → after"], cards["Change"]) == ("50.0% → 50.0%", "+0.0 pts")
    traces = frame(at, "trace", "usefulness")
    assert list(traces["usefulness"]) == ["helpful", "harmful", "helpful", "helpful", "–", "–"]
    assert list(traces["revised answer"])[5] == "(none)"
    at.selectbox(key="revise_open").set_value(3).run()
    assert "Fixing step 2" in at.code[-1].value


def test_people_and_models_side_by_side_and_breakdowns(database_url, db):
    make_revision_project(db)
    revise(db, "human:*", "model:critic", "reference")
    at = open_compare()
    table = frame(at, "source", "show", "fix_rate")
    assert list(table["source"]) == ["human:alice", "human:bob", "all humans", "reference", "model:critic"]
    assert list(table["n"]) == [6, 3, 9, 6, 6]
    at.radio(key="revise_group_by").set_value("subset").run()
    groups = frame(at, "subset", "fix_rate")
    assert list(groups["subset"]) == ["even", "odd"] and list(groups["n"]) == [3, 3]


def test_cancel_a_revision_run_from_the_page(database_url, db):
    make_revision_project(db)
    with OpenAIStub(by_problem(reviser_plan()), delay_s=0.5) as stub:
        stub_critic(db, stub.api_base, name="reviser")
        at = open_compare()
        at.number_input(key="revise_concurrency").set_value(1).run()
        at.button(key="revise_start").click().run()
        assert "Revision run 1: 0 of 6" in at.get("progress")[0].proto.text
        at.button(key="revise_cancel").click().run()
        run = wait_for_run(db)
        at.run()
    assert run.status == "cancelled" and run.done < 6
    assert any("Revision run 1 cancelled" in w.value for w in at.warning)


def test_annotators_start_nothing_and_see_what_the_rule_allows(database_url, db):
    make_revision_project(db, qc=(0,))
    revise(db, "reference")
    create_user(db, username="ann", password="a-long-password", role="annotator")
    set_members(db, project="revise", usernames=["ann"])
    at = open_compare(user="ann", role="annotator")
    assert [b for b in at.button if b.key == "revise_start"] == []
    traces = frame(at, "trace", "usefulness")
    assert list(traces["trace"]) == [2, 3, 4, 5, 6]  # not the quality-control trace


def test_a_traces_history_shows_its_revisions(database_url, db):
    make_revision_project(db)
    revise(db, "model:critic")
    at = open_compare()
    at.selectbox(key="compare_a").set_value("model:critic")
    at.selectbox(key="compare_b").set_value("reference").run()
    at.selectbox(key="compare_trace").set_value(0).run()
    history = frame(at, "critiques of", "when (UTC)")
    assert list(history["critiques of"]) == ["model:critic"] and list(history["usefulness"]) == ["helpful"]
    assert any("Final answer: \\boxed{12}" in c.value for c in at.code)


def test_one_reviser_configuration_at_a_time(database_url, db):
    """A partial regrade with another grader, and the critic edited since: each configuration's figures apart."""
    from dataclasses import replace

    from annotation.critics.config import save_critic

    make_revision_project(db)
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        reviser = stub_critic(db, stub.api_base, name="reviser")
        run_revision(db, RevisionPlan(project="revise", critiques="reference", reviser=reviser))
        run_revision(
            db, RevisionPlan(project="revise", critiques="reference", reviser=reviser, grader="exact", limit=2)
        )
        save_critic(db, replace(reviser, temperature=0.5))  # edited: its results so far are of earlier settings
    at = open_compare()
    choice = at.selectbox(key="revise_view_configuration")
    h = reviser.config_hash()[:8]
    assert choice.options == [
        f"reviser · graded by exact · earlier settings {h}",
        f"reviser · graded by math-verify · earlier settings {h}",
    ]
    assert list(frame(at, "source", "show", "fix_rate")["n"]) == [2]
    choice.set_value(("reviser", reviser.config_hash(), "math-verify")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(frame(at, "source", "show", "fix_rate")["n"]) == [6]
    assert len(frame(at, "trace", "usefulness")) == 6


def test_a_result_of_a_critique_changed_since_is_shown_stale_and_left_out(database_url, db):
    import dataclasses

    from annotation.core.records import judgment_from_row
    from annotation.judgments.writing import ANY_VERSION, JudgmentWrite, record
    from storage.tables import JudgmentRow, TraceRow

    make_revision_project(db)
    revise(db, "human:alice")
    with session(db) as s:
        trace = s.exec(select(TraceRow.id).where(TraceRow.position == 1)).one()
        row = s.exec(select(JudgmentRow).where(JudgmentRow.trace_id == trace, JudgmentRow.source_name == "alice")).one()
        changed = dataclasses.replace(judgment_from_row(row), first_error=0)
        record(s, [JudgmentWrite(trace, changed, expected_version=ANY_VERSION, changed_by="alice")])
        s.commit()
    at = open_compare()
    at.selectbox(key="revise_view_source").set_value("human:alice").run()
    traces = frame(at, "trace", "usefulness")
    assert list(traces["status"]) == ["done", "stale", "done", "done", "done", "done"]
    assert list(traces["usefulness"])[1] == "–"
    assert frame(at, "source", "show", "fix_rate").set_index("source").loc["human:alice", "n"] == 5
    assert any("1 revised with a critique changed or withdrawn since" in c.value for c in at.caption)


def test_an_admin_revises_with_a_typed_model_string(database_url, db, monkeypatch):
    """No saved critic needed: a model string, its server and an allowed key variable; a refused key is named."""
    monkeypatch.setenv("CRITIC_STUB_KEY", STUB_KEY)
    make_revision_project(db)
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        at = open_compare()
        assert at.radio(key="revise_reviser_kind").options == ["A model (litellm model string)"]
        at.text_input(key="revise_model").input("openai/stub-model")
        at.text_input(key="revise_api_base").input(stub.api_base)
        at.text_input(key="revise_api_key_env").input("DATABASE_URL").run()
        assert any("never an API key" in w.value for w in at.warning)
        at.button(key="revise_start").click().run()
        assert any("nothing was sent" in e.value and "never an API key" in e.value for e in at.error)
        assert stub.requests == 0
        at.text_input(key="revise_api_key_env").input("CRITIC_STUB_KEY")
        at.text_input(key="revise_reviser_name").input("typed").run()
        at.button(key="revise_start").click().run()
        run = wait_for_run(db)
        at.run()
        requests = stub.requests

    assert not at.exception, [e.value for e in at.exception]
    assert (run.status, run.done, requests) == ("done", 6, 6)
    assert at.selectbox(key="revise_view_configuration").value[0] == "typed"
    table = frame(at, "source", "show", "fix_rate")
    assert list(table["source"]) == ["human:alice", "all humans"] and list(table["n"]) == [6, 6]


def test_typed_model_fields_survive_a_look_at_the_saved_critics_and_a_taken_name_is_refused(database_url, db):
    make_revision_project(db)
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        stub_critic(db, stub.api_base, name="reviser")
        at = open_compare()
        at.radio(key="revise_reviser_kind").set_value("model").run()
        at.text_input(key="revise_model").input("openai/stub-model")
        at.text_input(key="revise_api_base").input(stub.api_base)
        at.selectbox(key="revise_vision").set_value(True)
        at.text_input(key="revise_reviser_name").input("reviser").run()
        assert any("a saved critic is named 'reviser', with other settings" in w.value for w in at.warning)
        at.radio(key="revise_reviser_kind").set_value("saved").run()
        assert at.selectbox(key="revise_reviser").value == "reviser"
        at.radio(key="revise_reviser_kind").set_value("model").run()
        assert at.text_input(key="revise_model").value == "openai/stub-model"
        assert at.text_input(key="revise_api_base").value == stub.api_base
        assert at.selectbox(key="revise_vision").value is True
        at.button(key="revise_start").click().run()
        assert any("nothing was sent" in e.value for e in at.error) and stub.requests == 0
    assert not at.exception, [e.value for e in at.exception]
