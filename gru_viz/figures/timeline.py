"""Timeline figures: every gate and state of a run over time × unit, the units' trajectories, and their PCA.

- :func:`timeline_figure`: the input on top, then one heatmap per quantity (r, z, n, h for a GRU; i, f, g,
  o, c, h for an LSTM; z, n, h for minGRU; f, i, n, f′, i′, h for minLSTM; the pre-activation and h for a
  vanilla RNN), all on one shared time axis. Long runs are shown in blocks: above ``MAX_COLUMNS`` steps each
  heatmap column is the *mean* of a block of consecutive steps, and its hover gives the block's min and max.
- :func:`units_figure`: h of every unit as a line over time (above ``MAX_LINE_BLOCKS`` blocks, each block's
  min and max, so no spike disappears).
- :func:`pca_figure`: h projected on its top two principal components (:func:`pca_2d`), coloured by time.

Time is always measured in steps t (0-based, as in the traces), whatever the decimation, so a click at
x = t means step t.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ..core.kinds import per_kind
from ..core.sequences import Sequence
from ..core.trace import LayerTrace
from ..explain import palette
from ..explain.literal import shorten
from . import style

MAX_COLUMNS = 300  # heatmap columns; ~3.5 px each at 1280 px wide
MAX_LINE_BLOCKS = 400  # line plots draw a min/max pair per block above this many steps
MAX_PCA_POINTS = 500  # the PCA scatter shows every k-th step above this (the PCA itself uses all)
HOVER_DETAIL_MAX = 40_000  # numbers per heatmap beyond which the hover lists only its own quantity
MAX_TICK_LABELS = 120  # text input: one character tick per step up to this many steps
MAX_TICK_CHARS = 8  # a token's tick is cut to this many characters (the hover has it whole)

# What each kind of cell shows, in the order of its equations; "pre_h" is a vanilla RNN's W_ih x + W_hh h + b.
# minLSTM shows its gates f and i (the ones a clamp sets, and the export's columns) and then the shares that mix
# h = f′ ⊙ h + i′ ⊙ n, right above h: a large f says nothing on its own, it keeps only f / (f + i).
QUANTITIES = per_kind("figures.timeline", {
    "gru": ("r", "z", "n", "h"),
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "mingru": ("z", "n", "h"),
    "rnn": ("pre_h", "h"),
    "minlstm": ("f", "i", "n", "f'", "i'", "h"),
})
GATES_01 = palette.GATES_01  # quantities that live in [0, 1]
NAMES = {**palette.NAMES, "pre_h": "pre-activation of h"}
SHORT = {"pre_h": "pre h", "f'": "f′", "i'": "i′"}  # axis titles
TIME_SCALE = "Viridis"  # time in the PCA view (not a quantity, so not one of the palette's scales)
FONT = style.BASE  # base font size: normal, presenter mode
FONT_FAMILY = style.FONT_FAMILY


# ------------------------------------------------------------------------------------------- data


def quantities(lt: LayerTrace, kind: str, batch: int = 0) -> dict[str, np.ndarray]:
    """The quantities a timeline shows for one layer trace, each (T, units), in equation order."""
    out = {}
    for name in QUANTITIES[kind]:
        if name == "h":
            out[name] = lt.h[:, batch, :]
        elif name == "pre_h":
            out[name] = lt.pre["h"][:, batch, :]
        else:
            out[name] = lt.gates[name][:, batch, :]
    return out


ORDERS = ("index", "activity", "cluster")  # how the heatmaps order their unit rows (the link's "order")
MAX_UNIT_TICKS = 8  # unit labels per heatmap row, at most (every k-th of an ordered layer)
MAX_LINES = 64  # above this many units (as the Step bars), the line plot draws the most active and the selected one


def activity(h: np.ndarray) -> np.ndarray:
    """Each unit's activity over a run: the mean |h_t − h_{t−1}| over its steps (h is (T, units), h₀ = 0)."""
    return np.abs(np.diff(h, axis=0, prepend=np.zeros((1, h.shape[1])))).mean(axis=0)


