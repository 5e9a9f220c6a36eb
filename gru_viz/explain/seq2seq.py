"""The Encoder–decoder page's words: each sentence a claim checked against the word's transcription.

A :class:`~gru_viz.explain.claims.Context` of this page carries, in ``values``: ``tr`` (the
:class:`gru_viz.io.seq2seq.Transcription` on screen, read by its attributes: explain does not import io),
``side`` ("encoder" or "decoder", the run ``trace`` is), and for the findings ``findings`` (a list of
:class:`gru_viz.io.seq2seq.Finding`), ``words`` (how many words they were found over) and ``scale`` (the |r|
thresholds of strong, moderate and weak). NumPy and the core only.
"""

from __future__ import annotations

import numpy as np

from . import claims
from .claims import KINDS, Context, Sentence

CLAIMS = claims.Book(claims.CLAIMS)  # says the generic narration's sentences too
claim = CLAIMS.claim


def say(key: str, **values: object) -> Sentence:
    """The sentence of this page's claim ``key`` (or a generic one) with ``values`` in its slots."""
    return CLAIMS.say(key, **values)


def _want(ok: bool, why: str) -> list[str]:
    return [] if ok else [why]


def symbol_label(symbol: str) -> str:
    """A model symbol as the page writes it: a letter or phoneme in quotes, the marks in words."""
    return {"</s>": "the end mark", "<s>": "the start mark", "<unk>": "the unknown-letter mark",
            "<pad>": "the padding mark"}.get(symbol, f"“{symbol}”")


def letters_text(chars: tuple[str, ...]) -> str:
    """The unknown characters, each quoted: “8”, “6” and “_”."""
    quoted = [f"“{c}”" for c in chars]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _tr(ctx: Context) -> object:
    return ctx.values["tr"]


def _side(ctx: Context, want: str) -> list[str]:
    return _want(ctx.values.get("side") == want, f"the page shows the {ctx.values.get('side')}, not the {want}")


# -------------------------------------------------------------------------------------------- the word


