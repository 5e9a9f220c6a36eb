"""The Encoder–decoder page: g2p-en's trained GRU reads a word letter by letter, then spells its pronunciation.

The model and its maths: :mod:`gru_viz.io.seq2seq`; the words: :mod:`gru_viz.explain.seq2seq` (every sentence a
claim); the figures: :mod:`gru_viz.figures.seq2seq` and the circuit of :mod:`gru_viz.figures.cell`. The word and
the step live in the link (``word``, ``t``); the unit shown is a view choice of this tab.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from ..core.tokens import example_text
from ..core.trace import Trace
from ..explain import narration
from ..explain import seq2seq as words
from ..explain import tokens as token_words
from ..explain.claims import Context, Sentence
from ..explain.literal import literal
from ..figures import cell, style
from ..figures import seq2seq as figs
from ..io import seq2seq
from ..serve import state
from ..serve.state import Config
from . import ui

CHART = {"displayModeBar": False}
UNIT_KEY = "gru_viz_s2s_unit"  # this tab's unit choice: "most" or a unit number
MOST = "the one that moved most"
SESSION = "gru_viz_session_seq2seq"  # (file name, seq2seq.Seq2Seq) of an encoder–decoder uploaded on Your model
SESSION_MEMO = "gru_viz_session_seq2seq_run"  # ((word, model id), Transcription): the last run of that model
GONE = ("This link asks for the encoder–decoder uploaded in this tab, which is not here (it lived in the memory of "
        "one server process): showing g2p-en's model instead. Upload it again on Your model.")


def uploaded() -> tuple[str, seq2seq.Seq2Seq] | None:
    """The encoder–decoder this session uploaded (its file name and model), or None."""
    return st.session_state.get(SESSION)


def model_in_use(cfg: Config) -> tuple[str, seq2seq.Seq2Seq] | None:
    """The uploaded encoder–decoder when the link asks for it and it is here; None: g2p-en's shipped model."""
    return uploaded() if cfg.s2s == "session" else None


def run_uploaded(word: str, model: seq2seq.Seq2Seq) -> seq2seq.Transcription:
    """The uploaded model on ``word``, kept for the session (never shared: the model is the session's own)."""
    key = (word, id(model))
    memo = st.session_state.get(SESSION_MEMO)
    if memo is None or memo[0] != key:
        memo = (key, seq2seq.run_seq2seq(word, model))
        st.session_state[SESSION_MEMO] = memo
    return memo[1]


def generic(tr: seq2seq.Transcription) -> bool:
    """Whether a transcription is another model's than g2p-en's (its words are said in tokens, not phonemes)."""
    return tr.how is not None


@st.cache_resource(show_spinner=False, max_entries=64)
def transcription(word: str) -> seq2seq.Transcription:
    """A word through the model, once per server (the result is only read)."""
    return seq2seq.transcribe(word)


@st.cache_resource(show_spinner="Reading 371 words through the encoder…")
def findings() -> list[seq2seq.Finding]:
    """What the encoder's last state carries, over the shipped word list: computed once per server."""
    return seq2seq.encoder_findings()


@dataclass(frozen=True)
class Step:
    """Where the cursor is: which run (encoder or decoder), its step, and the labels of that run's inputs."""

    side: str  # "encoder" or "decoder"
    trace: Trace
    t: int
    labels: tuple[str, ...]


def steps_of(tr: seq2seq.Transcription) -> list[str]:
    """One label per step of the cursor: the encoder's symbols, then the decoder's outputs."""
    enc = [f"read {s}" for s in tr.enc_symbols]
    dec = [f"say {s}" for s in tr.outputs]
    return [f"{i}: {x}" for i, x in enumerate(enc + dec)]


def step_at(tr: seq2seq.Transcription, index: int) -> Step:
    """The cursor's ``index`` as a step of the encoder or the decoder."""
    n_enc = tr.enc.steps
    if index < n_enc:
        return Step("encoder", tr.enc, index, tuple(words.symbol_label(s) for s in tr.enc_symbols))
    return Step("decoder", tr.dec, index - n_enc, tuple(words.symbol_label(s) for s in tr.dec_inputs))


def context(tr: seq2seq.Transcription, step: Step | None = None, unit: int | None = None) -> Context:
    """The Context this page's sentences are checked against."""
    values = {"tr": tr, "side": step.side if step else None}
    if step is None:
        return Context(values=values)
    return Context(trace=step.trace, t=step.t, unit=unit, labels=step.labels, values=values)


