"""The Encoder–decoder page in Debian's chromium: /seq2seq?word=through shows g2p-en's own pronunciation of
"through" with its circuit drawn and no error, at a desk (1440×900), presenting (1280×720, present=1), on a phone
(390×844) and in the dark theme; a decoder step shows its top-3 chart; an unknown letter is a note, not an error.
Screenshots land in test-artifacts/screenshots/<run>/seq2seq-*.png."""

from __future__ import annotations

import g2p_reference
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
CHARTS = '[data-testid="stPlotlyChart"] .main-svg'


@pytest.fixture(scope="module")
def through() -> str:
    """g2p-en's own predict() of "through", in ARPAbet."""
    return " ".join(g2p_reference.model().predict("through"))


@pytest.mark.parametrize("screen", list(SCREENS))
def test_through_on_every_screen(streamlit_server, browser, screenshot, through, screen):
    viewport, scheme, extra = SCREENS[screen]
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{streamlit_server}/seq2seq?word=through{extra}")
        wait_for_app(page, timeout=120_000)
        expect(page.get_by_text(f"pronounces “through” as {through}, or /θɹu/ in IPA.")).to_be_visible()
        expect(page.locator(CHARTS).first).to_be_visible()
        assert_no_error(page)
        screenshot(page, f"seq2seq-{screen}", full_page=screen != "presenter")
    finally:
        context.close()


def test_a_decoder_step_and_an_unknown_letter(streamlit_server, page, screenshot):
    page.goto(f"{streamlit_server}/seq2seq?word=x86_64&t=7")
    wait_for_app(page, timeout=120_000)
    expect(page.get_by_text("it read “8”, “6”, “_” and “4” as its unknown-letter mark")).to_be_visible()
    expect(page.get_by_text("Its next two choices were")).to_be_visible()
    # the circuit, the top 3, a heatmap, and the other tab's
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(4)
    assert_no_error(page)
    screenshot(page, "seq2seq-decoder-step")
