"""Small torch (float64, autograd-capable) reference implementations of what torch itself lacks.

Written straight from ``/work/shared/reference/gru-conventions.md``, not from ``gru_viz/cells.py``:

- :func:`gru_step` for the four GRU variants (``torch``, ``reset-before``, ``z-takes``, ``after-takes``),
- :func:`lstm_step` (with projection), :func:`rnn_step` (tanh / relu), :func:`mingru_step`, :func:`minlstm_step`
  (Feng et al. 2024, in the paper's plain form f / (f + i), not the core's log space),
- :func:`run` — a stacked, optionally bidirectional sequence model over our torch-layout parameter dict,
  shaped exactly as a torch module takes and returns its tensors, with gate clamps (ablations) and an
  optional perturbation added to one layer's states (to differentiate with respect to h_t).

The ``torch`` variant, LSTM and RNN are proven against ``torch.nn`` in the tests, so the other variants,
minGRU and minLSTM inherit a checked harness; only their few lines of equations are new.

The kinds, their weight blocks and their clampable gates are read from the core's registry
(``gru_viz.core.kinds``): a kind added there without a step here fails at import (:data:`STEPS`).

The bottom section holds test helpers: building the matching ``torch.nn`` module, copying its parameters,
and stepping a ``*Cell`` module over a sequence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

from gru_viz.core.cells import Clamp
from gru_viz.core.kinds import KIND, KINDS, per_kind

DTYPE = torch.float64

# (reset acts after W_hn, z weights the old state) — the doc's two independent choices.
VARIANTS = {
    "torch": (True, True),
    "reset-before": (False, True),
    "z-takes": (False, False),
    "after-takes": (True, False),
}

GATE_ROWS = {k: KIND[k].blocks for k in KINDS}  # weight_ih's H-row blocks, in torch's row order


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return x @ w.T if b is None else x @ w.T + b


def _clamp(gate: torch.Tensor, value: torch.Tensor | None) -> torch.Tensor:
    """A clamped gate is a constant: nothing flows back to its pre-activation."""
    return gate if value is None else value.expand_as(gate)


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh, variant: str = "torch", clamps: dict | None = None):
    """One GRU step; returns (h', gates {r, z, n}).

    r = σ(W_ir x + b_ir + W_hr h + b_hr)          z = σ(W_iz x + b_iz + W_hz h + b_hz)
    reset after:  n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    reset before: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)
    z keeps: h' = (1 − z) ⊙ n + z ⊙ h             z takes: h' = (1 − z) ⊙ h + z ⊙ n
    """
    clamps = clamps or {}
    reset_after, z_keeps = VARIANTS[variant]
    H = h.shape[-1]
    W_ir, W_iz, W_in = w_ih[:H], w_ih[H : 2 * H], w_ih[2 * H :]
    W_hr, W_hz, W_hn = w_hh[:H], w_hh[H : 2 * H], w_hh[2 * H :]
    b_ir = b_iz = b_in = b_hr = b_hz = b_hn = None
    if b_ih is not None:
        b_ir, b_iz, b_in = b_ih[:H], b_ih[H : 2 * H], b_ih[2 * H :]
        b_hr, b_hz, b_hn = b_hh[:H], b_hh[H : 2 * H], b_hh[2 * H :]
    r = _clamp(torch.sigmoid(_linear(x, W_ir, b_ir) + _linear(h, W_hr, b_hr)), clamps.get("r"))
    z = _clamp(torch.sigmoid(_linear(x, W_iz, b_iz) + _linear(h, W_hz, b_hz)), clamps.get("z"))
    if reset_after:
        n = torch.tanh(_linear(x, W_in, b_in) + r * _linear(h, W_hn, b_hn))
    else:
        n = torch.tanh(_linear(x, W_in, b_in) + _linear(r * h, W_hn, b_hn))
    h_new = (1 - z) * n + z * h if z_keeps else (1 - z) * h + z * n
    return h_new, {"r": r, "z": z, "n": n}


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None, clamps: dict | None = None):
    """One LSTM step; returns (h', c', gates {i, f, g, o}).

    i, f, o = σ(·), g = tanh(·) (rows i, f, g, o), c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c') (then W_hr ·).
    """
    clamps = clamps or {}
    H = c.shape[-1]
    pre = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    i = _clamp(torch.sigmoid(pre[..., :H]), clamps.get("i"))
    f = _clamp(torch.sigmoid(pre[..., H : 2 * H]), clamps.get("f"))
    g = torch.tanh(pre[..., 2 * H : 3 * H])
    o = _clamp(torch.sigmoid(pre[..., 3 * H :]), clamps.get("o"))
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    if w_hr is not None:
        h_new = h_new @ w_hr.T
    return h_new, c_new, {"i": i, "f": f, "g": g, "o": o}


def rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity: str = "tanh"):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""
    pre = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def mingru_candidate(k: torch.Tensor) -> torch.Tensor:
    """The positive candidate g(k) = k + 0.5 for k ≥ 0, σ(k) below."""
    return torch.where(k >= 0, k + 0.5, torch.sigmoid(k))


def mingru_step(x, h, w_ih, b_ih, clamps: dict | None = None):
    """One minGRU step (rows z, then candidate): z = σ(W_z x + b_z), h' = (1 − z) ⊙ h + z ⊙ g(W_h x + b_h)."""
    clamps = clamps or {}
    H = h.shape[-1]
    k = _linear(x, w_ih, b_ih)
    z = _clamp(torch.sigmoid(k[..., :H]), clamps.get("z"))
    n = mingru_candidate(k[..., H:])
    return (1 - z) * h + z * n, {"z": z, "n": n}


