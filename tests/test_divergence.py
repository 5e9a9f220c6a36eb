"""Two runs that compute the same thing: where they part (gru_viz.core.divergence) and the words for it
(gru_viz.explain.divergence), each sentence checked against the gaps it describes.

The z-flipped partner of a GRU computes the same states; on a contracting run they agree to round-off
throughout, on a chaotic one (scale 5, H = 64) the round-off is amplified. How far it grows over the run depends
on the machine (its round-off at each step decides where the rise starts: one machine's chaotic run reached
3e-9, another's 4.4e-10), so no test here puts a bar on it: the words are checked against the numbers of this
machine, and "chaotic" against the run's largest Lyapunov exponent, which is a property of the dynamics.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from apptest_support import open_page
from streamlit.testing.v1 import AppTest

from gru_viz.app.compare import build_lineup, compare_config
from gru_viz.core import compare, divergence, paths
from gru_viz.core.model import Model
from gru_viz.core.params import init_params
from gru_viz.core.spec import Spec
from gru_viz.core.trace import Ablation
from gru_viz.explain.divergence import HEAD_STEPS, norm_words, parting_words
from gru_viz.serve import state

ROOT = Path(__file__).resolve().parents[1]
CHAOTIC = {"scale": "5", "steps": "600", "hidden": "64"}  # λ ≈ +0.029 per step
CALM = {"steps": "600", "hidden": "8"}  # λ ≈ −0.31 per step


def gru_of(query: dict[str, str]) -> tuple[Model, np.ndarray]:
    lineup = build_lineup(compare_config(state.from_query(query)[0]), ("gru",), timing=False)
    return lineup.models["gru"], lineup.seq.values


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"\*\*(-?[0-9.]+e[+-]?[0-9]+|0)\*\*", text)]


def check_exponent_words(p: divergence.Parting, text: str) -> None:
    """"chaotic" exactly when the exponent the sentence prints is positive, and the printed number is the run's."""
    if p.chaotic is None:
        assert "chaotic" not in text and "λ" not in text
        return
    if p.exponent == -np.inf:
        assert "**not chaotic**" in text and "λ = −∞" in text
        return
    printed = re.search(r"\*\*λ = (\S+)\*\* per step", text).group(1)
    assert printed == f"{p.exponent:.2g}"
    assert ("**chaotic**" in text) == (float(printed) > 0) == p.chaotic
    assert ("**not chaotic**" in text) == (float(printed) <= 0)
    if p.exponent != 0:
        every = float(re.search(r"(grows|shrinks) tenfold every ([0-9.,]+) steps", text).group(2).replace(",", ""))
        assert every == pytest.approx(np.log(10) / abs(p.exponent), rel=0.01, abs=0.05)
        assert ("grows tenfold" in text) == (p.exponent > 0)
    assert ("Any two float64 computations of it part" in text) == (p.chaotic and p.amplified)


def check_words(p: divergence.Parting, text: str) -> None:
    """Every number in the sentence is the gap it names; whether it says "chaotic" follows the exponent alone."""
    if not p.from_start:
        check_exponent_words(p, text)
    if p.parts_at is None:
        assert "over the whole run" in text and "round-off" in text
        assert numbers(text) == [pytest.approx(p.largest, rel=0.05, abs=1e-300)]
        assert p.largest <= p.tolerance
        return
    if p.from_start:
        assert "first step already" in text and "different" in text  # two computations: no word on the run
        assert "chaotic" not in text and "λ" not in text
        assert numbers(text)[0] == pytest.approx(p.gap[0], rel=0.05)
        return
    first, largest = numbers(text)
    n = min(HEAD_STEPS, p.parts_at)
    assert f"first {n} steps" in text or (n == 1 and "first step" in text)
    assert first == pytest.approx(p.gap[:n].max(), rel=0.05) and first <= p.tolerance  # round-off where it says
    assert largest == pytest.approx(p.largest, rel=0.05)
    k = int(re.search(r"passes \S+ at t = (\d+)", text).group(1))
    assert (p.gap[:k] <= p.tolerance).all() and p.gap[k] > p.tolerance  # the step it grows past round-off
    assert ("tenfold every" in text.split("The run is")[0]) == (p.tenfold_steps is not None)
    if p.tenfold_steps is not None:
        every = float(re.search(r"gap grows, about tenfold every ([0-9.]+) steps", text).group(1))
        assert every == pytest.approx(p.tenfold_steps, rel=0.05, abs=0.05)
        # from round-off to 1e-3: the number of steps that growth rate predicts, within a factor of two
        rise = int(np.argmax(np.maximum.accumulate(p.gap) > 1e-3))
        if rise > k:
            predicted = every * np.log10(1e-3 / p.gap[k])
            assert 0.5 < (rise - k) / predicted < 2.0, (rise - k, predicted)


