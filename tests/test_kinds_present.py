"""The presentation layers know every kind through the registry: a table that misses a kind fails at import, every
words and figures table covers every kind of :mod:`gru_viz.core.kinds`, and no kind is told about or drawn
with another kind's words or colours."""

from __future__ import annotations

import numpy as np
import pytest

from gru_viz.core.kinds import KIND, KINDS, TABLES, per_kind
from gru_viz.core.params import random_model
from gru_viz.core.spec import Spec
from gru_viz.core.tasks import get_task
from gru_viz.explain import claims, equations, gradients, narration, palette, predict, registry, symbols, trained  # noqa: F401
from gru_viz.figures import cell, compare, flow, timeline  # noqa: F401  (they register their tables on import)

# The per-kind tables of the words and figures layers, by the name each registers.
PRESENTATION = {
    "explain.cell_colors", "explain.cell_dash", "explain.shares", "explain.meanings", "explain.equations",
    "explain.narration", "explain.layer_summary", "explain.ablation_hint", "explain.layer_shares",
    "explain.learned", "figures.diagram", "figures.step_values", "figures.unit_quantities", "figures.timeline",
    "figures.compare_lines", "explain.gradients.bullets", "explain.predict.guessable",
}


def test_a_table_missing_a_kind_fails_and_names_it():
    with pytest.raises(KeyError, match=f"lacks {KINDS[-1]}"):
        per_kind("x", {k: 1 for k in KINDS[:-1]})
    with pytest.raises(KeyError, match="names unknown kinds lstm2"):
        per_kind("x", {**{k: 1 for k in KINDS}, "lstm2": 1})
    assert "x" not in TABLES, "a refused table is not registered"


def test_every_presentation_table_covers_every_kind():
    shown = {name for name in TABLES if name.startswith(("explain.", "figures."))}
    assert shown == PRESENTATION
    for name in PRESENTATION:
        assert set(TABLES[name]) == set(KINDS), name


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_drawn_and_told_in_its_own_terms(kind):
    """Every kind has a diagram whose wires all carry a value and a meaning, equations whose lines are its
    quantities, and a colour and dash of its own."""
    spec = Spec(kind, 2, 3)
    model = random_model(spec, 0)
    trace = model.run(np.random.default_rng(0).normal(size=(4, 2)))
    values = cell.step_values(trace, 1, 2)
    words = symbols.meanings(kind)
    d = cell.diagram_of(spec)
    for key in {w.value_key for w in d.wires} | {n.key for n in d.nodes if n.key}:
        assert key in values and key in words, key
    lines = [line.name for line in equations.step_equations(model, trace, 1, 2)]
    assert set(cell.unit_quantities(spec)) == set(lines), "a row of bars per equation line"
    assert palette.CELL_COLORS[kind] not in palette.COLORS.values()
    assert list(palette.CELL_DASH.values()).count(palette.CELL_DASH[kind]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_what_a_trained_model_learned_holds_for_every_kind(kind):
    """The sentence about a carrying unit's gates (none for a gateless RNN) is a claim that holds on the run."""
    task = get_task("recall")
    model = random_model(Spec(kind, task.input_size, 6), 3)
    trace = model.run(task.example(np.random.default_rng(0)).x)
    sentence = trained.learned(model, task, trace)
    if sentence is None:  # a gateless RNN, or no unit whose final state moves visibly (h = 0.000 against 0.000)
        _, here, there = trained.carrier(model, trace, trained.counterfactual(task, trace.layer(0).x[:, 0]))
        assert not KIND[kind].sigmoid or claims.state_text(here) == claims.state_text(there), (here, there)
        return
    ctx = claims.Context(trace=trace, model=model, values={"trained": (None, task)})
    assert registry.check_text(sentence.text, ctx) == []
    assert [f.claim.key for f in registry.find(sentence.text)] == [sentence.key]


def test_the_gradient_flow_sentence_about_minlstm_holds():
    """diag(f′) is the whole step Jacobian: the sentence's norm is ‖∂h_T/∂h_0‖ of the run, and a wrong one is caught."""
    from gru_viz.core.grad import gradient_flow

    model = random_model(Spec("minlstm", 1, 4), 2)
    x = np.sin(np.arange(12.0))[:, None]
    norm = float(gradient_flow(model, x).dh[0])
    ctx = claims.Context(models={"minlstm": model}, traces={"minlstm": model.run(x)})
    sentence = claims.say("gradients.minlstm", norm=norm)
    assert registry.check_text(sentence.text, ctx) == []
    assert registry.check_text(claims.say("gradients.minlstm", norm=norm * 3).text, ctx)
