"""A classroom at once: N sessions open one shared link on a real ``streamlit run`` and click through it.

Run (40 sessions: 4 real chromium pages + 36 protocol-level clients, 10 interactions each):

    .venv/bin/python benchmarks/load_test.py --sessions 40 --browser-sessions 4 --interactions 10

Options: ``--url http://127.0.0.1:PORT`` drives a server that is already running instead of starting one;
``--link "/step?cell=gru&hidden=8&t=5"`` is the shared deep link; ``--think 1 3`` the pause between a
session's interactions (uniform, seconds); ``--ramp 3`` spreads the sessions' first requests over 3 s (a link
pasted in a chat); ``--duration-cap 300`` bounds the whole run; ``--out results.md`` also writes the report.

What a session is
-----------------
- *browser*: a Playwright context in Debian's chromium (``/usr/bin/chromium``), all in one browser process.
  An interaction is a click/keypress; its latency is from the interaction to the moment the app's
  ``data-test-script-state`` went running → notRunning (recorded in the page by a MutationObserver).
- *protocol*: a websocket client speaking Streamlit's own protocol, as the frontend does: it connects to
  ``/_stcore/stream`` (subprotocol ``streamlit``), sends ``BackMsg.rerun_script`` with the link's query string
  and page name, reads every ``ForwardMsg`` (deltas, ``page_info_changed``, ``navigation``), learns the widget
  ids from the deltas, and sends reruns with widget states (button triggers, selectbox/segmented values,
  typed text; the widget's ``fragment_id`` when it lives in an ``st.fragment``, as the frontend does), a page
  switch by ``page_script_hash``. Latency is from sending the BackMsg to the ``script_finished`` ForwardMsg.
  Each runs the server's full script + serialization path, so it loads the server like a browser does, minus
  the frontend's ForwardMsg cache (it always receives whole messages: the worst case for the server).

Errors counted: uncaught exceptions (``Exception`` elements), ``st.error`` boxes, page-not-found, compile
errors, disconnects, timeouts (30 s per interaction), and, for protocol sessions, a Step page that shows
another step than the clicks imply (a sign of state mixed up between sessions).

The server's RSS (VmRSS/VmHWM) and CPU (utime+stime) come from ``/proc/<pid>`` (psutil is not installed),
sampled every 0.25 s. Everything runs on the same machine: the browsers' and this client's CPU compete
with the server's, so the report lists the client's CPU too.

After the load phase a single protocol session measures the ForwardMsg sizes of every page (the default
link and a heavy one: H = 64, 5000 steps), which says whether a figure is too large for the websocket.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # browser_support: the test suite's server helpers

from browser_support import free_port, stop_process  # noqa: E402

from gru_viz.core.spec import KIND_NAMES  # noqa: E402
from gru_viz.serve.limits import CEILING  # noqa: E402

CHROMIUM = os.environ.get("GRU_VIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
INTERACTION_TIMEOUT = 30.0
DEFAULT_LINK = "/step?cell=gru&hidden=8&t=5"
HEAVY_QUERY = "cell=gru&hidden=64&steps=5000&t=2500"

# The scripted lesson, cycled when --interactions is larger. The first ten cover: step next/prev, play,
# switch cell, type a sequence, open the timeline and the compare pages.
SCRIPT = ["next", "next", "prev", "play", "stepmode", "cell:lstm", "source:typed", "type", "page:timeline",
          "page:compare", "page:step", "cell:gru", "next", "page:gradients", "page:step", "prev"]
TYPED = "0, 1, 0, 0, 1, 1, 0, 0.5, -1, 0"
MODE_LABEL = {"play": re.compile(r"^Play"), "stepmode": re.compile(r"^Step")}  # the Step page's view switch
STEP_RE = re.compile(r"\*\*Step t = (\d+)\*\*")


# ------------------------------------------------------------------------------------------------- results


@dataclass
class Sample:
    session: int
    kind: str  # "browser" or "protocol"
    action: str
    page: str
    latency: float | None  # seconds; None when it failed before finishing
    nbytes: int = 0  # ForwardMsg bytes received for it (protocol sessions)
    error: str | None = None
    at: float = field(default_factory=time.monotonic)  # when it was recorded (for latency over time)


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    sessions_started: int = 0
    sessions_completed: int = 0

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)


def median(values: list[float]) -> float:
    """The median, or nan for no values."""
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation, like numpy's default."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


# -------------------------------------------------------------------------------------------------- server


def server_command(port: int, watcher: bool, extra: list[str], app: str = "app.py", preload: bool = False) -> list[str]:
    """The README's command, headless on 127.0.0.1 (no file watcher unless asked: edits must not rerun); with
    ``preload``, the way serve.sh and the ``gru-viz`` command start it (the app's modules imported first)."""
    runner = "gru_viz.app.replica" if preload else "streamlit"
    cmd = [str(ROOT / ".venv/bin/python"), "-m", runner, "run", app, "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    if not watcher:
        cmd += ["--server.fileWatcherType", "none"]
    return cmd + extra


@contextlib.contextmanager
def run_server(watcher: bool, log_path: Path, extra: list[str], app: str = "app.py",
               env: dict[str, str] | None = None, preload: bool = False) -> Iterator[tuple[str, int, list[str]]]:
    """Start the app on a free port; yield (base URL, pid, command); stop it (its own process group)."""
    port = free_port()
    cmd = server_command(port, watcher, extra, app, preload)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"streamlit exited ({proc.returncode}); see {log_path}")
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            if time.monotonic() > deadline:
                raise SystemExit(f"streamlit not healthy within 60 s; see {log_path}")
            time.sleep(0.2)
        yield url, proc.pid, cmd
    finally:
        stop_process(proc)


def server_pid_of(url: str) -> int | None:
    """The pid listening on ``url``'s port (for --url), from /proc/net/tcp and the fds of our user's processes."""
    port = urlsplit(url).port
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "0A":  # LISTEN
                    inodes.add(parts[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
    return None


class ProcSampler(threading.Thread):
    """Samples a process's RSS and CPU from /proc every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.samples: list[tuple[float, int, float, int]] = []  # (t, rss bytes, cpu seconds, threads)
        self._stop_event = threading.Event()

    def read(self) -> tuple[int, float, int, int]:
        """(VmRSS, cpu seconds, threads, VmHWM) now."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) * 1024
        threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime
        return rss, cpu, threads, hwm

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(OSError, AttributeError):
                rss, cpu, threads, _ = self.read()
                self.samples.append((time.monotonic(), rss, cpu, threads))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def summary(self, start: float, end: float) -> dict[str, float]:
        """Peak RSS, CPU (100 % = one core) mean over [start, end] and peak over 1 s windows, peak threads."""
        window = [s for s in self.samples if start <= s[0] <= end] or self.samples[-2:]
        peak_cpu = 0.0
        j = 0
        for i in range(len(window)):
            while j < i and window[i][0] - window[j][0] > 1.0:
                j += 1
            if i > j and window[i][0] - window[j][0] >= 0.5:
                peak_cpu = max(peak_cpu, (window[i][2] - window[j][2]) / (window[i][0] - window[j][0]))
        span = window[-1][0] - window[0][0] if len(window) > 1 else 0.0
        mean_cpu = (window[-1][2] - window[0][2]) / span if span > 0 else float("nan")
        return {"peak_rss": max(s[1] for s in window), "mean_cpu": 100 * mean_cpu, "peak_cpu": 100 * peak_cpu,
                "cpu_seconds": window[-1][2] - window[0][2], "peak_threads": max(s[3] for s in window)}


class TreeSampler(threading.Thread):
    """Samples process trees from /proc every ``interval`` s: for each root (a server, or each replica of
    scripts/serve.sh) the resident memory and CPU of it and all its descendants (the job workers' fork server
    and workers; the CPU of workers that ended counts through their parent's cutime/cstime). ``roots()`` is
    asked again on every sample, so a restarted replica is followed."""

    def __init__(self, roots, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.samples: list[tuple[float, list[tuple[int, float, int]]]] = []  # (t, [(rss, cpu s, procs) per root])
        self.pss: list[tuple[float, int]] = []  # (t, sum of PSS over every tree), every 2 s
        self.root_rss: list[tuple[float, int]] = []  # (t, RSS of the roots alone: the servers, not their workers)
        self.last_root_rss = 0
        self._stop_event = threading.Event()

    def _table(self) -> dict[int, tuple[int, int, float]]:
        """pid → (ppid, rss bytes, cpu seconds incl. reaped children)."""
        out = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{pid}/stat").read_text()
                f = stat[stat.rindex(")") + 2:].split()
                cpu = sum(int(x) for x in f[11:15]) / self.ticks  # utime stime cutime cstime
                out[int(pid)] = (int(f[1]), int(f[21]) * self.page, cpu)
        return out

    def trees(self) -> list[list[int]]:
        """The pids of each root's tree."""
        table = self._table()
        children: dict[int, list[int]] = defaultdict(list)
        for pid, (ppid, _, _) in table.items():
            children[ppid].append(pid)
        out = []
        for root in self.roots():
            tree, todo = [], [root] if root in table else []
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo += children.get(pid, [])
            out.append(tree)
        return out

    def read(self) -> list[tuple[int, float, int]]:
        """(rss, cpu seconds, processes) of each root's tree now."""
        table = self._table()
        children: dict[int, list[int]] = defaultdict(list)
        for pid, (ppid, _, _) in table.items():
            children[ppid].append(pid)
        out = []
        roots = self.roots()
        self.last_root_rss = sum(table[root][1] for root in roots if root in table)  # the servers alone
        for root in roots:
            rss = cpu = n = 0
            todo = [root] if root in table else []
            while todo:
                pid = todo.pop()
                rss += table[pid][1]
                cpu += table[pid][2]
                n += 1
                todo += children.get(pid, [])
            out.append((rss, cpu, n))
        return out

    def read_pss(self) -> int:
        total = 0
        for tree in self.trees():
            for pid in tree:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
                    total += int(re.search(r"^Pss:\s+(\d+)", text, re.M).group(1)) * 1024
        return total

    def run(self) -> None:
        last_pss = 0.0
        while not self._stop_event.is_set():
            with contextlib.suppress(Exception):
                self.samples.append((time.monotonic(), self.read()))
                self.root_rss.append((self.samples[-1][0], self.last_root_rss))
                if time.monotonic() - last_pss > 2:
                    last_pss = time.monotonic()
                    self.pss.append((last_pss, self.read_pss()))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def summary(self, start: float, end: float) -> dict[str, object]:
        """Peak total RSS and PSS, and each tree's mean CPU (100 % = one core) over [start, end]."""
        window = [s for s in self.samples if start <= s[0] <= end] or self.samples[-2:]
        if not window:
            return {"peak_rss": 0, "peak_pss": 0, "peak_server_rss": 0, "cpu": [], "cpu_seconds": 0.0}
        span = window[-1][0] - window[0][0]
        width = min(len(window[0][1]), len(window[-1][1]))
        cpu = [100 * (window[-1][1][i][1] - window[0][1][i][1]) / span if span > 0 else float("nan")
               for i in range(width)]
        pss = [p for t, p in self.pss if start <= t <= end + 2] or [0]
        roots = [r for t, r in self.root_rss if start <= t <= end] or [0]
        return {"peak_rss": max(sum(r for r, _, _ in tree) for _, tree in window), "peak_pss": max(pss),
                "peak_server_rss": max(roots),
                "cpu": cpu, "cpu_seconds": sum(window[-1][1][i][1] - window[0][1][i][1] for i in range(width))}


@contextlib.contextmanager
def serve_target(replicas: int, log_dir: Path, env: dict[str, str] | None = None,
                 extra: list[str] | None = None) -> Iterator[tuple[str, Callable[[], list[int]], str]]:
    """scripts/serve.sh with ``replicas`` replicas on a free port of 127.0.0.1: yields (base URL through nginx,
    a function giving the replicas' pids now, the command); stops it (SIGTERM, as Ctrl-C)."""
    port = free_port()
    run = log_dir / f"serve-{replicas}x-{port}"
    cmd = ["bash", str(ROOT / "scripts" / "serve.sh"), "--replicas", str(replicas), "--port", str(port),
           "--address", "127.0.0.1", "--run-dir", str(run), *(extra or [])]
    log_dir.mkdir(parents=True, exist_ok=True)
    out = log_dir / f"serve-{replicas}x-{port}.out"
    with open(out, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, start_new_session=True)

    def pids() -> list[int]:
        with contextlib.suppress(OSError, ValueError):
            return [int(line.split()[1]) for line in (run / "replicas").read_text().splitlines()]
        return []

    try:
        deadline = time.monotonic() + 300
        while "serving http://" not in out.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"serve.sh did not start; see {out}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", pids, " ".join(cmd[1:]).replace(str(ROOT) + "/", "")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


# ----------------------------------------------------------------------------------------- protocol client


class Disconnected(Exception):
    pass


@dataclass
class Run:
    """What one script run sent: its status, bytes, messages, errors and what the Step page showed."""

    status: str = ""
    nbytes: int = 0
    messages: int = 0
    largest: int = 0
    largest_what: str = ""
    errors: list[str] = field(default_factory=list)
    step_shown: int | None = None
    by_element: Counter = field(default_factory=Counter)


class ProtocolSession:
    """One browser tab, as Streamlit's frontend speaks to the server (see the module docstring)."""

    def __init__(self, base_url: str) -> None:
        self.ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = None
        self.query = ""
        self.page_hash = ""
        self.page_name = ""
        self.pages: dict[str, str] = {}  # url path → page_script_hash
        self.widgets: dict[str, tuple[str, str, object]] = {}  # user key → (widget id, fragment id, proto)

    async def connect(self) -> None:
        import websockets

        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=INTERACTION_TIMEOUT, ping_interval=None)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def rerun(self, *, widgets: list | None = None, fragment_id: str = "", page: str | None = None,
                    query: str | None = None) -> Run:
        """Send one rerun request and read until its script_finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        req = msg.rerun_script
        if page is not None:  # a page link: the frontend sends the page's hash and the link's query
            req.page_script_hash = self.pages.get(page, "")
            req.page_name = page
            self.widgets.clear()
            self.query = query or ""  # the address bar now holds the link's query until the page writes one
        else:
            req.page_script_hash = self.page_hash
            req.page_name = self.page_name
        req.query_string = self.query if query is None else query
        if fragment_id:
            req.fragment_id = fragment_id
        for w in widgets or ():
            req.widget_states.widgets.append(w)
        req.context_info.timezone = "UTC"
        req.context_info.locale = "en-US"
        await self.ws.send(msg.SerializeToString())
        return await self.read_run()

    async def read_run(self) -> Run:
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        run = Run()
        while True:
            try:
                data = await self.ws.recv()
            except Exception as exc:
                raise Disconnected(f"{type(exc).__name__}: {exc}") from None
            msg = ForwardMsg()
            msg.ParseFromString(data)
            run.nbytes += len(data)
            run.messages += 1
            kind = msg.WhichOneof("type")
            what = kind
            if kind == "delta":
                delta = msg.delta
                if delta.WhichOneof("type") == "new_element":
                    element = delta.new_element
                    ek = element.WhichOneof("type")
                    what = ek
                    run.by_element[ek] += len(data)
                    proto = getattr(element, ek)
                    wid = getattr(proto, "id", "")
                    if isinstance(wid, str) and wid.startswith("$$ID-"):
                        key = wid.split("-", 2)[2] if wid.count("-") >= 2 else wid
                        self.widgets[key] = (wid, delta.fragment_id, proto)
                    if ek == "exception":
                        run.errors.append(f"exception {proto.type}: {proto.message[:120]}")
                    elif ek == "alert" and proto.format == Alert.ERROR:
                        run.errors.append(f"error box: {proto.body[:120]}")
                    elif ek == "markdown" and (m := STEP_RE.search(proto.body)):
                        run.step_shown = int(m.group(1))
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
                self.page_hash = msg.navigation.page_script_hash
                for p in msg.navigation.app_pages:
                    if p.page_script_hash == self.page_hash:
                        self.page_name = p.url_pathname
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                run.errors.append(f"page not found: {msg.page_not_found.page_name}")
            if len(data) > run.largest:
                run.largest, run.largest_what = len(data), what
            if kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # st.rerun / st.switch_page: the run that follows is the one we wait for
                if status == "FINISHED_WITH_COMPILE_ERROR":
                    run.errors.append("compile error")
                run.status = status
                return run

    def widget(self, key: str) -> tuple[str, str, object]:
        if key not in self.widgets:
            raise KeyError(f"no widget {key!r} on page {self.page_name!r}")
        return self.widgets[key]

    def option(self, key: str, pattern: re.Pattern) -> str:
        """The label of widget ``key``'s first option matching ``pattern`` (as the frontend sends it)."""
        _, _, proto = self.widget(key)
        labels = [getattr(o, "content", o) for o in getattr(proto, "options", ())]
        for label in labels:
            if pattern.search(str(label)):
                return str(label)
        raise KeyError(f"no option {pattern.pattern!r} in {key!r}: {labels}")

    def state(self, key: str, **value: object):
        """(WidgetState, fragment id) setting widget ``key`` the way the frontend would."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        wid, fragment, _ = self.widget(key)
        ws = WidgetState(id=wid)
        for name, v in value.items():
            if name.endswith("array_value"):
                getattr(ws, name).data.extend(v)
            else:
                setattr(ws, name, v)
        return ws, fragment

    async def act(self, action: str) -> Run:
        """One scripted interaction."""
        name, _, arg = action.partition(":")
        if name == "page":
            return await self.rerun(page=arg, query="")
        if name in ("next", "prev"):
            ws, frag = self.state(f"step_{name}", trigger_value=True)
        elif name in ("play", "stepmode"):
            ws, frag = self.state("step_mode", string_array_value=[self.option("step_mode", MODE_LABEL[name])])
        elif name == "cell":
            ws, frag = self.state("w_cell", string_value=KIND_NAMES[arg])
        elif name == "source":
            ws, frag = self.state("w_source", string_array_value=[{"typed": "numbers", "text": "text",
                                                                   "gen": "generator"}[arg]])
        elif name == "type":
            ws, frag = self.state("w_seq", string_value=TYPED)
        else:
            raise ValueError(action)
        return await self.rerun(widgets=[ws], fragment_id=frag)


def lost_settings(before: str, after: str) -> str:
    """The link settings (all but the view's t and unit) that differ after a page switch, or ''."""
    a, b = parse_qs(before), parse_qs(after)
    keys = (set(a) | set(b)) - {"t", "unit"}
    return ", ".join(f"{k}: {a.get(k, ['–'])[-1][:20]} → {b.get(k, ['–'])[-1][:20]}" for k in sorted(keys)
                     if a.get(k) != b.get(k))


async def protocol_session(index: int, base_url: str, link: str, actions: list[str], think: tuple[float, float],
                           delay: float, results: Results, rng: random.Random) -> None:
    """Open the link, then perform ``actions`` with think time, recording a Sample for each."""
    await asyncio.sleep(delay)
    results.sessions_started += 1
    split = urlsplit(link)
    page = split.path.strip("/")
    session = ProtocolSession(base_url)
    expected_t: int | None = int(parse_qs(split.query).get("t", ["0"])[0])
    try:
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(session.connect(), INTERACTION_TIMEOUT)
            session.page_name = page
            run = await asyncio.wait_for(session.rerun(query=split.query), INTERACTION_TIMEOUT)
        except (TimeoutError, Disconnected, OSError) as exc:
            results.add(Sample(index, "protocol", "open", page, None, error=f"open: {type(exc).__name__} {exc}"))
            return
        results.add(Sample(index, "protocol", "open", page, time.monotonic() - t0, run.nbytes,
                           "; ".join(run.errors) or None))
        for action in actions:
            await asyncio.sleep(rng.uniform(*think))
            where = session.page_name
            before = session.query
            t0 = time.monotonic()
            try:
                run = await asyncio.wait_for(session.act(action), INTERACTION_TIMEOUT)
            except TimeoutError:
                results.add(Sample(index, "protocol", action, where, None, error="timeout"))
                return  # the socket is mid-run: this session is done
            except Disconnected as exc:
                results.add(Sample(index, "protocol", action, where, None, error=f"disconnected: {exc}"))
                return
            except KeyError as exc:
                results.add(Sample(index, "protocol", action, where, None, error=f"missing widget: {exc}"))
                continue
            latency = time.monotonic() - t0
            errors = list(run.errors)
            if action.startswith("page:") and (lost := lost_settings(before, session.query)):
                errors.append(f"the page switch lost settings: {lost}")
            if session.page_name == "step" and run.step_shown is not None:
                if action in ("next", "prev") and expected_t is not None:
                    want = expected_t + (1 if action == "next" else -1)
                    if run.step_shown != want:
                        errors.append(f"wrong view: step {run.step_shown} shown, expected {want}")
                expected_t = run.step_shown
            elif action.startswith(("cell", "source", "type")):
                expected_t = None  # a new input may move the cursor
            results.add(Sample(index, "protocol", action, where, latency, run.nbytes, "; ".join(errors) or None))
        results.sessions_completed += 1
    finally:
        await session.close()


# ------------------------------------------------------------------------------------------ browser client

_OBSERVER_JS = """
window.__stlog = [];
window.__wsin = [];
new MutationObserver((records) => {
  for (const r of records) {
    if (r.attributeName === 'data-test-script-state')
      window.__stlog.push([performance.now(), r.target.getAttribute('data-test-script-state')]);
  }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => window.__wsin.push(performance.now()));
  }
};
"""

# When the rerun an interaction at t0 (page clock, ms) caused is over, else false: the app went
# running → notRunning after t0; or (when the frontend handled the whole run in one render, so "running"
# never reached the DOM) messages arrived after t0, the app is notRunning, and the socket has been quiet for
# 300 ms: then the run ended with its last message (script_finished).
_FINISHED_AFTER_JS = """(t0) => {
  let ran = false;
  for (const [t, s] of window.__stlog || []) {
    if (t < t0) continue;
    if (s === 'running') ran = true;
    else if (ran && (s === 'notRunning' || s === 'compilationError')) return t;
  }
  const app = document.querySelector('[data-testid="stApp"]');
  const after = (window.__wsin || []).filter((t) => t >= t0);
  if (!ran && after.length && app && app.getAttribute('data-test-script-state') === 'notRunning'
      && performance.now() - after[after.length - 1] > 300) return after[after.length - 1];
  return false;
}"""

_ERRORS_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]'))
    out.push('error box: ' + el.innerText.slice(0, 120));
  for (const el of document.querySelectorAll('[data-testid="stDialog"]'))
    if (/Page not found|Connection error|Bad message format|Traceback/.test(el.innerText))
      out.push('error modal: ' + el.innerText.slice(0, 120));
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) out.push('no app');
  else if (app.getAttribute('data-test-connection-state') !== 'CONNECTED')
    out.push('connection ' + app.getAttribute('data-test-connection-state'));
  return out;
}"""


# HTTP bytes the page's load took (the document and every file it fetched; not the websocket), as sent (gzipped
# or not): what a classroom's Wi-Fi carries per student.
_BYTES_JS = """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .reduce((a, e) => a + (e.transferSize || 0), 0)"""

# Every Plotly chart on the page has drawn its SVG.
_DRAWN_JS = """() => {
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return charts.length > 0 && charts.every((c) => c.querySelector('.main-svg'));
}"""


async def browser_action(page, action: str) -> None:
    """Perform one scripted interaction with the mouse and keyboard."""
    name, _, arg = action.partition(":")
    sidebar = page.locator('[data-testid="stSidebar"]')
    if name == "page":
        label = {"step": "Step through", "timeline": "Timeline", "compare": "Compare cells",
                 "gradients": "Gradient flow"}[arg]
        await sidebar.locator('[data-testid="stPageLink"] a', has_text=label).first.click()
    elif name in ("next", "prev"):
        await page.locator('[data-testid="stMain"] [data-testid="stButton"] button',
                           has_text="Next" if name == "next" else "Prev").first.click()
    elif name in ("play", "stepmode"):
        await page.locator('[data-testid="stMain"] [data-testid="stButtonGroup"] button',
                           has_text=MODE_LABEL[name]).first.click()
    elif name == "cell":
        await sidebar.get_by_role("combobox", name="Cell", exact=True).click()
        await page.get_by_role("option", name=KIND_NAMES[arg], exact=True).click()
    elif name == "source":
        label = {"typed": "numbers", "text": "text", "gen": "generator"}[arg]
        await sidebar.locator('[data-testid="stButtonGroup"] button', has_text=label).first.click()
    elif name == "type":
        area = sidebar.locator('[data-testid="stTextArea"] textarea').first
        await area.fill(TYPED)
        await area.press("Control+Enter")
    else:
        raise ValueError(action)


async def browser_session(index: int, browser, base_url: str, link: str, actions: list[str],
                          think: tuple[float, float], delay: float, results: Results, rng: random.Random,
                          picture: bool = True) -> None:
    await asyncio.sleep(delay)
    results.sessions_started += 1
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(INTERACTION_TIMEOUT * 1000)
    await page.add_init_script(_OBSERVER_JS)
    where = urlsplit(link).path.strip("/")
    try:
        t0 = time.monotonic()
        try:
            await page.goto(base_url + link, timeout=INTERACTION_TIMEOUT * 1000)
            await page.wait_for_function(_FINISHED_AFTER_JS, arg=0, timeout=INTERACTION_TIMEOUT * 1000,
                                         polling=50)
        except Exception as exc:
            results.add(Sample(index, "browser", "open", where, None, error=f"open: {type(exc).__name__}"))
            return
        errors = await page.evaluate(_ERRORS_JS)
        opened = Sample(index, "browser", "open", where, time.monotonic() - t0, error="; ".join(errors) or None)
        results.add(opened)
        if picture:  # the first picture: every chart drawn (Plotly's code loads once the first chart arrives)
            try:
                await page.wait_for_function(_DRAWN_JS, timeout=INTERACTION_TIMEOUT * 1000, polling=50)
                results.add(Sample(index, "browser", "picture", where, time.monotonic() - t0))
            except Exception as exc:
                results.add(Sample(index, "browser", "picture", where, None, error=f"not drawn: {type(exc).__name__}"))
        opened.nbytes = await page.evaluate(_BYTES_JS)  # with the chart's code, when there is a chart
        for action in actions:
            await asyncio.sleep(rng.uniform(*think))
            where = urlsplit(page.url).path.strip("/") or "app"
            start = await page.evaluate("performance.now()")
            try:
                await browser_action(page, action)
                end = await (await page.wait_for_function(_FINISHED_AFTER_JS, arg=start,
                                                          timeout=INTERACTION_TIMEOUT * 1000,
                                                          polling=50)).json_value()
            except Exception as exc:
                text = str(exc).splitlines()[0][:160]
                with contextlib.suppress(Exception):
                    started = await page.evaluate(
                        "(t0) => (window.__stlog || []).some(([t, s]) => t >= t0 && s === 'running')"
                        " || (window.__wsin || []).some((t) => t >= t0)", start)
                    text = ("rerun started, did not finish: " if started else
                            "no rerun after the interaction: ") + text
                    tail = await page.evaluate(
                        "(t0) => (window.__stlog || []).slice(-4).map(([t, s]) => `${s}@${Math.round(t - t0)}`)"
                        ".join('>')", start)
                    text += f" (now at {urlsplit(page.url).path}, script states …{tail})"
                results.add(Sample(index, "browser", action, where, None, error=f"{type(exc).__name__}: {text}"))
                continue
            await page.wait_for_timeout(150)  # a follow-up rerun (st.rerun, switch_page) shows up by now
            errors = await page.evaluate(_ERRORS_JS)
            results.add(Sample(index, "browser", action, where, (end - start) / 1000, error="; ".join(errors) or None))
        results.sessions_completed += 1
    finally:
        with contextlib.suppress(Exception):
            await context.close()


# --------------------------------------------------------------------------------------------------- sizes


COST_PLAN = [("next", "prev"), ("play", "stepmode"), ("cell:lstm", "cell:gru"), ("page:timeline", "page:step"),
             ("page:compare", "page:step"), ("page:gradients", "page:step")]


async def measure_costs(base_url: str, link: str, sampler: ProcSampler | None, repeats: int = 6) -> list[dict]:
    """One session alone on the server: latency and server CPU of each kind of interaction."""
    split = urlsplit(link)
    session = ProtocolSession(base_url)
    costs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    try:
        await session.connect()
        session.page_name = split.path.strip("/")
        for _ in range(2):  # the first open also warms the caches: the second is what a student gets
            session.widgets.clear()
            cpu0, t0 = sampler.read()[1] if sampler else 0.0, time.monotonic()
            await asyncio.wait_for(session.rerun(page=session.page_name, query=split.query), 120)
            costs["open"].append((time.monotonic() - t0, (sampler.read()[1] if sampler else 0.0) - cpu0))
        costs["open"].pop(0)
        for pair in COST_PLAN:
            for _ in range(repeats):
                for action in pair:
                    await asyncio.sleep(0.05)
                    cpu0, t0 = sampler.read()[1] if sampler else 0.0, time.monotonic()
                    await asyncio.wait_for(session.act(action), 120)
                    costs[action].append((time.monotonic() - t0, (sampler.read()[1] if sampler else 0.0) - cpu0))
    except Exception as exc:
        print(f"cost pass stopped: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        await session.close()
    return [{"action": a, "n": len(v), "latency": statistics.median(x for x, _ in v),
             "cpu": statistics.mean(c for _, c in v)} for a, v in costs.items() if v]


async def measure_sizes(base_url: str) -> list[dict]:
    """ForwardMsg bytes of one run of each page, for the default link and a heavy one."""
    rows = []
    cases = [(p, "cell=gru&hidden=8&t=5") for p in ("step", "timeline", "compare", "gradients", "", "your_model",
                                                    "train", "matches")]
    cases += [(p, HEAVY_QUERY) for p in ("step", "timeline", "compare", "gradients")]
    cases += [("step:play", "cell=gru&hidden=8&t=5"), ("step:play", HEAVY_QUERY)]
    for path, query in cases:
        session = ProtocolSession(base_url)
        try:
            await session.connect()
            page, _, mode = path.partition(":")
            session.page_name = page
            t0 = time.monotonic()
            run = await asyncio.wait_for(session.rerun(query=query), 120)
            if mode == "play":
                t0 = time.monotonic()
                ws, frag = session.state("step_mode", string_array_value=["Play all steps"])
                run = await asyncio.wait_for(session.rerun(widgets=[ws], fragment_id=frag), 120)
            elapsed = time.monotonic() - t0
            top = ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in run.by_element.most_common(2))
            rows.append({"page": "/" + path, "query": query, "bytes": run.nbytes, "messages": run.messages,
                         "largest": run.largest, "largest_what": run.largest_what, "top": top,
                         "seconds": elapsed, "errors": "; ".join(run.errors)})
        except Exception as exc:
            rows.append({"page": "/" + path, "query": query, "bytes": 0, "messages": 0, "largest": 0,
                         "largest_what": "", "top": "", "seconds": float("nan"),
                         "errors": f"{type(exc).__name__}: {exc}"})
        finally:
            await session.close()
    return rows


# ---------------------------------------------------------------------------------------------------- main


def niced_chromium(nice: int) -> str:
    """Chromium at a lower CPU priority, through a wrapper script. In a class the browsers run on the students'
    laptops; here they share the server's two cores, and four of them loading the frontend at once starve the
    server (a bare st.write("hi") app's first open went to p95 ≈ 10 s that way). Plain nice is not enough:
    Playwright starts chromium in a session of its own, and the kernel's autogroup scheduler shares the CPU
    between sessions first (and chromium renices its own processes), so the wrapper lowers its session's
    autogroup priority (/proc/self/autogroup; the wrapper is that session's leader)."""
    if nice <= 0:
        return CHROMIUM
    wrapper = Path(f"/tmp/gru-viz-chromium-nice{nice}.sh")
    wrapper.write_text(f'#!/bin/sh\necho {nice} > /proc/self/autogroup 2>/dev/null\n'
                       f'exec nice -n {nice} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


async def drive(args: argparse.Namespace, base_url: str, results: Results) -> None:
    actions = [SCRIPT[i % len(SCRIPT)] for i in range(args.interactions)]
    n_browser = min(args.browser_sessions, args.sessions)
    rng = random.Random(args.seed)
    delays = [rng.uniform(0, args.ramp) for _ in range(args.sessions)]
    tasks = []
    pw = browser = None
    stop_abuse = asyncio.Event()
    abusers = [asyncio.create_task(abuser_session(-(k + 1), base_url, results, stop_abuse,
                                                  random.Random(args.seed * 7919 + k)))
               for k in range(getattr(args, "abuse", 0))]
    try:
        if n_browser:
            from playwright.async_api import async_playwright

            pw = await async_playwright().start()
            browser = await pw.chromium.launch(executable_path=niced_chromium(args.browser_nice), args=CHROMIUM_ARGS)
        for i in range(args.sessions):
            srng = random.Random(args.seed * 1000 + i)
            if i < n_browser:
                coro = browser_session(i, browser, base_url, args.link, actions, tuple(args.think), delays[i],
                                       results, srng, picture=getattr(args, "picture", True))
            else:
                coro = protocol_session(i, base_url, args.link, actions, tuple(args.think), delays[i], results, srng)
            tasks.append(asyncio.create_task(coro))
        done, pending = await asyncio.wait(tasks, timeout=args.duration_cap)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            print(f"duration cap {args.duration_cap:.0f} s reached: {len(pending)} session(s) cut short",
                  file=sys.stderr)
        for task in done:
            if task.exception() is not None:
                exc = task.exception()
                results.add(Sample(-1, "?", "session", "", None, error=f"crashed: {type(exc).__name__}: {exc}"))
    finally:
        stop_abuse.set()
        if abusers:
            await asyncio.gather(*abusers, return_exceptions=True)
        if browser is not None:
            await browser.close()
        if pw is not None:
            await pw.stop()


# Heavy links with fresh seeds (no cache can hold them): the abuse of --abuse, one student in several tabs.
HEAVY_LINKS = ["/gradients?hidden=64&steps=5000&seed={seed}", "/matches?cell=lstm&hidden=64&steps=5000&seed={seed}",
               "/timeline?cell=lstm&hidden=64&steps=5000&seed={seed}", "/step?hidden=64&steps=5000&seed={seed}&t=2500"]


async def abuser_session(index: int, base_url: str, results: Results, stop: asyncio.Event,
                         rng: random.Random) -> None:
    """One tab that keeps opening heavy links with fresh seeds until ``stop``: each link as a page switch in the
    same session (so a protected server replaces its job), 2 s after the previous one's run ended."""
    session = ProtocolSession(base_url)
    n = 0
    try:
        await asyncio.wait_for(session.connect(), INTERACTION_TIMEOUT)
        session.page_name = "step"
        await asyncio.wait_for(session.rerun(query="hidden=4"), 120)
        while not stop.is_set():
            link = urlsplit(HEAVY_LINKS[n % len(HEAVY_LINKS)].format(seed=rng.randrange(10**6, 10**9)))
            n += 1
            page = link.path.strip("/")
            t0 = time.monotonic()
            try:
                run = await asyncio.wait_for(session.rerun(page=page, query=link.query), 600)
                results.add(Sample(index, "abuse", "heavy", page, time.monotonic() - t0, run.nbytes))
            except (TimeoutError, Disconnected) as exc:
                results.add(Sample(index, "abuse", "heavy", page, None, error=f"{type(exc).__name__}"))
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2.0)
    except (TimeoutError, Disconnected, OSError) as exc:
        results.add(Sample(index, "abuse", "open", "step", None, error=f"{type(exc).__name__}"))
    finally:
        await session.close()


def fmt_ms(seconds: float) -> str:
    return "–" if seconds != seconds else f"{seconds * 1000:.0f} ms"


def report(args, cmd: list[str], results: Results, server: dict, rss_base: int, rss_after: int, wall: float,
           client_cpu: float, sizes: list[dict], server_cmd: str, load: tuple[float, float],
           costs: list[dict]) -> str:
    samples = [s for s in results.samples if s.action not in ("open", "picture")]
    opens = [s for s in results.samples if s.action == "open"]
    lat = [s.latency for s in samples if s.latency is not None]
    errors = [s for s in results.samples if s.error]
    planned = args.sessions * args.interactions
    lines = [
        f"### Load test: {args.sessions} sessions × {args.interactions} interactions",
        "",
        f"Command: `{' '.join(cmd)}`  ",
        f"Server: `{server_cmd}`  ",
        f"Link `{args.link}`; think time {args.think[0]:g}–{args.think[1]:g} s; sessions start within "
        f"{args.ramp:g} s; {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average "
        f"{load[0]:.1f} before → {load[1]:.1f} after (other work on the machine competes).",
        "",
        "| metric | value |",
        "|---|---|",
        f"| sessions (browser + protocol) | {args.sessions} ({min(args.browser_sessions, args.sessions)} + "
        f"{args.sessions - min(args.browser_sessions, args.sessions)}); completed {results.sessions_completed} |",
        f"| interactions done / planned | {len(samples)} / {planned} |",
        f"| errors | **{len(errors)}** |",
        f"| latency median | **{fmt_ms(median(lat))}** |",
        f"| latency 95th percentile | **{fmt_ms(percentile(lat, 0.95))}** (target ≤ 1500 ms) |",
        f"| latency max | {fmt_ms(max(lat) if lat else float('nan'))} |",
        f"| first load (open link) median / p95 | {fmt_ms(median([s.latency for s in opens if s.latency]))} / "
        f"{fmt_ms(percentile([s.latency for s in opens if s.latency], 0.95))} |",
        f"| server peak RSS | {server['peak_rss'] / 2**20:.0f} MiB (idle before: {rss_base / 2**20:.0f} MiB, "
        f"after: {rss_after / 2**20:.0f} MiB; ≈ {(server['peak_rss'] - rss_base) / 2**20 / max(args.sessions, 1):.1f}"
        " MiB per session) |",
        f"| server CPU mean / peak (1 s) | {server['mean_cpu']:.0f} % / {server['peak_cpu']:.0f} % "
        f"(100 % = one core; {server['cpu_seconds']:.0f} CPU-s) |",
        f"| server peak threads | {server['peak_threads']} |",
        f"| wall time | {wall:.0f} s (this client used {client_cpu:.0f} CPU-s incl. chromium) |",
        "",
    ]
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_action: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_action[s.action].append(s)
        if s.latency is not None:
            by_kind[s.kind].append(s.latency)
    lines += ["| interaction | n | errors | median | p95 | KiB received (median) |", "|---|---|---|---|---|---|"]
    pictures = [s for s in results.samples if s.action == "picture"]  # chromium: every chart drawn, from the open
    for action in ["open", "picture", *dict.fromkeys(SCRIPT)]:
        group = {"open": opens, "picture": pictures}.get(action) or by_action.get(action, [])
        if not group:
            continue
        v = [s.latency for s in group if s.latency is not None]
        kib = [s.nbytes / 1024 for s in group if s.nbytes and s.kind == "protocol"]  # ForwardMsg bytes
        lines.append(f"| {action} | {len(group)} | {sum(1 for s in group if s.error)} | "
                     f"{fmt_ms(median(v))} | {fmt_ms(percentile(v, 0.95))} | "
                     f"{statistics.median(kib):.0f} |" if kib else
                     f"| {action} | {len(group)} | {sum(1 for s in group if s.error)} | "
                     f"{fmt_ms(median(v))} | {fmt_ms(percentile(v, 0.95))} | – |")
    for kind, v in sorted(by_kind.items()):
        lines.append(f"| *all {kind}* | {len(v)} | {sum(1 for s in samples if s.kind == kind and s.error)} | "
                     f"{fmt_ms(statistics.median(v))} | {fmt_ms(percentile(v, 0.95))} | |")
    lines.append("")
    if errors:
        lines += ["Errors (first 15 distinct):", ""]
        seen = Counter(f"{s.kind} {s.action} on /{s.page}: {s.error}" for s in errors)
        lines += [f"- {n}× {text}" for text, n in seen.most_common(15)]
        lines.append("")
    if costs:
        per = statistics.mean(c["cpu"] for c in costs if c["action"] != "open")
        lines += ["Server cost of each interaction, one session alone on the server afterwards (median latency, "
                  "mean server CPU; Python runs one script at a time per process, so ~1 core is the budget):", "",
                  "| interaction | n | latency | server CPU |", "|---|---|---|---|"]
        lines += [f"| {c['action']} | {c['n']} | {fmt_ms(c['latency'])} | {fmt_ms(c['cpu'])} |" for c in costs]
        lines += ["", f"Mean server CPU per interaction (excluding open): {per * 1000:.0f} ms → one core serves "
                  f"≈ {1 / per if per > 0 else float('inf'):.0f} interactions/s; 40 students clicking every 2 s ask "
                  f"for 20/s ({20 * per:.1f} cores).", ""]
    if sizes:
        lines += ["ForwardMsg bytes of one run per page (one fresh session each):", "",
                  "| page | link | total | messages | largest message | biggest elements | run time | errors |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in sizes:
            lines.append(f"| {r['page']} | `{r['query']}` | {r['bytes'] / 1024:.0f} KiB | {r['messages']} | "
                         f"{r['largest'] / 1024:.0f} KiB ({r['largest_what']}) | {r['top']} | "
                         f"{fmt_ms(r['seconds'])} | {r['errors'] or '–'} |")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- modes


def stats(results: Results) -> dict[str, object]:
    """The normal sessions' figures: interactions, errors, latency median / p95 / max (all, and per kind of
    client), first open (the protocol clients': the server's answer), Next/Prev."""
    normal = [s for s in results.samples if s.kind != "abuse"]

    def latencies(keep: Callable[[Sample], bool]) -> list[float]:
        return [s.latency for s in normal if keep(s) and s.latency is not None]

    clicks = [s for s in normal if s.action not in ("open", "picture")]
    lat = latencies(lambda s: s.action not in ("open", "picture"))
    by_kind = {kind: latencies(lambda s, kind=kind: s.kind == kind and s.action not in ("open", "picture"))
               for kind in ("protocol", "browser")}
    opens = latencies(lambda s: s.action == "open" and s.kind == "protocol")
    steps = latencies(lambda s: s.action in ("next", "prev"))
    return {"interactions": len(clicks), "errors": len([s for s in normal if s.error]),
            "median": median(lat), "p95": percentile(lat, 0.95), "max": max(lat) if lat else float("nan"),
            "median_protocol": median(by_kind["protocol"]), "p95_protocol": percentile(by_kind["protocol"], 0.95),
            "p95_browser": percentile(by_kind["browser"], 0.95),
            "opens": len([s for s in normal if s.action == "open" and s.latency is not None]),
            "open_median_protocol": median(opens), "open_p95_protocol": percentile(opens, 0.95),
            "step_p95": percentile(steps, 0.95),
            "abuse": len([s for s in results.samples if s.kind == "abuse"]),
            "error_text": Counter(f"{s.kind} {s.action}: {s.error}" for s in normal if s.error).most_common(5)}


def phase(args: argparse.Namespace, base_url: str, roots: Callable[[], list[int]], **change: object) -> dict:
    """One load run against ``base_url`` with ``change`` applied to the options; its stats, the trees' peak
    memory and CPU per replica, the client's CPU, the load average, and the memory after 20 s of quiet."""
    run_args = argparse.Namespace(**{**vars(args), **change})
    sampler = TreeSampler(roots)
    idle = sampler.read()
    sampler.start()
    results = Results()
    usage0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    load0, t0 = os.getloadavg()[0], time.monotonic()
    asyncio.run(drive(run_args, base_url, results))
    t1, load1 = time.monotonic(), os.getloadavg()[0]
    usage1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(20)  # memory falls back (or not) once the class is quiet
    after = sampler.read()
    sampler.stop()
    out = {**stats(results), **sampler.summary(t0, t1), "samples": results.samples}
    if args.json:  # every phase's samples, one file per phase
        path = args.json.with_name(f"{args.json.stem}-{len(list(args.json.parent.glob(args.json.stem + '-*')))}"
                                   f"{args.json.suffix}")
        path.write_text(json.dumps({"change": {k: str(v) for k, v in change.items()},
                                    "samples": [s.__dict__ for s in results.samples]}))
    out.update(sessions=run_args.sessions, wall=t1 - t0, load=(load0, load1),
               client_cpu=sum(u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime
                              for u0, u1 in zip(usage0, usage1, strict=True)),
               idle_rss=sum(r for r, _, _ in idle), after_rss=sum(r for r, _, _ in after))
    return out


def table(rows: list[tuple[str, dict]], columns: list[tuple[str, Callable[[dict], str]]]) -> list[str]:
    lines = ["| " + " | ".join(["run", *[c for c, _ in columns]]) + " |", "|" + "---|" * (len(columns) + 1)]
    lines += ["| " + " | ".join([name, *[f(r) for _, f in columns]]) + " |" for name, r in rows]
    return lines


def mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


LOAD_COLUMNS = [
    ("sessions", lambda r: str(r["sessions"])), ("interactions", lambda r: str(r["interactions"])),
    ("errors", lambda r: f"**{r['errors']}**"), ("median", lambda r: fmt_ms(r["median"])),
    ("p95", lambda r: f"**{fmt_ms(r['p95'])}**"), ("max", lambda r: fmt_ms(r["max"])),
    ("protocol median / p95", lambda r: f"{fmt_ms(r['median_protocol'])} / {fmt_ms(r['p95_protocol'])}"),
    ("chromium p95", lambda r: fmt_ms(r["p95_browser"])),
    ("first open (protocol) median / p95", lambda r: f"{fmt_ms(r['open_median_protocol'])} / "
                                                     f"{fmt_ms(r['open_p95_protocol'])}"),
    ("CPU per replica (mean)", lambda r: " + ".join(f"{c:.0f} %" for c in r["cpu"])),
    ("peak RSS (PSS)", lambda r: f"{mib(r['peak_rss'])} ({mib(r['peak_pss'])})"),
    ("client CPU", lambda r: f"{r['client_cpu']:.0f} s"),
    ("load avg", lambda r: f"{r['load'][0]:.1f}→{r['load'][1]:.1f}"),
]


def header(args: argparse.Namespace, title: str) -> list[str]:
    return [f"### {title}", "", f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`  ",
            f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores; link `{args.link}`; "
            f"{args.browser_sessions} of the sessions in chromium (at nice {args.browser_nice}), the rest "
            f"protocol-level; think "
            f"{args.think[0]:g}–{args.think[1]:g} s; sessions start within {args.ramp:g} s.", ""]


def errors_of(rows: list[tuple[str, dict]]) -> list[str]:
    out = []
    for name, r in rows:
        if r["error_text"]:
            out += [f"- {name}: " + "; ".join(f"{n}× {t[:140]}" for t, n in r["error_text"])]
    return ["Errors:", "", *out, ""] if out else []


def compare_replicas(args: argparse.Namespace, log_dir: Path) -> str:
    """--compare-replicas "1:40,2:80": serve.sh with each number of replicas and sessions, in one run."""
    rows = []
    for spec in args.compare_replicas.split(","):
        replicas, sessions = (int(v) for v in spec.split(":"))
        with serve_target(replicas, log_dir, extra=args.serve_arg) as (url, pids, _):
            rows.append((f"{replicas} replica{'s' if replicas > 1 else ''}, {sessions} sessions",
                         phase(args, url, pids, sessions=sessions)))
    lines = header(args, f"Scale-out through nginx: {args.compare_replicas} (replicas:sessions), "
                         f"{args.interactions} interactions each")
    lines += [*table(rows, LOAD_COLUMNS), "", *errors_of(rows)]
    a = rows[0][1]
    for name, b in rows[1:]:
        lines.append(f"- {name} ÷ {rows[0][0]}: p95 {b['p95'] / a['p95']:.2f} (protocol clients "
                     f"{b['p95_protocol'] / a['p95_protocol']:.2f}, chromium "
                     f"{b['p95_browser'] / a['p95_browser']:.2f}),"
                     f" median {b['median'] / a['median']:.2f}, first-open p95 (protocol) "
                     f"{b['open_p95_protocol'] / a['open_p95_protocol']:.2f}.")
    lines.append("")
    return "\n".join(lines)


FLOOR_APP = "benchmarks/floor_app.py"


async def solo_browser(url: str, link: str, picture: bool, repeats: int = 3) -> dict[str, float]:
    """One chromium alone on the quiet server (at normal priority): the median of ``repeats`` first opens, each
    in a fresh context (nothing cached), to the run's end and to every chart drawn, and its HTTP bytes. This is
    the browser's own share of a first open, which a class pays on its own laptops."""
    from playwright.async_api import async_playwright

    results = Results()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for i in range(repeats):
                await browser_session(i, browser, url, link, [], (0, 0), 0, results, random.Random(i), picture)
        finally:
            await browser.close()
    runs = [s.latency for s in results.samples if s.action == "open" and s.latency is not None]
    pics = [s.latency for s in results.samples if s.action == "picture" and s.latency is not None]
    return {"solo_run": median(runs), "solo_picture": median(pics),
            "solo_bytes": median([s.nbytes for s in results.samples if s.action == "open"]),
            "solo_errors": len([s for s in results.samples if s.error])}


def first_open(args: argparse.Namespace, log_dir: Path) -> str:
    """--first-open: the opening burst (sessions arriving within --ramp, opening the link, nothing else) on fresh
    servers, against the floor: a bare one-page Streamlit app (st.write("hi")), and the same with one Plotly chart,
    opened the same way. The protocol clients time the server's answer; the chromium pages add the browser's own
    work (on this same machine's cores), to the run's end and to every chart drawn."""
    def open_once(url: str, link: str) -> None:  # the teacher opened the link once (imports done, caches filled)
        asyncio.run(drive(argparse.Namespace(**{**vars(args), "sessions": 1, "browser_sessions": 0,
                                                "interactions": 0, "ramp": 0, "link": link}), url, Results()))

    rows = []
    plans = [("floor: st.write(\"hi\")", FLOOR_APP, "/", "run"),
             ("floor + one Plotly chart", FLOOR_APP, "/?chart=1", "run"),
             ("gru-viz, streamlit run, fresh", "app.py", args.link, "run"),
             ("gru-viz, streamlit run, after one open", "app.py", args.link, "warm"),
             ("gru-viz, serve.sh 1 replica, fresh", "app.py", args.link, 1),
             ("gru-viz, serve.sh 2 replicas, fresh", "app.py", args.link, 2)]
    for name, app, link, how in plans:
        if isinstance(how, int):  # serve.sh with that many replicas
            target = serve_target(how, log_dir, extra=args.serve_arg)
        else:
            target = run_server(False, log_dir / f"first-open-{Path(app).stem}-{int(time.time())}.log",
                                args.server_arg, app=app)
        with target as (url, who, _):
            roots = who if callable(who) else (lambda pid=who: [pid])
            if how == "warm":
                open_once(url, link)
            row = phase(args, url, roots, interactions=0, link=link, picture=link != "/")
            rows.append((name, {**row, **asyncio.run(solo_browser(url, link, link != "/"))}))
    lines = header(args, f"First open: {args.sessions} sessions arriving within {args.ramp:g} s")
    lines += table(rows, [("opens", lambda r: str(r["opens"])),
                          ("errors (burst + alone)", lambda r: f"**{r['errors']}** + {r['solo_errors']}"),
                          ("server's answer median", lambda r: fmt_ms(r["open_median_protocol"])),
                          ("server's answer p95", lambda r: f"**{fmt_ms(r['open_p95_protocol'])}**"),
                          ("one browser alone after: run done / picture", lambda r: f"{fmt_ms(r['solo_run'])}"
                                                                                    f" / {fmt_ms(r['solo_picture'])}"),
                          ("HTTP per browser open", lambda r: f"{r['solo_bytes'] / 2**20:.1f} MiB"),
                          ("server CPU (mean)", lambda r: " + ".join(f"{c:.0f} %" for c in r["cpu"])),
                          ("peak RSS", lambda r: mib(r["peak_rss"])),
                          ("load avg", lambda r: f"{r['load'][0]:.1f}→{r['load'][1]:.1f}")])
    floor, chart_floor = rows[0][1], rows[1][1]
    lines += ["", *errors_of(rows),
              f"The server's answer is timed by the {args.sessions - args.browser_sessions} protocol clients (their "
              f"script run and ForwardMsgs); the {args.browser_sessions} chromium pages of the burst run at nice "
              f"{args.browser_nice} so that they do not starve the server on its own cores, and count for errors only. "
              "A browser's own work is timed after the burst, one chromium alone, at normal priority.", "",
              "Ours ÷ floor (target ≤ 2×): the server's answer p95 against st.write(\"hi\")'s, and one browser's "
              "picture against the floor with one Plotly chart:", ""]
    for name, r in rows[2:]:
        lines.append(f"- {name}: answer {r['open_p95_protocol'] / floor['open_p95_protocol']:.2f}×, picture "
                     f"{r['solo_picture'] / chart_floor['solo_picture']:.2f}×; the server's answer p95 "
                     f"{fmt_ms(r['open_p95_protocol'])} (target ≤ 3 s).")
    return "\n".join([*lines, ""])


async def warm_up(base_url: str, link: str) -> None:
    """One tab opens the link and the lesson's pages before the class arrives, so that a phase with abusers (whose
    tabs open the server first) and one without start from the same server state."""
    split = urlsplit(link)
    session = ProtocolSession(base_url)
    try:
        await session.connect()
        session.page_name = split.path.strip("/")
        await asyncio.wait_for(session.rerun(query=split.query), 120)
        for action in [a for a in SCRIPT if a.startswith("page:")]:
            await asyncio.wait_for(session.act(action), 120)
    finally:
        await session.close()
    await asyncio.sleep(2)


def abuse(args: argparse.Namespace, log_dir: Path) -> str:
    """--abuse K: the lesson's sessions with and without K tabs opening heavy links with fresh seeds, on a server
    with its protections and on one without (GRU_VIZ_PROTECTIONS=off), all in one run; each server started as
    serve.sh starts a replica, and warmed by one tab before the class arrives."""
    rows = []
    settings = {"both": ("on", "off"), "on": ("on",), "off": ("off",)}[args.protections]
    for protections in settings:
        for k in [0, args.abuse] * args.repeat:  # pairs: the noise between runs shows in the ratios' spread
            name = f"protections {protections}, {k} abusing tab{'s' if k != 1 else ''}"
            log = log_dir / f"abuse-{protections}-{k}-{int(time.time())}.log"
            env = {"GRU_VIZ_PROTECTIONS": protections}
            with run_server(False, log, args.server_arg, env=env, preload=True) as (url, pid, _):
                asyncio.run(warm_up(url, args.link))
                rows.append((name, phase(args, url, lambda pid=pid: [pid], abuse=k)))
    columns = [("sessions", lambda r: str(r["sessions"])), ("errors", lambda r: f"**{r['errors']}**"),
               ("median", lambda r: fmt_ms(r["median"])), ("p95", lambda r: f"**{fmt_ms(r['p95'])}**"),
               ("p95 protocol / chromium", lambda r: f"{fmt_ms(r['p95_protocol'])} / {fmt_ms(r['p95_browser'])}"),
               ("max", lambda r: fmt_ms(r["max"])), ("Next/Prev p95", lambda r: fmt_ms(r["step_p95"])),
               ("heavy opens", lambda r: str(r["abuse"])),
               ("peak RSS (PSS), server + workers", lambda r: f"{mib(r['peak_rss'])} ({mib(r['peak_pss'])})"),
               ("peak RSS, server alone", lambda r: mib(r.get("peak_server_rss", 0))),
               ("RSS idle → 20 s after", lambda r: f"{mib(r['idle_rss'])} → {mib(r['after_rss'])}"),
               ("load avg", lambda r: f"{r['load'][0]:.1f}→{r['load'][1]:.1f}")]
    lines = header(args, f"One student against the class: {args.abuse} tabs opening heavy links with fresh seeds")
    lines += [*table(rows, columns), "", *errors_of(rows)]
    pairs = 2 * args.repeat
    for first in range(0, len(rows), pairs):
        runs = [(rows[i][1], rows[i + 1][1]) for i in range(first, first + pairs, 2)]

        def ratios(key: str, runs=runs) -> str:
            values = [hit[key] / base[key] for base, hit in runs]
            spread = ", ".join(f"{v:.2f}×" for v in values)
            return f"{median(values):.2f}×" + (f" (runs: {spread})" if len(values) > 1 else "")
        lines.append(f"- {rows[first][0].split(',')[0]}: normal p95 under abuse ÷ without {ratios('p95')} (target "
                     f"≤ 1.5×); the protocol clients' (the server's answer) {ratios('p95_protocol')}, chromium's "
                     f"{ratios('p95_browser')}; Next/Prev p95 {ratios('step_p95')}; peak "
                     f"{mib(max(hit['peak_rss'] for _, hit in runs))} with the workers, the server process alone "
                     f"{mib(max(hit.get('peak_server_rss', 0) for _, hit in runs))} (ceiling {mib(CEILING)}).")
        if len(runs) > 1:  # one p95 over every run's clicks: steadier than a ratio of two noisy runs
            base, hit = (stats(Results([s for pair in runs for s in pair[k]["samples"]])) for k in (0, 1))
            parts = [f"{what} {fmt_ms(base[key])} → {fmt_ms(hit[key])} ({hit[key] / base[key]:.2f}×)"
                     for what, key in (("all", "p95"), ("protocol", "p95_protocol"), ("chromium", "p95_browser"),
                                       ("Next/Prev", "step_p95"))]
            lines.append(f"  - pooled over the {len(runs)} runs ({base['interactions']} clicks each way), p95 without "
                         f"→ with abuse: " + ", ".join(parts) + ".")
    return "\n".join([*lines, ""])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--browser-sessions", type=int, default=4, help="of the sessions, how many are chromium pages")
    ap.add_argument("--interactions", type=int, default=10, help="per session, after opening the link")
    ap.add_argument("--duration-cap", type=float, default=300.0, help="seconds; sessions still running are cut")
    ap.add_argument("--link", default=DEFAULT_LINK)
    ap.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    ap.add_argument("--ramp", type=float, default=3.0)
    ap.add_argument("--browser-nice", type=int, default=19, metavar="N",
                    help="run chromium at this niceness (0: as the server), so the browsers give way to it as "
                         "students' own laptops would")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="an already running server (default: start one)")
    ap.add_argument("--watcher", action="store_true", help="keep Streamlit's file watcher on")
    ap.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                    help="extra `streamlit run` option, e.g. --server-arg=--runner.postScriptGC=false (repeatable)")
    ap.add_argument("--no-sizes", action="store_true",
                    help="skip the passes after the load: cost per interaction, ForwardMsg sizes per page")
    ap.add_argument("--compare-replicas", metavar="R:S,R:S",
                    help='scale-out: scripts/serve.sh with R replicas and S sessions for each pair, e.g. "1:40,2:80"')
    ap.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                    help="extra scripts/serve.sh option for --compare-replicas (repeatable)")
    ap.add_argument("--first-open", action="store_true",
                    help="the opening burst on a fresh server against a bare st.write('hi') app (interactions 0)")
    ap.add_argument("--abuse", type=int, default=0, metavar="K",
                    help="K tabs open heavy links with fresh seeds while the sessions click through the lesson")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="with --abuse: run each pair (without, with) N times, alternating, and report every ratio")
    ap.add_argument("--protections", choices=("both", "on", "off"), default="both",
                    help="with --abuse: the server's protections on, off (GRU_VIZ_PROTECTIONS=off), or both")
    ap.add_argument("--out", type=Path, help="also write the markdown report here")
    ap.add_argument("--json", type=Path, help="write every sample as JSON here")
    args = ap.parse_args()
    if not 0 < args.duration_cap <= 3600 or args.sessions < 1 or args.interactions < 0 or args.repeat < 1:
        ap.error("need 1 ≤ sessions, 0 ≤ interactions, 0 < duration-cap ≤ 3600, 1 ≤ repeat")

    log_dir = ROOT / "test-artifacts" / "logs" / f"load-test-{time.strftime('%Y%m%d-%H%M%S')}"
    mode = (compare_replicas if args.compare_replicas else first_open if args.first_open
            else abuse if args.abuse else None)
    if mode is not None:
        text = mode(args, log_dir)
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
        print(f"logs: {log_dir}", file=sys.stderr)
        return 0
    cmd = [Path(sys.executable).name, *sys.argv]
    log = log_dir.with_suffix(".log")
    with contextlib.ExitStack() as stack:
        if args.url:
            base_url, pid, server_cmd = args.url.rstrip("/"), server_pid_of(args.url), ["(given by --url)"]
            if pid is None:
                print("cannot find the server's pid; memory/CPU will be missing", file=sys.stderr)
        else:
            base_url, pid, server_cmd = stack.enter_context(run_server(args.watcher, log, args.server_arg))
        sampler = ProcSampler(pid) if pid else None
        rss_base = sampler.read()[0] if sampler else 0
        if sampler:
            sampler.start()
        results = Results()
        usage0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t_start = time.monotonic()
        load_before = os.getloadavg()[0]
        asyncio.run(drive(args, base_url, results))
        load_after = os.getloadavg()[0]
        t_end = time.monotonic()
        usage1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        client_cpu = sum(u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime
                         for u0, u1 in zip(usage0, usage1, strict=True))
        time.sleep(2)
        rss_after = sampler.read()[0] if sampler else 0
        server = (sampler.summary(t_start, t_end) if sampler and sampler.samples else
                  {"peak_rss": 0, "mean_cpu": float("nan"), "peak_cpu": float("nan"), "cpu_seconds": float("nan"),
                   "peak_threads": 0})
        costs = [] if args.no_sizes else asyncio.run(measure_costs(base_url, args.link, sampler))
        if sampler:
            sampler.stop()
        sizes = [] if args.no_sizes else asyncio.run(measure_sizes(base_url))
    text = report(args, cmd, results, server, rss_base, rss_after, t_end - t_start, client_cpu, sizes,
                  " ".join(str(c).replace(str(ROOT) + "/", "") for c in server_cmd), (load_before, load_after),
                  costs)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if args.json:
        args.json.write_text(json.dumps({"t0": t_start, "samples": [s.__dict__ for s in results.samples],
                                         "server": sampler.samples if sampler else []}))
    if not args.url:
        print(f"server log: {log}", file=sys.stderr)
    return 1 if any(s.error for s in results.samples) else 0


if __name__ == "__main__":
    sys.exit(main())
