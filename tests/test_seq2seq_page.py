"""The Encoder–decoder page in AppTest: every sentence on it is a registered claim that holds on the word's run,
bad input is a note (never a traceback), and the word and step live in the link."""

from __future__ import annotations

import numpy as np
import pytest
from apptest_support import open_page
from test_claims_pages import page_text, verdict

from gru_viz.app import seq2seq as page
from gru_viz.app import ui
from gru_viz.explain import claims
from gru_viz.explain import seq2seq as words
from gru_viz.explain.claims import Context
from gru_viz.io import seq2seq
from gru_viz.serve import state

PAGE = "pages/seq2seq.py"
CAPPED = "pneumonoultramicroscopicsilicovolcanoconiosis"


def page_context(at, unit: int | None = None) -> Context:
    """What the page shows, rebuilt from its config: the word's run, the cursor's step, the unit, the findings."""
    cfg = at.session_state[ui.CFG]
    tr = seq2seq.transcribe(cfg.word)
    step = page.step_at(tr, min(cfg.t, tr.enc.steps + tr.dec.steps - 1))
    if unit is None:  # the page's default: the unit that moved most at this step
        unit = int(np.argmax(words.moves(Context(trace=step.trace, t=step.t, unit=0))))
    found = seq2seq.encoder_findings()
    m = seq2seq.g2p()
    model = m.encoder if step.side == "encoder" else m.decoder
    return Context(trace=step.trace, model=model, t=step.t, unit=unit, labels=step.labels,
                   values={"tr": tr, "side": step.side, "findings": found, "words": len(seq2seq.word_list()),
                           "scale": (seq2seq.STRONG, seq2seq.MODERATE, seq2seq.WEAK)})


def assert_true(at, ctx: Context, least: int) -> list[str]:
    texts = page_text(at)
    false, loose, count = verdict(texts, ctx)
    assert false == [], "sentences that are false on this page's numbers"
    assert loose == [], "gate sentences that are not registered claims"
    assert count >= least, f"expected at least {least} claims, found {count}"
    return texts


def test_through_says_g2p_ens_pronunciation_and_every_sentence_holds():
    at = open_page(PAGE, {"word": "through"}, timeout=240)
    texts = assert_true(at, page_context(at), least=12)
    assert any("The encoder–decoder pronounces “through” as TH R UW1, or /θɹu/ in IPA." in t for t in texts)
    assert at.session_state[ui.CFG].word == "through"


@pytest.mark.parametrize("t", [8, 9, 10])  # "through": 8 encoder steps, then the decoder's 4 (TH, R, UW1, </s>)
def test_decoder_steps_from_the_link(t):
    at = open_page(PAGE, {"word": "through", "t": str(t)}, timeout=240)
    ctx = page_context(at)
    assert ctx.values["side"] == "decoder"
    texts = assert_true(at, ctx, least=12)
    joined = " ".join(texts)
    assert "the decoder, fed" in joined and "Its next two choices were" in joined
    assert ("The decoder starts from the encoder's last state" in joined) == (t == 8)


def test_moving_the_cursor_and_typing_a_word_go_into_the_link():
    at = open_page(PAGE, {"word": "through"}, timeout=240)
    labels = page.steps_of(seq2seq.transcribe("through"))
    at.select_slider(key=ui.W + "t").set_value(labels[9]).run()
    assert at.session_state[ui.CFG].t == 9 and at.query_params["t"] in ("9", ["9"])
    assert_true(at, page_context(at), least=10)
    at.text_input(key=ui.W + "word").set_value("cough").run()
    cfg = at.session_state[ui.CFG]
    assert cfg.word == "cough" and cfg.t == 0 and at.query_params["word"] in ("cough", ["cough"])
    assert state.from_query({"word": "cough"})[0].word == "cough"  # a reload reads it back
    texts = assert_true(at, page_context(at), least=10)
    want = " ".join(seq2seq.transcribe("cough").phonemes)
    assert any(f"“cough” as {want}," in t for t in texts)


