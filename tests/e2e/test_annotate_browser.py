"""Annotating in the real app through Chromium: keyboard alone, a reload mid-trace, overlap, access, hostile text."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from annotation.accounts.users import create_user, set_members
from annotation.importing.files import import_file
from annotation.ops.startup import prepare
from annotation.projects.settings import load_settings, save_settings
from annotation.projects.traces import load_traces
from annotation.workflow.queue import next_trace
from annotation.workflow.workbench import open_trace, project_rules, submit
from tests.e2e.conftest import PAGE_TIMEOUT_MS, PASSWORD, wait_for_sign_in_cookie
from tests.utils.files import write_jsonl

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def db(app_database: str) -> Engine:
    engine = prepare(app_database)
    yield engine
    engine.dispose()


def add_project(engine: Engine, folder: Path, name: str, records: list[dict], members: list[str], **settings) -> None:
    import_file(engine, write_jsonl(folder / f"{name}.jsonl", records), project=name)
    save_settings(engine, name, replace(load_settings(engine, name), **settings))
    set_members(engine, project=name, usernames=members)


def arithmetic(i: int, label: int) -> dict:
    return {
        "id": f"kb-{i}",
        "problem": f"Mia buys {i + 2} apples at 2 dollars each. What does she pay?",
        "steps": [f"Each apple costs 2 dollars and she buys {i + 2}.", f"So she pays {i + 2} x 2 dollars.", "Done."],
        "label": label,
    }


def open_annotate(page, expect_heading: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Annotate", exact=True).click()
    expect(page.get_by_role("heading", name=expect_heading)).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def release_focus(page) -> None:
    """Give the keyboard to the page itself (not a text box, nor a frame), as a click on the title does."""
    page.locator("h1").first.click()


def settle(page) -> None:
    """Wait until the app has finished running: a key pressed mid-run may land on a button being redrawn."""
    from playwright.sync_api import expect

    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=PAGE_TIMEOUT_MS)


def press(page, key: str, then_text: str | None = None) -> None:
    from playwright.sync_api import expect

    settle(page)
    page.keyboard.press(key)
    if then_text:
        expect(page.get_by_text(then_text).first).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def test_judge_three_traces_with_the_keyboard_alone_and_reload_in_the_middle(open_page, db, tmp_path):
    from playwright.sync_api import expect

    add_project(
        db,
        tmp_path,
        "Keyboard journey",
        [arithmetic(i, -1) for i in range(3)],
        ["ann1"],
        taxonomy=("calculation", "logic"),
    )
    page = open_page("ann1")
    open_annotate(page, "Trace #1")

    press(page, "1", "Still needed: a verdict on step 2")  # step 1 correct; the cursor moves to step 2
    press(page, "3", "First error: Step 2.")  # step 2 wrong
    press(page, "e")
    critique = page.get_by_role("textbox", name="Critique of step 2")
    expect(critique).to_be_focused(timeout=PAGE_TIMEOUT_MS)
    page.keyboard.type("2 x 2 is 4, and she buys 2: the sum is right but the reason is muddled")
    page.keyboard.press("Tab")  # leaving the box saves it, and Tab goes on to the step's error tags
    tags = page.get_by_role("combobox", name="Error tags of step 2")
    expect(tags).to_be_focused(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(500)
    page.keyboard.type("logi")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    chosen = page.locator('[aria-label="Remove logic"]')  # the chip of a chosen option
    expect(chosen).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(800)  # the draft is written on each change

    page.reload()  # mid-trace: nothing is lost
    expect(page.get_by_role("heading", name="Trace #1")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("First error: Step 2.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Critique of step 2")).to_have_value(
        "2 x 2 is 4, and she buys 2: the sum is right but the reason is muddled"
    )
    expect(page.locator('[aria-label="Remove logic"]')).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "annotate.png"))

    press(page, "Control+Enter")
    expect(page.get_by_role("heading", name="Trace #2")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    press(page, "a", "Every step is correct: no error.")
    press(page, "Control+Enter")
    expect(page.get_by_role("heading", name="Trace #3")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    press(page, "3", "First error: Step 1.")
    press(page, "Control+Enter")
    expect(page.get_by_text("Nothing left for you in this project")).to_be_visible(timeout=PAGE_TIMEOUT_MS)

    judged = {s.position: s.judgments["human:ann1"] for s in load_traces(db, "Keyboard journey")}
    assert [judged[p].first_error for p in range(3)] == [1, -1, 0]
    assert judged[0].steps[1].critique.startswith("2 x 2 is 4")
    assert judged[0].steps[1].tags == ["logic"]
    assert all(j.status == "submitted" and j.time_spent_s > 0 for j in judged.values())


def test_a_second_annotator_with_two_per_trace_overlap_gets_the_right_traces(open_page, db, tmp_path):
    from playwright.sync_api import expect

    add_project(db, tmp_path, "Overlap", [arithmetic(i, -1) for i in range(10, 13)], ["ann2"], judgments_per_trace=2)
    rules = project_rules(db, "Overlap")
    create_user(db, username="ann3", password=PASSWORD)
    first = next_trace(db, rules, username="ann3")  # ann3 judged trace #1 already
    opened = open_trace(db, trace_id=first, username="ann3", rules=rules, is_admin=False)
    submit(db, opened, username="ann3", copy=opened.work.all_correct(), rules=rules)
    held = next_trace(db, rules, username="ann3")  # and holds trace #2 right now

    page = open_page("ann2")
    open_annotate(page, "Trace #1")  # still needs a second judgment
    release_focus(page)
    press(page, "a", "Every step is correct: no error.")
    press(page, "Control+Enter")
    # Trace #2 is held by ann3 but needs two judgments, so ann2 may take it too.
    expect(page.get_by_role("heading", name="Trace #2")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    assert held == load_traces(db, "Overlap")[1].id
    press(page, "a", "Every step is correct: no error.")
    press(page, "Control+Enter")
    expect(page.get_by_role("heading", name="Trace #3")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    assert next_trace(db, rules, username="ann4") == load_traces(db, "Overlap")[2].id  # #1 has its two


def test_an_annotator_cannot_open_admin_even_by_its_url(open_page, app_url):
    from playwright.sync_api import expect

    page = open_page("ann1")
    expect(page.get_by_role("link", name="Annotate", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
    wait_for_sign_in_cookie(page)
    page.goto(f"{app_url}/admin", timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("Signed in as ann1")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(1000)
    expect(page.get_by_role("tab", name="Accounts")).to_have_count(0)
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_have_count(0)


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>window.__pwned = 1; alert(2)</script>",
    "[a link](javascript:alert(3)) and <a href='javascript:alert(4)'>another</a>",
]


def test_hostile_step_text_shows_as_text_and_runs_nothing(open_page, db, tmp_path):
    from playwright.sync_api import expect

    record = {"id": "hostile", "problem": "<b onmouseover=alert(5)>Is this bold?</b>", "steps": HOSTILE, "label": 0}
    create_user(db, username="ann5", password=PASSWORD)
    add_project(db, tmp_path, "Hostile", [record], ["ann5"])
    page = open_page("ann5")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_annotate(page, "Trace #1")
    expect(page.get_by_text("<img src=x onerror=alert(1)>", exact=True)).to_be_visible()
    expect(page.get_by_text("<script>window.__pwned = 1; alert(2)</script>", exact=True)).to_be_visible()
    expect(page.get_by_text("Is this bold?</b>", exact=False)).to_be_visible()
    page.mouse.move(400, 300)
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    links = page.locator("a[href^='javascript']")
    assert links.count() == 0
    assert dialogs == []


def test_a_remote_image_in_a_trace_is_never_fetched(open_page, db, tmp_path):
    """Finding 8: `![x](http://host/pixel.png)` in a problem or step made every reader's browser fetch it, telling
    the host who opened which trace, even on a blind project. Images now read as text."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from playwright.sync_api import expect

    fetched: list[str] = []

    class Pixel(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pixel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pixel = f"http://127.0.0.1:{server.server_address[1]}"
    record = {
        "id": "tracked",
        "problem": f"Which trace is this? ![logo]({pixel}/problem.png)",
        "steps": [f"Look: ![x]({pixel}/step.png)", f"And by reference: ![y][r]\n\n[r]: {pixel}/ref.png"],
        "label": 0,
    }
    create_user(db, username="ann6", password=PASSWORD)
    add_project(db, tmp_path, "Tracked", [record], ["ann6"], blind=True)
    page = open_page("ann6")
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        open_annotate(page, "Trace #1")
        expect(page.get_by_text("Which trace is this?", exact=False)).to_be_visible()
        page.wait_for_timeout(1500)
    finally:
        server.shutdown()
    assert fetched == []
    assert not [u for u in requested if u.startswith(pixel)]
    assert page.locator(f"img[src^='{pixel}']").count() == 0
    expect(page.get_by_text(f"![logo]({pixel}/problem.png)", exact=False)).to_be_visible()


def test_ctrl_enter_inside_a_critique_shows_the_next_trace_whole_and_keeps_the_critique(open_page, db, tmp_path):
    """Finding 6: press 3, E, type a critique, Ctrl+Enter in the box: the next trace's problem appeared above
    the previous trace's step text until the next key."""
    from playwright.sync_api import expect

    records = [
        {"id": "first", "problem": "Problem of the FIRST trace.", "steps": ["FIRST step one.", "FIRST step two."],
         "label": 0},
        {"id": "second", "problem": "Problem of the SECOND trace.", "steps": ["SECOND step one.", "SECOND step two."],
         "label": -1},
    ]  # fmt: skip
    create_user(db, username="ann8", password=PASSWORD)
    add_project(db, tmp_path, "Ctrl Enter", records, ["ann8"])
    page = open_page("ann8")
    open_annotate(page, "Trace #1")

    press(page, "3", "First error: Step 1.")
    press(page, "e")
    critique = page.get_by_role("textbox", name="Critique of step 1")
    expect(critique).to_be_focused(timeout=PAGE_TIMEOUT_MS)
    page.keyboard.type("the first step is wrong")
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("heading", name="Trace #2")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    settle(page)
    page.wait_for_timeout(1000)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("SECOND step one.")).to_be_visible()
    expect(main.get_by_text(re.compile("FIRST (step|trace)"))).to_have_count(0)  # case-sensitive: not "First error"
    judged = {s.trace.record_id: s for s in load_traces(db, "Ctrl Enter")}
    first = judged["first"].judgments["human:ann8"]
    assert first.first_error == 0 and first.steps[0].critique == "the first step is wrong"
    assert "human:ann8" not in judged["second"].judgments
