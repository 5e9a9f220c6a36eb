"""One recurrent cell at one step, drawn as a circuit whose wires show how much flows: σ and tanh boxes, ⊙ and +
nodes, and on every wire its live value for one hidden unit. Also the per-unit bars beside it, an in-browser
playback of the whole run (Plotly frames), and the original-versus-clamped comparison of an ablation.

The flow: a wire's width and opacity grow with |value| on it (:func:`wire_width`, :func:`wire_opacity`), on a
scale fixed per quantity (:data:`FULL`), so two steps compare at a glance: a gate at 0.02 is a hairline, at 0.98
a thick wire; a state of 0 is a hairline. A gate's box fills with its own colour the same way. While the viewer
predicts a step, the wires it computes are drawn dotted at one width, so the picture gives nothing away.

The drawing has a fixed scale in pixels (:data:`SCALES`): labels keep their size and never land on a node at any
page width; a narrow page scrolls the diagram sideways instead of shrinking it. Every number drawn comes from a
:class:`~gru_viz.core.trace.Trace`. Text and neutral lines are in the palette's theme ink (light or dark, set by
the viewer's theme in the browser). No Streamlit here.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import plotly.graph_objects as go

from ..core.kinds import KIND, per_kind
from ..core.spec import GRU_VARIANTS, Spec
from ..core.trace import Trace
from ..explain.equations import format_value
from ..explain.palette import COLORS, FAINT, GREY, GRID, INK, NAMES, PAPER, color, gate_range, label, tint
from ..explain.symbols import SYMBOLS, meaning, prev_step
from . import style

BOX_W, BOX_H, OP_R = 1.1, 0.72, 0.28
TOP, MIX, ROW, GATES, HBUS, XBUS = 6.7, 5.0, 3.8, 2.6, 1.4, 0.6  # the diagrams' rows (y)
RIGHT = 12.0  # the canvas spans x ∈ [0, 12]
RIGHT_COLUMN = 9.4  # x of the candidate's column: tanh → ⊙ → +
HIDDEN = "?"  # shown instead of a value the viewer is asked to predict
PAD = 0.1  # canvas units around the drawing
CHART = {"displayModeBar": False}


@dataclass(frozen=True)
class Scale:
    """The drawing's fixed size: pixels per canvas unit, type sizes, and the wire widths of 0 and of full."""

    px: float
    label: int  # wire labels, px
    glyph: int  # σ, ⊙, +, … px
    w_min: float  # width of a wire carrying 0 (a hairline)
    w_max: float  # width of a wire carrying its full scale


SCALES = {False: Scale(59.0, 14, 22, 1.0, 11.0), True: Scale(62.0, 18, 23, 1.2, 12.5)}

# |value| drawn at full width, per wire: gates and squashed values reach 1; linear maps and an LSTM's memory are
# unbounded, so their scale is 2 (wider still is drawn at full width), as is minLSTM's f + i, which reaches 2.
FULL: dict[str, float] = {"hn": 2.0, "r_hn": 2.0, "pre": 2.0, "c": 2.0, "c_prev": 2.0, "f_c": 2.0, "f_plus_i": 2.0}
MIN_OPACITY = 0.3


def flow(value: float | None, key: str) -> float:
    """How full a wire is, 0 … 1: |value| over the wire's full scale, clipped (0 for a hidden or missing value)."""
    if value is None or not math.isfinite(value):
        return 0.0
    return min(abs(float(value)) / FULL.get(key, 1.0), 1.0)


def wire_width(value: float | None, key: str, present: bool = False) -> float:
    """Width in px of a wire carrying ``value``: w_min + (w_max − w_min) · min(|value| / FULL[key], 1)."""
    s = SCALES[present]
    return s.w_min + (s.w_max - s.w_min) * flow(value, key)


def wire_opacity(value: float | None, key: str) -> float:
    """Opacity of a wire carrying ``value``: 0.3 + 0.7 · min(|value| / FULL[key], 1)."""
    return MIN_OPACITY + (1 - MIN_OPACITY) * flow(value, key)


def box_fill(value: float | None, key: str) -> float:
    """Opacity of the colour filling the box that computes ``key``: 0.06 + 0.5 · min(|value| / FULL[key], 1)."""
    return 0.06 + 0.5 * flow(value, key)


# ------------------------------------------------------------------------------------------------ geometry


