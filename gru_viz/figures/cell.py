"""One recurrent cell at one step, drawn as a circuit: σ and tanh boxes, ⊙ and + nodes, and the live value of
every wire for one hidden unit. Also the per-unit bars beside it, an in-browser playback of the whole run (Plotly
frames), and the original-versus-clamped comparison of an ablation.

Every number drawn comes from a :class:`~gru_viz.core.trace.Trace` (products such as z·h_{t−1} are the product of
the trace's own values). No Streamlit here.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import plotly.graph_objects as go

from ..core.spec import Spec
from ..core.trace import Trace
from ..explain.equations import format_value
from ..explain.palette import BLUE, COLORS, GREY, NAMES, color, gate_range

INK = "#262730"  # Streamlit's text colour: numbers stay legible whatever the wire's colour
BOX_W, BOX_H, OP_R = 1.1, 0.72, 0.28
TOP, MIX, ROW, GATES, HBUS, XBUS = 6.7, 5.0, 3.8, 2.6, 1.4, 0.6  # the diagrams' rows (y)
RIGHT = 12.0  # the canvas spans x ∈ [0, 12]
RIGHT_COLUMN = 9.4  # x of the candidate's column: tanh → ⊙ → +
HIDDEN = "?"  # shown instead of a value the viewer is asked to predict


# ------------------------------------------------------------------------------------------------ geometry


@dataclass(frozen=True)
class Node:
    """A box (σ, tanh, a linear map), an operator (⊙, +, 1−) or a junction dot."""

    kind: str  # "box", "op" or "dot"
    x: float
    y: float
    text: str = ""
    color: str = GREY
    width: float = BOX_W

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


@dataclass(frozen=True)
class Wire:
    """A wire carrying one quantity; its label shows the name and this step's value at ``at``."""

    key: str  # the quantity it carries: a key of step_values(), "" for a bus that repeats a labelled wire
    name: str  # the name shown before the value ("" shows the value alone, for a box that names it)
    points: tuple[tuple[float, float], ...]
    color: str
    at: tuple[float, float] = (0.0, 0.0)
    anchor: str = "top center"  # Plotly textposition of the label
    arrow: bool = True


@dataclass(frozen=True)
class Diagram:
    """The drawing of one kind of cell: nodes, wires, and the canvas height."""

    nodes: tuple[Node, ...]
    wires: tuple[Wire, ...]
    height: float  # the canvas spans y ∈ [0, height]


def _sub(name: str, sub: str) -> str:
    return f"{name}<sub>{sub}</sub>"


H_PREV, H_T, X_T = _sub("h", "t−1"), _sub("h", "t"), _sub("x", "t")


def _sigma(x: float, y: float, gate: str) -> Node:
    return Node("box", x, y, "σ", COLORS[gate])


def _stubs(bus_y: float, box: Node, offset: float) -> list[Wire]:
    """A bus feeding a box from below: the vertical stub and its junction."""
    start = (box.x + offset, bus_y)
    return [Wire("", "", (start, box.edge("bottom", offset)), "")]


@cache
def diagram(kind: str, variant: str = "torch") -> Diagram:
    """The circuit of a cell kind (and GRU variant)."""
    if kind == "gru":
        from ..core.spec import GRU_VARIANTS

        v = GRU_VARIANTS[variant]
        return _gru(v.reset_after, v.z_keeps)
    return {"lstm": _lstm, "rnn": _rnn, "mingru": _mingru}[kind]()


def _with_bus_colors(wires: list[Wire], bus_colors: dict[float, str]) -> tuple[Wire, ...]:
    """Stubs take the colour of the bus they hang from (x grey, h blue)."""
    out = []
    for w in wires:
        if not w.color:
            w = Wire(w.key, w.name, w.points, bus_colors[w.points[0][1]], w.at, w.anchor, w.arrow)
        out.append(w)
    return tuple(out)


