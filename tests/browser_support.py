"""Helpers for driving the Streamlit app in Debian's chromium through Playwright.

Import them in tests with ``from browser_support import ...`` (pytest puts ``tests/`` on ``sys.path``).
The fixtures built on them live in ``tests/conftest.py``.

- ``start_server(app="app.py")``: context manager, starts a *fresh* ``streamlit run`` on a free port,
  yields its base URL (``http://127.0.0.1:PORT``, no trailing slash), stops it on exit.
- ``launch_browser(playwright)``: Debian chromium with the flags this machine needs.
- ``wait_for_app(page)``: returns once the Streamlit script run has finished.
- ``assert_no_error(page)``: fails if an exception / error box / "Traceback" / error modal is visible.
- ``screenshot(page, name)``: saves ``<screenshots dir>/<name>.png`` and returns the path.
- ``eventually(read, check)``: Playwright's ``expect.poll`` for Python, for what no ``expect`` reads (a figure's
  data, the address bar's query, a computed style); ``settled(read)``: a snapshot once it stops changing;
  ``expect_query(page, expected)``: waits for the link. Every assertion on the page waits: a bare
  ``inner_text()`` / ``count()`` / ``evaluate()`` followed by an assert is a flaky test on a busy machine.
- ``still(locator)``: waits until an element has stopped moving (after a scroll, while an expander opens);
  ``drawn_in_view(page)``: until the charts in the viewport have drawn. No test waits a fixed time
  (``page.wait_for_timeout``) for something to happen: a loaded machine can take longer than any guess.

The selectors below were checked against the streamlit 1.67.0 frontend bundle
(``streamlit/static/static/js/index.*.js``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
# How long a browser test waits for the page (expect(), Playwright's actions, eventually()): a chart on a 2-core
# machine shared with other work took over 30 s at load average 15. Waits end as soon as the page is there.
WAIT_MS = 60_000
EXPECT_TIMEOUT_S = WAIT_MS / 1000

CHROMIUM = os.environ.get("GRU_VIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 720}

# <div data-testid="stApp" data-test-script-state=... data-test-connection-state=...>
# script state: "initial" until the first run, then running / notRunning / rerunRequested /
# stopRequested / compilationError; connection state: INITIAL / CONNECTING / CONNECTED / ...
APP = '[data-testid="stApp"]'
RUNNING_INDICATORS = ", ".join(
    f'[data-testid="{t}"]' for t in ("stStatusWidgetRunningIcon", "stStatusWidgetRunningManIcon", "stSpinner")
)
# st.exception / uncaught exceptions render stException; st.error (and the exception box) render
# the alert content as data-testid="stAlertContent" + kind ("Error", "Warning", ...).
ERROR_BOXES = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# Frontend error modals (showError: "Page not found", "Connection error", "Bad message format").
ERROR_MODAL = re.compile(r"Page not found|Connection error|Bad message format|Traceback")


# --------------------------------------------------------------------------- artifacts


@cache
def run_id() -> str:
    """One timestamp per pytest session, used to name the artifact folders."""
    return time.strftime("%Y%m%d-%H%M%S")


def screenshots_dir() -> Path:
    """``$GRU_VIZ_SCREENSHOTS`` or ``test-artifacts/screenshots/<YYYYmmdd-HHMMSS>/``."""
    override = os.environ.get("GRU_VIZ_SCREENSHOTS")
    return Path(override).resolve() if override else ROOT / "test-artifacts" / "screenshots" / run_id()


def logs_dir() -> Path:
    return ROOT / "test-artifacts" / "logs" / run_id()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` as ``<screenshots_dir()>/<name>.png`` and return its path."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "screenshot"
    if not safe.endswith(".png"):
        safe += ".png"
    path = screenshots_dir() / safe
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


# --------------------------------------------------------------------------- server


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a server a test starts: this one without the tests' own switches (a real server uses
    its job workers: GRU_VIZ_JOBS=inline is for AppTest in the test process)."""
    return {**{k: v for k, v in os.environ.items() if k != "GRU_VIZ_JOBS"}, "PYTHONUNBUFFERED": "1", **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


def stop_process(proc: subprocess.Popen) -> None:
    """Stop a server started in its own session: SIGTERM to its process group, SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # own session: the group id is the server's pid
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def start_server(app: str | os.PathLike = "app.py", *, timeout: float = 60.0,
                 env: dict[str, str] | None = None) -> Iterator[str]:
    """Start a fresh ``streamlit run <app>`` (with ``env`` added to its environment) and yield its base URL, e.g.
    ``http://127.0.0.1:8765``.

    ``app`` is relative to the repo root (or absolute); the server's cwd is the app's folder.
    The server's output goes to ``test-artifacts/logs/<run>/streamlit-<port>.log``; if it does not
    answer ``GET /_stcore/health`` with ``ok`` within ``timeout`` s, this fails with that log.
    """
    import pytest

    app_path = (ROOT / app).resolve()
    if not app_path.is_file():
        pytest.fail(f"streamlit app not found: {app_path}", pytrace=False)
    logs_dir().mkdir(parents=True, exist_ok=True)
    for attempt in range(3):  # a free port can be taken between probing and binding
        port = free_port()
        log_path = logs_dir() / f"streamlit-{port}.log"
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(app_path),
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            # Tests must not rerun because someone edits a file in the tree meanwhile.
            "--server.fileWatcherType", "none",
        ]  # fmt: skip
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=app_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=server_env(**(env or {})),
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.read().decode().strip() == "ok":
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"streamlit did not become healthy at {url} within {timeout:.0f}s.\n"
                        f"$ {' '.join(cmd)}\n--- {log_path} ---\n{_tail(log_path)}",
                        pytrace=False,
                    )
                time.sleep(0.2)
            if proc.poll() is not None:
                log_text = _tail(log_path)
                if "already in use" in log_text and attempt < 2:
                    continue
                pytest.fail(
                    f"streamlit exited with code {proc.returncode} before serving {url}.\n"
                    f"$ {' '.join(cmd)}\n--- {log_path} ---\n{log_text}",
                    pytrace=False,
                )
            yield url
            return
        finally:
            stop_process(proc)


# --------------------------------------------------------------------------- browser


def launch_browser(playwright: Playwright) -> Browser:
    """Launch Debian's chromium; fail (never skip) with a clear message if it is missing."""
    import pytest

    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Browser tests need Debian's chromium at {CHROMIUM} (not found). "
            "Run `bash scripts/bootstrap.sh` (apt-get install chromium). "
            "Do not use `playwright install`.",
            pytrace=False,
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


_FINISHED_JS = """([app, busy]) => {
  const el = document.querySelector(app);
  if (!el || el.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  const s = el.getAttribute('data-test-script-state');
  if (s !== 'notRunning' && s !== 'compilationError') return false;
  return document.querySelector(busy) === null;
}"""


def _app_state(page: Page) -> str:
    try:
        return page.evaluate(
            """(app) => { const el = document.querySelector(app);
                return el ? `script-state=${el.getAttribute('data-test-script-state')} `
                          + `connection-state=${el.getAttribute('data-test-connection-state')}`
                          : 'no stApp element'; }""",
            APP,
        )
    except Exception as exc:
        return f"<could not read state: {exc}>"


def wait_for_app(page: Page, *, timeout: float = 60_000, settle: float = 250, verdict: bool = True) -> None:
    """Wait (ms) until the script run is finished: stApp is CONNECTED with script state
    ``notRunning`` (or ``compilationError``), and no running icon / ``stSpinner`` is shown.

    The condition must still hold ``settle`` ms later: right after an interaction the frontend is
    still ``notRunning`` from the previous run until the server reports that the rerun started.

    The live-check badge's verdict arrives with a rerun of the whole page ("Checking against PyTorch…" until
    then): the app is not settled while it shows, since a click landing on that rerun can be lost
    (``verdict=False`` where the job worker is known to be busy with other work for longer).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout / 1000
    while True:
        remaining = max((deadline - time.monotonic()) * 1000, 1)
        try:
            page.wait_for_function(_FINISHED_JS, arg=[APP, RUNNING_INDICATORS], timeout=remaining)
        except PlaywrightTimeout:
            state = _app_state(page)
            raise AssertionError(
                f"Streamlit app at {page.url} still running after {timeout / 1000:.0f}s ({state})"
            ) from None
        page.wait_for_timeout(settle)
        if page.evaluate(_FINISHED_JS, [APP, RUNNING_INDICATORS]) and not (
                verdict and page.get_by_text("Checking against PyTorch…").count()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Streamlit app at {page.url} did not settle within {timeout / 1000:.0f}s "
                                 f"({_app_state(page)})")


def type_sequence(page, text: str, source: str | None = None):
    """Type ``text`` into the sidebar's sequence box and submit it (Ctrl+Enter), after picking the input
    ``source`` radio (e.g. "text") if given; returns the text area. The caller waits for the run."""
    sidebar = page.get_by_test_id("stSidebar")
    if source is not None:
        sidebar.get_by_role("radio", name=source, exact=True).click()
        wait_for_app(page)
    area = sidebar.get_by_test_id("stTextArea").locator("textarea")
    area.fill(text)
    area.press("Control+Enter")
    return area


def assert_no_error(page: Page, timeout: float = 5_000) -> None:
    """Fail if the page shows an exception, an error box, a Streamlit error modal or "Traceback".

    Each check waits (up to ``timeout`` ms) for the thing to be gone, so an element of the previous run that
    the frontend is still removing does not count; what stays is reported with its text.
    """
    from playwright.sync_api import expect

    problems = []
    checks = (
        ("error box", page.locator(ERROR_BOXES)),
        ("error modal", page.locator('[data-testid="stDialog"]').filter(has_text=ERROR_MODAL)),
        ("the text 'Traceback' is visible", page.get_by_text("Traceback").filter(visible=True)),
    )
    for what, found in checks:
        try:
            expect(found).to_have_count(0, timeout=timeout)
        except AssertionError:
            texts = [t.strip()[:500] for t in found.all_inner_texts()] if what != checks[2][0] else []
            problems += [f"{what}: {t}" for t in texts] or [what]
    state = _app_state(page)
    if "compilationError" in state:
        problems.append(f"script did not compile ({state})")
    assert not problems, f"{page.url} shows errors:\n" + "\n".join(problems)


def url_query(url: str) -> dict[str, str]:
    """The query string of ``url`` as a dict (the last value of a repeated key), as the pages read it."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def eventually(read: Callable[[], T], check: Callable[[T], bool], *, timeout: float = EXPECT_TIMEOUT_S,
               interval: float = 0.25, what: str = "the page") -> T:
    """Playwright's ``expect.poll`` for Python (which has none): call ``read()`` until ``check`` holds for its
    value, and return that value; after ``timeout`` s fail with the last value. A ``read`` that raises (the
    element is not drawn yet) is tried again."""
    deadline = time.monotonic() + timeout
    last: object = "<never read>"
    error = ""
    while True:
        try:
            value = read()
            last, error = value, ""
            if check(value):
                return value
        except Exception as exc:  # not there yet
            error = f" ({type(exc).__name__}: {str(exc)[:300]})"
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not get there within {timeout:.0f} s; last value: {last!r}{error}")
        time.sleep(interval)


