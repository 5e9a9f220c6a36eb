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
    # float64: round-off, except a stack with a reset_after=False GRU: Keras 3's own reset_after=False GRU in float64
    # on torch is float32-accurate only (measured: ~8e-8 off the exact run, where the same GRU with reset_after=True
    # agrees to 2e-16); test_core_mixed checks the core's mixed stack layer by layer to round-off
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


# ---------------------------------------------------------------------------------------------- vocabularies
# Keras's StringLookup and TextVectorization need TensorFlow, which this project does not install: these files are
# Keras 3's own tokens-gru.keras with a lookup layer put in front of its Embedding, written as Keras 3 writes one
# (index_lookup.py's get_config, StringLookup.get_config dropping vocabulary_dtype; save_assets writing
# get_vocabulary(include_special_tokens=True) to assets/<layer's path>/vocabulary.txt when the vocabulary was
# adapted rather than given). Its get_vocabulary() is [mask_token if any] + [oov_token] + the tokens
# (index_lookup.py: _oov_start_index, _token_start_index), which is what the expected vocabularies below spell out.

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "up"]


def _policy() -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def _tensor(layer: str, dtype: str) -> dict:
    return {"class_name": "__keras_tensor__", "config": {"shape": [None, None], "dtype": dtype,
                                                         "keras_history": [layer, 0, 0]}}


def _lookup_config(cls: str, vocabulary, **extra) -> dict:
    name = "string_lookup" if cls == "StringLookup" else "text_vectorization"
    if cls == "StringLookup":
        cfg = {"name": name, "trainable": True, "dtype": _policy(), "invert": False, "max_tokens": None,
               "num_oov_indices": 1, "oov_token": "[UNK]", "mask_token": None, "output_mode": "int",
               "sparse": False, "pad_to_max_tokens": False, "idf_weights": None, "vocabulary": vocabulary,
               "vocabulary_size": None, "oov_method": "farmhash", "salt": None, "encoding": "utf-8"}
    else:
        cfg = {"name": name, "trainable": True, "dtype": _policy(), "max_tokens": None,
               "standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": None,
               "output_mode": "int", "output_sequence_length": None, "pad_to_max_tokens": False, "sparse": False,
               "ragged": False, "vocabulary": vocabulary, "idf_weights": None, "encoding": "utf-8",
               "vocabulary_size": None}
    cfg.update(extra)
    return {"module": "keras.layers", "class_name": cls, "config": cfg, "registered_name": None, "name": name,
            "inbound_nodes": [{"args": [_tensor("input_layer", "string")], "kwargs": {}}]}


