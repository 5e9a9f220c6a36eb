"""The bookkeeping of "our numbers equal PyTorch's": which quantities are compared, and how a difference is judged.

NumPy only — the torch side lives in :func:`gru_viz.io.bridge.torch_side`, which fills the same keys.

Quantities, each a (named) array, compared as the largest absolute difference between the two sides:

- forward: ``output``, ``h_n`` (and ``c_n``) exactly as the torch module returns them;
- steps: for every layer and direction, every gate of every step (GRU r, z, n; LSTM i, f, g, o and the cell
  state c; minGRU z, n) and the hidden state h after every step (an RNN has no gates: its h is the check);
- gradients: of a fixed random loss ``L = Σ R_out ⊙ output + Σ R_h ⊙ h_n (+ Σ R_c ⊙ c_n)`` with seeded
  normal ``R``, with respect to every parameter, the input x and the initial state h0 (c0).

Tolerances (float64): ``FORWARD_TOL`` for forward and step quantities, ``GRADIENT_TOL`` for gradients, each
times ``max(1, largest |value|)`` so that a ReLU RNN whose states grow to 1e6 is judged by its relative
round-off. float32 is reported, never judged: torch's float32 carries ~7 significant digits, so differences
of ~1e-7 to 1e-6 against our float64 are expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .grad import backward
from .model import Model
from .trace import Trace

FORWARD_TOL = 1e-12
GRADIENT_TOL = 1e-10
LOSS_SEED = 20240917  # the fixed random loss: the same R every time, so a badge is reproducible
DTYPES = ("float64", "float32")

GROUPS = ("forward", "steps", "gradients")
GROUP_TITLES = {
    "forward": "Outputs and final states",
    "steps": "Every gate and state of every step",
    "gradients": "Gradients of a fixed random loss",
}
DIRECTION_NAMES = ("forward", "reverse")


# ------------------------------------------------------------------------------------------------ keys


def step_key(layer: int, direction: int, name: str) -> str:
    """Key of a per-step quantity: gate ``name`` (or "h", "c", "m") of one layer and direction."""
    return f"steps/{layer}/{direction}/{name}"


def grad_key(name: str) -> str:
    """Key of ∂L/∂``name`` (a parameter key, "x", "h0" or "c0")."""
    return f"grad/{name}"


def group_of(key: str) -> str:
    """"forward", "steps" or "gradients"."""
    if key.startswith("steps/"):
        return "steps"
    if key.startswith("grad/"):
        return "gradients"
    return "forward"


def label(key: str, spec_directions: int = 2) -> str:
    """A human name for a key: "layer 0 · reverse · r", "∂L/∂weight_ih_l0", "output"."""
    if key.startswith("steps/"):
        _, layer, d, name = key.split("/")
        where = f"layer {layer}" + (f" · {DIRECTION_NAMES[int(d)]}" if spec_directions == 2 else "")
        return f"{where} · {name}"
    if key.startswith("grad/"):
        return f"∂L/∂{key[5:]}"
    return key


def tolerance(key: str) -> float:
    """The float64 tolerance of a key's group (before scaling by the values' size)."""
    return GRADIENT_TOL if group_of(key) == "gradients" else FORWARD_TOL


# ------------------------------------------------------------------------------------------ our side


@dataclass(frozen=True)
class Cotangents:
    """The fixed random loss L = Σ output ⊙ R_out + Σ h_n ⊙ R_h (+ Σ c_n ⊙ R_c)."""

    output: np.ndarray
    h_n: np.ndarray
    c_n: np.ndarray | None = None


def cotangents(trace: Trace, seed: int = LOSS_SEED) -> Cotangents:
    """Seeded standard-normal weights for the loss, shaped like the run's output and final states."""
    rng = np.random.default_rng(seed)
    out = rng.standard_normal(trace.output.shape)
    h_n = rng.standard_normal(trace.h_n.shape)
    c_n = None if trace.c_n is None else rng.standard_normal(trace.c_n.shape)
    return Cotangents(out, h_n, c_n)


def step_names(trace: Trace) -> list[str]:
    """The per-step quantities compared for this run's kind: its gates, then h."""
    lt = trace.layers[0][0]
    return [*lt.gates, "h"]