def settled(read: Callable[[], T], *, quiet: float = 0.6, timeout: float = EXPECT_TIMEOUT_S,
            what: str = "the page") -> T:
    """``read()`` once it has stopped changing (the same value twice, ``quiet`` s apart): a snapshot of a page to
    compare with another one."""
    deadline = time.monotonic() + timeout
    before = read()
    while True:
        time.sleep(quiet)
        now = read()
        if now == before:
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} kept changing for {timeout:.0f} s")
        before = now


def stays(read: Callable[[], T], value: T, *, for_s: float = 1.2, interval: float = 0.3,
          what: str = "the page") -> None:
    """``read()`` keeps ``value`` for ``for_s`` seconds, sampled every ``interval`` s (what must not change, e.g.
    a paused animation)."""
    deadline = time.monotonic() + for_s
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = read()
        if now != value:
            raise AssertionError(f"{what} changed: {value!r} → {now!r}")


def expect_query(page: Page, expected: Mapping[str, str], *, exact: bool = True,
                 timeout: float = EXPECT_TIMEOUT_S) -> dict[str, str]:
    """Wait until the address bar's query is ``expected`` (``exact=False``: holds those keys with those values;
    a value None: the key is absent); the page writes the link after its run, so a bare read can be early."""

    def holds(query: dict[str, str]) -> bool:
        if exact:
            return query == dict(expected)
        return all(query.get(k) == v if v is not None else k not in query for k, v in expected.items())

    return eventually(lambda: url_query(page.url), holds, timeout=timeout, what=f"the link's query ({expected})")