def unit_order(h: np.ndarray, how: str = "index") -> np.ndarray:
    """A permutation of the units of ``h`` (T, units), top row first: their index; by :func:`activity`, the
    most active first (ties by index); or "cluster": units whose h moves together side by side (a greedy
    seriation on the correlation of h over time, from the most active unit: each next row is the unit most
    correlated with the last one placed; deterministic, NumPy only)."""
    units = h.shape[1]
    if how == "index" or units <= 2:
        return np.arange(units)
    act = activity(h)
    by_activity = np.lexsort((np.arange(units), -act))
    if how == "activity":
        return by_activity
    if how != "cluster":
        raise ValueError(f"unknown order {how!r}: one of {', '.join(ORDERS)}")
    centred = h - h.mean(axis=0)
    norm = np.linalg.norm(centred, axis=0)
    unit_vectors = np.divide(centred, norm, out=np.zeros_like(centred), where=norm > 0)
    corr = unit_vectors.T @ unit_vectors  # a constant unit correlates 0 with every other
    placed = np.zeros(units, dtype=bool)
    order = [int(by_activity[0])]
    placed[order[0]] = True
    for _ in range(units - 1):
        row = np.where(placed, -np.inf, corr[order[-1]])
        order.append(int(np.argmax(row)))  # ties: the lowest index
        placed[order[-1]] = True
    return np.array(order)


@dataclass(frozen=True)
class Blocks:
    """How T steps map to heatmap columns: column j covers the steps starts[j] ≤ t < stops[j]."""

    steps: int
    size: int  # steps per block (the last block may be shorter)
    starts: np.ndarray
    stops: np.ndarray

    @property
    def aggregated(self) -> bool:
        """Whether a column stands for more than one step."""
        return self.size > 1

    @property
    def count(self) -> int:
        """The number of columns."""
        return len(self.starts)

    @property
    def centers(self) -> np.ndarray:
        """The middle of each block, in steps."""
        return (self.starts + self.stops - 1) / 2

    @property
    def edges(self) -> np.ndarray:
        """Column edges in steps (count + 1 values): step t's own cell spans t − ½ … t + ½."""
        return np.append(self.starts, self.steps) - 0.5


def blocks(steps: int, max_columns: int = MAX_COLUMNS) -> Blocks:
    """Group ``steps`` steps into at most ``max_columns`` blocks of equal size (the last may be shorter)."""
    size = max(1, math.ceil(steps / max_columns))
    starts = np.arange(0, steps, size)
    return Blocks(steps, size, starts, np.minimum(starts + size, steps))


def block_reduce(values: np.ndarray, b: Blocks, how: str = "mean") -> np.ndarray:
    """Reduce (T, U) values over each block of steps: "mean", "min" or "max" → (count, U)."""
    if not b.aggregated:
        return values
    if how == "mean":
        return np.add.reduceat(values, b.starts, axis=0) / (b.stops - b.starts)[:, None]
    if how == "min":
        return np.minimum.reduceat(values, b.starts, axis=0)
    if how == "max":
        return np.maximum.reduceat(values, b.starts, axis=0)
    raise ValueError(f"unknown reduction {how!r}")


def envelope(values: np.ndarray, b: Blocks) -> tuple[np.ndarray, np.ndarray]:
    """Min/max decimation of one series (T,): per block its min and max, at their own steps, in time order.

    Returns (steps, values), each of length ≤ 2 · count; without aggregation, the series itself.
    """
    if not b.aggregated:
        return np.arange(b.steps), values
    padded = np.full(b.count * b.size, np.nan)
    padded[: b.steps] = values
    grid = padded.reshape(b.count, b.size)
    lo = b.starts + np.nanargmin(grid, axis=1)
    hi = b.starts + np.nanargmax(grid, axis=1)
    t = np.sort(np.stack([lo, hi], axis=1), axis=1).ravel()  # time order inside each block
    t = t[np.r_[True, t[1:] != t[:-1]]]  # one point where a block's min and max are the same step
    return t, values[t]


