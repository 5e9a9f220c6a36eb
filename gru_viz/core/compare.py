"""Comparing cells: what each costs (parameters, multiply-adds, gates, state, time) and what each remembers.

Everything here is computed from live models and their runs: parameter counts both by formula and from
the arrays, spectral radii of the (scaled) recurrent blocks, the measured time per step of our core, the
impulse response and the "remember the first input" experiment. NumPy only (no Streamlit, Plotly, torch).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .divergence import Parting, parting
from .kinds import KIND
from .model import Model
from .params import random_model, scale_recurrent
from .paths import global_norm, largest_exponent, last_state_gradient
from .spec import GATES, GRU_VARIANTS, KIND_NAMES, Spec

MAX_EXPERIMENT_STEPS = 2000


# ------------------------------------------------------------------------------------------------ costs


def blocks(kind: str) -> int:
    """G, the number of H-row blocks in weight_ih (r, z, n for a GRU; i, f, g, o for an LSTM; …)."""
    return len(GATES[kind])


def formula_params(kind: str, I: int, H: int) -> int:
    """Parameters of one layer, by formula: RNN H(I + H) + 2H, GRU 3·[…], LSTM 4·[…], minGRU 2·(HI + H)."""
    return KIND[kind].params(I, H)


def formula_text(kind: str, I: int, H: int) -> str:
    """The parameter formula with the sizes filled in, e.g. ``3·[H(I+H)+2H] = 3·[4·(1+4)+8] = 84``."""
    total = formula_params(kind, I, H)
    g = blocks(kind)
    if not KIND[kind].recurrent:  # no W_hh, no b_hh: its gates read x only
        return f"{g}·(HI+H) = {g}·({H}·{I}+{H}) = {total:,}"
    if g == 1:
        return f"H(I+H)+2H = {H}·({I}+{H})+{2 * H} = {total:,}"
    return f"{g}·[H(I+H)+2H] = {g}·[{H}·({I}+{H})+{2 * H}] = {total:,}"


def array_params(model: Model) -> int:
    """Parameters counted from the live arrays."""
    return int(sum(a.size for a in model.params.values()))


def macs_per_step(kind: str, I: int, H: int) -> int:
    """Multiply-adds of one step's matrix–vector products (the element-wise work, O(H), is not counted)."""
    return KIND[kind].macs(I, H)


def macs_text(kind: str, I: int, H: int) -> str:
    """The multiply-add formula with the sizes filled in."""
    total = macs_per_step(kind, I, H)
    g = blocks(kind)
    if not KIND[kind].recurrent:
        return f"{g}·H·I = {total:,}"
    return f"{g}·H·(I+H) = {total:,}" if g > 1 else f"H·(I+H) = {total:,}"


def live_blocks(model: Model) -> tuple[str, ...]:
    """The blocks the live weight_ih holds, read from its shape (rows ÷ H) and named in torch's order."""
    rows = model.params[_key(model, "weight_ih")].shape[0]
    count = rows // model.spec.hidden_size
    return GATES[model.spec.kind][:count]


def state_size(kind: str, H: int) -> int:
    """Numbers carried from step to step: H (h), or 2H (h and c) for an LSTM."""
    return H * len(KIND[kind].state)


def _key(model: Model, name: str) -> str:
    return name if model.spec.cell else f"{name}_l0"


def recurrent_blocks(model: Model) -> dict[str, np.ndarray]:
    """The square H×H blocks of weight_hh (W_hr, W_hz, W_hn …), as the model holds them (scale included)."""
    key = _key(model, "weight_hh")
    if key not in model.params:
        return {}
    w = model.params[key]
    H = model.spec.hidden_size
    if w.shape[1] != H:  # a projected LSTM's blocks are H×P: no eigenvalues
        return {}
    return {g: w[k * H : (k + 1) * H] for k, g in enumerate(GATES[model.spec.kind])}


def spectral_radius(m: np.ndarray) -> float:
    """ρ(M) = max |eigenvalue|: below 1 a linear recurrence fades, above 1 it can grow."""
    return float(np.abs(np.linalg.eigvals(m)).max())


def block_radii(model: Model) -> dict[str, float]:
    """ρ of every recurrent block of the model (empty for minGRU: it has no W_hh)."""
    return {g: spectral_radius(w) for g, w in recurrent_blocks(model).items()}


