"""The core's BPTT (grad.backward), gradient-flow norms and the doc's step Jacobian, against torch autograd.

Loss = Σ G ⊙ output + Σ Gh ⊙ h_n (+ Σ Gc ⊙ c_n) with random cotangents; torch differentiates torch.nn
modules where they exist, tests/torch_reference.py (proven against torch.nn in test_core_forward.py) for the
other GRU variants, minGRU, minLSTM (autograd through the paper's plain f / (f + i)) and every run with clamped
gates.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch_reference as ref
from hypothesis import given, settings
from torch.autograd.functional import jacobian

from gru_viz.core import grad as grad_module
from gru_viz.core.grad import backward, gradient_flow
from gru_viz.core.kinds import KIND, KINDS
from gru_viz.core.model import Model, ModelInputError
from gru_viz.core.spec import Spec
from gru_viz.core.trace import Ablation

ATOL = 1e-10
VARIANTS = list(ref.VARIANTS)
LAYOUTS = ["time-major", "batch-first", "unbatched"]
SCAN_KINDS = [k for k in KINDS if not KIND[k].recurrent]  # minGRU, minLSTM: no W_hh, no torch.nn module
KIND_CONFIGS = {
    "gru": dict(kind="gru"),
    "lstm": dict(kind="lstm"),
    "lstm-proj": dict(kind="lstm", proj_size=2),
    "rnn-tanh": dict(kind="rnn"),
    "rnn-relu": dict(kind="rnn", nonlinearity="relu"),
}


def zeros_state(spec, x, size):
    """The zero initial state torch uses when none is given, shaped as the module takes it."""
    LD = spec.num_layers * spec.directions
    batched = x.ndim == 3
    B = (x.shape[0] if spec.batch_first else x.shape[1]) if batched else None
    if spec.cell:
        return np.zeros((B, size) if batched else (size,))
    return np.zeros((LD, B, size) if batched else (LD, size))


def check_grads(spec, params, x, h0, ablations=(), mod=None, seed=0, cotangents=("out", "h", "c"), atol=ATOL):
    """Our backward vs torch autograd: params, x, h0 (and c0). Returns the largest difference seen."""
    model = Model(spec, params)
    trace = model.run(x, h0, ablations)
    rng = np.random.default_rng(seed)
    G = rng.normal(size=trace.output.shape) if "out" in cotangents else None
    Gh = rng.normal(size=trace.h_n.shape) if "h" in cotangents else None
    Gc = rng.normal(size=trace.c_n.shape) if "c" in cotangents and trace.c_n is not None else None
    ours = backward(model, trace, G, Gh, Gc)

    # torch: the same run with every input a leaf (zeros where we were given no initial state)
    H_out = spec.proj_size or spec.hidden_size
    if ref.has_cell_state(spec.kind):
        h0_np = h0 if h0 is not None else (zeros_state(spec, x, H_out), zeros_state(spec, x, spec.hidden_size))
    else:
        h0_np = h0 if h0 is not None else zeros_state(spec, x, H_out)
    xt, h0t = ref.as_torch(x, True), ref.as_torch(h0_np, True)
    if mod is not None:
        tparams = dict(mod.named_parameters())
        out, h_n, c_n = ref.run_module(spec, mod, xt, h0t)
    else:
        tparams = ref.to_torch(params, requires_grad=True)
        out, h_n, c_n = ref.run(spec, tparams, xt, h0t, ablations)
    loss = torch.zeros((), dtype=torch.float64)
    for y, g in ((out, G), (h_n, Gh), (c_n, Gc)):
        if g is not None:
            loss = loss + (y * torch.tensor(g)).sum()
    states = list(h0t) if isinstance(h0t, tuple) else [h0t]
    leaves = [*tparams.values(), xt, *states]
    grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    theirs = {name: g for name, g in zip(tparams, grads, strict=False)}
    theirs_x, theirs_states = grads[len(tparams)], grads[len(tparams) + 1 :]

    def zero_if_none(g, like):
        return torch.zeros_like(like) if g is None else g

    worst = 0.0
    assert set(ours.params) == set(theirs)
    pairs = [(ours.params[k], zero_if_none(theirs[k], tparams[k]), k) for k in theirs]
    pairs.append((ours.x, zero_if_none(theirs_x, xt), "x"))
    pairs.append((ours.h0, zero_if_none(theirs_states[0], states[0]), "h0"))
    if ref.has_cell_state(spec.kind):
        pairs.append((ours.c0, zero_if_none(theirs_states[1], states[1]), "c0"))
    else:
        assert ours.c0 is None
    for mine, other, name in pairs:
        other = other.detach().numpy()
        assert mine.shape == other.shape, name
        np.testing.assert_allclose(mine, other, rtol=0, atol=atol, err_msg=name)
        worst = max(worst, float(np.abs(mine - other).max(initial=0.0)))
    return ours, worst


# ------------------------------------------------------------------------------------------- torch.nn


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (1, True), (2, True), (3, False)])
@pytest.mark.parametrize("cfg", list(KIND_CONFIGS))
def test_backward_matches_torch_nn(cfg, num_layers, bidirectional, layout, with_h0, bias):
    kw = dict(KIND_CONFIGS[cfg])
    kind = kw.pop("kind")
    spec = Spec(
        kind,
        3,
        4,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=layout == "batch-first",
        bias=bias,
        **kw,
    )
    mod = ref.torch_module(spec, num_layers)
    x, h0 = ref.make_inputs(spec, 5, T=5, B=2, batched=layout != "unbatched", with_h0=with_h0)
    check_grads(spec, ref.numpy_params(mod), x, h0, mod=mod, seed=num_layers)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("cfg", ["gru", "lstm", "rnn-tanh", "rnn-relu"])
def test_backward_cell_modules(cfg, batched, with_h0, bias):
    kw = dict(KIND_CONFIGS[cfg])
    spec = Spec(kw.pop("kind"), 3, 4, cell=True, bias=bias, **kw)
    mod = ref.torch_module(spec, 2)
    x, h0 = ref.make_inputs(spec, 3, T=5, B=3, batched=batched, with_h0=with_h0)
    check_grads(spec, ref.numpy_params(mod), x, h0, mod=mod)


@pytest.mark.parametrize("cotangents", [("out",), ("h",), ("c",), ("h", "c")])
def test_backward_partial_cotangents(cotangents):
    """Only some of output, h_n, c_n in the loss (the others None)."""
    spec = Spec("lstm", 3, 4, num_layers=2, bidirectional=True)
    mod = ref.torch_module(spec, 1)
    x, h0 = ref.make_inputs(spec, 2, T=4, B=2)
    check_grads(spec, ref.numpy_params(mod), x, h0, mod=mod, cotangents=cotangents)


# -------------------------------------------------------------------- variants, minGRU and minLSTM


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, True)])
@pytest.mark.parametrize("variant", [*VARIANTS, *SCAN_KINDS])
def test_backward_variants_and_scan_kinds(variant, num_layers, bidirectional, layout, with_h0, bias):
    kind, kw = (variant, {}) if variant in SCAN_KINDS else ("gru", {"variant": variant})
    spec = Spec(
        kind,
        3,
        4,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=layout == "batch-first",
        bias=bias,
        **kw,
    )
    params = ref.random_params(spec, num_layers)
    x, h0 = ref.make_inputs(spec, 6, T=5, B=2, batched=layout != "unbatched", with_h0=with_h0)
    check_grads(spec, params, x, h0)


@pytest.mark.parametrize("kind", SCAN_KINDS)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_backward_scan_kind_cells(kind, batched):
    spec = Spec(kind, 3, 4, cell=True)
    x, h0 = ref.make_inputs(spec, 1, T=5, B=2, batched=batched)
    check_grads(spec, ref.random_params(spec, 0), x, h0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_backward_gru_variant_cells(variant):
    spec = Spec("gru", 3, 4, cell=True, variant=variant)
    x, h0 = ref.make_inputs(spec, 1, T=5, B=2)
    check_grads(spec, ref.random_params(spec, 0), x, h0)


# ------------------------------------------------------------------------------------------- ablations


GRU_ABLATIONS = {
    "z-all": [Ablation("z", 0.3)],
    "z-range-vector": [Ablation("z", (0.0, 1.0, 0.5, 0.9), 1, 4)],
    "r-zero": [Ablation("r", 0.0, 2)],
    "r-and-z": [Ablation("r", 1.0, 0, 3), Ablation("z", 1.0, 2, 5)],
    "layer-direction": [Ablation("z", 0.2, 1, 3, layer=1, direction=1), Ablation("r", 0.6, layer=0, direction=0)],
}


@pytest.mark.parametrize("case", list(GRU_ABLATIONS))
@pytest.mark.parametrize("variant", VARIANTS)
def test_backward_gru_with_ablations(variant, case):
    spec = Spec("gru", 3, 4, num_layers=2, bidirectional=True, variant=variant)
    x, h0 = ref.make_inputs(spec, 2, T=6, B=2)
    check_grads(spec, ref.random_params(spec, 1), x, h0, GRU_ABLATIONS[case])


LSTM_ABLATIONS = {
    "f-zero": [Ablation("f", 0.0)],
    "i-zero-range": [Ablation("i", 0.0, 1, 4)],
    "o-vector": [Ablation("o", (0.0, 1.0, 0.25, 0.5), 2, 5)],
    "all-three": [Ablation("i", 0.7, 0, 2), Ablation("f", 1.0, 1, 5, layer=0), Ablation("o", 0.1, direction=1)],
}


@pytest.mark.parametrize("case", list(LSTM_ABLATIONS))
@pytest.mark.parametrize("proj_size", [0, 2])
def test_backward_lstm_with_ablations(proj_size, case):
    spec = Spec("lstm", 3, 4, num_layers=2, bidirectional=True, proj_size=proj_size)
    x, h0 = ref.make_inputs(spec, 3, T=6, B=2)
    check_grads(spec, ref.random_params(spec, 2), x, h0, LSTM_ABLATIONS[case])


SCAN_ABLATIONS = {
    "mingru-z0": [Ablation("z", 0.0)],
    "mingru-z1-range": [Ablation("z", 1.0, 2, 4)],
    "mingru-vector-reverse": [Ablation("z", (0.1, 0.9, 0.0, 1.0), 1, direction=1)],
    "minlstm-keep": [Ablation("f", 1.0, 1, 4), Ablation("i", 0.0, 1, 4)],  # f′ = 1, i′ = 0: h kept
    "minlstm-f0": [Ablation("f", 0.0)],  # f′ = 0, i′ = 1: h = n
    "minlstm-i0-range": [Ablation("i", 0.0, 2, 5)],
    "minlstm-vectors-reverse": [Ablation("f", (0.1, 0.9, 0.0, 1.0), 1, direction=1),
                                Ablation("i", (0.5, 0.0, 1.0, 0.3), 0, 4, layer=1)],
}


@pytest.mark.parametrize("case", list(SCAN_ABLATIONS))
def test_backward_scan_kinds_with_ablations(case):
    spec = Spec(case.split("-")[0], 3, 4, num_layers=2, bidirectional=True)
    x, h0 = ref.make_inputs(spec, 4, T=6, B=2)
    check_grads(spec, ref.random_params(spec, 3), x, h0, SCAN_ABLATIONS[case])


def test_scan_ablations_cover_every_scan_kind():
    assert {case.split("-")[0] for case in SCAN_ABLATIONS} == set(SCAN_KINDS)


@pytest.mark.parametrize(("kind", "gate"), [(k, g) for k in KINDS for g in KIND[k].clampable])
def test_clamped_gate_passes_no_gradient_to_its_pre_activation(kind, gate):
    """Clamped everywhere, a gate's own weights and biases get exactly zero gradient (torch agrees)."""
    spec = Spec(kind, 3, 4, num_layers=2, bidirectional=True)
    j = KIND[kind].blocks.index(gate)
    rows = slice(4 * j, 4 * (j + 1))
    x, h0 = ref.make_inputs(spec, 5, T=5, B=2)
    ours, _ = check_grads(spec, ref.random_params(spec, 4), x, h0, [Ablation(gate, 0.5)])
    for key, g in ours.params.items():
        np.testing.assert_array_equal(g[rows], 0.0, err_msg=key)
        assert np.abs(np.delete(g, np.arange(g.shape[0])[rows], axis=0)).max() > 1e-8, key


