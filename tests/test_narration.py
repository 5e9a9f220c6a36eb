"""Narration and the claims registry: words tested like numbers.

For every cell kind of the registry (:mod:`gru_viz.core.kinds`) and GRU variant, on random models and inputs
(hypothesis), with gates free and clamped to 0 and to 1: the sentence says "keeps its state" exactly when h_t
stays at the state it started from and "replaces its state" exactly when it moves to the candidate — decided
from the trace, not from strings written here —; every number parsed back out of a sentence equals the trace's
value at the rounding it is printed with; a clamped gate is named as clamped; a reverse-direction layer starts
from h_{t+1}. The checker itself is tried on planted false sentences, so a check that cannot fail would fail here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gru_viz.core.kinds import DEFAULT_VARIANT, KIND, KINDS
from gru_viz.core.model import ModelInputError
from gru_viz.core.params import random_model
from gru_viz.core.presets import PRESETS
from gru_viz.core.spec import GRU_VARIANTS, Spec
from gru_viz.core.trace import Ablation
from gru_viz.explain import claims, narration, registry
from gru_viz.explain.claims import Context, decimals_of, parse_number

# Every kind, and every variant of the one kind that has variants (the GRU's).
CELLS = [(k, v) for k in KINDS for v in (GRU_VARIANTS if k == "gru" else (DEFAULT_VARIANT,))]
# The kinds whose h keeps a share of itself (a GRU's z or 1 − z, minGRU's 1 − z, minLSTM's f′).
SHARED = [c for c in CELLS if KIND[c[0]].keep_share is not None]
NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?%?")


@st.composite
def runs(draw, cells=CELLS):
    """A random model (sometimes with saturated gates), input, clamps, step, unit, layer and direction."""
    kind, variant = draw(st.sampled_from(cells))
    H = draw(st.integers(1, 5))
    layers = draw(st.integers(1, 2))
    bidirectional = draw(st.booleans())
    spec = Spec(kind, 2, H, num_layers=layers, bidirectional=bidirectional, variant=variant)
    model = random_model(spec, draw(st.integers(0, 2**16)))
    gain = draw(st.sampled_from([1.0, 4.0, 25.0]))  # large weights saturate the gates: keeps and replaces happen
    model = type(model)(spec, {k: v * gain for k, v in model.params.items()})
    T = draw(st.integers(2, 8))
    x = np.array(draw(st.lists(st.lists(st.floats(-2, 2), min_size=2, max_size=2), min_size=T, max_size=T)))
    clamps = []
    for gate in KIND[kind].clampable:
        value = draw(st.sampled_from([None, 0.0, 1.0]))
        if value is not None:
            clamps.append(Ablation(gate, value, start=draw(st.integers(0, T - 1))))
    try:
        trace = model.run(x, None, clamps)
    except ModelInputError:  # clamps no run can have (minLSTM's f and i both 0: f′ = 0 / 0)
        assume(False)
    layer = draw(st.integers(0, layers - 1))
    direction = draw(st.integers(0, spec.directions - 1))
    return model, trace, draw(st.integers(0, T - 1)), draw(st.integers(0, H - 1)), layer, direction


def context(model, trace, t, unit, layer, direction) -> Context:
    steps = trace.steps
    return Context(trace=trace, model=model, layer=layer, direction=direction, t=t, unit=unit,
                   labels=tuple(_label(s) for s in range(steps)))


def _label(t: int) -> str:
    return "step " + chr(ord("a") + t)  # no digits: every number in a sentence is then a slot's


def told(trace, t, unit, layer, direction) -> narration.Narration:
    return narration.narrate(trace, t, unit, layer, direction, x_text=_label(t))


SLOW = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(runs())
def test_every_sentence_holds_on_the_run(run):
    _model, trace, t, unit, layer, direction = run
    story = told(trace, t, unit, layer, direction)
    ctx = context(*run)
    assert registry.check_text(story.text, ctx) == []
    found = registry.find(story.text)
    assert len(found) == len(story.sentences), "every sentence is a registered claim"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(GRU_VARIANTS)), min_size=2, max_size=3, unique=True), st.integers(0, 2**16),
       st.booleans(), st.sampled_from([1.0, 25.0]), st.data())
def test_every_sentence_holds_on_a_mixed_stack(variants, seed, bidirectional, gain, data):
    """A GRU stack whose layers differ in variant: each layer's sentences (z keeps or takes, reset before or after
    the product) are checked against that layer's own numbers, and name that layer's own variant's reset."""
    spec = Spec("gru", 2, 3, num_layers=len(variants), bidirectional=bidirectional, variant=variants[0],
                layer_variants=tuple(variants))
    base = random_model(spec.with_(layer_variants=()), seed)
    model = type(base)(spec, {k: v * gain for k, v in base.params.items()})
    trace = model.run(np.random.default_rng(seed).uniform(-2, 2, (5, 2)))
    layer = data.draw(st.integers(0, len(variants) - 1))
    direction = data.draw(st.integers(0, spec.directions - 1))
    t, unit = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 2))
    story = told(trace, t, unit, layer, direction)
    assert registry.check_text(story.text, context(model, trace, t, unit, layer, direction)) == []
    reset = next(s.key for s in story.sentences if s.key.startswith("step.reset."))
    assert reset.split(".")[2] == ("after" if GRU_VARIANTS[variants[layer]].reset_after else "before")


