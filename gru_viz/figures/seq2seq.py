"""Figures of the Encoder–decoder page: a quantity of every unit over the symbols read, and a step's top choices."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..explain import palette
from ..explain.claims import prob_text
from . import style


def _tick(label: str) -> str:
    """A tick label Plotly shows literally (its text is HTML-ish: "</s>" would vanish)."""
    return label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def heatmap_figure(values: np.ndarray, symbols: tuple[str, ...] | list[str], name: str, *, t: int | None = None,
                   title: str = "", present: bool = False) -> go.Figure:
    """``values`` (steps, units) as a heatmap: one column per symbol read (labelled with it), one row per unit, in
    the quantity's own colour scale; ``t`` is outlined."""
    steps, units = values.shape
    lo, hi = palette.gate_range(name)
    x = list(range(steps))
    trace = {"type": "heatmap", "z": values.T, "x": x, "y": list(range(units)), "zmin": lo, "zmax": hi,
             "colorscale": palette.colorscale(name), "hoverongaps": False,
             "customdata": np.array([[_tick(s) for s in symbols]] * units),
             "colorbar": {"thickness": 12, "tickfont": {"size": style.font(present, -1)}},
             "hovertemplate": f"t=%{{x}} · %{{customdata}}<br>unit %{{y}}<br>{name} = %{{z:.3f}}<extra></extra>"}
    shapes = []
    if t is not None and 0 <= t < steps:
        shapes.append({"type": "rect", "x0": t - 0.5, "x1": t + 0.5, "y0": -0.5, "y1": units - 0.5,
                       "line": {"color": palette.INK, "width": 2}})
    layout = style.layout(present, height=int(260 * (1.25 if present else 1.0)), shapes=shapes,
                          margin={"l": 50, "r": 10, "t": 30 if title else 10, "b": 40},
                          xaxis=style.axis(present, tickmode="array", tickvals=x,
                                           ticktext=[_tick(s) for s in symbols], showgrid=False),
                          yaxis=style.axis(present, title={"text": "unit"}, showgrid=False))
    if title:
        layout["title"] = {"text": title, "font": {"size": style.font(present, 1)}, "x": 0, "xanchor": "left"}
    return go.Figure(data=[trace], layout=layout)


def top_figure(top: list[tuple[str, float]], *, present: bool = False) -> go.Figure:
    """A decoder step's most likely symbols as horizontal bars of probability, the chosen one on top."""
    labels = [_tick(s) for s, _ in top]
    probs = [p for _, p in top]
    own = palette.color("h")
    # labelled by the rule the page's sentences use: a near-certain phoneme is "over 99.9%" in both
    trace = {"type": "bar", "orientation": "h", "x": probs, "y": labels, "text": [prob_text(p) for p in probs],
             "textposition": "outside", "cliponaxis": False,
             "marker": {"color": [own] + [palette.tint(own, 0.45)] * (len(top) - 1)},
             "hovertemplate": "%{y}: %{x:.4f}<extra></extra>"}
    layout = style.layout(present, height=int(150 * (1.3 if present else 1.0)),
                          margin={"l": 60, "r": 80, "t": 10, "b": 40}, showlegend=False,
                          xaxis=style.axis(present, title={"text": "probability"}, range=[0, 1.15],
                                           tickvals=[0, 0.5, 1]),
                          yaxis=style.axis(present, autorange="reversed"))
    return go.Figure(data=[trace], layout=layout)
