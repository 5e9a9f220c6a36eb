"""Training on the NumPy core: a linear readout and its losses, Adam and clipping as torch does them, a Trainer.

The pieces, smallest first:

- :class:`Readout` — a linear layer on the recurrent model's output, read at the last step or at every step
  (``task.target``); :func:`readout_loss` gives the loss (MSE, or softmax cross-entropy with a stable
  log-softmax), its gradients w.r.t. the readout's weights and w.r.t. the recurrent output — which
  :func:`gru_viz.core.grad.backward` takes as ``d_output``. :func:`loss_and_grads` does the whole step.
- :class:`Adam` — ``torch.optim.Adam`` (weight_decay=0, amsgrad off) on one flat parameter vector, the same
  arithmetic in the same order; :func:`clip_grad_norm` — ``torch.nn.utils.clip_grad_norm_``.
- :class:`Trainer` — mini-batch training of one model on one :class:`~gru_viz.core.tasks.Task`: seeded and
  reproducible, step-wise (:meth:`Trainer.step`, :meth:`Trainer.run` with a callback every k steps that may
  stop it), resumable (:meth:`Trainer.state` / :meth:`Trainer.from_state`), with a :class:`History`
  and a fixed held-out batch. :func:`make_trainers` / :func:`run_together` train several cells on the
  same batches.
- :func:`save_trained` / :func:`load_trained_file` — a trained model, its readout and the task in an
  ``.npz`` (no pickles; the metadata is one JSON string).

Everything runs time-major: inputs (T, B, I), as the tasks make them.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import sources
from .grad import backward
from .kinds import KINDS, some_kinds
from .model import Model
from .params import init_params
from .spec import KIND_NAMES, Spec, param_shapes
from .tasks import Task, get_task
from .trace import Trace

__all__ = [
    "CELLS",
    "FILE_FORMAT",
    "Adam",
    "Evaluation",
    "History",
    "LossGrads",
    "Prediction",
    "Readout",
    "StepGrads",
    "StepRecord",
    "TrainConfig",
    "TrainError",
    "TrainedModel",
    "Trainer",
    "TrainerState",
    "accuracy",
    "cell_spec",
    "clip_grad_norm",
    "cross_entropy",
    "init_readout",
    "load_trained_file",
    "log_softmax",
    "loss_and_grads",
    "make_trainers",
    "mse_loss",
    "predict",
    "readout_loss",
    "run_together",
    "save_trained",
]

READOUT_WEIGHT = "readout.weight"
READOUT_BIAS = "readout.bias"
FILE_FORMAT = "gru-viz-trained"
FILE_VERSION = 1
MAX_SAVED_TRAIN_ROWS = 500  # a saved file keeps at most this many rows of the per-step history
# minGRU: the plain loop, not the log-space scan. On training batches (B = 32, T = 20 … 1000) the loop is
# 7–15× faster in NumPy, and the two agree to ~1e-14.
SCAN = False


class TrainError(ValueError):
    """A training request that cannot be carried out (a model that does not fit the task, a bad file, …)."""


# ------------------------------------------------------------------------------------------- readout


@dataclass
class Readout:
    """A linear map from the recurrent output (F features) to O outputs, at the last step or at every step."""

    weight: np.ndarray  # (O, F), as torch.nn.Linear keeps it
    bias: np.ndarray  # (O,)
    where: str = "last"  # "last" or "every"

    def features(self, output: np.ndarray) -> np.ndarray:
        """The part of a time-major output (T, B, F) the readout reads: (B, F) or all of it."""
        return output[-1] if self.where == "last" else output

    def __call__(self, output: np.ndarray) -> np.ndarray:
        """Readout values (logits for a classification): (B, O) for "last", (T, B, O) for "every"."""
        return self.features(output) @ self.weight.T + self.bias


def init_readout(in_features: int, out_features: int, where: str = "last", seed: int = 0) -> Readout:
    """A readout drawn as torch.nn.Linear draws its weights: uniform in ±1/√in_features."""
    if where not in ("last", "every"):
        raise TrainError(f"a readout reads the 'last' step or 'every' step, not {where!r}")
    rng = np.random.default_rng([seed, 1])  # a stream of its own, apart from the recurrent weights'
    k = 1.0 / math.sqrt(in_features)
    return Readout(rng.uniform(-k, k, (out_features, in_features)), rng.uniform(-k, k, out_features), where)


# -------------------------------------------------------------------------------------------- losses


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over every element (torch's reduction="mean") and its gradient w.r.t. ``pred``."""
    diff = pred - target
    return float(np.mean(diff * diff)), diff * (2.0 / diff.size)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, shifted by the max so that nothing overflows."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy averaged over every position (logits (…, C), labels (…)), and ∂/∂logits."""
    logp = log_softmax(logits)
    C = logp.shape[-1]
    idx = np.asarray(labels, dtype=np.int64).reshape(-1)
    rows = np.arange(idx.size)
    flat = logp.reshape(-1, C)
    loss = -flat[rows, idx].sum() / idx.size
    grad = np.exp(flat)  # softmax − one-hot, averaged
    grad[rows, idx] -= 1.0
    grad /= idx.size
    return float(loss), grad.reshape(logp.shape)


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Share of positions whose largest logit is the label."""
    return float(np.mean(logits.argmax(axis=-1) == labels))


@dataclass
class LossGrads:
    """The loss of a readout on a recurrent output, and its gradients."""

    loss: float
    accuracy: float | None  # classification only
    prediction: np.ndarray  # the readout's values (logits for a classification)
    d_output: np.ndarray  # ∂loss/∂output, time-major (T, B, F): the ``d_output`` of grad.backward
    d_weight: np.ndarray  # (O, F)
    d_bias: np.ndarray  # (O,)


def readout_loss(readout: Readout, output: np.ndarray, target: np.ndarray, kind: str) -> LossGrads:
    """Loss and gradients of ``readout`` on a time-major recurrent ``output`` (T, B, F); kind as a task's."""
    feats = readout.features(output)
    pred = feats @ readout.weight.T + readout.bias
    if kind == "classification":
        loss, d_pred = cross_entropy(pred, target)
        acc = accuracy(pred, target)
    else:
        loss, d_pred = mse_loss(pred, target)
        acc = None
    F = feats.shape[-1]
    O = d_pred.shape[-1]
    d_weight = d_pred.reshape(-1, O).T @ feats.reshape(-1, F)
    d_bias = d_pred.reshape(-1, O).sum(axis=0)
    d_feats = d_pred @ readout.weight
    if readout.where == "last":
        d_output = np.zeros_like(output)
        d_output[-1] = d_feats  # only the last step is read
    else:
        d_output = d_feats
    return LossGrads(loss, acc, pred, d_output, d_weight, d_bias)


