"""What every figure shares: type sizes that follow presenter mode, theme ink (see :mod:`gru_viz.explain.palette`),
integer step axes, readable log axes, and the conversion of a page figure into a file's figure.

The page draws figures with ``theme="streamlit"``: text and neutral lines use the palette's placeholders, which
the browser swaps for the viewer's light or dark theme colours. A file has no theme: :func:`for_file` puts the
light theme's colours in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from ..explain.palette import GRID, INK, LIGHT, PAPER, Theme, resolve

FONT_FAMILY = '"Source Sans", "Source Sans Pro", sans-serif'  # Streamlit's own, where the browser has it
# Base type size of chart text (ticks, legends, colour bars, annotations): the prose is 16 px, 20 px presenting.
BASE = {False: 13, True: 19}
TRANSPARENT = "rgba(0,0,0,0)"


def font(present: bool, delta: int = 0) -> int:
    """Chart text size in px: the base size for the mode, plus ``delta`` (titles +1, small print −1)."""
    return BASE[bool(present)] + delta


def layout(present: bool, **extra: object) -> dict:
    """Layout settings every figure starts from: theme ink, transparent backgrounds, sizes for the mode."""
    size = font(present)
    out = {
        # the strong ink: Streamlit's soft chart grey is 3.7:1 on the light page, under the 4.5:1 text needs
        "font": {"size": size, "family": FONT_FAMILY, "color": INK},
        "paper_bgcolor": TRANSPARENT, "plot_bgcolor": TRANSPARENT,
        "hoverlabel": {"font": {"size": size, "family": FONT_FAMILY}},
        "legend": {"font": {"size": size, "color": INK}},
    }
    out.update(extra)
    return out


def axis(present: bool, **extra: object) -> dict:
    """An axis in theme ink: tick labels and title at the mode's sizes, grid and zero line in the grid colour."""
    # the ink set here too: Streamlit's template gives axes its soft grey, which a layout font does not override
    out = {"tickfont": {"size": font(present, -1), "color": INK}, "title": {"font": {"size": font(present),
                                                                                       "color": INK}},
           "gridcolor": GRID, "zerolinecolor": GRID, "linecolor": GRID}
    for key, value in extra.items():
        if key == "title" and isinstance(value, dict):
            out["title"] = {**out["title"], **value}
        elif key == "title":
            out["title"] = {**out["title"], "text": value}
        else:
            out[key] = value
    return out


def swatch(color: str) -> str:
    """A small square of ``color`` before a label: the colour names the quantity or cell, and the label itself
    stays in the ink (a palette colour as text is under 4.5:1 on one theme or the other)."""
    return f"<span style='color:{color}'>■</span>\u2009"


def step_ticks(first: float, last: float, max_ticks: int = 8) -> dict:
    """Axis settings for time steps: ticks on whole steps only (never t = 0.5), at most ``max_ticks``."""
    span = max(float(last) - float(first), 1.0)
    raw = span / max(1, max_ticks - 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return {"tickmode": "linear", "tick0": 0, "dtick": max(1, int(step)), "tickformat": "d"}


def _superscript(n: int) -> str:
    return str(n).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def log_tick_text(value: float, powers: bool = False) -> str:
    """A log-axis tick label: plain from 0.001 to 10 000 ("0.02", "500"), else (or with ``powers``) m·10ⁿ
    ("10⁻⁵", "2·10⁻⁵")."""
    if not powers and 1e-3 <= value < 1e4:
        return np.format_float_positional(value, precision=3, trim="-")
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10**exponent)
    return f"10{_superscript(exponent)}" if mantissa == 1 else f"{mantissa}·10{_superscript(exponent)}"


