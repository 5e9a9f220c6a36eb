"""Keras 3 (``.keras``, ``.weights.h5``) and ONNX files, built by the real libraries, read by gru-viz, and checked
against the libraries' own outputs: Keras 3 on the torch backend (in a child process, see ``keras_fixtures.py``)
and onnxruntime (onnx's reference evaluator for ``layout=1``, which onnxruntime's CPU kernels refuse). Hostile files
of both formats are refused fast, with the layer, node, key or attribute named, and nothing is written or run."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import onnx
import pytest
from hostile_weights import tree
from keras_fixtures import CASES_BAD, CASES_OK, keras_dir
from onnx import TensorProto, helper, numpy_helper
from onnx_fixtures import feeds_for, recurrent_graph, run_onnxruntime, run_reference_evaluator

from gru_viz.core.kinds import KINDS
from gru_viz.core.spec import KIND_NAMES
from gru_viz.io.formats import hdf5
from gru_viz.io.formats.checks import MAX_UNPACKED_BYTES, WeightsError
from gru_viz.io.weights import HintNeeded, load_weights, load_weights_bytes, read_weights_bytes

ROOT = Path(__file__).resolve().parents[1]


def close(ours: np.ndarray, theirs: np.ndarray, rel: float) -> None:
    """Agreement to ``rel`` relative to the outputs' scale (they are gates and states, of order 1)."""
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.abs(theirs).max()))
    err = float(np.abs(ours - theirs).max())
    assert err <= rel * scale, f"max |ours − theirs| = {err:.3g}, allowed {rel * scale:.3g}"


def refused(data: bytes, filename: str, match: str, **kw) -> WeightsError:
    t0 = time.process_time()  # CPU time: the refusal's own cost, not how busy the machine is
    with pytest.raises(WeightsError, match=match) as info:
        load_weights_bytes(data, filename, **kw)
    assert time.process_time() - t0 < 1.0, "refusal took too long"
    assert "\n" not in str(info.value), "a refusal is one line"
    return info.value