def our_side(model: Model, trace: Trace, cot: Cotangents | None = None) -> dict[str, np.ndarray]:
    """Every compared quantity as our core computes it (the trace given, and BPTT for the gradients)."""
    cot = cot or cotangents(trace)
    out: dict[str, np.ndarray] = {"output": trace.output, "h_n": trace.h_n}
    if trace.c_n is not None:
        out["c_n"] = trace.c_n
    for row in trace.layers:
        for lt in row:
            for name, arr in lt.gates.items():
                out[step_key(lt.layer, lt.direction, name)] = arr
            out[step_key(lt.layer, lt.direction, "h")] = lt.h
    grads = backward(model, trace, cot.output, cot.h_n, cot.c_n)
    for name, arr in grads.params.items():
        out[grad_key(name)] = arr
    out[grad_key("x")] = grads.x
    out[grad_key("h0")] = grads.h0
    if grads.c0 is not None:
        out[grad_key("c0")] = grads.c0
    return out


def nudge(model: Model, eps: float = 1e-9) -> Model:
    """A copy of ``model`` whose first input matrix (weight_ih_l0) has every entry moved by ``eps``: a wrong model,
    to show that the check can fail (every unit of the first layer feels it, even where a ReLU is off)."""
    params = dict(model.params)
    first = next(iter(params))
    params[first] = params[first] + eps
    return Model(model.spec, params)


# ------------------------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class Row:
    """One compared quantity: the largest |ours − torch| over its elements."""

    key: str
    label: str
    group: str
    diff: float
    scale: float  # max(1, largest |torch value|): the tolerance is relative to this
    size: int

    @property
    def limit(self) -> float:
        """The float64 tolerance of this row, scaled to its values."""
        return tolerance(self.key) * self.scale


@dataclass
class Report:
    """The comparison of one run in one dtype."""

    dtype: str
    how: str  # what computed the torch side, e.g. "torch.nn.GRU" or "torch reference (step by step)"
    rows: list[Row] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # keys one side has and the other lacks

    @property
    def judged(self) -> bool:
        """Whether this report is held to the tolerances (float64) or only reported (float32)."""
        return self.dtype == "float64"

    def worst(self, group: str | None = None) -> float:
        """The largest difference overall or in one group."""
        diffs = [r.diff for r in self.rows if group is None or r.group == group]
        return max(diffs, default=0.0)

    def failures(self) -> list[Row]:
        """Rows over their tolerance (always empty for an unjudged dtype)."""
        if not self.judged:
            return []
        return [r for r in self.rows if not r.diff <= r.limit]  # NaN fails too

    @property
    def passed(self) -> bool:
        """Every quantity present on both sides and within its tolerance (float64)."""
        return not self.missing and not self.failures()

    def by_group(self) -> dict[str, list[Row]]:
        """Rows grouped as in GROUPS."""
        return {g: [r for r in self.rows if r.group == g] for g in GROUPS}


def compare(
    ours: Mapping[str, np.ndarray], theirs: Mapping[str, np.ndarray], dtype: str, how: str, directions: int = 2
) -> Report:
    """Compare two sides key by key; a key on one side only is reported as missing (and fails)."""
    report = Report(dtype, how)
    for key in ours:
        if key not in theirs:
            report.missing.append(key)
            continue
        a = np.asarray(ours[key], dtype=np.float64)
        b = np.asarray(theirs[key], dtype=np.float64)
        if a.shape != b.shape:
            report.missing.append(f"{key} (shape {a.shape} vs {b.shape})")
            continue
        diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        if a.size and not np.all(np.isfinite(b)):
            diff = float("nan")
        scale = max(1.0, float(np.max(np.abs(b[np.isfinite(b)]), initial=0.0)))
        report.rows.append(Row(key, label(key, directions), group_of(key), diff, scale, int(a.size)))
    report.missing += [k for k in theirs if k not in ours]
    return report


@dataclass(frozen=True)
class Summary:
    """What a badge shows: the worst differences of one run, and whether float64 passed."""

    passed: bool
    worst_forward: float  # outputs, final states and every step
    worst_gradient: float
    how: str
    quantities: int

    @property
    def worst(self) -> float:
        """The largest difference of any quantity."""
        return max(self.worst_forward, self.worst_gradient)


def summarise(report: Report) -> Summary:
    """The badge's view of a (float64) report."""
    forward = max(report.worst("forward"), report.worst("steps"))
    return Summary(report.passed, forward, report.worst("gradients"), report.how, len(report.rows))


def fmt(diff: float) -> str:
    """A difference for display: "0" for exact agreement, else two significant digits."""
    if diff != diff:  # NaN
        return "NaN"
    return "0" if diff == 0 else f"{diff:.1e}"
