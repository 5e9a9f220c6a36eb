"""Fuzz the three doors user input comes through, with hypothesis, and time every case.

Run: .venv/bin/python benchmarks/fuzz.py [--examples 3000]
     [--only sequences,query,scene,bytes,safetensors,npz,pt,keras,h5,onnx]
     [--slow 2.0] [--seed 0]

- the sequence parser: ``parse_sequence(text, mode, width)`` in both modes, with and without a width, on
  random text, number-ish pieces, unicode, huge inputs → a ``Sequence`` or ``SequenceError`` only;
- the URL reader: ``state.from_query`` on arbitrary ``{str: str | list[str]}`` (every Config key with junk,
  huge strings, unicode, repeated keys as lists, unknown keys) → never raises, always a Config; its
  ``to_query`` form reads back to the same Config with no notes; and ``state.build_scene`` of what it read
  (small runs only) → a Scene or one of the page's friendly errors;
- the weights loader: ``load_weights_bytes`` on arbitrary bytes under every extension, and on valid files
  of each format (safetensors, npz, torch .pt zip and legacy) mutated: safetensors header length, JSON,
  dtype/shape/data_offsets; truncated or bit-flipped zips, lying .npy headers, rewritten .pt pickles;
  Keras 3 ``.keras`` files with their config.json mutated (junk values, custom classes, Lambda, activations)
  or their HDF5 mutated, ``.weights.h5`` bytes mutated, ONNX graphs with attributes, tensor dims or data
  mutated → a Model or ``WeightsError`` only.

Each case runs under a timer: a case over ``--slow`` seconds is flagged, one over ``--hang`` seconds is
interrupted (SIGALRM) and counted as a hang. The script prints counts and timings per target as a markdown
table and exits non-zero if any case raised something else, hung or was slow. ``tests/test_fuzz.py`` runs
the same properties with few examples.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import pickle
import resource
import signal
import statistics
import struct
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gru_viz.core.model import ModelInputError
from gru_viz.core.params import random_model
from gru_viz.core.sequences import Sequence, SequenceError, parse_sequence
from gru_viz.core.spec import GRU_VARIANTS, KINDS, Spec, SpecError
from gru_viz.io.formats.checks import SUPPORTED_EXTENSIONS, WeightsError
from gru_viz.io.weights import load_weights_bytes, save_npz, save_safetensors
from gru_viz.serve import state
from gru_viz.serve.state import Config, ConfigError

PAGE_ERRORS = (SequenceError, ConfigError, ModelInputError, SpecError)  # what gru_viz.app.ui.friendly shows as such

# ------------------------------------------------------------------------------------------------ strategies

_PIECES = ["0", "1", "-1", "0.5", ".5", "5.", "1e3", "1e400", "-1e-400", "nan", "inf", "-inf", "Infinity", "1_000",
           "0x10", "1,", ", ", ",", ";", "\n", "\r\n", " ", "\t", "  ", ";;", "1 2", "1 2 3;", "+", "-", "e", "E5",
           "１", "٣", "½", "é", "🙂", "\x00", "\u200b", "\ufeff", "1" * 400, "9" * 5000, "'", '"', "[", "]", "(1,2)"]

huge_text = st.tuples(st.sampled_from(["1 ", "1;", "1 2;", "a", "1, ", "ab\n", "🙂", "0.1;" * 3, " "]),
                      st.integers(0, 60_000)).map(lambda p: p[0] * p[1])
typed_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(_PIECES), max_size=80).map("".join),
    huge_text,
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
modes = st.sampled_from(["numbers", "text"])
widths = st.one_of(st.none(), st.integers(1, 64), st.integers(-5, 200))


def _junk_value(name: str) -> st.SearchStrategy[str]:
    """Values for a Config field: valid-looking, off by a little, and plain junk."""
    default = getattr(state.DEFAULT, name)
    near = {
        int: st.integers(-10, 10_000).map(str) | st.sampled_from(["1e3", "0x10", "1_0", "  7 ", "-0", "9" * 5000,
                                                                  "2147483648", "64", "65", "5000", "5001"]),
        float: st.floats(allow_nan=True, allow_infinity=True).map(repr) | st.sampled_from(
            ["5", "5.0000001", "-0.0", "1e-320", "nan", "inf", "1e309", "0x1p3", "1_0"]),
        bool: st.sampled_from(["1", "0", "true", "False", "YES", "on", "off", "", "2", "yes please"]),
        str: st.sampled_from([str(default), "gru", "lstm", "rnn", "mingru", *GRU_VARIANTS, "typed", "text", "gen",
                              "sine", "noise", "copy", "random", "session", "preset:latch", "preset:nope",
                              "trained:", "trained:../../etc/passwd", "z:1,r:0", "z:2", "q:1", ":", ",,,",
                              "controls,equations", "export,nope", "period=20", "period=", "=1", "a b=1",
                              "period=1e400", "period=nan", "zeros"]),
    }[type(default)]
    return near | st.text(max_size=60) | huge_text


@st.composite
def queries(draw) -> dict[str, str | list[str]]:
    """A query dict as Streamlit hands it over: str or list[str] values (repeated keys), any keys."""
    names = [f.name for f in fields(Config)]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    out: dict[str, str | list[str]] = {}
    for name in chosen:
        value = _junk_value(name)
        out[name] = draw(value | st.lists(value, max_size=4))
    extra = draw(st.dictionaries(st.text(max_size=20), st.text(max_size=40) | st.lists(st.text(max_size=5),
                                                                                       max_size=3), max_size=4))
    for key, value in extra.items():
        out.setdefault(key, value)
    return out


# ------------------------------------------------------------------------------------------------ weights

def _models() -> list:
    specs = [Spec("gru", 2, 3), Spec("lstm", 1, 2), Spec("rnn", 3, 2), Spec("gru", 1, 2, variant="reset-before"),
             Spec("mingru", 2, 2), Spec("gru", 2, 2, num_layers=2, bidirectional=True), Spec("lstm", 2, 3, proj_size=2)]
    out = []
    for k, spec in enumerate(specs):
        try:
            out.append(random_model(spec, seed=k))
        except Exception:  # a kind this build cannot make: fuzz the others
            continue
    return out


def _valid_files() -> dict[str, list[bytes]]:
    """Valid files of every format (the .pt ones need torch; without it they are skipped)."""
    files: dict[str, list[bytes]] = {"safetensors": [], "npz": [], "pt": []}
    for model in _models():
        files["safetensors"].append(save_safetensors(model))
        files["npz"].append(save_npz(model))
        try:
            import torch

            from gru_viz.io.bridge import save_pt, torch_state_dict

            files["pt"].append(save_pt(model))
            buf = io.BytesIO()
            torch.save(torch_state_dict(model), buf, _use_new_zipfile_serialization=False)
            files["pt"].append(buf.getvalue())
            buf = io.BytesIO()
            torch.save({"model_state_dict": torch_state_dict(model), "epoch": 3}, buf)
            files["pt"].append(buf.getvalue())
        except ImportError:
            pass
    try:  # crafted: a 1-element storage viewed as 10⁹ elements (tiny file, huge tensor), and a pickle with a GLOBAL
        import torch

        buf = io.BytesIO()
        torch.save({"weight_ih_l0": torch.zeros(1).expand(3 * 10**8, 2)}, buf)
        files["pt"].append(buf.getvalue())
        files["pt"].append(pickle.dumps({"weight_ih_l0": print}, protocol=2))
    except ImportError:
        pass
    return files


VALID = _valid_files()


def _flip(data: bytes, positions: list[int], values: list[int]) -> bytes:
    b = bytearray(data)
    for p, v in zip(positions, values, strict=False):
        if b:
            b[p % len(b)] = v
    return bytes(b)


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """Truncate, flip, insert, delete or duplicate bytes of ``data``."""
    how = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "append", "splice"]))
    n = len(data)
    if how == "truncate":
        return data[: draw(st.integers(0, max(n - 1, 0)))]
    if how == "flip":
        k = draw(st.integers(1, 8))
        return _flip(data, draw(st.lists(st.integers(0, n), min_size=k, max_size=k)),
                     draw(st.lists(st.integers(0, 255), min_size=k, max_size=k)))
    at = draw(st.integers(0, n))
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    if how == "delete":
        return data[:at] + data[at + draw(st.integers(1, 64)):]
    if how == "append":
        return data + draw(st.binary(min_size=1, max_size=256))
    other = draw(st.integers(0, n))
    return data[:at] + data[min(at, other): max(at, other)] + data[at:]


_INTS = st.one_of(st.integers(-3, 300), st.integers(-2**70, 2**70), st.sampled_from([2**63 - 1, 2**64, -1, 0]))
_JSONISH = st.one_of(_INTS, st.floats(allow_nan=False), st.text(max_size=8), st.none(), st.booleans(),
                     st.lists(_INTS, max_size=4), st.lists(st.lists(_INTS, max_size=2), max_size=2),
                     st.dictionaries(st.text(max_size=4), _INTS, max_size=2))
_ST_DTYPES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "C64", "f64", "", "F 64"]


@st.composite
def safetensors_files(draw) -> bytes:
    """A valid safetensors file with its header or bytes mutated."""
    data = draw(st.sampled_from(VALID["safetensors"]))
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8: 8 + n])
    body = data[8 + n:]
    how = draw(st.sampled_from(["entry", "entry", "length", "json", "metadata", "keys", "bytes", "body"]))
    if how == "bytes":
        return draw(byte_mutations(data))
    if how == "length":
        return draw(_INTS.filter(lambda v: 0 <= v < 2**64)).to_bytes(8, "little") + data[8:]
    if how == "body":
        body = draw(byte_mutations(body)) if body else draw(st.binary(max_size=16))
    elif how == "json":  # raw text edits of the JSON header
        raw = draw(byte_mutations(data[8: 8 + n]))
        return len(raw).to_bytes(8, "little") + raw + body
    elif how == "metadata":
        header["__metadata__"] = draw(st.dictionaries(st.text(max_size=12), _JSONISH | st.text(max_size=12),
                                                      max_size=4) | _JSONISH)
    elif how == "keys":
        names = [k for k in header if k != "__metadata__"]
        victim = draw(st.sampled_from(names))
        new = draw(st.sampled_from(["", "__metadata__", "weight_ih_l99", "weight_hh_l0_reverse", "bias", "x" * 300,
                                    "weight_ih_l0\x00", "layer.weight_ih_l0", "kernel", "recurrent_kernel"]))
        header[new] = header.pop(victim)
    else:
        names = [k for k in header if k != "__metadata__"]
        entry = header[draw(st.sampled_from(names))]
        field_ = draw(st.sampled_from(["dtype", "shape", "data_offsets", "extra", "drop"]))
        if field_ == "dtype":
            entry["dtype"] = draw(st.sampled_from(_ST_DTYPES) | _JSONISH)
        elif field_ == "shape":
            entry["shape"] = draw(st.lists(_INTS, max_size=40) | _JSONISH)
        elif field_ == "data_offsets":
            entry["data_offsets"] = draw(st.lists(_INTS, min_size=2, max_size=2) | _JSONISH)
        elif field_ == "extra":
            entry[draw(st.text(max_size=6))] = draw(_JSONISH)
        else:
            entry.pop(draw(st.sampled_from(sorted(entry))))
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + body


def _npy(shape: object, descr: object, fortran: object, payload: bytes, version: int = 1) -> bytes:
    text = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode("latin-1", "replace")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text + payload


@st.composite
def npz_files(draw) -> bytes:
    """A valid .npz mutated as bytes, or rebuilt with lying .npy headers / odd members / bomb-like sizes."""
    data = draw(st.sampled_from(VALID["npz"]))
    how = draw(st.sampled_from(["bytes", "bytes", "header", "member", "bomb"]))
    if how == "bytes":
        return draw(byte_mutations(data))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    out = io.BytesIO()
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        victim = draw(st.sampled_from(sorted(members)))
        for name, blob in members.items():
            if name == victim and how == "header":
                shape = draw(st.one_of(st.lists(_INTS, max_size=5).map(tuple), _JSONISH))
                descr = draw(st.sampled_from(["<f8", ">f8", "<f4", "|u1", "|O", "<c16", "|b1", "<M8[s]", "V8",
                                              "<U3", [("a", "<f8")], "x", 3]))
                payload = blob[draw(st.integers(0, len(blob))):]
                blob = _npy(shape, descr, draw(st.sampled_from([False, True, 0, "no"])), payload,
                            draw(st.sampled_from([1, 2])))
            elif name == victim and how == "member":
                name = draw(st.sampled_from(["weights.txt", "../evil.npy", "/abs.npy", "a/b.npy", "x", name]))
                blob = draw(st.sampled_from([blob, b"", pickle.dumps([1, 2]), blob[:20]]))
            zf.writestr(name, blob)
        if how == "bomb":  # a member that unpacks to a lot (still refused by its declared size)
            zf.writestr("weight_ih_l5.npy", _npy((draw(st.integers(1, 40_000_000)),), "<f8", False, b"\0" * 1024))
    return out.getvalue()


@st.composite
def pt_files(draw) -> bytes:
    """A valid .pt (zip or legacy) mutated as bytes, or its pickle rewritten inside the zip."""
    data = draw(st.sampled_from(VALID["pt"])) if VALID["pt"] else b"PK"
    if not data.startswith(b"PK") or draw(st.booleans()):
        return draw(byte_mutations(data))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, blob in members:
            if name.endswith("data.pkl"):
                blob = draw(st.one_of(
                    byte_mutations(blob),
                    st.sampled_from([pickle.dumps({"weight_ih_l0": 1.5}), pickle.dumps([1, 2, 3]), b"",
                                     b"cos\nsystem\n(S'true'\ntR.", pickle.dumps({"state_dict": {"a": None}})]),
                ))
            elif draw(st.integers(0, 5)) == 0:
                blob = draw(byte_mutations(blob)) if blob else blob
            zf.writestr(name, blob)
    return out.getvalue()


# ---- Keras 3 (.keras, .weights.h5) and ONNX: seed files written with h5py / onnx.helper (no Keras needed)


def _keras_layer(cls: str, name: str, units: int, **extra: object) -> dict:
    cfg = {"name": name, "units": units, "activation": "tanh", "use_bias": True, "go_backwards": False,
           "return_sequences": True, **extra}
    if cls != "SimpleRNN":
        cfg["recurrent_activation"] = "sigmoid"
    return {"module": "keras.layers", "class_name": cls, "config": cfg, "registered_name": None}


def _keras_seeds() -> list[tuple[bytes, bytes]]:
    """(config.json, model.weights.h5) of a GRU, a bidirectional LSTM and two stacked SimpleRNNs, laid out as
    Keras 3 writes them."""
    try:
        import h5py
    except ImportError:
        return []
    rng = np.random.default_rng(0)

    def cell(f, base: str, i: int, g: int, u: int, bias: tuple[int, ...]) -> None:
        f.create_dataset(f"{base}/cell/vars/0", data=rng.uniform(-1, 1, (i, g * u)).astype(np.float32))
        f.create_dataset(f"{base}/cell/vars/1", data=rng.uniform(-1, 1, (u, g * u)).astype(np.float32))
        f.create_dataset(f"{base}/cell/vars/2", data=rng.uniform(-1, 1, bias).astype(np.float32))

    out = []
    inp = {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, None, 2],
                                                                         "name": "input_layer"}}
    models = {
        "gru": [_keras_layer("GRU", "gru", 3, reset_after=True)],
        "bidir": [{"module": "keras.layers", "class_name": "Bidirectional", "registered_name": None,
                   "config": {"name": "bidirectional", "merge_mode": "concat",
                              "layer": _keras_layer("LSTM", "forward_lstm", 2),
                              "backward_layer": _keras_layer("LSTM", "backward_lstm", 2, go_backwards=True)}}],
        "rnn2": [_keras_layer("SimpleRNN", "simple_rnn", 2), _keras_layer("SimpleRNN", "simple_rnn_1", 2)],
    }
    for key, layers in models.items():
        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            if key == "gru":
                cell(f, "layers/gru", 2, 3, 3, (2, 9))
                f.create_group("layers/gru/vars").attrs["name"] = "gru"
            elif key == "bidir":
                for side in ("forward_layer", "backward_layer"):
                    cell(f, f"layers/bidirectional/{side}", 2, 4, 2, (8,))
            else:
                cell(f, "layers/simple_rnn", 2, 1, 2, (2,))
                cell(f, "layers/simple_rnn_1", 2, 1, 2, (2,))
        config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
                  "config": {"name": key, "layers": [inp, *layers]}}
        out.append((json.dumps(config).encode(), buf.getvalue()))
    return out


def _keras_zip(config: bytes, h5: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", b'{"keras_version": "3.15.1"}')
        zf.writestr("config.json", config)
        zf.writestr("model.weights.h5", h5)
        for name, blob in (extra or {}).items():
            zf.writestr(name, blob)
    return buf.getvalue()


def _onnx_seeds() -> list[bytes]:
    """ONNX graphs: a bidirectional GRU, two stacked LSTMs joined by Squeeze, a bidirectional RNN with Relu."""
    try:
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return []
    rng = np.random.default_rng(1)
    out = []
    for op, direction, layers, attrs in (("GRU", "bidirectional", 1, {"linear_before_reset": 1}),
                                          ("LSTM", "forward", 2, {}),
                                          ("RNN", "bidirectional", 1, {"activations": ["Relu", "Relu"]})):
        g = {"GRU": 3, "LSTM": 4, "RNN": 1}[op]
        d, h, nodes, inits, x = (2 if direction == "bidirectional" else 1), 2, [], [], "X"
        for k in range(layers):
            width = 2 if k == 0 else d * h
            for name, shape in ((f"W{k}", (d, g * h, width)), (f"R{k}", (d, g * h, h)), (f"B{k}", (d, 2 * g * h))):
                inits.append(numpy_helper.from_array(rng.uniform(-1, 1, shape).astype(np.float32), name))
            nodes.append(helper.make_node(op, [x, f"W{k}", f"R{k}", f"B{k}"], [f"Y{k}", f"Yh{k}"], name=f"n{k}",
                                          hidden_size=h, direction=direction, **attrs))
            if k < layers - 1:
                inits.append(numpy_helper.from_array(np.array([1], np.int64), f"axes{k}"))
                nodes.append(helper.make_node("Squeeze", [f"Y{k}", f"axes{k}"], [f"X{k + 1}"]))
                x = f"X{k + 1}"
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", "B", 2])],
                                  [helper.make_tensor_value_info(f"Y{layers - 1}", TensorProto.FLOAT, None)], inits)
        out.append(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return out


KERAS_SEEDS = _keras_seeds()
VALID["keras"] = [_keras_zip(c, h) for c, h in KERAS_SEEDS]
VALID["h5"] = [h for _, h in KERAS_SEEDS]
VALID["onnx"] = _onnx_seeds()


def _mutate_json(draw, node: object, depth: int = 0) -> object:
    """``node`` with one value somewhere inside replaced by junk (or a custom class / Lambda)."""
    if isinstance(node, dict) and node and depth < 8:
        key = draw(st.sampled_from(sorted(node)))
        if draw(st.integers(0, 3)) == 0:
            return {**node, key: draw(st.one_of(_JSONISH, st.sampled_from(
                ["Lambda", "__lambda__", "hard_sigmoid", "relu", "sum", "evil.layers", "my>Layer", True, 10**9])))}
        return {**node, key: _mutate_json(draw, node[key], depth + 1)}
    if isinstance(node, list) and node and depth < 8:
        i = draw(st.integers(0, len(node) - 1))
        return [*node[:i], _mutate_json(draw, node[i], depth + 1), *node[i + 1:]]
    return draw(_JSONISH)


@st.composite
def keras_files(draw) -> bytes:
    """A valid .keras with its config mutated (values, classes, names), its HDF5 mutated, or its bytes."""
    config, h5 = draw(st.sampled_from(KERAS_SEEDS))
    how = draw(st.sampled_from(["config", "config", "h5", "bytes", "members"]))
    if how == "config":
        return _keras_zip(json.dumps(_mutate_json(draw, json.loads(config))).encode(), h5)
    if how == "h5":
        return _keras_zip(config, draw(byte_mutations(h5)))
    if how == "members":
        return _keras_zip(draw(st.sampled_from([config, b"", b"[" * 5000, b"{}"])), h5,
                          {draw(st.sampled_from(["assets/x", "../evil", "model.weights.json"])): b"x"})
    return draw(byte_mutations(_keras_zip(config, h5)))


@st.composite
def h5_files(draw) -> bytes:
    """A valid Keras .weights.h5 mutated as bytes."""
    return draw(byte_mutations(draw(st.sampled_from(VALID["h5"]))))


@st.composite
def onnx_files(draw) -> bytes:
    """A valid ONNX graph with an attribute, a tensor's dims or data, or its bytes mutated."""
    data = draw(st.sampled_from(VALID["onnx"]))
    how = draw(st.sampled_from(["attribute", "dims", "data", "bytes"]))
    if how == "bytes":
        return draw(byte_mutations(data))
    import onnx
    from onnx import helper

    model = onnx.ModelProto()
    model.ParseFromString(data)
    if how == "attribute":
        node = draw(st.sampled_from(list(model.graph.node)))
        name = draw(st.sampled_from(["direction", "hidden_size", "layout", "linear_before_reset", "clip",
                                     "activations", "input_forget", "activation_alpha", "perm", "axes", "junk"]))
        value = draw(st.one_of(st.integers(-3, 2**40), st.floats(allow_nan=True), st.text(max_size=12),
                               st.lists(st.text(max_size=8), min_size=1, max_size=4),
                               st.lists(st.integers(-4, 4), min_size=1, max_size=4)))
        kept = [a for a in node.attribute if a.name != name]
        del node.attribute[:]
        node.attribute.extend([*kept, helper.make_attribute(name, value)])
    else:
        t = draw(st.sampled_from(list(model.graph.initializer)))
        if how == "dims":
            del t.dims[:]
            t.dims.extend(draw(st.lists(st.integers(-2, 2**40), max_size=5)))
        else:
            t.raw_data = t.raw_data[: draw(st.integers(0, len(t.raw_data)))]
    return model.SerializeToString()