def test_equal_runs_never_part() -> None:
    a = np.random.default_rng(0).normal(size=(50, 3))
    p = divergence.parting(a, a + 1e-16)
    assert p.parts_at is None and not p.amplified and p.growth is None
    check_words(p, parting_words(p, "h", "h′"))


def test_a_different_computation_differs_from_the_first_step() -> None:
    a = np.zeros((20, 4))
    p = divergence.parting(a, a + 0.1)
    assert p.from_start and not p.amplified
    check_words(p, parting_words(p, "ours", "torch"))


def test_amplified_round_off_is_fitted_as_exponential_growth() -> None:
    t = np.arange(200)
    gap = 1e-16 * np.exp(0.3 * t)
    p = divergence.parting(np.zeros((200, 1)), np.minimum(gap, 2.0)[:, None], tolerance=1e-12)
    assert p.amplified and p.parts_at == int(np.ceil(np.log(1e-12 / 1e-16) / 0.3))
    assert p.growth == pytest.approx(0.3, rel=0.02)
    check_words(p, parting_words(p, "h", "h′"))


def test_nan_is_an_infinite_gap() -> None:
    a = np.zeros((5, 2))
    b = a.copy()
    b[3, 1] = np.nan
    assert divergence.step_gaps(a, b)[3] == np.inf and divergence.parting(a, b).parts_at == 3


GAPS = {  # (T, 1) gaps between two runs of 300 steps, shaped as a machine's round-off could make them
    "round-off throughout": np.full(300, 3e-16),
    "rises to 4.4e-10": np.minimum(1e-16 * np.exp(0.05 * np.arange(300)), 4.4e-10),
    "rises to 1": np.minimum(1e-16 * np.exp(0.3 * np.arange(300)), 1.0),
    "jumps at t = 150": np.where(np.arange(300) < 150, 1e-16, 0.5),
    "differs from the start": np.full(300, 0.1),
}
EXPONENTS = [None, np.nan, -np.inf, -0.3, -1e-9, 0.0, 1e-9, 0.029, 2.0]  # both sides of λ = 0, the one threshold


@pytest.mark.parametrize("exponent", EXPONENTS, ids=str)
@pytest.mark.parametrize("gap", list(GAPS))
def test_the_words_are_a_function_of_the_numbers_they_are_given(gap: str, exponent: float | None) -> None:
    """Constructed numbers on both sides of every threshold: round-off against the tolerance, a rise that can be
    fitted or not, and λ below, at and above 0. The gap's words follow the gap; "chaotic" follows λ alone."""
    p = divergence.parting(np.zeros((300, 1)), GAPS[gap][:, None], tolerance=1e-12, exponent=exponent)
    text = parting_words(p, "h", "h′")
    check_words(p, text)
    assert p.chaotic == (None if exponent is None or np.isnan(exponent) else exponent > 0)
    if not p.from_start:
        assert ("**chaotic**" in text) == bool(p.chaotic)


