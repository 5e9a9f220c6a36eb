"""The heavy-job pool (gru_viz.serve.jobs) and the byte-bounded caches (gru_viz.app.budget), on real processes.

Jobs run in worker processes forked from a fork server: a result comes back from another pid; forty sessions
asking for one key share one job; one session waits for one job at a time (a new request drops the old one
when nobody else waits); the queue reports places; Cancel stops a running worker; a job over its memory or
time limit fails with a message, not an OOM kill; a worker runs at a lower priority; torch is imported in the
workers, never in the process that asks.

Nothing here rests on how fast the machine is: a job that must still be running while the test looks at the
queue is a :class:`Hold`, which tells the test that its worker runs it and then waits until the test lets it go
(not a sleep of a few seconds that a loaded machine can outlast). Time bounds are only for liveness (a test fails
instead of hanging), and generous: a worker runs at a lower priority, so on a busy machine it gets little CPU.
"""

from __future__ import annotations

import json
import mmap
import multiprocessing
import os
import select
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gru_viz.app import budget
from gru_viz.serve import jobs
from gru_viz.serve.limits import BUDGETS, CEILING, MAX_ENTRY_SHARE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIVENESS = 300  # seconds any wait here may take before the test fails: far more than a loaded machine needs
CTX = multiprocessing.get_context("forkserver")  # the workers' context: its pipes and events reach them


def _pid() -> int:
    return os.getpid()


def _held(news, release) -> int:
    """A job that tells the test its worker runs it (sending that worker's pid) and then waits to be let go."""
    news.send(os.getpid())
    release.poll(LIVENESS)
    return os.getpid()


class Hold:
    """A job that runs until the test lets it go: submit :func:`_held` with ``args``; :meth:`running` waits until a
    worker runs it (and returns that worker's pid); :meth:`release` lets it end. Pipes both ways, not a
    multiprocessing Event: setting an Event waits for every waiter to wake, and a stopped worker never does."""

    def __init__(self) -> None:
        self._news, news = CTX.Pipe(duplex=False)
        release, self._release = CTX.Pipe(duplex=False)
        self.args = (news, release)

    def running(self) -> int:
        assert self._news.poll(LIVENESS), f"the held job's worker did not run it within {LIVENESS} s"
        return self._news.recv()

    def release(self) -> None:
        self._release.send(True)


def _nice_and_pid() -> tuple[int, int]:
    return os.nice(0), os.getpid()


