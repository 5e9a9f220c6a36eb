"""Matches PyTorch: the comparison of our core with torch (gru_viz.core.parity, bridge.torch_side, parity_ui).

The comparison must pass for every kind and variant in float64, report small non-zero float32 differences,
and fail for a model that is wrong by 1e-9 — a check that cannot fail proves nothing.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch_reference as ref
from apptest_support import Page, open_page
from streamlit.testing.v1 import AppTest

from gru_viz import Spec, random_model
from gru_viz.app import parity as parity_ui
from gru_viz.core import parity
from gru_viz.core.kinds import KIND, KINDS
from gru_viz.core.model import Model
from gru_viz.core.trace import Ablation
from gru_viz.io import bridge
from gru_viz.serve import state

SPECS = {
    "gru": Spec("gru", 3, 4),
    "gru-reset-before": Spec("gru", 3, 4, variant="reset-before"),
    "gru-z-takes": Spec("gru", 3, 4, variant="z-takes"),
    "gru-after-takes": Spec("gru", 3, 4, variant="after-takes"),
    "gru-2-layer-bidir-z-takes": Spec("gru", 2, 3, num_layers=2, bidirectional=True, variant="z-takes"),
    "gru-3-layer-bidir": Spec("gru", 2, 3, num_layers=3, bidirectional=True),
    "lstm": Spec("lstm", 3, 4),
    "lstm-proj-bidir": Spec("lstm", 3, 4, num_layers=2, bidirectional=True, proj_size=2),
    "rnn-tanh-no-bias": Spec("rnn", 2, 5, bias=False),
    "rnn-relu-2-layer": Spec("rnn", 2, 5, nonlinearity="relu", num_layers=2),
    "mingru": Spec("mingru", 2, 3),
    "mingru-2-layer-bidir": Spec("mingru", 2, 3, num_layers=2, bidirectional=True),
    "minlstm": Spec("minlstm", 2, 3),
    "minlstm-2-layer-bidir": Spec("minlstm", 2, 3, num_layers=2, bidirectional=True),
    "minlstm-cell-no-bias": Spec("minlstm", 3, 4, cell=True, bias=False),
    "gru-cell": Spec("gru", 3, 4, cell=True),
    "gru-cell-z-takes": Spec("gru", 3, 4, cell=True, variant="z-takes"),
    "lstm-cell": Spec("lstm", 3, 4, cell=True),
    "rnn-cell-relu": Spec("rnn", 3, 4, cell=True, nonlinearity="relu"),
}


# By hand, from each kind's equations: the per-step quantities compared besides h.
STEP_GATES = {
    "gru": ("r", "z", "n"),
    "lstm": ("i", "f", "g", "o", "c"),
    "rnn": (),
    "mingru": ("z", "n"),
    "minlstm": ("f", "i", "n", "f'", "i'"),
}


def test_every_kind_is_compared():
    assert set(STEP_GATES) == set(KINDS) and {s.kind for s in SPECS.values()} == set(KINDS)


def run_case(spec: Spec, seed: int = 0, T: int = 9, with_h0: bool = True, ablations=(), scale: float = 2.0):
    """(model, x, h0, trace) for one sequence, with weights large enough that some gates saturate."""
    model = Model(spec, ref.random_params(spec, seed, scale=scale))
    x, h0 = ref.make_inputs(spec, seed + 1, T=T, B=1, batched=False, with_h0=with_h0)
    return model, x, h0, model.run(x, h0, ablations)


def reports(model, x, h0, trace, ablations=(), dtype="float64"):
    cot = parity.cotangents(trace)
    theirs, how = bridge.torch_side(model, x, h0, ablations, cot, dtype)
    return parity.compare(parity.our_side(model, trace, cot), theirs, dtype, how, model.spec.directions)


def expected_keys(spec: Spec, trace) -> set[str]:
    pair = "c" in KIND[spec.kind].state
    keys = {"output", "h_n"} | ({"c_n"} if pair else set())
    gates = STEP_GATES[spec.kind]
    gates = [*gates, *(["m"] if spec.proj_size else []), "h"]
    keys |= {parity.step_key(layer, d, g) for layer in range(spec.num_layers) for d in range(spec.directions)
             for g in gates}
    keys |= {parity.grad_key(k) for k in trace_params(spec)} | {parity.grad_key("x"), parity.grad_key("h0")}
    return keys | ({parity.grad_key("c0")} if pair else set())


def trace_params(spec: Spec) -> list[str]:
    from gru_viz.core.spec import param_shapes

    return list(param_shapes(spec))


# ------------------------------------------------------------------------------------------- float64


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("with_h0", [False, True], ids=["h0=0", "h0 random"])
def test_every_kind_matches_torch_in_float64(name, with_h0):
    spec = SPECS[name]
    model, x, h0, trace = run_case(spec, with_h0=with_h0)
    r = reports(model, x, h0, trace)
    assert r.passed, (r.failures(), r.missing)
    assert {row.key for row in r.rows} == expected_keys(spec, trace)  # every gate of every step, every gradient
    assert r.worst("forward") <= 1e-12 and r.worst("steps") <= 1e-12
    assert r.worst("gradients") <= 1e-10
    native = bridge.is_native(spec)
    assert r.how.startswith("torch.nn.") == native
    if not native:
        assert "step by step" in r.how


@pytest.mark.parametrize("name", ["gru", "gru-2-layer-bidir-z-takes", "lstm-proj-bidir", "mingru-2-layer-bidir",
                                  "minlstm-2-layer-bidir"])
def test_clamped_gates_compared_through_the_step_code(name):
    spec = SPECS[name]
    gate = {"gru": "z", "lstm": "f", "mingru": "z", "minlstm": "f"}[spec.kind]
    ablations = (Ablation(gate, 1.0, 2, 6), Ablation(gate, 0.0, 7, None, layer=spec.num_layers - 1, direction=0))
    model, x, h0, trace = run_case(spec, ablations=ablations)
    r = reports(model, x, h0, trace, ablations)
    assert r.passed, r.failures()
    assert "torch.nn has no gate clamps" in r.how or "torch.nn has no" in r.how
    np.testing.assert_array_equal(trace.layers[0][0].gates[gate][2:6], 1.0)


def test_batched_and_batch_first_runs_match():
    spec = Spec("lstm", 3, 4, num_layers=2, bidirectional=True, batch_first=True)
    model = Model(spec, ref.random_params(spec, 3))
    x, h0 = ref.make_inputs(spec, 4, T=6, B=3)
    r = reports(model, x, h0, model.run(x, h0))
    assert r.passed, r.failures()


def test_long_relu_run_is_judged_relative_to_its_size():
    spec = Spec("rnn", 2, 4, nonlinearity="relu")
    model, x, h0, trace = run_case(spec, T=60, scale=3.0)
    r = reports(model, x, h0, trace)
    assert max(row.scale for row in r.rows) > 1e3  # the states grew large…
    assert r.passed, r.failures()  # …and round-off is judged relative to them


# ------------------------------------------------------------------------ references for non-torch models


@pytest.mark.parametrize("variant", ["torch", "reset-before", "z-takes", "after-takes"])
def test_bridge_reference_agrees_with_core_and_with_the_test_reference(variant):
    """bridge.reference_run (the torch side of non-torch variants) against our core, and against the test suite's
    independent torch reference; its "torch" variant also against nn.GRU itself."""
    spec = Spec("gru", 3, 4, num_layers=2, bidirectional=True, variant=variant)
    params = ref.random_params(spec, 5, scale=2.0)
    x, h0 = ref.make_inputs(spec, 6, T=8, B=2)
    tp = ref.to_torch(params)
    with torch.no_grad():
        out, h_n, _, steps = bridge.reference_run(spec, tp, torch.as_tensor(x), torch.as_tensor(h0))
        theirs = ref.run(spec, tp, torch.as_tensor(x), torch.as_tensor(h0))
    trace = Model(spec, params).run(x, h0)
    np.testing.assert_allclose(out.numpy(), trace.output, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), trace.h_n, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), theirs[0].numpy(), rtol=0, atol=1e-14)
    for (layer, d), lt in ((k, trace.layers[k[0]][k[1]]) for k in [(0, 0), (0, 1), (1, 0), (1, 1)]):
        for g in "rzn":
            np.testing.assert_allclose(steps[parity.step_key(layer, d, g)].numpy(), lt.gates[g], rtol=0, atol=1e-12)
    if variant == "torch":
        mod = ref.torch_module(spec)
        mod.load_state_dict(tp)
        with torch.no_grad():
            m_out, _ = mod(torch.as_tensor(x), torch.as_tensor(h0))
        np.testing.assert_allclose(out.numpy(), m_out.numpy(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("kind", [k for k in KINDS if not KIND[k].recurrent])
def test_bridge_reference_of_a_scan_kind_agrees_with_core_scan_and_loop(kind):
    spec = Spec(kind, 3, 4, num_layers=2, bidirectional=True)
    params = ref.random_params(spec, 7, scale=2.0)
    x, h0 = ref.make_inputs(spec, 8, T=30, B=2)
    with torch.no_grad():
        out, h_n, _, steps = bridge.reference_run(spec, ref.to_torch(params), torch.as_tensor(x), torch.as_tensor(h0))
        theirs = ref.run(spec, ref.to_torch(params), torch.as_tensor(x), torch.as_tensor(h0))
    np.testing.assert_allclose(out.numpy(), theirs[0].numpy(), rtol=0, atol=1e-14)  # the test suite's reference
    for scan in (True, False):
        trace = Model(spec, params).run(x, h0, scan=scan)
        np.testing.assert_allclose(out.numpy(), trace.output, rtol=0, atol=1e-12)
        np.testing.assert_allclose(h_n.numpy(), trace.h_n, rtol=0, atol=1e-12)
        for row in trace.layers:
            for lt in row:
                for g in STEP_GATES[kind]:
                    np.testing.assert_allclose(steps[parity.step_key(lt.layer, lt.direction, g)].numpy(), lt.gates[g],
                                               rtol=0, atol=1e-12, err_msg=g)


# ------------------------------------------------------------------------------------------- float32


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("name", ["gru", "lstm-proj-bidir", "gru-z-takes", "mingru", "minlstm", "rnn-cell-relu"])
def test_float32_differences_are_small_but_not_zero(name):
    model, x, h0, trace = run_case(SPECS[name])
    r = reports(model, x, h0, trace, dtype="float32")
    assert not r.judged and r.passed  # reported, never judged
    assert 1e-9 < r.worst("forward") < 1e-5
    assert 1e-9 < r.worst("steps") < 1e-5
    assert 1e-9 < r.worst("gradients") < 1e-4
    r64 = reports(model, x, h0, trace)
    assert r.worst() > 1e3 * r64.worst()  # float32's round-off is orders of magnitude above float64's


# --------------------------------------------------------------------------------------- it can fail


@pytest.mark.parametrize("name", ["gru", "lstm", "mingru", "minlstm", "rnn-relu-2-layer", "gru-cell"])
def test_a_perturbed_model_is_reported_as_a_mismatch(name):
    spec = SPECS[name]
    model, x, h0, _ = run_case(spec)
    wrong = parity.nudge(model, 1e-9)
    cot = parity.cotangents(wrong.run(x, h0))
    theirs, how = bridge.torch_side(model, x, h0, (), cot)
    r = parity.compare(parity.our_side(wrong, wrong.run(x, h0), cot), theirs, "float64", how)
    assert not r.passed
    bad = {row.key for row in r.failures()}
    assert "output" in bad and any(k.startswith("steps/") for k in bad)
    assert all(row.diff < 1e-6 for row in r.rows)  # a tiny error, still caught
    summary = parity.summarise(r)
    assert not summary.passed and summary.worst > 1e-12
    label, color, _ = parity_ui.badge_text(summary)
    assert color == "red" and label.startswith("Differs from PyTorch")


def test_the_wrong_gru_variant_fails_by_far():
    model, x, h0, _ = run_case(Spec("gru", 3, 4, variant="z-takes"))
    as_torch_variant = Model(model.spec.with_(variant="torch"), model.params)
    r = parity_ui.compute_report(as_torch_variant, x, h0, ours_model=model)
    assert not r.passed and r.worst("forward") > 1e-2


def test_missing_quantity_fails():
    model, x, h0, trace = run_case(SPECS["gru"])
    cot = parity.cotangents(trace)
    ours = parity.our_side(model, trace, cot)
    theirs, how = bridge.torch_side(model, x, h0, (), cot)
    theirs.pop(parity.step_key(0, 0, "z"))
    r = parity.compare(ours, theirs, "float64", how)
    assert not r.passed and r.missing == [parity.step_key(0, 0, "z")]


def test_nan_on_the_torch_side_fails():
    r = parity.compare({"output": np.zeros(3)}, {"output": np.array([0.0, np.nan, 0.0])}, "float64", "test")
    assert not r.passed and np.isnan(r.rows[0].diff)
    assert parity.fmt(r.rows[0].diff) == "NaN" and parity.fmt(0.0) == "0" and parity.fmt(1.23e-15) == "1.2e-15"


# ---------------------------------------------------------------------------------------- scene, cache


def scene_of(**changes) -> state.Scene:
    return state.build_scene(state.Config(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"cell": "lstm", "h0": "random", "clamp": "f:1"},
        {"cell": "mingru", "source": "typed", "seq": "1 0; 0 1; 1 1", "scale": 2.5},
        {"cell": "minlstm", "h0": "random", "clamp": "f:1,i:0", "scale": 2.5},
        {"cell": "gru", "variant": "after-takes", "clamp": "r:0,z:1"},
        {"weights": "preset:latch", "source": "typed", "seq": "0, 1, 0, 0"},
    ],
    ids=["default", "lstm-h0-clamp", "mingru-typed", "minlstm-h0-clamps", "gru-after-takes-clamps", "preset"],
)
def test_scene_report_uses_the_displayed_run(changes):
    sc = scene_of(**changes)
    summary = parity_ui.live_summary(sc)
    assert summary.passed, parity_ui.scene_report(sc).failures()
    assert summary.worst_forward <= 1e-12 and summary.worst_gradient <= 1e-10


def test_reports_are_cached_by_content(monkeypatch):
    parity_ui.clear_caches()
    calls = []
    real = bridge.torch_side
    monkeypatch.setattr(bridge, "torch_side", lambda *a, **k: calls.append(1) or real(*a, **k))
    sc = scene_of(cell="gru", seed=3)
    first = parity_ui.scene_report(sc)
    again = parity_ui.scene_report(state.build_scene(state.Config(cell="gru", seed=3, t=5, unit=2)))
    assert len(calls) == 1 and first.rows == again.rows  # the cursor does not change the run: cache hit
    parity_ui.scene_report(scene_of(cell="gru", seed=4))
    assert len(calls) == 2  # other weights: computed again
    model, x, h0, abl = parity_ui.run_of(sc)
    key = parity_ui.content_key(model, x, h0, abl)
    assert key == parity_ui.content_key(random_model(model.spec, 3), x.copy(), h0, abl)
    assert key != parity_ui.content_key(parity.nudge(model, 1e-15), x, h0, abl)
    assert key != parity_ui.content_key(model, x, h0, (Ablation("z", 1.0),))


def test_default_badge_is_cheap():
    import time

    parity_ui.clear_caches()
    sc = scene_of()
    t0 = time.process_time()  # CPU time: what the badge costs, not how busy the machine is
    parity_ui.live_summary(sc)
    cold = time.process_time() - t0
    t0 = time.process_time()
    parity_ui.live_summary(sc)
    warm = time.process_time() - t0
    assert cold < 3.0 and warm < 0.1, (cold, warm)


# ------------------------------------------------------------------------------------------ no torch


def _badge_app():
    import streamlit as st

    from gru_viz.app import parity as parity_ui
    from gru_viz.serve import state

    parity_ui.parity_badge(state.build_scene(state.Config(seed=11)))
    st.write("the page goes on")


@pytest.fixture
def no_torch(monkeypatch):
    """`import torch` (and so gru_viz.io.bridge) raises ImportError, as on a machine without torch."""
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "gru_viz.io.bridge", None)
    parity_ui.clear_caches()
    yield
    parity_ui.clear_caches()


def test_badge_without_torch_says_so_and_the_page_goes_on(no_torch):
    with pytest.raises(parity_ui.TorchMissing, match="PyTorch is not installed"):
        parity_ui.live_summary(scene_of(seed=11))
    at = Page.from_function(_badge_app, default_timeout=60).run()  # no exception, no error box
    texts = [m.value for m in at.markdown]
    assert any("PyTorch not installed" in t and "gray-badge" in t for t in texts), texts
    assert "the page goes on" in texts


def test_badge_with_torch_is_green():
    parity_ui.clear_caches()
    at = Page.from_function(_badge_app, default_timeout=60).run()
    badge = [m.value for m in at.markdown if "badge[" in m.value]
    assert len(badge) == 1 and badge[0].startswith(":green-badge[") and "Matches PyTorch" in badge[0]


def test_badge_survives_a_failing_comparison(monkeypatch):
    parity_ui.clear_caches()
    monkeypatch.setattr(bridge, "torch_side", lambda *a, **k: 1 / 0)
    at = Page.from_function(_badge_app, default_timeout=60).run()
    assert any("orange-badge" in m.value and "unavailable" in m.value for m in at.markdown)
    parity_ui.clear_caches()


# ------------------------------------------------------------------------------------------ the page


def matches_page(**query: str) -> AppTest:
    """The page on a session's first run: every run fails on an exception or an error box (apptest_support)."""
    return open_page("pages/matches.py", query, timeout=60)


