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
    open_with_charts,
    start_server,
    type_sequence,
    url_query,
    wait_for_app,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

STRIP = re.compile(r"Step t = (\d+) of 0")


def query(page) -> dict[str, str]:
    return url_query(page.url)


def open_step(page, base: str, params: str = "") -> None:
    open_with_charts(page, f"{base}/step{'?' + params if params else ''}")


def labels(page, chart: int = 0) -> list[str]:
    """The wire labels drawn in a chart's SVG (what the viewer reads)."""
    texts = page.locator(f"{CHART} .js-plotly-plot").nth(chart).evaluate(
        "gd => Array.from(gd.querySelectorAll('g.textpoint text')).map(t => t.textContent)"
    )
    return [t.replace("\u200b", "") for t in texts]  # Plotly pads <sub> with zero-width spaces


def label(page, name: str, chart: int = 0) -> str:
    """The value text of one wire, e.g. label(page, "ht") → "−0.018"."""
    for text in labels(page, chart):
        if text.startswith(name + " = "):
            return text.split(" = ", 1)[1]
    raise AssertionError(f"no label {name!r} in {labels(page, chart)}")


def step_shown(page) -> int:
    text = page.get_by_test_id("stMarkdown").filter(has_text=STRIP).first.inner_text()
    return int(STRIP.search(text).group(1))


def assert_charts_rendered(page, count: int) -> None:
    plots = page.locator(f"{CHART} .js-plotly-plot")
    expect(plots).to_have_count(count)
    for k in range(count):
        assert plots.nth(k).locator(".main-svg").count() >= 1
        assert plots.nth(k).locator("g.trace").count() >= 1, f"chart {k} has nothing drawn"


def show(page, selector: str = CHART) -> None:
    page.locator(selector).first.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.mouse.wheel(0, -90)
    page.wait_for_timeout(300)


def test_fresh_server_renders_the_page(page, screenshot):
    with start_server() as url:  # fresh server: the first page it ever serves, opened with no link
        open_step(page, url)
        expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text("Step through")
        assert_charts_rendered(page, 1)  # the landing scene, the latch: one unit, so no unit bars
        assert len(labels(page)) >= 10 and label(page, "z") == "4.54e−05"
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
        assert query(page) == {"cell": "lstm", "hidden": "8", "t": "7", "unit": "3"}
        assert step_shown(page) == 7
        assert label(page, "ct") and label(page, "f")  # the LSTM circuit
        expect(page.get_by_text("numbers of unit 3, step t = 7")).to_be_visible()
        show(page)
        screenshot(page, "step-deep-link-lstm", full_page=False)


def test_step_forward_and_back(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "t=3&hidden=6")
    h3 = label(page, "ht")
    page.get_by_test_id("stButton").get_by_role("button", name="Next").click()
    wait_for_app(page)
    assert step_shown(page) == 4 and query(page)["t"] == "4"
    h4 = label(page, "ht")
    assert h4 != h3, "the circuit shows the new step's values"
    assert label(page, "ht−1") == h3, "h_t of step 3 is h_{t-1} of step 4"
    screenshot(page, "step-next", full_page=False)
    page.locator("body").press("n")  # keyboard shortcut
    wait_for_app(page)
    assert step_shown(page) == 5
    page.get_by_test_id("stButton").get_by_role("button", name="Prev").click()
    wait_for_app(page)
    page.get_by_test_id("stButton").get_by_role("button", name="Prev").click()
    wait_for_app(page)
    assert step_shown(page) == 3 and label(page, "ht") == h3
    assert_no_error(page)
    screenshot(page, "step-back", full_page=False)


def test_play_animates_in_the_browser(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "t=2")
    page.get_by_role("radio", name="Play", exact=True).click()
    wait_for_app(page)
    plot = page.locator(f"{CHART} .js-plotly-plot")
    expect(plot).to_have_count(1)
    active = "gd => gd._fullLayout.sliders[0].active"
    assert plot.evaluate(active) == 2
    before = labels(page)
    show(page)
    screenshot(page, "step-play-ready", full_page=False)
    plot.locator("g.updatemenu-button").filter(has_text="Play").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stPlotlyChart] .js-plotly-plot')"
        "._fullLayout.sliders[0].active >= 5",
        timeout=10_000,
    )
    assert labels(page) != before, "the frame labels changed"
    assert page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state") == "notRunning", (
        "playing needs no server run"
    )
    plot.locator("g.updatemenu-button").filter(has_text="Pause").click()
    page.wait_for_timeout(300)
    paused = plot.evaluate(active)
    page.wait_for_timeout(1200)
    assert plot.evaluate(active) == paused
    screenshot(page, "step-play-paused", full_page=False)
    assert_no_error(page)


