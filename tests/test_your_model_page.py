"""The "Your model" page (AppTest, real uploads through st.file_uploader), its upload helpers and the snippet.

Streamlit 1.67's AppTest drives ``st.file_uploader`` (``set_value((name, bytes, mime))``), so every format and
every hostile file goes through the page's real uploader and callbacks. Downloads are recorded by wrapping
``DeltaGenerator.download_button``, so the bytes checked are the ones the page's buttons serve. Every run of a page
fails on an exception or an error box the test does not expect (tests/apptest_support.py).
"""

from __future__ import annotations

import base64
import io
import json
import os
import pathlib
import pickle
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from apptest_support import open_page as open_app
from hostile_weights import SystemPayload, TouchPayload, st_file, tree, zip_bomb
from keras_fixtures import keras_dir
from streamlit.testing.v1 import AppTest
from torch import nn

from gru_viz import Spec, random_model
from gru_viz.app import ui
from gru_viz.core.kinds import KIND
from gru_viz.core.model import Model
from gru_viz.core.sequences import MAX_WIDTH, SequenceError
from gru_viz.core.trace import Ablation
from gru_viz.io import codegen, upload
from gru_viz.io.bridge import save_pt
from gru_viz.io.formats import safetensors as st_format
from gru_viz.io.formats.checks import MAX_PARAMS, MAX_WEIGHTS_BYTES, WeightsError
from gru_viz.io.weights import load_weights_bytes, save_safetensors
from gru_viz.serve import state

PAGE = "pages/your_model.py"
FILE, CSV, LAYER, SOURCE = "your_model_file", "your_model_csv", "your_model_layer", "your_model_source"
NONLINEARITY, VARIANT = "your_model_nonlinearity", "your_model_variant"
TOL = {"rtol": 0, "atol": 1e-12}


# ------------------------------------------------------------------------------------------- helpers


def open_page(**query: str) -> AppTest:
    return open_app(PAGE, query, timeout=60)


def send(at: AppTest, name: str, data: bytes, expect: tuple[str, ...] = ()) -> AppTest:
    """Upload ``name`` on the page (showing the error boxes ``expect`` names)."""
    at.file_uploader(key=FILE).set_value((name, data, "application/octet-stream"))
    with at.expecting(*expect):
        return at.run()


def cfg_of(at: AppTest) -> state.Config:
    return at.session_state[ui.CFG]


def session_model(at: AppTest) -> Model | None:
    return at.session_state[ui.SESSION_MODEL] if ui.SESSION_MODEL in at.session_state else None


def summary(at: AppTest) -> dict[str, str]:
    out = {}
    for table in at.table:  # the summary is split over two side-by-side tables
        df = table.value
        out.update(zip(df.iloc[:, 0], df.iloc[:, 1], strict=True))
    return out


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def module(cls, *args, seed: int = 0, **kw) -> nn.Module:
    torch.manual_seed(seed)
    m = cls(*args, **kw).double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(2.0)
    return m


def sd_numpy(m: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}


def npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def pt_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def torch_run(m: nn.Module, x: np.ndarray) -> np.ndarray:
    """The module's output for one sequence (a cell stepped over it)."""
    with torch.no_grad():
        if isinstance(m, nn.RNNCellBase):
            state_, outs = None, []
            for t in range(len(x)):
                state_ = m(torch.tensor(x[t]), state_)
                outs.append(state_[0] if isinstance(state_, tuple) else state_)
            return torch.stack(outs).numpy()
        return m(torch.tensor(x))[0].numpy()  # a copy: the app's sequences are read-only


# ------------------------------------------------------------------------------------------- formats