def test_a_picked_unit_is_named_with_the_one_that_moved_most():
    at = open_page(PAGE, {"word": "phoneme", "t": "3"}, timeout=240)
    at.selectbox(key=page.UNIT_KEY).set_value(5).run()
    texts = assert_true(at, page_context(at, unit=5), least=10)
    assert any("Shown: unit 5, which moved by" in t for t in texts)


@pytest.mark.parametrize(("word", "note"), [
    ("x86_64", "it read “8”, “6”, “_” and “4” as its unknown-letter mark"),
    ("naïve", "it read “ï” as its unknown-letter mark"),
    ("", "Nothing typed: the encoder read only its end mark"),
    ("12345", "it read “1”, “2”, “3”, “4” and “5” as its unknown-letter mark"),
    (CAPPED, "The decoder stopped at its cap of 20 phonemes"),
    ("ab" * 50, None),
])
def test_bad_input_is_a_note_never_a_traceback(word, note):
    at = open_page(PAGE, {"word": word}, timeout=240)  # fails on any exception or error box
    texts = assert_true(at, page_context(at), least=8)
    if note is not None:
        assert any(note in t for t in at_info(at)), at_info(at)
    assert at.session_state[ui.CFG].word == word  # what was typed is kept
    assert texts


def at_info(at) -> list[str]:
    return [e.value for e in at.info]


def test_a_link_with_a_word_too_long_says_so_and_opens_the_default():
    at = open_page(PAGE, {"word": "a" * 101}, timeout=240)
    assert any("Ignored word=" in e.value and "longer than 100" in e.value for e in at.info)
    assert at.session_state[ui.CFG].word == "through"


def test_sentences_that_lie_are_caught():
    """The checks can fail: the pronunciation of another word, a wrong probability, a wrong finding."""
    tr = seq2seq.transcribe("through")
    ctx = Context(trace=tr.dec, t=0, unit=0, values={"tr": tr, "side": "decoder"})
    wrong = words.say("s2s.pron", word="through", arpa="T R UW1", ipa="tɹu").text
    assert words.CLAIMS.check_text(wrong, ctx)
    wrong = words.say("s2s.dec.step", t=0, fed="the start mark", out="“TH”", p=0.5).text
    assert words.CLAIMS.check_text(wrong, ctx)
    right = page.step_sentences(tr, page.step_at(tr, tr.enc.steps))
    assert all(not words.CLAIMS.check_text(s.text, ctx) for s in right)
    found = seq2seq.encoder_findings()
    fctx = page.findings_context(found, 371)
    f = found[0]
    lie = words.say("s2s.finding", what=f.what, n=371, unit=(f.unit + 1) % 256, r=f.r, strength=f.strength).text
    assert words.CLAIMS.check_text(lie, fctx)
    assert all(not words.CLAIMS.check_text(s.text, fctx) for s in page.finding_sentences(found, 371))


def test_a_near_certain_phoneme_reads_the_same_in_the_sentence_and_on_its_bar():
    """One rounding rule for both: "six" starts with S at p > 0.9999, said "over 99.9%" (never 99% beside 100.0%)."""
    import json

    tr = seq2seq.transcribe("six")
    at = open_page(PAGE, {"word": "six", "t": str(tr.enc.steps)}, timeout=240)  # the decoder's first step
    (best, p), *rest = tr.top(0, 3)
    assert best == "S" and p > 0.9995 and rest[-1][1] < 0.0005
    said = " ".join(page_text(at))
    assert "emits “S” with probability over 99.9%." in said and "(under 0.1%)." in said
    bars = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"orientation": "h"'
                in json.dumps(json.loads(c.proto.spec)["data"]))["data"][0]
    assert bars["text"][0] == "over 99.9%" and bars["text"][2] == "under 0.1%"
    assert bars["text"] == [claims.prob_text(q) for _, q in tr.top(0, 3)]


def test_probabilities_are_written_by_one_rule():
    assert [claims.prob_text(p) for p in (0.99996, 0.9994, 0.5, 0.00049, 0.0005, 0.0)] == [
        "over 99.9%", "99.9%", "50.0%", "under 0.1%", "0.1%", "under 0.1%"]
