"""The core's forward runs against torch.nn and tests/torch_reference.py, to float64 round-off.

Families: the reference proven against torch.nn; torch.nn.GRU/LSTM/RNN and their Cell modules; the other
GRU variants, minGRU and minLSTM against the reference; the trace's intermediates recomputed from the equations;
hypothesis over the whole configuration space; saturating inputs; the log-space scan of the kinds without W_hh
(minGRU, minLSTM); ablations; minLSTM's f′ and i′ at extreme pre-activations; input and spec errors.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
import torch_reference as ref
from hypothesis import given, settings

from gru_viz.core import model as model_module
from gru_viz.core.grad import backward, gradient_flow
from gru_viz.core.kinds import KIND, KINDS
from gru_viz.core.model import MAX_TRACE_BYTES, Model, ModelInputError, trace_bytes
from gru_viz.core.params import random_model
from gru_viz.core.spec import GRU_VARIANTS, MAX_HIDDEN, MAX_INPUT, MAX_LAYERS, Spec, SpecError
from gru_viz.core.trace import Ablation

ATOL = 1e-12
VARIANTS = list(ref.VARIANTS)
OTHER_VARIANTS = [v for v in VARIANTS if v != "torch"]
LAYOUTS = ["time-major", "batch-first", "unbatched"]
SCAN_KINDS = [k for k in KINDS if not KIND[k].recurrent]  # no W_hh: the whole run is one linear scan
SEQUENCES = {"mingru": ref.mingru_sequence, "minlstm": ref.minlstm_sequence}  # the reference's plain loops


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def close(ours, theirs, atol=ATOL):
    """assert_allclose on float64 NumPy vs a tensor (or None vs None)."""
    if theirs is None:
        assert ours is None
        return
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=atol)


def spec_for(kind, layout="time-major", **kw):
    return Spec(kind, 3, 4, batch_first=layout == "batch-first", **kw)


def compare_run(spec, params, x, h0, mod=None, ablations=(), atol=ATOL):
    """Run ours and torch's (the module when given, else the reference); assert output, h_n, c_n agree."""
    trace = Model(spec, params).run(x, h0, ablations)
    xt, h0t = ref.as_torch(x), ref.as_torch(h0)
    with torch.no_grad():
        if mod is not None:
            theirs = ref.run_module(spec, mod, xt, h0t)
        else:
            theirs = ref.run(spec, ref.to_torch(params), xt, h0t, ablations)
    for ours, other in zip((trace.output, trace.h_n, trace.c_n), theirs, strict=True):
        close(ours, other, atol)
    return trace, theirs


# ------------------------------------------------------------------------------- the reference, proven


@pytest.mark.parametrize("bidirectional", [False, True])
def test_reference_torch_variant_equals_nn_gru(bidirectional):
    """The reference's "torch" GRU is torch.nn.GRU: same numbers to a few ulps (torch fuses its sums, so not
    bit-for-bit); this is what makes the reference trustworthy for the other variants."""
    spec = Spec("gru", 3, 5, num_layers=3, bidirectional=bidirectional)
    mod = ref.torch_module(spec, 1)
    x, h0 = ref.make_inputs(spec, 2, T=9, B=3)
    xt, h0t = ref.as_torch(x), ref.as_torch(h0)
    out, h_n = mod(xt, h0t)
    r_out, r_h_n, _ = ref.run(spec, dict(mod.named_parameters()), xt, h0t)
    assert torch.allclose(r_out, out, rtol=0, atol=1e-15)
    assert torch.allclose(r_h_n, h_n, rtol=0, atol=1e-15)
    # and the gradients (autograd through the reference = autograd through torch's kernel)
    g = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    params = list(mod.parameters())
    ours = torch.autograd.grad((r_out * g).sum(), params, retain_graph=True)
    theirs = torch.autograd.grad((out * g).sum(), params)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-13)


@pytest.mark.parametrize(
    "spec",
    [
        Spec("lstm", 3, 5, num_layers=2, bidirectional=True),
        Spec("lstm", 3, 5, num_layers=2, bidirectional=True, proj_size=2),
        Spec("rnn", 3, 5, num_layers=2, bidirectional=True),
        Spec("rnn", 3, 5, num_layers=2, bidirectional=True, nonlinearity="relu"),
    ],
    ids=["lstm", "lstm-proj", "rnn-tanh", "rnn-relu"],
)
def test_reference_lstm_rnn_equal_nn(spec):
    mod = ref.torch_module(spec, 1)
    x, h0 = ref.make_inputs(spec, 2, T=9, B=3)
    xt, h0t = ref.as_torch(x), ref.as_torch(h0)
    with torch.no_grad():
        theirs = ref.run_module(spec, mod, xt, h0t)
        mine = ref.run(spec, dict(mod.state_dict()), xt, h0t)
    for a, b in zip(mine, theirs, strict=True):
        if b is not None:
            assert torch.allclose(a, b, rtol=0, atol=1e-15)


def _negate_z(params):
    """The doc's conversion between "z keeps" and "z takes": negate W_iz, W_hz, b_iz, b_hz."""
    out = {}
    for k, v in params.items():
        v = v.clone()
        H = v.shape[0] // 3
        v[H : 2 * H] *= -1
        out[k] = v
    return out


@pytest.mark.parametrize(("takes", "keeps"), [("after-takes", "torch"), ("z-takes", "reset-before")])
def test_reference_z_takes_is_z_keeps_with_negated_z(takes, keeps):
    """Ties the "takes" references to the "keeps" ones (after-takes thereby to torch.nn.GRU itself)."""
    spec = Spec("gru", 3, 4, num_layers=2, bidirectional=True)
    params = ref.to_torch(ref.random_params(spec, 5))
    x, h0 = ref.make_inputs(spec, 6, T=7, B=2)
    xt, h0t = ref.as_torch(x), ref.as_torch(h0)
    a = ref.run(spec.with_(variant=takes), params, xt, h0t)
    b = ref.run(spec.with_(variant=keeps), _negate_z(params), xt, h0t)
    assert torch.allclose(a[0], b[0], rtol=0, atol=1e-15)
    assert not torch.allclose(a[0], ref.run(spec.with_(variant=keeps), params, xt, h0t)[0], atol=1e-3)


def test_core_variant_flags_match_the_doc():
    assert set(GRU_VARIANTS) == set(ref.VARIANTS)
    for key, (reset_after, z_keeps) in ref.VARIANTS.items():
        assert (GRU_VARIANTS[key].reset_after, GRU_VARIANTS[key].z_keeps) == (reset_after, z_keeps), key


# ------------------------------------------------------------------------------------------- torch.nn


KIND_CONFIGS = {
    "gru": dict(kind="gru"),
    "lstm": dict(kind="lstm"),
    "lstm-proj": dict(kind="lstm", proj_size=2),
    "rnn-tanh": dict(kind="rnn"),
    "rnn-relu": dict(kind="rnn", nonlinearity="relu"),
}


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("cfg", list(KIND_CONFIGS))
def test_matches_torch_nn(cfg, num_layers, bidirectional, layout, with_h0, bias):
    kw = dict(KIND_CONFIGS[cfg])
    kind = kw.pop("kind")
    spec = spec_for(kind, layout, num_layers=num_layers, bidirectional=bidirectional, bias=bias, **kw)
    mod = ref.torch_module(spec, seed=num_layers)
    x, h0 = ref.make_inputs(spec, 7, T=5, B=2, batched=layout != "unbatched", with_h0=with_h0)
    compare_run(spec, ref.numpy_params(mod), x, h0, mod)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("cfg", ["gru", "lstm", "rnn-tanh", "rnn-relu"])
def test_cell_modules_match_torch(cfg, batched, with_h0, bias):
    kw = dict(KIND_CONFIGS[cfg])
    spec = Spec(kw.pop("kind"), 3, 4, cell=True, bias=bias, **kw)
    mod = ref.torch_module(spec, 3)
    x, h0 = ref.make_inputs(spec, 8, T=6, B=3, batched=batched, with_h0=with_h0)
    trace, _ = compare_run(spec, ref.numpy_params(mod), x, h0, mod)
    assert trace.output.shape == ((6, 3, 4) if batched else (6, 4))


