"""The Step-through page in Debian's chromium at 1280×720: the circuit and the bars really render (fresh server,
cold deep link), Prev/Next and the N key move the step, ▶ Play animates the circuit in the browser, switching the
cell and typing text redraw it, hostile text keeps what was typed, predict-then-reveal, and presenter mode.
Screenshots land in test-artifacts/screenshots/<run>/step-*.png.
"""

from __future__ import annotations

import re

import pytest
from browser_support import (
    CHART,
    ERROR_BOXES,
    assert_no_error,
    eventually,
    expect_query,
    open_with_charts,
    settled,
    start_server,
    stays,
    still,
    type_sequence,
    wait_for_app,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

STRIP = re.compile(r"Step t = (\d+) of 0")


def open_step(page, base: str, params: str = "") -> None:
    open_with_charts(page, f"{base}/step{'?' + params if params else ''}")


def labels(page, chart: int = 0) -> list[str]:
    """The wire labels drawn in a chart's SVG (what the viewer reads)."""
    texts = page.locator(f"{CHART} .js-plotly-plot").nth(chart).evaluate(
        "gd => Array.from(gd.querySelectorAll('g.textpoint text')).map(t => t.textContent)"
    )
    return [t.replace("\u200b", "") for t in texts]  # Plotly pads <sub> with zero-width spaces


def label_now(page, name: str, chart: int = 0) -> str:
    """The value text of one wire as drawn now, e.g. label_now(page, "ht") → "−0.018" (raises if not drawn)."""
    for text in labels(page, chart):
        if text.startswith(name + " = "):
            return text.split(" = ", 1)[1]
    raise AssertionError(f"no label {name!r} in {labels(page, chart)}")


def label(page, name: str, chart: int = 0) -> str:
    """The value text of one wire, once it is drawn."""
    return eventually(lambda: label_now(page, name, chart), bool, what=f"the label {name!r}")


def expect_label(page, name: str, value: str, chart: int = 0) -> None:
    """Wait until wire ``name`` reads ``value`` (the circuit redraws after the run has finished)."""
    eventually(lambda: label_now(page, name, chart), lambda v: v == value, what=f"the label {name!r} = {value!r}")


def label_changes(page, name: str, old: str) -> str:
    """Wait until wire ``name`` no longer reads ``old``; return what it reads then."""
    return eventually(lambda: label_now(page, name), lambda v: v != old, what=f"the label {name!r} ≠ {old!r}")


def expect_step(page, t: int) -> None:
    """The header strip says step ``t`` (and then the cursor in the link says so too)."""
    expect(page.get_by_test_id("stMarkdown").filter(has_text=STRIP).first).to_contain_text(f"Step t = {t} of 0")
    expect_query(page, {"t": str(t) if t else None}, exact=False)


def assert_charts_rendered(page, count: int) -> None:
    plots = page.locator(f"{CHART} .js-plotly-plot")
    expect(plots).to_have_count(count)
    for k in range(count):
        expect(plots.nth(k).locator(".main-svg").first).to_be_attached()
        expect(plots.nth(k).locator("g.trace").first).to_be_attached()  # something is drawn


def show(page, selector: str = CHART) -> None:
    page.locator(selector).first.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.mouse.wheel(0, -90)
    still(page.locator(selector).first)  # the wheel's scroll is over


def test_fresh_server_renders_the_page(page, screenshot):
    with start_server() as url:  # fresh server: the first page it ever serves, opened with no link
        open_step(page, url)
        expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text("Step through")
        assert_charts_rendered(page, 1)  # the landing scene, the latch: one unit, so no unit bars
        eventually(lambda: labels(page), lambda shown: len(shown) >= 10, what="the circuit's labels")
        expect_label(page, "z", "0.00005")
        expect(page.get_by_text("Step t = 3 of 0")).to_be_visible()
        expect(page.get_by_text("lets go of the old state", exact=False)).to_be_visible()  # the narration
        box = page.locator(".st-key-step_narration")
        expect(box).to_be_in_viewport()  # beside the circuit, above the fold at 1280×720
        expect(page.locator(".katex").first).to_be_attached()
        screenshot(page, "step-fresh", full_page=False)
        page.get_by_role("button", name="Random weights instead").click()  # random weights: one click away
        wait_for_app(page)
        expect(page).to_have_url(re.compile(r"[?&]weights=random(&|$)"))
        expect(page.get_by_text("Step t = 0 of 0")).to_be_visible()
        assert_charts_rendered(page, 2)  # a random 4-unit GRU: circuit and unit bars
        screenshot(page, "step-fresh-random", full_page=False)


def test_cold_deep_link_keeps_its_settings(page, screenshot):
    params = "cell=lstm&hidden=8&t=7&unit=3"
    with start_server() as url:
        open_step(page, url, params)
        expect_query(page, {"cell": "lstm", "hidden": "8", "t": "7", "unit": "3"})
        expect_step(page, 7)
        label(page, "ct")  # the LSTM circuit
        label(page, "f")
        expect(page.get_by_text("numbers of unit 3, step t = 7")).to_be_visible()
        show(page)
        screenshot(page, "step-deep-link-lstm", full_page=False)


def test_step_forward_and_back(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "t=3&hidden=6")
    expect_step(page, 3)
    h3 = label(page, "ht")
    page.get_by_test_id("stButton").get_by_role("button", name="Next").click()
    wait_for_app(page)
    expect_step(page, 4)
    label_changes(page, "ht", h3)  # the circuit shows the new step's values
    expect_label(page, "ht−1", h3)  # h_t of step 3 is h_{t-1} of step 4
    screenshot(page, "step-next", full_page=False)
    page.locator("body").press("n")  # keyboard shortcut
    wait_for_app(page)
    expect_step(page, 5)
    page.get_by_test_id("stButton").get_by_role("button", name="Prev").click()
    wait_for_app(page)
    expect_step(page, 4)
    page.get_by_test_id("stButton").get_by_role("button", name="Prev").click()
    wait_for_app(page)
    expect_step(page, 3)
    expect_label(page, "ht", h3)
    assert_no_error(page)
    screenshot(page, "step-back", full_page=False)


def test_play_animates_in_the_browser(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "t=2")
    page.get_by_role("radio", name="Play", exact=True).click()
    wait_for_app(page)
    plot = page.locator(f"{CHART} .js-plotly-plot")
    expect(plot).to_have_count(1)
    active = "gd => gd._fullLayout.sliders[0].active"
    eventually(lambda: plot.evaluate(active), lambda frame: frame == 2, what="the animation's first frame")
    before = settled(lambda: labels(page), what="the first frame's labels")
    show(page)
    screenshot(page, "step-play-ready", full_page=False)
    plot.locator("g.updatemenu-button").filter(has_text="Play").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stPlotlyChart] .js-plotly-plot')"
        "._fullLayout.sliders[0].active >= 5",
        timeout=10_000,
    )
    eventually(lambda: labels(page), lambda now: now != before, what="the frame labels")  # they changed
    # playing needs no server run
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")
    plot.locator("g.updatemenu-button").filter(has_text="Pause").click()
    paused = settled(lambda: plot.evaluate(active), quiet=0.4, what="the paused frame")
    stays(lambda: plot.evaluate(active), paused, for_s=1.2, what="the paused animation's frame")
    screenshot(page, "step-play-paused", full_page=False)
    assert_no_error(page)