@dataclass(frozen=True)
class Node:
    """A box (σ, tanh, a linear map), an operator (⊙, +, 1−) or a junction dot; ``key`` is what it outputs."""

    kind: str  # "box", "op" or "dot"
    x: float
    y: float
    text: str = ""
    color: str = GREY
    width: float = BOX_W
    key: str = ""  # the wire (a step_values key) this node computes; "" for a junction
    symbol: str = ""  # the key of SYMBOLS it is an instance of

    def edge(self, side: str, offset: float = 0.0) -> tuple[float, float]:
        """The point where a wire meets this node on ``side`` (left/right/top/bottom), shifted along it."""
        half_w, half_h = (self.width / 2, BOX_H / 2) if self.kind == "box" else (OP_R, OP_R)
        if self.kind == "dot":
            half_w = half_h = 0.0
        return {
            "left": (self.x - half_w, self.y + offset),
            "right": (self.x + half_w, self.y + offset),
            "top": (self.x + offset, self.y + half_h),
            "bottom": (self.x + offset, self.y - half_h),
        }[side]

    def extent(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the node in canvas units."""
        half_w, half_h = (self.width / 2, BOX_H / 2) if self.kind == "box" else (OP_R, OP_R)
        return self.x - half_w, self.y - half_h, self.x + half_w, self.y + half_h


@dataclass(frozen=True)
class Wire:
    """A wire carrying one quantity; its label shows the name and this step's value at ``at``."""

    key: str  # the quantity it carries and labels: a key of step_values(), "" for a bus repeating a labelled wire
    name: str  # the name shown before the value ("" shows the value alone, for a box that names it)
    points: tuple[tuple[float, float], ...]
    color: str
    at: tuple[float, float] = (0.0, 0.0)
    anchor: str = "top center"  # Plotly textposition of the label
    arrow: bool = True
    carries: str = ""  # the step_values key whose |value| sets the width (default: key)

    @property
    def value_key(self) -> str:
        """The quantity whose value flows on this wire."""
        return self.carries or self.key


@dataclass(frozen=True)
class Diagram:
    """The drawing of one kind of cell: nodes, wires, and the canvas height."""

    nodes: tuple[Node, ...]
    wires: tuple[Wire, ...]
    height: float  # the canvas spans y ∈ [0, height]

    @property
    def labelled(self) -> tuple[Wire, ...]:
        """The wires that carry a label, in drawing order."""
        return tuple(w for w in self.wires if w.key)

    @property
    def boxes(self) -> tuple[Node, ...]:
        """The boxes (σ, tanh, linear maps)."""
        return tuple(n for n in self.nodes if n.kind == "box")

    @property
    def ops(self) -> tuple[Node, ...]:
        """The operator nodes (⊙, +, 1−)."""
        return tuple(n for n in self.nodes if n.kind == "op")


def _sub(name: str, sub: str) -> str:
    return f"{name}<sub>{sub}</sub>"


H_PREV, H_T, X_T = _sub("h", "t−1"), _sub("h", "t"), _sub("x", "t")


def _sigma(x: float, y: float, gate: str) -> Node:
    return Node("box", x, y, "σ", COLORS[gate], key=gate, symbol="σ")


def _stubs(bus_y: float, box: Node, offset: float, carries: str, bus_color: str) -> list[Wire]:
    """A bus feeding a box from below: the vertical stub (drawn as wide as what the bus carries)."""
    start = (box.x + offset, bus_y)
    return [Wire("", "", (start, box.edge("bottom", offset)), bus_color, carries=carries)]


@cache
def diagram(kind: str, variant: str = "torch", nonlinearity: str = "tanh") -> Diagram:
    """The circuit of a cell kind (and GRU variant, or RNN nonlinearity: each kind reads only its own)."""
    return _DIAGRAMS[kind](variant, nonlinearity)


def diagram_of(spec: Spec) -> Diagram:
    """The circuit of ``spec``'s cell."""
    return diagram(spec.kind, spec.variant, spec.nonlinearity)


def _gru(reset_after: bool, z_keeps: bool) -> Diagram:
    z_box, r_box = _sigma(3.0, GATES, "z"), _sigma(5.0, GATES, "r")
    n_box = Node("box", RIGHT_COLUMN, ROW, "tanh", COLORS["n"], key="n", symbol="tanh")
    lin_text = (_sub("W", "hn") + "h + " + _sub("b", "hn") if reset_after
                else _sub("W", "hn") + "(·) + " + _sub("b", "hn"))
    if reset_after:
        lin = Node("box", 7.0, GATES, lin_text, GREY, 1.7, key="hn", symbol="W")
        rmul = Node("op", 7.0, ROW, "⊙", COLORS["r"], key="r_hn", symbol="⊙")
    else:
        rmul = Node("op", 7.0, GATES, "⊙", COLORS["r"], key="r_h", symbol="⊙")
        lin = Node("box", 7.0, ROW, lin_text, GREY, 1.7, key="hn", symbol="W")
    keep = Node("op", 3.0, TOP, "⊙", COLORS["h"], key="keep", symbol="⊙")
    add = Node("op", RIGHT_COLUMN, TOP, "+", COLORS["h"], key="h", symbol="+")
    write = Node("op", RIGHT_COLUMN, MIX, "⊙", COLORS["n"], key="write", symbol="⊙")
    one_minus = (Node("op", 6.6, MIX, "1−", COLORS["z"], key="one_minus_z", symbol="1−") if z_keeps
                 else Node("op", 3.0, 5.85, "1−", COLORS["z"], key="one_minus_z", symbol="1−"))
    h_color, z_color, x_color = COLORS["h"], COLORS["z"], COLORS["x"]
    first = lin if reset_after else rmul  # what the h bus feeds at its end
    wires = [
        Wire("h_prev", H_PREV, ((0.0, TOP), keep.edge("left")), h_color, (1.45, TOP)),
        Wire("", "", ((0.6, TOP), (0.6, HBUS), (first.x, HBUS), first.edge("bottom")), h_color, carries="h_prev"),
        Wire("x", X_T, ((0.0, XBUS), (n_box.x, XBUS), n_box.edge("bottom")), x_color, (1.5, XBUS)),
        *_stubs(HBUS, z_box, 0.25, "h_prev", h_color), *_stubs(HBUS, r_box, 0.25, "h_prev", h_color),
        *_stubs(XBUS, z_box, -0.25, "x", x_color), *_stubs(XBUS, r_box, -0.25, "x", x_color),
        Wire("n", "n", (n_box.edge("top"), write.edge("bottom")), COLORS["n"], (RIGHT_COLUMN + 0.2, 4.45),
             "middle right"),
        Wire("h", H_T, (add.edge("right"), (RIGHT, TOP)), h_color, (10.85, TOP)),
        Wire("write", "(1−z)·n" if z_keeps else "z·n", (write.edge("top"), add.edge("bottom")), COLORS["n"],
             (RIGHT_COLUMN + 0.2, 5.85), "middle right"),
        Wire("keep", "z·" + H_PREV if z_keeps else "(1−z)·" + H_PREV, (keep.edge("right"), add.edge("left")),
             h_color, (6.2, TOP)),
    ]
    if z_keeps:
        wires += [
            Wire("z", "z", (z_box.edge("top"), keep.edge("bottom")), z_color, (2.8, 4.2), "middle left"),
            Wire("", "", ((z_box.x, MIX), one_minus.edge("left")), z_color, carries="z"),
            Wire("one_minus_z", "1−z", (one_minus.edge("right"), write.edge("left")), z_color, (8.0, MIX)),
        ]
    else:
        wires += [
            Wire("z", "z", (z_box.edge("top"), one_minus.edge("bottom")), z_color, (2.8, 4.2), "middle left"),
            Wire("", "", ((z_box.x, MIX), write.edge("left")), z_color, carries="z"),
            Wire("one_minus_z", "1−z", (one_minus.edge("top"), keep.edge("bottom")), z_color, (3.35, 6.28),
                 "middle right"),
        ]
    if reset_after:
        wires += [
            Wire("r", "r", (r_box.edge("top"), (r_box.x, ROW), rmul.edge("left")), COLORS["r"], (5.95, ROW)),
            Wire("hn", "", (lin.edge("top"), rmul.edge("bottom")), GREY, (7.2, 3.24), "middle right"),
            Wire("r_hn", "", (rmul.edge("right"), n_box.edge("left")), COLORS["r"], (8.1, ROW)),
        ]
    else:
        wires += [
            # The gap between σ and ⊙ is no wider than "r = 0.000" at a projector's size: the label sits above
            # both (clear of σ's top, 2.96, and under the W_hn box, 3.44), centred on the gap.
            Wire("r", "r", (r_box.edge("right"), rmul.edge("left")), COLORS["r"], (6.13, 2.9)),
            Wire("r_h", "r·" + H_PREV, (rmul.edge("top"), lin.edge("bottom")), COLORS["r"], (7.2, 3.14),
                 "middle right"),
            Wire("hn", "", (lin.edge("right"), n_box.edge("left")), GREY, (8.35, ROW)),
        ]
    nodes = (z_box, r_box, n_box, lin, rmul, keep, add, write, one_minus,
             Node("dot", 0.6, TOP), Node("dot", z_box.x, MIX),
             *(Node("dot", b.x + o, y) for b in (z_box, r_box) for o, y in ((0.25, HBUS), (-0.25, XBUS))))
    return Diagram(nodes, tuple(wires), 7.3)


def _lstm() -> Diagram:
    f_box, i_box = _sigma(2.4, GATES, "f"), _sigma(4.2, GATES, "i")
    g_box = Node("box", 6.0, GATES, "tanh", COLORS["g"], key="g", symbol="tanh")
    o_box = _sigma(7.8, GATES, "o")
    fmul = Node("op", 2.4, TOP, "⊙", COLORS["c"], key="f_c", symbol="⊙")
    add = Node("op", 5.1, TOP, "+", COLORS["c"], key="c", symbol="+")
    igmul = Node("op", 5.1, 4.3, "⊙", COLORS["g"], key="i_g", symbol="⊙")
    tanh_c = Node("box", 9.6, 4.9, "tanh", COLORS["c"], key="tanh_c", symbol="tanh")
    hmul = Node("op", 9.6, 3.5, "⊙", COLORS["h"], key="h", symbol="⊙")
    c_color, h_color, x_color = COLORS["c"], COLORS["h"], COLORS["x"]
    boxes = (f_box, i_box, g_box, o_box)
    wires = [
        Wire("c_prev", _sub("c", "t−1"), ((0.0, TOP), fmul.edge("left")), c_color, (1.05, TOP)),
        Wire("h_prev", H_PREV, ((0.0, HBUS), (o_box.x + 0.25, HBUS)), h_color, (1.0, HBUS), arrow=False),
        Wire("x", X_T, ((0.0, XBUS), (o_box.x - 0.25, XBUS)), x_color, (1.0, XBUS), arrow=False),
        *(w for b in boxes for w in (*_stubs(HBUS, b, 0.25, "h_prev", h_color),
                                     *_stubs(XBUS, b, -0.25, "x", x_color))),
        Wire("f", "f", (f_box.edge("top"), fmul.edge("bottom")), COLORS["f"], (2.2, 4.6), "middle left"),
        Wire("f_c", "f·" + _sub("c", "t−1"), (fmul.edge("right"), add.edge("left")), c_color, (3.75, TOP)),
        Wire("i", "i", (i_box.edge("top"), (i_box.x, igmul.y), igmul.edge("left")), COLORS["i"], (4.0, 3.6),
             "middle left"),
        Wire("g", "g", (g_box.edge("top"), (g_box.x, igmul.y), igmul.edge("right")), COLORS["g"], (6.2, 3.6),
             "middle right"),
        Wire("i_g", "i·g", (igmul.edge("top"), add.edge("bottom")), COLORS["g"], (5.3, 5.5), "middle right"),
        Wire("c", _sub("c", "t"), (add.edge("right"), (RIGHT, TOP)), c_color, (7.3, TOP)),
        Wire("", "", ((tanh_c.x, TOP), tanh_c.edge("top")), c_color, carries="c"),
        Wire("tanh_c", "tanh " + _sub("c", "t"), (tanh_c.edge("bottom"), hmul.edge("top")), c_color, (9.8, 4.2),
             "middle right"),
        Wire("o", "o", (o_box.edge("top"), (o_box.x, hmul.y), hmul.edge("left")), COLORS["o"], (8.6, 3.5)),
        Wire("h", H_T, (hmul.edge("right"), (RIGHT, hmul.y)), h_color, (10.95, hmul.y)),
    ]
    dots = [Node("dot", b.x + o, y) for b in boxes[:-1] for o, y in ((0.25, HBUS), (-0.25, XBUS))]
    nodes = (*boxes, fmul, add, igmul, tanh_c, hmul, Node("dot", tanh_c.x, TOP), *dots)
    return Diagram(nodes, tuple(wires), 7.3)


def _rnn(nonlinearity: str = "tanh") -> Diagram:
    lin = Node("box", 4.6, 3.0, _sub("W", "ih") + "x + " + _sub("W", "hh") + "h + b", GREY, 2.9, key="pre",
               symbol="W")
    act = Node("box", 8.0, 3.0, "ReLU" if nonlinearity == "relu" else "tanh", COLORS["h"], 1.2, key="h",
               symbol="ReLU" if nonlinearity == "relu" else "tanh")
    wires = (
        Wire("h_prev", H_PREV, ((0.0, HBUS), (lin.x + 0.4, HBUS), lin.edge("bottom", 0.4)), COLORS["h"],
             (1.2, HBUS)),
        Wire("x", X_T, ((0.0, XBUS), (lin.x - 0.4, XBUS), lin.edge("bottom", -0.4)), COLORS["x"], (1.2, XBUS)),
        Wire("pre", "", (lin.edge("right"), act.edge("left")), GREY, (6.7, 3.0)),
        Wire("h", H_T, (act.edge("right"), (RIGHT, 3.0)), COLORS["h"], (10.3, 3.0)),
    )
    return Diagram((lin, act), wires, 4.0)


def _mingru() -> Diagram:
    z_box, n_box = _sigma(3.0, GATES, "z"), Node("box", 9.0, ROW, "g", COLORS["n"], key="n", symbol="g")
    keep = Node("op", 3.0, TOP, "⊙", COLORS["h"], key="keep", symbol="⊙")
    add = Node("op", 9.0, TOP, "+", COLORS["h"], key="h", symbol="+")
    write = Node("op", 9.0, MIX, "⊙", COLORS["n"], key="write", symbol="⊙")
    one_minus = Node("op", 3.0, 5.85, "1−", COLORS["z"], key="one_minus_z", symbol="1−")
    z_color, h_color = COLORS["z"], COLORS["h"]
    wires = (
        Wire("h_prev", H_PREV, ((0.0, TOP), keep.edge("left")), h_color, (1.45, TOP)),
        Wire("x", X_T, ((0.0, XBUS), (n_box.x, XBUS), n_box.edge("bottom")), COLORS["x"], (1.5, XBUS)),
        Wire("", "", ((z_box.x, XBUS), z_box.edge("bottom")), COLORS["x"], carries="x"),
        Wire("z", "z", (z_box.edge("top"), one_minus.edge("bottom")), z_color, (2.8, 4.2), "middle left"),
        Wire("", "", ((z_box.x, MIX), write.edge("left")), z_color, carries="z"),
        Wire("one_minus_z", "1−z", (one_minus.edge("top"), keep.edge("bottom")), z_color, (3.35, 6.28),
             "middle right"),
        Wire("n", "n", (n_box.edge("top"), write.edge("bottom")), COLORS["n"], (9.2, 4.45), "middle right"),
        Wire("write", "z·n", (write.edge("top"), add.edge("bottom")), COLORS["n"], (9.2, 5.85), "middle right"),
        Wire("keep", "(1−z)·" + H_PREV, (keep.edge("right"), add.edge("left")), h_color, (6.0, TOP)),
        Wire("h", H_T, (add.edge("right"), (RIGHT, TOP)), h_color, (10.55, TOP)),
    )
    nodes = (z_box, n_box, keep, add, write, one_minus, Node("dot", z_box.x, XBUS), Node("dot", z_box.x, MIX))
    return Diagram(nodes, wires, 7.3)


def _minlstm() -> Diagram:
    """minGRU's circuit with two gates: σ boxes for f and i (reading x only), their sum f + i, the shares
    f′ = f ÷ (f + i) and i′ = i ÷ (f + i), and the mix h = f′ ⊙ h_{t−1} + i′ ⊙ n."""
    f_box, i_box = _sigma(3.0, GATES, "f"), _sigma(6.6, GATES, "i")
    n_box = Node("box", 9.0, ROW, "g", COLORS["n"], key="n", symbol="g")
    total = Node("op", 4.8, ROW, "+", GREY, key="f_plus_i", symbol="+")
    f_div = Node("op", f_box.x, MIX, "÷", COLORS["f'"], key="f'", symbol="÷")  # f from below, f + i from the side
    i_div = Node("op", i_box.x, MIX, "÷", COLORS["i'"], key="i'", symbol="÷")
    keep = Node("op", f_box.x, TOP, "⊙", COLORS["h"], key="keep", symbol="⊙")
    add = Node("op", 9.0, TOP, "+", COLORS["h"], key="h", symbol="+")
    write = Node("op", 9.0, MIX, "⊙", COLORS["n"], key="write", symbol="⊙")
    h_color, x_color, f_color, i_color = COLORS["h"], COLORS["x"], COLORS["f"], COLORS["i"]
    wires = (
        Wire("h_prev", H_PREV, ((0.0, TOP), keep.edge("left")), h_color, (1.45, TOP)),
        Wire("x", X_T, ((0.0, XBUS), (n_box.x, XBUS), n_box.edge("bottom")), x_color, (1.5, XBUS)),
        Wire("", "", ((f_box.x, XBUS), f_box.edge("bottom")), x_color, carries="x"),
        Wire("", "", ((i_box.x, XBUS), i_box.edge("bottom")), x_color, carries="x"),
        Wire("f", "f", (f_box.edge("top"), f_div.edge("bottom")), f_color, (2.8, 4.3), "middle left"),
        Wire("", "", ((f_box.x, ROW), total.edge("left")), f_color, carries="f"),
        Wire("i", "i", (i_box.edge("top"), i_div.edge("bottom")), i_color, (6.8, 4.3), "middle right"),
        Wire("", "", ((i_box.x, ROW), total.edge("right")), i_color, carries="i"),
        # the + node names the sum, so its wire shows the value alone
        Wire("f_plus_i", "", (total.edge("top"), (total.x, MIX), f_div.edge("right")), GREY, (4.95, 4.45),
             "middle right"),
        Wire("", "", ((total.x, MIX), i_div.edge("left")), GREY, carries="f_plus_i"),
        Wire("f'", "f′", (f_div.edge("top"), keep.edge("bottom")), f_color, (2.8, 5.85), "middle left"),
        Wire("i'", "i′", (i_div.edge("right"), write.edge("left")), i_color, (7.8, MIX)),
        Wire("n", "n", (n_box.edge("top"), write.edge("bottom")), COLORS["n"], (9.2, 4.45), "middle right"),
        Wire("write", "i′·n", (write.edge("top"), add.edge("bottom")), COLORS["n"], (9.2, 5.85), "middle right"),
        Wire("keep", "f′·" + H_PREV, (keep.edge("right"), add.edge("left")), h_color, (6.0, TOP)),
        Wire("h", H_T, (add.edge("right"), (RIGHT, TOP)), h_color, (10.55, TOP)),
    )
    nodes = (f_box, i_box, n_box, total, f_div, i_div, keep, add, write,
             *(Node("dot", b.x, y) for b in (f_box, i_box) for y in (XBUS, ROW)), Node("dot", total.x, MIX))
    return Diagram(nodes, wires, 7.3)


# Each kind's circuit, from the GRU variant and RNN nonlinearity (a kind reads the one that is its own).
_DIAGRAMS = per_kind("figures.diagram", {
    "gru": lambda variant, nonlinearity: _gru(GRU_VARIANTS[variant].reset_after, GRU_VARIANTS[variant].z_keeps),
    "lstm": lambda variant, nonlinearity: _lstm(),
    "rnn": lambda variant, nonlinearity: _rnn(nonlinearity),
    "mingru": lambda variant, nonlinearity: _mingru(),
    "minlstm": lambda variant, nonlinearity: _minlstm(),
})


# -------------------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class _At:
    """Reads one step's value of one unit from a (T, B, H) array."""

    t: int
    unit: int

    def __call__(self, arr: np.ndarray) -> float:
        return float(arr[self.t, 0, self.unit])


def step_values(trace: Trace, t: int, unit: int, layer: int = 0, direction: int = 0) -> dict[str, float]:
    """The value of every wire of the diagram at step ``t`` for hidden unit ``unit``, read from the trace.

    ``x`` is the largest |x_t| over the input's values (the input wire's width; its label shows x_t itself).
    """
    spec = trace.spec.layer_spec(layer)  # a mixed GRU stack: this layer's own variant
    lt = trace.layer(layer, direction)
    at = _At(t, unit)
    h_prev = float(lt.h_prev()[t, 0, unit]) if unit < lt.h.shape[-1] else math.nan
    values = {"h_prev": h_prev, "x": float(np.abs(lt.x[t, 0]).max(initial=0.0))}
    values.update(_VALUES[spec.kind](spec, lt, at, h_prev))
    return values


def _rnn_values(spec: Spec, lt, at, h_prev: float) -> dict[str, float]:
    return {"pre": at(lt.pre["h"]), "h": at(lt.h)}


def _lstm_values(spec: Spec, lt, at, h_prev: float) -> dict[str, float]:
    i, f, g, o, c = (at(lt.gates[k]) for k in "ifgoc")
    c_prev = float(lt.c_prev()[at.t, 0, at.unit])
    m = at(lt.gates["m"]) if "m" in lt.gates else at(lt.h)
    return dict(c_prev=c_prev, i=i, f=f, g=g, o=o, c=c, f_c=f * c_prev, i_g=i * g, tanh_c=math.tanh(c), h=m)


def _z_values(spec: Spec, lt, at, h_prev: float) -> dict[str, float]:
    """A GRU's or minGRU's z, 1 − z, n and the kept and written parts, as the record's keep says z weighs them."""
    z, n = at(lt.gates["z"]), at(lt.gates["n"])
    keeps = KIND[spec.kind].keep(spec).sign > 0
    values = dict(z=z, n=n, one_minus_z=1.0 - z, h=at(lt.h))
    values.update(keep=z * h_prev, write=(1.0 - z) * n) if keeps else values.update(
        keep=(1.0 - z) * h_prev, write=z * n)
    return values


def _gru_values(spec: Spec, lt, at, h_prev: float) -> dict[str, float]:
    values = _z_values(spec, lt, at, h_prev)
    r, hn = at(lt.gates["r"]), at(lt.pre["hn"])
    values.update(r=r, hn=hn)
    if spec.gru_variant.reset_after:
        values["r_hn"] = r * hn
    else:
        values["r_h"] = r * h_prev
    return values


def _minlstm_values(spec: Spec, lt, at, h_prev: float) -> dict[str, float]:
    f, i, n, f_n, i_n = (at(lt.gates[k]) for k in ("f", "i", "n", "f'", "i'"))
    return {"f": f, "i": i, "n": n, "f_plus_i": f + i, "f'": f_n, "i'": i_n, "keep": f_n * h_prev,
            "write": i_n * n, "h": at(lt.h)}


# Each kind's wire values beyond x and h_prev, read from the trace.
_VALUES = per_kind("figures.step_values", {"gru": _gru_values, "lstm": _lstm_values, "rnn": _rnn_values,
                                           "mingru": _z_values, "minlstm": _minlstm_values})


# Quantities a viewer sees before the step: everything else is hidden while they predict it.
GIVEN = frozenset({"x", "h_prev", "c_prev"})

# The equation line (and the bars' row) each wire belongs to: a gate's wires (and 1 − z) to the gate; a term to
# the quantity whose equation adds it up; the previous state to h (c for an LSTM's memory); the input to none.
_QUANTITY = {"one_minus_z": "z", "hn": "n", "r_hn": "n", "r_h": "n", "keep": "h", "write": "h", "h_prev": "h",
             "c_prev": "c", "f_c": "c", "i_g": "c", "tanh_c": "h", "pre": "h", "f_plus_i": "f'"}


def quantity_of(key: str, spec: Spec | None = None) -> str:
    """The quantity (an equation line's name: r, z, n, h, i, f, g, o, c, f', i', or x) a wire or node ``key``
    selects (minLSTM's f + i: the f′ line, the first that divides by it)."""
    name = _QUANTITY.get(key, key)
    if name == "h" and spec is not None and spec.proj_size:  # only an LSTM has a projection
        return "m"  # a projected LSTM's diagram shows m_t = o ⊙ tanh(c_t), its own equation line
    return name


def selectable(spec: Spec) -> tuple[str, ...]:
    """Every quantity of ``spec``'s cell a click can select (its equation lines, and the input)."""
    d = diagram_of(spec)
    keys = {w.key for w in d.labelled} | {n.key for n in d.nodes if n.key}
    return tuple(sorted({quantity_of(k, spec) for k in keys}))


def value_text(value: float) -> str:
    """A value as the diagram prints it (format_value with a typographic minus)."""
    return format_value(value).replace("-", "−")


def _name(wire: Wire, reverse: bool) -> str:
    return wire.name.replace("t−1", prev_step(reverse)) if reverse else wire.name


def wire_label(wire: Wire, value: float | None, x_label: str, reverse: bool = False) -> str:
    """The label of a wire: coloured name, then its value (``?`` when hidden)."""
    if wire.key == "x":
        shown = x_label
    else:
        shown = HIDDEN if value is None else value_text(value)
    if not wire.name:
        return shown
    return f'<span style="color:{wire.color}"><b>{_name(wire, reverse)}</b></span> = {shown}'


# ---------------------------------------------------------------------------------------------- hover texts


@dataclass(frozen=True)
class View:
    """What the drawing is of: the cell, the direction, and what is hidden or selected."""

    spec: Spec
    reverse: bool = False
    hide: frozenset[str] = frozenset()
    selected: str = ""  # a quantity (see quantity_of), or ""


def hover_text(key: str, view: View, values: dict[str, float], x_label: str, t: int, glyph: str = "") -> str:
    """A wire's or node's hover: its name, what it means in one phrase, its equation term, its value at step t."""
    s = view.spec
    m = meaning(key, s.kind, s.variant, reverse=view.reverse, projected=bool(s.proj_size),
                nonlinearity=s.nonlinearity)
    lines = []
    if glyph:
        sym, what = SYMBOLS[glyph]
        lines.append(f"<b>{html.escape(sym)}</b>: {html.escape(what)}")
    lines += [f'<b style="color:{color(quantity_of(key))}">{m.name}</b>: {html.escape(m.phrase)}', m.term]
    if key == "x":
        shown = x_label
    else:
        shown = HIDDEN + " (predict it first)" if key in view.hide else value_text(values[key])
    lines.append(f"at t = {t}: <b>{shown}</b>")
    return "<br>".join(lines)


# -------------------------------------------------------------------------------------------------- drawing


def _polyline(points: tuple[tuple[float, float], ...]) -> tuple[list, list]:
    return [p[0] for p in points], [p[1] for p in points]


def _flow_style(w: Wire, values: dict[str, float], view: View, present: bool) -> dict:
    """Line width, opacity, dash and arrowhead of one wire at this step (one look for every hidden wire)."""
    key = w.value_key
    s = SCALES[present]
    if key in view.hide:
        width, opacity, dash = s.w_min + 1.5, 0.55, "dot"
    else:
        value = values.get(key)
        width, opacity, dash = wire_width(value, key, present), wire_opacity(value, key), "solid"
    arrow = max(8.0, 2.2 * width) if w.arrow else 0.0
    return {"width": width, "opacity": opacity, "dash": dash, "arrow": arrow}


def _flow_trace(w: Wire, style_: dict) -> dict:
    xs, ys = _polyline(w.points)
    sizes = [0.0] * (len(xs) - 1) + [style_["arrow"]]
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "hoverinfo": "skip",
            "showlegend": False, "cliponaxis": False, "opacity": style_["opacity"],
            "line": {"color": w.color, "width": style_["width"], "dash": style_["dash"]},
            "marker": {"symbol": "arrow", "angleref": "previous", "size": sizes, "color": w.color, "standoff": 0,
                       "line": {"width": 0}},
            "meta": "flow:" + w.value_key}