# -------------------------------------------------------------------- other variants, minGRU and minLSTM


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (1, True), (2, False), (3, True)])
@pytest.mark.parametrize("variant", [*OTHER_VARIANTS, *SCAN_KINDS])
def test_variants_and_scan_kinds_match_reference(variant, num_layers, bidirectional, layout, with_h0, bias):
    kind, kw = (variant, {}) if variant in SCAN_KINDS else ("gru", {"variant": variant})
    spec = spec_for(kind, layout, num_layers=num_layers, bidirectional=bidirectional, bias=bias, **kw)
    params = ref.random_params(spec, num_layers)
    x, h0 = ref.make_inputs(spec, 9, T=6, B=2, batched=layout != "unbatched", with_h0=with_h0)
    with torch.no_grad():
        theirs = ref.run(spec, ref.to_torch(params), ref.as_torch(x), ref.as_torch(h0))
    for scan in (True, False) if kind in SCAN_KINDS else (None,):  # the log-space scan and the sequential loop
        trace = Model(spec, params).run(x, h0, scan=scan)
        for ours, other in zip((trace.output, trace.h_n, trace.c_n), theirs, strict=True):
            close(ours, other)


@pytest.mark.parametrize("kind", SCAN_KINDS)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_scan_kind_cells_match_reference(kind, batched):
    """A *Cell model of a kind torch.nn lacks: one layer, one direction, states (B, H) or (H,)."""
    spec = Spec(kind, 3, 4, cell=True)
    params = ref.random_params(spec, 2)
    x, h0 = ref.make_inputs(spec, 3, T=5, B=2, batched=batched)
    trace, _ = compare_run(spec, params, x, h0)
    assert trace.output.shape == ((5, 2, 4) if batched else (5, 4))


@pytest.mark.parametrize("variant", OTHER_VARIANTS)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_gru_variant_cells_match_reference(variant, batched):
    spec = Spec("gru", 3, 4, cell=True, variant=variant)
    params = ref.random_params(spec, 2)
    x, h0 = ref.make_inputs(spec, 3, T=5, B=2, batched=batched)
    compare_run(spec, params, x, h0)


def test_variants_really_differ():
    """Guard against a variant switch that does nothing: the four variants give four different runs."""
    spec = Spec("gru", 3, 4)
    params = ref.random_params(spec, 0)
    x, h0 = ref.make_inputs(spec, 1, T=5, B=2)
    outs = [Model(spec.with_(variant=v), params).run(x, h0).output for v in VARIANTS]
    for a, b in itertools.combinations(outs, 2):
        assert np.abs(a - b).max() > 1e-3


# ------------------------------------------------------------------------------------ trace intermediates


def _p(params, name, d):
    return params[f"{name}_l0" + ("_reverse" if d else "")]


@pytest.mark.parametrize("variant", VARIANTS)
def test_gru_trace_intermediates(variant):
    """Gates r, z, n and pre-activations (pre["hn"] = W_hn h + b_hn, reset before: W_hn (r ⊙ h) + b_hn),
    recomputed step by step in NumPy from the doc's equations, for both directions."""
    reset_after, z_keeps = ref.VARIANTS[variant]
    spec = Spec("gru", 3, 4, bidirectional=True, variant=variant)
    H = 4
    params = ref.random_params(spec, 3)
    x, h0 = ref.make_inputs(spec, 4, T=6, B=2)
    trace = Model(spec, params).run(x, h0)
    for d in (0, 1):
        lt = trace.layer(0, d)
        assert lt.layer == 0 and lt.direction == d
        W_ih, W_hh, b_ih, b_hh = (_p(params, n, d) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        W_ir, W_iz, W_in = np.split(W_ih, 3)
        W_hr, W_hz, W_hn = np.split(W_hh, 3)
        b_ir, b_iz, b_in = np.split(b_ih, 3)
        b_hr, b_hz, b_hn = np.split(b_hh, 3)
        h = h0[d]
        h_prev = np.empty((6, 2, H))
        for t in range(6) if d == 0 else range(5, -1, -1):
            pre_r = x[t] @ W_ir.T + b_ir + h @ W_hr.T + b_hr
            pre_z = x[t] @ W_iz.T + b_iz + h @ W_hz.T + b_hz
            r, z = sigmoid(pre_r), sigmoid(pre_z)
            if reset_after:
                hn = h @ W_hn.T + b_hn
                pre_n = x[t] @ W_in.T + b_in + r * hn
            else:
                hn = (r * h) @ W_hn.T + b_hn
                pre_n = x[t] @ W_in.T + b_in + hn
            n = np.tanh(pre_n)
            h_prev[t] = h
            h = (1 - z) * n + z * h if z_keeps else (1 - z) * h + z * n
            for name, mine in (("r", pre_r), ("z", pre_z), ("n", pre_n), ("hn", hn)):
                np.testing.assert_allclose(lt.pre[name][t], mine, rtol=0, atol=ATOL, err_msg=f"pre {name} t={t}")
            for name, mine in (("r", r), ("z", z), ("n", n)):
                np.testing.assert_allclose(lt.gates[name][t], mine, rtol=0, atol=ATOL, err_msg=f"{name} t={t}")
            np.testing.assert_allclose(lt.h[t], h, rtol=0, atol=ATOL)
        np.testing.assert_allclose(lt.h_prev(), h_prev, rtol=0, atol=ATOL)
        np.testing.assert_array_equal(lt.x, x)
        np.testing.assert_array_equal(lt.h0, h0[d])
        assert lt.steps == 6


@pytest.mark.parametrize("proj_size", [0, 2])
def test_lstm_trace_intermediates(proj_size):
    spec = Spec("lstm", 3, 4, bidirectional=True, proj_size=proj_size)
    H = 4
    params = ref.random_params(spec, 5)
    x, (h0, c0) = ref.make_inputs(spec, 6, T=6, B=2)
    trace = Model(spec, params).run(x, (h0, c0))
    for d in (0, 1):
        lt = trace.layer(0, d)
        W_ih, W_hh, b_ih, b_hh = (_p(params, n, d) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        h, c = h0[d], c0[d]
        h_prev, c_prev = np.empty((6, 2, h.shape[-1])), np.empty((6, 2, H))
        for t in range(6) if d == 0 else range(5, -1, -1):
            pre = x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh
            pi, pf, pg, po = np.split(pre, 4, axis=-1)
            i, f, g, o = sigmoid(pi), sigmoid(pf), np.tanh(pg), sigmoid(po)
            h_prev[t], c_prev[t] = h, c
            c = f * c + i * g
            m = o * np.tanh(c)
            h = m @ _p(params, "weight_hr", d).T if proj_size else m
            for name, mine in (("i", pi), ("f", pf), ("g", pg), ("o", po)):
                np.testing.assert_allclose(lt.pre[name][t], mine, rtol=0, atol=ATOL, err_msg=f"pre {name} t={t}")
            gates = {"i": i, "f": f, "g": g, "o": o, "c": c} | ({"m": m} if proj_size else {})
            for name, mine in gates.items():
                np.testing.assert_allclose(lt.gates[name][t], mine, rtol=0, atol=ATOL, err_msg=f"{name} t={t}")
            np.testing.assert_allclose(lt.h[t], h, rtol=0, atol=ATOL)
        np.testing.assert_allclose(lt.h_prev(), h_prev, rtol=0, atol=ATOL)
        np.testing.assert_allclose(lt.c_prev(), c_prev, rtol=0, atol=ATOL)
        np.testing.assert_array_equal(lt.c0, c0[d])


def test_mingru_and_rnn_trace_intermediates():
    spec = Spec("mingru", 3, 4, bidirectional=True)
    params = ref.random_params(spec, 7)
    x, h0 = ref.make_inputs(spec, 8, T=6, B=2)
    trace = Model(spec, params).run(x, h0)
    for d in (0, 1):
        lt = trace.layer(0, d)
        k = x @ _p(params, "weight_ih", d).T + _p(params, "bias_ih", d)
        np.testing.assert_allclose(lt.pre["z"], k[..., :4], rtol=0, atol=ATOL)
        np.testing.assert_allclose(lt.pre["n"], k[..., 4:], rtol=0, atol=ATOL)
        np.testing.assert_allclose(lt.gates["z"], sigmoid(k[..., :4]), rtol=0, atol=ATOL)
        np.testing.assert_allclose(
            lt.gates["n"], np.where(k[..., 4:] >= 0, k[..., 4:] + 0.5, sigmoid(k[..., 4:])), rtol=0, atol=ATOL
        )
        h_prev = np.concatenate([h0[d][None], lt.h[:-1]]) if d == 0 else np.concatenate([lt.h[1:], h0[d][None]])
        np.testing.assert_allclose(lt.h_prev(), h_prev, rtol=0, atol=0)
    spec = Spec("rnn", 3, 4)
    params = ref.random_params(spec, 7)
    x, h0 = ref.make_inputs(spec, 8, T=6, B=2)
    lt = Model(spec, params).run(x, h0).layer()
    h_prev = np.concatenate([h0, lt.h[:-1]])
    pre = x @ params["weight_ih_l0"].T + params["bias_ih_l0"] + h_prev @ params["weight_hh_l0"].T + params["bias_hh_l0"]
    np.testing.assert_allclose(lt.pre["h"], pre, rtol=0, atol=ATOL)
    np.testing.assert_allclose(lt.h, np.tanh(pre), rtol=0, atol=ATOL)


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "loop"])
def test_minlstm_trace_intermediates(scan):
    """Pre-activations {f, i, n}, gates {f, i, n, f', i'} and h recomputed step by step in NumPy from the paper's
    plain equations (f′ = f / (f + i), h' = f′ ⊙ h + i′ ⊙ n), for both directions."""
    spec = Spec("minlstm", 3, 4, bidirectional=True)
    params = ref.random_params(spec, 7, scale=2.0)
    x, h0 = ref.make_inputs(spec, 8, T=6, B=2)
    trace = Model(spec, params).run(x, h0, scan=scan)
    for d in (0, 1):
        lt = trace.layer(0, d)
        assert set(lt.gates) == {"f", "i", "n", "f'", "i'"} and set(lt.pre) == {"f", "i", "n"}
        k = x @ _p(params, "weight_ih", d).T + _p(params, "bias_ih", d)
        pre_f, pre_i, pre_n = k[..., :4], k[..., 4:8], k[..., 8:]
        f, i = sigmoid(pre_f), sigmoid(pre_i)
        n = np.where(pre_n >= 0, pre_n + 0.5, sigmoid(pre_n))
        f_n, i_n = f / (f + i), i / (f + i)
        for name, mine in (("f", pre_f), ("i", pre_i), ("n", pre_n)):
            np.testing.assert_allclose(lt.pre[name], mine, rtol=0, atol=ATOL, err_msg=f"pre {name}")
        for name, mine in (("f", f), ("i", i), ("n", n), ("f'", f_n), ("i'", i_n)):
            np.testing.assert_allclose(lt.gates[name], mine, rtol=0, atol=ATOL, err_msg=name)
        h = h0[d]
        for t in range(6) if d == 0 else range(5, -1, -1):
            h = f_n[t] * h + i_n[t] * n[t]
            np.testing.assert_allclose(lt.h[t], h, rtol=0, atol=ATOL, err_msg=f"h t={t}")


