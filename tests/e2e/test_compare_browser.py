"""The disagreement browser in the real app: import a critic's predictions, then walk through where it differs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import PAGE_TIMEOUT_MS, choose

PROJECT = "Browser compare"


def predictions_file(tmp_path: Path) -> Path:
    """ProcessBench evaluation output: a critic that misses the error of record 1 and flags record 2 too early."""
    cases = [(-1, -1), (2, -1), (2, 0), (1, 1)]
    records = [
        {
            "id": f"gsm8k-{i}",
            "generator": "browser-writer",
            "problem": f"Sam has <b>{i}</b> pens and buys {i} more. How many?",
            "steps": [f"Sam starts with {i} pens.", f"He buys {i} more.", f"So he has {2 * i + 1} pens."],
            "label": label,
            "prediction": prediction,
            "generated_critique": f"Critique of record {i}: all <i>fine</i>",
            "match": label == prediction,
        }
        for i, (label, prediction) in enumerate(cases)
    ]
    path = tmp_path / "predictions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def import_predictions(page, path: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_role("textbox", name="…or a path on the server").fill(str(path))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Detected format: ProcessBench (processbench)")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.get_by_role("textbox", name="New project name").fill(PROJECT)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Traces: 4 added, 0 already present")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def test_walk_through_a_critics_disagreements(page, import_folder: Path):
    from playwright.sync_api import expect

    import_predictions(page, predictions_file(import_folder))
    page.get_by_role("link", name="Compare", exact=True).click()
    expect(page.get_by_role("heading", name="Compare")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    choose(page, "Project", PROJECT)

    # acc_error: 1 of 3 labelled errors found; acc_correct: 1 of 1.
    expect(page.get_by_text("4 pairs judged by both (3 where B has an error")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_test_id("stMetric").filter(has_text="Accuracy on B's errors")).to_contain_text("33.3%")
    expect(page.get_by_test_id("stMetric").filter(has_text="ProcessBench F1")).to_contain_text("50.0")
    # Issue 17: every card's title is whole, and the first-error chart draws its "no error" category.
    cut = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *')]
            .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)"""
    )
    assert cut == [], cut
    expect(page.locator(".js-plotly-plot .xtick text", has_text="no error").first).to_be_visible()
    # The first category's bars are drawn (three traces of the reference have no error).
    heights = page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')][0]
            .querySelectorAll('.barlayer .trace')[1].querySelectorAll('.point path')[0].getBBox().height"""
    )
    assert heights > 0

    page.get_by_role("tab", name="Disagreements").click()
    expect(page.get_by_text("2 of 2 disagreements")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    choose(page, "Open a trace", "trace 3 · A flags too early · model:processbench-predictions vs reference")

    expect(page.get_by_text("Sam has <b>2</b> pens and buys 2 more. How many?", exact=True)).to_be_visible(
        timeout=PAGE_TIMEOUT_MS
    )
    view = page.locator(".rl-judge")
    expect(view.locator('.rl-step[data-step="0"]')).to_contain_text("Sam starts with 2 pens.")
    # A (the critic) flags step 1; B (the reference) step 3.
    expect(page.get_by_text("wrong ◀ first error")).to_have_count(2)
    page.get_by_text("Critique of A · model:processbench-predictions").click()
    expect(page.get_by_text("Critique of record 2: all <i>fine</i>", exact=True)).to_be_visible()

    # Keep only the first two kinds (a false alarm, of which there is none, and a miss).
    for _ in range(4):
        page.get_by_label("Kinds of disagreement").click()
        page.keyboard.press("Backspace")
        page.keyboard.press("Escape")
    expect(page.get_by_text("1 of 2 disagreements")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_role("gridcell", name="A misses B's error", include_hidden=True)).to_be_attached()
    expect(page.get_by_role("gridcell", name="A flags too early", include_hidden=True)).to_have_count(0)


def test_an_annotator_never_sees_a_quality_control_traces_reference(open_page, app_database, import_folder):
    """Finding 3 in the real app: on a project that is not blind, an annotator comparing with `reference` saw
    the reference first error of every QC trace. Both traces below differ from ann1's judgment; the first is QC."""
    from playwright.sync_api import expect

    from annotation.accounts.users import set_members
    from annotation.core.model import Judgment, Source
    from annotation.importing.files import import_file
    from annotation.judgments.writing import JudgmentWrite, record
    from annotation.ops.startup import prepare
    from annotation.projects.settings import set_quality_control
    from annotation.projects.traces import load_traces
    from storage.db import session

    name = "QC answers"
    records = [
        {"id": f"qc-{i}", "problem": f"QC problem {i}", "steps": ["One.", "Two.", "Three."], "label": 2}
        for i in range(2)
    ]
    path = import_folder / "qc.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    engine = prepare(app_database)
    import_file(engine, path, project=name)
    set_quality_control(engine, name, positions=[0])
    set_members(engine, project=name, usernames=["ann1"])
    with session(engine) as s:
        mine = Judgment(Source("human", "ann1"), first_error=0)
        record(s, [JudgmentWrite(t.id, mine) for t in load_traces(engine, name)])
        s.commit()
    engine.dispose()

    def disagreements_seen(username: str) -> None:
        page = open_page(username)
        page.get_by_role("link", name="Compare", exact=True).click()
        choose(page, "Project", name)
        expect(page.get_by_label("B: measured against")).to_have_value("reference", timeout=PAGE_TIMEOUT_MS)
        page.get_by_role("tab", name="Disagreements").click()
        return page

    annotator = disagreements_seen("ann1")
    expect(annotator.get_by_text("1 of 1 disagreements")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    choose(annotator, "Open a trace", "trace 2 · A flags too early · human:ann1 vs reference")
    expect(annotator.get_by_text("QC problem 1", exact=True)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(annotator.get_by_text("QC problem 0", exact=True)).to_have_count(0)

    admin = disagreements_seen("admin")
    expect(admin.get_by_text("2 of 2 disagreements")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def test_both_sides_spans_are_highlighted_over_the_same_text(page, app_database, import_folder: Path):
    import re

    from playwright.sync_api import expect

    from annotation.core.model import Source
    from annotation.importing.files import import_file
    from annotation.importing.formats.base import ConvertOptions
    from annotation.ops.startup import prepare

    engine = prepare(app_database)
    answer = "It shipped on Sunday. So it came late."
    base = {"question": "When did A17 ship?", "passages": [["Orders", "A17 shipped on Monday."]], "gold": "Monday"}
    sides = {
        "ann1": [
            {"error type": "Wrong-Grounding", "explanation": "", "start": 14, "end": 20},
            {"error type": "Unverifiable", "explanation": "", "start": 28, "end": 37},
        ],
        "ann2": [{"error type": "Unverifiable", "explanation": "", "start": 22, "end": 37}],
    }
    for name, errors in sides.items():
        feedback = {"errors": errors, "missing-info": [], "corrected-prediction": ""}
        path = import_folder / f"spans-{name}.json"
        path.write_text(json.dumps([base | {"prediction 1": answer, "feedback": feedback}]), encoding="utf-8")
        options = ConvertOptions(label_source=Source("human", name), answer_split="sentences")
        import_file(engine, path, project="Compare spans", fmt="fgrlhf", options=options)

    page.get_by_role("link", name="Compare", exact=True).click()
    expect(page.get_by_role("heading", name="Compare")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    choose(page, "Project", "Compare spans")
    page.get_by_role("tab", name="Disagreements").click()
    choose(page, "Open a trace", re.compile(r"^trace 1 · .*human:ann\d vs human:ann\d$"))
    view = page.locator(".rl-judge")
    expect(view.locator('.rl-step[data-step="1"]')).to_contain_text("So it came late.", timeout=PAGE_TIMEOUT_MS)
    view.get_by_role("button", name=re.compile("^Plain text")).click()
    # The second sentence, which both marked: the same text once per side, each with its own highlights.
    both = view.locator('.rl-step[data-step="1"] .rl-plain-side')
    expect(both).to_have_count(2)
    expect(both.filter(has_text="human:ann1").locator("mark")).to_have_text(["came late"])
    expect(both.filter(has_text="human:ann2").locator("mark")).to_have_text(["So it came late"])
    expect(view.locator('.rl-step[data-step="0"] .rl-plain-side mark')).to_have_text(["Sunday"])