def _box_points(n: Node) -> tuple[list, list]:
    x0, y0, x1, y1 = n.extent()
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _box_trace(n: Node, fill: float, selected: bool) -> dict:
    xs, ys = _box_points(n)
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself", "hoverinfo": "skip",
            "fillcolor": tint(n.color, fill), "line": {"color": n.color, "width": 4.5 if selected else 2.5},
            "showlegend": False, "meta": "box:" + n.key}


def _halo(d: Diagram, view: View, present: bool) -> tuple[list, list]:
    """The selected quantity's wires, as one polyline (gaps between wires) drawn wide and faint beneath them."""
    xs: list = []
    ys: list = []
    if view.selected:
        for w in d.wires:
            if quantity_of(w.value_key, view.spec) == view.selected:
                px, py = _polyline(w.points)
                xs += [*px, None]
                ys += [*py, None]
    return xs, ys


def _hit_points(d: Diagram) -> tuple[list[float], list[float], list[str], list[str]]:
    """Invisible points along every wire, on every node and every label: hover and click targets (Plotly
    selects points, not lines or shapes). Returns x, y, the wire or node key, and the node's symbol."""
    xs, ys, keys, glyphs = [], [], [], []
    for w in d.wires:
        for (x0, y0), (x1, y1) in zip(w.points, w.points[1:], strict=False):
            n = max(1, int(math.hypot(x1 - x0, y1 - y0) / 0.3))
            for k in range(n + 1):
                xs.append(x0 + (x1 - x0) * k / n)
                ys.append(y0 + (y1 - y0) * k / n)
                keys.append(w.value_key)
                glyphs.append("")
        if w.key:
            xs.append(w.at[0])
            ys.append(w.at[1])
            keys.append(w.key)
            glyphs.append("")
    for n in d.nodes:
        if n.key:
            xs.append(n.x)
            ys.append(n.y)
            keys.append(n.key)
            glyphs.append(n.symbol)
    return xs, ys, keys, glyphs


