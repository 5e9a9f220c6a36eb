"""The Train page: settings and their checks, a race of cells trained in chunks, final scores, test examples, the
hand-off of a trained model to the step-through and timeline pages, and the page's panels (the last section).

Caps (one class on one small server): hidden size ≤ :data:`MAX_HIDDEN`, sequence length ≤ :data:`MAX_SEQ_LEN`,
batch ≤ :data:`MAX_BATCH`, length × batch × hidden ≤ :data:`MAX_WORK` (a step keeps every gate of every sequence
in memory), training steps ≤ :data:`MAX_TRAIN_STEPS` and :data:`RUN_SECONDS` of compute per run (all its cells
together). The page trains in chunks of :data:`CHUNK_SECONDS`, and at most
:data:`MAX_CONCURRENT` chunks run at once on the server, whoever started them.
"""

from __future__ import annotations

import html
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import streamlit as st

from ..core import sources
from ..core.kinds import KINDS
from ..core.model import Model
from ..core.sequences import Sequence, format_numbers, parse_numbers
from ..core.spec import KIND_NAMES
from ..core.tasks import RECALL_SHOWN, TASKS, Example, Task, get_task
from ..core.train import CELLS, Evaluation, Prediction, TrainConfig, Trainer, make_trainers, run_together
from ..explain import trained as words
from ..explain.palette import CELL_COLORS, GREY
from ..figures import train as figs
from ..serve import state
from ..serve.limits import LIMITS
from ..serve.state import PROPS, Config
from . import trained_view, ui
from .budget import single_blas_thread

# The caps below come from gru_viz.serve.limits (the classroom profile lowers them).
MAX_HIDDEN = min(PROPS["hidden"].high, LIMITS.train_hidden)  # 64: the pages draw per-unit views
MAX_SEQ_LEN = LIMITS.train_seq_len  # the tasks go to 1000 steps; a page's run stays well under a minute
MAX_BATCH = 128
# T × B × H of one step: its forward trace and BPTT hold ~14 such arrays (LSTM), so this caps a step near 90 MB
MAX_WORK = 200 * 64 * 64
MAX_TRAIN_STEPS = LIMITS.train_steps
MAX_LR = 1.0  # Adam's steps are about lr in size: above 1 the weights jump further than their own scale
RUN_SECONDS = LIMITS.train_seconds  # compute time of one run, every cell together; then it stops, keeping it all
CHUNK_SECONDS = 0.4  # one page update's worth of training: also how long a Stop may wait
MAX_CONCURRENT = 2  # training chunks running at once on the server (a class shares two cores)
EVAL_SIZE = 256  # held-out sequences (fewer when T × H is large: see eval_size)
EVAL_POINTS = 25  # about this many held-out evaluations per run
TRAIN_CELLS = KINDS  # keys of gru_viz.core.train.CELLS offered on the page: one cell of every kind
EXAMPLE_STREAM = 99  # test examples come from rng([seed, EXAMPLE_STREAM, n]), apart from training and eval

SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT)  # process-wide: shared by every session of the server
SLOT_WAIT = 0.2  # seconds a chunk waits for a free slot before the page redraws and tries again next tick

STATUS = {
    "running": "Training…",
    "done": "Done",
    "stopped": "Stopped",
    "time-cap": "Stopped at the time cap",
    "diverged": "Stopped: every cell diverged",
}


# ------------------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class Settings:
    """What one training run does: the task and its length, the cells and how they are trained."""

    task: str = "adding"
    seq_len: int = 50
    hidden: int = 32
    lr: float = 1e-2
    batch: int = 32
    steps: int = 600
    cells: tuple[str, ...] = ("gru", "lstm", "rnn")
    seed: int = 0
    forget_bias: bool = True  # LSTM: +1 on the forget gate's bias at init (without it, it stalls on long gaps)

    def train_config(self) -> TrainConfig:
        """The core's TrainConfig: one for every cell, so they see the same batches from the same seed."""
        return TrainConfig(seq_len=self.seq_len, batch_size=self.batch, lr=self.lr, clip=1.0, seed=self.seed,
                           init_seed=self.seed, forget_bias=1.0 if self.forget_bias else 0.0,
                           eval_size=eval_size(self.seq_len, self.hidden), eval_every=eval_every(self.steps))


DEFAULTS = Settings()  # adding at T = 50: GRU learns it in ~300 steps, LSTM later, the RNN not in 600 steps