def _gru(reset_after: bool, z_keeps: bool) -> Diagram:
    z_box, r_box = _sigma(3.0, GATES, "z"), _sigma(5.0, GATES, "r")
    n_box = Node("box", RIGHT_COLUMN, ROW, "tanh", COLORS["n"])
    lin_text = _sub("W", "hn") + "h+" + _sub("b", "hn") if reset_after else _sub("W", "hn") + "·+" + _sub("b", "hn")
    if reset_after:
        lin = Node("box", 7.0, GATES, lin_text, GREY, 1.5)
        rmul = Node("op", 7.0, ROW, "⊙", COLORS["r"])
    else:
        rmul = Node("op", 7.0, GATES, "⊙", COLORS["r"])
        lin = Node("box", 7.0, ROW, lin_text, GREY, 1.5)
    keep, add = Node("op", 3.0, TOP, "⊙", COLORS["h"]), Node("op", RIGHT_COLUMN, TOP, "+", COLORS["h"])
    write = Node("op", RIGHT_COLUMN, MIX, "⊙", COLORS["n"])
    one_minus = Node("op", 6.6, MIX, "1−", COLORS["z"]) if z_keeps else Node("op", 3.0, 5.85, "1−", COLORS["z"])
    h_color, z_color = COLORS["h"], COLORS["z"]
    first = lin if reset_after else rmul  # what the h bus feeds at its end
    wires = [
        Wire("h_prev", H_PREV, ((0.0, TOP), keep.edge("left")), h_color, (1.6, TOP)),
        Wire("", "", ((0.6, TOP), (0.6, HBUS), (first.x, HBUS), first.edge("bottom")), h_color),
        Wire("x", X_T, ((0.0, XBUS), (n_box.x, XBUS), n_box.edge("bottom")), COLORS["x"], (1.5, XBUS)),
        *_stubs(HBUS, z_box, 0.25), *_stubs(HBUS, r_box, 0.25),
        *_stubs(XBUS, z_box, -0.25), *_stubs(XBUS, r_box, -0.25),
        Wire("n", "n", (n_box.edge("top"), write.edge("bottom")), COLORS["n"], (RIGHT_COLUMN + 0.15, 4.55),
             "middle right"),
        Wire("h", H_T, (add.edge("right"), (RIGHT, TOP)), h_color, (10.85, TOP)),
        Wire("write", "(1−z)·n" if z_keeps else "z·n", (write.edge("top"), add.edge("bottom")), COLORS["n"],
             (RIGHT_COLUMN + 0.15, 5.85), "middle right"),
        Wire("keep", "z·" + H_PREV if z_keeps else "(1−z)·" + H_PREV, (keep.edge("right"), add.edge("left")),
             h_color, (6.0, TOP)),
    ]
    if z_keeps:
        wires += [
            Wire("z", "z", (z_box.edge("top"), keep.edge("bottom")), z_color, (2.85, 4.1), "middle left"),
            Wire("", "", ((z_box.x, MIX), one_minus.edge("left")), z_color),
            Wire("one_minus_z", "1−z", (one_minus.edge("right"), write.edge("left")), z_color, (8.0, MIX)),
        ]
    else:
        wires += [
            Wire("z", "z", (z_box.edge("top"), one_minus.edge("bottom")), z_color, (2.85, 4.1), "middle left"),
            Wire("", "", ((z_box.x, MIX), write.edge("left")), z_color),
            Wire("one_minus_z", "1−z", (one_minus.edge("top"), keep.edge("bottom")), z_color, (3.2, 6.28),
                 "middle right"),
        ]
    if reset_after:
        wires += [
            Wire("r", "r", (r_box.edge("top"), (r_box.x, ROW), rmul.edge("left")), COLORS["r"], (5.85, ROW)),
            Wire("hn", "", (lin.edge("top"), rmul.edge("bottom")), GREY, (7.15, 3.2), "middle right"),
            Wire("r_hn", "", (rmul.edge("right"), n_box.edge("left")), COLORS["r"], (8.05, ROW)),
        ]
    else:
        wires += [
            Wire("r", "r", (r_box.edge("right"), rmul.edge("left")), COLORS["r"], (6.1, GATES)),
            Wire("r_h", "r·" + H_PREV, (rmul.edge("top"), lin.edge("bottom")), COLORS["r"], (7.15, 3.2),
                 "middle right"),
            Wire("hn", "", (lin.edge("right"), n_box.edge("left")), GREY, (8.3, ROW)),
        ]
    nodes = (z_box, r_box, n_box, lin, rmul, keep, add, write, one_minus,
             Node("dot", 0.6, TOP), Node("dot", z_box.x, MIX),
             *(Node("dot", b.x + o, y) for b in (z_box, r_box) for o, y in ((0.25, HBUS), (-0.25, XBUS))))
    return Diagram(nodes, _with_bus_colors(wires, {HBUS: h_color, XBUS: COLORS["x"]}), 7.3)


