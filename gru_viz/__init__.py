"""gru-viz: GRU, LSTM, vanilla RNN and minGRU cells on a pure-NumPy core, traced step by step for visualising.

- :class:`Spec` describes a model as torch's constructor arguments do (kind, sizes, layers, direction, GRU
  variant from :data:`GRU_VARIANTS`, …); :class:`Model` pairs it with parameters keyed like a torch
  ``state_dict``; ``Model.run(x, h0, ablations)`` returns a :class:`Trace` with torch-shaped ``output``,
  ``h_n`` (``c_n``) and every gate of every step (:class:`LayerTrace`), optionally with gates clamped
  (:class:`Ablation`).
- :func:`random_model` / :func:`init_params` draw torch-like weights; :func:`backward` and
  :func:`gradient_flow` do backpropagation through time.
- Weights files: :func:`load_weights` (``.safetensors``, ``.npz``, ``.pt``/``.pth`` with
  ``weights_only=True``, Keras-style arrays), :func:`from_keras`; rejections raise :class:`WeightsError`.
- PyTorch: :func:`from_torch` (module → Model) and :func:`to_torch` (Model → module). These live in
  :mod:`gru_viz.io.bridge`, the only module that imports torch; they are loaded on first use, so
  ``import gru_viz`` works without torch.
"""

from __future__ import annotations

from typing import Any

from .core.grad import backward, gradient_flow
from .core.model import Model, ModelInputError
from .core.params import init_params, random_model
from .core.spec import GRU_VARIANTS, Spec, SpecError
from .core.trace import Ablation, LayerTrace, Trace
from .io.weights import WeightsError, from_keras

__all__ = [
    "GRU_VARIANTS",
    "Ablation",
    "LayerTrace",
    "Model",
    "ModelInputError",
    "Spec",
    "SpecError",
    "Trace",
    "WeightsError",
    "backward",
    "from_keras",
    "from_torch",
    "gradient_flow",
    "init_params",
    "load_weights",
    "random_model",
    "to_torch",
]

# name -> (module, attribute), imported on first access
_LAZY = {
    "from_torch": ("gru_viz.io.bridge", "from_torch"),
    "to_torch": ("gru_viz.io.bridge", "to_torch"),
    "load_weights": ("gru_viz.io.weights", "load_weights"),  # NumPy-only; torch only for a .pt file
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
