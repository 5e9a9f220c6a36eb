"""What a recurrent model is: its kind, sizes and GRU variant, and the parameter names and shapes that follow.

Parameters are kept exactly as a PyTorch ``state_dict`` keeps them (``weight_ih_l0``, ``bias_hh_l1_reverse``,
…; ``weight_ih`` … for a cell module), so that the bridge to torch is a rename-free copy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .kinds import KIND
from .kinds import KINDS as _KINDS
from .variants import DEFAULT_VARIANT, GRU_VARIANTS, GRUVariant

# Views of the kind records (kinds.py), for the many callers that want one fact of every kind.
KINDS = _KINDS
GATES = {k: r.blocks for k, r in KIND.items()}  # weight blocks per kind, in PyTorch's row order
CLAMPABLE = {k: r.clampable for k, r in KIND.items()}  # gates a person may clamp (ablate), per kind
KIND_NAMES = {k: r.name for k, r in KIND.items()}

# Documented caps of the core and the Python API. Widths go to real models' sizes; what bounds a run is the bytes
# its trace keeps (model.MAX_TRACE_BYTES), not its width. The app keeps its own lower caps (app/limits.py,
# io/upload.py's MAX_UPLOAD_SIZE).
MAX_HIDDEN = 2048
MAX_INPUT = 2048
MAX_LAYERS = 4


class SpecError(ValueError):
    """A model description that cannot be built (bad sizes, unknown kind or variant)."""


@dataclass(frozen=True)
class Spec:
    """Architecture of a recurrent model, as torch's constructor arguments describe it."""

    kind: str
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    variant: str = DEFAULT_VARIANT  # GRU only
    nonlinearity: str = "tanh"  # RNN only: "tanh" or "relu"
    proj_size: int = 0  # LSTM only
    bias: bool = True
    cell: bool = False  # a *Cell module: one layer, one direction, input (B, I) per step
    # GRU only: each layer's own variant, bottom to top (a Keras stack may mix reset_after); () → every layer `variant`
    layer_variants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SpecError(f"unknown cell kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        for name, value, cap in (
            ("input_size", self.input_size, MAX_INPUT),
            ("hidden_size", self.hidden_size, MAX_HIDDEN),
            ("num_layers", self.num_layers, MAX_LAYERS),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= cap:
                raise SpecError(f"{name} must be a whole number from 1 to {cap}, got {value!r}")
        if self.kind == "gru" and self.variant not in GRU_VARIANTS:
            raise SpecError(f"unknown GRU variant {self.variant!r}; choose one of {', '.join(GRU_VARIANTS)}")
        if isinstance(self.layer_variants, list):  # as JSON or a saved file gives it back
            object.__setattr__(self, "layer_variants", tuple(self.layer_variants))
        if self.layer_variants:
            if self.kind != "gru":
                raise SpecError("layer_variants applies to a GRU only")
            if not isinstance(self.layer_variants, tuple) or len(self.layer_variants) != self.num_layers:
                raise SpecError(f"layer_variants must be a tuple of {self.num_layers} variants, one per layer, got "
                                f"{self.layer_variants!r}")
            bad = [v for v in self.layer_variants if v not in GRU_VARIANTS]
            if bad:
                raise SpecError(f"unknown GRU variant {bad[0]!r} in layer_variants; choose one of "
                                f"{', '.join(GRU_VARIANTS)}")
            if self.layer_variants[0] != self.variant:
                raise SpecError(f"layer_variants starts with {self.layer_variants[0]!r}, but variant (the bottom "
                                f"layer's) is {self.variant!r}")
        if self.kind == "rnn" and self.nonlinearity not in ("tanh", "relu"):
            raise SpecError(f"RNN nonlinearity must be 'tanh' or 'relu', got {self.nonlinearity!r}")
        if not isinstance(self.proj_size, int) or isinstance(self.proj_size, bool):
            raise SpecError(f"proj_size must be a whole number, got {self.proj_size!r}")
        if self.proj_size:
            if self.kind != "lstm":
                raise SpecError("proj_size is only defined for LSTM")
            if not 0 < self.proj_size < self.hidden_size:
                raise SpecError(f"proj_size must be between 1 and hidden_size − 1, got {self.proj_size}")
        if self.cell and (self.num_layers != 1 or self.bidirectional or self.batch_first or self.proj_size):
            raise SpecError("a cell module has one layer, one direction, no batch_first and no projection")

    @property
    def directions(self) -> int:
        """D: 2 for a bidirectional model, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def out_size(self) -> int:
        """H_out: the size of h (proj_size for a projected LSTM)."""
        return self.proj_size or self.hidden_size

    @property
    def gates(self) -> tuple[str, ...]:
        """Gate letters in PyTorch's row order."""
        return GATES[self.kind]

    @property
    def gru_variant(self) -> GRUVariant:
        """The GRU variant record (PyTorch's for non-GRU kinds, unused there)."""
        return GRU_VARIANTS[self.variant]

    @property
    def mixed(self) -> bool:
        """Whether the layers of this GRU stack differ in variant."""
        return len(set(self.layer_variants)) > 1

    def layer_variant(self, layer: int) -> str:
        """The GRU variant of layer ``layer``."""
        return self.layer_variants[layer] if self.layer_variants else self.variant

    def layer_spec(self, layer: int) -> Spec:
        """This spec with one variant, that of layer ``layer``: what the cell of that layer computes."""
        if not self.layer_variants:
            return self
        return replace(self, variant=self.layer_variants[layer], layer_variants=())

    def layer_input_size(self, layer: int) -> int:
        """Width of the input that layer ``layer`` receives."""
        return self.input_size if layer == 0 else self.directions * self.out_size

    def with_(self, **changes: object) -> Spec:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def describe(self) -> str:
        """A one-line human description."""
        name = KIND_NAMES[self.kind] + (" cell" if self.cell else "")
        bits = [f"{name}, input {self.input_size}, hidden {self.hidden_size}"]
        if self.mixed:
            bits.append("layers: " + " / ".join(GRU_VARIANTS[v].name for v in self.layer_variants))
        elif self.kind == "gru":
            bits.append(self.gru_variant.name)
        if self.kind == "rnn":
            bits.append(self.nonlinearity)
        if self.proj_size:
            bits.append(f"projected to {self.proj_size}")
        if self.num_layers > 1:
            bits.append(f"{self.num_layers} layers")
        if self.bidirectional:
            bits.append("bidirectional")
        if not self.bias:
            bits.append("no bias")
        return ", ".join(bits)


def param_key(name: str, layer: int, direction: int, cell: bool = False) -> str:
    """The state_dict key of ``name`` (e.g. "weight_ih") for a layer and direction."""
    if cell:
        return name
    return f"{name}_l{layer}" + ("_reverse" if direction else "")


def param_shapes(spec: Spec) -> dict[str, tuple[int, ...]]:
    """Every parameter key of ``spec`` with the shape torch gives it, in torch's order."""
    rows = len(spec.gates) * spec.hidden_size
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(spec.num_layers):
        for d in range(spec.directions):

            def key(name: str, _layer: int = layer, _d: int = d) -> str:
                return param_key(name, _layer, _d, spec.cell)

            shapes[key("weight_ih")] = (rows, spec.layer_input_size(layer))
            recurrent = KIND[spec.kind].recurrent  # minGRU's and minLSTM's gates do not look at h
            if recurrent:
                shapes[key("weight_hh")] = (rows, spec.out_size)
            if spec.bias:
                shapes[key("bias_ih")] = (rows,)
                if recurrent:
                    shapes[key("bias_hh")] = (rows,)
            if spec.proj_size:
                shapes[key("weight_hr")] = (spec.proj_size, spec.hidden_size)
    return shapes


def count_params(spec: Spec) -> int:
    """Number of scalar parameters, counted from the shapes."""
    total = 0
    for shape in param_shapes(spec).values():
        n = 1
        for s in shape:
            n *= s
        total += n
    return total
