"""The Step-through page in Streamlit's AppTest: defaults, demos, every cell kind and GRU variant, hostile input
in the sequence box, bad links, the time cursor, clamps, predict-then-reveal, weight editing, hide= flags,
presenter mode and Play mode. (What the charts draw is tested on the figure builders: tests/test_figures_cell.py.)
Every run of the page fails on an exception or an error box the test does not expect (tests/apptest_support.py).
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from apptest_support import open_page as open_app
from streamlit.testing.v1 import AppTest

from gru_viz.app import ui
from gru_viz.core.spec import GRU_VARIANTS, KINDS
from gru_viz.explain import glossary
from gru_viz.explain.claims import plain
from gru_viz.explain.equations import parse_value
from gru_viz.serve import state

PAGE = "pages/step.py"


def open_page(query: dict[str, str] | None = None, session: dict | None = None, *,
              expect: tuple[str, ...] = ()) -> AppTest:
    return open_app(PAGE, query, session, expect=expect)


def cfg(at: AppTest) -> state.Config:
    return at.session_state[ui.CFG]


def charts(at: AppTest) -> list:
    return at.get("plotly_chart")


HEAD = re.compile(r"\\textcolor\{[^}]*\}\{(\w'?)_t\}")


def equations(at: AppTest) -> dict[str, str]:
    """Quantity → its equation's LaTeX on the page (the step's equations are one aligned block)."""
    out = {}
    for latex in at.latex:
        heads = list(HEAD.finditer(latex.value))
        if not heads:
            continue
        for head, after in zip(heads, [*heads[1:], None], strict=True):
            out[head.group(1)] = latex.value[head.start() : after.start() if after else None]
    return out


def result(latex: str) -> float:
    """The bold result of an equation, read back from the page."""
    return parse_value(re.search(r"\\mathbf\{([^}]*\}?)\}", latex).group(1))


def strip(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step t = "))


def test_no_link_opens_on_the_landing_scene_and_random_weights_are_one_click_away():
    at = open_page()
    assert at.title[0].value == "Step through"
    assert cfg(at) == state.LANDING  # the latch at its spike, not the Config's defaults
    assert strip(at).startswith("**Step t = 3** of 0 … 9")
    said = "\n".join(plain(m.value) for m in at.markdown)
    assert "The update gate z = 0.00005 lets go of the old state" in said  # the narration, beside the circuit
    assert any("A first view" in c.value for c in at.caption)
    at.button(key="landing_random").click().run()
    assert cfg(at) == state.DEFAULT and dict(at.query_params) == {"weights": "random"}
    assert not any("A first view" in c.value for c in at.caption)


def test_defaults():
    at = open_page({"weights": "random"})  # the Config's defaults, as their link writes them
    assert cfg(at) == state.DEFAULT
    assert at.title[0].value == "Step through"
    assert len(charts(at)) == 2  # circuit, unit bars
    assert set(equations(at)) == {"r", "z", "n", "h"}
    assert strip(at).startswith("**Step t = 0** of 0 … 39")
    assert at.slider(key="w_t").value == 0
    assert at.button(key="step_prev").disabled and not at.button(key="step_next").disabled
    assert "Weights are editable for cells with H ≤ 2" in "\n".join(c.value for c in at.caption)


def test_the_landing_is_for_step_through_and_timeline_and_follows_the_menu():
    at = open_app()  # the home page, no link
    assert cfg(at) == state.DEFAULT and dict(at.query_params) == {}  # no link came, none is written
    at.switch_page(PAGE).run()  # Step through from the menu: still no choice made, so the landing
    assert cfg(at) == state.LANDING and at.query_params["weights"] == "preset:latch"
    other = open_app("pages/compare.py")  # a page that is not the landing's keeps the defaults
    assert other.session_state[ui.CFG] == state.DEFAULT


def test_old_links_keep_their_meaning():
    assert state.from_query({}) == (state.DEFAULT, [])  # a link's missing fields are the defaults, as before
    assert state.from_query({"t": "5"})[0] == replace(state.DEFAULT, t=5)
    assert state.to_query(state.DEFAULT) == {"weights": "random"}  # …and the defaults' own link is not empty
    assert state.from_query(state.to_query(state.LANDING))[0] == state.LANDING


@pytest.mark.parametrize("demo", list(state.DEMOS))
def test_demos(demo):
    demo_cfg = state.DEMOS[demo][2]
    at = open_page(state.to_query(demo_cfg))
    assert cfg(at).t == demo_cfg.t
    assert f"**Step t = {demo_cfg.t}**" in strip(at)
    assert charts(at)
    if demo_cfg.hidden <= 2:
        assert at.data_editor, "a small demo cell has its weights editable"


def test_latch_demo_numbers():
    at = open_page(state.to_query(state.DEMOS["latch"][2]))  # t = 3: the spike
    eq = equations(at)
    # z = σ(−10) = 4.54e-05 is printed as its first significant digit: small, and not 0
    assert result(eq["z"]) == 5e-5 and r"\mathbf{0.00005}" in eq["z"]
    assert result(eq["h"]) == pytest.approx(1.0, abs=1e-3)
    assert "<code>1</code>" in strip(at)


@pytest.mark.parametrize("kind", KINDS)
def test_each_cell_kind(kind):
    at = open_page({"cell": kind, "hidden": "6", "t": "3", "unit": "5"})
    assert len(charts(at)) == 2
    want = {"gru": "rznh", "lstm": "ifgoch", "rnn": "h", "mingru": "znh",
            "minlstm": ["f", "i", "n", "f'", "i'", "h"]}[kind]
    assert set(equations(at)) == set(want)
    assert "unit 5, step t = 3" in next(m.value for m in at.markdown if m.value.startswith("**Equations**"))
    assert at.selectbox(key="w_unit").value == 5


@pytest.mark.parametrize("variant", list(GRU_VARIANTS))
def test_each_gru_variant(variant):
    at = open_page({"variant": variant, "t": "2"})
    eq = equations(at)
    v = GRU_VARIANTS[variant]
    assert (r"r_t \odot (W_{hn}" in eq["n"]) == v.reset_after
    assert (r"(1 - z_t) \odot n_t" in eq["h"]) == v.z_keeps
    assert v.name in next(m.value for m in at.markdown if m.value.startswith("**Equations**"))


def test_the_page_numbers_are_the_core_numbers():
    query = {"cell": "lstm", "hidden": "3", "t": "7", "unit": "1", "seed": "5"}
    at = open_page(query)
    scene = state.build_scene(state.from_query(query)[0])
    lt = scene.trace.layer(0)
    for name, latex in equations(at).items():
        want = lt.h[7, 0, 1] if name == "h" else lt.gates[name][7, 0, 1]
        assert result(latex) == pytest.approx(want, abs=5e-4)


# ------------------------------------------------------------------------------------------ hostile input

HOSTILE = {
    "empty": "",
    "double comma": "1,,x",
    "nan": "nan",
    "6000 steps": ", ".join(["0.5"] * 6000),
    "513 values per step": " ".join(["1"] * 513) + ";",  # one past MAX_WIDTH
    "unicode junk": "\u202e\u0000💥 𝟙𝟚 ١٢ \ufeff½",
}


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_typed_sequence(text):
    at = open_page({"source": "typed", "t": "2"})
    shown = len(charts(at))
    with at.expecting("Cannot run the cell on this input"):  # the page says what is wrong
        at.text_area(key="w_seq").set_value(text).run()
    assert at.text_area(key="w_seq").value == text, "what was typed is kept"
    assert len(charts(at)) == shown, "the last good view stays (greyed)"
    assert any(c.value == ui.STALE_NOTE for c in at.caption)
    # and it recovers as soon as the input is fixed
    at.text_area(key="w_seq").set_value("0, 1, 0.5").run()
    assert len(charts(at)) == 2


@pytest.mark.parametrize(("text", "ok"), [("", False), ("x" * 6000, False), ("".join(map(chr, range(200, 300))), False),
                                          ("héllo ☃ world\n", True)])
def test_text_sequence(text, ok):
    at = open_page({"source": "text"})
    with at.expecting(*(() if ok else ("Cannot run the cell on this input",))):
        at.text_area(key="w_seq").set_value(text).run()
    assert at.text_area(key="w_seq").value == text
    if ok:
        assert "'h'" in strip(at) or "<code>&#x27;h&#x27;</code>" in strip(at)


@pytest.mark.parametrize("query", [{"t": "99999"}, {"unit": "-1"}, {"cell": "foo"}, {"hidden": "0"},
                                   {"variant": "nope", "t": "x"}, {"clamp": "q:7"}, {"hide": "everything"}])
def test_bad_link_parameters_give_a_note(query):
    at = open_page(query)
    assert at.info, "an info note explains what was ignored"
    assert "Ignored" in at.info[0].value
    assert charts(at)


def test_cursor_past_the_end_is_moved_with_a_note():
    at = open_page({"t": "100", "unit": "9"})  # 40 steps, H = 4
    notes = "\n".join(i.value for i in at.info)
    assert "Step 100 is past the end of this 40-step input; showing step 39" in notes
    assert "Unit 9 does not exist" in notes
    assert cfg(at).t == 39 and cfg(at).unit == 0
    assert at.query_params["t"] == "39"


# ---------------------------------------------------------------------------------------------- cursor


def test_prev_next_and_slider_move_the_cursor():
    at = open_page({"t": "5"})
    before = equations(at)["h"]
    at.button(key="step_next").click().run()
    assert cfg(at).t == 6 and at.slider(key="w_t").value == 6
    assert at.query_params["t"] == "6"
    assert equations(at)["h"] != before
    at.button(key="step_prev").click().run()
    at.button(key="step_prev").click().run()
    assert cfg(at).t == 4 and "**Step t = 4**" in strip(at)
    at.slider(key="w_t").set_value(39).run()
    assert cfg(at).t == 39 and at.button(key="step_next").disabled


def test_unit_picker():
    at = open_page({"hidden": "8"})
    at.selectbox(key="w_unit").set_value(6).run()
    assert cfg(at).unit == 6 and at.query_params["unit"] == "6"
    assert "unit 6" in next(m.value for m in at.markdown if m.value.startswith("**Equations**"))


def test_single_step_input():
    at = open_page({"source": "typed", "seq": "0.5"})
    assert "The input has a single step." in [c.value for c in at.caption]


# --------------------------------------------------------------------------------------------- ablation


def test_clamping_z_to_one_freezes_h():
    at = open_page({"t": "10"})
    free_h = result(equations(at)["h"])
    assert abs(free_h) > 1e-3
    at.sidebar.segmented_control(key="w_clamp_z").set_value("1").run()
    assert cfg(at).clamp == "z:1"
    eq = equations(at)
    assert r"\text{clamped to } \mathbf{1.000}" in eq["z"]
    assert result(eq["h"]) == 0.0  # h0 = 0, and z = 1 keeps it at every step
    assert len(charts(at)) == 3  # circuit, bars, original vs clamped
    caption = next(plain(c.value) for c in at.caption if plain(c.value).startswith("With z = 1"))
    # the largest change of unit 0 over the run is at least its change at t = 10 (there the clamped h is 0)
    assert parse_value(re.search(r"up to (\S+) from", caption).group(1)) >= abs(free_h) - 1e-3


def test_rnn_has_nothing_to_clamp():
    at = open_page({"cell": "rnn"})
    assert "A vanilla RNN has no gates to clamp." in [c.value for c in at.caption]


# ---------------------------------------------------------------------------------------------- predict


def test_predict_then_reveal():
    at = open_page({"predict": "1", "t": "4", "hidden": "2", "unit": "1"})
    assert at.toggle(key="w_predict").value
    assert not any(r"\mathbf" in v for v in equations(at).values()), "numbers are hidden until revealed"
    assert any("Predict step t = 4 of unit 1" in m.value for m in at.markdown)
    at.slider(key="step_guess_z").set_value(0.2)
    at.slider(key="step_guess_r").set_value(0.9)
    at.button(key="step_reveal").click().run()
    verdict = next(m.value for m in at.markdown if "(you: " in m.value)
    scene = state.build_scene(cfg(at))
    z = scene.trace.layer(0).gates["z"][4, 0, 1]
    assert f"(you: 0.20, off by {abs(0.2 - z):.2f})" in verdict
    assert result(equations(at)["z"]) == pytest.approx(z, abs=5e-4)
    assert any("1 round(s) so far" in c.value for c in at.caption)
    at.button(key="step_next").click().run()  # the next step is a new round: hidden again
    assert cfg(at).t == 5
    assert not any(r"\mathbf" in v for v in equations(at).values())
    assert at.slider(key="step_guess_z").value == 0.5


def test_an_untouched_guess_is_not_a_guess():
    at = open_page({"predict": "1", "t": "4", "hidden": "2", "unit": "1"})
    at.button(key="step_reveal").click().run()  # the sliders still sit at their 0.50 start
    said = plain(next(m.value for m in at.markdown if "(no guess)" in m.value))
    assert said.startswith("No guess this time.")
    assert not re.search(r"right direction|spot on|close!", said, re.I), "a guess never made is never praised"
    assert any("No round scored yet" in c.value for c in at.caption)
    assert step_rounds(at) == []


def test_only_the_values_guessed_are_scored_and_the_verdict_follows_the_error():
    at = open_page({"predict": "1", "t": "4", "hidden": "2", "unit": "1"})
    scene = state.build_scene(cfg(at))
    z = float(scene.trace.layer(0).gates["z"][4, 0, 1])
    far = 0.0 if z > 0.5 else 1.0  # a guess at least 0.5 away
    at.slider(key="step_guess_z").set_value(far).run()
    at.button(key="step_reveal").click().run()
    said = plain(next(m.value for m in at.markdown if "(you: " in m.value))
    assert said.startswith("Off this time!") and "r = " in said and "(no guess)" in said
    assert f"(you: {far:.2f}, off by {abs(far - z):.2f})" in said
    assert step_rounds(at) == [pytest.approx(abs(far - z))]


def step_rounds(at: AppTest) -> list[float]:
    from gru_viz.app import step

    return list(at.session_state[step.ROUNDS]) if step.ROUNDS in at.session_state else []


def test_predict_toggle_and_lstm_guesses():
    at = open_page({"cell": "lstm"})
    at.toggle(key="w_predict").set_value(True).run()
    assert cfg(at).predict and at.query_params["predict"] == "1"
    assert at.slider(key="step_guess_f") and at.slider(key="step_guess_i")


# ---------------------------------------------------------------------------------------------- weights


def test_editing_a_weight_recomputes_everything():
    at = open_page(state.to_query(state.DEMOS["latch"][2]))
    editor = at.data_editor[0]
    table = editor.value
    assert list(table.columns) == ["W·x[0]", "W·h[0]", "b_i", "b_h"] and table.shape == (3, 4)
    assert result(equations(at)["z"]) < 1e-3
    # W_iz: −20 → +20 makes z = σ(20·1 + 10) ≈ 1 at the spike: the latch keeps its 0 instead of writing
    at.session_state[editor.key] = {"edited_rows": {1: {"W·x[0]": 20.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert cfg(at).weights == "session"
    model = at.session_state[ui.SESSION_MODEL]
    assert model.params["weight_ih_l0"][1, 0] == 20.0
    assert result(equations(at)["z"]) == pytest.approx(1.0, abs=1e-3)
    assert result(equations(at)["h"]) == pytest.approx(0.0, abs=1e-3)
    assert at.data_editor[0].value.loc["z[0]", "W·x[0]"] == 20.0  # the editor now starts from the edited model
    assert at.sidebar.selectbox(key="w_weights").value == "session"


def test_weights_out_of_range_are_refused():
    at = open_page(state.to_query(state.DEMOS["latch"][2]))
    at.session_state[at.data_editor[0].key] = {"edited_rows": {0: {"W·x[0]": 1e6}}, "added_rows": [],
                                               "deleted_rows": []}
    with at.expecting("Cannot use these weights"):
        at.run()
    assert cfg(at).weights == "preset:latch"


# ------------------------------------------------------------------------------------------- view options


def test_hide_flags():
    at = open_page({"hide": "equations,diagram,ablation,weights,predict", "clamp": "z:1"})
    assert not at.latex and not charts(at)
    assert not at.get("toggle") or all(t.key != "w_predict" for t in at.toggle)
    assert not any("Weights and biases" in m.value for m in at.markdown)
    assert not any(m.value == "**Clamped gates**" for m in at.markdown)
    assert at.slider(key="w_t")  # the cursor stays


def test_predict_hidden_even_if_linked():
    at = open_page({"hide": "predict", "predict": "1"})
    assert r"\mathbf" in equations(at)["z"]


def test_presenter_mode():
    at = open_page({"present": "1", "t": "3"})
    assert any(".katex" in h.value for h in at.html), "presenter styles (larger equations) are on the page"
    assert len(charts(at)) == 2


def test_play_mode():
    at = open_page({"steps": "400", "t": "10"})
    at.segmented_control(key="step_mode").set_value("play").run()
    assert len(charts(at)) == 1
    note = next(c.value for c in at.caption if c.value.startswith("Press ▶ Play"))
    assert "every 2th step" in note or "every 2" in note
    assert not at.latex
    at.segmented_control(key="step_mode").set_value("step").run()
    assert equations(at)


def test_session_model_of_another_kind_is_explained():
    at = open_page({"cell": "lstm", "hidden": "3"})
    spec = state.build_scene(state.Config(cell="gru", hidden=2)).model.spec
    at.session_state[ui.SESSION_MODEL] = state.build_scene(state.Config(cell="gru", hidden=2)).model
    at.run()  # the Weights menu now offers "Your model"
    at.sidebar.selectbox(key="w_weights").set_value("session").run()
    assert cfg(at).weights == "session" and spec.kind == "gru"
    note = [i.value for i in at.info if "this session's own model" in i.value]
    assert note and "greyed out" in note[0]


def sidebar_fixed(at: AppTest) -> tuple[str, int, str] | None:
    """(cell, H, why) as the sidebar's disabled controls show them, or None when they are live."""
    cells = [s for s in at.sidebar.selectbox if s.label == "Cell"]
    sizes = [n for n in at.sidebar.number_input if n.label == "Hidden size H"]
    assert len(cells) == len(sizes) == 1
    if not cells[0].disabled:
        assert not sizes[0].disabled
        return None
    assert sizes[0].disabled and len(cells[0].options) == 1  # nothing else to pick
    return cells[0].value, int(sizes[0].value), cells[0].help


