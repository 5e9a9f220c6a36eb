"""Real Keras 3 files (``.keras`` and ``.weights.h5``) and Keras's own outputs on them, built by Keras itself on the
torch backend, in a child process (Keras is slow to import and sets global state: the test process never imports it).

Run as ``python tests/keras_fixtures.py OUTDIR``: for every case it writes ``CASE.keras``, ``CASE.weights.h5``,
``CASE.h5`` (``model.save("CASE.h5")``: Keras's legacy whole-model HDF5) and ``CASE.ref.npz`` (``x``, the input;
``y``, what the recurrent stack outputs on it per Keras; ``y_h5``, the same per Keras loading ``CASE.h5`` back;
``dtype``). Token cases (``TOKEN_CASES``: Embedding → recurrent → Dense) keep ``ids`` and ``y_keras``/``y_h5``, the
model's outputs per Keras loading ``CASE.keras``/``CASE.h5`` (``h_keras``/``h_h5``: its top recurrent layer's). Hostile
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
KERAS2_CASE = "keras2-style"  # written with h5py as tf.keras 2.x's hdf5_format.py writes model.save("x.h5")
TOKEN_CASES = ("tokens-gru", "tokens-gru-float64", "tokens-lstm-softmax-last", "tokens-mixed", "tokens-mixed-float64")
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
        model.save(out / f"{name}.h5")  # Keras's legacy whole-model HDF5 (model_config + model_weights/)
        probe = keras.Model(model.inputs, stack_out)
        y = keras.ops.convert_to_numpy(probe(x))
        back = keras.saving.load_model(out / f"{name}.h5", compile=False)  # Keras itself reading the .h5
        top = stack_out._keras_history[0].name
        y_h5 = keras.ops.convert_to_numpy(keras.Model(back.inputs, back.get_layer(top).output)(x))
        np.savez(out / f"{name}.ref.npz", x=x, y=y, y_h5=y_h5, dtype=np.array(dtype), kdtype=np.array(str(y.dtype)))

    def tokens(name, layers, vocab=11, dtype="float32", steps=7):
        """Token ids → ``layers`` (Embedding first, Dense last); Keras's outputs after loading the .keras and .h5."""
        inp = keras.Input((None,), dtype="int32")
        h = inp
        for layer in layers:
            h = layer(h)
        model = keras.Model(inp, h)
        randomise(model)
        model.save(out / f"{name}.keras")
        model.save(out / f"{name}.h5")
        ids = rng.integers(0, vocab, (2, steps)).astype("int32")
        ref = {"ids": ids, "dtype": np.array(dtype)}
        for ext, key in ((".keras", "y_keras"), (".h5", "y_h5")):
            back = keras.saving.load_model(out / f"{name}{ext}", compile=False)
            ref[key] = np.asarray(back.predict(ids, verbose=0))
            top = keras.Model(back.inputs, back.layers[-2].output)  # the top recurrent layer, before the Dense
            ref[key.replace("y_", "h_")] = keras.ops.convert_to_numpy(top(ids))
        np.savez(out / f"{name}.ref.npz", **ref)

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
    for dt, suffix in (("float32", ""), ("float64", "-float64")):
        tokens(f"tokens-gru{suffix}", [L.Embedding(11, 3, dtype=dt), L.GRU(4, return_sequences=True, dtype=dt),
                                       L.Dense(11, dtype=dt)], dtype=dt)
        tokens(f"tokens-mixed{suffix}", [
            L.Embedding(11, 3, dtype=dt),
            L.Bidirectional(L.GRU(4, return_sequences=True, reset_after=False, dtype=dt), dtype=dt),
            L.Dropout(0.3), L.Bidirectional(L.GRU(4, return_sequences=True, reset_after=True, dtype=dt), dtype=dt),
            L.Dense(11, dtype=dt)],
            dtype=dt)
    tokens("tokens-lstm-softmax-last", [L.Embedding(11, 3), L.LSTM(5), L.Dense(11, activation="softmax")])
    keras2_style(out / f"{KERAS2_CASE}.h5", rng)
    back = keras.saving.load_model(out / f"{KERAS2_CASE}.h5", compile=False)  # Keras 3 reading a Keras 2 file
    ids = rng.integers(0, 11, (2, 6)).astype("int32")
    np.savez(out / f"{KERAS2_CASE}.ref.npz", ids=ids, y_h5=np.asarray(back.predict(ids, verbose=0)))
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