@pytest.mark.parametrize("scale", [1.0, 30.0], ids=["plain", "saturating"])
def test_minlstm_normalised_gates_sum_to_one(scale):
    """f′ + i′ = 1 at every step and unit, to one ulp of 1, where the gates are moderate and where they saturate."""
    spec = Spec("minlstm", 3, 5, num_layers=2, bidirectional=True)
    params = ref.random_params(spec, 3, scale=scale)
    x, h0 = ref.make_inputs(spec, 4, T=40, B=3, scale=scale)
    for scan in (True, False):
        for row in Model(spec, params).run(x, h0, scan=scan).layers:
            for lt in row:
                total = lt.gates["f'"] + lt.gates["i'"]
                np.testing.assert_allclose(total, 1.0, rtol=0, atol=np.finfo(float).eps)
                assert np.all((lt.gates["f'"] >= 0) & (lt.gates["i'"] >= 0))


def test_multilayer_trace_layer_inputs():
    """Layer k > 0 reads the concatenation [forward h, reverse h] of the layer below."""
    spec = Spec("gru", 3, 4, num_layers=3, bidirectional=True, batch_first=True)
    x, h0 = ref.make_inputs(spec, 1, T=5, B=2)
    trace = Model(spec, ref.random_params(spec, 1)).run(x, h0)
    np.testing.assert_array_equal(trace.layer(0, 1).x, x.transpose(1, 0, 2))
    for k in (1, 2):
        below = np.concatenate([trace.layer(k - 1, 0).h, trace.layer(k - 1, 1).h], axis=-1)
        np.testing.assert_array_equal(trace.layer(k, 0).x, below)
        np.testing.assert_array_equal(trace.layer(k, 1).x, below)
    assert trace.steps == 5 and len(trace.layers) == 3


# ------------------------------------------------------------------------------------------- hypothesis


@settings(max_examples=60, deadline=None)
@given(ref.configs())
def test_property_forward_matches_torch_or_reference(config):
    """kind × variant × layers × directions × batch_first × batched × h0 × T × sizes (× a random clamp, which
    only the reference can apply)."""
    spec, run_kw, seed, ablations = config
    x, h0 = ref.make_inputs(spec, seed, **run_kw)
    if ref.is_torch_native(spec) and not ablations:
        mod = ref.torch_module(spec, seed)
        compare_run(spec, ref.numpy_params(mod), x, h0, mod)
    else:
        compare_run(spec, ref.random_params(spec, seed), x, h0, ablations=ablations)


# ---------------------------------------------------------------------------------------- saturation


SATURATION_CONFIGS = [
    *[dict(kind="gru", variant=v) for v in VARIANTS],
    dict(kind="lstm"),
    dict(kind="lstm", proj_size=2),
    dict(kind="rnn"),
    dict(kind="rnn", nonlinearity="relu"),
]


def _saturating(cfg, seed=0):
    spec = Spec(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, **cfg)
    params = ref.random_params(spec, seed, scale=50.0)  # weights up to 50/√H = 25
    x, h0 = ref.make_inputs(spec, seed + 1, T=12, B=3)
    rng = np.random.default_rng(seed + 2)
    x = rng.uniform(-1e3, 1e3, size=x.shape)
    x[0, 0, 0] = 1e3
    return spec, params, x, h0


@pytest.mark.parametrize("cfg", SATURATION_CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_saturating_inputs_no_warnings_and_equal_torch(cfg):
    spec, params, x, h0 = _saturating(cfg)
    model = Model(spec, params)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = model.run(x, h0)
        grads = backward(model, trace, np.ones_like(trace.output), np.ones_like(trace.h_n))
        flow = gradient_flow(model, x[:, 0], None)
    for arr in (trace.output, trace.h_n, trace.c_n, grads.x, flow.dh, flow.dx, *grads.params.values()):
        assert arr is None or np.all(np.isfinite(arr))
    with torch.no_grad():
        theirs = ref.run(spec, ref.to_torch(params), ref.as_torch(x), ref.as_torch(h0))
    # relu states grow to ~1e7 here: the same 1e-12 is taken relative to the largest value
    scale = max(1.0, float(np.abs(theirs[0].numpy()).max()))
    for ours, other in zip((trace.output, trace.h_n, trace.c_n), theirs, strict=True):
        close(ours, other, ATOL * scale)
    assert np.abs(trace.layer(0, 0).pre["z" if spec.kind == "gru" else "h" if spec.kind == "rnn" else "i"]).max() > 1e3


# How far each scan kind is driven. minGRU: two layers, inputs up to 1e3 (pre-activations up to ~1e5 and beyond).
# minLSTM: its plain reference f / (f + i) is 0 / 0 once torch's σ(k) = 1 / (1 + e^−k) underflows (k < −745), so
# here one layer with inputs up to 9 keeps |k| below ~700: deep in saturation, where the plain form still holds
# (test_minlstm_extreme_pre_activations goes past it).
# ``large``: how large the states grow (the candidate k + 0.5 is unbounded).
SATURATING_SCAN = {"mingru": dict(num_layers=2, x=1e3, large=1e3), "minlstm": dict(num_layers=1, x=9.0, large=1e2)}


def _saturating_scan(kind, seed=0):
    cfg = SATURATING_SCAN[kind]
    spec = Spec(kind, 3, 4, num_layers=cfg["num_layers"], bidirectional=True)
    params = ref.random_params(spec, seed, scale=50.0)
    x, h0 = ref.make_inputs(spec, seed + 1, T=12, B=3)
    x = np.random.default_rng(seed + 2).uniform(-cfg["x"], cfg["x"], size=x.shape)
    return spec, params, x, h0


# log of the share of h each step keeps, from the pre-activations: the scan's log a_t (softplus, no overflow).
# minGRU: log(1 − z) = −softplus(pre_z); minLSTM: log f′ = −softplus(d), d = log i − log f.
LOG_KEEP = {
    "mingru": lambda pre: -np.logaddexp(0, pre["z"]),
    "minlstm": lambda pre: -np.logaddexp(0, np.logaddexp(0, -pre["f"]) - np.logaddexp(0, -pre["i"])),
}


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "loop"])
@pytest.mark.parametrize("kind", SCAN_KINDS)
def test_saturating_scan_kinds_equal_reference(kind, scan):
    """No warnings at all, underflow included (exp/logaddexp of ~−1e7 in the scan once raised under
    errstate(all="raise"); fixed in the core).

    Tolerance: the loop is exact to round-off. The scan computes h = exp(a* + (…)) with a* = Σ log a_t
    (a = 1 − z for minGRU, f′ for minLSTM); saturated gates make log a_t ≈ −k with |k| up to ~1e7 in minGRU's
    second layer, so |a*| reaches A ~ 1e7 and the exponent carries an absolute round-off ~ε·A: a relative error
    ~ε·A ≈ 1e-9 in h (observed 2e-10). We allow 2·ε·A relative, computed from the run's own pre-activations.
    This is a limitation of the log-space scan, not of the equations (the sequential loop meets 1e-12).
    """
    spec, params, x, h0 = _saturating_scan(kind)
    model = Model(spec, params)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = model.run(x, h0, scan=scan)
        grads = backward(model, trace, np.ones_like(trace.output), np.ones_like(trace.h_n))
        flow = gradient_flow(model, x[:, 0], h0[:, 0])
    for arr in (trace.output, trace.h_n, grads.x, grads.h0, flow.dh, flow.dx, *grads.params.values()):
        assert np.all(np.isfinite(arr))
    with np.errstate(under="ignore"):  # our own log a_t, outside the checked block
        A = max(np.abs(np.cumsum(LOG_KEEP[kind](lt.pre), axis=0)).max() for row in trace.layers for lt in row)
    with torch.no_grad():
        theirs = ref.run(spec, ref.to_torch(params), ref.as_torch(x), ref.as_torch(h0))
    scale = float(np.abs(theirs[0].numpy()).max())
    assert scale > SATURATING_SCAN[kind]["large"]  # the candidate k + 0.5 really is large
    assert max(np.abs(v).max() for v in trace.layer(0, 0).pre.values()) > 300  # and the gates saturate
    rel = 2 * np.finfo(float).eps * A if scan else ATOL
    close(trace.output, theirs[0], rel * scale)
    close(trace.h_n, theirs[1], rel * scale)


