"""The comparison core: parameter counts, costs, spectral radii, memory experiments, and z ↔ 1 − z."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch_reference as ref

from gru_viz.app.compare import build_lineup
from gru_viz.core.compare import (
    array_params,
    block_radii,
    build_models,
    flip_gap,
    flip_z,
    formula_params,
    formula_text,
    impulse_response,
    influence_steps,
    keep_biased,
    live_blocks,
    macs_per_step,
    partner_variant,
    recurrent_blocks,
    remember_first,
    spectral_radius,
    state_size,
    summary,
    timed_run,
)
from gru_viz.core.kinds import KINDS, WITH_W_HH
from gru_viz.core.model import Model
from gru_viz.core.spec import GRU_VARIANTS, Spec, count_params
from gru_viz.serve.state import Config

TORCH_MODULES = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}


# ------------------------------------------------------------------------------------------------ costs


@pytest.mark.parametrize("kind", list(TORCH_MODULES))
@pytest.mark.parametrize(("I", "H"), [(1, 1), (1, 16), (3, 4), (7, 64)])
def test_parameter_counts_by_formula_arrays_and_torch(kind, I, H):
    module = TORCH_MODULES[kind](I, H)
    torch_count = sum(p.numel() for p in module.parameters())
    model = build_models((kind,), I, H, seed=1)[kind]
    assert formula_params(kind, I, H) == array_params(model) == torch_count == count_params(model.spec)
    assert formula_text(kind, I, H).endswith(f"= {torch_count:,}")


def test_textbook_formulas():
    I, H = 3, 5
    assert formula_params("rnn", I, H) == H * (I + H) + 2 * H
    assert formula_params("gru", I, H) == 3 * (H * (I + H) + 2 * H)
    assert formula_params("lstm", I, H) == 4 * (H * (I + H) + 2 * H)
    assert formula_params("mingru", I, H) == 2 * (H * I + H)
    assert formula_params("minlstm", I, H) == 3 * (H * I + H)
    assert 4 * formula_params("gru", I, H) == 3 * formula_params("lstm", I, H)  # a GRU is 3/4 of an LSTM
    for kind, model in build_models(KINDS, I, H).items():
        assert array_params(model) == formula_params(kind, I, H)


def test_costs_gates_and_state():
    assert macs_per_step("gru", 2, 8) == 3 * 8 * 10
    assert macs_per_step("lstm", 2, 8) == 4 * 8 * 10
    assert macs_per_step("rnn", 2, 8) == 8 * 10
    assert macs_per_step("mingru", 2, 8) == 2 * 8 * 2
    assert macs_per_step("minlstm", 2, 8) == 3 * 8 * 2
    assert state_size("lstm", 8) == 16 and state_size("gru", 8) == 8
    models = build_models(KINDS, 2, 6)
    assert {k: live_blocks(m) for k, m in models.items()} == {
        "gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o"), "rnn": ("h",), "mingru": ("z", "n"),
        "minlstm": ("f", "i", "n")}


def test_summary_table_reads_the_live_models():
    lineup = build_lineup(Config(hidden=4, steps=12, scale=1.5))
    table = summary(lineup.models, lineup.seconds, 1.5)
    for name in ("GRU", "LSTM", "vanilla RNN", "minGRU"):
        formula = table["Parameters (formula)"][name].rsplit("= ", 1)[1]
        assert formula == table["Parameters (counted from the arrays)"][name]
    assert table["Gates (σ, in 0…1)"]["GRU"] == "2 (r, z)"
    assert table["State carried between steps"]["LSTM"] == "h and c (8 numbers)"
    assert "no W_hh" in table["Spectral radius ρ of W_h· (× 1.5)"]["minGRU"]
    assert table["Time per step (our NumPy core)"]["GRU"].endswith(("µs", "ms"))


def test_lineup_runs_the_same_input_through_every_cell():
    cfg = Config(hidden=3, gen="noise", steps=15, seed=4, variant="z-takes", h0="random", clamp="z:1", t=5)
    lineup = build_lineup(cfg)
    assert lineup.kinds == KINDS
    assert lineup.models["gru"].spec.variant == "z-takes"
    for k in KINDS:
        model = lineup.models[k]
        assert model.spec.hidden_size == 3
        assert not lineup.traces[k].ablations  # clamps are off on the compare pages
        np.testing.assert_array_equal(lineup.layer(k).x[:, 0], lineup.seq.values)
    # each cell has its own init from the seed: the same seed gives the same weights again
    again = build_lineup(replace(cfg, t=9), timing=False)
    for k in KINDS:
        for key, arr in lineup.models[k].params.items():
            np.testing.assert_array_equal(arr, again.models[k].params[key])


def test_timed_run_returns_the_run():
    model = build_models(("gru",), 1, 4)["gru"]
    x = np.random.default_rng(0).normal(size=(20, 1))
    trace, _seconds = timed_run(model, x)  # the time is display only: not asserted
    np.testing.assert_array_equal(trace.output, model.run(x).output)


# ---------------------------------------------------------------------------------------------- spectra


def test_spectral_radius_by_hand():
    rot = np.array([[0.0, -2.0], [2.0, 0.0]])  # eigenvalues ±2i
    assert spectral_radius(rot) == pytest.approx(2.0, abs=1e-14)
    assert spectral_radius(np.diag([0.5, -0.9, 0.1])) == pytest.approx(0.9, abs=1e-15)
    m = np.random.default_rng(1).normal(size=(6, 6))
    assert spectral_radius(m) == pytest.approx(max(abs(e) for e in np.linalg.eigvals(m)), abs=1e-14)


@pytest.mark.parametrize("kind", WITH_W_HH)
def test_radii_of_the_scaled_blocks(kind):
    one = build_models((kind,), 2, 5, seed=2)[kind]
    scaled = build_models((kind,), 2, 5, seed=2, scale=2.5)[kind]
    w = one.params["weight_hh_l0"]
    for k, (gate, block) in enumerate(recurrent_blocks(scaled).items()):
        np.testing.assert_array_equal(block, 2.5 * w[k * 5 : (k + 1) * 5])
        by_hand = np.abs(np.linalg.eigvals(2.5 * w[k * 5 : (k + 1) * 5])).max()
        assert block_radii(scaled)[gate] == pytest.approx(by_hand, rel=1e-12)
        assert block_radii(scaled)[gate] == pytest.approx(2.5 * block_radii(one)[gate], rel=1e-12)
    assert block_radii(build_models(("mingru",), 2, 5)["mingru"]) == {}


# ----------------------------------------------------------------------------------------------- memory


def test_impulse_response_of_a_one_unit_rnn_by_hand():
    spec = Spec("rnn", 1, 1)
    model = Model(spec, {"weight_ih_l0": np.array([[1.0]]), "weight_hh_l0": np.array([[0.5]]),
                         "bias_ih_l0": np.zeros(1), "bias_hh_l0": np.zeros(1)})
    resp = impulse_response(model, steps=6, at=2)
    h = [0.0, 0.0, np.tanh(1.0)]
    for _ in range(3):
        h.append(np.tanh(0.5 * h[-1]))
    np.testing.assert_allclose(resp.distance, np.abs(h), rtol=0, atol=1e-15)
    assert influence_steps(resp, floor=0.2) == 1  # tanh(1) ≈ 0.76, then 0.36, then 0.18


def test_without_recurrent_weights_an_rnn_forgets_after_one_step_but_a_gru_keeps():
    models = build_models(("rnn", "gru"), 1, 4, seed=3, scale=0.0)
    rnn = impulse_response(models["rnn"], steps=10, at=3)
    assert rnn.distance[3] > 0.1 and not rnn.distance[4:].any() and not rnn.distance[:3].any()
    assert influence_steps(rnn) == 0
    gru = impulse_response(models["gru"], steps=10, at=3)
    assert (gru.distance[4:] > 1e-3).all()  # the direct path diag(z) carries the spike on
    assert influence_steps(gru) == 6


@pytest.mark.parametrize("kind", list(TORCH_MODULES))
def test_impulse_response_against_torch(kind):
    spec = Spec(kind, 2, 6)
    module = ref.torch_module(spec, seed=8)
    model = Model(spec, ref.numpy_params(module))
    steps, at = 30, 4
    resp = impulse_response(model, steps, at, height=1.5)
    base = torch.zeros(steps, 1, 2, dtype=torch.float64)
    spiked = base.clone()
    spiked[at] = 1.5
    with torch.no_grad():
        out_a = ref.run_module(spec, module, spiked)[0][:, 0]
        out_b = ref.run_module(spec, module, base)[0][:, 0]
    np.testing.assert_allclose(resp.distance, (out_a - out_b).norm(dim=-1).numpy(), rtol=0, atol=1e-12)
    assert resp.distance[at] > 0.01


def test_impulse_response_of_mingru_against_the_reference():
    spec = Spec("mingru", 1, 3)
    params = ref.random_params(spec, 4)
    resp = impulse_response(Model(spec, params), 12, 0)
    P = ref.to_torch(params)
    x = torch.zeros(12, 1, 1, dtype=torch.float64)
    base = ref.mingru_sequence(x, torch.zeros(1, 3, dtype=torch.float64), P["weight_ih_l0"], P["bias_ih_l0"])
    x[0] = 1.0
    spiked = ref.mingru_sequence(x, torch.zeros(1, 3, dtype=torch.float64), P["weight_ih_l0"], P["bias_ih_l0"])
    np.testing.assert_allclose(resp.distance, (spiked - base)[:, 0].norm(dim=-1).numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_remember_first_is_the_final_state_distance_at_every_length(kind):
    model = build_models((kind,), 2, 4, seed=6)[kind]
    resp = remember_first(model, 25, seed=9)
    rest = np.random.default_rng(9).standard_normal((25, 2))
    for length in (1, 2, 10, 25):
        a, b = rest[:length].copy(), rest[:length].copy()
        a[0], b[0] = 1.0, -1.0
        gap = np.linalg.norm(model.run(a).h_n[0] - model.run(b).h_n[0])
        assert resp.distance[length - 1] == pytest.approx(gap, abs=1e-14)


def test_experiment_limits():
    model = build_models(("gru",), 1, 2)["gru"]
    with pytest.raises(ValueError, match="spike step"):
        impulse_response(model, 5, 5)
    with pytest.raises(ValueError, match="experiment runs"):
        remember_first(model, 0)


# --------------------------------------------------------------------------------------------- z ↔ 1 − z


def test_partner_variants():
    assert partner_variant("torch") == "after-takes" and partner_variant("after-takes") == "torch"
    assert partner_variant("reset-before") == "z-takes" and partner_variant("z-takes") == "reset-before"


@pytest.mark.parametrize("variant", list(GRU_VARIANTS))
def test_negated_z_weights_in_the_partner_variant_give_the_same_h(variant):
    spec = Spec("gru", 3, 5, variant=variant)
    model = Model(spec, ref.random_params(spec, 12, scale=2.0))
    x, h0 = ref.make_inputs(spec, 13, T=20, B=1, batched=False)
    assert flip_gap(model, x, h0) < 1e-14
    partner = flip_z(model)
    assert partner.spec.variant == partner_variant(variant)
    np.testing.assert_array_equal(partner.params["weight_hh_l0"][5:10], -model.params["weight_hh_l0"][5:10])
    np.testing.assert_array_equal(partner.params["weight_hh_l0"][:5], model.params["weight_hh_l0"][:5])
    # the z gates are complements; r and n are untouched
    mine, theirs = model.run(x, h0).layer(0).gates, partner.run(x, h0).layer(0).gates
    np.testing.assert_allclose(mine["z"], 1 - theirs["z"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(mine["r"], theirs["r"], rtol=0, atol=1e-15)
    # the same equivalence holds for the independent torch reference
    P = ref.to_torch(partner.params)
    h_ref = ref.run(partner.spec, P, torch.tensor(x), torch.tensor(h0))[0].numpy()
    np.testing.assert_allclose(h_ref, model.run(x, h0).output, rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match="only a GRU"):
        flip_z(build_models(("lstm",), 1, 2)["lstm"])


@pytest.mark.parametrize(("kind", "variant", "gate", "keep_value"), [
    ("gru", "torch", "z", 1.0), ("gru", "z-takes", "z", 0.0), ("gru", "after-takes", "z", 0.0),
    ("lstm", "torch", "f", 1.0), ("mingru", "torch", "z", 0.0)])
def test_keep_bias_opens_the_additive_path(kind, variant, gate, keep_value):
    plain = build_models((kind,), 2, 3, variant=variant, seed=5)[kind]
    assert keep_biased(plain, 0.0) is plain
    biased = build_models((kind,), 2, 3, variant=variant, seed=5, keep_bias=40.0)[kind]
    x = np.random.default_rng(2).normal(size=(10, 2))
    np.testing.assert_allclose(biased.run(x).layer(0).gates[gate], keep_value, atol=1e-12)
    changed = [k for k in plain.params if not np.array_equal(plain.params[k], biased.params[k])]
    assert changed == ["bias_ih_l0"]
    rnn = build_models(("rnn",), 2, 3, seed=5)["rnn"]
    assert keep_biased(rnn, 3.0) is rnn
