"""Training tasks: small sequence problems with a known chance level, generated from a NumPy ``Generator``.

Every task makes batches in the time-major layout the core runs on:

- ``x``: float64 ``(T, n, I)``;
- ``y`` for a target at the last step only (``task.target == "last"``): ``(n, O)`` float64 for a regression,
  ``(n,)`` int64 class indices for a classification;
- ``y`` for a target at every step (``task.target == "every"``): ``(T, n, O)`` float64 or ``(T, n)`` int64.

``O`` is ``task.output_size``: the regression's output width (1 here) or the number of classes. A readout
on top of the recurrent model therefore needs ``task.output_size`` outputs, read at the last step or at
every step as ``task.target`` says.

Tasks (keys of :data:`TASKS`):

- ``adding`` — the adding problem (Hochreiter & Schmidhuber 1997): sum the two marked values;
- ``recall`` — remember the first of three symbols across a gap of blanks;
- ``sine`` / ``ar2`` — forecast the next value of a noisy sine or of an AR(2) series, at every step;
- ``anomaly`` — does a noisy sine contain a glitch? (the glitch step is in ``meta["glitch_step"]``);
- ``sentiment`` — a tiny language with negation: "the movie is not bad" is positive.

Each task knows its chance level (:class:`Baseline`): the loss (and accuracy) of the best guess that ignores
the input, computed from the task's definition, so pages can draw it beside the learning curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np

__all__ = [
    "MAX_BATCH",
    "MAX_TASK_STEPS",
    "SENTENCES",
    "TASKS",
    "VOCAB",
    "Baseline",
    "Batch",
    "Example",
    "Task",
    "TaskError",
    "ar2_variance",
    "decode_words",
    "get_task",
    "sentiment_of",
]

Kind = Literal["regression", "classification"]
Target = Literal["last", "every"]

MAX_TASK_STEPS = 1000  # the longest sequence a task makes (training pages cap far lower)
MAX_BATCH = 4096


class TaskError(ValueError):
    """A task asked for something it cannot make (unknown key, too few steps, a bad batch size)."""


@dataclass(frozen=True)
class Baseline:
    """The chance level of a task: what the best input-blind guess scores."""

    loss: float  # MSE of predicting the target's mean, or cross-entropy of predicting the class frequencies
    accuracy: float | None  # classification: accuracy of always guessing the most frequent class
    note: str  # what the guess is, in words
    floor: float | None = None  # regression: the least MSE any model can reach (unpredictable noise), if known


@dataclass(frozen=True)
class Batch:
    """A batch: inputs (T, n, I), targets (see the module docstring) and per-sequence metadata arrays."""

    x: np.ndarray
    y: np.ndarray
    meta: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Example:
    """One sequence for a step-through page: x (T, I), its target, one label per step and the answer in words."""

    x: np.ndarray
    y: np.ndarray  # () int or (O,) float for a last-step target; (T,) int or (T, O) float for every step
    labels: tuple[str, ...]
    answer: str
    meta: dict[str, object] = field(default_factory=dict)


class Task:
    """A sequence task; subclasses set the class attributes and implement ``_generate`` and ``_labels``."""

    key: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]  # one line
    kind: ClassVar[Kind]
    target: ClassVar[Target]
    input_size: ClassVar[int]
    n_classes: ClassVar[int] = 0  # 0 for a regression
    class_names: ClassVar[tuple[str, ...]] = ()
    channel_names: ClassVar[tuple[str, ...]] = ()  # one per input channel
    default_steps: ClassVar[int]
    min_steps: ClassVar[int] = 1

    @property
    def output_size(self) -> int:
        """O: the readout's width, the number of classes or the regression's output width (1)."""
        return self.n_classes if self.kind == "classification" else 1

    def __repr__(self) -> str:
        return f"<task {self.key}: {self.name}>"

    # ------------------------------------------------------------------------------------ public API

    def steps(self, T: int | None) -> int:
        """T, checked against the task's limits (None: the default)."""
        T = self.default_steps if T is None else T
        if not isinstance(T, int | np.integer) or isinstance(T, bool) or not self.min_steps <= T <= MAX_TASK_STEPS:
            raise TaskError(f"the {self.name} task takes {self.min_steps} to {MAX_TASK_STEPS} steps, got {T!r}")
        return int(T)

    def sample(self, n: int, rng: np.random.Generator, T: int | None = None) -> Batch:
        """A batch of ``n`` sequences of ``T`` steps with its metadata."""
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or not 1 <= n <= MAX_BATCH:
            raise TaskError(f"a batch has 1 to {MAX_BATCH} sequences, got {n!r}")
        x, y, meta = self._generate(int(n), rng, self.steps(T))
        return Batch(x, y, meta)

    def batch(self, n: int, rng: np.random.Generator, T: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: inputs (T, n, I) and targets, shaped as the module docstring says."""
        b = self.sample(n, rng, T)
        return b.x, b.y

    def example(self, rng: np.random.Generator, T: int | None = None) -> Example:
        """One sequence with per-step labels, for a step-through page."""
        b = self.sample(1, rng, T)
        x = b.x[:, 0]
        y = b.y[0] if self.target == "last" else b.y[:, 0]
        meta = {k: v[0].tolist() for k, v in b.meta.items()}  # plain Python values for a page
        return Example(x, y, self._labels(x, meta), self._answer(y), meta)

    def baseline(self, T: int | None = None) -> Baseline:
        """The chance level at ``T`` steps (the same for every T in these tasks)."""
        self.steps(T)
        return self._baseline()

    def info(self) -> dict[str, object]:
        """What a page or a saved file needs to know about the task, JSON-ready."""
        b = self.baseline()
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "target": self.target,
            "input_size": self.input_size,
            "output_size": self.output_size,
            "n_classes": self.n_classes,
            "class_names": list(self.class_names),
            "channel_names": list(self.channel_names),
            "default_steps": self.default_steps,
            "min_steps": self.min_steps,
            "baseline": {"loss": b.loss, "accuracy": b.accuracy, "floor": b.floor, "note": b.note},
        }

    # ------------------------------------------------------------------------------ for subclasses

    def _generate(self, n: int, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray, dict]:
        raise NotImplementedError

    def _labels(self, x: np.ndarray, meta: dict) -> tuple[str, ...]:
        raise NotImplementedError

    def _baseline(self) -> Baseline:
        raise NotImplementedError

    def _answer(self, y: np.ndarray) -> str:
        if self.kind == "classification":
            if y.ndim == 0:
                return self.class_names[int(y)]
            return " ".join(self.class_names[int(c)] for c in y)
        if y.ndim == 1:
            return f"{float(y[0]):.3f}"
        return f"{len(y)} next values"


def _one_hot(tokens: np.ndarray, width: int) -> np.ndarray:
    """(T, n) integer tokens → (T, n, width) one-hot float64."""
    return np.eye(width)[tokens]


def _class_chance(n_classes: int, note: str) -> Baseline:
    """Uniform classes: accuracy 1/C, cross-entropy ln C."""
    return Baseline(loss=math.log(n_classes), accuracy=1.0 / n_classes, note=note)


# -------------------------------------------------------------------------------------------- adding


class AddingTask(Task):
    """Channel 0: values uniform in [0, 1); channel 1 marks one step in each half. Target: the marked values' sum."""

    key = "adding"
    name = "Adding problem"
    description = "Add the two values whose marker is on; every other value is a distraction."
    kind = "regression"
    target = "last"
    input_size = 2
    channel_names = ("value", "marker")
    default_steps = 20
    min_steps = 2

    def _generate(self, n: int, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray, dict]:
        half = T // 2
        x = np.zeros((T, n, 2))
        x[:, :, 0] = rng.uniform(0.0, 1.0, (T, n))
        # as in sequences.adding_problem: one marker in the first half, one in the second
        first = rng.integers(0, half, n)
        second = rng.integers(half, T, n)
        cols = np.arange(n)
        x[first, cols, 1] = 1.0
        x[second, cols, 1] = 1.0
        y = (x[first, cols, 0] + x[second, cols, 0])[:, None]
        return x, y, {"marked": np.stack([first, second], axis=1)}

    def _labels(self, x: np.ndarray, meta: dict) -> tuple[str, ...]:
        return tuple(f"v={v:.2f}" + (" ●" if m else "") for v, m in x)

    def _baseline(self) -> Baseline:
        # The sum of two independent uniform[0, 1) values has mean 1 and variance 2 · 1/12.
        return Baseline(loss=2.0 / 12.0, accuracy=None, note="always answer 1.0, the mean sum", floor=0.0)


# -------------------------------------------------------------------------------------------- recall

RECALL_SYMBOLS = ("A", "B", "C", "D")
RECALL_SHOWN = 3  # symbols shown before the blanks; only the first counts


class RecallTask(Task):
    """Three random symbols, then blanks up to T; at the end, name the first symbol."""

    key = "recall"
    name = "Recall the first symbol"
    description = "Three symbols flash by, then a gap of blanks: which symbol came first?"
    kind = "classification"
    target = "last"
    input_size = len(RECALL_SYMBOLS) + 1
    n_classes = len(RECALL_SYMBOLS)
    class_names = RECALL_SYMBOLS
    channel_names = (*RECALL_SYMBOLS, "blank")
    default_steps = 20
    min_steps = RECALL_SHOWN + 1

    def _generate(self, n: int, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray, dict]:
        blank = len(RECALL_SYMBOLS)
        tokens = np.full((T, n), blank)
        tokens[:RECALL_SHOWN] = rng.integers(0, blank, (RECALL_SHOWN, n))
        return _one_hot(tokens, self.input_size), tokens[0].astype(np.int64), {}

    def _labels(self, x: np.ndarray, meta: dict) -> tuple[str, ...]:
        return tuple(self.channel_names[i] if i < len(RECALL_SYMBOLS) else "·" for i in x.argmax(axis=1))

    def _baseline(self) -> Baseline:
        return _class_chance(self.n_classes, f"guess one of the {self.n_classes} symbols")


# ------------------------------------------------------------------------------------------ forecasts

SINE_NOISE = 0.1  # σ of the noise added to every observed value
SINE_PERIODS = (10.0, 30.0)  # each sequence's period, uniform in this range; the phase is uniform too


def _noisy_sines(n: int, rng: np.random.Generator, T: int) -> np.ndarray:
    """(T, n) values sin(2πt/period + phase) + noise, each column with its own period and phase."""
    period = rng.uniform(*SINE_PERIODS, n)
    phase = rng.uniform(0.0, 2 * np.pi, n)
    t = np.arange(T)[:, None]
    return np.sin(2 * np.pi * t / period + phase) + SINE_NOISE * rng.standard_normal((T, n))


class SineTask(Task):
    """A noisy sine of random period and phase; at every step, predict the next (noisy) value."""

    key = "sine"
    name = "Forecast a noisy sine"
    description = "A noisy wave of unknown period and phase: predict the next value at every step."
    kind = "regression"
    target = "every"
    input_size = 1
    channel_names = ("value",)
    default_steps = 40
    min_steps = 2

    def _generate(self, n: int, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray, dict]:
        s = _noisy_sines(n, rng, T + 1)
        return s[:-1, :, None], s[1:, :, None], {}

    def _labels(self, x: np.ndarray, meta: dict) -> tuple[str, ...]:
        return tuple(f"{v:.2f}" for v in x[:, 0])

    def _baseline(self) -> Baseline:
        # With a uniform phase E[sin²] = ½, plus the noise: the MSE of always predicting 0, the mean.
        return Baseline(
            loss=0.5 + SINE_NOISE**2,
            accuracy=None,
            note="always predict 0, the mean",
            floor=SINE_NOISE**2,  # the next value's own noise cannot be foreseen
        )


AR2_COEFFS = (1.6, -0.8)  # x_t = a1 x_{t−1} + a2 x_{t−2} + e_t: stationary (roots of modulus √0.8), quasi-periodic
AR2_NOISE = 0.2  # σ of e_t
AR2_BURN_IN = 100  # steps run and dropped first so that every sequence starts from the stationary law


def ar2_variance(a1: float = AR2_COEFFS[0], a2: float = AR2_COEFFS[1], sigma: float = AR2_NOISE) -> float:
    """Stationary variance γ₀ = (1 − a2) σ² / ((1 + a2)((1 − a2)² − a1²)) of an AR(2) series."""
    return (1 - a2) * sigma**2 / ((1 + a2) * ((1 - a2) ** 2 - a1**2))


class AR2Task(Task):
    """An AR(2) series x_t = 1.6 x_{t−1} − 0.8 x_{t−2} + e_t; at every step, predict the next value."""

    key = "ar2"
    name = "Forecast an AR(2) series"
    description = "A random series with a rhythm, x_t = 1.6 x_{t−1} − 0.8 x_{t−2} + noise: predict the next value."
    kind = "regression"
    target = "every"
    input_size = 1
    channel_names = ("value",)
    default_steps = 40
    min_steps = 2

    def _generate(self, n: int, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray, dict]:
        a1, a2 = AR2_COEFFS
        e = AR2_NOISE * rng.standard_normal((AR2_BURN_IN + T + 1, n))
        s = np.zeros_like(e)
        for t in range(2, len(e)):
            s[t] = a1 * s[t - 1] + a2 * s[t - 2] + e[t]
        s = s[AR2_BURN_IN:]
        return s[:-1, :, None], s[1:, :, None], {}

    def _labels(self, x: np.ndarray, meta: dict) -> tuple[str, ...]:
        return tuple(f"{v:.2f}" for v in x[:, 0])

    def _baseline(self) -> Baseline:
        return Baseline(
            loss=ar2_variance(),
            accuracy=None,
            note="always predict 0, the mean (MSE = the stationary variance)",
            floor=AR2_NOISE**2,  # from the second step on, the best forecast misses only e_{t+1}
        )


# -------------------------------------------------------------------------------------------- anomaly

GLITCH_PROBABILITY = 0.5
GLITCH_SIZE = (0.8, 1.5)  # |jump| of the glitch, uniform; its sign is random


class AnomalyTask(Task):
    """A noisy sine (as in ``sine``); half the sequences get one glitch, a jump at one step. Glitch or not?"""

    key = "anomaly"
    name = "Spot the anomaly"
    description = "A noisy wave that may hide one glitch, a sudden jump at one step: is there a glitch?"
    kind = "classification"
    target = "last"
    input_size = 1
    n_classes = 2
    class_names = ("normal", "glitch")
    channel_names = ("value",)
    default_steps = 30
    min_steps = 2

    def _generate(self, n: int, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray, dict]:
        s = _noisy_sines(n, rng, T)
        # every draw is made for every sequence, so the stream does not depend on which ones get a glitch
        has = rng.random(n) < GLITCH_PROBABILITY
        step = rng.integers(1, T, n)  # not step 0: a first value has nothing to jump from
        size = rng.uniform(*GLITCH_SIZE, n) * rng.choice([-1.0, 1.0], n)
        cols = np.flatnonzero(has)
        s[step[cols], cols] += size[cols]
        return s[:, :, None], has.astype(np.int64), {"glitch_step": np.where(has, step, -1)}

    def _labels(self, x: np.ndarray, meta: dict) -> tuple[str, ...]:
        g = meta.get("glitch_step", -1)
        return tuple(f"{v:.2f}" + (" ⚡" if t == g else "") for t, v in enumerate(x[:, 0]))

    def _baseline(self) -> Baseline:
        p = GLITCH_PROBABILITY
        entropy = -(p * math.log(p) + (1 - p) * math.log(1 - p))
        return Baseline(loss=entropy, accuracy=max(p, 1 - p), note="always answer the more frequent class")


# ------------------------------------------------------------------------------------------ sentiment

VOCAB = ("<pad>", "the", "movie", "is", "not", "very", "good", "bad")
POLARITY = {"good": 1, "bad": 0}


def _sentences() -> tuple[tuple[tuple[str, ...], int], ...]:
    """Every sentence of the grammar with its label (1 positive, 0 negative).

    S   → "the movie is" NEG? INT? ADJ   |   "the" NEG? INT? ADJ "movie"
    NEG → "not"        INT → "very"        ADJ → "good" | "bad"

    label = positive ⇔ (ADJ = "good") XOR NEG: "not" flips the polarity, "very" does not.
    """
    out = []
    for form in ("predicate", "attributive"):
        for neg in (False, True):
            for very in (False, True):
                for adj in ("good", "bad"):
                    mods = ("not",) * neg + ("very",) * very
                    words = ("the", "movie", "is", *mods, adj) if form == "predicate" else ("the", *mods, adj, "movie")
                    out.append((words, POLARITY[adj] ^ neg))
    return tuple(out)


SENTENCES = _sentences()  # 16 sentences, 8 positive and 8 negative
_SENTENCE_LEN = max(len(w) for w, _ in SENTENCES)


class SentimentTask(Task):
    """A tiny language with negation, one-hot words, left-padded with <pad> so every sentence ends at the last step.

    Grammar (all 16 sentences equally likely, see :data:`SENTENCES`):
    ``the movie is [not] [very] good|bad`` or ``the [not] [very] good|bad movie``; "not" flips the
    polarity, "very" does not. Half the sentences carry a "not", so a model that ignores it scores chance,
    and so does any bag of words read linearly (positive = "good" XOR "not").
    """

    key = "sentiment"
    name = "Sentiment with negation"
    description = "Is “the movie is not very bad” positive? Learn what “not” does to good and bad."
    kind = "classification"
    target = "last"
    input_size = len(VOCAB)
    n_classes = 2
    class_names = ("negative", "positive")
    channel_names = VOCAB
    default_steps = 8
    min_steps = _SENTENCE_LEN

    def _generate(self, n: int, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray, dict]:
        table = np.zeros((len(SENTENCES), T), dtype=np.int64)  # token ids, left-padded with <pad> (id 0)
        for i, (words, _) in enumerate(SENTENCES):
            table[i, T - len(words) :] = [VOCAB.index(w) for w in words]
        labels = np.array([label for _, label in SENTENCES], dtype=np.int64)
        pick = rng.integers(0, len(SENTENCES), n)
        return _one_hot(table[pick].T, len(VOCAB)), labels[pick], {"sentence": pick}

    def _labels(self, x: np.ndarray, meta: dict) -> tuple[str, ...]:
        return tuple(VOCAB[i] for i in x.argmax(axis=1))

    def _baseline(self) -> Baseline:
        return _class_chance(2, "always answer one class (ignoring “not” scores the same)")


def decode_words(x: np.ndarray) -> list[str]:
    """The words of a one-hot sentence (T, len(VOCAB)), <pad> dropped."""
    return [VOCAB[i] for i in np.asarray(x).argmax(axis=-1) if VOCAB[i] != "<pad>"]


def sentiment_of(words: list[str] | tuple[str, ...]) -> int:
    """The grammar's label of a sentence: 1 positive, 0 negative ("not" flips good/bad)."""
    adj = next(w for w in words if w in POLARITY)
    return POLARITY[adj] ^ ("not" in words)


# -------------------------------------------------------------------------------------------- registry

TASKS: dict[str, Task] = {
    t.key: t for t in (AddingTask(), RecallTask(), SineTask(), AR2Task(), AnomalyTask(), SentimentTask())
}


def get_task(key: str) -> Task:
    """The task registered under ``key``."""
    try:
        return TASKS[key]
    except KeyError:
        raise TaskError(f"unknown task {key!r}; choose one of {', '.join(TASKS)}") from None
