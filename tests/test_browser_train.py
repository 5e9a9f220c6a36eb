"""The Train page in a real browser at 1280×720: a tiny race trains while the progress bar and the curves grow,
Stop keeps what was learned, a trained model opens on the step-through and timeline pages, and the home page's
trained presets open. Screenshots of every stage land in test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from browser_support import assert_no_error, drawn_in_view, eventually, expect_query, stays, still, wait_for_app
from playwright.sync_api import expect

MAIN = '[data-testid="stMain"]'
PROGRESS = '[data-testid="stProgress"] [role="progressbar"]'
# points of the GRU's per-step training curve in the first chart, or -1 before it is drawn
GRU_POINTS_JS = """() => {
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const trace = gd && gd.data ? gd.data.find(t => t.meta === 'gru:train') : null;
  return trace ? trace.x.length : -1;
}"""
# Records every value the progress bar and the GRU's curve take, as the page draws them (a MutationObserver fires on
# each change): what a run showed, however fast it ran and however slowly a loop would have sampled it.
RECORD_JS = """(points) => {
  const seen = window.__seen = {progress: [], points: []};
  const count = eval(points);
  const look = () => {
    const bar = document.querySelector('[data-testid="stProgress"] [role="progressbar"]');
    const value = bar ? Number(bar.getAttribute('aria-valuenow') || 0) : -1;
    if (seen.progress[seen.progress.length - 1] !== value) seen.progress.push(value);
    const n = count();
    if (seen.points[seen.points.length - 1] !== n) seen.points.push(n);
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                     characterData: true});
}"""


def number_input(page, label: str):
    """The <input> of the Streamlit number input labelled ``label``."""
    return page.get_by_test_id("stNumberInput").filter(has_text=label).locator("input")


def set_number(page, label: str, value: int) -> None:
    box = number_input(page, label)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a "Stop" of its own while a script runs)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def open_train(page, url: str) -> None:
    page.goto(f"{url}/train")
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text("Train")


def progress(page) -> tuple[int, str]:
    """The progress bar's value (0–100, −1 before it shows) and its text, as drawn now: read it in a loop with a
    deadline (``eventually``), never once before an assert."""
    bar = page.locator(PROGRESS)
    if not bar.count():
        return -1, ""
    return int(bar.first.get_attribute("aria-valuenow") or 0), page.get_by_test_id("stProgress").first.inner_text()


def steps_done(text: str) -> int:
    return int(re.search(r"step (\d+) of", text).group(1))


def screenshot_down(page, screenshot, name: str) -> None:
    """Viewport screenshots from the top of the page to its end (Streamlit scrolls its main block)."""
    height = page.evaluate(f"document.querySelector('{MAIN}').scrollHeight")
    for i, y in enumerate(range(0, height, 620)):
        page.evaluate(f"document.querySelector('{MAIN}').scrollTop = {y}")
        drawn_in_view(page)  # charts draw when they scroll into view
        screenshot(page, f"{name}-{i}", full_page=False)
    page.evaluate(f"document.querySelector('{MAIN}').scrollTop = 0")


def charts_render(page) -> None:
    expect(page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first).to_be_visible()


@pytest.mark.browser
def test_train_watch_the_curves_grow_then_open_on_step_through(streamlit_server, page, screenshot):
    open_train(page, streamlit_server)
    screenshot(page, "train-idle", full_page=False)
    set_number(page, "Steps", 300)
    set_number(page, "Length T", 30)
    page.evaluate(RECORD_JS, GRU_POINTS_JS)
    button(page, "Start").click()
    page.wait_for_function("() => window.__seen.progress.some(v => v >= 20)", timeout=180_000)
    screenshot(page, "train-live", full_page=False)
    expect(page.get_by_test_id("stProgress").first).to_contain_text(re.compile(r"^Done"), timeout=180_000)
    eventually(lambda: progress(page)[0], lambda v: v == 100, what="the progress bar at 100")
    seen = page.evaluate("() => window.__seen")
    growing = sorted(set(v for v in seen["progress"] if 0 < v < 100))
    assert len(growing) >= 2, f"the progress bar never advanced in steps: {seen['progress']}"
    drawn = [p for p in seen["points"] if p > 0]
    assert drawn and drawn[0] < 300, seen["points"]  # the curve was drawn before the run ended …
    expect(page.get_by_role("heading", name="Results")).to_be_visible(timeout=90_000)
    wait_for_app(page)
    eventually(lambda: page.evaluate(GRU_POINTS_JS), lambda n: n == 300, what="the GRU's curve at the end")
    assert_no_error(page)
    charts_render(page)
    screenshot_down(page, screenshot, "train-done")

    page.get_by_role("button", name="Step through").first.click()  # the GRU's card comes first
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text("Step through")
    expect(page).to_have_url(re.compile(r"/step\?"))
    expect_query(page, {"weights": "session", "hidden": "32", "source": "typed"}, exact=False)
    expect(page.get_by_text("GRU, input 2, hidden 32").first).to_be_visible()
    charts_render(page)
    wait_for_app(page)
    assert_no_error(page)
    screenshot_down(page, screenshot, "train-opened-on-step")


@pytest.mark.browser
def test_stop_keeps_what_was_learned_and_opens_on_the_timeline(streamlit_server, page, screenshot):
    open_train(page, streamlit_server)
    set_number(page, "Steps", 5000)
    set_number(page, "Length T", 100)
    button(page, "Start").click()
    eventually(lambda: progress(page)[0], lambda value: value >= 1, timeout=60, what="the progress bar")
    button(page, "Stop").click()
    # the Stop lands after the chunk in progress; the timeout is for a machine under heavy load
    expect(page.get_by_role("heading", name="Results")).to_be_visible(timeout=90_000)
    wait_for_app(page)
    bar = page.get_by_test_id("stProgress").first
    expect(bar).to_contain_text(re.compile(r"^Stopped"))
    made = steps_done(bar.inner_text())  # final once it says Stopped
    assert 0 < made < 5000
    # nothing trains on after a Stop: the count stays (a page still training redraws it every 0.5 s)
    stays(lambda: steps_done(bar.inner_text()), made, for_s=2.0, what="the steps made after the Stop")
    expect(bar).to_contain_text(f"step {made} of")
    expect(page.get_by_text("stopped early")).to_be_visible()
    assert_no_error(page)
    screenshot_down(page, screenshot, "train-stopped")

    page.get_by_role("button", name="Timeline").nth(1).click()  # the LSTM's card
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text("Timeline")
    expect_query(page, {"cell": "lstm", "weights": "session"}, exact=False)
    charts_render(page)
    wait_for_app(page)
    assert_no_error(page)
    screenshot(page, "train-opened-on-timeline", full_page=False)


@pytest.mark.browser
def test_bad_settings_say_what_is_wrong(streamlit_server, page, screenshot):
    open_train(page, streamlit_server)
    set_number(page, "Hidden H", 0)
    expect(page.get_by_text("Hidden size H must be a whole number from 1 to 64")).to_be_visible()
    expect(button(page, "Start")).to_be_disabled()
    screenshot(page, "train-bad-settings", full_page=False)
    set_number(page, "Hidden H", 8)
    expect(button(page, "Start")).to_be_enabled()
    assert_no_error(page)


@pytest.mark.browser
def test_home_opens_a_trained_preset(streamlit_server, page, screenshot):
    page.goto(streamlit_server)
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    heading = page.get_by_role("heading", name="Learned gates: open a trained model")
    heading.scroll_into_view_if_needed()
    still(heading)
    screenshot(page, "home-trained-presets", full_page=False)
    # the innermost block holding the preset's name is its card (the page's outer blocks hold every card)
    card = page.get_by_test_id("stVerticalBlock").filter(has_text="GRU that spots glitches").last
    card.get_by_role("link", name="Step through it").click()
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text("Step through")
    expect_query(page, {"weights": "trained:gru-anomaly"}, exact=False)
    charts_render(page)
    wait_for_app(page)
    assert_no_error(page)
    screenshot(page, "home-preset-on-step", full_page=False)
