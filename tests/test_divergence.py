"""Two runs that compute the same thing: where they part (gru_viz.core.divergence) and the words for it
(gru_viz.explain.divergence), each sentence checked against the gaps it describes.

The z-flipped partner of a GRU computes the same states; on a contracting run they agree to round-off
throughout, on a chaotic one (scale 5, H = 64) the round-off is amplified until the runs are unrelated.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from apptest_support import open_page
from streamlit.testing.v1 import AppTest

from gru_viz.app.compare import build_lineup, compare_config
from gru_viz.core import compare, divergence
from gru_viz.core.model import Model
from gru_viz.core.params import init_params
from gru_viz.explain.divergence import HEAD_STEPS, norm_words, parting_words
from gru_viz.serve import state

CHAOTIC = {"scale": "5", "steps": "600", "hidden": "64"}  # its GRU parts from its partner at t = 174
CALM = {"steps": "600", "hidden": "8"}


def gru_of(query: dict[str, str]) -> tuple[Model, np.ndarray]:
    lineup = build_lineup(compare_config(state.from_query(query)[0]), ("gru",), timing=False)
    return lineup.models["gru"], lineup.seq.values


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"\*\*(-?[0-9.]+e[+-]?[0-9]+|0)\*\*", text)]


def check_words(p: divergence.Parting, text: str) -> None:
    """Every number in the sentence is the gap it names."""
    if p.parts_at is None:
        assert "over the whole run" in text and "round-off" in text and "chaotic" not in text
        assert numbers(text) == [pytest.approx(p.largest, rel=0.05, abs=1e-300)]
        assert p.largest <= p.tolerance
        return
    if p.from_start:
        assert "first step already" in text and "different" in text
        assert numbers(text)[0] == pytest.approx(p.gap[0], rel=0.05)
        return
    first, largest = numbers(text)
    n = min(HEAD_STEPS, p.parts_at)
    assert f"first {n} steps" in text or (n == 1 and "first step" in text)
    assert first == pytest.approx(p.gap[:n].max(), rel=0.05) and first <= p.tolerance  # round-off where it says
    assert largest == pytest.approx(p.largest, rel=0.05)
    k = int(re.search(r"passes \S+ at t = (\d+)", text).group(1))
    assert (p.gap[:k] <= p.tolerance).all() and p.gap[k] > p.tolerance  # the step it grows past round-off
    if "tenfold every" in text:
        every = float(re.search(r"tenfold every ([0-9.]+) steps", text).group(1))
        # from round-off to 1e-3: the number of steps that growth rate predicts, within a factor of two
        rise = int(np.argmax(np.maximum.accumulate(p.gap) > 1e-3))
        if rise > k:
            predicted = every * np.log10(1e-3 / p.gap[k])
            assert 0.5 < (rise - k) / predicted < 2.0, (rise - k, predicted)
        assert "chaotic" in text


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


@pytest.mark.parametrize("query", [CALM, CHAOTIC], ids=["calm", "chaotic"])
def test_flip_gap_words_follow_the_numbers(query: dict[str, str]) -> None:
    model, x = gru_of(query)
    p = compare.flip_parting(model, x)
    assert p.amplified == (query is CHAOTIC)
    text = parting_words(p, "h", "h′")
    check_words(p, text)
    if query is CHAOTIC:
        assert p.largest > 1e-9 and "chaotic" in text


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