@dataclass
class StepGrads:
    """One batch's loss and the gradient of every parameter (model keys, then readout.weight, readout.bias)."""

    loss: float
    accuracy: float | None
    grads: dict[str, np.ndarray]
    trace: Trace


def _check_fits(model: Model) -> None:
    s = model.spec
    if s.cell or s.batch_first:
        raise TrainError("training runs sequence models time-major: use a Spec with cell=False, batch_first=False")


def loss_and_grads(model: Model, readout: Readout, x: np.ndarray, y: np.ndarray, kind: str) -> StepGrads:
    """Forward, loss and exact BPTT for one batch x (T, B, I), y as the task makes it. A loss or gradient that is
    not finite comes back as such, without a warning: the Trainer reports it as divergence."""
    _check_fits(model)
    trace = model.run(x, scan=SCAN)
    with np.errstate(over="ignore", invalid="ignore"):
        lg = readout_loss(readout, trace.output, y, kind)
    if not math.isfinite(lg.loss):  # nothing to learn from: skip BPTT, report NaN gradients
        nan = {k: np.full_like(v, np.nan) for k, v in model.params.items()}
        nan[READOUT_WEIGHT], nan[READOUT_BIAS] = np.full_like(lg.d_weight, np.nan), np.full_like(lg.d_bias, np.nan)
        return StepGrads(lg.loss, lg.accuracy, nan, trace)
    g = backward(model, trace, lg.d_output)
    grads = dict(g.params)
    grads[READOUT_WEIGHT] = lg.d_weight
    grads[READOUT_BIAS] = lg.d_bias
    return StepGrads(lg.loss, lg.accuracy, grads, trace)