def word_notes(tr: seq2seq.Transcription) -> list[Sentence]:
    """What the page says about the input and the output as a whole (unknown letters, nothing typed, the cap)."""
    if generic(tr):
        out = token_words.notes(tr.how, 0) if tr.how.unit != "id" else []
        if tr.capped:
            out.append(words.say("s2s.cap.any", cap=len(tr.phonemes)))
        return out
    out = []
    if tr.text == "":
        out.append(words.say("s2s.empty"))
    if tr.unknown:
        out.append(words.say("s2s.unknown", chars=words.letters_text(tr.unknown)))
    if tr.capped:
        out.append(words.say("s2s.cap", cap=len(tr.phonemes)))
    return out


def pronunciation(tr: seq2seq.Transcription) -> Sentence:
    """The sentence with the pronunciation, in ARPAbet and IPA (another model's answer, in its tokens)."""
    if generic(tr):
        return words.say("s2s.answer", out=words.answer_text(tr.phonemes)) if tr.phonemes \
            else words.say("s2s.answer.none")
    if not tr.phonemes:
        return words.say("s2s.silent", word=tr.word or " ")
    if not tr.word:
        return words.say("s2s.pron.empty", arpa=" ".join(tr.phonemes), ipa=tr.ipa)
    return words.say("s2s.pron", word=tr.word, arpa=" ".join(tr.phonemes), ipa=tr.ipa)


def unit_sentence(step: Step, unit: int, chosen: bool) -> Sentence:
    """Which unit the circuit shows, and how far it moved at this step."""
    ctx = Context(trace=step.trace, t=step.t, unit=unit)
    m = words.moves(ctx)
    top = int(np.argmax(m))
    if not chosen:
        return words.say("s2s.unit.most", unit=unit, delta=m[unit])
    return words.say("s2s.unit.picked", unit=unit, delta=m[unit], top=top, most=m[top])


def step_sentences(tr: seq2seq.Transcription, step: Step) -> list[Sentence]:
    """The sentences about the step itself (before the narration of the unit)."""
    if step.side == "encoder":
        return [words.say("s2s.enc.any" if generic(tr) else "s2s.enc.step", steps=len(tr.enc_symbols), t=step.t,
                          sym=step.labels[step.t])]
    top = tr.top(step.t, 3)
    out = []
    if step.t == 0:
        out.append(words.say("s2s.dec.start.any" if generic(tr) else "s2s.dec.start",
                             units=tr.dec.layer(0, 0).h.shape[-1]))
    out.append(words.say("s2s.dec.step", t=step.t, fed=words.symbol_label(tr.dec_inputs[step.t]),
                         out=words.symbol_label(tr.outputs[step.t]), p=top[0][1]))
    if len(top) == 3:
        out.append(words.say("s2s.dec.next", second=words.symbol_label(top[1][0]), p2=top[1][1],
                             third=words.symbol_label(top[2][0]), p3=top[2][1]))
    return out


def finding_sentences(found: list[seq2seq.Finding], n_words: int) -> list[Sentence]:
    """The findings, the scale they are judged by, and what chance alone reaches."""
    out = [words.say("s2s.finding", what=f.what, n=n_words, unit=f.unit, r=f.r, strength=f.strength)
           for f in found]
    out.append(words.say("s2s.scale", strong=seq2seq.STRONG, moderate=seq2seq.MODERATE, weak=seq2seq.WEAK))
    out.append(words.say("s2s.chance", units=seq2seq.HIDDEN, chance=max(f.chance for f in found)))
    return out


def findings_context(found: list[seq2seq.Finding], n_words: int) -> Context:
    """The Context the findings' sentences are checked against."""
    return Context(values={"findings": found, "words": n_words,
                           "scale": (seq2seq.STRONG, seq2seq.MODERATE, seq2seq.WEAK)})


# ------------------------------------------------------------------------------------------------- page


def _word_input(cfg: Config, model: seq2seq.Seq2Seq | None = None) -> Config:
    key = ui.W + "word"
    if key not in st.session_state:
        st.session_state[key] = cfg.word
    args = ui.widget_args("word")
    if model is not None and model.as_g2p() is None:
        args.update(label="Text", help="Words of the encoder's vocabulary, split at spaces" if model.sources
                    else "Token ids, e.g. 3 14 15: the file names no tokens")
    word = st.text_input(**args, key=key, max_chars=seq2seq.MAX_WORD)
    if word != cfg.word:
        cfg = replace(cfg, word=word, t=0)
        st.session_state.pop(ui.W + "t", None)
        ui.commit(cfg)
    return cfg


