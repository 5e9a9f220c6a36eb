"""A cell's equations as LaTeX, with one step's numbers for one unit substituted (NumPy and strings only).

Every substituted number is read from the run's :class:`~gru_viz.core.trace.Trace` or, where the trace keeps only
a sum (a gate's pre-activation), split into its input part ``W_i· x_t + b_i·`` and its recurrent part
``W_h· h_{t−1} + b_h·`` with the model's own parameters; the parts add up to the trace's pre-activation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..core.kinds import per_kind
from ..core.model import Model
from ..core.trace import Trace
from .palette import color as palette_color

# ------------------------------------------------------------------------------------------------ numbers


NOISE = 1e-6  # below this a value reads as 0 (float64 round-off of sin(π·k), a gate a hair from 1, …)


def format_value(value: float) -> str:
    """A value as the pages print it, rounded for people: 3 decimals; the first significant digit of a value
    that would round to 0.000 ("0.00005"), 0.000 below a millionth; e-notation from 10⁴ on."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if abs(v) < NOISE:
        return "0.000"
    if abs(v) < 5e-4:
        first = float(f"{v:.1g}")  # one significant digit, in positional notation
        return f"{first:.{max(3, -math.floor(math.log10(abs(first))))}f}"
    if abs(v) < 1e4:
        return f"{v:.3f}"
    return f"{v:.2e}"


def parse_value(text: str) -> float:
    """Read back a number written by :func:`format_value` or :func:`tex_number` (for tests and checks)."""
    text = text.strip().replace("\u2212", "-").strip("()")
    if r"\times10^{" in text:
        mantissa, _, exponent = text.partition(r"\times10^{")
        return float(f"{mantissa}e{exponent.rstrip('}')}")
    return float(text)


def tex_number(value: float, wrap_negative: bool = False) -> str:
    """A value in LaTeX (e-notation as ×10^k); negatives in parentheses when they follow an operator."""
    text = format_value(value)
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        text = rf"{mantissa}\times10^{{{int(exponent)}}}"
    if wrap_negative and text.startswith("-"):
        return f"({text})"
    return text


# ----------------------------------------------------------------------------------------------- equations


def previous_state_label(direction: int) -> str:
    """The state a step reads, as the pages write it: "h_{t−1}" forward, "h_{t+1}" for the reverse direction,
    which runs from the end (its step t reads the state it left at t + 1, or h₀ at t = T − 1)."""
    return "h_{t−1}" if direction == 0 else "h_{t+1}"


def previous_state_tex(direction: int, name: str = "h") -> str:
    """:func:`previous_state_label` in LaTeX, for ``name`` = "h" or "c": ``h_{t-1}`` or ``h_{t+1}``."""
    return rf"{name}_{{t-1}}" if direction == 0 else rf"{name}_{{t+1}}"


@dataclass(frozen=True)
class Line:
    """One equation of a step: the quantity it computes, in symbols and with this step's numbers."""

    name: str  # the quantity: "r", "z", "n", "h", "i", "f", "g", "o", "c", "m", minLSTM's "f'" and "i'"
    symbolic: str  # LaTeX right-hand side in symbols
    numeric: str  # LaTeX: "= σ(0.120 + (-0.450)) = σ(-0.330) = 0.418"
    value: float  # the result, as the trace has it
    numbers: dict[str, float] = field(default_factory=dict)  # every number substituted, by what it is
    clamped: bool = False  # a clamped gate: the result is the clamp, not the formula

    def latex(self, numbers: bool = True, colored: bool = True) -> str:
        """The equation as LaTeX: symbols, then (a second aligned row) this step's numbers."""
        head = rf"{self.name}_t"
        if colored:
            head = rf"\textcolor{{{palette_color(self.name)}}}{{{head}}}"
        if not numbers:
            return rf"{head} = {self.symbolic}"
        return rf"\begin{{aligned}} {head} &= {self.symbolic} \\ &{self.numeric} \end{{aligned}}"


@dataclass(frozen=True)
class StepContext:
    """The vectors one step of one layer reads, and the parameters that act on them."""

    x: np.ndarray  # (I,)
    h_prev: np.ndarray  # (H_out,)
    w_ih: np.ndarray
    w_hh: np.ndarray | None
    b_ih: np.ndarray
    b_hh: np.ndarray | None
    hidden: int


