"""Encoder–decoder files (gru_viz.io.seq2seq.recognise / run_seq2seq): the PyTorch seq2seq tutorial's EncoderRNN and
DecoderRNN (its classes and its greedy evaluate loop transcribed below, random weights, float64) saved whole as .pt
and .safetensors decode to the same words and states as torch; g2p-en's checkpoint read from bytes transcribes
exactly as the shipped model does; attention decoders and misfits are refused with a reason."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import safetensors.torch
import torch
import torch.nn.functional as F  # the tutorial's spelling
from torch import nn

from gru_viz.io import seq2seq
from gru_viz.io.seq2seq import TUTORIAL, Seq2SeqError, read_seq2seq_bytes, recognise, run_seq2seq

SOS_token, EOS_token, MAX_LENGTH = 0, 1, 10
SOURCES = ["SOS", "EOS", "je", "suis", "tres", "froid", ".", "il", "est", "grand"]
TARGETS = ["SOS", "EOS", "i", "am", "very", "cold", ".", "he", "is", "tall", "you"]


class EncoderRNN(nn.Module):  # the tutorial's
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)

    def forward(self, input, hidden):
        output = self.embedding(input).view(1, 1, -1)
        return self.gru(output, hidden)


class DecoderRNN(nn.Module):  # the tutorial's: relu of the embedding, GRU, Linear, log_softmax
    def __init__(self, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        output = F.relu(self.embedding(input).view(1, 1, -1))
        output, hidden = self.gru(output, hidden)
        return self.softmax(self.out(output[0])), hidden


class Translator(nn.Module):  # both saved as one module: keys encoder.* and decoder.*
    def __init__(self, hidden_size=12):
        super().__init__()
        self.encoder = EncoderRNN(len(SOURCES), hidden_size)
        self.decoder = DecoderRNN(hidden_size, len(TARGETS))


def evaluate(model: Translator, ids: list[int]):
    """The tutorial's evaluate (no attention): encoder states, decoded ids, decoder states, log-probabilities."""
    with torch.no_grad():
        hidden = torch.zeros(1, 1, model.encoder.hidden_size, dtype=torch.float64)
        enc = []
        for i in [*ids, EOS_token]:
            _, hidden = model.encoder(torch.tensor([i]), hidden)
            enc.append(hidden[0, 0].numpy().copy())
        decoder_input = torch.tensor([[SOS_token]])
        decoded, dec, scores = [], [], []
        for _ in range(MAX_LENGTH):
            out, hidden = model.decoder(decoder_input, hidden)
            dec.append(hidden[0, 0].numpy().copy())
            scores.append(out[0].numpy().copy())
            topi = int(out.topk(1)[1])
            decoded.append(topi)
            if topi == EOS_token:
                break
            decoder_input = torch.tensor([[topi]])
    return np.array(enc), decoded, np.array(dec), np.array(scores)


def translator(seed: int, eos_bias: float = 0.0) -> Translator:
    torch.manual_seed(seed)
    model = Translator().double().eval()
    with torch.no_grad():
        model.decoder.out.bias[EOS_token] += eos_bias  # so that some runs stop at EOS before the cap
    return model


def saved(model: Translator, fmt: str, vocabularies: bool) -> bytes:
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    if fmt == ".pt":
        buf = io.BytesIO()
        torch.save(sd, buf)
        return buf.getvalue()
    meta = ({"gru_viz.vocabulary.encoder": json.dumps(SOURCES), "gru_viz.vocabulary.decoder": json.dumps(TARGETS)}
            if vocabularies else None)
    return safetensors.torch.save(sd, metadata=meta)