# A trained model may not take the link's input (a sine, one value per step): that is the scene's own message.
TRAINED_INPUT = {"trained:gru-adding": ("this trained model takes 2 value(s) per step, the input has 1",),
                 "trained:lstm-recall": ("this trained model takes",)}


@pytest.mark.parametrize("weights", ["session", "preset:latch", "trained:gru-adding", "trained:lstm-recall"])
def test_weights_that_fix_the_cell_disable_the_cell_and_size(weights):
    """Chosen weights that come with their own cell (an uploaded or trained model, a preset, a shipped trained
    model): Cell and H are disabled, show the model's own kind and size, say why; Random weights bring them back."""
    from gru_viz.core.model import Model
    from gru_viz.core.params import init_params
    from gru_viz.core.spec import Spec

    lstm = Model(Spec("lstm", 1, 3), init_params(Spec("lstm", 1, 3), 2))
    query = {"weights": weights, "cell": "rnn", "hidden": "5"}
    if weights == "preset:latch":
        query.update(cell="gru", source="typed", seq="0, 1, 0")
    if weights.startswith("trained:"):
        query.pop("cell")
    at = open_page(query, {ui.SESSION_MODEL: lstm}, expect=TRAINED_INPUT.get(weights, ()))
    if weights.startswith("trained:"):
        from gru_viz.io.trained import load_trained

        model = load_trained(weights.partition(":")[2]).model
    else:
        model = at.session_state[ui.SESSION_MODEL] if weights == "session" else state.build_scene(cfg(at)).model
    shown = sidebar_fixed(at)
    assert shown is not None, "the cell and size cannot be chosen with these weights"
    kind, H, why = shown
    assert (kind, H) == (model.spec.kind, model.spec.hidden_size)  # the disabled controls tell the truth
    assert "Fixed by" in why and "Random" in why
    clamps = {k.removeprefix("w_clamp_") for k in at.session_state if isinstance(k, str) and k.startswith("w_clamp_")}
    if model.spec.kind == "lstm":
        assert {"i", "f", "o"} <= clamps and not {"r", "z"} & clamps  # the model's own gates, not the sidebar cell's
    at.sidebar.selectbox(key="w_weights").set_value("random").run()
    assert sidebar_fixed(at) is None
    assert state.build_scene(cfg(at)).model.spec.kind == cfg(at).cell