def _glyph_size(n: Node, s: Scale) -> int:
    if n.symbol == "W":
        return s.label
    if n.symbol in ("tanh", "ReLU"):
        return s.label + 3
    if n.symbol == "1−":
        return s.label + 1
    return s.glyph


def _canvas(d: Diagram, present: bool) -> tuple[int, int, dict]:
    """Width and height in px and the layout of the circuit at its fixed scale."""
    s = SCALES[present]
    width = round(s.px * (RIGHT + 2 * PAD))
    height = round(s.px * (d.height + 2 * PAD))
    layout = {
        "xaxis": {"range": [-PAD, RIGHT + PAD], "visible": False, "fixedrange": True},
        "yaxis": {"range": [-PAD, d.height + PAD], "visible": False, "fixedrange": True, "scaleanchor": "x",
                  "constrain": "domain"},
        "width": width, "height": height, "margin": {"l": 0, "r": 0, "t": 0, "b": 0, "pad": 0},
        "autosize": False, "dragmode": False, "hovermode": "closest", "showlegend": False,
        "paper_bgcolor": style.TRANSPARENT, "plot_bgcolor": style.TRANSPARENT,
        "font": {"size": s.label, "family": style.FONT_FAMILY, "color": INK},
        "hoverlabel": {"font": {"size": s.label, "family": style.FONT_FAMILY}, "align": "left"},
        # The nodes' extents (canvas units) and keys: what a label must stay clear of (the browser tests check it).
        "meta": {"present": present, "nodes": [[*n.extent(), n.kind, n.key, n.text] for n in d.nodes
                                               if n.kind != "dot"]},
    }
    return width, height, layout