@claim("s2s.pron", "The encoder–decoder pronounces “{word:text}” as {arpa:text}, or /{ipa:text}/ in IPA.")
def _pron(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = _tr(ctx)
    return (_want(s["word"] == tr.word, f"the word is {tr.word!r}")
            + _want(s["arpa"] == " ".join(tr.phonemes), f"the phonemes are {' '.join(tr.phonemes)}")
            + _want(s["ipa"] == tr.ipa, f"the IPA is {tr.ipa}"))


@claim("s2s.pron.empty", "For no letters at all, the encoder–decoder says {arpa:text}, or /{ipa:text}/ in IPA.")
def _pron_empty(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = _tr(ctx)
    return (_want(tr.text == "", "a word was typed")
            + _want(s["arpa"] == " ".join(tr.phonemes), f"the phonemes are {' '.join(tr.phonemes)}")
            + _want(s["ipa"] == tr.ipa, f"the IPA is {tr.ipa}"))


@claim("s2s.silent", "The decoder emitted its end mark first: no phonemes at all for “{word:text}”.")
def _silent(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = _tr(ctx)
    return _want(s["word"] == tr.word and not tr.phonemes, "the decoder emitted phonemes")


@claim("s2s.empty", "Nothing typed: the encoder read only its end mark, and the decoder still spelled out what "
                    "it makes of that.")
def _empty(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(_tr(ctx).text == "", "a word was typed")


@claim("s2s.unknown", "The model knows only the 26 letters a–z, so it read {chars:text} as its unknown-letter "
                      "mark, as g2p-en does.")
def _unknown(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = _tr(ctx)
    return _want(bool(tr.unknown) and s["chars"] == letters_text(tr.unknown),
                 f"the unknown characters are {tr.unknown!r}")


@claim("s2s.cap", "The decoder stopped at its cap of {cap:int} phonemes without emitting its end mark: this "
                  "pronunciation is cut short.")
def _cap(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = _tr(ctx)
    return _want(tr.capped and int(s["cap"]) == len(tr.phonemes), "the decoder did not run into its cap")


# ---------------------------------------------------------------------- any other encoder–decoder's answer


@claim("s2s.answer", "The encoder–decoder answers {out:text}.")
def _answer(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = _tr(ctx)
    return _want(bool(tr.phonemes) and s["out"] == answer_text(tr.phonemes), f"it answers {tr.phonemes!r}")


@claim("s2s.answer.none", "The decoder emitted its end mark first: no answer at all.")
def _answer_none(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(not _tr(ctx).phonemes, "the decoder answered")


@claim("s2s.cap.any", "The decoder stopped at its cap of {cap:int} tokens without emitting its end mark: this "
                      "answer is cut short.")
def _cap_any(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = _tr(ctx)
    return _want(tr.capped and int(s["cap"]) == len(tr.phonemes), "the decoder did not run into its cap")


def answer_text(tokens: tuple[str, ...]) -> str:
    """An answer's tokens as the page writes them: “i am cold .”, words joined by spaces."""
    return "“" + " ".join(tokens) + "”"


# ------------------------------------------------------------------------------------------ the steps


@claim("s2s.enc.step", "The encoder reads one symbol a step, {steps:int} steps in all (the letters, then the end "
                       "mark); at t = {t:int} it reads {sym:text}.")
def _enc_step(ctx: Context, s: dict[str, str]) -> list[str]:
    tr, t = _tr(ctx), ctx.where()[0]
    return (_side(ctx, "encoder") + _want(int(s["steps"]) == len(tr.enc_symbols), "wrong number of steps")
            + _want(int(s["t"]) == t, f"the page is at t = {t}")
            + _want(s["sym"] == symbol_label(tr.enc_symbols[t]), f"the symbol is {tr.enc_symbols[t]}"))


@claim("s2s.enc.any", "The encoder reads one token a step, {steps:int} steps in all (the text, then the end "
                      "mark); at t = {t:int} it reads {sym:text}.")
def _enc_any(ctx: Context, s: dict[str, str]) -> list[str]:
    return _enc_step(ctx, s)


@claim("s2s.dec.start.any", "The decoder starts from the encoder's last state: those {units:int} numbers are all it "
                            "knows of the input.")
def _dec_start_any(ctx: Context, s: dict[str, str]) -> list[str]:
    return _dec_start(ctx, s)


@claim("s2s.dec.start", "The decoder starts from the encoder's last state: those {units:int} numbers are all it "
                        "knows of the spelling.")
def _dec_start(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = _tr(ctx)
    lt = tr.dec.layer(0, 0)
    return (_side(ctx, "decoder") + _want(int(s["units"]) == lt.h.shape[-1], "wrong size")
            + _want(bool(np.array_equal(lt.h0, tr.enc.h_n)), "the decoder did not start from the encoder's state"))


@claim("s2s.dec.step", "At t = {t:int} the decoder, fed {fed:text}, emits {out:text} with probability {p:prob}.")
def _dec_step(ctx: Context, s: dict[str, str]) -> list[str]:
    tr, t = _tr(ctx), ctx.where()[0]
    (best, p), = tr.top(t, 1)
    return (_side(ctx, "decoder") + _want(int(s["t"]) == t, f"the page is at t = {t}")
            + _want(s["fed"] == symbol_label(tr.dec_inputs[t]), f"it was fed {tr.dec_inputs[t]}")
            + _want(s["out"] == symbol_label(tr.outputs[t]) and best == tr.outputs[t], f"it emits {tr.outputs[t]}")
            + _want(s["p"] == KINDS["prob"][1](p), f"the probability is {p:.4f}"))


@claim("s2s.dec.next", "Its next two choices were {second:text} ({p2:prob}) and {third:text} ({p3:prob}).")
def _dec_next(ctx: Context, s: dict[str, str]) -> list[str]:
    tr, t = _tr(ctx), ctx.where()[0]
    _, (a, pa), (b, pb) = tr.top(t, 3)
    prob = KINDS["prob"][1]  # the rule the top-3 bars are labelled by, too
    return (_side(ctx, "decoder") + _want(s["second"] == symbol_label(a) and s["p2"] == prob(pa), f"second is {a}")
            + _want(s["third"] == symbol_label(b) and s["p3"] == prob(pb), f"third is {b}"))


def moves(ctx: Context) -> np.ndarray:
    """|h − h_prev| of every unit at the page's step."""
    lt, t = ctx.lt, ctx.where()[0]
    return np.abs(lt.h[t, 0] - lt.h_prev()[t, 0])


@claim("s2s.unit.most", "Shown: unit {unit:int}, the one whose state moved most at this step, by {delta:state}.")
def _unit_most(ctx: Context, s: dict[str, str]) -> list[str]:
    m, unit = moves(ctx), ctx.where()[1]
    return (_want(int(s["unit"]) == unit == int(np.argmax(m)), "it is not the unit that moved most")
            + _want(s["delta"] == KINDS["state"][1](m[unit]), f"it moved by {m[unit]:.4f}"))


@claim("s2s.unit.picked", "Shown: unit {unit:int}, which moved by {delta:state} at this step; unit {top:int} moved "
                          "most, by {most:state}.")
def _unit_picked(ctx: Context, s: dict[str, str]) -> list[str]:
    m, unit = moves(ctx), ctx.where()[1]
    top = int(np.argmax(m))
    state = KINDS["state"][1]
    return (_want(int(s["unit"]) == unit and s["delta"] == state(m[unit]), f"unit {unit} moved by {m[unit]:.4f}")
            + _want(int(s["top"]) == top and s["most"] == state(m[top]), f"unit {top} moved most"))


# -------------------------------------------------------------------------------------------- findings


def _finding(ctx: Context, what: str) -> object:
    for f in ctx.values["findings"]:
        if f.what == what:
            return f
    raise LookupError(f"no finding about {what!r}")


@claim("s2s.finding", "For {what:text}, the closest unit over {n:int} words is unit {unit:int}, with r = {r:num2}: "
                      "{strength:word}.")
def _finding_check(ctx: Context, s: dict[str, str]) -> list[str]:
    f = _finding(ctx, s["what"])
    return (_want(int(s["n"]) == ctx.values["words"], f"the list has {ctx.values['words']} words")
            + _want(int(s["unit"]) == f.unit and s["r"] == KINDS["num2"][1](f.r), f"unit {f.unit}, r = {f.r:.3f}")
            + _want(s["strength"] == f.strength, f"by the scale it is {f.strength}"))


@claim("s2s.chance", "With each feature shuffled over the same words, the best of the {units:int} units reaches "
                     "|r| = {chance:num2} at most: that much, chance alone finds.")
def _chance(ctx: Context, s: dict[str, str]) -> list[str]:
    fs = ctx.values["findings"]
    best = max(f.chance for f in fs)
    return _want(s["chance"] == KINDS["num2"][1](best), f"the shuffled best is {best:.3f}")


@claim("s2s.scale", "Our scale for |r|: {strong:num2} or more is strong, {moderate:num2} moderate, {weak:num2} "
                    "weak, below that none.")
def _scale(ctx: Context, s: dict[str, str]) -> list[str]:
    want = [KINDS["num2"][1](v) for v in ctx.values["scale"]]
    return _want([s["strong"], s["moderate"], s["weak"]] == want, f"the scale is {want}")
