"""The step-Jacobian paths, their chains, and gradient clipping, against torch autograd (float64, to 1e-10)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch_reference as ref
from torch.autograd.functional import jacobian

from gru_viz.core.compare import build_models, gradient_norms_over_scales
from gru_viz.core.grad import gradient_flow
from gru_viz.core.kinds import WITH_W_HH
from gru_viz.core.model import Model, ModelInputError
from gru_viz.core.paths import (
    PATHS,
    analyse,
    chain_norms,
    chain_to_end,
    clip_grad_norm,
    cosine,
    global_norm,
    heatmap_steps,
    last_state_gradient,
    step_norms,
    step_paths,
)
from gru_viz.core.spec import GRU_VARIANTS, Spec
from gru_viz.core.trace import Ablation

ATOL = 1e-10

CASES = {
    **{f"gru-{v}": dict(kind="gru", variant=v) for v in GRU_VARIANTS},
    "lstm": dict(kind="lstm"),
    "lstm-proj": dict(kind="lstm", proj_size=3),
    "rnn-tanh": dict(kind="rnn"),
    "rnn-relu": dict(kind="rnn", nonlinearity="relu"),
    "mingru": dict(kind="mingru"),
}


def setup(case: str, T: int = 6, H: int = 5, scale: float = 2.0, seed: int = 3, ablations=()):
    """A one-layer model with large-ish weights, a random input and h0, and its run."""
    spec = Spec(input_size=3, hidden_size=H, **CASES[case])
    params = ref.random_params(spec, seed, scale=scale)
    x, h0 = ref.make_inputs(spec, seed + 1, T=T, B=1, batched=False)
    model = Model(spec, params)
    return SimpleNamespace(spec=spec, params=params, x=x, h0=h0, model=model, lt=model.run(x, h0, ablations).layer(0))


def torch_step_jacobian(spec, params, x_t, h, c=None, clamps=None):
    """∂s'/∂s of one step by autograd; s = h, or the concatenation (h, c) for an LSTM."""
    P = {k.removesuffix("_l0"): torch.tensor(v) for k, v in params.items()}
    xt = torch.tensor(x_t)
    clamps = {g: torch.tensor(v) for g, v in (clamps or {}).items()}
    if spec.kind == "lstm":
        Hout = h.shape[0]

        def step(s):
            h_new, c_new, _ = ref.lstm_step(
                xt, s[:Hout], s[Hout:], P["weight_ih"], P["weight_hh"], P["bias_ih"], P["bias_hh"],
                P.get("weight_hr"), clamps,
            )
            return torch.cat([h_new, c_new])

        return jacobian(step, torch.tensor(np.concatenate([h, c]))).numpy()
    if spec.kind == "gru":
        def step(hv):
            return ref.gru_step(xt, hv, P["weight_ih"], P["weight_hh"], P["bias_ih"], P["bias_hh"], spec.variant,
                                clamps)[0]
    elif spec.kind == "rnn":
        def step(hv):
            return ref.rnn_step(xt, hv, P["weight_ih"], P["weight_hh"], P["bias_ih"], P["bias_hh"], spec.nonlinearity)
    else:
        def step(hv):
            return ref.mingru_step(xt, hv, P["weight_ih"], P["bias_ih"], clamps)[0]
    return jacobian(step, torch.tensor(h)).numpy()


@pytest.mark.parametrize("case", list(CASES))
def test_paths_sum_to_the_full_step_jacobian(case):
    c = setup(case)
    paths = step_paths(c.model, c.lt)
    assert tuple(paths.parts) == PATHS[c.spec.kind]
    np.testing.assert_allclose(sum(paths.parts.values()), paths.full, rtol=0, atol=ATOL)
    assert paths.full.shape == (6, paths.size, paths.size)
    if c.spec.kind == "gru":  # every path carries something: no term is trivially zero
        for name, arr in paths.parts.items():
            assert np.abs(arr).max() > 1e-3, name


@pytest.mark.parametrize("case", list(CASES))
def test_full_step_jacobian_matches_autograd(case):
    c = setup(case)
    paths = step_paths(c.model, c.lt)
    h_prev = c.lt.h_prev()[:, 0]
    c_prev = c.lt.c_prev()[:, 0] if c.spec.kind == "lstm" else [None] * 6
    for t in range(6):
        theirs = torch_step_jacobian(c.spec, c.params, c.x[t], h_prev[t], c_prev[t])
        np.testing.assert_allclose(paths.full[t], theirs, rtol=0, atol=ATOL)
    assert np.abs(paths.full).max() > 1e-2


