"""Heavy work in the real browser: a long Gradient flow runs on the server's job worker while the page shows its
place and a Cancel button, fills in by itself when done, and another tab's Step through answers meanwhile.

Seeds are fresh for this test run, so no cache (the server's or an earlier test's) holds the results. The core is
fast enough that even this link's jobs can end within the page's INLINE_WAIT on a fast machine, and then no panel
ever shows; a job that merely lasts a few seconds can also end before a loaded machine's click lands. So the
test's own server holds every job until the test lets them go (GRU_VIZ_JOB_HOLD: a file they wait for): the
panels and their Cancel are on screen for as long as the test needs them, on any machine.
"""

from __future__ import annotations

import random
import re

import pytest
from browser_support import VIEWPORT, assert_no_error, screenshot, start_server, wait_for_app
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANEL = re.compile(r"(running on the server's worker|waiting for the server's worker)")


def panel(page):
    return page.get_by_test_id("stMain").get_by_text(PANEL)


@pytest.fixture(scope="module")
def held_jobs_server(tmp_path_factory):
    """A server whose jobs wait, before they answer, until the test creates its ``release`` file."""
    release = tmp_path_factory.mktemp("jobs") / "release"
    with start_server(env={"GRU_VIZ_JOB_HOLD": str(release)}) as url:
        yield url, release


def test_heavy_gradient_flow_queues_cancels_and_fills_in(held_jobs_server, browser) -> None:
    streamlit_server, release = held_jobs_server
    seed_a, seed_b = random.Random().sample(range(10**6, 2 * 10**6), 2)
    heavy = f"{streamlit_server}/gradients?hidden=64&steps=3000&seed={{}}"
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(3)]
    try:
        a, b, c = (ctx.new_page() for ctx in contexts)
        a.goto(heavy.format(seed_a))
        expect(panel(a).first).to_be_visible(timeout=60_000)
        expect(a.get_by_test_id("stMain").get_by_role("button", name="Cancel")).to_be_visible()
        screenshot(a, "jobs-panel")

        b.goto(heavy.format(seed_b))
        expect(panel(b).first).to_be_visible(timeout=60_000)  # its job waits behind A's, held
        b.get_by_test_id("stMain").get_by_role("button", name="Cancel").first.click(timeout=120_000)
        expect(b.get_by_test_id("stMain")).to_contain_text("cancelled. Change a setting, or compute it after all.",
                                                          timeout=120_000)
        expect(b.get_by_role("button", name="Compute it")).to_be_visible()
        screenshot(b, "jobs-cancelled")
        release.touch()  # A's jobs run from here on

        # light work goes on meanwhile: another tab steps through its cell
        c.goto(f"{streamlit_server}/step?hidden=4&t=3")
        # its badge's verdict waits for the worker (busy with A's jobs) and reruns the page when it comes: a click
        # landing on that rerun would be lost, so wait for it
        wait_for_app(c, timeout=300_000)
        expect(c.get_by_test_id("stMain")).to_contain_text("Step t = 3")
        # (generous timeouts: three tabs of one chromium share a loaded machine with the server and its worker)
        c.get_by_test_id("stButton").get_by_role("button", name="Next").click(timeout=120_000)
        expect(c.get_by_test_id("stMain")).to_contain_text("Step t = 4", timeout=120_000)

        # A's page fills in by itself: the flow figure and the explainer, no click, no error
        expect(a.get_by_test_id("stMain").locator(".js-plotly-plot").first).to_be_visible(timeout=300_000)
        expect(a.get_by_test_id("stMain")).to_contain_text("GRU vs LSTM vs RNN", timeout=300_000)
        expect(panel(a)).to_have_count(0, timeout=300_000)
        wait_for_app(a, timeout=120_000)
        assert_no_error(a)
        screenshot(a, "jobs-filled-in")
    finally:
        for ctx in contexts:
            ctx.close()
