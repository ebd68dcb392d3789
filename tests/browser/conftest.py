"""A real browser on the admin: Playwright driving Debian's Chromium against pytest-django's
live server. Screenshots of a failed step go to var/browser-screenshots/."""

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "browser-screenshots"


def pytest_collection_modifyitems(config, items):
    """Without Chromium a developer's run skips the browser tests and says why; CI installs it
    (.ci/run), so there a missing browser is a failure, never a silent skip."""
    if CHROMIUM.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(
        reason="/usr/bin/chromium is missing: `apt-get install -y chromium` to run the browser "
        "tests (CI installs it)"
    )
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


class Steps:
    """Names the step a test is in; a failing step leaves a screenshot and prints its path."""

    def __init__(self, page, test_name: str):
        self.page = page
        self.test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name)
        self.done: list[str] = []

    @contextmanager
    def __call__(self, name: str):
        try:
            yield
        except BaseException:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
            path = SCREENSHOTS / f"{self.test_name}-{len(self.done) + 1:02d}-{slug}.png"
            try:
                self.page.screenshot(path=str(path), full_page=True)
                print(f"\nbrowser step '{name}' failed; screenshot: {path}")
            except Exception as exc:  # the page itself may be gone
                print(f"\nbrowser step '{name}' failed; no screenshot ({exc})")
            raise
        self.done.append(name)


@pytest.fixture
def page(live_server, monkeypatch):
    """A fresh Chromium per test, started after the test database and the live server (a
    session-wide one would keep Playwright's event loop in this thread for every later test).
    Playwright's sync API runs that loop in this thread: the test's own ORM calls, made
    between browser steps, are ordinary blocking calls."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1400, "height": 1000}
        )
        context.set_default_timeout(20_000)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def steps(page, request):
    return Steps(page, request.node.name)