def test_matches_page_shows_every_group_and_the_torch_code():
    at = matches_page(cell="lstm", h0="random")
    assert at.success[0].value.startswith("**Matches PyTorch in float64**")
    assert len(at.dataframe) == 3 and [m.label for m in at.metric] == [
        "Outputs, final states · float64", "Every gate, every step · float64", "Gradients · float64"
    ]
    steps = at.dataframe[1].value
    assert {"layer 0 · i", "layer 0 · c", "layer 0 · h"} <= set(steps["quantity"])
    assert (steps["float64 max |Δ|"] <= 1e-12).all() and (steps["float32 max |Δ|"] > 0).any()
    code = [c.value for c in at.code]
    assert any("def torch_side(" in c and "def lstm_step(" in c for c in code)  # the code that ran
    assert any("torch.nn.LSTM(" in c for c in code)  # and a standalone snippet
    assert any("torch.nn.LSTM" in m.value for m in at.markdown)


def test_matches_page_non_torch_variant_with_clamps_and_the_nudge():
    at = matches_page(cell="gru", variant="z-takes", clamp="z:1")
    assert at.success
    assert any("step by step" in m.value for m in at.markdown)
    at.toggle(key="matches_nudge").set_value(True).run()
    assert any("the check **fails**" in m.value for m in at.markdown)


def test_matches_page_without_torch(no_torch):
    at = matches_page()
    assert any("PyTorch is not installed" in w.value for w in at.warning)
    assert any("gray-badge" in m.value for m in at.markdown)
