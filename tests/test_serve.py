"""scripts/serve.sh: two Streamlit replicas behind nginx, driven by a real browser, with faults.

One server (module fixture) serves every test here, in file order:
- a cold deep link opens through nginx with the same view a single server gives;
- a second browser uploads a model on "Your model" and downloads exports through the proxy: the upload (PUT), the
  downloads (GET /media/…) and the websocket must all reach the session's own replica, which nginx's access
  log shows for every request, and a plain HTTP request for the same file with the other replica's cookie gets
  a 404 (that is what stickiness is for);
- SIGKILL of the replica serving a tab: the tab reconnects through nginx to the live one and shows the same view
  from its link with no error box; a tab whose own model lived on the killed replica is told it is gone; the
  replica is restarted and rejoins (requests with its cookie reach its new process);
- SIGSTOP (a hung replica): the health check takes it out of rotation, requests pinned to it go to the other
  one, and it comes back after SIGCONT;
- SIGTERM stops everything: serve.sh, nginx (and its workers) and every replica's process group.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from browser_support import (
    ROOT,
    VIEWPORT,
    assert_no_error,
    eventually,
    free_port,
    screenshot,
    server_env,
    settled,
    wait_for_app,
)
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERVE = ROOT / "scripts" / "serve.sh"
LINK = "/step?cell=lstm&hidden=6&gen=square&steps=30&seed=7&t=12&unit=3"
UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'
START_TIMEOUT = 240.0  # two cold replicas on a loaded 2-core machine
LOG_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d+) \d+ cookie=(?P<cookie>\S*) '
                      r"upstream=(?P<upstream>.*) rt=")


@dataclass
class Served:
    base: str
    run: Path
    proc: subprocess.Popen
    log: Path
    pids: set[int] = field(default_factory=set)  # every replica process group ever started

    def replicas(self) -> dict[int, tuple[int, int, str]]:
        """index → (pid, port, state), as serve.sh last wrote them."""
        out = {}
        for line in (self.run / "replicas").read_text().splitlines():
            i, pid, port, state = line.split()
            out[int(i)] = (int(pid), int(port), state)
            self.pids.add(int(pid))
        return out

    def ports_of(self) -> dict[int, set[int]]:
        """port → replica indices that ever listened there (from serve.log: ports are picked afresh on restart)."""
        out: dict[int, set[int]] = {}
        for m in re.finditer(r"replica (\d+): started \(pid (\d+), 127\.0\.0\.1:(\d+)\)", self.log_text()):
            out.setdefault(int(m.group(3)), set()).add(int(m.group(1)))
            self.pids.add(int(m.group(2)))
        return out

    def log_text(self) -> str:
        return (self.run / "serve.log").read_text() if (self.run / "serve.log").exists() else ""

    def access(self) -> list[dict[str, str]]:
        text = (self.run / "nginx" / "access.log").read_text()
        return [m.groupdict() for m in LOG_LINE.finditer(text)]

    def own_line(self, seen: int, path: str, cookie: str) -> dict[str, str]:
        """The access-log line of the request just made (past the first ``seen`` lines): nginx writes it after the
        response, so an older line of the same path must not be taken for it."""
        mine = eventually(lambda: [r for r in self.access()[seen:] if r["path"] == path and r["cookie"] == cookie],
                          bool, timeout=10, what="the request's access-log line")
        return mine[-1]

    def wait_log(self, pattern: str, after: int = 0, timeout: float = 60.0) -> re.Match:
        """The first match of ``pattern`` in serve.log past offset ``after`` (waits for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if m := re.compile(pattern).search(self.log_text(), after):
                return m
            assert self.proc.poll() is None, f"serve.sh exited ({self.proc.returncode}):\n{self.log.read_text()}"
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in serve.log within {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def wait_state(self, index: int, state: str, timeout: float = 120.0) -> tuple[int, int, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rep = self.replicas().get(index)
            if rep and rep[2] == state:
                return rep
            time.sleep(0.2)
        raise AssertionError(f"replica {index} not {state} within {timeout:.0f} s:\n{self.log_text()[-3000:]}")


def get(url: str, cookie: str | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Cookie": f"gruviz={cookie}"} if cookie else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def alive(pid: int, group: bool = False) -> bool:
    try:
        os.killpg(pid, 0) if group else os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not group:  # a zombie is dead, whoever reaps it
        with contextlib.suppress(OSError):
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def leftovers(served: Served) -> list[str]:
    """Processes that outlived serve.sh: any replica's group, nginx, anything naming the run dir or a port."""
    ports = set(served.ports_of())
    found = [f"replica group {pid}" for pid in served.pids if alive(pid, group=True)]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if str(served.run) in cmd or any(f"--server.port {p} " in cmd + " " for p in ports):
                if alive(int(entry.name)):
                    found.append(f"{entry.name}: {cmd[:160]}")
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    run = tmp_path_factory.mktemp("serve") / "run"
    port = free_port()
    log = run.parent / "serve.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["bash", str(SERVE), "--replicas", "2", "--port", str(port), "--address", "127.0.0.1", "--run-dir",
             str(run), "--health-interval", "0.5", "--hung-after", "2", "--hung-kill-after", "120"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env=server_env())
    s = Served(f"http://127.0.0.1:{port}", run, proc, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "serving http://" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve.sh did not start (exit {proc.poll()}):\n{log.read_text()[-4000:]}", pytrace=False)
            time.sleep(0.3)
        s.replicas()
        yield s
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        s.ports_of()
        for pid in s.pids:  # never leave a replica behind, whatever failed above
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


# Script-state changes of the page, with their time (installed before the page's own scripts run).
STATE_LOG_JS = """
window.__runs = [];
new MutationObserver((records) => {
  for (const r of records)
    window.__runs.push([performance.now(), r.target.getAttribute('data-test-script-state')]);
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
"""
RERAN_JS = """(t0) => { let ran = false;
  for (const [t, s] of window.__runs) { if (t < t0) continue; if (s === 'running') ran = true;
    else if (ran && s === 'notRunning') return true; }
  return false; }"""

_PLOTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot'))
  .map((el) => JSON.stringify((el.data || []).map((t) => [t.type, t.x, t.y, t.z, t.text])))"""


def view(page) -> dict[str, object]:
    """What the page shows: heading, the main area's text and a digest of each figure's data."""
    expect(page.locator('[data-testid="stMain"] .js-plotly-plot').first).to_be_visible(timeout=60_000)
    # the live-check badge is "Checking against PyTorch…" until its job is done: compare views once it has settled
    expect(page.get_by_test_id("stMain")).not_to_contain_text("Checking against PyTorch", timeout=120_000)
    # a snapshot once it has stopped changing (the frontend may still be adding the run's last elements)
    return settled(lambda: {
        "heading": page.get_by_test_id("stHeading").locator("h1").first.inner_text(),
        "text": page.get_by_test_id("stMain").inner_text(),
        "figures": [hashlib.sha256(p.encode()).hexdigest()[:16] for p in page.evaluate(_PLOTS_JS)],
    }, what="the page's text and figures")


def cookie_of(context) -> str:
    return {c["name"]: c["value"] for c in context.cookies()}["gruviz"]


def served_port(upstream: str) -> int:
    """The port that finally answered (nginx lists every upstream it tried, the last one answered)."""
    return int(upstream.rsplit(",", 1)[-1].strip().rsplit(":", 1)[1])


def health_port(served: Served, cookie: str) -> int:
    """The port of the replica that answered a health request made now with ``cookie`` (it must answer "ok")."""
    seen = len(served.access())
    assert get(served.base + "/_stcore/health", cookie=cookie, timeout=10) == (200, b"ok")
    return served_port(served.own_line(seen, "/_stcore/health", cookie)["upstream"])


def test_cold_deep_link_through_nginx(served, browser) -> None:
    assert get(served.base + "/_stcore/health") == (200, b"ok"), "the proxy does not answer the health check"
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(served.base + LINK)
        wait_for_app(page, timeout=120_000)
        assert_no_error(page)
        expect(page.get_by_test_id("stHeading").locator("h1").first).to_have_text("Step through")
        expect(page.get_by_test_id("stMain")).to_contain_text("Step t = 12")
        expect(page.get_by_test_id("stMain")).to_contain_text("LSTM")
        assert re.fullmatch(r"r[12]", cookie_of(context))
        screenshot(page, "serve-cold-deep-link")
    finally:
        context.close()


def test_frontend_files_come_gzipped_from_nginx_and_replicas_preload(served) -> None:
    """Streamlit's frontend (8 MiB a student, uncompressed from a replica) comes from nginx's gzipped copy, with
    the right type (a module script as text/plain is refused) and Streamlit's immutable caching; the bytes are
    Streamlit's own. Each replica imported the app before its first session (gru_viz.app.replica)."""
    static = Path(importlib.util.find_spec("streamlit").origin).parent / "static"
    name = re.search(r'src="\./(static/js/index\.[^"]+\.js)"', (static / "index.html").read_text()).group(1)
    req = urllib.request.Request(f"{served.base}/{name}", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as r:
        body, headers = r.read(), r.headers
    assert headers["Content-Encoding"] == "gzip" and headers["Content-Type"] == "application/javascript", headers
    assert "immutable" in headers["Cache-Control"], headers
    assert gzip.decompress(body) == (static / name).read_bytes()
    assert len(body) < (static / name).stat().st_size / 2
    # a name nginx's copy lacks goes on to a replica (Streamlit answers an unknown path with its page)
    status, missing = get(f"{served.base}/static/js/not-a-streamlit-file.js")
    assert status == 200 and missing == (static / "index.html").read_bytes(), (status, missing[:200])
    for i in (1, 2):
        log = (served.run / "logs" / f"replica-{i}.log").read_text()
        assert "the app's modules imported in" in log, log[-2000:]


def test_upload_and_downloads_reach_the_sessions_replica(served, browser, tmp_path) -> None:
    from safetensors.numpy import load as load_safetensors

    from gru_viz.core.params import random_model
    from gru_viz.core.spec import Spec
    from gru_viz.io.weights import save_safetensors

    model = random_model(Spec("gru", 1, 3), seed=11)
    path = tmp_path / "class_gru.safetensors"
    path.write_bytes(save_safetensors(model))
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(served.base + "/your_model")
        wait_for_app(page, timeout=120_000)
        page.locator(UPLOADER).first.set_input_files(str(path))
        wait_for_app(page, timeout=60_000)
        assert_no_error(page)
        expect(page.get_by_role("combobox", name="Weights")).to_have_value("Your model: class_gru.safetensors")
        expect(page.get_by_text("Export the current model")).to_be_visible()
        mine = cookie_of(context)

        with page.expect_download(timeout=60_000) as info:  # a deferred download: made on the click
            page.get_by_role("button", name="Weights (.safetensors)").click()
        got = load_safetensors(Path(info.value.path()).read_bytes())
        for key, arr in model.params.items():
            np.testing.assert_array_equal(got[key], arr)
        with page.expect_download(timeout=60_000) as info:  # a plain media file of the session
            page.get_by_role("button", name="Python snippet (.py)").click()
        snippet = Path(info.value.path()).read_bytes()
        assert b"torch" in snippet
        media = info.value.url
        assert "/media/" in media, media

        # the same file over plain HTTP: found with this tab's cookie, not on the other replica
        other = "r2" if mine == "r1" else "r1"
        assert get(media, cookie=mine) == (200, snippet)
        status, _ = get(media, cookie=other)
        assert status == 404, f"the other replica served this session's file ({status}): the check is void"
    finally:
        context.close()

    ports = served.ports_of()
    mine_port = served.replicas()[int(mine[1:])][1]
    requests = [r for r in served.access() if r["cookie"] == mine]
    uploads = [r for r in requests if r["method"] == "PUT" and "/_stcore/upload_file/" in r["path"]]
    downloads = [r for r in requests if "/media/" in r["path"] and r["status"] == "200"]
    assert uploads and len(downloads) >= 2, requests[-10:]
    def stayed(requests: list[dict[str, str]]) -> None:  # every request of this tab reached its replica
        for r in requests:
            if r["upstream"] == "-":  # nginx served it from its own copy: only the frontend's files
                assert r["path"].startswith("/static/"), r
            else:
                assert served_port(r["upstream"]) == mine_port, f"{r} left replica {mine} ({ports})"

    stayed(requests)  # the websocket too, once it is logged (when it closed)
    deadline = time.monotonic() + 60  # nginx logs a websocket when it closes (a liveness bound, generous)
    while not any(r["path"].startswith("/_stcore/stream") and r["status"] == "101" for r in requests):
        assert time.monotonic() < deadline, f"no websocket of this tab in the access log: {requests[-10:]}"
        time.sleep(0.5)
        requests = [r for r in served.access() if r["cookie"] == mine]
    stayed(requests)


def test_killed_replica_the_tab_recovers_and_the_replica_rejoins(served, browser, tmp_path) -> None:
    from gru_viz.core.params import random_model
    from gru_viz.core.spec import Spec
    from gru_viz.io.weights import save_safetensors

    a_ctx = browser.new_context(viewport=VIEWPORT)
    b_ctx = browser.new_context(viewport=VIEWPORT)
    a_ctx.add_init_script(STATE_LOG_JS)
    try:
        a = a_ctx.new_page()
        a.goto(served.base + LINK)
        wait_for_app(a, timeout=120_000)
        before = view(a)
        victim = int(cookie_of(a_ctx)[1:])
        # B uploads its own model on the same replica as A (its cookie pins it there)
        b_ctx.add_cookies([{"name": "gruviz", "value": f"r{victim}", "url": served.base}])
        path = tmp_path / "own.safetensors"
        path.write_bytes(save_safetensors(random_model(Spec("gru", 1, 2), seed=3)))
        b = b_ctx.new_page()
        b.goto(served.base + "/your_model")
        wait_for_app(b, timeout=120_000)
        b.locator(UPLOADER).first.set_input_files(str(path))
        wait_for_app(b, timeout=60_000)
        b.get_by_test_id("stSidebar").get_by_test_id("stPageLink").filter(has_text="Step through").click()
        b.wait_for_url(re.compile(r"/step\?.*weights=session"), timeout=60_000)
        wait_for_app(b, timeout=60_000)
        expect(b.get_by_test_id("stMain")).to_contain_text("GRU, input 1, hidden 2")

        pid = served.replicas()[victim][0]
        mark = len(served.log_text())
        killed_at = a.evaluate("performance.now()")
        os.kill(pid, signal.SIGKILL)

        # A: same view, from its link, served by the other replica
        expect(a.get_by_test_id("stApp")).to_have_attribute("data-test-connection-state", "CONNECTED",
                                                             timeout=60_000)
        eventually(lambda: cookie_of(a_ctx), lambda cookie: cookie != f"r{victim}", timeout=90,
                   what="the tab's replica cookie (the reconnect's pings set it)")
        a.wait_for_function(RERAN_JS, arg=killed_at, timeout=90_000)  # a new run, not the stale page
        wait_for_app(a, timeout=60_000)
        assert_no_error(a)
        after = view(a)
        assert after == before
        screenshot(a, "serve-after-replica-killed")

        # B: the link still asks for its own model, which died with the replica: the page says so
        expect(b.get_by_test_id("stMain")).to_contain_text("not here", timeout=90_000)
        wait_for_app(b, timeout=60_000)
        assert_no_error(b)
        expect(b.get_by_test_id("stMain")).to_contain_text("upload or train it again")
        screenshot(b, "serve-session-model-gone")

        # serve.sh restarts it; it rejoins, and requests with its cookie reach the new process
        served.wait_log(rf"replica {victim}: exited", mark)
        new_pid, new_port, _ = served.wait_state(victim, "up")
        assert new_pid != pid
        served.wait_log(r"upstream: " + " ".join(f"r{i}=up" for i in range(1, 3)), mark)
        # nginx's master takes the reload when it gets to it (a new worker with the new upstreams), and no file
        # says when: ask until a request with the cookie reaches the new process
        eventually(lambda: health_port(served, f"r{victim}"), lambda port: port == new_port, timeout=60,
                   what=f"the port answering a request with cookie r{victim} (the new process: {new_port})")
    finally:
        a_ctx.close()
        b_ctx.close()


def test_hung_replica_leaves_rotation_and_comes_back(served) -> None:
    reps = served.replicas()
    assert all(state == "up" for _, _, state in reps.values()), reps
    pid, port, _ = reps[1]
    mark = len(served.log_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        served.wait_log(r"replica 1: no health answer for \d+ s: out of rotation", mark, timeout=30)
        served.wait_log(r"upstream: r1=out r2=up", mark, timeout=10)
        # the master takes the reload when it gets to it: ask until the request pinned to r1 is answered by r2
        eventually(lambda: health_port(served, "r1"), lambda port: port == reps[2][1], timeout=60,
                   what="the port answering a request pinned to the hung replica")
    finally:
        os.kill(pid, signal.SIGCONT)
    served.wait_log(r"replica 1: healthy again: into rotation", mark, timeout=30)
    assert served.replicas()[1][:2] == (pid, port)


def test_sigterm_stops_everything(served) -> None:
    served.replicas()
    nginx_pid = int((served.run / "nginx" / "nginx.pid").read_text())
    workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(nginx_pid)], capture_output=True,
                                              text=True).stdout.split()]
    assert workers, "no nginx worker found"
    os.kill(served.proc.pid, signal.SIGTERM)
    assert served.proc.wait(30) == 0
    assert "stopped" in served.log_text()
    deadline = time.monotonic() + 60  # a liveness bound: they go as soon as they can, however busy the machine
    while (left := leftovers(served) + [str(p) for p in [nginx_pid, *workers] if alive(p)]) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"left behind: {left}"
    assert all(state == "stopped" for _, _, state in served.replicas().values())