def timed_run(model: Model, x: np.ndarray, h0: object = None, min_runs: int = 3, budget: float = 0.01):
    """Run the model and time it: (the first run's Trace, median seconds per step over the repeats).

    Repeats until ``min_runs`` runs and ``budget`` seconds are both reached (at most 50 runs): one run of a
    short sequence takes microseconds and the machine is shared, so a single timing would be noise.
    """
    times = []
    trace = None
    spent = 0.0
    while len(times) < 50 and (len(times) < min_runs or spent < budget):
        start = time.perf_counter()
        run = model.run(x, h0)
        elapsed = time.perf_counter() - start
        trace = trace or run
        times.append(elapsed)
        spent += elapsed
    return trace, float(np.median(times)) / len(x)


# ---------------------------------------------------------------------------------------- the cells


def keep_biased(model: Model, bias: float) -> Model:
    """The model with ``bias`` added to the pre-activation of what keeps the old state: a GRU's z (z keeps; −z
    when z takes), an LSTM's f, minGRU's −z (it keeps 1 − z). A vanilla RNN has no such gate and is returned as is.

    A positive bias opens the additive path (keep → 1), as the common "forget-gate bias" initialisation does.
    """
    s = model.spec
    kind = KIND[s.kind]
    keep = kind.keep(s)
    if bias == 0 or keep is None or not s.bias:
        return model
    H = s.hidden_size
    block = kind.blocks.index(keep.gate)
    rows, sign = slice(block * H, (block + 1) * H), keep.sign
    params = dict(model.params)
    for key in [k for k in params if k.startswith("bias_ih")]:
        params[key] = params[key].copy()
        params[key][rows] += sign * bias
    return Model(s, params)


def build_models(
    kinds: tuple[str, ...],
    input_size: int,
    hidden: int,
    *,
    seed: int = 0,
    scale: float = 1.0,
    variant: str = "torch",
    keep_bias: float = 0.0,
) -> dict[str, Model]:
    """One model per kind, each with its own torch-like init from ``seed``, W_hh × ``scale``, the GRU in
    ``variant`` (and ``keep_bias`` added to its keep gate, see :func:`keep_biased`)."""
    out = {}
    for k in kinds:
        spec = Spec(k, input_size, hidden, variant=variant if k == "gru" else "torch")
        out[k] = keep_biased(scale_recurrent(random_model(spec, seed), scale), keep_bias)
    return out


def summary(models: Mapping[str, Model], seconds: Mapping[str, float], scale: float) -> dict[str, dict[str, str]]:
    """The comparison table: row label -> {kind: text}, every number from the live models (one input width and
    H for all) and their measured seconds per step."""
    first = next(iter(models.values())).spec
    I, H = first.input_size, first.hidden_size
    rows: dict[str, dict[str, str]] = {}

    def row(label: str, fn) -> None:
        rows[label] = {KIND_NAMES[k]: fn(k, m) for k, m in models.items()}

    row("Parameters (formula)", lambda k, m: formula_text(k, I, H))
    row("Parameters (counted from the arrays)", lambda k, m: f"{array_params(m):,}")
    row("Multiply-adds per step", lambda k, m: macs_text(k, I, H))
    row("Gates (σ, in 0…1)", lambda k, m: _gates_text(k))
    row("Weight blocks (rows of weight_ih ÷ H)", lambda k, m: f"{len(live_blocks(m))} ({', '.join(live_blocks(m))})")
    row("State carried between steps", lambda k, m: " and ".join(KIND[k].state) + f" ({state_size(k, H)} numbers)")
    row(f"Spectral radius ρ of W_h· (× {scale:g})", lambda k, m: _radii_text(m))
    row("Time per step (our NumPy core)", lambda k, m: _time_text(seconds[k]))
    return rows


def _gates_text(kind: str) -> str:
    gates = KIND[kind].sigmoid
    return f"{len(gates)} ({', '.join(gates)})" if gates else "0"


def _radii_text(model: Model) -> str:
    radii = block_radii(model)
    if not radii:
        return f"— (no W_hh: the recurrence is {KIND[model.spec.kind].recurrence(model.spec)})"
    return " · ".join(f"{g} {r:.2f}" for g, r in radii.items())


