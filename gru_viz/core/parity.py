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

A chaotic run (a saturated vanilla RNN, a GRU at a large recurrent scale) multiplies any difference, round-off
included, at every step, so two correct implementations' whole runs part after some steps, and its gradients
can overflow float64 on both sides. A :class:`Judgement` tells that apart from a wrong equation: torch computes
every step again **from our state before it** (no difference carried, so nothing to amplify), the whole runs must
agree to round-off until they part (a wrong equation differs at the very first steps), and every quantity,
gradients included, must agree over the steps before they part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .divergence import Parting, parting, step_gaps
from .grad import backward
from .model import Model
from .paths import largest_exponent
from .spec import Spec
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
    nonfinite: str = ""  # "", or which side has non-finite values: "ours", "torch" or "both"

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
        with np.errstate(invalid="ignore", over="ignore"):
            diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        bad_a, bad_b = not np.all(np.isfinite(a)), not np.all(np.isfinite(b))
        if a.size and bad_b:
            diff = float("nan")
        nonfinite = {(True, True): "both", (True, False): "ours", (False, True): "torch"}.get((bad_a, bad_b), "")
        scale = max(1.0, float(np.max(np.abs(b[np.isfinite(b)]), initial=0.0)))
        report.rows.append(Row(key, label(key, directions), group_of(key), diff, scale, int(a.size), nonfinite))
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
    amplified: bool = False  # passed step by step: the whole runs part (chaotic run), not the equations

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


# ----------------------------------------------------------------------------- chaotic runs: the judgement


def step_side(trace: Trace) -> dict[str, np.ndarray]:
    """Every gate and state of every step of our run, keyed as :func:`step_key` (the per-step check's our side)."""
    out: dict[str, np.ndarray] = {}
    for row in trace.layers:
        for lt in row:
            for name, arr in lt.gates.items():
                out[step_key(lt.layer, lt.direction, name)] = arr
            out[step_key(lt.layer, lt.direction, "h")] = lt.h
    return out


def travel_parting(trace: Trace, theirs: Mapping[str, np.ndarray], model: Model | None = None) -> Parting:
    """Where our run and torch's part: every gate and state of each step, counted in steps of travel (the reverse
    direction runs from the end, so its gaps are read from t = T − 1 down). Every layer of a one-direction stack
    (and its output) starts at round-off; in a bidirectional stack the layers above the first read both
    directions, so only the first layer is followed here (the per-step check covers the rest). Given the
    ``model`` of the trace, the followed layers' largest Lyapunov exponent comes with it."""
    T = trace.steps
    bidirectional = len(trace.layers[0]) == 2
    rows = trace.layers[:1] if bidirectional else trace.layers
    ours, torch_side = [], []
    for row in rows:
        for lt in row:
            for name in [*lt.gates, "h"]:
                key = step_key(lt.layer, lt.direction, name)
                a = lt.h if name == "h" else lt.gates[name]
                b = np.asarray(theirs[key])
                if lt.direction == 1:
                    a, b = a[::-1], b[::-1]
                ours.append(a.reshape(T, -1))
                torch_side.append(b.reshape(T, -1))
    if not bidirectional and "output" in theirs and np.size(trace.output) == np.size(theirs["output"]):
        # torch.nn's module computed the output: its own round-off, in time order
        ours.append(np.asarray(trace.layers[-1][0].h).reshape(T, -1))
        torch_side.append(np.asarray(theirs["output"]).reshape(T, -1) if not trace.spec.batch_first
                          else np.moveaxis(np.asarray(theirs["output"]), 1, 0).reshape(T, -1))
    exponent = None if model is None else largest_exponent(model, trace, len(rows))
    return parting(np.concatenate(ours, axis=1), np.concatenate(torch_side, axis=1), exponent=exponent)


def time_axis(spec: Spec, x: np.ndarray) -> int:
    """The time axis of an input as the torch module takes it (1 for a batch-first batch, else 0)."""
    return 1 if np.ndim(x) == 3 and spec.batch_first and not spec.cell else 0


def prefix(spec: Spec, x: np.ndarray, steps: int) -> np.ndarray:
    """The first ``steps`` steps of an input shaped as the torch module takes it."""
    return np.take(np.asarray(x), np.arange(steps), axis=time_axis(spec, x))


MIN_WINDOW = 8  # the shortest window a chaotic run's whole-run comparison is repeated over (steps)


def window_steps(spec: Spec, p: Parting, steps: int) -> int:
    """How many first steps the whole-run comparison is repeated over, to begin with: those whose gap stays a
    decade inside round-off (so that a recomputation cannot cross it), all of them when the runs never part,
    shared out between the layers of a bidirectional stack (at least 1)."""
    if p.parts_at is None:
        return steps
    k = int(np.argmax(~(p.gap <= p.tolerance / 10)))
    return max(1, k // spec.num_layers if spec.bidirectional else k)


@dataclass
class Judgement:
    """The float64 verdict on one run: the whole-run comparison, and — when that differs — the diagnosis that
    tells round-off amplified by a chaotic run (or gradients overflowing on both sides) from a wrong equation."""

    full: Report
    steps: Report | None = None  # every gate and state, torch computing each step from our state before it
    parting: Parting | None = None  # our first layer's states against torch's, whole runs, in steps of travel
    window: Report | None = None  # every quantity over the first ``window_size`` steps, both sides recomputed
    window_size: int | None = None
    torch_parting: Parting | None = None  # torch.nn's module against torch's own step-by-step code (native kinds)
    step_gaps: np.ndarray | None = None  # (T,) the largest |ours − torch| of each step in the per-step check

    @property
    def amplified(self) -> bool:
        """Whether the whole runs differ only as amplified round-off: each step agrees from the same state, the runs
        agree until they part (never at the first step), and everything agrees over the steps before."""
        if self.full.passed or self.steps is None or self.window is None or self.parting is None:
            return False
        return (self.steps.passed and self.window.passed and not self.parting.from_start
                and not self.full.missing and not self.steps.missing)

    @property
    def passed(self) -> bool:
        """Our core computes what torch computes: on the whole run, or step by step when round-off is amplified."""
        return self.full.passed or self.amplified

    @property
    def overflowed(self) -> list[Row]:
        """Whole-run quantities that are not finite on one side or both (gradients past float64's range)."""
        return [r for r in self.full.rows if r.nonfinite]

    def summary(self) -> Summary:
        """What the badge shows."""
        if not self.amplified:
            return summarise(self.full)
        forward = max(self.steps.worst(), self.window.worst("forward"), self.window.worst("steps"))
        return Summary(True, forward, self.window.worst("gradients"), self.full.how, len(self.full.rows),
                       amplified=True)


def per_step_gaps(ours: Mapping[str, np.ndarray], theirs: Mapping[str, np.ndarray]) -> np.ndarray:
    """(T,) the largest |ours − torch| of each step over every quantity both sides have (the per-step check)."""
    gaps = [step_gaps(ours[k], theirs[k]) for k in ours if k in theirs and np.shape(ours[k]) == np.shape(theirs[k])]
    return np.max(gaps, axis=0) if gaps else np.zeros(0)
