"""The Timeline page in Debian's chromium at 1280×720: charts really render (fresh server, cold deep link),
typed text shows as character ticks, a click on a heatmap column opens that step in Step through, and a
5000-step run stays usable. Screenshots land in test-artifacts/screenshots/<run>/timeline-*.png."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from browser_support import (
    CHART,
    assert_no_error,
    eventually,
    expect_query,
    open_with_charts,
    start_server,
    stays,
    still,
    type_sequence,
    url_query,
    wait_for_app,
)
from playwright.sync_api import expect

from gru_viz.figures.timeline import MAX_COLUMNS

pytestmark = pytest.mark.browser
# the number of columns each heatmap of the timeline chart draws (from Plotly's computed data: the figure's own
# arrays may arrive encoded)
HEATMAP_COLUMNS_JS = "gd => gd.calcdata.filter(cd => cd[0].trace.type === 'heatmap').map(cd => cd[0].z[0].length)"


def open_timeline(page, base: str, params: str = "") -> None:
    open_with_charts(page, f"{base}/timeline{'?' + params if params else ''}")


def assert_charts_rendered(page, heatmaps: int) -> None:
    """Three Plotly charts with drawn content: heatmap images, line paths, PCA markers."""
    plots = page.locator(f"{CHART} .js-plotly-plot")
    expect(plots).to_have_count(3)
    timeline, units, pca = (plots.nth(i) for i in range(3))
    expect(timeline.locator("g.hm image")).to_have_count(heatmaps)  # heatmaps draw as SVG <image>
    expect(timeline.locator("g.hm image").first).to_have_attribute("href", re.compile(r"^data:image/"))
    expect(units.locator("g.scatterlayer path.js-line").first).to_be_attached()
    expect(pca.locator("g.scatterlayer path.point").nth(1)).to_be_attached()  # at least two points


def show_chart_top(page) -> None:
    """Scroll the main area so the timeline chart's top sits under Streamlit's header."""
    page.locator(CHART).first.evaluate(
        """el => {
            el.scrollIntoView({block: 'start'});
            let box = el.parentElement;
            while (box && !(box.scrollHeight > box.clientHeight && getComputedStyle(box).overflowY !== 'visible')) {
                box = box.parentElement;
            }
            (box || document.scrollingElement).scrollBy(0, -90);
        }"""
    )
    still(page.locator(CHART).first)


def click_step(page, row: int, step: int, unit_fraction: float = 0.5) -> None:
    """Click the timeline's subplot ``row`` (1 = input, 2… quantities) at time step ``step``."""
    plot = page.locator(f"{CHART} .js-plotly-plot").first
    point = plot.evaluate(
        """(gd, [row, step, frac]) => {
            const suffix = row === 1 ? '' : String(row);
            const L = gd._fullLayout, xa = L['xaxis' + suffix], ya = L['yaxis' + suffix];
            const r = gd.getBoundingClientRect();
            return [r.left + xa._offset + xa.l2p(step), r.top + ya._offset + ya._length * frac];
        }""",
        [row, step, unit_fraction],
    )
    plot.evaluate("gd => { gd._hoverdata = undefined; }")  # a hover of an earlier click must not count
    page.mouse.move(point[0], point[1])
    plot.evaluate("gd => new Promise(done => { const look = () => gd._hoverdata && gd._hoverdata.length ? "
                  "done() : requestAnimationFrame(look); look(); })")  # Plotly has taken the hover
    page.mouse.click(point[0], point[1])


def test_fresh_server_renders_the_page(page, screenshot):
    with start_server() as url:  # fresh server: the first page it ever serves
        open_timeline(page, url)
        expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text("Timeline")
        assert_charts_rendered(page, heatmaps=4)  # r, z, n, h
        expect(page).to_have_url(re.compile(r"/timeline(\?|$)"))
        screenshot(page, "timeline-fresh", full_page=False)


def test_cold_deep_link_keeps_its_settings(page, screenshot):
    params = "cell=lstm&hidden=3&source=text&seq=to%20be%2C%20or%20not&t=5"
    with start_server() as url:
        open_timeline(page, url, params)
        assert_charts_rendered(page, heatmaps=7)  # one-hot input + i f g o c h
        expect_query(page, {"cell": "lstm", "hidden": "3", "source": "text", "seq": "to be, or not", "t": "5"})
        expect(page.get_by_text("LSTM with H = 3 on 13 steps of typed text")).to_be_visible()
        show_chart_top(page)
        screenshot(page, "timeline-deep-link-lstm-text", full_page=False)