@SLOW
@given(runs())
def test_numbers_parse_back_to_the_run_at_their_rounding(run):
    _model, trace, t, unit, layer, direction = run
    story = told(trace, t, unit, layer, direction)
    ctx = context(*run)
    covered = 0
    for found in registry.find(story.text):
        for slot, text in found.slots.items():
            if slot in claims.QUANTITIES and found.claim.slots[slot] in ("gate", "state"):
                value = ctx.at(slot)
                assert parse_number(text) == pytest.approx(round(value, decimals_of(text)), abs=1e-12), (slot, text)
                covered += 1
            elif found.claim.slots[slot] == "pct":
                share = {"keep": None, "write": None}.get(slot)
                assert 0.01 <= parse_number(text) <= 0.99 and share is None
    # every number of the text is a slot's (checked by its claim) or part of a template's fixed words
    numbers = [m.group() for m in NUMBER.finditer(story.text.replace("h₋₁", "").replace("W_h", ""))]
    accounted = []
    for f in registry.find(story.text):
        accounted += [m.group() for text in f.slots.values() for m in NUMBER.finditer(text)]
        accounted += NUMBER.findall(re.sub(r"\{\w+:\w+\}", "", f.claim.template).replace("W_h", ""))
    assert sorted(numbers) == sorted(accounted)
    assert covered >= 2 or trace.spec.kind == "rnn"


def _stays_moves(lt, t, unit):
    h, hp, n = (float(a[t, 0, unit]) for a in (lt.h, lt.h_prev(), lt.gates["n"]))
    gap = abs(n - hp)
    return abs(h - hp) <= 0.01 * gap, abs(h - n) <= 0.01 * gap, gap


@SLOW
@given(runs(cells=SHARED))
def test_keeps_exactly_when_h_stays_and_replaces_exactly_when_it_moves_to_n(run):
    _model, trace, t, unit, layer, direction = run
    lt = trace.layer(layer, direction)
    spec = trace.spec
    stays, moves, gap = _stays_moves(lt, t, unit)
    if gap < 1e-9:  # the candidate is the old state: both are true, and the words cannot be wrong
        return
    text = told(trace, t, unit, layer, direction).update.text
    assert ("keeps its state" in text) == stays
    assert ("replaces its state" in text) == moves
    clamped = {g for g in KIND[spec.kind].clampable if (m := lt.clamped.get(g)) is not None and m[t, 0, unit]}
    for g in KIND[spec.kind].clampable:
        if claims.GATE_NAMES[g] in text:  # a gate the sentence names is named as clamped exactly when it is
            assert (f"clamped to {g} = " in text) == (g in clamped), g
    keep = float(KIND[spec.kind].keep_share(spec, lt.gates)[t, 0, unit])
    write = float(lt.gates["i'"][t, 0, unit]) if "i'" in lt.gates else 1.0 - keep  # minLSTM keeps i′ itself
    if clamped and {keep, write} == {0.0, 1.0}:  # clamps that leave one share whole keep or replace bit for bit
        assert np.array_equal(lt.h[t, 0, unit], lt.h_prev()[t, 0, unit]) == ("keeps its state" in text)
        assert np.array_equal(lt.h[t, 0, unit], lt.gates["n"][t, 0, unit]) == ("replaces its state" in text)
    if not clamped:
        assert "clamped" not in text


