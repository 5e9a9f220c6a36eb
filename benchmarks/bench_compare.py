"""Benchmark the compare page's reruns in AppTest: T = 200, H = 16, all four cells. Target: median ≤ 300 ms.

Measures, in one AppTest session (the way a person meets the page):
- cold: the first run of the page's settings, caches cleared (builds, runs and times every cell),
- full rerun: the same settings again (what any widget outside the cursor costs),
- cursor move: a new time cursor value (the page's fragment; AppTest reruns the whole script for it).

Run: .venv/bin/python benchmarks/bench_compare.py [--repeats N] [--steps T] [--hidden H]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 300.0


def timed(fn) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def session(steps: int, hidden: int) -> AppTest:
    """The compare page with the benchmark's settings and minGRU switched on (all four cells)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/compare.py")
    at.query_params.update({"steps": str(steps), "hidden": str(hidden), "gen": "noise"})
    at.run()
    at.toggle(key="cmp_mingru").set_value(True).run()
    assert not at.exception and not at.error, "the page failed"
    assert list(at.table[0].value.columns) == ["GRU", "LSTM", "vanilla RNN", "minGRU"]
    return at


def bench(steps: int, hidden: int, repeats: int) -> dict[str, list[float]]:
    at = session(steps, hidden)
    times: dict[str, list[float]] = {"cold": [], "full rerun": [], "cursor move": []}
    for i in range(repeats):
        st.cache_resource.clear()
        times["cold"].append(timed(at.run))
        times["full rerun"].append(timed(at.run))
        slider = at.slider(key="w_t")
        times["cursor move"].append(timed(slider.set_value((17 * i + 5) % steps).run))
    assert not at.exception and not at.error, "the page failed"
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--hidden", type=int, default=16)
    args = ap.parse_args()
    times = bench(args.steps, args.hidden, args.repeats)
    print(f"compare page in AppTest, T = {args.steps}, H = {args.hidden}, GRU + LSTM + RNN + minGRU; "
          f"median (min–max) of {args.repeats} runs\n")
    print("| what | median (ms) | min (ms) | max (ms) | target (ms) | ok |")
    print("|---|---|---|---|---|---|")
    for what, values in times.items():
        ms = [v * 1e3 for v in values]
        median = statistics.median(ms)
        target = f"≤ {TARGET_MS:.0f}" if what == "full rerun" else "—"
        ok = ("yes" if median <= TARGET_MS else "NO") if what == "full rerun" else ""
        print(f"| {what} | {median:.1f} | {min(ms):.1f} | {max(ms):.1f} | {target} | {ok} |")


if __name__ == "__main__":
    main()
