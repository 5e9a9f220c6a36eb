"""The four GRU variants: where the reset gate r acts and what the update gate z weights.

Their own module so that the cells' maths (cells.py) and the kind records (kinds.py) both read them without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GRUVariant:
    """One of the four GRU variants: where r acts and what z weights."""

    key: str
    name: str
    description: str
    reset_after: bool  # r multiplies (W_hn h + b_hn) — PyTorch — rather than h before the product
    z_keeps: bool  # h' = (1 − z) ⊙ n + z ⊙ h — PyTorch — rather than h' = (1 − z) ⊙ h + z ⊙ n


GRU_VARIANTS: dict[str, GRUVariant] = {
    v.key: v
    for v in (
        GRUVariant(
            "torch",
            "PyTorch (reset after, z keeps)",
            "n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h — torch, cuDNN, Keras default.",
            True,
            True,
        ),
        GRUVariant(
            "reset-before",
            "Cho v3 / d2l (reset before, z keeps)",
            "n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), h' = (1 − z) ⊙ n + z ⊙ h — d2l.ai, Keras "
            "reset_after=False.",
            False,
            True,
        ),
        GRUVariant(
            "z-takes",
            "Chung / Wikipedia (reset before, z takes)",
            "n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), h' = (1 − z) ⊙ h + z ⊙ n — Chung et al. 2014, "
            "TF GRUBlockCell.",
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