@pytest.mark.parametrize("variant", list(GRU_VARIANTS))
def test_gru_direct_path_is_diag_of_keep(variant):
    c = setup(f"gru-{variant}")
    z = c.lt.gates["z"][:, 0]
    keep = z if GRU_VARIANTS[variant].z_keeps else 1 - z
    direct = step_paths(c.model, c.lt).parts["direct"]
    np.testing.assert_array_equal(direct, np.stack([np.diag(k) for k in keep]))


def test_lstm_cell_path_is_diag_f_on_the_c_block():
    c = setup("lstm")
    paths = step_paths(c.model, c.lt)
    cell = paths.parts["cell"]
    f = c.lt.gates["f"][:, 0]
    np.testing.assert_array_equal(cell[:, paths.c_block(), paths.c_block()], np.stack([np.diag(v) for v in f]))
    assert not cell[:, paths.h_block()].any() and not cell[:, :, paths.h_block()].any()


@pytest.mark.parametrize(("case", "gate", "value"), [("gru-torch", "z", 1.0), ("gru-z-takes", "r", 0.3),
                                                      ("lstm", "f", 1.0), ("lstm", "o", 0.5)])
def test_paths_with_clamped_gates_match_autograd(case, gate, value):
    """A clamped gate is a constant: nothing flows through its path."""
    c = setup(case, ablations=(Ablation(gate, value),))
    paths = step_paths(c.model, c.lt)
    h_prev = c.lt.h_prev()[:, 0]
    c_prev = c.lt.c_prev()[:, 0] if c.spec.kind == "lstm" else [None] * 6
    for t in range(6):
        theirs = torch_step_jacobian(c.spec, c.params, c.x[t], h_prev[t], c_prev[t], {gate: np.full(5, value)})
        np.testing.assert_allclose(paths.full[t], theirs, rtol=0, atol=ATOL)
    if gate in ("z", "r"):
        assert not paths.parts[gate].any()


def test_window_of_steps():
    c = setup("gru-torch")
    whole = step_paths(c.model, c.lt)
    window = step_paths(c.model, c.lt, steps=slice(2, 5))
    assert window.start == 2
    np.testing.assert_array_equal(window.full, whole.full[2:5])


# ------------------------------------------------------------------------------------------------ chains


def autograd_heatmap(spec, params, x, h0):
    """‖∂h_e/∂h_t‖ for all e, t (0 for t > e), by autograd w.r.t. a perturbation added to h_t."""
    P = ref.to_torch(params)
    xt, h0t = ref.as_torch(x), ref.as_torch(h0)
    T, H = x.shape[0], spec.out_size
    J = jacobian(lambda d: ref.run(spec, P, xt, h0t, perturb={(0, 0): d})[0], torch.zeros(T, 1, H, dtype=ref.DTYPE))
    return J.pow(2).sum(dim=(1, 3, 4)).sqrt().numpy()  # (T_e, H) × (T_t, 1, H) → (T_e, T_t)


@pytest.mark.parametrize("case", list(CASES))
def test_chain_heatmap_matches_autograd(case):
    c = setup(case, T=7)
    paths = step_paths(c.model, c.lt)
    mine = chain_norms(paths.full, rows=paths.h_block(), cols=paths.h_block())
    theirs = autograd_heatmap(c.spec, c.params, c.x, c.h0)
    lower = np.tril(np.ones((7, 7), bool))
    np.testing.assert_allclose(mine[lower], theirs[lower], rtol=0, atol=ATOL)
    assert np.isnan(mine[~lower]).all() and not theirs[~lower].any()
    # the last row is gradient_flow's ‖∂h_T/∂h_t‖
    np.testing.assert_allclose(mine[-1], gradient_flow(c.model, c.x, c.h0).dh, rtol=0, atol=ATOL)


def test_chain_norms_for_chosen_ends():
    c = setup("lstm", T=7)
    paths = step_paths(c.model, c.lt)
    every = chain_norms(paths.full)
    some = chain_norms(paths.full, [2, 6])
    np.testing.assert_allclose(some, every[[2, 6]], rtol=0, atol=1e-14)
    np.testing.assert_allclose(chain_to_end(paths.full), every[-1], rtol=0, atol=1e-14)
    with pytest.raises(ModelInputError, match="end steps"):
        chain_norms(paths.full, [7])


def test_direct_path_chain_is_product_of_keeps():
    """Along the GRU's direct path alone the chain is diag(Π keep): its norm is ‖Π z‖ over the steps between."""
    c = setup("gru-torch", T=8)
    paths = step_paths(c.model, c.lt)
    z = c.lt.gates["z"][:, 0]
    direct = chain_to_end(paths.parts["direct"])
    for t in range(8):
        np.testing.assert_allclose(direct[t], np.linalg.norm(np.prod(z[t + 1 :], axis=0)), rtol=1e-12)


