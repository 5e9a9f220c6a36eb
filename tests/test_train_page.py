"""The Train page: its logic (gru_viz.app.train: settings checks, caps, chunked runs, Stop, hand-off) and the page
in Streamlit's AppTest — a tiny race trained to completion, its curves and history, bad settings, Stop mid-run,
and the trained model opened on the step-through and timeline pages. A page never shows a traceback: every run
fails on an exception or an error box the test does not expect (tests/apptest_support.py)."""

from __future__ import annotations

import math
from dataclasses import replace
from urllib.parse import parse_qs

import numpy as np
import pytest
from apptest_support import open_page as open_app
from streamlit.testing.v1 import AppTest

from gru_viz.app import train as tu
from gru_viz.app import ui
from gru_viz.core.kinds import WITH_W_HH
from gru_viz.core.sequences import parse_sequence
from gru_viz.core.tasks import TASKS, decode_words, get_task
from gru_viz.io.trained import TRAINED_PRESETS
from gru_viz.serve import state
from gru_viz.serve.limits import LIMITS

PAGE = "pages/train.py"
RUN, KEYS = "train_run", {"task": "train_task", "seq_len": "train_seq_len", "hidden": "train_hidden",
                          "lr": "train_lr", "batch": "train_batch", "steps": "train_steps", "cells": "train_cells"}
TINY = {"seq_len": 10, "hidden": 6, "steps": 20, "batch": 8}


# ------------------------------------------------------------------------------------------ helpers


def open_page(expect: tuple[str, ...] = (), **settings: object) -> AppTest:
    """The Train page on a session's first run, then with some settings' widgets set (showing the error boxes
    ``expect`` names)."""
    at = open_app(PAGE)
    with at.expecting(*expect):
        return set_settings(at, **settings)


def set_settings(at: AppTest, **settings: object) -> AppTest:
    for name, value in settings.items():
        at.session_state[KEYS[name]] = value
    return at.run()


def assert_rounded_for_people(text: str, shown: np.ndarray, exact: np.ndarray) -> None:
    """The sequence box holds the example rounded to TYPED_DIGITS significant digits: close, and short."""
    np.testing.assert_allclose(shown, exact, rtol=5 * 10.0 ** -tu.TYPED_DIGITS, atol=1e-12)
    digits = [len(tok.lstrip("-").replace(".", "").lstrip("0")) for tok in text.replace(";", " ").replace(",", " ")
              .split()]
    assert max(digits) <= tu.TYPED_DIGITS, text[:200]


def start(at: AppTest) -> tu.Run:
    at.button(key="train_start").click().run()
    return at.session_state[RUN]


def finish(at: AppTest, run: tu.Run) -> tu.Run:
    """Rerun the page until the run is over: AppTest runs the training fragment once per script run, one chunk
    each (a busy machine may need more than one chunk for a tiny race)."""
    for _ in range(100):
        if not run.running:
            break
        at.run()
    assert not run.running
    return run


def chart_keys(at: AppTest) -> list[str]:
    """Keys of the Plotly charts on the page (from their element ids: "…-<key>")."""
    return [c.proto.id for c in at.get("plotly_chart")]


# ------------------------------------------------------------------------------------------ settings


