"""Compare · Revisions in Chromium: an admin starts a revision run against the local stub (answers planned per
problem), watches its progress, and reads the figures and a revised solution."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from annotation.ops.startup import prepare
from tests.e2e.conftest import PAGE_TIMEOUT_MS, choose
from tests.utils.critic_data import stub_critic
from tests.utils.openai_stub import STUB_KEY, OpenAIStub, by_problem
from tests.utils.processes import served
from tests.utils.revision_data import make_revision_project, reviser_plan


@pytest.fixture(scope="module")
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub(by_problem(reviser_plan()), delay_s=0.4) as server:
        yield server


@pytest.fixture(scope="module")
def app_url(sync_playwright, app_database: str, stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with a project of graded traces, a saved critic pointed at the stub, and its key name allowed."""
    engine = prepare(app_database)
    make_revision_project(engine)
    stub_critic(engine, stub.api_base, name="reviser")
    engine.dispose()
    folder = tmp_path_factory.mktemp("revision-app")
    env = {"REDLINE_API_KEY_NAMES": "CRITIC_STUB_KEY", "CRITIC_STUB_KEY": STUB_KEY}
    with served(app_database, folder / "streamlit.log", env=env) as url:
        yield url


def test_start_a_revision_run_watch_it_and_read_the_table(page, stub):
    from playwright.sync_api import expect

    page.get_by_role("link", name="Compare", exact=True).click()
    expect(page.get_by_role("heading", name="Compare")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    choose(page, "Project", "revise")
    page.get_by_role("tab", name="Revisions").click()
    expect(page.get_by_text("No revision results you may see in this project yet.")).to_be_visible()
    choose(page, "Critiques of", "human:alice", exact_label=True)
    choose(page, "Critic that revises", "reviser")
    choose(page, "The reviser is shown", "the first wrong step")
    concurrency = page.get_by_role("spinbutton", name="Concurrency")
    concurrency.fill("2")
    concurrency.press("Enter")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Revise and grade").click()

    # Watch it: the progress bar counts up (6 revisions, 2 at a time, 0.4 s each), then the run is done.
    expect(page.get_by_text("Revision run 1:")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("Revision run 1 done: 6 revised")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    assert stub.requests == 6

    # Read the table: alice's critiques fixed one wrong solution of three and broke one right one of three.
    expect(page.get_by_text("People and models side by side")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    for cell in ("human:alice", "first-error", "33.3"):
        expect(page.get_by_role("gridcell", name=cell, include_hidden=True).first).to_be_attached()
    expect(page.get_by_test_id("stMetric").filter(has_text="Fix rate")).to_contain_text("33.3%")
    expect(page.get_by_test_id("stMetric").filter(has_text="Break rate")).to_contain_text("33.3%")
    choose(page, "Read a revision", "trace 4 · human:alice")
    expect(page.get_by_text("Fixing step 2: 3 + 3 = 6, doubled 12.")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
