"""The limits in gru_viz.serve.limits: the classroom profile's caps reach the link reader, the inputs, the training
page and every page's caption; a run too large for one server's budget is refused with the steps that fit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gru_viz.core.kinds import KINDS
from gru_viz.core.params import random_model
from gru_viz.core.sequences import Sequence, SequenceError
from gru_viz.core.spec import Spec
from gru_viz.serve import state
from gru_viz.serve.limits import LIMITS, PROFILES, SCENE_MAX_BYTES, capped, profile_from_env

CLASS = PROFILES["class"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_profile_comes_from_the_environment(monkeypatch) -> None:
    assert LIMITS == PROFILES["default"]  # the suite runs the full caps
    monkeypatch.setenv("GRU_VIZ_PROFILE", "Class")
    assert profile_from_env() == CLASS
    monkeypatch.setenv("GRU_VIZ_PROFILE", "no-such-profile")
    assert profile_from_env() == PROFILES["default"]
    assert set(capped(CLASS)) == {"steps", "hidden", "experiment_steps", "train_steps", "train_seconds",
                                  "train_hidden", "train_seq_len"}
    assert all(getattr(CLASS, k) < getattr(PROFILES["default"], k) for k in capped(CLASS))


def test_a_link_asking_for_more_gets_the_cap_and_a_note() -> None:
    cfg, notes = state.from_query({"hidden": "64", "steps": "3000", "cell": "lstm"}, CLASS)
    assert (cfg.hidden, cfg.steps, cfg.cell) == (32, 1000, "lstm")
    assert notes == [
        "This server runs its classroom profile: the hidden size H is at most 32 here, so the link's hidden=64 "
        "is shown as hidden=32.",
        "This server runs its classroom profile: the number of steps is at most 1,000 here, so the link's "
        "steps=3000 is shown as steps=1000.",
    ]
    cfg, notes = state.from_query({"hidden": "32", "steps": "1000"}, CLASS)
    assert (cfg.hidden, cfg.steps, notes) == (32, 1000, [])
    cfg, notes = state.from_query({"hidden": "64", "steps": "3000"})  # the full caps: as asked
    assert (cfg.hidden, cfg.steps, notes) == (64, 3000, [])


def test_typed_input_over_the_profiles_steps_is_refused() -> None:
    long = state.Config(source="typed", seq=", ".join(["0.5"] * 1001))
    with pytest.raises(SequenceError, match="1,001 steps; this server \\(classroom profile\\) runs inputs of up"):
        state.build_sequence(long, limits=CLASS)
    assert state.build_sequence(long).steps == 1001


def test_training_caps_follow_the_profile() -> None:
    code = textwrap.dedent("""
        from gru_viz.app import train
        assert (train.MAX_TRAIN_STEPS, train.RUN_SECONDS, train.MAX_HIDDEN, train.MAX_SEQ_LEN) == (2000, 30.0, 32, 100)
        s, problems = train.check_settings("adding", 50, 32, 0.01, 32, 3000, ["gru"])
        assert s is None and any("from 1 to 2000" in p for p in problems), problems
        s, problems = train.check_settings("adding", 50, 32, 0.01, 32, 2000, ["gru"])
        assert s is not None and not problems, problems
        print("ok")
    """)
    env = {**os.environ, "GRU_VIZ_PROFILE": "class"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_a_run_too_large_for_the_budget_is_refused_with_the_steps_that_fit() -> None:
    model = random_model(Spec("lstm", 64, 256, num_layers=3, bidirectional=True), seed=0)  # the upload
    seq = Sequence(np.zeros((5000, 64)), tuple(str(t) for t in range(5000)))
    size = state.trace_bytes(model, seq)
    assert size > 10 * SCENE_MAX_BYTES
    with pytest.raises(state.ConfigError, match=r"use at most (\d+) steps") as info:
        state.check_trace_size(model, seq)
    fits = int(info.value.args[0].rsplit("use at most ", 1)[1].split(" ")[0].replace(",", ""))
    short = Sequence(np.zeros((fits, 64)), tuple(str(t) for t in range(fits)))
    state.check_trace_size(model, short)  # what the message offers does fit
    probe = Sequence(short.values[:50], short.labels[:50])  # the estimate matches a real trace's arrays
    trace = model.run(probe.values)
    measured = sum(a.nbytes for layer in trace.layers for lt in layer
                   for a in (lt.x, lt.h, *lt.gates.values(), *lt.pre.values()))
    assert abs(state.trace_bytes(model, probe) - measured) < 0.02 * measured
    # every config-built run at H = 64 fits whatever its length
    for kind in KINDS:
        cfg = state.Config(cell=kind, hidden=64, steps=5000)
        sc = state.build_scene(cfg)
        assert sc.steps == 5000


def test_the_widest_runs_are_bounded_by_bytes_not_by_width() -> None:
    """H = 512 on the longest input: a vanilla RNN's trace (h and its pre-activation) fits the budget, a GRU's
    (r, z, n, h and their pre-activations) does not and is refused by bytes, with the steps that fit; those run."""
    sizes = {}
    for kind in KINDS:
        cfg = state.Config(cell=kind, hidden=512, steps=5000)
        seq = state.build_sequence(cfg)
        sizes[kind] = state.trace_bytes(state.build_model(cfg, seq.width)[0], seq)
    assert sizes["rnn"] < SCENE_MAX_BYTES < min(sizes[k] for k in KINDS if k != "rnn")
    cfg = state.Config(cell="gru", hidden=512, steps=5000)
    with pytest.raises(state.ConfigError, match=r"use at most ([\d,]+) steps") as info:
        state.build_scene(cfg)
    fits = int(info.value.args[0].rsplit("use at most ", 1)[1].split(" ")[0].replace(",", ""))
    assert 100 <= fits < 5000
    sc = state.build_scene(state.Config(cell="gru", hidden=512, steps=fits))
    assert sc.model.spec.hidden_size == 512 and sc.steps == fits


def test_the_full_caps_are_512_units_and_512_values_a_step() -> None:
    from gru_viz.core.sequences import MAX_WIDTH, parse_sequence

    assert state.PROPS["hidden"].top(PROFILES["default"]) == 512 and MAX_WIDTH == 512
    cfg, notes = state.from_query({"hidden": "512", "unit": "511"}, PROFILES["default"])
    assert (cfg.hidden, cfg.unit, notes) == (512, 511, [])
    cfg, notes = state.from_query({"hidden": "513"}, PROFILES["default"])
    assert cfg.hidden == state.DEFAULT.hidden and "hidden=" in notes[0] and "from 1 to 512" in notes[0]
    cfg, notes = state.from_query({"hidden": "512"}, CLASS)  # the classroom profile keeps its lower cap
    assert cfg.hidden == 32 and "at most 32 here" in notes[0]
    wide = parse_sequence("; ".join([" ".join(["0.5"] * 512)] * 3), "numbers")
    assert wide.width == 512
    with pytest.raises(SequenceError, match="at most MAX_WIDTH = 512"):
        parse_sequence(" ".join(["1"] * 513) + ";", "numbers")