def _time_text(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "—"
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


# ------------------------------------------------------------------------------------------- memory


@dataclass
class Response:
    """Distances between the states of two runs that differ in one input step, per step: ‖h_t − h'_t‖."""

    distance: np.ndarray  # (T,)
    at: int  # the step where the inputs differ


def _pair_distance(model: Model, x_a: np.ndarray, x_b: np.ndarray) -> np.ndarray:
    """‖h_t(x_a) − h_t(x_b)‖ for every t, both sequences in one batched run from h0 = 0."""
    trace = model.run(np.stack([x_a, x_b], axis=1))
    h = trace.layer(0).h
    return np.linalg.norm(h[:, 0] - h[:, 1], axis=-1)


def _check_steps(steps: int, at: int = 0) -> None:
    if not 1 <= steps <= MAX_EXPERIMENT_STEPS:
        raise ValueError(f"an experiment runs 1 to {MAX_EXPERIMENT_STEPS} steps, got {steps}")
    if not 0 <= at < steps:
        raise ValueError(f"the spike step must lie in 0..{steps - 1}, got {at}")


def impulse_response(model: Model, steps: int, at: int, height: float = 1.0) -> Response:
    """A single spike of ``height`` (every input channel) at step ``at``, zeros elsewhere, against all zeros."""
    _check_steps(steps, at)
    base = np.zeros((steps, model.spec.input_size))
    spiked = base.copy()
    spiked[at] = height
    return Response(_pair_distance(model, spiked, base), at)


def remember_first(model: Model, steps: int, seed: int = 0, height: float = 1.0) -> Response:
    """Two sequences equal but for their first step (+height vs −height), the rest the same N(0, 1) noise.

    ``distance[L − 1]`` is the distance between the final states of the two length-L sequences: a state
    depends only on the inputs so far, so one pair of runs of the longest length gives every length at once.
    """
    _check_steps(steps)
    rest = np.random.default_rng(seed).standard_normal((steps, model.spec.input_size))
    a, b = rest.copy(), rest.copy()
    a[0], b[0] = height, -height
    return Response(_pair_distance(model, a, b), 0)


def influence_steps(response: Response, floor: float = 1e-6) -> int:
    """How many steps after the spike the distance stays at or above ``floor`` (the last such step counts)."""
    after = response.distance[response.at :]
    above = np.flatnonzero(after >= floor)
    return int(above[-1]) if above.size else 0


# ----------------------------------------------------------------------------------------- z ↔ 1 − z


def partner_variant(key: str) -> str:
    """The GRU variant with the same reset placement and the other update convention (z ↔ 1 − z)."""
    v = GRU_VARIANTS[key]
    return next(o.key for o in GRU_VARIANTS.values() if o.reset_after == v.reset_after and o.z_keeps != v.z_keeps)


def flip_z(model: Model) -> Model:
    """The same GRU in its partner variant: z ↔ 1 − z by negating W_iz, W_hz, b_iz, b_hz (σ(−v) = 1 − σ(v))."""
    spec: Spec = model.spec
    if spec.kind != "gru":
        raise ValueError(f"only a GRU has the two update conventions, not a {KIND_NAMES[spec.kind]}")
    H = spec.hidden_size
    params = {}
    for key, arr in model.params.items():
        arr = arr.copy()
        arr[H : 2 * H] *= -1.0  # the z rows of weight_ih, weight_hh, bias_ih, bias_hh
        params[key] = arr
    return Model(spec.with_(variant=partner_variant(spec.variant), layer_variants=tuple(
        partner_variant(v) for v in spec.layer_variants)), params)


def flip_gap(model: Model, x: np.ndarray, h0: object = None) -> float:
    """max |h − h'| between a GRU and its z-flipped partner on the same input: zero up to round-off."""
    h = model.run(x, h0).layer(0).h
    h_partner = flip_z(model).run(x, h0).layer(0).h
    return float(np.abs(h - h_partner).max())


def flip_parting(model: Model, x: np.ndarray, h0: object = None) -> Parting:
    """How a GRU and its z-flipped partner part over the run: round-off that a chaotic run amplifies, step by step;
    with the largest Lyapunov exponent of the compared layer, which says whether the run is chaotic."""

    trace = model.run(x, h0)
    h = trace.layer(0).h
    return parting(h, flip_z(model).run(x, h0).layer(0).h, exponent=largest_exponent(model, trace, layers=1))


def gradient_norms_over_scales(
    kinds: Sequence[str],
    x: np.ndarray,
    scales: Sequence[float],
    hidden: int,
    *,
    seed: int = 0,
    variant: str = "torch",
    keep_bias: float = 0.0,
) -> dict[str, np.ndarray]:
    """‖∂L/∂θ‖ (L = Σ h_T) for each cell (built as :func:`build_models` builds them) at
    each recurrent weight scale, from h0 = 0."""
    out = {k: np.empty(len(scales)) for k in kinds}
    for i, scale in enumerate(scales):
        models = build_models(tuple(kinds), x.shape[1], hidden, seed=seed, scale=float(scale), variant=variant,
                              keep_bias=keep_bias)
        for k, model in models.items():
            with np.errstate(over="ignore", invalid="ignore"):
                out[k][i] = global_norm(last_state_gradient(model, x))
    return out
