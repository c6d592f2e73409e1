"""The disagreement browser in the real app: import a critic's predictions, then walk through where it differs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import PAGE_TIMEOUT_MS

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


def choose(page, label: str, option: str) -> None:
    from playwright.sync_api import expect

    wanted = page.get_by_role("option", name=option)
    for _ in range(3):  # a click that lands while the page reruns does not open the list
        page.get_by_label(label).click()
        try:
            expect(wanted).to_be_visible(timeout=3000)
            break
        except AssertionError:
            continue
    wanted.click()


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

    page.get_by_role("tab", name="Disagreements").click()
    expect(page.get_by_text("2 of 2 disagreements")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    choose(page, "Open a trace", "trace 3 · A flags too early · model:processbench-predictions vs reference")

    expect(page.get_by_text("Sam has <b>2</b> pens and buys 2 more. How many?", exact=True)).to_be_visible(
        timeout=PAGE_TIMEOUT_MS
    )
    expect(page.get_by_text("1. Sam starts with 2 pens.", exact=True)).to_be_visible()
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