@pytest.mark.parametrize(("kind", "variant"), [*CELLS[:4], ("mingru", "torch")])
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_clamping_z_keeps_or_replaces_as_the_trace_does(kind, variant, value):
    spec = Spec(kind, 1, 3, variant=variant)
    model = random_model(spec, 7)
    x = np.sin(np.arange(9.0))[:, None]
    trace = model.run(x, None, [Ablation("z", value)])
    lt = trace.layer(0)
    for t in range(9):
        for unit in range(3):
            text = narration.narrate(trace, t, unit, x_text="·").update.text
            kept = np.array_equal(lt.h[t, 0, unit], lt.h_prev()[t, 0, unit])
            replaced = np.array_equal(lt.h[t, 0, unit], lt.gates["n"][t, 0, unit])
            assert kept != replaced  # one of the two, bit for bit, for a clamp to 0 or 1
            assert ("keeps its state" in text) == kept and ("replaces its state" in text) == replaced
            assert f"clamped to z = {value:.0f}" in text


# minLSTM's clamps, worked out by hand: i = 0 makes f′ = f / f = 1 (keeps), f = 0 makes i′ = i / i = 1 (replaces),
# f = 1 with i = 1 makes f′ = i′ = ½ (blends), f = 1 alone leaves f′ = 1 / (1 + i) < 1.
@pytest.mark.parametrize(("clamps", "verdict", "named"), [({"i": 0.0}, "keeps", "i"), ({"f": 0.0}, "replaces", "f"),
                                                          ({"f": 1.0, "i": 0.0}, "keeps", "fi"),
                                                          ({"f": 0.0, "i": 1.0}, "replaces", "fi"),
                                                          ({"f": 1.0, "i": 1.0}, "blends", "fi")])
def test_clamping_minlstm_gates_keeps_or_replaces_as_the_trace_does(clamps, verdict, named):
    spec = Spec("minlstm", 1, 3)
    model = random_model(spec, 7)
    x = np.sin(np.arange(9.0))[:, None]
    trace = model.run(x, np.array([[0.3, -0.6, 0.9]]), [Ablation(g, v) for g, v in clamps.items()])
    lt = trace.layer(0)
    for t in range(9):
        for unit in range(3):
            story = narration.narrate(trace, t, unit, x_text="·")
            text = story.update.text
            assert story.verdict == verdict
            h, hp, n = lt.h[t, 0, unit], lt.h_prev()[t, 0, unit], lt.gates["n"][t, 0, unit]
            assert np.array_equal(h, hp) == (verdict == "keeps") and np.array_equal(h, n) == (verdict == "replaces")
            if verdict == "blends":
                assert "blends 50% of the old state" in text and "with 50% of the candidate" in text
            for g in named:
                assert f"clamped to {g} = {clamps[g]:.0f}" in text
            ctx = Context(trace=trace, model=model, t=t, unit=unit, labels=("·",) * 9)
            assert registry.check_text(story.text, ctx) == []