def _traces(d: Diagram, values: dict[str, float], view: View, x_label: str, t: int, present: bool,
            title: str = "") -> list[dict]:
    """Every trace of the circuit, in drawing order."""
    s = SCALES[present]
    sel = view.selected
    tx, ty = [], []
    for w in d.wires:
        px, py = _polyline(w.points)
        tx += [*px, None]
        ty += [*py, None]
    traces = [{"type": "scatter", "x": tx, "y": ty, "mode": "lines", "hoverinfo": "skip", "showlegend": False,
               "line": {"color": GRID, "width": 1.5}, "meta": "track"}]
    hx, hy = _halo(d, view, present)
    traces.append({"type": "scatter", "x": hx, "y": hy, "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                   "line": {"color": tint(color(sel), 0.3) if sel else FAINT, "width": s.w_max + 10},
                   "meta": "halo"})
    traces += [_flow_trace(w, _flow_style(w, values, view, present)) for w in d.wires]
    for n in d.boxes:
        hidden = n.key in view.hide
        traces.append(_box_trace(n, box_fill(None if hidden else values.get(n.key), n.key),
                                 quantity_of(n.key, view.spec) == sel))
    ops = d.ops
    traces.append({"type": "scatter", "x": [n.x for n in ops], "y": [n.y for n in ops], "mode": "markers",
                   "hoverinfo": "skip", "showlegend": False, "meta": "ops",
                   "marker": {"symbol": "circle", "size": 2 * OP_R * s.px, "color": PAPER, "opacity": 1,
                              "line": {"color": [n.color for n in ops],
                                       "width": [4.5 if quantity_of(n.key, view.spec) == sel else 2.5
                                                 for n in ops]}}})
    dots = [n for n in d.nodes if n.kind == "dot"]
    traces.append({"type": "scatter", "x": [n.x for n in dots], "y": [n.y for n in dots], "mode": "markers",
                   "hoverinfo": "skip", "showlegend": False, "marker": {"size": 7, "color": INK}, "meta": "dots"})
    glyphs = [n for n in d.nodes if n.kind != "dot"]
    traces.append({"type": "scatter", "x": [n.x for n in glyphs], "y": [n.y for n in glyphs], "mode": "text",
                   "text": [n.text for n in glyphs], "hoverinfo": "skip", "showlegend": False, "meta": "glyphs",
                   "textfont": {"size": [_glyph_size(n, s) for n in glyphs], "color": INK}})
    wires = d.labelled
    text = _label_texts(d, values, x_label, view)
    xs, ys, anchors = [w.at[0] for w in wires], [_label_y(w, s) for w in wires], [w.anchor for w in wires]
    if title:
        text, xs, ys, anchors = [*text, title], [*xs, 0.0], [*ys, d.height], [*anchors, "middle right"]
    traces.append({"type": "scatter", "x": xs, "y": ys, "text": text, "mode": "text", "textposition": anchors,
                   "hoverinfo": "skip", "textfont": {"size": s.label, "color": INK}, "showlegend": False,
                   "cliponaxis": False, "meta": [w.key for w in wires]})
    hx, hy, keys, glyph_of = _hit_points(d)
    texts = {(k, g): hover_text(k, view, values, x_label, t, g) for k, g in dict.fromkeys(zip(keys, glyph_of,
                                                                                               strict=True))}
    traces.append({"type": "scatter", "x": hx, "y": hy, "mode": "markers", "customdata": keys,
                   "hovertext": [texts[k, g] for k, g in zip(keys, glyph_of, strict=True)],
                   "hoverinfo": "text", "showlegend": False, "meta": "hits",
                   "marker": {"size": 16, "color": GREY, "opacity": 0.0},
                   "selected": {"marker": {"opacity": 0.0}}, "unselected": {"marker": {"opacity": 0.0}}})
    return traces


def _label_y(w: Wire, s: Scale) -> float:
    """A label above its wire clears the widest line the wire can be (half of w_max, and a gap)."""
    return w.at[1] + ((s.w_max / 2 + 2) / s.px if w.anchor.startswith("top") else 0.0)


def _label_texts(d: Diagram, values: dict[str, float], x_label: str, view: View) -> list[str]:
    """The wire labels, in the diagram's labelled-wire order."""
    return [wire_label(w, None if w.key in view.hide else values.get(w.key), x_label, view.reverse)
            for w in d.labelled]


def _view(trace: Trace, direction: int, predict: bool, selected: str, layer: int = 0) -> View:
    spec = trace.spec.layer_spec(layer)  # a mixed GRU stack: each layer is drawn in its own variant
    values_hidden = frozenset()
    if predict:
        d = diagram_of(spec)
        keys = {w.value_key for w in d.wires} | {n.key for n in d.nodes if n.key}
        values_hidden = frozenset(keys - GIVEN)
    return View(spec, reverse=direction == 1, hide=values_hidden, selected=selected or "")


def cell_spec(trace: Trace, t: int, unit: int, x_label: str, *, layer: int = 0, direction: int = 0,
              present: bool = False, predict: bool = False, selected: str = "") -> dict:
    """The circuit of :func:`cell_figure` as a plain Plotly spec (a dict): about a millisecond to build, which
    is what keeps a step change quick (a ``go.Figure`` of it costs tens of milliseconds of Python objects)."""
    d = diagram_of(trace.spec.layer_spec(layer))
    view = _view(trace, direction, predict, selected, layer)
    values = step_values(trace, t, unit, layer, direction)
    _, _, layout = _canvas(d, present)
    return {"data": _traces(d, values, view, html.escape(x_label), t, present), "layout": layout}


def cell_figure(trace: Trace, t: int, unit: int, x_label: str, *, layer: int = 0, direction: int = 0,
                present: bool = False, predict: bool = False, selected: str = "") -> go.Figure:
    """The cell's circuit with the value of every wire at step ``t`` for unit ``unit``, its flow drawn as width.

    ``x_label`` is how the input x_t is shown (a character, a number). With ``predict`` every value the step
    computes is hidden (``?``, dotted wires): only x_t and the state it starts from are shown. ``selected`` (a
    quantity, see :func:`quantity_of`) is drawn highlighted. In the reverse direction of a bidirectional layer
    (``direction`` 1) the state the step starts from is labelled h_{t+1}.
    """
    return go.Figure(cell_spec(trace, t, unit, x_label, layer=layer, direction=direction, present=present,
                               predict=predict, selected=selected))