@pytest.mark.parametrize("exponent", [-0.31, 0.029])
def test_chaotic_follows_the_exponent_not_how_far_the_round_off_grew(exponent: float) -> None:
    """One run, as three machines' round-off could leave its gap: never past 1e-12, up to 4.4e-10, or up to 1. The
    sentence about the run is the same for all three (it was "chaotic" only where the gap's rise could be fitted)."""
    said = set()
    for gap in ("round-off throughout", "rises to 4.4e-10", "rises to 1"):
        p = divergence.parting(np.zeros((300, 1)), GAPS[gap][:, None], tolerance=1e-12, exponent=exponent)
        text = parting_words(p, "h", "h′")
        check_words(p, text)
        said.add(text[text.index("The run is"):].replace(" Any two float64 computations of it part this way, "
                                                        "whatever the order of their sums.", ""))
    assert len(said) == 1 and ("**chaotic**" in said.pop()) == (exponent > 0)


@pytest.mark.parametrize("query", [CALM, CHAOTIC], ids=["calm", "chaotic"])
def test_flip_gap_words_follow_the_numbers(query: dict[str, str]) -> None:
    """The words follow this machine's numbers, whatever size its round-off grew to; the classification comes
    from the run's exponent, far from 0 on both links."""
    model, x = gru_of(query)
    p = compare.flip_parting(model, x)
    check_words(p, parting_words(p, "h", "h′"))
    assert not p.from_start  # round-off at first, on every machine: the partner is the same GRU
    assert p.chaotic == (query is CHAOTIC)
    if query is CALM:
        # λ ≈ −0.31: each step's round-off shrinks tenfold within 8 steps, so it never adds up to 1e-12 anywhere
        assert p.parts_at is None


def exponent_of(query: dict[str, str], h0: np.ndarray | None = None) -> float:
    model, x = gru_of(query)
    return paths.largest_exponent(model, model.run(x, h0))


@pytest.mark.parametrize("query", [CALM, CHAOTIC], ids=["calm", "chaotic"])
def test_the_exponent_is_the_dynamics_not_the_round_off(query: dict[str, str]) -> None:
    """λ keeps its sign, and roughly its size, when the start state moves by 1e-6: ten decades more than round-off
    moves a run (on the chaotic link the moved runs end up unrelated to it, so this is λ of other stretches of
    the same dynamics). So the word it decides is the same on every machine; the bar is a fraction of λ itself."""
    base = exponent_of(query)
    assert abs(base) > 0.02  # far from 0 on both links
    for seed in range(3):
        moved = exponent_of(query, 1e-6 * np.random.default_rng(seed).standard_normal((1, int(query["hidden"]))))
        assert moved == pytest.approx(base, rel=0.5) and (moved > 0) == (base > 0)


def _diagonal_rnn(a: float, bidirectional: bool = False) -> tuple[Model, np.ndarray]:
    """A ReLU RNN with W_hh = a·I fed positive inputs: every step's Jacobian is a·I, so λ = ln a exactly."""
    spec = Spec("rnn", 2, 5, nonlinearity="relu", bidirectional=bidirectional)
    params = {k: np.abs(v) for k, v in init_params(spec, 3).items()}
    for key in params:
        if key.startswith("weight_hh"):
            params[key] = a * np.eye(5)
    return Model(spec, params), np.abs(np.random.default_rng(4).normal(size=(60, 2))) + 0.1


@pytest.mark.parametrize("a", [0.5, 1.0, 1.5])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_exponent_of_a_known_linear_run(a: float, bidirectional: bool) -> None:
    model, x = _diagonal_rnn(a, bidirectional)
    trace = model.run(x)
    assert paths.largest_exponent(model, trace) == pytest.approx(np.log(a), abs=1e-12)


SPECS = [
    Spec("gru", 2, 6), Spec("gru", 2, 6, variant="reset-before"), Spec("gru", 2, 6, variant="z-takes"),
    Spec("gru", 2, 6, variant="after-takes"), Spec("lstm", 2, 4), Spec("lstm", 2, 4, proj_size=3),
    Spec("rnn", 2, 5), Spec("rnn", 2, 5, nonlinearity="relu"), Spec("mingru", 2, 5),
    Spec("gru", 2, 4, num_layers=2, bidirectional=True), Spec("lstm", 2, 3, num_layers=2, bidirectional=True),
]
CLAMPED = {"gru": "z", "lstm": "f", "mingru": "z"}  # a gate of each kind that has one, clamped over some steps


