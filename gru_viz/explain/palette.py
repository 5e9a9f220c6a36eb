"""One colour per quantity, the same on every page: the Okabe–Ito palette, safe for colour-blind viewers."""

from __future__ import annotations

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies, on light and dark themes.
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#8C8C8C"

COLORS: dict[str, str] = {
    "x": GREY,  # input
    "r": ORANGE,  # reset gate
    "z": SKY,  # update gate
    "n": GREEN,  # candidate (GRU n, minGRU n, LSTM g share the role)
    "g": GREEN,
    "h": BLUE,  # hidden state
    "i": VERMILLION,  # LSTM input gate
    "f": PURPLE,  # LSTM forget gate
    "o": "#B8A800",  # LSTM output gate: Okabe–Ito yellow darkened to stay legible on white
    "c": "#5E3C99",  # LSTM cell state
    "m": BLUE,
}

CELL_COLORS: dict[str, str] = {"gru": SKY, "lstm": VERMILLION, "rnn": GREY, "mingru": GREEN}

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
}

# Diverging scale for values in [−1, 1] (h, n, g) and sequential for gates in [0, 1]; both colour-blind safe.
DIVERGING = "RdBu_r"
SEQUENTIAL = "Cividis"


def color(name: str) -> str:
    """The colour of a quantity (gate letter, "h", "x", …)."""
    return COLORS.get(name, GREY)


def gate_range(name: str) -> tuple[float, float]:
    """The natural value range of a quantity: gates lie in [0, 1], states and candidates in [−1, 1]."""
    return (0.0, 1.0) if name in ("r", "z", "i", "f", "o") else (-1.0, 1.0)


def colorscale(name: str) -> str:
    """Heatmap colour scale for a quantity."""
    return SEQUENTIAL if name in ("r", "z", "i", "f", "o") else DIVERGING