def _spec(fig: go.Figure | dict) -> dict:
    return fig if isinstance(fig, dict) else fig.to_dict()


def label_values(fig: go.Figure | dict) -> dict[str, str]:
    """Wire key → the value text drawn on it (for checks: what the viewer reads)."""
    for trace in _spec(fig)["data"]:
        if isinstance(trace.get("meta"), tuple | list) and trace.get("mode") == "text":
            return {key: text.rpartition(" = ")[2] if " = " in text else text
                    for key, text in zip(trace["meta"], trace["text"], strict=False)}
    raise ValueError("no wire labels in this figure")


def wire_styles(fig: go.Figure | dict) -> list[tuple[str, float, float, str]]:
    """(value key, width, opacity, dash) of every wire trace, in drawing order (for checks)."""
    return [(t["meta"][5:], float(t["line"]["width"]), float(t["opacity"]), t["line"]["dash"])
            for t in _spec(fig)["data"] if isinstance(t.get("meta"), str) and t["meta"].startswith("flow:")]


def hovers(fig: go.Figure | dict) -> dict[str, str]:
    """Wire or node key → its hover text (the first hit point of each key; for checks)."""
    hits = next(t for t in _spec(fig)["data"] if t.get("meta") == "hits")
    out: dict[str, str] = {}
    for key, text in zip(hits["customdata"], hits["hovertext"], strict=True):
        out.setdefault(key, text)
    return out


def key_of_point(point: dict) -> str | None:
    """The wire or node key of a clicked point of a circuit figure (its customdata), if it is one."""
    data = point.get("customdata")
    if isinstance(data, list | tuple):
        data = data[0] if data else None
    return data if isinstance(data, str) else None


# ----------------------------------------------------------------------------------------------- legend


def legend_symbols(spec: Spec) -> list[tuple[str, str, str]]:
    """(glyph, name, what it does) for every symbol in ``spec``'s diagram, in a fixed order."""
    used = {n.symbol for n in diagram_of(spec).nodes if n.symbol}
    order = ["σ", "tanh", "ReLU", "g", "⊙", "+", "÷", "1−", "W"]
    shown = {"W": "W·+b"}
    return [(shown.get(g, g), *SYMBOLS[g]) for g in order if g in used]


def legend_colors(spec: Spec) -> list[tuple[str, str]]:
    """(colour, name) of every quantity drawn for ``spec``'s cell, in the order of its equations."""
    return [(COLORS[q], NAMES[q]) for q in ("x", *unit_quantities(spec))]


# ----------------------------------------------------------------------------------------------- unit bars

# Each kind's quantities per unit, in the order the cell computes them (the bars' rows, and the legend after x).
UNIT_QUANTITIES = per_kind("figures.unit_quantities", {
    "gru": ("r", "z", "n", "h"), "lstm": ("i", "f", "g", "o", "c", "h"), "rnn": ("h",), "mingru": ("z", "n", "h"),
    "minlstm": ("f", "i", "n", "f'", "i'", "h"),
})


def unit_quantities(spec: Spec) -> tuple[str, ...]:
    """The per-unit quantities worth a row of bars, in the order the cell computes them."""
    return UNIT_QUANTITIES[spec.kind]


def bar_rows(spec: Spec, predict: bool) -> tuple[str, ...]:
    """The rows of :func:`unit_bars`: the cell's quantities, or only h_{t−1} while the viewer predicts."""
    return ("h_prev",) if predict else unit_quantities(spec)


def _bar_values(trace: Trace, name: str, t: int, layer: int, direction: int) -> np.ndarray:
    lt = trace.layer(layer, direction)
    if name == "h_prev":
        return lt.h_prev()[t, 0]
    return lt.h[t, 0] if name == "h" else lt.gates[name][t, 0]


def _bar_title(name: str, reverse: bool) -> str:
    if name == "h_prev":
        return _sub("h", prev_step(reverse))
    return _sub(label(name), "t")


MAX_BARS = 64  # units drawn as bars; a wider layer shows the units that moved most (:func:`bar_units`)
TOP_UNITS = 8  # units per ranking of :func:`moved_units`


@dataclass(frozen=True)
class Ranking:
    """The units that moved most at one step by one measure, largest first."""

    key: str  # "dh", "replaced", "reset": the measure
    title: str  # the panel's title
    what: str  # the measure in words, for the hover
    color_of: str  # the palette quantity whose colour the bars take
    units: tuple[int, ...]
    values: tuple[float, ...]


def moved_units(trace: Trace, t: int, *, layer: int = 0, direction: int = 0, k: int = TOP_UNITS,
                predict: bool = False) -> list[Ranking]:
    """The top ``k`` units at step ``t`` by |Δh| = |h_t − h_{t−1}|, by the share of the old state each replaced
    (1 − the kind's keep share: a GRU's z, an LSTM's f, …), and by r nearest 0 where the kind has a reset gate.
    While the viewer predicts, nothing of step ``t`` is ranked (an empty list)."""
    if predict:
        return []
    spec, lt = trace.spec, trace.layer(layer, direction)
    k = min(k, lt.h.shape[-1])

    def top(values: np.ndarray) -> tuple[tuple[int, ...], tuple[float, ...]]:
        order = np.argsort(-values, kind="stable")[:k]  # ties: the lower unit first, so the list is deterministic
        return tuple(int(u) for u in order), tuple(float(values[u]) for u in order)

    out = [Ranking("dh", "moved most: |Δh|", "|h_t − h_{t−1}|", "h", *top(np.abs(lt.h[t, 0] - lt.h_prev()[t, 0])))]
    kind = KIND[spec.kind]
    if kind.keep_share is not None:
        keep = kind.keep(spec)
        state = keep.of if keep is not None else "h"
        share = kind.keep_share(spec, {n: g[t : t + 1] for n, g in lt.gates.items()})[0, 0]
        out.append(Ranking("replaced", f"replaced most of old {state}", f"share of the old {state} replaced",
                           keep.gate if keep is not None else "h", *top(1.0 - share)))
    if "r" in kind.sigmoid:
        out.append(Ranking("reset", "reset most: r near 0", "1 − r (how much of h the candidate ignores)", "r",
                           *top(1.0 - lt.gates["r"][t, 0])))
    return out


