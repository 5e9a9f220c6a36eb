"""The Real text page in Debian's chromium, on the shipped models: /real_text?model=gru&text=… shows the text coloured
by a unit (the cursor's character boxed), the next-character guess with its top-five chart and the circuit, with no
error, at a desk (1440×900), presenting (1280×720, present=1), on a phone (390×844) and in the dark theme; the other
sections open from their tabs (their first analysis runs in a job worker, then is shared). Screenshots land in
test-artifacts/screenshots/<run>/real_text-*.png."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from browser_support import assert_no_error, wait_for_app
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCREENS = {
    "desk": ({"width": 1440, "height": 900}, "light", ""),
    "presenter": ({"width": 1280, "height": 720}, "light", "&present=1"),
    "phone": ({"width": 390, "height": 844}, "light", ""),
    "dark": ({"width": 1440, "height": 900}, "dark", ""),
}
TEXT = 'def greet(name):\n    """Say hello."""\n    print("hello, " + name)  # one line\n    return [name] * 2\n'
CHARTS = '[data-testid="stPlotlyChart"] .main-svg'
CURSOR = "pre span[style*='outline']"  # the character at the cursor, in the coloured text


def url(server: str, extra: str = "") -> str:
    return f"{server}/real_text?model=gru&t=30&layer=1&unit=5&text={quote(TEXT)}{extra}"


@pytest.mark.parametrize("screen", list(SCREENS))
def test_read_on_every_screen(streamlit_server, browser, screenshot, screen):
    viewport, scheme, extra = SCREENS[screen]
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url(streamlit_server, extra))
        wait_for_app(page, timeout=120_000)
        expect(page.get_by_text("the model's likeliest next character is")).to_be_visible()
        expect(page.locator(CURSOR)).to_have_count(1)
        expect(page.locator(CURSOR)).to_have_text("l")  # character 30: the first "l" of "Say hello"
        expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(2)  # the top five and the circuit
        expect(page.locator(CHARTS).first).to_be_visible()
        expect(page.get_by_text("What it expects next: its top five")).to_be_visible()
        assert_no_error(page)
        screenshot(page, f"real_text-{screen}", full_page=screen != "presenter")
    finally:
        context.close()


@pytest.mark.parametrize(("section", "shows"), [
    ("Units found", "Our scale for |r| on held-out text"),
    ("Gate saturation", "Layer 0's reset gate r"),
    ("Pattern search", re.compile(r"units of layer \d are on|one unit of layer \d, unit \d+, is on|"
                                  r"No unit of layer \d is on")),
    ("Generate", "Read what it wrote"),
    ("Compare", "found LSTM and GRU close to each other"),
])
def test_every_section_opens_from_its_tab(streamlit_server, browser, screenshot, section, shows):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url(streamlit_server))
        wait_for_app(page, timeout=120_000)
        page.get_by_role("tab", name=section).click()
        expect(page.get_by_text(shows).first).to_be_visible(timeout=600_000)  # a first analysis: a job, once
        assert_no_error(page)
        screenshot(page, f"real_text-{section.lower().replace(' ', '_')}")
    finally:
        context.close()
