"""The Timeline page in Streamlit's AppTest: every cell kind, the demos, text and 5000-step input, bad input
and bad links, hide=export, PNG on demand, and a picked step opening Step through. Every run of the page fails on an
exception or an error box the test does not expect (tests/apptest_support.py)."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from apptest_support import open_page as open_app
from streamlit.testing.v1 import AppTest

from gru_viz.app import ui
from gru_viz.core.model import Model
from gru_viz.core.params import init_params
from gru_viz.core.spec import KINDS, Spec
from gru_viz.figures import timeline as tl
from gru_viz.serve import state

PAGE = "pages/timeline.py"


def open_page(query: dict[str, str] | None = None, session: dict | None = None) -> AppTest:
    return open_app(PAGE, query, session)


def charts(at: AppTest) -> list:
    return at.get("plotly_chart")


def infos(at: AppTest) -> str:
    return "\n".join(i.value for i in at.info)


def test_no_link_opens_on_the_landing_scene():
    at = open_page()
    assert at.session_state[ui.CFG] == state.LANDING
    assert "GRU with H = 1 on 10 steps" in at.caption[0].value
    at.button(key="landing_random").click().run()
    assert at.session_state[ui.CFG] == state.DEFAULT


def test_defaults():
    at = open_page({"weights": "random"})
    assert at.title[0].value == "Timeline"
    assert len(charts(at)) == 3  # timeline, h per unit, PCA
    assert "GRU with H = 4 on 40 steps" in at.caption[0].value
    assert "too many to draw" not in infos(at)
    assert [e.label for e in at.expander] == ["Export"]
    assert [b.label for b in at.button] == ["Prepare PNG"] * 3
    assert [b.label for b in at.get("download_button")] == ["Trace as CSV", "Trace as JSON", "HTML", "HTML", "HTML"]


@pytest.mark.parametrize("demo", list(state.DEMOS))
def test_demos(demo):
    at = open_page(state.to_query(state.DEMOS[demo][2]))
    assert len(charts(at)) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_each_cell_kind(kind):
    at = open_page({"cell": kind, "hidden": "5", "t": "3"})
    assert len(charts(at)) == 3
    assert at.query_params.get("cell", "gru") == kind  # the page writes its config back to the URL


def test_text_input():
    at = open_page({"source": "text", "seq": "hello, world"})
    assert "12 steps of typed text" in at.caption[0].value
    assert at.text_area(key="w_seq").value == "hello, world"


def test_5000_steps_render_with_the_decimation_note():
    at = open_page({"steps": "5000", "hidden": "64", "cell": "lstm"})
    note = infos(at)
    assert "5000 steps" in note and "**mean** of a block of 17 steps" in note and "min and max" in note
    assert len(charts(at)) == 3
    start = time.process_time()  # CPU time: the rerun's own cost, not how busy the machine is
    at.run()  # a rerun, e.g. after a widget change elsewhere: scene cached, figures rebuilt
    elapsed = time.process_time() - start
    print(f"\n5000-step LSTM (H=64) timeline rerun in AppTest: {elapsed:.2f} s of CPU")
    assert elapsed < 10  # generous; typically well under a second


def test_hostile_text_is_refused_in_the_page_and_kept():
    at = open_page({"source": "typed", "seq": "1, 2"})
    shown = len(charts(at))
    hostile = "1, 2; nan <script>alert(1)</script> 1e999 \x00"
    with at.expecting("Cannot run the cell on this input"):
        at.text_area(key="w_seq").input(hostile).run()
    assert at.text_area(key="w_seq").value == hostile
    assert len(charts(at)) == shown and any(c.value == ui.STALE_NOTE for c in at.caption)  # kept, greyed


def test_too_long_text_is_refused():
    at = open_page({"source": "text", "seq": "ab"})
    with at.expecting("Cannot run the cell on this input: too many steps"):
        at.text_area(key="w_seq").input("x" * 5001).run()


def test_bad_link_values_become_notes():
    at = open_page({"cell": "transformer", "steps": "-4", "hidden": "9999", "t": "abc", "bogus": "1"})
    notes = infos(at)
    assert "Ignored cell='transformer'" in notes and "Ignored steps='-4'" in notes and "Ignored t='abc'" in notes
    assert "unknown link settings: bogus" in notes
    assert len(charts(at)) == 3


def test_cursor_beyond_the_run_is_clamped():
    at = open_page({"steps": "10", "t": "400"})
    assert at.query_params["t"] == "9"


def test_hide_export():
    at = open_page({"hide": "export"})
    assert not at.expander and not at.button and not at.get("download_button")


def test_presenter_mode():
    at = open_page({"present": "1"})
    assert len(charts(at)) == 3


def test_png_is_prepared_on_demand_then_offered():
    at = open_page({"hidden": "2", "steps": "12"})
    at.button(key="png_pca").click().run()
    labels = [b.label for b in at.get("download_button")]
    assert "Download PNG" in labels, labels
    assert [b.label for b in at.button] == ["Prepare PNG"] * 2  # the other two figures are not rendered yet
    at.run()  # cached: still offered without rendering again
    assert "Download PNG" in [b.label for b in at.get("download_button")]


def test_picked_step_opens_step_through():
    # AppTest cannot click inside a Plotly chart (the browser test does): play the selection callback's part,
    # which sets t through ui.update and leaves the flag for the next run.
    at = open_page({"steps": "30", "t": "17"})
    at.session_state["timeline_goto"] = True
    at.run()
    assert at.query_params["t"] == "17" and at.query_params["steps"] == "30"
    assert at.title[0].value != "Timeline"
    assert "timeline_goto" not in at.session_state  # one click, one switch


def test_stacked_bidirectional_session_model_has_a_layer_choice():
    spec = Spec("gru", 1, 3, num_layers=2, bidirectional=True)
    model = Model(spec, init_params(spec, 0))
    # (no model name: AppTest re-formats the weights selectbox outside the script, where the name is unknown)
    at = open_page({"weights": "session"}, {"gru_viz_session_model": model})
    box = at.selectbox(key="timeline_layer")
    assert box.options == ["layer 0 · forward", "layer 0 · reverse", "layer 1 · forward", "layer 1 · reverse"]
    box.select_index(1).run()
    assert len(charts(at)) == 3


def plotly_array(value) -> np.ndarray:
    """An array as Plotly's JSON carries it: a list, or a typed array {"dtype", "bdata" (base64), "shape"}."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")] if shape else -1).astype(float)
    return np.asarray(value, dtype=float)