def _cursor(cfg: Config, tr: seq2seq.Transcription) -> int:
    labels = steps_of(tr)
    t = min(cfg.t, len(labels) - 1)
    key = ui.W + "t"
    if st.session_state.get(key) not in labels:
        st.session_state[key] = labels[t]
    chosen = st.select_slider("Step: the encoder reads, then the decoder says", labels, key=key)
    index = labels.index(chosen)
    if index != cfg.t:
        ui.commit(replace(cfg, t=index))
    return index


def _unit(step: Step) -> tuple[int, bool]:
    """The unit to show, and whether the learner picked it (else: the one that moved most at this step)."""
    units = step.trace.layer(0, 0).h.shape[-1]
    if st.session_state.get(UNIT_KEY) not in (MOST, *range(units)):
        st.session_state[UNIT_KEY] = MOST  # another model, fewer units
    choice = st.selectbox("Unit shown in the circuit", [MOST, *range(units)], key=UNIT_KEY)
    if choice == MOST:
        return int(np.argmax(words.moves(Context(trace=step.trace, t=step.t, unit=0)))), False
    return int(choice), True


def use_g2p() -> None:
    """Go back to g2p-en's shipped model (the uploaded one stays in the session)."""
    ui.apply(replace(ui.config(), s2s="g2p", word=state.PROPS["word"].default, t=0))
    st.session_state.pop(ui.W + "word", None)


def use_uploaded() -> None:
    """Show the encoder–decoder uploaded in this session, on an example of its own input."""
    held = uploaded()
    if held is not None:
        ui.apply(replace(ui.config(), s2s="session", word=example(held[1]), t=0))
        st.session_state.pop(ui.W + "word", None)


def example(model: seq2seq.Seq2Seq) -> str:
    """Something the model reads, to start with: g2p-en's default word, else the encoder's first tokens."""
    if model.as_g2p() is not None:
        return state.PROPS["word"].default
    marks = (model.start, model.end)  # the tutorial's SOS and EOS are words of its vocabulary, not to be typed
    words_ = None if model.sources is None else [t for i, t in enumerate(model.sources) if i not in marks]
    return example_text(words_, model.enc_emb.shape[0], 4)[: seq2seq.MAX_WORD]


def _which(cfg: Config) -> tuple[str, seq2seq.Seq2Seq] | None:
    """The model the page shows, said in its caption, with the switch between it and the other one."""
    held = uploaded()
    if cfg.s2s == "session" and held is None:
        st.info(GONE, icon=":material/info:")
    used = model_in_use(cfg)
    if used is None:
        st.caption("g2p-en's trained GRU encoder–decoder (Kyubyong Park & Jongseok Kim, Apache-2.0), run on "
                   "gru-viz's own NumPy core: one GRU reads a word's letters, a second one starts from its last "
                   "state and spells out the pronunciation one ARPAbet phoneme at a time.")
        if held is not None:
            st.button(f"Show your encoder–decoder ({literal(held[0], 60)})", on_click=use_uploaded,
                      icon=":material/upload_file:")
        return None
    name, model = used
    relu = " Its decoder reads relu of its embedding, as the tutorial's DecoderRNN does." if model.relu else ""
    ids = "" if model.sources is not None else (" The file names no tokens, so the encoder reads token ids and the "
                                                 "decoder's answers are ids too (#3 is id 3).")
    st.caption(f"Your encoder–decoder, {literal(name, 60)} ({model.layout}), run on gru-viz's own NumPy core: one "
               f"GRU reads your text, a second one starts from its last state and answers one token at a time, "
               f"feeding back its own choice, up to {model.cap} tokens.{relu}{ids}")
    st.button("Back to g2p-en's model", on_click=use_g2p, icon=":material/undo:")
    return used


VOCAB_FILES = {"encoder": "gru_viz_s2s_vocab_encoder", "decoder": "gru_viz_s2s_vocab_decoder"}  # uploaders
VOCAB_NOTE = "gru_viz_s2s_vocab_note"  # (kind, text) the last vocabulary upload left for the page