# ------------------------------------------------------------------------------------------- hypothesis


@settings(max_examples=40, deadline=None)
@given(ref.configs(max_steps=8))
def test_property_backward_matches_torch(config):
    spec, run_kw, seed, ablations = config
    x, h0 = ref.make_inputs(spec, seed, **run_kw)
    if ref.is_torch_native(spec) and not ablations:
        mod = ref.torch_module(spec, seed)
        check_grads(spec, ref.numpy_params(mod), x, h0, mod=mod, seed=seed)
    else:
        check_grads(spec, ref.random_params(spec, seed), x, h0, ablations, seed=seed)


def test_backward_cotangent_shape_errors():
    spec = Spec("gru", 3, 4, num_layers=2)
    model = Model(spec, ref.random_params(spec, 0))
    x, _ = ref.make_inputs(spec, 0, T=5, B=2)
    trace = model.run(x)
    with pytest.raises(ModelInputError, match=r"d_output must have the output's shape \(5, 2, 4\)"):
        backward(model, trace, np.zeros((5, 4)))
    with pytest.raises(ModelInputError, match=r"d_h_n must have shape \(2, 2, 4\)"):
        backward(model, trace, None, np.zeros((1, 2, 4)))


# ----------------------------------------------------------------------------------------- gradient flow