def test_h0_random_and_scale():
    at = open_page({"h0": "random", "scale": "2.5", "hidden": "1", "source": "typed", "seq": "1, 0, -1"})
    scene = state.build_scene(cfg(at))
    assert result(equations(at)["h"]) == pytest.approx(scene.trace.layer(0).h[0, 0, 0], abs=5e-4)
    assert np.any(at.data_editor[0].value.to_numpy() != 0)
    assert any("recurrent scale ×2.5" in c.value for c in at.caption)


def test_stacked_bidirectional_session_model():
    from gru_viz.core.model import Model
    from gru_viz.core.params import init_params
    from gru_viz.core.spec import Spec

    spec = Spec("gru", 1, 3, num_layers=2, bidirectional=True)
    # the layer picked on "Your model": layer 1, forward
    at = open_page({"weights": "session", "hidden": "3", "t": "5"},
                   {ui.SESSION_MODEL: Model(spec, init_params(spec, 4)), ui.LAYER_CHOICE: (1, 0)})
    picker = at.selectbox(key="step_layer")
    assert picker.value == (1, 0)
    at.run()
    assert "<code>h of layer 0</code>" not in strip(at)  # the strip shows the sequence's own input
    # layer 1 reads the output of layer 0, and the circuit says so (layers counted from 0 on every page)
    assert any("h of layer 0" in chart.proto.spec for chart in charts(at))
    assert not any("h of layer 1" in chart.proto.spec for chart in charts(at))
    picker.set_value((1, 1)).run()
    assert at.session_state[ui.LAYER_CHOICE] == (1, 1)
    scene = state.build_scene(cfg(at), at.session_state[ui.SESSION_MODEL])
    lt = scene.trace.layer(1, 1)
    assert result(equations(at)["z"]) == pytest.approx(lt.gates["z"][5, 0, 0], abs=5e-4)
    assert not at.data_editor  # two layers: the weights are not editable here


