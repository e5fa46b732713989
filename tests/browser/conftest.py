"""The browser suite: one live app (its own SQLite database, the demo seeded) and one Chromium for the whole folder,
a new browser context (fresh cookies) per test. Debian's chromium is used as installed; nothing is downloaded.

Screenshots go to test-results/browser/<test>/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.server import LiveServer, build_app, serve
from tests.browser.ui import Browse, Watch

CHROMIUM = Path("/usr/bin/chromium")
RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "browser"


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """The suite's rolled-back transaction (tests/conftest.py) is for the test database; the browser tests work on
    the live server's own database instead, so they neither need nor build the test one."""


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if running := os.environ.get("BROWSER_TEST_URL"):  # while writing a test: an app already serving the demo
        yield LiveServer(app=None, url=running.rstrip("/"))
        return
    app = build_app(tmp_path_factory.mktemp("browser-app"))
    with serve(app) as server:
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    folder = RESULTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def browse(browser: Browser, live_server: LiveServer, shots: Path) -> Iterator[Callable[[str], Browse]]:
    """`browse(role)`: a new browser context logged in as the demo login of that role."""
    contexts = []

    def open_as(role: str) -> Browse:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        watch = Watch(origin=live_server.url)
        watch.attach(page)
        session = Browse(page=page, watch=watch, base_url=live_server.url, shots=shots / role)
        session.shots.mkdir(exist_ok=True)
        session.step(f"Log in as {role}", lambda: session.log_in(role))
        return session

    yield open_as
    for context in contexts:
        context.close()
