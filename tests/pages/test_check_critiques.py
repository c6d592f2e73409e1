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
from tests.utils.surface import Surface

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


def check(at):
    return Surface(at, key="check_judge")


def test_steps_show_the_models_verdict_and_explanation_as_sanitised_markup(database_url, db):
    add_critiques(db)
    at = open_app(PAGE)
    at.selectbox(key="check_project").set_value("check-page").run()

    assert at.selectbox(key="check_source").value == "model:judge"
    data = check(at).data()
    assert data["label_mode"] == "check" and data["progress"] == "Checked 0 of 3 critiques"
    model = data["model_steps"]
    assert [m["verdict"] for m in model] == [1, -1, -1]
    assert model[0]["html"].strip() == "<p>Adds <em>correctly</em>.</p>"
    assert model[1]["critique"] == "Doubling <b>wrong</b>." and "<b>" not in model[1]["html"]
    assert "&lt;b&gt;wrong&lt;/b&gt;" in model[1]["html"]


def test_take_turn_over_and_edit_rate_and_submit_saves_a_human_judgment(database_url, db):
    ids = add_critiques(db)
    at = open_app(PAGE)
    at.selectbox(key="check_project").set_value("check-page").run()
    surface = check(at)
    work = surface.work()
    model = surface.data()["model_steps"]
    work["steps"][0] |= {"verdict": 1, "critique": model[0]["critique"]}  # Y: the model's verdict and words
    work["steps"][1] |= {"verdict": 1, "critique": ""}  # N: the opposite verdict
    work["steps"][2] |= {"verdict": -1, "critique": "4 x 2 is 8, not 9."}  # my own words
    work |= {"rating": "misleading", "critique": "Only the last step is wrong."}
    surface.send("submit", work)

    assert not at.exception
    assert surface.data()["notice"]["text"] == "Saved your check of trace #1."
    (mine,) = human_judgments(db)
    assert mine.trace_id == ids[0] and mine.status == "submitted" and mine.first_error == 2
    assert [s["verdict"] for s in mine.steps] == [1, 1, -1]
    assert mine.steps[2]["critique"] == "4 x 2 is 8, not 9." and mine.critique == "Only the last step is wrong."
    assert mine.extra["checked_from"] == "model:judge" and mine.extra["critique_rating"] == "misleading"
    assert [c["action"] for c in mine.extra["changes"]] == ["accept", "reject", "edit"]
    # On to the next trace, with nothing checked yet.
    data = surface.data()
    assert data["trace"]["number"] == 2 and "not checked yet" in data["caption"]
    assert data["work"]["rating"] is None and all(s["verdict"] is None for s in data["work"]["steps"])

    surface.send("back")  # my check comes back as I left it
    data = surface.data()
    assert [s["verdict"] for s in data["work"]["steps"]] == [1, 1, -1] and data["work"]["rating"] == "misleading"


def test_submit_without_a_rating_or_with_unchecked_steps_is_refused(database_url, db):
    add_critiques(db)
    at = open_app(PAGE)
    at.selectbox(key="check_project").set_value("check-page").run()
    surface = check(at)

    surface.send("submit")
    assert "rate the critique as a whole first" in surface.data()["notice"]["text"]

    surface.send("submit", surface.work() | {"rating": "helpful"})
    assert "step 1 is not checked yet" in surface.data()["notice"]["text"]  # counted as people count
    surface.send("submit", surface.work() | {"rating": "best"})
    assert "work.rating" in surface.data()["notice"]["text"]
    assert human_judgments(db) == []


def test_an_annotator_checks_on_a_project_they_work_on(database_url, db):
    add_critiques(db, n=1)
    create_user(db, username="ann", password="test-password-1", role="annotator")
    set_members(db, project="check-page", usernames=["ann"])
    at = open_app(PAGE, user="ann", role="annotator")
    surface = check(at)
    model = surface.data()["model_steps"]
    work = surface.work()
    for i in range(2):
        work["steps"][i] |= {"verdict": model[i]["verdict"], "critique": model[i]["critique"]}
    surface.send("submit", work | {"rating": "helpful"})

    (mine,) = human_judgments(db, "ann")
    assert mine.first_error == 1 and mine.extra["critique_rating"] == "helpful"
    assert "Every critique from this critic is checked" in surface.data()["notice"]["text"]
