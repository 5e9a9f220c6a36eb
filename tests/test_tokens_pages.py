"""Text into your own model on Step through and Timeline: a model with an embedding (and a vocabulary, and a
readout) put where the app keeps an uploaded one reads the sidebar's text through its vocabulary; the strip, the
timeline's x row and the link carry the tokens; the readout's top choices equal torch's softmax of its scores.
Every run fails on an unexpected error box (tests/apptest_support.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from apptest_support import open_page

from gru_viz import Spec, random_model
from gru_viz.app import ui
from gru_viz.app.your_model import explorable
from gru_viz.core.kinds import WITH_W_HH
from gru_viz.core.tokens import Embedding, Readout, tokenize
from gru_viz.explain import registry
from gru_viz.explain import tokens as token_words
from gru_viz.explain.literal import literal
from gru_viz.figures import timeline as tl
from gru_viz.io.bridge import to_torch
from gru_viz.serve import state

WORDS = ("", "[UNK]", "the", "cat", "sat", "on", "mat")  # a Keras StringLookup's vocabulary: padding, [UNK], words
CASED = ("SOS", "EOS", "Je", "suis", "froid", ".")  # the seq2seq tutorial's kind: no unknown mark, capitals kept
TEXT = "The cat sat on the dog"


def token_model(kind: str = "gru", vocabulary: tuple[str, ...] | None = WORDS, readout: bool = True, size: int = 7):
    rng = np.random.default_rng(5)
    spec = Spec(kind, 6, 5)
    emb = Embedding.of(rng.normal(size=(size, 6)), vocabulary)
    ro = Readout.of(rng.normal(size=(size, 5)), rng.normal(size=size), vocabulary) if readout else None
    return random_model(spec, 2).with_tokens(emb, ro)


def step_page(model, text: str, expect: tuple[str, ...] = (), **query: str):
    return open_page("pages/step.py", {"weights": "session", "source": "text", "seq": text, "hidden": "5",
                                       "cell": model.spec.kind, **query}, {ui.SESSION_MODEL: model}, expect=expect)


def infos(at) -> str:
    return " ".join(i.value for i in at.info)


def strip(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step t = "))


@pytest.mark.parametrize("kind", WITH_W_HH)
def test_step_through_reads_words_and_shows_the_readout_as_torch_computes_it(kind):
    model = token_model(kind)
    at = step_page(model, TEXT, t="3")
    assert "input x<sub>3</sub> = <code>&#x27;on&#x27;</code>" in strip(at) or "'on'" in strip(at)
    for word in ("the", "cat", "sat", "[UNK]"):
        assert f">{word}</span>" in strip(at)
    said = infos(at)
    assert "split at spaces and read one word a step: 6 steps" in said
    assert "lower-cased first" in said and "never saw “dog” (1 in the text)" in said
    sc = state.build_scene(at.session_state[ui.CFG], model)
    tok = tokenize(TEXT, WORDS)
    assert not registry.check_text(said, token_words.context(tok, 7))  # the notes' claims hold
    # the readout at t = 3, against torch: embedding → RNN → linear → softmax
    module = to_torch(model)
    with torch.no_grad():
        x = torch.nn.functional.embedding(torch.from_numpy(tok.ids), torch.tensor(model.embedding.table))
        y = module(x)[0]
        logits = torch.nn.functional.linear(y, torch.tensor(model.readout.weight), torch.tensor(model.readout.bias))
        probs = torch.softmax(logits, -1).numpy()[3]
    np.testing.assert_allclose(sc.trace.output, y.numpy(), atol=1e-12)
    table = at.table[0].value
    order = np.argsort(-probs, kind="stable")[:5]
    assert list(table["token"]) == [literal(token_words.shown(WORDS[i]), 40) for i in order]
    assert list(table["probability"]) == [token_words.KINDS["prob"][1](probs[i]) for i in order]
    head = next(m.value for m in at.markdown if m.value.startswith("**The readout at t = 3**"))
    assert not registry.check_text(head, token_words.readout_context(probs, 3, WORDS))
    assert registry.find(head)  # the sentence is a registered claim, found and checked
    # the link carries the text as typed
    assert state.to_query(at.session_state[ui.CFG])["seq"] == TEXT


def test_a_cased_vocabulary_without_a_mark_leaves_unknown_words_out_and_says_so():
    at = step_page(token_model(vocabulary=CASED, size=6), "Je suis très froid .")
    said = infos(at)
    assert "never saw “très” (1 in the text), and its vocabulary has no unknown mark" in said
    assert "the model reads the other 4" in said and "lower-cased" not in said
    assert ">Je</span>" in strip(at)


def test_text_the_model_cannot_read_keeps_the_box_and_says_why():
    model = token_model()
    at = step_page(model, "cat")
    box = at.text_area(key="w_seq")
    with at.expecting("there is no text to read"):
        box.set_value("   ").run()
    assert at.text_area(key="w_seq").value == "   "  # nothing typed is lost
    at = step_page(token_model(vocabulary=CASED, size=6), "nothing known here", expect=("none of the words typed",))
    assert at.text_area(key="w_seq").value == "nothing known here"


def test_an_embedding_without_a_vocabulary_takes_ids():
    model = token_model(vocabulary=None, readout=False, size=16)
    at = step_page(model, "3 14 15", t="1")
    assert ">14</span>" in strip(at)
    said = infos(at)
    assert "names no tokens, so it reads token ids, whole numbers from 0 to 15: 3 steps here" in said
    assert "upload a vocabulary beside the weights on Your model" in said
    assert not at.table  # no readout, no table
    step_page(model, "3 x", expect=("'x' is not a token id",))
    step_page(model, "3 99", expect=("token id 99 is outside the vocabulary's 0…15",))


def test_characters_and_the_timeline_x_row():
    letters = ("<pad>", "<unk>", *"abcdefgh")
    model = token_model(vocabulary=letters, size=len(letters))
    at = open_page("pages/timeline.py", {"weights": "session", "source": "text", "seq": "Bad cafe!", "cell": "gru",
                                         "hidden": "5"}, {ui.SESSION_MODEL: model})
    said = infos(at)
    assert "single characters, so the text is read one character a step: 9 steps" in said
    assert "never saw “␣” and “!” (2 in the text)" in said  # the space is no letter: <unk> too, shown as ␣
    sc = state.build_scene(at.session_state[ui.CFG], model)
    assert sc.seq.labels == ("b", "a", "d", "<unk>", "c", "a", "f", "e", "<unk>")
    fig = tl.timeline_figure(sc.seq, sc.trace.layer(0, 0), "gru")
    assert list(fig.layout.xaxis.ticktext) == ["b", "a", "d", "&lt;unk&gt;", "c", "a", "f", "e", "&lt;unk&gt;"]


def test_the_hand_over_keeps_the_embedding_and_the_readout():
    model = token_model("lstm")
    batch_first = random_model(Spec("gru", 6, 5, batch_first=True), 1).with_tokens(model.embedding, model.readout)
    for m in (model, batch_first):
        out = explorable(m)
        assert out.embedding is m.embedding and out.readout is m.readout and not out.spec.batch_first


def test_an_upload_with_an_embedding_hands_over_text(monkeypatch):
    """The hand-over on Your model: the file's reader is stood in for (the readers that attach embeddings are issue
    25's other branches), everything after it is the page's own."""
    from gru_viz.app import your_model
    from gru_viz.io import upload

    model = token_model()
    monkeypatch.setattr(your_model.upload, "read_upload",
                        lambda data, name, **_: upload.Upload(name, len(data), model))
    at = open_page("pages/your_model.py", timeout=120)
    at.file_uploader(key="your_model_file").set_value(("words.safetensors", b"x", "application/octet-stream")).run()
    cfg = at.session_state[ui.CFG]
    assert cfg.weights == "session" and cfg.source == "text" and cfg.seq == "the cat sat on mat"
    assert at.session_state[ui.SESSION_MODEL].embedding is model.embedding
    assert "type text into the sidebar's text box" in infos(at)
    assert any("Your model reads **words** from its vocabulary" in m.value for m in at.markdown)
    at.switch_page("pages/step.py").run()
    assert ">mat</span>" in strip(at) and at.table  # the tokens, and the readout's table
