"""The heavy-job pool (gru_viz.serve.jobs) and the byte-bounded caches (gru_viz.app.budget), on real processes.

Jobs run in worker processes forked from a fork server: a result comes back from another pid; forty sessions
asking for one key share one job; one session waits for one job at a time (a new request drops the old one
when nobody else waits); the queue reports places; Cancel stops a running worker; a job over its memory or
time limit fails with a message, not an OOM kill; a worker runs at a lower priority; torch is imported in the
workers, never in the process that asks.
"""

from __future__ import annotations

import mmap
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from gru_viz.app import budget
from gru_viz.serve import jobs
from gru_viz.serve.limits import BUDGETS, CEILING, MAX_ENTRY_SHARE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pid() -> int:
    return os.getpid()


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _nice_and_pid() -> tuple[int, int]:
    return os.nice(0), os.getpid()


def _allocate(mib: int) -> int:
    return int(np.ones(mib * 2**20 // 8).sum())


def _bad_input() -> None:
    from gru_viz.core.sequences import parse_sequence

    parse_sequence("1, x", "numbers")


@pytest.fixture
def pool():
    p = jobs.Pool(workers=1, memory=768 * 2**20, seconds=20)
    yield p
    with p._lock:
        running = list(p._running)
    for job in running:
        if job.process is not None:
            job.process.kill()


def wait_over(job: jobs.Job, timeout: float = 180) -> jobs.Job:
    assert job.wait(timeout), f"{job.label} still {job.state} after {timeout} s"
    return job


def test_a_job_runs_in_a_worker_process(pool) -> None:
    job = wait_over(pool.submit("pid", _pid, (), "pid", "a"))
    assert job.state == "done" and job.value != os.getpid()


def test_sessions_share_a_job_and_the_queue_has_places(pool) -> None:
    first = pool.submit("sleep", _sleep, (3.0,), "sleep", "a")
    same = pool.submit("sleep", _sleep, (3.0,), "sleep", "b")
    assert same is first and first.waiters == {"a", "b"}
    second = pool.submit("pid", _pid, (), "pid", "c")
    deadline = time.monotonic() + 120
    while pool.position(first) != 0 and time.monotonic() < deadline:  # the fork server may still be starting
        time.sleep(0.1)
    assert (pool.position(first), pool.position(second)) == (0, 1)
    assert pool.status()["queued"] == ["pid"]
    assert wait_over(first).value == 3.0 and wait_over(second).state == "done"
    assert pool.position(first) == -1


def test_the_job_most_tabs_wait_for_goes_first_and_closed_tabs_stop_waiting(pool) -> None:
    blocker = pool.submit("block", _sleep, (3.0,), "block", "x")
    deadline = time.monotonic() + 120
    while pool.position(blocker) != 0 and time.monotonic() < deadline:  # the fork server may still be starting
        time.sleep(0.1)
    lone = pool.submit("lone", _sleep, (0.1,), "lone", "a")
    shared = pool.submit("shared", _sleep, (0.1,), "shared", "b")
    for session in ("c", "d"):
        pool.submit("shared", _sleep, (0.1,), "shared", session)
    assert (pool.position(shared), pool.position(lone)) == (1, 2)  # three tabs wait for it: it goes first
    gone = pool.submit("gone", _sleep, (0.1,), "gone", "closed-tab")
    pool.alive = lambda session: session != "closed-tab"
    wait_over(gone, 60)
    assert gone.state == "cancelled" and "closed" in gone.stop_reason
    assert wait_over(shared).finished <= wait_over(lone).started
    wait_over(blocker)


def test_one_job_per_session_a_new_request_drops_the_old(pool) -> None:
    blocker = pool.submit("block", _sleep, (2.0,), "block", "x")
    old = pool.submit("old", _sleep, (0.1,), "old", "a")  # queued behind the blocker
    new = pool.submit("new", _pid, (), "new", "a")  # the same tab asks for something else
    assert old.state == "cancelled" and "replaced" in old.stop_reason
    shared = pool.submit("shared", _sleep, (0.1,), "shared", "b")
    pool.submit("shared", _sleep, (0.1,), "shared", "c")
    pool.submit("other", _pid, (), "other", "b")  # b leaves, c still waits: the job stays
    assert shared.state == "queued" and shared.waiters == {"c"}
    for job in (blocker, new, shared):
        assert wait_over(job).state == "done"


def test_cancel_stops_the_running_worker(pool) -> None:
    job = pool.submit("long", _sleep, (60.0,), "long", "a")
    deadline = time.monotonic() + 120
    while job.process is None or not job.process.is_alive():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    pid = job.process.pid
    pool.leave(job, "a")
    wait_over(job, 30)
    assert job.state == "cancelled"
    with pytest.raises(jobs.JobError, match="cancelled"):
        job.result()
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_limits_memory_and_time_end_in_a_message(pool) -> None:
    big = wait_over(pool.submit("big", _allocate, (2048,), "big", "a"))  # over the pool's 768 MiB
    assert big.state == "failed" and "memory" in big.message
    with pytest.raises(jobs.JobError, match="memory one job may use"):
        big.result()
    small = wait_over(pool.submit("small", _allocate, (16,), "small", "a"))
    assert small.state == "done"
    quick = jobs.Pool(workers=1, seconds=1.0)
    slow = wait_over(quick.submit("slow", _sleep, (30.0,), "slow", "a"), 60)
    assert slow.state == "failed" and "more than 1 s" in slow.message


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


def test_a_spilled_result_nobody_reads_is_removed(pool) -> None:
    job = pool.submit("big-unread", _big, (8,), "big", "a")
    deadline = time.monotonic() + 60
    while (job.spill is None or not os.path.exists(job.spill)) and not job.over and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.leave(job, "a")  # cancelled: its result is never read
    wait_over(job)
    deadline = time.monotonic() + 10
    while os.listdir(os.path.dirname(job.spill)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.listdir(os.path.dirname(job.spill)) == []


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
        worker, fork_server = (int(v) for v in server.stdout.readline().split())
        assert not _gone(worker) and not _gone(fork_server)
        os.killpg(server.pid, 9)  # what serve.sh does to a replica that will not stop
        server.wait(10)
        deadline = time.monotonic() + 15
        while not (_gone(worker) and _gone(fork_server)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(worker), "a job worker outlived its server"
        assert _gone(fork_server), "the fork server outlived its server"
        spool = jobs.Pool()._spill_path()  # the next server sweeps the spill directory the killed one left
        assert spool and not [n for n in os.listdir(os.path.dirname(os.path.dirname(spool)))
                              if n.startswith(f"gru-viz-jobs-{server.pid}-")]
    finally:
        if server.poll() is None:
            server.kill()


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


def test_byte_cache_builds_once_for_concurrent_callers() -> None:
    import threading

    cache = budget.ByteCache("t", budget=2**20)
    calls = []

    def build():
        calls.append(1)
        time.sleep(0.3)
        return np.arange(10)

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_build("k", build))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 8 and all(r is results[0] for r in results)


def test_nbytes_counts_arrays_once() -> None:
    a = np.zeros((1000, 100))
    assert 800_000 <= budget.nbytes({"a": a, "view": a[10:], "again": [a, a]}) < 801_000


def test_the_budgets_fit_under_the_ceiling() -> None:
    assert sum(BUDGETS.values()) + 300 * 2**20 <= CEILING  # ~300 MiB: the process without its caches
    assert 0 < MAX_ENTRY_SHARE <= 0.5
