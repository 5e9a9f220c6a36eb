"""The words of the cell diagram: what each symbol does, and for every wire its name, what it means in one
phrase, and the term of the equations it is (HTML, as Plotly hover text shows it). Pure text; no numbers.

Every phrase is true for the cell it is asked for: the GRU's z keeps the old state in the PyTorch and
"reset before" variants and takes the candidate in the "z takes" ones (and in minGRU), so ``z``, ``1−z``, the
kept and the written parts say so per variant; minLSTM keeps f′ = f / (f + i) of the old state and writes
i′ = i / (f + i) of the candidate. In the reverse direction of a bidirectional layer the state a step
starts from is the one after it in time: h_{t+1}, never h_{t−1}.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ..core.kinds import per_kind
from ..core.spec import GRU_VARIANTS


@dataclass(frozen=True)
class Meaning:
    """One wire or node in words."""

    name: str  # "update gate z"
    phrase: str  # what it does, in one phrase
    term: str  # the equation it is, in HTML


# What the diagram's symbols do (the legend, and the hover of each box and node).
SYMBOLS: dict[str, tuple[str, str]] = {
    "σ": ("sigmoid", "squashes any number into 0 … 1: a gate, 0 shut, 1 wide open"),
    "tanh": ("tanh", "squashes any number into −1 … 1"),
    "⊙": ("multiply", "multiplies unit by unit: a gate scales what passes through it"),
    "+": ("add", "adds the two parts"),
    "1−": ("one minus", "turns a gate z into 1 − z: what z does not keep, the other side takes"),
    "W": ("linear map", "weights times a vector, plus a bias: one number per unit"),
    "g": ("minGRU's g", "k + ½ for k ≥ 0, σ(k) below: always positive"),
    "÷": ("divide", "divides the gate below it by the sum f + i beside it, so that the two shares add up to 1"),
    "ReLU": ("ReLU", "keeps a positive number, turns a negative one into 0"),
}


def _s(text: str) -> str:
    return f"<sub>{text}</sub>"


def prev_step(reverse: bool) -> str:
    """The subscript of the state a step starts from: t−1, or t+1 in a reverse direction (it runs from the end)."""
    return "t+1" if reverse else "t−1"


def meaning(key: str, kind: str, variant: str = "torch", *, reverse: bool = False, projected: bool = False,
            nonlinearity: str = "tanh") -> Meaning:
    """The words for the wire ``key`` (a key of :func:`gru_viz.figures.cell.step_values`) of a cell."""
    return meanings(kind, variant, reverse, projected, nonlinearity)[key]


@cache
def meanings(kind: str, variant: str = "torch", reverse: bool = False, projected: bool = False,
             nonlinearity: str = "tanh") -> dict[str, Meaning]:
    """Every wire's words for one cell (see :func:`meaning`)."""
    p = prev_step(reverse)
    hp, cp, xt = f"h{_s(p)}", f"c{_s(p)}", f"x{_s('t')}"
    before = "after" if reverse else "before"
    common = {
        "x": Meaning(f"input {xt}", "what the cell reads at this step", xt),
        "h_prev": Meaning(f"previous state {hp}",
                          f"the state carried in from the step {before}"
                          + (": the reverse direction runs from the end" if reverse else ""), hp),
    }
    table = _MEANINGS[kind](hp, cp, xt, variant, projected, nonlinearity, before)
    return {**common, **table}


def _gate(letter: str, fn: str, hp: str, xt: str, recurrent: bool = True) -> str:
    inner = f"W{_s('i' + letter)}{xt} + b{_s('i' + letter)}"
    if recurrent:
        inner += f" + W{_s('h' + letter)}{hp} + b{_s('h' + letter)}"
    return f"{letter}{_s('t')} = {fn}({inner})"