def test_defaults_are_valid_and_within_the_caps():
    d = tu.DEFAULTS
    settings, problems = tu.check_settings(d.task, d.seq_len, d.hidden, d.lr, d.batch, d.steps, list(d.cells))
    assert problems == [] and settings == d
    # training keeps its own cap (a run in the page's time): the pages read H up to 512, training makes 64
    assert d.hidden <= tu.MAX_HIDDEN == LIMITS.train_hidden == 64 < state.PROPS["hidden"].high == 512
    assert d.steps <= tu.MAX_TRAIN_STEPS and d.batch <= tu.MAX_BATCH and 0 < d.lr <= tu.MAX_LR


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seq_len": 1}, "Sequence length T for “Adding problem” must be a whole number from 2 to 200"),
        ({"seq_len": 201}, "from 2 to 200 (got 201)"),
        ({"seq_len": 10.5}, "Sequence length T"),
        ({"task": "sentiment", "seq_len": 5}, "from 6 to 200"),
        ({"hidden": 0}, "Hidden size H must be a whole number from 1 to 64 (got 0)"),
        ({"hidden": 65}, "from 1 to 64 (got 65)"),
        ({"hidden": -3}, "Hidden size H"),
        ({"lr": 0}, "The learning rate must be a number above 0 (got 0)"),
        ({"lr": -0.01}, "above 0"),
        ({"lr": float("nan")}, "above 0"),
        ({"lr": None}, "above 0"),
        ({"lr": 50.0}, "A learning rate of 50 is far too large"),
        ({"steps": 0}, "Training steps must be a whole number from 1 to 5000"),
        ({"steps": 10**9}, "A run also stops after 120 s"),
        ({"steps": float("inf")}, "Training steps"),
        ({"batch": 0}, "Batch size must be a whole number from 1 to 128"),
        ({"seq_len": 200, "batch": 128, "hidden": 64}, "Length × batch × hidden is 1,638,400; this page trains at most "
                                                        "819,200 per step"),
        ({"batch": 100_000}, "Batch size"),
        ({"seed": -1}, "Seed must be"),
        ({"cells": []}, "Pick at least one cell"),
        ({"cells": ["gru", "transformer"]}, "Unknown cell 'transformer'"),
        ({"task": "chess"}, "Unknown task 'chess'"),
    ],
)
def test_bad_settings_get_one_clear_message_each(change, message):
    values = {"task": "adding", "seq_len": 50, "hidden": 32, "lr": 0.01, "batch": 32, "steps": 600,
              "cells": ["gru"], "seed": 0} | change
    settings, problems = tu.check_settings(**values)
    assert settings is None
    assert any(message in p for p in problems), problems


def test_the_largest_step_allowed_is_the_work_cap():
    assert tu.check_settings("adding", 200, 64, 0.01, 64, 10, ["lstm"])[1] == []  # T × B × H = MAX_WORK
    assert tu.check_settings("adding", 200, 64, 0.01, 65, 10, ["lstm"])[1]
    assert tu.eval_size(50, 32) == tu.EVAL_SIZE == 256
    assert tu.eval_size(200, 64) * 200 * 64 <= tu.MAX_WORK and tu.eval_size(200, 64) >= 32


def test_several_problems_are_all_reported_and_cells_come_in_palette_order():
    _, problems = tu.check_settings("adding", 0, 0, 0, 0, 0, [])
    assert len(problems) == 6  # T, H, batch, steps, learning rate, cells
    settings, _ = tu.check_settings("recall", 20.0, 8, "0.01", 16, 50, ["mingru", "gru"])
    assert settings.cells == ("gru", "mingru") and settings.seq_len == 20 and settings.lr == 0.01


def test_every_task_trains_at_its_limits():
    for task in TASKS.values():
        low, high = tu.seq_limits(task)
        assert high == tu.MAX_SEQ_LEN
        assert tu.check_settings(task.key, low, 1, 0.01, 1, 1, ["gru"])[1] == []
        assert tu.check_settings(task.key, low - 1, 1, 0.01, 1, 1, ["gru"])[1]


# ------------------------------------------------------------------------------------------ runs


def tiny_run(task: str = "adding", cells=WITH_W_HH, **changes) -> tu.Run:
    settings = replace(tu.Settings(task=task, cells=tuple(cells), seq_len=max(10, get_task(task).min_steps),
                                   hidden=5, batch=8, steps=15), **changes)
    return tu.Run.start(settings)


def test_a_run_trains_every_cell_on_the_same_batches_to_its_steps():
    run = tiny_run()
    assert run.running and run.steps_done == 0 and run.progress == 0
    run.advance(budget=60)
    assert run.status == "done" and run.steps_done == 15 and run.progress == 1
    assert {c: t.steps_done for c, t in run.trainers.items()} == {"gru": 15, "lstm": 15, "rnn": 15}
    # the same seeded stream of batches: every trainer's generator ends in the same state
    states = [t.rng.bit_generator.state["state"] for t in run.trainers.values()]
    assert all(s == states[0] for s in states)
    assert set(run.final) == set(WITH_W_HH)
    eval_x = run.trainers["gru"].eval_x  # one held-out batch, shared: the same seed made the same batch
    assert all(t.eval_x is eval_x for t in run.trainers.values()) and run.eval_size == 256
    for score in run.scores():
        assert score.loss == run.final[score.cell].loss == run.trainers[score.cell].evaluate().loss
        assert score.chance_loss == pytest.approx(1 / 6)
        assert math.isfinite(score.ms_per_step) and score.ms_per_step > 0
    assert run.advance() == 0  # a finished run does not train on


