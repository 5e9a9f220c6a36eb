"""g2p-en's encoder–decoder on gru-viz's core agrees with g2p-en's own code on its own weights.

The reference is g2p-en 2.1.0's ``G2p`` class from its installed ``g2p.py`` (tests/g2p_reference.py: run without
importing the package, whose import downloads NLTK data). Phonemes are compared with its ``predict`` as shipped,
in float32 (its dtype); states and scores are compared in float64, with its weights upcast, so that round-off is
1e-12 and a mapping mistake (a swapped gate block, a bias in the wrong place) is 1e-2 or more.
"""

from __future__ import annotations

import hashlib

import g2p_reference
import numpy as np
import pytest

from gru_viz.io import seq2seq
from gru_viz.io.seq2seq import CAP, Seq2SeqError, transcribe

# Words with famous spellings, the bad inputs of the page, and the start of the shipped word list.
HAND = ["through", "thought", "cough", "though", "tough", "bough", "phoneme", "bass", "x-ray", "naïve", "café",
        "x86_64", "", "a", "gru", "cho", "encoder", "decoder", "colonel", "queue", "rhythm", "yacht", "knight",
        "psychology", "o'neil", "Through", "WORD", "zzz", "12345", "ünïcödé", "hello world",
        "pneumonoultramicroscopicsilicovolcanoconiosis"]
WORDS = HAND + list(seq2seq.word_list()[::12])
CAPPED = "pneumonoultramicroscopicsilicovolcanoconiosis"  # its pronunciation runs into the 20-phoneme cap


@pytest.fixture(scope="module")
def ref32():
    return g2p_reference.model(np.float32)


@pytest.fixture(scope="module")
def ref64():
    return g2p_reference.model(np.float64)


def test_the_shipped_weights_are_g2p_ens_file_unmodified():
    ours = seq2seq.WEIGHTS.read_bytes()
    theirs = (g2p_reference.package_dir() / "checkpoint20.npz").read_bytes()
    assert hashlib.sha256(ours).hexdigest() == hashlib.sha256(theirs).hexdigest()
    notice = (seq2seq.DATA_DIR / "NOTICE").read_text(encoding="utf-8")
    assert "Kyubyong Park" in notice and "Apache" in notice and hashlib.sha256(ours).hexdigest() in notice
    assert "Apache License" in (seq2seq.DATA_DIR / "LICENSE").read_text(encoding="utf-8")


def test_the_vocabularies_are_g2p_ens(ref32):
    assert list(seq2seq.GRAPHEMES) == ref32.graphemes
    assert list(seq2seq.PHONEMES) == ref32.phonemes


def test_enough_words_are_compared():
    assert len(WORDS) >= 60


@pytest.mark.parametrize("word", WORDS)
def test_phonemes_equal_g2p_ens_predict(word, ref32):
    """Its predict, as shipped (float32), on the lower-cased word (G2p.__call__ lower-cases before predict)."""
    tr = transcribe(word)
    assert list(tr.phonemes) == ref32.predict(word.lower())


@pytest.mark.parametrize("word", WORDS)
def test_states_and_scores_equal_g2p_ens_gru(word, ref64):
    """Encoder and decoder states, and the scores of every decoder step, against its grucell / gru in float64."""
    tr = transcribe(word)
    g = ref64
    x = g.encode(word.lower())  # its own <unk> handling
    # its gru() over the letters: it stores states in a float32 buffer, so ours rounded to float32 must agree to
    # within one unit in the last place (the float64 states below agree to 1e-12, far inside half a float32 ulp)
    enc32 = g.gru(x, len(word) + 1, g.enc_w_ih, g.enc_w_hh, g.enc_b_ih, g.enc_b_hh, h0=np.zeros((1, 256)))
    np.testing.assert_array_max_ulp(tr.enc.layer(0, 0).h[:, 0].astype(np.float32), enc32[0], maxulp=1)
    # the loop of its gru(), in float64: its grucell step by step
    h = np.zeros((1, 256))
    for t in range(len(word) + 1):
        h = g.grucell(x[:, t, :], h, g.enc_w_ih, g.enc_w_hh, g.enc_b_ih, g.enc_b_hh)
        np.testing.assert_allclose(tr.enc.layer(0, 0).h[t], h, rtol=0, atol=1e-12)
    # the decoder, as its predict runs it: from the encoder's last state, fed its own argmax
    dec = np.take(g.dec_emb, [2], axis=0)
    for step in range(tr.dec.steps):
        h = g.grucell(dec, h, g.dec_w_ih, g.dec_w_hh, g.dec_b_ih, g.dec_b_hh)
        logits = np.matmul(h, g.fc_w.T) + g.fc_b
        np.testing.assert_allclose(tr.dec.layer(0, 0).h[step], h, rtol=0, atol=1e-12)
        np.testing.assert_allclose(tr.logits[step], logits[0], rtol=0, atol=1e-11)
        assert g.idx2p[int(logits.argmax())] == tr.outputs[step]
        dec = np.take(g.dec_emb, [logits.argmax()], axis=0)


