"""Every page on every screen a class uses, measured in Debian's chromium: a desk (1440×900), a projector in
presenter mode (1280×720), a phone (390×844) and the dark theme.

- Every page: no traceback, nothing wider than the screen (the cell diagram's own box scrolls instead), no label
  cut short with "…", chart text at least 12 px (16 px presenting), the sidebar folded away when presenting, and in
  the dark theme chart text in a light ink on a dark page.
- Step through: the diagram is at least 700 px wide with labels of at least 14 px on a desk; its labels never
  overlap a node and every box's text stays inside its box (for every cell kind and GRU variant, on a desk and
  presenting); presenting, the cursor, the diagram and the narration slot are above the fold; on a phone the
  diagram keeps its size and scrolls sideways, and the equations fit the screen; a click on a wire selects its
  quantity: the link carries it, the equations highlight its line and the bars its row.

Geometry comes from the rendered SVG (getBoundingClientRect of each text element), read after ``expect`` has
waited for the chart. Screenshots land in test-artifacts/screenshots/<run>/layout-*.png.
"""

from __future__ import annotations

import re

import pytest
from browser_support import CHART, assert_no_error, eventually, wait_for_app
from playwright.sync_api import expect

from gru_viz.core.kinds import KINDS

pytestmark = pytest.mark.browser

SCREENS = {
    "desk": ({"width": 1440, "height": 900}, "light", ""),
    "presenter": ({"width": 1280, "height": 720}, "light", "present=1"),
    "phone": ({"width": 390, "height": 844}, "light", ""),
    "dark": ({"width": 1440, "height": 900}, "dark", ""),
}
PAGES = ["", "step", "timeline", "compare", "gradients", "train", "your_model", "seq2seq", "real_text", "matches"]
# every kind's diagram (a GRU in three of its variants), from the registry
DIAGRAMS = [("gru", v) for v in ("torch", "reset-before", "z-takes")] + [(k, "torch") for k in KINDS if k != "gru"]
DIAGRAM = ".st-key-step_diagram .js-plotly-plot"


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


SKELETONS = ", ".join(f'[data-testid="{t}"]' for t in ("stSkeleton", "stSkeletonElement", "stAppSkeleton"))


FOLDED = """el => { const tab = el.closest('[data-testid="stTabPanel"]');
  return !!tab && getComputedStyle(tab).display === 'none'; }"""


def open_page(page, base: str, path: str, query: str) -> None:
    """Open a page and wait until it is drawn: the run over, no placeholder left, every chart rendered."""
    page.goto(f"{base}/{path}{'?' + query if query else ''}")
    wait_for_app(page, timeout=120_000)
    expect(page.locator("h1").first).to_be_visible()
    expect(page.locator(SKELETONS)).to_have_count(0)
    wait_for_app(page, timeout=120_000)
    charts = page.locator(CHART)
    for k in range(charts.count()):  # the run has finished: every chart it drew is on its way
        chart = charts.nth(k)
        svg = chart.locator(".js-plotly-plot .main-svg").first
        if chart.evaluate(FOLDED):  # in a tab not opened (the Encoder–decoder page's h): drawn, shown on a click
            expect(svg).to_be_attached()
        else:
            expect(svg).to_be_visible()
    assert_no_error(page)


# What a page shows wrongly, measured in the browser (each list names the offenders).
PROBLEMS = """(minFont) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const out = {overflow: main.scrollWidth - main.clientWidth, cut: [], small: [], darkInk: []};
  for (const el of main.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    if (cs.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1 && el.offsetParent !== null
        && el.textContent.trim()) out.cut.push(el.textContent.trim().slice(0, 60));
  }
  for (const gd of main.querySelectorAll('.js-plotly-plot')) {
    for (const t of gd.querySelectorAll('.main-svg text, .infolayer text')) {
      const r = t.getBoundingClientRect();
      if (!t.textContent.trim() || r.width === 0) continue;
      const size = parseFloat(getComputedStyle(t).fontSize);
      if (size < minFont) out.small.push(`${t.textContent.trim().slice(0, 30)} (${size}px)`);
      const fill = getComputedStyle(t).fill.match(/\\d+(\\.\\d+)?/g);
      if (fill) {
        const [r8, g8, b8] = fill.map(Number);
        out.darkInk.push(0.2126 * r8 + 0.7152 * g8 + 0.0722 * b8);
      }
    }
  }
  const bg = getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor.match(/\\d+/g)
      .map(Number);
  out.background = 0.2126 * bg[0] + 0.7152 * bg[1] + 0.0722 * bg[2];
  return out;
}"""


