"""A file's own array names (keys=), several recurrent modules (prefix=), embeddings, readouts and vocabularies.

The references: g2p-en's encoder as gru_viz/io/seq2seq.py runs it (tests/test_seq2seq.py proves that equal to g2p-en's
own code) and torch's GRU on the same weights; a Flax-layout and a Keras-layout set made by hand from a torch GRU's
weights; torch seq2seq modules saved whole (.pt with weights_only, .safetensors, .npz), run by torch (embedding → GRU →
Linear) in float64 and float32.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import safetensors.torch
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import gru_viz
from gru_viz.core.kinds import KIND, WITH_W_HH
from gru_viz.core.tokens import Embedding
from gru_viz.io import seq2seq
from gru_viz.io.mapping import MappingError, apply_keys, gate_permutation, mapping_call, propose_mapping
from gru_viz.io.vocabulary import read_vocabulary
from gru_viz.io.weights import (
    NeedsMapping,
    SeveralModules,
    WeightsError,
    load_weights,
    load_weights_bytes,
    read_weights_bytes,
    save_npz,
    save_safetensors,
)

G2P = seq2seq.WEIGHTS
G2P_KEYS = {"weight_ih_l0": "enc_w_ih", "weight_hh_l0": "enc_w_hh", "bias_ih_l0": "enc_b_ih",
            "bias_hh_l0": "enc_b_hh"}


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def torch_gru(gru_params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """torch.nn.GRU's output on x (T, I) with these torch-named weights, float64."""
    I, H = gru_params["weight_ih_l0"].shape[1], gru_params["weight_hh_l0"].shape[1]
    mod = nn.GRU(I, H).double()
    mod.load_state_dict({k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in gru_params.items()})
    with torch.no_grad():
        return mod(torch.tensor(x))[0].numpy()


# ------------------------------------------------------------------------------------------------------ g2p-en


def test_g2p_en_with_keys_is_the_encoder_seq2seq_runs_and_torch():
    model = load_weights(G2P, keys=G2P_KEYS)
    ref = seq2seq.g2p()
    for key in ref.encoder.params:
        np.testing.assert_array_equal(model.params[key], ref.encoder.params[key])
    ids = seq2seq.letter_ids("through")
    x = ref.enc_emb[ids]
    ours = model.run(x).output
    want = seq2seq.encode("through").output
    np.testing.assert_allclose(np.squeeze(ours), np.squeeze(want), rtol=0, atol=1e-12)
    with np.load(G2P) as f:
        raw = {k: f[k] for k in f.files}
    theirs = torch_gru({k: raw[v] for k, v in G2P_KEYS.items()}, x)
    np.testing.assert_allclose(np.squeeze(ours), theirs, rtol=0, atol=1e-12)


def test_g2p_en_unmapped_raises_needs_mapping_with_a_proposal_that_loads():
    with pytest.raises(NeedsMapping) as info:
        load_weights(G2P)
    exc = info.value
    assert exc.arrays["enc_w_ih"] == (768, 256) and exc.arrays["fc_b"] == (74,)
    assert "enc_w_ih (768, 256)" in str(exc) and "keys=" in str(exc) and "'weight_ih_l0': 'enc_w_ih'" in str(exc)
    p = exc.proposal
    assert p.groups == ("enc_", "dec_") and p.group == "enc_"
    assert p.keys == {**G2P_KEYS, "embedding.weight": "enc_emb"}
    enc = load_weights(G2P, keys=p.keys, vocabulary=seq2seq.GRAPHEMES)
    assert enc.vocabulary == seq2seq.GRAPHEMES and enc.readout is None
    ids = np.array(seq2seq.letter_ids("cough"))
    np.testing.assert_allclose(np.squeeze(enc.run_tokens(ids).output), np.squeeze(seq2seq.encode("cough").output),
                               rtol=0, atol=1e-12)
    dec = propose_mapping(exc.arrays, "dec_")
    assert dec.keys == {"weight_ih_l0": "dec_w_ih", "weight_hh_l0": "dec_w_hh", "bias_ih_l0": "dec_b_ih",
                        "bias_hh_l0": "dec_b_hh", "embedding.weight": "dec_emb", "head.weight": "fc_w",
                        "head.bias": "fc_b"}
    model = load_weights(G2P, keys=dec.keys, vocabulary=seq2seq.PHONEMES)
    t = seq2seq.transcribe("cough")
    h = seq2seq.encode("cough").h_n
    run = model.run(model.embedding.lookup([seq2seq.START]), h0=h)
    np.testing.assert_allclose(model.logits(run)[-1].ravel(), t.logits[0], rtol=0, atol=1e-9)
    assert model.readout.vocabulary == seq2seq.PHONEMES