def test_chunks_respect_the_budget_and_stop_keeps_what_was_learned():
    run = tiny_run(steps=5000, seq_len=100, hidden=32, batch=32, cells=("lstm",))
    made = run.advance(budget=0.05)
    assert 0 < made < 5000 and run.running
    weights = {k: v.copy() for k, v in run.trainers["lstm"].model.params.items()}
    run.stop()
    assert run.status == "stopped" and run.steps_done == made
    assert run.advance() == 0
    for k, v in run.trainers["lstm"].model.params.items():
        np.testing.assert_array_equal(v, weights[k])
    assert run.scores()[0].steps == made


def test_the_time_cap_ends_a_run(monkeypatch):
    monkeypatch.setattr(tu, "RUN_SECONDS", 0.02)
    run = tiny_run(steps=5000, seq_len=100, hidden=32, batch=32, cells=("gru",))
    run.advance(budget=10)
    assert run.status == "time-cap" and 0 < run.steps_done < 5000
    assert "time cap" in tu.STATUS[run.status]


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_diverged_cell_is_shown_diverged_with_its_step(monkeypatch):
    """A race where the RNN diverges at its 4th step: the others train on; the RNN's steps stop at 3, the warning
    and the results table say "diverged at step 4"."""
    real = tu.Trainer.next_batch

    def batch(self):
        x, y = real(self)
        if self.model.spec.kind == "rnn" and self.steps_done >= 3:
            return x, y * np.inf  # its 4th step's loss is not finite
        return x, y

    monkeypatch.setattr(tu.Trainer, "next_batch", batch)
    at = open_page(**{**TINY, "cells": ["gru", "rnn"]})
    run = finish(at, start(at))  # divergence is shown, never a RuntimeWarning in the log
    assert run.status == "done" and run.steps_done == 20
    assert run.trainers["rnn"].steps_done == 3 and run.trainers["rnn"].diverged_at == 4
    warnings = [w.value for w in at.warning]
    assert any("vanilla RNN diverged at step 4" in w for w in warnings), warnings
    table = at.dataframe[0].value.set_index("Cell")
    assert table.loc["vanilla RNN", "Steps"] == 3 and table.loc["vanilla RNN", "Status"] == "diverged at step 4"
    assert table.loc["GRU", "Steps"] == 20 and table.loc["GRU", "Status"] == "trained"


def test_a_run_where_every_cell_diverged_ends():
    run = tiny_run(cells=("rnn",))
    run.trainers["rnn"].diverged = True
    run.advance()
    assert run.status == "diverged" and run.steps_done == 0


def test_a_busy_server_makes_a_run_wait_not_fail():
    run = tiny_run(cells=("gru",))
    taken = 0
    while tu.SLOTS.acquire(blocking=False):
        taken += 1
    try:
        assert taken == tu.MAX_CONCURRENT
        note = run.advance_shared()
        assert "busy" in note and run.steps_done == 0 and run.running
    finally:
        for _ in range(taken):
            tu.SLOTS.release()
    assert run.advance_shared(budget=60) is None and run.status == "done"


def test_a_bug_in_a_chunk_ends_the_run_and_keeps_the_weights(monkeypatch):
    run = tiny_run(cells=("gru",))
    run.advance(budget=0.0)  # nothing trained yet: budget 0
    weights = {k: v.copy() for k, v in run.trainers["gru"].model.params.items()}

    def broken(self, budget=0.0):
        raise RuntimeError("a bug")

    monkeypatch.setattr(tu.Run, "advance", broken)
    note = run.advance_shared()
    assert "stopped unexpectedly (RuntimeError)" in note and run.status == "stopped"
    assert tu.SLOTS.acquire(blocking=False)  # the slot was given back
    tu.SLOTS.release()
    for k, v in run.trainers["gru"].model.params.items():
        np.testing.assert_array_equal(v, weights[k])
    assert run.scores()[0].steps == 0