@pytest.mark.parametrize("screen_page", list(SCREENS), indirect=True)
def test_every_page_reads_well_on_every_screen(streamlit_server, screen_page, screenshot, request):
    screen = request.node.callspec.params["screen_page"]
    _viewport, scheme, query = SCREENS[screen]
    page = screen_page
    for path in PAGES:
        open_page(page, streamlit_server, path, query)
        name = path or "home"
        screenshot(page, f"layout-{screen}-{name}", full_page=False)
        found = page.evaluate(PROBLEMS, 16 if screen == "presenter" else 12)
        assert found["overflow"] <= 1, f"{name}: the page is {found['overflow']} px wider than the {screen} screen"
        assert not found["cut"], f"{name}: labels cut short on the {screen} screen: {found['cut']}"
        assert not found["small"], f"{name}: chart text too small on the {screen} screen: {found['small'][:8]}"
        if screen == "presenter":
            expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
        if scheme == "dark":
            assert found["background"] < 60, f"{name}: the page is not dark"
            # tick labels, legends and labels in a light ink (coloured names may be darker: they are few)
            light = [v for v in found["darkInk"] if v > 150]
            assert not found["darkInk"] or len(light) >= 0.7 * len(found["darkInk"]), (
                f"{name}: chart text is dark on the dark page")


# ------------------------------------------------------------------------------------------- the diagram

GEOMETRY = """gd => {
  const L = gd._fullLayout, box = gd.getBoundingClientRect(), xa = L.xaxis, ya = L.yaxis;
  const px = (x, y) => [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
  const nodes = L.meta.nodes.map(([x0, y0, x1, y1, kind, key, text]) => {
    const [a, b] = px(x0, y0), [c, d] = px(x1, y1);
    return {left: Math.min(a, c), right: Math.max(a, c), top: Math.min(b, d), bottom: Math.max(b, d), kind, key, text};
  });
  const groups = Array.from(gd.querySelectorAll('.scatterlayer .trace'));
  const group = i => groups.find(g => g.__data__ && g.__data__[0] && g.__data__[0].trace.index === i);
  const rect = el => { const r = el.getBoundingClientRect();
                       return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: el.textContent}; };
  const texts = i => Array.from(group(i).querySelectorAll('g.textpoint text')).map(rect);
  const labelTrace = gd.data.findIndex(t => Array.isArray(t.meta));
  const glyphTrace = gd.data.findIndex(t => t.meta === 'glyphs');
  const sizes = Array.from(group(labelTrace).querySelectorAll('g.textpoint text'))
      .map(t => parseFloat(getComputedStyle(t).fontSize));
  return {chart: rect(gd), nodes, labels: texts(labelTrace), glyphs: texts(glyphTrace), minFont: Math.min(...sizes),
          viewport: [window.innerWidth, window.innerHeight]};
}"""


