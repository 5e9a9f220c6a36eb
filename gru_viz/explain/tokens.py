"""What the pages say about typed text read into a model's own vocabulary, and about its readout's choices: each
sentence a claim checked against the numbers.

A :class:`~gru_viz.explain.claims.Context` of these claims carries, in ``values``: ``tok`` (the
:class:`gru_viz.core.tokens.Tokenised` text), ``size`` (the embedding's number of rows) and, for the readout,
``probs`` (T × V, the softmax of the readout's scores at every step) and ``vocabulary`` (the tokens, or None).
NumPy and the core only.
"""

from __future__ import annotations

import numpy as np

from ..core.tokens import Tokenised, shown
from . import claims
from .claims import KINDS, Context, Sentence
from .literal import literal

CLAIMS = claims.Book()  # checks compare with the plain text (the page's markdown escapes are read back first)
claim = CLAIMS.claim
TOP = 5  # the readout's choices shown at a step


def say(key: str, **values: object) -> Sentence:
    """The sentence of this module's claim ``key`` with ``values`` in its slots."""
    return CLAIMS.say(key, **values)


def _want(ok: bool, why: str) -> list[str]:
    return [] if ok else [why]


def quoted(token: str, escape: bool = True) -> str:
    """A token in quotes, as the page writes it (markdown-safe unless ``escape`` is False: an error box escapes)."""
    return f"“{literal(shown(token), 40) if escape else shown(token)}”"


def quoted_list(items: tuple[str, ...], most: int = 8, escape: bool = True) -> str:
    """Tokens each in quotes, “a”, “b” and “c”; past ``most`` of them, “a”, …, and 3 more."""
    q = [quoted(t, escape) for t in items[:most]]
    if len(items) > most:
        return ", ".join(q) + f" and {len(items) - most} more"
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def _tok(ctx: Context) -> Tokenised:
    return ctx.values["tok"]


# ------------------------------------------------------------------------------------------ the text


@claim("tok.chars", "Your model's tokens are single characters, so the text is read one character a step: "
                    "{steps:int} steps.")
def _chars(ctx: Context, s: dict[str, str]) -> list[str]:
    t = _tok(ctx)
    return _want(t.unit == "character" and int(s["steps"]) == t.ids.size, f"{t.ids.size} {t.unit} steps")


@claim("tok.words", "Your model's tokens are words, so the text is split at spaces and read one word a step: "
                    "{steps:int} steps.")
def _words(ctx: Context, s: dict[str, str]) -> list[str]:
    t = _tok(ctx)
    return _want(t.unit == "word" and int(s["steps"]) == t.ids.size, f"{t.ids.size} {t.unit} steps")