def keras2_style(path: Path, rng) -> None:  # pragma: no cover - runs in the child process
    """A whole-model .h5 as tf.keras 2.x wrote it (keras/saving/legacy/hdf5_format.py, save_model_to_hdf5 and
    save_weights_to_hdf5_group): utf-8 bytes attributes ``keras_version``, ``backend``, ``model_config`` (a Keras 2
    config: no ``module`` keys, ``batch_input_shape``, string dtypes) at the root; ``model_weights`` with
    ``layer_names`` and, per layer group, ``weight_names`` such as ``gru/gru_cell/kernel:0``, each a dataset at
    that path under the group. Embedding(11, 3) → GRU(4) → GRU(4) → Dense(11). (Not a Bidirectional: Keras 3 cannot
    load a Keras 2 Bidirectional, whose inner layer's config has no ``module``; the Keras 3 ``.h5`` cases cover
    Bidirectional's weight order. Nor tf.keras ≥ 2.4's ``time_major`` key, which Keras 3 refuses as an unknown
    argument: this is the config as Keras 2.3 wrote it.)"""
    import json

    import h5py
    import numpy as np

    def init(cls, **config):
        return {"class_name": cls, "config": config}

    def gru(name):
        return init("GRU", name=name, trainable=True, dtype="float32", return_sequences=True, return_state=False,
                    go_backwards=False, stateful=False, unroll=False, units=4, activation="tanh",
                    recurrent_activation="sigmoid", use_bias=True, kernel_initializer=init("GlorotUniform", seed=None),
                    recurrent_initializer=init("Orthogonal", gain=1.0, seed=None), bias_initializer=init("Zeros"),
                    kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                    activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                    dropout=0.0, recurrent_dropout=0.0, implementation=2, reset_after=True)

    layers = [
        init("InputLayer", batch_input_shape=[None, None], dtype="float32", sparse=False, ragged=False,
             name="embedding_input"),
        init("Embedding", name="embedding", trainable=True, batch_input_shape=[None, None], dtype="float32",
             input_dim=11, output_dim=3, embeddings_initializer=init("RandomUniform", minval=-0.05, maxval=0.05,
                                                                     seed=None),
             embeddings_regularizer=None, activity_regularizer=None, embeddings_constraint=None, mask_zero=False,
             input_length=None),
        gru("gru"),
        gru("gru_1"),
        init("Dense", name="dense", trainable=True, dtype="float32", units=11, activation="linear", use_bias=True,
             kernel_initializer=init("GlorotUniform", seed=None), bias_initializer=init("Zeros"),
             kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
             bias_constraint=None),
    ]
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}

    def w(*shape):
        return rng.uniform(-0.9, 0.9, shape).astype(np.float32)

    def cell(prefix, width):
        return [(f"{prefix}/kernel:0", w(width, 12)), (f"{prefix}/recurrent_kernel:0", w(4, 12)),
                (f"{prefix}/bias:0", w(2, 12))]

    weights = {
        "embedding": [("embedding/embeddings:0", w(11, 3))],
        "gru": cell("gru/gru_cell", 3),
        "gru_1": cell("gru_1/gru_cell", 4),
        "dense": [("dense/kernel:0", w(4, 11)), ("dense/bias:0", w(11))],
    }
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.3.1"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [name.encode("utf8") for name in weights]
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.3.1"
        for name in sorted(weights):  # Keras 2 creates the groups in name order
            lg = g.create_group(name)
            lg.attrs["weight_names"] = [wn.encode("utf8") for wn, _ in weights[name]]
            for wn, val in weights[name]:
                lg.create_dataset(wn, val.shape, dtype=val.dtype)[:] = val


if __name__ == "__main__":  # pragma: no cover
    build(Path(sys.argv[1]))