def on_vocabulary(side: str) -> None:
    """Callback of a vocabulary uploader: give the uploaded encoder–decoder that side's tokens (else say why not)."""
    held, file = uploaded(), st.session_state.get(VOCAB_FILES[side])
    if held is None or file is None:
        return
    try:
        tokens = seq2seq.token_list(file.getvalue(), side)
        model = seq2seq.with_vocabularies(held[1], tokens if side == "encoder" else None,
                                          tokens if side == "decoder" else None)
    except seq2seq.Seq2SeqError as exc:
        st.session_state[VOCAB_NOTE] = ("error", f"Refused {literal(file.name, 60)}: {ui.message(exc)}.")
        return
    st.session_state[SESSION] = (held[0], model)
    st.session_state[VOCAB_NOTE] = ("success", f"The {side} now reads its {len(tokens):,} tokens from "
                                               f"{literal(file.name, 60)}.")
    if side == "encoder":
        use_uploaded()  # an example in its own words


def vocabulary_section(model: seq2seq.Seq2Seq) -> None:
    """Uploaders for the token lists a file without vocabularies lacks (one token per line, in row order)."""
    note = st.session_state.pop(VOCAB_NOTE, None)
    if note is not None:
        getattr(st, note[0])(note[1])
    missing = [side for side, tokens in (("encoder", model.sources), ("decoder", model.targets)) if tokens is None]
    if not missing:
        return
    with st.expander("Add its vocabularies: type words instead of ids", icon=":material/dictionary:"):
        st.caption("A text file per side, one token per line, in the order of its embedding's rows (the tutorial's "
                   "index2word: SOS, EOS, then the words as they were first seen).")
        for side in missing:
            size = (model.enc_emb if side == "encoder" else model.dec_emb).shape[0]
            st.file_uploader(f"The {side}'s tokens ({size:,} lines)", type=["txt", "vocab", "tsv"],
                             key=VOCAB_FILES[side], on_change=on_vocabulary, args=(side,))


def page(cfg: Config) -> None:
    """The whole page."""
    used = _which(cfg)
    if used is not None:
        vocabulary_section(used[1])
    cfg = _word_input(cfg, None if used is None else used[1])
    try:
        tr = transcription(cfg.word) if used is None else run_uploaded(cfg.word, used[1])
    except seq2seq.Seq2SeqError as exc:
        st.error(f"This {'word' if used is None else 'text'} cannot be read: {ui.message(exc)}.",
                 icon=":material/error:")
        return
    st.markdown(f"### {pronunciation(tr).text}")
    if used is not None and used[1].layout == seq2seq.TUTORIAL and used[1].sources is not None:
        st.caption(f"As the tutorial's normalizeString does, the text was lower-cased, its accents dropped and . ! ? "
                   f"set apart: the encoder reads “{literal(tr.text, 120)}”.")
    for note in word_notes(tr):
        st.info(note.text, icon=":material/info:")
    index = _cursor(cfg, tr)
    step = step_at(tr, index)
    unit, chosen = _unit(step)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        x_label = step.labels[step.t].strip("“”")
        figure = cell.cell_spec(step.trace, step.t, unit, x_label, present=cfg.present)
        st.plotly_chart(style.Prebuilt(figure), config=CHART, key="s2s_circuit")
    with right:
        said = [*step_sentences(tr, step), unit_sentence(step, unit, chosen),
                *narration.narrate(step.trace, step.t, unit, x_text=step.labels[step.t]).sentences]
        st.markdown(" ".join(s.text for s in said))
        if step.side == "decoder":
            st.plotly_chart(figs.top_figure(tr.top(step.t, 3), present=cfg.present), config=CHART, key="s2s_top")
    lt = step.trace.layer(0, 0)
    symbols = tr.enc_symbols if step.side == "encoder" else tr.dec_inputs
    tabs = st.tabs(["update gate z", "hidden state h"])
    units = lt.h.shape[-1]
    for tab, name in zip(tabs, ("z", "h"), strict=True):
        with tab:
            values = lt.gates["z"][:, 0] if name == "z" else lt.h[:, 0]
            st.plotly_chart(figs.heatmap_figure(values, symbols, name, t=step.t, present=cfg.present,
                                                title=f"{name} of all {units} units of the {step.side}, by what it "
                                                      "read"),
                            config=CHART, key=f"s2s_heat_{name}")
    if used is not None and used[1].as_g2p() is None:
        return  # the findings are over g2p-en's own word list
    st.subheader("What the encoder's last state carries")
    found = findings()
    n_words = len(seq2seq.word_list())
    st.markdown(" ".join(s.text for s in finding_sentences(found, n_words)))
    st.caption("Words: the 371 headwords of g2p-en's homograph list. r is Pearson's correlation of one unit's "
               "final value with the feature across those words; a unit that follows a feature is a hint of what "
               "the state holds, not proof that the decoder uses it.")
