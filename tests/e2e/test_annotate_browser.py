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
    """Give the keyboard to the page itself (not a text box), as a click on the title does."""
    page.locator(".rl-title").first.click()


def saved(page) -> None:
    """Wait until the server has confirmed every change (the surface says so)."""
    from playwright.sync_api import expect

    expect(page.locator(".rl-status")).to_have_text("Saved", timeout=PAGE_TIMEOUT_MS)


def press(page, key: str, then_text: str | None = None) -> None:
    from playwright.sync_api import expect

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
    page.keyboard.press("Escape")  # leaves the box: single keys act again
    press(page, "t")  # the step's error tags: 1-9 toggle them
    press(page, "2")
    press(page, "Escape")
    expect(page.locator('.rl-step[data-step="1"] .rl-chip[data-tag="logic"]')).to_have_attribute("aria-pressed", "true")
    saved(page)

    page.reload()  # mid-trace: nothing is lost
    expect(page.get_by_role("heading", name="Trace #1")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("First error: Step 2.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Critique of step 2")).to_have_value(
        "2 x 2 is 4, and she buys 2: the sum is right but the reason is muddled"
    )
    expect(page.locator('.rl-step[data-step="1"] .rl-chip[data-tag="logic"]')).to_have_attribute("aria-pressed", "true")
    assert "trace=" in page.url and "project=Keyboard+journey" in page.url
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
    expect(page.get_by_text(f"[image: logo] {pixel}/problem.png", exact=False)).to_be_visible()


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
    page.wait_for_timeout(1000)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("SECOND step one.")).to_be_visible()
    expect(main.get_by_text(re.compile("FIRST (step|trace)"))).to_have_count(0)  # case-sensitive: not "First error"
    judged = {s.trace.record_id: s for s in load_traces(db, "Ctrl Enter")}
    first = judged["first"].judgments["human:ann8"]
    assert first.first_error == 0 and first.steps[0].critique == "the first step is wrong"
    assert "human:ann8" not in judged["second"].judgments


def four_steps(i: int) -> dict:
    return {
        "id": f"ta-{i}",
        "problem": f"Problem {i}: add the numbers.",
        "steps": [f"Trace {i}, step {k}." for k in range(1, 5)],
        "label": -1,
    }


# Keys pressed as fast as a person types ahead, and what they mean: per trace, the first error stored.
TYPE_AHEAD = [
    (["1", "1", "3", "Control+Enter"], 2),  # correct, correct, wrong: the first error at step 3
    (["3", "Control+Enter"], 0),
    (["1", "2", "k", "3", "Control+Enter"], 1),  # back to step 2 and mark it wrong
    # Step 4 wrong, then step 3 wrong (the first error), F jumps back to it, and 1 makes step 4 the first again.
    (["j", "j", "j", "3", "k", "3", "k", "k", "f", "1", "Control+Enter"], 3),
    (["a", "Control+Enter"], -1),
]


