"""What every format's reader hands back (:class:`Loaded`: the model and what the file said about it), and the one
place where per-layer weights in PyTorch's layout become a multi-layer :class:`Model` (:func:`stack_model`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ...core.kinds import KIND
from ...core.model import Model
from ...core.spec import KIND_NAMES, MAX_HIDDEN, MAX_INPUT, MAX_LAYERS, Spec, SpecError
from .checks import MAX_PARAMS, WeightsError


class HintNeeded(WeightsError):
    """The file does not say something the numbers depend on; ``hint`` names the keyword that says it."""

    def __init__(self, message: str, hint: str, choices: dict[str, str], question: str = "") -> None:
        super().__init__(message)
        self.hint = hint  # "variant" or "nonlinearity"
        self.choices = choices  # value -> what it means in the file's own terms
        self.question = question or message  # the same, in words for a page (no Python keywords)


@dataclass
class Loaded:
    """A model read from a file, and what the file said (or did not say) about it."""

    model: Model
    format: str  # "safetensors", "npz", "pt", "keras", "keras-weights", "keras-arrays", "onnx"
    source: str = ""  # what the model is in the file's own terms ("Keras Sequential 'seq': GRU 'gru' → …")
    layers: list[str] = field(default_factory=list)  # the file's recurrent layers / nodes, bottom to top
    ignored: list[str] = field(default_factory=list)  # other layers, nodes or keys: listed, not read
    prefix: str = ""  # a state_dict's stripped prefix
    read: list[str] = field(default_factory=list)  # settings taken from the file (config, attributes, metadata)
    assumed: list[str] = field(default_factory=list)  # what the file does not say and the reader took as default
    notes: list[str] = field(default_factory=list)
    fixed: frozenset[str] = frozenset()  # hints the file itself settles ("variant", "nonlinearity")
    # The file's model reads its input from the last step to the first (Keras go_backwards, ONNX
    # direction="reverse"): ``model`` is the same layers running forwards, so it must be given x[::-1]. For ONNX
    # (``reverse_output``) the file's Y is then ``output[::-1]``; Keras returns the reversed sequence itself.
    backwards: str = ""  # why, or "" when the model reads forwards
    reverse_output: bool = False
    unknown: str | None = None  # the vocabulary's token for what it lacks, when the file names one (gru_viz.unknown)


@dataclass
class LayerWeights:
    """One direction of one recurrent layer in PyTorch's layout (rows in torch's gate order)."""

    name: str  # where it is in the file, for messages
    weight_ih: np.ndarray
    weight_hh: np.ndarray
    bias_ih: np.ndarray | None = None
    bias_hh: np.ndarray | None = None


def stack_model(
    layers: Sequence[Sequence[LayerWeights]],
    kind: str,
    *,
    variant: str = "torch",
    nonlinearity: str = "tanh",
    batch_first: bool = False,
    what: str = "layer",
    layer_variants: Sequence[str] = (),
) -> Model:
    """A multi-layer :class:`Model` from ``layers[k][d]`` (layer k, direction d), every shape checked.

    Every layer must have the same number of directions (1 or 2) and hidden size, and layer k > 0 must read
    what the layer below gives (D × H values). Missing biases are zeros (exact: a bias-free layer adds nothing);
    the model has biases when any layer does.
    """
    gates = len(KIND[kind].blocks)
    if not layers:
        raise WeightsError("no recurrent layers found")
    if len(layers) > MAX_LAYERS:
        raise WeightsError(f"{len(layers)} recurrent {what}s stacked, more than the {MAX_LAYERS} gru-viz runs")
    dirs = len(layers[0])
    first = layers[0][0]
    hidden = first.weight_hh.shape[1] if first.weight_hh.ndim == 2 else 0
    if not 1 <= hidden <= MAX_HIDDEN:
        raise WeightsError(f"{first.name}: hidden size {hidden} is outside 1…{MAX_HIDDEN}")
    input_size = first.weight_ih.shape[1] if first.weight_ih.ndim == 2 else 0
    if not 1 <= input_size <= MAX_INPUT:
        raise WeightsError(f"{first.name}: input size {input_size} is outside 1…{MAX_INPUT}")
    rows = gates * hidden
    params: dict[str, np.ndarray] = {}
    has_bias = any(lw.bias_ih is not None or lw.bias_hh is not None for layer in layers for lw in layer)
    for k, layer in enumerate(layers):
        if len(layer) != dirs:
            raise WeightsError(
                f"{layer[0].name} has {len(layer)} direction(s), {first.name} has {dirs}: gru-viz runs stacks whose "
                "layers are all one-way or all bidirectional"
            )
        width = input_size if k == 0 else dirs * hidden
        for d, lw in enumerate(layer):
            if lw.weight_hh.shape != (rows, hidden):
                got_h = lw.weight_hh.shape[1] if lw.weight_hh.ndim == 2 else "?"
                raise WeightsError(
                    f"{lw.name} has {got_h} units, {first.name} has {hidden}: gru-viz runs stacks of one width"
                    if got_h != hidden else f"{lw.name}: recurrent weights of shape {lw.weight_hh.shape}, expected "
                    f"{(rows, hidden)} for a {KIND_NAMES[kind]}"
                )
            if lw.weight_ih.shape != (rows, width):
                reads = lw.weight_ih.shape[1] if lw.weight_ih.ndim == 2 else "?"
                below = "the input" if k == 0 else f"the {what} below gives {width}"
                raise WeightsError(
                    f"{lw.name} reads {reads} values per step, but {below}"
                    + ("" if k == 0 else ": these layers are not one stack (is another layer between them?)")
                )
            suffix = f"_l{k}" + ("_reverse" if d else "")
            params["weight_ih" + suffix] = lw.weight_ih
            params["weight_hh" + suffix] = lw.weight_hh
            for name, b in (("bias_ih", lw.bias_ih), ("bias_hh", lw.bias_hh)):
                if b is not None and b.shape != (rows,):
                    raise WeightsError(f"{lw.name}: {name} of shape {b.shape}, expected ({rows},)")
                if has_bias:
                    params[name + suffix] = np.zeros(rows) if b is None else b
    count = sum(v.size for v in params.values())
    if count > MAX_PARAMS:
        raise WeightsError(f"the recurrent weights have {count} parameters, more than the limit of {MAX_PARAMS}")
    for key, v in params.items():
        if not np.all(np.isfinite(v)):
            raise WeightsError(f"{key} ({what} weights) contains NaN or infinity")
    try:
        spec = Spec(
            kind,
            input_size,
            hidden,
            num_layers=len(layers),
            bidirectional=dirs == 2,
            batch_first=batch_first,
            variant=variant if kind == "gru" else "torch",
            nonlinearity=nonlinearity if kind == "rnn" else "tanh",
            bias=has_bias,
            layer_variants=tuple(layer_variants) if kind == "gru" and len(set(layer_variants)) > 1 else (),
        )
        return Model(spec, {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in params.items()})
    except SpecError as exc:
        raise WeightsError(f"these weights do not describe a supported model: {exc}") from None


def reorder(a: np.ndarray, order: Sequence[int], blocks: int, axis: int = 0) -> np.ndarray:
    """``a`` cut into ``blocks`` equal blocks along ``axis``, put back in ``order``."""
    parts = np.split(a, blocks, axis=axis)
    return np.concatenate([parts[i] for i in order], axis=axis)
