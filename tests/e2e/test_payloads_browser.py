"""Hostile text in Chromium: the payload corpus in problems, steps, answers, critiques (a person's and a model's),
guidelines, a project name and a display name. On Home, Annotate (reference and other judgments shown),
Admin, Compare (the hostile trace opened) and Check critiques, none runs and the spot-checked ones read as text.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from annotation.accounts.users import create_user, set_members
from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from annotation.ops.startup import prepare
from annotation.projects.settings import load_settings, save_settings
from storage import queries
from storage.db import session
from storage.tables import utcnow
from tests.e2e.conftest import ACCOUNTS, PAGE_TIMEOUT_MS, PASSWORD, choose
from tests.e2e.payloads import DATA_LINKS_JS, FINDINGS_JS, PAYLOADS, SPOT_CHECKS, combined

PROJECT = 'Hostile <img src=x onerror="top.redlinePwned=100">'
CRITIC = Source("model", "hostile-critic")
NAMES = list(PAYLOADS)
MALLORY = "mallory"


def hostile_file(folder: Path) -> Path:
    """One trace: a payload per step, all of them in the problem, answer, reference and the reference's critique."""
    record = {
        "problem": combined(),
        "steps": [f"{name}: {PAYLOADS[name]}" for name in NAMES],
        "answer": PAYLOADS["script"],
        "reference_answer": combined(["img-onerror", "latex-href", "markdown-javascript-link"]),
        "reference_solution": combined(),
        "generator": PAYLOADS["svg-onload"],
        "first_error": 2,
        "critique": combined(),
    }
    path = folder / "hostile.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def add_judgments(engine, trace_id: int) -> None:
    """A model critique that flags step 1 (the reference says 3) and a person's judgment, payloads in every critique."""
    labels = [StepLabel(verdict=1 if i else -1, critique=f"{name}: {PAYLOADS[name]}") for i, name in enumerate(NAMES)]
    model = Judgment(CRITIC, first_error=0, steps=labels, critique=combined())
    person_steps = [StepLabel(verdict=1, critique=PAYLOADS["script"]), StepLabel(-1, critique=combined())]
    person = Judgment(Source("human", "ann1"), first_error=1, steps=person_steps, critique=combined())
    with session(engine) as s:
        queries.insert_judgments(s, rows=[judgment_row(j, trace_id=trace_id, now=utcnow()) for j in (model, person)])
        s.commit()


