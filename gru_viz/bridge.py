"""The bridge to PyTorch: a torch module in, a NumPy :class:`Model` out, and back.

This is the only module of ``gru_viz`` that imports torch (at its top); ``import gru_viz`` reaches it lazily.

- :func:`from_torch` reads an ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` (any layers, bidirectional,
  batch_first, proj_size, bias=False) or an ``nn.GRUCell`` / ``nn.LSTMCell`` / ``nn.RNNCell`` into a
  :class:`Model` whose ``run`` returns what the module returns (in float64).
- :func:`to_torch` builds the equivalent float64 module with the same weights (PyTorch's GRU variant only:
  torch has no module for the other GRU variants or for minGRU).
- :func:`torch_state_dict` and :func:`save_pt` export the parameters as torch tensors / a ``.pt`` file.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from torch import nn

from .model import Model
from .spec import GRU_VARIANTS, KIND_NAMES, Spec, SpecError, param_shapes
from .weights import load_weights, load_weights_bytes

__all__ = ["from_torch", "load_weights", "load_weights_bytes", "save_pt", "to_torch", "torch_state_dict"]

_LAYER_KINDS: dict[type[nn.Module], str] = {nn.GRU: "gru", nn.LSTM: "lstm", nn.RNN: "rnn"}
_CELL_KINDS: dict[type[nn.Module], str] = {nn.GRUCell: "gru", nn.LSTMCell: "lstm", nn.RNNCell: "rnn"}
_SUPPORTED = ", ".join(c.__name__ for c in (*_LAYER_KINDS, *_CELL_KINDS))


def _classify(module: object) -> tuple[str, bool]:
    """(kind, is_cell) for a supported module; TypeError for anything else."""
    for table, cell in ((_LAYER_KINDS, False), (_CELL_KINDS, True)):
        for cls, kind in table.items():
            if isinstance(module, cls):
                if type(module).forward is not cls.forward:
                    raise TypeError(
                        f"{type(module).__name__} subclasses nn.{cls.__name__} but overrides forward(); "
                        f"gru-viz only reproduces nn.{cls.__name__}'s own computation"
                    )
                return kind, cell
    raise TypeError(f"from_torch takes one of nn.{', nn.'.join(_SUPPORTED.split(', '))}; got {type(module).__name__}")


def _spec_of(module: nn.Module, kind: str, cell: bool) -> Spec:
    nonlinearity = getattr(module, "nonlinearity", "tanh") if kind == "rnn" else "tanh"
    if cell:
        return Spec(
            kind, module.input_size, module.hidden_size, bias=bool(module.bias), nonlinearity=nonlinearity, cell=True
        )
    return Spec(
        kind,
        module.input_size,
        module.hidden_size,
        num_layers=module.num_layers,
        bidirectional=bool(module.bidirectional),
        batch_first=bool(module.batch_first),
        nonlinearity=nonlinearity,
        proj_size=int(getattr(module, "proj_size", 0) or 0),
        bias=bool(module.bias),
    )


def from_torch(module: nn.Module) -> Model:
    """A :class:`Model` computing what ``module`` computes (in eval mode), with its weights as float64 NumPy.

    The module's constructor arguments become the :class:`Spec` (a GRU is the "torch" variant; a cell module
    gives ``Spec(cell=True)``). ``dropout`` between layers is accepted, but the model — like the module in
    eval mode — never applies it; a module in training mode with dropout > 0 gets a warning, since its own
    outputs are then random. Any other module class raises ``TypeError``; sizes over gru-viz's caps raise
    :class:`SpecError`.
    """
    kind, cell = _classify(module)
    spec = _spec_of(module, kind, cell)
    if not cell and module.dropout and module.training:
        warnings.warn(
            f"the module has dropout={module.dropout} and is in training mode; gru-viz runs it without dropout, "
            "as module.eval() does",
            stacklevel=2,
        )
    params: dict[str, np.ndarray] = {}
    for key, shape in param_shapes(spec).items():
        t = getattr(module, key, None)  # attribute access also resolves parametrizations (weight_norm, …)
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{type(module).__name__} has no tensor {key!r}")
        if tuple(t.shape) != shape:
            raise SpecError(f"{key} has shape {tuple(t.shape)}, the module's arguments say {shape}")
        if not (t.is_floating_point() and t.layout == torch.strided):
            raise TypeError(f"{key} is a {t.dtype} {t.layout} tensor; gru-viz reads dense real weights")
        params[key] = t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()
    return Model(spec, params)


def torch_state_dict(model: Model) -> dict[str, torch.Tensor]:
    """The model's parameters as float64 torch tensors, keyed as torch's ``state_dict`` keys them."""
    return {key: torch.from_numpy(np.array(arr, dtype=np.float64, copy=True)) for key, arr in model.params.items()}


def to_torch(model: Model) -> nn.Module:
    """The float64 torch module (in eval mode) equivalent to ``model``, carrying the same weights.

    Refused with :class:`SpecError` for minGRU and for GRU variants other than "torch": no torch module
    computes them.
    """
    s = model.spec
    if s.kind == "mingru":
        raise SpecError("minGRU has no torch module (torch.nn has no minGRU); export its weights instead")
    if s.kind == "gru" and s.variant != "torch":
        hint = (
            " (the same function is PyTorch's GRU with W_iz, W_hz, b_iz, b_hz negated, but that changes the weights)"
            if s.variant == "after-takes"
            else ""
        )
        raise SpecError(
            f"torch's nn.GRU computes only the 'torch' variant ({GRU_VARIANTS['torch'].name}); this model is "
            f"{GRU_VARIANTS[s.variant].name!r}, which no torch module computes{hint}"
        )
    f64 = torch.float64
    if s.cell:
        cls = {"gru": nn.GRUCell, "lstm": nn.LSTMCell, "rnn": nn.RNNCell}[s.kind]
        kwargs: dict[str, object] = {"bias": s.bias, "dtype": f64}
        if s.kind == "rnn":
            kwargs["nonlinearity"] = s.nonlinearity
        module = cls(s.input_size, s.hidden_size, **kwargs)
    else:
        cls = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[s.kind]
        kwargs = {
            "num_layers": s.num_layers,
            "bias": s.bias,
            "batch_first": s.batch_first,
            "bidirectional": s.bidirectional,
            "dtype": f64,
        }
        if s.kind == "rnn":
            kwargs["nonlinearity"] = s.nonlinearity
        if s.proj_size:
            kwargs["proj_size"] = s.proj_size
        module = cls(s.input_size, s.hidden_size, **kwargs)
    with torch.no_grad():
        module.load_state_dict(torch_state_dict(model), strict=True)
    return module.eval()


def save_pt(model: Model) -> bytes:
    """A ``.pt`` file (``torch.save``) of the model's state_dict as float64 tensors; loads with weights_only."""
    buf = io.BytesIO()
    torch.save(torch_state_dict(model), buf)
    return buf.getvalue()


def describe_module(module: nn.Module) -> str:
    """What gru-viz makes of a torch module, in one line (raises like :func:`from_torch`)."""
    kind, cell = _classify(module)
    return f"{KIND_NAMES[kind]}: {_spec_of(module, kind, cell).describe()}"