# ------------------------------------------------------------------------------- the scan against the loop


@pytest.mark.parametrize("kind", SCAN_KINDS)
def test_scan_equals_loop_long(kind):
    """T = 1000: a* = Σ log a_t (a = 1 − z, or f′) reaches a few hundred, so the log-space round-off ε·|a*| ~ 1e-13
    relative; 1e-12 is the asked-for bound. h0 of both signs makes h cross zero, so "relative" is taken per unit
    against the largest |h| of that unit's run (an element near a zero crossing has no meaningful relative error)."""
    spec = Spec(kind, 3, 5)
    params = ref.random_params(spec, 11)
    rng = np.random.default_rng(12)
    x = rng.normal(size=(1000, 4, 3))
    h0 = 3.0 * np.array([[[1, -1, 0.5, -2, 0.1]] * 4]) * np.sign(rng.normal(size=(1, 4, 5)))
    assert (h0 > 0).any() and (h0 < 0).any()
    scan = Model(spec, params).run(x, h0, scan=True).output
    loop = Model(spec, params).run(x, h0, scan=False).output
    scale = np.abs(loop).max(axis=0, keepdims=True)
    assert np.all(np.abs(scan - loop) <= 1e-12 * scale)
    assert (np.sign(loop[0]) != np.sign(loop[-1])).any()  # some units really crossed zero


@pytest.mark.parametrize("kind", SCAN_KINDS)
def test_scan_very_long_sequence(kind):
    """T = 100 000: |a*| grows to ~T·0.7 ≈ 7e4; cumsum adds T roundings of relative size ε to it, so the
    exponent carries an absolute error up to ~ε·|a*|·√T ≈ 5e-9 in the worst case, ~1e-11 typically (observed
    ~2e-11). 1e-9 relative leaves a wide margin while still catching a broken scan (errors of order 1)."""
    spec = Spec(kind, 2, 3)
    params = ref.random_params(spec, 13)
    rng = np.random.default_rng(14)
    x = rng.normal(size=(100_000, 2))
    h0 = np.array([[2.0, -1.5, 0.3]])
    model = Model(spec, params)
    scan = model.run(x, h0, scan=True)
    assert np.all(np.isfinite(scan.output))
    loop = model.run(x, h0, scan=False).output
    scale = np.abs(loop).max(axis=0, keepdims=True)
    assert np.all(np.abs(scan.output - loop) <= 1e-9 * scale)
    # and the start of it against the torch reference loop
    p = ref.to_torch(params)
    with torch.no_grad():
        first = SEQUENCES[kind](torch.tensor(x[:200, None]), torch.tensor(h0), p["weight_ih_l0"], p["bias_ih_l0"])
    close(scan.output[:200], first[:, 0])


# ------------------------------------------------------------------------- minLSTM: f′ and i′ in log space


def _minlstm_of(pre_f, pre_i, pre_n):
    """A one-unit-per-column minLSTM (I = 1) whose pre-activations at x = 1 are the given ones: W = 0, b = k."""
    H = len(pre_f)
    spec = Spec("minlstm", 1, H)
    params = {"weight_ih_l0": np.zeros((3 * H, 1)), "bias_ih_l0": np.concatenate([pre_f, pre_i, pre_n])}
    return spec, params


def test_minlstm_extreme_pre_activations():
    """|k| ~ 1e3: σ(k) underflows to 0 (below k ≈ −745 even in exp form), so the plain f / (f + i) is 0 / 0 = NaN;
    in log space f′ = σ(−d), d = log i − log f = (pre_i − pre_f) once both are deep below 0 (log σ(k) = k there).

    By hand: pre_f = −1000, pre_i = −1001 → d = −1, f′ = σ(1) = 1 / (1 + e^−1) = 0.7310585786300049;
    pre_f = +1000 (f = 1), pre_i = −1000 → d = −1000, f′ = 1, i′ = 0 exactly: h is kept;
    pre_f = −1000, pre_i = +1000 → f′ = 0, i′ = 1 exactly: h' = n = g(2) = 2.5;
    pre_f = pre_i = −1000 → f′ = i′ = ½."""
    spec, params = _minlstm_of([-1000.0, 1000.0, -1000.0, -1000.0], [-1001.0, -1000.0, 1000.0, -1000.0], [2.0] * 4)
    x = np.ones((3, 1))
    h0 = np.array([[0.3, -7.0, 4.0, 1.0]])
    sig1 = 1.0 / (1.0 + np.exp(-1.0))
    for scan in (True, False):
        lt = Model(spec, params).run(x, h0, scan=scan).layer()
        np.testing.assert_allclose(lt.gates["f'"][0, 0], [sig1, 1.0, 0.0, 0.5], rtol=0, atol=1e-16)
        np.testing.assert_allclose(lt.gates["i'"][0, 0], [1 - sig1, 0.0, 1.0, 0.5], rtol=0, atol=1e-16)
        assert lt.gates["f'"][0, 0, 1] == 1.0 and lt.gates["i'"][0, 0, 1] == 0.0  # exactly
        h, expected = h0[0], []
        for _ in range(3):
            h = np.array([sig1, 1.0, 0.0, 0.5]) * h + np.array([1 - sig1, 0.0, 1.0, 0.5]) * 2.5
            expected.append(h)
        # the loop is exact to round-off; the scan's exponents reach |a*| = A = 3·1000 on unit 2 (log f′ = −1000
        # a step), so its h carries a relative round-off ~ε·A (observed 1.3e-14): bounded by 4·ε·A
        tol = 4 * np.finfo(float).eps * 3000 * 7.0 if scan else 1e-15
        np.testing.assert_allclose(lt.h[:, 0], expected, rtol=0, atol=tol)
        assert lt.h[2, 0, 1] == -7.0  # f′ = 1, i′ = 0: kept bit for bit, scan or loop
        assert scan or lt.h[2, 0, 2] == 2.5
    # the paper's plain form, in torch, is 0 / 0 on the units where both σ underflow
    P = ref.to_torch(params)
    with torch.no_grad():
        _, gates = ref.minlstm_step(torch.ones(1, 1, dtype=torch.float64), torch.tensor(h0), P["weight_ih_l0"],
                                    P["bias_ih_l0"])
    assert torch.isnan(gates["f'"][0, [0, 3]]).all() and torch.isnan(gates["i'"][0, [0, 3]]).all()


