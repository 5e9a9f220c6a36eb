"""A character model reading text (core/charlm.py): against torch, against one unbroken read, and by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gru_viz import Spec, random_model
from gru_viz.core import charlm
from gru_viz.core.kinds import KIND, KINDS, WITH_W_HH
from gru_viz.core.model import Model
from gru_viz.core.tokens import UNKNOWN, Embedding, Readout, log_softmax
from gru_viz.io.bridge import to_torch

VOCAB = ["\n", " ", "(", ")", "a", "b", "c", "d", "'", "#", UNKNOWN]
TEXT = "a(b)\n  c 'd' # a\n(ab(cd))\n" * 3


def char_model(kind: str, seed: int = 0, H: int = 6) -> Model:
    """A 2-layer model of ``kind`` with random weights, an embedding and a readout over VOCAB."""
    rng = np.random.default_rng(seed)
    spec = Spec(kind, 4, H, num_layers=2)
    emb = Embedding.of(rng.normal(size=(len(VOCAB), 4)), VOCAB)
    ro = Readout.of(rng.normal(size=(len(VOCAB), H)), rng.normal(size=len(VOCAB)), VOCAB)
    return random_model(spec, seed).with_tokens(emb, ro)


@pytest.mark.parametrize("kind", WITH_W_HH)  # the kinds torch.nn has
def test_reading_equals_torch(kind: str) -> None:
    model = char_model(kind)
    rd = charlm.read(model, TEXT + "é")
    assert rd.unknown == (len(TEXT),) and rd.ids[-1] == VOCAB.index(UNKNOWN)
    module = to_torch(model)
    with torch.no_grad():
        x = torch.nn.functional.embedding(torch.from_numpy(rd.ids), torch.tensor(model.embedding.table))
        logits = torch.nn.functional.linear(module(x)[0], torch.tensor(model.readout.weight),
                                            torch.tensor(model.readout.bias))
        want = torch.softmax(logits, -1).numpy()
        nll = torch.nn.functional.cross_entropy(logits[:-1], torch.from_numpy(rd.ids[1:])).item()
    np.testing.assert_allclose(rd.probs, want, rtol=1e-10, atol=1e-13)
    assert rd.bits_per_char() == pytest.approx(nll / np.log(2), rel=1e-12)


def test_top_is_the_likeliest_in_order() -> None:
    rd = charlm.read(char_model("gru"), TEXT)
    for t in (0, 5, len(TEXT) - 1):
        top = rd.top(t, 4)
        assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
        assert top[0] == (VOCAB[int(np.argmax(rd.probs[t]))], float(rd.probs[t].max()))
        assert len(rd.top(t, 100)) == len(VOCAB) and sum(p for _, p in rd.top(t, 100)) == pytest.approx(1)


def test_windows_cover_every_character_once() -> None:
    for n in (1, 7, 10, 11, 25, 1001):
        w = charlm.windows(n, chunk=5, warmup=3)
        scored = np.concatenate([np.arange(s + k, s + k + m) for s, k, m in zip(w.starts, w.skip, w.keep,
                                                                                  strict=True)])
        np.testing.assert_array_equal(scored, np.arange(n))
        assert all(s + k + m <= s + w.width for s, k, m in zip(w.starts, w.skip, w.keep, strict=True))
        assert np.all(w.skip[1:] == 3) and w.skip[0] == 0


@pytest.mark.parametrize("kind", KINDS)
def test_windowed_bits_per_char_equals_each_window_read_alone(kind: str) -> None:
    """Each window is an independent read from zero: the batched number is the mean over their scored steps."""
    model = char_model(kind, 1)
    chunk, warmup = 9, 4
    ids, _ = charlm.ids_of(model, TEXT)
    w = charlm.windows(len(ids), chunk, warmup)
    total, count = 0.0, 0
    for s, k, m in zip(w.starts, w.skip, w.keep, strict=True):
        seg = TEXT[s : s + k + m + 1]  # and the character its last scored step predicts, when there is one
        lp = log_softmax(model.logits(model.run_tokens(charlm.ids_of(model, seg)[0])))
        for t in range(k, k + m):
            if s + t + 1 < len(ids):
                total -= lp[t, ids[s + t + 1]]
                count += 1
    assert count == len(ids) - 1
    for batch in (None, 1, 3):
        got = charlm.bits_per_char(model, TEXT, batch=batch, chunk=chunk, warmup=warmup)
        assert got == pytest.approx(total / count / np.log(2), rel=1e-12)


@pytest.mark.parametrize("kind", WITH_W_HH)
def test_one_window_is_one_unbroken_read(kind: str) -> None:
    model = char_model(kind, 2)
    whole = charlm.read(model, TEXT)
    assert charlm.bits_per_char(model, TEXT, chunk=len(TEXT)) == pytest.approx(whole.bits_per_char(), rel=1e-12)
    got = charlm.states(model, TEXT, chunk=len(TEXT))
    for layer in range(2):
        np.testing.assert_allclose(got.h[layer], whole.trace.layers[layer][0].h[:, 0], rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
def test_states_are_each_windows_states_and_count_saturation(kind: str) -> None:
    model = char_model(kind, 3)
    chunk, warmup = 11, 5
    got = charlm.states(model, TEXT, batch=2, chunk=chunk, warmup=warmup)
    w = charlm.windows(len(TEXT), chunk, warmup)
    low = {key: np.zeros_like(v) for key, v in got.low.items()}
    high = {key: np.zeros_like(v) for key, v in got.high.items()}
    for s, k, m in zip(w.starts, w.skip, w.keep, strict=True):
        tr = model.run_tokens(charlm.ids_of(model, TEXT[s : s + k + m])[0])
        for layer in range(2):
            lt = tr.layers[layer][0]
            np.testing.assert_allclose(got.h[layer][s + k : s + k + m], lt.h[k:, 0], rtol=2e-6, atol=1e-7)
            if got.c is not None:
                np.testing.assert_allclose(got.c[layer][s + k : s + k + m], lt.gates["c"][k:, 0], rtol=2e-6,
                                           atol=1e-7)
            for g in KIND[kind].sigmoid:
                low[(layer, g)] += (lt.gates[g][k:, 0] < charlm.LOW).sum(0)
                high[(layer, g)] += (lt.gates[g][k:, 0] > charlm.HIGH).sum(0)
    assert set(got.low) == {(layer, g) for layer in range(2) for g in KIND[kind].sigmoid}
    for key in low:
        np.testing.assert_array_equal(got.low[key], low[key])
        np.testing.assert_array_equal(got.high[key], high[key])
    assert (got.c is not None) == ("c" in KIND[kind].state)


def test_sample_is_seeded_never_unknown_and_greedy_follows_the_argmax() -> None:
    model = char_model("lstm", 4)
    # a readout that favours <unk> by far: sampling must still never write it
    bias = model.readout.bias.copy()
    bias[VOCAB.index(UNKNOWN)] = 50.0
    loud = model.with_tokens(model.embedding, Readout.of(model.readout.weight, bias, VOCAB))
    a = charlm.sample(loud, "a(", 60, 1.5, seed=7)
    assert a == charlm.sample(loud, "a(", 60, 1.5, seed=7) and len(a) == 60 and UNKNOWN not in a
    assert a != charlm.sample(loud, "a(", 60, 1.5, seed=8)
    g = charlm.sample(model, "ab", 12, 1.0, greedy=True)
    text = "ab"
    for ch in g:  # each written character is the argmax after reading everything before it
        p = charlm.read(model, text).probs[-1].copy()
        p[VOCAB.index(UNKNOWN)] = -1
        assert ch == VOCAB[int(np.argmax(p))]
        text += ch
    assert charlm.sample(model, "", 3, 1.0, seed=0) == charlm.sample(model, "\n", 3, 1.0, seed=0)
    with pytest.raises(charlm.CharError, match="temperature"):
        charlm.sample(model, "a", 3, 0.0)


@settings(max_examples=20, deadline=None)
@given(st.floats(0.05, 5.0), st.integers(0, 2**31))
def test_sample_follows_the_tempered_distribution(temperature: float, seed: int) -> None:
    """One character drawn: it is the draw NumPy's Generator makes from softmax(logits / T)."""
    model = char_model("gru", 5)
    p = np.exp(log_softmax(charlm.read(model, "(a").logits[-1] / temperature))
    p[VOCAB.index(UNKNOWN)] = 0
    want = VOCAB[int(np.random.default_rng(seed).choice(len(p), p=p / p.sum()))]
    assert charlm.sample(model, "(a", 1, temperature, seed) == want


def test_refusals() -> None:
    model = char_model("rnn")
    with pytest.raises(charlm.CharError, match="no text"):
        charlm.read(model, "")
    with pytest.raises(charlm.CharError, match="at least 2"):
        charlm.bits_per_char(model, "a")
    with pytest.raises(charlm.CharError, match="vocabulary"):
        charlm.read(random_model(Spec("gru", 3, 4)), "a")