def test_switch_cell_type(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "t=5")
    assert label(page, "r")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name="Cell", exact=True).click()
    page.get_by_role("option", name="minGRU", exact=True).click()
    wait_for_app(page)
    assert_no_error(page)
    assert query(page)["cell"] == "mingru"
    assert label(page, "z·n") and not any(t.startswith("r = ") for t in labels(page))
    expect(page.get_by_text("Equations · minGRU")).to_be_visible()
    show(page)
    screenshot(page, "step-mingru", full_page=False)


def test_typed_text_sequence(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "t=1")
    type_sequence(page, "gates <3", source="text")
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    assert step_shown(page) == 1
    assert label(page, "xt") == "'a'"
    chips = page.get_by_test_id("stMarkdown").filter(has_text=STRIP).first.locator("span[title]").all_inner_texts()
    assert chips == ["g", "a", "t", "e", "s", "␣", "<", "3"]
    page.get_by_test_id("stButton").get_by_role("button", name="Next").click()
    wait_for_app(page)
    assert label(page, "xt") == "'t'"
    screenshot(page, "step-typed-text", full_page=False)


def test_hostile_text_keeps_what_was_typed(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "source=typed")
    area = type_sequence(page, "1,,x")
    wait_for_app(page)
    error = page.locator(ERROR_BOXES)
    expect(error).to_have_count(1)
    expect(error).to_contain_text("'x' is not a number")
    assert page.get_by_test_id("stException").count() == 0
    expect(area).to_have_value("1,,x")
    screenshot(page, "step-hostile-input", full_page=False)


def test_predict_then_reveal(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "predict=1&t=6&hidden=1")
    assert label(page, "z") == "?" and label(page, "ht") == "?"
    assert label(page, "ht−1") != "?"
    screenshot(page, "step-predict", full_page=False)
    page.get_by_role("button", name="Reveal").click()  # the sliders untouched: that is no guess
    wait_for_app(page)
    assert label(page, "z") != "?"
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
    size = page.locator(f"{CHART} .js-plotly-plot").first.evaluate(
        "gd => parseFloat(gd.querySelector('g.textpoint text').style.fontSize)"
    )
    assert size >= 16, "diagram labels are projector-sized"
    main = page.get_by_test_id("stMain")
    assert main.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "nothing overflows sideways"
    box = page.locator(f"{CHART}").first.bounding_box()
    assert box["width"] >= 600
    screenshot(page, "step-presenter", full_page=False)
    show(page, ".katex")
    screenshot(page, "step-presenter-equations", full_page=False)


def test_edit_a_weight_in_place(streamlit_server, page, screenshot):
    open_step(page, streamlit_server, "hidden=1&source=typed&seq=0,+0,+0,+1,+0,+0&weights=preset:latch&t=3")
    assert label(page, "z") == "4.54e−05" and label(page, "ht") == "1.000"  # the latch writes the spike
    editor = page.get_by_test_id("stDataFrame")
    editor.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    box = editor.bounding_box()
    # The grid is a canvas: select row r0, column x0, step down to z0 (W_iz, −20), type over it. The grid
    # needs a moment between keys to move its focus and open its editor.
    page.mouse.click(box["x"] + 145, box["y"] + 52)
    for key in ("ArrowDown", "2", "0", "Enter"):
        page.wait_for_timeout(250)
        page.keyboard.press(key)
    wait_for_app(page)
    page.wait_for_function("() => location.search.includes('weights=session')", timeout=30_000)
    wait_for_app(page)
    assert_no_error(page)
    assert label(page, "z") == "1.000" and label(page, "ht") == "9.36e−14"  # now z keeps: nothing is written
    screenshot(page, "step-edited-weight", full_page=False)
