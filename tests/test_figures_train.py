"""The Train page's figures draw the Trainer's own numbers: curves equal the history (every k-th per-step value
when thinned, every evaluation), the chance line sits at the task's baseline, the bars at the final scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gru_viz.core.kinds import KIND, KINDS, WITH_W_HH
from gru_viz.core.tasks import get_task
from gru_viz.core.train import History, TrainConfig, make_trainers
from gru_viz.explain.palette import CELL_COLORS, CELL_DASH
from gru_viz.figures import train as figs


@pytest.fixture(scope="module")
def regression():
    """GRU and RNN after 12 steps of the adding problem (evaluated every 5 steps)."""
    config = TrainConfig(seq_len=8, batch_size=8, eval_size=16, eval_every=5)
    trainers = make_trainers("adding", ["gru", "rnn"], 4, config)
    for t in trainers.values():
        t.run(12)
    return get_task("adding"), {c: t.history for c, t in trainers.items()}


@pytest.fixture(scope="module")
def classification():
    """LSTM and minGRU after 10 steps of the sentiment task."""
    config = TrainConfig(seq_len=8, batch_size=8, eval_size=16, eval_every=5)
    trainers = make_trainers("sentiment", ["lstm", "mingru"], 4, config)
    for t in trainers.values():
        t.run(10)
    return get_task("sentiment"), {c: t.history for c, t in trainers.items()}


def traces(fig) -> dict[str, object]:
    """Traces by their ``meta`` tag: "<cell>:train", "<cell>:eval", "chance"."""
    return {t.meta: t for t in fig.data}


def test_loss_curves_are_the_history(regression):
    task, histories = regression
    fig = figs.curves_figure(histories, task.baseline(), "loss", total_steps=12)
    by = traces(fig)
    assert set(by) == {"gru:train", "gru:eval", "rnn:train", "rnn:eval", "chance"}
    for cell, h in histories.items():
        assert list(by[f"{cell}:train"].x) == h.step == list(range(1, 13))
        assert list(by[f"{cell}:train"].y) == h.loss
        assert list(by[f"{cell}:eval"].x) == h.eval_step == [0, 5, 10]
        assert list(by[f"{cell}:eval"].y) == h.eval_loss
        assert by[f"{cell}:eval"].line.color == CELL_COLORS[cell]
        assert by[f"{cell}:train"].line.color == CELL_COLORS[cell]
    assert fig.layout.yaxis.type == "log"
    assert tuple(fig.layout.xaxis.range) == (0, 12)


def test_chance_line_at_the_baseline(regression, classification):
    task, histories = regression
    chance = traces(figs.curves_figure(histories, task.baseline(), "loss"))["chance"]
    assert list(chance.y) == [task.baseline().loss] * 2 == [2 / 12] * 2
    assert chance.line.dash == "dash"
    task, histories = classification
    loss_chance = traces(figs.curves_figure(histories, task.baseline(), "loss", 10))["chance"]
    acc_chance = traces(figs.curves_figure(histories, task.baseline(), "accuracy", 10))["chance"]
    assert list(loss_chance.y) == [math.log(2)] * 2
    assert list(acc_chance.y) == [0.5, 0.5]
    assert list(acc_chance.x) == [0, 10]  # across the whole planned run


def test_accuracy_curves_are_the_history(classification):
    task, histories = classification
    fig = figs.curves_figure(histories, task.baseline(), "accuracy", total_steps=100)
    by = traces(fig)
    for cell, h in histories.items():
        assert list(by[f"{cell}:train"].y) == h.accuracy
        assert list(by[f"{cell}:eval"].x) == h.eval_step
        assert list(by[f"{cell}:eval"].y) == h.eval_accuracy
    assert tuple(fig.layout.yaxis.range) == (0, 1.02)
    assert tuple(fig.layout.xaxis.range) == (0, 100)


def test_long_runs_are_thinned_by_taking_every_kth_step():
    """1000 per-step values: every 2nd is drawn (exact values, not averages); evaluations are all drawn."""
    n = 1000
    rng = np.random.default_rng(0)
    h = History(step=list(range(1, n + 1)), loss=list(rng.uniform(0.01, 1, n)), grad_norm=[1.0] * n,
                seconds=[0.001] * n, eval_step=list(range(0, n + 1, 10)), eval_loss=list(rng.uniform(0.01, 1, 101)))
    fig = figs.curves_figure({"gru": h}, get_task("adding").baseline(), "loss", max_points=500)
    by = traces(fig)
    assert figs.stride(n, 500) == 2
    assert list(by["gru:train"].x) == h.step[::2]
    assert list(by["gru:train"].y) == h.loss[::2]
    assert len(by["gru:train"].x) <= 500
    assert list(by["gru:eval"].y) == h.eval_loss
    assert figs.stride(5, 500) == 1 and figs.stride(501, 500) == 2 and figs.stride(1500, 500) == 3


def test_an_empty_history_draws_the_chance_line_only():
    fig = figs.curves_figure({"gru": History()}, get_task("recall").baseline(), "accuracy")
    by = traces(fig)
    assert list(by["gru:train"].x) == [] and list(by["gru:eval"].x) == []
    assert list(by["chance"].y) == [0.25, 0.25]


def test_unknown_metric_is_refused(regression):
    task, histories = regression
    with pytest.raises(ValueError, match="metric"):
        figs.curves_figure(histories, task.baseline(), "perplexity")


def test_score_bars_are_the_scores_with_chance_marked():
    fig = figs.scores_figure(list(WITH_W_HH), [0.001, 0.05, float("nan")], 1 / 6, "held-out MSE")
    bars = fig.data[0]
    assert list(bars.x) == [0.001, 0.05, 0.0]
    assert list(bars.y) == ["GRU", "LSTM", "vanilla RNN"]
    assert list(bars.text) == ["0.001", "0.05", "diverged"]
    assert list(bars.marker.color) == [CELL_COLORS["gru"], CELL_COLORS["lstm"], CELL_COLORS["rnn"]]
    (line,) = fig.layout.shapes
    assert line.x0 == line.x1 == 1 / 6 and line.line.dash == "dash"
    acc = figs.scores_figure(["gru"], [0.984], 0.5, "held-out accuracy", percent=True)
    assert list(acc.data[0].text) == ["98.4%"]
    assert acc.layout.shapes[0].x0 == 0.5


def test_every_kind_has_its_name_colour_and_dash():
    """Every kind of the registry is drawn under its own name, in its own colour and dash (no fallback grey)."""
    h = History(step=[1, 2, 3], loss=[1.0, 0.5, 0.2], accuracy=[], eval_step=[1, 3], eval_loss=[0.9, 0.3],
                eval_accuracy=[])
    by = traces(figs.curves_figure({k: h for k in KINDS}, get_task("adding").baseline(20), "loss"))
    for k in KINDS:
        assert by[f"{k}:eval"].name == KIND[k].name
        assert by[f"{k}:eval"].line.color == by[f"{k}:train"].line.color == CELL_COLORS[k]
        assert by[f"{k}:eval"].line.dash == CELL_DASH[k]
    bars = figs.scores_figure(list(KINDS), [0.1] * len(KINDS), 0.5, "held-out MSE").data[0]
    assert list(bars.y) == [KIND[k].name for k in KINDS]
    assert list(bars.marker.color) == [CELL_COLORS[k] for k in KINDS]
    with pytest.raises(KeyError):
        figs.scores_figure(["lstm2"], [0.1], 0.5)  # not a kind: refused rather than drawn in a borrowed colour
