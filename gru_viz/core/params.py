"""Parameters: torch-like random initialisation from a seed."""

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