def _context(model: Model, trace: Trace, t: int, layer: int, direction: int) -> StepContext:
    lt = trace.layer(layer, direction)
    p = model.layer_params(layer, direction)
    return StepContext(lt.x[t, 0], lt.h_prev()[t, 0], p.w_ih, p.w_hh, p.b_ih, p.b_hh, model.spec.hidden_size)


def _parts(ctx: StepContext, gate_index: int, unit: int) -> tuple[float, float]:
    """The input part W_i· x_t + b_i· and the recurrent part W_h· h_{t−1} + b_h· of one unit's pre-activation."""
    row = gate_index * ctx.hidden + unit
    x_part = float(ctx.w_ih[row] @ ctx.x + ctx.b_ih[row])
    h_part = 0.0 if ctx.w_hh is None else float(ctx.w_hh[row] @ ctx.h_prev + ctx.b_hh[row])
    return x_part, h_part


def _sum(a: float, b: float) -> str:
    return f"{tex_number(a)} + {tex_number(b, wrap_negative=True)}"


def _gate_line(name: str, fn: str, symbolic: str, x_part: float, h_part: float | None, pre: float, value: float,
               clamped: bool) -> Line:
    """A gate through σ, tanh or g: symbols, the parts of its pre-activation, the pre-activation, the result."""
    inner = tex_number(x_part) if h_part is None else _sum(x_part, h_part)
    numbers = {"x_part": x_part, "pre": pre, "value": value}
    if h_part is not None:
        numbers["h_part"] = h_part
    if clamped:
        free = _activate(fn, pre)
        numbers["free"] = free
        numeric = (rf"= {fn}({inner}) = {tex_number(free)}" if h_part is None else
                   rf"= {fn}({inner}) = {fn}({tex_number(pre)}) = {tex_number(free)}")
        numeric += rf" \;\to\; \text{{clamped to }} \mathbf{{{tex_number(value)}}}"
    elif h_part is None:  # the input part is the whole pre-activation
        numeric = rf"= {fn}({tex_number(pre)}) = \mathbf{{{tex_number(value)}}}"
    else:
        numeric = rf"= {fn}({inner}) = {fn}({tex_number(pre)}) = \mathbf{{{tex_number(value)}}}"
    return Line(name, symbolic, numeric, value, numbers, clamped)


def _activate(fn: str, pre: float) -> float:
    """What the gate would have been without its clamp (the σ the core computed before clamping)."""
    if fn == r"\sigma":
        return 0.5 + 0.5 * math.tanh(0.5 * pre)
    return math.tanh(pre)


def _mix_line(name: str, symbolic: str, terms: list[tuple[float, float]], value: float, labels: list[str],
              one_minus: int | None = None) -> Line:
    """h or c as a sum of products: ``a·b + c·d`` with the numbers of each factor."""
    shown = []
    numbers: dict[str, float] = {}
    for k, ((w, v), label) in enumerate(zip(terms, labels, strict=True)):
        w_text = rf"(1 - {tex_number(w, True)})" if k == one_minus else tex_number(w, wrap_negative=k > 0)
        shown.append(rf"{w_text} \times {tex_number(v, wrap_negative=True)}")
        numbers[f"{label}_weight"] = w
        numbers[f"{label}_value"] = v
    numbers["value"] = value
    numeric = "= " + " + ".join(shown) + rf" = \mathbf{{{tex_number(value)}}}"
    return Line(name, symbolic, numeric, value, numbers)


def block_latex(lines: list[Line], numbers: bool = True, colored: bool = True) -> str:
    """All equations of a step as one aligned LaTeX block (one typesetting pass in the browser)."""
    blocks = []
    for line in lines:
        head = rf"{line.name}_t"
        if colored:
            head = rf"\textcolor{{{palette_color(line.name)}}}{{{head}}}"
        block = rf"{head} &= {line.symbolic}"
        if numbers:
            block += rf" \\ &{line.numeric}"
        blocks.append(block)
    return r"\begin{aligned} " + r" \\[10pt] ".join(blocks) + r" \end{aligned}"


