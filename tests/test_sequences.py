"""Tests for gru_viz.core.sequences: typed input, generators, the registry, and the only-SequenceError rule."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gru_viz.core import sequences
from gru_viz.core.sequences import (
    GENERATORS,
    MAX_ABS_VALUE,
    MAX_INPUT_CHARS,
    MAX_STEPS,
    MAX_TEXT_ALPHABET,
    MAX_WIDTH,
    Sequence,
    SequenceError,
    adding_problem,
    adding_target,
    copy_task,
    format_numbers,
    generate,
    impulse,
    noise,
    parse_numbers,
    parse_sequence,
    parse_text,
    sine,
    square,
    step_fn,
)

# A numpy warning escaping is as much a bug as an exception other than SequenceError.
pytestmark = pytest.mark.filterwarnings("error")


def assert_valid(seq: Sequence) -> None:
    """Every invariant a page relies on."""
    assert isinstance(seq, Sequence)
    assert seq.values.dtype == np.float64
    assert seq.values.ndim == 2
    assert 1 <= seq.steps <= MAX_STEPS
    assert 1 <= seq.width <= MAX_WIDTH
    assert np.isfinite(seq.values).all()
    assert np.abs(seq.values).max() <= MAX_ABS_VALUE
    assert len(seq.labels) == seq.steps
    assert all(isinstance(label, str) and label for label in seq.labels)
    assert seq.alphabet is None or len(seq.alphabet) == seq.width


# --------------------------------------------------------------------------------------------- module


def test_caps_are_the_documented_values() -> None:
    assert (MAX_STEPS, MAX_WIDTH, MAX_TEXT_ALPHABET) == (5000, 512, 64)
    doc = sequences.__doc__ or ""
    for name in ("MAX_STEPS", "MAX_WIDTH", "MAX_TEXT_ALPHABET", "MAX_ABS_VALUE", "MAX_INPUT_CHARS"):
        assert name in doc


def test_imports_only_numpy_and_the_standard_library() -> None:
    tree = ast.parse(Path(sequences.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots <= {"__future__", "math", "numbers", "re", "collections", "dataclasses", "numpy"}


# --------------------------------------------------------------------------------------------- numbers


def test_scalars() -> None:
    seq = parse_numbers("0.5, 1, -2")
    assert seq.values.tolist() == [[0.5], [1.0], [-2.0]]
    assert seq.labels == ("0.5", "1", "-2")
    assert seq.source == "typed numbers"
    assert (seq.steps, seq.width) == (3, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5 1 -2", [0.5, 1.0, -2.0]),
        ("1e-3,+4E2 .5 3.", [0.001, 400.0, 0.5, 3.0]),
        ("  1,,, 2 ,\t3  \n", [1.0, 2.0, 3.0]),  # runs of separators count as one; so does a trailing newline
        ("1\n2\r\n3", [1.0, 2.0, 3.0]),  # one number per line is a column too
        ("\u22123", [-3.0]),  # the unicode minus sign
        ("-0", [0.0]),
        ("1e6, -1e6", [1e6, -1e6]),  # the cap itself is allowed
        ("1e-99999", [0.0]),
    ],
)
def test_scalar_spellings(text: str, expected: list[float]) -> None:
    assert parse_numbers(text).values[:, 0].tolist() == expected


def test_vectors() -> None:
    assert parse_numbers("1 2 3\n").values.shape == (3, 1)  # a trailing newline alone makes no rows
    seq = parse_numbers("1 0; 0 1; 0.5 0.5")
    np.testing.assert_array_equal(seq.values, [[1, 0], [0, 1], [0.5, 0.5]])
    assert seq.labels == ("t0", "t1", "t2")
    assert parse_numbers("1, 0\n0, 1\n").values.shape == (2, 2)
    assert parse_numbers("1 2;\n\n3 4;;").values.tolist() == [[1, 2], [3, 4]]  # empty steps skipped
    assert parse_numbers("1 0 0;").values.shape == (1, 3)  # a ';' makes one step of three values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 2 3; 4 5 6; 7 8", "step t = 2 has 2 values, step t = 0 had 3"),
        ("1 2; 3", "step t = 1 has 1 value, step t = 0 had 2"),
        ("", "no numbers found"),
        ("   ", "no numbers found"),
        (" ;\n,, ;", "no numbers found"),
        ("1; abc", "step t = 1: 'abc' is not a number"),
        ("1, 2, x", "step t = 2: 'x' is not a number"),
        ("nan", "step t = 0: 'nan' is not allowed.*NaN and infinity"),
        ("1 2; 3 -inf", "step t = 1: '-inf' is not allowed"),
        ("Infinity", "step t = 0: 'Infinity' is not allowed"),
        ("1, 1e999", "step t = 1: '1e999' is too large"),
        ("2e6", "step t = 0: '2e6' is too large"),
        ("-1000000.5", "step t = 0: '-1000000.5' is too large"),
        ("--1", "step t = 0: '--1' is not a number"),
        ("0x10", r"step t = 0: '0x10' is not a number \(hexadecimal"),
        ("1_000", r"step t = 0: '1_000' is not a number \(write digits without underscores"),
        ("\u0661", "step t = 0: '\u0661' is not a number"),  # Arabic-Indic one: float() would take it
        ("1e", "step t = 0: '1e' is not a number"),
        (".", "step t = 0: '.' is not a number"),
        ("1" * 30 + "x", r"step t = 0: '1{20}…' is not a number"),  # long tokens are cut short
    ],
)
def test_number_errors(text: str, message: str) -> None:
    with pytest.raises(SequenceError, match=message):
        parse_numbers(text)


def test_number_caps() -> None:
    assert parse_numbers("1 " * MAX_STEPS).steps == MAX_STEPS
    with pytest.raises(SequenceError, match=f"too many steps: {MAX_STEPS + 1} .*MAX_STEPS = {MAX_STEPS}"):
        parse_numbers("1 " * (MAX_STEPS + 1))
    with pytest.raises(SequenceError, match="too many steps"):
        parse_numbers("1;" * (MAX_STEPS + 1))
    assert parse_numbers("1 " * MAX_WIDTH + ";").width == MAX_WIDTH
    with pytest.raises(SequenceError, match=f"step t = 0 has {MAX_WIDTH + 1} values.*MAX_WIDTH = {MAX_WIDTH}"):
        parse_numbers("1 " * (MAX_WIDTH + 1) + ";")


@pytest.mark.parametrize("text", ["1" * (MAX_INPUT_CHARS + 1), " " * (MAX_INPUT_CHARS + 1)])
def test_overlong_input_refused_before_parsing(text: str) -> None:
    for mode in ("numbers", "text"):
        with pytest.raises(SequenceError, match="at most 200,000 are accepted"):
            parse_sequence(text, mode)


@pytest.mark.parametrize(
    "text",
    ["1" * (MAX_INPUT_CHARS - 1), "1e" + "9" * 100_000, ";" * MAX_INPUT_CHARS, "x" * MAX_INPUT_CHARS],
)
def test_large_inputs_fail_cleanly(text: str) -> None:
    with pytest.raises(SequenceError):
        parse_numbers(text)


def test_long_but_valid_number() -> None:
    assert parse_numbers("0." + "0" * 100_000 + "1").values.tolist() == [[0.0]]


def test_not_a_string() -> None:
    with pytest.raises(SequenceError, match="input must be text, got int"):
        parse_numbers(3)  # type: ignore[arg-type]
    with pytest.raises(SequenceError, match="input must be text, got NoneType"):
        parse_text(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- format


def test_format_numbers_examples() -> None:
    assert format_numbers(parse_numbers("0.5, 1, 1e-7")) == "0.5, 1.0, 1e-07"
    assert format_numbers(parse_numbers("1 0; 0 1")) == "1.0 0.0; 0.0 1.0"
    assert format_numbers(parse_numbers("1 0;")) == "1.0 0.0;"  # a lone vector step keeps its ';'


finite = st.floats(-MAX_ABS_VALUE, MAX_ABS_VALUE, allow_nan=False, allow_infinity=False, allow_subnormal=True)


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.sampled_from([1, 1, 2, 3, 8, MAX_WIDTH])),
        elements=finite,
    )
)
def test_format_parse_round_trip(values: np.ndarray) -> None:
    seq = Sequence(values, tuple(f"t{t}" for t in range(len(values))))
    text = format_numbers(seq)
    if len(text) > MAX_INPUT_CHARS:  # 512 values a step: a long run's text may pass the typed-input cap
        with pytest.raises(SequenceError, match=f"at most {MAX_INPUT_CHARS:,} are accepted"):
            parse_numbers(text)
        return
    back = parse_numbers(text)
    assert back.values.shape == values.shape
    assert back.values.tobytes() == values.tobytes()  # bit-exact, including the sign of zero


# --------------------------------------------------------------------------------------------- text


def test_text_one_hot() -> None:
    seq = parse_text("abca")
    assert seq.alphabet == ("a", "b", "c")
    np.testing.assert_array_equal(seq.values, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert seq.labels == ("a", "b", "c", "a")
    assert seq.source == "typed text"


def test_text_labels_show_invisible_characters() -> None:
    seq = parse_text("a b\n\x00")
    assert seq.labels == ("a", "␣", "b", "⏎", "\\x00")
    assert seq.alphabet == ("\x00", "\n", " ", "a", "b")  # sorted


def test_text_with_given_alphabet() -> None:
    seq = parse_text("ba", alphabet="abc")
    assert seq.alphabet == ("a", "b", "c")
    np.testing.assert_array_equal(seq.values, [[0, 1, 0], [1, 0, 0]])
    assert parse_text("ba", alphabet="ba").values.tolist() == [[1, 0], [0, 1]]  # given order is kept


@pytest.mark.parametrize(
    ("text", "alphabet", "message"),
    [
        ("abcx", "abc", "character 'x' at step t = 3 is not in the alphabet"),
        ("a", "", "the alphabet is empty"),
        ("a", "aba", "the alphabet repeats 'a'"),
        ("a", "".join(chr(0x100 + i) for i in range(65)), "alphabet has 65 symbols.*MAX_TEXT_ALPHABET = 64"),
        ("", None, "no text"),
        ("".join(chr(0x100 + i) for i in range(65)), None, "65 distinct characters.*MAX_TEXT_ALPHABET = 64"),
        ("a" * (MAX_STEPS + 1), None, f"too many steps: {MAX_STEPS + 1} characters"),
    ],
)
def test_text_errors(text: str, alphabet: str | None, message: str) -> None:
    with pytest.raises(SequenceError, match=message):
        parse_text(text, alphabet)


def test_text_caps_reached_exactly() -> None:
    assert parse_text("a" * MAX_STEPS).steps == MAX_STEPS
    assert parse_text("".join(chr(0x100 + i) for i in range(MAX_TEXT_ALPHABET))).width == MAX_TEXT_ALPHABET


# --------------------------------------------------------------------------------------------- dispatch


def test_parse_sequence_dispatch() -> None:
    assert parse_sequence("1, 2").values.shape == (2, 1)
    assert parse_sequence("1 2; 3 4", width=2).width == 2
    assert parse_sequence("ab", "text").alphabet == ("a", "b")
    assert parse_sequence("aba", "text", width=2).width == 2


@pytest.mark.parametrize(
    ("text", "mode", "width", "message"),
    [
        ("1 2; 3 4", "numbers", 3, "the model takes 3 values per step, step t = 0 has 2"),
        ("0.5, 1, -2", "numbers", 3, "the model takes 3 values per step, step t = 0 has 1"),  # no broadcast
        ("abc", "text", 2, "the model takes 2 values per step, the text has 3 distinct characters"),
        ("1", "words", None, "unknown mode 'words'; valid modes: numbers, text"),
        ("1", "numbers", 0, "width must be between 1 and 512, got 0"),
        ("1", "numbers", 513, "width must be between 1 and 512, got 513"),
    ],
)
def test_parse_sequence_errors(text: str, mode: str, width: int | None, message: str) -> None:
    with pytest.raises(SequenceError, match=message):
        parse_sequence(text, mode, width)


# --------------------------------------------------------------------------------------------- Sequence


def test_sequence_is_checked_and_read_only() -> None:
    seq = Sequence(np.array([[1.0], [2.0]]), ("a", "b"))
    with pytest.raises(ValueError, match="read-only"):
        seq.values[0, 0] = 5.0
    assert seq == Sequence(np.array([[1.0], [2.0]]), ("a", "b"))
    assert seq != Sequence(np.array([[1.0], [3.0]]), ("a", "b"))
    assert hash(seq) == hash(Sequence([[1.0], [2.0]], ["a", "b"]))
    with pytest.raises(SequenceError, match="finite"):
        Sequence(np.array([[np.nan]]), ("a",))
    with pytest.raises(SequenceError, match="1 labels for 2 steps"):
        Sequence(np.zeros((2, 1)), ("a",))
    with pytest.raises(SequenceError, match="shape"):
        Sequence(np.zeros(3), ("a", "b", "c"))
    with pytest.raises(SequenceError, match="too many values per step"):
        Sequence(np.zeros((1, MAX_WIDTH + 1)), ("a",))


# --------------------------------------------------------------------------------------------- generators


def test_sine_values() -> None:
    seq = sine(21, period=20)
    assert seq.values.shape == (21, 1)
    assert seq.values[0, 0] == 0.0
    assert seq.values[5, 0] == pytest.approx(1.0)  # t = period / 4
    assert seq.values[10, 0] == pytest.approx(0.0, abs=1e-12)
    assert seq.values[15, 0] == pytest.approx(-1.0)
    assert seq.source == "sine (period 20)"
    assert seq.labels[5] == "1"
    shifted = sine(4, period=8, amplitude=2.0, phase=math.pi / 2)
    assert shifted.values[0, 0] == pytest.approx(2.0)
    assert shifted.values[2, 0] == pytest.approx(0.0, abs=1e-12)


def test_step_impulse_square_values() -> None:
    assert step_fn(6, at=2, low=-1, high=3).values[:, 0].tolist() == [-1, -1, 3, 3, 3, 3]
    assert step_fn(6).values[:, 0].tolist() == [0, 0, 0, 1, 1, 1]  # at defaults to steps // 2
    assert impulse(5, at=3, height=2.5).values[:, 0].tolist() == [0, 0, 0, 2.5, 0]
    assert impulse(3).values[:, 0].tolist() == [1, 0, 0]
    assert square(8, period=4, amplitude=2).values[:, 0].tolist() == [2, 2, -2, -2, 2, 2, -2, -2]
    assert square(4, period=2).values[:, 0].tolist() == [1, -1, 1, -1]


def test_noise_is_seeded() -> None:
    seq = noise(100, scale=2.0, seed=7)
    np.testing.assert_array_equal(seq.values[:, 0], np.random.default_rng(7).normal(0.0, 2.0, 100))
    assert noise(100, scale=2.0, seed=7) == seq
    assert not np.array_equal(noise(100, scale=2.0, seed=8).values, seq.values)
    assert noise(5, scale=0.0).values.tolist() == [[0.0]] * 5


def test_copy_task_layout() -> None:
    n, length, steps = 3, 3, 12
    seq = copy_task(steps, n_symbols=n, recall_len=length, seed=1)
    assert seq.values.shape == (steps, n + 2)
    assert (seq.values.sum(axis=1) == 1).all()  # one-hot at every step
    channel = seq.values.argmax(axis=1)
    assert (channel[:length] < n).all()  # the symbols
    assert (channel[length : steps - length - 1] == n).all()  # the gap
    assert channel[steps - length - 1] == n + 1  # the recall marker, once
    assert (channel[steps - length :] == n).all()  # blanks while recalling
    np.testing.assert_array_equal(channel[:length], np.random.default_rng(1).integers(0, n, length))
    assert copy_task(steps, n_symbols=n, recall_len=length, seed=1) == seq
    assert copy_task(3, n_symbols=1).values.argmax(axis=1).tolist() == [0, 2, 1]  # smallest possible
    assert copy_task(50).values.argmax(axis=1)[39] == 5  # default recall_len 10, marker at T − L − 1


def test_adding_problem() -> None:
    for seed in range(20):
        seq = adding_problem(9, seed=seed)
        assert seq.values.shape == (9, 2)
        marked = np.flatnonzero(seq.values[:, 1])
        assert len(marked) == 2 and marked[0] < 9 // 2 <= marked[1]
        assert set(seq.values[:, 1]) <= {0.0, 1.0}
        assert ((seq.values[:, 0] >= 0) & (seq.values[:, 0] < 1)).all()
        assert adding_target(seq) == seq.values[marked[0], 0] + seq.values[marked[1], 0]
    assert adding_problem(9, seed=4) == adding_problem(9, seed=4)
    assert adding_problem(2).values[:, 1].tolist() == [1.0, 1.0]
    hand = Sequence(np.array([[0.25, 0], [0.5, 1], [0.75, 0], [0.125, 1]]), ("t0", "t1", "t2", "t3"))
    assert adding_target(hand) == 0.625


def test_adding_target_errors() -> None:
    with pytest.raises(SequenceError, match="2 values per step"):
        adding_target(sine(5))
    three = Sequence(np.array([[0.1, 1], [0.2, 1], [0.3, 1]]), ("a", "b", "c"))
    with pytest.raises(SequenceError, match="exactly 2 steps, this one 3"):
        adding_target(three)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sine(0), "sine: steps must be between 1 and 5000, got 0"),
        (lambda: sine(MAX_STEPS + 1), "steps must be between 1 and 5000, got 5001"),
        (lambda: sine(10**5000), "got a huge number"),
        (lambda: sine(2.5), "steps must be a whole number"),
        (lambda: sine(True), "steps must be a number, got bool"),
        (lambda: sine(10, period=0), "sine: period must be between 2 and 100000, got 0"),
        (lambda: sine(10, period=-3), "period must be between"),
        (lambda: sine(10, period=float("nan")), "period must be finite"),
        (lambda: sine(10, amplitude=1e7), "amplitude must be between -1e\\+06 and 1e\\+06"),
        (lambda: square(10, period=1), "square: period must be between 2"),
        (lambda: step_fn(10, at=10), "step: at must be between 0 and 9, got 10"),
        (lambda: impulse(10, at=-1), "impulse: at must be between 0 and 9, got -1"),
        (lambda: impulse(10, at=1.5), "at must be a whole number"),
        (lambda: noise(10, scale=-1), "noise: scale must be between 0 and 10000"),
        (lambda: noise(10, seed=-1), "noise: seed must be between 0"),
        (lambda: copy_task(2), "copy: steps must be between 3 and 5000"),
        (lambda: copy_task(10, recall_len=5), "copy: recall_len must be between 1 and 4, got 5"),
        (lambda: copy_task(10, n_symbols=511), "copy: n_symbols must be between 1 and 510"),
        (lambda: adding_problem(1), "adding: steps must be between 2 and 5000"),
    ],
)
def test_generator_argument_errors(call, message: str) -> None:
    with pytest.raises(SequenceError, match=message):
        call()


# --------------------------------------------------------------------------------------------- registry


def test_registry_describes_every_generator() -> None:
    assert set(GENERATORS) == {"sine", "step", "impulse", "square", "noise", "copy", "adding"}
    for key, gen in GENERATORS.items():
        assert gen.key == key and gen.name and gen.description
        for steps in (gen.min_steps, 50, MAX_STEPS):
            for name, (low, high, default) in gen.limits(steps).items():
                assert low <= default <= high, (key, name, steps)
            assert_valid(generate(key, steps))
    assert [p.name for p in GENERATORS["sine"].params] == ["period", "amplitude", "phase"]
    assert GENERATORS["noise"].seeded and not GENERATORS["sine"].seeded


def test_generate() -> None:
    assert generate("sine", 21, period=20) == sine(21, period=20)
    assert generate("copy", 12, seed=3, n_symbols=3) == copy_task(12, n_symbols=3, seed=3)
    assert generate("sine", 21, period="20") == sine(21, period=20)  # numeric strings, as from a URL
    assert generate("impulse", "5", at="2.0").values[:, 0].tolist() == [0, 0, 1, 0, 0]


@pytest.mark.parametrize(
    ("key", "params", "message"),
    [
        ("cosine", {}, "unknown generator 'cosine'; valid generators: sine, step, impulse, square"),
        ("sine", {"freq": 2}, "sine: unknown parameter freq; valid parameters: period, amplitude, phase"),
        ("adding", {"x": 1}, "valid parameters: none besides steps and seed"),
        ("sine", {"period": 1}, "sine: period must be between 2 and 100000, got 1"),
        ("sine", {"period": "nan"}, "period must be a number, got 'nan'"),
        ("sine", {"period": "1_0"}, "period must be a number"),
        ("sine", {"period": [1]}, "period must be a number, got list"),
        ("step", {"at": 50}, "step: at must be between 0 and 9, got 50"),
    ],
)
def test_generate_errors(key: str, params: dict, message: str) -> None:
    with pytest.raises(SequenceError, match=message):
        generate(key, 10, **params)


@st.composite
def generator_calls(draw: st.DrawFn) -> tuple[str, int, int, dict[str, float]]:
    """A generator key, a length and seed, and parameters anywhere within their ranges."""
    key = draw(st.sampled_from(sorted(GENERATORS)))
    gen = GENERATORS[key]
    steps = draw(st.integers(gen.min_steps, 300))
    params: dict[str, float] = {}
    for p in gen.params:
        low, high, _ = p.limits(steps)
        if p.integer:
            params[p.name] = draw(st.integers(int(low), int(high)))
        else:
            params[p.name] = draw(st.floats(low, high, allow_nan=False))
    return key, steps, draw(st.integers(0, 2**63 - 1)), params


@settings(max_examples=150, deadline=None)
@given(generator_calls())
def test_generators_stay_valid_over_their_ranges(call: tuple[str, int, int, dict[str, float]]) -> None:
    key, steps, seed, params = call
    seq = generate(key, steps, seed, **params)
    assert_valid(seq)
    assert seq.steps == steps
    assert generate(key, steps, seed, **params) == seq  # deterministic given the seed


# --------------------------------------------------------------------------------------------- fuzz

_PIECES = [
    *"0123456789",
    *".,; \n\t\r-+eE",
    "nan",
    "inf",
    "-inf",
    "infinity",
    "1e999",
    "1e-999",
    "--1",
    "0x10",
    "1_000",
    "\u2212",
    "\u0661",
    "\uff11",
    "\u00a0",
    "\u2028",
    "\x00",
    "9" * 400,
    "1e6",
    "1000001",
    "é",
    "🙂",
]
typed = st.one_of(
    st.text(),
    st.lists(st.sampled_from(_PIECES), max_size=60).map("".join),
    # Long regular inputs, to reach the step and width caps.
    st.tuples(st.sampled_from(["1 ", "1;", "1 2;", "a", "1, "]), st.integers(0, 6000)).map(lambda p: p[0] * p[1]),
)


@settings(max_examples=500, deadline=None)
@given(typed, st.sampled_from(["numbers", "text"]), st.one_of(st.none(), st.integers(1, MAX_WIDTH)))
def test_any_typed_input_gives_a_sequence_or_a_sequence_error(text: str, mode: str, width: int | None) -> None:
    try:
        seq = parse_sequence(text, mode, width)
    except SequenceError as exc:
        assert str(exc)  # every refusal says something
        return
    assert_valid(seq)
    if width is not None:
        assert seq.width == width
    if mode == "numbers":
        assert parse_numbers(format_numbers(seq)).values.tobytes() == seq.values.tobytes()


def test_messages_count_steps_from_t_0_as_the_pages_do() -> None:
    """The issue's example, and every position: the step a message names is the t the pages show for it (the
    labels t0, t1, …, the cursor t = 0 … T − 1)."""
    with pytest.raises(SequenceError, match=r"^step t = 1 has 3 values, step t = 0 had 2$"):
        parse_numbers("1 0; 0 1 2")
    for bad in range(4):
        rows = ["1 0"] * 4
        rows[bad] = "1 x"
        with pytest.raises(SequenceError, match=rf"^step t = {bad}: 'x' is not a number"):
            parse_numbers("; ".join(rows))
        assert parse_numbers("; ".join(["1 0"] * 4)).labels[bad] == f"t{bad}"
        text = "abca"[:bad] + "z" + "abca"[bad + 1 :]
        with pytest.raises(SequenceError, match=rf"character 'z' at step t = {bad} "):
            parse_text(text, "abc")