# ---------------------------------------------------------------------------------- Adam and clipping


def clip_grad_norm(grad: np.ndarray, max_norm: float) -> float:
    """Scale ``grad`` (flat, in place) by max_norm / (‖grad‖ + 1e-6) when that is below 1; return ‖grad‖.

    The same rule as torch.nn.utils.clip_grad_norm_ with the 2-norm over all parameters as one vector.
    """
    total = float(np.sqrt(np.dot(grad, grad)))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:  # torch clamps the coefficient at 1 and multiplies; × 1 changes nothing
        grad *= coef
    return total


class Adam:
    """torch.optim.Adam (weight_decay=0, amsgrad=False, maximize=False) on one flat float64 vector, in place."""

    def __init__(self, size: int, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        if not lr > 0 or not 0 <= betas[0] < 1 or not 0 <= betas[1] < 1 or not eps >= 0:
            raise TrainError(f"Adam needs lr > 0, 0 ≤ betas < 1 and eps ≥ 0, got {lr}, {betas}, {eps}")
        self.lr, self.betas, self.eps = float(lr), (float(betas[0]), float(betas[1])), float(eps)
        self.t = 0
        self.m = np.zeros(size)  # exp_avg
        self.v = np.zeros(size)  # exp_avg_sq

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        """One update of ``params`` in place, with torch's operations in torch's order."""
        beta1, beta2 = self.betas
        self.t += 1
        # exp_avg.lerp_(grad, 1 − β1): torch's lerp takes one form below weight ½ and another above
        w = 1.0 - beta1
        if w < 0.5:
            self.m += w * (grad - self.m)
        else:
            self.m[...] = grad - (grad - self.m) * (1.0 - w)
        # exp_avg_sq.mul_(β2).addcmul_(grad, grad, value=1 − β2)
        self.v *= beta2
        self.v += (1.0 - beta2) * grad * grad
        step = float(self.t)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = self.lr / bias_correction1
        denom = np.sqrt(self.v) / bias_correction2**0.5
        denom += self.eps
        params += -step_size * (self.m / denom)  # addcdiv_(exp_avg, denom, value=−step_size)

    def state_dict(self) -> dict[str, object]:
        """Copies of the step count and the moments."""
        return {"t": self.t, "m": self.m.copy(), "v": self.v.copy()}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore what :meth:`state_dict` returned."""
        m, v = np.asarray(state["m"], dtype=np.float64), np.asarray(state["v"], dtype=np.float64)
        if m.shape != self.m.shape or v.shape != self.v.shape:
            raise TrainError(f"Adam state for {m.shape[0]} parameters, this optimiser has {self.m.shape[0]}")
        self.t, self.m[...], self.v[...] = int(state["t"]), m, v


# -------------------------------------------------------------------------------------- flat parameters


class _FlatParams:
    """Named arrays laid out in one flat vector, so that clipping and Adam are a few vector operations."""

    def __init__(self, shapes: Mapping[str, tuple[int, ...]]):
        self.shapes = dict(shapes)
        self.slices: dict[str, slice] = {}
        offset = 0
        for name, shape in self.shapes.items():
            size = math.prod(shape)
            self.slices[name] = slice(offset, offset + size)
            offset += size
        self.size = offset

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Each named array as a view into ``flat``."""
        return {k: flat[s].reshape(self.shapes[k]) for k, s in self.slices.items()}

    def pack(self, arrays: Mapping[str, np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
        """The arrays written into one flat vector."""
        out = np.empty(self.size) if out is None else out
        for k, s in self.slices.items():
            out[s] = np.asarray(arrays[k]).ravel()
        return out


# ------------------------------------------------------------------------------------------- trainer


@dataclass(frozen=True)
class TrainConfig:
    """How to train: sequence length, batch, Adam, clipping, seeds and evaluation."""

    seq_len: int | None = None  # T; None: the task's default
    batch_size: int = 32
    lr: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    clip: float | None = 1.0  # max gradient 2-norm; None: no clipping
    seed: int = 0  # the stream of training batches — the same for every cell trained with this config
    init_seed: int = 0  # the initial weights (recurrent and readout)
    forget_bias: float = 0.0  # LSTM: added to the forget gate's bias at initialisation (1.0 helps long memory)
    eval_size: int = 512  # held-out sequences
    eval_seed: int = 2024  # the held-out batch, apart from the training stream
    eval_every: int = 25  # evaluate after every this many steps (and at step 0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(self.betas))  # a list (e.g. from JSON) becomes a tuple
        if self.batch_size < 1 or self.eval_size < 1 or self.eval_every < 1:
            raise TrainError("batch_size, eval_size and eval_every must be at least 1")
        if self.clip is not None and not self.clip > 0:
            raise TrainError(f"clip must be positive or None, got {self.clip}")


@dataclass
class Evaluation:
    """Loss (and accuracy) on a batch."""

    loss: float
    accuracy: float | None = None


@dataclass
class StepRecord:
    """What one training step did."""

    step: int  # steps done after this one
    loss: float  # on the training batch, before the update
    accuracy: float | None
    grad_norm: float  # before clipping
    seconds: float
    evaluation: Evaluation | None = None  # when this step was followed by an evaluation


@dataclass
class History:
    """Per-step training records and the held-out evaluations, as columns (lists) ready to plot."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)  # classification only; empty for a regression
    grad_norm: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    eval_accuracy: list[float] = field(default_factory=list)

    def train_table(self) -> dict[str, list]:
        """The per-step columns of equal length (no accuracy column for a regression)."""
        cols = {"step": self.step, "loss": self.loss, "grad_norm": self.grad_norm, "seconds": self.seconds}
        if self.accuracy:
            cols["accuracy"] = self.accuracy
        return cols

    def eval_table(self) -> dict[str, list]:
        """The evaluation columns of equal length."""
        cols = {"step": self.eval_step, "loss": self.eval_loss}
        if self.eval_accuracy:
            cols["accuracy"] = self.eval_accuracy
        return cols

    def last_eval(self) -> Evaluation | None:
        """The latest evaluation, if any."""
        if not self.eval_step:
            return None
        return Evaluation(self.eval_loss[-1], self.eval_accuracy[-1] if self.eval_accuracy else None)

    def to_dict(self) -> dict[str, list]:
        """Every column, JSON-ready."""
        return {k: list(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Iterable]) -> History:
        """Rebuild from :meth:`to_dict`."""
        return cls(**{k: list(v) for k, v in d.items()})


@dataclass
class TrainerState:
    """Everything a Trainer needs to continue exactly where it stopped."""

    task: str
    spec: Spec
    config: TrainConfig
    where: str
    params: np.ndarray  # flat: the model's parameters in state_dict order, then readout weight and bias
    adam: dict[str, object]
    rng: dict[str, object]  # the training stream's bit-generator state
    history: History
    diverged: bool = False
    diverged_at: int | None = None  # the step whose loss or gradient was not finite


@dataclass
class Prediction:
    """A model's answer: readout values or class probabilities, predicted classes, and the full trace."""

    output: np.ndarray  # regression values, or class probabilities; (B, O)/(T, B, O), or (O,)/(T, O) for one x
    classes: np.ndarray | None  # classification: the most likely class per sequence (or step)
    trace: Trace


def predict(model: Model, readout: Readout, x: np.ndarray, kind: str) -> Prediction:
    """Run the model and the readout on x — one sequence (T, I) or a batch (T, B, I)."""
    _check_fits(model)
    trace = model.run(x, scan=SCAN)
    out = trace.output if trace.batched else trace.output[:, None]
    values = readout(out)
    classes = None
    if kind == "classification":
        values = np.exp(log_softmax(values))
        classes = values.argmax(axis=-1)
    if not trace.batched:  # drop the batch axis again: (B, …) at the last step, (T, B, …) at every step
        pick = 0 if readout.where == "last" else (slice(None), 0)
        values = values[pick]
        classes = None if classes is None else classes[pick]
    return Prediction(values, classes, trace)


class Trainer:
    """Trains one recurrent model plus a readout on a task with Adam; step by step, reproducibly.

    The model is the Trainer's own (a copy of what it is given); its parameters live in one flat vector
    that Adam updates in place, so ``trainer.model`` and ``trainer.readout`` always show the current weights.
    """

    def __init__(
        self,
        task: Task | str,
        model: Model | Spec,
        config: TrainConfig | None = None,
        readout: Readout | None = None,
    ) -> None:
        self.task = get_task(task) if isinstance(task, str) else task
        self.config = config or TrainConfig()
        c = self.config
        self.seq_len = self.task.steps(c.seq_len)
        if isinstance(model, Spec):
            model = Model(model, _initial_params(model, c))
        _check_fits(model)
        spec = model.spec
        if spec.input_size != self.task.input_size:
            raise TrainError(f"the {self.task.name} task has {self.task.input_size} inputs, the model takes "
                             f"{spec.input_size}")
        features = spec.directions * spec.out_size
        if readout is None:
            readout = init_readout(features, self.task.output_size, self.task.target, c.init_seed)
        if readout.weight.shape != (self.task.output_size, features) or readout.where != self.task.target:
            raise TrainError(f"the readout must map {features} features to {self.task.output_size} outputs at "
                             f"{self.task.target!r} steps")
        shapes = {k: v.shape for k, v in model.params.items()}
        shapes[READOUT_WEIGHT] = readout.weight.shape
        shapes[READOUT_BIAS] = readout.bias.shape
        self._layout = _FlatParams(shapes)
        self._flat = self._layout.pack({**model.params, READOUT_WEIGHT: readout.weight, READOUT_BIAS: readout.bias})
        self._grad = np.empty(self._layout.size)
        views = self._layout.views(self._flat)
        # live: the model keeps the views themselves, so that Adam's in-place update shows in the next run
        self.model = Model(spec, {k: views[k] for k in model.params}, live=True)
        self.readout = Readout(views[READOUT_WEIGHT], views[READOUT_BIAS], self.task.target)
        self.adam = Adam(self._layout.size, c.lr, c.betas, c.eps)
        self.rng = np.random.default_rng(c.seed)
        self.eval_x, self.eval_y = self.task.batch(c.eval_size, np.random.default_rng(c.eval_seed), self.seq_len)
        self.history = History()
        self.diverged = False  # set when a loss or gradient is not finite; no update is applied then
        self.diverged_at: int | None = None  # that step's number (steps_done + 1: the update never made)
        self._stop = False
        self._evaluate_and_record()  # step 0: where the curves start

    @classmethod
    def for_cell(
        cls,
        task: Task | str,
        cell: str = "gru",
        hidden_size: int = 32,
        config: TrainConfig | None = None,
        num_layers: int = 1,
    ) -> Trainer:
        """A Trainer for a fresh model of one of :data:`CELLS` with torch-like initial weights."""
        task = get_task(task) if isinstance(task, str) else task
        return cls(task, cell_spec(cell, task, hidden_size, num_layers), config)

    # ------------------------------------------------------------------------------------------ steps

    @property
    def steps_done(self) -> int:
        """How many updates have been made."""
        return self.adam.t

    @property
    def n_params(self) -> int:
        """Number of trained scalars, readout included."""
        return self._layout.size

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next training batch from the seeded stream."""
        return self.task.batch(self.config.batch_size, self.rng, self.seq_len)

    def update(self, x: np.ndarray, y: np.ndarray) -> StepRecord:
        """One Adam step on a given batch (with clipping); records it in the history."""
        t0 = time.perf_counter()
        sg = loss_and_grads(self.model, self.readout, x, y, self.task.kind)
        grad = self._layout.pack(sg.grads, self._grad)
        if self.config.clip is not None:
            norm = clip_grad_norm(grad, self.config.clip)
        else:
            norm = float(np.sqrt(np.dot(grad, grad)))
        if not (math.isfinite(sg.loss) and math.isfinite(norm)):
            self.diverged = True
            if self.diverged_at is None:
                self.diverged_at = self.steps_done + 1
            return StepRecord(self.steps_done, sg.loss, sg.accuracy, norm, time.perf_counter() - t0)
        self.adam.step(self._flat, grad)
        seconds = time.perf_counter() - t0
        h = self.history
        h.step.append(self.steps_done)
        h.loss.append(sg.loss)
        if sg.accuracy is not None:
            h.accuracy.append(sg.accuracy)
        h.grad_norm.append(norm)
        h.seconds.append(seconds)
        ev = self._evaluate_and_record() if self.steps_done % self.config.eval_every == 0 else None
        return StepRecord(self.steps_done, sg.loss, sg.accuracy, norm, seconds, ev)

    def step(self) -> StepRecord:
        """One training step on the next batch of the stream."""
        x, y = self.next_batch()
        return self.update(x, y)

    def request_stop(self) -> None:
        """Ask a running :meth:`run` to stop after the current step."""
        self._stop = True

    def should_stop(self) -> bool:
        """Whether :meth:`run` should stop now (a stop was requested, or training diverged); override to add rules."""
        return self._stop or self.diverged

    def run(
        self,
        steps: int,
        callback: Callable[[Trainer], object] | None = None,
        every: int = 10,
        max_seconds: float | None = None,
    ) -> int:
        """Up to ``steps`` training steps; returns how many were made (updates applied: the step at which training
        diverges makes none and is not counted).

        ``callback(trainer)`` is called after every ``every`` steps and after the last one; if it returns
        False the run stops there. A run also stops when :meth:`should_stop` says so or after ``max_seconds``.
        Calling run again continues exactly where it stopped.
        """
        self._stop = False
        every = max(1, int(every))
        start = time.perf_counter()
        done = 0
        while done < steps and not self.should_stop():
            self.step()
            done += 0 if self.diverged else 1
            out_of_time = max_seconds is not None and time.perf_counter() - start >= max_seconds
            if callback is not None and (done % every == 0 or done == steps or out_of_time or self.should_stop()):
                if callback(self) is False:
                    break
            if out_of_time:
                break
        return done

    # ------------------------------------------------------------------------------------- evaluation

    def evaluate(self, x: np.ndarray | None = None, y: np.ndarray | None = None) -> Evaluation:
        """Loss (and accuracy) on the held-out batch, or on a given one; nothing is recorded."""
        if x is None:
            x, y = self.eval_x, self.eval_y
        out = self.model.run(x, scan=SCAN).output
        lg = readout_loss(self.readout, out, y, self.task.kind)
        return Evaluation(lg.loss, lg.accuracy)

    def _evaluate_and_record(self) -> Evaluation:
        ev = self.evaluate()
        self.history.eval_step.append(self.steps_done)
        self.history.eval_loss.append(ev.loss)
        if ev.accuracy is not None:
            self.history.eval_accuracy.append(ev.accuracy)
        return ev

    def predict(self, x: np.ndarray) -> Prediction:
        """The current model's answer for one sequence (T, I) or a batch (T, B, I)."""
        return predict(self.model, self.readout, x, self.task.kind)

    # ------------------------------------------------------------------------------- state and files

    def state(self) -> TrainerState:
        """A snapshot (copies) to resume from with :meth:`from_state`."""
        return TrainerState(
            task=self.task.key,
            spec=self.model.spec,
            config=self.config,
            where=self.readout.where,
            params=self._flat.copy(),
            adam=self.adam.state_dict(),
            rng=copy.deepcopy(self.rng.bit_generator.state),
            history=copy.deepcopy(self.history),
            diverged=self.diverged,
            diverged_at=self.diverged_at,
        )

    @classmethod
    def from_state(cls, state: TrainerState) -> Trainer:
        """A Trainer that continues exactly as the one that made ``state`` would have."""
        task = get_task(state.task)
        probe = _FlatParams(param_shapes(state.spec))
        views = probe.views(state.params[: probe.size])
        rest = state.params[probe.size :]
        features = state.spec.directions * state.spec.out_size
        O = task.output_size
        readout = Readout(rest[: O * features].reshape(O, features), rest[O * features :], state.where)
        trainer = cls(task, Model(state.spec, views), state.config, readout)
        trainer.adam.load_state_dict(state.adam)
        trainer.rng.bit_generator.state = copy.deepcopy(state.rng)
        trainer.history = copy.deepcopy(state.history)
        trainer.diverged = state.diverged
        trainer.diverged_at = state.diverged_at
        return trainer

    def export(self, path: str | Path, name: str = "", description: str = "") -> Path:
        """Save the trained model, readout, task, config and a thinned history as an ``.npz``."""
        final = self.evaluate()
        meta = {
            "name": name,
            "description": description,
            "config": asdict(self.config),
            "steps_done": self.steps_done,
            "evaluation": asdict(final),
            "history": _thin_history(self.history),
        }
        return save_trained(path, self.model, self.readout, self.task, self.seq_len, meta)


def _initial_params(spec: Spec, config: TrainConfig) -> dict[str, np.ndarray]:
    """torch-like initial weights, with ``config.forget_bias`` added to every LSTM forget gate's b_ih."""
    params = init_params(spec, config.init_seed)
    if spec.kind == "lstm" and config.forget_bias:
        H = spec.hidden_size
        for key, value in params.items():
            if key.startswith("bias_ih"):
                value[H : 2 * H] += config.forget_bias  # rows i, f, g, o: f is the second block
    return params


def _thin_history(h: History) -> dict[str, dict[str, list]]:
    """The evaluation table and at most MAX_SAVED_TRAIN_ROWS evenly spaced rows of the per-step table."""
    train = h.train_table()
    n = len(h.step)
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_SAVED_TRAIN_ROWS)).round().astype(int)) if n else []
    thinned = {k: [v[i] for i in keep] for k, v in train.items() if k != "seconds"}
    return {"train": thinned, "eval": h.eval_table()}


