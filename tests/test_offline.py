"""A classroom without internet: the server and every page make no request beyond the machine.

The server is started the README's way (`streamlit run app.py`, every interface, headless), with the proxy
variables that `requests` and `urllib` honour pointing at a local recorder: any HTTP(S) request the server makes
(Streamlit's start-up IP lookup, telemetry) lands there. The browser's context lets through only requests to
127.0.0.1 / localhost and aborts and records the rest. Every page of the menu then opens from a cold deep link and
must render: charts drawn, equations typeset, icons and fonts loaded (none failed), the favicon local.

The recorder does catch the server: without `browser.serverAddress` in .streamlit/config.toml, a headless
`streamlit run` sends `GET http://checkip.amazonaws.com/` through it at start-up (tried by hand); without the
page icon change, the first page's favicon link points at fonts.gstatic.com.
"""

from __future__ import annotations

import contextlib
import http.server
import subprocess
import sys
import threading
import time
import urllib.request
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from browser_support import (
    APP,
    ROOT,
    VIEWPORT,
    assert_no_error,
    eventually,
    free_port,
    logs_dir,
    server_env,
    stop_process,
    wait_for_app,
)
from playwright.sync_api import expect

from gru_viz.app.ui import PAGES

pytestmark = pytest.mark.browser

LOCAL = {"127.0.0.1", "localhost"}
# page → something on it that needs its assets: a chart, typeset equations
NEEDS = {
    "pages/step.py": ('[data-testid="stMain"] .js-plotly-plot .main-svg', '[data-testid="stMain"] .katex'),
    "pages/timeline.py": ('[data-testid="stMain"] .js-plotly-plot .main-svg',),
    "pages/compare.py": ('[data-testid="stMain"] .js-plotly-plot .main-svg',),
    "pages/gradients.py": ('[data-testid="stMain"] .js-plotly-plot .main-svg',),
}


class Recorder(http.server.BaseHTTPRequestHandler):
    """A stand-in proxy: records what the server tried to fetch and refuses it."""

    seen: ClassVar[list[str]] = []

    def _refuse(self) -> None:
        Recorder.seen.append(f"{self.command} {self.path}")
        self.send_response(502)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_HEAD = do_CONNECT = _refuse

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def offline_server():
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    port = free_port()
    logs_dir().mkdir(parents=True, exist_ok=True)
    log_path = logs_dir() / f"offline-{port}.log"
    env = {k: v for k, v in server_env().items() if k.lower() not in ("no_proxy", "http_proxy", "https_proxy")}
    env.update(HTTP_PROXY=proxy_url, HTTPS_PROXY=proxy_url, http_proxy=proxy_url, https_proxy=proxy_url,
               ALL_PROXY=proxy_url)
    env.pop("DISPLAY", None)  # headless, as on a server: the case where Streamlit looks up its external IP
    # The README's command: no --server.address (every interface), the repo's .streamlit/config.toml
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.fileWatcherType", "none"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log_path.read_text()
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok" and "URL:" in log_path.read_text():  # the banner has been printed
                        break
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        yield url, log_path
    finally:
        stop_process(proc)
        proxy.shutdown()


def test_no_request_leaves_the_machine(offline_server, browser) -> None:
    url, log_path = offline_server
    blocked: list[str] = []

    def route(r) -> None:
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in LOCAL:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context = browser.new_context(viewport=VIEWPORT)
    context.route("**/*", route)
    requested: list[str] = []
    context.on("request", lambda req: requested.append(req.url))
    try:
        for script, label, _icon in PAGES:
            page = context.new_page()
            path = "" if script == "app.py" else script.removeprefix("pages/").removesuffix(".py")
            page.goto(f"{url}/{path}?cell=gru&hidden=3&steps=20")
            wait_for_app(page, timeout=90_000)
            assert_no_error(page)
            expect(page.locator(APP)).to_have_attribute("data-test-connection-state", "CONNECTED")
            for selector in NEEDS.get(script, ()):
                expect(page.locator(selector).first).to_be_visible(timeout=60_000)
            # the icon font (menu icons) is loaded, no font failed, and the favicon is ours
            page.wait_for_function("() => document.fonts.status === 'loaded'", timeout=30_000)
            expect(page.get_by_test_id("stSidebar").get_by_test_id("stPageLink").first).to_be_visible()
            failed = page.evaluate("() => Array.from(document.fonts).filter((f) => f.status === 'error')"
                                   ".map((f) => f.family)")
            assert failed == [], f"{label}: fonts failed to load: {failed}"
            eventually(lambda p=page: p.evaluate("() => document.fonts.check('24px \"Material Symbols Rounded\"')"),
                       bool, what=f"{label}: the icon font")
            icons = page.evaluate("() => Array.from(document.querySelectorAll('link[rel~=\"icon\"]'))"
                                  ".map((l) => l.href)")
            assert icons, f"{label}: no favicon link"
            for href in icons:
                assert href.startswith(("data:", url)), f"{label}: the favicon comes from {href}"
            page.close()
    finally:
        context.close()
    outside = [u for u in requested if not u.startswith(("data:", "blob:")) and urlsplit(u).hostname not in LOCAL]
    assert blocked == [] and outside == [], f"the pages asked the internet for: {sorted(set(blocked + outside))}"
    assert Recorder.seen == [], f"the server asked the internet for: {Recorder.seen}"
    assert "External URL" not in log_path.read_text()