def step_equations(model: Model, trace: Trace, t: int, unit: int, layer: int = 0, direction: int = 0) -> list[Line]:
    """The equations of step ``t`` for hidden unit ``unit``, in the order the cell computes them."""
    spec = model.spec
    lt = trace.layer(layer, direction)
    ctx = _context(model, trace, t, layer, direction)

    def at(arr: np.ndarray) -> float:
        return float(arr[t, 0, unit])

    def clamped(gate: str) -> bool:
        mask = lt.clamped.get(gate)
        return bool(mask is not None and mask[t, 0, unit])

    def gate(name: str, fn: str, index: int, symbolic: str, recurrent: bool = True) -> Line:
        x_part, h_part = _parts(ctx, index, unit)
        return _gate_line(name, fn, symbolic, x_part, h_part if recurrent else None, at(lt.pre[name]),
                          at(lt.gates[name]), clamped(name))

    lines = _LINES[spec.kind](spec, lt, ctx, t, unit, gate, at)
    return [_in_direction(line, direction) for line in lines]


def _in_direction(line: Line, direction: int) -> Line:
    """The line as the reverse direction reads it: its previous states are h_{t+1} and c_{t+1} (the numbers
    substituted already are those states: :meth:`LayerTrace.h_prev` follows the direction of travel)."""
    if direction == 0:
        return line
    symbolic = line.symbolic
    for name in ("h", "c"):
        symbolic = symbolic.replace(previous_state_tex(0, name), previous_state_tex(1, name))
    return replace(line, symbolic=symbolic)


def _gru_lines(spec, lt, ctx, t, unit, gate, at) -> list[Line]:
    variant = spec.layer_spec(lt.layer).gru_variant  # a mixed GRU stack: this layer's own variant
    r = gate("r", r"\sigma", 0, r"\sigma(W_{ir}x_t + b_{ir} + W_{hr}h_{t-1} + b_{hr})")
    z = gate("z", r"\sigma", 1, r"\sigma(W_{iz}x_t + b_{iz} + W_{hz}h_{t-1} + b_{hz})")
    x_part, _ = _parts(ctx, 2, unit)
    hn, pre_n, n_value = at(lt.pre["hn"]), at(lt.pre["n"]), at(lt.gates["n"])
    if variant.reset_after:
        symbolic = r"\tanh(W_{in}x_t + b_{in} + r_t \odot (W_{hn}h_{t-1} + b_{hn}))"
        inner = rf"{tex_number(x_part)} + {tex_number(r.value, True)} \times {tex_number(hn, True)}"
    else:
        symbolic = r"\tanh(W_{in}x_t + b_{in} + W_{hn}(r_t \odot h_{t-1}) + b_{hn})"
        inner = _sum(x_part, hn)
    numeric = rf"= \tanh({inner}) = \tanh({tex_number(pre_n)}) = \mathbf{{{tex_number(n_value)}}}"
    numbers = {"x_part": x_part, "hn": hn, "pre": pre_n, "value": n_value}
    if variant.reset_after:  # reset before: r acts inside W_hn(r ⊙ h), which is substituted whole
        numbers["r"] = r.value
    n = Line("n", symbolic, numeric, n_value, numbers)
    h_prev = float(ctx.h_prev[unit])
    h_value = float(lt.h[t, 0, unit])
    if variant.z_keeps:
        h = _mix_line("h", r"(1 - z_t) \odot n_t + z_t \odot h_{t-1}", [(z.value, n_value), (z.value, h_prev)],
                      h_value, ["n", "h_prev"], one_minus=0)
    else:
        h = _mix_line("h", r"(1 - z_t) \odot h_{t-1} + z_t \odot n_t", [(z.value, h_prev), (z.value, n_value)],
                      h_value, ["h_prev", "n"], one_minus=0)
    return [r, z, n, h]


def _lstm_lines(spec, lt, ctx, t, unit, gate, at) -> list[Line]:
    lines = [
        gate("i", r"\sigma", 0, r"\sigma(W_{ii}x_t + b_{ii} + W_{hi}h_{t-1} + b_{hi})"),
        gate("f", r"\sigma", 1, r"\sigma(W_{if}x_t + b_{if} + W_{hf}h_{t-1} + b_{hf})"),
        gate("g", r"\tanh", 2, r"\tanh(W_{ig}x_t + b_{ig} + W_{hg}h_{t-1} + b_{hg})"),
        gate("o", r"\sigma", 3, r"\sigma(W_{io}x_t + b_{io} + W_{ho}h_{t-1} + b_{ho})"),
    ]
    i, f, g, o = (line.value for line in lines)
    c_prev = float(lt.c_prev()[t, 0, unit])
    c = at(lt.gates["c"])
    lines.append(_mix_line("c", r"f_t \odot c_{t-1} + i_t \odot g_t", [(f, c_prev), (i, g)], c, ["c_prev", "g"]))
    if "m" in lt.gates:  # projected LSTM: h_t = W_hr m_t mixes units, so show m_t, which is per unit
        m = at(lt.gates["m"])
        numeric = rf"= {tex_number(o)} \times \tanh({tex_number(c)}) = \mathbf{{{tex_number(m)}}}"
        lines.append(Line("m", r"o_t \odot \tanh(c_t)", numeric, m, {"o": o, "c": c, "value": m}))
        return lines
    h = float(lt.h[t, 0, unit])
    numeric = (rf"= {tex_number(o)} \times \tanh({tex_number(c)}) = {tex_number(o)} \times "
               rf"{tex_number(math.tanh(c), True)} = \mathbf{{{tex_number(h)}}}")
    lines.append(Line("h", r"o_t \odot \tanh(c_t)", numeric, h, {"o": o, "c": c, "tanh_c": math.tanh(c), "value": h}))
    return lines