def torch_flow(spec, params, x, h0, ablations, layer, direction):
    """‖∂h_T/∂x_t‖ and ‖∂h_T/∂h_t‖ (h_T = output[T − 1], all directions) from full torch Jacobians; ∂/∂h_t is
    taken w.r.t. a perturbation added to that layer's state right after step t."""
    P = ref.to_torch(params)
    xt, h0t = ref.as_torch(x), ref.as_torch(h0)
    T = x.shape[0]
    H_out = spec.proj_size or spec.hidden_size
    Jx = jacobian(lambda xv: ref.run(spec, P, xv, h0t, ablations)[0][-1], xt)  # (D·H_out, T, I)
    key = (layer % spec.num_layers, direction)
    Jh = jacobian(
        lambda delta: ref.run(spec, P, xt, h0t, ablations, perturb={key: delta})[0][-1],
        torch.zeros(T, 1, H_out, dtype=torch.float64),
    )  # (D·H_out, T, 1, H_out)
    return _scaled_norm(Jh, (0, 2, 3)), _scaled_norm(Jx, (0, 2))


def _scaled_norm(J: torch.Tensor, dims: tuple[int, ...]) -> np.ndarray:
    """Frobenius norms over ``dims``, scaled by the largest entry first so that entries up to 1e308 do not
    overflow when squared (torch's own autograd entries, exactly as computed)."""
    J = J.movedim(1, 0).reshape(J.shape[1], -1)  # time first
    peak = J.abs().amax(dim=1, keepdim=True)
    safe = torch.where((peak > 0) & torch.isfinite(peak), peak, torch.ones_like(peak))
    return (safe[:, 0] * (J / safe).pow(2).sum(dim=1).sqrt()).numpy()


