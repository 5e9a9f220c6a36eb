"""Heavy work with a bounded share of the server: a queue of jobs run by a few worker processes.

A click that needs seconds (Gradient flow's backward passes on a long input, the PyTorch comparison, a long
run's trace) must not stall the class's Next and Prev. So it runs in a **worker process** forked from a fork
server that already has NumPy, the core and torch loaded (:mod:`gru_viz.serve.work`):

- at most ``JOB_WORKERS`` jobs run at once per server process, at a lower priority (``nice``, in a session of
  their own whose autogroup runs at that priority: :mod:`gru_viz.serve.worker_init`), with capped memory and time
  (:mod:`gru_viz.serve.limits`); a job's memory goes back to the system when its process ends;
- a large result's arrays come back through a file the server maps (:func:`gru_viz.serve.work.receive`), not
  through the pipe;
- the others wait in one first-come queue; the page shows the job's place in it and a Cancel button;
- one job per session: a session asking for another result stops waiting for its previous one, which is
  dropped (or its worker stopped) when nobody else waits for it; forty sessions asking for the same result
  (one link) share one job;
- the result goes into the page's byte-bounded cache (:mod:`gru_viz.app.budget`), so everyone on the link
  gets it from there.

``GRU_VIZ_JOBS=inline`` (the test suite's AppTest runs) runs every job in the caller's thread instead.
No Streamlit here; the page side is ``gru_viz.app.ui.heavy``.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import itertools
import multiprocessing
import multiprocessing.connection
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import forkserver, popen_forkserver, spawn, util
from multiprocessing.context import ForkServerProcess, reduction, set_spawning_popen
from typing import Any

from . import work
from .limits import JOB_MEMORY, JOB_NICE, JOB_QUEUE, JOB_SECONDS, JOB_WORKERS, PROTECTIONS

# What the fork server imports once: its lower priority, the jobs, and torch (with the bridge).
PRELOAD = ["gru_viz.serve.worker_init", "gru_viz.serve.work", "gru_viz.io.bridge"]


class _Popen(popen_forkserver.Popen):
    """The fork server's Popen, without the main module: a worker must not run it again. In a Streamlit server
    ``sys.modules["__main__"]`` is the page script being run (Streamlit executes pages as ``__main__``), so the
    standard preparation would re-run a whole page, in bare mode, in every worker."""

    def _launch(self, process_obj) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)  # as in popen_forkserver: the child's sentinel of its parent
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class JobError(RuntimeError):
    """A job failed; the message is for the page."""


def inline_mode() -> bool:
    """Whether jobs run in the caller's thread (GRU_VIZ_JOBS=inline for the tests' AppTest runs, or the
    protections turned off for a benchmark's comparison)."""
    return os.environ.get("GRU_VIZ_JOBS", "").strip().lower() == "inline" or not PROTECTIONS