def _lstm() -> Diagram:
    f_box, i_box = _sigma(2.4, GATES, "f"), _sigma(4.2, GATES, "i")
    g_box, o_box = Node("box", 6.0, GATES, "tanh", COLORS["g"]), _sigma(7.8, GATES, "o")
    fmul, add = Node("op", 2.4, TOP, "⊙", COLORS["c"]), Node("op", 5.1, TOP, "+", COLORS["c"])
    igmul = Node("op", 5.1, 4.3, "⊙", COLORS["g"])
    tanh_c, hmul = Node("box", 9.6, 4.9, "tanh", COLORS["c"]), Node("op", 9.6, 3.5, "⊙", COLORS["h"])
    c_color, h_color = COLORS["c"], COLORS["h"]
    boxes = (f_box, i_box, g_box, o_box)
    wires = [
        Wire("c_prev", _sub("c", "t−1"), ((0.0, TOP), fmul.edge("left")), c_color, (1.05, TOP)),
        Wire("h_prev", H_PREV, ((0.0, HBUS), (o_box.x + 0.25, HBUS)), h_color, (0.95, HBUS), arrow=False),
        Wire("x", X_T, ((0.0, XBUS), (o_box.x - 0.25, XBUS)), COLORS["x"], (0.95, XBUS), arrow=False),
        *(w for b in boxes for w in (*_stubs(HBUS, b, 0.25), *_stubs(XBUS, b, -0.25))),
        Wire("f", "f", (f_box.edge("top"), fmul.edge("bottom")), COLORS["f"], (2.25, 4.6), "middle left"),
        Wire("f_c", "f·" + _sub("c", "t−1"), (fmul.edge("right"), add.edge("left")), c_color, (3.75, TOP)),
        Wire("i", "i", (i_box.edge("top"), (i_box.x, igmul.y), igmul.edge("left")), COLORS["i"], (4.05, 3.6),
             "middle left"),
        Wire("g", "g", (g_box.edge("top"), (g_box.x, igmul.y), igmul.edge("right")), COLORS["g"], (6.15, 3.6),
             "middle right"),
        Wire("i_g", "i·g", (igmul.edge("top"), add.edge("bottom")), COLORS["g"], (5.25, 5.5), "middle right"),
        Wire("c", _sub("c", "t"), (add.edge("right"), (RIGHT, TOP)), c_color, (7.3, TOP)),
        Wire("", "", ((tanh_c.x, TOP), tanh_c.edge("top")), c_color),
        Wire("tanh_c", "tanh " + _sub("c", "t"), (tanh_c.edge("bottom"), hmul.edge("top")), c_color, (9.75, 4.2),
             "middle right"),
        Wire("o", "o", (o_box.edge("top"), (o_box.x, hmul.y), hmul.edge("left")), COLORS["o"], (8.6, 3.5)),
        Wire("h", H_T, (hmul.edge("right"), (RIGHT, hmul.y)), h_color, (10.95, hmul.y)),
    ]
    dots = [Node("dot", b.x + o, y) for b in boxes[:-1] for o, y in ((0.25, HBUS), (-0.25, XBUS))]
    nodes = (*boxes, fmul, add, igmul, tanh_c, hmul, Node("dot", tanh_c.x, TOP), *dots)
    return Diagram(nodes, _with_bus_colors(wires, {HBUS: h_color, XBUS: COLORS["x"]}), 7.3)


def _rnn() -> Diagram:
    lin = Node("box", 4.6, 3.0, _sub("W", "ih") + "x+" + _sub("W", "hh") + "h+b", GREY, 2.6)
    act = Node("box", 8.0, 3.0, "tanh", COLORS["h"])
    wires = (
        Wire("h_prev", H_PREV, ((0.0, HBUS), (lin.x + 0.4, HBUS), lin.edge("bottom", 0.4)), COLORS["h"],
             (1.2, HBUS)),
        Wire("x", X_T, ((0.0, XBUS), (lin.x - 0.4, XBUS), lin.edge("bottom", -0.4)), COLORS["x"], (1.2, XBUS)),
        Wire("pre", "", (lin.edge("right"), act.edge("left")), GREY, (6.65, 3.0)),
        Wire("h", H_T, (act.edge("right"), (RIGHT, 3.0)), COLORS["h"], (10.3, 3.0)),
    )
    return Diagram((lin, act), wires, 4.0)