def overlap(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (a["left"] < b["right"] - slack and b["left"] < a["right"] - slack
            and a["top"] < b["bottom"] - slack and b["top"] < a["bottom"] - slack)


def inside(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (a["left"] >= b["left"] - slack and a["right"] <= b["right"] + slack
            and a["top"] >= b["top"] - slack and a["bottom"] <= b["bottom"] + slack)


def diagram_geometry(page) -> dict:
    plot = page.locator(DIAGRAM)
    expect(plot.locator("g.textpoint text").first).to_be_visible()
    return plot.evaluate(GEOMETRY)


def assert_labels_clear(g: dict, where: str) -> None:
    for label in g["labels"]:
        assert inside(label, g["chart"]), f"{where}: label {label['text']!r} leaves the diagram"
        for node in g["nodes"]:
            assert not overlap(label, node), f"{where}: label {label['text']!r} overlaps the {node['text']!r} node"
    for i, a in enumerate(g["labels"]):
        for b in g["labels"][i + 1 :]:
            assert not overlap(a, b), f"{where}: labels {a['text']!r} and {b['text']!r} overlap"
    assert len(g["glyphs"]) == len(g["nodes"])
    for glyph, node in zip(g["glyphs"], g["nodes"], strict=True):
        assert inside(glyph, node), f"{where}: {glyph['text']!r} is not inside its {node['kind']}"


@pytest.mark.parametrize("screen_page", ["desk", "presenter"], indirect=True)
def test_diagram_labels_never_overlap_nodes(streamlit_server, screen_page, screenshot, request):
    screen = request.node.callspec.params["screen_page"]
    page = screen_page
    query = SCREENS[screen][2]
    for kind, variant in DIAGRAMS:
        open_page(page, streamlit_server, "step", "&".join(filter(None, [query, f"cell={kind}",
                                                                          f"variant={variant}", "t=5", "hidden=6"])))
        g = diagram_geometry(page)
        where = f"{kind}/{variant} ({screen})"
        assert_labels_clear(g, where)
        assert g["chart"]["left"] >= 0 and g["chart"]["right"] <= g["viewport"][0], f"{where}: diagram off screen"
        if screen == "desk":
            assert g["chart"]["right"] - g["chart"]["left"] >= 700, f"{where}: diagram narrower than 700 px"
            assert g["minFont"] >= 14, f"{where}: labels under 14 px"
        else:
            assert g["minFont"] >= 18, f"{where}: labels under 18 px on a projector"
            # the cursor, the diagram and the narration's place are above the fold
            assert g["chart"]["bottom"] <= g["viewport"][1], f"{where}: diagram below the fold"
            for part in ('[data-testid="stMain"] [data-testid="stSlider"]', ".st-key-step_narration"):
                box = page.locator(part).first.bounding_box()
                assert box is not None and box["y"] + box["height"] <= g["viewport"][1], f"{where}: {part} below"
        screenshot(page, f"layout-diagram-{screen}-{kind}-{variant}", full_page=False)


@pytest.mark.parametrize("screen_page", ["phone"], indirect=True)
def test_phone_scrolls_the_diagram_and_fits_the_equations(streamlit_server, screen_page, screenshot):
    page = screen_page
    open_page(page, streamlit_server, "step", "t=10")
    g = diagram_geometry(page)
    assert_labels_clear(g, "gru on a phone")
    assert g["chart"]["right"] - g["chart"]["left"] >= 700, "the diagram keeps its size"
    scroller = page.locator(".st-key-step_diagram_box")
    eventually(lambda: scroller.evaluate("el => el.scrollWidth > el.clientWidth"), bool,
               what="the diagram's box scrolling sideways")
    expect(page.locator(".gv-swipe")).to_be_visible()
    page.locator(DIAGRAM).scroll_into_view_if_needed()
    screenshot(page, "layout-phone-step-diagram", full_page=False)
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    screenshot(page, "layout-phone-step-diagram-right", full_page=False)
    narrow = page.locator('[class*="st-key-eqnarrow_"] .katex-display').first
    expect(narrow).to_be_visible()
    expect(page.locator('[class*="st-key-eqwide_"]').first).to_be_hidden()
    # every row fits: no equation needs its sideways scroll on a phone
    over = page.locator('[class*="st-key-eqnarrow_"] .katex-display').evaluate_all(
        "els => els.map(e => e.scrollWidth - e.clientWidth)")
    assert max(over) <= 4, f"an equation runs off the phone's screen by {max(over)} px"  # KaTeX's struts: 2 px
    narrow.scroll_into_view_if_needed()
    screenshot(page, "layout-phone-step-equations", full_page=False)


@pytest.mark.parametrize("screen_page", ["desk"], indirect=True)
def test_a_click_on_a_wire_selects_its_quantity_everywhere(streamlit_server, screen_page, screenshot):
    page = screen_page
    open_page(page, streamlit_server, "step", "t=6")
    plot = page.locator(DIAGRAM)
    expect(plot.locator("g.textpoint text").first).to_be_visible()
    # a point in the middle of the z wire (the hit trace's points carry their wire's key)
    x, y = plot.evaluate("""gd => { const L = gd._fullLayout, r = gd.getBoundingClientRect();
        const hits = gd.data.find(t => t.meta === 'hits');
        const k = hits.customdata.map((c, i) => [c, i]).filter(([c]) => c === 'z');
        const i = k[Math.floor(k.length / 2)][1];
        return [r.left + L.xaxis._offset + L.xaxis.l2p(hits.x[i]), r.top + L.yaxis._offset + L.yaxis.l2p(hits.y[i])];
    }""")
    page.mouse.move(x, y)
    expect(page.locator(".hoverlayer .hovertext").first).to_contain_text("update gate z")
    page.mouse.click(x, y)
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"[?&]sel=z(&|$)"))
    line = page.locator(".st-key-eq_z_selected")
    expect(line).to_be_visible()
    expect(line).to_contain_text("z")
    expect(line).not_to_have_css("background-color", "rgba(0, 0, 0, 0)")
    expect(page.locator(".st-key-eq_r_selected")).to_have_count(0)
    # the bars highlight z's row: a band drawn in z's colour behind it
    bars = page.locator(".st-key-step_units .js-plotly-plot")
    expect(bars.locator(".shapelayer path")).to_have_count(2)
    # and the diagram draws z's wires with a halo
    halo = plot.evaluate("gd => gd.data.find(t => t.meta === 'halo').x.length")
    assert halo > 0
    screenshot(page, "layout-click-selects-z", full_page=False)
    # a click on the same wire again clears the selection
    page.mouse.click(x, y)
    wait_for_app(page)
    expect(page.locator(".st-key-eq_z_selected")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"sel=z"))


