"""Chart text reaches 4.5:1 (WCAG AA for text) against the chart's background on every page, light and dark, in
Debian's chromium: the rendered fill of every axis tick and title, legend entry, chart title and colour-bar label
(after Streamlit's frontend has swapped the theme placeholders for the viewer's colours), composited with its
opacity onto the background it stands on (the chart's own paper colour, or the page's where the chart's is
transparent). The ratio is gru_viz.explain.palette.contrast, the same the palette's own tests use.

Learn's chapters are opened revealed (the memory and gradient figures appear with the answer), so every figure a
learner reaches is measured. Screenshots: test-artifacts/screenshots/<run>/contrast-*.png.
"""

from __future__ import annotations

import pytest
from browser_support import CHART, assert_no_error, settled, wait_for_app
from playwright.sync_api import expect

from gru_viz.explain.lessons import chapters
from gru_viz.explain.palette import contrast

pytestmark = pytest.mark.browser

PAGES = ["", "step", "timeline", "compare", "gradients", "train", "your_model", "matches"]
LEARN = [f"learn?chapter={c.number}" for c in chapters()]
SKELETONS = ", ".join(f'[data-testid="{t}"]' for t in ("stSkeleton", "stSkeletonElement", "stAppSkeleton"))
MIN_TEXT = 4.5

# Every chart text that stands on the chart's background (not on a mark): ticks, axis titles, legend, titles,
# colour bars, annotations (on their own box where they have an opaque one). Text drawn as a trace's marks (the
# circuit's labels in its boxes, numbers in heatmap cells) stands on those marks: another measure.
TEXTS = """() => {
  const hex = (rgb) => '#' + rgb.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
  const parse = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const page = parse(getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor);
  const out = [];
  for (const gd of document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')) {
    const bgRgba = (gd._fullLayout && gd._fullLayout.paper_bgcolor) || '';
    const own = parse(bgRgba);
    const bg = own.length >= 3 && (own.length < 4 || own[3] > 0.99) ? own.slice(0, 3) : page.slice(0, 3);
    const sel = '.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .g-x2title text, .g-y2title text, '
              + '.legendtext, .gtitle, .cbtitle text, .cbaxis text, .colorbar text, .annotation-text';
    for (const t of gd.querySelectorAll(sel)) {
      const r = t.getBoundingClientRect();
      // an annotation with its own opaque box stands on that box
      const box = t.closest('.annotation') && t.closest('.annotation').querySelector('rect.bg');
      const boxFill = box ? parse(getComputedStyle(box).fill) : [];
      const boxAlpha = box ? (boxFill.length >= 4 ? boxFill[3] : 1)
          * parseFloat(getComputedStyle(box).fillOpacity || '1') : 0;
      const under = boxAlpha > 0.99 ? boxFill.slice(0, 3) : bg;
      if (!t.textContent.trim() || r.width === 0) continue;
      const cs = getComputedStyle(t);
      const fill = parse(cs.fill);
      if (fill.length < 3) continue;
      const alpha = (fill.length >= 4 ? fill[3] : 1) * parseFloat(cs.fillOpacity || '1')
          * parseFloat(cs.opacity || '1');
      const seen = fill.slice(0, 3).map((v, k) => alpha * v + (1 - alpha) * under[k]);
      out.push({text: t.textContent.trim().slice(0, 40), fill: hex(seen), bg: hex(under),
                size: parseFloat(cs.fontSize)});
    }
  }
  return out;
}"""


def open_drawn(page, url: str) -> None:
    """Open a page and wait until it is drawn: the run over, no placeholder left, every chart rendered."""
    page.goto(url)
    wait_for_app(page, timeout=120_000)
    expect(page.locator("h1").first).to_be_visible()
    expect(page.locator(SKELETONS)).to_have_count(0)
    reveal = page.locator(".st-key-learn_skip button")
    if reveal.count():  # a Learn chapter: show the answer, and with it the chapter's figures
        reveal.click()
        wait_for_app(page, timeout=120_000)
        expect(page.locator(".st-key-learn_skip button")).to_have_count(0)
    charts = page.locator(CHART)
    for k in range(charts.count()):
        expect(charts.nth(k).locator(".js-plotly-plot .main-svg").first).to_be_visible()
    assert_no_error(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chart_text_reaches_4_5_to_1_on_every_page(streamlit_server, browser, screenshot, scheme):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(60_000)
    measured = 0
    try:
        for path in [*PAGES, *LEARN]:
            open_drawn(page, f"{streamlit_server}/{path}")
            name = (path or "home").replace("?chapter=", "-")
            screenshot(page, f"contrast-{scheme}-{name}", full_page=False)
            # the theme swap is the frontend's, after the chart draws: read once the colours stop changing
            texts = settled(lambda: page.evaluate(TEXTS))
            low = [f"{t['text']!r} {t['fill']} on {t['bg']}: {contrast(t['fill'], t['bg']):.2f}:1"
                   for t in texts if contrast(t["fill"], t["bg"]) < MIN_TEXT]
            assert not low, f"{name} ({scheme}): chart text under {MIN_TEXT}:1:\n" + "\n".join(low[:12])
            measured += len(texts)
    finally:
        context.close()
    assert measured > 100, f"only {measured} chart texts measured: the selector finds no charts"