def with_lookup(base: bytes, layer: dict, assets: str | None = None) -> bytes:
    """``base`` (a .keras of Input → Embedding → …) with ``layer`` between the input and the Embedding."""
    import io
    import json
    import zipfile

    import h5py

    src = zipfile.ZipFile(io.BytesIO(base))
    config = json.loads(src.read("config.json"))
    layers = config["config"]["layers"]
    layers[0]["config"]["dtype"] = "string"
    emb = next(ly for ly in layers if ly["class_name"] == "Embedding")
    emb["inbound_nodes"] = [{"args": [_tensor(layer["name"], "int64")], "kwargs": {}}]
    layers.insert(1, layer)
    weights = io.BytesIO(src.read("model.weights.h5"))
    with h5py.File(weights, "a") as f:  # Keras writes a group (with the layer's name) for every layer
        f.create_group(f"layers/{layer['name']}/vars").attrs["name"] = layer["name"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        dst.writestr("metadata.json", src.read("metadata.json"))
        dst.writestr("config.json", json.dumps(config))
        dst.writestr("model.weights.h5", weights.getvalue())
        if assets is not None:
            dst.writestr(f"assets/layers/{layer['name']}/vocabulary.txt", assets)
    return out.getvalue()


VOCAB_CASES = {
    # given in the constructor: the config lists it, without the special tokens (Keras adds them)
    "stringlookup-config": (_lookup_config("StringLookup", WORDS[:10]), None, ["[UNK]", *WORDS]),
    # given with the special tokens at its start: Keras strips them before adding them back (set_vocabulary)
    "stringlookup-config-with-unk": (_lookup_config("StringLookup", ["[UNK]", *WORDS]), None, ["[UNK]", *WORDS]),
    # adapted: the config says null, the assets file has get_vocabulary(), special tokens included
    "stringlookup-assets": (_lookup_config("StringLookup", None), "\n".join(["[UNK]", *WORDS]), ["[UNK]", *WORDS]),
    # a mask token: id 0 is "" (padding), [UNK] id 1
    "stringlookup-mask": (_lookup_config("StringLookup", WORDS[:8], mask_token=""), None, ["", "[UNK]", *WORDS[:8]]),
    # TextVectorization: mask "" and [UNK] always; adapted, so in the assets (trailing newline dropped as Keras does)
    "textvectorization-assets": (_lookup_config("TextVectorization", None),
                                 "\n".join(["", "[UNK]", *WORDS[:8]]) + "\n\n", ["", "[UNK]", *WORDS[:8]]),
}


@pytest.mark.parametrize("case", sorted(VOCAB_CASES))
def test_keras_vocabulary_names_the_embedding_rows(kdir, case):
    layer, assets, vocab = VOCAB_CASES[case]
    data = with_lookup((kdir / "tokens-gru.keras").read_bytes(), layer, assets)
    loaded = read_weights_bytes(data, "m.keras")
    m = loaded.model
    assert m.vocabulary is not None and list(m.vocabulary[: len(vocab)]) == vocab
    assert list(m.vocabulary[len(vocab):]) == [f"<id {i}>" for i in range(len(vocab), 11)]
    assert m.readout.vocabulary == m.vocabulary and loaded.assumed  # 11 units, 11 rows: said to be assumed
    assert not any(layer["name"] in i for i in loaded.ignored)
    notes = " ".join(loaded.notes)
    assert ("mask token" in notes) == (vocab[0] == "")
    # the numbers are still Keras's: ids run through our embedding, stack and readout as Keras ran them
    ref = np.load(kdir / "tokens-gru.ref.npz")
    close(outputs(loaded, ref["ids"]), ref["y_keras"], 2e-6)


def test_keras_vocabularies_gru_viz_cannot_name_are_left_out_and_said(kdir):
    base = (kdir / "tokens-gru.keras").read_bytes()
    for vocab, extra, said in ((WORDS, {"num_oov_indices": 2}, "num_oov_indices=2"),
                               (WORDS, {"output_mode": "one_hot"}, "output_mode"),
                               ("/etc/words.txt", {}, "outside the model")):
        loaded = read_weights_bytes(with_lookup(base, _lookup_config("StringLookup", vocab, **extra)), "m.keras")
        assert loaded.model.vocabulary is None and loaded.model.embedding is not None
        assert any(said in n for n in loaded.notes), loaded.notes
    too_many = _lookup_config("StringLookup", [f"w{i}" for i in range(20)])
    loaded = read_weights_bytes(with_lookup(base, too_many), "m.keras")
    assert loaded.model.vocabulary is None and any("more than the 11 rows" in n for n in loaded.notes)


# --------------------------------------------------------------------------------------- hostile legacy .h5


def _edit_h5(data: bytes, edit) -> bytes:
    import io

    import h5py

    buf = io.BytesIO(data)
    with h5py.File(buf, "a") as f:
        edit(f)
    return buf.getvalue()


def _config_edit(change):
    import json

    def edit(f):
        config = json.loads(f.attrs["model_config"])
        change(config["config"]["layers"])
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
    return edit


def test_bad_legacy_h5_files_are_refused_with_the_layer_named(kdir):
    """The same refusals as a .keras (code in the config, unknown layers between recurrent ones) and the legacy
    layout's own (weights listed out of order or missing), one line each, naming the layer or weight."""
    good = (kdir / f"{KERAS2_CASE}.h5").read_bytes()

    def refused(data: bytes, match: str) -> None:
        from gru_viz.io.formats.checks import WeightsError

        with pytest.raises(WeightsError, match=match) as info:
            read_weights_bytes(data, "model.h5")
        assert "\n" not in str(info.value)

    def lambda_layer(layers):
        layers.insert(2, {"class_name": "Lambda", "config": {"name": "lambda", "function": ["4wEAAAA=", None, None]}})
    refused(_edit_h5(good, _config_edit(lambda_layer)), "'lambda'.*Python code stored in the file")

    def dense_between(layers):
        layers.insert(3, {"class_name": "Dense", "config": {"name": "squash", "units": 3}})
    refused(_edit_h5(good, _config_edit(dense_between)), "'squash' \\(Dense\\) sits between recurrent layers")

    def custom(layers):
        layers[2]["class_name"] = "Custom>GRU"
    refused(_edit_h5(good, _config_edit(custom)), "custom class")

    def time_major(layers):
        layers[2]["config"]["time_major"] = True
    refused(_edit_h5(good, _config_edit(time_major)), "'gru' \\(GRU\\): time_major=True")

    def swapped(f):
        names = list(f["model_weights/gru"].attrs["weight_names"])
        f["model_weights/gru"].attrs["weight_names"] = [names[1], names[0], names[2]]
    refused(_edit_h5(good, swapped), "'gru/gru_cell/recurrent_kernel:0' stands where Keras loads the kernel")

    def missing(f):
        del f["model_weights/gru_1/gru_1/gru_cell/bias:0"]
    refused(_edit_h5(good, missing), "missing model_weights/gru_1/gru_1/gru_cell/bias:0 \\(the bias of layer 'gru_1'")

    def short(f):
        f["model_weights/gru"].attrs["weight_names"] = list(f["model_weights/gru"].attrs["weight_names"])[:2]
    refused(_edit_h5(good, short), "model_weights/gru lists 2 weights .*asks for 3")

    def not_json(f):
        f.attrs["model_config"] = b"{not json"
    refused(_edit_h5(good, not_json), "model_config is not valid JSON")

    def no_layer_names(f):
        del f["model_weights"].attrs["layer_names"]
    refused(_edit_h5(good, no_layer_names), "no layer_names attribute")


def test_legacy_h5_chunked_names_and_an_old_sequential_list_read_as_keras_does(kdir):
    """Keras splits a long ``layer_names`` into ``layer_names0``, ``layer_names1``, …; Keras ≤ 2.2.2 wrote a
    Sequential's config as its bare list of layers: both read as the plain file does."""
    import json

    good = (kdir / f"{KERAS2_CASE}.h5").read_bytes()
    ref = np.load(kdir / f"{KERAS2_CASE}.ref.npz")

    def chunk(f):
        names = list(f["model_weights"].attrs["layer_names"])
        del f["model_weights"].attrs["layer_names"]
        f["model_weights"].attrs["layer_names0"] = names[:2]
        f["model_weights"].attrs["layer_names1"] = names[2:]
        config = json.loads(f.attrs["model_config"])
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential",
                                              "config": config["config"]["layers"][1:]}).encode("utf8")
    loaded = read_weights_bytes(_edit_h5(good, chunk), "model.h5")
    close(outputs(loaded, ref["ids"]), ref["y_h5"], 2e-6)
