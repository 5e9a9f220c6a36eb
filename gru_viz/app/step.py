"""Page-independent helpers of the Step-through page: how a step's input is named, the window of the sequence
around the cursor, predict-then-reveal scoring, and the editable weight table of a small cell. No Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.model import Model
from ..core.sequences import Sequence
from ..core.spec import param_key
from ..core.trace import Trace

# ------------------------------------------------------------------------------------------------- input


def x_label(seq: Sequence, t: int) -> str:
    """How the input of step ``t`` is shown: the character for text, the number, or a short vector."""
    label = seq.labels[t]
    if seq.alphabet is not None:
        return f"'{label}'"
    if seq.width == 1:
        return label
    if seq.width <= 4:
        return "[" + ", ".join(f"{v:.3g}" for v in seq.values[t]) + "]"
    return f"({seq.width} values)"


def window(steps: int, t: int, width: int = 25) -> range:
    """The steps shown around the cursor in the sequence strip: ``width`` of them, ``t`` near the middle."""
    width = min(width, steps)
    start = min(max(t - width // 2, 0), steps - width)
    return range(start, start + width)


# ---------------------------------------------------------------------------------------- predict, reveal

# What a viewer guesses, per cell kind: the gates that decide the step (h itself for a gateless RNN).
GUESSABLE = {"gru": ("z", "r"), "lstm": ("f", "i"), "mingru": ("z",), "rnn": ("h",)}


def guess_range(name: str) -> tuple[float, float]:
    """The slider range for a guess: gates lie in [0, 1], an RNN's h in [−1, 1]."""
    return (-1.0, 1.0) if name == "h" else (0.0, 1.0)


def true_values(trace: Trace, t: int, unit: int, names: tuple[str, ...], layer: int = 0,
                direction: int = 0) -> dict[str, float]:
    """The values the viewer guessed at, read from the trace."""
    lt = trace.layer(layer, direction)
    return {n: float((lt.h if n == "h" else lt.gates[n])[t, 0, unit]) for n in names}


@dataclass(frozen=True)
class Score:
    """How far one round of guesses was from the truth."""

    errors: dict[str, float]  # name → |guess − truth|

    @property
    def mean(self) -> float:
        """Mean absolute error of the round."""
        return float(np.mean(list(self.errors.values())))

    @property
    def verdict(self) -> str:
        """A word for the classroom."""
        if self.mean < 0.05:
            return "spot on"
        if self.mean < 0.15:
            return "close"
        if self.mean < 0.3:
            return "in the right direction"
        return "off this time"


def score(guesses: dict[str, float], truths: dict[str, float]) -> Score:
    """Compare guesses with the true values (same names)."""
    return Score({n: abs(float(guesses[n]) - truths[n]) for n in truths})


# ------------------------------------------------------------------------------------------------ weights

MAX_EDIT_HIDDEN = 2
MAX_EDIT_INPUT = 8
WEIGHT_LIMIT = 100.0  # |w| beyond this saturates every gate; the editor refuses it


def not_editable(model: Model) -> str | None:
    """Why this model's weights cannot be edited on the page, or None if they can."""
    s = model.spec
    if s.hidden_size > MAX_EDIT_HIDDEN:
        return f"weights are editable for cells with H ≤ {MAX_EDIT_HIDDEN}; this one has H = {s.hidden_size}"
    if s.input_size > MAX_EDIT_INPUT:
        return f"weights are editable for inputs of ≤ {MAX_EDIT_INPUT} values per step; this one has {s.input_size}"
    if s.num_layers > 1 or s.bidirectional or s.proj_size or not s.bias:
        return "weights are editable for one-layer, one-direction cells with biases"
    return None


def _keys(model: Model) -> dict[str, str]:
    s = model.spec
    names = ["weight_ih", "bias_ih"] + ([] if s.kind == "mingru" else ["weight_hh", "bias_hh"])
    return {name: param_key(name, 0, 0, s.cell) for name in names}


def weight_columns(model: Model) -> list[str]:
    """Columns of the weight table: one per input value (W_i·), one per unit of h (W_h·), then the biases."""
    s = model.spec
    cols = [f"x{k}" for k in range(s.input_size)]
    if s.kind != "mingru":
        cols += [f"h{k}" for k in range(s.hidden_size)]
    return cols + (["b_i"] if s.kind == "mingru" else ["b_i", "b_h"])


def weight_table(model: Model) -> pd.DataFrame:
    """The parameters as a table: one row per gate and unit ("z0", "n1", …), torch's row order."""
    s, keys = model.spec, _keys(model)
    p = model.params
    parts = [p[keys["weight_ih"]]]
    if s.kind != "mingru":
        parts.append(p[keys["weight_hh"]])
    parts.append(p[keys["bias_ih"]][:, None])
    if s.kind != "mingru":
        parts.append(p[keys["bias_hh"]][:, None])
    index = [f"{gate}{unit}" for gate in s.gates for unit in range(s.hidden_size)]
    return pd.DataFrame(np.hstack(parts), index=index, columns=weight_columns(model))


def model_from_table(model: Model, table: pd.DataFrame) -> Model:
    """A copy of ``model`` with the parameters in ``table`` (empty cells keep the old value)."""
    base = weight_table(model)
    values = table.reindex(index=base.index, columns=base.columns).astype(float).to_numpy()
    values = np.where(np.isnan(values), base.to_numpy(), values)
    if not np.all(np.isfinite(values)):
        raise ValueError("weights must be finite numbers")
    if np.abs(values).max() > WEIGHT_LIMIT:
        raise ValueError(f"weights must lie within ±{WEIGHT_LIMIT:g}")
    s, keys = model.spec, _keys(model)
    I, H = s.input_size, s.hidden_size
    params = dict(model.params)
    params[keys["weight_ih"]] = values[:, :I]
    col = I
    if s.kind != "mingru":
        params[keys["weight_hh"]] = values[:, I : I + H]
        col += H
    params[keys["bias_ih"]] = values[:, col]
    if s.kind != "mingru":
        params[keys["bias_hh"]] = values[:, col + 1]
    return Model(s, params)


def apply_edits(table: pd.DataFrame, edits: dict) -> pd.DataFrame:
    """Apply an ``st.data_editor`` edit state ({"edited_rows": {row: {column: value}}}) to ``table``."""
    out = table.copy()
    for row, changes in (edits or {}).get("edited_rows", {}).items():
        for column, value in changes.items():
            if column in out.columns:
                out.iloc[int(row), out.columns.get_loc(column)] = math.nan if value is None else float(value)
    return out
