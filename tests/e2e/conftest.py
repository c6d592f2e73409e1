"""The real app, started as `make run` starts it, seen through Chromium: server, browser and sign-in fixtures."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from annotation.accounts.users import create_user
from annotation.ops.startup import prepare
from benchmarks.chromium import CHROMIUM, chromium
from tests.conftest import skip_or_fail
from tests.utils.processes import served

PAGE_TIMEOUT_MS = 30_000

# Accounts every browser test may sign in with: username -> role. The password is shared.
ACCOUNTS = {"admin": "admin", "ann1": "annotator", "ann2": "annotator"}
PASSWORD = "browser-password-1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


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
def app_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The app's SQLite URL: the demo project and the ACCOUNTS, for tests to add their own data to."""
    folder = tmp_path_factory.mktemp("app-db")
    database_url = f"sqlite:///{folder / 'redline.db'}"
    engine = prepare(database_url, load_demo=True)
    for username, role in ACCOUNTS.items():
        create_user(engine, username=username, password=PASSWORD, role=role)
    engine.dispose()
    return database_url


@pytest.fixture(scope="module")
def import_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's REDLINE_IMPORT_DIR: the only folder a path typed on the Import page may reach."""
    return tmp_path_factory.mktemp("imports")


@pytest.fixture(scope="module")
def app_url(
    sync_playwright, app_database: str, import_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`streamlit run server.py` (the app and its cookie routes) on a free port and a fresh SQLite file; stopped
    with its children afterwards."""
    folder = tmp_path_factory.mktemp("app")
    with served(app_database, folder / "streamlit.log", env={"REDLINE_IMPORT_DIR": str(import_folder)}) as url:
        yield url


@pytest.fixture
def browser(sync_playwright) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    from playwright.sync_api import expect

    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def wait_for_sign_in_cookie(page: Any) -> dict[str, Any]:
    """The browser fetches its sign-in cookie a moment after signing in; a load before then is signed out."""
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        found = [c for c in page.context.cookies() if c["name"] == "redline_session"]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError("the browser never received its sign-in cookie")


@pytest.fixture
def open_page(browser, app_url: str) -> Callable[..., Any]:
    """A fresh browser context (its own session) on the app, signed in as ``username`` unless None."""

    def open_(username: str | None = "admin") -> Any:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(app_url, timeout=PAGE_TIMEOUT_MS)
        if username is not None:
            sign_in(page, username)
        return page

    return open_


@pytest.fixture
def page(open_page) -> Any:
    """The app signed in as the admin."""
    return open_page("admin")


def choose(page: Any, label: str, option: str, *, exact_label: bool = False) -> None:
    """Pick ``option`` in the select box labelled ``label``. A click that lands while the page reruns may not open
    the list, or the option may be redrawn under it: the whole pick is tried again."""
    from playwright.sync_api import Error, expect

    wanted = page.get_by_role("option", name=option)
    for attempt in range(4):
        try:
            page.get_by_label(label, exact=exact_label).click(timeout=5000)
            expect(wanted).to_be_visible(timeout=3000)
            wanted.click(timeout=5000)
            return
        except (AssertionError, Error):
            if attempt == 3:
                raise
            page.keyboard.press("Escape")
            page.wait_for_timeout(300)