def bar_units(trace: Trace, t: int, unit: int, *, layer: int = 0, direction: int = 0, predict: bool = False,
              max_bars: int = MAX_BARS) -> np.ndarray:
    """The units the bars show, in index order: every unit up to ``max_bars``; above, the units of
    :func:`moved_units` and the selected one (with ``predict``: the selected one and its neighbours)."""
    H = trace.layer(layer, direction).h.shape[-1]
    if H <= max_bars:
        return np.arange(H)
    chosen = {unit}
    for ranking in moved_units(trace, t, layer=layer, direction=direction, predict=predict):
        chosen.update(ranking.units)
    if predict:  # nothing of step t may show: a fixed window around the selected unit
        start = min(max(unit - TOP_UNITS // 2, 0), H - TOP_UNITS)
        chosen.update(range(start, start + TOP_UNITS))
    return np.array(sorted(chosen))


def top_units_spec(trace: Trace, t: int, unit: int, *, layer: int = 0, direction: int = 0,
                   present: bool = False, k: int = TOP_UNITS) -> dict:
    """The rankings of :func:`moved_units` one under another as horizontal bars, largest on top, each labelled
    by its unit and its value (the panel sits in a narrow column); a bar's customdata is its unit (a click
    selects it), the selected unit's bar is outlined."""
    rankings = moved_units(trace, t, layer=layer, direction=direction, k=k)
    size = style.font(present)
    row_px, title_px = (25, 34) if present else (16, 28)
    panels = [len(r.units) * row_px for r in rankings]
    plot_px = sum(panels) + title_px * len(rankings)
    data, layout, annotations = [], {}, []
    top = 1.0
    for j, (r, px) in enumerate(zip(rankings, panels, strict=True)):
        ax = "" if j == 0 else str(j + 1)
        head = top - title_px / plot_px
        domain = [max(head - px / plot_px, 0.0), head]
        high = max(r.values, default=0.0) or 1.0
        data.append({"type": "bar", "orientation": "h", "x": list(r.values), "y": [str(u) for u in r.units],
                     "xaxis": f"x{ax}", "yaxis": f"y{ax}", "customdata": list(r.units), "meta": r.key,
                     "showlegend": False, "name": r.title, "text": [f"{v:.2g}" for v in r.values],
                     "textposition": "outside", "cliponaxis": False, "textfont": {"size": size - 1},
                     "marker": {"color": color(r.color_of),
                                "line": {"width": [2.5 if u == unit else 0 for u in r.units], "color": INK}},
                     "hovertemplate": f"<b>unit %{{y}}</b><br>{r.what} = %{{x:.3f}}<br>click to show it"
                                      "<extra></extra>"})
        layout[f"xaxis{ax}"] = style.axis(present, domain=[0.0, 1.0], anchor=f"y{ax}", fixedrange=True,
                                          showgrid=False, zeroline=True, showticklabels=False,
                                          range=[0.0, 1.35 * high])
        layout[f"yaxis{ax}"] = style.axis(present, domain=domain, anchor=f"x{ax}", fixedrange=True,
                                          autorange="reversed", type="category", dtick=1,  # every unit named
                                          tickfont={"size": size - 1})
        annotations.append({"text": f"<b>{html.escape(r.title)}</b>", "x": 0, "xref": "paper", "xanchor": "left",
                            "xshift": -round(3.2 * size), "y": head, "yref": "paper", "yanchor": "bottom",
                            "showarrow": False, "font": {"size": size, "color": color(r.color_of)}})
        top = domain[0]
    layout.update(style.layout(present), annotations=annotations, bargap=0.2, hovermode="closest",
                  height=plot_px + 12, margin={"l": round(3.2 * size), "r": 6, "t": 6, "b": 6}, dragmode=False,
                  meta={"rankings": [r.key for r in rankings]})
    return {"data": data, "layout": layout}


def unit_bars_spec(trace: Trace, t: int, unit: int, *, layer: int = 0, direction: int = 0, present: bool = False,
                   predict: bool = False, selected: str = "") -> dict:
    """The bars of :func:`unit_bars` as a plain Plotly spec (quick to build at every step)."""
    rows = bar_rows(trace.spec, predict)
    shown = bar_units(trace, t, unit, layer=layer, direction=direction, predict=predict)
    H = len(shown)
    every = H == trace.layer(layer, direction).h.shape[-1]  # every unit, at its own x; else a compact strip
    where = np.arange(H) if not every else shown
    at = int(np.searchsorted(shown, unit))  # the selected unit's position among those shown
    size = style.font(present)
    reverse = direction == 1
    gap = 0.07
    span = (1.0 - gap * (len(rows) - 1)) / len(rows)
    data, layout, annotations = [], {}, []
    for k, name in enumerate(rows):
        ax = "" if k == 0 else str(k + 1)
        key = "h" if name == "h_prev" else name
        values = _bar_values(trace, name, t, layer, direction)[shown]
        # customdata: the row's quantity and the real unit (a click selects both)
        data.append({"type": "bar", "x": where, "y": values, "xaxis": f"x{ax}", "yaxis": f"y{ax}",
                     "name": NAMES.get(key, key), "showlegend": False, "meta": name,
                     "customdata": [[name, int(u)] for u in shown],
                     "marker": {"color": color(key), "line": {"width": 0},
                                "opacity": np.where(shown == unit, 1.0, 0.35)},
                     "hovertemplate": f"unit %{{customdata[1]}}<br>{_bar_title(name, reverse)} = %{{y:.4f}}"
                                      "<extra></extra>"})
        top = 1.0 - k * (span + gap)
        low, high = gate_range(key)
        layout[f"yaxis{ax}"] = style.axis(present, domain=[max(top - span, 0.0), top], fixedrange=True,
                                          zeroline=True, nticks=3, showgrid=False, tickformat=".1~f",
                                          range=[min(low, float(values.min())), max(high, float(values.max()))])
        layout[f"xaxis{ax}"] = style.axis(present, anchor=f"y{ax}", fixedrange=True, showgrid=False,
                                          showticklabels=k == len(rows) - 1, range=[-0.6, H - 0.4],
                                          **({"matches": "x"} if k else {}),
                                          **(style.step_ticks(0, H - 1, 9 if H > 8 else H) if every else
                                             {"tickmode": "array", "tickvals": list(range(H)),
                                              "ticktext": [str(u) for u in shown], "tickangle": -90}))
        annotations.append({"text": style.swatch(color(key)) + f"<b>{_bar_title(name, reverse)}</b>", "x": 0,
                            "xref": "paper",
                            "xanchor": "right", "xshift": -round(2.7 * size), "y": top - span / 2, "yref": "paper",
                            "yanchor": "middle", "showarrow": False, "font": {"size": size + 3, "color": INK},
                            "hovertext": NAMES.get(key, key)})
    of = trace.layer(layer, direction).h.shape[-1]
    title = "unit" if every else f"unit ({H} of {of} shown)"
    layout[f"xaxis{ax}"]["title"] = {"text": title, "standoff": 8, "font": {"size": size}}
    x_sel = unit if every else at
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": x_sel - 0.5, "x1": x_sel + 0.5, "y0": 0, "y1": 1,
               "fillcolor": FAINT, "line": {"width": 0}, "layer": "below"}]
    if selected in rows:
        top = 1.0 - rows.index(selected) * (span + gap)
        shapes.append({"type": "rect", "xref": "paper", "yref": "paper", "x0": -0.02, "x1": 1.0,
                       "y0": top - span - gap / 3, "y1": top + gap / 3, "fillcolor": FAINT,
                       "line": {"width": 2, "color": color(selected)}, "layer": "below"})
    layout.update(style.layout(present), shapes=shapes, annotations=annotations, bargap=0.15, hovermode="closest",
                  height=(62 if present else 50) * len(rows) + (76 if present else 62),
                  margin={"l": round(4.4 * size), "r": 6, "t": 6, "b": 6},
                  dragmode=False, meta={"rows": list(rows)})
    return {"data": data, "layout": layout}


def unit_bars(trace: Trace, t: int, unit: int, *, layer: int = 0, direction: int = 0, present: bool = False,
              predict: bool = False, selected: str = "") -> go.Figure:
    """One row of bars per quantity: its value in every hidden unit at step ``t``; ``unit`` is highlighted, and
    the row of the ``selected`` quantity. With ``predict`` the rows of step ``t`` are replaced by h_{t−1}, which
    the viewer may see. Clicking a bar selects its quantity and unit (a bar's customdata is its row)."""
    return go.Figure(unit_bars_spec(trace, t, unit, layer=layer, direction=direction, present=present,
                                    predict=predict, selected=selected))


# ------------------------------------------------------------------------------------------------ playback


def playback_steps(steps: int, t: int, max_frames: int = 300) -> list[int]:
    """The steps that get an animation frame: all of them, or every k-th (plus ``t`` and the last) when long."""
    stride = max(1, math.ceil(steps / max_frames))
    return sorted(set(range(0, steps, stride)) | {t, steps - 1})


def _step_title(t: int, x_labels: list[str] | tuple[str, ...]) -> str:
    return f"<b>t = {t}</b>   {X_T} = {html.escape(x_labels[t])}"


PLAYBACK_CONTROLS = {False: 84, True: 100}  # px above the circuit: ▶/❚❚ and the frame slider
PLAYBACK_STRIP = 120  # px of h over time under the circuit


def playback_figure(trace: Trace, t: int, unit: int, x_labels: list[str] | tuple[str, ...], *, layer: int = 0,
                    direction: int = 0, present: bool = False, max_frames: int = 300) -> go.Figure:
    """:func:`playback_spec` as a ``go.Figure``."""
    return go.Figure(playback_spec(trace, t, unit, x_labels, layer=layer, direction=direction, present=present,
                                   max_frames=max_frames))