def mingru_sequence(x, h0, w_ih, b_ih):
    """A one-layer minGRU over x (T, B, I) by the plain sequential loop; returns h (T, B, H)."""
    h, out = h0, []
    for t in range(x.shape[0]):
        h, _ = mingru_step(x[t], h, w_ih, b_ih)
        out.append(h)
    return torch.stack(out)


def minlstm_step(x, h, w_ih, b_ih, clamps: dict | None = None):
    """One minLSTM step (Feng et al. 2024, arXiv 2410.01201; rows f, i, then the candidate), the paper's plain form:

    f = σ(W_f x + b_f), i = σ(W_i x + b_i), n = g(W_n x + b_n), f′ = f / (f + i), i′ = i / (f + i),
    h' = f′ ⊙ h + i′ ⊙ n. Returns (h', gates {f, i, n, f', i'}).
    """
    clamps = clamps or {}
    H = h.shape[-1]
    k = _linear(x, w_ih, b_ih)
    f = _clamp(torch.sigmoid(k[..., :H]), clamps.get("f"))
    i = _clamp(torch.sigmoid(k[..., H : 2 * H]), clamps.get("i"))
    n = mingru_candidate(k[..., 2 * H :])
    f_n, i_n = f / (f + i), i / (f + i)
    return f_n * h + i_n * n, {"f": f, "i": i, "n": n, "f'": f_n, "i'": i_n}


def minlstm_sequence(x, h0, w_ih, b_ih):
    """A one-layer minLSTM over x (T, B, I) by the plain sequential loop; returns h (T, B, H)."""
    h, out = h0, []
    for t in range(x.shape[0]):
        h, _ = minlstm_step(x[t], h, w_ih, b_ih)
        out.append(h)
    return torch.stack(out)


# One step of each kind with run()'s arguments: (spec, x, h, c, p, clamps) → (h', c'); p(name) is the weight or None.
STEPS = per_kind("tests.torch_reference.steps", {
    "gru": lambda spec, x, h, c, p, cl: (
        gru_step(x, h, p("weight_ih"), p("weight_hh"), p("bias_ih"), p("bias_hh"), spec.variant, cl)[0], c),
    "lstm": lambda spec, x, h, c, p, cl: lstm_step(
        x, h, c, p("weight_ih"), p("weight_hh"), p("bias_ih"), p("bias_hh"), p("weight_hr"), cl)[:2],
    "rnn": lambda spec, x, h, c, p, cl: (
        rnn_step(x, h, p("weight_ih"), p("weight_hh"), p("bias_ih"), p("bias_hh"), spec.nonlinearity), c),
    "mingru": lambda spec, x, h, c, p, cl: (mingru_step(x, h, p("weight_ih"), p("bias_ih"), cl)[0], c),
    "minlstm": lambda spec, x, h, c, p, cl: (minlstm_step(x, h, p("weight_ih"), p("bias_ih"), cl)[0], c),
})


