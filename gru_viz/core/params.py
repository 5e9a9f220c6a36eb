"""Parameters: torch-like random initialisation from a seed, and the recurrent weight scale."""

from __future__ import annotations

import numpy as np

from .model import Model
from .spec import Spec, param_shapes


def init_params(spec: Spec, seed: int = 0, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Every parameter uniform in ±scale/√H, as torch's default initialisation draws them."""
    rng = np.random.default_rng(seed)
    k = scale / np.sqrt(spec.hidden_size)
    return {key: rng.uniform(-k, k, size=shape) for key, shape in param_shapes(spec).items()}


def random_model(spec: Spec, seed: int = 0, scale: float = 1.0) -> Model:
    """A model with torch-like random weights drawn from ``seed``."""
    return Model(spec, init_params(spec, seed, scale))


def scale_recurrent(model: Model, scale: float) -> Model:
    """The model with every recurrent matrix W_hh multiplied by ``scale`` (the same model when it is 1)."""
    if scale == 1.0:
        return model
    return Model(model.spec, {k: (v * scale if k.startswith("weight_hh") else v) for k, v in model.params.items()},
                 embedding=model.embedding, readout=model.readout)  # the tokens around the stack stay