@pytest.fixture(scope="session")
def kdir(tmp_path_factory) -> Path:
    return keras_dir(tmp_path_factory.getbasetemp())


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working directory whose file tree must not change while hostile files are read."""
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    yield tmp_path
    assert tree(tmp_path) == before, "reading wrote to disk"


# ============================================================================================ Keras 3 files

HINTS = {  # what a bare .weights.h5 cannot say, given as the page would ask for it
    ("gru-nobias", ".weights.h5"): {"variant": "torch"},
    ("gru-reset-before-nobias", ".weights.h5"): {"variant": "reset-before"},
    ("rnn-relu", ".weights.h5"): {"nonlinearity": "relu"},
}
SPECS = {  # (kind, layers, bidirectional, variant, bias, hidden)
    "gru": ("gru", 1, False, "torch", True, 4),
    "gru-reset-before": ("gru", 1, False, "reset-before", True, 4),
    "gru-nobias": ("gru", 1, False, "torch", False, 4),
    "gru-reset-before-nobias": ("gru", 1, False, "reset-before", False, 4),
    "lstm": ("lstm", 1, False, "torch", True, 5),
    "lstm-nobias": ("lstm", 1, False, "torch", False, 3),
    "rnn": ("rnn", 1, False, "torch", True, 4),
    "rnn-relu": ("rnn", 1, False, "torch", True, 4),
    "rnn-nobias": ("rnn", 1, False, "torch", False, 2),
    "stacked-gru": ("gru", 2, False, "torch", True, 4),
    "bidir-lstm-2": ("lstm", 2, True, "torch", True, 3),
    "bidir-gru": ("gru", 1, True, "reset-before", True, 3),
    "go-backwards": ("gru", 2, False, "torch", True, 3),
    "dense-before-gru": ("gru", 1, False, "torch", True, 4),
    "last-step-only": ("gru", 1, False, "torch", True, 4),
    "gru-float64": ("gru", 1, False, "torch", True, 4),
    "stacked-3-rnn": ("rnn", 3, False, "torch", True, 3),
}


def test_every_case_is_checked():
    assert set(SPECS) == set(CASES_OK)


# (a .weights.h5 does not record go_backwards: test_weights_h5_states_what_it_assumes covers that one)
KERAS_RUNS = [(c, e) for c in CASES_OK for e in (".keras", ".weights.h5", ".h5")
              if (c, e) != ("go-backwards", ".weights.h5")]


@pytest.mark.parametrize(("case", "ext"), KERAS_RUNS)
def test_keras_numbers_are_kerases(kdir, case, ext):
    """gru-viz's outputs on the file equal Keras's own, for every kind, variant, bias, stack and direction; for a
    whole-model .h5, Keras's own outputs after loading that .h5 back (keras.saving.load_model)."""
    ref = np.load(kdir / f"{case}.ref.npz")
    loaded = read_weights_bytes((kdir / f"{case}{ext}").read_bytes(), case + ext, **HINTS.get((case, ext), {}))
    s = loaded.model.spec
    kind, layers, bidir, variant, bias, hidden = SPECS[case]
    assert (s.kind, s.num_layers, s.bidirectional, s.bias, s.hidden_size, s.batch_first) == (
        kind, layers, bidir, bias, hidden, True)
    if kind == "gru":
        assert s.variant == variant
    if kind == "rnn":
        assert s.nonlinearity == ("relu" if case == "rnn-relu" else "tanh")
    x = ref["x_gru"] if "x_gru" in ref.files else ref["x"]
    if loaded.backwards:  # Keras's go_backwards on the first layer: the same layers reading x reversed in time
        x = x[:, ::-1]
    out = loaded.model.run(x.astype(np.float64)).output
    y = ref["y_h5"] if ext == ".h5" else ref["y"]
    if y.ndim == 2:  # return_sequences=False: Keras returns the last step
        out = out[:, -1]
    # Keras on torch really computes a float64 model in float64 (checked: it agrees to round-off), else float32
    close(out, y, 1e-12 if str(ref["kdtype"]) == "float64" else 1e-6)


def test_keras_config_is_read_and_said(kdir):
    loaded = read_weights_bytes((kdir / "stacked-gru.keras").read_bytes(), "m.keras")
    assert loaded.format == "keras" and loaded.layers == ["'lower' (GRU)", "'upper' (GRU)"]
    assert loaded.source.startswith("Keras Sequential") and "'lower' (GRU) → 'upper' (GRU)" in loaded.source
    assert any("Dropout" in i for i in loaded.ignored) and not any("Dense" in i for i in loaded.ignored)
    assert loaded.model.readout is not None and loaded.model.readout.weight.shape == (1, 4)  # the Dense(1) on top
    assert loaded.read[0].startswith("lower: GRU, 4 units, reset_after=True, activation tanh")
    assert loaded.fixed == {"variant", "nonlinearity"} and not loaded.assumed and not loaded.backwards
    bidir = read_weights_bytes((kdir / "bidir-gru.keras").read_bytes(), "m.keras")
    assert "merge_mode concat" in bidir.read[0] and "reset_after=False" in bidir.read[0]
    last = read_weights_bytes((kdir / "last-step-only.keras").read_bytes(), "m.keras")
    assert any("return_sequences=False" in n for n in last.notes)
    dense = read_weights_bytes((kdir / "dense-before-gru.keras").read_bytes(), "m.keras")
    assert any("what 'gru' (GRU) reads: the output of layer 'dense'" in n for n in dense.notes), dense.notes
    assert dense.ignored == ["'dense' (Dense)"] and dense.model.readout is not None  # the Dense after it: the readout


def test_go_backwards_is_not_run_forwards_silently(kdir):
    data = (kdir / "go-backwards.keras").read_bytes()
    with pytest.raises(WeightsError, match=r"go_backwards=True: it reads the sequence from its last step.*"
                                           r"reversed_input=True"):
        load_weights_bytes(data, "m.keras")
    model = load_weights_bytes(data, "m.keras", reversed_input=True)
    ref = np.load(kdir / "go-backwards.ref.npz")
    close(model.run(ref["x"][:, ::-1].astype(np.float64)).output, ref["y"], 1e-6)