@pytest.mark.parametrize(("seed", "eos_bias"), [(0, 0.0), (1, 1.5), (2, 3.0)])
@pytest.mark.parametrize("fmt", [".pt", ".safetensors"])
def test_the_tutorials_translator_decodes_as_torch(seed, eos_bias, fmt):
    model = translator(seed, eos_bias)
    rec = read_seq2seq_bytes(saved(model, fmt, vocabularies=fmt == ".safetensors"), "translator" + fmt)
    assert rec is not None and rec.layout == TUTORIAL and rec.relu and rec.cap == MAX_LENGTH
    sentence = "Je suis très froid."  # normalised as the tutorial does: "je suis tres froid ."
    ids = [SOURCES.index(w) for w in "je suis tres froid .".split()]
    enc, decoded, dec, scores = evaluate(model, ids)
    tr = run_seq2seq(sentence if rec.sources else " ".join(map(str, ids)), rec)
    np.testing.assert_allclose(tr.enc.layer(0, 0).h[:, 0], enc, atol=1e-12)
    np.testing.assert_allclose(tr.dec.layer(0, 0).h[:, 0], dec, atol=1e-12)
    names = rec.target_names()
    assert [names.index(o) for o in tr.outputs] == decoded
    np.testing.assert_allclose(np.log(tr.probs), scores, atol=1e-12)  # log_softmax of the same scores
    if rec.sources:
        assert tr.text == "je suis tres froid ." and tr.enc_symbols == ("je", "suis", "tres", "froid", ".", "EOS")
        assert tr.outputs == tuple(TARGETS[i] for i in decoded)
    else:  # no vocabularies: ids in, ids out (SOS and EOS by their tutorial names)
        assert tr.enc_symbols == ("#2", "#3", "#4", "#5", "#6", "EOS")
    assert tr.dec_inputs[0] == "SOS" and tr.capped == (decoded[-1] != EOS_token)


def test_some_run_stops_at_eos_and_some_at_the_cap():
    lengths = {len(evaluate(translator(s, b), [2, 3])[1]) for s, b in [(0, 0.0), (2, 3.0), (1, 1.5)]}
    assert MAX_LENGTH in lengths and min(lengths) < MAX_LENGTH  # both ends of the loop are exercised above


def test_attention_and_misfits_are_refused():
    sd = {k: v.numpy() for k, v in translator(0).state_dict().items()}
    with pytest.raises(Seq2SeqError, match="attention"):
        recognise({**sd, "decoder.attn.weight": np.zeros((10, 24))})
    wrong = dict(sd, **{"decoder.out.weight": np.zeros((11, 7))})
    with pytest.raises(Seq2SeqError, match="the output layer reads 7 values, the decoder gives 12"):
        recognise(wrong)
    with pytest.raises(Seq2SeqError, match="vocabulary"):
        recognise(sd, {"gru_viz.vocabulary.encoder": json.dumps(SOURCES[:-1])})
    gru_only = {k.removeprefix("encoder.gru."): v for k, v in sd.items() if k.startswith("encoder.gru.")}
    assert recognise(gru_only) is None  # one recurrent module: the ordinary reader's


def test_unknown_words_and_long_text():
    rec = read_seq2seq_bytes(saved(translator(0), ".safetensors", True), "t.safetensors")
    tr = run_seq2seq("Je suis là", rec)
    assert tr.unknown == ("la",) and tr.enc_symbols == ("je", "suis", "EOS")  # no unknown mark: left out, named
    with pytest.raises(Seq2SeqError, match="at most 100"):
        run_seq2seq("a" * 101, rec)


def test_g2p_ens_checkpoint_from_bytes_is_todays_model():
    rec = read_seq2seq_bytes(seq2seq.WEIGHTS.read_bytes(), "checkpoint20.npz")
    assert rec is not None and rec.layout == seq2seq.G2P_LAYOUT and rec.as_g2p() is not None
    for word in ("through", "Tomato", "x86", ""):
        got, want = run_seq2seq(word, rec), seq2seq.transcribe(word)
        assert got.outputs == want.outputs and got.enc_symbols == want.enc_symbols and got.unknown == want.unknown
        assert np.array_equal(got.logits, want.logits) and np.array_equal(got.enc.h_n, want.enc.h_n)
        assert np.array_equal(got.dec.layer(0, 0).h, want.dec.layer(0, 0).h)
