"""What the cell just did at one step, in plain words computed from the run.

:func:`narrate` turns a trace, a step t and a unit (and a layer and direction) into a few sentences: what came in,
what the update gate (or forget and input gates) did to the state, what the reset gate (or output gate) did, and
for a layer of several units one sentence about all of them. Every sentence is a claim of
:mod:`gru_viz.explain.claims`, so the words follow the cell's own arithmetic: "z keeps" and "z takes" variants,
reset before and after the product, LSTM's separate i, f, o and its cell c, the RNN's lack of gates, minGRU's
gate that reads x only; a clamped gate is named as clamped, and every number is rounded for people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.trace import Trace
from . import claims
from .claims import KEEP, MOSTLY, REPLACE, Sentence, previous_label, say
from .equations import previous_state_label  # noqa: F401  (the symbol; previous_label names the step's state)


@dataclass(frozen=True)
class Narration:
    """The sentences about one step of one unit; ``verdict`` says what happened to its state."""

    sentences: tuple[Sentence, ...]
    verdict: str  # "keeps", "replaces", "blends" (GRU, minGRU); "keeps", "overwrites", "erases", "adds",
    # "blends" (LSTM's cell); "rewrites" (RNN)
    update: Sentence | None = None  # the sentence about the state

    @property
    def text(self) -> str:
        """All sentences as one paragraph."""
        return " ".join(s.text for s in self.sentences)


def _clamped(lt, gate: str, t: int, unit: int) -> bool:
    mask = lt.clamped.get(gate)
    return bool(mask is not None and mask[t, 0, unit])


def narrate(trace: Trace, t: int, unit: int, layer: int = 0, direction: int = 0, x_text: str | None = None,
            summary: bool = True) -> Narration:
    """Two to four sentences about step ``t`` of ``unit``: the input (``x_text``, as the page shows it), what
    the gates did to the state, and (``summary``, H > 1) the whole layer in one sentence."""
    lt = trace.layer(layer, direction)
    kind = trace.spec.kind
    T, H = lt.steps, lt.h.shape[-1]

    def at(name: str) -> float:
        return float(claims.quantity(lt, name)[t, 0, unit])

    clamped = frozenset(g for g in ("z", "r", "f", "i", "o") if g in lt.gates and _clamped(lt, g, t, unit))
    out: list[Sentence] = []
    if layer > 0:
        out.append(say("step.input-below", t=t, below=layer - 1))
    elif x_text is not None:
        out.append(say("step.input", t=t, x=x_text))
    prev = previous_label("h", t, direction, T)
    values = {name: at(name) for name in ("h", "h_prev")}
    verdict, update = "rewrites", None
    if kind in ("gru", "mingru"):
        z_role = "keeps" if kind == "gru" and trace.spec.gru_variant.z_keeps else "takes"
        z, n = at("z"), at("n")
        k = z if z_role == "keeps" else 1.0 - z
        verdict = "keeps" if k >= KEEP else "replaces" if k <= REPLACE else "blends"
        expect = {"keeps": "keep", "replaces": "replace", "blends": "blend"}[verdict]
        update = say(f"step.update.{z_role}.{expect}", clamped, z=z, n=n, prev=prev, keep=k, write=1 - k, **values)
        out.append(update)
        if kind == "gru":
            r = at("r")
            where = "after" if trace.spec.gru_variant.reset_after else "before"
            state = "shut" if r <= 0.05 else "open" if r >= 0.95 else "part"
            out.append(say(f"step.reset.{where}.{state}", clamped, r=r, hn=at("hn"), share=r))
        else:
            out.append(say("step.mingru"))
    elif kind == "lstm":
        f, i, g = at("f"), at("i"), at("g")
        cell = {"c": at("c"), "c_prev": at("c_prev"), "cprev": previous_label("c", t, direction, T), "g": g}
        hi_f, lo_f, hi_i, lo_i = f >= KEEP, f <= REPLACE, i >= KEEP, i <= REPLACE
        if hi_f and lo_i:
            verdict, expect = "keeps", "keep"
        elif lo_f and hi_i:
            verdict, expect = "overwrites", "overwrite"
        elif lo_f and lo_i:
            verdict, expect = "erases", "erase"
        elif hi_f and hi_i:
            verdict, expect = "adds", "add"
        else:
            verdict, expect = "blends", "blend"
        update = say(f"step.lstm.{expect}", clamped, f=f, i=i, fshare=f, ishare=i, **cell)
        out.append(update)
        o = at("o")
        if "m" in lt.gates:
            out.append(say("step.lstm.output.proj", clamped, o=o, m=at("m")))
        else:
            state = "all" if o >= KEEP else "none" if o <= REPLACE else "part"
            out.append(say(f"step.lstm.output.{state}", clamped, o=o, oshare=o, tanh_c=at("tanh_c"), h=at("h")))
        if expect == "blend" and abs(f + i - 1) >= 0.05:
            out.append(say("step.lstm.separate", fi=f + i))
    else:
        fn = "tanh" if trace.spec.nonlinearity == "tanh" else "ReLU"
        update = say("step.rnn", fn=fn, fn2=fn, prev=prev, pre=at("pre"), h=values["h"])
        out.append(update)
    if summary and H > 1:
        out.append(layer_summary(trace, t, layer, direction))
    return Narration(tuple(out), verdict, update)


def layer_summary(trace: Trace, t: int, layer: int = 0, direction: int = 0) -> Sentence:
    """One sentence about every unit of the layer at step ``t``: how many keep, replace or blend."""
    lt = trace.layer(layer, direction)
    kind = trace.spec.kind
    H = lt.h.shape[-1]
    if kind == "rnn":
        return say("layer.rnn", units=H)
    if kind == "lstm":
        f, i = lt.gates["f"][t, 0], lt.gates["i"][t, 0]
        return say("layer.lstm", n_keep=int(np.sum(f > MOSTLY)), units=H, n_write=int(np.sum(i > MOSTLY)))
    keeps = kind == "gru" and trace.spec.gru_variant.z_keeps
    z = lt.gates["z"][t, 0]
    k = z if keeps else 1.0 - z
    n_keep, n_replace = int(np.sum(k > MOSTLY)), int(np.sum(k < 1 - MOSTLY))
    rules = ("z > 0.9", "z < 0.1") if keeps else ("z < 0.1", "z > 0.9")
    return say("layer.gated", n_keep=n_keep, units=H, keep_rule=rules[0], n_replace=n_replace,
               replace_rule=rules[1], n_mix=H - n_keep - n_replace)


def ablation_hint(kind: str, z_keeps: bool = True) -> Sentence | None:
    """What clamping a gate does, for the caption before any gate is clamped (None for a gateless RNN)."""
    from ..core.spec import CLAMPABLE

    gates = ", ".join(CLAMPABLE[kind])
    if kind == "rnn":
        return None
    if kind == "lstm":
        return say("ablation.lstm", gates=gates)
    keep_value = 1 if kind == "gru" and z_keeps else 0
    return say("ablation.gru", gates=gates, keep_gate="z", keep_value=keep_value, write_gate="z",
               write_value=1 - keep_value)