def log_ticks(values: Iterable[float], max_ticks: int = 7) -> dict:
    """Tick values and labels for a log axis over ``values`` (positive, finite ones count): whole decades when the
    data spans several (every k-th decade for a wide span), 1-2-5 within a narrow span. Plotly's own log ticks
    print the digits of minor ticks ("3 4 5 … 9 1 2") when a span is short; these never do."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x) and x > 0], dtype=float)
    if v.size == 0:
        return {"type": "log"}
    low, high = math.floor(math.log10(v.min()) + 1e-9), math.ceil(math.log10(v.max()) - 1e-9)
    # float64's normal range: a vanished gradient of 1e-320 (subnormal) gets no tick of its own, and 10.0**-324 is 0
    low, high = min(max(low, -307), 307), min(high, 308)
    high = max(high, low + 1)
    if high - low >= 3:
        every = max(1, math.ceil((high - low + 1) / max_ticks))
        ticks = [10.0**e for e in range(low, high + 1) if (e - low) % every == 0]
        text = [log_tick_text(t, powers=True) for t in ticks]
    else:
        ticks = [m * 10.0**e for e in range(low, high + 1) for m in (1, 2, 5) if m * 10.0**e <= 10.0**high]
        text = [log_tick_text(t) for t in ticks]
    return {"type": "log", "tickmode": "array", "tickvals": ticks, "ticktext": text}


def inked(fig: go.Figure) -> go.Figure:
    """``fig`` with every chart text that names no colour in the theme's strong ink: axis ticks and titles, the
    legend, the title, annotations and colour bars. Left unset, Streamlit's frontend gives them its soft chart grey,
    3.7:1 on the light page, under the 4.5:1 that text needs (tests/test_browser_contrast.py measures it)."""
    def axis(a: object) -> None:
        a.update(tickfont_color=a.tickfont.color or INK, title_font_color=a.title.font.color or INK)

    fig.for_each_xaxis(axis)
    fig.for_each_yaxis(axis)
    lay = fig.layout
    lay.legend.font.color = lay.legend.font.color or INK
    lay.title.font.color = lay.title.font.color or INK
    for note in lay.annotations:
        note.font.color = note.font.color or INK
    for trace in fig.data:
        spec = trace.to_plotly_json()
        # only colour bars the figure has: touching one that is not there would make Plotly draw it
        bars = (("colorbar" in spec, "colorbar"), ("colorbar" in spec.get("marker", {}), "marker"))
        for present, where in bars:
            if present:
                bar = trace.colorbar if where == "colorbar" else trace.marker.colorbar
                bar.tickfont.color = bar.tickfont.color or INK
                bar.title.font.color = bar.title.font.color or INK
    return fig


class Prebuilt(go.Figure):
    """A Plotly spec (a plain dict) that ``st.plotly_chart`` takes as it is.

    Streamlit turns any ``go.Figure`` into a dict with ``to_dict()`` and sends that; a dict it would first
    validate property by property (tens of milliseconds for a circuit). A figure built as a dict by our own
    code (checked by the tests through ``go.Figure(spec)``) skips both: no Figure object is ever built here.
    """

    def __init__(self, spec: dict) -> None:  # deliberately not go.Figure.__init__: that is the cost avoided
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        """The spec itself (Streamlit serialises it, never changes it)."""
        return self._spec

    def __repr__(self) -> str:
        return f"Prebuilt({len(self._spec.get('data', []))} traces)"


def for_file(fig: go.Figure, theme: Theme = LIGHT) -> go.Figure:
    """A copy of a page figure for a file (HTML, PNG): the theme placeholders made real, on an opaque page."""
    # Importing streamlit makes its own template Plotly's default, full of placeholders only a page can fill in:
    # a file gets Plotly's white template instead (our figures set their own colours on top of either).
    fig = go.Figure(fig).update_layout(template=pio.templates["plotly_white"])
    out = pio.from_json(resolve(pio.to_json(fig, validate=False), theme))
    bg = {TRANSPARENT: theme.paper, None: theme.paper}
    out.update_layout(paper_bgcolor=bg.get(out.layout.paper_bgcolor, out.layout.paper_bgcolor),
                      plot_bgcolor=bg.get(out.layout.plot_bgcolor, out.layout.plot_bgcolor))
    if out.layout.font.color is None:
        out.update_layout(font_color=theme.ink)
    return out


__all__ = ["BASE", "FONT_FAMILY", "INK", "PAPER", "Prebuilt", "axis", "font", "for_file", "inked", "layout",
           "log_tick_text", "log_ticks", "step_ticks", "swatch"]
