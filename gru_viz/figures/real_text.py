"""The Real text page's pictures: text coloured character by character by a unit (Karpathy et al.'s style), a span
and its matches highlighted (LSTMVis), the top five next characters, gate saturation (Karpathy et al.'s Figure 3)
and bits per character side by side.

The texts are HTML (every character escaped, one ``<span>`` each, monospace, the text's own line breaks kept); the
charts are plain Plotly specs (dicts) in the theme's placeholder ink, so light and dark mode both read them. The
colours are the palette's: h's blue for a positive state and the input's grey for a negative one, a gate's own
colour for its points, a cell's own colour for its bar.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

import numpy as np

from ..explain import palette
from ..explain.claims import KINDS
from . import style

MONO = ("font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; "
        "overflow-wrap: anywhere; line-height: 1.55; font-size: 0.92rem; padding: 0.6rem 0.7rem; "
        "border: 1px solid rgba(128,128,128,0.35); border-radius: 0.5rem; max-height: 26rem; overflow-y: auto;")
MAX_ALPHA = 0.6  # the strongest tint: dark text on it stays readable in light mode, light text in dark mode
MARK = "rgba(230,159,0,0.45)"  # a selected span / match: a highlighter's yellow-orange, apart from h's blue


def shade(value: float) -> str:
    """The background of a character whose unit reads ``value`` (in −1 … 1): blue for +, grey for −."""
    v = float(np.clip(value, -1.0, 1.0)) if np.isfinite(value) else 0.0
    base = palette.COLORS["h"] if v >= 0 else palette.COLORS["x"]
    return palette.tint(base, round(MAX_ALPHA * abs(v), 3))


def _char(ch: str) -> str:
    """One character as HTML: a newline shows a faint ↵ before breaking the line, a tab as four spaces."""
    if ch == "\n":
        return '<span style="opacity:0.35">↵</span>\n'
    if ch == "\t":
        return "    "
    return html.escape(ch)


def coloured_html(text: str, values: np.ndarray, *, cursor: int | None = None, unknown: Iterable[int] = (),
                  title: str = "") -> str:
    """``text`` with each character's background from ``values`` (one per character); the character at
    ``cursor`` boxed; the characters at ``unknown`` struck through (the model read them as its unknown mark)."""
    if len(values) != len(text):
        raise ValueError(f"{len(values)} values for {len(text)} characters")
    odd = set(int(i) for i in unknown)
    out = []
    for i, ch in enumerate(text):
        css = f"background:{shade(values[i])};"
        if i in odd:
            css += "text-decoration: line-through;"
        if i == cursor:
            css += "outline: 2px solid currentColor; outline-offset: 0; border-radius: 2px;"
        tip = f"{i}: {float(values[i]):+.3f}" + (" (unknown character)" if i in odd else "")
        out.append(f'<span style="{css}" title="{html.escape(tip)}">{_char(ch)}</span>')
    head = (f'<div style="font-size:0.85rem;opacity:0.8;margin-bottom:0.2rem">{html.escape(title)}</div>'
            if title else "")
    return f'{head}<div class="rt-text" style="{MONO}">{"".join(out)}</div>'


def span_html(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with the characters of each (start, end) span highlighted."""
    marked = np.zeros(len(text), bool)
    for a, b in spans:
        marked[a:b] = True
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        body = "".join(_char(c) for c in text[i:j])
        out.append(f'<mark style="background:{MARK};color:inherit">{body}</mark>' if marked[i] else body)
        i = j
    return f'<div class="rt-text" style="{MONO}">{"".join(out)}</div>'


def matches_html(text: str, matches: Iterable[object], context: int = 40) -> str:
    """One line per match (``.start``, ``.end``): the matched characters highlighted, ``context`` characters on each
    side, its place in the text before it."""
    rows = []
    for m in matches:
        a, b = int(m.start), int(m.end)
        left = text[max(0, a - context):a].split("\n")[-1]
        right = text[b:b + context].split("\n")[0]
        body = "".join(_char(c) for c in text[a:b]).replace("\n", "")
        rows.append(f'<div style="white-space:pre;overflow-x:auto"><span style="opacity:0.55">{a:>7,} </span>'
                    f'{html.escape(left)}<mark style="background:{MARK};color:inherit">{body}</mark>'
                    f'{html.escape(right)}</div>')
    return f'<div class="rt-matches" style="{MONO}">{"".join(rows)}</div>'


