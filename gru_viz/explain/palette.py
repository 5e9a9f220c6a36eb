"""One colour per quantity, the same on every page and in every figure, and the checks that make it safe.

- :data:`COLORS`: one colour per gate and state (r, z, n, h; i, f, g, o, c; the input x). The GRU's four are the
  Okabe–Ito colours; the LSTM's gates are chosen so that none is mistaken for a GRU gate (its i is a reddish
  purple, far from the GRU's orange r). The candidate has one colour in every cell (GRU's n, LSTM's g, minGRU's n
  play the same role).
- :data:`CELL_COLORS` and :data:`CELL_DASH`: a second palette for the cells compared side by side (one per kind
  of :mod:`gru_viz.core.kinds`) that never reuses a gate's colour, with a dash pattern each, so a line says its
  cell twice. minLSTM's f′ and i′ take f's and i's colours: one colour per gate, whatever its normalisation.
- Theme ink: figures draw text and neutral lines with Streamlit's chart placeholders (:data:`INK`, :data:`PAPER`,
  …), which the browser replaces with the viewer's light or dark theme colours, live, with no rerun.
  :func:`resolve` turns them into one theme's real colours (for exported files and for tests).
- :func:`colorscale`: a heatmap scale in the quantity's own colour (nothing → the background, all → the colour;
  negative values in the ink's grey).
- :func:`simulate` (Machado, Oliveira & Fernandes 2009), :func:`delta_e` (CIEDE2000) and :func:`contrast`
  (WCAG 2): how far apart two colours stay for a viewer with a colour-vision deficiency, and against each theme's
  background. ``tests/test_palette.py`` holds the palette to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.kinds import KIND, per_kind

# Okabe & Ito (2008), the GRU's colours.
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
BLUE = "#0072B2"
GREY = "#707070"  # the input: darker than Okabe–Ito's grey so it stays apart from green for deuteranopes

COLORS: dict[str, str] = {
    "x": GREY,  # input
    "r": ORANGE,  # reset gate
    "z": SKY,  # update gate
    "n": GREEN,  # candidate: GRU and minGRU n, LSTM g share the role and the colour
    "g": GREEN,
    "h": BLUE,  # hidden state
    "i": "#CC79A7",  # LSTM input gate: Okabe–Ito's reddish purple, clearly not the GRU's orange r
    "f": "#8C564B",  # LSTM forget gate: brown
    "o": "#AA77EE",  # LSTM output gate: violet
    "c": "#CC3311",  # LSTM cell state: brick red
    "m": BLUE,  # projected LSTM's o ⊙ tanh(c): the state it shows
}
# minLSTM's f′ = f / (f + i) and i′ = i / (f + i) are its gates f and i, normalised: the same colours.
COLORS |= {"f'": COLORS["f"], "i'": COLORS["i"]}

# The cells compared side by side: a palette of their own, far from every gate colour (CIEDE2000 ≥ 15).
CELL_COLORS = per_kind("explain.cell_colors", {"gru": "#965278", "lstm": "#4A723D", "rnn": "#9DA118",
                                                "mingru": "#6C8EE6", "minlstm": "#BA8A7E"})
CELL_DASH = per_kind("explain.cell_dash", {"gru": "solid", "lstm": "dash", "rnn": "dot", "mingru": "dashdot",
                                          "minlstm": "longdash"})

NAMES: dict[str, str] = {
    "x": "input x",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
    "h": "hidden state h",
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "c": "cell state c",
    "m": "o ⊙ tanh(c)",
    "f'": "share kept f′ = f / (f + i)",
    "i'": "share written i′ = i / (f + i)",
}

# Quantities besides the σ gates whose values lie in [0, 1], per kind: minLSTM's shares f′ and i′.
SHARES = per_kind("explain.shares", {"gru": (), "lstm": (), "rnn": (), "mingru": (), "minlstm": ("f'", "i'")})
# The gates: values in [0, 1] (every kind's σ gates, then its shares): r, z, i, f, o, f′, i′.
GATES_01: tuple[str, ...] = tuple(dict.fromkeys(g for k, r in KIND.items() for g in (*r.sigmoid, *SHARES[k])))
SEQUENTIAL = "Cividis"  # for magnitudes that are not one quantity (gradient norms): colour-blind safe

# ------------------------------------------------------------------------------------------------ theme

# Streamlit's Plotly placeholders (streamlit/elements/lib/streamlit_plotly_theme.py): the frontend replaces these
# exact strings in the figure with the viewer's theme colours on every render, also after a theme switch.
INK = "#000037"  # strong text: labels, numbers, glyphs
INK_SOFT = "#000036"  # Streamlit's chart text: ticks, axis titles
GRID = "#000035"  # grid and zero lines, the circuit's idle track
PAPER = "#000038"  # the page background
FAINT = "#000039"  # text at 10 % opacity: bands and highlights behind marks
ZERO = GRID  # a heatmap's zero: a visible neutral in both themes (the background would read as a missing cell)


@dataclass(frozen=True)
class Theme:
    """The real colours behind the placeholders for one Streamlit theme (1.67's defaults)."""

    name: str
    ink: str
    ink_soft: str
    grid: str
    paper: str
    faint: str

    def colors(self) -> dict[str, str]:
        """Placeholder → colour."""
        return {INK: self.ink, INK_SOFT: self.ink_soft, GRID: self.grid, PAPER: self.paper, FAINT: self.faint}


# Read from a page in chromium (light and dark colour schemes), streamlit 1.67.
LIGHT = Theme("light", ink="#262730", ink_soft="#808495", grid="#E6EAF1", paper="#FFFFFF",
              faint="rgba(47,45,43,0.1)")
DARK = Theme("dark", ink="#FAFAFA", ink_soft="#E6EAF1", grid="#31333F", paper="#171614",
             faint="rgba(237,235,232,0.1)")
THEMES = {"light": LIGHT, "dark": DARK}


def resolve(color: str, theme: Theme = LIGHT) -> str:
    """A colour with any theme placeholder replaced by ``theme``'s real colour."""
    for token, real in theme.colors().items():
        color = color.replace(token, real)
    return color


def label(name: str) -> str:
    """A quantity's name as people read it: minLSTM's "f'" (its key in the trace) is f′."""
    return name.replace("'", "′")


def color(name: str) -> str:
    """The colour of a quantity (gate letter, "h", "x", …)."""
    return COLORS.get(name, GREY)


def gate_range(name: str) -> tuple[float, float]:
    """The natural value range of a quantity: gates lie in [0, 1], states and candidates in [−1, 1]."""
    return (0.0, 1.0) if name in GATES_01 else (-1.0, 1.0)


def tint(hex_color: str, alpha: float) -> str:
    """``hex_color`` at opacity ``alpha`` (an rgba() string)."""
    r, g, b = (int(hex_color[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.3g})"


def colorscale(name: str) -> list[list]:
    """The heatmap colour scale of a quantity in its own colour.

    Gates (0 … 1): the grid's neutral at 0 (a shut gate) to the gate's colour at 1. States and candidates
    (−1 … 1): the ink's grey at −1, the grid's neutral at 0, the quantity's colour at +1. Zero is the grid colour,
    never the page's background: a cell at 0 is a value, and must not read as a missing cell in either theme.
    """
    own = color(name)
    if name in GATES_01:
        return [[0.0, ZERO], [1.0, own]]
    return [[0.0, INK_SOFT], [0.5, ZERO], [1.0, own]]


# ------------------------------------------------------------------------------------------- the checks

# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
CVD: dict[str, np.ndarray] = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def rgb(hex_color: str) -> np.ndarray:
    """#RRGGBB → sRGB in [0, 1]."""
    return np.array([int(hex_color[k : k + 2], 16) for k in (1, 3, 5)]) / 255.0


def linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB → linear RGB."""
    srgb = np.asarray(srgb, dtype=float)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def gamma(lin: np.ndarray) -> np.ndarray:
    """Linear RGB → sRGB (clipped to the gamut)."""
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def simulate(srgb: np.ndarray, deficiency: str) -> np.ndarray:
    """How sRGB colours (…, 3) in [0, 1] look with a colour-vision deficiency (a key of :data:`CVD`)."""
    return gamma(linear(srgb) @ CVD[deficiency].T)


def lab(srgb: np.ndarray) -> np.ndarray:
    """sRGB (3,) → CIE L*a*b* (D65)."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear(srgb)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    """CIEDE2000 colour difference of two L*a*b* colours (about 2 is just noticeable; 10+ is clearly apart)."""
    (l1, a1, b1), (l2, a2, b2) = a, b
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1, c2 = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1, h2 = math.degrees(math.atan2(b1, a1p)) % 360, math.degrees(math.atan2(b2, a2p)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_l, d_c = l2 - l1, c2 - c1
    d_h = 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_bar = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_bar = (h1 + h2) / 2
    else:
        h_bar = (h1 + h2 + 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    d_theta = 30 * math.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_bar**7 / (cp_bar**7 + 25**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * cp_bar, 1 + 0.015 * cp_bar * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def distance(a: str, b: str, deficiency: str | None = None) -> float:
    """CIEDE2000 between two #RRGGBB colours as seen with ``deficiency`` (None: normal vision)."""
    ca, cb = rgb(a), rgb(b)
    if deficiency is not None:
        ca, cb = simulate(ca, deficiency), simulate(cb, deficiency)
    return delta_e(lab(ca), lab(cb))


def luminance(hex_color: str) -> float:
    """WCAG relative luminance."""
    return float(np.array([0.2126, 0.7152, 0.0722]) @ linear(rgb(hex_color)))


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 … 21; 3 is the floor for graphics, 4.5 for body text)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