FLOW_CONFIGS = {
    **{f"gru-{v}": dict(kind="gru", variant=v) for v in VARIANTS},
    "lstm": dict(kind="lstm"),
    "lstm-proj": dict(kind="lstm", proj_size=2),
    "rnn-tanh": dict(kind="rnn"),
    "rnn-relu": dict(kind="rnn", nonlinearity="relu"),
    **{k: dict(kind=k) for k in SCAN_KINDS},
}


@pytest.mark.parametrize(("layer", "direction"), [(-1, 0), (0, 0), (0, 1), (1, 1)])
@pytest.mark.parametrize("cfg", list(FLOW_CONFIGS))
def test_gradient_flow_matches_torch_jacobians(cfg, layer, direction):
    spec = Spec(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, **FLOW_CONFIGS[cfg])
    params = ref.random_params(spec, 7, scale=2.0)  # larger weights: norms vary over orders of magnitude
    x, h0 = ref.make_inputs(spec, 8, T=8, B=1, batched=False)
    flow = gradient_flow(Model(spec, params), x, h0, layer=layer, direction=direction)
    dh, dx = torch_flow(spec, params, x, h0, (), layer, direction)
    assert flow.dh.shape == flow.dx.shape == (8,)
    np.testing.assert_allclose(flow.dh, dh, rtol=0, atol=ATOL)
    np.testing.assert_allclose(flow.dx, dx, rtol=0, atol=ATOL)
    assert dx.max() > 1e-3


