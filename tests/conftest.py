"""Shared fixtures. Browser helpers live in ``tests/browser_support.py``; AppTest page runs go through
``tests/apptest_support.py`` (``open_page``, ``Page``), whose every run fails on an exception or an error box.

Fixtures
--------
- ``streamlit_server`` (session): base URL of one ``streamlit run app.py`` shared by all tests.
  For a *fresh* server (cold deep links) use ``with start_server() as url:`` from browser_support.
- ``browser`` (session): Debian chromium via Playwright; fails (never skips) if chromium is missing.
- ``page``: a new browser context + page per test, viewport 1280x720; on failure a screenshot
  ``FAILED-<test>.png`` is saved.
- ``screenshot``: the ``browser_support.screenshot(page, name) -> Path`` helper.

Mark browser tests with ``@pytest.mark.browser``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import pytest
from browser_support import ROOT, VIEWPORT, WAIT_MS, launch_browser, logs_dir, screenshots_dir, start_server
from browser_support import screenshot as take_screenshot
from hypothesis import HealthCheck, settings

# `import gru_viz` from the repo root, also when pytest is started as `.venv/bin/pytest`
# (`python -m pytest` already puts the cwd on sys.path).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# AppTest runs pages in this process: heavy jobs run in the page's thread there (gru_viz.serve.jobs), so a page is
# complete after one run. Real servers (browser_support.server_env) use their job workers.
os.environ.setdefault("GRU_VIZ_JOBS", "inline")

# Property tests judge answers, never speed: no per-example deadline and no "generation too slow" health check,
# which a loaded or slower machine trips without anything being wrong.
settings.register_profile("gru-viz", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gru-viz")


@pytest.fixture(scope="session")
def streamlit_server() -> Iterator[str]:
    with start_server() as url:
        yield url


EXPECT_TIMEOUT_MS = WAIT_MS  # Playwright's default is 5 s: too short for a chart on a busy 2-core machine


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        pytest.fail(f"Browser tests need playwright (pip install -r requirements.txt): {exc}", pytrace=False)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    pw = sync_playwright().start()
    try:
        browser = launch_browser(pw)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        yield page
        report = getattr(request.node, "_gru_viz_call_report", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):  # best effort: the page may be gone
                take_screenshot(page, f"FAILED-{request.node.name}")
    finally:
        context.close()


@pytest.fixture
def screenshot():
    return take_screenshot


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item._gru_viz_call_report = report
    return report


def pytest_terminal_summary(terminalreporter):
    shots = screenshots_dir()
    if shots.is_dir() and (pngs := sorted(shots.glob("*.png"))):
        terminalreporter.write_sep("-", "gru-viz browser artifacts")
        terminalreporter.write_line(f"screenshots ({len(pngs)}): {shots}")
        if logs_dir().is_dir():
            terminalreporter.write_line(f"streamlit logs: {logs_dir()}")
