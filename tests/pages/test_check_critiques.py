"""The Check critiques page: the model's view beside each step; accept, reject, edit; rate; submit."""

from __future__ import annotations

from sqlmodel import select

from annotation.accounts.users import create_user, set_members
from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, utcnow
from tests.pages.conftest import open_app
from tests.utils.critic_data import make_project

PAGE = "pages/check_critiques.py"
CRITIC = Source("model", "judge")


def add_critiques(engine, project: str = "check-page", n: int = 3) -> list[int]:
    """A project whose traces all carry a per-step critique from model:judge (first error at step index 1)."""
    make_project(engine, project, n)
    with session(engine) as s:
        ids = [t.id for t in queries.traces_in(s, project_id=queries.get_project(s, name=project).id)]
        model = Judgment(
            CRITIC,
            first_error=1,
            steps=[
                StepLabel(1, "Adds *correctly*."),
                StepLabel(-1, "Doubling <b>wrong</b>."),
                StepLabel(-1, "Follows."),
            ],
            critique="Step 1 is wrong. \\boxed{1}",
        )
        queries.insert_judgments(s, rows=[judgment_row(model, trace_id=t, now=utcnow()) for t in ids])
        s.commit()
    return ids


def human_judgments(engine, username: str = "admin") -> list[JudgmentRow]:
    with session(engine) as s:
        query = select(JudgmentRow).where(JudgmentRow.source_kind == "human", JudgmentRow.source_name == username)
        return list(s.exec(query.order_by(JudgmentRow.trace_id)))


def test_without_critiques_the_page_says_how_to_get_them(database_url, db):
    make_project(db, "bare", 2)
    at = open_app(PAGE)
    at.selectbox(key="check_project").set_value("bare").run()

    assert [t.value for t in at.title] == ["Check critiques"]
    assert any("No model critiques in this project yet" in i.value for i in at.info)


def test_steps_show_the_models_verdict_and_explanation_as_written(database_url, db):
    add_critiques(db)
    at = open_app(PAGE)
    at.selectbox(key="check_project").set_value("check-page").run()

    assert at.selectbox(key="check_source").value == "model:judge"
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert "Model: :green-badge[correct]" in shown and "Model: :red-badge[wrong]" in shown
    assert "Adds \\*correctly\\*." in shown and "Doubling \\<b\\>wrong\\</b\\>." in shown
    assert "Checked 0 of 3 critiques from model:judge" in at.get("progress")[0].proto.text


def test_accept_reject_edit_rate_and_submit_saves_a_human_judgment(database_url, db):
    ids = add_critiques(db)
    at = open_app(PAGE)
    at.selectbox(key="check_project").set_value("check-page").run()

    at.button(key="check_accept").click().run()  # step 0: accepted (correct)
    at.button(key="check_reject").click().run()  # step 1: rejected -> correct
    at.button(key="check_edit").click().run()  # step 2: edited
    assert at.text_area(key="check_edit_text").value == "Follows."
    at.radio(key="check_edit_verdict").set_value("Wrong").run()
    at.text_area(key="check_edit_text").set_value("4 x 2 is 8, not 9.").run()
    at.button(key="check_edit_save").click().run()
    at.segmented_control(key="check_rating").set_value("Misleading").run()
    at.text_area(key="check_replacement").set_value("Only the last step is wrong.").run()
    at.button(key="check_submit").click().run()

    assert not at.exception
    assert "Saved your check of trace #1." in [s.value for s in at.success]
    (mine,) = human_judgments(db)
    assert mine.trace_id == ids[0] and mine.status == "submitted" and mine.first_error == 2
    assert [s["verdict"] for s in mine.steps] == [1, 1, -1]
    assert mine.steps[2]["critique"] == "4 x 2 is 8, not 9." and mine.critique == "Only the last step is wrong."
    assert mine.extra["checked_from"] == "model:judge" and mine.extra["critique_rating"] == "misleading"
    assert [c["action"] for c in mine.extra["changes"]] == ["accept", "reject", "edit"]
    # On to the next trace, with a fresh form.
    assert "Trace **#2** (2 of 3) · not checked yet" in [m.value for m in at.markdown]
    assert at.segmented_control(key="check_rating").value is None


def test_submit_without_a_rating_or_with_unchecked_steps_is_refused(database_url, db):
    add_critiques(db)
    at = open_app(PAGE)
    at.selectbox(key="check_project").set_value("check-page").run()

    at.button(key="check_submit").click().run()
    assert "rate the critique as a whole first" in at.error[0].value

    at.segmented_control(key="check_rating").set_value("Helpful").run()
    at.button(key="check_submit").click().run()
    assert "step 0 is not checked yet" in at.error[0].value
    assert human_judgments(db) == []


def test_an_annotator_checks_on_a_project_they_work_on(database_url, db):
    add_critiques(db, n=1)
    create_user(db, username="ann", password="test-password-1", role="annotator")
    set_members(db, project="check-page", usernames=["ann"])
    at = open_app(PAGE, user="ann", role="annotator")

    at.button(key="check_accept").click().run()
    at.button(key="check_accept").click().run()
    at.segmented_control(key="check_rating").set_value("Helpful").run()
    at.button(key="check_submit").click().run()

    (mine,) = human_judgments(db, "ann")
    assert mine.first_error == 1 and mine.extra["critique_rating"] == "helpful"
    assert any("Every critique from this critic is checked" in i.value for i in at.info)
