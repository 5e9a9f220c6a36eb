"""Benchmark the Step-through page: T = 200 steps, H = 16 units (not a test; prints a markdown table).

(a) AppTest, in process: a full rerun of the page (sidebar, cached scene, every figure), median over the
    repeats; target ≤ 150 ms. Also measured: a rerun with a clamp (the ablation chart and a second run),
    an LSTM, and Play mode (the animation figure with 200 frames); and what the step's narration costs: the
    same session's rerun with and without it, interleaved, as a ratio, and narrate() alone.
(b) A real browser (Debian chromium at 1280×720, a fresh `streamlit run`): a step change, from the click on
    "Next" (or the N key) until the script run is over and the circuit shows the new step's values; target
    ≤ 400 ms. The step change reruns only the page's fragment.
(c) Long runs (5,000 steps) in AppTest: a Timeline rerun (GRU H=4, LSTM H=64) with its figures cached for
    the link and built afresh, and the first open of a
    Gradient-flow link at the largest state (H=64, every cache cleared: run, backpropagate, split paths).

(d) Real sizes in AppTest: a full rerun of Step through and of Timeline at H = 512 against the same page at
    H = 64 (T = 40, same cursor), interleaved, the median ratio; target ≤ 3×.

(e) Real text: a full AppTest rerun of the Read section on a 2,000-character text (the page's cap) through each
    shipped language model (the reading cached for the link, as every rerun after the first finds it), and a
    cursor move (the slider: a new step's circuit, narration and top five); target ≤ 150 ms like (a).

Run: .venv/bin/python benchmarks/bench_app.py [--repeats N] [--skip-browser] [--skip-long] [--skip-wide]
     [--only-wide] [--only-real-text]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # browser_support: the server and chromium helpers of the test suite
sys.path.insert(0, str(ROOT))  # gru_viz, the same modules AppTest runs the pages with
QUERY = {"steps": "200", "hidden": "16", "t": "100"}
TARGET_RERUN_MS, TARGET_STEP_MS = 150.0, 400.0


def timed(fn) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - start)


def session(query: dict[str, str], play: bool = False, page: str = "pages/step.py") -> AppTest:
    """The page with the benchmark's settings, after a first, uncounted run."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(page)
    at.query_params.update(query)
    at.run()
    if play:
        at.segmented_control(key="step_mode").set_value("play").run()
    assert not at.exception and not at.error, "the page failed"
    at.run()
    return at


NARRATION_ON = "full rerun, GRU, narration on (this branch)"
NARRATION_OFF = "full rerun, GRU, narration off (as before it)"


def narration_bench(repeats: int) -> dict[str, list[float]]:
    """The page's rerun with and without the narration, interleaved in one session, and narrate() alone."""
    import numpy as np

    from gru_viz.app import step
    from gru_viz.explain import narration
    from gru_viz.serve import state

    at = session(QUERY)
    shown = step.narration_panel
    times: dict[str, list[float]] = {NARRATION_ON: [], NARRATION_OFF: []}
    try:
        for _ in range(repeats):  # interleaved, so both see the same load on the machine
            step.narration_panel = shown
            times[NARRATION_ON].append(timed(at.run))
            step.narration_panel = lambda *args, **kwargs: None
            times[NARRATION_OFF].append(timed(at.run))
    finally:
        step.narration_panel = shown
    sc = state.build_scene(state.from_query(QUERY)[0])
    alone = 1000 * float(np.median([timed(lambda: narration.narrate(sc.trace, 100, 0, x_text="x"))
                                    for _ in range(repeats * 20)]))  # µs: far below the table's ms
    on, off = (float(np.median(times[k])) for k in (NARRATION_ON, NARRATION_OFF))
    print(f"narration: rerun {on:.0f} ms with it, {off:.0f} ms without: ratio {on / off:.2f}× ({on - off:+.0f} ms); "
          f"narrate() alone {alone:.0f} µs\n")
    return times


