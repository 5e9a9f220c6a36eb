"""The Real text page's own pictures, beside :mod:`gru_viz.figures.text` (the text coloured by a unit, the matches,
saturation, bits per character): the span selected for pattern search, highlighted in the learner's text, and the
top five next characters.

The text is HTML (every character escaped, monospace, its own line breaks kept); the chart a plain Plotly spec (a
dict) in the theme's placeholder ink, so light and dark mode both read it; its bars in h's colour (the state the
guess is read from).
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np

from ..explain import palette
from ..explain.claims import KINDS
from . import style

MONO = ("font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; "
        "overflow-wrap: anywhere; line-height: 1.55; font-size: 0.92rem; padding: 0.6rem 0.7rem; "
        "border: 1px solid rgba(128,128,128,0.35); border-radius: 0.5rem; max-height: 26rem; overflow-y: auto;")
MARK = palette.tint(palette.COLORS["h"], 0.55)  # the selected span: h's colour, as figures.text marks a match


def _char(ch: str) -> str:
    """One character as HTML: a newline shows a faint ↵ before breaking the line, a tab as four spaces."""
    if ch == "\n":
        return '<span style="opacity:0.35">↵</span>\n'
    if ch == "\t":
        return "    "
    return html.escape(ch)


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


