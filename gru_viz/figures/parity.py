"""Figures of the Matches PyTorch page: where our run and torch's part on a chaotic run, against the per-step check
that computes each step from the same state."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..core.divergence import Parting
from ..explain.palette import FAINT, GREY, INK, INK_SOFT
from . import style

MAX_POINTS = 1000  # a long run is drawn as the largest gap of each block of steps


def _blocks(gap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first step of each block, the block's largest gap); zeros become gaps in the line (no log of 0)."""
    size = max(1, -(-len(gap) // MAX_POINTS))
    starts = np.arange(0, len(gap), size)
    peak = np.maximum.reduceat(np.where(np.isfinite(gap), gap, np.inf), starts) if len(gap) else gap
    peak = np.where(np.isinf(peak), np.nan, peak)
    return starts, np.where(peak > 0, peak, np.nan)


def parting_figure(whole: Parting, per_step: np.ndarray | None, window: int | None,
                   torch_self: Parting | None = None, height: int = 340, present: bool = False) -> go.Figure:
    """|ours − torch| per step on a log axis: the whole runs (rising from round-off on a chaotic run), each step from
    our state (flat at round-off), torch.nn against torch's own step code, the tolerance, and the compared window.

    No gate appears here, so no gate's colour does: theme ink and grey, told apart by their dashes."""
    data = []
    for gap, name, colour, dash in (
        (whole.gap, "whole runs: ours vs torch", INK, "solid"),
        (None if torch_self is None else torch_self.gap, "whole runs: torch.nn vs torch's step code", GREY, "dash"),
        (per_step, "each step from our state: ours vs torch", INK_SOFT, "dashdot"),
    ):
        if gap is None:
            continue
        x, y = _blocks(np.asarray(gap, dtype=float))
        data.append(dict(type="scatter", mode="lines", x=x, y=y, name=name, line=dict(color=colour, width=2, dash=dash),
                         hovertemplate="t = %{x}: |Δ| %{y:.1e}<extra>" + name + "</extra>"))
    shapes = [dict(type="line", xref="paper", x0=0, x1=1, y0=whole.tolerance, y1=whole.tolerance,
                   line=dict(color=INK_SOFT, width=1.5, dash="dot"))]
    annotations = [dict(xref="paper", x=1, y=np.log10(whole.tolerance), yref="y",
                        text=f"tolerance {whole.tolerance:.0e}", showarrow=False, xanchor="right", yanchor="bottom",
                        font=dict(color=INK, size=style.font(present, -1)))]
    if window:
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=0, x1=window, y0=0, y1=1, line=dict(width=0),
                           fillcolor=FAINT, layer="below"))
        annotations.append(dict(xref="x", x=window / 2, yref="paper", y=1, text=f"every number compared: t < {window}",
                                showarrow=False, yanchor="bottom", font=dict(size=style.font(present, -1))))
    layout = style.layout(
        present, height=height, hovermode="closest", margin=dict(l=60, r=15, t=30, b=45), shapes=shapes,
        annotations=annotations,
        xaxis=style.axis(present, title="step t (the reverse direction counted from the end)"),
        yaxis=style.axis(present, type="log", exponentformat="power", title="largest |Δ| at step t"),
        legend=dict(orientation="h", y=-0.25, x=0.5, xanchor="center", font=dict(size=style.font(present))),
    )
    return style.inked(go.Figure(data=data, layout=layout))