def playback_spec(trace: Trace, t: int, unit: int, x_labels: list[str] | tuple[str, ...], *, layer: int = 0,
                  direction: int = 0, present: bool = False, max_frames: int = 300) -> dict:
    """The circuit with one animation frame per step, played in the browser, above h of the unit over time.

    Each frame redraws the flow (wire widths, opacities, box fills) and the labels of its step; Plotly's ▶/⏸
    buttons and slider drive the frames, and nothing goes back to the server while it plays. The frame title
    is the one time cursor on screen in Play mode.
    """
    spec = trace.spec.layer_spec(layer)
    lt = trace.layer(layer, direction)
    d = diagram_of(spec)
    view = _view(trace, direction, False, "", layer)
    steps = playback_steps(lt.steps, t, max_frames)
    h_unit = lt.h[:, 0, unit]
    circuit = _traces(d, step_values(trace, t, unit, layer, direction), view, html.escape(x_labels[t]), t,
                      present, _step_title(t, x_labels))
    circuit[-1] = {**circuit[-1], "hovertext": None, "hoverinfo": "skip"}  # a hover would show step t's values
    changing = [k for k, tr in enumerate(circuit) if _animated(tr["meta"])]
    line = {"type": "scatter", "x": np.arange(lt.steps), "y": h_unit, "mode": "lines",
            "line": {"color": COLORS["h"], "width": 2}, "xaxis": "x2", "yaxis": "y2", "name": NAMES["h"],
            "showlegend": False, "hovertemplate": "t = %{x}<br>h = %{y:.4f}<extra></extra>"}
    marker = {"type": "scatter", "x": [t], "y": [h_unit[t]], "mode": "markers",
              "marker": {"color": COLORS["h"], "size": 11}, "xaxis": "x2", "yaxis": "y2", "showlegend": False,
              "hoverinfo": "skip"}
    marker_index = len(circuit) + 1
    frames = []
    for k in steps:
        values = step_values(trace, k, unit, layer, direction)
        data = _frame_data(d, values, view, html.escape(x_labels[k]), present, _step_title(k, x_labels))
        data.append({"type": "scatter", "x": [k], "y": [float(h_unit[k])]})
        frames.append({"name": str(k), "traces": [*changing, marker_index], "data": data})
    names = [str(k) for k in steps]
    duration = int(min(500, max(60, 20_000 / len(steps))))
    width, diagram_px, circuit_layout = _canvas(d, present)
    controls, axis_px, gap = PLAYBACK_CONTROLS[present], 44, 20
    plot_px = controls + diagram_px + gap + PLAYBACK_STRIP + axis_px
    h_low, h_high = float(np.nanmin(h_unit)), float(np.nanmax(h_unit))
    pad = max(0.08 * (h_high - h_low), 0.02 * max(abs(h_low), abs(h_high)), 1e-3)
    strip_px = PLAYBACK_STRIP / plot_px
    layout = {**circuit_layout, "height": plot_px, "width": width}
    layout["yaxis"] = {**layout["yaxis"], "domain": [(axis_px + PLAYBACK_STRIP + gap) / plot_px,
                                                     1 - controls / plot_px]}
    layout.update(
        xaxis2=style.axis(present, domain=[0.09, 1.0], anchor="y2", range=[-0.5, lt.steps - 0.5], fixedrange=True,
                          title={"text": "t", "standoff": 2}, showgrid=False, **style.step_ticks(0, lt.steps - 1)),
        yaxis2=style.axis(present, domain=[axis_px / plot_px, axis_px / plot_px + strip_px],
                          range=[h_low - pad, h_high + pad], fixedrange=True, nticks=4, zeroline=True,
                          title={"text": f'<span style="color:{COLORS["h"]}"><b>{_sub("h", "t")}</b></span>',
                                 "standoff": 4}),
        updatemenus=[{
            "type": "buttons", "direction": "left", "showactive": False, "x": 0.0, "y": 1.0, "xanchor": "left",
            "yanchor": "top", "pad": {"t": 24, "r": 10}, "font": {"size": style.font(present)},
            "buttons": [
                # Plotly knows no "current frame" before the first animation, so ▶ lists the frames from the
                # cursor on (from 0 when the cursor is at the end); after a pause it resumes where it stopped.
                {"label": "▶ Play", "method": "animate",
                 "args": [names[steps.index(t) if t < lt.steps - 1 else 0 :],
                          {"frame": {"duration": duration, "redraw": True}, "fromcurrent": True,
                           "transition": {"duration": 0}, "mode": "immediate"}]},
                {"label": "❚❚ Pause", "method": "animate",
                 "args": [[None], {"frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0},
                                   "mode": "immediate"}]},
                {"label": "↺ From 0", "method": "animate",
                 "args": [names, {"frame": {"duration": duration, "redraw": True}, "transition": {"duration": 0},
                                  "mode": "immediate"}]},
            ],
        }],
        sliders=[{
            "active": steps.index(t), "x": 0.36, "len": 0.64, "y": 1.0, "yanchor": "top", "pad": {"t": 0, "b": 0},
            "font": {"size": style.font(present, -1)},
            "currentvalue": {"prefix": "t = ", "visible": True, "xanchor": "right",
                             "font": {"size": style.font(present)}},
            "steps": [{"label": str(k), "method": "animate",
                       "args": [[str(k)], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate",
                                           "transition": {"duration": 0}}]} for k in steps],
        }],
    )
    return {"data": [*circuit, line, marker], "layout": layout, "frames": frames}


def _animated(meta: object) -> bool:
    """Whether a circuit trace changes from step to step (flows, box fills, labels)."""
    return isinstance(meta, list) or (isinstance(meta, str) and meta.startswith(("flow:", "box:")))


def _frame_data(d: Diagram, values: dict[str, float], view: View, x_label: str, present: bool,
                title: str) -> list[dict]:
    """What an animation frame changes, in the order of the :func:`_animated` traces: each wire's flow, each
    box's fill, the labels."""
    out = []
    for w in d.wires:
        st = _flow_style(w, values, view, present)
        sizes = [0.0] * (len(w.points) - 1) + [st["arrow"]]
        out.append({"type": "scatter", "opacity": st["opacity"], "line": {"width": st["width"]},
                    "marker": {"size": sizes}})
    for n in d.boxes:
        out.append({"type": "scatter", "fillcolor": tint(n.color, box_fill(values.get(n.key), n.key))})
    out.append({"type": "scatter", "text": [*_label_texts(d, values, x_label, view), title]})
    return out


# ------------------------------------------------------------------------------------------------ ablation


def ablation_figure(h_free: np.ndarray, h_clamped: np.ndarray, unit: int, t: int, clamp_text: str, *,
                    present: bool = False) -> go.Figure:
    """h of one unit over time without and with the clamps (top), and their difference (bottom).

    ``h_free`` and ``h_clamped`` are (T, H) (the runs' ``h[:, 0]``); ``clamp_text`` names the clamps.
    """
    steps = np.arange(h_free.shape[0])
    diff = h_clamped[:, unit] - h_free[:, unit]
    fig = go.Figure([
        go.Scatter(x=steps, y=h_free[:, unit], name="original", mode="lines",
                   line={"color": GREY, "width": 2, "dash": "dash"},
                   hovertemplate="t = %{x}<br>original h = %{y:.4f}<extra></extra>"),
        go.Scatter(x=steps, y=h_clamped[:, unit], name=f"clamped ({clamp_text})", mode="lines",
                   line={"color": COLORS["h"], "width": 2.5},
                   hovertemplate="t = %{x}<br>clamped h = %{y:.4f}<extra></extra>"),
        go.Scatter(x=steps, y=diff, name="clamped − original", mode="lines", xaxis="x2", yaxis="y2",
                   line={"color": INK, "width": 1.5}, fill="tozeroy", fillcolor=FAINT,
                   hovertemplate="t = %{x}<br>difference = %{y:.4f}<extra></extra>"),
    ])
    low = float(min(-1.0, h_free[:, unit].min(), h_clamped[:, unit].min()))
    high = float(max(1.0, h_free[:, unit].max(), h_clamped[:, unit].max()))
    span = float(max(1e-9, np.abs(diff).max()))
    ticks = style.step_ticks(0, h_free.shape[0] - 1)
    fig.update_layout(
        **style.layout(present),
        xaxis=style.axis(present, domain=[0, 1], anchor="y", showticklabels=False, fixedrange=True, matches="x2",
                         showgrid=False, **ticks),
        yaxis=style.axis(present, domain=[0.42, 1.0], range=[low, high], title=_sub("h", "t"), fixedrange=True),
        xaxis2=style.axis(present, domain=[0, 1], anchor="y2", title={"text": "t", "standoff": 2}, fixedrange=True,
                          showgrid=False, **ticks),
        yaxis2=style.axis(present, domain=[0.0, 0.32], range=[-1.1 * span, 1.1 * span], title="difference",
                          fixedrange=True, nticks=3),
        shapes=[{"type": "line", "xref": xr, "yref": f"{yr} domain", "x0": t, "x1": t, "y0": 0, "y1": 1,
                 "line": {"color": GRID, "width": 1.5, "dash": "dot"}} for xr, yr in (("x", "y"), ("x2", "y2"))],
        height=340 if present else 280, margin={"l": 8, "r": 8, "t": 34, "b": 8},
        hovermode="x unified",
    )
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                              "font": {"size": style.font(present)}})
    return style.inked(fig)
