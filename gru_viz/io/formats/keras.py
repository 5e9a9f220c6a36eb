"""Keras layers' arrays (``kernel``, ``recurrent_kernel``, ``bias``) mapped to PyTorch's layout: one cell
at a time (:func:`cell_weights`, also used by the ``.keras`` / ``.weights.h5`` reader) or one layer's named arrays
(:func:`from_keras`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ...core.kinds import KIND, per_kind
from ...core.model import Model
from ...core.spec import KIND_NAMES, MAX_HIDDEN, MAX_INPUT
from .checks import WeightsError, blocks_text, normalise_kind, to_float64
from .loaded import HintNeeded, LayerWeights, stack_model

# Keras's layer class for each kind; None where Keras has none (its arrays can then never be that kind).
KERAS_CLASS = per_kind("io.formats.keras.classes", {
    "gru": "GRU",
    "lstm": "LSTM",
    "rnn": "SimpleRNN",
    "mingru": None,
    "minlstm": None,
})
# A Keras kernel's columns ÷ units: the kind's number of gate blocks.
_KIND_OF_COLUMNS = {len(KIND[k].blocks): k for k, cls in KERAS_CLASS.items() if cls}
_TIMES, _CLASSES = blocks_text(_KIND_OF_COLUMNS, KERAS_CLASS)

_KERAS_RE = re.compile(r"(?:^|(?<=[/.]))(recurrent_kernel|kernel|bias)(?::0)?$")


def keras_split(arrays: Mapping[str, np.ndarray]) -> dict[str, tuple[str, np.ndarray]] | None:
    """{"kernel"|"recurrent_kernel"|"bias": (original key, array)} when ``arrays`` looks like one Keras layer."""
    found: dict[str, str] = {}
    prefixes = set()
    for key in arrays:
        m = _KERAS_RE.search(key) if isinstance(key, str) else None
        if m:
            prefixes.add(key[: m.start()])
            if m.group(1) in found:
                raise WeightsError(f"two Keras {m.group(1)} arrays: {found[m.group(1)]!r} and {key!r}; one layer only")
            found[m.group(1)] = key
    if "kernel" not in found or "recurrent_kernel" not in found:
        return None
    if len(prefixes) > 1:
        raise WeightsError(f"Keras arrays under several prefixes {sorted(prefixes)}; one layer per file")
    extra = sorted(k for k in arrays if k not in found.values())
    if extra:
        raise WeightsError(f"unexpected keys alongside the Keras kernel/recurrent_kernel/bias: {', '.join(extra[:20])}")
    return {role: (key, arrays[key]) for role, key in found.items()}


def _zrh_to_rzn(a: np.ndarray, u: int, axis: int) -> np.ndarray:
    """Keras's z, r, h blocks (along ``axis``) in PyTorch's r, z, n order."""
    z, r, h = np.split(a, [u, 2 * u], axis=axis)
    return np.concatenate([r, z, h], axis=axis)


RESET_AFTER_CHOICES = {
    "torch": "reset_after=True (Keras's default): PyTorch's variant",
    "reset-before": "reset_after=False: the reset gate acts before the recurrent product",
}


def where_of(names: Mapping[str, str]) -> str:
    """The layer a cell's arrays belong to, from the name of its recurrent kernel ("layers/gru (…)", "gru/")."""
    name = names["recurrent_kernel"]
    if " (recurrent_kernel of " in name:
        return name.split(" (recurrent_kernel of ", 1)[1].removesuffix(")")
    return repr(name.rpartition("/")[0] or name)