def eval_every(steps: int) -> int:
    """Evaluate on the held-out batch about EVAL_POINTS times per run (at least every 100 steps)."""
    return min(100, max(5, steps // EVAL_POINTS))


def eval_size(seq_len: int, hidden: int) -> int:
    """Held-out sequences: EVAL_SIZE, fewer when T × H is large so that an evaluation stays within MAX_WORK."""
    return max(32, min(EVAL_SIZE, MAX_WORK // (seq_len * hidden)))


def seq_limits(task: Task) -> tuple[int, int]:
    """The sequence lengths the page trains ``task`` on."""
    return task.min_steps, MAX_SEQ_LEN


def _number(value: object) -> float | None:
    """``value`` as a finite float, else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _whole(value: object) -> int | None:
    """``value`` as an int if it is a whole, finite number, else None."""
    number = _number(value)
    return None if number is None or number != int(number) else int(number)


def _in_range(name: str, value: object, low: int, high: int, problems: list[str], hint: str = "") -> int:
    """A whole number in [low, high], or a message added to ``problems``."""
    number = _whole(value)
    if number is None or not low <= number <= high:
        problems.append(f"{name} must be a whole number from {low} to {high} (got {value!r}).{hint}")
        return low
    return number


def check_settings(
    task: object,
    seq_len: object,
    hidden: object,
    lr: object,
    batch: object,
    steps: object,
    cells: object,
    seed: object = 0,
    forget_bias: object = True,
) -> tuple[Settings | None, list[str]]:
    """Settings from what the widgets hold, or None and one clear message per problem (never an exception)."""
    problems: list[str] = []
    if not isinstance(task, str) or task not in TASKS:
        return None, [f"Unknown task {task!r}; choose one of {', '.join(TASKS)}."]
    t = get_task(task)
    low, high = seq_limits(t)
    seq_len_ = _in_range(f"Sequence length T for “{t.name}”", seq_len, low, high, problems,
                         f" Longer sequences are harder; the page caps T at {MAX_SEQ_LEN} to keep a run short.")
    hidden_ = _in_range("Hidden size H", hidden, 1, MAX_HIDDEN, problems)
    batch_ = _in_range("Batch size", batch, 1, MAX_BATCH, problems)
    steps_ = _in_range("Training steps", steps, 1, MAX_TRAIN_STEPS, problems,
                       f" A run also stops after {RUN_SECONDS:.0f} s of training.")
    seed_ = _in_range("Seed", seed, 0, 2**31 - 1, problems)
    rate = _number(lr)
    if rate is None or rate <= 0:
        problems.append(f"The learning rate must be a number above 0 (got {lr!r}); 0.01 works for most tasks here.")
    elif rate > MAX_LR:
        problems.append(f"A learning rate of {rate:g} is far too large: Adam moves every weight by about lr per "
                        f"step. Use at most {MAX_LR:g}; 0.01 works for most tasks here.")
    chosen = tuple(cells) if isinstance(cells, list | tuple) else ()
    unknown = [c for c in chosen if c not in TRAIN_CELLS]
    if unknown:
        problems.append(f"Unknown cell {unknown[0]!r}; choose from {', '.join(TRAIN_CELLS)}.")
    elif not chosen:
        problems.append("Pick at least one cell to train.")
    if not problems and seq_len_ * batch_ * hidden_ > MAX_WORK:
        problems.append(f"Length × batch × hidden is {seq_len_ * batch_ * hidden_:,}; this page trains at most "
                        f"{MAX_WORK:,} per step (a step keeps every gate of every sequence in memory). Use a smaller "
                        "batch, length or hidden size.")
    if problems:
        return None, problems
    ordered = tuple(c for c in TRAIN_CELLS if c in chosen)  # the palette's order, whatever order they were picked
    return Settings(task, seq_len_, hidden_, float(rate), batch_, steps_, ordered, seed_, bool(forget_bias)), []


def cell_name(cell: str) -> str:
    """A cell's display name: GRU, LSTM, vanilla RNN, minGRU, minLSTM."""
    return KIND_NAMES.get(cell_kind(cell), CELLS[cell][0])


def cell_kind(cell: str) -> str:
    """The Spec kind of a key of CELLS (a kind, or a GRU variant's cell such as gru-z-takes)."""
    return str(CELLS[cell][1]["kind"])


# ------------------------------------------------------------------------------------------------ run


@dataclass
class Score:
    """One cell's result: held-out loss (and accuracy) at the end, against chance."""

    cell: str
    steps: int
    loss: float
    accuracy: float | None
    chance_loss: float
    chance_accuracy: float | None
    ms_per_step: float
    diverged: bool
    diverged_at: int | None = None  # the step whose loss or gradient was not finite (no update was made then)

    @property
    def below_chance(self) -> float:
        """How much of the chance-level loss the cell removed: 1 − loss / chance (1 = perfect, ≤ 0 = nothing)."""
        return 1.0 - self.loss / self.chance_loss if math.isfinite(self.loss) else float("nan")


@dataclass
class Run:
    """A race of cells on one task, trained a chunk at a time and kept between page reruns.

    Every cell's Trainer comes from :func:`make_trainers`: the same batches in the same order, the same
    held-out batch, the same seed for the initial weights.
    """

    settings: Settings
    trainers: dict[str, Trainer]
    status: str = "running"  # a key of STATUS
    steps_done: int = 0  # steps made by each cell
    seconds: float = 0.0  # compute time spent training, every cell together
    chunks: int = 0
    final: dict[str, Evaluation] = field(default_factory=dict)  # held-out scores when it ended

    @classmethod
    def start(cls, settings: Settings) -> Run:
        """Fresh models for every chosen cell (their step-0 evaluation is made here)."""
        trainers = make_trainers(settings.task, settings.cells, settings.hidden, settings.train_config())
        first = next(iter(trainers.values()))
        for t in trainers.values():  # the same held-out batch (same seed): keep one copy, not one per cell
            t.eval_x, t.eval_y = first.eval_x, first.eval_y
        return cls(settings, trainers)

    @property
    def eval_size(self) -> int:
        """Held-out sequences every cell is scored on."""
        return len(next(iter(self.trainers.values())).eval_y)

    @property
    def task(self) -> Task:
        """The task trained on."""
        return get_task(self.settings.task)

    @property
    def running(self) -> bool:
        """Whether more chunks are to come."""
        return self.status == "running"

    @property
    def progress(self) -> float:
        """Share of the planned steps made, in [0, 1]."""
        return min(1.0, self.steps_done / self.settings.steps)

    def advance(self, budget: float = CHUNK_SECONDS) -> int:
        """Train every cell side by side for about ``budget`` seconds (never past the caps); steps made."""
        if not self.running:
            return 0
        left = self.settings.steps - self.steps_done
        budget = min(budget, max(0.0, RUN_SECONDS - self.seconds))
        t0 = time.perf_counter()
        if left > 0 and budget > 0:
            run_together(self.trainers, left, every=1, max_seconds=budget)
        self.seconds += time.perf_counter() - t0
        # the steps of the cells still training (a diverged cell stopped at its diverged_at)
        before, self.steps_done = self.steps_done, max(t.steps_done for t in self.trainers.values())
        made = self.steps_done - before
        self.chunks += 1
        if self.steps_done >= self.settings.steps:
            self.finish("done")
        elif all(t.diverged for t in self.trainers.values()):
            self.finish("diverged")
        elif self.seconds >= RUN_SECONDS:
            self.finish("time-cap")
        return made

    def advance_shared(self, budget: float = CHUNK_SECONDS) -> str | None:
        """:meth:`advance` once one of the server's SLOTS is free; a note for the page when it had to wait,
        or when a bug ended the run (what was learned is kept either way)."""
        if not self.running:
            return None
        single_blas_thread()
        if not SLOTS.acquire(timeout=SLOT_WAIT):
            return "The server is busy training for others: your run waits for a free slot and goes on by itself."
        try:
            self.advance(budget)
        except Exception as exc:  # a bug of ours: end the run, keep the page and the weights
            self.status = "stopped"
            return f"Training stopped unexpectedly ({type(exc).__name__}); what was learned so far is kept."
        finally:
            SLOTS.release()
        return None

    def stop(self) -> None:
        """Stop after the chunk in progress, keeping everything learned so far."""
        if self.running:
            self.finish("stopped")

    def finish(self, status: str) -> None:
        """End the run and score every cell on the held-out batch."""
        self.status = status
        self.final = {cell: t.evaluate() for cell, t in self.trainers.items()}

    def ms_per_step(self, cell: str) -> float:
        """A cell's mean compute time per training step over the whole run, in ms (NaN before any): the one number
        the page shows for it, beside the curves and in the scores table alike."""
        seconds = self.trainers[cell].history.seconds
        return 1e3 * float(np.mean(seconds)) if seconds else float("nan")

    def scores(self) -> list[Score]:
        """Every cell's final held-out score (the latest evaluation while still running)."""
        base = self.task.baseline(self.settings.seq_len)
        out = []
        for cell, t in self.trainers.items():
            ev = self.final.get(cell) or t.history.last_eval() or t.evaluate()
            out.append(Score(cell, t.steps_done, ev.loss, ev.accuracy, base.loss, base.accuracy,
                             self.ms_per_step(cell), t.diverged, t.diverged_at))
        return out


# ------------------------------------------------------------------------------------- test examples


def example_for(run: Run, number: int = 0) -> Example:
    """The ``number``-th test example of the run's task and length, from a stream of its own."""
    rng = np.random.default_rng([run.settings.seed, EXAMPLE_STREAM, number])
    return run.task.example(rng, run.settings.seq_len)


def answer_of(run: Run, cell: str, example: Example) -> str:
    """What a trained cell answers on ``example``, in the task's words (class and probability, or the value)."""
    return describe_answer(run.task, run.trainers[cell].predict(example.x), example)


def describe_answer(task: Task, pred: Prediction, example: Example) -> str:
    """A prediction on one example in the task's words: "glitch (97%)", "1.231", or how many steps were right."""
    if task.kind == "classification":
        if task.target == "last":
            c = int(pred.classes)
            return f"{task.class_names[c]} ({float(pred.output[c]):.0%})"
        return f"{float(np.mean(pred.classes == example.y)):.0%} of steps right"
    if task.target == "last":
        return f"{float(pred.output[0]):.3f}"
    mse = float(np.mean((pred.output - example.y) ** 2))
    return f"MSE {mse:.4f} over the {len(example.y)} next values"


def example_summary(task: Task, example: Example) -> str:
    """What to look for in an example, in words: the marked values, the glitch, the sentence, the first symbol."""
    x, meta = example.x, example.meta
    if task.key == "adding":
        a, b = (int(s) for s in meta["marked"])
        return f"marked steps {a} and {b}: {x[a, 0]:.3f} + {x[b, 0]:.3f}"
    if task.key == "anomaly":
        glitch = int(meta.get("glitch_step", -1))
        return f"a glitch at step {glitch}" if glitch >= 0 else "no glitch"
    if task.key == "sentiment":
        return "“" + " ".join(w for w in example.labels if w != "<pad>") + "”"
    if task.key == "recall":
        return f"first symbol {example.labels[0]}, then {len(example.labels) - RECALL_SHOWN} blanks"
    return f"{len(example.labels)} steps"


def focus_step(task: Task, example: Example) -> int:
    """The step worth looking at first: the first marked value, the glitch, the word "not" (else the start)."""
    meta = example.meta
    if task.key == "adding":
        return int(meta["marked"][0])
    if task.key == "anomaly" and int(meta.get("glitch_step", -1)) >= 0:
        return int(meta["glitch_step"])
    if task.key == "sentiment":
        for word in ("not", "good", "bad"):
            if word in example.labels:
                return example.labels.index(word)
    return 0


TYPED_DIGITS = 4  # significant digits of an example's numbers in the sequence box: read by people, not bits


def typed_input(example: Example) -> str:
    """The example's inputs as typed numbers (one step per ';'), rounded to TYPED_DIGITS significant digits."""
    return format_numbers(Sequence(example.x, tuple(str(t) for t in range(len(example.x)))), digits=TYPED_DIGITS)


def typed_values(example: Example) -> np.ndarray:
    """The inputs the pages run on an example they were handed: :func:`typed_input` read back."""
    return parse_numbers(typed_input(example)).values


# ---------------------------------------------------------------------------------------------- hand-off


def trained_model(run: Run, cell: str) -> Model:
    """A copy of a cell's current model, detached from its Trainer (which updates its weights in place)."""
    model = run.trainers[cell].model
    return Model(model.spec, {k: np.array(v, copy=True) for k, v in model.params.items()})


def model_name(run: Run, cell: str) -> str:
    """How the other pages name a trained model: cell, task and steps."""
    s = run.settings
    return f"{cell_name(cell)} trained {run.trainers[cell].steps_done} steps on {run.task.name} (T = {s.seq_len})"


def carrier_unit(model: Model, task: Task, example: Example) -> int:
    """The unit that carries what the example turns on (see gru_viz.explain.trained.carrier), else unit 0: the
    pages open on it, so the step's narration and the sentence about what the model learned speak of one unit."""
    cf = words.counterfactual(task, example.x)
    if cf is None or model.spec.num_layers != 1 or model.spec.directions != 1:
        return 0
    return words.carrier(model, model.run(example.x), cf)[0]


def handoff(run: Run, cell: str, example: Example, base: Config) -> tuple[Model, str, Config]:
    """The model, its name and the Config that show ``cell`` running on ``example`` as this session's model.

    ``base`` lends its view settings (presenter mode, hidden parts); the rest is set so the pages build this
    model on this input: weights "session", cell and size of the model, the example as typed numbers.
    """
    model = trained_model(run, cell)
    spec = model.spec
    cfg = replace(Config(), cell=spec.kind, variant=spec.variant if spec.kind == "gru" else "torch",
                  hidden=spec.hidden_size, source="typed", seq=typed_input(example), weights="session",
                  t=focus_step(run.task, example), unit=carrier_unit(model, run.task, example), present=base.present,
                  hide=base.hide)
    return model, model_name(run, cell), cfg


SHOWCASE_TRIES = 50  # test examples looked through for a telling one


def telling(task: Task, example: Example) -> bool:
    """Whether an example shows what the task is about: a glitch to spot, a "not" to read (else any will do)."""
    if task.key == "anomaly":
        return int(example.meta.get("glitch_step", -1)) >= 0
    if task.key == "sentiment":
        return "not" in example.labels
    return True


def preset_showcase(key: str) -> tuple[Config, str]:
    """A shareable Config that opens the shipped trained preset ``key`` on a telling test example of its task,
    and one line saying what the example asks and what the model answers."""
    from ..io.trained import TRAINED_PRESETS, load_trained  # only when asked: the presets are files

    p = TRAINED_PRESETS[key]
    trained = load_trained(key)
    task = trained.task
    rng = np.random.default_rng([p.config.seed, EXAMPLE_STREAM])
    example = task.example(rng, trained.seq_len)
    for _ in range(SHOWCASE_TRIES):
        if telling(task, example):
            break
        example = task.example(rng, trained.seq_len)
    kind = CELLS[p.cell][1]
    cfg = replace(Config(), cell=str(kind["kind"]), variant=str(kind.get("variant", "torch")),
                  hidden=p.hidden_size, source="typed", seq=typed_input(example), weights=f"trained:{key}",
                  t=focus_step(task, example), unit=carrier_unit(trained.model, task, example))
    says = describe_answer(task, trained.predict(typed_values(example)), example)  # on the numbers shown
    return cfg, f"On this example the answer is {example.answer}; the model says {says}."


def cells_label(cells: Mapping[str, object] | tuple[str, ...]) -> str:
    """"GRU, LSTM and vanilla RNN"."""
    names = [cell_name(c) for c in cells]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ======================================================================================== the page

RUN = "train_run"  # the Run in progress or finished (this session only)
EXAMPLE = "train_example"  # which test example the results show
METRIC = "train_metric"  # the curves shown for a classification: accuracy or loss
SAVED = "train_saved_settings"  # the widgets' values, kept across page switches
KEYS = {name: f"train_{name}" for name in ("task", "seq_len", "hidden", "lr", "batch", "steps", "cells", "seed",
                                           "forget_bias")}
TICK = 0.5  # seconds between the fragment's reruns while training (a chunk is about CHUNK_SECONDS of work)
CHART = {"displayModeBar": False}
EXAMPLE_STEPS = 16  # steps of a test example written out in full
SUGGESTED_T = {"adding": 50}  # the adding problem at its default T = 20 is too easy to tell the cells apart


def suggested_seq_len(task: str) -> int:
    """The sequence length a task starts at when picked."""
    return SUGGESTED_T.get(task, get_task(task).default_steps)


# ------------------------------------------------------------------------------------------- settings


def init_widgets() -> None:
    """Seed the settings' widgets: the session's last values (Streamlit drops a widget's value once a page
    without it runs, so they are kept under SAVED too), else the defaults."""
    d = DEFAULTS
    saved = st.session_state.get(SAVED, {})
    for name, key in KEYS.items():
        if key not in st.session_state:
            st.session_state[key] = saved.get(name, list(d.cells) if name == "cells" else getattr(d, name))


def save_widgets() -> None:
    """Keep the settings' values apart from their widgets, for the next visit to this page."""
    st.session_state[SAVED] = {name: st.session_state.get(key) for name, key in KEYS.items()}


def on_task_change() -> None:
    """A new task starts at its own suggested length."""
    st.session_state[KEYS["seq_len"]] = suggested_seq_len(st.session_state[KEYS["task"]])


def read_settings() -> tuple[Settings | None, list[str]]:
    """The widgets' values, checked (never raises)."""
    values = {name: st.session_state.get(key) for name, key in KEYS.items()}
    return check_settings(**values)


def settings_panel(running: bool) -> Settings | None:
    """Task, length, size, steps, learning rate and cells (batch, seed, LSTM bias in a popover); the problems
    with them; Start and Stop."""
    task_col, t_col, h_col, s_col, lr_col = st.columns([3.1, 1.1, 1.1, 1.1, 1.5])
    task_col.selectbox("Task", tuple(TASKS), format_func=lambda k: TASKS[k].name, key=KEYS["task"],
                       on_change=on_task_change, disabled=running)
    task = get_task(st.session_state[KEYS["task"]])
    low, high = seq_limits(task)
    t_col.number_input("Length T", step=5, key=KEYS["seq_len"], disabled=running,
                       help=f"Steps per sequence, {low} to {high} for this task: the longer, the harder to remember.")
    h_col.number_input("Hidden H", step=4, key=KEYS["hidden"], disabled=running,
                       help=f"Units per cell, 1 to {MAX_HIDDEN}.")
    s_col.number_input("Steps", step=100, key=KEYS["steps"], disabled=running,
                       help=f"Training steps, 1 to {MAX_TRAIN_STEPS}; a run also stops after "
                            f"{RUN_SECONDS:.0f} s of training.")
    lr_col.number_input("Learning rate", step=0.001, format="%g", key=KEYS["lr"], disabled=running,
                        help=f"Adam's step size, above 0 and at most {MAX_LR:g}. 0.01 suits every task here; "
                             "a vanilla RNN may do better with 0.003.")

    cells_col, more_col, start_col, stop_col = st.columns([3.1, 2.2, 1.1, 1.5], vertical_alignment="bottom")
    cells_col.pills("Cells to race", TRAIN_CELLS, selection_mode="multi", format_func=cell_name,
                    key=KEYS["cells"], disabled=running,
                    help="Every cell trains on the same batches, from the same seed, with the same settings.")
    state_ = st.session_state
    with more_col.popover(f"Batch {state_[KEYS['batch']]} · seed {state_[KEYS['seed']]}", icon=":material/tune:",
                          disabled=running, width="stretch", key="train_more"):
        st.number_input("Batch size", step=8, key=KEYS["batch"],
                        help=f"Sequences per training step, 1 to {MAX_BATCH} (and length × batch × hidden at "
                             f"most {MAX_WORK:,}).")
        st.number_input("Seed", step=1, key=KEYS["seed"],
                        help="Seeds the batches, the held-out set and every cell's initial weights.")
        st.toggle("LSTM forget bias +1", key=KEYS["forget_bias"],
                  help=f"Start the LSTM's forget gate open (bias +1, {sources.who('jozefowicz')}): with "
                       "torch's default init it often never learns to hold a value over a long gap.")
    settings, problems = read_settings()
    start_col.button("Start", key="train_start", type="primary", icon=":material/play_arrow:", on_click=start,
                     disabled=running or settings is None, width="stretch")
    stop_col.button("Stop", key="train_stop", icon=":material/stop:", on_click=stop, disabled=not running,
                    width="stretch", help="Stop after the step in progress; everything learned so far is kept.")
    for problem in problems:
        st.error(problem, icon=":material/error:")
    return settings


def start() -> None:
    """Start callback: a fresh run of the checked settings (a bad setting leaves the page's messages up)."""
    settings, _ = read_settings()
    if settings is None:
        return
    st.session_state[RUN] = Run.start(settings)
    st.session_state[EXAMPLE] = 0


def stop() -> None:
    """Stop callback: runs before the rerun it asked for, i.e. between two chunks."""
    run = st.session_state.get(RUN)
    if run is not None:
        run.stop()


def task_card(task_key: str, seq_len: int | None = None) -> None:
    """The task in a few lines: what it asks, its chance level (the dashed line), how long its sequences are."""
    task = get_task(task_key)
    base = task.baseline()
    loss = "MSE" if task.kind == "regression" else "cross-entropy"
    acc = f", accuracy {base.accuracy:.0%}" if base.accuracy is not None else ""
    length = f" T = {seq_len} steps." if seq_len else ""
    st.markdown(f"**{task.name}.** {task.description}{length}")
    st.caption(f"**Chance level**, the dashed line: {base.note} — {loss} {base.loss:.3g}{acc}.")


# ------------------------------------------------------------------------------------------ live view


def progress_text(run: Run) -> str:
    """Status, steps and training time."""
    return (f"{STATUS[run.status]} · step {run.steps_done} of {run.settings.steps} · "
            f"{run.seconds:.1f} s of training")


def step_times(run: Run) -> None:
    """Each cell's compute time per training step, in its colour."""
    parts = [f'<span style="color:{CELL_COLORS.get(c, GREY)};font-weight:700">{html.escape(cell_name(c))}</span> '
             f"{run.ms_per_step(c):.1f} ms" for c in run.trainers]
    st.markdown("<small>Time per step (mean over the run): " + " · ".join(parts) + "</small>", unsafe_allow_html=True)


def curves(run: Run) -> None:
    """Loss (and accuracy) curves of every cell with the chance level; the task and step times beside them."""
    task = run.task
    base = task.baseline(run.settings.seq_len)
    histories = {cell: t.history for cell, t in run.trainers.items()}
    loss_name = "MSE" if task.kind == "regression" else "cross-entropy"
    charts, side = st.columns([3.4, 1])
    with side:
        metric = "loss"
        if task.kind == "classification":  # one chart at a time keeps it wide enough to read on a projector
            metric = st.segmented_control("Curves", ("accuracy", "loss"), key=METRIC, default="accuracy",
                                          label_visibility="collapsed") or "accuracy"
        task_card(run.settings.task, run.settings.seq_len)
        step_times(run)
        s = run.settings
        st.caption(f"H = {s.hidden}, lr {s.lr:g}, batch {s.batch}, seed {s.seed}; held-out set: {run.eval_size} "
                   "sequences.")
    with charts:
        st.plotly_chart(figs.curves_figure(histories, base, metric, run.settings.steps, loss_name,
                                            present=ui.config().present), config=CHART,
                        key=f"train_{metric}")
    if note := divergence_note(run):
        st.warning(note, icon=":material/warning:")


def diverged_text(diverged_at: int | None) -> str:
    """ "diverged at step 37" (or just "diverged" when the step is unknown)."""
    return "diverged" if diverged_at is None else f"diverged at step {diverged_at}"


def divergence_note(run: Run) -> str | None:
    """Which cells diverged and at which step, in words (None when none did)."""
    parts = [f"{cell_name(c)} {diverged_text(t.diverged_at)}" for c, t in run.trainers.items() if t.diverged]
    if not parts:
        return None
    stopped = "it stopped" if len(parts) == 1 else "each stopped"
    return (f"{'; '.join(parts)}: a loss or gradient was not finite, so no update was applied then and {stopped} "
            "training there (its curve ends at that step). Try a smaller learning rate.")


def live() -> None:
    """Draw the progress and the curves, then train one chunk (while running)."""
    run: Run | None = st.session_state.get(RUN)
    if run is None:
        hint, side = st.columns([3.4, 1])
        hint.info("Pick a task and the cells to race, then press **Start**. The defaults race a GRU, an LSTM and a "
                  "vanilla RNN on the adding problem: watch which ones get below the dashed chance line.",
                  icon=":material/model_training:")
        with side:
            task_card(st.session_state[KEYS["task"]])
        return
    was_running = run.running
    # Draw first, then train: elements this run has not redrawn yet are shown faded ("stale") by the browser,
    # so drawing after a chunk would fade the curves for most of the time they are on screen.
    st.progress(run.progress, text=progress_text(run))
    note_box = st.empty()
    curves(run)
    if not was_running:
        return
    note = run.advance_shared()
    if note:
        note_box.caption(note)
    if not run.running:  # finished in this chunk: a full rerun turns the timer off and shows the results
        st.rerun()


# ------------------------------------------------------------------------------------------- results


def removed_text(share: float) -> str:
    """How much of chance's loss a cell removed: "63%", or how far it is worse than chance (never a bare 0%)."""
    if share < -0.005:
        return f"none: {-share:.0%} worse than chance"
    return f"{max(share, 0.0):.0%}"


def scores_table(run: Run) -> pd.DataFrame:
    """Every cell's final numbers, one row each."""
    rows = []
    for s in run.scores():
        row = {"Cell": cell_name(s.cell), "Steps": s.steps, "Held-out loss": s.loss}
        if s.accuracy is not None:
            row["Accuracy"] = f"{s.accuracy:.1%}"
        row["Chance loss"] = s.chance_loss
        row["Loss removed"] = removed_text(s.below_chance) if math.isfinite(s.loss) else "diverged"
        row["Status"] = diverged_text(s.diverged_at) if s.diverged else "trained"
        row["ms / step"] = f"{s.ms_per_step:.1f}"  # the mean over the whole run, as beside the curves
        rows.append(row)
    return pd.DataFrame(rows)


def results(run: Run) -> None:
    """Final scores side by side, a test example, and the buttons that open each trained model."""
    st.subheader("Results")
    scores = run.scores()
    why = {"done": "", "stopped": " (stopped early)", "time-cap": f" (stopped at the {RUN_SECONDS:.0f} s cap)",
           "diverged": " (every cell diverged)"}[run.status]
    st.caption(f"Held-out scores on {run.eval_size} fresh sequences after {run.steps_done} steps{why}. "
               "“Loss removed” is 1 − loss / chance: 0% learned nothing, 100% is perfect; a cell worse than chance "
               "says by how much.")
    table_col, bars_col = st.columns([3, 2])
    table_col.dataframe(scores_table(run), hide_index=True,
                        column_config={"Held-out loss": st.column_config.NumberColumn(format="%.4g"),
                                       "Chance loss": st.column_config.NumberColumn(format="%.3g")})
    cells = [s.cell for s in scores]
    if run.task.kind == "classification":
        fig = figs.scores_figure(cells, [s.accuracy for s in scores], scores[0].chance_accuracy, "held-out accuracy",
                                 percent=True, present=ui.config().present)
    else:
        fig = figs.scores_figure(cells, [s.loss for s in scores], scores[0].chance_loss, "held-out MSE",
                                 present=ui.config().present)
    bars_col.plotly_chart(fig, config=CHART, key="train_scores")
    open_models(run)


def open_models(run: Run) -> None:
    """A test example with every cell's answer, and one click to open a trained cell on it."""
    number = st.session_state.setdefault(EXAMPLE, 0)
    example = example_for(run, number)
    st.markdown("**Open a trained model** on a fresh test example: its hidden state and gates, step by step.")
    st.caption("The trained cell you open becomes this tab's own model. " + state.SESSION_MODEL_HOME)
    shown = example.labels[:EXAMPLE_STEPS]
    more = f" … ({len(example.labels)} steps)" if len(example.labels) > len(shown) else ""
    head, again = st.columns([6, 1], vertical_alignment="center")
    head.markdown(f"Example {number + 1}: `{' '.join(shown)}{more}` — {example_summary(run.task, example)} → "
                  f"answer **{example.answer}**")
    again.button("Another", key="train_another", icon=":material/casino:", width="stretch",
                 on_click=lambda: st.session_state.update({EXAMPLE: number + 1}))
    cols = st.columns(len(run.trainers))
    for col, cell in zip(cols, run.trainers, strict=True):
        with col.container(border=True):
            st.markdown(f"**{cell_name(cell)}** says {answer_of(run, cell, example)}")
            if st.button("Step through", key=f"train_open_step_{cell}", icon=":material/step:", width="stretch",
                         help=f"Open this trained {cell_name(cell)} on the example, one step at a time."):
                open_on(run, cell, example, "pages/step.py")
            if st.button("Timeline", key=f"train_open_timeline_{cell}", icon=":material/timeline:", width="stretch",
                         help=f"Every gate of this trained {cell_name(cell)} over the example, unit by unit."):
                open_on(run, cell, example, "pages/timeline.py")


def open_on(run: Run, cell: str, example, page: str) -> None:
    """Make the trained cell this session's model, show it on ``example``, and switch to ``page``."""
    model, name, cfg = handoff(run, cell, example, ui.config())
    st.session_state[ui.SESSION_MODEL] = model
    st.session_state[ui.SESSION_MODEL_NAME] = name
    trained_view.remember(model, run.trainers[cell].readout, run.task)  # so the pages can show its task and answer
    ui.apply(cfg)  # also resets the sidebar widgets, so they show this model's cell and size
    st.switch_page(page, query_params=state.to_query(cfg))
