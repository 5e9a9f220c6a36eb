"""The cell kinds: one record each, and everything the core knows about a kind is read from it.

A :class:`Kind` holds a cell's name, its weight blocks (in torch's row order) and which of them are σ gates
(the ones a person may clamp), the parts of its state, whether it has a recurrent matrix W_hh, what keeps the
old state (and so which bias opens that path), its forward and backward passes, its Jacobian paths and its
cost per step. Other layers keep their own tables per kind (words, colours, diagrams) through
:func:`per_kind`, which refuses a table that misses a kind or names one that does not exist: a new kind that a
table lacks fails at import, never falls through to another kind's maths or words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from . import cells
from .sources import short, who, writers

if TYPE_CHECKING:
    from .cells import Clamp, LayerGrads
    from .spec import Spec
    from .trace import LayerTrace


@dataclass(frozen=True)
class GRUVariant:
    """One of the four GRU variants: where r acts and what z weights."""

    key: str
    name: str
    description: str
    reset_after: bool  # r multiplies (W_hn h + b_hn) — PyTorch — rather than h before the product
    z_keeps: bool  # h' = (1 − z) ⊙ n + z ⊙ h — PyTorch — rather than h' = (1 − z) ⊙ h + z ⊙ n


def _said(reset_after: bool, z_keeps: bool) -> str:
    """Who writes this variant, from the sourced attributions (core/sources.py)."""
    return who(*writers(reset_after=reset_after, z_keeps=z_keeps))


GRU_VARIANTS: dict[str, GRUVariant] = {
    v.key: v
    for v in (
        GRUVariant(
            "torch",
            "PyTorch (reset after, z keeps)",
            "n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h — " + _said(True, True) + ".",
            True,
            True,
        ),
        GRUVariant(
            "reset-before",
            f"{short('cho', 'dive')} (reset before, z keeps)",
            "n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), h' = (1 − z) ⊙ n + z ⊙ h — " + _said(False, True) + ".",
            False,
            True,
        ),
        GRUVariant(
            "z-takes",
            f"{short('chung', 'wikipedia')} (reset before, z takes)",
            "n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), h' = (1 − z) ⊙ h + z ⊙ n — " + _said(False, False) + ".",
            False,
            False,
        ),
        GRUVariant(
            "after-takes",
            "Reset after, z takes",
            "n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ h + z ⊙ n — PyTorch's n with z flipped.",
            True,
            False,
        ),
    )
}

DEFAULT_VARIANT = "torch"

Forward = Callable[..., tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]]


@dataclass(frozen=True)
class Keep:
    """What keeps the old state: the gate whose pre-activation opens that path, and in which sign."""

    gate: str  # the weight block (a σ gate) whose bias is raised to keep more
    sign: float  # +1: a larger pre-activation keeps more (z keeps, f); −1: it writes more (z takes)
    of: str  # the state part it keeps: "h", or "c" for an LSTM


@dataclass(frozen=True)
class Kind:
    """Everything the core knows about one cell kind."""

    key: str  # "gru": the name in code, links and files
    name: str  # "GRU": the name people read
    blocks: tuple[str, ...]  # the H-row blocks of weight_ih (and weight_hh), in torch's row order
    sigmoid: tuple[str, ...]  # the blocks that are σ gates, in (0, 1): the ones a person may clamp
    state: tuple[str, ...]  # what is carried from step to step: ("h",) or ("h", "c")
    recurrent: bool  # has W_hh and b_hh; False: the gates read x only, and the run is one linear scan
    paths: tuple[str, ...]  # the step Jacobian's paths, in display order (core/paths.py)
    additive: str | None  # the path that carries the gradient without a matrix, if any
    forward: Forward  # (x, h0, c0, params, spec, direction, clamps, scan) → (h, gates, pre)
    backward: Callable[..., LayerGrads]  # (trace, params, spec, dh_out, dc_last, clamps, param_grads)
    keep: Callable[[Spec], Keep | None]  # what keeps the old state, given the spec (the GRU variant decides)
    keep_share: Callable[[Spec, Mapping[str, np.ndarray]], np.ndarray] | None  # share of h kept, from gates
    candidate: str = "tanh"  # the candidate's squashing: "tanh", or "g" (g(k) = k + ½ for k ≥ 0, σ(k) below: > 0,
    # which the log-space scan needs); "" for a vanilla RNN, which has none
    extra: tuple[str, ...] = ()  # trace quantities besides the blocks (an LSTM's c, minLSTM's f′ and i′)
    keep_text: Callable[[Spec], str | None] = lambda spec: None  # the share kept, in the equations' letters
    check_clamps: Callable[[Mapping[str, Clamp]], str | None] = lambda clamps: None  # what no clamp may do

    @property
    def clampable(self) -> tuple[str, ...]:
        """The gates a person may clamp: the σ gates."""
        return self.sigmoid

    def recurrence(self, spec: Spec) -> str:
        """The step Jacobian ∂h'/∂h of a kind without W_hh, in letters: e.g. "diag(1 − z)"."""
        return f"diag({self.keep_text(spec)})"

    def macs(self, I: int, H: int) -> int:
        """Multiply-adds of one step's matrix–vector products (the element-wise work, O(H), is not counted)."""
        return len(self.blocks) * H * (I + (H if self.recurrent else 0))

    def params(self, I: int, H: int) -> int:
        """Parameters of one layer: the weights of every block and both biases (one when there is no W_hh)."""
        return len(self.blocks) * (H * (I + (H if self.recurrent else 0)) + (2 if self.recurrent else 1) * H)

    def run_seconds(self, spec: Spec, steps: int) -> float:
        """About how long a traced forward run takes here: Python's per-step overhead plus the products."""
        per_step, width = 0.0, spec.input_size
        for _ in range(spec.num_layers):
            per_step += spec.directions * (10e-6 + 4e-9 * self.macs(width, spec.hidden_size))
            width = spec.directions * spec.out_size
        return steps * per_step