def top_spec(top: list[tuple[str, str, float]], present: bool = False) -> dict:
    """The top next characters as horizontal bars: (label, shown name, probability), likeliest on top."""
    labels = [name for _, name, _ in top]
    probs = [p for _, _, p in top]
    prob = KINDS["prob"][1]  # the rule the sentences round by
    return {"data": [{"type": "bar", "orientation": "h", "x": probs, "y": labels,
                      "marker": {"color": palette.COLORS["h"]}, "text": [prob(p) for p in probs],
                      "textposition": "auto", "hovertemplate": "%{y}: %{x:.1%}<extra></extra>"}],
            "layout": style.layout(present, height=300 if present else 230,
                                   margin={"l": 10, "r": 10, "t": 36, "b": 30},
                                   title={"text": "What it expects next: its top five"},
                                   xaxis=style.axis(present, range=[0, 1], tickformat=".0%"),
                                   yaxis=style.axis(present, autorange="reversed", automargin=True,
                                                    type="category"))}


def saturation_spec(sat: Mapping[tuple[int, str], tuple[np.ndarray, np.ndarray]], present: bool = False) -> dict:
    """Karpathy et al.'s Figure 3: one panel per layer, each gate unit a point (share of characters below 0.1
    across, above 0.9 up), coloured by its gate."""
    layers = sorted({layer for layer, _ in sat})
    data = []
    for k, layer in enumerate(layers):
        axis = "" if k == 0 else str(k + 1)
        for (lay, gate), (left, right) in sat.items():
            if lay != layer:
                continue
            data.append({"type": "scattergl", "mode": "markers", "x": np.asarray(left).tolist(),
                         "y": np.asarray(right).tolist(), "xaxis": f"x{axis}", "yaxis": f"y{axis}",
                         "name": palette.NAMES[gate], "legendgroup": gate, "showlegend": k == 0,
                         "marker": {"color": palette.COLORS[gate], "size": 7 if present else 5, "opacity": 0.7},
                         "hovertemplate": f"{gate}, layer {layer}<br>shut (< 0.1): %{{x:.0%}}<br>"
                                          "open (> 0.9): %{y:.0%}<extra></extra>"})
    n = max(1, len(layers))
    gap = 0.08
    width = (1 - gap * (n - 1)) / n
    layout = style.layout(present, height=420 if present else 360, margin={"l": 10, "r": 10, "t": 40, "b": 40},
                          legend={"orientation": "h", "y": -0.2})
    for k, layer in enumerate(layers):
        axis = "" if k == 0 else str(k + 1)
        lo = k * (width + gap)
        layout[f"xaxis{axis}"] = style.axis(present, domain=[lo, lo + width], range=[-0.03, 1.03], tickformat=".0%",
                                            title={"text": f"layer {layer}: share shut (< 0.1)"})
        layout[f"yaxis{axis}"] = style.axis(present, range=[-0.03, 1.03], tickformat=".0%",
                                            title={"text": "share open (> 0.9)"} if k == 0 else None,
                                            **({"anchor": f"x{axis}"} if k else {}))
    return {"data": data, "layout": layout}


def bits_spec(bits: Mapping[str, float], kinds: Mapping[str, str], present: bool = False) -> dict:
    """Bits per character of each model on the held-out text, a bar each in its cell's colour (lower is better)."""
    names = list(bits)
    values = [bits[n] for n in names]
    return {"data": [{"type": "bar", "x": names, "y": values,
                      "marker": {"color": [palette.CELL_COLORS[kinds[n]] for n in names]},
                      "text": [f"{v:.2f}" for v in values], "textposition": "auto",
                      "hovertemplate": "%{x}: %{y:.3f} bits per character<extra></extra>"}],
            "layout": style.layout(present, height=300 if present else 260,
                                   margin={"l": 10, "r": 10, "t": 40, "b": 30},
                                   title={"text": "Bits per character on held-out Python (lower is better)"},
                                   yaxis=style.axis(present, rangemode="tozero", automargin=True),
                                   xaxis=style.axis(present))}
