"""gru_viz.io.weights: safetensors / npz / pt loading (and refusing), state_dict inference, Keras layouts."""

from __future__ import annotations

import io
import os
import pathlib
import pickle
import sys
import time
import zipfile

import h5py  # noqa: F401  (imported here so that the 1-s refusal budget below does not pay the one-time import)
import numpy as np
import onnx  # noqa: F401
import pytest
import safetensors.numpy
import safetensors.torch
import torch
from hostile_weights import SystemPayload, TouchPayload, st_file, tree, zip_bomb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from safetensors import safe_open
from torch import nn

import gru_viz
from gru_viz import Spec, random_model
from gru_viz.core.kinds import KIND, KINDS
from gru_viz.core.spec import KIND_NAMES, param_shapes
from gru_viz.io import weights as W
from gru_viz.io.bridge import from_torch, save_pt
from gru_viz.io.formats import npz, torch_pickle
from gru_viz.io.formats import safetensors as st_format
from gru_viz.io.formats.checks import MAX_PARAMS, MAX_WEIGHTS_BYTES, WeightsError
from gru_viz.io.weights import (
    from_keras,
    infer_spec,
    load_weights,
    load_weights_bytes,
    model_from_state_dict,
    split_state_dict,
)

TOL = {"rtol": 0, "atol": 1e-12}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))



def refused(data: bytes, filename: str, match: str, **kw) -> WeightsError:
    """Loading ``data`` raises WeightsError matching ``match``, in under a second of CPU (this process's CPU time:
    the refusal's own cost, not how busy the machine is)."""
    t0 = time.process_time()
    with pytest.raises(WeightsError, match=match) as info:
        load_weights_bytes(data, filename, **kw)
    assert time.process_time() - t0 < 1.0, "refusal took too long"
    return info.value


# ======================================================================================= safetensors format

ALL_DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64"]


def sample_tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out = {dt: (rng.standard_normal((3, 4)) * 50).astype(dt) for dt in ALL_DTYPES}
    out["bool"] = rng.standard_normal(5) > 0
    out["scalar"] = np.array(2.5)
    out["empty"] = np.zeros((0, 3), np.float32)
    out["big-endian"] = np.arange(6, dtype=">f8").reshape(2, 3)
    out["fortran"] = np.asfortranarray(rng.standard_normal((3, 2)))
    return out


def test_safetensors_round_trip_ours():
    tensors = sample_tensors()
    back = st_format.read(st_format.write(tensors))
    assert set(back) == set(tensors)  # (the package writes tensors sorted by dtype and name)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype.newbyteorder("=")
        assert back[k].flags.writeable
        np.testing.assert_array_equal(back[k], v)


def test_safetensors_ours_read_by_package(tmp_path):
    tensors = sample_tensors()
    data = st_format.write(tensors, {"hello": "world"})
    theirs = safetensors.numpy.load(data)
    assert set(theirs) == set(tensors)
    for k, v in tensors.items():
        np.testing.assert_array_equal(theirs[k], v)
    path = tmp_path / "a.safetensors"
    path.write_bytes(data)
    with safe_open(str(path), framework="numpy") as f:
        assert f.metadata() == {"hello": "world"}


def test_safetensors_package_read_by_ours():
    tensors = {k: v for k, v in sample_tensors().items() if k not in ("big-endian", "fortran")}
    data = safetensors.numpy.save(tensors, metadata={"format": "np", "x": "y"})
    back = st_format.read(data)
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        np.testing.assert_array_equal(back[k], v)
    assert st_format.read_metadata(data) == {"format": "np", "x": "y"}


def test_safetensors_bf16_from_torch():
    t = torch.randn(4, 5).to(torch.bfloat16)
    back = st_format.read(safetensors.torch.save({"w": t, "f": t.float()}))
    assert back["w"].dtype == np.float32
    np.testing.assert_array_equal(back["w"], t.float().numpy())
    np.testing.assert_array_equal(back["f"], t.float().numpy())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda s: s != "__metadata__"),
        hnp.arrays(
            st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint16, np.bool_]),
            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
        ),
        max_size=4,
    )
)
def test_safetensors_property_round_trip_both_ways(tensors):
    ours = st_format.write(tensors)
    for back in (
        st_format.read(ours),
        safetensors.numpy.load(ours),
        st_format.read(safetensors.numpy.save(tensors)),
    ):
        assert set(back) == set(tensors)
        for k, v in tensors.items():
            np.testing.assert_array_equal(back[k], v)
            assert back[k].shape == v.shape


def test_write_safetensors_refuses_unstorable():
    with pytest.raises(WeightsError, match="cannot be stored"):
        st_format.write({"c": np.zeros(2, complex)})
    with pytest.raises(WeightsError, match="not allowed"):
        st_format.write({"__metadata__": np.zeros(2)})