def _gru(hp, cp, xt, variant, projected, nonlinearity, before) -> dict[str, Meaning]:
    v = GRU_VARIANTS[variant]
    zt, nt, rt = f"z{_s('t')}", f"n{_s('t')}", f"r{_s('t')}"
    keeps = f"{zt} ⊙ {hp}" if v.z_keeps else f"(1 − {zt}) ⊙ {hp}"
    writes = f"(1 − {zt}) ⊙ {nt}" if v.z_keeps else f"{zt} ⊙ {nt}"
    hn = (f"W{_s('hn')}{hp} + b{_s('hn')}" if v.reset_after else f"W{_s('hn')}({rt} ⊙ {hp}) + b{_s('hn')}")
    inside = f"(inside {nt})"
    n_term = (f"{nt} = tanh(W{_s('in')}{xt} + b{_s('in')} + {rt} ⊙ ({hn}))" if v.reset_after
              else f"{nt} = tanh(W{_s('in')}{xt} + b{_s('in')} + {hn})")
    z_phrase = ("the share of the old state kept; 1 − z of the candidate is written" if v.z_keeps
                else "the share of the candidate written in; 1 − z of the old state is kept")
    return {
        "r": Meaning("reset gate r", "how much of the old state the candidate gets to see",
                     _gate("r", "σ", hp, xt)),
        "z": Meaning("update gate z", z_phrase, _gate("z", "σ", hp, xt)),
        "one_minus_z": Meaning("1 − z", "the share of the candidate written in" if v.z_keeps
                               else "the share of the old state kept", f"1 − {zt}"),
        "hn": Meaning("the old state through W" + _s("hn"),
                      "the old state through its weights, before r scales it" if v.reset_after
                      else "the reset old state through its weights", f"{hn} {inside}"),
        "r_hn": Meaning("reset old state", "what of the old state reaches the candidate",
                        f"{rt} ⊙ ({hn}) {inside}"),
        "r_h": Meaning("reset old state", "the old state as far as the reset gate lets it through",
                       f"{rt} ⊙ {hp} {inside}"),
        "n": Meaning("candidate n", "the new content this step proposes, in −1 … 1", n_term),
        "keep": Meaning("kept part", "the part of the old state kept", f"{keeps} (in h{_s('t')})"),
        "write": Meaning("written part", "the part of the candidate written in", f"{writes} (in h{_s('t')})"),
        "h": Meaning(f"new state h{_s('t')}", "the kept part plus the written part",
                     f"h{_s('t')} = {writes} + {keeps}" if v.z_keeps else f"h{_s('t')} = {keeps} + {writes}"),
    }


def _lstm(hp, cp, xt, variant, projected, nonlinearity, before) -> dict[str, Meaning]:
    it, ft, gt, ot, ct = (f"{q}{_s('t')}" for q in "ifgoc")
    h_name = f"m{_s('t')}" if projected else f"h{_s('t')}"
    h_term = (f"m{_s('t')} = {ot} ⊙ tanh({ct}) (then h{_s('t')} = W{_s('hr')}m{_s('t')})" if projected
              else f"h{_s('t')} = {ot} ⊙ tanh({ct})")
    return {
        "c_prev": Meaning(f"previous memory {cp}", f"the cell state carried in from the step {before}", cp),
        "i": Meaning("input gate i", "how much of the candidate g is written into the memory",
                     _gate("i", "σ", hp, xt)),
        "f": Meaning("forget gate f", "how much of the old memory is kept", _gate("f", "σ", hp, xt)),
        "g": Meaning("candidate g", "new content for the memory, in −1 … 1", _gate("g", "tanh", hp, xt)),
        "o": Meaning("output gate o", "how much of the memory shows in the hidden state", _gate("o", "σ", hp, xt)),
        "f_c": Meaning("kept memory", "the part of the old memory kept", f"{ft} ⊙ {cp} (in {ct})"),
        "i_g": Meaning("written memory", "the content written into the memory", f"{it} ⊙ {gt} (in {ct})"),
        "c": Meaning(f"new memory {ct}", "the kept memory plus the written content",
                     f"{ct} = {ft} ⊙ {cp} + {it} ⊙ {gt}"),
        "tanh_c": Meaning(f"tanh {ct}", "the memory squashed into −1 … 1", f"tanh({ct}) (in {h_name})"),
        "h": Meaning(f"new state {h_name}", "the memory as far as the output gate shows it", h_term),
    }