LOOK = """() => {
  const px = (sel, prop) => { const el = document.querySelector(sel); return el ? getComputedStyle(el)[prop] : null; };
  const gd = document.querySelector('.st-key-step_diagram .js-plotly-plot');
  const labels = gd.data.findIndex(t => Array.isArray(t.meta));
  const group = Array.from(gd.querySelectorAll('.scatterlayer .trace'))
      .find(g => g.__data__ && g.__data__[0] && g.__data__[0].trace.index === labels);
  const label = group.querySelector('g.textpoint text');
  return {h1: px('h1', 'fontSize'), prose: px('[data-testid="stMarkdownContainer"] p', 'fontSize'),
          katex: px('.st-key-step_equations .katex', 'fontSize'), pad: px('[data-testid="stMainBlockContainer"]',
          'paddingTop'), diagram: Math.round(gd.getBoundingClientRect().width),
          label: getComputedStyle(label).fontSize};
}"""


@pytest.mark.parametrize("screen_page", ["presenter"], indirect=True)
def test_the_presenter_toggle_gives_the_linked_layout(streamlit_server, screen_page, screenshot):
    """An issue seen: the sidebar's toggle enlarged only the diagram's text (and clipped it); present=1 in the
    link gave the real presenter layout. Now both give the same page."""
    page = screen_page
    open_page(page, streamlit_server, "step", "t=4&hidden=6")
    before = page.evaluate(LOOK)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Presenter mode", exact=True).click()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"[?&]present=1(&|$)"))
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    expect(page.locator(".st-key-step_diagram")).to_have_css("width", "756px")  # the presenter scale
    toggled = page.evaluate(LOOK)
    screenshot(page, "layout-presenter-toggled", full_page=False)
    open_page(page, streamlit_server, "step", "t=4&hidden=6&present=1")
    linked = page.evaluate(LOOK)
    assert toggled == linked, (toggled, linked)
    assert toggled != before and toggled["label"] == "18px"
