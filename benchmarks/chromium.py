"""The real app in headless Chromium, for benchmarks: start `streamlit run server.py`, sign in, time a key press.

A key press is timed inside the page, from the keydown event to the moment the DOM shows its effect (a
MutationObserver, a focus change, or a short poll, whichever sees it first), so Playwright's own round trip
is not counted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.utils.processes import free_port, served

__all__ = ["free_port", "served"]

CHROMIUM = os.environ.get("REDLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
TIMEOUT_MS = 60_000

# Installed in every page: the time of the last keydown, and a waiter for a condition on the DOM.
PROBE_JS = """
(() => {
  window.__lastKey = 0;
  window.addEventListener("keydown", () => { window.__lastKey = performance.now(); }, true);
  window.__arm = (source) => {
    const predicate = new Function(`return (${source});`);
    window.__took = new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        try { if (!predicate()) return; } catch (e) { return; }
        done = true;
        window.__doneAt = performance.now();
        observer.disconnect();
        clearInterval(timer);
        document.removeEventListener("focusin", finish, true);
        resolve(performance.now() - window.__lastKey);
      };
      const observer = new MutationObserver(finish);
      const everything = { subtree: true, childList: true, attributes: true, characterData: true };
      observer.observe(document.documentElement, everything);
      document.addEventListener("focusin", finish, true);
      const timer = setInterval(finish, 2);
    });
  };
})();
"""


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, **context: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, **context)
    ctx.add_init_script(PROBE_JS)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def sign_in(page: Any, url: str, username: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(url, timeout=TIMEOUT_MS)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible(timeout=TIMEOUT_MS)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not [c for c in page.context.cookies() if c["name"] == "redline_session"]:
        if time.monotonic() > deadline:
            raise RuntimeError("no sign-in cookie")
        page.wait_for_timeout(50)


def first_seen_ms(browser: Any, url: str, selector: str, storage: dict | None = None) -> float:
    """Milliseconds from the start of navigation to ``selector`` being in the page, in a fresh browser context
    (an empty cache: a cold open), timed in the page itself."""
    page = new_page(browser, storage_state=storage)
    watch = "new MutationObserver(() => { if (!window.__seenAt && document.querySelector(SELECTOR)) "
    watch += "window.__seenAt = performance.now(); }).observe(document, {subtree: true, childList: true});"
    page.context.add_init_script(watch.replace("SELECTOR", json.dumps(selector)))
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_function("window.__seenAt", timeout=TIMEOUT_MS)
    took = float(page.evaluate("window.__seenAt"))
    page.context.close()
    return took


def timed_press(page: Any, key: str, effect: str) -> float:
    """Milliseconds from pressing ``key`` until the JavaScript expression ``effect`` holds in the page."""
    page.evaluate("(source) => window.__arm(source)", effect)
    page.keyboard.press(key)
    return float(page.evaluate("window.__took"))