def test_a_minlstm_step_worked_out_by_hand():
    """One unit reading x = 0: f = σ(6) = 0.997527, i = σ(−6) = 0.002473 (f + i = 1, so f′ = f), n = g(0.3) = 0.8;
    from h₀ = 0.5, h = 0.997527 · 0.5 + 0.002473 · 0.8 = 0.500742: it keeps its state (f′ ≥ 0.99)."""
    spec = Spec("minlstm", 1, 1)
    model = type(random_model(spec, 0))(spec, {"weight_ih_l0": np.zeros((3, 1)),
                                               "bias_ih_l0": np.array([6.0, -6.0, 0.3])})
    trace = model.run(np.zeros((1, 1)), np.array([[0.5]]))
    story = narration.narrate(trace, 0, 0, x_text="0")
    assert story.verdict == "keeps"
    assert story.update.text == ("The forget gate f = 0.998 outweighs the input gate i = 0.002 by far, so the unit "
                                 "holds on to f′ = f / (f + i) = 0.998 of the old state and keeps its state: "
                                 "h = 0.501, from h₋₁ (the initial state) = 0.500; the candidate n = 0.800 is left "
                                 "out.")
    assert story.sentences[-1].key == "step.minlstm"
    ctx = Context(trace=trace, model=model, t=0, unit=0, labels=("0",))
    assert registry.check_text(story.text, ctx) == []
    # the same words about a minGRU's run are false: it has no f and i, and no f′
    mingru = random_model(Spec("mingru", 1, 1), 0)
    other = Context(trace=mingru.run(np.zeros((1, 1))), model=mingru, t=0, unit=0, labels=("0",))
    for sentence in story.sentences[1:]:
        assert registry.check_text(sentence.text, other), sentence.key
    planted = story.update.text.replace("f′ = f / (f + i) = 0.998", "f′ = f / (f + i) = 0.90")
    assert registry.check_text(planted, ctx), "a wrong f′ is caught"


@pytest.mark.parametrize(("f", "i", "word", "same"), [(1.0, 0.0, "keeps its cell state", "c_prev"),
                                                      (0.0, 1.0, "overwrites its cell state", "g"),
                                                      (0.0, 0.0, "c falls to", "zero"),
                                                      (1.0, 1.0, "adds the candidate", "sum")])
def test_lstm_clamps_say_what_the_cell_state_does(f, i, word, same):
    spec = Spec("lstm", 1, 3)
    model = random_model(spec, 3)
    x = np.cos(np.arange(8.0))[:, None]
    h0 = (np.full((1, 3), 0.4), np.array([[0.7, -0.5, 0.2]]))
    trace = model.run(x, h0, [Ablation("f", f), Ablation("i", i)])
    lt = trace.layer(0)
    want = {"c_prev": lt.c_prev(), "g": lt.gates["g"], "zero": 0 * lt.c_prev(),
            "sum": lt.c_prev() + lt.gates["g"]}[same]
    np.testing.assert_allclose(lt.gates["c"], want, rtol=0, atol=1e-15)
    for t in range(8):
        story = narration.narrate(trace, t, 1, x_text="·")
        assert word in story.update.text
        assert "clamped to f = " in story.update.text and "clamped to i = " in story.update.text
        assert registry.check_text(story.text, Context(trace=trace, model=model, t=t, unit=1,
                                                     labels=("·",) * 8)) == []
        assert ("keeps its cell state" in story.text) == (same == "c_prev")


@SLOW
@given(runs(cells=[("lstm", "torch")]))
def test_lstm_keeps_only_when_c_stays(run):
    _model, trace, t, unit, layer, direction = run
    lt = trace.layer(layer, direction)
    text = told(trace, t, unit, layer, direction).update.text
    c, cp, g = (float(a[t, 0, unit]) for a in (lt.gates["c"], lt.c_prev(), lt.gates["g"]))
    if "keeps its cell state" in text:
        assert abs(c - cp) <= 0.01 * (abs(cp) + abs(g)) + 1e-12
    if "overwrites its cell state" in text:
        assert abs(c - g) <= 0.01 * (abs(cp) + abs(g)) + 1e-12


@SLOW
@given(runs(cells=[("rnn", "torch")]))
def test_a_vanilla_rnn_never_keeps(run):
    _model, trace, t, unit, layer, direction = run
    story = told(trace, t, unit, layer, direction)
    assert "keeps" not in story.text and "rewrites its whole state" in story.text
    assert story.verdict == "rewrites"