def test_minlstm_extreme_scan_equals_loop_long():
    """T = 20 000 with pre-activations of ~±1e3: finite everywhere, and the log-space scan agrees with the loop.

    Units 0 and 1 have i's weights within 1e-3 of f's, so on many steps both pre-activations are below −745:
    σ underflows to 0 for both, the plain f / (f + i) of the torch reference is 0 / 0 and its run turns NaN, while
    d = log i − log f stays of order 1 and f′ lies well inside (0, 1). Unit 2's f and i are independent: its
    log f′ = −softplus(d) is down to ~−1e3 on some steps (the state forgotten at once), so |a*| = |Σ log f′|
    reaches A ~ 4e6 and the scan's exponent carries an absolute round-off of a few ε·A (observed 2.9e-10
    relative, with 1.4e-12 on units 0 and 1). The bound is 4·ε·A per unit, relative to that unit's largest |h|,
    from the run's own pre-activations; a broken scan errs by order 1."""
    spec = Spec("minlstm", 2, 3)
    params = ref.random_params(spec, 15, scale=2.0)
    w, b = params["weight_ih_l0"], params["bias_ih_l0"]
    tie = np.random.default_rng(17)
    w[3:5] = w[0:2] + tie.uniform(-1e-3, 1e-3, (2, 2))
    b[3:5] = b[0:2] + tie.uniform(-0.5, 0.5, 2)
    x = np.random.default_rng(16).uniform(-1e3, 1e3, size=(20_000, 2))
    h0 = np.array([[2.0, -1.5, 0.3]])
    model = Model(spec, params)
    # under="ignore": σ(d) of a subnormal d underflows in the core (see test_minlstm_forward_raises_no_underflow)
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        scan = model.run(x, h0, scan=True)
        loop = model.run(x, h0, scan=False)
    lt = scan.layer()
    both = (lt.pre["f"] < -745) & (lt.pre["i"] < -745)  # σ(k) = 1 / (1 + e^−k) is 0 in float64 on both
    assert both[..., :2].mean() > 0.05 and not both[..., 2].any()
    assert np.abs(lt.pre["f"][..., 2]).max() > 900 and np.abs(lt.pre["i"][..., 2]).max() > 900
    f_n = lt.gates["f'"]
    assert 0.3 < f_n[both].min() and f_n[both].max() < 0.7  # 0 / 0 in the plain form, an ordinary share here
    for arr in (scan.output, loop.output, f_n, lt.gates["i'"]):
        assert np.all(np.isfinite(arr))
    np.testing.assert_array_equal(f_n, loop.layer().gates["f'"])
    with np.errstate(under="ignore"):
        A = np.abs(np.cumsum(LOG_KEEP["minlstm"](lt.pre), axis=0)).max(axis=(0, 1))  # per unit
    assert A[2] > 1e6
    scale = np.abs(loop.output).max(axis=0, keepdims=True)
    assert np.all(np.abs(scan.output - loop.output) <= 4 * np.finfo(float).eps * A * scale)
    P = ref.to_torch(params)
    with torch.no_grad():
        plain = ref.minlstm_sequence(torch.tensor(x[:, None]), torch.tensor(h0), P["weight_ih_l0"], P["bias_ih_l0"])
    assert torch.isnan(plain[-1, 0, :2]).all() and not torch.isnan(plain[..., 2]).any()
    # where the plain form is defined it is the same run (h grows to ~1e3 with the candidate: 1e-12 relative)
    close(loop.output[..., 2], plain[:, 0, 2], ATOL * float(plain[:, 0, 2].abs().max()))


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "loop"])
def test_minlstm_forward_raises_no_underflow(scan):
    """pre_f = 720, pre_i = 721: log σ(k) = −e^−k ≈ −1e-313 (subnormal), so d ≈ 1e-313 and f′ = i′ = ½."""
    spec, params = _minlstm_of([720.0], [721.0], [0.0])
    with np.errstate(all="raise"):
        lt = Model(spec, params).run(np.ones((3, 1)), scan=scan).layer()
    np.testing.assert_array_equal(lt.gates["f'"], 0.5)


# ------------------------------------------------------------------------------------------- ablations


def _gru(variant="torch", T=6, B=2, seed=0, **kw):
    spec = Spec("gru", 3, 4, variant=variant, **kw)
    params = ref.random_params(spec, seed)
    x, h0 = ref.make_inputs(spec, seed + 1, T=T, B=B)
    return spec, params, x, h0


@pytest.mark.parametrize("variant", VARIANTS)
def test_clamp_keep_gate_holds_the_state(variant):
    """z = 1 (z keeps) or z = 0 (z takes) over [0, 4): h stays h0 (to round-off), then runs on as the reference."""
    spec, params, x, h0 = _gru(variant)
    keep = 1.0 if ref.VARIANTS[variant][1] else 0.0
    abl = [Ablation("z", keep, 0, 4)]
    trace, _ = compare_run(spec, params, x, h0, ablations=abl)
    h = trace.layer().h
    np.testing.assert_allclose(h[:4], np.broadcast_to(h0[0], (4, 2, 4)), rtol=0, atol=1e-15)
    assert np.abs(h[4] - h0[0]).max() > 1e-3
    np.testing.assert_array_equal(trace.layer().clamped["z"][:, 0, 0], [True] * 4 + [False] * 2)


def _exact_keep(variant):
    spec, params, x, h0 = _gru(variant)
    h0 = h0.copy()
    h0[0, 0] = [1e-17, -3e-12, 0.123456789, 7e-9]  # tiny values expose h' = n + z ⊙ (h − n) rounding
    keep = 1.0 if ref.VARIANTS[variant][1] else 0.0
    h = Model(spec, params).run(x, h0, [Ablation("z", keep, 0, 4)]).layer().h
    np.testing.assert_array_equal(h[:4], np.broadcast_to(h0[0], (4, 2, 4)))