def test_handoff_gives_a_detached_copy_and_a_config_that_rebuilds_it():
    run = tiny_run(task="recall", cells=("lstm", "mingru"))
    run.advance(budget=60)
    example = tu.example_for(run, 3)
    for cell in ("lstm", "mingru"):
        model, name, cfg = tu.handoff(run, cell, example, replace(state.Config(), present=True, hide="export"))
        trainer = run.trainers[cell]
        assert "trained 15 steps on Recall the first symbol" in name
        for k, v in trainer.model.params.items():
            np.testing.assert_array_equal(model.params[k], v)
            assert not np.shares_memory(model.params[k], v)  # further training does not change the handed model
        assert (cfg.cell, cfg.hidden, cfg.weights, cfg.source) == (cell, 5, "session", "typed")
        assert cfg.present and cfg.hide == "export" and cfg.scale == 1.0 and not cfg.clamp
        # the URL form parses back to the same config, and the typed input to the example's values rounded for
        # people (4 significant digits, never a 16-digit float), which is what the pages run
        assert state.from_query(state.to_query(cfg)) == (cfg, [])
        seq = parse_sequence(cfg.seq, "numbers", model.spec.input_size)
        assert_rounded_for_people(cfg.seq, seq.values, example.x)
        np.testing.assert_array_equal(seq.values, tu.typed_values(example))
        scene = state.build_scene(cfg, model)
        expected = trainer.predict(seq.values).trace
        np.testing.assert_array_equal(scene.trace.output, expected.output)


def test_example_summaries_say_what_to_look_for():
    adding = get_task("adding").example(np.random.default_rng(1), 20)
    a, b = adding.meta["marked"]
    assert tu.example_summary(get_task("adding"), adding) == (
        f"marked steps {a} and {b}: {adding.x[a, 0]:.3f} + {adding.x[b, 0]:.3f}")
    assert float(adding.answer) == pytest.approx(round(adding.x[a, 0], 3) + round(adding.x[b, 0], 3), abs=2e-3)
    recall = get_task("recall").example(np.random.default_rng(1), 12)
    assert tu.example_summary(get_task("recall"), recall) == f"first symbol {recall.answer}, then 9 blanks"
    sentiment = get_task("sentiment").example(np.random.default_rng(1), 10)
    assert tu.example_summary(get_task("sentiment"), sentiment) == "“" + " ".join(decode_words(sentiment.x)) + "”"
    anomaly = get_task("anomaly")
    for seed in range(6):
        ex = anomaly.example(np.random.default_rng(seed), 30)
        glitch = ex.meta["glitch_step"]
        assert tu.example_summary(anomaly, ex) == (f"a glitch at step {glitch}" if glitch >= 0 else "no glitch")
    assert tu.example_summary(get_task("sine"), get_task("sine").example(np.random.default_rng(0), 7)) == "7 steps"


def test_focus_steps_point_at_what_matters():
    adding = get_task("adding").example(np.random.default_rng(1), 20)
    assert tu.focus_step(get_task("adding"), adding) == adding.meta["marked"][0]
    sentiment, anomaly = get_task("sentiment"), get_task("anomaly")
    rng = np.random.default_rng(0)
    for _ in range(20):
        ex = sentiment.example(rng)
        step = tu.focus_step(sentiment, ex)
        assert ex.labels[step] == ("not" if "not" in ex.labels else next(w for w in ex.labels if w in ("good", "bad")))
        ex = anomaly.example(rng)
        assert tu.focus_step(anomaly, ex) == max(0, ex.meta["glitch_step"])


@pytest.mark.parametrize("key", list(TRAINED_PRESETS))
def test_preset_showcases_open_on_a_telling_example(key):
    cfg, line = tu.preset_showcase(key)
    preset = TRAINED_PRESETS[key]
    assert cfg.weights == f"trained:{key}" and cfg.hidden == preset.hidden_size
    assert state.from_query(state.to_query(cfg)) == (cfg, [])
    scene = state.build_scene(cfg)
    assert scene.model.spec.kind == cfg.cell and scene.steps == preset.config.seq_len
    assert 0 <= cfg.t < scene.steps
    assert line.startswith("On this example the answer is")
    if preset.task == "anomaly":
        assert "the answer is glitch" in line
    if preset.task == "sentiment":
        assert "not" in decode_words(scene.seq.values)
    # the page opens on the unit whose final state moves most when what matters changes ("not" removed, …)
    from gru_viz.explain import trained as words

    cf = words.counterfactual(get_task(preset.task), scene.seq.values)
    if cf is not None:
        moved = np.abs(scene.trace.layer(0).h[-1, 0] - scene.model.run(cf.x).layer(0).h[-1, 0])
        assert cfg.unit == int(np.argmax(moved)) and moved[cfg.unit] > 0.1