def test_weights_h5_states_what_it_assumes(kdir):
    loaded = read_weights_bytes((kdir / "go-backwards.weights.h5").read_bytes(), "m.weights.h5")
    assert loaded.format == "keras-weights" and loaded.fixed == {"variant"}
    assert any("go_backwards=False" in a for a in loaded.assumed)
    assert any("tanh with sigmoid gates" in a for a in loaded.assumed)
    assert loaded.read == ["reset_after=True (from the biases' shapes)"]
    bidir = read_weights_bytes((kdir / "bidir-lstm-2.weights.h5").read_bytes(), "m.weights.h5")
    assert any("merge_mode 'concat'" in a for a in bidir.assumed)
    stacked = read_weights_bytes((kdir / "stacked-gru.weights.h5").read_bytes(), "m.weights.h5")
    assert any("follow one another directly" in a and "dense" in a for a in stacked.assumed)
    assert [la.split(" ")[0] for la in stacked.layers] == ["layers/gru", "layers/gru_1"]
    assert "'lower'" in stacked.layers[0] and "'upper'" in stacked.layers[1]  # the names Keras wrote on vars


@pytest.mark.parametrize("case", ["gru-nobias", "gru-reset-before-nobias"])
def test_bias_free_gru_weights_h5_asks_for_reset_after(kdir, case):
    data = (kdir / f"{case}.weights.h5").read_bytes()
    with pytest.raises(HintNeeded, match="do not say where the reset gate acts") as info:
        load_weights_bytes(data, "m.weights.h5")
    assert info.value.hint == "variant" and "reset_after=False" in info.value.choices["reset-before"]
    # each answer gives that variant (only the right one matches Keras: test_keras_numbers_are_kerases)
    assert load_weights_bytes(data, "m.weights.h5", variant="reset-before").spec.variant == "reset-before"
    assert load_weights_bytes(data, "m.weights.h5", variant="torch").spec.variant == "torch"
    # the .keras file's config says it: no question
    assert read_weights_bytes((kdir / f"{case}.keras").read_bytes(), "m.keras").model.spec.bias is False


def test_keras_hints_are_checked_against_the_file(kdir):
    data = (kdir / "gru-reset-before.keras").read_bytes()
    refused(data, "m.keras", r"config says reset_after=False .*hint asks for", variant="torch")
    refused(data, "m.keras", "kind hint says LSTM", kind="lstm")
    refused(data, "m.keras", "nonlinearity hint applies to an RNN only", nonlinearity="relu")
    refused((kdir / "rnn-relu.keras").read_bytes(), "m.keras", "config says activation='relu'", nonlinearity="tanh")
    h5 = (kdir / "gru.weights.h5").read_bytes()
    refused(h5, "m.weights.h5", r"reset_after=True, not False", variant="reset-before")
    refused(h5, "m.weights.h5", "'torch' or 'reset-before' variant", variant="z-takes")


def test_keras_paths_in_an_npz_read_like_the_weights_h5(kdir):
    arrays, _ = hdf5.read((kdir / "bidir-lstm-2.weights.h5").read_bytes())
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    model = load_weights_bytes(buf.getvalue(), "exported.npz")
    ref = np.load(kdir / "bidir-lstm-2.ref.npz")
    close(model.run(ref["x"].astype(np.float64)).output, ref["y"], 1e-6)


BAD_KERAS = {
    "lambda": "'lambda'.*Python code stored in the file",
    "custom-layer": "custom class \\(evil>Passthrough\\)",
    "hard-sigmoid": "layer 'gru' \\(GRU\\): recurrent_activation is 'hard_sigmoid'",
    "merge-sum": "merge_mode='sum'",
    "dense-between": "layer 'dense' \\(Dense\\) sits between recurrent layers 'gru' and 'gru_1'",
    "go-backwards-above": "layer 'gru_1' \\(GRU\\) has go_backwards=True above another recurrent layer",
    "custom-activation": "custom class|Python code",
    "two-branches": "do not read one another",
}


