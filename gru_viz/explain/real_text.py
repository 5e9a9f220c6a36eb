"""The Real text page's own words beyond :mod:`gru_viz.explain.charlm` (which says the prediction, the unknown
characters, the units, the saturation, the bits per character and the pattern search): the note about a text over
the page's cap, a claim checked against the reading on screen.

A :class:`~gru_viz.explain.claims.Context` of this page carries, in ``values``: ``reading`` (the
:class:`gru_viz.core.charlm.Reading` on screen), ``typed`` (the text as typed, before the cap) and ``cap`` (how many
characters the page reads). NumPy and the core only.
"""

from __future__ import annotations

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
