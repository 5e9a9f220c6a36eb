"""Traces: every intermediate of a run, as arrays with named axes.

Each array of a :class:`LayerTrace` has the axes ``("time", "batch", "unit")`` (``AXES``), in time order
for both directions: ``h[t]`` is the state after the cell has read ``x[t]``, whichever way it ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .spec import Spec

AXES = ("time", "batch", "unit")


@dataclass(frozen=True)
class Ablation:
    """Clamp one gate to a constant or a per-unit vector, over steps ``start`` ≤ t < ``stop``."""

    gate: str  # "r" or "z" (GRU), "i", "f" or "o" (LSTM), "z" (minGRU)
    value: float | tuple[float, ...]
    start: int = 0
    stop: int | None = None  # None: to the end
    layer: int | None = None  # None: every layer
    direction: int | None = None  # None: both directions

    def applies(self, layer: int, direction: int) -> bool:
        """Whether this clamp acts on the given layer and direction."""
        return (self.layer is None or self.layer == layer) and (
            self.direction is None or self.direction == direction
        )


@dataclass
class LayerTrace:
    """One layer and direction of a run: inputs, pre-activations, gates and states, each (T, B, ·)."""

    layer: int
    direction: int  # 0 forward, 1 reverse
    x: np.ndarray  # the layer's input, (T, B, I_layer)
    h0: np.ndarray  # initial hidden state, (B, H_out)
    h: np.ndarray  # hidden state after each step, (T, B, H_out)
    gates: dict[str, np.ndarray]  # post-activation gates: r, z, n (GRU); i, f, g, o, c (LSTM); z, n (minGRU)
    # pre-activations of the same gates; for a GRU also "hn": W_hn h + b_hn (reset after) or W_hn (r ⊙ h) + b_hn
    # (reset before), the recurrent part of n's pre-activation
    pre: dict[str, np.ndarray]
    c0: np.ndarray | None = None  # LSTM initial cell state, (B, H)
    clamped: dict[str, np.ndarray] = field(default_factory=dict)  # gate -> (T, B, H) bool, True where clamped

    @property
    def steps(self) -> int:
        """T, the number of time steps."""
        return self.h.shape[0]

    def h_prev(self) -> np.ndarray:
        """The state each step started from, (T, B, H_out): h0 then h[:-1] in the direction of travel."""
        if self.direction == 0:
            return np.concatenate([self.h0[None], self.h[:-1]], axis=0)
        return np.concatenate([self.h[1:], self.h0[None]], axis=0)

    def c_prev(self) -> np.ndarray:
        """The LSTM cell state each step started from, (T, B, H)."""
        c = self.gates["c"]
        if self.direction == 0:
            return np.concatenate([self.c0[None], c[:-1]], axis=0)
        return np.concatenate([c[1:], self.c0[None]], axis=0)


@dataclass
class Trace:
    """A whole run: torch-shaped results plus every layer's :class:`LayerTrace`."""

    spec: Spec
    layers: list[list[LayerTrace]]  # [layer][direction]
    output: np.ndarray  # as the torch module returns it
    h_n: np.ndarray
    c_n: np.ndarray | None = None
    batched: bool = True
    ablations: tuple[Ablation, ...] = ()

    def layer(self, layer: int = -1, direction: int = 0) -> LayerTrace:
        """The trace of one layer (default the last) and direction."""
        return self.layers[layer][direction]

    @property
    def steps(self) -> int:
        """T, the number of time steps."""
        return self.layers[0][0].steps
