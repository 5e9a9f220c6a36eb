"""The compare and gradient-flow pages in Streamlit's AppTest: defaults, every cell and variant, every button,
weight scales, text input, hostile input and bad links. A page never shows a traceback: every run fails on an
exception or an error box the test does not expect (tests/apptest_support.py)."""

from __future__ import annotations

import pytest
from apptest_support import open_page as open_app
from streamlit.testing.v1 import AppTest

from gru_viz.core.kinds import KIND, KINDS, WITH_W_HH
from gru_viz.core.spec import GRU_VARIANTS
from gru_viz.explain import glossary

PAGES = ["pages/compare.py", "pages/gradients.py"]
BAD_INPUT = "Cannot run the cells on this input"


def open_page(path: str, expect: tuple[str, ...] = (), **query: str) -> AppTest:
    """Run a page as its first run of a session, with ``query`` as the link's settings."""
    return open_app(path, query, expect=expect)


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


@pytest.mark.parametrize("path", PAGES)
def test_defaults(path):
    at = open_page(path)
    assert charts(at) >= 2
    assert at.title[0].value in ("Compare cells", "Gradient flow")


def test_compare_shows_every_number_from_the_live_models():
    at = open_page("pages/compare.py", hidden="5", gen="noise", steps="30")
    table = at.table[0].value
    assert list(table.columns) == ["GRU", "LSTM", "vanilla RNN"]
    formula = table.loc["Parameters (formula)"]
    counted = table.loc["Parameters (counted from the arrays)"]
    for cell in table.columns:
        assert formula[cell].rsplit("= ", 1)[1] == counted[cell]
    assert counted["GRU"] == str(3 * (5 * (1 + 5) + 10))
    cursor = at.dataframe[0].value
    assert list(cursor.iloc[:, 0]) == ["GRU", "LSTM", "vanilla RNN"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("cell", KINDS)
def test_every_cell_choice(path, cell):
    at = open_page(path)
    at.selectbox(key="w_cell").set_value(cell).run()
    assert at.query_params.get("cell", "gru") == cell


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("variant", list(GRU_VARIANTS))
def test_every_gru_variant(path, variant):
    at = open_page(path, variant=variant, hidden="3")
    text = " ".join(m.value for m in [*at.caption, *at.markdown])
    assert GRU_VARIANTS[variant].name in text or path.endswith("gradients.py")
    if path.endswith("gradients.py"):  # the z ↔ 1 − z evidence names the partner variant and shows round-off
        assert "max |h − h′| over the whole run" in text


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("scale", ["0", "1", "5"])
def test_weight_scales(path, scale):
    at = open_page(path, scale=scale, hidden="6", steps="50")
    assert at.slider(key="w_scale").value == float(scale)


@pytest.mark.parametrize("path", PAGES)
def test_scale_slider_and_minGRU_and_keep_bias(path):
    prefix = "cmp" if path.endswith("compare.py") else "grad"
    at = open_page(path, hidden="4")
    at.slider(key="w_scale").set_value(3.5).run()
    assert at.query_params["scale"] == "3.5"
    at.toggle(key=f"w_{prefix}_min").set_value(True).run()
    at.slider(key=f"w_{prefix}_beta").set_value(4.0).run()
    if prefix == "cmp":
        assert list(at.table[0].value.columns) == [KIND[k].name for k in KINDS]  # every kind, in the registry's order


def test_compare_experiment_buttons():
    at = open_page("pages/compare.py", hidden="4")
    before = charts(at)  # the impulse response is there from the start
    assert any("A spike at step 5" in str(c.proto) for c in at.get("plotly_chart"))
    at.button(key="cmp_run_impulse").click().run()
    assert charts(at) == before
    at.button(key="cmp_run_first").click().run()
    assert charts(at) == before + 1
    captions = " ".join(c.value for c in at.caption)
    assert "Step 0 is +1 in one sequence" in captions
    # results stay while the cursor moves, and follow new experiment settings
    at.slider(key="w_t").set_value(7).run()
    at.number_input(key="w_cmp_steps").set_value(30).run()
    at.number_input(key="w_cmp_at").set_value(29).run()
    assert charts(at) == before + 1
    assert at.query_params["t"] == "7"


def test_spike_beyond_the_experiment_is_moved_inside():
    at = open_page("pages/compare.py")
    at.number_input(key="w_cmp_steps").set_value(10).run()
    at.number_input(key="w_cmp_at").set_value(50).run()
    at.button(key="cmp_run_impulse").click().run()
    assert any("A spike at step 9" in str(c.proto) for c in at.get("plotly_chart"))


def test_compare_cursor_and_unit_go_to_the_link():
    at = open_page("pages/compare.py", hidden="6", t="12", unit="5")
    assert at.slider(key="w_t").value == 12 and at.number_input(key="w_unit").value == 5
    at.number_input(key="w_unit").set_value(2).run()
    assert at.query_params["unit"] == "2"
    cursor = at.dataframe[0].value
    assert cursor.columns[0] == "t = 12, unit 2"


def test_gradients_clipping_controls():
    at = open_page("pages/gradients.py", hidden="5", scale="4")
    for cell in WITH_W_HH:
        at.segmented_control(key="w_clip_cell").set_value(cell).run()
    at.select_slider(key="w_clip").set_value(0.01).run()
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["‖g‖ after"]) == pytest.approx(0.01, rel=1e-3)
    assert metrics["cos(before, after)"] == "1.0000"


