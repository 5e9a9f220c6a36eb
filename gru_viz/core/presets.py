"""Hand-designed GRUs whose weights can be read like a circuit, each with an input that shows what it does.

All use PyTorch's variant (reset after the product, z keeps the old state): h' = (1 − z) ⊙ n + z ⊙ h.
Large weights push σ and tanh into saturation so each gate acts like a switch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import Model
from .spec import Spec


@dataclass(frozen=True)
class Preset:
    """A named, explained model and a sequence (as typed in the page) that shows it off."""

    key: str
    name: str
    description: str
    example: str
    build: object  # () -> Model

    def model(self) -> Model:
        """A fresh copy of the preset model."""
        return self.build()


def _gru(I: int, H: int, **rows: list) -> Model:
    """A one-layer GRU whose named rows (w_ir, w_iz, w_in, w_hr, w_hz, w_hn, b_ir, …) are given, rest zero."""
    spec = Spec("gru", I, H)
    get = {k: np.asarray(v, dtype=np.float64) for k, v in rows.items()}

    def block(prefix: str, width: int) -> np.ndarray:
        return np.concatenate([get.get(f"{prefix}{g}", np.zeros((H, width))).reshape(H, width) for g in "rzn"])

    def bias(prefix: str) -> np.ndarray:
        return np.concatenate([get.get(f"{prefix}{g}", np.zeros(H)).reshape(H) for g in "rzn"])

    params = {
        "weight_ih_l0": block("w_i", I),
        "weight_hh_l0": block("w_h", H),
        "bias_ih_l0": bias("b_i"),
        "bias_hh_l0": bias("b_h"),
    }
    return Model(spec, params)


def latch() -> Model:
    """z ≈ 1 (keep) while x = 0; a spike x = 1 drives z → 0 and n → tanh(10) ≈ 1, so h jumps to 1 and stays."""
    return _gru(1, 1, w_iz=[[-20.0]], b_iz=[10.0], w_in=[[10.0]])


def delimiter_reset() -> Model:
    """Channel 0 is a value, channel 1 a delimiter. Between delimiters n = tanh(x + h) and z = ½: a squashed
    running sum. A delimiter drives r → 0 (forget h inside n) and z → 0 (take n), wiping the state to 0."""
    return _gru(
        2,
        1,
        w_ir=[[0.0, -12.0]],
        b_ir=[6.0],
        w_iz=[[0.0, -12.0]],
        w_in=[[1.0, 0.0]],
        w_hn=[[1.0]],
    )


def leaky_integrator() -> Model:
    """z fixed at σ(2.2) ≈ 0.9 and n = tanh(x): h' = 0.1·tanh(x) + 0.9·h, a moving average over ~10 steps."""
    return _gru(1, 1, b_iz=[2.2], w_in=[[1.0]])


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "latch",
            "The latch remembers a spike",
            "Holds 0 until a spike arrives, then holds 1 for good: z ≈ 0 lets the spike in, z ≈ 1 keeps it.",
            "0, 0, 0, 1, 0, 0, 0, 0, 0, 0",
            latch,
        ),
        Preset(
            "delimiter",
            "Reset on a delimiter",
            "Sums values (squashed) until a delimiter, which closes r and z together and wipes the state.",
            "0.5 0; 0.5 0; 0.5 0; 0 1; 0.5 0; -0.5 0; 0 1; 1 0",
            delimiter_reset,
        ),
        Preset(
            "leaky",
            "A slow leaky integrator",
            "z stays at 0.9, so each step keeps 90% of h and writes 10% of tanh(x): a moving average.",
            "1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0",
            leaky_integrator,
        ),
    )
}