def has_cell_state(kind: str) -> bool:
    """Whether the kind carries c besides h (an LSTM): its initial state is a pair, and it returns c_n."""
    return "c" in KIND[kind].state


# ------------------------------------------------------------------------------------------- sequence model


def _key(name: str, layer: int, direction: int, cell: bool) -> str:
    return name if cell else f"{name}_l{layer}" + ("_reverse" if direction else "")


def _step_clamps(ablations: Sequence, layer: int, direction: int, t: int, H: int) -> dict:
    """The clamp values that act at time index t (time order, for either direction)."""
    out = {}
    for ab in ablations:
        if ab.layer is not None and ab.layer != layer:
            continue
        if ab.direction is not None and ab.direction != direction:
            continue
        stop = float("inf") if ab.stop is None else ab.stop
        if ab.start <= t < stop:
            out[ab.gate] = torch.as_tensor(np.broadcast_to(np.asarray(ab.value, dtype=np.float64), (H,)).copy())
    return out


def run(
    spec,
    params: dict,
    x: torch.Tensor,
    h0=None,
    ablations: Sequence = (),
    perturb: dict | None = None,
):
    """Run ``spec`` (a gru_viz Spec, read only for its fields) over ``x`` as torch would; returns (output, h_n, c_n).

    ``params``: torch tensors keyed like the state_dict. ``x`` and ``h0`` are shaped as the torch module
    takes them (an LSTM's ``h0`` is a pair; a cell model's x is (T, B, I) or (T, I) stepped one row at a time).
    ``ablations``: objects with gate, value, start, stop, layer, direction (time indices, [start, stop)).
    ``perturb``: {(layer, direction): (T, B, H_out) tensor} added to that layer's state right after each step
    (it feeds the next step and the layer above), so a Jacobian at 0 is ∂(…)/∂h_t.
    """
    perturb = perturb or {}
    kind, H = spec.kind, spec.hidden_size
    D = 2 if spec.bidirectional else 1
    L = spec.num_layers
    H_out = spec.proj_size or H
    batched = x.dim() == 3
    if not batched:
        x = x.unsqueeze(1)
    elif spec.batch_first:
        x = x.transpose(0, 1)
    T, B = x.shape[0], x.shape[1]
    c0 = None
    if has_cell_state(kind) and h0 is not None:
        h0, c0 = h0

    def initial(state, size):
        if state is None:
            return torch.zeros(L * D, B, size, dtype=DTYPE)
        if spec.cell:
            return state.reshape(1, B, size)
        return state.reshape(L * D, B, size)  # (L·D, size) when unbatched

    h0 = initial(h0, H_out)
    c0 = initial(c0, H) if has_cell_state(kind) else None
    inp = x
    h_n, c_n = [], []
    for layer in range(L):
        outs = []
        for d in range(D):

            def p(name, _layer=layer, _d=d):
                return params.get(_key(name, _layer, _d, spec.cell))

            h, c = h0[layer * D + d], (None if c0 is None else c0[layer * D + d])
            states = [None] * T
            for t in range(T) if d == 0 else range(T - 1, -1, -1):
                h, c = STEPS[kind](spec, inp[t], h, c, p, _step_clamps(ablations, layer, d, t, H))
                if (layer, d) in perturb:
                    h = h + perturb[(layer, d)][t]
                states[t] = h
            outs.append(torch.stack(states))
            h_n.append(h)
            c_n.append(c)
        inp = torch.cat(outs, dim=-1)
    output = inp
    h_n = torch.stack(h_n)
    c_n = torch.stack(c_n) if has_cell_state(kind) else None
    if spec.cell:
        h_n, c_n = h_n[0], (None if c_n is None else c_n[0])
        if not batched:
            output, h_n = output[:, 0], h_n[0]
            c_n = None if c_n is None else c_n[0]
    elif not batched:
        output, h_n = output[:, 0], h_n[:, 0]
        c_n = None if c_n is None else c_n[:, 0]
    elif spec.batch_first:
        output = output.transpose(0, 1)
    return output, h_n, c_n


# ------------------------------------------------------------------------------------------- test helpers