# ------------------------------------------------------------------------------------- forward and backward


def _gru_forward(x, h0, c0, p, spec, d, clamps, scan):
    return cells.gru_forward(x, h0, p, spec.gru_variant, d, clamps)


def _gru_backward(lt, p, spec, dh_out, dc_last, clamps, param_grads):
    return cells.gru_backward(lt.x, lt.h0, lt.h, lt.gates, lt.pre, p, spec.gru_variant, dh_out, lt.direction,
                              clamps, param_grads)


def _lstm_forward(x, h0, c0, p, spec, d, clamps, scan):
    return cells.lstm_forward(x, h0, c0, p, d, clamps)


def _lstm_backward(lt, p, spec, dh_out, dc_last, clamps, param_grads):
    return cells.lstm_backward(lt.x, lt.h0, lt.c0, lt.h, lt.gates, p, dh_out, dc_last, lt.direction, clamps,
                               param_grads)


def _rnn_forward(x, h0, c0, p, spec, d, clamps, scan):
    return cells.rnn_forward(x, h0, p, spec.nonlinearity, d)


def _rnn_backward(lt, p, spec, dh_out, dc_last, clamps, param_grads):
    return cells.rnn_backward(lt.x, lt.h0, lt.h, lt.pre, p, spec.nonlinearity, dh_out, lt.direction, param_grads)


def _mingru_forward(x, h0, c0, p, spec, d, clamps, scan):
    return cells.mingru_forward(x, h0, p, d, clamps, scan)


def _mingru_backward(lt, p, spec, dh_out, dc_last, clamps, param_grads):
    return cells.mingru_backward(lt.x, lt.h0, lt.h, lt.gates, lt.pre, p, dh_out, lt.direction, clamps, param_grads)


def _minlstm_forward(x, h0, c0, p, spec, d, clamps, scan):
    return cells.minlstm_forward(x, h0, p, d, clamps, scan)


def _minlstm_backward(lt, p, spec, dh_out, dc_last, clamps, param_grads):
    return cells.minlstm_backward(lt.x, lt.h0, lt.h, lt.gates, lt.pre, p, dh_out, lt.direction, clamps,
                                  param_grads)