CHART = '[data-testid="stPlotlyChart"]'


def open_with_charts(page: Page, url: str, timeout: float = 60_000) -> None:
    """Open ``url``, wait for the run and for a drawn Plotly chart (the run can finish before charts arrive)."""
    page.goto(url)
    wait_for_app(page, timeout=timeout)
    page.wait_for_selector(f"{CHART} .js-plotly-plot .main-svg")
    assert_no_error(page)


# Resolves once the element's box is the same over three animation frames (the browser's own clock, not a guessed
# pause); rejects if it still moves after 1200 frames (20 s at 60 frames a second).
_STILL_JS = """(el) => new Promise((resolve, reject) => {
  let last = null, same = 0, frames = 0;
  const look = () => {
    const r = el.getBoundingClientRect();
    const now = [r.x, r.y, r.width, r.height].join();
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= 2) resolve(true);
    else if (++frames > 1200) reject(new Error('still moving after 1200 frames: ' + now));
    else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})"""


def still(locator, timeout: float = WAIT_MS) -> None:
    """Wait until ``locator``'s element has stopped moving (a scroll, an opening expander): the same box over three
    animation frames. Then a screenshot shows it in place, and a click at computed coordinates lands."""
    locator.evaluate(_STILL_JS, timeout=timeout)


_DRAWN_IN_VIEW_JS = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]')).every((el) => {
  const r = el.getBoundingClientRect();
  return r.bottom <= 0 || r.top >= window.innerHeight || el.querySelector('.js-plotly-plot .main-svg') !== null;
})"""


def drawn_in_view(page: Page, timeout: float = WAIT_MS) -> None:
    """Wait until every Plotly chart in the viewport has drawn (charts draw when they scroll into view)."""
    page.wait_for_function(_DRAWN_IN_VIEW_JS, timeout=timeout)