@dataclass(eq=False)
class Job:
    """One piece of heavy work and everyone waiting for it."""

    key: object
    label: str
    fn: Callable
    args: tuple
    submitted: float = field(default_factory=time.monotonic)
    state: str = "queued"  # queued, running, done, failed, cancelled
    value: Any = None
    message: str = ""
    friendly: bool = False  # the input was at fault (the message says what), not the server
    error: str = ""  # the class name of the exception that failed it
    started: float | None = None
    launched: float | None = None  # when its worker was up: its time limit counts from here
    finished: float | None = None
    waiters: set[str] = field(default_factory=set)
    on_done: Callable[[Job], None] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    process: Any = None
    conn: Any = None
    spill: str | None = None  # where its worker may write a large result's arrays (gru_viz.serve.work.send)
    stop_reason: str = ""  # why it was cancelled
    timed_out: bool = False

    @property
    def over(self) -> bool:
        """Finished one way or another."""
        return self.state in ("done", "failed", "cancelled")

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True if it is over."""
        return self.done.wait(timeout)

    def result(self) -> Any:
        """The value, or :class:`JobError` with the page's message."""
        if self.state == "done":
            return self.value
        if self.state == "cancelled":
            raise JobError(f"{self.label} was cancelled{': ' + self.stop_reason if self.stop_reason else ''}")
        raise JobError(self.message if self.friendly else f"{self.label} did not finish: {self.message}")

    def elapsed(self) -> float:
        """Seconds since it started (0 while queued)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started


class Pool:
    """The job queue and its workers (one per server process, made on first use)."""

    def __init__(self, workers: int = JOB_WORKERS, memory: int = JOB_MEMORY, seconds: float = JOB_SECONDS,
                 nice: int = JOB_NICE) -> None:
        self.workers = max(1, workers)
        self.memory, self.seconds, self.nice = memory, seconds, nice
        self._lock = threading.Condition()
        self._queue: list[Job] = []
        self._running: list[Job] = []
        self._by_key: dict[object, Job] = {}
        self._of_session: dict[str, Job] = {}
        self._thread: threading.Thread | None = None
        self._ctx = None
        self._ctx_lock = threading.Lock()
        self._warming = False  # warm() has started the fork server (replica.preload, then the first session)
        self.broken = ""  # why no worker can start here (then jobs run in place)
        self._spool: str | None = None  # this pool's directory for spilled results, made on first use
        self._count = itertools.count()
        self.finished = 0
        # whether a session is still connected (set by the page side: Streamlit's runtime knows); a job whose
        # every waiter has gone (tabs closed) is dropped before it starts
        self.alive: Callable[[str], bool] = lambda session: True

    # ------------------------------------------------------------------------------------------ the page side

    def submit(self, key: object, fn: Callable, args: tuple, label: str, session: str,
               on_done: Callable[[Job], None] | None = None) -> Job:
        """The job for ``key`` (a new one, or the one already queued or running), with ``session`` waiting for it
        (and no longer for the session's previous job)."""
        with self._lock:
            job = self._by_key.get(key)
            if job is None or job.over:
                if len(self._queue) >= JOB_QUEUE:
                    raise JobError(f"the server is busy with {len(self._queue)} heavy jobs; try again in a minute")
                job = Job(key, label, fn, args, on_done=on_done)
                self._by_key[key] = job
                self._queue.append(job)
            previous = self._of_session.get(session)
            if previous is not None and previous is not job:
                self._leave(previous, session, "another request of this tab replaced it")
            job.waiters.add(session)
            self._of_session[session] = job
            self._ensure_thread()
            self._lock.notify_all()
        return job

    def leave(self, job: Job, session: str, why: str = "cancelled from its page") -> None:
        """``session`` no longer waits for ``job``; nobody else does: it is dropped, or its worker stopped."""
        with self._lock:
            self._leave(job, session, why)
            self._lock.notify_all()

    def _leave(self, job: Job, session: str, why: str) -> None:
        job.waiters.discard(session)
        if self._of_session.get(session) is job:
            del self._of_session[session]
        if job.waiters or job.over:
            return
        if job.state == "queued":
            self._queue.remove(job)
            self._finish(job, "cancelled", reason=why)
        elif job.state == "running":
            job.stop_reason = why
            with contextlib.suppress(Exception):
                job.process.kill()

    def position(self, job: Job) -> int:
        """0 while it runs, k when k − 1 jobs are ahead of it in the queue (−1 when over)."""
        with self._lock:
            if job.state == "running":
                return 0
            if job.state == "queued":
                return 1 + self._order().index(job)
            return -1

    def _order(self) -> list[Job]:
        """The queue in the order its jobs will start: most waiters first, then first come."""
        return sorted(self._queue, key=lambda j: (-len(j.waiters), j.submitted))

    def status(self) -> dict[str, object]:
        """Running and queued jobs, for benchmarks and the server's log."""
        with self._lock:
            return {"running": [j.label for j in self._running], "queued": [j.label for j in self._order()],
                    "finished": self.finished, "workers": self.workers, "broken": self.broken}

    # --------------------------------------------------------------------------------------------- the workers

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="gru-viz-jobs", daemon=True)
            self._thread.start()

    def warm(self) -> None:
        """Start the fork server now, in the background (torch's import happens there, at a lower priority);
        once per pool."""
        with self._ctx_lock:
            if self._warming:
                return
            self._warming = True

        def start() -> None:
            ctx = self._context()
            if ctx is None:
                return
            try:
                process = _Process(target=work.warm, name="gru-viz-job-warm", daemon=True)
                process.start()  # returns once the fork server is up, with its modules loaded
                process.join(timeout=JOB_SECONDS)
            except Exception as exc:
                self.broken = f"{type(exc).__name__}: {exc}"
                print(f"gru-viz: the job workers cannot start ({self.broken}); jobs run in place", file=sys.stderr)
        threading.Thread(target=start, name="gru-viz-jobs-warm", daemon=True).start()

    def _context(self):
        with self._ctx_lock:
            if self._ctx is None and not self.broken:
                try:
                    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                        os.environ.setdefault(name, "1")  # the workers' BLAS (the fork server starts with this)
                    ctx = multiprocessing.get_context("forkserver")
                    ctx.set_forkserver_preload(PRELOAD)
                    self._ctx = ctx
                except (ValueError, OSError) as exc:
                    self.broken = f"{type(exc).__name__}: {exc}"
            return self._ctx

    def _spill_path(self) -> str | None:
        """A fresh file name for one job's spilled result (None: results go through the pipe)."""
        if self._spool is None:
            try:  # memory-backed where there is one: the file is only ever mapped, then unlinked
                where = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
                _sweep_spools(where)
                self._spool = tempfile.mkdtemp(prefix=f"gru-viz-jobs-{os.getpid()}-", dir=where)
            except OSError:
                self._spool = ""
            else:
                atexit.register(shutil.rmtree, self._spool, True)
        return os.path.join(self._spool, f"job-{next(self._count)}") if self._spool else None

    def _start(self, job: Job) -> None:
        ctx = self._context()
        if ctx is None:  # no processes here: run it in this thread (still one at a time, still in order)
            threading.Thread(target=self._run_here, args=(job,), daemon=True).start()
            return
        try:
            parent, child = ctx.Pipe(duplex=False)
            job.spill = self._spill_path()
            process = _Process(target=work.run_job, name="gru-viz-job", daemon=True,
                               args=(child, job.fn, job.args, self.nice, self.memory, int(self.seconds) + 1,
                                     job.spill))
            process.start()  # the first start waits for the fork server's imports: not the job's time
            child.close()
            with self._lock:
                job.process, job.conn, job.launched = process, parent, time.monotonic()
                if job.stop_reason:  # cancelled while its worker was starting
                    process.kill()
        except Exception as exc:
            print(f"gru-viz: cannot start a job worker ({type(exc).__name__}: {exc}); running jobs in place",
                  file=sys.stderr)
            self.broken = f"{type(exc).__name__}: {exc}"
            job.process = None
            threading.Thread(target=self._run_here, args=(job,), daemon=True).start()

    def _run_here(self, job: Job) -> None:
        try:
            value = job.fn(*job.args)
        except (*work.FRIENDLY, work.TorchMissing) as exc:
            outcome = work.Outcome(False, message=str(exc), friendly=True, error=type(exc).__name__)
        except Exception as exc:
            outcome = work.Outcome(False, message=f"it failed unexpectedly ({type(exc).__name__})")
        else:
            outcome = work.Outcome(True, value)
        with self._lock:
            self._settle(job, outcome)
            self._lock.notify_all()

    def _loop(self) -> None:
        while True:
            starting = []
            with self._lock:
                self._forget_gone()
                while self._queue and len(self._running) < self.workers:
                    # the job most sessions wait for first (a class on one link), then first come, first served
                    job = self._order()[0]
                    self._queue.remove(job)
                    job.state, job.started = "running", time.monotonic()
                    self._running.append(job)
                    starting.append(job)
            for job in starting:  # outside the lock: the first start waits for the fork server's imports
                self._start(job)
            with self._lock:
                running = [j for j in self._running if j.process is not None and j.conn is not None]
                if not running:
                    if not starting:
                        self._lock.wait(timeout=1.0)
                    continue
            waitables = [j.conn for j in running] + [j.process.sentinel for j in running]
            with contextlib.suppress(OSError, ValueError):
                multiprocessing.connection.wait(waitables, timeout=0.25)
            for job in running:
                self._check(job)

    def _forget_gone(self) -> None:
        """Waiters whose tab has closed stop waiting (a queued job nobody waits for is dropped)."""
        for job in list(self._queue):
            for session in [s for s in job.waiters if not self._alive(s)]:
                self._leave(job, session, "its tab was closed")

    def _alive(self, session: str) -> bool:
        try:
            return bool(self.alive(session))
        except Exception:
            return True

    def _check(self, job: Job) -> None:
        outcome = None
        try:
            if job.conn.poll():
                outcome = work.receive(job.conn.recv(), job.spill)
        except (EOFError, OSError):
            pass
        except Exception as exc:  # a result that does not unpickle here
            outcome = work.Outcome(False, message=f"its result could not be read ({type(exc).__name__})")
        if outcome is None and job.process.is_alive():
            if time.monotonic() - job.launched > self.seconds:
                job.timed_out = True
                job.process.kill()
            return
        if outcome is None:  # the worker ended without an answer
            job.process.join(timeout=1)
            code = job.process.exitcode
            if job.timed_out:
                outcome = work.Outcome(False, message=f"it ran for more than {self.seconds:g} s, the limit of one "
                                                      "job here; try fewer steps or a smaller model")
            elif job.stop_reason:
                outcome = work.Outcome(False, value="cancelled", message=job.stop_reason)
            elif code in (-9, 137):
                outcome = work.Outcome(False, message="its worker was stopped (out of memory?); try fewer steps")
            else:
                outcome = work.Outcome(False, message=f"its worker ended unexpectedly (exit code {code})")
        if job.spill:  # a result never read (the job was stopped after writing it): its file goes before it is over
            with contextlib.suppress(OSError):
                os.unlink(job.spill)
        with self._lock:
            self._settle(job, outcome)
            self._lock.notify_all()
        with contextlib.suppress(Exception):
            job.conn.close()
            job.process.join(timeout=1)

    def _settle(self, job: Job, outcome: work.Outcome) -> None:
        if job in self._running:
            self._running.remove(job)
        if outcome.ok:
            self._finish(job, "done", value=outcome.value)
        elif outcome.value == "cancelled":
            self._finish(job, "cancelled", reason=job.stop_reason)
        else:
            self._finish(job, "failed", message=outcome.message, friendly=outcome.friendly)
            job.error = outcome.error

    def _finish(self, job: Job, state: str, value: Any = None, message: str = "", friendly: bool = False,
                reason: str = "") -> None:
        job.state, job.value, job.message, job.friendly = state, value, message, friendly
        job.stop_reason = job.stop_reason or reason
        job.finished = time.monotonic()
        if self._by_key.get(job.key) is job:
            del self._by_key[job.key]
        for session in list(job.waiters):
            if self._of_session.get(session) is job:
                del self._of_session[session]
        self.finished += 1
        if state == "done" and job.on_done is not None:
            with contextlib.suppress(Exception):
                job.on_done(job)
        job.done.set()


def _sweep_spools(where: str) -> None:
    """Remove the spill directories of server processes that are gone (killed before their atexit ran)."""
    if not os.path.isdir("/proc"):  # no way to tell a live server from a gone one here
        return
    with contextlib.suppress(OSError):
        for name in os.listdir(where):
            pid = name.split("-")[3] if name.startswith("gru-viz-jobs-") and name.count("-") >= 4 else ""
            if pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}"):
                shutil.rmtree(os.path.join(where, name), ignore_errors=True)


POOL = Pool()


def run(key: object, fn: Callable, args: tuple, label: str, session: str,
        on_done: Callable[[Job], None] | None = None) -> Job:
    """Submit ``fn(*args)`` and return its job; in inline mode, run it now (its exceptions are the caller's)."""
    if inline_mode():
        job = Job(key, label, fn, args, started=time.monotonic())
        job.value, job.state = fn(*args), "done"
        if on_done is not None:
            on_done(job)
        job.finished = time.monotonic()
        job.done.set()
        return job
    return POOL.submit(key, fn, args, label, session, on_done)