def test_the_latch_in_words():
    model = PRESETS["latch"].model()
    x = np.array([0, 0, 0, 1, 0, 0.0])[:, None]
    trace = model.run(x)
    spike = narration.narrate(trace, 3, 0, x_text="1")
    assert spike.verdict == "replaces"
    assert spike.text.startswith("At t = 3 the input is 1. The update gate z = 0.00005 lets go of the old state")
    assert "from h₂ = 0.000" in spike.text and "n = 1.000: h = 1.000" in spike.text
    assert "Across the layer" not in spike.text  # one unit: no layer summary
    after = narration.narrate(trace, 5, 0, x_text="0")
    assert after.verdict == "keeps" and "keeps its state: h = 1.000, from h₄ = 1.000" in after.text
    first = narration.narrate(trace, 0, 0, x_text="0")
    assert "from h₋₁ (the initial state) = 0.000" in first.text


def test_reverse_direction_starts_from_the_next_step():
    spec = Spec("gru", 1, 2, bidirectional=True)
    model = random_model(spec, 5)
    x = np.linspace(-1, 1, 6)[:, None]
    h0 = np.array([[0.1, -0.2], [0.5, 0.3]])  # forward, reverse
    trace = model.run(x, h0)
    rev = trace.layer(0, 1)
    mid = narration.narrate(trace, 2, 0, 0, 1, x_text="·")
    assert mid.update.slots["prev"] == "h₃"
    assert mid.update.slots["h_prev"] == claims.state_text(rev.h[3, 0, 0])
    last = narration.narrate(trace, 5, 1, 0, 1, x_text="·")  # the first step of travel
    assert last.update.slots["prev"] == "h₆ (the initial state)" and last.update.slots["h_prev"] == "0.300"
    assert narration.previous_state_label(0) == "h_{t−1}" and narration.previous_state_label(1) == "h_{t+1}"
    ctx = Context(trace=trace, model=model, direction=1, t=5, unit=1, labels=("·",) * 6)
    assert registry.check_text(last.text, ctx) == []
    # the same sentence read against the forward layer is false: the previous state differs
    assert registry.check_text(last.text, Context(trace=trace, model=model, direction=0, t=5, unit=1,
                                                labels=("·",) * 6))


def test_layer_summary_counts_units():
    spec = Spec("gru", 1, 16)
    model = random_model(spec, 0)
    params = dict(model.params)
    params["bias_ih_l0"] = params["bias_ih_l0"].copy()
    params["bias_ih_l0"][16:28] += 8.0  # twelve units keep (z ≈ 1)
    params["bias_ih_l0"][28:31] -= 8.0  # three replace (z ≈ 0)
    model = type(model)(spec, params)
    trace = model.run(np.zeros((4, 1)))
    sentence = narration.layer_summary(trace, 2)
    assert sentence.text == ("Across the layer, 12 of 16 units mostly keep their state (z > 0.9), 3 mostly replace "
                             "it (z < 0.1) and 1 blend.")
    assert registry.check_text(sentence.text, Context(trace=trace, model=model, t=2, unit=0)) == []


def test_a_minlstm_layer_summary_counts_units_by_f_prime():
    """Four units reading x = 0, biases by hand: f′ = σ(b_f − b_i) (f + i = 1 when b_i = −b_f): b_f = 4 gives
    f′ = σ(8) = 0.9997 (keeps), b_f = −4 gives σ(−8) (replaces), b_f = 0.5 gives σ(1) = 0.73 (blends)."""
    spec = Spec("minlstm", 1, 4)
    b_f = np.array([4.0, 4.0, -4.0, 0.5])
    model = type(random_model(spec, 0))(spec, {"weight_ih_l0": np.zeros((12, 1)),
                                               "bias_ih_l0": np.concatenate([b_f, -b_f, np.zeros(4)])})
    trace = model.run(np.zeros((3, 1)))
    sentence = narration.layer_summary(trace, 1)
    assert sentence.text == ("Across the layer, 2 of 4 units mostly keep their state (f′ > 0.9), 1 mostly replace "
                             "it (f′ < 0.1) and 1 blend.")
    ctx = Context(trace=trace, model=model, t=1, unit=0)
    assert registry.check_text(sentence.text, ctx) == []
    assert registry.check_text(sentence.text.replace("2 of 4", "3 of 4"), ctx)