@pytest.fixture(scope="module")
def app_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Only the hostile project (so every page opens on it), the usual accounts and one with a hostile name."""
    folder = tmp_path_factory.mktemp("hostile-app")
    url = f"sqlite:///{folder / 'redline.db'}"
    engine = prepare(url)
    for username, role in ACCOUNTS.items():
        create_user(engine, username=username, password=PASSWORD, role=role)
    create_user(engine, username=MALLORY, password=PASSWORD, display_name=combined(sep=" "))
    mapping = FieldMapping(
        answer="answer",
        reference_answer="reference_answer",
        reference_solution="reference_solution",
        generator="generator",
        first_error="first_error",
        critique="critique",
        step_split="list",
    )
    import_file(engine, hostile_file(folder), project=PROJECT, fmt="generic", options=ConvertOptions(mapping=mapping))
    with session(engine) as s:
        (trace,) = queries.traces_in(s, project_id=queries.get_project(s, name=PROJECT).id)
    add_judgments(engine, trace.id)
    # Two judgments per trace: ann1 has given one, so the admin is still served the trace.
    hostile_settings = replace(load_settings(engine, PROJECT), guidelines=combined(), judgments_per_trace=2)
    save_settings(engine, PROJECT, hostile_settings)
    set_members(engine, project=PROJECT, usernames=["ann1", "ann2", MALLORY])
    engine.dispose()
    return url


class Watch:
    """Dialogs and findings across one page's whole visit; reported together so one run names every leak."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        self.data_links: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"a {dialog.type} dialog opened: {dialog.message!r}")
        dialog.dismiss()

    def check(self, where: str) -> None:
        self.page.wait_for_timeout(500)  # an onerror/onload fires a moment after the element lands
        for finding in self.page.evaluate(FINDINGS_JS):
            self.problems.append(f"{where}: {finding}")
        if self.page.evaluate(DATA_LINKS_JS):
            self.data_links.append(where)
            self._click_a_data_link(where)

    def _click_a_data_link(self, where: str) -> None:
        """Markdown keeps [x](data:...) links; opening one must not run its page (Chromium refuses the navigation)."""
        context = self.page.context
        before = len(context.pages)
        visible = self.page.locator('a[href^="data:"]:visible')
        if not visible.count():  # only in a closed expander or tab here
            return
        visible.first.click()
        self.page.wait_for_timeout(1000)
        for other in context.pages[before:]:
            if other.url.startswith("data:"):
                self.problems.append(f"{where}: a data: link opened {other.url[:40]}")
            other.close()
        if self.page.evaluate("() => window.redlinePwned") is not None:
            self.problems.append(f"{where}: the data: link ran")

    def in_table(self, where: str, text: str) -> None:
        """A dataframe draws on a canvas; its cells are also in the page as an accessible grid."""
        try:
            cell = self.page.get_by_role("gridcell", name=text, include_hidden=True).first
            cell.wait_for(state="attached", timeout=PAGE_TIMEOUT_MS)
        except Exception:
            self.problems.append(f"{where}: {text!r} is not in the table as text")

    def shows_as_text(self, where: str, names: tuple[str, ...] = SPOT_CHECKS) -> None:
        for name in names:
            if self.page.get_by_text(PAYLOADS[name], exact=False).filter(visible=True).count() == 0:
                self.problems.append(f"{where}: payload {name!r} does not show as its text")


def go(page: Any, link: str, heading: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def toggle(page: Any, name: str) -> None:
    from playwright.sync_api import expect

    switch = page.get_by_role("switch", name=name)
    for _ in range(3):  # the page reruns after each change and may redraw the switch under the click
        expect(switch).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        try:
            switch.click(force=True, timeout=5000)
            expect(switch).to_be_checked(timeout=5000)
            return
        except (AssertionError, Exception):
            page.wait_for_timeout(500)
    expect(switch).to_be_checked()


def test_no_payload_runs_and_they_read_as_text_on_every_page(open_page):
    from playwright.sync_api import expect

    page = open_page("admin")
    watch = Watch(page)
    watch.check("Home")
    watch.in_table("Home (projects table)", PROJECT)

    go(page, "Annotate", "Trace #1")
    expect(page.get_by_text("template-injection: {{constructor").first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    toggle(page, "Show the reference answer and solution")
    toggle(page, "Show other judgments of this trace (3)")
    watch.check("Annotate")
    watch.shows_as_text("Annotate")

    go(page, "Admin", "Admin")
    watch.in_table("Admin (accounts table)", combined(sep=" ")[:60])
    page.get_by_role("tab", name="Projects").click()
    page.get_by_text("Preview of the guidelines").click()
    watch.check("Admin")
    watch.shows_as_text("Admin (guidelines preview)")

    go(page, "Compare", "Compare")
    page.get_by_role("tab", name="Disagreements").click()
    choose(page, "Open a trace", "trace 1 · A flags too early · model:hostile-critic vs reference")
    page.get_by_text("Critique of A · model:hostile-critic").click()
    watch.check("Compare")
    watch.shows_as_text("Compare")

    go(page, "Check critiques", "Check critiques")
    watch.check("Check critiques")
    watch.shows_as_text("Check critiques")

    # The watch itself can fail: a payload planted as HTML is caught.
    page.evaluate("""() => document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="top.redlinePwned=1">')""")
    planted = Watch(page)
    planted.check("planted")
    assert "planted: window.redlinePwned = 1" in planted.problems and "planted: img src=x" in planted.problems

    print(f"{len(PAYLOADS)} payloads; pages with a (refused) data: link: {watch.data_links}")
    assert not watch.problems, "\n".join(watch.problems)
