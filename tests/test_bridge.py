"""gru_viz.io.bridge: torch module -> Model -> torch module, checked against torch itself in float64."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import gru_viz
from gru_viz import Spec, SpecError, random_model
from gru_viz.core.kinds import KINDS
from gru_viz.core.spec import KIND_NAMES
from gru_viz.io.bridge import from_torch, save_pt, to_torch, torch_state_dict
from gru_viz.io.weights import load_weights_bytes

ROOT = Path(__file__).resolve().parents[1]
TOL = {"rtol": 0, "atol": 1e-12}

# By hand: whether torch.nn has a module for each kind (else to_torch refuses it and from_torch cannot meet it).
TORCH_HAS_MODULE = {"gru": True, "lstm": True, "rnn": True, "mingru": False, "minlstm": False}
# (module class, constructor extras): the modules the bridge supports
MODULES = {
    "gru": (nn.GRU, {}),
    "lstm": (nn.LSTM, {}),
    "lstm-proj": (nn.LSTM, {"proj_size": 2}),
    "rnn-tanh": (nn.RNN, {"nonlinearity": "tanh"}),
    "rnn-relu": (nn.RNN, {"nonlinearity": "relu"}),
}
CELLS = {
    "gru": (nn.GRUCell, {}),
    "lstm": (nn.LSTMCell, {}),
    "rnn-tanh": (nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn-relu": (nn.RNNCell, {"nonlinearity": "relu"}),
}


def make_module(
    kind: str, I: int = 3, H: int = 4, layers: int = 1, bidir: bool = False, bf: bool = False, bias: bool = True
) -> nn.Module:
    cls, extra = MODULES[kind]
    torch.manual_seed(hash((kind, I, H, layers, bidir, bf, bias)) % 2**31)
    m = cls(I, H, num_layers=layers, bidirectional=bidir, batch_first=bf, bias=bias, **extra).double()
    with torch.no_grad():  # larger than default weights, so that gates saturate somewhere too
        for p in m.parameters():
            p.mul_(2.0)
    return m.eval()


def initial_state(m: nn.Module, B: int | None, rng: np.random.Generator):
    """Random h0 (and c0) shaped as the module takes them."""
    D = 2 if m.bidirectional else 1
    h_out = m.proj_size or m.hidden_size if isinstance(m, nn.LSTM) else m.hidden_size
    lead = (m.num_layers * D,) if B is None else (m.num_layers * D, B)
    h0 = rng.standard_normal((*lead, h_out))
    if isinstance(m, nn.LSTM):
        return h0, rng.standard_normal((*lead, m.hidden_size))
    return h0


def torch_run(m: nn.Module, x: np.ndarray, h0=None):
    """(output, h_n, c_n or None) of the torch module, as NumPy."""
    xt = torch.from_numpy(x)
    if h0 is None:
        ht = None
    elif isinstance(h0, tuple):
        ht = tuple(torch.from_numpy(a) for a in h0)
    else:
        ht = torch.from_numpy(h0)
    with torch.no_grad():
        out, hn = m(xt, ht)
    if isinstance(hn, tuple):
        return out.numpy(), hn[0].numpy(), hn[1].numpy()
    return out.numpy(), hn.numpy(), None


def torch_cell_run(m: nn.Module, x: np.ndarray, h0=None):
    """Step a cell module over x[t] by hand: (stacked h, last h, last c or None)."""
    state = None
    if h0 is not None:
        state = tuple(torch.from_numpy(a) for a in h0) if isinstance(h0, tuple) else torch.from_numpy(h0)
    hs = []
    with torch.no_grad():
        for t in range(x.shape[0]):
            state = m(torch.from_numpy(x[t]), state)
            hs.append(state[0] if isinstance(state, tuple) else state)
    c = state[1].numpy() if isinstance(state, tuple) else None
    return torch.stack(hs).numpy(), hs[-1].numpy(), c


def assert_trace_matches(trace, expected) -> None:
    out, hn, cn = expected
    assert trace.output.shape == out.shape
    assert trace.h_n.shape == hn.shape
    np.testing.assert_allclose(trace.output, out, **TOL)
    np.testing.assert_allclose(trace.h_n, hn, **TOL)
    if cn is None:
        assert trace.c_n is None
    else:
        assert trace.c_n.shape == cn.shape
        np.testing.assert_allclose(trace.c_n, cn, **TOL)


def check_module(m: nn.Module, T: int, B: int | None, with_h0: bool, seed: int = 0) -> None:
    """from_torch(m).run(x[, h0]) equals m(x[, h0]), and to_torch gives back the same module."""
    rng = np.random.default_rng(seed)
    I = m.input_size
    if B is None:
        x = rng.standard_normal((T, I))
    elif m.batch_first:
        x = rng.standard_normal((B, T, I))
    else:
        x = rng.standard_normal((T, B, I))
    h0 = initial_state(m, B, rng) if with_h0 else None
    model = from_torch(m)
    assert_trace_matches(model.run(x, h0), torch_run(m, x, h0))
    m2 = to_torch(model)
    assert isinstance(m, type(m2)) and type(m2).__module__ == "torch.nn.modules.rnn"
    sd, sd2 = m.state_dict(), m2.state_dict()
    assert list(sd) == list(sd2)
    for k in sd:
        assert sd2[k].dtype == torch.float64
        assert torch.equal(sd[k], sd2[k]), k
    for a, b in zip(torch_run(m, x, h0), torch_run(m2, x, h0), strict=True):
        if a is not None:
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------------------ layer modules


def test_the_modules_tested_are_every_kind_torch_has():
    assert set(TORCH_HAS_MODULE) == set(KINDS)
    has = {k for k, yes in TORCH_HAS_MODULE.items() if yes}
    assert {name.split("-")[0] for name in MODULES} == has and {name.split("-")[0] for name in CELLS} == has


@pytest.mark.parametrize("kind", list(MODULES))
@pytest.mark.parametrize(("layers", "bidir"), [(1, False), (1, True), (2, True), (3, False)])
@pytest.mark.parametrize("bf", [False, True], ids=["time-major", "batch-first"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_from_torch_matches_module(kind, layers, bidir, bf, bias):
    m = make_module(kind, I=3, H=4, layers=layers, bidir=bidir, bf=bf, bias=bias)
    model = from_torch(m)
    s = model.spec
    assert (s.num_layers, s.bidirectional, s.batch_first, s.bias) == (layers, bidir, bf, bias)
    assert s.kind == kind.split("-")[0] and not s.cell
    assert s.proj_size == (2 if kind == "lstm-proj" else 0)
    if kind == "gru":
        assert s.variant == "torch"
    if kind.startswith("rnn"):
        assert s.nonlinearity == kind.split("-")[1]
    for B in (None, 3):
        for with_h0 in (False, True):
            check_module(m, T=5, B=B, with_h0=with_h0)


@st.composite
def module_configs(draw):
    kind = draw(st.sampled_from(list(MODULES)))
    H = draw(st.integers(3 if kind == "lstm-proj" else 1, 7))
    return {
        "kind": kind,
        "I": draw(st.integers(1, 5)),
        "H": H,
        "layers": draw(st.integers(1, 3)),
        "bidir": draw(st.booleans()),
        "bf": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "proj": draw(st.integers(1, H - 1)) if kind == "lstm-proj" else 0,
        "T": draw(st.integers(1, 6)),
        "B": draw(st.one_of(st.none(), st.integers(1, 3))),
        "h0": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31 - 1)),
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module_configs())
def test_from_torch_property(cfg):
    cls, extra = MODULES[cfg["kind"]]
    if cfg["proj"]:
        extra = {"proj_size": cfg["proj"]}
    torch.manual_seed(cfg["seed"])
    m = cls(
        cfg["I"],
        cfg["H"],
        num_layers=cfg["layers"],
        bidirectional=cfg["bidir"],
        batch_first=cfg["bf"],
        bias=cfg["bias"],
        **extra,
    ).double()
    check_module(m.eval(), T=cfg["T"], B=cfg["B"], with_h0=cfg["h0"], seed=cfg["seed"])


# ------------------------------------------------------------------------------------------- cell modules


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("B", [None, 1, 3], ids=["unbatched", "B1", "B3"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
def test_cell_modules(kind, bias, B, with_h0):
    cls, extra = CELLS[kind]
    torch.manual_seed(7)
    m = cls(3, 4, bias=bias, **extra).double().eval()
    model = from_torch(m)
    s = model.spec
    assert s.cell and s.kind == kind.split("-")[0] and s.bias == bias and s.num_layers == 1
    rng = np.random.default_rng(1)
    T = 6
    x = rng.standard_normal((T, 3) if B is None else (T, B, 3))
    h0 = None
    if with_h0:
        lead = () if B is None else (B,)
        h0 = rng.standard_normal((*lead, 4))
        if kind == "lstm":
            h0 = (h0, rng.standard_normal((*lead, 4)))
    trace = model.run(x, h0)
    assert_trace_matches(trace, torch_cell_run(m, x, h0))
    m2 = to_torch(model)
    assert type(m2) is cls
    for k, v in m.state_dict().items():
        assert torch.equal(v, m2.state_dict()[k])
    for a, b in zip(torch_cell_run(m, x, h0), torch_cell_run(m2, x, h0), strict=True):
        if a is not None:
            np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------------- to_torch


@pytest.mark.parametrize(
    "spec",
    [
        Spec("gru", 3, 5, num_layers=2, bidirectional=True),
        Spec("lstm", 2, 6, num_layers=3, proj_size=3, batch_first=True),
        Spec("rnn", 4, 3, nonlinearity="relu", bias=False),
        Spec("gru", 3, 4, cell=True),
        Spec("lstm", 3, 4, cell=True, bias=False),
        Spec("rnn", 3, 4, cell=True, nonlinearity="relu"),
    ],
    ids=lambda s: s.describe(),
)
def test_to_torch_of_numpy_model(spec):
    model = random_model(spec, seed=3, scale=2.0)
    m = to_torch(model)
    assert not m.training
    assert all(p.dtype == torch.float64 for p in m.parameters())
    sd = torch_state_dict(model)
    assert list(sd) == list(model.params)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), model.params[k])
        assert torch.equal(v, sd[k])
    x = np.random.default_rng(0).standard_normal((2, 5, spec.input_size) if not spec.cell else (5, 2, spec.input_size))
    expected = torch_cell_run(m, x) if spec.cell else torch_run(m, x)
    assert_trace_matches(model.run(x), expected)


def test_torch_state_dict_is_a_copy():
    model = random_model(Spec("gru", 2, 3))
    sd = torch_state_dict(model)
    sd["weight_ih_l0"].zero_()
    assert np.any(model.params["weight_ih_l0"] != 0)


@pytest.mark.parametrize("variant", ["reset-before", "z-takes", "after-takes"])
def test_to_torch_refuses_other_gru_variants(variant):
    model = random_model(Spec("gru", 2, 3, variant=variant))
    with pytest.raises(SpecError, match=r"only the 'torch' variant.*no torch module"):
        to_torch(model)


@pytest.mark.parametrize("kind", KINDS)
def test_to_torch_of_every_kind(kind):
    """A kind torch.nn has becomes its module (the same numbers); one it lacks is refused, naming it."""
    for spec in (Spec(kind, 2, 3, num_layers=2, bidirectional=True), Spec(kind, 2, 3, cell=True)):
        model = random_model(spec, seed=1, scale=2.0)
        if not TORCH_HAS_MODULE[kind]:
            name = KIND_NAMES[kind]
            with pytest.raises(SpecError, match=rf"{name} has no torch module \(torch.nn has no {name}\); export its "
                                                "weights instead"):
                to_torch(model)
            continue
        x = np.random.default_rng(0).standard_normal((5, 2, 2))
        m = to_torch(model)
        assert_trace_matches(model.run(x), torch_cell_run(m, x) if spec.cell else torch_run(m, x))


# ------------------------------------------------------------------------------------ from_torch refusals


def test_from_torch_refuses_other_modules():
    for m in (nn.Linear(2, 3), nn.Sequential(nn.GRU(2, 3)), nn.MultiheadAttention(4, 1), "gru"):
        with pytest.raises(TypeError, match="from_torch takes one of"):
            from_torch(m)


def test_from_torch_refuses_subclass_with_own_forward():
    class Odd(nn.GRU):
        def forward(self, x, h=None):
            out, h = super().forward(x, h)
            return out * 2, h

    with pytest.raises(TypeError, match="overrides forward"):
        from_torch(Odd(2, 3))


def test_from_torch_accepts_plain_subclass():
    class Named(nn.LSTM):
        pass

    m = Named(2, 3).double()
    check_module(m, T=4, B=2, with_h0=True)


def test_from_torch_refuses_sizes_over_caps():
    with pytest.raises(SpecError, match="hidden_size must be a whole number from 1 to 2048, got 2049"):
        from_torch(nn.RNN(3, 2049))
    with pytest.raises(SpecError, match="num_layers"):
        from_torch(nn.GRU(3, 4, num_layers=5))
    with pytest.raises(SpecError, match="input_size must be a whole number from 1 to 2048, got 2049"):
        from_torch(nn.LSTMCell(2049, 4))


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_a_512_wide_layer_from_torch_matches_it(kind):
    """The issue's example: once refused (the cap was 256), a 512 × 512 layer now runs and matches torch."""
    m = make_module(kind, I=512, H=512, layers=2)
    model = from_torch(m)
    assert (model.spec.input_size, model.spec.hidden_size) == (512, 512)
    x = np.random.default_rng(0).standard_normal((6, 2, 512))
    h0 = initial_state(m, 2, np.random.default_rng(1))
    assert_trace_matches(model.run(x, h0), torch_run(m, x, h0))
    assert_trace_matches(model.run(x[:, 0]), torch_run(m, x[:, 0]))  # unbatched: B = 1, the matrix–vector path