def test_a_bug_in_the_core_is_a_friendly_message_and_a_logged_traceback(monkeypatch, caplog):
    import logging

    import streamlit as st

    from gru_viz.core.model import Model

    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    caplog.set_level(logging.ERROR, logger=ui.__name__)
    st.cache_resource.clear()
    monkeypatch.setattr(Model, "run", boom)
    open_page({"hidden": "3", "t": "2"}, expect=("Running the cell failed unexpectedly (RuntimeError)",))
    st.cache_resource.clear()  # no scene built under the patch may outlive this test
    assert any(r.name == ui.__name__ and r.exc_info and str(r.exc_info[1]) == "injected" for r in caplog.records)


# ------------------------------------------------------------------------------------------------ at 512 units


@pytest.mark.parametrize("cell", KINDS)
def test_a_512_unit_link_opens_with_the_units_that_moved_most(cell):
    at = open_page({"hidden": "512", "steps": "40", "cell": cell, "t": "12", "unit": "300"})
    assert (cfg(at).hidden, cfg(at).unit) == (512, 300) and not at.info
    assert any(m.value == "**Which of the 512 units to look at**" for m in at.markdown)
    panel = next(c.value for c in at.caption if c.value.startswith("The ones that moved most"))
    assert "t = 12" in panel and "unit 300 is shown now" in panel
    assert len(charts(at)) >= 3  # the circuit, the moved-most panel, the bars