@pytest.mark.parametrize("variant", VARIANTS)
def test_clamp_keep_gate_holds_the_state_exactly(variant):
    """Bit for bit, tiny values included (h' = n + 1·(h − n) used to round h0 = 1e-17 to 0.0; fixed in the core)."""
    _exact_keep(variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_clamp_write_gate_gives_candidate(variant):
    """z = 0 (z keeps) or z = 1 (z takes): h' = n."""
    spec, params, x, h0 = _gru(variant)
    write = 0.0 if ref.VARIANTS[variant][1] else 1.0
    trace, _ = compare_run(spec, params, x, h0, ablations=[Ablation("z", write)])
    lt = trace.layer()
    np.testing.assert_allclose(lt.h, lt.gates["n"], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(lt.gates["z"], write)


@pytest.mark.parametrize("variant", VARIANTS)
def test_clamp_reset_zero(variant):
    """r = 0: reset after, n = tanh(W_in x + b_in) (b_hn vanishes with W_hn h); reset before,
    n = tanh(W_in x + b_in + W_hn·0 + b_hn) keeps b_hn."""
    spec, params, x, h0 = _gru(variant)
    trace, _ = compare_run(spec, params, x, h0, ablations=[Ablation("r", 0.0)])
    W_in, b_in, b_hn = params["weight_ih_l0"][8:], params["bias_ih_l0"][8:], params["bias_hh_l0"][8:]
    expected = np.tanh(x @ W_in.T + b_in + (0.0 if ref.VARIANTS[variant][0] else b_hn))
    np.testing.assert_allclose(trace.layer().gates["n"], expected, rtol=0, atol=1e-15)
    assert np.abs(b_hn).min() > 1e-3  # b_hn really matters


def test_clamp_step_range_and_vector():
    """[start, stop) respected, per-unit vector values, elsewhere the free gate; layer/direction targeting."""
    spec, params, x, h0 = _gru(T=7, num_layers=2, bidirectional=True)
    vec = (0.0, 0.25, 1.0, 0.5)
    r_abl = Ablation("r", 0.75, 0, 1, layer=0)
    abl = [Ablation("z", vec, 2, 5, layer=1, direction=1), r_abl]
    trace, _ = compare_run(spec, params, x, h0, ablations=abl)
    base = Model(spec, params).run(x, h0, [r_abl])
    z, z_base = trace.layer(1, 1).gates["z"], base.layer(1, 1).gates["z"]
    np.testing.assert_array_equal(z[2:5], np.broadcast_to(vec, (3, 2, 4)))
    # the reverse direction runs t = 6 … 0: steps 6, 5 come before the clamp and are untouched
    np.testing.assert_array_equal(z[5:], z_base[5:])
    assert np.abs(z[:2] - z_base[:2]).max() > 1e-6
    np.testing.assert_array_equal(trace.layer(1, 0).gates["z"], base.layer(1, 0).gates["z"])
    np.testing.assert_array_equal(trace.layer(1, 1).clamped["z"][:, 0, 0], [0, 0, 1, 1, 1, 0, 0])
    assert set(trace.layer(1, 0).clamped) == set()
    # r at t = 0 in both directions of layer 0 only
    free = Model(spec, params).run(x, h0)
    for d in (0, 1):
        np.testing.assert_array_equal(trace.layer(0, d).gates["r"][0], 0.75)
        assert np.abs(free.layer(0, d).gates["r"][0] - 0.75).min() > 1e-6
        assert np.abs(trace.layer(1, d).gates["r"][0] - 0.75).min() > 1e-6
    assert trace.ablations == tuple(abl)


@pytest.mark.parametrize("proj_size", [0, 2])
def test_lstm_clamps(proj_size):
    spec = Spec("lstm", 3, 4, bidirectional=True, proj_size=proj_size)
    params = ref.random_params(spec, 4)
    x, (h0, c0) = ref.make_inputs(spec, 5, T=6, B=2)
    W_ih, b = params["weight_ih_l0"], params["bias_ih_l0"] + params["bias_hh_l0"]
    W_hh = params["weight_hh_l0"]

    def pre_of(lt):  # the forward direction's pre-activations from its own h_prev, in NumPy
        return x @ W_ih.T + b + lt.h_prev() @ W_hh.T

    # f = 0 erases the memory: c_t = i ⊙ g
    trace, _ = compare_run(spec, params, x, (h0, c0), ablations=[Ablation("f", 0.0)])
    lt = trace.layer(0, 0)
    pi, _, pg, _ = np.split(pre_of(lt), 4, axis=-1)
    np.testing.assert_allclose(lt.gates["c"], sigmoid(pi) * np.tanh(pg), rtol=0, atol=1e-15)
    # i = 0 writes nothing: c_t = f ⊙ c_{t−1}; with f = 1 as well, c stays c0 exactly
    trace, _ = compare_run(spec, params, x, (h0, c0), ablations=[Ablation("i", 0.0)])
    lt = trace.layer(0, 0)
    _, pf, _, _ = np.split(pre_of(lt), 4, axis=-1)
    np.testing.assert_allclose(lt.gates["c"], sigmoid(pf) * lt.c_prev(), rtol=0, atol=1e-15)
    trace, _ = compare_run(spec, params, x, (h0, c0), ablations=[Ablation("i", 0.0), Ablation("f", 1.0, 1, 4)])
    np.testing.assert_array_equal(
        trace.layer(0, 0).gates["c"][1:4], np.broadcast_to(trace.layer(0, 0).gates["c"][0], (3, 2, 4))
    )
    np.testing.assert_array_equal(
        trace.layer(0, 1).gates["c"][1:4], np.broadcast_to(trace.layer(0, 1).gates["c"][4], (3, 2, 4))
    )
    # o = 0 silences the output: h = 0 exactly, while c keeps running
    trace, _ = compare_run(spec, params, x, (h0, c0), ablations=[Ablation("o", 0.0, 2, 4, direction=0)])
    np.testing.assert_array_equal(trace.layer(0, 0).h[2:4], 0.0)
    assert np.abs(trace.layer(0, 0).h[4]).max() > 1e-6 and np.abs(trace.layer(0, 1).h[2:4]).min() > 0
    assert np.abs(trace.layer(0, 0).gates["c"][2:4]).min() > 0


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "loop"])
def test_mingru_clamps(scan):
    spec = Spec("mingru", 3, 4, bidirectional=True)
    params = ref.random_params(spec, 6)
    x, h0 = ref.make_inputs(spec, 7, T=6, B=2)
    model = Model(spec, params)
    # z = 0: h stays h0 exactly over [0, 3) (forward) — and over the reverse run's steps 5, 4, 3 it holds h0 too
    trace = model.run(x, h0, [Ablation("z", 0.0, 0, 3, direction=0), Ablation("z", 0.0, 3, 6, direction=1)], scan)
    np.testing.assert_array_equal(trace.layer(0, 0).h[:3], np.broadcast_to(h0[0], (3, 2, 4)))
    np.testing.assert_array_equal(trace.layer(0, 1).h[3:], np.broadcast_to(h0[1], (3, 2, 4)))
    with torch.no_grad():
        theirs = ref.run(spec, ref.to_torch(params), ref.as_torch(x), ref.as_torch(h0), trace.ablations)
    close(trace.output, theirs[0])
    # z = 1: h = g(W_h x + b_h) exactly, step by step
    trace = model.run(x, h0, [Ablation("z", 1.0)], scan)
    for d in (0, 1):
        k = x @ _p(params, "weight_ih", d)[4:].T + _p(params, "bias_ih", d)[4:]
        np.testing.assert_allclose(trace.layer(0, d).h, np.where(k >= 0, k + 0.5, sigmoid(k)), rtol=0, atol=1e-15)


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "loop"])
def test_minlstm_clamps(scan):
    spec = Spec("minlstm", 3, 4, bidirectional=True)
    params = ref.random_params(spec, 6)
    x, h0 = ref.make_inputs(spec, 7, T=6, B=2)
    h0 = h0.copy()
    h0[0, 0] = [1e-17, -3e-12, 0.123456789, 7e-9]  # tiny values expose a keep that is not exact
    model = Model(spec, params)
    # f = 1, i = 0: f′ = 1, i′ = 0, and h stays h0 bit for bit over [0, 3) (forward) and the reverse run's 5, 4, 3
    keep = [Ablation("f", 1.0, 0, 3, direction=0), Ablation("i", 0.0, 0, 3, direction=0),
            Ablation("f", 1.0, 3, 6, direction=1), Ablation("i", 0.0, 3, 6, direction=1)]
    trace = model.run(x, h0, keep, scan)
    np.testing.assert_array_equal(trace.layer(0, 0).h[:3], np.broadcast_to(h0[0], (3, 2, 4)))
    np.testing.assert_array_equal(trace.layer(0, 1).h[3:], np.broadcast_to(h0[1], (3, 2, 4)))
    np.testing.assert_array_equal(trace.layer(0, 0).gates["f'"][:3], 1.0)
    np.testing.assert_array_equal(trace.layer(0, 0).gates["i'"][:3], 0.0)
    assert np.abs(trace.layer(0, 0).h[3] - h0[0]).max() > 1e-3  # and then it runs on
    with torch.no_grad():
        theirs = ref.run(spec, ref.to_torch(params), ref.as_torch(x), ref.as_torch(h0), trace.ablations)
    close(trace.output, theirs[0])
    # f = 0 (i free): f′ = 0, i′ = 1, h = g(W_n x + b_n) exactly, step by step
    trace = model.run(x, h0, [Ablation("f", 0.0)], scan)
    for d in (0, 1):
        k = x @ _p(params, "weight_ih", d)[8:].T + _p(params, "bias_ih", d)[8:]
        np.testing.assert_array_equal(trace.layer(0, d).h, trace.layer(0, d).gates["n"])
        np.testing.assert_allclose(trace.layer(0, d).h, np.where(k >= 0, k + 0.5, sigmoid(k)), rtol=0, atol=1e-15)
    # i = 0 (f free): f′ = 1, the state is never written
    trace = model.run(x, h0, [Ablation("i", 0.0)], scan)
    np.testing.assert_array_equal(trace.h_n, h0)
    # per-unit values, and f = i at a step: f′ = i′ = ½
    abl = [Ablation("f", (0.2, 1.0, 0.5, 0.0), 1, 5), Ablation("i", (0.2, 0.0, 0.25, 0.7), 2)]
    trace, _ = compare_run(spec, params, x, h0, ablations=abl)
    np.testing.assert_array_equal(trace.layer(0, 0).gates["f'"][2:5, :, 0], 0.5)
    np.testing.assert_array_equal(trace.layer(0, 0).clamped["f"][:, 0, 0], [0, 1, 1, 1, 1, 0])


@pytest.mark.parametrize(
    "ablations",
    [[Ablation("f", 0.0), Ablation("i", 0.0)],
     [Ablation("f", 0.0, 2, 4, direction=1), Ablation("i", (0.5, 0.0, 0.5, 0.5), 3, 5)],
     [Ablation("f", (1.0, 0.0, 1.0, 1.0), 0, 1, layer=0), Ablation("i", (0.0, 0.0, 1.0, 1.0), 0, 1)]],
    ids=["both-everywhere", "one-step-one-unit", "vectors"],
)
def test_minlstm_refuses_f_and_i_both_zero(ablations):
    """f′ = f / (f + i) would be 0 / 0: refused, naming the gates, whatever the scan, the direction or the unit."""
    spec = Spec("minlstm", 3, 4, bidirectional=True)
    x, h0 = ref.make_inputs(spec, 0, T=6, B=2)
    model = Model(spec, ref.random_params(spec, 0))
    for scan in (True, False):
        with pytest.raises(ModelInputError, match=r"minLSTM's f and i cannot both be clamped to 0 at one step"):
            model.run(x, h0, ablations, scan)