def test_mapping_call_is_python_that_loads_the_same():
    p = propose_mapping({k: v.shape for k, v in np.load(G2P).items()})
    code = mapping_call(str(G2P), p.keys, gate_order=p.gate_order, transpose=p.transpose)
    scope: dict = {}
    exec(code, scope)  # the very text the page shows
    np.testing.assert_array_equal(scope["model"].params["weight_hh_l0"], load_weights(G2P, keys=p.keys).params[
        "weight_hh_l0"])
    assert "prefix='decoder.'" in mapping_call("m.pt", prefix="decoder.")


def test_a_mapping_that_does_not_fit_names_the_array_and_both_shapes():
    with pytest.raises(WeightsError, match=r"embedding.weight \(the file's 'dec_emb' \(74, 256\)\): the embedding "
                                           r"gives 256 values per token, the model reads 5"):
        load_weights_bytes(npz_bytes({"w_ih": np.ones((12, 5)), "w_hh": np.ones((12, 4)),
                                      "dec_emb": np.ones((74, 256))}), "m.npz",
                           keys={"weight_ih_l0": "w_ih", "weight_hh_l0": "w_hh", "embedding.weight": "dec_emb"})
    with pytest.raises(MappingError, match=r"bias_hh_l0 \(the file's 'fc_b' \(74,\)\) has shape \(74,\).*needs "
                                           r"\(768,\)"):
        load_weights(G2P, keys={**G2P_KEYS, "bias_hh_l0": "fc_b"})
    with pytest.raises(MappingError, match=r"weight_hh_l0 \(the file's 'enc_emb', shape \(29, 256\)\) does not fit"):
        load_weights(G2P, keys={**G2P_KEYS, "weight_hh_l0": "enc_emb"})
    with pytest.raises(MappingError, match=r"the file has no array 'enc_w_xx'"):
        load_weights(G2P, keys={**G2P_KEYS, "weight_ih_l0": "enc_w_xx"})
    with pytest.raises(MappingError, match=r"'weight_xx_l0' is not a torch name"):
        load_weights(G2P, keys={"weight_xx_l0": "enc_w_ih"})
    with pytest.raises(WeightsError, match=r"the vocabulary has 2 tokens, but the embedding .*'enc_emb' \(29, 256\)"
                                           r"\) has 29 rows"):
        load_weights(G2P, keys={**G2P_KEYS, "embedding.weight": "enc_emb"}, vocabulary=["a", "b"])
    with pytest.raises(WeightsError, match=r"embedding.weight \(the file's 'fc_b', shape \(74,\)\) must be a non-empty "
                                           r"matrix"):
        load_weights(G2P, keys={**G2P_KEYS, "embedding.weight": "fc_b"})


# ------------------------------------------------------------------------------------------- Flax and Keras


def torch_weights(I: int, H: int, seed: int) -> tuple[nn.GRU, dict[str, np.ndarray]]:
    torch.manual_seed(seed)
    mod = nn.GRU(I, H).double()
    return mod, {k: v.detach().numpy().copy() for k, v in mod.state_dict().items()}


