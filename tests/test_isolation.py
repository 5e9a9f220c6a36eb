"""Caching never leaks one user's model or input to another session.

Several AppTest sessions in one process share ``st.cache_resource`` (as the sessions of one server do), so
this is a real check: session A gets its own model (``ui.SESSION_MODEL``, weights="session") and types a
sequence; session B then opens the same page, and must see exactly what a fresh session sees with empty
caches (C), never A's numbers. ``test_the_check_catches_a_leaky_cache`` proves the check would fail if
``ui.scene`` cached a session model under a shared key. The last test does the same on a real server with
two browser contexts: A uploads a weights file on "Your model", B opens A's link.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
import streamlit as st
from apptest_support import open_page
from browser_support import ROOT, assert_no_error, wait_for_app
from streamlit.testing.v1 import AppTest

from gru_viz.app import ui
from gru_viz.core.params import random_model
from gru_viz.core.spec import Spec
from gru_viz.serve import state

# Pages that run the session's own model (see pages/your_model.py) and exist as real pages now.
PAGES = [p for p in ("pages/step.py", "pages/timeline.py") if (ROOT / p).is_file()]
LINK = {"cell": "gru", "hidden": "3", "source": "typed", "seq": "0.9, -0.4, 0.7, 0.1", "t": "1", "seed": "5"}
TYPED_BY_A = "0.25, 1, -1, 0.5, 0.5"


def model_a():
    """A's model: an LSTM where the link says GRU, with weights no seed gives."""
    return random_model(Spec("lstm", 1, 3), seed=424242)


def fingerprint(at: AppTest) -> list[tuple[str, str]]:
    """Everything with numbers that the page shows: text, equations, and the figures' data."""
    out = [(kind, el.value) for kind in ("caption", "markdown", "latex", "info", "warning", "error")
           for el in getattr(at, kind)]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out.append(("plotly", json.dumps(spec.get("data"), sort_keys=True)))
    return out


def session(page: str, query: dict[str, str], model=None) -> AppTest:
    """A new session on ``page`` (with its own model); every run fails on an exception or an error box."""
    own = {ui.SESSION_MODEL: model, ui.SESSION_MODEL_NAME: "a.safetensors"} if model is not None else {}
    return open_page(page, query, own, timeout=60)


def fresh(page: str, query: dict[str, str]) -> list[tuple[str, str]]:
    """What a new session sees with every cache empty."""
    st.cache_resource.clear()
    st.cache_data.clear()
    return fingerprint(session(page, query))


def numbers_in(fp: list[tuple[str, str]]) -> set[str]:
    return {m for _, v in fp for m in re.findall(r"-?\d+\.\d{3,}", v)}


def check_isolated(page: str) -> None:
    """A (own model, typed input), then B on the same links: B sees what a fresh session sees, not A's."""
    shared = {**LINK, "weights": "session"}  # A's link after the hand-over: says "session", holds no model
    truth_shared = fresh(page, shared)
    assert truth_shared == fresh(page, shared), "the page is not deterministic: this check would mean nothing"
    truth_link = fresh(page, LINK)

    st.cache_resource.clear()
    a = session(page, shared, model_a())
    seen_by_a = fingerprint(a)
    assert seen_by_a != truth_shared, "A's model does not change what the page shows: the check is void"
    assert any("LSTM" in v for _, v in seen_by_a), "A does not see its own model"

    b = session(page, shared)  # B opens A's link: same URL, same Config, shared caches, no model of its own
    seen_by_b = fingerprint(b)
    assert ui.SESSION_MODEL not in b.session_state
    assert seen_by_b == truth_shared, "B does not see what a fresh session sees on the same link"
    leaked = numbers_in(seen_by_a) - numbers_in(truth_shared)
    assert not (numbers_in(seen_by_b) & leaked), "B shows numbers that only A's model produces"

    # A types a sequence; B opens the original link and must not see A's input.
    a.sidebar.text_area(key=ui.W + "seq").set_value(TYPED_BY_A).run()
    assert a.session_state[ui.CFG].seq == TYPED_BY_A
    seen_by_a = fingerprint(a)
    b2 = session(page, LINK)
    seen_by_b2 = fingerprint(b2)
    assert b2.session_state[ui.CFG].seq == LINK["seq"]
    assert seen_by_b2 == truth_link
    assert seen_by_b2 != seen_by_a