def cell_weights(
    kernel: np.ndarray,
    rk: np.ndarray,
    bias: np.ndarray | None,
    names: Mapping[str, str],
    *,
    kind: str | None = None,
    reset_after: bool | None = None,
) -> tuple[str, str, LayerWeights]:
    """(kind, GRU variant, the weights in PyTorch's layout) of one Keras GRU / LSTM / SimpleRNN cell.

    ``names`` says where each array is in the file ("kernel", "recurrent_kernel", "bias" → a path or key), for
    messages. The kind is read from the shapes (columns 3u, 4u, u) and checked against ``kind`` when given; a
    GRU's ``reset_after`` from its bias's shape, checked against ``reset_after`` when given. A bias-free GRU
    does not say it: without ``reset_after`` that is a :class:`HintNeeded`.
    """
    kernel, rk = np.asarray(kernel), np.asarray(rk)
    if kernel.ndim != 2:
        raise WeightsError(f"{names['kernel']} must be 2-D (input, gates × units), it has shape {kernel.shape}")
    if rk.ndim != 2:
        raise WeightsError(f"{names['recurrent_kernel']} must be 2-D (units, gates × units), it has shape {rk.shape}")
    u = rk.shape[0]
    gates, rem = divmod(rk.shape[1], u) if u else (0, 1)
    if rem or gates not in _KIND_OF_COLUMNS:
        raise WeightsError(
            f"{names['recurrent_kernel']} has shape {rk.shape}: its columns must be {_TIMES} its rows ({_CLASSES})"
        )
    found_kind = _KIND_OF_COLUMNS[gates]
    if kind is not None and kind != found_kind:
        raise WeightsError(
            f"the kind hint says {KIND_NAMES[kind]}, but {names['recurrent_kernel']} is a Keras "
            f"{KERAS_CLASS[found_kind]}'s"
        )
    kind = found_kind
    if kernel.shape[1] != gates * u:
        raise WeightsError(f"{names['kernel']} has shape {kernel.shape}, expected (input, {gates * u})")
    if not 1 <= u <= MAX_HIDDEN:
        raise WeightsError(f"{names['recurrent_kernel']}: {u} units, outside 1…{MAX_HIDDEN}")
    if not 1 <= kernel.shape[0] <= MAX_INPUT:
        raise WeightsError(f"{names['kernel']}: input size {kernel.shape[0]}, outside 1…{MAX_INPUT}")
    rows = gates * u
    w_ih, w_hh = kernel.T, rk.T
    variant = "torch"
    b_ih = b_hh = None
    if kind == "gru":
        w_ih, w_hh = _zrh_to_rzn(w_ih, u, 0), _zrh_to_rzn(w_hh, u, 0)
        if bias is None:
            if reset_after is None:
                what = f"{names['recurrent_kernel']} is a GRU without biases, so its numbers do not say where the " \
                       "reset gate acts (Keras's reset_after)"
                raise HintNeeded(
                    f"{what}: pass variant='torch' (reset_after=True, Keras's default) or variant='reset-before' "
                    "(reset_after=False)",
                    "variant",
                    RESET_AFTER_CHOICES,
                    question=f"The GRU {where_of(names)} has no biases, so its numbers do not say where the reset gate "
                    "acts (Keras's reset_after).",
                )
            variant = "torch" if reset_after else "reset-before"
        elif bias.shape == (2, rows):
            if reset_after is False:
                raise WeightsError(f"{names['bias']} has shape (2, {rows}), which is reset_after=True, not False")
            b_ih, b_hh = _zrh_to_rzn(bias[0], u, 0), _zrh_to_rzn(bias[1], u, 0)
        elif bias.shape == (rows,):
            if reset_after is True:
                raise WeightsError(f"{names['bias']} has shape ({rows},), which is reset_after=False, not True")
            variant = "reset-before"
            b_ih, b_hh = _zrh_to_rzn(bias, u, 0), np.zeros(rows)
        else:
            raise WeightsError(
                f"{names['bias']} has shape {bias.shape}; a Keras GRU's is (2, {rows}) (reset_after=True) "
                f"or ({rows},) (reset_after=False)"
            )
    else:
        if reset_after is not None:
            raise WeightsError("reset_after applies to a Keras GRU only")
        if bias is not None:
            if bias.shape != (rows,):
                raise WeightsError(f"{names['bias']} has shape {bias.shape}, expected ({rows},)")
            b_ih, b_hh = bias, np.zeros(rows)
    where = names["recurrent_kernel"].rpartition("/")[0] or names["recurrent_kernel"]
    return kind, variant, LayerWeights(where, w_ih, w_hh, b_ih, b_hh)


def from_keras(
    arrays: Mapping[str, np.ndarray],
    kind: str | None = None,
    *,
    reset_after: bool | None = None,
    nonlinearity: str | None = None,
    batch_first: bool = True,
) -> Model:
    """A :class:`Model` from one Keras GRU / LSTM / SimpleRNN layer's ``kernel``, ``recurrent_kernel``, ``bias``.

    Keys may carry a prefix (``gru/kernel:0``). ``kind`` ("gru", "lstm", "rnn") is inferred from the
    kernel's columns (3u, 4u, u) and checked when given. Keras's default activations are assumed (tanh,
    and sigmoid for the gates). Mapping (``u`` units):

    - GRU, columns z, r, h → rows r, z, n: ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``
      reordered. ``reset_after=True`` (bias (2, 3u): input row, recurrent row) is PyTorch's variant
      ("torch"); ``reset_after=False`` (bias (3u,), put in ``bias_ih``, ``bias_hh = 0``) is "reset-before".
      Both keep Keras's ``h = z ⊙ h_prev + (1 − z) ⊙ hh``. Without a bias the weights cannot tell the two
      apart: pass ``reset_after`` (else :class:`HintNeeded`, a :class:`WeightsError`, says so).
    - LSTM (i, f, c, o = PyTorch's i, f, g, o): ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``,
      ``bias_ih = bias``, ``bias_hh = 0``.
    - SimpleRNN: the same with one gate; ``nonlinearity`` ("tanh", Keras's default, or "relu") says its
      activation.

    Keras layers take (batch, time, features), so the model is ``batch_first`` unless told otherwise.
    """
    parts = keras_split(arrays)
    if parts is None:
        have = ", ".join(sorted(map(str, arrays))[:10]) or "none"
        raise WeightsError(f"Keras weights need 'kernel' and 'recurrent_kernel' arrays; keys found: {have}")
    kind = normalise_kind(kind)
    names = {role: key for role, (key, _) in parts.items()}
    vals = to_float64({role: a for role, (_, a) in parts.items()}, names)
    kind, variant, lw = cell_weights(
        vals["kernel"], vals["recurrent_kernel"], vals.get("bias"), names, kind=kind, reset_after=reset_after
    )
    if nonlinearity is not None and kind != "rnn":
        raise WeightsError(
            f"a nonlinearity hint applies to an RNN only; these weights are a Keras {KERAS_CLASS[kind]}'s")
    return stack_model([[lw]], kind, variant=variant, nonlinearity=nonlinearity or "tanh", batch_first=batch_first)