def spec_id(s: Spec) -> str:
    detail = s.variant if s.kind == "gru" else s.nonlinearity if s.kind == "rnn" else s.proj_size
    return f"{s.kind}-{detail}-{s.num_layers}-{s.directions}"


@pytest.mark.parametrize("spec, clamp", [(s, None) for s in SPECS] + [(s, CLAMPED[s.kind]) for s in SPECS
                                                                      if s.kind in CLAMPED],
                         ids=lambda v: spec_id(v) if isinstance(v, Spec) else f"clamp-{v}")
def test_the_exponent_is_the_product_of_the_step_jacobians(spec: Spec, clamp: str | None) -> None:
    """λ·T = ln ‖J_T ⋯ J_1 v‖ for the start vector v, each layer and direction multiplying its step Jacobians (as
    step_paths builds them, checked against autograd in test_paths) in its order of travel; a gate clamped over
    some steps passes nothing back there."""
    model = Model(spec, init_params(spec, 5, scale=3.0))
    x = np.random.default_rng(6).normal(size=(23, 2))
    trace = model.run(x, None, (Ablation(clamp, 0.7, start=5, stop=12),) if clamp else ())
    whole = [[paths.layer_exponent(model, lt) for lt in row] for row in trace.layers]
    for row in trace.layers:
        for lt in row:
            J = paths.step_paths(model, lt).full
            v = np.random.default_rng(0).standard_normal(J.shape[-1])
            v /= np.linalg.norm(v)
            for Jt in J if lt.direction == 0 else J[::-1]:
                v = Jt @ v
            assert whole[lt.layer][lt.direction] == pytest.approx(np.log(np.linalg.norm(v)) / len(J), rel=1e-9)
    assert paths.largest_exponent(model, trace) == max(max(r) for r in whole)


@pytest.mark.parametrize("variant", ["torch", "reset-before", "z-takes", "after-takes"])
def test_flip_gap_words_for_every_variant(variant: str) -> None:
    """Every GRU variant and its z-flipped partner: the same states to round-off on a calm run, and words that say
    so; on the chaotic link, words that follow where the gap leaves round-off."""
    for query in (CALM, CHAOTIC):
        model, x = gru_of({**query, "variant": variant})
        p = compare.flip_parting(model, x)
        check_words(p, parting_words(p, "h", "h′"))
        assert not p.from_start  # never "a different computation": the partner is the same GRU


def test_a_different_gru_is_not_called_round_off() -> None:
    model, x = gru_of(CALM)
    other = Model(model.spec, init_params(model.spec, 99))
    h, h2 = model.run(x).layer(0).h, compare.flip_z(other).run(x).layer(0).h
    p = divergence.parting(h, h2)
    text = parting_words(p, "h", "h′")
    assert p.from_start and "round-off" not in text.split(":")[0]
    check_words(p, text)


def test_norm_words() -> None:
    assert norm_words(3.4e33, 33.53, None, 5000) == "= **3.4e+33**"
    text = norm_words(np.inf, 560.8, 2226, 5000)
    assert "10^561" in text and "t = 2226" in text and "2773 steps back" in text and "nan" not in text.lower()
    assert "past float64's range" in norm_words(np.inf, np.inf, 10, 100)


def gradients_page(query: dict[str, str]) -> AppTest:
    """The page on a session's first run: fails on an exception or an error box (apptest_support)."""
    return open_page("pages/gradients.py", query, timeout=300)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_gradient_flow_page_words_on_a_chaotic_run() -> None:
    """Misconception 4 on the chaotic link: the words say where round-off ends and how it grows, computed; the
    RNN's ‖∂h_T/∂h_0‖ is a finding (how far past 1e308, and where), never nan; no RuntimeWarning."""
    at = gradients_page({**CHAOTIC, "cell": "rnn"})
    text = "\n".join(m.value for m in at.markdown)
    four = text[text.index("4. *"):]
    model, x = gru_of(CHAOTIC)
    check_words(compare.flip_parting(model, x), four[four.index("max |h"):])
    assert "(float64 round-off)" not in four
    assert "**nan**" not in text.lower()