@pytest.mark.parametrize(("choice", "width"), [(0, 3), (1, 3), (2, 4), (3, 4)])
def test_the_x_row_is_what_the_layer_reads(choice: int, width: int):
    """An uploaded 2-layer bidirectional GRU on a 3-value input: layers 0 read the input, layers 1 the output of
    layer 0 (forward and reverse halves side by side, 2·2 values per step), and the x row draws exactly that."""
    spec = Spec("gru", 3, 2, num_layers=2, bidirectional=True)
    model = Model(spec, init_params(spec, 0))
    seq = "1 0 0; 0 1 0; 0 0 1; 1 1 0; 0.5 0 1"
    at = open_page({"weights": "session", "source": "typed", "seq": seq}, {"gru_viz_session_model": model})
    at.selectbox(key="timeline_layer").select_index(choice).run()
    x_row = plotly_array(json.loads(charts(at)[0].proto.spec)["data"][0]["z"]).T  # (T, values per step)
    trace = model.run(state.build_sequence(state.from_query({"source": "typed", "seq": seq})[0]).values)
    layer, d = divmod(choice, 2)
    np.testing.assert_allclose(x_row, trace.layer(layer, d).x[:, 0, :], rtol=0, atol=1e-12)
    assert x_row.shape == (5, width)
    if layer == 1:
        np.testing.assert_allclose(x_row, np.concatenate([trace.layer(0, 0).h[:, 0], trace.layer(0, 1).h[:, 0]], 1))
        assert any("The x row is what layer 1 reads: the output of layer 0" in c.value for c in at.caption)


# ------------------------------------------------------------------------------------------------ at 512 units


@pytest.mark.parametrize("order", ["index", "activity", "cluster"])
def test_a_512_unit_link_opens_with_its_unit_order(order):
    at = open_page({"hidden": "512", "steps": "40", "order": order})
    cfg = at.session_state[ui.CFG]
    assert (cfg.hidden, cfg.order) == (512, order) and not at.info
    assert at.session_state["timeline_order"] == order  # the control shows the link's order
    assert any("most active of the 512 units" in c.value for c in at.caption)


def test_choosing_an_order_goes_into_the_link():
    at = open_page({"hidden": "100", "steps": "20"})
    assert at.session_state[ui.CFG].order == "index"
    at.button_group(key="timeline_order").set_value("activity").run()
    assert at.session_state[ui.CFG].order == "activity" and at.query_params["order"] == "activity"
    fig = json.loads(next(c for c in charts(at) if '"heatmap"' in c.proto.spec).proto.spec)
    h = state.build_scene(state.without_view(at.session_state[ui.CFG])).trace.layer().h[:, 0, :]
    order = tl.unit_order(h, "activity")
    axis = fig["layout"]["yaxis2"]  # the first quantity's rows, most active first
    assert axis["ticktext"] == [str(order[v]) for v in axis["tickvals"]]


def test_pca_is_explained_where_it_first_appears():
    """Issue 23 item 4: a learner from the lesson reads what PCA is, on the heading that first names it."""
    at = open_page()
    heading = next(h for h in at.subheader if "PCA" in h.value)
    assert "two directions along which h varies most" in heading.proto.help
    assert "fit on a plane" in heading.proto.help