def test_step_norms_are_spectral_norms():
    c = setup("gru-reset-before")
    norms = step_norms(step_paths(c.model, c.lt).parts)
    for name, arr in step_paths(c.model, c.lt).parts.items():
        np.testing.assert_allclose(norms[name], [np.linalg.svd(m, compute_uv=False)[0] for m in arr], rtol=1e-12)


# ---------------------------------------------------------------------------------------------- clipping


@pytest.mark.parametrize("max_norm", [0.01, 0.5, 3.0, 1e6])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, np.inf])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    rng = np.random.default_rng(5)
    grads = {"a": rng.normal(size=(4, 3)), "b": rng.normal(size=7) * 10, "c": rng.normal(size=(2, 2, 2))}
    tensors = []
    for g in grads.values():
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(g)
        tensors.append(p)
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type)
    clipped = clip_grad_norm(grads, max_norm, norm_type)
    assert clipped.total_norm == pytest.approx(float(total), abs=ATOL)
    for p, g in zip(tensors, clipped.grads.values(), strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=0, atol=ATOL)
    assert cosine(grads, clipped.grads) == pytest.approx(1.0, abs=1e-12)  # the direction is kept
    assert global_norm(clipped.grads, norm_type) <= max(max_norm, 0) + 1e-6 or clipped.coef == 1.0


def test_clip_refuses_a_non_positive_max_norm():
    with pytest.raises(ModelInputError, match="positive"):
        clip_grad_norm({"a": np.ones(2)}, 0.0)


@pytest.mark.parametrize("kind", WITH_W_HH)  # the kinds torch.nn has a module for
def test_clipping_the_last_state_gradient_matches_torch(kind):
    """The update the page clips: ∂(Σ h_T)/∂θ from our BPTT, clipped, equals torch's backward + clip_grad_norm_."""
    spec = Spec(kind, 2, 4)
    module = ref.torch_module(spec, seed=3)
    for p in module.parameters():
        p.data *= 3.0  # large weights: a gradient worth clipping
    model = Model(spec, ref.numpy_params(module))
    x = np.random.default_rng(4).normal(size=(15, 2))
    grads = last_state_gradient(model, x)
    h_n = ref.run_module(spec, module, torch.tensor(x))[1]
    h_n.sum().backward()
    total = torch.nn.utils.clip_grad_norm_(module.parameters(), 0.5)
    clipped = clip_grad_norm(grads, 0.5)
    assert clipped.total_norm == pytest.approx(float(total), abs=ATOL)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(clipped.grads[name], p.grad.numpy(), rtol=0, atol=ATOL)
    assert clipped.coef < 1 and clipped.clipped_norm == pytest.approx(0.5, abs=1e-5)


def test_gradient_norms_over_scales():
    x = np.random.default_rng(1).normal(size=(12, 1))
    sweep = gradient_norms_over_scales(("gru", "rnn"), x, [0.0, 1.0, 2.5], 3, seed=2)
    for i, scale in enumerate([0.0, 1.0, 2.5]):
        model = build_models(("rnn",), 1, 3, seed=2, scale=scale)["rnn"]
        assert sweep["rnn"][i] == pytest.approx(global_norm(last_state_gradient(model, x)), rel=1e-12)
    assert sweep["gru"].shape == (3,)


@pytest.mark.parametrize("T", [1, 2, 9])
@pytest.mark.parametrize("case", ["gru-z-takes", "lstm", "rnn-tanh", "mingru"])
def test_analysis_windows(case, T):
    """The page's analysis: the heatmap's last row is gradient_flow's ‖∂h_T/∂h_t‖ over its window."""
    c = setup(case, T=T)
    a = analyse(c.model, c.lt, window=6, heat_cap=4)
    W = min(T, 4)
    assert a.heat.shape == (W, W) and a.heat_start == T - W and a.path_start == max(0, T - 6)
    flow = gradient_flow(c.model, c.x, c.h0).dh
    np.testing.assert_allclose(a.heat[-1], flow[T - W :], rtol=0, atol=ATOL)
    assert set(a.norms) == set(PATHS[c.spec.kind])
    for values in a.chains.values():
        assert values.shape == (min(T, 6),)
    if c.spec.kind != "lstm":  # the first chain is ‖∂h_T/∂h_t‖ over the path window
        np.testing.assert_allclose(next(iter(a.chains.values())), flow[max(0, T - 6) :], rtol=0, atol=ATOL)


def test_heatmap_steps_budget():
    assert heatmap_steps(1, 16, 16) == 1
    assert heatmap_steps(500, 16, 16) == 100
    assert heatmap_steps(500, 64, 128) < 40