def test_every_bad_case_is_checked():
    assert set(BAD_KERAS) == set(CASES_BAD)


@pytest.mark.parametrize("case", CASES_BAD)
def test_keras_configs_gru_viz_would_misread_are_refused(kdir, case, sandbox):
    refused((kdir / f"{case}.keras").read_bytes(), f"{case}.keras", BAD_KERAS[case])


def keras_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_bomb_keras() -> bytes:
    """A small .keras whose weights member claims to unpack past the limit."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", "{}")
        with zf.open("model.weights.h5", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(MAX_UNPACKED_BYTES // len(chunk) + 2):
                f.write(chunk)
    return buf.getvalue()


def with_config(kdir: Path, case: str, edit) -> bytes:
    """The fixture's .keras with its config.json edited by ``edit(config)``."""
    with zipfile.ZipFile(io.BytesIO((kdir / f"{case}.keras").read_bytes())) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    return keras_zip(members)


def _gru_config(config: dict) -> dict:
    return next(ly for ly in config["config"]["layers"] if ly["class_name"] == "GRU")


def test_hostile_keras_archives(kdir, sandbox):
    good = (kdir / "gru.keras").read_bytes()
    refused(zip_bomb_keras(), "bomb.keras", "would unpack to")
    refused(b"PK\x03\x04" + bytes(300), "junk.keras", "not a readable .keras archive")
    refused(good[: len(good) // 2], "cut.keras", "not a readable")
    refused(keras_zip({"config.json": b"{}"}), "m.keras", "no model.weights.h5")
    refused(keras_zip({"model.weights.h5": b""}), "m.keras", "no config.json")
    refused(with_config(kdir, "gru", lambda c: c.update(class_name="MyModel")), "m.keras",
            "describes a 'MyModel'.*subclassed")
    refused(with_config(kdir, "gru", lambda c: _gru_config(c).update(module="evil.layers")), "m.keras",
            "custom class \\(evil.layers.GRU\\)")
    refused(with_config(kdir, "gru", lambda c: _gru_config(c).update(registered_name="evil>GRU")), "m.keras",
            "custom class \\(evil>GRU\\)")
    refused(with_config(kdir, "gru", lambda c: _gru_config(c)["config"].update(activation="relu")), "m.keras",
            "activation is 'relu'; gru-viz computes tanh only")
    refused(with_config(kdir, "gru", lambda c: _gru_config(c)["config"].update(units=5)), "m.keras",
            "4 units, the config of 'gru' \\(GRU\\) says 5")
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["config.json"] = b'{"class_name": "Sequential", "class_name": "Functional", "config": {}}'
    refused(keras_zip(members), "m.keras", "key 'class_name' appears twice")
    members["config.json"] = b"[" * 100_000
    refused(keras_zip(members), "m.keras", "config.json is not valid JSON")


def h5_bytes(build) -> bytes:
    """An HDF5 file built by ``build(f)`` in memory."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        build(f)
    return buf.getvalue()


def test_hostile_hdf5(kdir, sandbox, tmp_path_factory):
    secret = tmp_path_factory.mktemp("outside") / "secret.bin"
    secret.write_bytes(np.arange(12, dtype=np.float32).tobytes())
    good = (kdir / "gru.weights.h5").read_bytes()
    refused(good[: len(good) // 2], "cut.weights.h5", "not a readable HDF5 file")
    refused(b"\x89HDF\r\n\x1a\n" + bytes(500), "junk.weights.h5", "not a readable HDF5 file")
    refused(bytes(1000), "zeros.weights.h5", "not an HDF5 file")
    refused(h5_bytes(lambda f: f.create_dataset("layers/gru/cell/vars/0", shape=(10**6, 10**6), dtype="f4",
                                                chunks=(1, 1))),
            "giant.weights.h5", "'layers/gru/cell/vars/0' declares shape \\(1000000, 1000000\\)")
    refused(h5_bytes(lambda f: f.create_dataset("layers/gru/cell/vars/0", shape=(3, 4), dtype="f4",
                                                external=[(str(secret), 0, 48)])),
            "ext.weights.h5", "'layers/gru/cell/vars/0' keeps its data in another file")

    def links(f):
        f.create_group("layers/gru/cell/vars")
        f["layers/gru/cell/vars/0"] = h5py.ExternalLink(str(secret), "/x")
    refused(h5_bytes(links), "link.weights.h5", "'layers/gru/cell/vars/0' is an external link")

    def soft(f):
        f.create_dataset("layers/gru/cell/vars/0", data=np.zeros((3, 12), np.float32))
        f["layers/gru/cell/vars/1"] = h5py.SoftLink("/layers/gru/cell/vars/0")
    refused(h5_bytes(soft), "soft.weights.h5", "'layers/gru/cell/vars/1' is a soft link")
    refused(h5_bytes(lambda f: f.create_dataset("layers/gru/cell/vars/0", data=np.array([b"abc"]))),
            "str.weights.h5", "'layers/gru/cell/vars/0' has type .*not real numbers")

    def deep(f):
        g = f
        for i in range(40):
            g = g.create_group(f"g{i}")
    refused(h5_bytes(deep), "deep.weights.h5", "nested more than")
    refused(h5_bytes(lambda f: f.create_dataset("model_weights/gru/kernel", data=np.zeros(3))), "old.weights.h5",
            "without its architecture \\(no model_config")

    def missing_rk(f):
        f.create_dataset("layers/gru/cell/vars/0", data=np.zeros((3, 12), np.float32))
    refused(h5_bytes(missing_rk), "m.weights.h5", "missing layers/gru/cell/vars/1 \\(the recurrent_kernel of")

    def nan(f):
        f.create_dataset("layers/gru/cell/vars/0", data=np.zeros((3, 12), np.float32))
        f.create_dataset("layers/gru/cell/vars/1", data=np.full((4, 12), np.nan, np.float32))
        f.create_dataset("layers/gru/cell/vars/2", data=np.zeros((2, 12), np.float32))
    refused(h5_bytes(nan), "m.weights.h5", "layers/gru/cell/vars/1 .*contains NaN")


def test_reading_keras_files_never_imports_keras(kdir):
    """json + h5py read them; nothing of Keras (or TensorFlow) is ever loaded, and ``import gru_viz`` loads none of
    h5py or onnx either."""
    code = (
        "import sys, pathlib\n"
        "import gru_viz\n"
        "light = [m for m in ('h5py', 'onnx', 'keras', 'tensorflow') if m in sys.modules]\n"
        "from gru_viz.io.weights import load_weights\n"
        f"load_weights(pathlib.Path({str(kdir / 'bidir-lstm-2.keras')!r}))\n"
        f"load_weights(pathlib.Path({str(kdir / 'stacked-gru.weights.h5')!r}))\n"
        "print(light, [m for m in ('keras', 'tensorflow') if m in sys.modules], 'h5py' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] [] True"


# ================================================================================================ ONNX


def onnx_bytes(model: onnx.ModelProto) -> bytes:
    return model.SerializeToString()


def ours_like_onnx(loaded, feeds: dict[str, np.ndarray], layers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """gru-viz's run of ``loaded`` on the graph's inputs, as ONNX shapes its outputs: (Y, Y_h, Y_c) of the top node."""
    m, s = loaded.model, loaded.model.spec
    batch_first = s.batch_first
    x = feeds["X"].astype(np.float64)
    layout = int(batch_first)

    def state(name):  # ONNX (D, B, H) per node (layout 1: (B, D, H)) → gru-viz (L·D, B, H)
        parts = [feeds[f"{name}_{k}"] for k in range(layers)]
        return np.concatenate([p.transpose(1, 0, 2) if layout else p for p in parts]).astype(np.float64)

    h0 = None
    if "h0_0" in feeds:
        h0 = (state("h0"), state("c0")) if s.kind == "lstm" else state("h0")
    if loaded.backwards:
        x = x[:, ::-1] if batch_first else x[::-1]
    trace = m.run(x, h0)
    out = trace.output
    if loaded.reverse_output:
        out = out[:, ::-1] if batch_first else out[::-1]
    D, H = s.directions, s.hidden_size
    if batch_first:
        B, T = out.shape[:2]
        y = out.reshape(B, T, D, H)
    else:
        T, B = out.shape[:2]
        y = out.reshape(T, B, D, H).transpose(0, 2, 1, 3)
    top = slice(-D, None)
    hn = trace.h_n[top]
    cn = trace.c_n[top] if s.kind == "lstm" else None
    if layout:
        hn, cn = hn.transpose(1, 0, 2), (cn.transpose(1, 0, 2) if cn is not None else None)
    return y, hn, cn


ONNX_CASES = [
    (op, direction, lbr, layers, layout)
    for op in ("GRU", "LSTM", "RNN")
    for direction in ("forward", "reverse", "bidirectional")
    for lbr in ((0, 1) if op == "GRU" else (None,))
    for layers in (1, 2)
    for layout in (0, 1)
]


@pytest.mark.parametrize(("op", "direction", "lbr", "layers", "layout"), ONNX_CASES)
def test_onnx_numbers_are_onnxruntimes(op, direction, lbr, layers, layout):
    """Every operator, direction, linear_before_reset, one or two stacked nodes, both layouts, with initial states:
    gru-viz's Y, Y_h (and Y_c) equal onnxruntime's (onnx's reference evaluator for layout=1)."""
    graph = recurrent_graph(op, direction=direction, linear_before_reset=lbr, layers=layers, layout=layout,
                            seed=ONNX_CASES.index((op, direction, lbr, layers, layout)))
    feeds = feeds_for(graph)
    ref = (run_onnxruntime if layout == 0 else run_reference_evaluator)(graph, feeds)
    loaded = read_weights_bytes(onnx_bytes(graph), "m.onnx")
    s = loaded.model.spec
    assert s.kind == op.lower() and s.num_layers == layers and s.bidirectional == (direction == "bidirectional")
    assert s.batch_first == bool(layout)
    if op == "GRU":
        assert s.variant == ("torch" if lbr else "reset-before")
    assert bool(loaded.backwards) == (direction == "reverse") == loaded.reverse_output
    y, hn, cn = ours_like_onnx(loaded, feeds, layers)
    close(y, ref[0], 1e-6)
    close(hn, ref[1], 1e-6)
    if op == "LSTM":
        close(cn, ref[2], 1e-6)
    assert any("initial_h is a graph input" in n for n in loaded.notes)


def test_onnx_float64_and_relu_and_no_bias():
    for graph in (recurrent_graph("GRU", dtype=np.float64, linear_before_reset=1, layers=2, direction="bidirectional"),
                  recurrent_graph("RNN", activations=["Relu", "Relu"], direction="bidirectional", bias=False),
                  recurrent_graph("LSTM", bias=False, initial_state=False)):
        feeds = feeds_for(graph)
        f64 = graph.graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
        # onnxruntime's GRU kernel takes float32 only ("does not support double yet"): onnx's reference evaluator
        # computes the float64 one, in float64
        ref = (run_reference_evaluator if f64 else run_onnxruntime)(graph, feeds)
        loaded = read_weights_bytes(onnx_bytes(graph), "m.onnx")
        layers = loaded.model.spec.num_layers
        y, hn, _ = ours_like_onnx(loaded, feeds, layers)
        close(y, ref[0], 1e-12 if f64 else 1e-6)
        close(hn, ref[1], 1e-12 if f64 else 1e-6)
    assert loaded.model.spec.bias is False
    relu = read_weights_bytes(onnx_bytes(recurrent_graph("RNN", activations=["Relu"])), "m.onnx")
    assert relu.model.spec.nonlinearity == "relu"


def test_onnx_reverse_only_is_not_run_forwards_silently():
    data = onnx_bytes(recurrent_graph("GRU", direction="reverse", linear_before_reset=1))
    with pytest.raises(WeightsError, match=r"direction='reverse'.*reversed_input=True.*Y is then the output reversed"):
        load_weights_bytes(data, "m.onnx")
    assert load_weights_bytes(data, "m.onnx", reversed_input=True).spec.num_layers == 1


def test_onnx_hints_and_what_is_said():
    data = onnx_bytes(recurrent_graph("GRU", linear_before_reset=0, layers=2, direction="bidirectional"))
    loaded = read_weights_bytes(data, "m.onnx")
    assert loaded.format == "onnx" and loaded.layers == ["'gru0' (GRU)", "'gru1' (GRU)"]
    assert "opset 17" in loaded.source and loaded.read[0].startswith("'gru0' (GRU): GRU, hidden_size 4")
    assert loaded.ignored == []  # the Transpose and Reshape joining the two nodes are part of the stack
    refused(data, "m.onnx", "linear_before_reset=0 .*hint asks for", variant="torch")
    refused(data, "m.onnx", "kind hint says LSTM", kind="lstm")
    assert load_weights_bytes(data, "m.onnx", variant="reset-before").spec.variant == "reset-before"


def test_onnx_batch_first_input_transpose_and_other_nodes():
    """A graph that takes (batch, time, features) and transposes it for the GRU (as torch's exporter writes a
    batch_first module), with a Gemm after it: the model is batch_first and the Gemm is listed."""
    g = recurrent_graph("GRU", linear_before_reset=1, initial_state=False)
    gru = g.graph.node[0]
    gru.input[0] = "Xt"
    g.graph.node.insert(0, helper.make_node("Transpose", ["X"], ["Xt"], perm=[1, 0, 2], name="to_time_major"))
    g.graph.node.append(helper.make_node("Identity", ["Yh0"], ["out"], name="head"))
    g.graph.input[0].CopyFrom(helper.make_tensor_value_info("X", TensorProto.FLOAT, ["B", "T", 3]))
    loaded = read_weights_bytes(onnx_bytes(g), "m.onnx")
    assert loaded.model.spec.batch_first and "'head' (Identity)" in loaded.ignored
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    ref = run_onnxruntime(g, {"X": x})
    close(loaded.model.run(x.astype(np.float64)).h_n, ref[1], 1e-6)


def bad_graph(**kw) -> bytes:
    return onnx_bytes(recurrent_graph(**kw))


def _with(model: onnx.ModelProto, edit) -> bytes:
    edit(model)
    return onnx_bytes(model)


def _external(m):
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="/etc/passwd")


def _giant(m):
    t = m.graph.initializer[0]  # a header that lies: a petabyte declared, 144 bytes stored
    del t.dims[:]
    t.dims.extend([1, 10**9, 10**6])


def _short(m):
    m.graph.initializer[0].CopyFrom(numpy_helper.from_array(np.zeros((1, 12, 3), np.float32), "W0"))
    m.graph.initializer[0].raw_data = bytes(40)


def _w_input(m):
    m.graph.input.append(helper.make_tensor_value_info("W0", TensorProto.FLOAT, [1, 12, 3]))
    del m.graph.initializer[0]


def _two_chains(m):
    other = recurrent_graph("GRU", linear_before_reset=1, initial_state=False, seed=5)
    node = other.graph.node[0]
    node.name, node.output[0], node.output[1] = "gru_b", "Yb", "Yhb"
    for i, t in enumerate(other.graph.initializer):
        t.name = t.name + "b"
        node.input[i + 1] = t.name
    m.graph.node.append(node)
    m.graph.initializer.extend(other.graph.initializer)


def _old_opset(m):
    m.opset_import[0].version = 6


HOSTILE_ONNX = {
    "clip": (bad_graph(extra_attrs={"clip": 3.0}), "'gru0' \\(GRU\\): clip=3"),
    "activations": (bad_graph(activations=["Sigmoid", "Relu"]), "'gru0' \\(GRU\\): activations"),
    "alpha": (bad_graph(op="RNN", activations=["Tanh"], extra_attrs={"activation_alpha": [0.5]}),
              "'rnn0' \\(RNN\\): activation_alpha is set"),
    "input_forget": (bad_graph(op="LSTM", extra_attrs={"input_forget": 1}), "'lstm0' \\(LSTM\\): input_forget=1"),
    "peepholes": (bad_graph(op="LSTM", peepholes=True), "'lstm0' \\(LSTM\\) has peepholes"),
    "unknown attribute": (bad_graph(extra_attrs={"output_sequence": 1}), "attribute 'output_sequence'"),
    "bad join": (bad_graph(layers=2, direction="bidirectional", join="bad-reshape"),
                 "'gru1' \\(GRU\\) reads node 'gru0' \\(GRU\\)'s output through Reshape"),
    "external data": (_with(recurrent_graph(), _external), "W \\('W0'\\) keeps its data in an external file"),
    "giant shape": (_with(recurrent_graph(), _giant), "W \\('W0'\\) declares shape \\[1, 1000000000, 1000000\\]"),
    "short data": (_with(recurrent_graph(), _short), "W \\('W0'\\) declares shape \\[1, 12, 3\\] \\(36 numbers\\)"),
    "W graph input": (_with(recurrent_graph(), _w_input), "W \\('W0'\\) is a graph input"),
    "two chains": (_with(recurrent_graph(linear_before_reset=1, initial_state=False), _two_chains),
                   "separate recurrent chains"),
    "opset 6": (_with(recurrent_graph(), _old_opset), "opset 6"),
    "no recurrent node": (onnx_bytes(helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["X"], ["Y"])], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])]))), "no GRU, LSTM or RNN node \\(its ops: Relu"),
}