def test_a_link_over_the_cap_gets_a_note():
    at = open_page({"hidden": "513"})
    assert cfg(at).hidden == state.DEFAULT.hidden
    assert "Ignored hidden=" in at.info[0].value and "512" in at.info[0].value


def test_a_small_layer_has_no_moved_most_panel():
    at = open_page({"hidden": "8"})
    assert not any(m.value.startswith("**Which of the") for m in at.markdown)


def test_a_512_unit_run_too_long_for_the_budget_says_the_steps_that_fit():
    at = open_page({"hidden": "512", "steps": "5000"}, expect=("Cannot run the cell on this input",))
    error = at.error[0].value
    assert "one run may keep at most 64 MB" in error and "use at most 2,047 steps" in error
    assert not at.exception


@pytest.mark.parametrize("kind", KINDS)
def test_the_notation_of_the_equations_is_said_in_words(kind):
    """Issue 23.4: ⊙ and σ are explained under the equations that use them (a vanilla RNN's use neither)."""
    at = open_page({"cell": kind, "hidden": "3", "t": "2"})
    latex = " ".join(e.value for e in at.latex)
    captions = " ".join(c.value for c in at.caption)
    for term, tex in (("⊙", r"\odot"), ("σ", r"\sigma")):
        assert (tex in latex) == (glossary.GLOSSARY[term] in captions), (kind, term)
    assert (r"\sigma" in latex) == (kind != "rnn")
