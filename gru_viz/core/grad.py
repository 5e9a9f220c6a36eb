"""Backpropagation through time over a whole model, and gradient-flow norms for the vanishing-gradient views."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import LayerGrads
from .kinds import KIND
from .model import Model, ModelInputError
from .spec import param_key
from .trace import Ablation, LayerTrace, Trace

_PARAM_NAMES = {"w_ih": "weight_ih", "w_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh", "w_hr": "weight_hr"}

MAX_FLOW_ELEMENTS = 30_000_000  # T · seeds · H: the whole-run pass holds this many floats (~240 MB);
# chunked runs hold far fewer, but the work grows the same way, so the bound stays for both
FLOW_CHUNK = 128  # steps per backward chunk in gradient_flow: keeps its working set in cache, not in RAM


@dataclass
class Grads:
    """∂L/∂(everything): parameters keyed like ``model.params``, and x, h0 (and c0) shaped as given."""

    params: dict[str, np.ndarray]
    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None = None


def _to_internal(model: Model, trace: Trace, d_output: np.ndarray | None, d_h_n, d_c_n):
    """Cotangents in the internal layout: (T, B', D·H_out) and (L·D, B', ·)."""
    s = model.spec
    T, B = trace.steps, trace.layers[0][0].x.shape[1]
    LD = s.num_layers * s.directions
    if d_output is None:
        d_out = np.zeros((T, B, s.directions * s.out_size))
    else:
        d_out = np.asarray(d_output, dtype=np.float64)
        if d_out.shape != trace.output.shape:
            raise ModelInputError(f"d_output must have the output's shape {trace.output.shape}, got {d_out.shape}")
        if s.cell or not trace.batched:
            d_out = d_out.reshape(T, B, -1)
        elif s.batch_first:
            d_out = d_out.transpose(1, 0, 2)

    def state(d: object, size: int, ref: np.ndarray | None, name: str) -> np.ndarray | None:
        if d is None:
            return None
        arr = np.asarray(d, dtype=np.float64)
        if ref is not None and arr.shape != ref.shape:
            raise ModelInputError(f"{name} must have shape {ref.shape}, got {arr.shape}")
        return arr.reshape(LD, B, size)

    return d_out, state(d_h_n, s.out_size, trace.h_n, "d_h_n"), state(d_c_n, s.hidden_size, trace.c_n, "d_c_n")


def _layer_backward(
    model: Model, lt: LayerTrace, dh_out: np.ndarray, dc_last: np.ndarray | None, ablations, param_grads: bool
) -> LayerGrads:
    s = model.spec
    p = model.layer_params(lt.layer, lt.direction)
    clamps = model._clamps(ablations, lt.layer, lt.direction, lt.steps)
    return KIND[s.kind].backward(lt, p, s.layer_spec(lt.layer), dh_out, dc_last, clamps, param_grads)


def _backward_internal(
    model: Model,
    trace: Trace,
    d_out: np.ndarray,
    d_h_n: np.ndarray | None,
    d_c_n: np.ndarray | None,
    param_grads: bool = True,
) -> tuple[np.ndarray, dict[tuple[int, int], LayerGrads]]:
    """Walk the stack from the top: each layer's ∂L/∂x is the ∂L/∂output of the layer below."""
    s = model.spec
    H = s.out_size
    per_layer: dict[tuple[int, int], LayerGrads] = {}
    for layer in reversed(range(s.num_layers)):
        d_below = None
        for lt in trace.layers[layer]:
            idx = layer * s.directions + lt.direction
            dh_out = np.array(d_out[..., lt.direction * H : (lt.direction + 1) * H])
            if d_h_n is not None:
                dh_out[-1 if lt.direction == 0 else 0] += d_h_n[idx]  # h_n is the last state of travel
            dc_last = None if d_c_n is None else d_c_n[idx]
            g = _layer_backward(model, lt, dh_out, dc_last, trace.ablations, param_grads)
            per_layer[(layer, lt.direction)] = g
            d_below = g.dx if d_below is None else d_below + g.dx
        d_out = d_below
    return d_out, per_layer