@pytest.mark.parametrize("case", list(HOSTILE_ONNX))
def test_onnx_files_gru_viz_would_misread_are_refused(case, sandbox):
    data, match = HOSTILE_ONNX[case]
    refused(data, "m.onnx", match)


def test_hostile_onnx_bytes(sandbox):
    good = onnx_bytes(recurrent_graph(layers=2))
    refused(good[: len(good) - 37], "cut.onnx", "not a readable ONNX file|declares shape|stores")
    refused(bytes([0x0A, 0xFF, 0xFF, 0xFF, 0x0F]) + bytes(20), "lying.onnx", "not a readable ONNX file")
    refused(zip_bomb_keras(), "bomb.onnx", "not a readable ONNX file|no graph")
    refused(b"\x00" * 1000, "zeros.onnx", "not a readable ONNX file|no graph")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_hint_on_keras_and_onnx_files(kdir, kind):
    """A Keras or ONNX GRU loads under the hint "gru" and is refused, naming the hinted kind, under every other one
    (minGRU and minLSTM, which neither format has, included)."""
    files = [((kdir / "gru.keras").read_bytes(), "m.keras"), ((kdir / "gru.weights.h5").read_bytes(), "m.weights.h5"),
             (onnx_bytes(recurrent_graph("GRU", linear_before_reset=1)), "m.onnx")]
    for data, name in files:
        if kind == "gru":
            assert load_weights_bytes(data, name, kind=kind).spec.kind == "gru"
        else:
            refused(data, name, f"the kind hint says {KIND_NAMES[kind]}, but", kind=kind)


def test_load_weights_reads_new_formats_from_disk(kdir, tmp_path):
    p = tmp_path / "m.onnx"
    p.write_bytes(onnx_bytes(recurrent_graph("LSTM", direction="bidirectional")))
    assert load_weights(p).spec.bidirectional
    assert load_weights(kdir / "lstm.keras").spec.kind == "lstm"
    assert load_weights(kdir / "lstm.weights.h5").spec.kind == "lstm"