@pytest.mark.parametrize("chunk", [1, 3, 128])
@pytest.mark.parametrize("layer", [0, -1])
@pytest.mark.parametrize("cfg", list(FLOW_CONFIGS))
def test_gradient_flow_in_chunks_matches_torch(cfg, layer, chunk, monkeypatch):
    """Forward-only models take the chunked backward: chunk borders (every step, mid-run, none) carry
    ∂h_T/∂(h, c) exactly, through a two-layer stack too."""
    monkeypatch.setattr(grad_module, "FLOW_CHUNK", chunk)
    spec = Spec(input_size=3, hidden_size=4, num_layers=2, **FLOW_CONFIGS[cfg])
    params = ref.random_params(spec, 11, scale=2.0)
    x, h0 = ref.make_inputs(spec, 12, T=10, B=1, batched=False)
    flow = gradient_flow(Model(spec, params), x, h0, layer=layer)
    dh, dx = torch_flow(spec, params, x, h0, (), layer, 0)
    np.testing.assert_allclose(flow.dh, dh, rtol=0, atol=ATOL)
    np.testing.assert_allclose(flow.dx, dx, rtol=0, atol=ATOL)
    assert dx.max() > 1e-3


def test_gradient_flow_chunks_agree_with_one_pass_over_a_long_run(monkeypatch):
    """300 steps in three chunks of 128 against one chunk of all 300 (a single backward pass)."""
    spec = Spec("lstm", 2, 6)
    model = Model(spec, ref.random_params(spec, 3))
    x = np.random.default_rng(4).normal(size=(300, 2))
    chunked = gradient_flow(model, x)
    monkeypatch.setattr(grad_module, "FLOW_CHUNK", 300)
    whole = gradient_flow(model, x)
    assert chunked.dh[0] > 0  # still a signal 300 steps back, so the comparison means something
    np.testing.assert_allclose(chunked.dh, whole.dh, rtol=1e-12, atol=0)
    np.testing.assert_allclose(chunked.dx, whole.dx, rtol=1e-12, atol=0)


# Clamps that keep the old state over steps 2..5: z = 1 where z keeps, z = 0 where it takes (and in minGRU);
# an LSTM's f = 1 keeps c; a minLSTM keeps h only with f = 1 and i = 0 together (f′ = f / (f + i) = 1).
KEEP_CLAMPS = {
    "gru-torch": [Ablation("z", 1.0, 2, 6)],
    "gru-z-takes": [Ablation("z", 0.0, 2, 6)],
    "lstm": [Ablation("f", 1.0, 2, 6)],
    "mingru": [Ablation("z", 0.0, 2, 6)],
    "minlstm": [Ablation("f", 1.0, 2, 6), Ablation("i", 0.0, 2, 6)],
}


