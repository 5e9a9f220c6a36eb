"""Real text's figures: the text coloured by one unit (as HTML), gate saturation, pattern-search matches (as HTML)
and bits per character.

The two HTML builders escape every character of the text (a learner's own text is never markup) and colour only
backgrounds, with translucent tints of the quantity's own colour: the text keeps the page's ink, so it reads in the
light and the dark theme alike (MAX_ALPHA is what tests/test_figures_text.py holds to 4.5:1 in both). Streamlit shows
them with ``st.html`` (or ``st.markdown(..., unsafe_allow_html=True)``).
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core.kinds import KIND
from ..core.units import Match
from ..explain.claims import num2_text
from ..explain.palette import CELL_COLORS, GRID, INK, NAMES, color, tint
from . import style

MAX_ALPHA = 0.55  # the strongest tint behind text: the ink stays ≥ 4.5:1 on it in both themes
LEVELS = 8  # tints per sign: neighbours on the same level share one span (a few hundred spans, not thousands)
NEWLINE = "↵"  # a newline shown, so that its colour can be seen too
NEGATIVE = "#707070"  # below zero: the palette's neutral grey (as its colour scales do)


def _visible(ch: str) -> str:
    return NEWLINE + "\n" if ch == "\n" else ch


def levels(values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Each value's tint level, −LEVELS … LEVELS: its sign and size against ``scale`` (default max |value|)."""
    v = np.asarray(values, dtype=float)
    s = float(np.max(np.abs(v))) if scale is None and v.size else float(scale or 0.0)
    if s <= 0:
        return np.zeros(len(v), dtype=int)
    return np.clip(np.rint(v / s * LEVELS), -LEVELS, LEVELS).astype(int)


def level_color(level: int, quantity: str = "h") -> str:
    """The background of a tint level: the quantity's colour above zero, the neutral grey below."""
    if level == 0:
        return "transparent"
    return tint(color(quantity) if level > 0 else NEGATIVE, MAX_ALPHA * abs(level) / LEVELS)


def coloured_text(text: str, values: np.ndarray, quantity: str = "h", scale: float | None = None,
                  cursor: int | None = None) -> str:
    """``text`` as HTML, each character on a background tinted by its value (Karpathy's style), the character at
    ``cursor`` outlined; newlines shown as ↵ and kept."""
    if len(values) != len(text):
        raise ValueError(f"{len(values)} values for {len(text)} characters")
    lv = levels(values, scale)
    parts: list[str] = []
    i = 0
    while i < len(text):
        if i == cursor:
            parts.append(f'<span style="background:{level_color(lv[i], quantity)};outline:2px solid currentColor" '
                         f'title="{html.escape(f"character {i}")}">{html.escape(_visible(text[i]))}</span>')
            i += 1
            continue
        j = i + 1
        while j < len(text) and lv[j] == lv[i] and j != cursor:
            j += 1
        chunk = html.escape("".join(_visible(ch) for ch in text[i:j]))
        parts.append(chunk if lv[i] == 0 else f'<span style="background:{level_color(lv[i], quantity)}">{chunk}</span>')
        i = j
    return ('<pre style="white-space:pre-wrap;word-break:break-all;font-family:monospace;line-height:1.5;'
            'margin:0">' + "".join(parts) + "</pre>")


def match_snippets(text: str, matches: list[Match], context: int = 30, quantity: str = "h") -> str:
    """Each match as one line of HTML: ``context`` characters either side and the matched span highlighted."""
    rows = []
    mark = tint(color(quantity), MAX_ALPHA)
    for m in matches:
        a, b = max(0, m.start - context), min(len(text), m.end + context)

        def show(s: str) -> str:
            return html.escape(s.replace("\n", NEWLINE).replace("\t", "→"))

        rows.append(f'<div style="font-family:monospace;white-space:pre">{show(text[a:m.start])}'
                    f'<span style="background:{mark}">{show(text[m.start:m.end])}</span>{show(text[m.end:b])}'
                    f' <small>(characters {m.start}–{m.end - 1}, score {num2_text(m.score)})</small></div>')
    return "".join(rows)


# ------------------------------------------------------------------------------------------------ figures


def saturation_figure(kind: str, sat: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]],
                      present: bool = False) -> go.Figure:
    """Karpathy et al.'s Figure 3: one point per gate unit, x the fraction of time below 0.1, y above 0.9; one panel
    per layer, one colour per gate. A kind without gates gets a note instead of points."""
    layers = sorted({layer for layer, _ in sat}) or [0]
    fig = make_subplots(rows=1, cols=len(layers), subplot_titles=[f"layer {lay}" for lay in layers],
                        shared_yaxes=True, horizontal_spacing=0.06)
    shown: set[str] = set()
    for col, layer in enumerate(layers, start=1):
        fig.add_trace(go.Scatter(x=[0, 1], y=[1, 0], mode="lines", line={"color": GRID, "width": 1},
                                 hoverinfo="skip", showlegend=False), row=1, col=col)
        for (lay, gate), (left, right) in sat.items():
            if lay != layer:
                continue
            fig.add_trace(go.Scatter(
                x=left, y=right, mode="markers", name=NAMES[gate], legendgroup=gate, showlegend=gate not in shown,
                marker={"color": tint(color(gate), 0.6), "size": 7, "line": {"color": color(gate), "width": 1}},
                customdata=np.arange(len(left)),
                hovertemplate=f"{gate}, unit %{{customdata}}<br>below 0.1: %{{x:.0%}}<br>above 0.9: %{{y:.0%}}"
                              "<extra></extra>"), row=1, col=col)
            shown.add(gate)
        fig.update_xaxes(style.axis(present, title="share of time below 0.1", range=[-0.03, 1.03]), row=1, col=col)
    fig.update_yaxes(style.axis(present, title="share of time above 0.9", range=[-0.03, 1.03]), row=1, col=1)
    for col in range(2, len(layers) + 1):
        fig.update_yaxes(style.axis(present, range=[-0.03, 1.03]), row=1, col=col)
    if not sat:
        fig.add_annotation(text=f"A {KIND[kind].name} has no gates", showarrow=False, x=0.5, y=0.5,
                           xref="x domain", yref="y domain", font={"color": INK, "size": style.font(present)})
    fig.update_layout(**style.layout(present, height=360, margin={"l": 60, "r": 10, "t": 40, "b": 50}))
    return style.inked(fig)


def bpc_figure(bpc: dict[str, float], present: bool = False) -> go.Figure:
    """Bits per character of each model, one bar per kind in its cell colour, the number on the bar."""
    kinds = list(bpc)
    fig = go.Figure(go.Bar(x=[KIND[k].name for k in kinds], y=[bpc[k] for k in kinds],
                           marker={"color": [CELL_COLORS[k] for k in kinds]},
                           text=[num2_text(bpc[k]) for k in kinds], textposition="outside",
                           textfont={"color": INK, "size": style.font(present)},
                           hovertemplate="%{x}: %{y:.3f} bits per character<extra></extra>"))
    top = max(bpc.values(), default=1.0)
    fig.update_yaxes(style.axis(present, title="bits per character (lower is better)", range=[0, top * 1.15]))
    fig.update_xaxes(style.axis(present))
    fig.update_layout(**style.layout(present, height=320, margin={"l": 60, "r": 10, "t": 20, "b": 40},
                                     showlegend=False))
    return style.inked(fig)
