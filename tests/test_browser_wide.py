"""Step through and Timeline at real sizes (H = 512) in Debian's chromium: no error box, the "moved most" panel
beside the circuit, a click on one of its units shows that unit (the link's ``unit``), the Timeline's unit order
in the link; and both pages on a desk (1440×900), a projector (1280×720, present=1), a phone (390×844) and in the
dark theme, with the layout checks of test_browser_layout. Screenshots: test-artifacts/screenshots/<run>/wide-*.png.
"""

from __future__ import annotations

import re

import pytest
from browser_support import CHART, expect_query, wait_for_app
from playwright.sync_api import expect
from test_browser_layout import PROBLEMS, SCREENS
from test_browser_layout import open_page as open_drawn

from gru_viz.figures import timeline as tl
from gru_viz.serve import state

pytestmark = pytest.mark.browser

TOP = ".st-key-step_top .js-plotly-plot"
WIDE = "hidden=512&steps=40&t=20&unit=5"


OVERLAPS = """gd => {
  const box = el => el.getBoundingClientRect();
  const ticks = Array.from(gd.querySelectorAll('.yaxislayer-above text')).map(box);
  const out = [];
  for (const a of gd.querySelectorAll('.annotation-text-g text')) {
    const r = box(a);
    for (const t of ticks) {
      if (r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom) out.push(a.textContent);
    }
  }
  return out;
}"""


@pytest.fixture
def screen_page(browser, request):
    """A page in a fresh context for one of SCREENS (``request.param``)."""
    viewport, scheme, _ = SCREENS[request.param]
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


def click_centre(page, locator) -> None:
    """A real mouse click in the middle of ``locator`` (Plotly's drag layer lies above its bars)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_step_at_512_units_offers_the_units_that_moved_most(streamlit_server, page):
    open_drawn(page, streamlit_server, "step", WIDE)
    panel = page.locator(TOP)
    expect(panel).to_be_visible()
    expect(page.locator(".st-key-step_top")).to_contain_text("Which of the 512 units")
    bars = panel.locator("g.barlayer g.point path")
    expect(bars.first).to_be_visible()
    # the third unit of the |Δh| ranking (not the selected one): its customdata is the unit a click shows
    unit = panel.evaluate("gd => gd.data[0].customdata.find(u => u !== 5)")
    index = panel.evaluate(f"gd => gd.data[0].customdata.indexOf({unit})")
    click_centre(page, bars.nth(index))
    wait_for_app(page)
    expect_query(page, {"unit": str(unit), "hidden": "512"}, exact=False)
    expect(page.locator(".st-key-step_top")).to_contain_text(f"unit {unit} is shown now")
    # the bars beside it: the units that moved and the selected one, labelled by their real numbers
    ticks = page.locator(".st-key-step_units .js-plotly-plot").evaluate(
        "gd => gd._fullLayout[Object.keys(gd._fullLayout).filter(k => /^xaxis\\d*$/.test(k)).sort().pop()]"
        ".ticktext")
    assert str(unit) in ticks and len(ticks) <= 25


def test_timeline_at_512_units_orders_its_rows(streamlit_server, page):
    open_drawn(page, streamlit_server, "timeline", "hidden=512&steps=40&order=activity")
    heat = page.locator(f"{CHART} .js-plotly-plot").first
    expect(heat.locator("g.hm image").first).to_be_visible()
    order = page.locator(".st-key-timeline_order")
    expect(order).to_be_visible()
    order.get_by_text("clustered", exact=True).click()
    wait_for_app(page)
    expect_query(page, {"order": "cluster", "hidden": "512"}, exact=False)
    # hovering the top row of r names the real unit the axis labels it with (the clustered order's first)
    heat.scroll_into_view_if_needed()
    first = heat.evaluate("gd => gd._fullLayout.yaxis2.ticktext[0]")
    x, y = heat.evaluate("""gd => { const L = gd._fullLayout, box = gd.getBoundingClientRect();
        return [box.left + L.xaxis2._offset + L.xaxis2.l2p(10), box.top + L.yaxis2._offset + L.yaxis2.l2p(0)]; }""")
    page.mouse.move(x - 5, y + 1)
    page.mouse.move(x, y + 1)
    hover = heat.locator(".hoverlayer .hovertext").first
    expect(hover).to_contain_text(re.compile(r"unit \d+r = "))
    unit = int(re.search(r"unit (\d+)r = ", hover.text_content()).group(1))
    row = heat.evaluate("gd => gd._hoverdata.find(p => p.data.yaxis === 'y2').y")  # the row under the mouse
    h = state.build_scene(state.Config(hidden=512, steps=40)).trace.layer(0).h[:, 0, :]
    order = tl.unit_order(h, "cluster").tolist()
    assert order[0] == int(first)  # the axis labels the top row with its real unit
    # the hover names the unit the clustered order puts in that row (rows are < 1 px: ±1), not the row's index
    assert abs(order.index(unit) - row) <= 1 and unit != row


@pytest.mark.parametrize("screen_page", list(SCREENS), indirect=True)
def test_both_pages_read_well_at_512_units_on_every_screen(streamlit_server, screen_page, screenshot, request):
    screen = request.node.callspec.params["screen_page"]
    _viewport, scheme, query = SCREENS[screen]
    page = screen_page
    for path, extra in (("step", WIDE), ("timeline", "hidden=512&steps=40&order=cluster")):
        open_drawn(page, streamlit_server, path, "&".join(filter(None, (extra, query))))
        if path == "step":
            expect(page.locator(TOP)).to_be_visible()
            # every ranked unit named (none thinned away by Plotly): 8 units × 3 rankings of a GRU
            expect(page.locator(TOP).locator(".yaxislayer-above text")).to_have_count(24)
        screenshot(page, f"wide-{screen}-{path}", full_page=False)
        if path == "timeline":  # the row letters (r, z, n, h) clear the 3-digit unit labels
            overlaps = page.locator(f"{CHART} .js-plotly-plot").first.evaluate(OVERLAPS)
            assert not overlaps, f"row letters on unit labels on the {screen} screen: {overlaps[:5]}"
        if path == "step":
            page.locator(TOP).scroll_into_view_if_needed()
            screenshot(page, f"wide-{screen}-{path}-panel", full_page=False)
        found = page.evaluate(PROBLEMS, 16 if screen == "presenter" else 12)
        assert found["overflow"] <= 1, f"{path}: the page is {found['overflow']} px wider than the {screen} screen"
        assert not found["cut"], f"{path}: labels cut short on the {screen} screen: {found['cut']}"
        assert not found["small"], f"{path}: chart text too small on the {screen} screen: {found['small'][:8]}"
        if scheme == "dark":
            light = [v for v in found["darkInk"] if v > 150]
            assert not found["darkInk"] or len(light) >= 0.7 * len(found["darkInk"]), f"{path}: dark chart text"