def _mingru() -> Diagram:
    z_box, n_box = _sigma(3.0, GATES, "z"), Node("box", 9.0, ROW, "g", COLORS["n"])
    keep, add = Node("op", 3.0, TOP, "⊙", COLORS["h"]), Node("op", 9.0, TOP, "+", COLORS["h"])
    write, one_minus = Node("op", 9.0, MIX, "⊙", COLORS["n"]), Node("op", 3.0, 5.85, "1−", COLORS["z"])
    z_color, h_color = COLORS["z"], COLORS["h"]
    wires = (
        Wire("h_prev", H_PREV, ((0.0, TOP), keep.edge("left")), h_color, (1.6, TOP)),
        Wire("x", X_T, ((0.0, XBUS), (n_box.x, XBUS), n_box.edge("bottom")), COLORS["x"], (1.5, XBUS)),
        Wire("", "", ((z_box.x, XBUS), z_box.edge("bottom")), COLORS["x"]),
        Wire("z", "z", (z_box.edge("top"), one_minus.edge("bottom")), z_color, (2.85, 4.1), "middle left"),
        Wire("", "", ((z_box.x, MIX), write.edge("left")), z_color),
        Wire("one_minus_z", "1−z", (one_minus.edge("top"), keep.edge("bottom")), z_color, (3.2, 6.28),
             "middle right"),
        Wire("n", "n", (n_box.edge("top"), write.edge("bottom")), COLORS["n"], (9.15, 4.55), "middle right"),
        Wire("write", "z·n", (write.edge("top"), add.edge("bottom")), COLORS["n"], (9.15, 5.85), "middle right"),
        Wire("keep", "(1−z)·" + H_PREV, (keep.edge("right"), add.edge("left")), h_color, (6.0, TOP)),
        Wire("h", H_T, (add.edge("right"), (RIGHT, TOP)), h_color, (10.65, TOP)),
    )
    nodes = (z_box, n_box, keep, add, write, one_minus, Node("dot", z_box.x, XBUS), Node("dot", z_box.x, MIX))
    return Diagram(nodes, wires, 7.3)


# -------------------------------------------------------------------------------------------------- values


def step_values(trace: Trace, t: int, unit: int, layer: int = 0, direction: int = 0) -> dict[str, float]:
    """The value of every wire of the diagram at step ``t`` for hidden unit ``unit``, read from the trace."""
    spec = trace.spec
    lt = trace.layer(layer, direction)

    def at(arr: np.ndarray) -> float:
        return float(arr[t, 0, unit])

    h_prev = float(lt.h_prev()[t, 0, unit]) if unit < lt.h.shape[-1] else math.nan
    values = {"h_prev": h_prev}
    if spec.kind == "rnn":
        values.update(pre=at(lt.pre["h"]), h=at(lt.h))
    elif spec.kind == "lstm":
        i, f, g, o, c = (at(lt.gates[k]) for k in "ifgoc")
        c_prev = float(lt.c_prev()[t, 0, unit])
        m = at(lt.gates["m"]) if "m" in lt.gates else at(lt.h)
        values.update(c_prev=c_prev, i=i, f=f, g=g, o=o, c=c, f_c=f * c_prev, i_g=i * g, tanh_c=math.tanh(c), h=m)
    else:  # gru, mingru
        z, n = at(lt.gates["z"]), at(lt.gates["n"])
        keeps = spec.kind == "gru" and spec.gru_variant.z_keeps
        values.update(z=z, n=n, one_minus_z=1.0 - z, h=at(lt.h))
        values.update(keep=z * h_prev, write=(1.0 - z) * n) if keeps else values.update(
            keep=(1.0 - z) * h_prev, write=z * n)
        if spec.kind == "gru":
            r, hn = at(lt.gates["r"]), at(lt.pre["hn"])
            values.update(r=r, hn=hn)
            if spec.gru_variant.reset_after:
                values["r_hn"] = r * hn
            else:
                values["r_h"] = r * h_prev
    return values


# Quantities a viewer sees before the step: everything else is hidden while they predict it.
GIVEN = frozenset({"x", "h_prev", "c_prev"})


def value_text(value: float) -> str:
    """A value as the diagram prints it (format_value with a typographic minus)."""
    return format_value(value).replace("-", "−")


def wire_label(wire: Wire, value: float | None, x_label: str) -> str:
    """The label of a wire: coloured name, then its value (``?`` when hidden)."""
    if wire.key == "x":
        shown = x_label
    else:
        shown = HIDDEN if value is None else value_text(value)
    if not wire.name:
        return shown
    return f'<span style="color:{wire.color}"><b>{wire.name}</b></span> = {shown}'


# -------------------------------------------------------------------------------------------------- drawing


def _font(present: bool) -> int:
    return 18 if present else 13