@pytest.mark.parametrize("cfg", list(KEEP_CLAMPS))
def test_gradient_flow_with_ablation_and_one_direction(cfg):
    """A keeping clamp is the additive path: the norm through the clamped steps stays put."""
    spec = Spec(input_size=2, hidden_size=3, num_layers=1, **FLOW_CONFIGS[cfg])
    ablations = tuple(KEEP_CLAMPS[cfg])
    params = ref.random_params(spec, 1)
    x, h0 = ref.make_inputs(spec, 2, T=9, B=1, batched=False, with_h0=False)
    flow = gradient_flow(Model(spec, params), x, h0, ablations)
    dh, dx = torch_flow(spec, params, x, h0, ablations, 0, 0)
    np.testing.assert_allclose(flow.dh, dh, rtol=0, atol=ATOL)
    np.testing.assert_allclose(flow.dx, dx, rtol=0, atol=ATOL)
    if KIND[spec.kind].keep(spec).of == "h":  # h_5 = h_4 = … = h_1 with ∂h_t/∂h_{t−1} = I: one norm for t = 1 … 5
        np.testing.assert_allclose(dh[1:5] / dh[5], 1.0, rtol=0, atol=1e-12)


def test_keep_clamps_cover_every_gated_kind():
    assert {FLOW_CONFIGS[c]["kind"] for c in KEEP_CLAMPS} == {k for k in KINDS if KIND[k].clampable}


def test_gradient_flow_errors():
    spec = Spec("gru", 3, 4)
    model = Model(spec, ref.random_params(spec, 0))
    with pytest.raises(ModelInputError, match=r"one sequence \(T, I\)"):
        gradient_flow(model, np.zeros((5, 2, 3)))
    cell = Spec("gru", 3, 4, cell=True)
    with pytest.raises(ModelInputError, match="sequence models"):
        gradient_flow(Model(cell, ref.random_params(cell, 0)), np.zeros((5, 3)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"direction": 1}, "direction 1 does not exist"),
        ({"layer": 3}, r"layers 0\.\.0, not 3"),
        ({"layer": -2}, "not -2"),
    ],
    ids=["direction1", "layer3", "layer-2"],
)
def test_gradient_flow_refuses_missing_layer_or_direction(kwargs, message):
    """Once a bare KeyError (direction) or a silent wrap to layer 0 (layer); now refused (fixed in the core)."""
    spec = Spec("gru", 3, 4)
    model = Model(spec, ref.random_params(spec, 0))
    with pytest.raises(ModelInputError, match=message):
        gradient_flow(model, np.zeros((5, 3)), **kwargs)


# ----------------------------------------------------------------------------------- the step Jacobian


def step_jacobian(variant, W_hh, h, r, z, n, a):
    """∂h'/∂h of one GRU step from the gates (the doc's formula and its three siblings), in NumPy.

    Reset after (a = W_hn h + b_hn):  ∂n/∂h = diag(1 − n²) [diag(r) W_hn + diag(a ⊙ r ⊙ (1 − r)) W_hr]
    Reset before:                      ∂n/∂h = diag(1 − n²) W_hn [diag(r) + diag(h ⊙ r ⊙ (1 − r)) W_hr]
    z keeps, h' = (1 − z) n + z h:     ∂h'/∂h = diag(z) + diag((h − n) ⊙ z ⊙ (1 − z)) W_hz + diag(1 − z) ∂n/∂h
    z takes, h' = (1 − z) h + z n:     ∂h'/∂h = diag(1 − z) + diag((n − h) ⊙ z ⊙ (1 − z)) W_hz + diag(z) ∂n/∂h
    The PyTorch variant expands to the doc's
    diag(z) + diag((h − n) ⊙ z ⊙ (1 − z)) W_hz + diag((1 − z) ⊙ (1 − n²)) [diag(r) W_hn + diag(a ⊙ r ⊙ (1 − r)) W_hr].
    """
    reset_after, z_keeps = ref.VARIANTS[variant]
    W_hr, W_hz, W_hn = np.split(W_hh, 3)
    D = np.diag
    if reset_after:
        dn = D(1 - n**2) @ (D(r) @ W_hn + D(a * r * (1 - r)) @ W_hr)
    else:
        dn = D(1 - n**2) @ W_hn @ (D(r) + D(h * r * (1 - r)) @ W_hr)
    if z_keeps:
        return D(z) + D((h - n) * z * (1 - z)) @ W_hz + D(1 - z) @ dn
    return D(1 - z) + D((n - h) * z * (1 - z)) @ W_hz + D(z) @ dn