class Net(nn.Module):
    """A model that contains a GRU: its state_dict has a prefix and other submodules' keys."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 3)
        self.rnn = nn.GRU(3, 4, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(8, 2)


def keras_arrays(kind: str, I: int, u: int, bias_shape, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = {"gru": 3, "lstm": 4}[kind]
    out = {"gru/kernel:0": rng.uniform(-1, 1, (I, g * u)), "gru/recurrent_kernel:0": rng.uniform(-1, 1, (u, g * u))}
    out["gru/bias:0"] = rng.uniform(-1, 1, bias_shape)
    return out


def cases() -> dict[str, tuple[str, bytes, dict]]:
    """name → (file name, bytes, what the summary must say); torch modules are kept for the numbers check."""
    gru = module(nn.GRU, 3, 4)
    lstm = module(nn.LSTM, 3, 4, num_layers=2, bidirectional=True)
    rnn = module(nn.RNN, 2, 3, nonlinearity="tanh", num_layers=3)
    proj = module(nn.LSTM, 2, 4, proj_size=2, batch_first=True)
    gcell = module(nn.GRUCell, 3, 4)
    lcell = module(nn.LSTMCell, 2, 3)
    torch.manual_seed(0)
    net = Net().double()
    zt = random_model(Spec("gru", 2, 3, num_layers=2, bidirectional=True, variant="z-takes"), 4)
    mg = random_model(Spec("mingru", 2, 3, num_layers=2), 5)
    return {
        "gru.safetensors": ("gru.safetensors", safetensors.torch.save(gru.state_dict()),
                            {"Kind": "GRU", "Layers": "1", "Input size": "3", "Hidden size": "4",
                             "Module": "torch.nn.GRU", "Parameters": "108"}, gru),
        "lstm-bidir.npz": ("lstm.npz", npz_bytes(sd_numpy(lstm)),
                           {"Kind": "LSTM", "Layers": "2", "Directions": "2 (bidirectional)", "Parameters": "736"},
                           lstm),
        "rnn-3-layer.pt": ("rnn.pt", pt_bytes(rnn.state_dict()),
                           {"Kind": "vanilla RNN", "Layers": "3", "Nonlinearity": "tanh"}, rnn),
        "lstm-proj.pt": ("proj.pt", pt_bytes(proj.state_dict()), {"Projection size": "2", "Kind": "LSTM"}, proj),
        "gru-cell.pth": ("cell.pth", pt_bytes({"state_dict": gcell.state_dict(), "epoch": 3}),
                         {"Module": "torch.nn.GRUCell", "Kind": "GRU"}, gcell),
        "lstm-cell.safetensors": ("lcell.safetensors", safetensors.torch.save(lcell.state_dict()),
                                  {"Module": "torch.nn.LSTMCell"}, lcell),
        "prefixed.pt": ("net.pt", pt_bytes(net.state_dict()),
                        {"Prefix stripped": "'rnn.'", "Embedding": "10 × 3 (a row of 3 values per token)",
                         "Readout": "2 scores per step from the top layer's 8 values", "Layers": "2"}, net.rnn),
        "keras-gru.npz": ("keras_gru.npz", npz_bytes(keras_arrays("gru", 3, 4, (2, 12))),
                          {"Module": "Keras GRU layer", "GRU variant": "PyTorch (reset after, z keeps)"}, None),
        "keras-gru-reset-before.npz": ("kgru.npz", npz_bytes(keras_arrays("gru", 3, 4, (12,))),
                                       {"GRU variant": "Cho v3 / d2l (reset before, z keeps)"}, None),
        "keras-lstm.npz": ("keras_lstm.npz", npz_bytes(keras_arrays("lstm", 2, 3, (12,))),
                           {"Module": "Keras LSTM layer", "Kind": "LSTM"}, None),
        "z-takes.safetensors": ("zt.safetensors", save_safetensors(zt),
                                {"GRU variant": "Chung / Wikipedia (reset before, z takes)",
                                 "From the file's metadata": "kind: gru; variant: z-takes"}, zt),
        "mingru.npz": ("mg.npz", npz_bytes(mg.params), {"Kind": "minGRU", "Module": "minGRU (no torch.nn module)"}, mg),
    }


CASES = cases()


@pytest.mark.parametrize("case", list(CASES))
def test_upload_every_format_and_kind(case):
    name, data, expect, source = CASES[case]
    at = send(open_page(), name, data)
    shown = summary(at)
    for key, value in expect.items():
        assert shown[key] == value, (key, shown)
    model = session_model(at)
    cfg = cfg_of(at)
    assert cfg.weights == "session" and cfg.cell == model.spec.kind and cfg.hidden == model.spec.hidden_size
    assert at.session_state[ui.SESSION_MODEL_NAME] == name
    assert not model.spec.cell and not model.spec.batch_first  # what the pages run: a sequence model
    # the input fits the model (an example was put in the sequence box when the old one did not)
    sc = state.build_scene(cfg, model)
    assert sc.seq.width == model.spec.input_size
    if isinstance(source, nn.Module):  # the pages' numbers are the module's
        np.testing.assert_allclose(sc.trace.output, torch_run(source, sc.seq.values), **TOL)
    elif isinstance(source, Model):
        np.testing.assert_allclose(sc.trace.output, source.run(sc.seq.values).output, **TOL)
    # the page's badge agrees with torch for the uploaded model too
    assert any("green-badge" in m.value and "Matches PyTorch" in m.value for m in at.markdown)


def test_keras_numbers_are_kerases():
    """A Keras GRU's conversion (z, r, h columns → r, z, n rows) gives the numbers Keras's equations give."""
    arrays = keras_arrays("gru", 3, 4, (2, 12), seed=2)
    at = send(open_page(), "k.npz", npz_bytes(arrays))
    model = session_model(at)
    kernel, rk, bias = arrays["gru/kernel:0"], arrays["gru/recurrent_kernel:0"], arrays["gru/bias:0"]
    x = np.random.default_rng(0).standard_normal((6, 3))
    h, u = np.zeros(4), 4
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    for t in range(6):
        mx, mh = x[t] @ kernel + bias[0], h @ rk + bias[1]
        z, r = sig(mx[:u] + mh[:u]), sig(mx[u : 2 * u] + mh[u : 2 * u])
        h = z * h + (1 - z) * np.tanh(mx[2 * u :] + r * mh[2 * u :])
    np.testing.assert_allclose(model.run(x).h_n[0], h, **TOL)


@pytest.mark.parametrize("width", [256, 512])
def test_a_wide_input_model_is_handed_over(width):
    """A model reading 256 (or 512) values a step runs on the other pages, and its example input fits the link."""
    at = send(open_page(), "wide.safetensors", safetensors.torch.save(module(nn.GRU, width, 8).state_dict()))
    model, cfg = session_model(at), cfg_of(at)
    assert model is not None and model.spec.input_size == width
    assert cfg.weights == "session" and cfg.source == "typed"
    back, notes = state.from_query(state.to_query(cfg))  # the link carries the example input whole
    assert back.seq == cfg.seq and not notes
    sc = state.build_scene(back, model)
    assert sc.seq.width == width and sc.seq.steps >= 2
    np.testing.assert_allclose(sc.trace.output, model.run(sc.seq.values).output, **TOL)


def test_input_that_fits_is_kept():
    at = open_page(cell="gru", source="gen", gen="sine", steps="30")
    at = send(at, "g.safetensors", safetensors.torch.save(module(nn.GRU, 1, 3).state_dict()))
    cfg = cfg_of(at)
    assert cfg.source == "gen" and cfg.gen == "sine" and cfg.steps == 30  # a 1-input model reads the sine as is
    assert not at.info or all("example input" not in i.value for i in at.info)


def test_limits_and_safety_are_documented():
    at = open_page()
    notes = " ".join(c.value for c in at.caption)
    assert "50 MB" in notes and "server.maxUploadSize" in notes and f"{MAX_PARAMS:,}" in notes
    assert "weights_only=True" in notes and "runs no code" in notes and "never written to disk" in notes


# ------------------------------------------------------------------------------------------------ hints


def test_rnn_nonlinearity_hint():
    m = module(nn.RNN, 2, 3, nonlinearity="relu")
    at = send(open_page(), "r.pt", pt_bytes(m.state_dict()))
    assert session_model(at).spec.nonlinearity == "tanh"  # the file cannot say: torch's default
    at.selectbox(key=NONLINEARITY).set_value("relu").run()
    model = session_model(at)
    assert model.spec.nonlinearity == "relu" and summary(at)["Nonlinearity"] == "relu"
    x = np.random.default_rng(1).standard_normal((7, 2))
    np.testing.assert_allclose(model.run(x).output, torch_run(m, x), **TOL)


def test_gru_variant_hint_and_a_hint_for_another_kind():
    at = open_page()
    at.selectbox(key=VARIANT).set_value("z-takes").run()
    at = send(at, "g.npz", npz_bytes(sd_numpy(module(nn.GRU, 2, 3))))
    assert session_model(at).spec.variant == "z-takes" and cfg_of(at).variant == "z-takes"
    assert "your hint" in summary(at)["Hint"]
    at = send(at, "l.npz", npz_bytes(sd_numpy(module(nn.LSTM, 2, 3))))
    assert session_model(at).spec.kind == "lstm"
    assert "left out" in summary(at)["Hint"]


def test_keras_hint_that_contradicts_the_file_is_refused_and_the_model_kept():
    at = send(open_page(), "k.npz", npz_bytes(keras_arrays("gru", 3, 4, (2, 12))))
    with at.expecting("Refused 'k.npz'"):
        at.selectbox(key=VARIANT).set_value("reset-before").run()
    assert any("Refused 'k.npz'" in e and "reset_after=True" in e for e in errors(at)), errors(at)
    assert session_model(at).spec.variant == "torch"


# -------------------------------------------------------------------------------- Keras and ONNX files


@pytest.fixture(scope="session")
def kdir(tmp_path_factory) -> Path:
    return keras_dir(tmp_path_factory.getbasetemp())


def warnings_(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def keras_case(kdir: Path, case: str, ext: str) -> tuple[bytes, dict]:
    return (kdir / f"{case}{ext}").read_bytes(), dict(np.load(kdir / f"{case}.ref.npz"))


@pytest.mark.parametrize(("case", "ext", "module_", "extra"), [
    ("stacked-gru", ".keras", "Keras GRU × 2", {"Ignored layers": "'dropout' (Dropout)"}),
    ("bidir-gru", ".h5", "Keras Bidirectional(GRU) layer", {}),  # a whole model saved as .h5
    ("bidir-lstm-2", ".weights.h5", "Keras Bidirectional(LSTM) × 2", {}),
    ("gru-reset-before", ".keras", "Keras GRU layer", {"GRU variant": "Cho v3 / d2l (reset before, z keeps)"}),
    ("rnn-relu", ".keras", "Keras SimpleRNN layer", {"Nonlinearity": "relu"}),
])
def test_upload_keras_files(kdir, case, ext, module_, extra):
    data, ref = keras_case(kdir, case, ext)
    at = send(open_page(), f"{case}{ext}", data)
    shown = summary(at)
    assert shown["Module"] == module_ and shown["Format"].startswith(upload.FORMATS[Path("m" + ext).suffix][:12])
    for key, value in extra.items():
        assert shown[key] == value, (key, shown)
    assert shown["In the file"].startswith("Keras")
    model = session_model(at)
    x = ref["x"][0].astype(np.float64)  # one sequence, as the pages run it
    close = np.abs(model.run(x).output - ref["y"][0]).max()
    assert close < 1e-6, close  # the pages run Keras's numbers
    cfg = cfg_of(at)
    assert cfg.weights == "session" and cfg.cell == model.spec.kind
    sc = state.build_scene(cfg, model)
    assert sc.seq.width == model.spec.input_size
    assert any("green-badge" in m.value and "Matches PyTorch" in m.value for m in at.markdown)


def test_upload_onnx(kdir):
    from onnx_fixtures import feeds_for, recurrent_graph, run_onnxruntime

    graph = recurrent_graph("GRU", I=2, H=3, layers=2, direction="bidirectional", linear_before_reset=1,
                            initial_state=False)
    at = send(open_page(), "gru.onnx", graph.SerializeToString())
    shown = summary(at)
    assert shown["Module"] == "ONNX GRU nodes × 2 (bidirectional)" and shown["Layers"] == "2"
    assert shown["GRU variant"] == "PyTorch (reset after, z keeps)"
    assert "'gru0' (GRU) → 'gru1' (GRU)" in shown["In the file"]
    feeds = feeds_for(graph, B=1)
    y = run_onnxruntime(graph, feeds)[0]  # (T, 2, 1, 3)
    out = session_model(at).run(feeds["X"][:, 0].astype(np.float64)).output  # (T, 6)
    assert np.abs(out - y[:, :, 0].reshape(len(out), 6)).max() < 1e-6


def test_bias_free_keras_gru_asks_reset_after_and_keeps_the_old_model(kdir):
    at = send(open_page(), "good.npz", npz_bytes(sd_numpy(module(nn.GRU, 2, 3))))
    kept = session_model(at)
    data, ref = keras_case(kdir, "gru-reset-before-nobias", ".weights.h5")
    at = send(at, "nobias.weights.h5", data)
    assert any("does not say how to compute it" in w and "reset_after" in w for w in warnings_(at)), warnings_(at)
    assert session_model(at) is kept  # nothing guessed, nothing replaced yet
    buttons = {b.label: b for b in at.button}
    assert "reset_after=True (Keras's default): PyTorch's variant" in buttons
    buttons["reset_after=False: the reset gate acts before the recurrent product"].click().run()
    model = session_model(at)
    assert model is not kept and model.spec.variant == "reset-before" and not model.spec.bias
    assert "your answer" in summary(at)["Hint"]
    assert not any("does not say how" in w for w in warnings_(at))
    assert np.abs(model.run(ref["x"][0].astype(np.float64)).output - ref["y"][0]).max() < 1e-6


def test_backwards_keras_model_offers_to_reverse_the_box(kdir):
    data, ref = keras_case(kdir, "go-backwards", ".keras")
    at = send(open_page(), "back.keras", data)
    assert any("reads your sequence backwards" in w and "go_backwards=True" in w for w in warnings_(at))
    assert summary(at)["Reads"].startswith("backwards: layer 'gru")
    before = state.build_sequence(cfg_of(at), 3).values
    next(b for b in at.button if b.label == "Reverse the sequence box").click().run()
    after = state.build_sequence(cfg_of(at), 3).values
    np.testing.assert_array_equal(after, before[::-1])
    # what the pages now run is what Keras computes on the original order
    x = ref["x"][0].astype(np.float64)
    assert np.abs(session_model(at).run(x[::-1]).output - ref["y"][0]).max() < 1e-6


def test_hostile_keras_and_onnx_uploads_refused(kdir, sandbox):
    from onnx_fixtures import recurrent_graph

    at = send(open_page(), "good.npz", npz_bytes(sd_numpy(module(nn.GRU, 2, 3))))
    kept = session_model(at)
    cases = {
        "custom.keras": ((kdir / "custom-layer.keras").read_bytes(), "custom class"),
        "lambda.keras": ((kdir / "lambda.keras").read_bytes(), "Python code stored in the file"),
        "clip.onnx": (recurrent_graph(extra_attrs={"clip": 2.0}).SerializeToString(), "clip=2"),
        "junk.onnx": (os.urandom(400), "not a readable ONNX file|no graph"),
        "junk.weights.h5": (b"\x89HDF\r\n\x1a\n" + os.urandom(400), "not a readable HDF5"),
    }
    for name, (data, match) in cases.items():
        send(at, name, data, expect=(f"Refused {name!r}",))
        assert any(e.startswith(f"Refused {name!r}") and re.search(match, e) for e in errors(at)), (name, errors(at))
        assert session_model(at) is kept


# ---------------------------------------------------------------------------------------------- explore


def test_pick_layer_and_direction():
    at = send(open_page(), "lstm.npz", npz_bytes(sd_numpy(module(nn.LSTM, 3, 4, num_layers=2, bidirectional=True))))
    picker = at.selectbox(key=LAYER)
    assert picker.options == ["layer 0 · forward", "layer 0 · reverse", "layer 1 · forward", "layer 1 · reverse"]
    picker.set_value((1, 1)).run()
    assert at.session_state[ui.LAYER_CHOICE] == (1, 1)  # shared with the pages that draw one layer
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "layer 1 · reverse" in chart["layout"]["title"]["text"]
    # the preview is the reverse direction of layer 1 inside the full run
    sc = state.build_scene(cfg_of(at), session_model(at))
    z = chart["data"][0]["z"]  # plotly sends arrays as base64
    shown = np.frombuffer(base64.b64decode(z["bdata"]), z["dtype"]).reshape([int(n) for n in z["shape"].split(",")])
    np.testing.assert_array_equal(shown, sc.trace.layers[1][1].h[:, 0, :].T)
    assert any("layer k > 0" in m.value and "reads the output of layer k − 1" in m.value for m in at.markdown)
    for page in ("pages/step.py", "pages/timeline.py", "pages/gradients.py"):  # they run the uploaded model
        at.switch_page(page).run()
        assert cfg_of(at).weights == "session"


def test_gradient_flow_page_runs_an_uploaded_cell():
    at = send(open_page(), "cell.pt", pt_bytes(module(nn.GRUCell, 2, 3).state_dict()))
    at.switch_page("pages/gradients.py").run()


def test_forget_the_model():
    at = send(open_page(), "g.npz", npz_bytes(sd_numpy(module(nn.GRU, 2, 3))))
    next(b for b in at.button if b.label == "Forget this model").click().run()
    assert session_model(at) is None and cfg_of(at).weights == "random"
    assert not at.table


def test_model_too_wide_for_the_pages_is_summarised_not_handed_over(monkeypatch):
    from gru_viz.app import your_model

    # uploads and the pages' inputs both stop at 512 today: a narrower input box is what reaches this branch
    monkeypatch.setattr(your_model, "MAX_WIDTH", 64)
    at = send(open_page(), "wide.npz", npz_bytes(sd_numpy(module(nn.GRU, 100, 2))))
    assert summary(at)["Input size"] == "100"
    assert session_model(at) is None and cfg_of(at).weights == "random"
    assert any("at most 64" in w.value for w in at.warning)


# ------------------------------------------------------------------------------------------------ input


@pytest.fixture
def gru3() -> AppTest:
    """The page with a 3-input GRU uploaded."""
    return send(open_page(), "g3.npz", npz_bytes(sd_numpy(module(nn.GRU, 3, 4))))


def test_width_mismatch_message_and_example(gru3):
    at = gru3
    assert any("example input" in i.value for i in at.info)  # the default sine was one value per step
    with at.expecting("The sequence box has 1 value per step; your model reads 3",
                      "the model takes 3 values per step, step t = 0 has 1"):  # the scene's own message
        at.text_area(key="w_seq").set_value("1, 2, 3").run()
    assert cfg_of(at).seq == "1, 2, 3"
    assert sum(c.value == ui.STALE_NOTE for c in at.caption) == 2  # the layer preview and the export, greyed
    msgs = errors(at)
    assert any("The sequence box has 1 value per step; your model reads 3" in e for e in msgs), msgs
    assert any("the model takes 3 values per step, step t = 0 has 1" in e for e in msgs)  # the scene's own message
    next(b for b in at.button if b.label.startswith("Put an example input")).click().run()
    assert state.build_sequence(cfg_of(at)).width == 3


def csv_mode(at: AppTest) -> AppTest:
    at.segmented_control(key=SOURCE).set_value("csv").run()
    return at


def test_csv_input(gru3):
    at = csv_mode(gru3)
    rows = np.round(np.random.default_rng(3).standard_normal((25, 3)), 4)
    data = "\n".join(",".join(f"{v}" for v in row) for row in rows).encode()
    at.file_uploader(key=CSV).set_value(("in.csv", data, "text/csv")).run()
    assert any("25 steps of 3 value(s)" in s.value for s in at.success)
    cfg = cfg_of(at)
    assert cfg.source == "typed"
    sc = state.build_scene(cfg, session_model(at))
    np.testing.assert_array_equal(sc.seq.values, rows)


BAD_CSV = {
    "header": (b"a,b,c\n1,2,3\n", "row 1 (step t = 0), column 1: 'a' is not a number (a header row?"),
    "ragged": (b"1,2,3\n4,5\n", "row 2 (step t = 1) has 2 value(s), the first row has 3"),
    "nan": (b"1,2,3\n4,nan,6\n", "row 2 (step t = 1), column 2: 'nan' is not allowed (NaN and infinity are refused)"),
    "inf": (b"1,2,-inf\n", "refused"),
    "wide": (b"1,2\n3,4\n", "the model reads 3 value(s) per step; the CSV has 2 column(s)"),
    "empty cell": (b"1,,3\n", "row 1 (step t = 0), column 2: an empty cell"),
    "huge value": (b"1,2,1e300\n", "too large"),
    "not utf-8": (b"\xff\xfe\x00\x01", "not UTF-8"),
    "empty": (b"\n\n", "holds no numbers"),
    "too big": (b"1,2,3\n" * 40_000, "at most 200,000 are accepted"),
    "too many rows": (b"1,2,3\n" * 5001, "at most 5,000 steps"),
    "binary junk": (b"PK\x03\x04\x14\x00\x08junk", "row 1 (step t = 0), column 1: 'PK"),
    "blank line": (b"1,2,3\n\n4,x,6\n", "row 3 (step t = 1), column 2: 'x' is not a number"),  # file line ≠ step
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_refused(gru3, case):
    at = csv_mode(gru3)
    before = cfg_of(at)
    data, match = BAD_CSV[case]
    with at.expecting(f"Refused '{case}.csv'"):
        at.file_uploader(key=CSV).set_value((f"{case}.csv", data, "text/csv")).run()
    assert any(e.startswith(f"Refused '{case}.csv'") and match in e for e in errors(at)), errors(at)
    assert cfg_of(at) == before


def test_parse_csv_directly():
    seq = upload.parse_csv("\ufeff0.5, −1\n\n2e-3,4\n".encode(), 2)
    np.testing.assert_array_equal(seq.values, [[0.5, -1.0], [0.002, 4.0]])
    assert seq.labels == ("t0", "t1")
    assert upload.parse_csv(",".join(["1"] * MAX_WIDTH).encode()).width == MAX_WIDTH == 512
    with pytest.raises(SequenceError, match="at most 512 values per step"):
        upload.parse_csv(",".join(["1"] * (MAX_WIDTH + 1)).encode())


# ----------------------------------------------------------------------------------------- hostile files


def too_many_params() -> bytes:
    shapes = {f"{n}_l{k}{r}": s for k in range(4) for r in ("", "_reverse")
              for n, s in (("weight_ih", (1024, 512 if k else 256)), ("weight_hh", (1024, 256)))}
    return st_format.write({k: np.zeros(s, np.float16) for k, s in shapes.items()})


def hostile(target: pathlib.Path) -> dict[str, tuple[str, object, str]]:
    gru = sd_numpy(nn.GRU(2, 3))
    return {
        "pickle payload": ("evil.pt", pt_bytes({"weight_ih_l0": torch.zeros(9, 2), "x": TouchPayload(target)}),
                           r"contains objects other than tensors \(it asks for "),
        "os.system payload": ("evil.pth", pickle.dumps({"weight_ih_l0": SystemPayload(target)}, protocol=2),
                              "it asks for posix.system"),
        "pickled module": ("module.pt", pt_bytes(nn.GRU(2, 3)), "it asks for torch.nn.modules.rnn.GRU"),
        "lying safetensors shape": (
            "lie.safetensors",
            st_file({"weight_ih_l0": {"dtype": "F64", "shape": [10**6, 10**6], "data_offsets": [0, 16]}}, bytes(16)),
            "needs 8000000000000 bytes, data_offsets give 16"),
        "lying safetensors length": ("lie2.safetensors", (10**6).to_bytes(8, "little") + b"{}", "runs past the end"),
        "safetensors offsets outside": (
            "lie3.safetensors",
            st_file({"w": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}}, bytes(8)),
            "lie outside the 8-byte data section"),
        "npz object array": ("obj.npz", npz_bytes({"weight_ih_l0": np.array([{"a": 1}, None], dtype=object)}),
                             "object array"),
        "npz zip bomb": ("bomb.npz", zip_bomb, "would unpack to"),
        "junk safetensors": ("junk.safetensors", b"\x00" * 8 + os.urandom(100), "safetensors header"),
        "junk npz": ("junk.npz", os.urandom(300), "not an .npz file"),
        "junk pt": ("junk.pt", os.urandom(300), r"not a readable \.pt|not a torch file at all"),
        "empty": ("empty.safetensors", b"", "the weights file is empty"),
        "wrong extension": ("model.bin", npz_bytes(gru), r"unsupported weights file 'model\.bin'"),
        "NaN weights": ("nan.npz", npz_bytes({**gru, "weight_hh_l0": np.full((9, 3), np.nan)}), "contains NaN"),
        "unexpected keys": ("x.npz", npz_bytes({**gru, "backdoor": np.zeros(1)}), "unexpected keys"),
        "too many parameters": ("big.safetensors", too_many_params, f"more than the limit of {MAX_PARAMS}"),
        "over the size cap": ("huge.safetensors", lambda: bytes(MAX_WEIGHTS_BYTES + 1), "more than the limit"),
    }


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working directory whose file tree must not change while hostile files are uploaded."""
    (tmp_path / "cwd").mkdir()
    (tmp_path / "pwned").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    before = tree(tmp_path)
    yield tmp_path
    assert tree(tmp_path) == before, "an upload wrote to disk"


