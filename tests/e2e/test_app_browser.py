"""The real app, started as `make run` starts it, seen through Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from annotation.demo import DEMO_PROJECT
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("REDLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
START_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the app exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"the app did not serve within {START_TIMEOUT_S}s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def sync_playwright() -> Callable[[], Any]:
    """Playwright's entry point, once Chromium and Playwright are known to be there."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        skip_or_fail("REDLINE_REQUIRE_BROWSER", f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("REDLINE_REQUIRE_BROWSER", "Playwright for Python is not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def app_url(sync_playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run app.py` on a free port and a fresh SQLite file; stopped with its children afterwards."""
    folder = tmp_path_factory.mktemp("app")
    port = free_port()
    log = folder / "streamlit.log"
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{folder / 'redline.db'}",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, server, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture
def page(sync_playwright, app_url: str) -> Iterator[Any]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(app_url, timeout=PAGE_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def project_cell(page, name: str):
    # The table draws on a canvas; its cells are also kept in an accessible (hidden) grid.
    return page.get_by_role("gridcell", name=name, exact=True, include_hidden=True)


def test_home_shows_the_demo_project_and_import_opens(page):
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Redline")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    cell = project_cell(page, DEMO_PROJECT)
    expect(cell).to_be_attached(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_role("row", include_hidden=True).filter(has=cell)).to_contain_text("36")

    page.get_by_role("link", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="Import")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text("Upload a file or give a path on the server to begin.")).to_be_visible()
    assert page.url.rstrip("/").endswith("/import_data")


def test_import_a_server_file_then_see_it_on_home(page, tmp_path: Path):
    from playwright.sync_api import expect

    path = tmp_path / "browser.jsonl"
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