def test_switch_cell_type(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "t=5")
    label(page, "r")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name="Cell", exact=True).click()
    page.get_by_role("option", name="minGRU", exact=True).click()
    wait_for_app(page)
    assert_no_error(page)
    expect_query(page, {"cell": "mingru"}, exact=False)
    eventually(lambda: labels(page), lambda shown: any(t.startswith("z·n = ") for t in shown)
               and not any(t.startswith("r = ") for t in shown), what="minGRU's circuit (z·n, no r)")
    expect(page.get_by_text("Equations · minGRU")).to_be_visible()
    show(page)
    screenshot(page, "step-mingru", full_page=False)


def test_typed_text_sequence(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "t=1")
    type_sequence(page, "gates <3", source="text")
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    expect_step(page, 1)
    expect_label(page, "xt", "'a'")
    chips = page.get_by_test_id("stMarkdown").filter(has_text=STRIP).first.locator("span[title]")
    expect(chips).to_have_text(["g", "a", "t", "e", "s", "␣", "<", "3"])
    page.get_by_test_id("stButton").get_by_role("button", name="Next").click()
    wait_for_app(page)
    expect_label(page, "xt", "'t'")
    screenshot(page, "step-typed-text", full_page=False)


def test_hostile_text_keeps_what_was_typed(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "source=typed")
    area = type_sequence(page, "1,,x")
    wait_for_app(page)
    error = page.locator(ERROR_BOXES)
    expect(error).to_have_count(1)
    expect(error).to_contain_text("'x' is not a number")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(area).to_have_value("1,,x")
    screenshot(page, "step-hostile-input", full_page=False)