def test_a_projected_lstm_counts_the_units_of_its_cell_state():
    """An issue seen: a projected LSTM's summary counted its h's proj_size units, not its cell state's H."""
    spec = Spec("lstm", 1, 4, proj_size=2)
    model = random_model(spec, 0)
    trace = model.run(np.ones((3, 1)))
    sentence = narration.layer_summary(trace, 1)
    assert " of 4 units" in sentence.text
    assert registry.check_text(sentence.text, Context(trace=trace, model=model, t=1, unit=0)) == []


# ---------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(("value", "text"), [(4.54e-5, "0.00005"), (0.99997, "0.99997"), (0.5, "0.50"),
                                             (1.0, "1"), (0.0, "0"), (1 - 1e-9, "1"), (0.004, "0.004"),
                                             (0.123, "0.12"), (2e-7, "0")])
def test_gates_are_rounded_for_people(value, text):
    assert claims.gate_text(value) == text


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_states_never_read_as_e_notation_or_minus_zero(value):
    text = claims.state_text(value)
    assert "e" not in text and text not in ("−0.000", "-0.000")
    assert parse_number(text) == pytest.approx(value, abs=0.5 * 10 ** -decimals_of(text) + 1e-9)


@given(st.floats(0, 1))
def test_gate_text_round_trips_at_its_rounding(value):
    text = claims.gate_text(value)
    assert "e" not in text
    assert parse_number(text) == pytest.approx(round(value, decimals_of(text)), abs=1e-12)


@pytest.mark.parametrize(("value", "text"), [(1.2e-5, "1.2×10⁻⁵"), (3.4e7, "3.4×10⁷"), (0.25, "0.25"), (0, "0")])
def test_gradient_norms_read_as_powers_of_ten(value, text):
    assert claims.sci_text(value) == text
    assert parse_number(text) == pytest.approx(value, rel=0.05)


# ---------------------------------------------------------------------------------------- the checker


def _latch_context(t: int = 3) -> tuple[Context, narration.Narration]:
    model = PRESETS["latch"].model()
    x = np.array([0, 0, 0, 1, 0, 0.0])[:, None]
    trace = model.run(x)
    ctx = Context(trace=trace, model=model, t=t, unit=0, labels=("0", "0", "0", "1", "0", "0"))
    return ctx, narration.narrate(trace, t, 0, x_text=ctx.labels[t])


def test_the_checker_catches_a_wrong_number():
    ctx, story = _latch_context()
    assert registry.check_text(story.text, ctx) == []
    assert registry.check_text(story.text.replace("n = 1.000", "n = 0.900"), ctx)
    assert registry.check_text(story.text.replace("At t = 3", "At t = 4"), ctx)


def test_the_checker_catches_the_wrong_convention():
    ctx, _ = _latch_context(5)
    takes = claims.say("step.update.takes.keep", z=1.0, n=0.0, h=1.0, h_prev=1.0, prev="h₄")
    problems = registry.check_text(takes.text, ctx)
    assert problems and "reads z as what takes" in problems[0]


def test_the_checker_catches_a_wrong_verdict_and_an_unnamed_clamp():
    ctx, _ = _latch_context(5)  # z ≈ 1: the latch keeps
    replace = claims.say("step.update.keeps.replace", z=1.0, n=0.0, h=1.0, h_prev=1.0, prev="h₄")
    assert registry.check_text(replace.text, ctx)
    model = ctx.model
    clamped = model.run(ctx.trace.layer(0).x[:, 0], None, [Ablation("z", 1.0)])
    cctx = Context(trace=clamped, model=model, t=5, unit=0, labels=ctx.labels)
    free_words = narration.narrate(ctx.trace, 5, 0, x_text="0").update.text
    assert "clamped" not in free_words
    assert any("clamped" in p for p in registry.check_text(free_words, cctx))


# Which clamp keeps h and which replaces it, per kind, worked out by hand (None: the hint says something else).
KEEPERS = {"gru": None, "lstm": None, "rnn": None, "mingru": ("z = 0", "z = 1"), "minlstm": ("i = 0", "f = 0")}
GRU_KEEPERS = {True: ("z = 1", "z = 0"), False: ("z = 0", "z = 1")}  # by whether the variant's z keeps