def _rnn_lines(spec, lt, ctx, t, unit, gate, at) -> list[Line]:
    x_part, h_part = _parts(ctx, 0, unit)
    fn = r"\tanh" if spec.nonlinearity == "tanh" else r"\mathrm{ReLU}"
    pre = at(lt.pre["h"])
    value = float(lt.h[t, 0, unit])
    symbolic = rf"{fn}(W_{{ih}}x_t + b_{{ih}} + W_{{hh}}h_{{t-1}} + b_{{hh}})"
    numeric = rf"= {fn}({_sum(x_part, h_part)}) = {fn}({tex_number(pre)}) = \mathbf{{{tex_number(value)}}}"
    return [Line("h", symbolic, numeric, value, {"x_part": x_part, "h_part": h_part, "pre": pre, "value": value})]


def _mingru_lines(spec, lt, ctx, t, unit, gate, at) -> list[Line]:
    z = gate("z", r"\sigma", 0, r"\sigma(W_{iz}x_t + b_{iz})", recurrent=False)
    n = gate("n", "g", 1, r"g(W_{in}x_t + b_{in})", recurrent=False)
    h_prev = float(ctx.h_prev[unit])
    h = _mix_line("h", r"(1 - z_t) \odot h_{t-1} + z_t \odot n_t", [(z.value, h_prev), (z.value, n.value)],
                  float(lt.h[t, 0, unit]), ["h_prev", "n"], one_minus=0)
    return [z, n, h]


def _share_line(name: str, gate: str, f: float, i: float, value: float) -> Line:
    """minLSTM's f′ or i′: the gate over f + i (the core computes it in log space; the two agree)."""
    symbolic = rf"\frac{{{gate}_t}}{{f_t + i_t}}"
    top = f if gate == "f" else i
    numeric = (rf"= \frac{{{tex_number(top)}}}{{{tex_number(f)} + {tex_number(i)}}}"
               rf" = \mathbf{{{tex_number(value)}}}")
    return Line(name, symbolic, numeric, value, {"f": f, "i": i, "value": value})


def _minlstm_lines(spec, lt, ctx, t, unit, gate, at) -> list[Line]:
    f = gate("f", r"\sigma", 0, r"\sigma(W_{if}x_t + b_{if})", recurrent=False)
    i = gate("i", r"\sigma", 1, r"\sigma(W_{ii}x_t + b_{ii})", recurrent=False)
    n = gate("n", "g", 2, r"g(W_{in}x_t + b_{in})", recurrent=False)
    f_n = _share_line("f'", "f", f.value, i.value, at(lt.gates["f'"]))
    i_n = _share_line("i'", "i", f.value, i.value, at(lt.gates["i'"]))
    h = _mix_line("h", r"f'_t \odot h_{t-1} + i'_t \odot n_t", [(f_n.value, float(ctx.h_prev[unit])),
                                                                (i_n.value, n.value)],
                  float(lt.h[t, 0, unit]), ["h_prev", "n"])
    return [f, i, n, f_n, i_n, h]


# Each kind's lines, in the order the cell computes them (a kind this table lacks fails at import).
_LINES = per_kind("explain.equations", {"gru": _gru_lines, "lstm": _lstm_lines, "rnn": _rnn_lines,
                                        "mingru": _mingru_lines, "minlstm": _minlstm_lines})


MINGRU_G = r"g(k) = \begin{cases} k + \tfrac12 & k \ge 0 \\ \sigma(k) & k < 0 \end{cases}"