@pytest.mark.parametrize("I,H", [(3, 5), (4, 4)])
def test_a_flax_layout_npz_made_from_torch_weights_equals_torch(I, H):
    """Flax's GRUCell: Dense ir, iz, in (biased), hr, hz (no bias), hn (biased); kernels (in, out)."""
    mod, sd = torch_weights(I, H, 1)
    with torch.no_grad():
        mod.bias_hh_l0[: 2 * H] = 0  # Flax's hr, hz carry no bias
    sd = {k: v.detach().numpy().copy() for k, v in mod.state_dict().items()}
    cut = {k: np.split(v, 3, axis=0) for k, v in sd.items()}
    flax = {}
    for j, g in enumerate("rzn"):
        flax[f"params/cell/i{g}/kernel"] = cut["weight_ih_l0"][j].T.astype(np.float32)
        flax[f"params/cell/i{g}/bias"] = cut["bias_ih_l0"][j].astype(np.float32)
        flax[f"params/cell/h{g}/kernel"] = cut["weight_hh_l0"][j].T.astype(np.float32)
    flax["params/cell/hn/bias"] = cut["bias_hh_l0"][2].astype(np.float32)
    data = npz_bytes(flax)
    with pytest.raises(NeedsMapping) as info:
        load_weights_bytes(data, "flax.npz")
    p = info.value.proposal
    assert p.transpose is True and p.keys["bias_hh_l0"] == (None, None, "params/cell/hn/bias")
    assert p.keys["weight_ih_l0"] == ("params/cell/ir/kernel", "params/cell/iz/kernel", "params/cell/in/kernel")
    if I == H:  # every kernel square: the shapes cannot say, the proposal (from the names) does
        with pytest.raises(MappingError, match="pass transpose=False"):
            load_weights_bytes(data, "flax.npz", keys=p.keys)
    model = load_weights_bytes(data, "flax.npz", keys=p.keys, transpose=p.transpose)
    x = np.random.default_rng(0).standard_normal((7, I))
    x32 = x.astype(np.float32)
    with torch.no_grad():
        want32 = mod.float()(torch.tensor(x32))[0].double().numpy()
    np.testing.assert_allclose(np.squeeze(model.run(x32.astype(np.float64)).output), want32, rtol=0, atol=2e-6)
    mod64 = nn.GRU(I, H).double()
    mod64.load_state_dict({k: torch.tensor(v.astype(np.float32).astype(np.float64)) for k, v in sd.items()})
    with torch.no_grad():
        want64 = mod64(torch.tensor(x))[0].numpy()
    np.testing.assert_allclose(np.squeeze(model.run(x).output), want64, rtol=0, atol=1e-12)


def test_a_keras_order_transposed_set_equals_torch():
    I, H = 3, 4
    mod, sd = torch_weights(I, H, 2)
    zrn = lambda a: np.concatenate([np.split(a, 3)[j] for j in (1, 0, 2)])  # noqa: E731 (torch r z n → z r n)
    arrays = {"gru_kernel": zrn(sd["weight_ih_l0"]).T, "gru_recurrent": zrn(sd["weight_hh_l0"]).T,
              "gru_bias": np.stack([zrn(sd["bias_ih_l0"]), zrn(sd["bias_hh_l0"])])}
    keys = {"weight_ih_l0": "gru_kernel", "weight_hh_l0": "gru_recurrent", "bias_ih_l0": "gru_bias[0]",
            "bias_hh_l0": "gru_bias[1]"}
    model = load_weights_bytes(npz_bytes(arrays), "k.npz", keys=keys, gate_order="z r n")
    x = np.random.default_rng(1).standard_normal((6, I))
    with torch.no_grad():
        want = mod(torch.tensor(x))[0].numpy()
    np.testing.assert_allclose(np.squeeze(model.run(x).output), want, rtol=0, atol=1e-12)
    wrong = load_weights_bytes(npz_bytes(arrays), "k.npz", keys=keys)  # torch's order assumed: different numbers
    assert np.abs(np.squeeze(wrong.run(x).output) - want).max() > 1e-3
    with pytest.raises(MappingError, match="gate order 'a b c' names no kind's gates"):
        load_weights_bytes(npz_bytes(arrays), "k.npz", keys=keys, gate_order="a b c")


def test_gate_orders_of_every_kind():
    for kind in WITH_W_HH:
        blocks = KIND[kind].blocks
        found, perm = gate_permutation(" ".join(reversed(blocks)), len(blocks))
        assert found == kind and perm == tuple(reversed(range(len(blocks))))


def test_transposes_follow_the_shapes_and_misfits_name_them():
    H, I = 3, 5
    w_ih, w_hh = np.ones((3 * H, I)), np.ones((3 * H, H))
    out = apply_keys({"a": w_ih.T, "b": w_hh.T}, {"weight_ih_l0": "a", "weight_hh_l0": "b"})
    assert out.arrays["weight_ih_l0"].shape == (9, 5) and out.arrays["weight_hh_l0"].shape == (9, 3)
    with pytest.raises(MappingError, match=r"weight_ih_l0: its gate arrays \('a' \(3, 5\), 'b' \(2, 5\)"):
        apply_keys({"a": np.ones((3, 5)), "b": np.ones((2, 5)), "h": np.ones((3, 3))},
                   {"weight_ih_l0": ("a", "b", "a"), "weight_hh_l0": ("h", "h", "h")}, transpose=False)


