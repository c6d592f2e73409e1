"""Export in the real app, through Chromium: an admin chooses a format, prepares the export and downloads a file
that parses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import PAGE_TIMEOUT_MS, choose


def test_admin_downloads_a_processbench_export_that_parses(page, tmp_path: Path):
    from playwright.sync_api import expect

    page.get_by_role("link", name="Export", exact=True).click()
    expect(page.get_by_role("heading", name="Export")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    choose(page, "Format", "ProcessBench (processbench)", exact_label=True)
    # While the page reruns for the new format, the preview of the last run may still stand beside the new one.
    expect(page.get_by_text("First records").first).to_be_visible(timeout=PAGE_TIMEOUT_MS)

    page.get_by_role("button", name="Prepare export").click()
    download_button = page.get_by_role("button", name="Download data", exact=True)
    expect(download_button).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    with page.expect_download(timeout=PAGE_TIMEOUT_MS) as info:
        download_button.click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert download.suggested_filename.endswith("-processbench.jsonl")
    assert len(rows) == 36  # the demo project's traces, each with its reference label
    assert set(rows[0]) == {"id", "generator", "problem", "steps", "final_answer_correct", "label"}
    assert {r["label"] for r in rows} >= {-1, 1}
    assert all(r["label"] == -1 or 0 <= r["label"] < len(r["steps"]) for r in rows)


def test_annotators_have_no_export_page(open_page):
    from playwright.sync_api import expect

    page = open_page("ann1")
    expect(page.get_by_role("link", name="Home", exact=True)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_role("link", name="Export", exact=True)).to_have_count(0)