GOOD = {"w": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 32]}}
LYING_HEADERS = {
    "offset past end": (
        st_file({"w": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 4000]}}, b"\0" * 32),
        "'w': data_offsets \\[0, 4000\\] lie outside the 32-byte data section",
    ),
    "header length huge": (st_file(GOOD, b"\0" * 32, n=2**63), "exceeds"),
    "header length past file": (st_file(GOOD, b"\0" * 32, n=10_000), "past the end"),
    "shape product mismatch": (
        st_file({"w": {"dtype": "F64", "shape": [3, 3], "data_offsets": [0, 32]}}, b"\0" * 32),
        "needs 72 bytes",
    ),
    "huge shape": (
        st_file({"w": {"dtype": "F64", "shape": [2**40, 2**40], "data_offsets": [0, 32]}}, b"\0" * 32),
        "needs",
    ),
    "negative dim": (
        st_file({"w": {"dtype": "F64", "shape": [-2, -2], "data_offsets": [0, 32]}}, b"\0" * 32),
        "non-negative",
    ),
    "negative offset": (
        st_file({"w": {"dtype": "F64", "shape": [2, 2], "data_offsets": [-32, 0]}}, b"\0" * 32),
        "non-negative",
    ),
    "float dim": (
        st_file({"w": {"dtype": "F64", "shape": [2.0, 2], "data_offsets": [0, 32]}}, b"\0" * 32),
        "non-negative integers",
    ),
    "bool dim": (
        st_file({"w": {"dtype": "F64", "shape": [True, 4], "data_offsets": [0, 32]}}, b"\0" * 32),
        "non-negative integers",
    ),
    "non-JSON": (st_file(b"{this is not json}", b""), "not valid JSON"),
    "non-UTF-8": (st_file(b"{\xff\xfe}", b""), "not valid JSON"),
    "JSON array": (st_file(b"[1, 2, 3]", b""), "not a JSON object"),
    "deeply nested": (st_file(b'{"w": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b""), "not valid JSON|not an object"),
    "wrong dtype string": (
        st_file({"w": {"dtype": "F128", "shape": [2, 2], "data_offsets": [0, 32]}}, b"\0" * 32),
        "unsupported dtype 'F128'",
    ),
    "fp8 dtype": (
        st_file({"w": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, b"\0" * 4),
        "unsupported dtype",
    ),
    "dtype not a string": (
        st_file({"w": {"dtype": 8, "shape": [2, 2], "data_offsets": [0, 32]}}, b"\0" * 32),
        "unsupported dtype",
    ),
    "missing field": (
        st_file({"w": {"dtype": "F64", "shape": [4]}}, b"\0" * 32),
        "'w': data_offsets must be",
    ),
    "entry not object": (st_file({"w": [1, 2]}, b"\0" * 32), "not an object"),
    "overlap": (
        st_file(
            {
                "a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
                "b": {"dtype": "F64", "shape": [2], "data_offsets": [8, 24]},
            },
            b"\0" * 24,
        ),
        "'b': its data_offsets overlap",
    ),
    "gap": (st_file({"w": {"dtype": "F64", "shape": [2], "data_offsets": [8, 24]}}, b"\0" * 24), "'w': .* gap"),
    "offsets beyond the data": (
        st_file({"w": {"dtype": "F64", "shape": [2], "data_offsets": [4000, 4016]}}, b"\0" * 16),
        "'w': data_offsets \\[4000, 4016\\] lie outside",
    ),
    "trailing bytes": (st_file(GOOD, b"\0" * 40), "belong to no tensor"),
    "duplicate key": (
        st_file(b'{"w": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}, "w": {}}', b"\0" * 8),
        "twice",
    ),
    "metadata not strings": (st_file({"__metadata__": {"a": 1}, **GOOD}, b"\0" * 32), "__metadata__"),
    "too short": (b"\x01\x00\x00", "shorter than"),
    "huge header length only": (b"\xff" * 8, "exceeds"),
}


@pytest.mark.parametrize("case", list(LYING_HEADERS))
def test_safetensors_lying_headers_refused(case):
    data, match = LYING_HEADERS[case]
    t0 = time.process_time()
    with pytest.raises(WeightsError, match=match):
        st_format.read(data)
    assert time.process_time() - t0 < 1.0
    refused(data, "x.safetensors", match)


def test_safetensors_header_checked_before_any_allocation(monkeypatch):
    """A header that lies is refused before a single array is built."""
    calls = []
    monkeypatch.setattr(np, "frombuffer", lambda *a, **k: calls.append(a))
    bad = st_file(
        {
            "a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]},
            "b": {"dtype": "F64", "shape": [10**9], "data_offsets": [8, 16]},
        },
        b"\0" * 16,
    )
    with pytest.raises(WeightsError, match="'b'"):
        st_format.read(bad)
    assert calls == []


# ==================================================================================== loading real models

CONFIGS = {
    "gru": lambda: nn.GRU(3, 4),
    "gru-2l-bidir": lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True),
    "lstm-3l-bidir-proj": lambda: nn.LSTM(2, 5, num_layers=3, bidirectional=True, proj_size=2),
    "lstm-nobias": lambda: nn.LSTM(3, 4, bias=False),
    "rnn-relu-2l-bidir": lambda: nn.RNN(3, 4, num_layers=2, bidirectional=True, nonlinearity="relu"),
    "rnn-tanh-nobias": lambda: nn.RNN(3, 4, bias=False),
    "gru-1unit": lambda: nn.GRU(2, 1),
    "gru-cell": lambda: nn.GRUCell(3, 4),
    "lstm-cell": lambda: nn.LSTMCell(3, 4),
    "rnn-cell-relu": lambda: nn.RNNCell(3, 4, nonlinearity="relu"),
    "rnn-cell-nobias": lambda: nn.RNNCell(3, 4, bias=False),
}


def make(name: str) -> nn.Module:
    torch.manual_seed(sum(map(ord, name)))
    m = CONFIGS[name]().double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(2.0)
    return m


def torch_outputs(m: nn.Module, x: np.ndarray):
    with torch.no_grad():
        if isinstance(m, nn.RNNCellBase):
            state, hs = None, []
            for t in range(x.shape[0]):
                state = m(torch.from_numpy(x[t]), state)
                hs.append(state[0] if isinstance(state, tuple) else state)
            return torch.stack(hs).numpy(), hs[-1].numpy(), state[1].numpy() if isinstance(state, tuple) else None
        out, hn = m(torch.from_numpy(x))
        if isinstance(hn, tuple):
            return out.numpy(), hn[0].numpy(), hn[1].numpy()
        return out.numpy(), hn.numpy(), None


def assert_model_is_module(model, m: nn.Module) -> None:
    sd = m.state_dict()
    assert list(model.params) == list(sd)
    for k, v in sd.items():
        np.testing.assert_array_equal(model.params[k], v.numpy())
    x = np.random.default_rng(0).standard_normal((5, 2, m.input_size))
    out, hn, cn = torch_outputs(m, x)
    trace = model.run(x)
    np.testing.assert_allclose(trace.output, out, **TOL)
    np.testing.assert_allclose(trace.h_n, hn, **TOL)
    if cn is not None:
        np.testing.assert_allclose(trace.c_n, cn, **TOL)


def write_format(fmt: str, m: nn.Module, path: pathlib.Path) -> pathlib.Path:
    sd = {k: v.contiguous() for k, v in m.state_dict().items()}
    if fmt == "safetensors-ours":
        path = path.with_suffix(".safetensors")
        path.write_bytes(W.save_safetensors(from_torch(m)))
    elif fmt == "safetensors-package":
        path = path.with_suffix(".safetensors")
        safetensors.torch.save_file(sd, str(path))
    elif fmt == "npz":
        path = path.with_suffix(".npz")
        np.savez(path, **{k: v.numpy() for k, v in sd.items()})
    elif fmt == "npz-ours":
        path = path.with_suffix(".npz")
        path.write_bytes(W.save_npz(from_torch(m)))
    elif fmt == "pt":
        path = path.with_suffix(".pt")
        torch.save(m.state_dict(), path)
    elif fmt == "pt-ours":
        path = path.with_suffix(".pt")
        path.write_bytes(save_pt(from_torch(m)))
    elif fmt == "pth-checkpoint":
        path = path.with_suffix(".pth")
        torch.save({"state_dict": m.state_dict(), "epoch": 3, "lr": 0.1}, path)
    elif fmt == "pth-model-state-dict":
        path = path.with_suffix(".pth")
        torch.save({"model_state_dict": m.state_dict(), "optimizer_state_dict": {"state": {}}}, path)
    return path


FORMATS = [
    "safetensors-ours",
    "safetensors-package",
    "npz",
    "npz-ours",
    "pt",
    "pt-ours",
    "pth-checkpoint",
    "pth-model-state-dict",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_load_weights_every_format_and_kind(fmt, name, tmp_path):
    m = make(name)
    path = write_format(fmt, m, tmp_path / "weights")
    relu = getattr(m, "nonlinearity", None) == "relu"
    hint = {"nonlinearity": "relu"} if relu and fmt != "safetensors-ours" else {}
    model = load_weights(path, **hint)
    assert model.spec == from_torch(m).spec.with_(batch_first=False)
    assert_model_is_module(model, m)
    assert gru_viz.load_weights(str(path), **hint).spec == model.spec


def test_load_float32_and_bf16_weights(tmp_path):
    torch.manual_seed(0)
    m = nn.LSTM(3, 4, 2)
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        sd = {k: v.to(dtype) for k, v in m.state_dict().items()}
        data = safetensors.torch.save(sd)
        model = load_weights_bytes(data, "w.safetensors")
        for k, v in sd.items():
            assert model.params[k].dtype == np.float64
            np.testing.assert_array_equal(model.params[k], v.double().numpy())


@pytest.mark.parametrize("variant", list(gru_viz.GRU_VARIANTS))
@pytest.mark.parametrize("saver", ["safetensors", "npz", "pt"])
def test_numpy_only_models_round_trip(variant, saver):
    """GRU variants (and RNN relu) survive our safetensors via metadata; npz/pt need the hint."""
    for spec in (Spec("gru", 3, 4, num_layers=2, variant=variant), Spec("rnn", 2, 3, nonlinearity="relu")):
        model = random_model(spec, seed=1)
        if saver == "safetensors":
            back = load_weights_bytes(W.save_safetensors(model), "m.safetensors")
        else:
            data = W.save_npz(model) if saver == "npz" else save_pt(model)
            hint = {"variant": variant} if spec.kind == "gru" else {"nonlinearity": "relu"}
            back = load_weights_bytes(data, f"m.{saver}", **hint)
            assert load_weights_bytes(data, f"m.{saver}").spec == spec.with_(variant="torch", nonlinearity="tanh")
        assert back.spec == spec
        for k, v in model.params.items():
            np.testing.assert_array_equal(back.params[k], v)


# The kinds without W_hh: weight_ih's G·H rows alone may not say the kind. Per spec, whether its shapes settle it,
# worked out by hand: G = 2 (minGRU) or 3 (minLSTM) must divide the rows, and a second layer reads D·H values.
SETTLED_BY_SHAPES = {
    Spec("mingru", 3, 4): True,  # 8 rows: not 3H
    Spec("mingru", 3, 4, num_layers=3, bidirectional=True): True,
    Spec("mingru", 2, 1, bias=False): True,  # 2 rows
    Spec("mingru", 3, 3): False,  # 6 rows: a minGRU of 3 or a minLSTM of 2
    Spec("minlstm", 3, 3): True,  # 9 rows: not 2H
    Spec("minlstm", 2, 1, bias=False): True,  # 3 rows
    Spec("minlstm", 3, 4): False,  # 12 rows: a minLSTM of 4 or a minGRU of 6
    Spec("minlstm", 3, 4, num_layers=3, bidirectional=True): True,  # 12 rows, but layer 1 reads 8 = 2·4, not 2·6
    Spec("minlstm", 3, 2, cell=True): False,  # 6 rows
}


def test_settled_by_shapes_covers_every_kind_without_w_hh():
    assert {s.kind for s in SETTLED_BY_SHAPES} == {k for k in KINDS if not KIND[k].recurrent}


@pytest.mark.parametrize("spec", list(SETTLED_BY_SHAPES), ids=lambda s: s.describe())
def test_kinds_without_w_hh_round_trip_through_our_files(spec):
    """Our .safetensors, .npz and .pt record the kind: they load back as the same model, with no hint."""
    model = random_model(spec, seed=2)
    x = np.random.default_rng(0).standard_normal((6, 2, spec.input_size))
    ours = ((W.save_safetensors(model), "m.safetensors"), (W.save_npz(model), "m.npz"), (save_pt(model), "m.pt"))
    for data, fname in ours:
        loaded = W.read_weights_bytes(data, fname)
        assert loaded.model.spec == spec and loaded.read[:1] == [f"kind: {spec.kind}"]
        for k, v in model.params.items():
            np.testing.assert_array_equal(loaded.model.params[k], v)
        np.testing.assert_allclose(loaded.model.run(x).output, model.run(x).output, **TOL)
    assert infer_spec(model.params, spec.kind) == spec
    with pytest.raises(WeightsError, match=r"missing key weight_hh(_l0)? \(a GRU layer needs it\)"):
        infer_spec(model.params, "gru")


@pytest.mark.parametrize("spec", list(SETTLED_BY_SHAPES), ids=lambda s: s.describe())
def test_kinds_without_w_hh_from_shapes_alone(spec):
    """A plain state_dict (torch's .pt, anyone's .npz) says the kind only where its shapes do; else the loader
    asks for the kind by name, and with it loads."""
    model = random_model(spec, seed=3)
    plain_npz, plain_pt = io.BytesIO(), io.BytesIO()
    np.savez(plain_npz, **model.params)
    torch.save({k: torch.from_numpy(v) for k, v in model.params.items()}, plain_pt)
    for data, fname in ((plain_npz.getvalue(), "m.npz"), (plain_pt.getvalue(), "m.pt")):
        if SETTLED_BY_SHAPES[spec]:
            assert load_weights_bytes(data, fname).spec == spec
        else:
            refused(data, fname, r"rows and there is no weight_hh.*a minGRU of \d+ units? \(2H rows\) or a minLSTM "
                                 r"of \d+ units? \(3H rows\), and the file does not say which; pass kind='mingru' "
                                 r"or kind='minlstm'")
        assert load_weights_bytes(data, fname, kind=spec.kind).spec == spec


def test_our_npz_and_pt_stay_plain_state_dicts_where_the_shapes_say_the_kind():
    """Only a kind without W_hh gets the gru_viz.kind member (entry); np.load and torch.load(weights_only=True)
    read it without pickle."""
    gru = random_model(Spec("gru", 2, 3))
    assert sorted(np.load(io.BytesIO(W.save_npz(gru)), allow_pickle=False).files) == sorted(gru.params)
    assert sorted(torch.load(io.BytesIO(save_pt(gru)), weights_only=True)) == sorted(gru.params)
    minlstm = random_model(Spec("minlstm", 2, 3))
    assert str(np.load(io.BytesIO(W.save_npz(minlstm)), allow_pickle=False)["gru_viz.kind"]) == "minlstm"
    assert torch.load(io.BytesIO(save_pt(minlstm)), weights_only=True)["gru_viz.kind"] == "minlstm"


@pytest.mark.parametrize(
    ("member", "match"),
    [(np.array("x" * 65), "not one string of at most 64 characters"),
     (np.array(["minlstm", "gru"]), "not one string"),
     (np.array(3.0), "not one string"),
     (np.array("transformer"), "unknown kind hint 'transformer'")],
    ids=["long", "two", "number", "unknown-kind"],
)
def test_npz_metadata_is_checked(member, match):
    model = random_model(Spec("minlstm", 2, 3))
    buf = io.BytesIO()
    np.savez(buf, **model.params, **{"gru_viz.kind": member})
    refused(buf.getvalue(), "m.npz", match)


@pytest.mark.parametrize(
    ("value", "match"),
    [("x" * 65, "not one string of at most 64 characters"), (3, "not one string"),
     ("rnn", r"missing key weight_hh_l0 \(a vanilla RNN layer needs it\)"),
     ("transformer", "unknown kind hint 'transformer'")],
    ids=["long", "number", "other-kind", "unknown-kind"],
)
def test_pt_metadata_is_checked(value, match):
    buf = io.BytesIO()
    torch.save({**{k: torch.from_numpy(v) for k, v in random_model(Spec("minlstm", 2, 3)).params.items()},
                "gru_viz.kind": value}, buf)
    refused(buf.getvalue(), "m.pt", match)


def test_npz_metadata_kind_is_checked_against_the_shapes():
    buf = io.BytesIO()
    np.savez(buf, **random_model(Spec("lstm", 2, 3)).params, **{"gru_viz.kind": np.array("minlstm")})
    refused(buf.getvalue(), "m.npz", "the kind hint says minLSTM, but the file has weight_hh keys")


@pytest.mark.parametrize(
    ("rows", "kind", "match"),
    [(5, None, r"minGRU or minLSTM weights, but weight_ih_l0 has 5 rows where a minGRU has 2H and a minLSTM has 3H"),
     (7, None, "has 7 rows where a minGRU has 2H"),
     (8, "minlstm", r"minLSTM weights, but weight_ih_l0 has 8 rows where a minLSTM has 3H"),
     (9, "mingru", r"minGRU weights, but weight_ih_l0 has 9 rows where a minGRU has 2H")],
)
def test_rows_that_fit_no_kind_without_w_hh_are_refused(rows, kind, match):
    with pytest.raises(WeightsError, match=r"missing key weight_hh_l0: .*" + match):
        infer_spec({"weight_ih_l0": np.zeros((rows, 2))}, kind)


def test_load_weights_overrides_metadata_hint_checks_shapes():
    model = random_model(Spec("lstm", 3, 4))
    data = W.save_safetensors(model)
    with pytest.raises(WeightsError, match=r"kind hint says GRU.*LSTM"):
        load_weights_bytes(data, "m.safetensors", kind="gru")


# =========================================================================================== infer_spec


def state_dict_of(m: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in m.double().state_dict().items()}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_infer_spec_matches_module(name):
    m = make(name)
    nl = {"nonlinearity": "relu"} if getattr(m, "nonlinearity", None) == "relu" else {}
    assert infer_spec(state_dict_of(m), **nl) == from_torch(m).spec.with_(batch_first=False)


@pytest.mark.parametrize(
    ("module", "kind"),
    [(nn.GRU(2, 1), "gru"), (nn.LSTM(1, 1), "lstm"), (nn.RNN(1, 1), "rnn"), (nn.GRUCell(1, 1), "gru")],
)
def test_infer_spec_one_unit_models(module, kind):
    spec = infer_spec(state_dict_of(module))
    assert spec.kind == kind and spec.hidden_size == 1
    for other in set(KINDS) - {kind}:
        what = "which is a" if KIND[other].recurrent else "but the file has weight_hh keys"
        with pytest.raises(WeightsError, match=f"kind hint says {KIND_NAMES[other]}, .*{what}"):
            infer_spec(state_dict_of(module), other)


def test_infer_spec_kind_hint_and_other_hints():
    sd = state_dict_of(nn.GRU(2, 3))
    assert infer_spec(sd, "GRU").kind == "gru"
    assert infer_spec(sd, variant="z-takes").variant == "z-takes"
    with pytest.raises(WeightsError, match="unknown kind hint 'transformer'"):
        infer_spec(sd, "transformer")
    with pytest.raises(WeightsError, match="nonlinearity hint applies to an RNN only"):
        infer_spec(sd, nonlinearity="relu")
    with pytest.raises(WeightsError, match="unknown GRU variant"):
        infer_spec(sd, variant="nope")
    with pytest.raises(WeightsError, match="variant hint applies to a GRU only"):
        infer_spec(state_dict_of(nn.LSTM(2, 3)), variant="torch")
    with pytest.raises(WeightsError, match=r"these weights do not describe a supported model.*nonlinearity"):
        infer_spec(state_dict_of(nn.RNN(2, 3)), nonlinearity="sigmoid")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 3)
        self.rnn = nn.GRU(3, 4, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(8, 2)
        self.scale = nn.Parameter(torch.ones(1))


def test_prefix_stripped_and_other_submodules_ignored(tmp_path):
    torch.manual_seed(0)
    net = Net().double()
    sd = state_dict_of(net)
    local, prefix, ignored = split_state_dict(sd)
    assert prefix == "rnn."
    assert sorted(ignored) == ["embedding.weight", "fc.bias", "fc.weight", "scale"]
    assert set(local) == set(net.rnn.state_dict())
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    assert_model_is_module(load_weights(path), net.rnn)
    # nn.DataParallel-style "module." on top
    wrapped = {"module." + k: v for k, v in sd.items()}
    assert split_state_dict(wrapped)[1] == "module.rnn."
    assert infer_spec(wrapped) == from_torch(net.rnn).spec


def test_prefix_refusals():
    sd = state_dict_of(nn.GRU(2, 3))
    with pytest.raises(WeightsError, match=r"several prefixes: 'decoder\.', 'encoder\.'"):
        infer_spec({**{"encoder." + k: v for k, v in sd.items()}, **{"decoder." + k: v for k, v in sd.items()}})
    with pytest.raises(WeightsError, match=r"several prefixes: '' \(top level\), 'rnn\.'"):
        infer_spec({**sd, "rnn.weight_ih_l0": sd["weight_ih_l0"]})
    with pytest.raises(WeightsError, match=r"unexpected keys under the prefix 'rnn\.': rnn\.extra"):
        infer_spec({**{"rnn." + k: v for k, v in sd.items()}, "rnn.extra": np.zeros(2)})
    with pytest.raises(WeightsError, match=r"unexpected keys alongside the recurrent weights: fc\.weight, junk"):
        infer_spec({**sd, "fc.weight": np.zeros((2, 2)), "junk": np.zeros(1)})
    with pytest.raises(WeightsError, match=r"no recurrent weights found.*fc.weight"):
        infer_spec({"fc.weight": np.zeros((2, 2))})


def test_state_dict_inconsistencies_name_the_key():
    sd = state_dict_of(nn.LSTM(3, 4, num_layers=2, bidirectional=True))
    cases = {
        "missing key": ({k: v for k, v in sd.items() if k != "bias_hh_l1_reverse"}, "missing key bias_hh_l1_reverse"),
        "wrong shape": ({**sd, "weight_ih_l1": np.zeros((16, 7))}, r"weight_ih_l1 has shape \(16, 7\)"),
        "NaN": ({**sd, "weight_hh_l1": np.full((16, 4), np.nan)}, "weight_hh_l1 contains NaN"),
        "inf": ({**sd, "bias_ih_l0": np.full(16, np.inf)}, "bias_ih_l0 contains NaN or infinity"),
        "3-D weight": ({**sd, "weight_hh_l0": np.zeros((16, 4, 1))}, "weight_hh_l0 must be 2-D"),
        "2-D bias": ({**sd, "bias_ih_l1": np.zeros((16, 1))}, "bias_ih_l1 must be 1-D"),
        "layer gap": (
            {k: v for k, v in sd.items() if "_l1" not in k} | {"weight_ih_l2": np.zeros((16, 8))},
            "missing key weight_ih_l1",
        ),
        "extra proj": ({**sd, "weight_hr_l0": np.zeros((2, 4))}, "missing keys weight_hr_l0_reverse, weight_hr_l1"),
        "odd gates": (
            {**sd, "weight_hh_l0": np.zeros((8, 4)), "weight_ih_l0": np.zeros((8, 3))},
            "rows must be 1, 3 or 4 times",
        ),
        "cell mixed": ({**sd, "weight_ih": np.zeros((16, 3))}, "cell keys .* mixed with layer keys"),
        "over hidden cap": (  # an RNN one unit past the cap, in float16 so that its file stays small
            {"weight_ih_l0": np.zeros((2049, 3), np.float16), "weight_hh_l0": np.zeros((2049, 2049), np.float16)},
            "weight_ih_l0: hidden size 2049 is outside 1…2048",
        ),
        "over input cap": (
            {"weight_ih_l0": np.zeros((12, 2049)), "weight_hh_l0": np.zeros((12, 4))},
            "weight_ih_l0: input size 2049 is outside 1…2048",
        ),
        "over layer cap": (
            {f"{n}_l{k}": sd[f"{n}_l0"] for n in ("weight_ih", "weight_hh") for k in range(6)},
            "weight_ih_l5: 6 layers",
        ),
        "string values": ({**sd, "bias_ih_l0": np.array(["a"] * 16)}, "bias_ih_l0 has dtype <U1"),
    }
    for what, (params, match) in cases.items():
        with pytest.raises(WeightsError, match=match):
            model_from_state_dict(params)
        data = (
            st_format.write(params)
            if params["weight_ih_l0"].dtype.kind == "f" and what != "string values"
            else None
        )
        if data is not None:
            refused(data, "bad.safetensors", match)


def test_widths_follow_the_core_caps_and_an_upload_keeps_the_apps():
    """load_weights reads what the core runs (2048 wide); the app's upload keeps its own cap, the pages' 512."""
    from gru_viz.io import upload

    model = random_model(Spec("rnn", 2, upload.MAX_UPLOAD_SIZE + 1), seed=0)
    data = W.save_safetensors(model)
    loaded = load_weights_bytes(data, "wide.safetensors")
    assert loaded.spec.hidden_size == upload.MAX_UPLOAD_SIZE + 1 == 513
    x = np.random.default_rng(0).standard_normal((4, 2))
    np.testing.assert_array_equal(loaded.run(x).output, model.run(x).output)
    with pytest.raises(WeightsError, match=r"wide.safetensors: hidden size 513 is outside 1…512, this app's cap"):
        upload.read_upload(data, "wide.safetensors")
    at_cap = W.save_safetensors(random_model(Spec("rnn", 2, upload.MAX_UPLOAD_SIZE), seed=0))
    assert upload.read_upload(at_cap, "wide.safetensors").model.spec.hidden_size == 512
    shapes = {"weight_ih_l0": (2049, 3), "weight_hh_l0": (2049, 2049)}  # an RNN one unit past the cap
    with pytest.raises(WeightsError, match="hidden size 2049 is outside 1…2048"):
        model_from_state_dict({k: np.broadcast_to(np.float32(0), s) for k, s in shapes.items()})


def test_parameter_count_cap():
    """A 4-layer bidirectional LSTM 256 wide is within Spec but over MAX_PARAMS; refused before conversion."""
    shapes = param_shapes(Spec("lstm", 256, 256, num_layers=4, bidirectional=True))
    assert sum(np.prod(s) for s in shapes.values()) > MAX_PARAMS
    params = {k: np.broadcast_to(np.float32(0), s) for k, s in shapes.items()}  # no memory behind them
    t0 = time.process_time()
    with pytest.raises(WeightsError, match="more than the limit of 5000000"):
        model_from_state_dict(params)
    assert time.process_time() - t0 < 1.0


# ================================================================================================== Keras


def keras_gru(x, kernel, rk, bias, reset_after):
    """Keras's GRUCell.call, transcribed: columns z, r, h; h = z * h_prev + (1 - z) * hh. x is (B, T, I)."""
    u = rk.shape[0]
    h = np.zeros((x.shape[0], u))
    outs = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        if reset_after:
            in_b, rec_b = (bias[0], bias[1]) if bias is not None else (0.0, 0.0)
            matrix_x = xt @ kernel + in_b
            x_z, x_r, x_h = matrix_x[:, :u], matrix_x[:, u : 2 * u], matrix_x[:, 2 * u :]
            matrix_inner = h @ rk + rec_b
            rec_z, rec_r, rec_h = matrix_inner[:, :u], matrix_inner[:, u : 2 * u], matrix_inner[:, 2 * u :]
            z = sigmoid(x_z + rec_z)
            r = sigmoid(x_r + rec_r)
            hh = np.tanh(x_h + r * rec_h)
        else:
            b = bias if bias is not None else np.zeros(3 * u)
            x_z = xt @ kernel[:, :u] + b[:u]
            x_r = xt @ kernel[:, u : 2 * u] + b[u : 2 * u]
            x_h = xt @ kernel[:, 2 * u :] + b[2 * u :]
            z = sigmoid(x_z + h @ rk[:, :u])
            r = sigmoid(x_r + h @ rk[:, u : 2 * u])
            hh = np.tanh(x_h + (r * h) @ rk[:, 2 * u :])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, axis=1), h


def keras_lstm(x, kernel, rk, bias):
    """Keras's LSTMCell.call: gates i, f, c, o; c = f * c + i * tanh(c_); h = o * tanh(c)."""
    u = rk.shape[0]
    h = c = np.zeros((x.shape[0], u))
    outs = []
    for t in range(x.shape[1]):
        zz = x[:, t] @ kernel + h @ rk + (bias if bias is not None else 0.0)
        i, f, cc, o = (zz[:, k * u : (k + 1) * u] for k in range(4))
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o)
        c = f * c + i * np.tanh(cc)
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs, axis=1), h, c


