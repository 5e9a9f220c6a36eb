"""The Real text page's own words beyond :mod:`gru_viz.explain.charlm` (which says the prediction, the unknown
characters, the units, the saturation, the bits per character and the pattern search): the note about a text over
the page's cap, a claim checked against the reading on screen.

A :class:`~gru_viz.explain.claims.Context` of this page carries, in ``values``: ``reading`` (the
:class:`gru_viz.core.charlm.Reading` on screen), ``typed`` (the text as typed, before the cap) and ``cap`` (how many
characters the page reads). NumPy and the core only.
"""

from __future__ import annotations

from ..core.sources import ATTRIBUTIONS
from . import claims
from .claims import Context, Sentence, _want

CLAIMS = claims.Book()
claim = CLAIMS.claim


def say(key: str, **values: object) -> Sentence:
    """The sentence of this page's claim ``key`` with ``values`` in its slots."""
    return CLAIMS.say(key, **values)


@claim("rt.cap", "Your text has {n:int} characters; the page reads the first {cap:int} (the rest stays in the box, "
                 "unread).", step_numbers=False)
def _cap(ctx: Context, s: dict[str, str]) -> list[str]:
    typed, cap = ctx.values["typed"], ctx.values["cap"]
    return (_want(int(s["n"]) == len(typed) > cap, f"the text has {len(typed)} characters")
            + _want(int(s["cap"]) == cap == len(ctx.values["reading"].text), f"the page reads {cap}"))


@claim("rt.bpc.how", "Bits per character are measured on all {chars:int} characters of the held-out Python, read as "
                     "one sequence from a zero state: the mean of −log₂ of the probability each model gave the "
                     "character that came.", step_numbers=False)
def _bpc_how(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(int(s["chars"]) == ctx.values["chars"], f"the held-out text has {ctx.values['chars']} characters")


@claim("rt.colour", "Each character's background: h of layer {layer:int}, unit {unit:int} right after reading it, "
                    "blue for positive, grey for negative, stronger for larger |h|; the character at the cursor is "
                    "boxed.", step_numbers=False)
def _colour(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want((int(s["layer"]), int(s["unit"])) == (ctx.layer, ctx.unit), f"the page colours by layer {ctx.layer}, "
                 f"unit {ctx.unit}")


@claim("rt.searched", "Matches are searched in the first {chars:int} characters of the held-out Python, best first "
                      "as {who:text} ranks them: most of the picked units on, fewest others, longest.",
       step_numbers=False)
def _searched(ctx: Context, s: dict[str, str]) -> list[str]:
    n = len(ctx.values["pattern_text"])
    return (_want(int(s["chars"]) == n, f"the index holds {n} characters")
            + _want(s["who"] == ATTRIBUTIONS["lstmvis"].who, "the ranking is the record's"))


@claim("rt.generated", "The {model:word} wrote the last {n:int} characters itself, one at a time, each drawn from its "
                       "guess at temperature {temperature:num2} (seed {seed:int}).", step_numbers=False)
def _generated(ctx: Context, s: dict[str, str]) -> list[str]:
    g = ctx.values["generated"]
    return _want((s["model"], int(s["n"]), s["temperature"], int(s["seed"]))
                 == (g["model"], len(g["text"]), claims.num2_text(g["temperature"]), g["seed"]),
                 f"it wrote {len(g['text'])} characters at {g['temperature']} (seed {g['seed']})")
