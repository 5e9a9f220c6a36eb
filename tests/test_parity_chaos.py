"""Matches PyTorch on chaotic runs: a correct core is never called wrong, a wrong one is still caught.

A saturated vanilla RNN, or a GRU/LSTM at recurrent scale 5 with H = 64, amplifies float64 round-off at every
step, so our whole run and torch's part after some steps (and their gradients can overflow on both sides). The
judgement (gru_viz.core.parity.Judgement, gru_viz.app.parity.compute_judgement) has torch compute every step
again from our state before it, and compares everything over the steps before the runs part; these tests check
that this passes for correct cores of every kind and fails for wrong ones — a nudge of 1e-9, swapped gates,
another variant or nonlinearity, a wrong backward pass — on the same chaotic runs.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from apptest_support import open_page
from streamlit.testing.v1 import AppTest

from gru_viz.app import parity as parity_ui
from gru_viz.core import cells, parity
from gru_viz.core.model import Model
from gru_viz.core.params import init_params, scale_recurrent
from gru_viz.core.spec import Spec
from gru_viz.explain.divergence import judgement_words
from gru_viz.serve import state

CHAOTIC = {
    "rnn": {"scale": "5", "cell": "rnn", "steps": "300", "hidden": "32"},
    "gru": {"scale": "5", "steps": "600", "hidden": "64"},
    "lstm": {"scale": "5", "cell": "lstm", "steps": "600", "hidden": "64"},
}
ISSUE_LINK = {"scale": "5", "cell": "rnn", "steps": "5000", "hidden": "64"}


def chaotic_run(kind: str):
    sc = state.build_scene(state.from_query(CHAOTIC[kind])[0])
    return (*parity_ui.run_of(sc), sc.trace)


def bidirectional_stack() -> tuple[Model, np.ndarray]:
    """A 2-layer bidirectional GRU at recurrent scale 8 (an upload could be this): chaotic in both directions."""
    spec = Spec("gru", 1, 16, num_layers=2, bidirectional=True)
    return scale_recurrent(Model(spec, init_params(spec, 0)), 8.0), np.sin(np.arange(600) / 3.0)[:, None]


# A core off from torch's by round-off's size: weight_ih_l0 moved by 1e-15 (the per-step check allows 1e-12). Its
# difference at every step is the nudge's, not the machine's round-off, so on a chaotic run (λ > 0) the whole runs
# part on every machine; our core as it is parts only where this machine's round-off happens to grow past 1e-12
# within the run (here at t = 174 on the GRU link, ending at 3e-9; another machine's may end lower).
ROUND_OFF_NUDGE = 1e-15


@pytest.fixture(scope="module")
def judged() -> dict[str, parity.Judgement]:
    """Our core as it is, on each chaotic run."""
    out = {}
    for kind in CHAOTIC:
        model, x, h0, ablations, trace = chaotic_run(kind)
        out[kind] = parity_ui.compute_judgement(model, x, h0, ablations, trace)
    model, x = bidirectional_stack()
    out["gru-2-layer-bidirectional"] = parity_ui.compute_judgement(model, x)
    return out


@pytest.fixture(scope="module")
def judged_apart() -> dict[str, parity.Judgement]:
    """A core off by round-off's size (ROUND_OFF_NUDGE), on each chaotic run: the whole runs part by construction."""
    out = {}
    for kind in CHAOTIC:
        model, x, h0, ablations, _ = chaotic_run(kind)
        out[kind] = parity_ui.compute_judgement(model, x, h0, ablations,
                                                ours_model=parity.nudge(model, ROUND_OFF_NUDGE))
    model, x = bidirectional_stack()
    out["gru-2-layer-bidirectional"] = parity_ui.compute_judgement(model, x,
                                                                   ours_model=parity.nudge(model, ROUND_OFF_NUDGE))
    return out


@pytest.mark.parametrize("kind", [*CHAOTIC, "gru-2-layer-bidirectional"])
def test_a_correct_core_on_a_chaotic_run_is_never_called_wrong(judged, kind: str) -> None:
    """Matches, on the whole run or step by step, whether or not this machine's round-off grew past the tolerance."""
    j = judged[kind]
    assert j.passed, judgement_words(j)[1]
    if j.full.passed:  # this machine's round-off stayed under 1e-12 over the whole run: nothing to diagnose
        assert j.parting is None and not j.summary().amplified
    else:
        check_matches_step_by_step(j)


@pytest.mark.parametrize("kind", [*CHAOTIC, "gru-2-layer-bidirectional"])
def test_a_core_off_by_round_off_on_a_chaotic_run_matches_step_by_step(judged_apart, kind: str) -> None:
    """The runs part on every machine here: the nudge's difference (≥ 1e-15 from the first steps) is amplified by
    e^{λ·T} ≥ e^{17} over the run, far past 1e-12; the verdict is still "matches", step by step."""
    j = judged_apart[kind]
    p = j.parting
    assert p is not None and p.exponent > 0.02  # chaotic, far from λ = 0
    assert p.exponent * p.steps > np.log(1e-12 / ROUND_OFF_NUDGE) + 5  # e^5 of margin past the tolerance
    assert not j.full.passed  # the whole runs part: the case this is about
    check_matches_step_by_step(j)
    assert p.growth > 0  # a rise of ten decades and more: long enough to fit