@claim("tok.lower", "Its vocabulary is all lower-case, so the text was lower-cased first.")
def _lower(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(_tok(ctx).lowered, "the text was not lower-cased")


@claim("tok.unknown.mark", "The model never saw {which:text} ({count:int} in the text): it reads its unknown mark "
                           "{mark:text} there, as it was trained to.")
def _unknown_mark(ctx: Context, s: dict[str, str]) -> list[str]:
    t = _tok(ctx)
    return (_want(s["which"] == quoted_list(t.unknown, escape=False), f"the unknown pieces are {t.unknown!r}")
            + _want(int(s["count"]) == t.missing, f"{t.missing} pieces are unknown")
            + _want(t.mark is not None and s["mark"] == quoted(t.mark, escape=False), f"the mark is {t.mark!r}"))


@claim("tok.unknown.out", "The model never saw {which:text} ({count:int} in the text), and its vocabulary has no "
                          "unknown mark, so they are left out: the model reads the other {steps:int}.")
def _unknown_out(ctx: Context, s: dict[str, str]) -> list[str]:
    t = _tok(ctx)
    return (_want(s["which"] == quoted_list(t.unknown, escape=False), f"the unknown pieces are {t.unknown!r}")
            + _want(int(s["count"]) == t.missing and t.mark is None, f"{t.missing} pieces are unknown")
            + _want(int(s["steps"]) == t.ids.size, f"it reads {t.ids.size}"))


@claim("tok.ids", "This model's file names no tokens, so it reads token ids, whole numbers from 0 to {top:int}: "
                  "{steps:int} steps here.")
def _ids(ctx: Context, s: dict[str, str]) -> list[str]:
    t = _tok(ctx)
    return (_want(t.unit == "id" and int(s["steps"]) == t.ids.size, f"{t.ids.size} ids")
            + _want(int(s["top"]) == ctx.values["size"] - 1, f"the ids run to {ctx.values['size'] - 1}"))


ADD_VOCABULARY = ("To type words instead, upload a vocabulary beside the weights on Your model (a text file, one "
                  "token per line, in the embedding's row order).")


def notes(tok: Tokenised, size: int) -> list[Sentence]:
    """What the page says about how the text was read: the split, the case, the tokens the model never saw."""
    if tok.unit == "id":
        return [say("tok.ids", top=size - 1, steps=tok.ids.size)]
    out = [say("tok.chars" if tok.unit == "character" else "tok.words", steps=tok.ids.size)]
    if tok.lowered:
        out.append(say("tok.lower"))
    if tok.missing:
        which = quoted_list(tok.unknown)
        out.append(say("tok.unknown.mark", which=which, count=tok.missing, mark=quoted(tok.mark)) if tok.mark
                   else say("tok.unknown.out", which=which, count=tok.missing, steps=tok.ids.size))
    return out


def context(tok: Tokenised, size: int) -> Context:
    """The Context the notes are checked against."""
    return Context(values={"tok": tok, "size": size})


# ------------------------------------------------------------------------------------------ the readout


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from scores, over the last axis."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def token_name(i: int, vocabulary: tuple[str, ...] | None, escape: bool = True) -> str:
    """Token ``i`` as the page writes it: its text in quotes (markdown-safe), or "token i" when the file names
    none."""
    return f"token {i}" if vocabulary is None else quoted(vocabulary[i], escape)


def top(probs: np.ndarray, k: int = TOP) -> list[tuple[int, float]]:
    """The ``k`` most likely ids of one step's probabilities, most likely first (ties: the lower id)."""
    order = np.argsort(-probs, kind="stable")[:k]
    return [(int(i), float(probs[i])) for i in order]


@claim("tok.best", "At t = {t:int} the readout's top choice is {best:text}, with probability {p:prob}: the "
                   "softmax of its {size:int} scores.")
def _best(ctx: Context, s: dict[str, str]) -> list[str]:
    t, probs, vocab = ctx.t, ctx.values["probs"], ctx.values["vocabulary"]
    (best, p), = top(probs, 1)
    return (_want(int(s["t"]) == t, f"the page is at t = {t}")
            + _want(s["best"] == token_name(best, vocab, escape=False), f"the top choice is {best}")
            + _want(s["p"] == KINDS["prob"][1](p), f"its probability is {p:.4f}")
            + _want(int(s["size"]) == probs.shape[-1], f"the readout gives {probs.shape[-1]} scores"))


def best(probs: np.ndarray, t: int, vocabulary: tuple[str, ...] | None) -> Sentence:
    """The readout's top choice at step ``t`` (``probs``: that step's probabilities) in a sentence."""
    (i, p), = top(probs, 1)
    return say("tok.best", t=t, best=token_name(i, vocabulary), p=p, size=probs.shape[-1])


def readout_context(probs: np.ndarray, t: int, vocabulary: tuple[str, ...] | None) -> Context:
    """The Context of the readout's sentence: step ``t`` and its probabilities."""
    return Context(t=t, values={"probs": probs, "vocabulary": vocabulary})


def readout_rows(logits: np.ndarray, vocabulary: tuple[str, ...] | None, k: int = TOP) -> list[tuple[str, str, str]]:
    """The ``k`` top choices of one step's scores: (token, probability, score), rounded for people."""
    probs = softmax(logits)
    return [(f"token {i}" if vocabulary is None else shown(vocabulary[i]), KINDS["prob"][1](p),
             KINDS["state"][1](logits[i])) for i, p in top(probs, k)]