def backward(
    model: Model,
    trace: Trace,
    d_output: np.ndarray | None = None,
    d_h_n: np.ndarray | None = None,
    d_c_n: np.ndarray | None = None,
) -> Grads:
    """Gradients of L = Σ d_output ⊙ output + Σ d_h_n ⊙ h_n (+ Σ d_c_n ⊙ c_n) for the run in ``trace``.

    The cotangents are shaped as ``trace.output``, ``trace.h_n`` and ``trace.c_n``. A gradient that explodes
    past float64's range comes back non-finite, without a warning: callers test ``np.isfinite`` and say so.
    """
    s = model.spec
    d_out, dhn, dcn = _to_internal(model, trace, d_output, d_h_n, d_c_n)
    with np.errstate(over="ignore", invalid="ignore"):
        dx, per_layer = _backward_internal(model, trace, d_out, dhn, dcn)
    params: dict[str, np.ndarray] = {}
    for (layer, d), g in per_layer.items():
        for short, arr in g.params.items():
            key = param_key(_PARAM_NAMES[short], layer, d, s.cell)
            if key in model.params:  # a model without biases still gets their (unused) gradients: drop them
                params[key] = arr
    params = {k: params[k] for k in model.params}
    LD = s.num_layers * s.directions
    dh0 = np.stack([per_layer[(i // s.directions, i % s.directions)].dh0 for i in range(LD)])
    dc0 = None
    if "c" in KIND[s.kind].state:
        dc0 = np.stack([per_layer[(i // s.directions, i % s.directions)].dc0 for i in range(LD)])
    # back to the caller's shapes
    if s.cell or not trace.batched:
        dx = dx.reshape((*trace.output.shape[:-1], s.input_size))
        dh0 = dh0.reshape(trace.h_n.shape)
        dc0 = None if dc0 is None else dc0.reshape(trace.c_n.shape)
    elif s.batch_first:
        dx = dx.transpose(1, 0, 2)
    return Grads(params, dx, dh0, dc0)


@dataclass
class Flow:
    """How much the final output depends on earlier steps: Frobenius norms over t, (T,) each.

    A norm past float64's largest number (≈1.8e308, an exploding gradient) is +inf, never NaN; its exact size is
    kept as a base-10 logarithm in ``log10_dh`` / ``log10_dx`` (+inf only where even that could not be followed).
    """

    dh: np.ndarray  # ‖∂h_T/∂h_t‖ for the chosen layer and direction
    dx: np.ndarray  # ‖∂h_T/∂x_t‖
    dc: np.ndarray | None = None  # LSTM: ‖∂h_T/∂c_t‖ (not computed here; see gradient paths)
    log10_dh: np.ndarray | None = None  # log10 ‖∂h_T/∂h_t‖, also past 1e308 (−inf where the norm is 0)
    log10_dx: np.ndarray | None = None

    def __post_init__(self) -> None:
        with np.errstate(divide="ignore"):
            if self.log10_dh is None:
                self.log10_dh = np.log10(self.dh)
            if self.log10_dx is None:
                self.log10_dx = np.log10(self.dx)

    @property
    def overflow_step(self) -> int | None:
        """The latest step t whose ‖∂h_T/∂h_t‖ is past float64's largest number (the gradient exploded there
        on its way back from T), or None."""
        past = np.flatnonzero(np.isinf(self.dh))
        return int(past[-1]) if past.size else None


LOG10_FLOAT_MAX = float(np.log10(np.finfo(np.float64).max))  # 308.25


def gradient_flow(
    model: Model,
    x: np.ndarray,
    h0: object = None,
    ablations: tuple[Ablation, ...] = (),
    layer: int = -1,
    direction: int = 0,
) -> Flow:
    """‖∂h_T/∂h_t‖ and ‖∂h_T/∂x_t‖ for every t: a backward pass with one seed per unit of h_T (in chunks of
    steps for forward-only models without clamps, which also follow an exploding gradient past 1e308).

    h_T is the model's output at the last step (all directions); ``x`` is one unbatched sequence (T, I).
    """
    s = model.spec
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ModelInputError(f"gradient flow takes one sequence (T, I), got shape {x.shape}")
    if s.cell:
        raise ModelInputError("gradient flow is for sequence models; wrap the cell's weights in a one-layer model")
    if not -s.num_layers <= layer < s.num_layers:
        raise ModelInputError(f"the model has layers 0..{s.num_layers - 1}, not {layer}")
    if direction not in range(s.directions):
        raise ModelInputError(f"the model has {s.directions} direction(s); direction {direction} does not exist")
    layer = layer % s.num_layers
    trace = model.run(x, h0, ablations)
    T = trace.steps
    seeds = s.directions * s.out_size
    if T * seeds * max(s.hidden_size, s.input_size) > MAX_FLOW_ELEMENTS:
        raise ModelInputError(f"gradient flow over {T} steps of a model this wide is too large; use fewer steps")
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is a finding (inf), reported, not warned
        if s.directions == 1 and not trace.ablations:
            return _flow_in_chunks(model, trace, layer, seeds)
        d_out = np.zeros((T, seeds, seeds))
        d_out[T - 1] = np.eye(seeds)  # one cotangent per unit of h_T: the rows of the Jacobian
        dx, per_layer = _backward_internal(model, trace, d_out, None, None, param_grads=False)
        dh = per_layer[(layer, direction)].dh
        return Flow(dh=_past_range(_norms(dh)), dx=_past_range(_norms(dx)))


def _past_range(norms: np.ndarray) -> np.ndarray:
    """A NaN norm is an overflow that later met a zero (inf · 0): past float64's range, so +inf."""
    return np.where(np.isnan(norms), np.inf, norms)


def _norms(d: np.ndarray) -> np.ndarray:
    """Frobenius norm of each step's Jacobian block: (T, seeds, n) → (T,); scaled first, so that entries up to
    1e308 do not overflow when squared."""
    peak = np.abs(d).max(axis=(1, 2), initial=0.0)
    safe = np.where((peak > 0) & np.isfinite(peak), peak, 1.0)
    scaled = d / safe[:, None, None]
    return safe * np.sqrt((scaled**2).sum(axis=(1, 2)))


def _chunk(lt: LayerTrace, a: int, b: int) -> LayerTrace:
    """Steps a ≤ t < b of a forward layer trace, starting from the state the run had at step a − 1."""
    first = a == 0
    c0 = None if lt.c0 is None else lt.c0 if first else lt.gates["c"][a - 1]  # LSTM only
    return LayerTrace(lt.layer, 0, lt.x[a:b], lt.h0 if first else lt.h[a - 1], lt.h[a:b],
                      {k: v[a:b] for k, v in lt.gates.items()}, {k: v[a:b] for k, v in lt.pre.items()}, c0)


def _flow_in_chunks(model: Model, trace: Trace, layer: int, seeds: int) -> Flow:
    """gradient_flow for forward-only models without clamps: the same backward pass, FLOW_CHUNK steps at a time
    from the end, carrying ∂h_T/∂(h, c) across chunk borders; only the norms are kept. Whole-run cotangents
    (T · seeds · 3H floats, ~0.8 GB for H = 64 over 5000 steps) made the single pass memory-bound.

    At each border the carried cotangents are divided by a power of two (exact in binary floating point) and
    the exponent is kept aside, so a gradient that explodes past 1e308 (or vanishes below 1e-308) is followed
    exactly; a chunk that overflows inside is redone in halves."""
    s = model.spec
    T = trace.steps
    log_dh, log_dx = np.full(T, np.inf), np.full(T, np.inf)  # +inf: past float64's range, not followed
    dh_norm, dx_norm = np.full(T, np.inf), np.full(T, np.inf)
    carry_h: list[np.ndarray | None] = [None] * s.num_layers
    carry_c: list[np.ndarray | None] = [None] * s.num_layers
    exponent = 0  # the carries hold ∂h_T/∂(h, c) × 2^−exponent
    b, size = T, FLOW_CHUNK
    while b > 0:
        a = max(b - size, 0)
        d = np.zeros((b - a, seeds, seeds))
        if b == T:
            d[-1] = np.eye(seeds)  # one cotangent per unit of h_T: the rows of the Jacobian
        new_h, new_c = list(carry_h), list(carry_c)
        chunk_dh = None
        for i in reversed(range(s.num_layers)):
            if new_h[i] is not None:
                d[-1] += new_h[i]  # ∂h_T/∂h_{b−1} through the later steps: h_{b−1} is this chunk's last state
            g = _layer_backward(model, _chunk(trace.layers[i][0], a, b), d, new_c[i], (), param_grads=False)
            new_h[i], new_c[i] = g.dh0, g.dc0
            if i == layer:
                chunk_dh = _norms(g.dh)
            d = g.dx
        chunk_dx = _norms(d)
        carried = [c for c in (*new_h, *new_c) if c is not None]
        finite = all(np.isfinite(c).all() for c in carried) and np.isfinite(chunk_dh).all() and np.isfinite(
            chunk_dx).all()
        if not finite:
            if size > 1:
                size = max(1, size // 2)  # overflowed inside the chunk: fewer steps between rescalings
                continue
            break  # one step alone overflows from a unit cotangent: the earlier norms stay past range (+inf)
        with np.errstate(divide="ignore"):
            log_dh[a:b] = np.log10(chunk_dh) + exponent * np.log10(2.0)
            log_dx[a:b] = np.log10(chunk_dx) + exponent * np.log10(2.0)
        dh_norm[a:b] = np.ldexp(chunk_dh, exponent)  # exact; +inf past 1.8e308
        dx_norm[a:b] = np.ldexp(chunk_dx, exponent)
        peak = max((float(np.abs(c).max(initial=0.0)) for c in carried), default=0.0)
        if peak > 0:
            shift = int(np.frexp(peak)[1])  # peak = m · 2^shift with ½ ≤ m < 1
            carry_h = [None if c is None else np.ldexp(c, -shift) for c in new_h]
            carry_c = [None if c is None else np.ldexp(c, -shift) for c in new_c]
            exponent += shift
        else:
            carry_h, carry_c = new_h, new_c
        b, size = a, FLOW_CHUNK
    return Flow(dh=dh_norm, dx=dx_norm, log10_dh=log_dh, log10_dx=log_dx)