# ------------------------------------------------------------------------------------------ cells


# The cells Train can race, in display order: one per kind, and a GRU in three of its variants (name -> (label,
# Spec fields)); a kind with no variant cells races as itself.
_VARIANT_CELLS = some_kinds("core.train.variant_cells", {
    "gru": {
        "gru": ("GRU (PyTorch)", {"kind": "gru"}),
        "gru-reset-before": (f"GRU, reset before ({sources.short('cho', 'dive')})",
                             {"kind": "gru", "variant": "reset-before"}),
        "gru-z-takes": (f"GRU, z takes ({sources.short('chung', 'wikipedia')})", {"kind": "gru", "variant": "z-takes"}),
    },
})
CELLS: dict[str, tuple[str, dict[str, object]]] = {
    name: cell for kind in KINDS
    for name, cell in _VARIANT_CELLS.get(kind, {kind: (KIND_NAMES[kind], {"kind": kind})}).items()
}


def cell_spec(cell: str, task: Task | str, hidden_size: int = 32, num_layers: int = 1) -> Spec:
    """The Spec of one of :data:`CELLS` sized for ``task``."""
    if cell not in CELLS:
        raise TrainError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    task = get_task(task) if isinstance(task, str) else task
    kw = CELLS[cell][1]
    return Spec(input_size=task.input_size, hidden_size=hidden_size, num_layers=num_layers, **kw)