def check_matches_step_by_step(j: parity.Judgement) -> None:
    """The per-step check, the window and the badge of a run whose whole runs part as amplified round-off."""
    assert j.amplified and j.passed, judgement_words(j)[1]
    assert j.steps.passed and j.steps.worst() <= 1e-12 and not j.steps.missing  # each step, from our state
    assert len(j.step_gaps) == j.parting.steps and j.step_gaps.max() <= 1e-12
    assert j.parting.amplified and j.parting.parts_at > 0
    assert j.parting.gap[: j.parting.parts_at].max() <= j.parting.tolerance  # round-off until they part
    assert j.window.passed and 1 <= j.window_size <= j.parting.parts_at
    summary = j.summary()
    assert summary.passed and summary.amplified
    label, colour, _ = parity_ui.badge_text(summary)
    assert colour == "green" and label.startswith("Matches PyTorch step by step")


@pytest.mark.parametrize("kind", list(CHAOTIC))
def test_the_verdict_words_follow_the_judgement(judged_apart, kind: str) -> None:
    j = judged_apart[kind]
    verdict, text = judgement_words(j)
    assert verdict == "amplified" and "Differs" not in text
    assert f"all {j.parting.steps} steps" in text and f"over the first {j.window_size} steps" in text
    assert f"within {j.steps.worst():.1e} of ours" in text
    assert f"passes {j.parting.tolerance:.0e} at t = {j.parting.parts_at}" in text
    assert f"**λ = {j.parting.exponent:.2g}** per step" in text  # the run's exponent: chaotic, far from 0
    assert j.parting.exponent > 0.02 and "The run is **chaotic**" in text
    if j.overflowed:
        n = int(re.search(r"On the whole run, (\d+) quantit", text).group(1))
        assert n == len(j.overflowed)


def swap_r_z(model: Model) -> Model:
    """A GRU with the r and z blocks of every weight and bias swapped: a wrong equation."""
    H = model.spec.hidden_size
    params = {}
    for key, arr in model.params.items():
        blocks = [arr[:H], arr[H : 2 * H], arr[2 * H :]]
        params[key] = np.concatenate([blocks[1], blocks[0], blocks[2]])
    return Model(model.spec, params)


WRONG = {
    "gru-nudged-1e-9": ("gru", lambda m: parity.nudge(m, 1e-9)),
    "gru-r-z-swapped": ("gru", swap_r_z),
    "gru-z-takes-variant": ("gru", lambda m: Model(m.spec.with_(variant="z-takes"), m.params)),
    "rnn-nudged-1e-9": ("rnn", lambda m: parity.nudge(m, 1e-9)),
    "rnn-relu-for-tanh": ("rnn", lambda m: Model(m.spec.with_(nonlinearity="relu"), m.params)),
    "lstm-nudged-1e-9": ("lstm", lambda m: parity.nudge(m, 1e-9)),
}


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_wrong_core_on_a_chaotic_run_still_differs(wrong: str) -> None:
    kind, make = WRONG[wrong]
    model, x, h0, ablations, _ = chaotic_run(kind)
    j = parity_ui.compute_judgement(model, x, h0, ablations, ours_model=make(model))
    assert not j.passed and not j.amplified
    assert j.steps is not None and not j.steps.passed  # from the same state, torch's step differs from ours
    verdict, text = judgement_words(j)
    assert verdict == "differs" and text.startswith("**Differs from PyTorch**")
    assert "From the same state before each step" in text and "not amplified round-off" in text
    assert not parity_ui.badge_text(j.summary())[0].startswith("Matches")


def test_a_wrong_backward_pass_on_a_chaotic_run_still_differs(monkeypatch) -> None:
    """The forward is right (the per-step check passes), but ∂L/∂W_hh is off by one part in a million: the
    comparison over the first steps, gradients included, catches it."""
    real = cells.rnn_backward

    def wrong(*args, **kwargs):
        g = real(*args, **kwargs)
        if "w_hh" in g.params:
            g.params["w_hh"] = g.params["w_hh"] * (1 + 1e-6)
        return g

    monkeypatch.setattr(cells, "rnn_backward", wrong)
    model, x, h0, ablations, trace = chaotic_run("rnn")
    j = parity_ui.compute_judgement(model, x, h0, ablations, trace)
    assert j.steps.passed and not j.parting.from_start  # the forward is right: round-off at first, on every machine
    assert not j.window.passed and not j.passed
    verdict, text = judgement_words(j)
    assert verdict == "differs" and "Even over the first" in text and "∂L/∂weight_hh_l0" in text


def matches_page(query: dict[str, str]) -> AppTest:
    """The page on a session's first run: every run fails on an exception or an error box (apptest_support)."""
    return open_page("pages/matches.py", query, timeout=300)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_the_issue_link_matches_step_by_step_and_the_nudge_still_fails() -> None:
    """/matches?scale=5&cell=rnn&steps=5000&hidden=64 once said "Differs from PyTorch: 9 of 9 quantities".
    Now: matches step by step, shows where the runs part, and the "Can it fail?" nudge fails."""
    parity_ui.clear_caches()
    at = matches_page(ISSUE_LINK)
    assert at.success[0].value.startswith("**Matches PyTorch in float64, step by step.**")
    assert "chaotic" in at.success[0].value and "exploded past float64" in at.success[0].value
    assert any("Where the runs part" in m.value for m in at.markdown)
    assert any("first **" in c.value and "steps** of the input" in c.value for c in at.caption)
    assert len(at.dataframe) == 3 and all(
        (df.value["within"] == "✓").all() for df in at.dataframe)  # the tables of the compared window
    badge = [m.value for m in at.markdown if "badge[" in m.value]
    assert badge and badge[0].startswith(":green-badge[") and "step by step" in badge[0]
    at.toggle(key="matches_nudge").set_value(True).run()
    nudge = [m.value for m in at.markdown if "moved by 1e-9" in m.value]
    assert nudge and "the check **fails**" in nudge[0] and "step-by-step check sees a wrong model" in nudge[0]
    assert "NaN" not in nudge[0]