# ------------------------------------------------------------------------------------------- page


def test_page_opens_with_defaults_and_no_run():
    at = open_page()
    assert at.title[0].value == "Train"
    assert not at.button(key="train_start").disabled and at.button(key="train_stop").disabled
    assert RUN not in at.session_state
    assert "Start" in at.info[0].value
    assert any("Chance level" in c.value for c in at.caption)


def test_picking_a_task_sets_its_length_and_explains_it():
    at = open_page()
    assert at.number_input(key=KEYS["seq_len"]).value == 50  # the adding problem starts at T = 50
    at.selectbox(key=KEYS["task"]).set_value("recall").run()
    assert at.number_input(key=KEYS["seq_len"]).value == get_task("recall").default_steps
    text = " ".join(m.value for m in at.markdown)
    assert get_task("recall").description in text
    assert any("Chance level" in c.value and "1.39" in c.value and "25%" in c.value for c in at.caption)


def test_page_trains_a_tiny_race_to_completion_and_shows_the_curves():
    at = open_page(**TINY)
    run = finish(at, start(at))
    assert run.status == "done" and run.steps_done == 20
    for cell, t in run.trainers.items():  # the history the curves draw is in session state
        assert t.history.step == list(range(1, 21)) and len(t.history.loss) == 20
        assert t.history.eval_step[0] == 0 and cell in WITH_W_HH
    keys = chart_keys(at)
    assert any(k.endswith("train_loss") for k in keys) and any(k.endswith("train_scores") for k in keys)
    assert at.button(key="train_stop").disabled and not at.button(key="train_start").disabled
    assert at.subheader[0].value == "Results"
    table = at.dataframe[0].value
    assert list(table["Cell"]) == ["GRU", "LSTM", "vanilla RNN"]
    for row, score in zip(table.to_dict("records"), run.scores(), strict=True):
        assert row["Held-out loss"] == score.loss and row["Steps"] == 20
    assert any("step 20 of 20" in p.proto.text for p in at.get("progress"))


def test_classification_shows_accuracy_then_loss():
    at = open_page(task="sentiment", seq_len=8, hidden=4, steps=10, batch=8, cells=["gru", "mingru"])
    run = finish(at, start(at))
    assert run.status == "done"
    assert any(k.endswith("train_accuracy") for k in chart_keys(at))
    assert "Accuracy" in at.dataframe[0].value.columns
    at.session_state["train_metric"] = "loss"
    at.run()
    assert any(k.endswith("train_loss") for k in chart_keys(at))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seq_len": 500}, "from 2 to 200 (got 500)"),
        ({"seq_len": 1}, "from 2 to 200"),
        ({"hidden": 0}, "Hidden size H must be a whole number from 1 to 64"),
        ({"hidden": 1000}, "Hidden size H"),
        ({"lr": 0.0}, "above 0"),
        ({"lr": -1.0}, "above 0"),
        ({"lr": 1e6}, "far too large"),
        ({"steps": 10**12}, "Training steps must be a whole number from 1 to 5000"),
        ({"batch": 0}, "Batch size"),
        ({"cells": []}, "Pick at least one cell"),
    ],
)
def test_bad_settings_show_messages_and_block_start(settings, message):
    at = open_page(expect=(message,), **settings)
    assert at.button(key="train_start").disabled
    assert RUN not in at.session_state


def test_stop_mid_training_keeps_what_was_learned_and_opens_it():
    at = open_page(seq_len=100, hidden=32, steps=5000, batch=32, cells=["gru", "lstm"])
    run = start(at)
    assert run.running and 0 < run.steps_done < 5000  # one chunk per script run in AppTest
    assert not at.button(key="train_stop").disabled and at.button(key="train_start").disabled
    assert at.get("progress")[0].proto.text.startswith("Training…")
    at.run()  # the next chunk
    made = run.steps_done
    weights = {k: v.copy() for k, v in run.trainers["gru"].model.params.items()}
    at.button(key="train_stop").click().run()
    assert run.status == "stopped" and run.steps_done == made
    assert len(run.trainers["gru"].history.loss) == made
    assert "stopped early" in " ".join(c.value for c in at.caption)
    at.run()
    assert run.steps_done == made  # nothing trains after a Stop
    at.button(key="train_open_step_gru").click().run()
    model = at.session_state[ui.SESSION_MODEL]
    for k, v in weights.items():
        np.testing.assert_array_equal(model.params[k], v)


