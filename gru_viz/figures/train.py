"""Figures of the Train page: learning curves per cell against the chance level, and the final scores.

Every point is a number the Trainer recorded: per-step training values (thinned to at most ``max_points``
per cell by taking every k-th step, never by averaging) and the held-out evaluations, all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..core.kinds import KIND
from ..core.tasks import Baseline
from ..core.train import History
from ..explain.palette import CELL_COLORS, CELL_DASH, INK_SOFT
from . import style

MAX_POINTS = 600  # per-step points drawn per cell: the page redraws the curves several times a second
CHANCE_COLOR = INK_SOFT


def _name(cell: str) -> str:
    return KIND[cell].name


def _color(cell: str) -> str:
    return CELL_COLORS[cell]


def _dash(cell: str) -> str:
    return CELL_DASH[cell]


def stride(n: int, max_points: int = MAX_POINTS) -> int:
    """Take every k-th per-step value so that at most ``max_points`` are drawn."""
    return max(1, -(-n // max_points))


def _chance_trace(value: float, total_steps: int, note: str, label: str = "chance") -> go.Scatter:
    """A dashed horizontal line at ``value`` across the whole run."""
    return go.Scatter(x=[0, max(1, total_steps)], y=[value, value], mode="lines", name=f"{label}: {value:.3g}",
                      line=dict(color=CHANCE_COLOR, dash="dash", width=1.5), hovertemplate=f"{note}<br>"
                      f"{label} = {value:.4g}<extra></extra>", meta=label)


def curves_figure(
    histories: Mapping[str, History],
    baseline: Baseline,
    metric: str = "loss",
    total_steps: int | None = None,
    loss_name: str = "loss",
    height: int = 300,
    max_points: int = MAX_POINTS,
    present: bool = False,
) -> go.Figure:
    """Loss (log axis) or accuracy per cell over the training steps: per-step training values as thin lines,
    held-out evaluations as bold lines with markers, the chance level as a dashed line.

    ``histories`` maps a cell kind (a key of :data:`gru_viz.core.kinds.KIND`) to its Trainer's History.
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric is 'loss' or 'accuracy', not {metric!r}")
    last = max((h.step[-1] for h in histories.values() if h.step), default=0)
    total = max(total_steps or 0, last, 1)
    data: list[go.Scatter] = []
    for cell, h in histories.items():
        color, name = _color(cell), _name(cell)
        train_y = h.loss if metric == "loss" else h.accuracy
        k = stride(len(train_y), max_points)
        steps = h.step[: len(train_y)]
        data.append(go.Scatter(
            x=steps[::k], y=train_y[::k], mode="lines", name=f"{name} · training batch", legendgroup=cell,
            showlegend=False, line=dict(color=color, width=1), opacity=0.45, meta=f"{cell}:train",
            hovertemplate=f"{name}, step %{{x}}<br>training batch {metric} %{{y:.4g}}<extra></extra>",
        ))
        eval_y = h.eval_loss if metric == "loss" else h.eval_accuracy
        data.append(go.Scatter(
            x=h.eval_step[: len(eval_y)], y=eval_y, mode="lines+markers", name=name, legendgroup=cell,
            line=dict(color=color, width=2.5, dash=_dash(cell)), marker=dict(size=6), meta=f"{cell}:eval",
            hovertemplate=f"{name}, step %{{x}}<br>held-out {metric} %{{y:.4g}}<extra></extra>",
        ))
    if metric == "loss":
        data.append(_chance_trace(baseline.loss, total, baseline.note))
        title = f"{loss_name} by training step (log scale) · bold: held-out · thin: training batch"
        shown = [np.asarray(tr.y, dtype=float) for tr in data if tr.y is not None]
        yaxis = style.axis(present, title=loss_name, **style.log_ticks(np.concatenate(shown) if shown else []))
    else:
        if baseline.accuracy is not None:
            data.append(_chance_trace(baseline.accuracy, total, baseline.note))
        title = "Accuracy by training step · bold: held-out · thin: training batch"
        yaxis = style.axis(present, range=[0, 1.02], title="accuracy", tickformat=".0%")
    fig = go.Figure(data=data)
    fig.update_layout(
        **style.layout(present),
        height=int(height * (1.15 if present else 1)), margin=dict(l=10, r=10, t=30, b=10), uirevision=metric,
        title=dict(text=title, font=dict(size=style.font(present)), x=0, xanchor="left", y=0.99, yanchor="top"),
        xaxis=style.axis(present, range=[0, total], zeroline=False), yaxis={**yaxis, "zeroline": False},
        hovermode="closest",
    )
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.09, xanchor="left", x=0,
                                  font=dict(size=style.font(present, -1))))
    return style.inked(fig)


def scores_figure(
    cells: Sequence[str],
    values: Sequence[float],
    chance: float,
    what: str = "held-out loss",
    height: int = 220,
    percent: bool = False,
    present: bool = False,
) -> go.Figure:
    """One horizontal bar per cell (its final score) with the chance level as a dashed vertical line."""
    names = [_name(c) for c in cells]
    shown = [float(v) if np.isfinite(v) else None for v in values]
    text = ["diverged" if v is None else (f"{v:.1%}" if percent else f"{v:.4g}") for v in shown]
    fig = go.Figure(go.Bar(
        x=[0.0 if v is None else v for v in shown], y=names, orientation="h", marker_color=[_color(c) for c in cells],
        text=text, textposition="outside", cliponaxis=False, meta="scores",
        hovertemplate="%{y}: " + what + " %{text}<extra></extra>",
    ))
    top = max([v for v in shown if v is not None] + [chance]) * 1.25
    fig.add_shape(type="line", x0=chance, x1=chance, y0=0, y1=1, yref="paper",
                  line=dict(color=CHANCE_COLOR, dash="dash", width=1.5))
    fig.add_annotation(x=chance, y=1, yref="paper", yanchor="bottom", showarrow=False,
                       text=f"chance {chance:.1%}" if percent else f"chance {chance:.3g}",
                       font=dict(size=style.font(present, -1)))
    fig.update_layout(
        **style.layout(present),
        height=int(height * (1.15 if present else 1)), margin=dict(l=10, r=30, t=28, b=10), showlegend=False,
        xaxis=style.axis(present, title=what, range=[0, top], tickformat=".0%" if percent else None),
        yaxis=style.axis(present, autorange="reversed"),
    )
    return style.inked(fig)
