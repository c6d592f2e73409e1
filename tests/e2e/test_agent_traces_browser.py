"""Agent trajectories and long reasoning in the real app through Chromium: parts shown as what they are, judged
with the keyboard, the stored image shown from the page itself, and steps merged before judging."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from annotation.accounts.users import create_user, set_members
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from annotation.ops.startup import prepare
from annotation.projects.traces import load_traces
from tests.e2e.conftest import PAGE_TIMEOUT_MS, PASSWORD
from tests.e2e.test_annotate_browser import open_annotate, press, release_focus, saved
from tests.utils.chat_records import openai_record, png
from tests.utils.files import write_jsonl


@pytest.fixture(scope="module")
def db(app_database: str) -> Engine:
    engine = prepare(app_database)
    yield engine
    engine.dispose()


def test_judge_an_agent_trajectory_with_the_keyboard(open_page, db, tmp_path):
    from playwright.sync_api import expect

    create_user(db, username="agentann", password=PASSWORD)
    record = openai_record(png(40, 30))
    record["messages"][6]["content"] = [
        {"type": "text", "text": "It was not! See:"},
        {"type": "image_url", "image_url": {"url": "https://images.example.org/receipt.png"}},
    ]
    import_file(db, write_jsonl(tmp_path / "agent.jsonl", [record]), project="Agents")
    set_members(db, project="Agents", usernames=["agentann"])
    page = open_page("agentann")
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    open_annotate(page, "Trace #1")

    first = page.locator('.rl-step[data-step="0"]')
    expect(first.locator(".rl-call code").first).to_have_text("get_order")
    expect(first.locator(".rl-invalid")).to_have_text("arguments are not valid JSON; shown as given")
    expect(first.locator(".rl-result summary").first).to_contain_text("result of get_order")
    expect(first.locator(".rl-role")).to_have_text("assistant")
    expect(page.locator('.rl-step[data-step="2"] .rl-role')).to_have_text("user")
    image = page.locator(".rl-problem img")
    expect(image).to_be_visible()
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    image.click()
    expect(image).to_have_class("rl-zoomed")
    image.click()
    remote = page.locator('.rl-step[data-step="2"] .rl-image-link')
    expect(remote).to_contain_text("[remote image, not loaded] https://images.example.org/receipt.png")
    # A link a person may follow, never an image the page loads.
    expect(remote.locator("a")).to_have_attribute("href", "https://images.example.org/receipt.png")
    assert page.locator('img[src*="images.example.org"]').count() == 0

    # The first step (the tool calls) is where it went wrong: mark it, say why, submit.
    page.locator(".rl-title").first.click()
    press(page, "3", "First error: Step 1.")
    press(page, "e")
    box = page.get_by_role("textbox", name="Critique of step 1")
    expect(box).to_be_focused(timeout=PAGE_TIMEOUT_MS)
    page.keyboard.type("get_shipping is called with arguments cut short")
    page.keyboard.press("Escape")
    saved(page)
    press(page, "Control+Enter")
    expect(page.get_by_text("Nothing left for you in this project")).to_be_visible(timeout=PAGE_TIMEOUT_MS)

    judged = load_traces(db, "Agents")[0].judgments["human:agentann"]
    assert judged.first_error == 0 and judged.steps[0].critique == "get_shipping is called with arguments cut short"
    # The image came with the page; the remote one in the conversation is a link, never fetched.
    assert not [url for url in requests if "images.example.org" in url]


def test_merge_two_steps_of_a_long_reasoning_trace_before_judging(open_page, db, tmp_path):
    from playwright.sync_api import expect

    create_user(db, username="merger", password=PASSWORD)
    thinking = "<think>First, 2+2=4.\n\nSo the sum is 4. Wait, the question asks for 2+3.</think>\n\nIt is 5."
    options = ConvertOptions(mapping=FieldMapping(step_split="reflections"))
    path = write_jsonl(tmp_path / "r.jsonl", [{"problem": "What is 2+3?", "steps": thinking}])
    import_file(db, path, project="Long reasoning", fmt="generic", options=options)
    set_members(db, project="Long reasoning", usernames=["merger"])
    page = open_page("merger")
    open_annotate(page, "Trace #1")
    expect(page.locator(".rl-step")).to_have_count(4)
    expect(page.locator('.rl-step[data-step="0"] .rl-thinking')).to_contain_text("First, 2+2=4.")

    page.locator(".rl-title").first.click()
    press(page, "u", "steps 1 and 2 merged")
    expect(page.locator(".rl-step")).to_have_count(3)
    expect(page.locator('.rl-step[data-step="0"]')).to_contain_text("So the sum is 4.")

    # Split the last thinking step again, at a caret put there with the keyboard alone.
    press(page, "j")
    press(page, "s")
    box = page.get_by_role("textbox", name="Split step 2")
    expect(box).to_be_focused()
    for _ in range(len("Wait,")):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator(".rl-step")).to_have_count(4, timeout=PAGE_TIMEOUT_MS)
    expect(page.locator('.rl-step[data-step="1"] .rl-thinking')).to_have_text("Thinking · 5 BWait,")
    expect(page.locator('.rl-step[data-step="2"]')).to_contain_text("the question asks for 2+3.")

    page.locator(".rl-title").first.click()
    press(page, "k")  # the cursor stayed on the split step: back to the first
    press(page, "1")
    press(page, "1")
    press(page, "3", "First error: Step 3.")
    press(page, "Control+Enter")
    expect(page.get_by_text("Nothing left for you in this project")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    [stored] = load_traces(db, "Long reasoning")
    assert len(stored.trace.steps) == 4 and stored.judgments["human:merger"].first_error == 2


def test_mark_wrong_words_with_the_mouse_and_the_keyboard_reload_and_submit(open_page, db, tmp_path):
    from dataclasses import replace

    from playwright.sync_api import expect

    from annotation.projects.settings import load_settings, save_settings

    create_user(db, username="marker", password=PASSWORD)
    step = "First 2+3 is 6, so the total is 12."
    records = [{"problem": "2+3, doubled?", "steps": [step, "So 12."], "label": 0, "final_answer_correct": False}]
    import_file(db, write_jsonl(tmp_path / "m.jsonl", records), project="Marking")
    save_settings(db, "Marking", replace(load_settings(db, "Marking"), taxonomy=("calculation", "logic")))
    set_members(db, project="Marking", usernames=["marker"])
    page = open_page("marker")
    open_annotate(page, "Trace #1")
    page.locator(".rl-title").first.click()
    press(page, "h")
    box = page.get_by_role("textbox", name="Mark words of step 1")
    expect(box).to_be_focused()
    # With the mouse: select "is 6" (characters 10-14) as the browser would after a drag.
    box.evaluate("(b) => b.setSelectionRange(10, 14)")
    page.keyboard.press("1")
    expect(page.locator('.rl-step[data-step="0"] .rl-span-text')).to_have_text("is 6")
    # With the keyboard: the caret to the start of "12", then Shift+Right twice.
    box.evaluate("(b) => b.setSelectionRange(32, 32)")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("2")
    expect(page.locator('.rl-step[data-step="0"] .rl-span-text')).to_have_text(["is 6", "12"])
    # The step shows as plain text while marking, the marked words highlighted in their type's colour.
    highlights = page.locator('.rl-step[data-step="0"] .rl-plain-text mark')
    expect(highlights).to_have_text(["is 6", "12"])
    expect(highlights.first).to_have_class("c0")
    page.keyboard.press("Escape")
    # Click a highlight to edit its span: a note, and another type.
    highlights.nth(1).click()
    expect(page.get_by_role("textbox", name='Note on "12"')).to_be_focused()
    page.keyboard.type("doubles the wrong sum")
    page.get_by_role("combobox", name='Error type of "12"').select_option("calculation")
    release_focus(page)
    press(page, "3", "First error: Step 1.")
    saved(page)

    page.reload()
    expect(page.get_by_role("heading", name="Trace #1")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_role("combobox", name='Error type of "is 6"')).to_have_value("calculation")
    expect(page.get_by_role("textbox", name='Note on "12"')).to_have_value("doubles the wrong sum")
    page.locator(".rl-title").first.click()
    press(page, "v")  # plain text with the highlights, after a reload too
    expect(page.locator('.rl-step[data-step="0"] .rl-plain-text mark')).to_have_text(["is 6", "12"])
    press(page, "v")
    expect(page.locator('.rl-step[data-step="0"] .rl-plain-text')).to_be_hidden()
    press(page, "Control+Enter")
    expect(page.get_by_text("Nothing left for you in this project")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    judged = load_traces(db, "Marking")[0].judgments["human:marker"]
    assert [(x.start, x.end, x.type, x.note) for x in judged.spans] == [
        (10, 14, "calculation", ""),
        (32, 34, "calculation", "doubles the wrong sum"),
    ]
    assert step[10:14] == "is 6" and step[32:34] == "12"


def test_missing_steps_propagated_errors_a_corrected_answer_and_marked_answer_words(open_page, db, tmp_path):
    from dataclasses import replace

    from playwright.sync_api import expect

    from annotation.projects.settings import load_settings, save_settings

    create_user(db, username="finer", password=PASSWORD)
    steps = ["Halve 10: 4.", "Add 3: 4 + 3 = 7.", "So 7."]
    records = [{"problem": "Halve 10, add 3.", "steps": steps, "answer": "The answer is 7."}]
    options = ConvertOptions(mapping=FieldMapping(answer="answer"))
    import_file(db, write_jsonl(tmp_path / "f.jsonl", records), project="Finer", fmt="generic", options=options)
    settings = load_settings(db, "Finer")
    save_settings(db, "Finer", replace(settings, taxonomy=("calculation", "missing check"), label_mode="every_step"))
    set_members(db, project="Finer", usernames=["finer"])
    page = open_page("finer")
    open_annotate(page, "Trace #1")
    page.locator(".rl-title").first.click()
    press(page, "3", "First error: Step 1.")
    press(page, "j")
    press(page, "3")
    press(page, "w")  # step 2 is wrong only because it builds on step 1
    expect(page.locator('.rl-step[data-step="1"] .rl-badge.because')).to_have_text("Wrong because of step 1")
    expect(page.get_by_role("combobox", name="What step 2 is wrong because of")).to_have_value("0")
    release_focus(page)
    press(page, "i")  # something is missing after step 2: a check of the halving
    kind = page.get_by_role("combobox", name="Type of what is missing after step 2")
    expect(kind).to_be_focused()
    kind.select_option("missing check")
    page.get_by_role("textbox", name="What is missing after step 2").fill("check 4 + 4 = 10")
    release_focus(page)
    press(page, "j")
    press(page, "3")
    press(page, "c")
    expect(page.get_by_role("textbox", name="Corrected answer (optional, C)")).to_be_focused()
    page.keyboard.type("The answer is 8.")
    page.get_by_role("button", name="Mark words of the answer").click()
    box = page.get_by_role("textbox", name="Mark words of the answer")
    expect(box).to_be_focused()
    box.evaluate("(b) => b.setSelectionRange(14, 15)")
    page.keyboard.press("1")
    expect(page.locator(".rl-answer-box .rl-span-text")).to_have_text("7")
    page.keyboard.press("Escape")
    saved(page)

    page.reload()
    expect(page.get_by_role("heading", name="Trace #1")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_role("textbox", name="What is missing after step 2")).to_have_value("check 4 + 4 = 10")
    expect(page.get_by_role("textbox", name="Corrected answer (optional, C)")).to_have_value("The answer is 8.")
    page.locator(".rl-title").first.click()
    press(page, "Control+Enter")
    expect(page.get_by_text("Nothing left for you in this project")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    judged = load_traces(db, "Finer")[0].judgments["human:finer"]
    assert judged.first_error == 0 and [s.because_of for s in judged.steps] == [None, 0, None]
    assert [(m.position, m.type, m.note) for m in judged.missing] == [(2, "missing check", "check 4 + 4 = 10")]
    assert judged.corrected_answer == "The answer is 8."
    assert [(x.step, x.field, x.start, x.end) for x in judged.spans] == [(None, "answer", 14, 15)]
