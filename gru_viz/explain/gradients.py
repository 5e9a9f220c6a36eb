"""Gradient flow's explainer: one bullet per cell kind (a GRU's comes with its "no output gate"), each a registered
claim backed by the live line-up, in the order a learner reads them (the RNN first: what the gates fix)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..core.kinds import per_kind
from ..core.trace import Trace
from . import claims
from .claims import Sentence


@dataclass(frozen=True)
class Evidence:
    """What the bullets are read from: the line-up's runs at the cursor, its flows, and the GRU's variant."""

    traces: Mapping[str, Trace]
    first: Mapping[str, float]  # kind -> ‖∂h_T/∂h_0‖
    rho: Mapping[str, dict[str, float]]  # kind -> ρ of each recurrent block
    t: int
    z_keeps: bool


def _rnn(e: Evidence) -> list[Sentence]:
    return [claims.say("gradients.rnn", rho=e.rho["rnn"]["h"], norm=e.first["rnn"])]


def _gru(e: Evidence) -> list[Sentence]:
    keep, write = ("z", "1 − z") if e.z_keeps else ("1 − z", "z")
    update = "(1 − z) ⊙ n + z ⊙ h" if e.z_keeps else "(1 − z) ⊙ h + z ⊙ n"
    z = e.traces["gru"].layer(0).gates["z"][e.t, 0]
    return [claims.say("gradients.gru", keep=keep, write=write, update=update, direct=keep, z_span=z,
                       norm=e.first["gru"])]


def _lstm(e: Evidence) -> list[Sentence]:
    g = e.traces["lstm"].layer(0).gates
    t = e.t
    return [claims.say("gradients.lstm", if_span=g["i"][t, 0] + g["f"][t, 0], f_span=g["f"][t, 0],
                       o_span=g["o"][t, 0], norm=e.first["lstm"]),
            claims.say("gradients.no-output")]  # after the LSTM's output gate: what a GRU has instead


def _mingru(e: Evidence) -> list[Sentence]:
    return [claims.say("gradients.mingru", norm=e.first["mingru"])]


def _minlstm(e: Evidence) -> list[Sentence]:
    return [claims.say("gradients.minlstm", norm=e.first["minlstm"])]


# In reading order: the table's order is the page's.
BULLETS: Mapping[str, Callable[[Evidence], list[Sentence]]] = per_kind("explain.gradients.bullets", {
    "rnn": _rnn,
    "gru": _gru,
    "lstm": _lstm,
    "mingru": _mingru,
    "minlstm": _minlstm,
})


def bullets(evidence: Evidence, kinds: tuple[str, ...]) -> dict[str, list[Sentence]]:
    """kind -> its sentences, for the kinds lined up, in reading order."""
    return {k: BULLETS[k](evidence) for k in BULLETS if k in kinds}

