"""What the cell just did at one step, in plain words computed from the run.

:func:`narrate` turns a trace, a step t and a unit (and a layer and direction) into a few sentences: what came in,
what the update gate (or forget and input gates) did to the state, what the reset gate (or output gate) did, and
for a layer of several units one sentence about all of them. Every sentence is a claim of
:mod:`gru_viz.explain.claims`, so the words follow the cell's own arithmetic: "z keeps" and "z takes" variants,
reset before and after the product, LSTM's separate i, f, o and its cell c, the RNN's lack of gates, minGRU's
gate that reads x only, minLSTM's f and i divided by their sum; a clamped gate is named as clamped, and every
number is rounded for people. What each kind says is a per-kind table (:func:`gru_viz.core.kinds.per_kind`): a
kind that a table lacks fails at import rather than being told about in another kind's words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.kinds import KIND, per_kind
from ..core.trace import LayerTrace, Trace
from . import claims
from .claims import KEEP, MOSTLY, REPLACE, Sentence, previous_label, say
from .equations import previous_state_label  # noqa: F401  (the symbol; previous_label names the step's state)


@dataclass(frozen=True)
class Narration:
    """The sentences about one step of one unit; ``verdict`` says what happened to its state."""

    sentences: tuple[Sentence, ...]
    verdict: str  # "keeps", "replaces", "blends" (GRU, minGRU, minLSTM); "keeps", "overwrites", "erases", "adds",
    # "blends" (LSTM's cell); "rewrites" (RNN)
    update: Sentence | None = None  # the sentence about the state

    @property
    def text(self) -> str:
        """All sentences as one paragraph."""
        return " ".join(s.text for s in self.sentences)


def _clamped(lt, gate: str, t: int, unit: int) -> bool:
    mask = lt.clamped.get(gate)
    return bool(mask is not None and mask[t, 0, unit])


@dataclass(frozen=True)
class _Step:
    """What a kind's sentences about one step read: the run, the step and unit, and its clamped gates."""

    trace: Trace
    lt: LayerTrace
    t: int
    unit: int
    direction: int
    clamped: frozenset[str]

    def at(self, name: str) -> float:
        """A quantity at this step and unit, by the name the sentences use."""
        return float(claims.quantity(self.lt, name)[self.t, 0, self.unit])

    def prev(self, letter: str = "h") -> str:
        """The state this step starts from, named for people."""
        return previous_label(letter, self.t, self.direction, self.lt.steps)

    @property
    def values(self) -> dict[str, float]:
        """h and the state it started from."""
        return {name: self.at(name) for name in ("h", "h_prev")}


def _verdict(k: float) -> tuple[str, str]:
    """(verdict, claim suffix) from the share of the old state kept."""
    verdict = "keeps" if k >= KEEP else "replaces" if k <= REPLACE else "blends"
    return verdict, {"keeps": "keep", "replaces": "replace", "blends": "blend"}[verdict]


def _z_update(s: _Step) -> tuple[str, Sentence]:
    """The GRU's and minGRU's update gate: what z keeps or takes, read from the kind's record (and variant)."""
    spec = s.trace.spec.layer_spec(s.lt.layer)  # a mixed GRU stack: this layer's own variant
    z_role = "keeps" if KIND[spec.kind].keep(spec).sign > 0 else "takes"
    z, n = s.at("z"), s.at("n")
    k = z if z_role == "keeps" else 1.0 - z
    verdict, expect = _verdict(k)
    return verdict, say(f"step.update.{z_role}.{expect}", s.clamped, z=z, n=n, prev=s.prev(), keep=k, write=1 - k,
                        **s.values)


def _gru(s: _Step) -> tuple[str, Sentence, list[Sentence]]:
    verdict, update = _z_update(s)
    r = s.at("r")
    where = "after" if s.trace.spec.layer_spec(s.lt.layer).gru_variant.reset_after else "before"
    state = "shut" if r <= 0.05 else "open" if r >= 0.95 else "part"
    return verdict, update, [say(f"step.reset.{where}.{state}", s.clamped, r=r, hn=s.at("hn"), share=r)]


def _mingru(s: _Step) -> tuple[str, Sentence, list[Sentence]]:
    verdict, update = _z_update(s)
    return verdict, update, [say("step.mingru")]


def _lstm(s: _Step) -> tuple[str, Sentence, list[Sentence]]:
    f, i, g = s.at("f"), s.at("i"), s.at("g")
    cell = {"c": s.at("c"), "c_prev": s.at("c_prev"), "cprev": s.prev("c"), "g": g}
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
    update = say(f"step.lstm.{expect}", s.clamped, f=f, i=i, fshare=f, ishare=i, **cell)
    more = []
    o = s.at("o")
    if "m" in s.lt.gates:
        more.append(say("step.lstm.output.proj", s.clamped, o=o, m=s.at("m")))
    else:
        state = "all" if o >= KEEP else "none" if o <= REPLACE else "part"
        more.append(say(f"step.lstm.output.{state}", s.clamped, o=o, oshare=o, tanh_c=s.at("tanh_c"), h=s.at("h")))
    if expect == "blend" and abs(f + i - 1) >= 0.05:
        more.append(say("step.lstm.separate", fi=f + i))
    return verdict, update, more


def _rnn(s: _Step) -> tuple[str, Sentence, list[Sentence]]:
    fn = "tanh" if s.trace.spec.nonlinearity == "tanh" else "ReLU"
    return "rewrites", say("step.rnn", fn=fn, fn2=fn, prev=s.prev(), pre=s.at("pre"), h=s.values["h"]), []


