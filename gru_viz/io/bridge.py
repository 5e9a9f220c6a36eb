"""The bridge to PyTorch: a torch module in, a NumPy :class:`Model` out, and back.

This is the only module of ``gru_viz`` that imports torch (at its top); ``import gru_viz`` reaches it lazily.

- :func:`from_torch` reads an ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` (any layers, bidirectional,
  batch_first, proj_size, bias=False) or an ``nn.GRUCell`` / ``nn.LSTMCell`` / ``nn.RNNCell`` into a
  :class:`Model` whose ``run`` returns what the module returns (in float64).
- :func:`to_torch` builds the equivalent float64 module with the same weights (PyTorch's GRU variant only:
  torch has no module for the other GRU variants, minGRU or minLSTM; see ``torch_names.TORCH_MODULES``).
- :func:`torch_state_dict` and :func:`save_pt` export the parameters as torch tensors / a ``.pt`` file.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from torch import nn

from ..core.kinds import KIND, per_kind
from ..core.model import Model
from ..core.parity import grad_key, step_key  # NumPy-only bookkeeping: the keys our side uses too
from ..core.spec import GRU_VARIANTS, KIND_NAMES, Spec, SpecError, param_key, param_shapes
from .torch_names import TORCH_MODULES, is_native
from .weights import load_weights, load_weights_bytes

__all__ = ["from_torch", "is_native", "load_weights", "load_weights_bytes", "save_pt", "to_torch",
           "torch_state_dict"]

_LAYER_KINDS: dict[type[nn.Module], str] = {getattr(nn, n): k for k, n in TORCH_MODULES.items() if n}
_CELL_KINDS: dict[type[nn.Module], str] = {getattr(nn, n + "Cell"): k for k, n in TORCH_MODULES.items() if n}
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
        arr = t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()
        arr.flags.writeable = False  # our own copy, read-only: the Model keeps it rather than copying it again
        params[key] = arr
    return Model(spec, params)


def torch_state_dict(model: Model) -> dict[str, torch.Tensor]:
    """The model's parameters as float64 torch tensors, keyed as torch's ``state_dict`` keys them."""
    return {key: torch.from_numpy(np.array(arr, dtype=np.float64, copy=True)) for key, arr in model.params.items()}


def to_torch(model: Model) -> nn.Module:
    """The float64 torch module (in eval mode) equivalent to ``model``, carrying the same weights.

    Refused with :class:`SpecError` for the kinds torch.nn lacks (minGRU, minLSTM) and for GRU variants other
    than "torch": no torch module computes them.
    """
    s = model.spec
    if TORCH_MODULES[s.kind] is None:
        name = KIND_NAMES[s.kind]
        raise SpecError(f"{name} has no torch module (torch.nn has no {name}); export its weights instead")
    if s.mixed:
        raise SpecError(
            "torch's nn.GRU runs every layer in one variant ('torch'); this stack's layers differ ("
            + " / ".join(GRU_VARIANTS[v].name for v in s.layer_variants) + "), so no torch module computes it: export "
            "its weights instead"
        )
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
    cls = getattr(nn, TORCH_MODULES[s.kind] + ("Cell" if s.cell else ""))
    if s.cell:
        kwargs: dict[str, object] = {"bias": s.bias, "dtype": f64}
        if s.kind == "rnn":
            kwargs["nonlinearity"] = s.nonlinearity
        module = cls(s.input_size, s.hidden_size, **kwargs)
    else:
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
    """A ``.pt`` file (``torch.save``) of the model's state_dict as float64 tensors; loads with weights_only.

    For a kind without W_hh (which no torch.nn module loads) the dict also holds ``"gru_viz.kind"``, a string: its
    weight_ih's G·H rows alone may not say whether it is a minGRU or a minLSTM; for a GRU stack whose layers differ
    in variant, ``"gru_viz.layer_variants"`` (comma-separated, bottom layer first).
    """
    sd: dict[str, object] = dict(torch_state_dict(model))
    if not KIND[model.spec.kind].recurrent:
        sd["gru_viz.kind"] = model.spec.kind
    if model.spec.layer_variants:  # a GRU stack whose layers differ in variant: no torch module says it, the file does
        sd["gru_viz.layer_variants"] = ",".join(model.spec.layer_variants)
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


def describe_module(module: nn.Module) -> str:
    """What gru-viz makes of a torch module, in one line (raises like :func:`from_torch`)."""
    kind, cell = _classify(module)
    return f"{KIND_NAMES[kind]}: {_spec_of(module, kind, cell).describe()}"


# ============================================================================== the torch side of a comparison
#
# What "Matches PyTorch" runs. torch.nn.GRU / LSTM / RNN (and their cells) compute the outputs, final states and,
# through autograd, the gradients. They do not expose their gates, so every gate of every step is computed here
# in torch, step by step, from the module's own weights, with the equations of
# /work/shared/reference/gru-conventions.md (minLSTM: Feng et al. 2024, arXiv 2410.01201). The same step functions
# are the whole torch side where torch.nn has no module: the three other GRU variants, minGRU, minLSTM, and any run
# with clamped gates.

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}
# torch says this once per process when a projected LSTM runs in float32: harmless, and not for the app's log.
warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")


def _lin(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return x @ w.T if b is None else x @ w.T + b


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh, reset_after=True, z_keeps=True, clamp=None):
    """One GRU step in torch: (h', {r, z, n}); ``clamp`` maps "r"/"z" to a constant gate value."""
    clamp = clamp or {}
    H = h.shape[-1]
    gi = _lin(x, w_ih, b_ih)  # rows r, z, n
    gh = _lin(h, w_hh, b_hh)
    r = torch.sigmoid(gi[..., :H] + gh[..., :H])
    z = torch.sigmoid(gi[..., H : 2 * H] + gh[..., H : 2 * H])
    r = clamp["r"].expand_as(r) if "r" in clamp else r  # a clamped gate is a constant: no gradient flows
    z = clamp["z"].expand_as(z) if "z" in clamp else z
    if reset_after:  # n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        n = torch.tanh(gi[..., 2 * H :] + r * gh[..., 2 * H :])
    else:  # n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)
        n = torch.tanh(gi[..., 2 * H :] + _lin(r * h, w_hh[2 * H :], None if b_hh is None else b_hh[2 * H :]))
    h_new = (1 - z) * n + z * h if z_keeps else (1 - z) * h + z * n
    return h_new, {"r": r, "z": z, "n": n}


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None, clamp=None):
    """One LSTM step in torch: (h', c', {i, f, g, o, c (, m)}); rows i, f, g, o."""
    clamp = clamp or {}
    H = c.shape[-1]
    pre = _lin(x, w_ih, b_ih) + _lin(h, w_hh, b_hh)
    i, f = torch.sigmoid(pre[..., :H]), torch.sigmoid(pre[..., H : 2 * H])
    g, o = torch.tanh(pre[..., 2 * H : 3 * H]), torch.sigmoid(pre[..., 3 * H :])
    i = clamp["i"].expand_as(i) if "i" in clamp else i
    f = clamp["f"].expand_as(f) if "f" in clamp else f
    o = clamp["o"].expand_as(o) if "o" in clamp else o
    c_new = f * c + i * g
    m = o * torch.tanh(c_new)
    gates = {"i": i, "f": f, "g": g, "o": o, "c": c_new}
    if w_hr is None:
        return m, c_new, gates
    gates["m"] = m
    return m @ w_hr.T, c_new, gates  # projected: h' = W_hr (o ⊙ tanh c')


def rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One vanilla RNN step in torch: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""
    pre = _lin(x, w_ih, b_ih) + _lin(h, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def mingru_step(x, h, w_ih, b_ih, clamp=None):
    """One minGRU step in torch: z = σ(W_z x + b_z), n = g(W_n x + b_n), h' = (1 − z) ⊙ h + z ⊙ n."""
    clamp = clamp or {}
    H = h.shape[-1]
    k = _lin(x, w_ih, b_ih)  # rows z, then the candidate
    z = torch.sigmoid(k[..., :H])
    z = clamp["z"].expand_as(z) if "z" in clamp else z
    n = torch.where(k[..., H:] >= 0, k[..., H:] + 0.5, torch.sigmoid(k[..., H:]))  # positive candidate g
    return (1 - z) * h + z * n, {"z": z, "n": n}


def minlstm_step(
    x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, b_ih: torch.Tensor | None, clamp: dict | None = None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One minLSTM step in torch (Feng et al. 2024) as the paper writes it: (h', {f, i, n, f', i'}).

    f = σ(W_f x + b_f), i = σ(W_i x + b_i), n = g(W_n x + b_n), f′ = f / (f + i), i′ = i / (f + i),
    h' = f′ ⊙ h + i′ ⊙ n.
    """
    clamp = clamp or {}
    H = h.shape[-1]
    k = _lin(x, w_ih, b_ih)  # rows f, i, then the candidate
    f, i = torch.sigmoid(k[..., :H]), torch.sigmoid(k[..., H : 2 * H])
    f = clamp["f"].expand_as(f) if "f" in clamp else f
    i = clamp["i"].expand_as(i) if "i" in clamp else i
    n = torch.where(k[..., 2 * H :] >= 0, k[..., 2 * H :] + 0.5, torch.sigmoid(k[..., 2 * H :]))  # positive g
    f_n, i_n = f / (f + i), i / (f + i)  # 0 / 0 only where both σ underflow (both pre-activations below ~−745)
    return f_n * h + i_n * n, {"f": f, "i": i, "n": n, "f'": f_n, "i'": i_n}


# The equations of each kind (shown on the "Matches PyTorch" page with the code that ran them).
STEPS = per_kind("io.bridge.steps", {
    "gru": gru_step,
    "lstm": lstm_step,
    "rnn": rnn_step,
    "mingru": mingru_step,
    "minlstm": minlstm_step,
})


def _gru_call(spec, x, h, c, w, clamp):
    v = GRU_VARIANTS[spec.variant]
    h, gates = gru_step(x, h, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"], v.reset_after, v.z_keeps,
                        clamp)
    return h, c, gates


def _lstm_call(spec, x, h, c, w, clamp):
    return lstm_step(x, h, c, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"], w["weight_hr"], clamp)


def _rnn_call(spec, x, h, c, w, clamp):
    return rnn_step(x, h, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"], spec.nonlinearity), c, {}


def _mingru_call(spec, x, h, c, w, clamp):
    h, gates = mingru_step(x, h, w["weight_ih"], w["bias_ih"], clamp)
    return h, c, gates


def _minlstm_call(spec, x, h, c, w, clamp):
    h, gates = minlstm_step(x, h, w["weight_ih"], w["bias_ih"], clamp)
    return h, c, gates


# Each kind's step with one signature: (spec, x, h, c, weights {name: tensor or None}, clamp) → (h', c', gates).
CALLS = per_kind("io.bridge.calls", {
    "gru": _gru_call,
    "lstm": _lstm_call,
    "rnn": _rnn_call,
    "mingru": _mingru_call,
    "minlstm": _minlstm_call,
})

_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")


def _carries_c(spec: Spec) -> bool:
    """Whether the kind carries a cell state c beside h (an LSTM): a pair of initial states, and c_n."""
    return "c" in KIND[spec.kind].state


def _clamps_by_step(ablations, layer: int, d: int, T: int, H: int, dtype: torch.dtype) -> list[dict]:
    """For each time index t, the gates clamped at t and their values (time order, either direction)."""
    steps: list[dict] = [{} for _ in range(T)]
    for ab in ablations:
        if not ab.applies(layer, d):
            continue
        value = torch.as_tensor(np.broadcast_to(np.asarray(ab.value, dtype=np.float64), (H,)).copy(), dtype=dtype)
        for t in range(ab.start, T if ab.stop is None else ab.stop):
            steps[t][ab.gate] = value
    return steps


def reference_run(spec: Spec, params: dict, x: torch.Tensor, h0: torch.Tensor, c0=None, ablations=()):
    """Run ``spec`` step by step in torch over x (T, B, I) from h0 (L·D, B, H_out) (and c0).

    Returns (output (T, B, D·H_out), h_n (L·D, B, H_out), c_n or None, {parity step key: (T, B, ·) tensor}).
    """
    T, D, H = x.shape[0], spec.directions, spec.hidden_size
    step = CALLS[spec.kind]
    inp, h_n, c_n, steps = x, [], [], {}
    for layer in range(spec.num_layers):
        outs = []
        for d in range(D):
            w = {n: params.get(param_key(n, layer, d, spec.cell)) for n in _WEIGHTS}
            h = h0[layer * D + d]
            c = None if c0 is None else c0[layer * D + d]
            clamps = _clamps_by_step(ablations, layer, d, T, H, x.dtype)
            hs, gates = [None] * T, [None] * T
            for t in range(T) if d == 0 else range(T - 1, -1, -1):  # the reverse direction reads from the end
                h, c, gates[t] = step(spec, inp[t], h, c, w, clamps[t])
                hs[t] = h
            for name in gates[0]:
                steps[step_key(layer, d, name)] = torch.stack([g[name] for g in gates])
            steps[step_key(layer, d, "h")] = torch.stack(hs)
            outs.append(steps[step_key(layer, d, "h")])
            h_n.append(h)
            c_n.append(c)
        inp = torch.cat(outs, dim=-1)
    return inp, torch.stack(h_n), (torch.stack(c_n) if _carries_c(spec) else None), steps


def _to_internal(spec: Spec, x: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """x as (T, B, I) and a state as (L·D, B, ·), from the shapes the torch module takes (views: autograd flows)."""
    if x.dim() == 2:
        x = x.unsqueeze(1)
        state = None if state is None else (state.reshape(1, 1, -1) if spec.cell else state.unsqueeze(1))
    else:
        if spec.batch_first:
            x = x.transpose(0, 1)
        if state is not None and spec.cell:
            state = state.unsqueeze(0)  # a batched cell's (B, H)
    return x, state


def _to_external(spec: Spec, batched: bool, out: torch.Tensor, *states: torch.Tensor | None):
    """The reverse of :func:`_to_internal` for the output and final states."""
    if spec.cell:
        states = tuple(None if s is None else s[0] for s in states)
        if not batched:
            out, states = out[:, 0], tuple(None if s is None else s[0] for s in states)
    elif not batched:
        out, states = out[:, 0], tuple(None if s is None else s[:, 0] for s in states)
    elif spec.batch_first:
        out = out.transpose(0, 1)
    return (out, *states)


def _initial(model: Model, x: np.ndarray, value: object, size: int) -> np.ndarray:
    """h0 (or c0) as the torch module takes it; zeros when not given (so that ∂L/∂h0 exists)."""
    if value is not None:
        return np.asarray(value, dtype=np.float64)
    s = model.spec
    batched = x.ndim == 3
    B = (x.shape[0] if s.batch_first else x.shape[1]) if batched else None
    if s.cell:
        return np.zeros((B, size) if batched else (size,))
    LD = s.num_layers * s.directions
    return np.zeros((LD, B, size) if batched else (LD, size))


def _run_module(module: nn.Module, spec: Spec, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor | None):
    """(output, h_n, c_n) of the torch.nn module itself; a cell module is stepped over x[t] as a user would."""
    pair = _carries_c(spec)
    state = (h0, c0) if pair else h0
    if not spec.cell:
        out, hn = module(x, state)
        return (out, *hn) if pair else (out, hn, None)
    outs = []
    for t in range(x.shape[0]):
        state = module(x[t], state)
        outs.append(state[0] if pair else state)
    if pair:
        return torch.stack(outs), state[0], state[1]
    return torch.stack(outs), state, None


def torch_side(
    model: Model,
    x: np.ndarray,
    h0: object = None,
    ablations=(),
    cot=None,
    dtype: str = "float64",
) -> tuple[dict[str, np.ndarray], str]:
    """Every quantity :func:`gru_viz.core.parity.our_side` computes, computed by torch in ``dtype``; and how.

    ``x`` and ``h0`` are shaped as the torch module takes them (an LSTM's h0 is a pair); ``cot`` holds the
    fixed loss weights (:class:`gru_viz.core.parity.Cotangents`). With no clamps, a model torch.nn has is run by its
    module (outputs, final states, autograd gradients) and only the gates come from the step-by-step code;
    otherwise the step-by-step code (:func:`reference_run`) is the whole torch side.
    """
    s = model.spec
    dt = TORCH_DTYPES[dtype]
    x = np.asarray(x, dtype=np.float64)
    h0, c0 = (h0 if h0 is not None else (None, None)) if _carries_c(s) else (h0, None)
    xt = torch.tensor(x, dtype=dt, requires_grad=True)
    h0t = torch.tensor(_initial(model, x, h0, s.out_size), dtype=dt, requires_grad=True)
    c0t = None
    if _carries_c(s):
        c0t = torch.tensor(_initial(model, x, c0, s.hidden_size), dtype=dt, requires_grad=True)
    native = is_native(s) and not ablations
    if native:
        module = to_torch(model).to(dt)
        params = dict(module.named_parameters())
        out, h_n, c_n = _run_module(module, s, xt, h0t, c0t)
        how = f"torch.nn.{type(module).__name__}" + (", stepped over t" if s.cell else "")
    else:
        params = {k: torch.tensor(v, dtype=dt, requires_grad=True) for k, v in model.params.items()}
        xi, hi = _to_internal(s, xt, h0t)
        ci = None if c0t is None else _to_internal(s, xt, c0t)[1]
        out, h_n, c_n, _ = reference_run(s, params, xi, hi, ci, ablations)
        out, h_n, c_n = _to_external(s, xt.dim() == 3, out, h_n, c_n)
        why = "torch.nn has no gate clamps" if ablations and is_native(s) else f"torch.nn has no {_name(s)}"
        how = f"torch, step by step ({why})"
    loss = (out * torch.as_tensor(cot.output, dtype=dt)).sum() + (h_n * torch.as_tensor(cot.h_n, dtype=dt)).sum()
    if c_n is not None:
        loss = loss + (c_n * torch.as_tensor(cot.c_n, dtype=dt)).sum()
    loss.backward()
    result = {"output": out, "h_n": h_n}
    if c_n is not None:
        result["c_n"] = c_n
    with torch.no_grad():  # every gate of every step, from the weights that ran (the module's own, if any)
        xi, hi = _to_internal(s, xt.detach(), h0t.detach())
        ci = None if c0t is None else _to_internal(s, xt.detach(), c0t.detach())[1]
        result.update(reference_run(s, {k: p.detach() for k, p in params.items()}, xi, hi, ci, ablations)[3])
    for name, p in params.items():
        result[grad_key(name)] = p.grad
    result[grad_key("x")], result[grad_key("h0")] = xt.grad, h0t.grad
    if c0t is not None:
        result[grad_key("c0")] = c0t.grad
    return {k: v.detach().to(torch.float64).numpy().copy() for k, v in result.items()}, how


def _step_cell(spec: Spec, layer: int, d: int, params: dict[str, torch.Tensor]) -> nn.Module | None:
    """torch.nn's one-step module with this layer's weights (GRUCell, LSTMCell, RNNCell), or None where torch.nn
    has none (other GRU variants, minGRU, minLSTM, a projected LSTM)."""
    if not is_native(spec) or spec.proj_size:
        return None
    cls = getattr(nn, TORCH_MODULES[spec.kind] + "Cell")
    w_ih = params[param_key("weight_ih", layer, d, spec.cell)]
    kwargs: dict[str, object] = {"bias": spec.bias, "dtype": w_ih.dtype}
    if spec.kind == "rnn":
        kwargs["nonlinearity"] = spec.nonlinearity
    cell = cls(w_ih.shape[1], spec.hidden_size, **kwargs)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if spec.bias else ("weight_ih", "weight_hh")
    with torch.no_grad():
        cell.load_state_dict({n: params[param_key(n, layer, d, spec.cell)] for n in names}, strict=True)
    return cell


def torch_steps_from(model: Model, trace, ablations=(), dtype: str = "float64") -> tuple[dict[str, np.ndarray], str]:
    """Every gate and state of every step, computed by torch **from the state our run had before that step** (and
    the input our layer read): one step at a time, all steps at once as a batch. Keys as
    :func:`gru_viz.core.parity.step_key`.

    Unlike :func:`torch_side`, no difference is carried from one step to the next, so this checks each step's
    equations even on a chaotic run, where the two whole runs part once round-off has been amplified. torch.nn's
    cell module (GRUCell, LSTMCell, RNNCell) computes h (and c) where it has one; the gates come from the same
    step-by-step torch code as :func:`reference_run`.
    """
    s = model.spec
    dt = TORCH_DTYPES[dtype]
    step = CALLS[s.kind]
    params = {k: torch.tensor(np.asarray(a, dtype=np.float64), dtype=dt) for k, a in model.params.items()}
    out: dict[str, np.ndarray] = {}
    native = False
    with torch.no_grad():
        for row in trace.layers:
            for lt in row:
                T, B = lt.h.shape[:2]
                w = {n: params.get(param_key(n, lt.layer, lt.direction, s.cell)) for n in _WEIGHTS}
                x = torch.tensor(lt.x, dtype=dt)
                h = torch.tensor(lt.h_prev(), dtype=dt)
                c = torch.tensor(lt.c_prev(), dtype=dt) if _carries_c(s) else None
                cell = _step_cell(s, lt.layer, lt.direction, params)
                clamps = _clamps_by_step(ablations, lt.layer, lt.direction, T, s.hidden_size, dt)
                groups: dict[tuple, list[int]] = {}
                for t, cl in enumerate(clamps):  # steps with the same clamps are one batch
                    groups.setdefault(tuple(sorted((g, tuple(val.tolist())) for g, val in cl.items())), []).append(t)
                results: dict[str, torch.Tensor] = {}
                for signature, steps in groups.items():
                    idx = torch.tensor(steps)
                    cl = clamps[steps[0]]
                    xs, hs = x[idx].reshape(-1, x.shape[-1]), h[idx].reshape(-1, h.shape[-1])
                    cs = None if c is None else c[idx].reshape(-1, c.shape[-1])
                    h_new, _, gates = step(s, xs, hs, cs, w, cl)  # an LSTM's c is in its gates
                    if cell is not None and not signature:  # torch.nn's own step where no gate is clamped
                        native = True
                        if cs is not None:
                            h_new, gates["c"] = cell(xs, (hs, cs))
                        else:
                            h_new = cell(xs, hs)
                    for name, value in {**gates, "h": h_new}.items():
                        full = results.setdefault(name, torch.empty((T, B, value.shape[-1]), dtype=dt))
                        full[idx] = value.reshape(len(steps), B, -1)
                for name, value in results.items():
                    out[step_key(lt.layer, lt.direction, name)] = value.to(torch.float64).numpy().copy()
    how = (f"torch.nn.{TORCH_MODULES[s.kind]}Cell" if native else "torch step by step") + (
        ", one step from our state at every step")
    return out, how


def _name(spec: Spec) -> str:
    """What torch.nn lacks for a model it does not compute: the kind, or (a kind it has) the GRU variant."""
    if TORCH_MODULES[spec.kind] is None:
        return KIND_NAMES[spec.kind]
    return f"GRU of the {GRU_VARIANTS[spec.variant].name!r} variant"


def torch_side_source(model: Model, ablations=()) -> str:
    """The source of the torch code that computes the torch side for this model (for display)."""
    import inspect

    kind = model.spec.kind
    funcs = [torch_side, _run_module] if is_native(model.spec) and not ablations else [torch_side]
    funcs += [reference_run, CALLS[kind], STEPS[kind]]
    return "\n\n".join(inspect.getsource(f) for f in funcs)