@pytest.mark.parametrize("gap_ms", [0, 30, 120])
def test_keys_typed_ahead_store_exactly_what_they_mean(open_page, db, tmp_path, gap_ms):
    """Issue 12: pressing 1, 1, 3 with 120-300 ms between keys stored the first error at step 1 or 2."""
    from playwright.sync_api import expect

    name = f"Type ahead {gap_ms}"
    create_user(db, username=f"fast{gap_ms}", password=PASSWORD)
    add_project(db, tmp_path, name, [four_steps(i) for i in range(len(TYPE_AHEAD))], [f"fast{gap_ms}"])
    page = open_page(f"fast{gap_ms}")
    open_annotate(page, "Trace #1")
    release_focus(page)
    for keys, _ in TYPE_AHEAD:  # no wait for the page between traces: the keys run on into the next
        for key in keys:
            page.keyboard.press(key)
            if gap_ms:
                page.wait_for_timeout(gap_ms)
    expect(page.get_by_text("Nothing left for you in this project")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    judged = {s.position: s.judgments[f"human:fast{gap_ms}"] for s in load_traces(db, name)}
    assert [judged[p].first_error for p in range(len(TYPE_AHEAD))] == [want for _, want in TYPE_AHEAD]
    assert [v.verdict for v in judged[3].steps] == [1, 1, 1, -1]


def test_a_tab_closed_right_after_a_key_keeps_the_change(open_page, db, tmp_path):
    from playwright.sync_api import expect

    create_user(db, username="closer", password=PASSWORD)
    add_project(db, tmp_path, "Closed tab", [four_steps(i) for i in range(2)], ["closer"])
    page = open_page("closer")
    open_annotate(page, "Trace #1")
    # The URL names the trace once the server has put it there: reopen that, not an address read before it.
    expect(page).to_have_url(re.compile(r"[?&]trace=\d+"), timeout=PAGE_TIMEOUT_MS)
    url = page.url
    release_focus(page)
    page.keyboard.press("1")
    page.keyboard.press("3")
    context = page.context
    page.close()  # at once: the draft may not have reached the server

    again = context.new_page()
    again.goto(url, timeout=PAGE_TIMEOUT_MS)
    expect(again.get_by_role("heading", name="Trace #1")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(again.get_by_text("First error: Step 2.")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    saved(again)
    trace = load_traces(db, "Closed tab")[0]
    rules = project_rules(db, "Closed tab")
    opened = open_trace(db, trace_id=trace.id, username="closer", rules=rules, is_admin=False)
    assert [s.verdict for s in opened.work.steps][:2] == [1, -1]


def test_two_tabs_on_one_trace_get_the_choice_and_a_stale_submit_is_refused(open_page, db, tmp_path):
    from playwright.sync_api import expect

    create_user(db, username="twotabs", password=PASSWORD)
    add_project(db, tmp_path, "Two tabs", [four_steps(i) for i in range(3)], ["twotabs"])
    first = open_page("twotabs")
    open_annotate(first, "Trace #1")
    wait_for_sign_in_cookie(first)
    second = first.context.new_page()
    second.goto(first.url, timeout=PAGE_TIMEOUT_MS)
    expect(second.get_by_role("heading", name="Trace #1")).to_be_visible(timeout=PAGE_TIMEOUT_MS)

    release_focus(first)
    press(first, "3", "First error: Step 1.")
    saved(first)
    release_focus(second)
    press(second, "a", "Every step is correct: no error.")
    expect(second.get_by_text("open in another tab or window too")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    second.get_by_role("button", name="Load the newer version").click()
    expect(second.get_by_text("First error: Step 1.")).to_be_visible(timeout=PAGE_TIMEOUT_MS)

    # One tab submits; the other, which started from the same version, is refused and keeps its work.
    release_focus(first)
    press(first, "Control+Enter")
    expect(first.get_by_role("heading", name="Trace #2")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    saved(first)  # the next trace shows at once; this waits for the server to confirm the submission
    release_focus(second)
    press(second, "1")
    press(second, "Control+Enter")
    expect(second.get_by_text("Not submitted")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(second.get_by_role("heading", name="Trace #1")).to_be_visible()
    stored = load_traces(db, "Two tabs")[0].judgments["human:twotabs"]
    assert stored.first_error == 0 and stored.status == "submitted"


def test_the_current_step_stays_on_screen_and_the_toolbar_leaves_room_for_the_steps(open_page, db, tmp_path):
    from playwright.sync_api import expect

    record = {"id": "long", "problem": "A long one.", "steps": [f"Step number {k}." for k in range(1, 41)], "label": 30}
    create_user(db, username="scroller", password=PASSWORD)
    add_project(db, tmp_path, "Scrolling", [record], ["scroller"])
    page = open_page("scroller")
    page.set_viewport_size({"width": 1366, "height": 768})
    open_annotate(page, "Trace #1")
    release_focus(page)
    first_step = page.locator('.rl-step[data-step="0"]').bounding_box()
    assert first_step["y"] < 400, first_step
    for _ in range(25):
        page.keyboard.press("1")
    current = page.locator(".rl-step.current")
    expect(current).to_have_attribute("data-step", "25")
    box = current.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box


def test_random_sequences_typed_ahead_on_40_step_traces_store_what_they_mean(open_page, db, tmp_path):
    """The benchmark's check (benchmarks.type_ahead), in small: random verdicts, moves and first-error jumps
    pressed without waiting, on 40-step traces, each ending in Ctrl+Enter."""
    import random

    from playwright.sync_api import expect

    from benchmarks.type_ahead import expected, random_sequence

    rng = random.Random(12)
    sequences = [random_sequence(rng, 40) for _ in range(6)]
    records = [
        {"id": f"forty-{i}", "problem": f"P{i}", "steps": [f"s{k}" for k in range(40)], "label": -1} for i in range(6)
    ]
    create_user(db, username="forty", password=PASSWORD)
    add_project(db, tmp_path, "Forty steps", records, ["forty"])
    page = open_page("forty")
    open_annotate(page, "Trace #1")
    release_focus(page)
    for keys in sequences:
        for key in keys:
            page.keyboard.press(key)
    expect(page.get_by_text("Nothing left for you in this project")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    judged = {s.position: s.judgments["human:forty"] for s in load_traces(db, "Forty steps")}
    for position, keys in enumerate(sequences):
        first, verdicts = expected(40, keys)
        assert judged[position].first_error == first, keys
        assert [v.verdict for v in judged[position].steps] == verdicts, keys


def test_after_choosing_a_project_in_the_sidebar_the_keys_judge_again(open_page, db, tmp_path):
    """Issue 12: after choosing a project in the sidebar, J typed into the picker."""
    from playwright.sync_api import expect

    create_user(db, username="picker", password=PASSWORD)
    add_project(db, tmp_path, "Picker one", [four_steps(i) for i in range(2)], ["picker"])
    add_project(db, tmp_path, "Picker two", [four_steps(i) for i in range(10, 12)], ["picker"])
    page = open_page("picker")
    open_annotate(page, "Trace #1")
    page.get_by_role("combobox", name="Project").click()
    page.get_by_role("option", name="Picker two", exact=True).click()
    expect(page.locator(".rl-caption")).to_contain_text("Picker two", timeout=PAGE_TIMEOUT_MS)
    page.keyboard.press("j")
    expect(page.locator(".rl-step.current")).to_have_attribute("data-step", "1")
    expect(page.get_by_role("combobox", name="Project")).to_have_value("Picker two")
    assert "project=Picker+two" in page.url
