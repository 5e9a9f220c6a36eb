"""Every claim the app can print, collected in one place.

Each module that makes claims declares them into a :class:`~gru_viz.explain.claims.Book` of its own (its
``CLAIMS``); nothing registers itself on import. :data:`CLAIM_MODULES` names those modules, and the one book
that reads all of theirs finds and checks any sentence in any page text (the claims' tests read it; the app only
says sentences, each module from its own book). Narration makes no claims of its own: it says the generic ones
of :mod:`gru_viz.explain.claims`. Attributions to papers and libraries are sourced records
(:data:`ATTRIBUTIONS`, kept in :mod:`gru_viz.core.sources` so that the core's variant labels can use them too).
"""

from __future__ import annotations

from ..core.sources import ATTRIBUTIONS, Attribution
from . import charlm, claims, lessons, real_text, seq2seq, tokens, trained
from .claims import Claim, Context, Found, Sentence

# in this order: two claims on one span, the first one is found
CLAIM_MODULES = (claims, trained, lessons, seq2seq, charlm, real_text, tokens)
EVERY = claims.Book(*(m.CLAIMS for m in CLAIM_MODULES))


def attribution(key: str) -> Attribution:
    """The sourced attribution ``key`` (who, what they write, where that was checked): see core/sources.py."""
    return ATTRIBUTIONS[key]


def all_claims() -> dict[str, Claim]:
    """Every declared claim, by key (a key declared in two modules raises)."""
    return EVERY.visible()


def say(key: str, clamped: frozenset[str] | set[str] | tuple = frozenset(), **values: object) -> Sentence:
    """The sentence of any module's claim ``key`` with ``values`` in its slots."""
    return EVERY.say(key, clamped, **values)


def find(text: str) -> list[Found]:
    """Every claim in ``text``, whichever module declared it (longest first where two would overlap)."""
    return EVERY.find(text)


def check_text(text: str, ctx: Context) -> list[str]:
    """Every false claim in ``text``, each as "sentence: why" (empty when all hold)."""
    return EVERY.check_text(text, ctx)
