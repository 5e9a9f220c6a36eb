"""Figures of the compare page: the cells side by side over time, their memory experiments, their spectra.

Figures are built from plain dicts (one layout, traces placed on axes by name) rather than with
``make_subplots`` and ``add_vline``: the page redraws them whenever the time cursor moves, and the dict form
builds in a couple of milliseconds instead of tens.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from ..core.compare import Response
from ..core.kinds import KIND, per_kind
from ..core.spec import KIND_NAMES
from ..core.trace import LayerTrace
from ..explain.palette import CELL_COLORS, CELL_DASH, INK, INK_SOFT, color, colorscale, label
from . import style

ROUND_OFF = 1e-15  # distances below this are float64 round-off of states of size ~1

# The quantities drawn per cell, per unit, in the line panel (gates first, then the state).
# States are drawn first (thick, underneath) so that a gate or candidate close to them stays visible on top.
# minLSTM draws the shares that mix h, f′ and i′ (they sum to 1, where an LSTM's f and i need not): its f and i
# would be lines in the very colours of f′ and i′.
LINES = per_kind("figures.compare_lines", {"gru": ("h", "r", "z", "n"), "lstm": ("h", "c", "i", "f", "g", "o"),
                                           "rnn": ("h",), "mingru": ("h", "z", "n"), "minlstm": ("h", "f'", "i'", "n")})
LEGEND_ORDER = ("h", "c", "r", "z", "n", "i", "f", "g", "o", "f'", "i'")
SHORT_NAMES = {"h": "h", "c": "c", "r": "r reset", "z": "z update", "n": "n, g candidate", "i": "i input",
               "f": "f forget", "g": "n, g candidate", "o": "o output", "f'": "f′ kept share",
               "i'": "i′ written share"}


def _axis(n: int, letter: str) -> str:
    """Plotly's axis names: x, x2, x3 … (the layout key is xaxis, xaxis2, …)."""
    return letter if n == 1 else f"{letter}{n}"


def _domains(count: int, gap: float = 0.04) -> list[tuple[float, float]]:
    """Equal column domains across the paper with gaps between them."""
    width = (1.0 - gap * (count - 1)) / count
    return [(i * (width + gap), i * (width + gap) + width) for i in range(count)]


def _cursor(xref: str, yref: str, t: float) -> dict:
    """A vertical dashed line at step t spanning one axis' domain."""
    return dict(type="line", xref=xref, yref=f"{yref} domain", x0=t, x1=t, y0=0, y1=1,
                line=dict(color=INK_SOFT, width=1.5, dash="dot"))