def _wire_traces(d: Diagram, present: bool) -> list[go.Scatter]:
    """The wires, one trace per colour, with an arrowhead at the end of each arrowed wire."""
    by_color: dict[str, tuple[list, list, list]] = {}
    for w in d.wires:
        xs, ys, sizes = by_color.setdefault(w.color, ([], [], []))
        xs.extend([p[0] for p in w.points] + [None])
        ys.extend([p[1] for p in w.points] + [None])
        sizes.extend([0] * (len(w.points) - 1) + [(12 if present else 9) if w.arrow else 0, 0])
    return [
        go.Scatter(x=xs, y=ys, mode="lines+markers", line={"color": c, "width": 3.5 if present else 2.5},
                   marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": c, "standoff": 1},
                   hoverinfo="skip", showlegend=False, cliponaxis=False)
        for c, (xs, ys, sizes) in by_color.items()
    ]


def _node_shapes(d: Diagram, present: bool) -> list[dict]:
    shapes = []
    for n in d.nodes:
        if n.kind == "box":
            x0, y0 = n.edge("left")[0], n.edge("bottom")[1]
            x1, y1 = n.edge("right")[0], n.edge("top")[1]
            shapes.append({"type": "rect", "x0": x0, "y0": y0, "x1": x1, "y1": y1, "layer": "below",
                           "line": {"color": n.color, "width": 2.5}, "fillcolor": _tint(n.color)})
        elif n.kind == "op":
            shapes.append({"type": "circle", "x0": n.x - OP_R, "y0": n.y - OP_R, "x1": n.x + OP_R, "y1": n.y + OP_R,
                           "layer": "below", "line": {"color": n.color, "width": 2}, "fillcolor": "white"})
        else:
            r = 0.07
            shapes.append({"type": "circle", "x0": n.x - r, "y0": n.y - r, "x1": n.x + r, "y1": n.y + r,
                           "layer": "below", "line": {"width": 0}, "fillcolor": INK})
    return shapes