def test_minlstm_zero_clamps_apart_are_accepted():
    """f = 0 and i = 0 at different steps, or on different units of one step, are a valid run."""
    spec = Spec("minlstm", 3, 4)
    params = ref.random_params(spec, 1)
    x, h0 = ref.make_inputs(spec, 2, T=6, B=2)
    for abl in ([Ablation("f", 0.0, 0, 3), Ablation("i", 0.0, 3)],
                [Ablation("f", (0.0, 1.0, 0.0, 1.0)), Ablation("i", (1.0, 0.0, 0.5, 0.0))]):
        trace, _ = compare_run(spec, params, x, h0, ablations=abl)
        assert np.all(np.isfinite(trace.output))


@pytest.mark.parametrize(
    ("kind", "ablation", "message"),
    [
        ("gru", Ablation("f", 0.0), "no gate 'f'"),
        ("gru", Ablation("n", 0.0), "no gate 'n'"),
        ("lstm", Ablation("g", 0.0), "no gate 'g'"),
        ("rnn", Ablation("z", 0.0), "has: none"),
        ("mingru", Ablation("r", 0.0), "no gate 'r'"),
        ("minlstm", Ablation("z", 0.0), "no gate 'z'"),
        ("minlstm", Ablation("n", 0.0), "no gate 'n'"),
        ("minlstm", Ablation("f'", 0.0), "no gate \"f'\""),
        ("minlstm", Ablation("f", 1.5), "between 0 and 1"),
        ("gru", Ablation("z", 1.5), "between 0 and 1"),
        ("gru", Ablation("z", -0.1), "between 0 and 1"),
        ("lstm", Ablation("f", (0.0, 1.0, 2.0, 0.0)), "between 0 and 1"),
        ("gru", Ablation("z", (0.5, 0.5)), "one value or 4"),
        ("gru", Ablation("z", ((0.5,) * 4,) * 2), "one value or 4"),
        ("gru", Ablation("z", float("nan")), "NaN"),
        ("gru", Ablation("z", 0.5, 0, 7), "steps 0..7, the run has 0..6"),
        ("gru", Ablation("z", 0.5, -1, 3), "the run has 0..6"),
        ("gru", Ablation("z", 0.5, 4, 2), "the run has 0..6"),
        ("mingru", Ablation("z", 0.5, 7), "the run has 0..6"),
    ],
)
def test_ablation_errors(kind, ablation, message):
    spec = Spec(kind, 3, 4)
    x, h0 = ref.make_inputs(spec, 0, T=6, B=2)
    with pytest.raises(ModelInputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        Model(spec, ref.random_params(spec, 0)).run(x, h0, [ablation])


@pytest.mark.parametrize(
    ("ablation", "message"),
    [
        (Ablation("z", 0.0, layer=5), r"names layer 5; the model has layers 0\.\.1"),
        (Ablation("z", 0.0, layer=-1), r"names layer -1; the model has layers 0\.\.1"),
        (Ablation("z", 0.0, direction=1), r"names direction 1; the model has 1 direction"),
    ],
    ids=["layer5", "layer-1", "dir1"],
)
def test_ablation_of_missing_layer_is_refused(ablation, message):
    """Once silently ignored; now refused (fixed in the core)."""
    spec = Spec("gru", 3, 4, num_layers=2)
    x, h0 = ref.make_inputs(spec, 0, T=6, B=2)
    with pytest.raises(ModelInputError, match=message):
        Model(spec, ref.random_params(spec, 0)).run(x, h0, [ablation])


@pytest.mark.parametrize("ablation", [Ablation("z", 0.5, 1.5), Ablation("z", 0.5, 0, 2.5)], ids=["start", "stop"])
def test_ablation_with_fractional_steps_is_refused(ablation):
    """Once a bare TypeError from slicing; now a ModelInputError (fixed in the core)."""
    spec = Spec("gru", 3, 4)
    x, h0 = ref.make_inputs(spec, 0, T=6, B=2)
    with pytest.raises(ModelInputError, match=r"step bound (1\.5|2\.5): steps are whole numbers"):
        Model(spec, ref.random_params(spec, 0)).run(x, h0, [ablation])


# ---------------------------------------------------------------------------------------- input errors


def _input_error(spec, x, h0, message):
    with pytest.raises(ModelInputError, match=message):
        Model(spec, ref.random_params(spec, 0)).run(x, h0)


def test_input_errors():
    gru = Spec("gru", 3, 4, num_layers=2)
    x, h0 = ref.make_inputs(gru, 0, T=5, B=2)
    _input_error(gru, np.zeros((5, 2, 4)), None, "takes 3 values per step, the input has 4")
    _input_error(gru, np.zeros((5, 2)), None, "takes 3 values per step, the input has 2")
    _input_error(gru, np.zeros(5), None, r"must be \(T, I\) or \(T, B, I\), got shape \(5,\)")
    _input_error(gru, np.zeros((1, 5, 2, 3)), None, r"got shape \(1, 5, 2, 3\)")
    _input_error(gru.with_(batch_first=True), np.zeros(3), None, r"\(B, T, I\)")
    _input_error(gru, np.zeros((0, 2, 3)), None, "1 to 100000 steps, it has 0")
    _input_error(gru, [["a", "b", "c"]], None, "must be numbers")
    for bad in (np.nan, np.inf, -np.inf):
        xb = x.copy()
        xb[2, 1, 0] = bad
        _input_error(gru, xb, None, "the input contains NaN or infinity")
        hb = h0.copy()
        hb[1, 0, 3] = bad
        _input_error(gru, x, hb, "h0 contains NaN or infinity")
    _input_error(gru, x, h0[:1], r"h0 must have shape \(2, 2, 4\)")
    _input_error(gru, x, h0[..., :3], r"h0 must have shape \(2, 2, 4\).*got \(2, 2, 3\)")
    _input_error(gru, x[:, 0], h0, r"h0 must have shape \(2, 4\)")  # unbatched input, batched h0
    _input_error(gru.with_(num_layers=1, cell=True), x, h0[0, 0], r"h0 must have shape \(2, 4\)")

    lstm = Spec("lstm", 3, 4, proj_size=2)
    x, (h0, c0) = ref.make_inputs(lstm, 0, T=5, B=2)
    _input_error(lstm, x, h0, r"pair \(h0, c0\)")
    _input_error(lstm, x, (h0, c0, c0), r"pair \(h0, c0\)")
    _input_error(lstm, x, (c0, c0), r"h0 must have shape \(1, 2, 2\)")  # h0 is proj_size wide
    _input_error(lstm, x, (h0, h0), r"c0 must have shape \(1, 2, 4\)")
    cb = c0.copy()
    cb[0, 0, 0] = np.inf
    _input_error(lstm, x, (h0, cb), "c0 contains NaN or infinity")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(kind="transformer"), "unknown cell kind 'transformer'"),
        (dict(kind="GRU"), "unknown cell kind"),
        (dict(kind="gru", variant="keras"), "unknown GRU variant 'keras'"),
        (dict(hidden_size=0), "hidden_size must be a whole number from 1 to 2048, got 0"),
        (dict(hidden_size=MAX_HIDDEN + 1), "hidden_size .* got 2049"),
        (dict(input_size=0), "input_size"),
        (dict(input_size=MAX_INPUT + 1), "input_size must be a whole number from 1 to 2048, got 2049"),
        (dict(num_layers=0), "num_layers"),
        (dict(num_layers=MAX_LAYERS + 1), "num_layers"),
        (dict(hidden_size=2.5), "hidden_size"),
        (dict(hidden_size=True), "hidden_size"),
        (dict(input_size="3"), "input_size"),
        (dict(kind="rnn", nonlinearity="sigmoid"), "nonlinearity"),
        (dict(kind="gru", proj_size=2), "proj_size is only defined for LSTM"),
        (dict(kind="mingru", proj_size=2), "proj_size is only defined for LSTM"),
        (dict(kind="minlstm", proj_size=2), "proj_size is only defined for LSTM"),
        (dict(kind="lstm", proj_size=4), "proj_size must be between 1 and hidden_size"),
        (dict(kind="lstm", proj_size=-1), "proj_size"),
        (dict(kind="lstm", proj_size=2, cell=True), "cell module"),
        (dict(cell=True, num_layers=2), "cell module"),
        (dict(cell=True, bidirectional=True), "cell module"),
    ],
)
def test_spec_errors(kwargs, message):
    args = dict(kind="lstm", input_size=3, hidden_size=4) | kwargs
    with pytest.raises(SpecError, match=message):
        Spec(**args)


