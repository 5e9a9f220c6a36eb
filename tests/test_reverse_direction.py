"""The reverse direction of a bidirectional model reads the state it left at t + 1 (or h₀ at t = T − 1): every text
that names that state says h_{t+1}, and the number beside it is the state torch's reverse direction really read.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch_reference as ref

from gru_viz import Spec
from gru_viz.core.kinds import WITH_W_HH
from gru_viz.core.model import Model
from gru_viz.explain.equations import block_latex, previous_state_label, previous_state_tex, step_equations


def test_previous_state_label() -> None:
    assert previous_state_label(0) == "h_{t−1}"
    assert previous_state_label(1) == "h_{t+1}"
    assert previous_state_tex(0) == "h_{t-1}" and previous_state_tex(1, "c") == "c_{t+1}"


def _bidir(kind: str, variant: str = "torch") -> tuple[Model, np.ndarray]:
    spec = Spec(kind, 3, 2, num_layers=2, bidirectional=True, variant=variant)
    params = ref.random_params(spec, 4, scale=1.5)
    x = np.random.default_rng(5).uniform(-1, 1, (6, 3))
    return Model(spec, params), x


@pytest.mark.parametrize(("kind", "variant"), [("gru", "torch"), ("gru", "z-takes"), ("lstm", "torch"),
                                               ("rnn", "torch"), ("mingru", "torch")])
@pytest.mark.parametrize("direction", [0, 1])
def test_equations_name_the_state_the_direction_reads(kind: str, variant: str, direction: int) -> None:
    model, x = _bidir(kind, variant)
    trace = model.run(x)
    lines = step_equations(model, trace, 0, 1, layer=1, direction=direction)
    tex = block_latex(lines)
    wrong, right = previous_state_tex(1 - direction), previous_state_tex(direction)
    assert wrong not in tex and wrong.replace("h", "c") not in tex
    assert right in tex


@pytest.mark.parametrize("kind", WITH_W_HH)
def test_the_number_shown_is_the_state_torch_reverse_read(kind: str) -> None:
    """At layer 1 · reverse, t = 0, the equations substitute h of that direction at t = 1 (torch's output[1, H:] of
    layer 1); at t = T − 1 they substitute h₀ — zeros here, however large h₁ is."""
    model, x = _bidir(kind)
    H, T = model.spec.hidden_size, x.shape[0]
    module = ref.torch_module(model.spec)
    module.load_state_dict(ref.to_torch(model.params))
    with torch.no_grad():
        out = module(torch.as_tensor(x))[0].numpy()  # layer 1's output: [forward | reverse]
    trace = model.run(x)
    for unit in range(H):
        eq = {line.name: line for line in step_equations(model, trace, 0, unit, layer=1, direction=1)}
        # the recurrent part of the first gate is W_h· h_prev + b_h·: recompute it from torch's state
        p = model.layer_params(1, 1)
        h_read = out[1, H:]
        first = next(iter(eq.values()))
        np.testing.assert_allclose(first.numbers["h_part"], p.w_hh[unit] @ h_read + p.b_hh[unit], atol=1e-12)
        if kind == "gru":
            assert eq["h"].numbers["h_prev_value"] == pytest.approx(float(h_read[unit]), abs=1e-12)
        last = {line.name: line for line in step_equations(model, trace, T - 1, unit, layer=1, direction=1)}
        np.testing.assert_allclose(next(iter(last.values())).numbers["h_part"], p.b_hh[unit], atol=1e-15)  # h₀ = 0
        if kind == "gru":
            assert last["h"].numbers["h_prev_value"] == 0.0