def test_the_ablation_hint_is_checked_against_a_clamped_run():
    assert set(KEEPERS) == set(KINDS)
    for kind, variant in CELLS:
        if not KIND[kind].clampable:
            assert narration.ablation_hint(kind) is None
            continue
        model = random_model(Spec(kind, 1, 2, variant=variant), 1)
        trace = model.run(np.ones((5, 1)))
        hint = narration.ablation_hint(kind, GRU_VARIANTS[variant].z_keeps).text
        assert f"({', '.join(KIND[kind].clampable)})" in hint
        assert registry.check_text(hint, Context(trace=trace, model=model)) == []
        keepers = GRU_KEEPERS[GRU_VARIANTS[variant].z_keeps] if kind == "gru" else KEEPERS[kind]
        if keepers is not None:
            keep, write = keepers
            assert f"{keep} keeps the old state" in hint and f"{write} replaces it" in hint
            wrong = hint.replace(keep, "#").replace(write, keep).replace("#", write)
            assert registry.check_text(wrong, Context(trace=trace, model=model)), "the swapped hint is false"


def test_every_template_reads_back_what_it_says():
    for key, c in registry.all_claims().items():
        values = {}
        for slot, kind in c.slots.items():
            values[slot] = {"int": 3, "gate": 0.25, "state": -0.5, "num2": 0.4, "pct": 0.3, "sci": 1e-5,
                            "span": np.array([0.1, 0.9]), "label": "h₂", "word": "z", "text": "1",
                            "prob": 0.5}[kind]
        sentence = registry.say(key.split("[")[0], c.clamped, **values)
        assert sentence.key == key
        assert not re.search(r",\s*[,.:;(]", sentence.text), f"a clamped gate's phrase runs into punctuation: {key}"
        assert [f.claim.key for f in registry.find(sentence.text)] == [key]


# ------------------------------------------------------------------------------- the registry is complete

ROOT = Path(__file__).resolve().parents[1]


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted((ROOT / "gru_viz").rglob("*.py"))]


def _said_keys(tree: ast.Module) -> list[tuple[str, bool]]:
    """The key of every ``say(...)`` call of a claim, as (key, whole): whole is False for an f-string's literal
    head. A module's own ``def say`` (your_model's message helper) is not a claim's."""
    own = any(isinstance(n, ast.FunctionDef) and n.name == "say" for n in tree.body)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        if not ((isinstance(func, ast.Name) and func.id == "say" and not own)
                or (isinstance(func, ast.Attribute) and func.attr == "say")):
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            out.append((arg.value, True))
        elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
            out.append((arg.values[0].value, False))
    return out


def test_every_said_key_is_a_declared_claim():
    """Every key the package says (by name, or an f-string's literal head) is declared in a collected book."""
    keys = set(registry.all_claims())
    said = [(p.relative_to(ROOT).as_posix(), key, whole) for p, tree in _sources() for key, whole in _said_keys(tree)]
    assert len(said) > 50, "the scan found too few say() calls to be looking at the right thing"
    missing = [(f, k) for f, k, whole in said if (k not in keys if whole else not any(x.startswith(k) for x in keys))]
    assert missing == []


def test_every_book_is_collected_and_only_there():
    """A module that declares claims has its own Book, listed in registry.CLAIM_MODULES; no module other than
    claims.py declares into the generic book (``claim`` imported from claims, or ``claims.claim``)."""
    collected = {m.__name__ for m in registry.CLAIM_MODULES}
    books, borrowed = set(), []
    for path, tree in _sources():
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and name != registry.__name__:
                func = node.value.func
                if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) == "Book":
                    books.add(name)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("claims"):
                borrowed += [name for a in node.names if a.name == "claim"]
            elif isinstance(node, ast.Attribute) and node.attr == "claim" and getattr(node.value, "id", "") == "claims":
                borrowed.append(name)
    assert books == collected
    assert borrowed == []
    assert all(isinstance(m.CLAIMS, claims.Book) for m in registry.CLAIM_MODULES)
