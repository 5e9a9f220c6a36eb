"""Where the gradient goes: each cell's step Jacobian split into its paths, chains of them, and clipping.

A step maps the state s_{t−1} to s_t (s = h, or the pair (h, c) for an LSTM); its Jacobian
J_t = ∂s_t/∂s_{t−1} is a sum of paths, one per way the old state reaches the new one:

- GRU (h' = keep ⊙ h + (1 − keep) ⊙ n, keep = z when z keeps, 1 − z when z takes):
  ``direct``  diag(keep)                                   — the additive path, no matrix, no squashing;
  ``n``       diag((1 − keep) ⊙ ∂n/∂h with r held fixed)   — the candidate, through W_hn;
  ``z``       diag((h − n) ⊙ ∂keep/∂pre_z) W_hz            — the update gate;
  ``r``       diag(1 − keep) ∂n/∂r ∂r/∂h                    — the reset gate, through W_hr.
- LSTM: ``cell`` is ∂c'/∂c = diag(f) alone (the cell-state path); ``rest`` is everything else.
- vanilla RNN: one path, ``tanh`` (or ``relu``): diag(act'(pre)) W_hh.
- minGRU and minLSTM: one path, ``direct``: diag(1 − z), diag(f′) (their gates do not look at h).

The paths sum to the full J_t exactly (tests check this against torch autograd). A chain
∂s_e/∂s_t = J_e J_{e−1} ⋯ J_{t+1} is the product over the steps in between; :func:`chain_norms` gives its
Frobenius norms for many end steps e at once. NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .grad import backward
from .kinds import KIND, KINDS, WITH_W_HH, keep_share, per_kind, some_kinds
from .model import Model, ModelInputError
from .trace import LayerTrace, Trace

MAX_JACOBIAN_FLOATS = 40_000_000  # T · S² floats of one path array (~320 MB); pages ask for far less

# Path names in display order, per kind, and the additive path whose product is shown against the full one.
PATHS = {k: r.paths for k, r in KIND.items()}
ADDITIVE = {k: r.additive for k, r in KIND.items()}
PATH_NAMES = {
    "direct": "direct path diag(keep)",
    "n": "through the candidate n",
    "z": "through the update gate z",
    "r": "through the reset gate r",
    "cell": "cell-state path diag(f)",
    "rest": "every other path",
    "act": "through tanh(W_hh h)",
}


@dataclass
class StepPaths:
    """The step Jacobians of one run, (T, S, S), and their split into named paths that sum to them."""

    kind: str
    full: np.ndarray  # J_t = ∂s_t/∂s_{t−1}, (T, S, S)
    parts: dict[str, np.ndarray]  # path name -> (T, S, S); Σ parts = full
    h_size: int  # s = (h, c) for an LSTM: the first h_size entries are h
    start: int = 0  # time index of full[0] in the run (the analysis may cover a window)

    @property
    def size(self) -> int:
        """S, the size of the state the Jacobians act on."""
        return self.full.shape[-1]

    @property
    def additive(self) -> str | None:
        """Name of the additive (gradient-preserving) path, if the cell has one."""
        return ADDITIVE[self.kind]

    def h_block(self) -> slice:
        """The rows/columns of h inside the state."""
        return slice(0, self.h_size)

    def c_block(self) -> slice:
        """The rows/columns of c inside an LSTM's state (empty for other cells)."""
        return slice(self.h_size, self.size)


