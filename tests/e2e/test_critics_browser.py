"""The Critics page in Chromium: a run through the local OpenAI-compatible stub finishes, and the runs table says
so without a reload (issue 17: it said "running, 0 critiqued" until one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import PAGE_TIMEOUT_MS
from tests.utils.openai_stub import STUB_KEY, STUB_MODEL, OpenAIStub
from tests.utils.processes import served


@pytest.fixture(scope="module")
def app_url(sync_playwright, app_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app, with the operator allowing the stub's key name."""
    folder = tmp_path_factory.mktemp("critics-app")
    env = {"REDLINE_API_KEY_NAMES": "STUB_API_KEY", "STUB_API_KEY": STUB_KEY}
    with served(app_database, folder / "streamlit.log", env=env) as url:
        yield url


def test_a_run_finishes_and_the_runs_table_says_so_without_a_reload(page):
    from playwright.sync_api import expect

    with OpenAIStub("Paragraph 1 is wrong. \\boxed{1}", delay_s=0.05) as stub:
        page.get_by_role("link", name="Critics", exact=True).click()
        expect(page.get_by_role("heading", name="Critics")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        page.get_by_label("Name (judgments get the source model:NAME)").fill("stubby")
        page.get_by_label("Model (litellm)").fill(STUB_MODEL)
        page.get_by_label("API base (for Ollama, vLLM and other servers)").fill(stub.api_base)
        key = page.get_by_role("textbox", name="API key variable")
        key.fill("STUB_API_KEY")
        key.press("Enter")
        page.get_by_role("button", name="Save critic").click()
        expect(page.get_by_text("Saved critic stubby.")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        limit = page.get_by_role("spinbutton", name="At most (0 = all)")
        limit.fill("5")
        limit.press("Enter")
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.get_by_text("Run 1 done: 5 critiqued")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    # The runs table below the progress: updated by the page itself.
    expect(page.get_by_role("gridcell", name="done", include_hidden=True).first).to_be_attached(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_role("gridcell", name="running", include_hidden=True)).to_have_count(0)
