"""The four GRU variants: where the reset gate r acts and what the update gate z weights.

Their own module so that the cells' maths (cells.py) and the kind records (kinds.py) both read them without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sources import short, who, writers


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