# torch.nn's (layer module, cell module) per kind; None where torch.nn has no module for the kind.
TORCH_MODULES = per_kind("tests.torch_reference.modules", {
    "gru": (torch.nn.GRU, torch.nn.GRUCell),
    "lstm": (torch.nn.LSTM, torch.nn.LSTMCell),
    "rnn": (torch.nn.RNN, torch.nn.RNNCell),
    "mingru": None,
    "minlstm": None,
})


def torch_module(spec, seed: int = 0) -> torch.nn.Module:
    """The torch.nn module (GRU/LSTM/RNN or *Cell, float64) that ``spec`` describes, seeded init."""
    torch.manual_seed(seed)
    I, H = spec.input_size, spec.hidden_size
    layer_cls, cell_cls = TORCH_MODULES[spec.kind]
    kw = {"bias": spec.bias}
    if spec.kind == "rnn":
        kw["nonlinearity"] = spec.nonlinearity
    if spec.cell:
        return cell_cls(I, H, **kw).double()
    kw |= dict(num_layers=spec.num_layers, batch_first=spec.batch_first, bidirectional=spec.bidirectional)
    if spec.proj_size:
        kw["proj_size"] = spec.proj_size
    return layer_cls(I, H, **kw).double()


def numpy_params(mod: torch.nn.Module) -> dict[str, np.ndarray]:
    """A module's state_dict as float64 NumPy copies (what our Model takes)."""
    return {k: v.detach().double().numpy().copy() for k, v in mod.state_dict().items()}


