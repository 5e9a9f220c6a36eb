"""Training core: tasks, readout losses and gradients, Adam + clipping against torch, the Trainer, saved files.

torch (float64) is the reference: nn.GRU / nn.LSTM / nn.RNN loaded with our weights through load_state_dict,
nn.Linear for the readout, F.mse_loss / F.cross_entropy, torch.optim.Adam and clip_grad_norm_.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gru_viz.core.kinds import KINDS
from gru_viz.core.model import Model
from gru_viz.core.params import init_params
from gru_viz.core.spec import Spec
from gru_viz.core.tasks import (
    AR2_COEFFS,
    AR2_NOISE,
    RECALL_SHOWN,
    SENTENCES,
    TASKS,
    VOCAB,
    TaskError,
    decode_words,
    get_task,
    sentiment_of,
)
from gru_viz.core.train import (
    Adam,
    Readout,
    TrainConfig,
    Trainer,
    TrainError,
    clip_grad_norm,
    cross_entropy,
    init_readout,
    load_trained_file,
    log_softmax,
    loss_and_grads,
    make_trainers,
    readout_loss,
    run_together,
    save_trained,
)
from gru_viz.io.trained import TRAINED_PRESETS, load_trained

ATOL = 1e-10
TORCH_MODULES = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}


def torch_pair(model: Model, readout: Readout):
    """torch modules (float64) holding the same weights as our model and readout."""
    s = model.spec
    rnn = TORCH_MODULES[s.kind](s.input_size, s.hidden_size, num_layers=s.num_layers).double()
    rnn.load_state_dict({k: torch.tensor(v) for k, v in model.params.items()})
    lin = torch.nn.Linear(readout.weight.shape[1], readout.weight.shape[0]).double()
    lin.load_state_dict({"weight": torch.tensor(readout.weight), "bias": torch.tensor(readout.bias)})
    return rnn, lin


def torch_loss(rnn, lin, x: np.ndarray, y: np.ndarray, kind: str, where: str) -> torch.Tensor:
    """The same loss in torch: module, linear readout at the last / every step, MSE or cross-entropy."""
    out, _ = rnn(torch.tensor(x))
    pred = lin(out[-1] if where == "last" else out)
    if kind == "classification":
        return F.cross_entropy(pred.reshape(-1, pred.shape[-1]), torch.tensor(y).reshape(-1))
    return F.mse_loss(pred, torch.tensor(y))


# ---------------------------------------------------------------------------------------------- tasks


@pytest.mark.parametrize("key", list(TASKS))
@pytest.mark.parametrize("T", [None, 12])
def test_task_shapes(key, T):
    task = TASKS[key]
    T = max(T, task.min_steps) if T else None
    x, y = task.batch(5, np.random.default_rng(0), T)
    steps = task.steps(T)
    assert x.shape == (steps, 5, task.input_size) and x.dtype == np.float64
    if task.kind == "classification":
        assert y.dtype == np.int64 and y.min() >= 0 and y.max() < task.n_classes
        assert len(task.class_names) == task.n_classes == task.output_size
    else:
        assert y.dtype == np.float64 and task.output_size == 1
    assert y.shape == ((5,) if task.kind == "classification" else (5, 1)) if task.target == "last" else True
    if task.target == "every":
        assert y.shape == (steps, 5, 1)
    assert len(task.channel_names) == task.input_size
    ex = task.example(np.random.default_rng(1), T)
    assert ex.x.shape == (steps, task.input_size) and len(ex.labels) == steps and ex.answer
    assert task.info()["baseline"]["loss"] == task.baseline().loss


@pytest.mark.parametrize("key", list(TASKS))
def test_task_determinism(key):
    task = TASKS[key]
    a = task.sample(7, np.random.default_rng(3))
    b = task.sample(7, np.random.default_rng(3))
    c = task.sample(7, np.random.default_rng(4))
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert all(np.array_equal(a.meta[k], b.meta[k]) for k in a.meta)
    assert not np.array_equal(a.x, c.x)
    assert task.example(np.random.default_rng(5)).labels == task.example(np.random.default_rng(5)).labels


def test_task_errors():
    with pytest.raises(TaskError):
        get_task("nope")
    with pytest.raises(TaskError):
        TASKS["sentiment"].batch(2, np.random.default_rng(0), 3)  # shorter than the longest sentence
    with pytest.raises(TaskError):
        TASKS["adding"].batch(0, np.random.default_rng(0))


def test_chance_baselines_by_hand():
    """The stated chance levels, worked out by hand, and checked against a large sample where they are MSEs."""
    assert TASKS["adding"].baseline().loss == pytest.approx(1 / 6)  # Var(U + U) = 2/12
    assert TASKS["recall"].baseline().loss == pytest.approx(math.log(4))
    assert TASKS["recall"].baseline().accuracy == 0.25
    assert TASKS["sine"].baseline().loss == pytest.approx(0.5 + 0.01)
    assert TASKS["sine"].baseline().floor == pytest.approx(0.01)
    # γ0 = (1 − a2) σ² / ((1 + a2)((1 − a2)² − a1²)) = 1.8 · 0.04 / (0.2 · 0.68)
    assert (AR2_COEFFS, AR2_NOISE) == ((1.6, -0.8), 0.2)
    assert TASKS["ar2"].baseline().loss == pytest.approx(0.072 / 0.136)
    for key in ("anomaly", "sentiment"):
        assert TASKS[key].baseline().loss == pytest.approx(math.log(2))
        assert TASKS[key].baseline().accuracy == 0.5
    rng = np.random.default_rng(0)
    for key, guess in (("adding", 1.0), ("sine", 0.0), ("ar2", 0.0)):  # the guess each baseline names
        task = TASKS[key]
        _, y = task.batch(4000, rng)
        assert np.mean((y - guess) ** 2) == pytest.approx(task.baseline().loss, rel=0.05)
    for key in ("anomaly", "sentiment", "recall"):
        _, y = TASKS[key].batch(4000, rng)
        freq = np.bincount(y) / len(y)
        assert freq.max() == pytest.approx(TASKS[key].baseline().accuracy, abs=0.03)


def test_adding_targets_are_the_marked_sums():
    x, y = TASKS["adding"].batch(50, np.random.default_rng(0), 16)
    assert np.all(x[:, :, 1].sum(axis=0) == 2)
    assert np.all(x[:8, :, 1].sum(axis=0) == 1)  # one marker in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=0))
    ex = TASKS["adding"].example(np.random.default_rng(2), 10)
    assert sum(label.endswith("●") for label in ex.labels) == 2 and ex.labels[0].startswith("v=")


def test_recall_targets_and_blanks():
    x, y = TASKS["recall"].batch(50, np.random.default_rng(0), 9)
    assert np.array_equal(x[0].argmax(axis=1), y)
    assert np.all(x[RECALL_SHOWN:, :, -1] == 1)  # blanks after the shown symbols
    assert np.all(x[:RECALL_SHOWN, :, -1] == 0)


def test_forecast_targets_are_the_next_inputs():
    for key in ("sine", "ar2"):
        x, y = TASKS[key].batch(4, np.random.default_rng(0), 20)
        np.testing.assert_array_equal(y[:-1], x[1:])


def test_anomaly_meta_marks_the_glitch():
    b = TASKS["anomaly"].sample(400, np.random.default_rng(0), 30)
    g = b.meta["glitch_step"]
    assert np.array_equal(b.y, (g >= 0).astype(int))
    assert np.all(g != 0)
    # the glitch is a jump well above the noise: the second difference there is large
    d2 = np.abs(np.diff(b.x[:, :, 0], 2, axis=0))
    rows = np.flatnonzero((g >= 1) & (g <= 28))
    assert np.all(d2[g[rows] - 1, rows] > 0.5)
    ex = TASKS["anomaly"].example(np.random.default_rng(3))
    assert (sum("⚡" in label for label in ex.labels) == 1) == (ex.answer == "glitch")


def test_sentiment_grammar_and_negation():
    assert len(SENTENCES) == 16 and sum(label for _, label in SENTENCES) == 8
    for words, label in SENTENCES:
        assert label == sentiment_of(words)
        assert label == (("good" in words) != ("not" in words))  # "not" flips, "very" does not
    assert sentiment_of("the movie is not bad".split()) == 1
    assert sentiment_of("the very good movie".split()) == 1
    assert sentiment_of("the movie is not very good".split()) == 0
    b = TASKS["sentiment"].sample(300, np.random.default_rng(0), 9)
    for i in range(300):
        words = decode_words(b.x[:, i])
        assert b.y[i] == sentiment_of(words)
        assert tuple(words) == SENTENCES[b.meta["sentence"][i]][0]
        assert VOCAB[b.x[-1, i].argmax()] in ("good", "bad", "movie")  # left-padded: the sentence ends at T − 1
    ex = TASKS["sentiment"].example(np.random.default_rng(0), 8)
    assert ex.labels[0] == "<pad>" and ex.answer in ("positive", "negative")


# --------------------------------------------------------------------------------- readout and losses


@pytest.mark.parametrize("where", ["last", "every"])
@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_readout_loss_grads_vs_torch(where, kind):
    rng = np.random.default_rng(0)
    T, B, Fe, O = 6, 5, 4, 3
    output = rng.standard_normal((T, B, Fe))
    readout = init_readout(Fe, O, where, seed=1)
    shape = (B,) if where == "last" else (T, B)
    y = rng.integers(0, O, shape) if kind == "classification" else rng.standard_normal((*shape, O))
    lg = readout_loss(readout, output, y, kind)

    out_t = torch.tensor(output, requires_grad=True)
    w = torch.tensor(readout.weight, requires_grad=True)
    b = torch.tensor(readout.bias, requires_grad=True)
    pred = (out_t[-1] if where == "last" else out_t) @ w.T + b
    if kind == "classification":
        loss = F.cross_entropy(pred.reshape(-1, O), torch.tensor(y).reshape(-1))
    else:
        loss = F.mse_loss(pred, torch.tensor(y))
    loss.backward()
    assert lg.loss == pytest.approx(loss.item(), abs=1e-13)
    np.testing.assert_allclose(lg.d_output, out_t.grad.numpy(), atol=1e-13)
    np.testing.assert_allclose(lg.d_weight, w.grad.numpy(), atol=1e-13)
    np.testing.assert_allclose(lg.d_bias, b.grad.numpy(), atol=1e-13)
    if kind == "classification":
        assert lg.accuracy == np.mean(pred.detach().numpy().argmax(-1) == y)


def test_log_softmax_is_stable():
    z = np.array([[1000.0, 0.0, -1000.0], [1e308, 1e308, 0.0]])
    out = log_softmax(z)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0, :2], [0.0, -1000.0])
    loss, grad = cross_entropy(z, np.array([2, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    ("kind", "task"),
    [("gru", "adding"), ("gru", "sentiment"), ("lstm", "recall"), ("rnn", "sine"), ("lstm", "ar2"), ("rnn", "anomaly")],
)
def test_training_step_grads_vs_torch(kind, task):
    task = get_task(task)
    spec = Spec(kind, task.input_size, 7)
    model = Model(spec, init_params(spec, seed=3))
    readout = init_readout(7, task.output_size, task.target, seed=4)
    x, y = task.batch(5, np.random.default_rng(0), max(task.min_steps, 9))
    sg = loss_and_grads(model, readout, x, y, task.kind)
    rnn, lin = torch_pair(model, readout)
    loss = torch_loss(rnn, lin, x, y, task.kind, task.target)
    loss.backward()
    assert sg.loss == pytest.approx(loss.item(), abs=ATOL)
    for name, p in rnn.named_parameters():
        np.testing.assert_allclose(sg.grads[name], p.grad.numpy(), atol=ATOL, err_msg=name)
    np.testing.assert_allclose(sg.grads["readout.weight"], lin.weight.grad.numpy(), atol=ATOL)
    np.testing.assert_allclose(sg.grads["readout.bias"], lin.bias.grad.numpy(), atol=ATOL)


# ---------------------------------------------------------------------------------- Adam and clipping


@pytest.mark.parametrize(
    ("kind", "clip", "betas"),
    [("gru", 0.5, (0.9, 0.999)), ("gru", None, (0.9, 0.999)), ("lstm", 0.2, (0.3, 0.99)), ("rnn", 1.0, (0.9, 0.999))],
)
def test_adam_and_clipping_match_torch(kind, clip, betas):
    """Three updates (bias correction at work) equal torch.optim.Adam after clip_grad_norm_, to 1e-12."""
    task = get_task("adding")
    config = TrainConfig(seq_len=8, batch_size=6, lr=0.05, betas=betas, eps=1e-8, clip=clip, init_seed=2)
    trainer = Trainer(task, Spec(kind, 2, 5), config)
    rnn, lin = torch_pair(trainer.model, trainer.readout)
    params = list(rnn.parameters()) + list(lin.parameters())
    opt = torch.optim.Adam(params, lr=config.lr, betas=betas, eps=config.eps)
    rng = np.random.default_rng(9)
    for _ in range(3):
        x, y = task.batch(6, rng, 8)
        record = trainer.update(x, y)
        opt.zero_grad()
        torch_loss(rnn, lin, x, y, task.kind, task.target).backward()
        if clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, clip).item()
        else:
            norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])).item()
        opt.step()
        assert record.grad_norm == pytest.approx(norm, rel=1e-12)
        for name, p in rnn.named_parameters():
            np.testing.assert_allclose(trainer.model.params[name], p.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(trainer.readout.weight, lin.weight.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(trainer.readout.bias, lin.bias.detach().numpy(), rtol=0, atol=1e-12)
    assert clip is None or max(trainer.history.grad_norm) > clip  # the clipping was exercised


def test_clip_grad_norm_rule():
    g = np.array([3.0, 4.0])
    assert clip_grad_norm(g, 10.0) == 5.0 and np.array_equal(g, [3.0, 4.0])
    assert clip_grad_norm(g, 1.0) == 5.0
    np.testing.assert_allclose(g, np.array([3.0, 4.0]) / (5.0 + 1e-6))


def test_adam_rejects_bad_settings():
    with pytest.raises(TrainError):
        Adam(3, lr=0.0)
    with pytest.raises(TrainError):
        Adam(3, betas=(1.0, 0.9))


# --------------------------------------------------------------------------------------------- trainer


def _fingerprint(t: Trainer) -> tuple:
    h = t.history
    return (h.step, h.loss, h.accuracy, h.grad_norm, h.eval_step, h.eval_loss, h.eval_accuracy, t._flat.tolist())


def test_same_seed_same_history():
    config = TrainConfig(seq_len=10, batch_size=8, seed=5, init_seed=6, eval_size=32, eval_every=4)
    a = Trainer.for_cell("recall", "gru", 8, config)
    b = Trainer.for_cell("recall", "gru", 8, config)
    a.run(20)
    b.run(20)
    assert _fingerprint(a) == _fingerprint(b)
    assert len(a.history.seconds) == 20 and len(a.history.accuracy) == 20
    assert a.history.eval_step == [0, 4, 8, 12, 16, 20]
    c = Trainer.for_cell("recall", "gru", 8, TrainConfig(seq_len=10, batch_size=8, seed=7, init_seed=6, eval_size=32))
    c.run(20)
    assert c.history.loss != a.history.loss


@pytest.mark.parametrize("cell", KINDS)
def test_stop_and_resume_equals_uninterrupted(cell):
    config = TrainConfig(seq_len=12, batch_size=8, seed=1, eval_size=32, eval_every=5)
    straight = Trainer.for_cell("adding", cell, 8, config)
    assert straight.run(30) == 30

    stopped = Trainer.for_cell("adding", cell, 8, config)
    calls = []

    def stop_at_13(t: Trainer) -> bool:
        calls.append(t.steps_done)
        return t.steps_done < 13

    assert stopped.run(30, callback=stop_at_13, every=1) == 13
    state = stopped.state()
    stopped.step()  # the snapshot is a copy: going on does not change it
    resumed = Trainer.from_state(state)
    assert resumed.run(17) == 17
    assert _fingerprint(resumed) == _fingerprint(straight)

    in_place = Trainer.for_cell("adding", cell, 8, config)  # stopping and calling run again
    in_place.run(7)
    in_place.run(23, callback=lambda t: None, every=4)
    assert _fingerprint(in_place) == _fingerprint(straight)


def test_run_callback_every_and_stop_hooks():
    t = Trainer.for_cell("sentiment", "gru", 4, TrainConfig(batch_size=4, eval_size=16))
    seen = []
    t.run(10, callback=lambda tr: seen.append(tr.steps_done), every=4)
    assert seen == [4, 8, 10]

    class StopAfter(Trainer):
        def should_stop(self) -> bool:
            return self.steps_done >= 3

    s = StopAfter.for_cell("sentiment", "gru", 4, TrainConfig(batch_size=4, eval_size=16))
    assert s.run(10) == 3
    r = Trainer.for_cell("sentiment", "gru", 4, TrainConfig(batch_size=4, eval_size=16))
    assert r.run(10, callback=lambda tr: tr.request_stop(), every=2) == 2
    assert r.run(1000, max_seconds=0.0) == 1


def test_cells_see_the_same_batches():
    config = TrainConfig(seq_len=10, batch_size=4, seed=3, eval_size=16)
    trainers = make_trainers("adding", [*KINDS, "gru-z-takes"], 6, config)
    batches = {k: [t.next_batch() for _ in range(3)] for k, t in trainers.items()}
    first = batches["gru"]
    for k, bs in batches.items():
        for (x, y), (x0, y0) in zip(bs, first, strict=True):
            assert np.array_equal(x, x0) and np.array_equal(y, y0), k
        assert np.array_equal(trainers[k].eval_x, trainers["gru"].eval_x)
    fresh = make_trainers("adding", ["gru", "rnn"], 6, config)
    rounds = []

    def note(ts) -> None:
        rounds.append([t.steps_done for t in ts.values()])

    assert run_together(fresh, 10, callback=note, every=4) == {"gru": 10, "rnn": 10}
    assert rounds == [[4, 4], [8, 8], [10, 10]]


def diverge_from(trainer: Trainer, call: int) -> None:
    """Make the trainer's ``call``-th batch (from 1) and every later one have infinite targets: its loss is not
    finite there, so it diverges at that step."""
    calls = []
    real = trainer.next_batch

    def batch():
        calls.append(1)
        x, y = real()
        return (x, y * np.inf) if len(calls) >= call else (x, y)

    trainer.next_batch = batch


def test_run_together_does_not_count_the_steps_of_a_diverged_cell():
    """Once one of them diverged: the other trains on, the diverged one makes no more steps, and neither the
    step at which it diverged nor the turns it sat out are counted."""
    config = TrainConfig(seq_len=10, batch_size=4, seed=3, eval_size=16, clip=None)
    trainers = make_trainers("adding", ["gru", "rnn"], 6, config)
    diverge_from(trainers["rnn"], 3)
    with np.errstate(invalid="ignore", over="ignore"):
        made = run_together(trainers, 10, every=4)
    assert made == {"gru": 10, "rnn": 2}
    rnn = trainers["rnn"]
    assert rnn.diverged and rnn.diverged_at == 3 and rnn.steps_done == 2 and rnn.history.step == [1, 2]
    assert trainers["gru"].steps_done == 10 and not trainers["gru"].diverged and trainers["gru"].diverged_at is None
    state = rnn.state()
    assert Trainer.from_state(state).diverged_at == 3  # kept across a snapshot


def test_trainer_run_does_not_count_the_step_that_diverged():
    t = Trainer.for_cell("adding", "gru", 4, TrainConfig(seq_len=6, batch_size=4, eval_size=8, clip=None))
    diverge_from(t, 4)
    seen = []
    with np.errstate(invalid="ignore", over="ignore"):
        assert t.run(10, callback=lambda tr: seen.append(tr.steps_done), every=100) == 3
    assert t.diverged_at == 4 and seen == [3]  # the callback still hears of it, once


def test_trainer_rejects_mismatches():
    with pytest.raises(TrainError):
        Trainer("adding", Spec("gru", 3, 4))
    with pytest.raises(TrainError):
        Trainer("adding", Spec("gru", 2, 4, batch_first=True))
    with pytest.raises(TrainError):
        Trainer("adding", Spec("gru", 2, 4), readout=init_readout(4, 2, "last"))


def test_forget_bias_shifts_only_the_lstm_forget_gate():
    plain = Trainer.for_cell("adding", "lstm", 4, TrainConfig(eval_size=4, init_seed=3))
    biased = Trainer.for_cell("adding", "lstm", 4, TrainConfig(eval_size=4, init_seed=3, forget_bias=1.0))
    diff = biased._flat - plain._flat
    b = biased._layout.slices["bias_ih_l0"]
    np.testing.assert_allclose(diff[b], [0.0] * 4 + [1.0] * 4 + [0.0] * 8)
    assert np.count_nonzero(diff) == 4
    gru = Trainer.for_cell("adding", "gru", 4, TrainConfig(eval_size=4, forget_bias=1.0))
    assert np.array_equal(gru._flat, Trainer.for_cell("adding", "gru", 4, TrainConfig(eval_size=4))._flat)


def test_divergence_stops_without_updating():
    t = Trainer.for_cell("adding", "gru", 4, TrainConfig(seq_len=6, batch_size=4, eval_size=8, clip=None))
    before = t._flat.copy()
    x, y = t.next_batch()
    with np.errstate(invalid="ignore"):
        rec = t.update(x, y * np.inf)
    assert t.diverged and not math.isfinite(rec.loss)
    assert np.array_equal(t._flat, before) and t.run(5) == 0


def test_predict_shapes():
    t = Trainer.for_cell("sine", "gru", 5, TrainConfig(eval_size=8))
    ex = t.task.example(np.random.default_rng(0))
    p = t.predict(ex.x)
    assert p.output.shape == (40, 1) and p.classes is None and p.trace.steps == 40
    c = Trainer.for_cell("recall", "lstm", 5, TrainConfig(eval_size=8))
    p = c.predict(c.task.example(np.random.default_rng(0)).x)
    assert p.output.shape == (4,) and p.output.sum() == pytest.approx(1.0) and p.classes.shape == ()
    x, _ = c.task.batch(3, np.random.default_rng(0))
    assert c.predict(x).output.shape == (3, 4) and c.predict(x).classes.shape == (3,)


def test_gru_learns_the_adding_problem():
    """A small GRU on T = 10 gets far below chance (1/6) in a few hundred steps."""
    start = time.process_time()  # CPU time: the training's own cost, not how busy the machine is
    t = Trainer.for_cell("adding", "gru", 16, TrainConfig(seq_len=10, batch_size=32, lr=0.01, seed=0, eval_every=50))
    t.run(400)
    chance = t.task.baseline().loss
    assert t.history.eval_loss[0] > 0.5 * chance  # starts near (or above) chance
    assert t.history.eval_loss[-1] < 0.1 * chance, t.history.eval_loss
    assert time.process_time() - start < 30


# ------------------------------------------------------------------------------------------ files


def test_save_and_load_round_trip(tmp_path):
    t = Trainer.for_cell("sentiment", "lstm", 6, TrainConfig(batch_size=8, eval_size=32, eval_every=5))
    t.run(10)
    path = t.export(tmp_path / "model.npz", name="test", description="a test model")
    with np.load(path, allow_pickle=False) as z:
        assert "meta" in z.files and z["meta"].dtype.kind == "U"
    loaded = load_trained_file(path)
    assert loaded.task.key == "sentiment" and loaded.seq_len == 8 and loaded.model.spec == t.model.spec
    assert loaded.name == "test" and loaded.description == "a test model" and loaded.meta["steps_done"] == 10
    x, _ = t.task.batch(4, np.random.default_rng(0))
    np.testing.assert_array_equal(loaded.predict(x).output, t.predict(x).output)
    assert loaded.history().eval_step == [0, 5, 10]
    assert loaded.evaluate(n=64).accuracy is not None
    more = loaded.trainer(TrainConfig(batch_size=8, eval_size=16))
    more.run(2)
    np.testing.assert_array_equal(loaded.predict(x).output, t.predict(x).output)  # the loaded copy is untouched


def test_load_rejects_foreign_files(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, a=np.zeros(3))
    with pytest.raises(TrainError):
        load_trained_file(p)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(TrainError):
        load_trained_file(bad)


def test_save_trained_without_trainer(tmp_path):
    spec = Spec("gru", 2, 3)
    model = Model(spec, init_params(spec))
    path = save_trained(tmp_path / "m", model, init_readout(3, 1), get_task("adding"), 20)
    assert path.name == "m" and load_trained_file(path).seq_len == 20


@pytest.mark.parametrize("key", list(TRAINED_PRESETS))
def test_trained_presets_load_and_beat_chance(key):
    preset = TRAINED_PRESETS[key]
    assert preset.path.stat().st_size < 200_000
    tm = load_trained(key)
    assert tm.task.key == preset.task
    ev = tm.evaluate(n=256, seed=77)
    base = tm.task.baseline(tm.seq_len)
    assert ev.loss < 0.2 * base.loss
    if base.accuracy is not None:
        assert ev.accuracy > 0.9
