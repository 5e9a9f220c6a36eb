"""Every limit of the server in one place: the byte budget of each cache, the caps on what a link (or a file,
or a training run) may ask for, the heavy-job pool, and the classroom profile that lowers the caps.

No Streamlit here (the URL reader in :mod:`gru_viz.serve.state` uses it); the caches are in
:mod:`gru_viz.app.budget` and the job pool in :mod:`gru_viz.serve.jobs`.

The profile comes from the environment, once per process: ``GRU_VIZ_PROFILE=class`` (``scripts/serve.sh
--class`` sets it) gives a lesson's caps. A link asking for more gets the cap and a note saying so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from ..core.compare import MAX_EXPERIMENT_STEPS
from ..core.sequences import MAX_STEPS

MiB = 2**20

# GRU_VIZ_PROTECTIONS=off: the server as it was before these limits (for benchmarks/load_test.py --abuse, which
# measures both): heavy work in the page's own thread, caches bounded by their number of entries only.
PROTECTIONS = os.environ.get("GRU_VIZ_PROTECTIONS", "on").strip().lower() != "off"
UNPROTECTED_ENTRIES = {"scenes": 32, "figures": 48, "lineups": 32, "flows": 48, "parity": 128}

# ----------------------------------------------------------------------------------- caches (bytes, per process)

BUDGETS: dict[str, int] = {
    "scenes": 128 * MiB,  # ui.scene: a link's input, model and full trace (every gate of every step; ≤ 25 MiB each)
    "figures": 64 * MiB,  # ui.shared: figures built once for every session on a link (Timeline: ≤ 4 MiB each)
    "lineups": 192 * MiB,  # Compare cells and Gradient flow: each cell's run on the input (≤ 80 MiB), experiments
    "flows": 96 * MiB,  # Gradient flow: backward passes, (T', t) maps and path splits, scale sweeps
    "parity": 32 * MiB,  # Matches PyTorch and the badge: comparison reports, the torch code shown
}
MAX_ENTRY_SHARE = 0.5  # an entry above this share of its cache's budget is built for the request, not kept
CACHE_TTL = 3 * 3600  # seconds after an entry was made (reads do not extend it): longer than a lesson
SCENE_MAX_BYTES = 64 * MiB  # one run's trace (a session's uploaded model on a long input): more is refused
CEILING = 1024 * MiB  # one server process's resident memory under benchmarks/load_test.py --abuse stays below

# ------------------------------------------------------------------------------------------------ heavy jobs

JOB_WORKERS = int(os.environ.get("GRU_VIZ_JOB_WORKERS", "1"))  # heavy jobs running at once, per server process
JOB_NICE = 10  # workers (and their session's autogroup) run at a lower priority: every session's clicks go first
JOB_SECONDS = 300  # wall-clock limit of one job (then it is stopped and the page says so)
JOB_MEMORY = 1536 * MiB  # a job's data-segment limit (RLIMIT_DATA): more fails with a message, not an OOM kill
# a file every job waits for before it answers (unset here): the browser test of the queue panel and Cancel holds its
# server's jobs until it has seen them, on a machine of any speed, then creates the file
JOB_HOLD = os.environ.get("GRU_VIZ_JOB_HOLD", "")
JOB_QUEUE = 64  # jobs waiting at most; more are refused with "the server is busy"
INLINE_WAIT = 1.5  # seconds a page waits for a job before showing its place in the queue and a Cancel button
INLINE_WORK = 2e6  # a job whose estimated work (about multiply-adds) is below this runs in the page's own thread


# ---------------------------------------------------------------------------------------- caps on a request


@dataclass(frozen=True)
class Limits:
    """What a link, a file or a training run may ask for on this server."""

    profile: str = "default"
    steps: int = MAX_STEPS  # input length (generated or typed) on every page
    hidden: int = 512  # H on the pages (a real model's size: the pages show the units that moved most); the Python API
    # goes to 2048
    experiment_steps: int = MAX_EXPERIMENT_STEPS  # Compare cells' memory experiments
    train_steps: int = 5000  # training steps of one run
    train_seconds: float = 120.0  # compute time of one run, every cell together
    train_hidden: int = 64
    train_seq_len: int = 200  # the tasks go to 1000 steps; a page's run stays well under a minute

    @property
    def title(self) -> str:
        """The profile's name on the page."""
        return {"class": "classroom"}.get(self.profile, self.profile)

    def describe(self) -> str:
        """The caps in one line, for the page."""
        return (f"inputs up to {self.steps:,} steps, H up to {self.hidden}, training runs up to "
                f"{self.train_steps:,} steps and {self.train_seconds:g} s")


PROFILES: dict[str, Limits] = {
    "default": Limits(),
    # a lesson: every demo and chapter fits; a class of 40 on two cores stays responsive
    "class": Limits("class", steps=1000, hidden=32, experiment_steps=500, train_steps=2000, train_seconds=30.0,
                    train_hidden=32, train_seq_len=100),
}


def profile_from_env() -> Limits:
    """The profile named by GRU_VIZ_PROFILE (default: the full caps); an unknown name falls back to it."""
    return PROFILES.get(os.environ.get("GRU_VIZ_PROFILE", "").strip().lower() or "default", PROFILES["default"])


LIMITS = profile_from_env()


def capped(limits: Limits = LIMITS) -> dict[str, int]:
    """Field → cap of every cap the classroom profile lowers against the full ones."""
    full = PROFILES["default"]
    return {f.name: getattr(limits, f.name) for f in fields(Limits)
            if f.name != "profile" and getattr(limits, f.name) != getattr(full, f.name)}