def _tint(hex_color: str, alpha: float = 0.16) -> str:
    r, g, b = (int(hex_color[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _glyphs(d: Diagram, present: bool) -> go.Scatter:
    """The σ / tanh / ⊙ / + / 1− inside boxes and nodes (drawn above the shapes)."""
    nodes = [n for n in d.nodes if n.kind != "dot"]
    sizes = [(_font(present) + (4 if len(n.text) <= 4 else -1)) for n in nodes]
    return go.Scatter(x=[n.x for n in nodes], y=[n.y for n in nodes], text=[n.text for n in nodes], mode="text",
                      textfont={"size": sizes, "color": INK}, hoverinfo="skip", showlegend=False)


def _label_texts(d: Diagram, values: dict[str, float], x_label: str, hide: frozenset[str],
                 title: str = "") -> tuple[list[str], list[str]]:
    """The wire labels (and their full-precision hover texts), in the diagram's wire order."""
    wires = [w for w in d.wires if w.key]
    text = [wire_label(w, None if w.key in hide else values.get(w.key), x_label) for w in wires]
    hover = [f"{w.key}: {values[w.key]!r}" if w.key in values and w.key not in hide else w.key for w in wires]
    if title:
        text, hover = [*text, title], [*hover, ""]
    return text, hover


def _labels(d: Diagram, values: dict[str, float], x_label: str, hide: frozenset[str], present: bool,
            title: str = "") -> go.Scatter:
    """One text trace with every wire's label (one trace, so that an animation frame can replace them all)."""
    wires = [w for w in d.wires if w.key]
    text, hover = _label_texts(d, values, x_label, hide, title)
    xs, ys, anchors = [w.at[0] for w in wires], [w.at[1] for w in wires], [w.anchor for w in wires]
    if title:
        xs, ys, anchors = [*xs, 0.0], [*ys, d.height], [*anchors, "middle right"]
    return go.Scatter(x=xs, y=ys, text=text, mode="text", textposition=anchors, hovertext=hover, hoverinfo="text",
                      textfont={"size": _font(present), "color": INK, "shadow": "auto"}, showlegend=False,
                      cliponaxis=False, meta=[w.key for w in wires])


def _diagram_axes(d: Diagram) -> tuple[dict, dict]:
    xaxis = {"range": [-0.1, RIGHT + 0.1], "visible": False, "fixedrange": True}
    yaxis = {"range": [0.0, d.height + 0.1], "visible": False, "fixedrange": True, "scaleanchor": "x"}
    return xaxis, yaxis


def cell_figure(trace: Trace, t: int, unit: int, x_label: str, *, layer: int = 0, direction: int = 0,
                present: bool = False, predict: bool = False) -> go.Figure:
    """The cell's circuit with the value of every wire at step ``t`` for unit ``unit``.

    ``x_label`` is how the input x_t is shown (a character, a number). With ``predict`` every value the step
    computes is hidden (``?``): only x_t and the state it starts from are shown.
    """
    spec = trace.spec
    d = diagram(spec.kind, spec.variant)
    fig = go.Figure([*_wire_traces(d, present), _glyphs(d, present), _labels(d, {}, "", frozenset(), present)])
    xaxis, yaxis = _diagram_axes(d)
    fig.update_layout(
        shapes=_node_shapes(d, present), xaxis=xaxis, yaxis=yaxis, height=_diagram_height(d, present),
        margin={"l": 8, "r": 8, "t": 8, "b": 8}, plot_bgcolor="white", paper_bgcolor="white", dragmode=False,
        font={"size": _font(present)}, hoverlabel={"font_size": _font(present)},
    )
    return restep_cell_figure(fig, trace, t, unit, x_label, layer=layer, direction=direction, predict=predict)


def restep_cell_figure(fig: go.Figure, trace: Trace, t: int, unit: int, x_label: str, *, layer: int = 0,
                       direction: int = 0, predict: bool = False) -> go.Figure:
    """Point a :func:`cell_figure` of the same kind of cell at another step or unit (only its labels change).

    Redrawing the circuit costs tens of milliseconds of Plotly objects; changing the labels costs almost none,
    which is what keeps a step change quick.
    """
    spec = trace.spec
    d = diagram(spec.kind, spec.variant)
    values = step_values(trace, t, unit, layer, direction)
    hide = frozenset(values) - GIVEN if predict else frozenset()
    text, hover = _label_texts(d, values, html.escape(x_label), hide)
    labels = next(tr for tr in fig.data if tr.meta is not None)
    with fig.batch_update():
        labels.text, labels.hovertext = text, hover
    return fig


def _diagram_height(d: Diagram, present: bool) -> int:
    return int((56 if present else 50) * d.height) + 16


def label_values(fig: go.Figure) -> dict[str, str]:
    """Wire key → the value text drawn on it (for checks: what the viewer reads)."""
    for trace in fig.data:
        if trace.meta is not None and trace.mode == "text":
            return {key: text.rpartition(" = ")[2] if " = " in text else text
                    for key, text in zip(trace.meta, trace.text, strict=False)}
    raise ValueError("no wire labels in this figure")


# ----------------------------------------------------------------------------------------------- unit bars


def unit_quantities(spec: Spec) -> tuple[str, ...]:
    """The per-unit quantities worth a row of bars, in the order the cell computes them."""
    return {"gru": ("r", "z", "n", "h"), "lstm": ("i", "f", "g", "o", "c", "h"), "rnn": ("h",),
            "mingru": ("z", "n", "h")}[spec.kind]


def _bar_rows(trace: Trace, predict: bool) -> tuple[str, ...]:
    return ("h_prev",) if predict else unit_quantities(trace.spec)


def _bar_values(trace: Trace, name: str, t: int, layer: int, direction: int) -> np.ndarray:
    lt = trace.layer(layer, direction)
    if name == "h_prev":
        return lt.h_prev()[t, 0]
    return lt.h[t, 0] if name == "h" else lt.gates[name][t, 0]


def unit_bars(trace: Trace, t: int, unit: int, *, layer: int = 0, direction: int = 0, present: bool = False,
              predict: bool = False) -> go.Figure:
    """One row of bars per quantity: its value in every hidden unit at step ``t``; ``unit`` is highlighted.

    With ``predict`` the rows of step ``t`` are replaced by h_{t−1}, which the viewer may see.
    """
    rows = _bar_rows(trace, predict)
    H = trace.layer(layer, direction).h.shape[-1]
    fig = go.Figure()
    gap = 0.06
    span = (1.0 - gap * (len(rows) - 1)) / len(rows)
    layout: dict = {}
    for k, name in enumerate(rows):
        ax = "" if k == 0 else str(k + 1)
        key = "h" if name == "h_prev" else name
        fig.add_trace(go.Bar(
            x=np.arange(H), y=np.zeros(H), xaxis=f"x{ax}", yaxis=f"y{ax}", name=NAMES.get(key, key),
            marker={"color": color(key), "line": {"width": 0}}, showlegend=False, meta=name,
            hovertemplate=f"unit %{{x}}<br>{key} = %{{y:.4f}}<extra></extra>",
        ))
        top = 1.0 - k * (span + gap)
        title = H_PREV if name == "h_prev" else (H_T if name == "h" else _sub(name, "t"))
        layout[f"yaxis{ax}"] = {"domain": [max(top - span, 0.0), top], "fixedrange": True,
                                "title": {"text": f'<span style="color:{color(key)}"><b>{title}</b></span>'},
                                "zeroline": True, "zerolinecolor": "#bbb", "nticks": 3}
        layout[f"xaxis{ax}"] = {"anchor": f"y{ax}", "fixedrange": True, "showticklabels": k == len(rows) - 1,
                                "range": [-0.6, H - 0.4], "dtick": 1 if H <= 16 else 4,
                                **({"matches": "x"} if k else {})}
    layout[f"xaxis{ax}"]["title"] = {"text": "unit", "standoff": 2}
    band = {"type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1, "fillcolor": "rgba(0,0,0,0.06)",
            "line": {"width": 0}, "layer": "below"}
    fig.update_layout(
        **layout, shapes=[band], height=(70 if present else 56) * len(rows) + 70, bargap=0.15,
        margin={"l": 8, "r": 8, "t": 8, "b": 8}, font={"size": _font(present)}, plot_bgcolor="white",
    )
    return restep_unit_bars(fig, trace, t, unit, layer=layer, direction=direction)


def restep_unit_bars(fig: go.Figure, trace: Trace, t: int, unit: int, *, layer: int = 0,
                     direction: int = 0) -> go.Figure:
    """Point a :func:`unit_bars` figure (same cell, same rows) at another step or unit."""
    with fig.batch_update():
        for k, bar in enumerate(fig.data):
            values = _bar_values(trace, bar.meta, t, layer, direction)
            key = "h" if bar.meta == "h_prev" else bar.meta
            low, high = gate_range(key)
            bar.y = values
            bar.marker.opacity = np.where(np.arange(values.shape[0]) == unit, 1.0, 0.3)
            fig.layout["yaxis" + ("" if k == 0 else str(k + 1))].range = [min(low, float(values.min())),
                                                                          max(high, float(values.max()))]
        fig.layout.shapes[0].update(x0=unit - 0.5, x1=unit + 0.5)
    return fig


# ------------------------------------------------------------------------------------------------ playback


def playback_steps(steps: int, t: int, max_frames: int = 300) -> list[int]:
    """The steps that get an animation frame: all of them, or every k-th (plus ``t`` and the last) when long."""
    stride = max(1, math.ceil(steps / max_frames))
    return sorted(set(range(0, steps, stride)) | {t, steps - 1})


def _step_title(t: int, x_labels: list[str] | tuple[str, ...]) -> str:
    return f"<b>t = {t}</b>   {X_T} = {html.escape(x_labels[t])}"


def playback_figure(trace: Trace, t: int, unit: int, x_labels: list[str] | tuple[str, ...], *, layer: int = 0,
                    direction: int = 0, present: bool = False, max_frames: int = 300) -> go.Figure:
    """The circuit with one animation frame per step, played in the browser, above h of the unit over time.

    Plotly's ▶/⏸ buttons and slider drive the frames; nothing goes back to the server while it plays.
    """
    spec = trace.spec
    lt = trace.layer(layer, direction)
    d = diagram(spec.kind, spec.variant)
    steps = playback_steps(lt.steps, t, max_frames)
    h_unit = lt.h[:, 0, unit]
    wires = [*_wire_traces(d, present), _glyphs(d, present)]
    first = _labels(d, step_values(trace, t, unit, layer, direction), html.escape(x_labels[t]), frozenset(),
                    present, _step_title(t, x_labels))
    label_index, marker_index = len(wires), len(wires) + 2
    line = go.Scatter(x=np.arange(lt.steps), y=h_unit, mode="lines", line={"color": BLUE, "width": 2},
                      xaxis="x2", yaxis="y2", name=NAMES["h"], showlegend=False,
                      hovertemplate="t = %{x}<br>h = %{y:.4f}<extra></extra>")
    marker = go.Scatter(x=[t], y=[h_unit[t]], mode="markers", marker={"color": BLUE, "size": 11}, xaxis="x2",
                        yaxis="y2", showlegend=False, hoverinfo="skip")
    fig = go.Figure([*wires, first, line, marker])
    frames = []
    for s in steps:
        values = step_values(trace, s, unit, layer, direction)
        text, _ = _label_texts(d, values, html.escape(x_labels[s]), frozenset(), _step_title(s, x_labels))
        # Plain dicts: Plotly builds a frame from them several times faster than from go.Scatter objects.
        frames.append(go.Frame(name=str(s), traces=[label_index, marker_index],
                               data=[{"type": "scatter", "text": text},
                                     {"type": "scatter", "x": [s], "y": [float(h_unit[s])]}]))
    fig.frames = frames
    names = [str(s) for s in steps]
    duration = int(min(500, max(60, 20_000 / len(steps))))
    xaxis, yaxis = _diagram_axes(d)
    diagram_px = _diagram_height(d, present)
    # Pixel budget, top to bottom: ▶/❚❚ and the frame slider, the circuit, h over time, its t axis.
    controls, line_px, axis_px, gap = (100 if present else 84), 110, 40, 24
    plot_px = controls + diagram_px + gap + line_px + axis_px
    h_low, h_high = float(min(-1.0, h_unit.min())), float(max(1.0, h_unit.max()))
    fig.update_layout(
        xaxis=xaxis, yaxis={**yaxis, "domain": [(axis_px + line_px + gap) / plot_px, 1 - controls / plot_px]},
        xaxis2={"domain": [0.0, 1.0], "anchor": "y2", "range": [-0.5, lt.steps - 0.5], "fixedrange": True,
                "title": {"text": "t", "standoff": 2}},
        yaxis2={"domain": [axis_px / plot_px, (axis_px + line_px) / plot_px], "range": [h_low, h_high],
                "fixedrange": True, "nticks": 3,
                "title": {"text": f'<span style="color:{BLUE}"><b>{_sub("h", "t")}</b></span>'}},
        shapes=_node_shapes(d, present), height=plot_px + 16, margin={"l": 8, "r": 8, "t": 8, "b": 8},
        plot_bgcolor="white", paper_bgcolor="white", font={"size": _font(present)}, dragmode=False,
        updatemenus=[{
            "type": "buttons", "direction": "left", "showactive": False, "x": 0.0, "y": 1.0, "xanchor": "left",
            "yanchor": "top", "pad": {"t": 24, "r": 10},
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
            "active": steps.index(t), "x": 0.34, "len": 0.66, "y": 1.0, "yanchor": "top", "pad": {"t": 0, "b": 0},
            "currentvalue": {"prefix": "t = ", "visible": True, "xanchor": "right"},
            "steps": [{"label": str(s), "method": "animate",
                       "args": [[str(s)], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate",
                                           "transition": {"duration": 0}}]} for s in steps],
        }],
    )
    return fig


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
                   line={"color": BLUE, "width": 2.5},
                   hovertemplate="t = %{x}<br>clamped h = %{y:.4f}<extra></extra>"),
        go.Scatter(x=steps, y=diff, name="clamped − original", mode="lines", xaxis="x2", yaxis="y2",
                   line={"color": INK, "width": 1.5}, fill="tozeroy", fillcolor=_tint(INK, 0.15),
                   hovertemplate="t = %{x}<br>difference = %{y:.4f}<extra></extra>"),
    ])
    low = float(min(-1.0, h_free[:, unit].min(), h_clamped[:, unit].min()))
    high = float(max(1.0, h_free[:, unit].max(), h_clamped[:, unit].max()))
    span = float(max(1e-9, np.abs(diff).max()))
    fig.update_layout(
        xaxis={"domain": [0, 1], "anchor": "y", "showticklabels": False, "fixedrange": True, "matches": "x2"},
        yaxis={"domain": [0.42, 1.0], "range": [low, high], "title": {"text": _sub("h", "t")}, "fixedrange": True},
        xaxis2={"domain": [0, 1], "anchor": "y2", "title": {"text": "t", "standoff": 2}, "fixedrange": True},
        yaxis2={"domain": [0.0, 0.32], "range": [-1.1 * span, 1.1 * span], "title": {"text": "difference"},
                "fixedrange": True, "nticks": 3},
        shapes=[{"type": "line", "xref": xr, "yref": f"{yr} domain", "x0": t, "x1": t, "y0": 0, "y1": 1,
                 "line": {"color": "#999", "width": 1, "dash": "dot"}} for xr, yr in (("x", "y"), ("x2", "y2"))],
        height=320 if present else 270, margin={"l": 8, "r": 8, "t": 30, "b": 8}, plot_bgcolor="white",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}, font={"size": _font(present)},
        hovermode="x unified",
    )
    return fig