def apptest_bench(repeats: int) -> dict[str, list[float]]:
    rows = {
        "full rerun, GRU": session(QUERY),
        "full rerun, GRU with z clamped (two runs, ablation chart)": session({**QUERY, "clamp": "z:1"}),
        "full rerun, LSTM": session({**QUERY, "cell": "lstm"}),
        "full rerun, Play mode (200 animation frames, kept)": session(QUERY, play=True),
    }
    times = {name: [timed(at.run) for _ in range(repeats)] for name, at in rows.items()}
    at = session(QUERY)
    times["step change: Next (AppTest runs the whole script)"] = [
        timed(lambda: at.button(key="step_next").click().run()) for _ in range(repeats)
    ]
    at = session(QUERY, play=True)

    def rebuild() -> None:
        del at.session_state["step_playback"]
        at.run()

    times[ONE_OFF] = [timed(rebuild) for _ in range(max(3, repeats // 3))]
    return times


STEP_SHOWN = """([want, old]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const strip = Array.from(document.querySelectorAll('[data-testid="stMarkdown"]'))
      .find(e => e.innerText.includes('Step t = '));
  if (!strip || !strip.innerText.includes(`Step t = ${want} of`)) return false;
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  if (!gd) return true;  // hide=diagram
  const labels = Array.from(gd.querySelectorAll('g.textpoint text')).map(t => t.textContent).join('|');
  return labels !== old;
}"""
LABELS = """() => { const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  return gd ? Array.from(gd.querySelectorAll('g.textpoint text')).map(t => t.textContent).join('|') : ''; }"""


def browser_bench(repeats: int, extra: str = "") -> dict[str, list[float]]:
    """Click "Next" / press N, and wait for the new step's circuit: milliseconds per step change."""
    from browser_support import VIEWPORT, launch_browser, start_server, wait_for_app
    from playwright.sync_api import sync_playwright

    params = "&".join(f"{k}={v}" for k, v in {**QUERY, "t": "0"}.items()) + (f"&{extra}" if extra else "")
    times: dict[str, list[float]] = {"step change, click Next": [], "step change, key N": []}
    with start_server() as url, sync_playwright() as pw:
        browser = launch_browser(pw)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/step?{params}")
        wait_for_app(page, timeout=60_000)
        page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg')
        next_button = page.get_by_test_id("stButton").get_by_role("button", name="Next")
        t = 0
        for how, act in (("step change, click Next", next_button.click),
                         ("step change, key N", lambda: page.locator("body").press("n"))):
            for k in range(repeats + 2):  # the first two warm up the fragment and the charts
                old = page.evaluate(LABELS)
                start = time.perf_counter()
                act()
                t += 1
                page.wait_for_function(STEP_SHOWN, arg=[t, old], polling="raf", timeout=30_000)
                if k >= 2:
                    times[how].append(1000 * (time.perf_counter() - start))
                page.wait_for_timeout(150)  # let the page settle between presses, as a person would
        browser.close()
    return times


ONE_OFF = "Play mode, animation built afresh"  # paid once when switching to Play: reported, no target
ONE_OFF_GRAD = "Gradient flow, first open of H=64 × 5,000 steps (every cache cleared)"


LONG = {"steps": "5000", "t": "2500"}


def long_bench(repeats: int) -> dict[str, list[float]]:
    """Timeline reruns on 5,000 steps, and first opens of a heavy Gradient-flow link (no target: reported)."""
    import streamlit as st

    from gru_viz.app import ui

    times = {}
    for name, query in (("Timeline rerun, GRU H=4, 5,000 steps", {**LONG, "hidden": "4"}),
                        ("Timeline rerun, LSTM H=64, 5,000 steps", {**LONG, "hidden": "64", "cell": "lstm"})):
        at = session(query, page="pages/timeline.py")
        times[f"{name}, figures cached for the link"] = [timed(at.run) for _ in range(repeats)]

        def rebuilt(at: AppTest = at) -> None:
            ui._shared.clear()  # what a new cursor, or a session's own model, pays: the three figures built
            at.run()

        times[f"{name}, figures built"] = [timed(rebuilt) for _ in range(repeats)]

    def first_open() -> None:
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.switch_page("pages/gradients.py")
        at.query_params.update({**LONG, "hidden": "64"})
        at.run()
        assert not at.exception and not at.error, "the page failed"

    times[ONE_OFF_GRAD] = [timed(first_open) for _ in range(3)]
    return times


WIDE = {"steps": "40", "t": "20", "unit": "5"}  # the same input and cursor at H = 64 and H = 512
TARGET_WIDE_RATIO = 3.0


def wide_bench(repeats: int) -> list[tuple[str, float, float, float]]:
    """A full AppTest rerun of Step through and of Timeline at H = 512 against the same page at H = 64:
    interleaved in one process (both see the same load), the median of the per-pair ratios."""
    from gru_viz.app import ui

    rows = []
    for page, name, fresh in (("pages/step.py", "Step through", False), ("pages/timeline.py", "Timeline", False),
                              ("pages/timeline.py", "Timeline, figures built (a new cursor)", True)):
        small, wide = session({**WIDE, "hidden": "64"}, page=page), session({**WIDE, "hidden": "512"}, page=page)

        def rerun(at: AppTest, fresh: bool = fresh) -> None:
            if fresh:
                ui._shared.clear()
            at.run()

        pairs = [(timed(functools.partial(rerun, small)), timed(functools.partial(rerun, wide)))
                 for _ in range(repeats)]
        ratio = statistics.median(w / s for s, w in pairs)
        rows.append((name, statistics.median(s for s, _ in pairs), statistics.median(w for _, w in pairs), ratio))
    return rows


def wide_table(rows: list[tuple[str, float, float, float]]) -> str:
    lines = ["| page rerun (T = 40) | H = 64, median ms | H = 512, median ms | median ratio | target | |",
             "|---|---:|---:|---:|---:|---|"]
    for name, small, wide, ratio in rows:
        ok = "✅" if ratio <= TARGET_WIDE_RATIO else "❌"
        lines.append(f"| {name} | {small:.0f} | {wide:.0f} | {ratio:.2f}× | ≤ {TARGET_WIDE_RATIO:g}× | {ok} |")
    return "\n".join(lines)


def table(rows: dict[str, list[float]], target: float) -> str:
    lines = ["| measurement | median ms | p90 ms | min ms | target | |", "|---|---:|---:|---:|---:|---|"]
    for name, values in rows.items():
        values = sorted(values)
        median = statistics.median(values)
        p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
        reported_only = name in (ONE_OFF, ONE_OFF_GRAD) or not target
        goal, ok = ("—", "") if reported_only else (f"≤ {target:.0f}", "✅" if median <= target else "❌")
        lines.append(f"| {name} | {median:.0f} | {p90:.0f} | {values[0]:.0f} | {goal} | {ok} |")
    return "\n".join(lines)


def real_text_bench(repeats: int) -> dict[str, list[float]]:
    """The Real text page's Read section on 2,000 characters of held-out Python, per model: full reruns, and
    cursor moves (each to a new character)."""
    from gru_viz.app import real_text, ui
    from gru_viz.io import charlm as charlm_io

    held = charlm_io.validation_text()
    start = held.find("\n", len(held) // 3) + 1
    text = held[start:start + real_text.MAX_TEXT]
    times: dict[str, list[float]] = {}
    for kind in real_text.NAMES:
        at = session({"model": kind, "text": text, "t": "1000", "layer": "1", "unit": "5"}, page="pages/real_text.py")
        times[f"Real text, {real_text.NAMES[kind]}: full rerun, {len(text):,}-character text"] = [
            timed(at.run) for _ in range(repeats)]
        moves = []
        for k in range(repeats):
            slider = at.slider(key=ui.W + "t")
            moves.append(timed(lambda slider=slider, k=k: slider.set_value(1001 + k).run()))
        times[f"Real text, {real_text.NAMES[kind]}: cursor moved one character"] = moves
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-apptest", action="store_true")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--skip-wide", action="store_true")
    parser.add_argument("--only-wide", action="store_true", help="only (d): H = 512 against H = 64")
    parser.add_argument("--only-real-text", action="store_true", help="only (e): the Real text page")
    parser.add_argument("--extra", default="", help="more link settings for the browser run, e.g. hide=equations")
    args = parser.parse_args()
    if args.only_real_text:
        print(f"(e) AppTest, the Real text page, {args.repeats} repeats\n")
        print(table(real_text_bench(args.repeats), TARGET_RERUN_MS))
        return
    if args.only_wide:
        args.skip_apptest = args.skip_long = args.skip_browser = True
    print(f"Step-through page, T = {QUERY['steps']}, H = {QUERY['hidden']}, {args.repeats} repeats\n")
    if not args.skip_wide:
        print("(d) AppTest, a page at H = 512 against the same page at H = 64 (interleaved)\n")
        print(wide_table(wide_bench(args.repeats)))
    if not args.skip_apptest:
        print("(a) AppTest, full rerun of the page\n")
        print(table(apptest_bench(args.repeats), TARGET_RERUN_MS))
        print("\n(a′) AppTest, what the narration costs the rerun (interleaved in one session)\n")
        print(table(narration_bench(args.repeats), TARGET_RERUN_MS))
    if not args.skip_long:
        print("\n(c) AppTest, long runs\n")
        print(table(long_bench(max(3, args.repeats // 3)), 0.0))
    if not args.skip_browser:
        print(f"\n(b) chromium 1280×720: step change → new step's circuit on screen {args.extra}\n")
        print(table(browser_bench(args.repeats, args.extra), TARGET_STEP_MS))


if __name__ == "__main__":
    main()