filenames = st.one_of(
    st.sampled_from([f"w{ext}" for ext in SUPPORTED_EXTENSIONS] + ["W.SAFETENSORS", "x.PT", "a.b.npz", ".pt",
                                                                   "noext", "w.txt", "w.pkl", "dir/w.pth", ""]),
    st.text(max_size=30),
)
kinds = st.one_of(st.none(), st.sampled_from([*KINDS, "GRU", "lstmcell", "", "transformer"]))

# ------------------------------------------------------------------------------------------------ checks


class Hang(BaseException):
    """Raised by the alarm when a case runs past --hang (a BaseException so no ``except Exception`` eats it)."""


@dataclass
class Tally:
    """Counts and timings of one fuzz target."""

    name: str
    cases: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # unexpected exceptions, wrong results, hangs
    slow: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _short(value: object, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def timed(tally: Tally, case: object, fn: Callable[[], str], *, slow: float, hang: float) -> None:
    """Run ``fn`` (which returns an outcome name or raises AssertionError) under the alarm, and tally it."""
    tally.cases += 1
    previous = signal.signal(signal.SIGALRM, _alarm) if hang else None
    if hang:
        signal.setitimer(signal.ITIMER_REAL, hang)
    t0 = time.perf_counter()
    try:
        outcome = fn()
    except Hang:
        outcome = "hang"
        tally.failures.append(f"hang (> {hang:g} s): {_short(case)}")
    except AssertionError as exc:
        outcome = "failed"
        tally.failures.append(f"{exc}: {_short(case)}")
    finally:
        if hang:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - t0
    tally.times.append(elapsed)
    tally.count(outcome)
    if elapsed > slow and outcome != "hang":
        tally.slow.append(f"{elapsed:.2f} s: {_short(case)}")


def _alarm(signum, frame):
    raise Hang


def check_sequence(text: str, mode: str, width: int | None) -> str:
    """``parse_sequence`` gives a well-formed Sequence or raises SequenceError, nothing else."""
    try:
        seq = parse_sequence(text, mode, width)
    except SequenceError as exc:
        assert str(exc), "SequenceError without a message"
        return "SequenceError"
    except Exception as exc:
        raise AssertionError(f"parse_sequence raised {type(exc).__name__}: {exc}") from None
    assert isinstance(seq, Sequence), f"returned {type(seq).__name__}"
    assert seq.values.ndim == 2 and seq.values.shape[0] == len(seq.labels) >= 1, "bad shape or labels"
    assert np.isfinite(seq.values).all(), "non-finite values"
    if width is not None:
        assert seq.values.shape[1] == width, f"width {seq.values.shape[1]} != {width}"
    return "sequence"


def check_query(query: dict) -> str:
    """``from_query`` never raises, returns a Config and notes; its URL form reads back the same, note-free."""
    try:
        cfg, notes = state.from_query(query)
    except Exception as exc:
        raise AssertionError(f"from_query raised {type(exc).__name__}: {exc}") from None
    assert isinstance(cfg, Config) and isinstance(notes, list) and all(isinstance(n, str) for n in notes)
    try:
        again, again_notes = state.from_query(state.to_query(cfg))
    except Exception as exc:
        raise AssertionError(f"from_query(to_query(cfg)) raised {type(exc).__name__}: {exc}") from None
    assert again == cfg, f"to_query/from_query round trip changed the config: {cfg} → {again}"
    assert not again_notes, f"the app's own link gives notes: {again_notes}"
    return "notes" if notes else "clean"


def check_scene(query: dict) -> str:
    """What a link reads builds a Scene or raises one of the page's friendly errors (small runs only)."""
    cfg, _ = state.from_query(query)
    if cfg.steps > 400 or len(cfg.seq) > 4000:
        cfg = Config(**{**cfg.__dict__, "steps": min(cfg.steps, 400), "seq": cfg.seq[:4000]})
    try:
        sc = state.build_scene(cfg)
    except PAGE_ERRORS as exc:
        return type(exc).__name__
    except Exception as exc:
        raise AssertionError(f"build_scene raised {type(exc).__name__}: {exc} for {cfg}") from None
    assert sc.trace.h_n is not None
    norm = state.normalise(cfg, sc)
    assert 0 <= norm.t < sc.steps and 0 <= norm.unit < sc.model.spec.hidden_size
    return "scene"


def check_weights(data: bytes, filename: str, kind: str | None) -> str:
    """``load_weights_bytes`` gives a Model or raises WeightsError, nothing else."""
    try:
        model = load_weights_bytes(data, filename, kind)
    except WeightsError as exc:
        assert str(exc), "WeightsError without a message"
        return "WeightsError"
    except Exception as exc:
        raise AssertionError(f"load_weights_bytes raised {type(exc).__name__}: {str(exc)[:200]}") from None
    assert all(np.isfinite(v).all() or not np.isfinite(v).all() for v in model.params.values())
    return "model"


# ------------------------------------------------------------------------------------------------ targets

TARGETS: dict[str, tuple[object, Callable]] = {
    "sequences": (st.tuples(typed_text, modes, widths), lambda c: check_sequence(*c)),
    "query": (queries(), check_query),
    "scene": (queries(), check_scene),
    "bytes": (st.tuples(st.binary(max_size=2048) | st.binary(max_size=64).map(lambda b: b"PK\x03\x04" + b)
                        | st.binary(max_size=64).map(lambda b: b"\x80\x02" + b), filenames, kinds),
              lambda c: check_weights(*c)),
    "safetensors": (st.tuples(safetensors_files(), st.just("w.safetensors"), kinds), lambda c: check_weights(*c)),
    "npz": (st.tuples(npz_files(), st.just("w.npz"), kinds), lambda c: check_weights(*c)),
    "pt": (st.tuples(pt_files(), st.sampled_from(["w.pt", "w.pth"]), kinds), lambda c: check_weights(*c)),
    "keras": (st.tuples(keras_files(), st.just("m.keras"), kinds), lambda c: check_weights(*c)),
    "h5": (st.tuples(h5_files(), st.just("m.weights.h5"), kinds), lambda c: check_weights(*c)),
    "onnx": (st.tuples(onnx_files(), st.just("m.onnx"), kinds), lambda c: check_weights(*c)),
}


def run_target(name: str, examples: int, *, slow: float = 2.0, hang: float = 20.0, seed: int | None = 0) -> Tally:
    """Run ``examples`` hypothesis cases of one target and tally them (never raises on a failing case)."""
    strategy, check = TARGETS[name]
    tally = Tally(name)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is not None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(strategy)
    def prop(case):
        timed(tally, case, lambda: check(case), slow=slow, hang=hang)

    if seed is not None:
        prop = __import__("hypothesis").seed(seed)(prop)
    prop()
    return tally


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=3000, help="hypothesis cases per target")
    ap.add_argument("--only", default=",".join(TARGETS), help=f"comma-separated targets: {', '.join(TARGETS)}")
    ap.add_argument("--slow", type=float, default=2.0, help="flag a case that takes longer (s)")
    ap.add_argument("--hang", type=float, default=20.0, help="interrupt a case that takes longer (s)")
    ap.add_argument("--seed", type=int, default=0, help="-1 for a random run")
    args = ap.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        ap.error(f"unknown targets {unknown}; choose from {', '.join(TARGETS)}")
    print(f"fuzz: {args.examples} cases per target, slow > {args.slow:g} s, hang > {args.hang:g} s; "
          f"valid seed files: {', '.join(f'{k} {len(v)}' for k, v in VALID.items())}", flush=True)
    tallies = []
    t_all = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        tally = run_target(name, args.examples, slow=args.slow, hang=args.hang,
                           seed=None if args.seed < 0 else args.seed)
        tallies.append(tally)
        print(f"  {name}: {tally.cases} cases in {time.perf_counter() - t0:.1f} s, {len(tally.failures)} failures",
              flush=True)
    lines = ["", f"Command: `.venv/bin/python benchmarks/fuzz.py --examples {args.examples}`", "",
             f"| target | cases | outcomes | failures | slow (> {args.slow:g} s) | median | p99 | max |",
             "|---|---|---|---|---|---|---|---|"]
    for t in tallies:
        outs = ", ".join(f"{k} {v}" for k, v in sorted(t.outcomes.items(), key=lambda kv: -kv[1]))
        times = sorted(t.times) or [math.nan]
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        lines.append(f"| {t.name} | {t.cases} | {outs} | {len(t.failures)} | {len(t.slow)} | "
                     f"{statistics.median(times) * 1000:.2f} ms | {p99 * 1000:.1f} ms | {times[-1] * 1000:.0f} ms |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append("")
    lines.append(f"Total {sum(t.cases for t in tallies)} cases in {time.perf_counter() - t_all:.0f} s; "
                 f"peak RSS of this process {peak:.0f} MiB.")
    print("\n".join(lines))
    bad = False
    for t in tallies:
        for kind, items in (("FAILURES", t.failures), ("SLOW", t.slow)):
            if items:
                bad = True
                print(f"\n{kind} in {t.name} ({len(items)}, first 10):")
                for item in items[:10]:
                    print("  -", item)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
