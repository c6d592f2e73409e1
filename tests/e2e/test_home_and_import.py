"""Home and Import in the real app, through Chromium."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from annotation.projects.demo import DEMO_PROJECT
from tests.e2e.conftest import PAGE_TIMEOUT_MS

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def project_cell(page, name: str):
    # The table draws on a canvas; its cells are also kept in an accessible (hidden) grid.
    return page.get_by_role("gridcell", name=name, exact=True, include_hidden=True)


def test_home_shows_the_demo_project_and_import_opens(page):
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Redline", exact=True)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    cell = project_cell(page, DEMO_PROJECT)
    expect(cell).to_be_attached(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_role("row", include_hidden=True).filter(has=cell)).to_contain_text("36")
    page.wait_for_timeout(1000)  # let the chart draw before the README's screenshot
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home.png"))

    page.get_by_role("link", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="Import")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("Upload a file or give a path on the server to begin.")).to_be_visible()
    assert page.url.rstrip("/").endswith("/import_data")


def test_import_a_server_file_then_see_it_on_home(page, import_folder: Path):
    from playwright.sync_api import expect

    path = import_folder / "browser.jsonl"
    records = [
        {"id": f"b-{i}", "problem": f"Is <b>{i}</b> $even$?", "steps": ["Look at it.", "Decide."], "label": i - 1}
        for i in range(3)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    page.get_by_role("link", name="Import", exact=True).click()

    page.get_by_role("textbox", name="…or a path on the server").fill(str(path))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Detected format: ProcessBench (processbench)")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("Is <b>0</b> $even$?", exact=True)).to_be_visible()  # shown as written
    page.get_by_role("textbox", name="New project name").fill("Browser import")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_text("Traces: 3 added, 0 already present")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.get_by_role("link", name="Home", exact=True).click()
    expect(project_cell(page, "Browser import")).to_be_attached(timeout=PAGE_TIMEOUT_MS)


def test_the_database_path_is_refused_and_the_server_keeps_its_locks(page, app_database: str):
    """Finding 1: typing the SQLite file's own path once made the server open and close it with plain file
    I/O, dropping its SQLite locks; the next CLI command then deleted the WAL under the running server."""
    from playwright.sync_api import expect

    db_file = Path(make_url(app_database).database)
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_role("textbox", name="…or a path on the server").fill(str(db_file))
    page.keyboard.press("Enter")

    expect(page.get_by_text("files on the server are read only from the import folder")).to_be_visible(
        timeout=PAGE_TIMEOUT_MS
    )
    expect(page.get_by_text("invalid UTF-8")).to_have_count(0)
    # A CLI command opens and closes the database beside the server: the server's locks must still hold,
    # so the last connection to close is not this one and the WAL stays.
    done = subprocess.run(
        [sys.executable, "-m", "annotation", "projects"],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": app_database},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert db_file.with_name(db_file.name + "-wal").exists()
    integrity = sqlite3.connect(db_file).execute("PRAGMA integrity_check").fetchone()[0]
    assert integrity == "ok"
