"""A GRU stack whose layers differ in variant (Spec.layer_variants): each layer runs, and is differentiated, in its
own variant; the whole equals the layers run one by one as single-variant models."""

from __future__ import annotations

import numpy as np
import pytest

from gru_viz.core.grad import backward
from gru_viz.core.model import Model
from gru_viz.core.spec import Spec, SpecError, param_shapes
from gru_viz.core.variants import GRU_VARIANTS

PAIRS = [(a, b) for a in GRU_VARIANTS for b in GRU_VARIANTS if a != b]


def mixed_model(variants: tuple[str, ...], bidirectional: bool, seed: int = 0) -> Model:
    spec = Spec("gru", 3, 4, num_layers=len(variants), bidirectional=bidirectional, variant=variants[0],
                layer_variants=variants)
    rng = np.random.default_rng(seed)
    return Model(spec, {k: rng.uniform(-0.8, 0.8, shape) for k, shape in param_shapes(spec).items()})


def layer_model(model: Model, layer: int) -> Model:
    """Layer ``layer`` of ``model`` alone, as a one-layer model of that layer's variant."""
    s = model.spec
    one = Spec("gru", s.layer_input_size(layer), s.hidden_size, bidirectional=s.bidirectional,
               variant=s.layer_variant(layer))
    params = {k.replace(f"_l{layer}", "_l0"): v for k, v in model.params.items() if f"_l{layer}" in k}
    return Model(one, params)


@pytest.mark.parametrize(("bottom", "top"), PAIRS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_mixed_stack_equals_its_layers_run_one_by_one(bottom, top, bidirectional):
    m = mixed_model((bottom, top), bidirectional)
    x = np.random.default_rng(1).standard_normal((5, 3))
    tr = m.run(x)
    below = layer_model(m, 0).run(x)
    above = layer_model(m, 1).run(below.output)
    np.testing.assert_allclose(tr.output, above.output, rtol=0, atol=1e-14)
    np.testing.assert_allclose(tr.h_n, np.concatenate([below.h_n, above.h_n]), rtol=0, atol=1e-14)
    # and it is not what one variant throughout computes
    same = Model(m.spec.with_(layer_variants=(), variant=bottom), m.params).run(x)
    assert np.abs(same.output - tr.output).max() > 1e-3


@pytest.mark.parametrize(("bottom", "top"), PAIRS[:4])
def test_mixed_stack_gradients_equal_finite_differences(bottom, top):
    m = mixed_model((bottom, top), False, seed=2)
    x = np.random.default_rng(3).standard_normal((4, 3))
    w = np.random.default_rng(4).standard_normal(m.run(x).output.shape)

    def loss(params):
        return float((Model(m.spec, params).run(x).output * w).sum())

    grads = backward(m, m.run(x), d_output=w)
    eps = 1e-6
    for key in ("weight_hh_l0", "bias_ih_l1", "weight_ih_l1"):
        got = grads.params[key]
        for idx in [(0, 0), (5, 1), (11, 2)] if got.ndim == 2 else [(0,), (7,)]:
            plus = {k: v.copy() for k, v in m.params.items()}
            minus = {k: v.copy() for k, v in m.params.items()}
            plus[key][idx] += eps
            minus[key][idx] -= eps
            fd = (loss(plus) - loss(minus)) / (2 * eps)
            assert abs(got[idx] - fd) < 1e-7, (key, idx, got[idx], fd)


def test_layer_variants_are_checked_and_described():
    with pytest.raises(SpecError, match="one per layer"):
        Spec("gru", 3, 4, num_layers=2, layer_variants=("torch",))
    with pytest.raises(SpecError, match="GRU only"):
        Spec("lstm", 3, 4, num_layers=2, layer_variants=("torch", "reset-before"))
    with pytest.raises(SpecError, match="bottom layer"):
        Spec("gru", 3, 4, num_layers=2, variant="torch", layer_variants=("reset-before", "torch"))
    s = Spec("gru", 3, 4, num_layers=2, variant="reset-before", layer_variants=("reset-before", "torch"))
    assert s.mixed and s.layer_spec(1).variant == "torch" and not s.layer_spec(1).layer_variants
    assert GRU_VARIANTS["reset-before"].name in s.describe() and GRU_VARIANTS["torch"].name in s.describe()


def test_torch_bridge_refuses_a_mixed_stack():
    from gru_viz.io.bridge import to_torch

    with pytest.raises(SpecError, match="layers differ"):
        to_torch(mixed_model(("reset-before", "torch"), False))


def test_a_mixed_stack_saved_as_safetensors_loads_back_mixed():
    from gru_viz.io.weights import load_weights_bytes, save_safetensors

    m = mixed_model(("reset-before", "torch"), True)
    back = load_weights_bytes(save_safetensors(m), "m.safetensors")
    assert back.spec.layer_variants == ("reset-before", "torch")
    x = np.random.default_rng(5).standard_normal((4, 3))
    np.testing.assert_array_equal(back.run(x).output, m.run(x).output)