def _diag_left(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """diag(v_t) @ W for every t: (T, R) × (R, C) → (T, R, C)."""
    return v[:, :, None] * w[None]


def _diag_right(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """W @ diag(v_t) for every t: (R, C) × (T, C) → (T, R, C)."""
    return w[None] * v[:, None, :]


def _diag(v: np.ndarray) -> np.ndarray:
    """diag(v_t) for every t: (T, H) → (T, H, H)."""
    out = np.zeros((*v.shape, v.shape[-1]))
    idx = np.arange(v.shape[-1])
    out[:, idx, idx] = v
    return out


def _free(lt: LayerTrace, gate: str, b: int, steps: slice) -> np.ndarray | float:
    """1 where a gate was computed, 0 where it was clamped (a clamped gate passes nothing back)."""
    mask = lt.clamped.get(gate)
    return 1.0 if mask is None else (~mask[steps, b]).astype(float)


def _check_size(T: int, S: int) -> None:
    if T * S * S > MAX_JACOBIAN_FLOATS:
        raise ModelInputError(f"step Jacobians of {T} steps of a {S}-wide state are too large; use fewer steps")


def gru_paths(model: Model, lt: LayerTrace, b: int = 0, steps: slice = slice(None)) -> StepPaths:
    """The GRU step Jacobians of every step in ``steps`` (batch row ``b``), split into direct, n, z and r."""
    v = model.spec.layer_spec(lt.layer).gru_variant  # a mixed stack: this layer's own variant
    p = model.layer_params(lt.layer, lt.direction)
    H = model.spec.hidden_size
    W_hr, W_hz, W_hn = p.w_hh[:H], p.w_hh[H : 2 * H], p.w_hh[2 * H :]
    h = lt.h_prev()[steps, b]
    r, z, n, a = lt.gates["r"][steps, b], lt.gates["z"][steps, b], lt.gates["n"][steps, b], lt.pre["hn"][steps, b]
    _check_size(len(h), H)
    keep = z if v.z_keeps else 1.0 - z
    dkeep = (1.0 if v.z_keeps else -1.0) * z * (1.0 - z) * _free(lt, "z", b, steps)  # ∂keep/∂pre_z
    dr = r * (1.0 - r) * _free(lt, "r", b, steps)  # ∂r/∂pre_r
    into_n = (1.0 - keep) * (1.0 - n * n)  # ∂h'/∂pre_n
    if v.reset_after:  # pre_n = W_in x + b_in + r ⊙ (W_hn h + b_hn), with a = W_hn h + b_hn
        through_n = _diag_left(into_n * r, W_hn)
        through_r = _diag_left(into_n * a * dr, W_hr)
    else:  # pre_n = W_in x + b_in + W_hn (r ⊙ h) + b_hn
        through_n = _diag_left(into_n, W_hn) * r[:, None, :]
        through_r = _diag_left(into_n, W_hn) @ _diag_left(h * dr, W_hr)
    parts = {
        "direct": _diag(keep),
        "n": through_n,
        "z": _diag_left((h - n) * dkeep, W_hz),
        "r": through_r,
    }
    return StepPaths("gru", sum(parts.values()), parts, H, _start(steps, lt.steps))


def lstm_paths(model: Model, lt: LayerTrace, b: int = 0, steps: slice = slice(None)) -> StepPaths:
    """The LSTM step Jacobians of the joint state (h, c), split into the cell-state path diag(f) and the rest.

    ∂c'/∂c = diag(f)                ∂c'/∂h = diag(c ⊙ f') W_hf + diag(g ⊙ i') W_hi + diag(i ⊙ (1 − g²)) W_hg
    ∂h'/∂c = diag(o ⊙ (1 − tanh² c') ⊙ f)    ∂h'/∂h = diag(tanh c' ⊙ o') W_ho + diag(o ⊙ (1 − tanh² c')) ∂c'/∂h
    (projected: both h' rows are multiplied by W_hr on the left).
    """
    p = model.layer_params(lt.layer, lt.direction)
    H, P = model.spec.hidden_size, model.spec.out_size
    W_hi, W_hf, W_hg, W_ho = (p.w_hh[k * H : (k + 1) * H] for k in range(4))
    i, f, g, o, c = (lt.gates[k][steps, b] for k in "ifgoc")
    c_prev = lt.c_prev()[steps, b]
    T = len(c)
    _check_size(T, P + H)
    di = i * (1.0 - i) * _free(lt, "i", b, steps)
    df = f * (1.0 - f) * _free(lt, "f", b, steps)
    do = o * (1.0 - o) * _free(lt, "o", b, steps)
    tanh_c = np.tanh(c)
    m_from_c = o * (1.0 - tanh_c * tanh_c)  # ∂m/∂c' with m = o ⊙ tanh(c')
    dc_dh = _diag_left(c_prev * df, W_hf) + _diag_left(g * di, W_hi) + _diag_left(i * (1.0 - g * g), W_hg)
    dm_dh = _diag_left(tanh_c * do, W_ho) + m_from_c[:, :, None] * dc_dh
    dm_dc = _diag(m_from_c * f)
    if p.w_hr is not None:
        dm_dh, dm_dc = p.w_hr @ dm_dh, p.w_hr @ dm_dc
    cell = np.zeros((T, P + H, P + H))
    cell[:, P:, P:] = _diag(f)
    rest = np.zeros_like(cell)
    rest[:, :P, :P] = dm_dh
    rest[:, :P, P:] = dm_dc
    rest[:, P:, :P] = dc_dh
    return StepPaths("lstm", cell + rest, {"cell": cell, "rest": rest}, P, _start(steps, lt.steps))


def rnn_paths(model: Model, lt: LayerTrace, b: int = 0, steps: slice = slice(None)) -> StepPaths:
    """The vanilla RNN's step Jacobian diag(act'(pre)) W_hh: a single path through the squashing."""
    p = model.layer_params(lt.layer, lt.direction)
    h = lt.h[steps, b]
    _check_size(len(h), h.shape[-1])
    slope = 1.0 - h * h if model.spec.nonlinearity == "tanh" else (lt.pre["h"][steps, b] > 0).astype(float)
    full = _diag_left(slope, p.w_hh)
    return StepPaths("rnn", full, {"act": full}, h.shape[-1], _start(steps, lt.steps))


def scan_paths(model: Model, lt: LayerTrace, b: int = 0, steps: slice = slice(None)) -> StepPaths:
    """The step Jacobian of a cell whose gates read only x (minGRU diag(1 − z), minLSTM diag(f′)): the share of
    h it keeps, the direct path, is all there is."""
    keep = keep_share(model.spec, lt.gates)[steps, b]
    _check_size(len(keep), keep.shape[-1])
    full = _diag(keep)
    return StepPaths(model.spec.kind, full, {"direct": full}, keep.shape[-1], _start(steps, lt.steps))


# A kind with W_hh has paths of its own; one without has the direct path alone (scan_paths), whatever its gates.
_RECURRENT_PATHS = some_kinds("core.paths.recurrent", {"gru": gru_paths, "lstm": lstm_paths, "rnn": rnn_paths})
_BY_KIND = per_kind("core.paths", {k: _RECURRENT_PATHS[k] if k in WITH_W_HH else scan_paths for k in KINDS})


def step_paths(model: Model, lt: LayerTrace, b: int = 0, steps: slice = slice(None)) -> StepPaths:
    """The step Jacobians J_t = ∂s_t/∂s_{t−1} of a layer's run over ``steps``, split into the cell's paths."""
    return _BY_KIND[model.spec.kind](model, lt, b, steps)


def _start(steps: slice, T: int) -> int:
    return range(T)[steps].start if len(range(T)[steps]) else 0


def _tangent(model: Model, lt: LayerTrace, b: int) -> Callable[[int, np.ndarray], np.ndarray]:
    """(t, v) ↦ J_t v for one layer's run (batch row ``b``): the step Jacobian of :func:`step_paths` applied to a
    vector, its paths summed without building the (S, S) matrix (a matrix–vector product per block instead)."""
    kind, H = model.spec.kind, model.spec.hidden_size
    p = model.layer_params(lt.layer, lt.direction)
    every = slice(None)
    if kind == "gru":
        var = model.spec.layer_spec(lt.layer).gru_variant
        W_hr, W_hz, W_hn = p.w_hh[:H], p.w_hh[H : 2 * H], p.w_hh[2 * H :]
        h = lt.h_prev()[:, b]
        r, z, n, a = lt.gates["r"][:, b], lt.gates["z"][:, b], lt.gates["n"][:, b], lt.pre["hn"][:, b]
        keep = z if var.z_keeps else 1.0 - z
        dkeep = (1.0 if var.z_keeps else -1.0) * z * (1.0 - z) * _free(lt, "z", b, every)
        dr = r * (1.0 - r) * _free(lt, "r", b, every)
        into_n = (1.0 - keep) * (1.0 - n * n)
        through_z = (h - n) * dkeep
        if var.reset_after:
            return lambda t, v: (keep[t] * v + into_n[t] * r[t] * (W_hn @ v) + through_z[t] * (W_hz @ v)
                                 + into_n[t] * a[t] * dr[t] * (W_hr @ v))
        h_dr = h * dr
        return lambda t, v: (keep[t] * v + into_n[t] * (W_hn @ (r[t] * v + h_dr[t] * (W_hr @ v)))
                             + through_z[t] * (W_hz @ v))
    if kind == "lstm":
        P = model.spec.out_size
        W_hi, W_hf, W_hg, W_ho = (p.w_hh[k * H : (k + 1) * H] for k in range(4))
        i, f, g, o, c = (lt.gates[k][:, b] for k in "ifgoc")
        c_prev = lt.c_prev()[:, b]
        from_f = c_prev * f * (1.0 - f) * _free(lt, "f", b, every)
        from_i = g * i * (1.0 - i) * _free(lt, "i", b, every)
        from_g = i * (1.0 - g * g)
        tanh_c = np.tanh(c)
        from_o = tanh_c * o * (1.0 - o) * _free(lt, "o", b, every)
        m_from_c = o * (1.0 - tanh_c * tanh_c)

        def lstm_step(t: int, v: np.ndarray) -> np.ndarray:
            vh, vc = v[:P], v[P:]
            dc = f[t] * vc + from_f[t] * (W_hf @ vh) + from_i[t] * (W_hi @ vh) + from_g[t] * (W_hg @ vh)
            dm = from_o[t] * (W_ho @ vh) + m_from_c[t] * dc
            return np.concatenate([dm if p.w_hr is None else p.w_hr @ dm, dc])

        return lstm_step
    if kind == "rnn":
        slope = 1.0 - lt.h[:, b] ** 2 if model.spec.nonlinearity == "tanh" else (lt.pre["h"][:, b] > 0).astype(float)
        return lambda t, v: slope[t] * (p.w_hh @ v)
    keep = 1.0 - lt.gates["z"][:, b]  # minGRU
    return lambda t, v: keep[t] * v


def layer_exponent(model: Model, lt: LayerTrace, b: int = 0) -> float:
    """The largest Lyapunov exponent of one layer's run (batch row ``b``), measured along it: the mean ln-growth per
    step of a small difference in the layer's state, carried by the step Jacobians in the direction of travel and
    renormalised every step (so it never overflows). −inf when a step wipes the difference out, NaN when the run
    is not finite.

    It is the rate at which this run amplifies any difference, round-off included, whatever size a machine's
    arithmetic gives that round-off: a property of the dynamics, not of the float64 arithmetic."""
    T = lt.steps
    step = _tangent(model, lt, b)
    S = lt.h.shape[-1] + (lt.gates["c"].shape[-1] if "c" in lt.gates else 0)
    v = np.random.default_rng(0).standard_normal(S)  # fixed: the same estimate on every call
    v /= np.linalg.norm(v)
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T) if lt.direction == 0 else range(T - 1, -1, -1):  # the reverse direction from T − 1 down
            v = step(t, v)
            size = float(np.linalg.norm(v))
            if not np.isfinite(size):
                return float("nan")
            if size == 0.0:
                return float("-inf")
            total += np.log(size)
            v /= size
    return total / T if T else float("nan")


def largest_exponent(model: Model, trace: Trace, layers: int | None = None) -> float:
    """The run's largest Lyapunov exponent (ln-growth per step): the largest of :func:`layer_exponent` over the
    first ``layers`` layers (all by default), both directions and every batch row. A stack's step Jacobian is
    block-triangular (a layer reads the one below, not the one above), so its largest exponent is its layers'."""
    rows = trace.layers if layers is None else trace.layers[:layers]
    found = [layer_exponent(model, lt, b) for row in rows for lt in row for b in range(lt.h.shape[1])]
    if not found or any(np.isnan(found)):
        return float("nan")
    return float(max(found))


# ------------------------------------------------------------------------------------------------ chains


def chain_norms(
    J: np.ndarray,
    ends: Sequence[int] | None = None,
    rows: slice = slice(None),
    cols: slice = slice(None),
) -> np.ndarray:
    """‖(∂s_e/∂s_t)[rows, cols]‖_F for every end e in ``ends`` (default: all) and every t ≤ e; NaN for t > e.

    ``J[t]`` is ∂s_t/∂s_{t−1} (forward direction), so ∂s_e/∂s_t = J[e] ⋯ J[t+1] and ∂s_e/∂s_e = I.
    All ends advance together, one lag per iteration, carrying only the chain rows that are asked for.
    """
    T, S, _ = J.shape
    ends_arr = np.arange(T) if ends is None else np.asarray(ends, dtype=int)
    if ends_arr.size and (ends_arr.min() < 0 or ends_arr.max() >= T):
        raise ModelInputError(f"end steps must lie in 0..{T - 1}")
    out = np.full((ends_arr.size, T), np.nan)
    chain = np.broadcast_to(np.eye(S)[rows], (ends_arr.size, *np.eye(S)[rows].shape)).copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for lag in range(int(ends_arr.max(initial=-1)) + 1):
            active = np.flatnonzero(ends_arr >= lag)
            t = ends_arr[active] - lag
            block = chain[active][:, :, cols]
            out[active, t] = np.sqrt((block * block).sum(axis=(1, 2)))
            chain[active] = chain[active] @ J[t]
    return out


def heatmap_steps(T: int, rows: int, size: int, cap: int = 100, budget: float = 3e8) -> int:
    """How many end steps (and start steps) a (T′, t) heatmap can cover: W²·rows·size²/2 multiply-adds ≤ budget."""
    return int(min(T, max(2, min(cap, np.sqrt(2 * budget / (rows * size * size))))))


def chain_to_end(J: np.ndarray, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
    """‖(∂s_{T−1}/∂s_t)[rows, cols]‖_F for every t: the chain from each step to the last one."""
    return chain_norms(J, [J.shape[0] - 1], rows, cols)[0]


def step_norms(parts: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The spectral norm ‖J‖₂ (the most one step can stretch a gradient) of every path at every step."""
    return {name: np.linalg.norm(arr, ord=2, axis=(1, 2)) for name, arr in parts.items()}


# ---------------------------------------------------------------------------------------------- clipping


@dataclass
class Clipped:
    """A gradient before and after norm clipping (torch.nn.utils.clip_grad_norm_ semantics)."""

    grads: dict[str, np.ndarray]  # the clipped gradients
    total_norm: float  # the norm before clipping, of all tensors viewed as one vector
    coef: float  # the factor every tensor was multiplied by: min(max_norm / (total_norm + 1e-6), 1)

    @property
    def clipped_norm(self) -> float:
        """The norm after clipping."""
        return global_norm(self.grads)


def global_norm(grads: Mapping[str, np.ndarray], norm_type: float = 2.0) -> float:
    """The p-norm of all tensors viewed as one vector (the norm of their norms, as torch computes it)."""
    if not grads:
        return 0.0
    if norm_type == np.inf:
        return float(max(np.abs(g).max(initial=0.0) for g in grads.values()))
    norms = np.array([np.linalg.norm(np.ravel(g), norm_type) for g in grads.values()])
    return float(np.linalg.norm(norms, norm_type))


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float, norm_type: float = 2.0) -> Clipped:
    """Scale every gradient by min(max_norm / (total_norm + 1e-6), 1), as torch.nn.utils.clip_grad_norm_ does.

    The direction of the whole update is unchanged; only its length is capped at (about) ``max_norm``.
    """
    if not max_norm > 0:
        raise ModelInputError(f"max_norm must be positive, got {max_norm}")
    total = global_norm(grads, norm_type)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    return Clipped({k: g * coef for k, g in grads.items()}, total, coef)


def cosine(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> float:
    """cos of the angle between two gradients viewed as single vectors (1: same direction)."""
    dot = sum(float(np.vdot(a[k], b[k])) for k in a)
    na, nb = global_norm(a), global_norm(b)
    return dot / (na * nb) if na > 0 and nb > 0 else float("nan")


# ------------------------------------------------------------------------------------- exploding gradients


def last_state_gradient(model: Model, x: np.ndarray, h0: object = None) -> dict[str, np.ndarray]:
    """∂L/∂θ for L = Σ_j h_T,j (the sum of the last state's units), keyed like the model's parameters."""
    trace = model.run(x, h0)
    return backward(model, trace, d_h_n=np.ones_like(trace.h_n)).params


# ------------------------------------------------------------------------------------------ one analysis


@dataclass
class Analysis:
    """What the gradient-flow page draws for one cell: the (T′, t) heatmap and the paths over a window."""

    kind: str
    heat: np.ndarray  # (W, W): ‖∂h_{start+e}/∂h_{start+t}‖, NaN for t > e
    heat_start: int
    norms: dict[str, np.ndarray]  # path -> ‖path‖₂ at every step of the path window
    chains: dict[str, np.ndarray]  # label -> chain norms from every step of the window to the last step
    path_start: int


def analyse(model: Model, lt: LayerTrace, window: int = 200, heat_cap: int = 100) -> Analysis:
    """Split the last ``window`` steps' Jacobians into paths, chain them to the end, and map ‖∂h_T′/∂h_t‖."""
    T = lt.steps
    paths = step_paths(model, lt, steps=slice(max(0, T - window), T))
    kind, h = paths.kind, paths.h_block()
    W = heatmap_steps(len(paths.full), paths.h_size, paths.size, heat_cap)
    heat = chain_norms(paths.full[len(paths.full) - W :], rows=h, cols=h)
    chains: dict[str, np.ndarray] = {}
    record = KIND[kind]
    if record.additive and len(record.paths) > 1:  # the additive path alone, against all of them
        of = "c" if "c" in record.state else "h"
        block = paths.c_block() if of == "c" else h
        chains[f"all paths: ‖∂{of}_T/∂{of}_t‖"] = chain_to_end(paths.full, block, block)
        alone = f"{record.additive} path alone: ‖Π diag({record.keep_text(model.spec)})‖"
        chains[alone] = chain_to_end(paths.parts[record.additive], block, block)
    else:  # one path: it is the whole Jacobian
        chains["‖∂h_T/∂h_t‖"] = chain_to_end(paths.full, h, h)
    return Analysis(kind, heat, T - W, step_norms(paths.parts), chains, paths.start)
