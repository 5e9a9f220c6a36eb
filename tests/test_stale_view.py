"""A bad input never blanks a page: the error goes above, and the last good view stays, greyed, with a note, on
every page that draws a run (ui.scene / ui.kept and ui.stale_view); the sidebar keeps what was typed, the cursor
stays where it was, and correcting the input brings the page back to life. Every run fails on an exception or an
error box the test does not expect (tests/apptest_support.py)."""

from __future__ import annotations

import pytest
from apptest_support import open_page as open_app
from streamlit.testing.v1 import AppTest

from gru_viz.app import ui

PAGES = ["pages/step.py", "pages/timeline.py", "pages/compare.py", "pages/gradients.py", "pages/matches.py",
         "pages/your_model.py"]
GOOD, BAD = "1 0; 0 1; 1 1; 0 0", "1 0; 0 1 2"
REFUSED = "on this input: step t = 1 has 3 values, step t = 0 had 2"  # what the page says of BAD


def open_page(script: str, seq: str, **query: str) -> AppTest:
    return open_app(script, {"source": "typed", "seq": seq, **query}, timeout=300,
                    expect=(REFUSED,) if seq == BAD else ())


def stale_note(at: AppTest) -> bool:
    return any(c.value == ui.STALE_NOTE for c in at.caption)


def greyed(at: AppTest) -> bool:
    """The CSS that greys the stale container is on the page (the container is keyed ui.STALE_KEY)."""
    return any(f".st-key-{ui.STALE_KEY}" in m.value and "opacity" in m.value for m in at.markdown)


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


@pytest.mark.parametrize("script", PAGES)
def test_a_bad_input_keeps_the_last_good_view_greyed(script: str) -> None:
    at = open_page(script, GOOD, t="2")
    assert not stale_note(at) and not greyed(at)
    before, texts = charts(at), len(at.markdown)
    with at.expecting(REFUSED):
        at.text_area(key="w_seq").set_value(BAD).run()
    assert [e.value for e in at.error] == [
        f"Cannot run the cell{'s' if script in ('pages/compare.py', 'pages/gradients.py') else ''} {REFUSED}"]
    assert stale_note(at) and greyed(at)
    assert charts(at) == before and len(at.markdown) >= texts  # nothing that was drawn is gone
    assert at.text_area(key="w_seq").value == BAD and at.query_params["seq"] in (BAD, [BAD])  # the sidebar keeps it
    if script == "pages/step.py":
        assert at.slider(key="w_t").value == 2  # the cursor stays
    at.text_area(key="w_seq").set_value("1 0; 0 1; 1 1; 0 0; 1 0").run()
    assert not stale_note(at) and not greyed(at)
    assert charts(at) == before


@pytest.mark.parametrize("script", ["pages/step.py", "pages/timeline.py", "pages/compare.py"])
def test_a_bad_first_input_shows_only_the_error(script: str) -> None:
    """Nothing good was drawn yet in this session: the error alone, no stale view."""
    at = open_page(script, BAD)  # (its error box: open_page expects it)
    assert not stale_note(at) and charts(at) == 0


def test_the_stale_step_page_keeps_its_clamp_comparison() -> None:
    """The ablation panel's unclamped run comes from the scene shown, so it survives a bad input too (and a side
    run never becomes the page's last good scene)."""
    at = open_page("pages/step.py", GOOD, clamp="z:1", t="1")
    keys = [c.proto.id for c in at.get("plotly_chart")]
    assert any(k.endswith("step_ablation") for k in keys)
    last = at.session_state[ui.LAST_GOOD]
    assert last.cfg.clamp == "z:1"  # the page's scene, not the unclamped side run
    with at.expecting(REFUSED):
        at.text_area(key="w_seq").set_value(BAD).run()
    assert stale_note(at)
    assert [c.proto.id for c in at.get("plotly_chart")] == keys
    assert len(at.error) == 1  # one message, not one per run that failed