@pytest.mark.parametrize("variant", VARIANTS)
def test_step_jacobian_formula(variant):
    """The formula evaluated on a trace's gates equals torch's autograd Jacobian of one step (torch.nn.GRUCell
    for the PyTorch variant, the reference step for the others)."""
    spec = Spec("gru", 3, 5, variant=variant)
    params = ref.random_params(spec, 9, scale=2.0)
    x, h0 = ref.make_inputs(spec, 10, T=6, B=1, batched=False)
    lt = Model(spec, params).run(x, h0).layer()
    P = {k.removesuffix("_l0"): torch.tensor(v) for k, v in params.items()}
    cell = torch.nn.GRUCell(3, 5).double()
    cell.load_state_dict(P)
    for t in range(6):
        h, r, z, n, a = lt.h_prev()[t, 0], *(lt.gates[g][t, 0] for g in "rzn"), lt.pre["hn"][t, 0]
        mine = step_jacobian(variant, params["weight_hh_l0"], h, r, z, n, a)
        xt = torch.tensor(x[t])

        def step(hv, xt=xt):
            if variant == "torch":
                return cell(xt, hv)
            return ref.gru_step(xt, hv, P["weight_ih"], P["weight_hh"], P["bias_ih"], P["bias_hh"], variant)[0]

        theirs = jacobian(step, torch.tensor(h))
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=0, atol=1e-12)
        assert np.abs(mine - np.diag(np.diag(mine))).max() > 1e-3  # not just the diagonal