@pytest.mark.parametrize("path", PAGES)
def test_text_input(path):
    at = open_page(path, source="text", seq="hello, gated world")
    assert charts(at) >= 2


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("seq", ["5", "1;2 3"])
def test_edge_inputs(path, seq):
    """One step, and ragged steps (refused with a message)."""
    open_page(path, expect=() if seq == "5" else (f"{BAD_INPUT}: step t = 1 has 2 values, step t = 0 had 1",),
              source="typed", seq=seq)


@pytest.mark.parametrize("path", PAGES)
def test_long_and_wide(path):
    at = open_page(path, hidden="64", gen="noise", steps="1200", t="1100")
    captions = " ".join(c.value for c in at.caption)
    assert "Showing steps" in captions if path.endswith("compare.py") else "The last" in captions


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("hostile", ["1, 2, oops", "nan, 1", "1e400", "", "🙂" * 3, "1;" * 6000, "x" * 20_001])
def test_hostile_sidebar_input_shows_a_message(path, hostile):
    at = open_page(path, source="typed")
    with at.expecting(BAD_INPUT):  # a message for every one
        at.text_area(key="w_seq").input(hostile).run()
    assert at.text_area(key="w_seq").value == hostile  # what the user typed is kept


@pytest.mark.parametrize("path", PAGES)
def test_bad_link_params_leave_a_note(path):
    at = open_page(path, hidden="999", scale="abc", variant="nope", t="-3", bogus="1")
    notes = " ".join(i.value for i in at.info)
    for field in ("hidden", "scale", "variant", "t", "bogus"):
        assert field in notes


@pytest.mark.parametrize("path", PAGES)
def test_settings_this_page_does_not_use_are_named(path):
    at = open_page(path, clamp="z:1", weights="preset:latch", hidden="1", source="typed", seq="0, 1, 0")
    captions = " ".join(c.value for c in at.caption)
    assert "Gate clamps are off on this page" in captions


def test_cursor_beyond_the_sequence_is_clamped():
    at = open_page("pages/gradients.py", t="4000", steps="30")
    assert at.slider(key="w_t").value == 29


@pytest.mark.parametrize("path", PAGES)
def test_random_initial_state_and_wide_input(path):
    at = open_page(path, h0="random", source="typed", seq="1 0 0; 0 1 0; 0 0 1; 1 1 1", hidden="2", seed="7")
    assert charts(at) >= 2


def test_the_sidebar_says_compare_does_not_use_a_trained_model():
    """Issue 23.4: the sidebar said "Trained: gru-adding" while the page ran random cells; it now says so there."""
    from gru_viz.app import compare as compare_app

    at = open_page("pages/compare.py", weights="trained:gru-adding")
    said = [c.value for c in at.sidebar.caption]
    assert compare_app.WEIGHTS_NOTE in said
    plain = open_page("pages/compare.py")
    assert compare_app.WEIGHTS_NOTE not in [c.value for c in plain.sidebar.caption]


def test_jargon_is_said_in_words_where_it_first_appears():
    """Issue 23.4: ρ on Compare cells, ρ(W_hh) and diag(1 − h′²) W_hh in Gradient flow's explainer, in plain words."""
    at = open_page("pages/compare.py", hidden="4")
    assert any(glossary.GLOSSARY["ρ"] in m.value and "ρ with it" in m.value for m in at.markdown)
    at = open_page("pages/gradients.py", hidden="4")
    bullets = next(m.value for m in at.markdown if m.value.startswith("**GRU vs LSTM vs RNN**"))
    assert "ρ(W_hh)" in bullets and "diag(1 − h′²) W_hh" in bullets
    said = " ".join(c.value for c in at.caption)
    assert glossary.GLOSSARY["ρ"] in said and glossary.GLOSSARY["diag(1 − h"] in said