def test_a_2048_wide_layer_is_accepted_and_matches_torch():
    """The widths' cap, 2048, on both sizes (an RNN: one block, the smallest 2048 × 2048 layer)."""
    torch.manual_seed(0)
    m = nn.RNN(2048, 2048).double().eval()
    model = from_torch(m)
    x = np.random.default_rng(0).standard_normal((3, 2048))
    assert_trace_matches(model.run(x), torch_run(m, x))


def test_from_torch_float32_module_is_read_as_float64():
    torch.manual_seed(0)
    m = nn.GRU(3, 4, 2)
    model = from_torch(m)
    for k, v in m.state_dict().items():
        assert model.params[k].dtype == np.float64
        np.testing.assert_array_equal(model.params[k], v.double().numpy())
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    assert_trace_matches(model.run(x), torch_run(m.double(), x))


def test_dropout_is_accepted_and_inactive():
    torch.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5).double()
    with pytest.warns(UserWarning, match="training mode"):
        from_torch(m)
    m.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = from_torch(m)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    assert_trace_matches(model.run(x), torch_run(m, x))


def test_weights_are_copied_not_shared():
    m = nn.GRU(2, 3).double()
    model = from_torch(m)
    before = model.params["weight_hh_l0"].copy()
    with torch.no_grad():
        m.weight_hh_l0.add_(1.0)
    np.testing.assert_array_equal(model.params["weight_hh_l0"], before)


def test_save_pt_round_trip():
    m = make_module("lstm-proj", layers=2, bidir=True)
    model = from_torch(m)
    loaded = load_weights_bytes(save_pt(model), "m.pt")
    assert loaded.spec == model.spec
    for k, v in model.params.items():
        np.testing.assert_array_equal(loaded.params[k], v)


# ---------------------------------------------------------------------------------------------- package


def test_package_imports_without_torch():
    code = (
        "import sys, gru_viz\n"
        "assert 'torch' not in sys.modules, 'import gru_viz imported torch'\n"
        "import gru_viz.io.weights\n"
        "gru_viz.load_weights; gru_viz.WeightsError; gru_viz.from_keras\n"
        "assert 'torch' not in sys.modules, 'gru_viz.io.weights / load_weights imported torch'\n"
        "gru_viz.from_torch\n"
        "assert 'torch' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_package_namespace():
    for name in gru_viz.__all__:
        assert getattr(gru_viz, name) is not None, name
    assert gru_viz.from_torch is from_torch
    assert gru_viz.to_torch is to_torch
    assert "from_torch" in dir(gru_viz)
    with pytest.raises(AttributeError):
        gru_viz.no_such_thing  # noqa: B018
