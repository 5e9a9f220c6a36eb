"""Real Keras 3 files (``.keras`` and ``.weights.h5``) and Keras's own outputs on them, built by Keras itself on the
torch backend, in a child process (Keras is slow to import and sets global state: the test process never imports it).

Run as ``python tests/keras_fixtures.py OUTDIR``: for every case it writes ``CASE.keras``, ``CASE.weights.h5`` and
``CASE.ref.npz`` (``x``, the input; ``y``, what the recurrent stack outputs on it per Keras; ``dtype``). Hostile
cases (configs gru-viz must refuse) have only ``CASE.keras``. Tests get the folder from :func:`keras_dir`, built once
per test session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CASES_OK = (
    "gru", "gru-reset-before", "gru-nobias", "gru-reset-before-nobias", "lstm", "lstm-nobias", "rnn", "rnn-relu",
    "rnn-nobias", "stacked-gru", "bidir-lstm-2", "bidir-gru", "go-backwards", "dense-before-gru", "last-step-only",
    "gru-float64", "stacked-3-rnn",
)
CASES_BAD = (
    "lambda", "custom-layer", "hard-sigmoid", "merge-sum", "dense-between", "go-backwards-above", "custom-activation",
    "two-branches",
)
DONE = "DONE"


def keras_dir(base: Path) -> Path:
    """The folder of Keras fixtures under ``base`` (built by a child process the first time)."""
    out = base / "keras-fixtures"
    if (out / DONE).exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, __file__, str(out)], env=env, capture_output=True, text=True,
                            timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"building the Keras fixtures failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    (out / DONE).write_text("ok")
    return out


def build(out: Path) -> None:  # pragma: no cover - runs in the child process
    import warnings

    import keras

    warnings.filterwarnings("ignore")  # Keras's notes on input structures
    import numpy as np

    assert keras.backend.backend() == "torch"
    L = keras.layers
    rng = np.random.default_rng(0)

    def randomise(model):
        """Keras initialises biases to zero; give every variable random values so each one is tested."""
        for w in model.weights:
            w.assign(rng.uniform(-0.9, 0.9, tuple(w.shape)).astype(w.dtype))

    def save(name, model, stack_out, x, dtype="float32"):
        randomise(model)
        model.save(out / f"{name}.keras")
        model.save_weights(out / f"{name}.weights.h5")
        probe = keras.Model(model.inputs, stack_out)
        y = keras.ops.convert_to_numpy(probe(x))
        np.savez(out / f"{name}.ref.npz", x=x, y=y, dtype=np.array(dtype), kdtype=np.array(str(y.dtype)))

    def is_rec(layer):
        return isinstance(layer, (L.GRU, L.LSTM, L.SimpleRNN, L.Bidirectional))

    def seq(name, layers, width=3, dtype="float32", steps=6):
        """A Sequential model of ``layers`` (a functional one for names starting 'f:')."""
        inp = keras.Input((None, width), dtype=dtype)
        if name.startswith("f:"):
            h = rec = inp
            for layer in layers:
                h = layer(h)
                rec = h if is_rec(layer) else rec
            model = keras.Model(inp, h)
        else:
            model = keras.Sequential([inp, *layers])
            rec = [ly for ly in model.layers if is_rec(ly)][-1].output
        x = rng.standard_normal((2, steps, width)).astype(dtype)
        save(name.removeprefix("f:"), model, rec, x, dtype)

    seq("gru", [L.GRU(4, return_sequences=True)])
    seq("gru-reset-before", [L.GRU(4, return_sequences=True, reset_after=False)])
    seq("gru-nobias", [L.GRU(4, return_sequences=True, use_bias=False)])
    seq("gru-reset-before-nobias", [L.GRU(4, return_sequences=True, use_bias=False, reset_after=False)])
    seq("lstm", [L.LSTM(5, return_sequences=True)])
    seq("lstm-nobias", [L.LSTM(3, return_sequences=True, use_bias=False)])
    seq("rnn", [L.SimpleRNN(4, return_sequences=True)])
    seq("rnn-relu", [L.SimpleRNN(4, return_sequences=True, activation="relu")])
    seq("rnn-nobias", [L.SimpleRNN(2, return_sequences=True, use_bias=False)])
    seq("stacked-gru", [L.GRU(4, return_sequences=True, name="lower"), L.Dropout(0.2),
                        L.GRU(4, return_sequences=True, name="upper"), L.Dense(1)])
    seq("f:bidir-lstm-2", [L.Bidirectional(L.LSTM(3, return_sequences=True)),
                           L.Bidirectional(L.LSTM(3, return_sequences=True)), L.Dense(2)], width=2)
    seq("f:bidir-gru", [L.Bidirectional(L.GRU(3, return_sequences=True, reset_after=False))], width=2)
    seq("go-backwards", [L.GRU(3, return_sequences=True, go_backwards=True), L.GRU(3, return_sequences=True)])
    seq("f:dense-before-gru", [L.Dense(5, name="dense"), L.GRU(4, return_sequences=True, name="gru"), L.Dense(1)])
    seq("last-step-only", [L.GRU(4)], steps=5)
    seq("gru-float64", [L.GRU(4, return_sequences=True, dtype="float64")], dtype="float64")
    seq("stacked-3-rnn", [L.SimpleRNN(3, return_sequences=True), L.SimpleRNN(3, return_sequences=True),
                          L.SimpleRNN(3, return_sequences=True)])
    # the dense-before-gru reference must be what the GRU reads: also keep the Dense's output
    m = keras.saving.load_model(out / "dense-before-gru.keras")
    ref = dict(np.load(out / "dense-before-gru.ref.npz"))
    dense = next(ly for ly in m.layers if isinstance(ly, L.Dense))
    ref["x_gru"] = keras.ops.convert_to_numpy(dense(ref["x"]))
    np.savez(out / "dense-before-gru.ref.npz", **ref)

    # ---- configs gru-viz refuses (only the .keras matters)
    def bad(name, model):
        model.save(out / f"{name}.keras")

    inp = keras.Input((None, 3))
    bad("lambda", keras.Sequential([inp, L.Lambda(lambda v: v * 2, name="lambda"), L.GRU(2)]))

    @keras.saving.register_keras_serializable(package="evil")
    class Passthrough(L.Layer):
        def call(self, v):
            return v

    bad("custom-layer", keras.Sequential([keras.Input((None, 3)), Passthrough(), L.GRU(2)]))
    bad("hard-sigmoid", keras.Sequential([keras.Input((None, 3)),
                                          L.GRU(2, recurrent_activation="hard_sigmoid", name="gru")]))
    bad("merge-sum", keras.Sequential([keras.Input((None, 3)),
                                       L.Bidirectional(L.GRU(2, return_sequences=True), merge_mode="sum")]))
    bad("dense-between", keras.Sequential([keras.Input((None, 3)), L.GRU(2, return_sequences=True, name="gru"),
                                           L.Dense(2, name="dense"), L.GRU(2, name="gru_1")]))
    bad("go-backwards-above", keras.Sequential([keras.Input((None, 3)), L.GRU(2, return_sequences=True, name="gru"),
                                                L.GRU(2, go_backwards=True, name="gru_1")]))

    @keras.saving.register_keras_serializable(package="evil")
    def my_tanh(v):
        return keras.ops.tanh(v)

    bad("custom-activation", keras.Sequential([keras.Input((None, 3)), L.GRU(2, activation=my_tanh)]))
    inp = keras.Input((None, 3))
    a, b = L.GRU(2, return_sequences=True)(inp), L.GRU(2, return_sequences=True)(inp)
    bad("two-branches", keras.Model(inp, L.Concatenate()([a, b])))


if __name__ == "__main__":  # pragma: no cover
    build(Path(sys.argv[1]))
