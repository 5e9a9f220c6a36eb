"""The compare and gradient-flow pages in a real browser at 1280×720: fresh, via deep link, after clicks."""

from __future__ import annotations

import re

import pytest
from browser_support import assert_no_error, drawn_in_view, expect_query, start_server, wait_for_app
from playwright.sync_api import expect

PAGES = {"compare": "Compare cells", "gradients": "Gradient flow"}
DEEP = "hidden=16&steps=200&variant=z-takes&scale=1.5&t=120"


def expect_charts(page, at_least: int) -> None:
    """Wait until the page holds at least ``at_least`` Plotly charts (each draws when scrolled into view): the
    frontend may still be adding elements for a moment after the script state says the run finished."""
    expect(page.get_by_test_id("stPlotlyChart").nth(at_least - 1)).to_be_attached()


def screenshot_down(page, screenshot, name: str) -> None:
    """Viewport screenshots from the top of the page to its end (Streamlit scrolls its main block, not the body,
    so a full-page screenshot would show the first screen only)."""
    main = '[data-testid="stMain"]'
    height = page.evaluate(f"document.querySelector('{main}').scrollHeight")
    for i, y in enumerate(range(0, height, 620)):
        page.evaluate(f"document.querySelector('{main}').scrollTop = {y}")
        drawn_in_view(page)  # charts draw when they scroll into view
        screenshot(page, f"{name}-{i}", full_page=False)
    page.evaluate(f"document.querySelector('{main}').scrollTop = 0")


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)


@pytest.mark.browser
@pytest.mark.parametrize("path", list(PAGES))
def test_page_fresh(streamlit_server, page, screenshot, path):
    open_page(page, f"{streamlit_server}/{path}")
    expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text(PAGES[path])
    expect(page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first).to_be_visible()
    expect_charts(page, 2)
    screenshot_down(page, screenshot, f"{path}-fresh")


@pytest.mark.browser
@pytest.mark.parametrize("path", list(PAGES))
def test_cold_deep_link(page, screenshot, path):
    with start_server() as url:  # a fresh server: the first page it serves is this deep link
        open_page(page, f"{url}/{path}?{DEEP}")
        expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text(PAGES[path])
        expect_query(page, {"hidden": "16", "t": "120", "variant": "z-takes"}, exact=False)
        slider = page.get_by_test_id("stSlider").filter(has_text="Time cursor")
        expect(slider).to_contain_text("120")
        expect_charts(page, 2)
        screenshot_down(page, screenshot, f"{path}-deep-link")


@pytest.mark.browser
def test_compare_experiments_and_minGRU(streamlit_server, page, screenshot):
    open_page(page, f"{streamlit_server}/compare?hidden=8&steps=60")
    page.get_by_text("Include minGRU").click()
    wait_for_app(page)
    page.get_by_role("button", name="Impulse response").click()
    wait_for_app(page)
    page.get_by_role("button", name="Remember the first input").click()
    wait_for_app(page)
    assert_no_error(page)
    expect_charts(page, 4)
    expect(page.get_by_text("A spike at step 5, then zeros")).to_be_visible()
    expect(page.get_by_text("minGRU").first).to_be_visible()
    page.get_by_role("heading", name="Memory experiments").scroll_into_view_if_needed()
    screenshot(page, "compare-experiments", full_page=False)


@pytest.mark.browser
@pytest.mark.parametrize("path", list(PAGES))
def test_time_cursor_moves_with_the_keyboard(streamlit_server, page, path):
    """The cursor slider (a fragment on the compare page) updates the link and the page stays clean."""
    open_page(page, f"{streamlit_server}/{path}?t=3")
    slider = page.get_by_test_id("stSlider").filter(has_text="Time cursor").get_by_role("slider")
    for t in range(4, 8):  # one step at a time: each key press reruns the page (or the compare page's fragment)
        slider.focus()
        page.keyboard.press("ArrowRight")
        expect(page).to_have_url(re.compile(rf"[?&]t={t}(&|$)"))
        wait_for_app(page)
    assert_no_error(page)
    expect_charts(page, 2)


@pytest.mark.browser
def test_bad_input_shows_a_message(streamlit_server, page, screenshot):
    page.goto(f"{streamlit_server}/gradients?source=typed&seq=1,%202,%20oops")
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Cannot run the cells")
    expect(page.get_by_text("Traceback")).to_have_count(0)
    screenshot(page, "gradients-bad-input", full_page=False)
