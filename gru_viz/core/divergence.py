"""How two runs that compute the same thing part: the gap at every step, where it leaves float64 round-off, and
how fast it grows.

Two correct float64 implementations (ours and torch's, or a GRU and its z-flipped partner) agree to ~1e-16 at
each step. On a contracting run that stays so; on a chaotic run (a saturated vanilla RNN, a GRU at a large
recurrent scale) every difference, round-off included, is multiplied by about e^λ per step (λ > 0, the largest
Lyapunov exponent), so the gap rises exponentially from round-off until the runs are unrelated. A wrong
equation is different: it is off by far more than round-off at the very first steps.

Where the gap passes round-off, and how large it gets, depend on the machine: how large its round-off is at
each step (its BLAS, its processor's vector code) decides where the rise starts. Whether the run is chaotic does
not: that is the sign of λ, measured along the run from its step Jacobians
(:func:`gru_viz.core.paths.largest_exponent`) and carried here as ``exponent``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROUNDOFF = 1e-12  # two float64 computations of one step agree to this (times the values' size when above 1)
RISEN = 1e-3  # the gap has left round-off for good: the end of the exponential rise that is fitted
MIN_FIT_STEPS = 4  # fewer points than this give no growth rate


@dataclass(frozen=True)
class Parting:
    """The gap between two runs at every step, and what it does."""

    gap: np.ndarray  # (T,) the largest |a_t − b_t| at each step
    tolerance: float  # round-off: ROUNDOFF times the values' size (at least 1)
    parts_at: int | None  # the first step whose gap passes the tolerance (None: never)
    growth: float | None  # ln-growth of the gap per step during its exponential rise (None: no rise to fit)
    exponent: float | None = None  # the run's largest Lyapunov exponent, measured along it (None: not measured)

    @property
    def steps(self) -> int:
        """T."""
        return len(self.gap)

    @property
    def agreed(self) -> float:
        """The largest gap before the runs part (over the whole run when they never do)."""
        head = self.gap if self.parts_at is None else self.gap[: self.parts_at]
        return float(head.max(initial=0.0))

    @property
    def largest(self) -> float:
        """The largest gap of the whole run."""
        return float(self.gap.max(initial=0.0))

    @property
    def from_start(self) -> bool:
        """Whether the runs differ beyond round-off at the first step already (a different computation, not an
        amplified round-off)."""
        return self.parts_at == 0

    @property
    def amplified(self) -> bool:
        """Whether the gap starts at round-off and then grows past it: round-off amplified by the dynamics."""
        return self.parts_at is not None and self.parts_at > 0

    @property
    def chaotic(self) -> bool | None:
        """Whether the run is chaotic: its largest Lyapunov exponent is positive (None: not measured)."""
        if self.exponent is None or np.isnan(self.exponent):
            return None
        return bool(self.exponent > 0)

    @property
    def tenfold_steps(self) -> float | None:
        """Steps for the gap to grow tenfold during its rise (ln 10 / growth)."""
        return None if not self.growth or self.growth <= 0 else float(np.log(10.0) / self.growth)


def step_gaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """max |a − b| over every axis but the first (time): (T, …) → (T,). NaN or inf counts as an infinite gap."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b).reshape(len(a), -1)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    return diff.max(axis=1, initial=0.0)


def growth_rate(gap: np.ndarray, start: int, floor: float, ceiling: float = RISEN) -> float | None:
    """The slope of ln(gap) per step from ``start`` while the gap rises from ``floor`` to ``ceiling`` (a least-squares
    line through the running maximum, which smooths the gap's step-to-step jitter); None if too few steps."""
    running = np.maximum.accumulate(np.where(np.isfinite(gap), gap, np.inf))
    steps = np.arange(len(gap))
    rising = (steps >= start) & (running > floor) & (running <= ceiling)
    if rising.sum() < MIN_FIT_STEPS:
        return None
    slope = np.polyfit(steps[rising], np.log(running[rising]), 1)[0]
    return float(slope)


def parting(a: np.ndarray, b: np.ndarray, tolerance: float | None = None, exponent: float | None = None) -> Parting:
    """Where two runs (T, …) that should be equal part. ``tolerance`` defaults to ROUNDOFF × max(1, max |b|);
    ``exponent`` is the run's largest Lyapunov exponent, when measured."""
    gap = step_gaps(a, b)
    if tolerance is None:
        finite = np.asarray(b, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        tolerance = ROUNDOFF * max(1.0, float(np.abs(finite).max(initial=0.0)))
    over = np.flatnonzero(~(gap <= tolerance))
    parts_at = int(over[0]) if over.size else None
    growth = None
    if parts_at is not None and parts_at > 0:
        floor = max(float(gap[:parts_at].max(initial=0.0)), np.finfo(np.float64).tiny)
        growth = growth_rate(gap, 0, floor / 2, max(RISEN, tolerance * 1e6))
    return Parting(gap, float(tolerance), parts_at, growth, exponent)