def pca_2d(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project states h (T, H) on their top two principal components.

    Returns coords (T, 2) and the fraction of the variance each component explains (2,). Missing
    components (H = 1, or a run whose states all coincide) have zero coordinates and zero share. Each
    component's sign is fixed so that its largest loading is positive, so the picture does not flip.
    """
    h = np.asarray(h, dtype=np.float64)
    centred = h - h.mean(axis=0)
    coords = np.zeros((h.shape[0], 2))
    ratio = np.zeros(2)
    scale = max(1.0, float(np.abs(h).max(initial=0.0)))
    if not np.any(np.abs(centred) > 1e-12 * scale):
        return coords, ratio
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(2, len(s))
    signs = np.sign(vt[np.arange(k), np.argmax(np.abs(vt[:k]), axis=1)])
    coords[:, :k] = u[:, :k] * s[:k] * signs
    var = s**2
    ratio[:k] = var[:k] / var.sum()
    return coords, ratio


def colorscale(name: str) -> list[list]:
    """A row's heatmap scale: the quantity's own colour (an RNN's pre-activation is h's; an input of several
    values goes from the ink, negative, through the background to the input's grey)."""
    if name == "x":
        return [[0.0, palette.INK], [0.5, palette.PAPER], [1.0, palette.color("x")]]
    return palette.colorscale("h" if name == "pre_h" else name)


def row_color(name: str) -> str:
    """The colour of a row's letter."""
    return palette.color("h" if name == "pre_h" else name)


def value_range(name: str, values: np.ndarray) -> tuple[float, float]:
    """Colour range: [0, 1] for gates; symmetric around 0 and at least [−1, 1] for states and candidates."""
    if name in GATES_01:
        return palette.gate_range(name)
    top = max(1.0, float(np.abs(values).max(initial=0.0)))
    return -top, top


def step_from_selection(selection: Mapping | None, steps: int) -> int | None:
    """The step t a Plotly selection (``st.plotly_chart(..., on_select=...)``'s state) points at, if any."""
    if not selection:
        return None
    points = (selection.get("selection") or {}).get("points") or []
    for point in points:
        x = point.get("x")
        if isinstance(x, int | float) and math.isfinite(x):
            return int(min(max(round(x), 0), steps - 1))
    return None


# ---------------------------------------------------------------------------------------- figures


def _title(name: str) -> str:
    return f"<b>{SHORT.get(name, name)}</b>"


def _hover_label(name: str) -> str:
    return SHORT.get(name, name)


def _heatmap(name: str, values: np.ndarray, b: Blocks, detail: dict[str, np.ndarray], text: np.ndarray | None,
             units_label: str = "unit", order: np.ndarray | None = None) -> dict:
    """One quantity as a heatmap trace (a dict): z is (units, columns) with its rows in ``order`` (row k shows
    unit order[k]), hover from customdata, whose last channel is each row's real unit."""
    rows = np.arange(values.shape[1]) if order is None else np.asarray(order)
    values = values[:, rows]
    detail = {n: v[:, rows] for n, v in detail.items() if v.shape[1] == len(rows)}
    shown = block_reduce(values, b)
    low, high = value_range(name, values)
    label = _hover_label(name)
    where = "t=%{customdata[0]}" + (" %{text}" if text is not None else "")
    if b.aggregated:
        # customdata: first step, last step, block min, block max. Hover shows 4 decimals, so float32 (exact
        # for steps, 7 significant digits for values) halves what the browser loads; z itself stays float64.
        lo, hi = block_reduce(values, b, "min"), block_reduce(values, b, "max")
        first = np.broadcast_to(b.starts[:, None], shown.shape)
        last = np.broadcast_to(b.stops[:, None] - 1, shown.shape)
        unit = np.broadcast_to(rows[None, :], shown.shape)
        custom = np.stack([first, last, lo, hi, unit], axis=-1).transpose(1, 0, 2).astype(np.float32)
        template = (f"steps %{{customdata[0]}}–%{{customdata[1]}}<br>{units_label} %{{customdata[4]}}<br>"
                    f"{label}: mean %{{z:.4f}}, min %{{customdata[2]:.4f}}, max %{{customdata[3]:.4f}}")
    else:
        source = {**detail, name: values}
        names = [n for n in source if source[n].shape == values.shape]
        if values.size * (len(names) + 1) > HOVER_DETAIL_MAX:
            names = [name]
        t = np.broadcast_to(np.arange(b.steps)[:, None], values.shape)
        unit = np.broadcast_to(rows[None, :], values.shape)
        custom = np.stack([t, *(source[n] for n in names), unit], axis=-1).transpose(1, 0, 2).astype(np.float32)
        lines = [f"{_hover_label(n)} = %{{customdata[{k + 1}]:.4f}}" for k, n in enumerate(names)]
        template = f"{where}<br>{units_label} %{{customdata[{len(names) + 1}]}}<br>" + "<br>".join(lines)
    trace = {"type": "heatmap", "z": shown.T, "x": b.edges, "y": np.arange(values.shape[1]), "customdata": custom,
             "zmin": low, "zmax": high, "colorscale": colorscale(name),
             "hovertemplate": template + "<extra></extra>", "name": NAMES.get(name, name), "showscale": True}
    if text is not None:
        trace["text"] = text
    if name not in GATES_01:
        trace["zmid"] = 0.0
    return trace


def _picker(b: Blocks, y: float, row: int) -> dict:
    """Invisible points, one per column: Plotly selects points (not heatmap cells) on click, so a click
    anywhere in a column (hovermode "x" finds the column by x alone) selects the point at that step."""
    return {"type": "scatter", "x": np.round(b.centers).astype(int) if b.aggregated else np.arange(b.steps),
            "y": np.full(b.count, y), "mode": "markers",
            "marker": {"size": 8, "opacity": 0.0, "color": palette.GREY}, "hoverinfo": "none",
            "selected": {"marker": {"opacity": 0.0}}, "unselected": {"marker": {"opacity": 0.0}},
            "showlegend": False, "name": f"steps (row {row})"}


MAX_SYMBOL_ROWS = 24  # a one-hot input over a larger alphabet shows only the symbols its steps read


def input_rows(seq: Sequence) -> np.ndarray:
    """The input's rows the x row draws: every value; for a one-hot input over more than
    :data:`MAX_SYMBOL_ROWS` symbols (a 256-symbol vocabulary), only the symbols that occur, in alphabet order."""
    if seq.alphabet is None or seq.width <= MAX_SYMBOL_ROWS:
        return np.arange(seq.width)
    used = np.flatnonzero(np.any(seq.values != 0, axis=0))
    return used if used.size else np.arange(1)


def _input_traces(seq: Sequence, b: Blocks, text: np.ndarray | None, rows: np.ndarray | None = None) -> list[dict]:
    """The input row: a line for one value per step, a heatmap (one row per value or symbol, of ``rows``)
    otherwise."""
    x = seq.values
    if seq.width == 1:
        t, v = envelope(x[:, 0], b)
        mode = "lines+markers" if b.steps <= 200 else "lines"
        hover = "t=%{x}<br>x = %{y:.4f}" + ("<br>(block min/max)" if b.aggregated else "")
        return [{"type": "scatter", "x": t, "y": v, "mode": mode, "line": {"color": palette.color("x"), "width": 2},
                 "marker": {"size": 5, "color": palette.color("x")}, "name": NAMES["x"], "showlegend": False,
                 "hovertemplate": hover + "<extra></extra>"}]
    if seq.alphabet is None:
        return [_heatmap("x", x, b, {}, text, units_label="input", order=rows)]
    # Text: one-hot rows, one per symbol of the alphabet, the neutral zero (0) to the input's grey (1).
    heat = _heatmap("x", x, b, {}, text, units_label="symbol", order=rows)
    heat.pop("zmid", None)
    heat.update(colorscale=[[0, palette.ZERO], [1, palette.color("x")]], zmin=0.0, zmax=1.0, showscale=False)
    return [heat]


def _axis(row: int) -> str:
    """The axis suffix of a subplot row: "" for row 1, else its number (xaxis2/yaxis2, x2/y2)."""
    return "" if row == 1 else str(row)


def _vline(t: int, row: int) -> dict:
    """The step-through cursor on one subplot: a dashed line at x = t across the row's full height."""
    return {"type": "line", "x0": t, "x1": t, "xref": f"x{_axis(row)}", "y0": 0, "y1": 1,
            "yref": f"y{_axis(row)} domain", "line": {"color": palette.INK_SOFT, "width": 1.5, "dash": "dash"}}


def timeline_figure(seq: Sequence, lt: LayerTrace, kind: str, *, t: int | None = None, present: bool = False,
                    max_columns: int = MAX_COLUMNS, order: str = "index", input_names: tuple[str, ...] | None = None,
                    mark_unit: int | None = None) -> go.Figure:
    """The input on top, then one heatmap per quantity (units × time), all sharing one time axis.

    ``t`` marks the step-through cursor with a dashed line. Rows: 1 is the input, 2… the quantities in
    :data:`QUANTITIES` order. Hover a cell for every quantity of that unit at that step (or, for a block of
    steps, the block's mean, min and max); the invisible per-column points make a click pick a step. ``order``
    (:data:`ORDERS`) orders every quantity's unit rows by :func:`unit_order` of h; the axis and the hover name
    the real units. ``input_names`` names the input's channels on its rows (what each one carries);
    ``mark_unit`` outlines that unit's row in every quantity, for a sentence that names one unit among many.
    """
    # Built as plain dicts and validated once at the end: Plotly's incremental API (make_subplots,
    # update_*axes, add_vline) costs ~7× more server CPU, which a classroom on one server feels.
    data = quantities(lt, kind)
    rows_order = unit_order(data["h"], order)
    b = blocks(seq.steps, max_columns)
    text = None
    x_rows = input_rows(seq)
    named = seq.alphabet is not None or getattr(seq, "tokens", False)  # text: each step's character or token
    if named and not b.aggregated:  # the symbol under the cursor
        chars = np.asarray(seq.labels, dtype=object)
        text = np.broadcast_to(chars[None, :], (len(x_rows), b.count))
    font = FONT[present]
    names = list(data)
    rows = len(names) + 1
    char_ticks = named and b.steps <= MAX_TICK_LABELS
    zoom = 1.25 if present else 1.0
    # Row heights and gaps in pixels, so rows keep their size whatever the number of quantities.
    rows_px = [60 if seq.width == 1 else min(200, 12 * len(x_rows) + 16)]
    rows_px += [min(150, max(70, 16 * v.shape[1] + 24)) for v in data.values()]
    rows_px = [int(r * zoom) for r in rows_px]
    # room under the x row for its tick labels: a character's, or a word's turned upright on a narrow screen
    longest = min(max(map(len, seq.labels)), MAX_TICK_CHARS) if char_ticks else 0
    tick_px = 0 if not char_ticks else 22 if longest <= 2 else 10 + 7 * longest
    gaps_px = [int((12 + tick_px) * zoom)] + [int(12 * zoom)] * (len(names) - 1)
    # the row letters sit left of the widest tick label (a 3-digit unit, the input's "−0.5"), never on it
    tick_chars = max([len(str(max(v.shape[1] for v in data.values()) - 1)), 4 if seq.width == 1 else 2,
                      *(len(name) + 4 for name in input_names or ())])  # "0 · value"
    letter_shift = round(14 + 0.6 * (font - 1) * tick_chars)
    margin = {"l": max(80, letter_shift + 2 * font), "r": 70, "t": 10, "b": int(50 * zoom)}
    plot_px = sum(rows_px) + sum(gaps_px)

    # One x axis per row, all matching the bottom one (shared time); tick labels only at the bottom.
    layout: dict = {}
    domains = []
    top = 1.0
    for px, gap in zip(rows_px, [*gaps_px, 0], strict=True):
        domains.append([max(top - px / plot_px, 0.0), top])
        top -= (px + gap) / plot_px
    for row in range(1, rows + 1):
        x_axis = {"anchor": f"y{_axis(row)}", "domain": [0.0, 1.0], "showgrid": False, "zeroline": False,
                  "showspikes": True, "spikemode": "across", "spikesnap": "cursor", "spikethickness": 1,
                  "spikedash": "dot", "spikecolor": palette.INK_SOFT, "range": [-0.5, b.steps - 0.5],
                  **style.step_ticks(0, b.steps - 1, 12)}
        if row < rows:
            x_axis.update(matches=f"x{rows}", showticklabels=False)
        else:
            x_axis["title"] = {"text": "time step t", "font": {"size": font}}
            x_axis["tickfont"] = {"size": font - 1}
        layout[f"xaxis{_axis(row)}"] = x_axis
        layout[f"yaxis{_axis(row)}"] = {"anchor": f"x{_axis(row)}", "domain": domains[row - 1],
                                        "tickfont": {"size": font - 1}}

    traces = [{**trace, "xaxis": "x", "yaxis": "y"} for trace in _input_traces(seq, b, text, x_rows)]
    input_mid = (seq.values.min() + seq.values.max()) / 2 if seq.width == 1 else (len(x_rows) - 1) / 2
    traces.append({**_picker(b, float(input_mid), 1), "xaxis": "x", "yaxis": "y"})
    for row, name in enumerate(names, start=2):
        heat_text = None
        if text is not None:
            heat_text = np.broadcast_to(text[:1], (data[name].shape[1], b.count))
        axes = {"xaxis": f"x{row}", "yaxis": f"y{row}"}
        traces.append({**_heatmap(name, data[name], b, data, heat_text, order=rows_order), **axes})
        traces.append({**_picker(b, (data[name].shape[1] - 1) / 2, row), **axes})

    # Colour bars beside their own rows (the letters on the left say which quantity each row is).
    for trace in traces:
        if trace["type"] == "heatmap":
            lo, hi = layout["yaxis" + trace["yaxis"][1:]]["domain"]
            trace["colorbar"] = {"y": (lo + hi) / 2, "len": max(hi - lo, 0.05), "yanchor": "middle",
                                 "thickness": 12, "x": 1.01, "tickfont": {"size": font - 1}, "outlinewidth": 0,
                                 "nticks": 3}

    if seq.width > 1:
        ticks = symbol_labels(seq) if seq.alphabet is not None else list(range(seq.width))
        shown = len(x_rows)
        layout["yaxis"].update(autorange="reversed", tickvals=list(range(shown)), showticklabels=shown <= 24)
        if shown <= 24:
            if input_names is not None and seq.alphabet is None:  # "0 · value", not a bare channel number
                ticks = [f"{k} · {name}" for k, name in enumerate(input_names)]
            layout["yaxis"]["ticktext"] = [_tick(str(ticks[r])) for r in x_rows]
    for row, name in enumerate(names, start=2):
        units = data[name].shape[1]
        layout[f"yaxis{row}"].update(autorange="reversed", showgrid=False, zeroline=False)
        if units <= 8 or order != "index":  # every row's real unit, thinned to at most MAX_UNIT_TICKS labels
            every = max(1, -(-units // MAX_UNIT_TICKS))
            layout[f"yaxis{row}"].update(tickmode="array", tickvals=list(range(0, units, every)),
                                         ticktext=[str(u) for u in rows_order[::every]])
    if char_ticks:
        # The characters under the input row, so a reader sees which symbol each column read.
        layout["xaxis"].update(showticklabels=True, tickmode="array", tickvals=list(range(b.steps)),
                               ticktext=[_tick(shorten(c, MAX_TICK_CHARS)) for c in seq.labels], side="bottom",
                               tickfont={"size": font - 1})
        if max(map(len, seq.labels)) <= 2:  # characters stay upright; words turn when they would overlap (auto)
            layout["xaxis"]["tickangle"] = 0
    # Each row's letter, upright, left of the unit axis, behind a swatch of its palette colour (the letter in the
    # ink: a gate's colour as text is under 4.5:1 on one theme or the other); hover it for the full name.
    annotations = []
    for row, name in enumerate(["x", *names], start=1):
        lo, hi = layout[f"yaxis{_axis(row)}"]["domain"]
        annotations.append({"text": style.swatch(row_color(name)) + _title(name), "hovertext": NAMES.get(name, name),
                            "x": 0, "xref": "paper", "xanchor": "right", "xshift": -letter_shift, "y": (lo + hi) / 2,
                            "yref": "paper", "showarrow": False, "font": {"size": font + 5, "color": palette.INK}})
    shapes = [_vline(t, row) for row in range(1, rows + 1)] if t is not None and 0 <= t < b.steps else []
    # The named unit's row, outlined in every quantity (rows follow rows_order); an outline, not a label: the
    # colour bars hold the right margin and the row letters the left.
    if mark_unit is not None:
        k = int(np.flatnonzero(rows_order == mark_unit)[0])
        shapes += [{"type": "rect", "x0": -0.5, "x1": b.steps - 0.5, "y0": k - 0.5, "y1": k + 0.5,
                    "xref": f"x{row}", "yref": f"y{row}", "name": f"unit {mark_unit}",
                    "line": {"color": palette.INK, "width": 2.5}, "fillcolor": "rgba(0,0,0,0)"}
                   for row in range(2, rows + 1)]
    layout.update(annotations=annotations, shapes=shapes, height=plot_px + margin["t"] + margin["b"],
                  margin=margin, hovermode="x", showlegend=False, **_style(font))
    return style.inked(go.Figure(data=traces, layout=layout))


def symbol_labels(seq: Sequence) -> list[str]:
    """A visible label per symbol of a text's alphabet, the same as its steps' labels (␣ for a space)."""
    shown = dict(zip(np.argmax(seq.values, axis=1).tolist(), seq.labels, strict=True))
    return [shown.get(i, symbol if symbol.isprintable() and not symbol.isspace() else repr(symbol)[1:-1])
            for i, symbol in enumerate(seq.alphabet or ())]


def _style(font: int) -> dict:
    """Layout settings every figure here shares: theme ink on transparent backgrounds (the page follows the
    viewer's theme; an exported file gets the light theme's colours, see :func:`gru_viz.figures.style.for_file`)."""
    return {"font": {"size": font, "family": FONT_FAMILY, "color": palette.INK},
            "paper_bgcolor": style.TRANSPARENT, "plot_bgcolor": style.TRANSPARENT,
            "hoverlabel": {"font": {"size": font, "family": FONT_FAMILY}},
            "legend": {"font": {"size": font}}}


def _tick(label: str) -> str:
    """A tick label that Plotly shows literally (its text is HTML-ish)."""
    return label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def line_units(h: np.ndarray, unit: int = 0, max_lines: int = MAX_LINES) -> list[int]:
    """The units :func:`units_figure` draws, in index order: all of them up to ``max_lines``; above, the
    ``max_lines − 1`` most active (:func:`activity`) and the selected ``unit``."""
    units = h.shape[1]
    if units <= max_lines:
        return list(range(units))
    return sorted({unit, *unit_order(h, "activity")[: max_lines - 1].tolist()})


def units_figure(h: np.ndarray, *, unit: int = 0, t: int | None = None, present: bool = False,
                 max_blocks: int = MAX_LINE_BLOCKS) -> go.Figure:
    """h of every unit over time, one line each: the selected ``unit`` in h's colour on top, the others thin and
    faint behind it (hover a line for its unit). Above :data:`MAX_LINES` units: the most active ones
    (:func:`line_units`) and the selected one, not a grey mass of hundreds of lines."""
    steps, units = h.shape
    b = blocks(steps, max_blocks)
    font = FONT[present]
    own = palette.color("h")
    traces = []
    for u in [*[k for k in line_units(h, unit) if k != unit], unit]:  # the selected unit last: drawn on top
        x, y = envelope(h[:, u], b)
        chosen = u == unit
        traces.append({"type": "scatter", "x": x, "y": y, "mode": "lines", "name": f"unit {u}",
                       "showlegend": chosen, "opacity": 1.0 if chosen else (0.55 if units <= 4 else 0.3),
                       "line": {"color": own if chosen else palette.INK_SOFT, "width": 3 if chosen else 1.1},
                       "hovertemplate": f"<b>unit {u}</b>{' (selected)' if chosen else ''}<br>t=%{{x}}<br>"
                                        "h = %{y:.4f}<extra></extra>"})
    shapes = [_vline(t, 1)] if t is not None and 0 <= t < steps else []
    layout = {"height": int(320 * (1.2 if present else 1.0)), "margin": {"l": 60, "r": 10, "t": 10, "b": 40},
              "showlegend": True, "hovermode": "closest", **_style(font), "shapes": shapes,
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": font}},
              "xaxis": {"title": {"text": "time step t", "font": {"size": font}}, "range": [-0.5, steps - 0.5],
                        "showgrid": False, "tickfont": {"size": font - 1}, **style.step_ticks(0, steps - 1)},
              "yaxis": {"title": {"text": style.swatch(own) + "<b>h</b>",
                                  "font": {"color": palette.INK, "size": font + 2}},
                        "tickfont": {"size": font - 1}, "zeroline": True, "zerolinecolor": palette.GRID,
                        "gridcolor": palette.GRID}}
    return style.inked(go.Figure(data=traces, layout=layout))


def pca_figure(h: np.ndarray, *, labels: tuple[str, ...] | None = None, present: bool = False,
               max_points: int = MAX_PCA_POINTS) -> go.Figure:
    """The trajectory of h in the plane of its top two principal components, coloured by time."""
    coords, ratio = pca_2d(h)
    steps = h.shape[0]
    stride = max(1, math.ceil(steps / max_points))
    idx = np.arange(0, steps, stride)
    if idx[-1] != steps - 1:
        idx = np.append(idx, steps - 1)  # always show where the run ends
    font = FONT[present]
    hover = "t=%{customdata}<br>PC1 %{x:.4f}<br>PC2 %{y:.4f}"
    if labels is not None:
        hover = "t=%{customdata} %{text}<br>PC1 %{x:.4f}<br>PC2 %{y:.4f}"
    traces = [
        {"type": "scatter", "x": coords[idx, 0], "y": coords[idx, 1], "mode": "lines",
         "line": {"color": palette.GRID, "width": 1}, "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "x": coords[idx, 0], "y": coords[idx, 1], "mode": "markers", "customdata": idx,
         "showlegend": False, "text": None if labels is None else [labels[i] for i in idx],
         "marker": {"color": idx, "colorscale": TIME_SCALE, "size": 7 if len(idx) <= 300 else 4,
                    "colorbar": {"title": {"text": "t", "font": {"size": font}}, "thickness": 12,
                                 "tickfont": {"size": font - 1}, **style.step_ticks(0, max(steps - 1, 1), 6)},
                    "cmin": 0, "cmax": max(steps - 1, 1)},
         "hovertemplate": hover + "<extra></extra>", "name": "h(t)"},
    ]
    annotations = [{"x": coords[i, 0], "y": coords[i, 1], "text": text, "showarrow": True, "arrowhead": 2,
                    "ax": 20, "ay": -20, "font": {"size": font - 1}, "arrowcolor": palette.INK_SOFT}
                   for i, text in ((0, "start"), (steps - 1, "end"))]
    layout = {"height": int(320 * (1.2 if present else 1.0)), "margin": {"l": 60, "r": 10, "t": 10, "b": 40},
              "hovermode": "closest", **_style(font), "annotations": annotations,
              "xaxis": {"title": {"text": f"PC1 ({ratio[0]:.1%} of variance)", "font": {"size": font}},
                        "tickfont": {"size": font - 1}, "zerolinecolor": palette.GRID, "gridcolor": palette.GRID},
              "yaxis": {"title": {"text": f"PC2 ({ratio[1]:.1%})", "font": {"size": font}},
                        "tickfont": {"size": font - 1}, "zerolinecolor": palette.GRID, "gridcolor": palette.GRID},
              "meta": {"explained_variance_ratio": ratio.tolist(), "stride": stride}}
    return style.inked(go.Figure(data=traces, layout=layout))