def test_a_wrong_gate_layout_would_be_caught(ref64):
    """The comparison above can fail: with r and z swapped in our copy, the states differ far beyond round-off."""
    m = seq2seq.g2p()
    p = dict(m.encoder.params)
    for key in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        p[key] = np.concatenate([p[key][256:512], p[key][:256], p[key][512:]])
    swapped = seq2seq.G2P(type(m.encoder)(m.encoder.spec, p), m.decoder, m.enc_emb, m.dec_emb, m.fc_w, m.fc_b)
    g = ref64
    theirs = g.grucell(g.encode("through")[:, 0, :], np.zeros((1, 256)), g.enc_w_ih, g.enc_w_hh, g.enc_b_ih,
                       g.enc_b_hh)
    assert np.max(np.abs(transcribe("through", swapped).enc.layer(0, 0).h[0] - theirs)) > 1e-3
    assert np.max(np.abs(transcribe("through").enc.layer(0, 0).h[0] - theirs)) < 1e-12


def test_the_decoder_trace_is_its_step_by_step_run():
    """The joined decoder trace: each step starts from the state the last one left, and reads what it emitted."""
    tr = transcribe("phoneme")
    lt = tr.dec.layer(0, 0)
    np.testing.assert_array_equal(lt.h0, tr.enc.h_n)
    np.testing.assert_array_equal(lt.h_prev()[1:], lt.h[:-1])
    m = seq2seq.g2p()
    fed = [seq2seq.PHONEMES.index(p) for p in tr.dec_inputs]
    np.testing.assert_array_equal(lt.x[:, 0], m.dec_emb[fed])
    assert tr.dec_inputs[1:] == tr.outputs[:-1] and tr.dec_inputs[0] == "<s>"


def test_top_three_are_the_largest_probabilities():
    tr = transcribe("cough")
    for step in range(tr.dec.steps):
        top = tr.top(step)
        assert [p for _, p in top] == sorted(tr.probs[step], reverse=True)[:3]
        assert top[0][0] == tr.outputs[step]
    np.testing.assert_allclose(tr.probs.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("word", "unknown"), [("x86_64", ("8", "6", "_", "4")), ("naïve", ("ï",)),
                                               ("café", ("é",)), ("12345", tuple("12345")), ("", ()),
                                               ("x-ray", ("-",)), ("Hello World", (" ",))])
def test_unknown_characters_are_read_as_unk_and_named(word, unknown):
    tr = transcribe(word)
    assert tr.unknown == unknown
    assert tr.enc_symbols.count("<unk>") == sum(ch in unknown for ch in word.lower())
    assert tr.enc_symbols[-1] == "</s>" and len(tr.enc_symbols) == len(word) + 1


def test_a_hundred_letters_run_and_a_hundred_and_one_are_refused():
    tr = transcribe("ab" * 50)
    assert tr.enc.steps == 101 and 1 <= len(tr.outputs) <= CAP
    with pytest.raises(Seq2SeqError, match="at most 100"):
        transcribe("a" * 101)


def test_the_cap(ref32):
    tr = transcribe(CAPPED)
    assert tr.capped and len(tr.phonemes) == CAP == len(ref32.predict(CAPPED))
    assert not transcribe("through").capped


@pytest.mark.parametrize(("phonemes", "want"), [(("TH", "R", "UW1"), "θɹu"), (("TH", "AO1", "T"), "θɔt"),
                                                (("K", "AO1", "F"), "kɔf"), (("B", "AH1", "T", "ER0"), "bʌtɚ"),
                                                (("AH0", "B", "AW1", "T"), "əbaʊt"), (("<unk>",), "<unk>")])
def test_ipa_by_hand(phonemes, want):
    assert seq2seq.ipa(phonemes) == want


def test_findings_are_the_best_correlated_units():
    """Each finding's unit and r recomputed with np.corrcoef over the shipped words' final encoder states."""
    words = seq2seq.word_list()
    assert len(words) == 371
    states = np.stack([seq2seq.encode(w).h_n[0] for w in words])
    values = seq2seq.feature_values(words)
    for f in seq2seq.encoder_findings():
        r = np.array([np.corrcoef(states[:, u], values[f.feature])[0, 1] for u in range(256)])
        assert f.unit == int(np.nanargmax(np.abs(r)))
        assert f.r == pytest.approx(r[f.unit], abs=1e-9)
        assert 0 < f.chance < 1
        assert f.strength == ("strong" if abs(f.r) >= 0.7 else "moderate" if abs(f.r) >= 0.4
                              else "weak" if abs(f.r) >= 0.2 else "none")