def make_trainers(
    task: Task | str,
    cells: Iterable[str],
    hidden_size: int = 32,
    config: TrainConfig | None = None,
    num_layers: int = 1,
) -> dict[str, Trainer]:
    """One Trainer per cell, all with the same config: the same batches in the same order, the same eval batch."""
    return {cell: Trainer.for_cell(task, cell, hidden_size, config, num_layers) for cell in cells}


def run_together(
    trainers: Mapping[str, Trainer],
    steps: int,
    callback: Callable[[Mapping[str, Trainer]], object] | None = None,
    every: int = 10,
    max_seconds: float | None = None,
) -> dict[str, int]:
    """Train every trainer ``steps`` more steps in turns of ``every``, so their curves grow side by side.

    ``callback(trainers)`` after each turn; returning False stops. Returns the steps each trainer really made
    (by name): a trainer that diverged makes none after its ``diverged_at``, and those are not counted.
    """
    start = time.perf_counter()
    every = max(1, int(every))
    done = 0
    made = dict.fromkeys(trainers, 0)
    while done < steps:
        chunk = min(every, steps - done)
        for name, t in trainers.items():
            made[name] += t.run(chunk)
        done += chunk
        if callback is not None and callback(trainers) is False:
            break
        if max_seconds is not None and time.perf_counter() - start >= max_seconds:
            break
        if all(t.should_stop() for t in trainers.values()):
            break
    return made