def _rnn(hp, cp, xt, variant, projected, nonlinearity, before) -> dict[str, Meaning]:
    fn = "ReLU" if nonlinearity == "relu" else "tanh"
    pre = f"W{_s('ih')}{xt} + b{_s('ih')} + W{_s('hh')}{hp} + b{_s('hh')}"
    return {
        "pre": Meaning("pre-activation", "the weighted input plus the weighted old state", pre),
        "h": Meaning(f"new state h{_s('t')}", f"{fn} of the pre-activation: the cell's only path",
                     f"h{_s('t')} = {fn}({pre})"),
    }


def _mingru(hp, cp, xt, variant, projected, nonlinearity, before) -> dict[str, Meaning]:
    zt, nt = f"z{_s('t')}", f"n{_s('t')}"
    return {
        "z": Meaning("update gate z", "the share of the candidate written in; it reads only the input",
                     _gate("z", "σ", hp, xt, recurrent=False)),
        "one_minus_z": Meaning("1 − z", "the share of the old state kept", f"1 − {zt}"),
        "n": Meaning("candidate n", "the new content, from the input alone (g keeps it positive)",
                     f"{nt} = g(W{_s('in')}{xt} + b{_s('in')})"),
        "keep": Meaning("kept part", "the part of the old state kept", f"(1 − {zt}) ⊙ {hp} (in h{_s('t')})"),
        "write": Meaning("written part", "the part of the candidate written in", f"{zt} ⊙ {nt} (in h{_s('t')})"),
        "h": Meaning(f"new state h{_s('t')}", "the kept part plus the written part",
                     f"h{_s('t')} = (1 − {zt}) ⊙ {hp} + {zt} ⊙ {nt}"),
    }


def _minlstm(hp, cp, xt, variant, projected, nonlinearity, before) -> dict[str, Meaning]:
    ft, it, nt = (f"{q}{_s('t')}" for q in "fin")
    fn, in_ = f"f′{_s('t')}", f"i′{_s('t')}"
    return {
        "f": Meaning("forget gate f", "how strongly the old state is kept, before it is weighed against i; it reads "
                     "only the input", _gate("f", "σ", hp, xt, recurrent=False)),
        "i": Meaning("input gate i", "how strongly the candidate is written, before it is weighed against f; it "
                     "reads only the input", _gate("i", "σ", hp, xt, recurrent=False)),
        "n": Meaning("candidate n", "the new content, from the input alone (g keeps it positive)",
                     f"{nt} = g(W{_s('in')}{xt} + b{_s('in')})"),
        "f_plus_i": Meaning("f + i", "the sum both gates are divided by, so that f′ and i′ add up to 1",
                            f"{ft} + {it} (in {fn} and {in_})"),
        "f'": Meaning("share kept f′", "the share of the old state kept: f over f + i", f"{fn} = {ft} / ({ft} + {it})"),
        "i'": Meaning("share written i′", "the share of the candidate written in: i over f + i, so f′ + i′ = 1",
                      f"{in_} = {it} / ({ft} + {it})"),
        "keep": Meaning("kept part", "the part of the old state kept", f"{fn} ⊙ {hp} (in h{_s('t')})"),
        "write": Meaning("written part", "the part of the candidate written in", f"{in_} ⊙ {nt} (in h{_s('t')})"),
        "h": Meaning(f"new state h{_s('t')}", "the kept part plus the written part",
                     f"h{_s('t')} = {fn} ⊙ {hp} + {in_} ⊙ {nt}"),
    }


# Each kind's wires in words (a kind this table lacks fails at import, never borrows another kind's words).
_MEANINGS = per_kind("explain.meanings", {"gru": _gru, "lstm": _lstm, "rnn": _rnn, "mingru": _mingru,
                                          "minlstm": _minlstm})