def test_hostile_files_refused_quickly_and_run_nothing(sandbox):
    target = sandbox / "pwned" / "created-by-pickle"
    good = npz_bytes(sd_numpy(module(nn.GRU, 2, 3)))
    at = send(open_page(), "good.npz", good)
    kept = session_model(at)
    for case, (name, data, match) in hostile(target).items():
        data = data() if callable(data) else data
        t0 = time.process_time()  # CPU time (the page runs here): the refusal's cost, not how busy the machine is
        send(at, name, data, expect=(f"Refused {name!r}",))
        elapsed = time.process_time() - t0
        assert any(e.startswith(f"Refused {name!r}") and re.search(match, e) for e in errors(at)), (case, errors(at))
        assert not target.exists(), f"{case}: the payload ran"
        assert session_model(at) is kept and cfg_of(at).weights == "session", case  # the good model stays
        assert elapsed < 10, (case, elapsed)


def test_read_upload_refusals_are_weights_errors():
    with pytest.raises(WeightsError, match="unsupported weights file"):
        upload.read_upload(b"abc", "w.tflite")


# ------------------------------------------------------------------------------------------------ export


@pytest.fixture
def downloads(monkeypatch) -> dict[str, object]:
    """label → data of every download button the page draws (callables called: the bytes a click serves)."""
    from streamlit.delta_generator import DeltaGenerator

    got: dict[str, object] = {}
    real = DeltaGenerator.download_button

    def record(self, label, data, *args, **kwargs):
        got[label] = data() if callable(data) else data
        return real(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    return got


def check_exports(at: AppTest, got: dict[str, object], model: Model, pt_hints: dict) -> None:
    back = load_weights_bytes(got["Weights (.safetensors)"], "m.safetensors")
    assert back.spec == model.spec
    for k, v in model.params.items():
        np.testing.assert_array_equal(back.params[k], v)
    back_pt = load_weights_bytes(got["state_dict (.pt)"], "m.pt", **pt_hints)
    assert back_pt.spec == model.spec.with_(variant=back_pt.spec.variant) and list(back_pt.params) == list(model.params)
    for k, v in model.params.items():
        np.testing.assert_array_equal(back_pt.params[k], v)
    sc = state.build_scene(cfg_of(at), session_model(at))
    assert sc.model.spec == model.spec
    ns: dict = {}
    exec(got["Python snippet (.py)"], ns)  # our own generated code
    np.testing.assert_allclose(ns["output"].numpy(), sc.trace.output, **TOL)
    np.testing.assert_allclose(ns["h_n"].numpy(), sc.trace.h_n, **TOL)
    csv = got["Input (.csv)"]
    np.testing.assert_array_equal(np.loadtxt(io.BytesIO(csv), delimiter=",", ndmin=2), sc.seq.values)
    assert any(c.value.strip() == got["Python snippet (.py)"].strip() for c in at.code)  # the code shown


@pytest.mark.parametrize(
    "query",
    [{}, {"cell": "lstm", "h0": "random", "clamp": "f:1", "scale": "1.5"}, {"weights": "preset:latch"},
     {"cell": "mingru", "hidden": "3"}],
    ids=["random-gru", "lstm-h0-clamp-scale", "preset", "mingru"],
)
def test_export_whatever_the_config_builds(downloads, query, capsys):
    at = open_page(**query)
    sc = state.build_scene(cfg_of(at))
    check_exports(at, downloads, sc.model, {})


def test_export_an_uploaded_model(downloads, capsys):
    zt = random_model(Spec("gru", 2, 3, num_layers=2, bidirectional=True, variant="z-takes"), 4)
    at = send(open_page(), "zt.safetensors", save_safetensors(zt))
    check_exports(at, downloads, zt, {"variant": "z-takes"})


# ----------------------------------------------------------------------------------------------- snippet

SNIPPET_SPECS = [
    Spec("gru", 3, 4),
    Spec("gru", 2, 3, variant="reset-before", bias=False),
    Spec("gru", 2, 3, num_layers=2, bidirectional=True, variant="z-takes"),
    Spec("gru", 2, 3, variant="after-takes"),
    Spec("lstm", 3, 4, num_layers=2, bidirectional=True, proj_size=2),
    Spec("rnn", 2, 5, nonlinearity="relu", num_layers=2),
    Spec("mingru", 2, 3, num_layers=2, bidirectional=True),
    Spec("minlstm", 2, 3, num_layers=2, bidirectional=True),
    Spec("minlstm", 2, 3, cell=True, bias=False),
    Spec("gru", 2, 3, cell=True),
    Spec("lstm", 2, 3, cell=True),
    Spec("rnn", 2, 3, cell=True, bias=False),
    Spec("gru", 2, 3, cell=True, variant="z-takes"),
    Spec("gru", 2, 3, num_layers=3, bidirectional=True, variant="reset-before",
         layer_variants=("reset-before", "torch", "z-takes")),  # a mixed stack: each layer in its own variant
]


def _h0(spec: Spec, rng):
    lead = () if spec.cell else (spec.num_layers * spec.directions,)
    h0 = rng.standard_normal((*lead, spec.out_size))
    return (h0, rng.standard_normal((*lead, spec.hidden_size))) if "c" in KIND[spec.kind].state else h0


def exec_snippet(code: str) -> dict:
    ns: dict = {}
    exec(code, ns)  # our own generated code
    return ns


def assert_snippet_reproduces(code: str, trace) -> None:
    ns = exec_snippet(code)
    np.testing.assert_allclose(ns["output"].numpy(), trace.output, **TOL)
    np.testing.assert_allclose(ns["h_n"].numpy(), trace.h_n, **TOL)
    if trace.c_n is not None:
        np.testing.assert_allclose(ns["c_n"].numpy(), trace.c_n, **TOL)


@pytest.mark.parametrize("spec", SNIPPET_SPECS, ids=lambda s: s.describe())
@pytest.mark.parametrize("with_h0", [False, True], ids=["h0=0", "h0"])
def test_snippet_reproduces_our_outputs(spec, with_h0, capsys):
    rng = np.random.default_rng(0)
    model = random_model(spec, 1, scale=2.0)
    x = rng.standard_normal((7, spec.input_size))
    h0 = _h0(spec, rng) if with_h0 else None
    code = codegen.snippet(model, x, h0)
    assert ("torch.nn." in code.split("\n")[1]) == codegen.is_native(spec)
    assert_snippet_reproduces(code, model.run(x, h0))


@pytest.mark.parametrize("spec", [Spec("gru", 2, 3, num_layers=2, bidirectional=True), Spec("lstm", 2, 3),
                                  Spec("mingru", 2, 3), Spec("minlstm", 2, 3)], ids=lambda s: s.kind)
def test_snippet_with_clamped_gates(spec, capsys):
    gate = {"gru": "z", "lstm": "f", "mingru": "z", "minlstm": "f"}[spec.kind]
    ablations = (Ablation(gate, 1.0, 1, 4), Ablation(gate, (0.0, 0.5, 1.0), 5, None, layer=0, direction=0))
    model = random_model(spec, 2)
    x = np.random.default_rng(1).standard_normal((8, 2))
    code = codegen.snippet(model, x, None, ablations)
    assert "cannot clamp" in code or "no torch.nn module" in code
    assert_snippet_reproduces(code, model.run(x, None, ablations))


def test_large_model_snippet_reads_the_downloads_in_a_fresh_python(tmp_path):
    """Above INLINE_NUMBERS the snippet loads the two downloaded files; run it as a user would."""
    spec = Spec("lstm", 8, 32, num_layers=2)
    model = random_model(spec, 3)
    x = np.random.default_rng(2).standard_normal((1200, 8))
    code = codegen.snippet(model, x)
    assert codegen.WEIGHTS_FILE in code and codegen.INPUT_FILE in code and len(code) < 5000
    (tmp_path / codegen.WEIGHTS_FILE).write_bytes(save_safetensors(model))
    (tmp_path / codegen.INPUT_FILE).write_bytes(codegen.input_csv(x))
    (tmp_path / "snippet.py").write_text(code + "\nnp.save('out.npy', output.numpy())\n")
    subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, check=True, capture_output=True, timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), model.run(x).output, **TOL)