@pytest.mark.parametrize("proj_size", [2.5, True], ids=["float", "bool"])
def test_spec_refuses_non_integer_proj_size(proj_size):
    """Once accepted; now refused like the other sizes (fixed in the core)."""
    with pytest.raises(SpecError, match="proj_size must be a whole number"):
        Spec("lstm", 3, 4, proj_size=proj_size)


def test_widths_up_to_2048_are_accepted():
    assert (MAX_HIDDEN, MAX_INPUT) == (2048, 2048)
    for kind in KINDS:
        s = Spec(kind, 2048, 2048)
        assert (s.input_size, s.hidden_size) == (2048, 2048)


# ------------------------------------------------------------------------------------------ the trace budget


def _owner(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


@pytest.mark.parametrize(("kind", "extra"), [(k, {}) for k in KINDS] + [(k, {"bidirectional": True}) for k in KINDS]
                         + [("lstm", {"proj_size": 3}), ("gru", {"variant": "reset-before"})])
@pytest.mark.parametrize("T", [40, 600], ids=["loop", "scan"])  # minGRU, minLSTM scan from 512 steps
def test_trace_bytes_is_what_a_run_keeps(kind, extra, T):
    """The budget's estimate, read from the kind record, equals the memory behind a real trace's arrays."""
    spec = Spec(kind, 5, 7, num_layers=3, **extra)
    trace = random_model(spec, seed=0).run(np.random.default_rng(0).standard_normal((T, 2, 5)))
    arrays = [trace.output] + [a for row in trace.layers for lt in row
                               for a in (lt.x, lt.h, *lt.gates.values(), *lt.pre.values())]
    held = {id(o): o.nbytes for o in map(_owner, arrays)}
    assert sum(held.values()) == trace_bytes(spec, T, 2)


def test_a_run_over_the_trace_budget_is_refused_naming_the_sizes():
    """Refused before anything is allocated: the input is a broadcast zero, no memory behind its 6.4 million steps."""
    spec = Spec("gru", 1, 256)
    model = random_model(spec, seed=0)
    x = np.broadcast_to(0.0, (100_000, 64, 1))
    size = trace_bytes(spec, 100_000, 64)
    assert size > 50 * MAX_TRACE_BYTES
    with pytest.raises(ModelInputError) as info:
        model.run(x)
    msg = str(info.value)
    for part in ("T = 100,000 steps", "B = 64 sequences", "GRU of H = 256", "1 layer (1 → 256)",
                 f"about {size / 2**30:,.1f} GiB", "at most 1.0 GiB (MAX_TRACE_BYTES)", "h_n on as"):
        assert part in msg, (part, msg)
    fits = int(msg.split("use at most ")[1].split(" steps")[0].replace(",", ""))
    assert trace_bytes(spec, fits, 64) <= MAX_TRACE_BYTES < trace_bytes(spec, fits + 1, 64)


def test_the_trace_budget_is_checked_at_its_edge(monkeypatch):
    spec = Spec("lstm", 3, 4, num_layers=2, bidirectional=True)
    model = random_model(spec, seed=0)
    monkeypatch.setattr(model_module, "MAX_TRACE_BYTES", trace_bytes(spec, 10, 2))
    x = np.random.default_rng(0).standard_normal((11, 2, 3))
    assert model.run(x[:10]).output.shape == (10, 2, 8)  # exactly the budget: accepted
    with pytest.raises(ModelInputError, match=r"T = 11 steps × B = 2 sequences .* 2 layers \(3 → 4 → 4\), both "
                                              r"directions.*use at most 10 steps"):
        model.run(x)
    # not even one step fits at this batch: the message asks for a smaller batch
    monkeypatch.setattr(model_module, "MAX_TRACE_BYTES", 3 * trace_bytes(spec, 1, 1))
    with pytest.raises(ModelInputError, match="use a batch of at most 3 sequences"):
        model.run(x[:1, :1].repeat(5, axis=1))


# -------------------------------------------------------------------------- parameters fixed, prepared once


def test_a_models_parameters_are_read_only_and_its_own():
    spec = Spec("gru", 3, 4)
    params = ref.random_params(spec, 0)
    model = Model(spec, params)
    x = np.random.default_rng(0).standard_normal((6, 3))
    before = model.run(x).output.copy()
    for arr in model.params.values():
        with pytest.raises(ValueError, match="read-only"):
            arr[0] += 1.0
    params["weight_hh_l0"] += 1.0  # the caller's arrays were copied: changing them changes nothing here
    np.testing.assert_array_equal(model.run(x).output, before)
    # a model built from another's parameters shares them (read-only already): no second copy
    other = Model(spec.with_(variant="reset-before"), model.params)
    assert all(other.params[k] is model.params[k] for k in model.params)
    # float32 arrays are converted once, and the conversion is the model's own, read-only
    single = Model(spec, {k: v.astype(np.float32) for k, v in params.items()})
    assert all(a.dtype == np.float64 and not a.flags.writeable for a in single.params.values())


@pytest.mark.parametrize("kind", list(KINDS))
def test_prepared_weights_are_made_once_and_follow_a_replaced_array(kind):
    spec = Spec(kind, 3, 4, num_layers=2, bidirectional=True)
    model = random_model(spec, seed=0)
    for layer in range(2):
        for d in range(2):
            assert model.prepared(layer, d) is model.prepared(layer, d)
    x = np.random.default_rng(0).standard_normal((7, 2, 3))
    first = model.run(x)
    np.testing.assert_array_equal(model.run(x).output, first.output)
    # pointing a key at another array after construction: that layer is prepared anew from it, run by run
    key = "weight_ih_l1_reverse"
    model.params[key] = model.params[key] * 2.0
    fresh = Model(spec, dict(model.params))
    np.testing.assert_array_equal(model.run(x).output, fresh.run(x).output)
    assert not np.array_equal(fresh.run(x).output, first.output)


def test_a_live_model_follows_in_place_updates():
    """A Trainer's model: its parameters are views of the optimiser's buffer, updated in place between runs."""
    spec = Spec("gru", 3, 4)
    params = {k: v.copy() for k, v in ref.random_params(spec, 0).items()}
    live = Model(spec, params, live=True)
    assert live.params["weight_hh_l0"] is params["weight_hh_l0"]
    x = np.random.default_rng(0).standard_normal((6, 3))
    live.run(x)
    params["weight_hh_l0"] *= 3.0
    np.testing.assert_array_equal(live.run(x).output, Model(spec, params).run(x).output)


def test_a_pickled_model_keeps_read_only_parameters():
    import pickle

    model = random_model(Spec("lstm", 3, 4, proj_size=2), seed=0)
    x = np.random.default_rng(0).standard_normal((5, 3))
    out = model.run(x).output
    back = pickle.loads(pickle.dumps(model))
    assert back._prepared == {} and not any(a.flags.writeable for a in back.params.values())
    np.testing.assert_array_equal(back.run(x).output, out)
    assert back.prepared(0, 0) is back.prepared(0, 0)


def test_parameter_errors():
    spec = Spec("gru", 3, 4)
    params = ref.random_params(spec, 0)
    with pytest.raises(SpecError, match="missing: bias_hh_l0"):
        Model(spec, {k: v for k, v in params.items() if k != "bias_hh_l0"})
    with pytest.raises(SpecError, match="unexpected: weight_hr_l0"):
        Model(spec, params | {"weight_hr_l0": np.zeros((2, 4))})
    with pytest.raises(SpecError, match=r"weight_hh_l0 has shape \(12, 3\), the model needs \(12, 4\)"):
        Model(spec, params | {"weight_hh_l0": np.zeros((12, 3))})
    with pytest.raises(SpecError, match="missing: bias_hh_l0, bias_ih_l0"):  # bias=True needs biases
        Model(spec, ref.random_params(spec.with_(bias=False), 0))
    with pytest.raises(ModelInputError, match="NaN"):
        Model(spec, params | {"bias_ih_l0": np.full(12, np.nan)})


def test_complex_input_is_refused():
    model = random_model(Spec("gru", 1, 2), seed=0)
    with pytest.raises(ModelInputError, match="not complex"):
        model.run(np.ones((3, 1)) * 1j)
