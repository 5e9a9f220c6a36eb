"""Figures of the gradient-flow page: how ‖∂h_T/∂·‖ decays over t, the (T′, t) heatmap, the step Jacobian's
paths, exploding gradients against the weight scale, and what norm clipping does to an update.

Built from plain dicts, as in :mod:`gru_viz.figures.compare`, so that redraws stay cheap.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from ..core.kinds import KIND
from ..core.paths import PATH_NAMES
from ..core.spec import KIND_NAMES, Spec
from ..explain.palette import CELL_COLORS, CELL_DASH, GREY, INK, INK_SOFT, SEQUENTIAL, color
from . import style

# Path colours: the GRU's direct path is diag(z) (z's colour, solid), its z-gate path dotted in the same colour;
# n and r keep their own colours; the LSTM's cell path is diag(f).
PATH_STYLE = {
    "direct": dict(color=color("z"), width=3),
    "n": dict(color=color("n"), width=1.5),
    "z": dict(color=color("z"), width=1.5, dash="dot"),
    "r": dict(color=color("r"), width=1.5),
    "cell": dict(color=color("f"), width=3),
    "rest": dict(color=GREY, width=1.5),
    "act": dict(color=CELL_COLORS["rnn"], width=2, dash=CELL_DASH["rnn"]),
}


def path_style(kind: str, name: str) -> dict:
    """The line of path ``name`` of a kind: the direct path diag(keep) in the colour of the gate that keeps h
    (z for a GRU and minGRU, f for minLSTM's f′ = f / (f + i)), every other path as :data:`PATH_STYLE` has it."""
    if name != "direct":
        return PATH_STYLE[name]
    keep = KIND[kind].keep(Spec(kind, 1, 1))  # the gate is the kind's, whatever the GRU variant
    if keep is None:
        raise ValueError(f"a {KIND[kind].name} has no direct path: nothing keeps its h")
    return {**PATH_STYLE["direct"], "color": color(keep.gate)}


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: zeros (nothing arrives at all) become gaps rather than −∞."""
    out = np.asarray(values, dtype=float).copy()
    out[~(out > 0)] = np.nan
    return out


def _base_layout(height: int, present: bool = False, **extra: object) -> dict:
    layout = style.layout(present, height=int(height * (1.15 if present else 1)), hovermode="x unified",
                          margin=dict(l=60, r=15, t=40, b=45),
                          legend=dict(orientation="h", y=-0.22, x=0.5, xanchor="center",
                                      font=dict(size=style.font(present))))
    layout.update(extra)
    return layout


def _log_axis(present: bool, values, **extra: object) -> dict:
    """A log axis whose ticks are decades (or 1-2-5 in a narrow span), never the digits of minor ticks."""
    return style.axis(present, **style.log_ticks(np.concatenate([np.ravel(v) for v in values] or [[1.0]])),
                      **extra)


def flow_figure(flows: Mapping[str, tuple[np.ndarray, np.ndarray]], height: int = 360,
                present: bool = False) -> go.Figure:
    """‖∂h_T/∂x_t‖ (left) and ‖∂h_T/∂h_t‖ (right) over t for each cell, log scale. ``flows``: kind -> (dx, dh)."""
    data = []
    steps = 1
    for kind, (dx, dh) in flows.items():
        t = np.arange(len(dx))
        steps = max(steps, len(dx))
        for axis, values, show in (("x", dx, True), ("x2", dh, False)):
            data.append(dict(type="scatter", mode="lines", x=t, y=_positive(values), name=KIND_NAMES[kind],
                             legendgroup=kind, showlegend=show, xaxis=axis, yaxis=axis.replace("x", "y"),
                             line=dict(color=CELL_COLORS[kind], width=2.2, dash=CELL_DASH[kind]),
                             hovertemplate="%{y:.3e}"))
    dxs = [_positive(dx) for dx, _ in flows.values()]
    dhs = [_positive(dh) for _, dh in flows.values()]
    ticks = style.step_ticks(0, steps - 1)
    layout = _base_layout(
        height, present,
        xaxis=style.axis(present, domain=[0, 0.46], title="input step t", **ticks),
        xaxis2=style.axis(present, domain=[0.54, 1], title="state step t", **ticks),
        yaxis=_log_axis(present, dxs, anchor="x"), yaxis2=_log_axis(present, dhs, anchor="x2"),
        annotations=[_title("‖∂h_T/∂x_t‖ — from input t", 0.23, present),
                     _title("‖∂h_T/∂h_t‖ — from state t", 0.77, present)],
    )
    return style.inked(go.Figure(data=data, layout=layout))


def _title(text: str, x: float, present: bool = False) -> dict:
    return dict(text=text, x=x, y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                showarrow=False, font=dict(size=style.font(present, 1)))


def heatmap_figure(maps: Mapping[str, np.ndarray], start: int, height: int = 300, present: bool = False) -> go.Figure:
    """log₁₀ ‖∂h_T′/∂h_t‖ over (T′, t), one panel per cell; ``maps[kind][e, t]`` covers steps start + e, start + t."""
    kinds = list(maps)
    gap = 0.04
    width = (1 - gap * (len(kinds) - 1)) / len(kinds)
    with np.errstate(divide="ignore"):
        logs = {k: np.log10(np.where(m > 0, m, np.nan)) for k, m in maps.items()}
    finite = np.concatenate([v[np.isfinite(v)] for v in logs.values()] + [np.zeros(1)])
    zmin, zmax = max(float(finite.min()), -16.0), max(float(finite.max()), 1.0)
    data, layout, annotations = [], {}, []
    for i, kind in enumerate(kinds):
        n = i + 1
        x0 = i * (width + gap)
        steps = np.arange(start, start + maps[kind].shape[1])
        ends = np.arange(start, start + maps[kind].shape[0])
        xa, ya = ("x", "y") if n == 1 else (f"x{n}", f"y{n}")
        data.append(dict(
            type="heatmap", z=logs[kind], x=steps, y=ends, xaxis=xa, yaxis=ya, zmin=zmin, zmax=zmax,
            colorscale=SEQUENTIAL, showscale=i == len(kinds) - 1,
            colorbar=dict(title=dict(text="log₁₀ ‖·‖", side="right", font=dict(size=style.font(present))),
                          thickness=10, tickfont=dict(size=style.font(present, -1))),
            customdata=np.where(np.isfinite(logs[kind]), maps[kind], np.nan),
            hovertemplate=f"{KIND_NAMES[kind]}<br>‖∂h_%{{y}}/∂h_%{{x}}‖ = %{{customdata:.3e}}<extra></extra>",
        ))
        suffix = "" if n == 1 else str(n)
        layout[f"xaxis{suffix}"] = style.axis(present, domain=[x0, x0 + width], anchor=ya, title="from step t",
                                              showgrid=False, **style.step_ticks(steps[0], steps[-1], 6))
        layout[f"yaxis{suffix}"] = style.axis(present, anchor=xa, title="end step T′" if i == 0 else "",
                                              autorange="reversed", showgrid=False,
                                              **style.step_ticks(ends[0], ends[-1], 6))
        annotations.append(dict(text=style.swatch(CELL_COLORS[kind]) + f"<b>{KIND_NAMES[kind]}</b>",
                                x=x0 + width / 2, y=1.0, xref="paper",
                                yref="paper", yanchor="bottom", showarrow=False,
                                font=dict(color=INK, size=style.font(present, 2))))
    layout.update(style.layout(present), height=int(height * (1.15 if present else 1)),
                  margin=dict(l=60, r=15, t=30, b=45), annotations=annotations)
    return style.inked(go.Figure(data=data, layout=layout))


def paths_figure(
    kind: str,
    norms: Mapping[str, np.ndarray],
    chains: Mapping[str, np.ndarray],
    start: int,
    height: int = 340,
    present: bool = False,
) -> go.Figure:
    """Left: ‖path‖₂ of each path of the step Jacobian at every step. Right: the chain to the last step,
    along every path together (full) and along the additive path alone. ``chains``: label -> (T,)."""
    data = []
    for name, values in norms.items():
        t = np.arange(start, start + len(values))
        data.append(dict(type="scatter", mode="lines", x=t, y=values, name=PATH_NAMES[name],
                         line=path_style(kind, name), hovertemplate="%{y:.3f}"))
    chain_colors = [(INK, None), (path_style(kind, _additive_of(kind))["color"], "dash")]
    shown = []
    for (label, values), (line_color, dash) in zip(chains.items(), chain_colors, strict=False):
        t = np.arange(start, start + len(values))
        shown.append(_positive(values))
        data.append(dict(type="scatter", mode="lines", x=t, y=shown[-1], name=label, xaxis="x2",
                         yaxis="y2", line=dict(color=line_color, width=2.5, dash=dash), hovertemplate="%{y:.3e}"))
    last = start + max([len(v) for v in norms.values()] + [len(v) for v in chains.values()] + [1]) - 1
    ticks = style.step_ticks(start, last)
    layout = _base_layout(
        height, present,
        xaxis=style.axis(present, domain=[0, 0.44], title="step t", **ticks),
        xaxis2=style.axis(present, domain=[0.56, 1], title="from step t to the last", **ticks),
        yaxis=style.axis(present, anchor="x", title="‖path‖₂", rangemode="tozero"),
        yaxis2=_log_axis(present, shown, anchor="x2"),
        annotations=[_title("one step, split into its paths", 0.22, present),
                     _title("the product over the steps", 0.78, present)],
        legend=dict(orientation="h", y=-0.25, x=0.5, xanchor="center", font=dict(size=style.font(present, -1))),
    )
    return style.inked(go.Figure(data=data, layout=layout))


def _additive_of(kind: str) -> str:
    """The path the chain along one path follows: the additive one, or the only one of a kind without it."""
    record = KIND[kind]
    return record.additive or record.paths[0]


def explode_figure(
    scales: np.ndarray,
    norms: Mapping[str, np.ndarray],
    current: float,
    max_norm: float,
    height: int = 330,
    present: bool = False,
) -> go.Figure:
    """‖∂L/∂θ‖ against the recurrent weight scale, per cell (log scale), the current scale and the clip threshold."""
    data = [dict(type="scatter", mode="lines+markers", x=scales, y=_positive(v), name=KIND_NAMES[k],
                 line=dict(color=CELL_COLORS[k], width=2, dash=CELL_DASH[k]), marker=dict(size=5, color=CELL_COLORS[k]),
                 hovertemplate="%{y:.3e}")
            for k, v in norms.items()]
    layout = _base_layout(
        height, present,
        title=dict(text="Gradient norm ‖∂L/∂θ‖ as the recurrent weights grow", font=dict(size=style.font(present, 1))),
        xaxis=style.axis(present, title="recurrent weight scale (× W_hh)"),
        yaxis=_log_axis(present, [_positive(v) for v in norms.values()] + [[max_norm]], title="‖∂L/∂θ‖"),
        shapes=[
            dict(type="line", xref="x", yref="y domain", x0=current, x1=current, y0=0, y1=1,
                 line=dict(color=INK_SOFT, dash="dot", width=1.5)),
            dict(type="line", xref="x domain", yref="y", x0=0, x1=1, y0=max_norm, y1=max_norm,
                 line=dict(color=INK, dash="dash", width=1.5)),
        ],
        annotations=[dict(text=f"clip at {max_norm:g}", xref="x domain", yref="y", x=0, y=np.log10(max_norm),
                          xanchor="left", yanchor="bottom", showarrow=False,
                          font=dict(size=style.font(present, -1), color=INK)),
                     dict(text="now", xref="x", yref="y domain", x=current, y=1, xanchor="left", yanchor="top",
                          showarrow=False, font=dict(size=style.font(present, -1)))],
    )
    return style.inked(go.Figure(data=data, layout=layout))


def short_name(key: str) -> str:
    """A parameter key as a short label: weight_hh_l0 → W_hh, bias_ih_l0 → b_ih."""
    name = key.removesuffix("_reverse").rsplit("_l", 1)[0] if "_l" in key else key
    return name.replace("weight_", "W_").replace("bias_", "b_")


def clip_bars_figure(
    before: Mapping[str, np.ndarray],
    after: Mapping[str, np.ndarray],
    height: int = 300,
    present: bool = False,
) -> go.Figure:
    """The norm of each parameter tensor's gradient before and after clipping, as two markers joined by a line on
    a log axis (bars on a log axis would start from an arbitrary floor and their length would mislead)."""
    names = [short_name(k) for k in before]
    b = [float(np.linalg.norm(g)) for g in before.values()]
    a = [float(np.linalg.norm(g)) for g in after.values()]
    xs, ys = [], []
    for name, low, high in zip(names, a, b, strict=True):
        xs += [name, name, None]
        ys += [low if low > 0 else None, high if high > 0 else None, None]
    data = [
        dict(type="scatter", mode="lines", x=xs, y=ys, line=dict(color=INK_SOFT, width=1.5), hoverinfo="skip",
             showlegend=False),
        dict(type="scatter", mode="markers", x=names, y=_positive(b), name="before clipping",
             marker=dict(color=INK_SOFT, size=12, symbol="circle-open", line=dict(width=2.5)),
             hovertemplate="%{x}: %{y:.3e}<extra>before</extra>"),
        dict(type="scatter", mode="markers", x=names, y=_positive(a), name="after clipping",
             marker=dict(color=INK, size=12, symbol="diamond"), hovertemplate="%{x}: %{y:.3e}<extra>after</extra>"),
    ]
    layout = _base_layout(
        height, present, hovermode="closest",
        title=dict(text="Each parameter's gradient", font=dict(size=style.font(present, 1))),
        xaxis=style.axis(present, type="category"),
        yaxis=_log_axis(present, [_positive(b), _positive(a)], title="‖∂L/∂W‖"),
    )
    return style.inked(go.Figure(data=data, layout=layout))


def clip_arrows_figure(
    before: Mapping[str, np.ndarray],
    after: Mapping[str, np.ndarray],
    height: int = 300,
    present: bool = False,
) -> go.Figure:
    """The update −g in the plane of its two largest coordinates, before and after clipping: shorter, same way."""
    flat_b = np.concatenate([np.ravel(g) for g in before.values()])
    flat_a = np.concatenate([np.ravel(g) for g in after.values()])
    labels = [f"{short_name(k)}[{i}]" for k, g in before.items() for i in range(g.size)]
    top = np.argsort(-np.abs(flat_b), kind="stable")[:2] if flat_b.size >= 2 else np.zeros(2, int)
    data = []
    for vec, name, line_color in ((flat_b, "before", INK_SOFT), (flat_a, "after", INK)):
        data.append(dict(type="scatter", mode="lines+markers", x=[0, -vec[top[0]]], y=[0, -vec[top[1]]], name=name,
                         line=dict(color=line_color, width=3),
                         marker=dict(size=[0, 12], symbol="arrow", angleref="previous"),
                         hovertemplate="(%{x:.3e}, %{y:.3e})"))
    span = float(max(np.abs(flat_b[top]).max(initial=0.0), 1e-12)) * 1.15
    layout = _base_layout(
        height, present, hovermode="closest",
        title=dict(text="The update −g (two largest coordinates)", font=dict(size=style.font(present, 1))),
        xaxis=style.axis(present, range=[-span, span], zeroline=True, exponentformat="power",
                         title=f"−∂L/∂{labels[top[0]]}" if labels else ""),
        yaxis=style.axis(present, range=[-span, span], zeroline=True, scaleanchor="x", exponentformat="power",
                         title=f"−∂L/∂{labels[top[1]]}" if labels else ""),
    )
    return style.inked(go.Figure(data=data, layout=layout))
