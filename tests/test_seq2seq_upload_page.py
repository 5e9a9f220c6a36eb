"""An encoder–decoder file uploaded on Your model opens on the Encoder–decoder page: the PyTorch tutorial's
EncoderRNN/DecoderRNN (tests/test_seq2seq_files.py's transcription of its classes) and g2p-en's own checkpoint.
Every sentence on the page is a registered claim that holds on the run; refusals are notes, never tracebacks."""

from __future__ import annotations

import numpy as np
from apptest_support import open_page
from test_claims_pages import page_text, verdict
from test_seq2seq_files import SOURCES, saved, translator

from gru_viz.app import seq2seq as page
from gru_viz.app import ui
from gru_viz.explain import seq2seq as words
from gru_viz.explain.claims import Context
from gru_viz.io import seq2seq

FILE = "your_model_file"


def upload(name: str, data: bytes, expect: tuple[str, ...] = ()):
    at = open_page("pages/your_model.py", timeout=120)
    at.file_uploader(key=FILE).set_value((name, data, "application/octet-stream"))
    with at.expecting(*expect):
        at.run()
    return at


def context(at, tr: seq2seq.Transcription) -> Context:
    cfg = at.session_state[ui.CFG]
    pair = at.session_state[page.SESSION][1]
    step = page.step_at(tr, min(cfg.t, tr.enc.steps + tr.dec.steps - 1))
    unit = int(np.argmax(words.moves(Context(trace=step.trace, t=step.t, unit=0))))
    values = {"tr": tr, "side": step.side}
    if tr.how is not None:
        values.update(tok=tr.how, size=len(SOURCES))
    model = pair.encoder if step.side == "encoder" else pair.decoder
    return Context(trace=step.trace, model=model, t=step.t, unit=unit, labels=step.labels, values=values)


def test_the_tutorials_translator_opens_on_the_encoder_decoder_page():
    at = upload("translator.safetensors", saved(translator(2, 3.0), ".safetensors", vocabularies=True))
    said = " ".join(s.value for s in at.success)
    assert "holds an encoder–decoder (the PyTorch seq2seq tutorial's EncoderRNN and DecoderRNN" in said
    assert any("Your encoder–decoder: translator.safetensors" in m.value for m in at.markdown)
    assert at.session_state[ui.CFG].s2s == "session"
    assert ui.SESSION_MODEL not in at.session_state  # the other pages keep their model
    at.switch_page("pages/seq2seq.py")
    at.query_params["word"] = "Je suis très froid."
    at.run()
    cfg = at.session_state[ui.CFG]
    assert cfg.word == "Je suis très froid."
    model = at.session_state[page.SESSION][1]
    tr = seq2seq.run_seq2seq(cfg.word, model)
    texts = page_text(at)
    false, loose, count = verdict(texts, context(at, tr))
    assert false == [] and loose == [] and count >= 5
    joined = " ".join(texts)
    assert words.answer_text(tr.phonemes).strip("“”") in joined or not tr.phonemes
    assert "the encoder reads “je suis tres froid .”" in joined
    assert "relu of its embedding" in joined
    assert "What the encoder's last state carries" not in joined  # g2p-en's word list only
    # a decoder step: the sentence with the probability of its choice holds too
    at.select_slider(key=ui.W + "t").set_value(page.steps_of(tr)[tr.enc.steps]).run()
    false, loose, count = verdict(page_text(at), context(at, tr))
    assert false == [] and count >= 5
    # back to g2p-en's model with one click, and forth
    at.button[0].click().run()
    assert at.session_state[ui.CFG].s2s == "g2p"


def test_words_it_never_saw_are_named_and_an_empty_text_is_a_note():
    at = upload("translator.pt", saved(translator(0), ".pt", vocabularies=False))
    at.switch_page("pages/seq2seq.py").run()
    assert any("The file names no tokens" in c.value for c in at.caption)
    box = at.text_input(key=ui.W + "word")
    with at.expecting("is not a token id"):
        box.set_value("je suis").run()
    assert at.text_input(key=ui.W + "word").value == "je suis"  # kept


def test_g2p_ens_checkpoint_uploaded_is_todays_transcription():
    at = upload("checkpoint20.npz", seq2seq.WEIGHTS.read_bytes())
    assert "g2p-en's encoder–decoder" in " ".join(s.value for s in at.success)
    at.switch_page("pages/seq2seq.py")
    at.query_params["word"] = "through"
    at.run()
    texts = page_text(at)
    assert any("The encoder–decoder pronounces “through” as TH R UW1, or /θɹu/ in IPA." in t for t in texts)
    model = at.session_state[page.SESSION][1]
    got, want = seq2seq.run_seq2seq("through", model), seq2seq.transcribe("through")
    assert got.outputs == want.outputs and np.array_equal(got.logits, want.logits)


def test_an_attention_decoder_is_refused_with_the_reason():
    import io

    import torch

    sd = dict(translator(0).state_dict())
    sd["decoder.attn.weight"] = torch.zeros(10, 24, dtype=torch.float64)
    buf = io.BytesIO()
    torch.save(sd, buf)
    at = upload("attn.pt", buf.getvalue(), expect=("its decoder has attention",))
    assert page.SESSION not in at.session_state


def test_a_link_to_an_uploaded_model_that_is_gone_shows_g2p():
    at = open_page("pages/seq2seq.py", {"s2s": "session", "word": "cat"}, timeout=120)
    assert any("showing g2p-en's model instead" in i.value for i in at.info)
    assert any("pronounces “cat”" in m.value for m in at.markdown)


def test_vocabularies_uploaded_beside_a_file_without_them():
    from test_seq2seq_files import TARGETS

    at = upload("translator.pt", saved(translator(1, 1.5), ".pt", vocabularies=False))
    at.switch_page("pages/seq2seq.py").run()
    lines = "\n".join(SOURCES).encode()
    with at.expecting("the vocabulary has 9 tokens, the encoder's embedding has 10 rows"):
        at.file_uploader(key=page.VOCAB_FILES["encoder"]).set_value(("short.txt", b"\n".join(
            w.encode() for w in SOURCES[:-1]), "text/plain")).run()
    at.file_uploader(key=page.VOCAB_FILES["encoder"]).set_value(("fra.txt", lines, "text/plain")).run()
    assert any("The encoder now reads its 10 tokens from fra.txt" in s.value for s in at.success)
    assert at.session_state[ui.CFG].word == "je suis tres froid"
    at.file_uploader(key=page.VOCAB_FILES["decoder"]).set_value(
        ("eng.txt", ("\n".join(TARGETS) + "\n").encode(), "text/plain")).run()
    model = at.session_state[page.SESSION][1]
    assert model.sources == tuple(SOURCES) and model.targets == tuple(TARGETS)
    tr = seq2seq.run_seq2seq("je suis tres froid", model)
    false, loose, count = verdict(page_text(at), context(at, tr))
    assert false == [] and loose == [] and count >= 4
    assert not any("names no tokens" in c.value for c in at.caption)