def test_predict_then_reveal(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "predict=1&t=6&hidden=1")
    expect_label(page, "z", "?")
    expect_label(page, "ht", "?")
    label_changes(page, "ht−1", "?")  # the state it starts from is shown
    screenshot(page, "step-predict", full_page=False)
    page.get_by_role("button", name="Reveal").click()  # the sliders untouched: that is no guess
    wait_for_app(page)
    label_changes(page, "z", "?")
    expect(page.get_by_text("No guess this time.")).to_be_visible()
    expect(page.get_by_text("(you: ")).to_have_count(0)
    page.get_by_role("button", name="Next").click()  # the next step: guess z for real, with the keyboard
    wait_for_app(page)
    slider = page.get_by_test_id("stSlider").filter(has_text="Your guess for z").get_by_role("slider")
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    page.get_by_role("button", name="Reveal").click()
    wait_for_app(page)
    expect(page.get_by_text("(you: 0.51")).to_have_count(1)
    expect(page.get_by_text("1 round(s) so far", exact=False)).to_be_visible()
    screenshot(page, "step-revealed", full_page=False)
    assert_no_error(page)


def test_presenter_mode_is_legible(page, screenshot, streamlit_server):
    open_step(page, streamlit_server, "present=1&hidden=8&t=4")
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
    plot = page.locator(f"{CHART} .js-plotly-plot").first
    eventually(lambda: plot.evaluate("gd => parseFloat(gd.querySelector('g.textpoint text').style.fontSize)"),
               lambda size: size >= 16, what="the diagram's label size (projector-sized)")
    main = page.get_by_test_id("stMain")
    eventually(lambda: main.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), bool,
               what="the main area without sideways overflow")
    eventually(lambda: page.locator(CHART).first.bounding_box()["width"], lambda width: width >= 600,
               what="the diagram's width")
    screenshot(page, "step-presenter", full_page=False)
    show(page, ".katex")
    screenshot(page, "step-presenter-equations", full_page=False)


def test_edit_a_weight_in_place(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "hidden=1&source=typed&seq=0,+0,+0,+1,+0,+0&weights=preset:latch&t=3")
    expect_label(page, "z", "0.00005")  # the latch writes the spike
    expect_label(page, "ht", "1.000")
    editor = page.get_by_test_id("stDataFrame")
    expect(editor).to_be_visible()
    editor.evaluate("el => el.scrollIntoView({block: 'center'})")
    box = settled(editor.bounding_box, quiet=0.3, what="the weight editor's position")
    # The grid is a canvas: select row r[0], column W·x[0], step down to z[0] (W_iz, −20), type over it. A digit
    # typed on a cell opens its editor (whose code loads on first use): the next key waits for it to have focus.
    page.mouse.click(box["x"] + 145, box["y"] + 52)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("2")
    cell = page.locator("input.gdg-input")
    expect(cell).to_be_focused()
    page.keyboard.press("0")
    expect(cell).to_have_value("20")
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.wait_for_function("() => location.search.includes('weights=session')")
    wait_for_app(page)
    assert_no_error(page)
    expect_label(page, "z", "1.000")  # now z keeps: nothing (9e-14) is written
    expect_label(page, "ht", "0.000")
    screenshot(page, "step-edited-weight", full_page=False)
