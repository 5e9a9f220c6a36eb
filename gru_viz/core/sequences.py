"""Input sequences for a recurrent cell: parsed from what a person types, or made by a named generator.

Every sequence is a :class:`Sequence`: a finite float64 array of shape ``(T, I)`` (T steps of I values) with
one short label per step. Anything wrong with an input — typed text, a generator argument, a URL value —
raises :class:`SequenceError` and nothing else; its message says what is wrong and where (steps are
counted from 1 in messages, while labels such as ``"t0"`` use the 0-based ``t`` of the traces).

Caps, so that nothing a person types can hang the app or overflow a plot:

- ``MAX_STEPS`` = 5000 steps (T),
- ``MAX_WIDTH`` = 512 values per step (I): a real model's input (an embedding, a one-hot vocabulary),
- ``MAX_TEXT_ALPHABET`` = 64 distinct symbols for text (one-hot width),
- ``MAX_ABS_VALUE`` = 1e6 for any single value,
- ``MAX_INPUT_CHARS`` = 200 000 characters of typed input, refused before any parsing.

Typed numbers (:func:`parse_numbers`):

- ``0.5, 1, -2`` — no ``;`` and no line break (leading and trailing whitespace aside): every number is one
  step, shape (T, 1);
- ``1 0; 0 1; 0.5 0.5`` — semicolons or line breaks separate steps, commas or spaces separate the values
  inside a step, shape (T, I). One step of several values is written with a ``;``: ``1 0 0;``.
  Empty steps (a trailing ``;``, blank lines) are skipped, and runs of commas and spaces count as one
  separator.

Numbers are plain decimals with an optional exponent (``-2``, ``.5``, ``3.``, ``1e-3``, ``+4E2``; the
unicode minus ``−`` is read as ``-``). Deliberately refused, although Python's ``float()`` takes them:
``nan``, ``inf``/``infinity``, underscores (``1_000``), non-ASCII digits; hex (``0x10``) is refused too.
A decimal comma (``0,5``) cannot be told from a separator and reads as two numbers.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "GENERATORS",
    "MAX_ABS_VALUE",
    "MAX_INPUT_CHARS",
    "MAX_STEPS",
    "MAX_TEXT_ALPHABET",
    "MAX_WIDTH",
    "MODES",
    "Generator",
    "Param",
    "Sequence",
    "SequenceError",
    "adding_problem",
    "adding_target",
    "copy_task",
    "format_numbers",
    "generate",
    "impulse",
    "noise",
    "parse_numbers",
    "parse_sequence",
    "parse_text",
    "short_number",
    "sine",
    "square",
    "step_fn",
]

MAX_STEPS = 5000
MAX_WIDTH = 512
MAX_TEXT_ALPHABET = 64
MAX_ABS_VALUE = 1e6
MAX_INPUT_CHARS = 200_000
MAX_SEED = 2**63 - 1

MODES = ("numbers", "text")


class SequenceError(ValueError):
    """The one error any bad input raises; the message says what is wrong and where."""


# --------------------------------------------------------------------------------------------- Sequence


@dataclass(frozen=True, eq=False)
class Sequence:
    """A (T, I) float64 input sequence with one label per step; the array is read-only."""

    values: np.ndarray  # float64, shape (T, I), finite, |v| ≤ MAX_ABS_VALUE
    labels: tuple[str, ...]  # one short label per step
    alphabet: tuple[str, ...] | None = None  # for text: the symbols, index = one-hot position
    source: str = ""  # short description, e.g. "typed numbers", "sine (period 20)"
    tokens: bool = False  # the labels are the tokens a model's embedding read (its rows are the values)

    def __post_init__(self) -> None:
        # Checked here so that every Sequence, however made, can be plotted, formatted and parsed back.
        try:
            values = np.array(self.values, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise SequenceError(f"values are not an array of numbers: {exc}") from None
        if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] < 1:
            raise SequenceError(f"values must have shape (T, I) with T, I ≥ 1, got {values.shape}")
        _check_caps(values.shape[0], values.shape[1])
        if not np.isfinite(values).all():
            raise SequenceError("values must be finite (no NaN or infinity)")
        if np.abs(values).max() > MAX_ABS_VALUE:
            raise SequenceError(f"values must lie within ±{MAX_ABS_VALUE:g}")
        values.setflags(write=False)  # frozen means frozen: nobody edits a shared sequence in place
        labels = tuple(str(label) for label in self.labels)
        if len(labels) != values.shape[0]:
            raise SequenceError(f"{len(labels)} labels for {values.shape[0]} steps")
        alphabet = None if self.alphabet is None else tuple(self.alphabet)
        if alphabet is not None and len(alphabet) != values.shape[1]:
            raise SequenceError(f"an alphabet of {len(alphabet)} symbols for {values.shape[1]} values per step")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "alphabet", alphabet)

    @property
    def steps(self) -> int:
        """T, the number of time steps."""
        return int(self.values.shape[0])

    @property
    def width(self) -> int:
        """I, the number of values per step."""
        return int(self.values.shape[1])

    # The generated __eq__ would compare arrays with == and fail on truth value, so spell it out.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return (
            np.array_equal(self.values, other.values)
            and self.labels == other.labels
            and self.alphabet == other.alphabet
            and self.source == other.source
            and self.tokens == other.tokens
        )

    def __hash__(self) -> int:
        return hash((self.values.shape, self.values.tobytes(), self.labels, self.alphabet, self.source, self.tokens))


def _check_caps(steps: int, width: int) -> None:
    """Refuse a sequence longer than MAX_STEPS or wider than MAX_WIDTH."""
    if steps > MAX_STEPS:
        raise SequenceError(f"too many steps: {steps} (at most MAX_STEPS = {MAX_STEPS})")
    if width > MAX_WIDTH:
        raise SequenceError(f"too many values per step: {width} (at most MAX_WIDTH = {MAX_WIDTH})")


def short_number(value: float, scale: float = 1.0) -> str:
    """A step label for a number, rounded for people: three significant digits in positional notation, and 0 for
    float64 round-off (|value| below 10⁻⁹ of ``scale``, the sequence's largest |value|: sin(π·10) is 1.2e-16)."""
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if abs(value) <= 1e-9 * max(abs(float(scale)), 1e-300) or value == 0:
        return "0"
    if 1e3 <= abs(value) < 1e6:
        return f"{value:.0f}"
    if 1e-6 <= abs(value) < 1e3:
        return np.format_float_positional(value, precision=3, unique=True, fractional=False, trim="-")
    return f"{value:.2g}"


def _time_labels(steps: int) -> tuple[str, ...]:
    """Labels t0, t1, … for steps that have no natural short name."""
    return tuple(f"t{t}" for t in range(steps))


def _labels_for(values: np.ndarray) -> tuple[str, ...]:
    """The value itself for scalar steps, t0, t1, … otherwise."""
    if values.shape[1] == 1:
        scale = float(np.abs(values).max(initial=0.0))
        return tuple(short_number(v, scale) for v in values[:, 0])
    return _time_labels(values.shape[0])


def _show(token: str) -> str:
    """A typed token quoted for a message, cut short so a pasted novel doesn't end up in the UI."""
    return repr(token if len(token) <= 24 else token[:20] + "…")


def _check_text(text: object) -> str:
    """Refuse non-strings and inputs longer than MAX_INPUT_CHARS before any parsing."""
    if not isinstance(text, str):
        raise SequenceError(f"input must be text, got {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise SequenceError(f"input is {len(text):,} characters long; at most {MAX_INPUT_CHARS:,} are accepted")
    return text


# --------------------------------------------------------------------------------------------- numbers

_STEP_SEP = re.compile(r"[;\r\n]")
_VALUE_SEP = re.compile(r"[,\s]+")
# ASCII digits only: \d would also take Arabic-Indic or full-width digits, which float() reads silently.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = {"nan", "inf", "infinity"}


def _tokens(chunk: str) -> list[str]:
    """The values of one step, split on commas and whitespace."""
    return [token for token in _VALUE_SEP.split(chunk) if token]


def _split_steps(text: str) -> list[list[str]]:
    """Tokens per step: one step per line or ``;`` if there is any, else one step per number."""
    # Surrounding whitespace doesn't count: a text area's trailing newline must not turn a column into a row.
    if _STEP_SEP.search(text.strip()):
        rows = (_tokens(chunk) for chunk in _STEP_SEP.split(text))
        return [row for row in rows if row]  # blank lines and a trailing ';' are not steps
    return [[token] for token in _tokens(text)]


def _number(token: str, step: int) -> float:
    """One typed token as a float, or a SequenceError naming the token and its step t (counted from 0, as the
    pages count t)."""
    plain = token.replace("\u2212", "-")  # the minus sign that word processors and web pages paste
    if not _NUMBER.fullmatch(plain):
        if plain.lstrip("+-").lower() in _NON_FINITE:
            raise SequenceError(f"step t = {step}: {_show(token)} is not allowed (NaN and infinity are refused)")
        hint = ""
        if "_" in plain:
            hint = " (write digits without underscores)"
        elif plain.lstrip("+-").lower().startswith("0x"):
            hint = " (hexadecimal is not accepted; write decimals)"
        raise SequenceError(f"step t = {step}: {_show(token)} is not a number{hint}")
    value = float(plain)  # cannot fail on a _NUMBER match; a huge exponent gives inf, refused below
    if not abs(value) <= MAX_ABS_VALUE:
        raise SequenceError(f"step t = {step}: {_show(token)} is too large (at most {MAX_ABS_VALUE:g} in size)")
    return value


def _values(n: int) -> str:
    return "1 value" if n == 1 else f"{n} values"


def parse_numbers(text: str) -> Sequence:
    """Parse typed scalars (``0.5, 1, -2``) or vectors (``1 0; 0 1``) into a (T, I) sequence."""
    rows = _split_steps(_check_text(text))
    if not rows:
        raise SequenceError("no numbers found: type scalars like '0.5, 1, -2' or steps like '1 0; 0 1'")
    if len(rows) > MAX_STEPS:
        raise SequenceError(f"too many steps: {len(rows)} (at most MAX_STEPS = {MAX_STEPS})")
    width = len(rows[0])
    if width > MAX_WIDTH:
        raise SequenceError(f"step t = 0 has {width} values; at most MAX_WIDTH = {MAX_WIDTH} values per step")
    for step, row in enumerate(rows):  # steps counted from t = 0, as every page counts them
        if len(row) != width:
            raise SequenceError(f"step t = {step} has {_values(len(row))}, step t = 0 had {width}")
    values = np.array([[_number(token, step) for token in row] for step, row in enumerate(rows)], dtype=np.float64)
    return Sequence(values, _labels_for(values), source="typed numbers")


def format_numbers(seq: Sequence, digits: int | None = None) -> str:
    """Write a sequence as text that parse_numbers reads back: exactly the same values, or (with ``digits``) the
    values rounded to that many significant digits, for a box people read."""
    if digits is None:  # repr(float) is the shortest string that round-trips, and it always matches _NUMBER
        rows = [" ".join(repr(float(v)) for v in row) for row in seq.values]
    else:
        rows = [" ".join(_rounded(v, digits) for v in row) for row in seq.values]
    if seq.width == 1:
        return ", ".join(rows)
    # A lone step needs its ';' or its values would read back as separate scalar steps.
    return "; ".join(rows) + (";" if seq.steps == 1 else "")


def _rounded(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, positional ("0.4173", "12", "0"), as parse_numbers reads it."""
    if value == 0:
        return "0"
    return np.format_float_positional(float(f"{value:.{digits}g}"), trim="-")


# --------------------------------------------------------------------------------------------- text

_SHOWN = {" ": "␣", "\n": "⏎", "\r": "␍", "\t": "⇥"}


def _char_label(char: str) -> str:
    """A visible label for one character: ␣ for space, ⏎ for newline, escapes for other invisibles."""
    if char in _SHOWN:
        return _SHOWN[char]
    return char if char.isprintable() else repr(char)[1:-1]


def _check_alphabet(alphabet: object) -> tuple[str, ...]:
    """A given alphabet as a tuple of distinct characters, within MAX_TEXT_ALPHABET."""
    if not isinstance(alphabet, str):
        raise SequenceError(f"the alphabet must be a string of characters, got {type(alphabet).__name__}")
    if not alphabet:
        raise SequenceError("the alphabet is empty")
    if len(alphabet) > MAX_TEXT_ALPHABET:
        raise SequenceError(
            f"the alphabet has {len(alphabet)} symbols; at most MAX_TEXT_ALPHABET = {MAX_TEXT_ALPHABET}"
        )
    seen: set[str] = set()
    for char in alphabet:
        if char in seen:
            raise SequenceError(f"the alphabet repeats {char!r}")
        seen.add(char)
    return tuple(alphabet)


def parse_text(text: str, alphabet: str | None = None) -> Sequence:
    """One one-hot step per character, over the text's sorted characters or the given alphabet."""
    text = _check_text(text)
    if not text:
        raise SequenceError("no text: type a few characters")
    if len(text) > MAX_STEPS:
        raise SequenceError(f"too many steps: {len(text)} characters (at most MAX_STEPS = {MAX_STEPS})")
    if alphabet is None:
        symbols = tuple(sorted(set(text)))
        if len(symbols) > MAX_TEXT_ALPHABET:
            raise SequenceError(
                f"the text uses {len(symbols)} distinct characters; at most MAX_TEXT_ALPHABET = {MAX_TEXT_ALPHABET}"
            )
    else:
        symbols = _check_alphabet(alphabet)
    index = {char: i for i, char in enumerate(symbols)}
    for step, char in enumerate(text):  # one step per character, counted from t = 0
        if char not in index:
            raise SequenceError(f"character {char!r} at step t = {step} is not in the alphabet")
    values = np.zeros((len(text), len(symbols)))
    values[np.arange(len(text)), [index[char] for char in text]] = 1.0
    labels = tuple(_char_label(char) for char in text)
    return Sequence(values, labels, alphabet=symbols, source="typed text")


def parse_sequence(text: str, mode: str = "numbers", width: int | None = None) -> Sequence:
    """Parse typed input in the given mode ("numbers" or "text"), optionally checking the model's width."""
    if not isinstance(mode, str) or mode not in MODES:
        raise SequenceError(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
    if width is not None:
        width = _whole("width", width, 1, MAX_WIDTH)
    seq = parse_numbers(text) if mode == "numbers" else parse_text(text)
    if width is not None and seq.width != width:
        if mode == "text":
            raise SequenceError(
                f"the model takes {width} values per step, the text has {seq.width} distinct characters"
            )
        # No broadcasting of scalars: a model that reads 3 values per step is not fed 3 copies silently.
        raise SequenceError(
            f"the model takes {width} values per step, step t = 0 has {seq.width} "
            "(separate steps with ';' or new lines, values inside a step with spaces or commas)"
        )
    return seq


# --------------------------------------------------------------------------------------------- arguments


def _real(name: str, value: object) -> float:
    """A finite float from a number or a numeric string (a URL value), else SequenceError."""
    if isinstance(value, str):
        plain = value.strip().replace("\u2212", "-")
        if not _NUMBER.fullmatch(plain):
            raise SequenceError(f"{name} must be a number, got {_show(value)}")
        value = float(plain)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SequenceError(f"{name} must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        raise SequenceError(f"{name} is out of range") from None
    if not math.isfinite(number):
        raise SequenceError(f"{name} must be finite, got {number}")
    return number


def _in_range(name: str, value: float, low: float, high: float) -> None:
    """Refuse a value outside [low, high], naming the range."""
    if not low <= value <= high:
        raise SequenceError(f"{name} must be between {low:g} and {high:g}, got {value:g}")


def _show_int(number: int) -> str:
    """An int for a message; str() of one beyond 4300 digits raises, and nobody reads 40 digits anyway."""
    return str(number) if abs(number) < 10**15 else "a huge number"


def _whole(name: str, value: object, low: int, high: int) -> int:
    """A whole number within [low, high]; integral floats and numeric strings are accepted."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)  # exact even for huge ints, which float() would overflow on
        if not low <= number <= high:
            raise SequenceError(f"{name} must be between {low} and {high}, got {_show_int(number)}")
        return number
    real = _real(name, value)
    if not real.is_integer():
        raise SequenceError(f"{name} must be a whole number, got {real:g}")
    _in_range(name, real, low, high)
    return int(real)


# --------------------------------------------------------------------------------------------- generators


@dataclass(frozen=True)
class Param:
    """One generator parameter: its name, help text, valid range and default."""

    name: str
    help: str
    low: float
    high: float  # the widest bound; some parameters are also bounded by steps, see Generator.limits
    default: float | None  # None: worked out from steps, see Generator.limits
    integer: bool = False
    # (steps) -> (high, default), for the parameters whose bound or default depends on the length.
    per_steps: Callable[[int], tuple[float, float]] | None = field(default=None, repr=False, compare=False)

    def limits(self, steps: int) -> tuple[float, float, float]:
        """(low, high, default) for a sequence of that many steps."""
        if self.per_steps is None:
            assert self.default is not None  # every fixed-default parameter has one
            return self.low, self.high, self.default
        high, default = self.per_steps(steps)
        return self.low, min(self.high, high), default


@dataclass(frozen=True)
class Generator:
    """A named way to make a sequence: what a page needs to build widgets, and what a URL names."""

    key: str
    name: str
    description: str
    params: tuple[Param, ...]
    make: Callable[..., Sequence] = field(repr=False, compare=False)
    seeded: bool = False  # whether the seed changes the result
    min_steps: int = 1

    def limits(self, steps: int) -> dict[str, tuple[float, float, float]]:
        """(low, high, default) of each parameter, for a sequence of that many steps."""
        steps = _check_steps(self, steps)
        return {p.name: p.limits(steps) for p in self.params}


def _check_steps(gen: Generator, steps: object) -> int:
    """Steps as an int within [gen.min_steps, MAX_STEPS]."""
    return _whole(f"{gen.key}: steps", steps, gen.min_steps, MAX_STEPS)


def _check_args(key: str, steps: object, seed: object, **params: object) -> tuple[int, int, dict[str, float | int]]:
    """Validate steps, seed and every parameter of a generator against its registry entry."""
    gen = GENERATORS[key]
    steps = _check_steps(gen, steps)
    seed = _whole(f"{key}: seed", seed, 0, MAX_SEED)
    checked: dict[str, float | int] = {}
    for p in gen.params:
        low, high, default = p.limits(steps)
        value = params.get(p.name)
        if value is None:
            value = default
        name = f"{key}: {p.name}"
        if p.integer:
            checked[p.name] = _whole(name, value, int(low), int(high))
        else:
            checked[p.name] = _real(name, value)
            _in_range(name, checked[p.name], low, high)
    return steps, seed, checked


def _scalar(values: np.ndarray, source: str) -> Sequence:
    """A (T, 1) sequence labelled by its values."""
    column = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    return Sequence(column, _labels_for(column), source=source)


def sine(steps: int, period: float = 20.0, amplitude: float = 1.0, phase: float = 0.0, seed: int = 0) -> Sequence:
    """x_t = amplitude · sin(2π t / period + phase), t = 0 … steps − 1; shape (steps, 1)."""
    steps, _, p = _check_args("sine", steps, seed, period=period, amplitude=amplitude, phase=phase)
    t = np.arange(steps)
    values = p["amplitude"] * np.sin(2 * np.pi * t / p["period"] + p["phase"])
    return _scalar(values, f"sine (period {p['period']:g})")


def step_fn(steps: int, at: int | None = None, low: float = 0.0, high: float = 1.0, seed: int = 0) -> Sequence:
    """x_t = low before step ``at`` (default steps // 2), high from it on; shape (steps, 1)."""
    steps, _, p = _check_args("step", steps, seed, at=at, low=low, high=high)
    values = np.where(np.arange(steps) < p["at"], p["low"], p["high"])
    return _scalar(values, f"step at t={p['at']}")


def impulse(steps: int, at: int = 0, height: float = 1.0, seed: int = 0) -> Sequence:
    """x_t = height at step ``at``, 0 elsewhere; shape (steps, 1)."""
    steps, _, p = _check_args("impulse", steps, seed, at=at, height=height)
    values = np.zeros(steps)
    values[p["at"]] = p["height"]
    return _scalar(values, f"impulse at t={p['at']}")


def square(steps: int, period: float = 20.0, amplitude: float = 1.0, seed: int = 0) -> Sequence:
    """x_t = +amplitude in the first half of each period, −amplitude in the second; shape (steps, 1)."""
    steps, _, p = _check_args("square", steps, seed, period=period, amplitude=amplitude)
    t = np.arange(steps)
    values = np.where(t % p["period"] < p["period"] / 2, p["amplitude"], -p["amplitude"])
    return _scalar(values, f"square wave (period {p['period']:g})")


def noise(steps: int, scale: float = 1.0, seed: int = 0) -> Sequence:
    """Gaussian noise, mean 0 and standard deviation ``scale``, from default_rng(seed); shape (steps, 1)."""
    steps, seed, p = _check_args("noise", steps, seed, scale=scale)
    # scale ≤ 1e4 keeps even the rarest draw (well under 40 σ) inside MAX_ABS_VALUE.
    values = np.random.default_rng(seed).normal(0.0, p["scale"], steps)
    return _scalar(values, f"gaussian noise (scale {p['scale']:g}, seed {seed})")


def copy_task(steps: int, n_symbols: int = 4, recall_len: int | None = None, seed: int = 0) -> Sequence:
    """The copy task: remember L symbols over a gap and replay them after a marker; width n_symbols + 2.

    With n = n_symbols, L = recall_len (default min(10, (steps − 1) // 2)) and T = steps, every step is
    one-hot:

    - t = 0 … L − 1: a random symbol, channels 0 … n − 1 (uniform, from default_rng(seed));
    - t = L … T − L − 2: blank, channel n;
    - t = T − L − 1: the recall marker, channel n + 1 — "now replay";
    - t = T − L … T − 1: blank, channel n, while the model should output the L symbols in order.
    """
    steps, seed, p = _check_args("copy", steps, seed, n_symbols=n_symbols, recall_len=recall_len)
    n, length = p["n_symbols"], p["recall_len"]
    symbols = np.random.default_rng(seed).integers(0, n, length)
    channel = np.full(steps, n)  # blank everywhere, then the symbols and the marker on top
    channel[:length] = symbols
    channel[steps - length - 1] = n + 1
    values = np.zeros((steps, n + 2))
    values[np.arange(steps), channel] = 1.0
    return Sequence(values, _time_labels(steps), source=f"copy task ({length} of {n} symbols, seed {seed})")


def adding_problem(steps: int, seed: int = 0) -> Sequence:
    """The adding problem: channel 0 uniform in [0, 1), channel 1 marks two steps whose values to sum.

    One marker falls in the first half (t < steps // 2), the other in the second, as in Hochreiter &
    Schmidhuber (1997); the target is :func:`adding_target`.
    """
    steps, seed, _ = _check_args("adding", steps, seed)
    rng = np.random.default_rng(seed)
    half = steps // 2
    values = np.zeros((steps, 2))
    values[:, 0] = rng.uniform(0.0, 1.0, steps)
    values[[rng.integers(0, half), rng.integers(half, steps)], 1] = 1.0
    return Sequence(values, _time_labels(steps), source=f"adding problem (seed {seed})")


def adding_target(seq: Sequence) -> float:
    """The answer to an adding-problem sequence: the sum of the two marked values."""
    if not isinstance(seq, Sequence) or seq.width != 2:
        raise SequenceError("an adding-problem sequence has 2 values per step (value, marker)")
    markers = seq.values[:, 1]
    marked = np.flatnonzero(markers == 1.0)
    if len(marked) != 2 or np.count_nonzero(markers) != 2:
        raise SequenceError(f"an adding-problem sequence marks exactly 2 steps, this one {len(marked)}")
    return float(seq.values[marked, 0].sum())


def _at_limits(steps: int, default: int) -> tuple[float, float]:
    """A step index is at most steps − 1."""
    return steps - 1, min(default, steps - 1)


def _recall_limits(steps: int) -> tuple[float, float]:
    """The copy task needs 2·L + 1 steps: L symbols, the marker, L recall steps."""
    most = (steps - 1) // 2
    return most, min(10, most)


_AMPLITUDE = (-MAX_ABS_VALUE, MAX_ABS_VALUE)
# Below 2 samples per period a wave aliases (period 1 samples sin(2πt) = 0), so refuse it.
_PERIOD = (2.0, 1e5)

GENERATORS: dict[str, Generator] = {
    g.key: g
    for g in (
        Generator(
            "sine",
            "Sine wave",
            "A smooth periodic signal: amplitude · sin(2π t / period + phase).",
            (
                Param("period", "steps per cycle", *_PERIOD, 20.0),
                Param("amplitude", "peak value", *_AMPLITUDE, 1.0),
                Param("phase", "phase at t = 0, in radians", -1000.0, 1000.0, 0.0),
            ),
            sine,
        ),
        Generator(
            "step",
            "Step",
            "Jumps from one level to another at a chosen step and stays there.",
            (
                Param(
                    "at",
                    "first step at the high level",
                    0,
                    MAX_STEPS - 1,
                    None,
                    integer=True,
                    per_steps=lambda steps: _at_limits(steps, steps // 2),
                ),
                Param("low", "level before the jump", *_AMPLITUDE, 0.0),
                Param("high", "level from the jump on", *_AMPLITUDE, 1.0),
            ),
            step_fn,
        ),
        Generator(
            "impulse",
            "Impulse",
            "A single nonzero step: how long does the cell remember one kick?",
            (
                Param(
                    "at",
                    "the step that is nonzero",
                    0,
                    MAX_STEPS - 1,
                    None,
                    integer=True,
                    per_steps=lambda steps: _at_limits(steps, 0),
                ),
                Param("height", "value at that step", *_AMPLITUDE, 1.0),
            ),
            impulse,
        ),
        Generator(
            "square",
            "Square wave",
            "Alternates between +amplitude and −amplitude every half period.",
            (
                Param("period", "steps per cycle", *_PERIOD, 20.0),
                Param("amplitude", "level of the high half", *_AMPLITUDE, 1.0),
            ),
            square,
        ),
        Generator(
            "noise",
            "Gaussian noise",
            "Independent normal draws with mean 0: no structure to remember.",
            (Param("scale", "standard deviation", 0.0, 1e4, 1.0),),
            noise,
            seeded=True,
        ),
        Generator(
            "copy",
            "Copy task",
            "Random symbols, a blank gap, then a marker asking the cell to replay the symbols.",
            (
                Param("n_symbols", "number of distinct symbols", 1, MAX_WIDTH - 2, 4, integer=True),
                Param(
                    "recall_len",
                    "symbols to remember",
                    1,
                    (MAX_STEPS - 1) // 2,
                    None,
                    integer=True,
                    per_steps=_recall_limits,
                ),
            ),
            copy_task,
            seeded=True,
            min_steps=3,
        ),
        Generator(
            "adding",
            "Adding problem",
            "Random values with two marked steps; the answer is the sum of the two marked values.",
            (),
            adding_problem,
            seeded=True,
            min_steps=2,
        ),
    )
}


def generate(key: str, steps: int, seed: int = 0, **params: object) -> Sequence:
    """Make a sequence with the generator named ``key``; values may be numbers or numeric strings."""
    if not isinstance(key, str) or key not in GENERATORS:
        raise SequenceError(f"unknown generator {key!r}; valid generators: {', '.join(GENERATORS)}")
    gen = GENERATORS[key]
    valid = [p.name for p in gen.params]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        listed = ", ".join(valid) if valid else "none besides steps and seed"
        raise SequenceError(f"{key}: unknown parameter {', '.join(unknown)}; valid parameters: {listed}")
    return gen.make(steps, seed=seed, **params)
