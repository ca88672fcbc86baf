"""Real-browser fixtures: Debian's Chromium driven by Playwright, for what only a browser can show
(layout overflow on a phone, console errors, CSP violations, downloads).

No browser is ever downloaded (no `playwright install`): scripts/test.sh installs Debian's
`chromium` with apt-get. Without it these tests skip, naming the command; with CI=true they fail.
Every test using a page fails if the browser logged an error (a CSP violation, a failed load, an
uncaught exception), so each page a test visits is checked for those too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_CHROMIUM = "sudo apt-get install -y chromium chromium-driver"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

_errors: dict[Page, list[str]] = {}


# One browser per test module, not per session: while Playwright's sync API is alive it marks an
# asyncio loop as running in this thread, so asyncio.run() in any later test here would fail.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM}: run `{INSTALL_CHROMIUM}`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    # Chromium's sandbox cannot start as root (CI runs the suite as root).
    arguments = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=arguments)
        yield browser
        browser.close()


def _open_page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    errors = _errors[page] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    yield page
    context.close()
    del _errors[page]
    assert errors == [], f"the browser reported errors: {errors}"


# The tabs take `server` so that they close before it stops: a tab still fetching (the favicon
# comes after the load event) would otherwise log the closed connection as an error.
@pytest.fixture
def page(chromium, server) -> Iterator[Page]:
    """A fresh browser tab (own cookies) at desktop width, 1280 px."""
    yield from _open_page(chromium, DESKTOP)


@pytest.fixture
def phone_page(chromium, server) -> Iterator[Page]:
    """A fresh browser tab at a phone's width, 390 px."""
    yield from _open_page(chromium, PHONE)


def console_errors(page: Page) -> list[str]:
    """What the browser has reported as errors in this page so far: the list the fixture checks
    at the end, so a test that provokes an error on purpose clears it."""
    return _errors[page]


def signed_in(page: Page, server, api_key: str) -> Page:
    """Signs in through the form, as a person would; the page ends on the projects list."""
    page.goto(f"{server.url}/sign-in")
    page.fill("#api_key", api_key)
    page.click("button:text('Sign in')")
    page.wait_for_url(f"{server.url}/")
    return page


def overflows_horizontally(page: Page) -> bool:
    """Whether the page is wider than the window, so that it scrolls sideways."""
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
