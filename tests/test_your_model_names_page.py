"""Your model with files as real projects save them (AppTest through tests/apptest_support.open_page): a
hand-written NumPy model on g2p-en's arrays (tests/hand_written.py; its names are not torch's: the page proposes a
mapping, the learner confirms it, the model loads and equals what seq2seq.py computes), a state_dict with two
recurrent modules (the learner picks the decoder), and a vocabulary file beside the weights (one that does not fit
is refused, naming both numbers)."""

from __future__ import annotations

import io

import numpy as np
import torch
from apptest_support import open_page as open_app
from hand_written import hand_written_npz, two_modules
from test_mapping import Seq2Seq

from gru_viz.app import ui
from gru_viz.io import seq2seq

PAGE = "pages/your_model.py"
FILE, VOCAB, MODULE, MAP = "your_model_file", "your_model_vocab", "your_model_module", "your_model_map_"


def send(at, name: str, data: bytes, key: str = FILE, expect: tuple[str, ...] = ()):
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream"))
    with at.expecting(*expect):
        return at.run()


def model_of(at):
    return at.session_state[ui.SESSION_MODEL] if ui.SESSION_MODEL in at.session_state else None


def test_hand_written_model_proposal_confirm_loads():
    at = send(open_app(PAGE, timeout=60), "model.npz", hand_written_npz())
    assert model_of(at) is None
    assert any("does not use PyTorch's names" in w.value for w in at.warning)
    table = at.dataframe[0].value
    assert dict(zip(table["array"], table["shape"], strict=True))["enc_w_ih"] == "768 × 256"
    assert at.selectbox(key=MAP + "weight_ih_l0").value == "enc_w_ih"
    assert "'weight_hh_l0': 'enc_w_hh'" in at.code[0].value
    # the learner picks the decoder: the proposal follows, with the readout
    at.selectbox(key=MAP + "group").set_value("dec_").run()
    assert at.selectbox(key=MAP + "weight_ih_l0").value == "dec_w_ih"
    assert at.selectbox(key=MAP + "head.weight").value == "out_w"
    at.selectbox(key=MAP + "group").set_value("enc_").run()
    at.button[[b.label for b in at.button].index("Load with this mapping")].click().run()
    model = model_of(at)
    assert model is not None and model.embedding.size == 29
    ids = np.array(seq2seq.letter_ids("through"))
    np.testing.assert_allclose(np.squeeze(model.run_tokens(ids).output), np.squeeze(seq2seq.encode("through").output),
                               rtol=0, atol=1e-12)
    rows = {r: v for t in at.table for r, v in zip(t.value.iloc[:, 0], t.value.iloc[:, 1], strict=True)}
    assert rows["Embedding"].startswith("29 × 256")
    assert rows["Vocabulary"].startswith("none in the file")
    # a vocabulary file beside it: the wrong length is refused naming both numbers, the model stays
    at = send(at, "letters.txt", b"a\nb\nc\n", VOCAB, expect=("the vocabulary has 3 tokens", "has 29 rows"))
    assert model_of(at) is model
    at = send(at, "letters.txt", ("\n".join(seq2seq.GRAPHEMES) + "\n").encode(), VOCAB)
    assert model_of(at).vocabulary == seq2seq.GRAPHEMES
    rows = {r: v for t in at.table for r, v in zip(t.value.iloc[:, 0], t.value.iloc[:, 1], strict=True)}
    assert rows["Vocabulary"].startswith("29 tokens: ") and "'a' 'b' 'c'" in rows["Vocabulary"]  # (markdown-escaped)


def test_a_mapping_that_does_not_fit_says_so_and_keeps_the_choices():
    at = send(open_app(PAGE, timeout=60), "model.npz", hand_written_npz())
    at.selectbox(key=MAP + "bias_hh_l0").set_value("out_b").run()
    with at.expecting("bias_hh_l0 (the file's 'out_b' (74,)) has shape (74,)"):
        at.button[[b.label for b in at.button].index("Load with this mapping")].click().run()
    assert model_of(at) is None and at.selectbox(key=MAP + "bias_hh_l0").value == "out_b"


def test_two_modules_pick_the_decoder():
    torch.manual_seed(3)
    net = Seq2Seq().double()
    buf = io.BytesIO()
    torch.save(two_modules(net.state_dict()), buf)
    at = send(open_app(PAGE, timeout=60), "seq2seq.pt", buf.getvalue())
    assert model_of(at) is None
    assert any("holds 2 recurrent modules" in w.value for w in at.warning)
    at.radio(key=MODULE).set_value("decoder.gru.").run()
    assert "prefix='decoder.gru.'" in at.code[0].value
    at.button[[b.label for b in at.button].index("Load this module")].click().run()
    model = model_of(at)
    assert model.readout.size == 9 and model.embedding.size == 9
    ids = torch.tensor([[1, 4, 2]])
    with torch.no_grad():
        want = net.decoder.out(net.decoder.gru(net.decoder.embedding(ids))[0])[0].numpy()
    np.testing.assert_allclose(np.squeeze(model.logits(model.run_tokens(ids[0].numpy()))), want, rtol=0, atol=1e-12)


def test_a_hostile_vocabulary_file_is_refused():
    at = open_app(PAGE, timeout=60)
    at = send(at, "v.txt", b"\xff\xfe\x00", VOCAB, expect=("not UTF-8",))
    at = send(at, "v.txt", b"a\na\n", VOCAB, expect=("repeats 'a'",))