# ------------------------------------------------------------------------------------------ files


@dataclass
class TrainedModel:
    """A trained model with its readout and task, as saved by :func:`save_trained`."""

    model: Model
    readout: Readout
    task: Task
    seq_len: int
    meta: dict[str, object]

    @property
    def name(self) -> str:
        """The name it was saved with."""
        return str(self.meta.get("name", ""))

    @property
    def description(self) -> str:
        """The one-line description it was saved with."""
        return str(self.meta.get("description", ""))

    def predict(self, x: np.ndarray) -> Prediction:
        """The model's answer for one sequence (T, I) or a batch (T, B, I)."""
        return predict(self.model, self.readout, x, self.task.kind)

    def evaluate(self, n: int = 512, seed: int = 2024, seq_len: int | None = None) -> Evaluation:
        """Loss (and accuracy) on a fresh batch of the task."""
        x, y = self.task.batch(n, np.random.default_rng(seed), seq_len or self.seq_len)
        lg = readout_loss(self.readout, self.model.run(x, scan=SCAN).output, y, self.task.kind)
        return Evaluation(lg.loss, lg.accuracy)

    def history(self) -> History | None:
        """The saved (thinned) learning curves, if the file has them."""
        h = self.meta.get("history")
        if not isinstance(h, dict):
            return None
        train, ev = h.get("train", {}), h.get("eval", {})
        return History(
            step=train.get("step", []),
            loss=train.get("loss", []),
            accuracy=train.get("accuracy", []),
            grad_norm=train.get("grad_norm", []),
            eval_step=ev.get("step", []),
            eval_loss=ev.get("loss", []),
            eval_accuracy=ev.get("accuracy", []),
        )

    def trainer(self, config: TrainConfig | None = None) -> Trainer:
        """A Trainer that continues training from these weights (fresh optimiser)."""
        config = config or TrainConfig(seq_len=self.seq_len)
        readout = Readout(self.readout.weight.copy(), self.readout.bias.copy(), self.readout.where)
        return Trainer(self.task, self.model, config, readout)