@pytest.mark.parametrize("page", PAGES)
def test_a_session_model_and_typed_input_stay_in_their_session(page: str) -> None:
    check_isolated(page)


def test_the_check_catches_a_leaky_cache(monkeypatch) -> None:
    """If ui.scene cached session builds under a shared key, check_isolated would fail.

    The leak modelled here is the easy mistake: a cache_resource keyed by the Config with the model passed
    as an unhashed ``_model`` argument (Streamlit skips parameters starting with "_" when hashing).
    """

    @st.cache_resource(show_spinner=False)
    def leaky_cached(cfg, _model):
        return state.build_scene(cfg if _model is None else replace(cfg, weights="session"), _model)

    def leaky_scene(cfg):
        base = replace(cfg, t=0, unit=0, present=False, hide="", predict=False)
        model = st.session_state.get(ui.SESSION_MODEL) if cfg.weights == "session" else None
        return leaky_cached(replace(base, weights="random"), model)

    monkeypatch.setattr(ui, "scene", leaky_scene)
    with pytest.raises(AssertionError, match=r"B does not see|only A's model"):
        check_isolated("pages/step.py")


@pytest.mark.skipif("pages/timeline.py" not in PAGES, reason="no Timeline page")
def test_the_check_catches_a_leaky_figure_cache(monkeypatch) -> None:
    """If a page keyed its shared figures by the link alone (not by ``ui.link_key``, which is None while the
    scene holds A's own model), check_isolated would fail on the Timeline page."""

    def leaky_shared(key, build):
        link = replace(st.session_state[ui.CFG], weights="random")
        return ui._shared(("leak", link, build.__code__.co_firstlineno), build)

    monkeypatch.setattr(ui, "shared", leaky_shared)
    with pytest.raises(AssertionError, match=r"B does not see|only A's model"):
        check_isolated("pages/timeline.py")


def _step_text(context, url: str) -> str:
    page = context.new_page()
    page.goto(url)
    wait_for_app(page, timeout=60_000)
    assert_no_error(page)
    return main_text(page)


def main_text(page) -> str:
    """The text of the main area once a figure is drawn and it has stopped changing (a snapshot to compare)."""
    from browser_support import settled
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stMain"] .js-plotly-plot').first).to_be_attached()
    return settled(lambda: page.locator('[data-testid="stMain"]').inner_text(), what="the main area's text")


@pytest.mark.browser
def test_two_browsers_on_a_real_server(streamlit_server, browser, tmp_path) -> None:
    """A uploads a model on "Your model" and goes to Step through; B opens A's link on the same server and
    sees exactly what C sees on a fresh server (no model of anyone's), never A's numbers."""
    if not (ROOT / "pages/your_model.py").is_file():
        pytest.skip("no Your model page yet")
    from browser_support import start_server

    from gru_viz.io.weights import save_safetensors

    path = tmp_path / "lstm_a.safetensors"
    path.write_bytes(save_safetensors(model_a()))
    ctx_a, ctx_b, ctx_c = browser.new_context(), browser.new_context(), browser.new_context()
    try:
        a = ctx_a.new_page()
        a.goto(f"{streamlit_server}/your_model?hidden=3&source=typed&seq=0.9,-0.4,0.7")
        wait_for_app(a)
        a.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))
        wait_for_app(a, timeout=60_000)
        a.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a', has_text="Step through").first.click()
        a.wait_for_url(re.compile(r"/step\?"))
        wait_for_app(a, timeout=60_000)
        assert_no_error(a)
        seen_by_a = main_text(a)
        assert "LSTM, input 1, hidden 3" in seen_by_a, seen_by_a[:300]
        link = a.url
        assert "weights=session" in link, link
        rest = link.split("/", 3)[3]  # "step?…"

        seen_by_b = _step_text(ctx_b, link)
        with start_server() as fresh:
            seen_by_c = _step_text(ctx_c, f"{fresh}/{rest}")
        assert seen_by_b == seen_by_c, "B (same server as A) does not see what a fresh server shows"
        assert seen_by_b != seen_by_a, "B sees A's page"
        assert not numbers_in([("", seen_by_b)]) & (numbers_in([("", seen_by_a)]) - numbers_in([("", seen_by_c)]))
    finally:
        for ctx in (ctx_a, ctx_b, ctx_c):
            ctx.close()