def keras_simple_rnn(x, kernel, rk, bias, act=np.tanh):
    h = np.zeros((x.shape[0], rk.shape[0]))
    outs = []
    for t in range(x.shape[1]):
        h = act(x[:, t] @ kernel + (bias if bias is not None else 0.0) + h @ rk)
        outs.append(h)
    return np.stack(outs, axis=1), h


def keras_arrays(kind, I, u, bias_shape, prefix="", seed=0):
    rng = np.random.default_rng(seed)
    g = {"gru": 3, "lstm": 4, "rnn": 1}[kind]
    arrays = {
        prefix + "kernel": rng.uniform(-1, 1, (I, g * u)),
        prefix + "recurrent_kernel": rng.uniform(-1, 1, (u, g * u)),
    }
    if bias_shape is not None:
        arrays[prefix + "bias"] = rng.uniform(-1, 1, bias_shape)
    return arrays


def npz_bytes(arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("prefix", ["", "gru/gru_cell/", "model.layer."])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("with_bias", [True, False])
def test_keras_gru(prefix, reset_after, with_bias):
    I, u = 3, 5
    bias_shape = ((2, 3 * u) if reset_after else (3 * u,)) if with_bias else None
    arrays = keras_arrays("gru", I, u, bias_shape, prefix)
    if with_bias:
        arrays = {
            k.replace("kernel", "kernel:0").replace("bias", "bias:0") if "/" in k else k: v for k, v in arrays.items()
        }
        model = load_weights_bytes(npz_bytes(arrays), "keras.npz")
    else:
        model = from_keras(arrays, "gru", reset_after=reset_after)
    assert model.spec.kind == "gru" and model.spec.batch_first and model.spec.bias == with_bias
    assert model.spec.variant == ("torch" if reset_after else "reset-before")
    vals = list(arrays.values())
    x = np.random.default_rng(1).standard_normal((2, 7, I))  # Keras: (batch, time, features)
    out, h = keras_gru(x, vals[0], vals[1], vals[2] if with_bias else None, reset_after)
    trace = model.run(x)
    np.testing.assert_allclose(trace.output, out, **TOL)
    np.testing.assert_allclose(trace.h_n[0], h, **TOL)


@pytest.mark.parametrize("with_bias", [True, False])
def test_keras_lstm(with_bias):
    I, u = 4, 3
    arrays = keras_arrays("lstm", I, u, (4 * u,) if with_bias else None, "lstm/")
    model = load_weights_bytes(npz_bytes(arrays), "keras.npz", kind="lstm")
    assert model.spec.kind == "lstm" and model.spec.bias == with_bias
    vals = list(arrays.values())
    x = np.random.default_rng(2).standard_normal((3, 6, I))
    out, h, c = keras_lstm(x, vals[0], vals[1], vals[2] if with_bias else None)
    trace = model.run(x)
    np.testing.assert_allclose(trace.output, out, **TOL)
    np.testing.assert_allclose(trace.h_n[0], h, **TOL)
    np.testing.assert_allclose(trace.c_n[0], c, **TOL)


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_keras_simple_rnn(act):
    arrays = keras_arrays("rnn", 2, 4, (4,))
    model = load_weights_bytes(npz_bytes(arrays), "keras.npz", nonlinearity=act if act == "relu" else None)
    x = np.random.default_rng(3).standard_normal((2, 5, 2))
    fn = np.tanh if act == "tanh" else (lambda a: np.maximum(a, 0))
    out, _ = keras_simple_rnn(x, arrays["kernel"], arrays["recurrent_kernel"], arrays["bias"], fn)
    np.testing.assert_allclose(model.run(x).output, out, **TOL)


def test_keras_gru_matches_torch_gru_after_conversion():
    """The reference doc's PyTorch -> Keras rule (reorder r,z,n -> z,r,n, transpose, bias rows) inverts ours."""
    torch.manual_seed(0)
    m = nn.GRU(3, 4).double()
    sd = state_dict_of(m)

    def to_zrn(a):
        r, z, n = np.split(a, 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    arrays = {
        "kernel": to_zrn(sd["weight_ih_l0"]).T,
        "recurrent_kernel": to_zrn(sd["weight_hh_l0"]).T,
        "bias": np.stack([to_zrn(sd["bias_ih_l0"]), to_zrn(sd["bias_hh_l0"])]),
    }
    model = from_keras(arrays)
    for k, v in sd.items():
        np.testing.assert_array_equal(model.params[k], v)


def test_keras_refusals():
    arrays = keras_arrays("gru", 3, 4, (2, 12))
    with pytest.raises(WeightsError, match="reset_after=True, not False"):
        from_keras(arrays, reset_after=False)
    with pytest.raises(WeightsError, match="kind hint says LSTM"):
        from_keras(arrays, "lstm")
    with pytest.raises(WeightsError, match=r"bias has shape \(5,\)"):
        from_keras({**arrays, "bias": np.zeros(5)})
    with pytest.raises(WeightsError, match="columns must be 1, 3 or 4 times its rows"):
        from_keras({**arrays, "recurrent_kernel": np.zeros((4, 8))})
    with pytest.raises(WeightsError, match=r"kernel has shape \(3, 8\)"):
        from_keras({**arrays, "kernel": np.zeros((3, 8))})
    with pytest.raises(WeightsError, match="recurrent_kernel contains NaN"):
        from_keras({**arrays, "recurrent_kernel": np.full((4, 12), np.nan)})
    with pytest.raises(WeightsError, match="unexpected keys alongside the Keras"):
        load_weights_bytes(npz_bytes({**arrays, "dense/weights": np.zeros(2)}), "k.npz")
    with pytest.raises(WeightsError, match="several prefixes"):
        load_weights_bytes(npz_bytes({**keras_arrays("gru", 3, 4, None, "a/"), "b/bias": np.zeros(12)}), "k.npz")
    nobias = npz_bytes(keras_arrays("gru", 3, 4, None))
    with pytest.raises(W.HintNeeded, match="do not say where the reset gate acts") as info:
        load_weights_bytes(nobias, "k.npz")  # a bias-free Keras GRU does not say reset_after: asked, not guessed
    assert info.value.hint == "variant" and set(info.value.choices) == {"torch", "reset-before"}
    assert load_weights_bytes(nobias, "k.npz", variant="torch").spec.variant == "torch"
    assert load_weights_bytes(nobias, "k.npz", variant="reset-before").spec.variant == "reset-before"
    with pytest.raises(WeightsError, match="a Keras GRU is the 'torch' or 'reset-before' variant"):
        load_weights_bytes(nobias, "k.npz", variant="z-takes")
    with pytest.raises(WeightsError, match="need 'kernel' and 'recurrent_kernel'"):
        from_keras({"kernel": np.zeros((3, 12))})


# ======================================================================================== hostile files


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working directory whose file tree must not change while hostile files are loaded."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for d in ("pwned", "files"):  # where the tests write their own files (and remove them again)
        (tmp_path / d).mkdir()
        (tmp_path / d / "keep").touch()
    monkeypatch.chdir(cwd)
    before = tree(tmp_path)
    yield tmp_path
    assert tree(tmp_path) == before, "loading wrote to disk"


def pickle_payloads(target: pathlib.Path) -> dict[str, bytes]:
    out = {}
    for name, payload in (("touch", TouchPayload(target)), ("system", SystemPayload(target))):
        out[f"raw-pickle-{name}"] = pickle.dumps(payload)
        out[f"raw-pickle-p2-{name}"] = pickle.dumps({"weight_ih_l0": payload}, protocol=2)
        buf = io.BytesIO()
        torch.save({"weight_ih_l0": torch.zeros(3, 2), "evil": payload}, buf)
        out[f"torch-save-{name}"] = buf.getvalue()
        buf = io.BytesIO()
        torch.save({"state_dict": payload}, buf)
        out[f"torch-save-wrapped-{name}"] = buf.getvalue()
    buf = io.BytesIO()
    torch.save(nn.GRU(2, 3), buf)  # a whole pickled module, not a state_dict
    out["pickled-module"] = buf.getvalue()
    return out


@pytest.mark.parametrize("ext", [".pt", ".pth"])
def test_malicious_pickles_refused_and_not_run(ext, sandbox):
    target = sandbox / "pwned" / "created-by-pickle"
    for name, data in pickle_payloads(target).items():
        err = refused(data, "weights" + ext, "refused: this .pt file contains objects other than tensors")
        if name.startswith("torch-save") or "p2" in name:
            assert "(it asks for " in str(err), (name, str(err))  # names the refused global
            if "system" in name:
                assert "it asks for posix.system" in str(err)
        if name == "pickled-module":
            assert "it asks for torch.nn.modules.rnn.GRU" in str(err)
        assert not target.exists(), f"{name}: the payload ran"
        with pytest.raises(WeightsError):
            torch_pickle.read(data)
        assert not target.exists()
    # via a file on disk too
    path = sandbox / "pwned" / ("evil" + ext)
    path.write_bytes(pickle_payloads(target)["torch-save-touch"])
    before = tree(sandbox)
    with pytest.raises(WeightsError, match="objects other than tensors"):
        load_weights(path)
    assert tree(sandbox) == before and not target.exists()
    path.unlink()


def npz_with(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npz_lying_header(shape: tuple[int, ...], payload: bytes = bytes(16), descr: str = "<f8") -> bytes:
    """An .npz whose one .npy header declares ``shape`` over only ``payload``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zf.open("weight_ih_l0.npy", "w") as f:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
        f.write(header.getvalue() + payload)
    return buf.getvalue()


def hostile_files() -> dict[str, tuple[bytes, str, str]]:
    sd = state_dict_of(nn.GRU(2, 3))
    return {
        "npz object array": (npz_with(weight_ih_l0=np.array([{"a": 1}, None], dtype=object)), "x.npz", "object array"),
        "npz string array": (npz_with(weight_ih_l0=np.array(["a", "b"])), "x.npz", "not real numbers"),
        "npz complex array": (npz_with(weight_ih_l0=np.zeros(2, complex)), "x.npz", "not real numbers"),
        "npz structured": (npz_with(w=np.zeros(2, dtype=[("a", "f8")])), "x.npz", "not real numbers"),
        "npz bomb": (zip_bomb, "x.npz", "would unpack to"),
        "npz lying header huge": (
            npz_lying_header((10**12,)),
            "x.npz",
            r"needs 8000000000000 bytes, the archive holds 16",
        ),
        "npz lying header small": (npz_lying_header((1,)), "x.npz", "needs 8 bytes, the archive holds 16"),
        "npz object header": (npz_lying_header((2,), descr="|O"), "x.npz", "object array"),
        "npz non-npy member": (_zip_with_text(), "x.npz", "not a .npy array"),
        "npy named npz": (_npy_bytes(), "x.npz", "does not start with 'PK'"),
        "npz junk after PK": (b"PK\x03\x04" + os.urandom(200), "x.npz", "not a readable .npz"),
        "junk .safetensors": (
            b"\x00" * 8 + os.urandom(100), "x.safetensors", "too short|not a JSON|not valid JSON|past the end"
        ),
        "junk .pt": (os.urandom(300), "x.pt", "not a readable .pt|not a torch file"),
        "junk zip .pt": (b"PK\x03\x04" + os.urandom(300), "x.pt", "not a readable"),
        "empty .safetensors": (b"", "x.safetensors", "empty"),
        "empty .npz": (b"", "x.npz", "empty"),
        "empty .pt": (b"", "x.pt", "empty"),
        "wrong extension .bin": (
            st_format.write(sd),
            "x.bin",
            r"unsupported weights file 'x.bin'; supported: .safetensors",
        ),
        "safetensors named .h5": (st_format.write(sd), "x.weights.h5", "not an HDF5 file"),
        "safetensors named .keras": (st_format.write(sd), "x.keras", "does not start with 'PK'"),
        "safetensors named .onnx": (st_format.write(sd), "x.onnx", "not a readable ONNX file|no graph"),
        "no extension": (st_format.write(sd), "weights", "unsupported weights file"),
        "oversize": (lambda: bytes(MAX_WEIGHTS_BYTES + 1), "x.safetensors", "more than the limit"),
        "NaN": (
            st_format.write({**sd, "weight_hh_l0": np.full((9, 3), np.nan)}),
            "x.safetensors",
            "weight_hh_l0 contains NaN",
        ),
        "wrong shape": (npz_with(**{**sd, "bias_hh_l0": np.zeros(8)}), "x.npz", r"bias_hh_l0 has shape \(8,\)"),
        "missing key": (
            npz_with(**{k: v for k, v in sd.items() if k != "weight_hh_l0"}),
            "x.npz",
            "missing key weight_hh_l0",
        ),
        "unexpected keys": (
            npz_with(**sd, backdoor=np.zeros(1)),
            "x.npz",
            "unexpected keys alongside the recurrent weights: backdoor",
        ),
        "no tensors": (st_format.write({}), "x.safetensors", "no arrays"),
        "pt list": (_torch_bytes([torch.zeros(2)]), "x.pt", "holds a list, not a state_dict"),
        "pt non-tensor value": (
            _torch_bytes({"weight_ih_l0": 3}),
            "x.pt",
            "'weight_ih_l0' of the .pt state_dict is a int",
        ),
        "pt complex tensor": (
            _torch_bytes({"weight_ih_l0": torch.zeros(2, dtype=torch.complex64)}),
            "x.pt",
            "not a dense real",
        ),
        "pt NaN": (_torch_bytes({k: torch.from_numpy(v) * np.nan for k, v in sd.items()}), "x.pt", "contains NaN"),
    }


def _zip_with_text() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    return buf.getvalue()


def _npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


HOSTILE = hostile_files()  # big ones are built on use


def hostile(case: str) -> tuple[bytes, str, str]:
    data, filename, match = HOSTILE[case]
    return (data() if callable(data) else data), filename, match


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_refused(case, sandbox):
    refused(*hostile(case))


def test_hostile_files_on_disk(sandbox):
    d = sandbox / "files"
    for case in HOSTILE:
        if case == "oversize":
            continue
        data, filename, match = hostile(case)
        path = d / filename
        path.write_bytes(data)
        before = tree(sandbox)
        with pytest.raises(WeightsError, match=match):
            load_weights(path)
        assert tree(sandbox) == before, case
        path.unlink()


def test_load_weights_path_refusals(tmp_path):
    with pytest.raises(WeightsError, match="no such weights file"):
        load_weights(tmp_path / "missing.safetensors")
    (tmp_path / "dir.safetensors").mkdir()
    with pytest.raises(WeightsError, match="is a directory"):
        load_weights(tmp_path / "dir.safetensors")
    big = tmp_path / "big.safetensors"
    with big.open("wb") as f:  # sparse: refused from its size alone, without reading it
        f.truncate(MAX_WEIGHTS_BYTES + 1)
    t0 = time.process_time()
    with pytest.raises(WeightsError, match="more than the limit"):
        load_weights(big)
    assert time.process_time() - t0 < 0.5
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    with pytest.raises(WeightsError, match="not a regular file"):
        load_weights(fifo)  # would block forever if it were opened
    with pytest.raises(WeightsError, match=r"unsupported weights file 'w\.txt'"):
        (tmp_path / "w.txt").write_text("hello")
        load_weights(tmp_path / "w.txt")


def test_npz_reader_direct():
    with pytest.raises(WeightsError, match="object array"):
        npz.read(npz_with(a=np.array([1, "x"], dtype=object)))
    out = npz.read(npz_with(a=np.arange(3), b=np.ones((2, 2), np.float32)))
    assert out["a"].dtype == np.int64 and out["b"].dtype == np.float32


def test_weights_error_is_value_error():
    assert issubclass(WeightsError, ValueError)
    assert gru_viz.WeightsError is WeightsError


def test_pt_without_torch_suggests_safetensors(monkeypatch):
    data = _torch_bytes(nn.GRU(2, 3).state_dict())
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(WeightsError, match=r"needs torch, which is not installed; save the weights as \.safetensors"):
        load_weights_bytes(data, "w.pt")


def test_pt_too_many_numbers_refused_before_conversion():
    data = _torch_bytes({"weight_ih_l0": torch.zeros(14_000_000, dtype=torch.float16)})  # 28 MB, under the size cap
    assert len(data) < MAX_WEIGHTS_BYTES
    with pytest.raises(WeightsError, match="holds 14000000 numbers"):
        load_weights_bytes(data, "w.pt")