# ------------------------------------------------------------------------------------- several modules (torch)


class EncoderRNN(nn.Module):
    """The PyTorch seq2seq tutorial's encoder: embedding.weight, gru.weight_ih_l0, …"""

    def __init__(self, vocab: int, hidden: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)


class DecoderRNN(nn.Module):
    """The tutorial's decoder: embedding, gru and out (a Linear to the output vocabulary)."""

    def __init__(self, hidden: int, vocab: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = EncoderRNN(11, 6)
        self.decoder = DecoderRNN(6, 9)


def saved(sd: dict[str, torch.Tensor], fmt: str) -> tuple[bytes, str]:
    if fmt == "pt":
        buf = io.BytesIO()
        torch.save(sd, buf)
        return buf.getvalue(), "m.pt"
    if fmt == "safetensors":
        return safetensors.torch.save({k: v.contiguous() for k, v in sd.items()}), "m.safetensors"
    return npz_bytes({k: v.numpy() for k, v in sd.items()}), "m.npz"


@pytest.mark.parametrize("fmt", ["pt", "safetensors", "npz"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_seq2seq_state_dict_picks_a_module_and_its_embedding_and_readout(fmt, dtype):
    torch.manual_seed(3)
    net = Seq2Seq().to(dtype)
    data, name = saved(net.state_dict(), fmt)
    with pytest.raises(SeveralModules) as info:
        load_weights_bytes(data, name)
    assert set(info.value.modules) == {"encoder.gru.", "decoder.gru."}
    assert "GRU, input 6, hidden 6" in info.value.modules["decoder.gru."]
    assert "prefix='encoder.gru.'" in str(info.value) or "prefix='decoder.gru.'" in str(info.value)
    loaded = read_weights_bytes(data, name, prefix="decoder.")
    model = loaded.model
    assert loaded.prefix == "decoder.gru." and model.embedding.size == 9 and model.readout.size == 9
    assert sorted(loaded.ignored) == sorted(k for k in net.state_dict() if k.startswith("encoder."))
    assert any(line.startswith("embedding: 'decoder.embedding.weight'") for line in loaded.read)
    ids = torch.tensor([[1, 4, 2, 8, 0]])
    h0 = torch.randn(1, 1, 6, dtype=dtype)
    with torch.no_grad():
        y, _ = net.decoder.gru(net.decoder.embedding(ids), h0)
        want = net.decoder.out(y)[0].double().numpy()
    trace = model.run_tokens(ids[0].numpy(), h0=h0[0].double().numpy())
    tol = 1e-12 if dtype == torch.float64 else 2e-5
    np.testing.assert_allclose(np.squeeze(model.logits(trace)), want, rtol=0, atol=tol)
    enc = load_weights_bytes(data, name, prefix="encoder.")
    assert enc.embedding.size == 11 and enc.readout is None
    with pytest.raises(WeightsError, match=r"prefix='middle\.' names none of the file's recurrent modules"):
        load_weights_bytes(data, name, prefix="middle.")


def test_the_tutorials_encoder_alone_and_the_agreed_language_model_layout():
    torch.manual_seed(4)
    enc = EncoderRNN(7, 5).double()
    data, name = saved(enc.state_dict(), "safetensors")
    model = load_weights_bytes(data, name)
    assert model.embedding.size == 7 and model.readout is None
    vocab = ["<unk>", " ", "a", "b", "c", "é", "\t"]
    meta = {"gru_viz.kind": "gru", "gru_viz.vocabulary": json.dumps(vocab), "gru_viz.unknown": "<unk>"}
    f64 = torch.float64
    lm = {"embedding.weight": torch.randn(7, 3, dtype=f64), "head.weight": torch.randn(7, 4, dtype=f64),
          "head.bias": torch.randn(7, dtype=f64),
          **{f"rnn.{k}": v for k, v in nn.GRU(3, 4).double().state_dict().items()}}
    loaded = read_weights_bytes(safetensors.torch.save(lm, metadata=meta), "lm.safetensors")
    assert loaded.model.vocabulary == tuple(vocab) and loaded.model.readout.vocabulary == tuple(vocab)
    assert loaded.unknown == "<unk>" and loaded.ignored == []
    for fmt, again in (("safetensors", save_safetensors(loaded.model, unknown="<unk>")),
                       ("npz", save_npz(loaded.model))):
        back = read_weights_bytes(again, f"lm.{fmt}")
        assert back.model.vocabulary == tuple(vocab)
        np.testing.assert_array_equal(back.model.embedding.table, loaded.model.embedding.table)
        np.testing.assert_array_equal(back.model.readout.bias, loaded.model.readout.bias)
        assert back.model.params.keys() == loaded.model.params.keys()


def test_a_plain_module_file_is_unchanged():
    m = gru_viz.random_model(gru_viz.Spec("lstm", 2, 3), 0)
    back = load_weights_bytes(save_safetensors(m), "m.safetensors")
    assert back.embedding is None and back.readout is None and set(back.params) == set(m.params)


# --------------------------------------------------------------------------------------------- vocabularies


def test_read_vocabulary():
    assert read_vocabulary(b"a\nb\n \n<unk>\n") == ("a", "b", " ", "<unk>")
    assert read_vocabulary("\ufeffx\r\ny".encode()) == ("x", "y")
    for data, msg in ((b"a\n\nb\n", "line 2 of the vocabulary file is empty"),
                      (b"a\nb\na\n", r"line 3 of the vocabulary file repeats 'a' \(line 1\)"),
                      (b"\xff\xfe", "not UTF-8"), (b"", "empty"),
                      (b"x" * 300, "line 1 .* 300 characters"),
                      (b"a\n" * (5 * 1024 * 1024 // 2), "bytes; at most")):
        with pytest.raises(WeightsError, match=msg):
            read_vocabulary(data)


def test_a_vocabulary_file_beside_the_weights(tmp_path):
    (tmp_path / "letters.txt").write_text("\n".join(seq2seq.GRAPHEMES) + "\n", encoding="utf-8")
    model = load_weights(G2P, keys={**G2P_KEYS, "embedding.weight": "enc_emb"}, vocabulary=tmp_path / "letters.txt")
    assert model.vocabulary == seq2seq.GRAPHEMES
    assert isinstance(model.embedding, Embedding) and model.readout is None
    with pytest.raises(WeightsError, match="no embedding"):
        load_weights(G2P, keys=G2P_KEYS, vocabulary=["a"])


# ---------------------------------------------------------------------------------------- properties, refusals

NAMES = st.sampled_from(["enc_w_ih", "enc_w_hh", "w_ih", "b_hh", "kernel", "recurrent_kernel", "bias", "emb",
                         "fc_w", "fc_b", "cell/ir/kernel", "cell/hn/bias", "x", "[0]", "out.weight", "a[1]"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(NAMES, st.lists(st.integers(0, 7), max_size=3), max_size=10), st.data())
def test_any_names_and_shapes_get_a_proposal_or_a_weights_error(shapes, data):
    """propose_mapping never fails; loading its proposal (or any mapping) loads or says why, never anything else."""
    arrays = {k: np.zeros(s) for k, s in shapes.items()}
    p = propose_mapping({k: tuple(s) for k, s in shapes.items()})
    keys = p.keys or {"weight_ih_l0": data.draw(NAMES)}
    try:
        load_weights_bytes(npz_bytes(arrays), "f.npz", keys=keys, transpose=p.transpose, gate_order=p.gate_order)
    except WeightsError:
        pass


def test_options_for_state_dicts_only_and_a_hostile_vocabulary_in_metadata():
    with pytest.raises(WeightsError, match="keys apply to a state_dict's arrays"):
        load_weights_bytes(b"PK\x03\x04", "m.keras", keys=G2P_KEYS)
    with pytest.raises(WeightsError, match="gate_order and transpose go with keys="):
        load_weights_bytes(G2P.read_bytes(), "c.npz", transpose=True)
    lm = {"embedding.weight": torch.zeros(3, 2), **{f"rnn.{k}": v for k, v in nn.GRU(2, 2).state_dict().items()}}
    for vocab, msg in (("not json", "not a JSON list"), ('{"a": 1}', "not a JSON list"), ('["a", "a", "b"]', "twice"),
                       ('["a"]', "the vocabulary has 1 tokens, but the embedding 'embedding.weight' has 3 rows")):
        data = safetensors.torch.save(lm, metadata={"gru_viz.vocabulary": vocab})
        with pytest.raises(WeightsError, match=msg):
            load_weights_bytes(data, "lm.safetensors")