def test_typed_text_becomes_character_ticks(streamlit_server, page, screenshot):
    open_timeline(page, streamlit_server, "weights=random")  # the defaults' link (no link lands on the latch)
    type_sequence(page, "gates <3", source="text")
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    expect(page.get_by_text("on 8 steps of typed text")).to_be_visible()
    plot = page.locator(f"{CHART} .js-plotly-plot").first
    eventually(lambda: plot.evaluate(
        "gd => Array.from(gd.querySelectorAll('.xaxislayer-above .xtick text')).map(t => t.textContent)"),
        lambda ticks: ticks[:8] == ["g", "a", "t", "e", "s", "␣", "<", "3"], what="the character ticks")
    expect_query(page, {"seq": "gates <3", "source": "text"}, exact=False)
    show_chart_top(page)
    screenshot(page, "timeline-typed-text", full_page=False)


def test_click_a_heatmap_column_opens_step_through(streamlit_server, page, screenshot):
    open_timeline(page, streamlit_server, "hidden=3&steps=30")
    show_chart_top(page)
    click_step(page, row=3, step=17, unit_fraction=0.2)  # the z heatmap, near unit 0, at t = 17
    page.wait_for_url("**/step?**")
    wait_for_app(page)
    assert_no_error(page)
    expect(page).to_have_url(re.compile(r"/step\?"))
    expect_query(page, {"t": "17", "steps": "30", "hidden": "3"}, exact=False)  # the rest of the config too
    screenshot(page, "timeline-click-landed-on-step", full_page=False)

    # Coming back shows the timeline again (the old click does not send us off a second time) …
    page.get_by_test_id("stSidebar").get_by_role("link", name="Timeline").click()
    wait_for_app(page)
    page.wait_for_selector(f"{CHART} .js-plotly-plot .main-svg")
    wait_for_app(page)
    # what must not happen (the old click replayed) has no event to wait for: the page stays for a while
    stays(lambda: urlsplit(page.url).path, "/timeline", for_s=1.0, what="the page after coming back")
    expect(page).to_have_url(re.compile(r"/timeline\?"))
    expect_query(page, {"t": "17"}, exact=False)  # … and marks the step as the cursor
    # A click on the input row works as well.
    show_chart_top(page)
    click_step(page, row=1, step=4)
    page.wait_for_url("**/step?**")
    wait_for_app(page)
    expect_query(page, {"t": "4"}, exact=False)


def test_5000_steps_stay_usable(streamlit_server, page, screenshot):
    start = time.perf_counter()
    open_timeline(page, streamlit_server, "steps=5000&hidden=16&gen=square")
    assert_charts_rendered(page, heatmaps=4)
    print(f"\n5000-step page load in chromium: {time.perf_counter() - start:.1f} s")  # for the log: no bar on speed
    expect(page.get_by_text("5000 steps are too many to draw one by one")).to_be_visible()
    # what keeps it usable on any machine: the browser draws blocks of steps, not 5000 columns per heatmap
    eventually(lambda: page.locator(f"{CHART} .js-plotly-plot").first.evaluate(HEATMAP_COLUMNS_JS),
               lambda widths: len(widths) == 4 and 0 < max(widths) <= MAX_COLUMNS, what="the heatmaps' columns")
    page.locator(CHART).first.scroll_into_view_if_needed()
    screenshot(page, "timeline-5000-steps", full_page=False)
    click_step(page, row=5, step=2500)
    page.wait_for_url("**/step?**")
    eventually(lambda: int(url_query(page.url)["t"]), lambda t: abs(t - 2500) <= 10,
               what="the clicked step (the middle of its block)")


def test_presenter_mode_and_export_section(streamlit_server, page, screenshot):
    open_timeline(page, streamlit_server, "present=1&cell=mingru")
    assert_charts_rendered(page, heatmaps=3)
    show_chart_top(page)
    screenshot(page, "timeline-presenter", full_page=False)
    page.get_by_test_id("stExpander").get_by_text("Export").click()
    expander = page.get_by_test_id("stExpander")
    expect(expander.get_by_role("button", name="Trace as CSV")).to_be_visible()
    still(expander)  # the expander's opening animation is over
    expander.get_by_role("button", name="Prepare PNG").last.evaluate("el => el.scrollIntoView({block: 'center'})")
    still(expander.get_by_role("button", name="Prepare PNG").last)
    screenshot(page, "timeline-export", full_page=False)
    expander.get_by_role("button", name="Prepare PNG").last.click()
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    with page.expect_download() as download:
        expander.get_by_role("button", name="Download PNG").click()
    path = download.value.path()
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with page.expect_download(timeout=60_000) as download:
        expander.get_by_role("button", name="Trace as CSV").click()
    with open(download.value.path(), encoding="utf-8") as f:
        assert f.readline().startswith("t,label,x_0,z_0,")