def _minlstm_clamps(clamps: Mapping[str, Clamp]) -> str | None:
    """f′ = f / (f + i) is 0 / 0 where f and i are both clamped to 0."""
    f, i = clamps.get("f"), clamps.get("i")
    if f is not None and i is not None and np.any(f.mask & i.mask & np.any((f.value == 0) & (i.value == 0), -1)):
        return "a minLSTM's f and i cannot both be clamped to 0 at one step: f′ = f / (f + i) would be 0 / 0"
    return None


def _gru_keep(spec: Spec) -> Keep:
    return Keep("z", 1.0 if spec.gru_variant.z_keeps else -1.0, "h")


def _gru_share(spec: Spec, gates: Mapping[str, np.ndarray]) -> np.ndarray:
    return gates["z"] if spec.gru_variant.z_keeps else 1.0 - gates["z"]


KIND: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind("gru", "GRU", ("r", "z", "n"), ("r", "z"), ("h",), True, ("direct", "n", "z", "r"), "direct",
             _gru_forward, _gru_backward, _gru_keep, _gru_share,
             keep_text=lambda spec: "z" if spec.gru_variant.z_keeps else "1 − z"),
        Kind("lstm", "LSTM", ("i", "f", "g", "o"), ("i", "f", "o"), ("h", "c"), True, ("cell", "rest"), "cell",
             _lstm_forward, _lstm_backward, lambda spec: Keep("f", 1.0, "c"), None, extra=("c",),
             keep_text=lambda spec: "f"),
        Kind("rnn", "vanilla RNN", ("h",), (), ("h",), True, ("act",), None,
             _rnn_forward, _rnn_backward, lambda spec: None, None, candidate=""),
        Kind("mingru", "minGRU", ("z", "n"), ("z",), ("h",), False, ("direct",), "direct",
             _mingru_forward, _mingru_backward, lambda spec: Keep("z", -1.0, "h"),
             lambda spec, gates: 1.0 - gates["z"], candidate="g", keep_text=lambda spec: "1 − z"),
        Kind("minlstm", "minLSTM", ("f", "i", "n"), ("f", "i"), ("h",), False, ("direct",), "direct",
             _minlstm_forward, _minlstm_backward, lambda spec: Keep("f", 1.0, "h"),
             lambda spec, gates: gates["f'"], candidate="g", extra=("f'", "i'"), keep_text=lambda spec: "f′",
             check_clamps=_minlstm_clamps),
    )
}

KINDS: tuple[str, ...] = tuple(KIND)
WITH_W_HH: tuple[str, ...] = tuple(k for k in KINDS if KIND[k].recurrent)  # the kinds whose gates read h

T = TypeVar("T")

# Every per-kind table of every layer, by name: tests/test_kinds.py checks each covers every kind.
TABLES: dict[str, Mapping[str, object]] = {}


def per_kind(name: str, table: Mapping[str, T]) -> Mapping[str, T]:
    """A table keyed by kind, checked to name every kind and no other; registered under ``name`` for the tests."""
    missing = [k for k in KINDS if k not in table]
    extra = [k for k in table if k not in KIND]
    if missing or extra:
        raise KeyError(f"the per-kind table {name} "
                       + (f"lacks {', '.join(missing)}" if missing else "")
                       + ("; " if missing and extra else "")
                       + (f"names unknown kinds {', '.join(extra)}" if extra else ""))
    TABLES[name] = table
    return table


def some_kinds(name: str, table: Mapping[str, T]) -> Mapping[str, T]:
    """A table about only some kinds by nature (what a Keras or ONNX file can hold): checked to name no other."""
    extra = [k for k in table if k not in KIND]
    if extra:
        raise KeyError(f"the table {name} names unknown kinds {', '.join(extra)}")
    return table


def kind_of(spec_or_key: Spec | str) -> Kind:
    """The record of a spec's kind (or of a kind's key)."""
    return KIND[spec_or_key if isinstance(spec_or_key, str) else spec_or_key.kind]


def keep_share(spec: Spec, lt: LayerTrace) -> np.ndarray | None:
    """The share of the old h that each step keeps, (T, B, H), or None for a kind whose h has no such share."""
    share = KIND[spec.kind].keep_share
    return None if share is None else share(spec, lt.gates)

