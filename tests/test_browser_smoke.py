"""Smoke tests of the app shell in a real browser, and of the browser harness itself.

The cold deep-link tests start a FRESH server per case on purpose: Streamlit decides how to route
a URL like /timeline on the very first script run of a server, which a shared, already-warm server
cannot show. When the placeholder pages are replaced, keep the checks that the page sees its query
params (adapt them to what the real page shows for ``cell=lstm&t=3``).
"""

from __future__ import annotations

import re
import textwrap

import pytest
from browser_support import ROOT, assert_no_error, expect_query, start_server, wait_for_app
from playwright.sync_api import expect

from gru_viz.app.ui import PAGES

NAV_LABELS = [label for _, label, _ in PAGES]  # our own sidebar menu (gru_viz.app.ui.nav)
PARAMS = {"cell": "lstm", "t": "3"}


def expect_nav(page) -> None:
    """Our menu, in order (waits for it: a bare all_inner_texts() read [] on a loaded machine)."""
    links = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
    # Each link's text is "<material icon ligature><label>" ("homeHome"): the label ends it.
    expect(links).to_have_text([re.compile(rf"{re.escape(label)}\s*$") for label in NAV_LABELS])


def test_streamlit_menu_is_ours():
    """app.py must not call st.navigation (see its docstring): pages/ discovery plus our own menu."""
    assert "st.navigation(" not in (ROOT / "app.py").read_text()
    assert (ROOT / "pages").is_dir()


@pytest.mark.browser
def test_home_page_loads(streamlit_server, page, screenshot):
    page.goto(streamlit_server + "/")
    wait_for_app(page)
    assert_no_error(page)
    expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text("gru-viz")
    expect_nav(page)
    screenshot(page, "home")


@pytest.mark.browser
@pytest.mark.parametrize(("path", "heading"), [("step", "Step through"), ("timeline", "Timeline")])
def test_cold_deep_link_lands_on_page_with_params(page, screenshot, path, heading):
    with start_server() as url:  # fresh server: this is the first page it ever serves
        page.goto(f"{url}/{path}?cell=lstm&t=3")
        wait_for_app(page)
        assert_no_error(page)
        expect(page.get_by_test_id("stHeading").locator("h1")).to_have_text(heading)
        # The URL keeps its path and query string.
        expect(page).to_have_url(re.compile(rf"/{path}\?"))
        expect_query(page, PARAMS)
        # Our menu is drawn with its names (Streamlit's file-name menu is switched off).
        expect_nav(page)
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
        if path == "step":  # the page shows the linked step of an LSTM
            expect(page.get_by_text("Step t = 3 of 0")).to_be_visible()
            expect(page.get_by_text("Equations · LSTM")).to_be_visible()
        screenshot(page, f"cold-deep-link-{path}")


@pytest.mark.browser
def test_harness_sees_errors(page, tmp_path):
    """assert_no_error must catch an uncaught exception and st.error in the real frontend."""
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "boom.py").write_text("raise RuntimeError('kaput')\n")
    (tmp_path / "views" / "err.py").write_text("import streamlit as st\nst.error('bad input')\n")
    (tmp_path / "views" / "ok.py").write_text("import streamlit as st\nst.title('fine')\n")
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import streamlit as st
            st.navigation([st.Page("views/ok.py", default=True), st.Page("views/boom.py"),
                           st.Page("views/err.py")]).run()
            """
        )
    )
    with start_server(tmp_path / "app.py") as url:
        page.goto(url + "/")
        wait_for_app(page)
        assert_no_error(page)
        page.goto(url + "/boom")
        wait_for_app(page)
        with pytest.raises(AssertionError, match="kaput"):
            assert_no_error(page)
        page.goto(url + "/err")
        wait_for_app(page)
        with pytest.raises(AssertionError, match="bad input"):
            assert_no_error(page)
        page.goto(url + "/nowhere")
        wait_for_app(page)
        with pytest.raises(AssertionError, match="Page not found"):
            assert_no_error(page)