def test_open_a_trained_model_on_step_through_and_timeline():
    at = open_page(**TINY)
    run = finish(at, start(at))
    example = tu.example_for(run, 0)
    at.button(key="train_open_step_lstm").click().run()
    assert at.title[0].value == "Step through"
    spec = run.trainers["lstm"].model.spec
    assert at.caption[0].value.startswith(spec.describe())  # the trained model's spec, on typed numbers
    cfg = at.session_state[ui.CFG]
    assert (cfg.cell, cfg.hidden, cfg.weights, cfg.source) == ("lstm", 6, "session", "typed")
    assert cfg.t == example.meta["marked"][0]
    assert_rounded_for_people(cfg.seq, parse_sequence(cfg.seq, "numbers", 2).values, example.x)
    assert at.session_state[ui.SESSION_MODEL_NAME].startswith("LSTM trained 20 steps on Adding problem")
    assert at.selectbox(key=ui.W + "weights").value == "session"
    assert at.get("plotly_chart")
    # the trained model shows its task: marked steps marked, the target, its answer, and all of it true
    from gru_viz.explain import claims, registry

    said = "\n".join(claims.plain(m.value) for m in at.markdown)
    assert "Task: Adding problem" in said and "●" in said
    target = f"{example.x[example.x[:, 1] == 1, 0].sum():.3f}"
    assert f"The answer is {target}; the model says " in said
    trainer = run.trainers["lstm"]
    sc = state.build_scene(cfg, at.session_state[ui.SESSION_MODEL])
    ctx = claims.Context(trace=sc.trace, model=sc.model, values={"trained": (trainer.readout, run.task)})
    panel = [claims.plain(m.value) for m in at.markdown if claims.plain(m.value).startswith(("A trained model",
                                                                                             "The answer is", "Unit "))]
    assert registry.check_text("\n".join(panel), ctx) == [] and len(registry.find("\n".join(panel))) == 3

    at.switch_page(PAGE).run()  # back: the finished run is still there, now open it on the timeline
    assert at.session_state[RUN] is run and at.session_state[KEYS["steps"]] == 20
    at.button(key="train_another").click().run()
    other = tu.example_for(run, 1)
    at.button(key="train_open_timeline_gru").click().run()
    assert at.title[0].value == "Timeline"
    cfg = at.session_state[ui.CFG]
    assert cfg.cell == "gru" and cfg.weights == "session"
    assert_rounded_for_people(cfg.seq, parse_sequence(cfg.seq, "numbers", 2).values, other.x)
    assert at.get("plotly_chart")


def test_home_page_links_every_trained_preset():
    at = open_app()
    assert any(s.value == "Learned gates: open a trained model" for s in at.subheader)
    linked: dict[tuple[str, str], state.Config] = {}
    for link in at.get("page_link"):
        query = {k: v[-1] for k, v in parse_qs(link.proto.query_string).items()}
        if query.get("weights", "").startswith("trained:"):
            cfg, notes = state.from_query(query)
            assert notes == []
            linked[(link.proto.page, cfg.weights.partition(":")[2])] = cfg
    for key in TRAINED_PRESETS:
        expected, _ = tu.preset_showcase(key)
        assert linked[("step", key)] == linked[("timeline", key)] == expected
    assert sum(s.value.startswith("On this example the answer is") for s in at.caption) == len(TRAINED_PRESETS)
    assert len(at.get("plotly_chart")) == 0  # the home page stays light: links only


def test_issue_23_4_one_time_per_step_and_worse_than_chance_said_so():
    """One run shows one ms/step per cell (beside the curves and in the table: the mean over the run), and a cell
    worse than chance is not shown as having removed "0%" of the loss."""
    run = tiny_run()
    run.advance(budget=60)
    table = tu.scores_table(run)
    for c in run.trainers:
        assert f"{run.ms_per_step(c):.1f}" == table.loc[table["Cell"] == tu.cell_name(c), "ms / step"].item()
    assert tu.removed_text(-0.35) == "none: 35% worse than chance"
    assert tu.removed_text(0.631) == "63%" and tu.removed_text(-0.001) == "0%"
    worse = tu.Score("rnn", 10, 2.7, None, 2.0, None, 1.0, False)
    assert worse.below_chance < 0 and tu.removed_text(worse.below_chance) != "0%"
