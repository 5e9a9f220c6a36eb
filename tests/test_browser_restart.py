"""A server restart mid-lesson: the same link opens the same view on a new server.

Everything a page shows comes from the link, so a student who reloads after the teacher restarted the app
(on another port, even) sees the same heading, text, equations and figure data. Also: a link with values
out of range shows a note for each and no error, and moving through the menu keeps the link's settings.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import urlsplit

import pytest
from browser_support import (
    VIEWPORT,
    assert_no_error,
    eventually,
    expect_query,
    screenshot,
    settled,
    start_server,
    url_query,
    wait_for_app,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Several non-default settings: cell, hidden size, generator and its length, seed, scale, h0, a clamp, cursor.
LINK = "/step?cell=lstm&hidden=6&gen=square&steps=30&seed=7&scale=1.5&h0=random&clamp=f:1&t=12&unit=3"
SETTINGS = url_query(LINK)

_PLOTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot'))
  .map((el) => JSON.stringify((el.data || []).map((t) => [t.type, t.x, t.y, t.z, t.text])))"""


def snapshot(page) -> dict[str, object]:
    """What the page shows now: heading, every text of the main area, a digest of each figure's data, the link."""
    plots = page.evaluate(_PLOTS_JS)
    return {
        "heading": page.get_by_test_id("stHeading").locator("h1").first.inner_text(),
        "text": page.get_by_test_id("stMain").inner_text(),
        "figures": [hashlib.sha256(p.encode()).hexdigest()[:16] for p in plots],
        "query": url_query(page.url),
    }


def view(page) -> dict[str, object]:
    """What the page shows once it has drawn a figure and stopped changing (a snapshot to compare)."""
    expect(page.get_by_test_id("stMain").locator(".js-plotly-plot").first).to_be_attached()
    return settled(lambda: snapshot(page), what="the page's text and figures")


def open_view(browser, url: str, name: str) -> dict[str, object]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(url)
        wait_for_app(page, timeout=60_000)
        assert_no_error(page)
        shown = view(page)
        screenshot(page, name)
        return shown
    finally:
        context.close()


def test_same_link_same_view_after_a_restart(browser) -> None:
    with start_server() as first:
        before = open_view(browser, first + LINK, "restart-before")
    with start_server() as second:  # a new process on another port
        assert urlsplit(second).port != urlsplit(first).port
        after = open_view(browser, second + LINK, "restart-after")
    assert before["heading"] == after["heading"] == "Step through"
    assert "Step t = 12" in str(before["text"]) and "LSTM" in str(before["text"]), str(before["text"])[:400]
    assert before["query"] == SETTINGS, "the page rewrote the link's settings"
    assert before["figures"], "no figure drawn"
    assert before == after


def test_out_of_range_link_shows_notes_not_errors(streamlit_server, page) -> None:
    page.goto(f"{streamlit_server}/step?hidden=999&t=-3&cell=transformer&scale=9&steps=0&bogus=1")
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    notes = page.get_by_test_id("stAlertContentInfo")
    for key in ("hidden", "t", "cell", "scale", "steps"):
        expect(notes.filter(has_text=re.compile(rf"Ignored {key}="))).to_have_count(1)
    expect(notes.filter(has_text="bogus")).to_have_count(1)
    expect(page.get_by_test_id("stHeading").locator("h1").first).to_have_text("Step through")
    junk = {"hidden", "t", "cell", "scale", "steps", "bogus"}
    eventually(lambda: url_query(page.url), lambda q: not junk & set(q), what="the link without the junk")
    screenshot(page, "out-of-range-link")


def test_the_menu_keeps_the_links_settings(streamlit_server, page) -> None:
    """Step → Timeline → Step through the sidebar menu: same settings in the link, same step on screen."""
    page.goto(streamlit_server + LINK)
    wait_for_app(page, timeout=60_000)
    first = view(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.locator('[data-testid="stPageLink"] a', has_text="Timeline").first.click()
    page.wait_for_url(re.compile(r"/timeline\?"))
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    expect_query(page, SETTINGS)  # Timeline's link keeps every setting
    sidebar.locator('[data-testid="stPageLink"] a', has_text="Step through").first.click()
    page.wait_for_url(re.compile(r"/step\?"))
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    back = eventually(lambda: view(page), lambda v: v == first, what="Step through after the round trip")
    assert back == first, json.dumps(back)[:300]