def test_step_jacobian_chain_is_gradient_flow():
    """∂h_T/∂h_t = J_T ⋯ J_{t+1} (the doc's chain) gives gradient_flow's dh norms, for the PyTorch variant."""
    spec = Spec("gru", 3, 5)
    params = ref.random_params(spec, 11, scale=2.0)
    x, h0 = ref.make_inputs(spec, 12, T=10, B=1, batched=False)
    model = Model(spec, params)
    lt = model.run(x, h0).layer()
    T = 10
    J = [
        step_jacobian(
            "torch", params["weight_hh_l0"], lt.h_prev()[t, 0], *(lt.gates[g][t, 0] for g in "rzn"), lt.pre["hn"][t, 0]
        )
        for t in range(T)
    ]
    chain = np.eye(5)
    norms = np.empty(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(chain)
        chain = chain @ J[t]
    np.testing.assert_allclose(gradient_flow(model, x, h0).dh, norms, rtol=0, atol=ATOL)


# ---------------------------------------------------------------------------------- exploding past 1e308


def exploding_rnn(T: int, directions: int = 1) -> tuple[Model, np.ndarray]:
    """A tanh RNN whose state stays exactly 0 (zero input, biases and h0), so every step's Jacobian is W_hh = 10 I:
    ‖∂h_T/∂h_t‖ = 10^(T−1−t) · √2 exactly, past float64's 1.8e308 for t < T − 309, while the forward stays finite."""
    spec = Spec("rnn", 1, 2, bidirectional=directions == 2)
    params = {k: np.zeros_like(v) for k, v in ref.random_params(spec, 0).items()}
    for key in params:
        if key.startswith("weight_hh"):
            params[key] = 10.0 * np.eye(2)
        elif key.startswith("weight_ih"):
            params[key] = np.array([[1.0], [0.5]])
    return Model(spec, params), np.zeros((T, 1))


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("chunk", [128, 400, 7])
def test_an_exploding_gradient_is_followed_past_float64_exactly(chunk, monkeypatch):
    """The chunked pass rescales by powers of two: log10 ‖∂h_T/∂h_t‖ is exact past 1e308, the norm itself is +inf
    there (never NaN), and no RuntimeWarning reaches the log. A chunk of 400 overflows inside: redone in halves."""
    monkeypatch.setattr(grad_module, "FLOW_CHUNK", chunk)
    T = 400
    model, x = exploding_rnn(T)
    flow = gradient_flow(model, x)
    back = T - 1 - np.arange(T)
    np.testing.assert_allclose(flow.log10_dh, back + np.log10(np.sqrt(2)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(flow.log10_dx, back + np.log10(np.sqrt(1.25)), rtol=0, atol=1e-12)
    assert not np.isnan(flow.dh).any() and not np.isnan(flow.dx).any()
    past = back + np.log10(np.sqrt(2)) > grad_module.LOG10_FLOAT_MAX
    assert np.isinf(flow.dh[past]).all() and np.isfinite(flow.dh[~past]).all()
    assert flow.overflow_step == int(np.flatnonzero(past)[-1]) == 90
    np.testing.assert_allclose(flow.dh[~past], 10.0 ** back[~past] * np.sqrt(2), rtol=1e-13)


def test_an_exploding_gradient_matches_torch_where_torch_is_finite():
    """Exactness against torch autograd on the steps where float64 can hold the Jacobian."""
    T = 330
    model, x = exploding_rnn(T)
    flow = gradient_flow(model, x, np.zeros((1, 2)))
    dh, dx = torch_flow(model.spec, model.params, x, np.zeros((1, 2)), (), 0, 0)
    finite = np.isfinite(dh)
    assert finite.sum() > 300 and not finite.all()  # torch's entries overflow on the earliest steps
    np.testing.assert_allclose(flow.dh[finite], dh[finite], rtol=1e-13, atol=0)
    np.testing.assert_allclose(flow.dx[np.isfinite(dx)], dx[np.isfinite(dx)], rtol=1e-13, atol=0)
    assert np.isinf(flow.dh[~finite]).all()


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_an_exploding_gradient_in_one_pass_is_inf_not_nan():
    """The whole-run pass (bidirectional, clamps) cannot rescale: past 1e308 is +inf, never NaN, and silent."""
    model, x = exploding_rnn(400, directions=2)
    flow = gradient_flow(model, x)
    assert not np.isnan(flow.dh).any() and np.isinf(flow.dh[:80]).all() and np.isfinite(flow.dh[-300:]).all()
    assert flow.overflow_step is not None and 80 <= flow.overflow_step <= 91


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_backward_of_a_chaotic_run_is_silent():
    """BPTT over the app's saturated RNN link (scale 5, H = 64, 5000 steps), whose gradient overflows: non-finite
    results and no warning in the log; gradient_flow follows it exactly (finite log10 everywhere, never NaN)."""
    from gru_viz.serve import state

    sc = state.build_scene(state.from_query({"scale": "5", "cell": "rnn", "steps": "5000", "hidden": "64"})[0])
    grads = backward(sc.model, sc.trace, np.ones_like(sc.trace.output))
    assert not np.isfinite(grads.params["weight_hh_l0"]).all()
    flow = gradient_flow(sc.model, sc.seq.values)
    assert not np.isnan(flow.dh).any() and np.isfinite(flow.log10_dh).all() and flow.overflow_step is not None
    assert flow.log10_dh[0] > 400  # ≈ 10^561: far past float64's 1.8e308