def _allocate(mib: int) -> int:
    return int(np.ones(mib * 2**20 // 8).sum())


def _bad_input() -> None:
    from gru_viz.core.sequences import parse_sequence

    parse_sequence("1, x", "numbers")


@pytest.fixture
def pool():
    # The time limit is the server's own (300 s): a worker at a lower priority on a loaded machine needs seconds
    # just to import this module, and no test here but the time limit's own is about the limit.
    p = jobs.Pool(workers=1, memory=768 * 2**20, seconds=jobs.JOB_SECONDS)
    yield p
    with p._lock:
        running = list(p._running)
    for job in running:
        if job.process is not None:
            job.process.kill()


@pytest.fixture
def hold():
    """Makes :class:`Hold` jobs; every one is let go when the test ends (a failed test leaves no worker waiting)."""
    made: list[Hold] = []

    def make() -> Hold:
        made.append(Hold())
        return made[-1]

    yield make
    for h in made:
        h.release()


def wait_over(job: jobs.Job, timeout: float = LIVENESS) -> jobs.Job:
    assert job.wait(timeout), f"{job.label} still {job.state} after {timeout} s"
    return job


def test_a_job_runs_in_a_worker_process(pool) -> None:
    job = wait_over(pool.submit("pid", _pid, (), "pid", "a"))
    assert job.state == "done" and job.value != os.getpid()


def test_sessions_share_a_job_and_the_queue_has_places(pool, hold) -> None:
    blocker = hold()
    first = pool.submit("block", _held, blocker.args, "block", "a")
    same = pool.submit("block", _held, blocker.args, "block", "b")
    assert same is first and first.waiters == {"a", "b"}
    second = pool.submit("pid", _pid, (), "pid", "c")
    blocker.running()  # the one worker runs it until it is let go: the queue stands still meanwhile
    assert (pool.position(first), pool.position(second)) == (0, 1)
    assert pool.status()["queued"] == ["pid"]
    blocker.release()
    assert wait_over(first).value != os.getpid() and wait_over(second).state == "done"
    assert pool.position(first) == -1


def test_the_job_most_tabs_wait_for_goes_first_and_closed_tabs_stop_waiting(pool, hold) -> None:
    blocker = hold()
    first = pool.submit("block", _held, blocker.args, "block", "x")
    blocker.running()  # everything below waits in the queue until it is let go
    lone = pool.submit("lone", _pid, (), "lone", "a")
    shared = pool.submit("shared", _pid, (), "shared", "b")
    for session in ("c", "d"):
        pool.submit("shared", _pid, (), "shared", session)
    assert (pool.position(shared), pool.position(lone)) == (1, 2)  # three tabs wait for it: it goes first
    gone = pool.submit("gone", _pid, (), "gone", "closed-tab")
    pool.alive = lambda session: session != "closed-tab"
    wait_over(gone)  # the pool's loop looks at the queue's tabs at least once a second
    assert gone.state == "cancelled" and "closed" in gone.stop_reason
    assert (lone.state, shared.state) == ("queued", "queued")
    blocker.release()
    assert wait_over(shared).finished <= wait_over(lone).started
    wait_over(first)


def test_one_job_per_session_a_new_request_drops_the_old(pool, hold) -> None:
    blocker = hold()
    first = pool.submit("block", _held, blocker.args, "block", "x")
    blocker.running()  # the one worker is busy until the blocker is let go: every job below stays queued
    old = pool.submit("old", _pid, (), "old", "a")  # queued behind the blocker
    new = pool.submit("new", _pid, (), "new", "a")  # the same tab asks for something else
    assert old.state == "cancelled" and "replaced" in old.stop_reason
    shared = pool.submit("shared", _pid, (), "shared", "b")
    pool.submit("shared", _pid, (), "shared", "c")
    pool.submit("other", _pid, (), "other", "b")  # b leaves, c still waits: the job stays
    assert shared.state == "queued" and shared.waiters == {"c"}
    blocker.release()
    for job in (first, new, shared):
        assert wait_over(job).state == "done"


def test_cancel_stops_the_running_worker(pool, hold) -> None:
    blocker = hold()
    job = pool.submit("long", _held, blocker.args, "long", "a")
    pid = blocker.running()  # the worker's own pid
    pool.leave(job, "a")
    wait_over(job)
    assert job.state == "cancelled"
    with pytest.raises(jobs.JobError, match="cancelled"):
        job.result()
    # the pool settles a stopped job once the fork server has reaped its worker (that is how it learns of its end)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_limits_memory_and_time_end_in_a_message(pool, hold) -> None:
    big = wait_over(pool.submit("big", _allocate, (2048,), "big", "a"))  # over the pool's 768 MiB
    assert big.state == "failed" and "memory" in big.message
    with pytest.raises(jobs.JobError, match="memory one job may use"):
        big.result()
    small = wait_over(pool.submit("small", _allocate, (16,), "small", "a"))
    assert small.state == "done"
    quick = jobs.Pool(workers=1, seconds=1.0)
    slow = wait_over(quick.submit("slow", _held, hold().args, "slow", "a"))  # never let go: it runs until stopped
    assert slow.state == "failed" and "more than 1 s" in slow.message


def test_the_time_limit_counts_from_the_workers_start(tmp_path) -> None:
    """A server's first job waits for the fork server's imports (torch, at a lower priority: tens of seconds on a
    loaded machine), and that wait once counted as the job's time: the first job of a 20 s pool was stopped as
    over its limit before it ran. Here the imports take 8 s and the limit is 6 s; the job itself takes 2 s and is
    done (the pool looks at its worker every 0.25 s, so the old clock stopped it at once)."""
    (tmp_path / "slow_imports.py").write_text("import time\n\ntime.sleep(8)  # a fork server's imports taking 8 s\n")
    code = textwrap.dedent("""
        import json, time
        from gru_viz.serve import jobs
        jobs.PRELOAD = ["gru_viz.serve.work", "slow_imports"]
        def main():
            pool = jobs.Pool(workers=1, seconds=6)
            job = pool.submit("sleep", time.sleep, (2,), "sleep", "s")  # a job that takes 2 s
            assert job.wait(300), job.state
            launched = getattr(job, "launched", None)
            print(json.dumps([job.state, job.message, launched and launched - job.started]), flush=True)
        if __name__ == "__main__":
            main()
    """)
    env = {k: v for k, v in os.environ.items() if k != "GRU_VIZ_JOBS"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), ROOT, env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=LIVENESS)
    assert out.returncode == 0, out.stderr[-2000:]
    state, message, waited = json.loads(out.stdout.strip().splitlines()[-1])
    assert (state, message) == ("done", "")
    assert waited >= 8  # the fork server's imports came before its worker: the job's clock started after them


def test_a_bad_input_is_the_inputs_message(pool) -> None:
    job = wait_over(pool.submit("bad", _bad_input, (), "bad", "a"))
    assert job.state == "failed" and job.friendly and job.error == "SequenceError"
    with pytest.raises(jobs.JobError, match="'x' is not a number"):
        job.result()


def _big(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"trace": rng.standard_normal((600, 64, 8)), "labels": tuple(f"t{k}" for k in range(600)), "small": 3}


def test_a_large_result_comes_back_through_a_file_and_leaves_none(pool) -> None:
    """A result with megabytes of arrays is spilled to a file the server maps (not 64 KiB pipe reads): it comes
    back equal and writable, and its file is gone once read."""
    job = wait_over(pool.submit("big", _big, (7,), "big", "a"))
    want = _big(7)
    got = job.value
    assert got["labels"] == want["labels"] and got["small"] == 3
    np.testing.assert_array_equal(got["trace"], want["trace"])
    assert got["trace"].nbytes > 2**20 and job.spill and not os.path.exists(job.spill)
    memory = got["trace"]
    while isinstance(memory, np.ndarray):
        memory = memory.base
    assert isinstance(memory, memoryview) and isinstance(memory.obj, mmap.mmap), memory  # mapped, not copied in
    got["trace"][0, 0, 0] = 1.0  # copy-on-write: the page may change its arrays
    assert os.listdir(os.path.dirname(job.spill)) == []


def _big_held_before_sending(seed: int, news, release) -> dict:
    """:func:`_big`'s result, from a worker held once it has written its spill file and before it sends the message
    that names it: a worker stopped right there leaves a file nobody will read."""
    import multiprocessing.connection as mc

    real = mc.Connection.send

    def send(conn, obj) -> None:
        if conn is not news:  # the result's message: the spill file is written by now
            real(news, os.getpid())
            release.poll(LIVENESS)
        real(conn, obj)

    mc.Connection.send = send  # in this worker only, which ends with the job
    return _big(seed)


def test_a_spilled_result_nobody_reads_is_removed(pool, hold) -> None:
    gate = hold()
    job = pool.submit("big-unread", _big_held_before_sending, (8, *gate.args), "big", "a")
    gate.running()  # its spill file is written and its message not sent
    assert job.spill and os.path.exists(job.spill)
    pool.leave(job, "a")  # cancelled: its result is never read
    assert wait_over(job).state == "cancelled"
    assert os.listdir(os.path.dirname(job.spill)) == []  # gone before the job is over


def test_workers_run_at_a_lower_priority(pool) -> None:
    niceness, pid = wait_over(pool.submit("nice", _nice_and_pid, (), "nice", "a")).value
    assert pid != os.getpid() and niceness >= os.nice(0) + pool.nice


def _session_and_autogroup() -> tuple[int, str]:
    path = "/proc/self/autogroup"
    return os.getsid(0), open(path).read() if os.path.exists(path) else ""


def test_workers_give_way_to_the_whole_machine(pool) -> None:
    """A worker has a session of its own, so the kernel's autogroup scheduler does not share the server's session's
    CPU with it; that session's autogroup runs at the lower priority."""
    sid, autogroup = wait_over(pool.submit("sid", _session_and_autogroup, (), "sid", "a")).value
    assert sid != os.getsid(0)
    if autogroup or os.path.exists("/proc/self/autogroup"):  # a kernel with autogroup scheduling
        assert autogroup.split()[-2:] == ["nice", str(pool.nice)], autogroup


def _gone(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _wait_gone(pid: int, timeout: float = LIVENESS) -> bool:
    """Wait until process ``pid`` has ended (its pidfd says so), for at most ``timeout`` s; whether it has."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0]) or _gone(pid)
    finally:
        os.close(fd)


def _line(stream, timeout: float = LIVENESS) -> str:
    """The next line of a child's output ("" at its end), failing after ``timeout`` s instead of hanging."""
    assert select.select([stream], [], [], timeout)[0], f"no output within {timeout} s"
    return stream.readline()


def test_workers_end_when_their_server_is_killed() -> None:
    """The fork server is out of the server's process group (its own session), so stopping that group does not
    reach it: it and a running worker must end by themselves when the server process dies."""
    code = textwrap.dedent("""
        import time
        from multiprocessing import forkserver
        from gru_viz.serve import jobs
        def main():
            pool = jobs.Pool(workers=1, memory=768 * 2**20, seconds=120)
            job = pool.submit("sleep", time.sleep, (100,), "sleep", "s")
            while job.process is None:
                time.sleep(0.05)
            print(job.process.pid, forkserver._forkserver._forkserver_pid, flush=True)
            time.sleep(100)
        if __name__ == "__main__":
            main()
    """)
    env = {k: v for k, v in os.environ.items() if k != "GRU_VIZ_JOBS"}
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        worker, fork_server = (int(v) for v in _line(server.stdout).split())
        assert not _gone(worker) and not _gone(fork_server)
        os.killpg(server.pid, 9)  # what serve.sh does to a replica that will not stop
        server.wait(LIVENESS)
        assert _wait_gone(worker), "a job worker outlived its server"
        assert _wait_gone(fork_server), "the fork server outlived its server"
        spool = jobs.Pool()._spill_path()  # the next server sweeps the spill directory the killed one left
        assert spool and not [n for n in os.listdir(os.path.dirname(os.path.dirname(spool)))
                              if n.startswith(f"gru-viz-jobs-{server.pid}-")]
    finally:
        if server.poll() is None:
            server.kill()


def test_a_worker_that_lets_go_of_its_fork_server_last_still_ends_with_it() -> None:
    """A worker closes its copy of the fork server's lifeline (work.end_with_parent), then asks to die with its
    parent; a fork server whose server has gone ends as soon as the last copy closes. On a loaded machine the fork
    server could end before the worker had read who its parent was: it took whoever adopted it for the fork server
    and ran on (a worker outlived its killed server). Here the worker loses that race every time."""
    code = textwrap.dedent("""
        import os, select, time
        from multiprocessing import forkserver
        from gru_viz.serve import work
        r, w = os.pipe()
        if os.fork() == 0:  # the worker
            os.close(r)
            forkserver._forkserver._forkserver_alive_fd = w  # its copy of the lifeline
            fork_server = os.pidfd_open(os.getppid())
            real_close = os.close
            def close(fd):  # the scheduler runs the fork server the moment the lifeline closes, until it has ended
                real_close(fd)
                if fd == w:
                    select.select([fork_server], [], [], 300)
            os.close = close
            work.end_with_parent()
            os.close = real_close
            print(os.getpid(), flush=True)  # still running: it outlived its fork server
            time.sleep(300)
            os._exit(0)
        os.close(w)  # the fork server: it ends when the last copy of its lifeline closes
        os.read(r, 1)
    """)
    env = {k: v for k, v in os.environ.items() if k != "GRU_VIZ_JOBS"}
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        survivor = _line(server.stdout)  # "" once every process holding the pipe has ended
        if survivor:
            os.kill(int(survivor), 9)
        assert survivor == "", "the worker outlived its fork server"
    finally:
        server.wait(LIVENESS)


def test_torch_only_in_the_workers() -> None:
    """A server process using the pool never imports torch (checked in a fresh interpreter)."""
    code = textwrap.dedent("""
        import sys
        from gru_viz.serve import jobs, work
        from gru_viz.serve.state import Config, build_scene
        from gru_viz.app.parity import run_of
        def main():
            sc = build_scene(Config(hidden=3))
            m, x, h0, ab = run_of(sc)
            job = jobs.POOL.submit("p", work.compare_with_torch, (m, x, h0, ab, "float64"), "parity", "s")
            assert job.wait(300), job.state
            assert job.state == "done" and job.value.passed, (job.state, job.message)
            assert "torch" not in sys.modules, "the server process imported torch"
            print("ok")
        if __name__ == "__main__":
            main()
    """)
    env = {k: v for k, v in os.environ.items() if k != "GRU_VIZ_JOBS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=400)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


# ------------------------------------------------------------------------------------------------ the caches


def test_byte_cache_keeps_to_its_budget() -> None:
    cache = budget.ByteCache("t", budget=10 * 2**20)
    for i in range(20):
        cache.put(i, np.zeros(2**20 // 8))  # 1 MiB each
    assert cache.used <= cache.budget and len(cache) == 9 and cache.evictions == 11
    assert cache.get(0) is None and cache.get(19) is not None  # least recently used first
    cache.put("huge", np.zeros(6 * 2**20 // 8))  # more than half the budget: not kept
    assert "huge" not in cache and cache.refused == 1


def test_byte_cache_builds_once_for_concurrent_callers(monkeypatch) -> None:
    """Eight callers ask for one key: the first builds it, and its build goes on until the seven others are waiting
    for it (not for a fixed while they might outlast), so they all really ask meanwhile; it runs once."""
    import threading
    from concurrent.futures import Future

    waiting = threading.Semaphore(0)

    class Watched(Future):
        def result(self, timeout=None):
            waiting.release()  # a caller waits for the build
            return super().result(timeout)

    monkeypatch.setattr(budget, "Future", Watched)
    cache = budget.ByteCache("t", budget=2**20)
    calls = []

    def build():
        calls.append(1)
        for _ in range(7):
            assert waiting.acquire(timeout=LIVENESS), "the other callers never waited for the build"
        return np.arange(10)

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_build("k", build))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LIVENESS)
    assert len(calls) == 1 and len(results) == 8 and all(r is results[0] for r in results)


def test_nbytes_counts_arrays_once() -> None:
    a = np.zeros((1000, 100))
    assert 800_000 <= budget.nbytes({"a": a, "view": a[10:], "again": [a, a]}) < 801_000


def test_the_budgets_fit_under_the_ceiling() -> None:
    assert sum(BUDGETS.values()) + 300 * 2**20 <= CEILING  # ~300 MiB: the process without its caches
    assert 0 < MAX_ENTRY_SHARE <= 0.5