def random_params(spec, seed: int = 0, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Parameters for any kind and variant: a torch module's init where torch.nn has the kind, else torch-like
    U(±1/√H) (minGRU, minLSTM).

    Those shapes are written out here (one H-row block per entry of the kind's blocks, no weight_hh / bias_hh:
    the kinds torch.nn lacks are the ones without W_hh), independently of gru_viz.core.spec.param_shapes.
    """
    if TORCH_MODULES[spec.kind] is not None:
        return {k: v * scale for k, v in numpy_params(torch_module(spec, seed)).items()}
    assert not KIND[spec.kind].recurrent, f"no weight_hh written for a {spec.kind}"
    rng = np.random.default_rng(seed)
    H, D = spec.hidden_size, 2 if spec.bidirectional else 1
    rows = len(KIND[spec.kind].blocks) * H
    k = scale / np.sqrt(H)
    out = {}
    for layer in range(spec.num_layers):
        width = spec.input_size if layer == 0 else D * H
        for d in range(D):
            out[_key("weight_ih", layer, d, spec.cell)] = rng.uniform(-k, k, (rows, width))
            if spec.bias:
                out[_key("bias_ih", layer, d, spec.cell)] = rng.uniform(-k, k, rows)
    return out


def to_torch(params: dict[str, np.ndarray], requires_grad: bool = False) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v, dtype=DTYPE, requires_grad=requires_grad) for k, v in params.items()}


def run_cell_module(mod: torch.nn.Module, x: torch.Tensor, h0=None):
    """Step a GRUCell/LSTMCell/RNNCell over x (T, B, I) or (T, I); returns (output, h_n, c_n) like run()."""
    is_lstm = isinstance(mod, torch.nn.LSTMCell)
    state = h0
    outs = []
    for t in range(x.shape[0]):
        state = mod(x[t], state)
        outs.append(state[0] if is_lstm else state)
    if is_lstm:
        return torch.stack(outs), state[0], state[1]
    return torch.stack(outs), state, None


def run_module(spec, mod: torch.nn.Module, x: torch.Tensor, h0=None):
    """Run the torch.nn module as a user would; returns (output, h_n, c_n)."""
    if spec.cell:
        return run_cell_module(mod, x, h0)
    if has_cell_state(spec.kind):
        out, (h_n, c_n) = mod(x, h0)
        return out, h_n, c_n
    out, h_n = mod(x, h0)
    return out, h_n, None


def make_inputs(spec, seed: int, T: int, B: int, batched: bool = True, with_h0: bool = True, scale: float = 1.0):
    """Random x and h0 (a pair for an LSTM; None when ``with_h0`` is false), shaped as the torch module takes them."""
    rng = np.random.default_rng(seed)
    I, H, H_out = spec.input_size, spec.hidden_size, spec.proj_size or spec.hidden_size
    LD = spec.num_layers * (2 if spec.bidirectional else 1)
    if not batched:
        x = rng.normal(size=(T, I))
    elif spec.batch_first:
        x = rng.normal(size=(B, T, I))
    else:
        x = rng.normal(size=(T, B, I))
    x *= scale
    if not with_h0:
        return x, None

    def state(size):
        if spec.cell:
            return rng.normal(size=(B, size) if batched else (size,))
        return rng.normal(size=(LD, B, size) if batched else (LD, size))

    h0 = state(H_out)
    return x, ((h0, state(H)) if has_cell_state(spec.kind) else h0)


def as_torch(value, requires_grad: bool = False):
    """NumPy array (or pair of arrays, or None) to float64 tensors."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(as_torch(v, requires_grad) for v in value)
    return torch.tensor(value, dtype=DTYPE, requires_grad=requires_grad)


def is_torch_native(spec) -> bool:
    """Whether torch.nn has this model: a kind it has a module for, and of a GRU only PyTorch's variant."""
    return TORCH_MODULES[spec.kind] is not None and not (spec.kind == "gru" and spec.variant != "torch")


CLAMPABLE = {k: KIND[k].clampable for k in KINDS}  # the gates a person may clamp: the σ gates


def _refused_clamps(spec, ablations: Sequence, T: int) -> bool:
    """Whether the core refuses these clamps at some step (its kind's own rule, e.g. minLSTM's f = i = 0)."""
    check = KIND[spec.kind].check_clamps
    for layer in range(spec.num_layers):
        for d in range(spec.directions):
            for t in range(T):
                cl = _step_clamps(ablations, layer, d, t, spec.hidden_size)
                clamps = {g: Clamp(np.ones(1, bool), v.numpy()[None]) for g, v in cl.items()}
                if check(clamps):
                    return True
    return False


@st.composite
def configs(draw, ablations: bool = True, max_steps: int = 12):
    """(spec, make_inputs kwargs, seed, ablations) over kind × variant × layers × directions × batch_first ×
    batched × h0 × T × sizes × bias × cell, with up to two random clamps for kinds that have gates (never a set the
    core refuses)."""
    from gru_viz.core.spec import Spec
    from gru_viz.core.trace import Ablation

    kind = draw(st.sampled_from(KINDS))
    H = draw(st.integers(1, 5))
    kw = {"input_size": draw(st.integers(1, 4)), "hidden_size": H, "bias": draw(st.booleans())}
    cell = draw(st.integers(0, 4)) == 0
    if kind == "gru":
        kw["variant"] = draw(st.sampled_from(list(VARIANTS)))
    if kind == "rnn":
        kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    if cell:
        kw["cell"] = True
    else:
        kw["num_layers"] = draw(st.integers(1, 3))
        kw["bidirectional"] = draw(st.booleans())
        kw["batch_first"] = draw(st.booleans())
        if kind == "lstm" and H > 1:
            kw["proj_size"] = draw(st.integers(0, H - 1))
    spec = Spec(kind, **kw)
    T = draw(st.integers(1, max_steps))
    run_kw = {
        "T": T,
        "B": draw(st.integers(1, 3)),
        "batched": draw(st.booleans()),
        "with_h0": draw(st.booleans()),
    }
    abl = []
    if ablations and CLAMPABLE[kind]:
        unit = st.floats(0.0, 1.0)
        for _ in range(draw(st.integers(0, 2))):
            start = draw(st.integers(0, T))
            abl.append(
                Ablation(
                    draw(st.sampled_from(list(CLAMPABLE[kind]))),
                    draw(st.one_of(unit, st.tuples(*[unit] * H))),
                    start,
                    draw(st.one_of(st.none(), st.integers(start, T))),
                    draw(st.one_of(st.none(), st.integers(0, spec.num_layers - 1))),
                    draw(st.one_of(st.none(), st.integers(0, spec.directions - 1))),
                )
            )
        assume(not _refused_clamps(spec, abl, T))  # e.g. a minLSTM's f and i both 0 at one step: 0 / 0
    return spec, run_kw, draw(st.integers(0, 2**16)), abl
