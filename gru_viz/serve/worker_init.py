"""Imported first by the job workers' fork server (gru_viz.serve.jobs.PRELOAD), never by the server process: the
fork server and every worker forked from it run at a lower priority, so torch's import and the jobs give way to
the sessions' own clicks, and to everything else on the machine."""

import contextlib
import os

from .limits import JOB_NICE


def give_way(nice: int = JOB_NICE) -> None:
    """Lower this process's priority against the whole machine, not only against the server.

    A plain ``nice`` orders processes within one session only: Linux's autogroup scheduler first shares the CPU
    between sessions, so a niced worker in the server's session still weighs as much as that whole session against
    every other one (another replica, nginx, a teacher's browser). So the fork server starts a session of its own
    (every worker inherits it) and lowers that session's autogroup priority.
    It is no longer in the server's process group: it ends when the server does (multiprocessing's fork server
    exits when its parent's end of the pipe closes), and each worker ends with it (``work.run_job``)."""
    with contextlib.suppress(OSError):
        os.setsid()
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as f:  # no autogroup: nice alone
        f.write(str(nice))
    os.nice(max(0, nice - os.nice(0)))


give_way()