def save_trained(
    path: str | Path,
    model: Model,
    readout: Readout,
    task: Task,
    seq_len: int,
    meta: Mapping[str, object] | None = None,
) -> Path:
    """Write model parameters (``model.<state_dict key>``), ``readout.weight``/``readout.bias`` and a JSON
    ``meta`` string array (spec, task, sequence length, anything in ``meta``) to a compressed ``.npz``."""
    path = Path(path)
    info = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        **(meta or {}),
        "spec": asdict(model.spec),
        "task": task.info(),
        "seq_len": int(seq_len),
        "readout": readout.where,
    }
    arrays = {f"model.{k}": v for k, v in model.params.items()}
    arrays[READOUT_WEIGHT] = readout.weight
    arrays[READOUT_BIAS] = readout.bias
    arrays["meta"] = np.array([json.dumps(info, ensure_ascii=False, allow_nan=False)])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # a file object, so numpy does not append ".npz" to a path without it
        np.savez_compressed(f, **arrays)
    return path


def load_trained_file(path: str | Path) -> TrainedModel:
    """Read a file written by :func:`save_trained` (no pickles are loaded)."""
    try:
        with np.load(Path(path), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise TrainError(f"cannot read {path}: {exc}") from None
    if "meta" not in arrays:
        raise TrainError(f"{path} is not a gru-viz trained-model file (no meta)")
    try:
        meta = json.loads(str(arrays.pop("meta")[0]))
    except (ValueError, IndexError) as exc:
        raise TrainError(f"{path}: unreadable metadata: {exc}") from None
    if meta.get("format") != FILE_FORMAT or meta.get("version") != FILE_VERSION:
        raise TrainError(f"{path} is not a version-{FILE_VERSION} {FILE_FORMAT} file")
    spec = Spec(**meta["spec"])
    model = Model(spec, {k.removeprefix("model."): v for k, v in arrays.items() if k.startswith("model.")})
    task = get_task(meta["task"]["key"])
    readout = Readout(arrays[READOUT_WEIGHT], arrays[READOUT_BIAS], meta["readout"])
    return TrainedModel(model, readout, task, int(meta["seq_len"]), meta)
