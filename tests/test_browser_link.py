"""Page knobs in the link, in Debian's chromium on a freshly started server: a teacher's link to a Learn chapter's
knob, Compare's experiments and Gradient flow's clipping opens the same scene (1440×900, presenter 1280×720, a
390×844 phone, dark), and a bad chapter says which chapter it shows. Screenshots: test-artifacts/screenshots/<run>/
link-*.png."""

from __future__ import annotations

import pytest
from browser_support import WAIT_MS, assert_no_error, expect_query, open_with_charts, wait_for_app
from playwright.sync_api import expect

from gru_viz.explain import lessons

pytestmark = pytest.mark.browser


def new_page(browser, width: int, height: int, dark: bool = False):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme="dark" if dark else "light")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS * 2)  # the gradient page's backward passes share 2 cores with others
    return context, page


def test_a_learn_knob_link_opens_the_same_scene_wide_and_presenting(streamlit_server, browser, screenshot):
    for name, size, extra in (("learn-knob-1440", (1440, 900), ""),
                              ("learn-knob-presenter", (1280, 720), "&present=1")):
        context, page = new_page(browser, *size)
        try:
            page.goto(f"{streamlit_server}/learn?chapter=2&knob=7{extra}")
            wait_for_app(page)
            expect(page.get_by_text(f"Chapter 2 of {len(lessons.chapters())}", exact=True)).to_be_visible()
            expect(page.get_by_text("The spike arrives at t = 7.", exact=False).first).to_be_attached()
            expect_query(page, {"chapter": "2", "knob": "7"}, exact=False)
            assert_no_error(page)
            screenshot(page, f"link-{name}")
        finally:
            context.close()


def test_compare_on_a_phone_and_gradients_in_dark_open_their_links(streamlit_server, browser, screenshot):
    context, page = new_page(browser, 390, 844)
    try:
        open_with_charts(page, f"{streamlit_server}/compare?hidden=4&cmp_beta=4.5&cmp_first=1&cmp_at=12")
        expect(page.get_by_text("keep bias β = 4.5", exact=False).first).to_be_visible()
        expect(page.get_by_text("Step 0 is +1 in one sequence", exact=False)).to_be_visible()
        expect_query(page, {"cmp_beta": "4.5", "cmp_first": "1", "cmp_at": "12"}, exact=False)
        screenshot(page, "link-compare-phone")
    finally:
        context.close()
    context, page = new_page(browser, 1440, 900, dark=True)
    try:
        open_with_charts(page, f"{streamlit_server}/gradients?hidden=4&scale=4&clip=0.01&clip_cell=lstm&grad_beta=3")
        expect(page.get_by_text("LSTM, at the current scale", exact=False)).to_be_visible()
        expect_query(page, {"clip": "0.01", "clip_cell": "lstm", "grad_beta": "3.0"}, exact=False)
        screenshot(page, "link-gradients-dark")
    finally:
        context.close()


def test_a_bad_chapter_link_says_the_chapter_it_shows(streamlit_server, browser, screenshot):
    context, page = new_page(browser, 1440, 900)
    try:
        page.goto(f"{streamlit_server}/learn?chapter=abc")
        wait_for_app(page)
        expect(page.get_by_text("showing chapter 1", exact=False)).to_be_visible()
        expect(page.get_by_text(f"Chapter 1 of {len(lessons.chapters())}", exact=True)).to_be_visible()
        expect(page.get_by_text("invalid literal", exact=False)).to_have_count(0)
        screenshot(page, "link-bad-chapter")
    finally:
        context.close()