def test_literal_round_trips_exactly():
    values = np.random.default_rng(0).standard_normal((3, 7)) * 10.0 ** np.arange(-3, 4)
    assert np.array_equal(np.array(eval(codegen.literal(values))), values)
    assert eval(codegen.literal(np.array([0.1, 1e-300, -2.5, 3.0, 1e20]))) == [0.1, 1e-300, -2.5, 3.0, 1e20]


def test_save_pt_round_trip_for_every_kind():
    for spec in SNIPPET_SPECS:
        model = random_model(spec, 0)
        hints = {"variant": spec.variant} if spec.kind == "gru" else {}
        if spec.kind == "rnn":
            hints = {"nonlinearity": spec.nonlinearity}
        back = load_weights_bytes(save_pt(model), "m.pt", **hints)
        assert back.spec == model.spec
        assert all(np.array_equal(back.params[k], v) for k, v in model.params.items())


def test_a_keras_models_embedding_and_readout_reach_the_other_pages():
    """A Keras model is batch-first; the model handed to the other pages reads time-major, and keeps the file's
    embedding, vocabulary and readout (and a mixed stack's per-layer variants)."""
    from gru_viz.app.your_model import explorable
    from gru_viz.core.tokens import Embedding, Readout

    spec = Spec("gru", 3, 4, num_layers=2, batch_first=True, variant="reset-before",
                layer_variants=("reset-before", "torch"))
    base = random_model(spec.with_(layer_variants=()), 0)
    rng = np.random.default_rng(0)
    m = Model(spec, base.params, embedding=Embedding.of(rng.standard_normal((5, 3)), list("abcde")),
              readout=Readout.of(rng.standard_normal((5, 4)), None, list("abcde")))
    got = explorable(m)
    assert not got.spec.batch_first and got.spec.layer_variants == spec.layer_variants
    assert got.embedding is m.embedding and got.readout is m.readout and got.vocabulary == tuple("abcde")
    ids = np.array([0, 3, 1, 4])
    np.testing.assert_array_equal(got.logits(got.run_tokens(ids)), m.logits(m.run_tokens(ids)))
