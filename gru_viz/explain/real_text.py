"""The Real text page's own words: the notes about the learner's text and the prediction at the cursor, each
sentence a claim checked against the reading on screen.

A :class:`~gru_viz.explain.claims.Context` of this page carries, in ``values``: ``reading`` (the
:class:`gru_viz.core.charlm.Reading` on screen, read by its attributes), ``model`` (its name, "GRU", "LSTM" or
"RNN"), ``typed`` (the text as typed, before the cap) and ``cap`` (how many characters the page reads). The units,
the saturation and the comparison are said by :mod:`gru_viz.explain.charlm`. NumPy and the core only.
"""

from __future__ import annotations

from . import claims
from .claims import KINDS, Context, Sentence, _want

CLAIMS = claims.Book()
claim = CLAIMS.claim


def say(key: str, **values: object) -> Sentence:
    """The sentence of this page's claim ``key`` with ``values`` in its slots."""
    return CLAIMS.say(key, **values)


def char_label(ch: str) -> str:
    """A character as the page writes it: in quotes, the invisible ones in words."""
    return {"\n": "a newline", " ": "a space", "\t": "a tab", "\r": "a carriage return",
            "<unk>": "the unknown mark"}.get(ch, f"“{ch}”")


def chars_text(chars: tuple[str, ...] | list[str]) -> str:
    """Characters, each as :func:`char_label`: “é”, “→” and “😀”."""
    quoted = [char_label(c) for c in chars]
    if not quoted:
        return "none"
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def unknown_chars(reading: object) -> tuple[str, ...]:
    """The characters of a reading its model never saw, each once, in order."""
    return tuple(dict.fromkeys(reading.text[i] for i in unknown_positions(reading)))


def unknown_positions(reading: object) -> tuple[int, ...]:
    """The positions in a reading's text of the characters its model never saw."""
    return tuple(int(i) for i in reading.unknown)


def _reading(ctx: Context) -> object:
    return ctx.values["reading"]


@claim("rt.cap", "Your text has {n:int} characters; the page reads the first {cap:int} (the rest stays in the box, "
                 "unread).", step_numbers=False)
def _cap(ctx: Context, s: dict[str, str]) -> list[str]:
    typed, cap = ctx.values["typed"], ctx.values["cap"]
    return (_want(int(s["n"]) == len(typed) > cap, f"the text has {len(typed)} characters")
            + _want(int(s["cap"]) == cap == len(_reading(ctx).text), f"the page reads {cap}"))


@claim("rt.unknown", "The {model:word} never saw {chars:text} in Python's source: it reads {count:int} "
                     "character(s) of your text as its unknown mark, shown struck through.", step_numbers=False)
def _unknown(ctx: Context, s: dict[str, str]) -> list[str]:
    r = _reading(ctx)
    return (_want(s["model"] == ctx.values["model"], f"the model is the {ctx.values['model']}")
            + _want(s["chars"] == chars_text(unknown_chars(r)), f"the unknown characters are {unknown_chars(r)!r}")
            + _want(int(s["count"]) == len(unknown_positions(r)), f"{len(unknown_positions(r))} are unknown"))


@claim("rt.next", "After reading {seen:text} at position {t:int}, the {model:word} puts {p:prob} on {best:text} "
                  "coming next.", step_numbers=False)
def _next(ctx: Context, s: dict[str, str]) -> list[str]:
    r, t = _reading(ctx), int(s["t"])
    if not 0 <= t < len(r.text):
        return [f"position {t} is outside the text"]
    (best, p), = r.top(t, 1)
    return (_want(s["model"] == ctx.values["model"], f"the model is the {ctx.values['model']}")
            + _want(s["seen"] == char_label(r.text[t]), f"position {t} holds {r.text[t]!r}")
            + _want(s["best"] == char_label(best) and s["p"] == KINDS["prob"][1](p), f"its best is {best!r} ({p:.4f})"))


@claim("rt.actual", "The text goes on with {actual:text}, which it gave {p:prob}: {verdict:word}.",
       step_numbers=False)
def _actual(ctx: Context, s: dict[str, str]) -> list[str]:
    r, t = _reading(ctx), ctx.values["t"]
    if t + 1 >= len(r.text):
        return ["the text ends here"]
    nxt = r.text[t + 1]
    p = actual_prob(r, t)
    ranked = [c for c, _ in r.top(t, 5)]
    return (_want(s["actual"] == char_label(nxt), f"the next character is {nxt!r}")
            + _want(s["p"] == KINDS["prob"][1](p), f"it gave it {p:.4f}")
            + _want(s["verdict"] == verdict(nxt, ranked), f"the verdict is {verdict(nxt, ranked)}"))


@claim("rt.end", "This is the text's last character: what the {model:word} expects after it, nothing here can "
                 "confirm.", step_numbers=False)
def _end(ctx: Context, s: dict[str, str]) -> list[str]:
    r, t = _reading(ctx), ctx.values["t"]
    return _want(t == len(r.text) - 1, "the text goes on") + _want(s["model"] == ctx.values["model"], "another model")


def actual_prob(reading: object, t: int) -> float:
    """The probability the model gave, after position ``t``, to the character that comes next in the text (an
    unknown one: the probability of the unknown mark it reads instead)."""
    return float(reading.probs[t, int(reading.ids[t + 1])])


def verdict(actual: str, ranked: list[str]) -> str:
    """Whether the next character was the model's first choice, among its top five, or a surprise."""
    if ranked and actual == ranked[0]:
        return "its first choice"
    return "among its top five" if actual in ranked else "a surprise, outside its top five"