def _minlstm(s: _Step) -> tuple[str, Sentence, list[Sentence]]:
    """f and i divided by their sum: the share kept f′ decides, with the GRU's thresholds."""
    k, w = s.at("fprime"), s.at("iprime")
    verdict, expect = _verdict(k)
    update = say(f"step.minlstm.{expect}", s.clamped, f=s.at("f"), i=s.at("i"), n=s.at("n"), prev=s.prev(),
                 fprime=k, iprime=w, keep=k, write=w, **s.values)
    return verdict, update, [say("step.minlstm")]


# What each kind says about its state at one step: (verdict, the sentence about the state, further sentences).
_STEP = per_kind("explain.narration", {"gru": _gru, "lstm": _lstm, "rnn": _rnn, "mingru": _mingru,
                                       "minlstm": _minlstm})


def narrate(trace: Trace, t: int, unit: int, layer: int = 0, direction: int = 0, x_text: str | None = None,
            summary: bool = True) -> Narration:
    """Two to four sentences about step ``t`` of ``unit``: the input (``x_text``, as the page shows it), what
    the gates did to the state, and (``summary``, H > 1) the whole layer in one sentence."""
    lt = trace.layer(layer, direction)
    kind = trace.spec.kind
    H = lt.h.shape[-1]
    clamped = frozenset(g for g in KIND[kind].clampable if _clamped(lt, g, t, unit))
    out: list[Sentence] = []
    if layer > 0:
        out.append(say("step.input-below", t=t, below=layer - 1))
    elif x_text is not None:
        out.append(say("step.input", t=t, x=x_text))
    verdict, update, more = _STEP[kind](_Step(trace, lt, t, unit, direction, clamped))
    out += [update, *more]
    if summary and H > 1:
        out.append(layer_summary(trace, t, layer, direction))
    return Narration(tuple(out), verdict, update)


def _layer_gated(trace: Trace, lt: LayerTrace, t: int) -> Sentence:
    """How many units keep, replace or blend, by z (as the kind's record and variant weight it)."""
    spec = trace.spec.layer_spec(lt.layer)  # a mixed GRU stack: this layer's own variant
    keeps = KIND[spec.kind].keep(spec).sign > 0
    z = lt.gates["z"][t, 0]
    k = z if keeps else 1.0 - z
    rules = ("z > 0.9", "z < 0.1") if keeps else ("z < 0.1", "z > 0.9")
    return _counted(k, rules)


def _layer_normalised(trace: Trace, lt: LayerTrace, t: int) -> Sentence:
    """How many units keep, replace or blend, by minLSTM's share kept f′."""
    return _counted(lt.gates["f'"][t, 0], ("f′ > 0.9", "f′ < 0.1"))


def _counted(k: np.ndarray, rules: tuple[str, str]) -> Sentence:
    H = k.size
    n_keep, n_replace = int(np.sum(k > MOSTLY)), int(np.sum(k < 1 - MOSTLY))
    return say("layer.gated", n_keep=n_keep, units=H, keep_rule=rules[0], n_replace=n_replace,
               replace_rule=rules[1], n_mix=H - n_keep - n_replace)


def _layer_lstm(trace: Trace, lt: LayerTrace, t: int) -> Sentence:
    f, i = lt.gates["f"][t, 0], lt.gates["i"][t, 0]
    return say("layer.lstm", n_keep=int(np.sum(f > MOSTLY)), units=f.size, n_write=int(np.sum(i > MOSTLY)))


def _layer_rnn(trace: Trace, lt: LayerTrace, t: int) -> Sentence:
    return say("layer.rnn", units=lt.h.shape[-1])


_LAYER = per_kind("explain.layer_summary", {"gru": _layer_gated, "lstm": _layer_lstm, "rnn": _layer_rnn,
                                            "mingru": _layer_gated, "minlstm": _layer_normalised})


def layer_summary(trace: Trace, t: int, layer: int = 0, direction: int = 0) -> Sentence:
    """One sentence about every unit of the layer at step ``t``: how many keep, replace or blend."""
    return _LAYER[trace.spec.kind](trace, trace.layer(layer, direction), t)


# What clamping a gate does, per kind: (kind, whether a GRU's z keeps) → the caption, or None.
_ABLATION = per_kind("explain.ablation_hint", {
    "gru": lambda kind, z_keeps: say("ablation.gru", gates=", ".join(KIND[kind].clampable), keep_gate="z",
                                     keep_value=1 if z_keeps else 0, write_gate="z", write_value=0 if z_keeps else 1),
    "lstm": lambda kind, z_keeps: say("ablation.lstm", gates=", ".join(KIND[kind].clampable)),
    "rnn": lambda kind, z_keeps: None,  # no gate to clamp
    "mingru": lambda kind, z_keeps: say("ablation.gru", gates=", ".join(KIND[kind].clampable), keep_gate="z",
                                        keep_value=0, write_gate="z", write_value=1),
    # f = 1 alone keeps only 1 / (1 + i) of h: it is i = 0 that makes f′ = 1, and f = 0 that makes i′ = 1
    "minlstm": lambda kind, z_keeps: say("ablation.gru", gates=", ".join(KIND[kind].clampable), keep_gate="i",
                                         keep_value=0, write_gate="f", write_value=0),
})


def ablation_hint(kind: str, z_keeps: bool = True) -> Sentence | None:
    """What clamping a gate does, for the caption before any gate is clamped (None for a gateless RNN)."""
    return _ABLATION[kind](kind, z_keeps)
