"""Checking an auto-critique in Chromium: an annotator goes through one model critique step by step with the
keyboard, rates it, writes a replacement, submits, and the resulting human judgment is found."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from annotation.accounts.users import create_user, set_members
from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.ops.startup import prepare
from annotation.projects.demo import DEMO_PROJECT
from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, utcnow
from tests.e2e.conftest import ACCOUNTS, PAGE_TIMEOUT_MS, PASSWORD

CRITIC = Source("model", "demo-critic")


def add_model_critiques(engine: Engine) -> None:
    """model:demo-critic on every demo trace: step 0 right, step 1 wrong (with an explanation), the rest unset."""
    with session(engine) as s:
        project = queries.get_project(s, name=DEMO_PROJECT)
        rows = []
        for trace in queries.traces_in(s, project_id=project.id):
            steps = [StepLabel(1, "The givens are copied correctly."), StepLabel(-1, "This rule is misapplied.")]
            model = Judgment(CRITIC, first_error=1, steps=steps, critique="Step 1 is wrong. \\boxed{1}")
            rows.append(judgment_row(model, trace_id=trace.id, now=utcnow()))
        queries.insert_judgments(s, rows=rows)
        s.commit()


@pytest.fixture(scope="module")
def app_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shared app fixtures' database, with model critiques to check (conftest's app_url serves it)."""
    folder = tmp_path_factory.mktemp("check-app")
    url = f"sqlite:///{folder / 'redline.db'}"
    engine = prepare(url, load_demo=True)
    for username, role in ACCOUNTS.items():
        create_user(engine, username=username, password=PASSWORD, role=role)
    set_members(engine, project=DEMO_PROJECT, usernames=["ann1"])
    add_model_critiques(engine)
    engine.dispose()
    return url


def test_check_one_critique_step_by_step_with_the_keyboard(open_page, app_database):
    from playwright.sync_api import expect

    page = open_page("ann1")
    page.get_by_role("link", name="Check critiques", exact=True).click()
    expect(page.get_by_role("heading", name="Check critiques")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("This rule is misapplied.").first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Trace #1")).to_be_visible()
    expect(page.get_by_text("1 of 36").first).to_be_visible()

    page.locator(".rl-title").click()
    page.keyboard.press("y")  # step 1: the model is right ("correct")
    page.keyboard.press("n")  # step 2: the model is wrong ("wrong" -> correct)
    page.keyboard.press("y")  # step 3: the model gave no verdict: refused at the key, with the reason
    expect(page.get_by_text("The model gave no verdict on step 3 to accept")).to_be_visible()
    page.keyboard.press("3")  # step 3: my own verdict, wrong
    page.keyboard.press("e")
    page.keyboard.type("The product is computed wrongly here.")
    page.keyboard.press("Control+Enter")  # refused at once: the critique is not rated yet
    expect(page.locator(".rl-notice")).to_contain_text("a rating of the critique as a whole")
    page.keyboard.press("Escape")
    page.keyboard.press("p")  # partly helpful
    page.keyboard.press("o")
    page.keyboard.type("Step 3 multiplies instead of dividing.")
    page.keyboard.press("Control+Enter")  # from inside the text box

    expect(page.get_by_role("heading", name="Trace #2")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("Saved your check of trace #1.")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.locator(".rl-title").click()
    page.keyboard.press("b")
    expect(page.get_by_text("checked by you before")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.locator('.rl-step[data-step="2"]')).to_have_attribute("data-verdict", "wrong")

    engine = prepare(app_database)
    with session(engine) as s:
        (mine,) = s.exec(
            select(JudgmentRow).where(JudgmentRow.source_kind == "human", JudgmentRow.source_name == "ann1")
        )
    engine.dispose()
    assert mine.status == "submitted" and mine.first_error == 2
    assert [st["verdict"] for st in mine.steps[:3]] == [1, 1, -1]
    assert mine.steps[2]["critique"] == "The product is computed wrongly here."
    assert mine.critique == "Step 3 multiplies instead of dividing."
    assert mine.extra["checked_from"] == "model:demo-critic" and mine.extra["critique_rating"] == "partly_helpful"
    assert [c["action"] for c in mine.extra["changes"]] == ["accept", "reject", "edit"]