def lineup_figure(
    layers: Mapping[str, LayerTrace],
    t: int,
    unit: int,
    window: tuple[int, int] | None = None,
    height: int = 420,
    present: bool = False,
) -> go.Figure:
    """The cells in aligned columns: top, h of every unit over time (heatmap in h's colour); below, one unit's
    gates, candidate and state over time (LSTM: c too), in the app's gate colours. A dotted line marks step t."""
    kinds = list(layers)
    start, stop = window or (0, next(iter(layers.values())).steps)
    steps = np.arange(start, stop)
    data, shapes, annotations = [], [], []
    layout: dict = {}
    seen: set[str] = set()
    for col, ((x0, x1), kind) in enumerate(zip(_domains(len(kinds)), kinds, strict=True)):
        lt = layers[kind]
        top, bottom = 2 * col + 1, 2 * col + 2
        xt, yt, xb, yb = _axis(top, "x"), _axis(top, "y"), _axis(bottom, "x"), _axis(bottom, "y")
        h = lt.h[start:stop, 0]
        data.append(dict(
            type="heatmap", z=h.T, x=steps, y=np.arange(h.shape[1]), xaxis=xt, yaxis=yt, zmin=-1, zmax=1,
            colorscale=colorscale("h"), showscale=col == len(kinds) - 1,
            colorbar=dict(title=dict(text="h", side="right", font=dict(size=style.font(present))), len=0.42,
                          y=0.79, thickness=10, tickfont=dict(size=style.font(present, -1))),
            hovertemplate=f"{KIND_NAMES[kind]}<br>t=%{{x}} unit %{{y}}<br>h=%{{z:.4f}}<extra></extra>",
        ))
        for name in LINES[kind]:
            values = lt.h if name == "h" else lt.gates[name]
            data.append(dict(
                type="scatter", mode="lines", x=steps, y=values[start:stop, 0, unit], xaxis=xb, yaxis=yb,
                name=SHORT_NAMES[name], legendgroup=SHORT_NAMES[name], showlegend=SHORT_NAMES[name] not in seen,
                legendrank=LEGEND_ORDER.index(name),
                line=dict(color=color(name), width=2.2 if name in ("h", "c") else 1.5),
                hovertemplate=f"{label(name)}=%{{y:.4f}} at t=%{{x}}<extra>{KIND_NAMES[kind]}</extra>",
            ))
            seen.add(SHORT_NAMES[name])
        ticks = style.step_ticks(start, stop - 1, 6)
        axis_x = style.axis(present, domain=[x0, x1], anchor=yt, showticklabels=False, range=[start - 0.5, stop - 0.5],
                            showgrid=False, **ticks)
        layout[f"xaxis{'' if top == 1 else top}"] = axis_x
        layout[f"yaxis{'' if top == 1 else top}"] = style.axis(present, domain=[0.58, 1.0], anchor=xt,
                                                               title="unit" if col == 0 else "", autorange="reversed",
                                                               showgrid=False)
        layout[f"xaxis{bottom}"] = style.axis(present, domain=[x0, x1], anchor=yb, matches=xt, title="t",
                                              showgrid=False, **ticks)
        memory = "c" in KIND[kind].state  # an LSTM's cell state is unbounded: widen the axis to it
        low = min(-1.0, float(np.min(lt.gates["c"][start:stop, 0, unit]))) if memory else -1.0
        high = max(1.0, float(np.max(lt.gates["c"][start:stop, 0, unit]))) if memory else 1.0
        layout[f"yaxis{bottom}"] = style.axis(present, domain=[0.0, 0.5], anchor=xb, range=[low - 0.05, high + 0.05],
                                              title=f"unit {unit}" if col == 0 else "")
        shapes += [_cursor(xt, yt, t), _cursor(xb, yb, t)]
        annotations.append(dict(text=style.swatch(CELL_COLORS[kind]) + f"<b>{KIND_NAMES[kind]}</b>",
                                x=(x0 + x1) / 2, y=1.0, xref="paper",
                                yref="paper", yanchor="bottom", showarrow=False,
                                font=dict(color=INK, size=style.font(present, 2))))
        if not KIND[kind].sigmoid:
            annotations.append(dict(text="no gates", x=(x0 + x1) / 2, y=0.5, xref="paper", yref="paper",
                                    yanchor="top", showarrow=False, font=dict(size=style.font(present, -1),
                                                                              color=INK)))
    layout.update(style.layout(present))
    layout.update(
        height=int(height * (1.2 if present else 1.0)), margin=dict(l=50, r=10, t=64 if present else 52, b=40),
        shapes=shapes, annotations=annotations,
        legend=dict(orientation="h", y=1.06, yanchor="bottom", x=0.5, xanchor="center",
                    font=dict(size=style.font(present, -1)), itemwidth=30, tracegroupgap=0),
        hovermode="closest",
    )
    return style.inked(go.Figure(data=data, layout=layout))


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: exact zeros (nothing left at all) become gaps rather than −∞."""
    out = np.asarray(values, dtype=float).copy()
    out[out <= 0] = np.nan
    return out


def memory_figure(
    responses: Mapping[str, Response],
    title: str,
    x_title: str,
    y_title: str,
    x_offset: int = 0,
    height: int = 340,
    present: bool = False,
) -> go.Figure:
    """One line per cell (its own colour and dash) of a distance over steps on a log axis, with the float64
    round-off floor marked."""
    data = []
    shown = []
    for kind, resp in responses.items():
        x = np.arange(len(resp.distance)) + x_offset
        y = _positive(resp.distance)
        shown.append(y)
        data.append(dict(type="scatter", mode="lines", x=x, y=y, name=KIND_NAMES[kind],
                         line=dict(color=CELL_COLORS[kind], width=2.2, dash=CELL_DASH[kind]),
                         hovertemplate=f"{KIND_NAMES[kind]}: %{{y:.3e}} at %{{x}}<extra></extra>"))
    values = np.concatenate([*shown, [ROUND_OFF]]) if shown else np.array([ROUND_OFF])
    steps = max((len(r.distance) for r in responses.values()), default=1)
    layout = style.layout(present)
    layout.update(
        title=dict(text=title, font=dict(size=style.font(present, 1))), height=int(height * (1.15 if present else 1)),
        margin=dict(l=60, r=10, t=40, b=45), legend=dict(orientation="h", y=-0.25, x=0.5, xanchor="center",
                                                         font=dict(size=style.font(present))),
        xaxis=style.axis(present, title=x_title, **style.step_ticks(x_offset, x_offset + steps - 1)),
        yaxis=style.axis(present, title=y_title, **style.log_ticks(values)),
        shapes=[dict(type="line", xref="x domain", yref="y", x0=0, x1=1, y0=ROUND_OFF, y1=ROUND_OFF,
                     line=dict(color=INK_SOFT, dash="dot", width=1))],
        annotations=[dict(text="float64 round-off", xref="x domain", yref="y", x=1, y=np.log10(ROUND_OFF),
                          xanchor="right", yanchor="bottom", showarrow=False,
                          font=dict(size=style.font(present, -1), color=INK))],
    )
    return style.inked(go.Figure(data=data, layout=layout))


def radii_figure(radii: Mapping[str, Mapping[str, float]], height: int = 260, present: bool = False) -> go.Figure:
    """Spectral radius of each cell's recurrent blocks (bars in the gate colours; a cell's single W_hh in the
    cell's colour) against the line ρ = 1."""
    data = []
    for kind, by_block in radii.items():
        for block, rho in by_block.items():
            label = "W_hh" if block == "h" else f"W_h{block}"
            data.append(dict(type="bar", x=[f"{KIND_NAMES[kind]}<br>{label}"], y=[rho], showlegend=False,
                             marker=dict(color=CELL_COLORS[kind] if block == "h" else color(block)),
                             hovertemplate=f"{KIND_NAMES[kind]} {label}: ρ = %{{y:.3f}}<extra></extra>"))
    top = max([1.2, *(1.1 * r for b in radii.values() for r in b.values())])
    layout = style.layout(present)
    layout.update(
        height=int(height * (1.2 if present else 1)), margin=dict(l=50, r=10, t=30, b=50), bargap=0.25,
        title=dict(text="Spectral radius ρ of the scaled recurrent blocks", font=dict(size=style.font(present, 1))),
        xaxis=style.axis(present), yaxis=style.axis(present, title="ρ", range=[0, top]),
        shapes=[dict(type="line", xref="x domain", yref="y", x0=0, x1=1, y0=1, y1=1,
                     line=dict(color=INK_SOFT, dash="dash", width=1))],
        annotations=[dict(text="ρ = 1", xref="x domain", yref="y", x=1, y=1, xanchor="right", yanchor="bottom",
                          showarrow=False, font=dict(size=style.font(present, -1)))],
    )
    return style.inked(go.Figure(data=data, layout=layout))
