"""The fuzz properties of benchmarks/fuzz.py with few examples, for CI (the full run: that script).

Each target: every case ends in a result or in our own clear exception (SequenceError / nothing for
from_query / the page's friendly errors / WeightsError), and no case takes longer than 2 s.
"""

from __future__ import annotations

import pytest

from benchmarks import fuzz

EXAMPLES = {"sequences": 120, "query": 80, "scene": 40, "bytes": 120, "safetensors": 120, "npz": 80, "pt": 60,
            "keras": 80, "h5": 60, "onnx": 80}


@pytest.mark.parametrize("target", list(fuzz.TARGETS))
def test_fuzz_target(target: str) -> None:
    tally = fuzz.run_target(target, EXAMPLES[target], slow=2.0, hang=10.0, seed=0)
    assert tally.cases >= EXAMPLES[target] // 2, f"hypothesis ran only {tally.cases} cases"
    assert not tally.failures, "\n".join(tally.failures[:5])
    assert not tally.slow, "\n".join(tally.slow[:5])


def test_every_format_has_valid_seed_files() -> None:
    """The mutation targets start from real files of each format (else they would fuzz nothing)."""
    assert fuzz.VALID["safetensors"] and fuzz.VALID["npz"] and fuzz.VALID["pt"]
    for fmt, ext in (("safetensors", "w.safetensors"), ("npz", "w.npz")):
        assert fuzz.check_weights(fuzz.VALID[fmt][0], ext, None) == "model"
    assert fuzz.check_weights(fuzz.VALID["pt"][0], "w.pt", None) == "model"
    for fmt, ext in (("keras", "m.keras"), ("h5", "m.weights.h5"), ("onnx", "m.onnx")):
        assert len(fuzz.VALID[fmt]) == 3
        assert [fuzz.check_weights(data, ext, None) for data in fuzz.VALID[fmt]] == ["model"] * 3


def test_a_hang_is_caught_and_counted() -> None:
    """The per-case alarm interrupts a runaway case and the tally says so."""
    tally = fuzz.Tally("probe")

    def spin() -> str:
        while True:
            pass

    fuzz.timed(tally, "spin", spin, slow=0.1, hang=0.3)
    assert tally.outcomes == {"hang": 1} and len(tally.failures) == 1


def test_a_link_to_an_unknown_trained_preset_is_a_note() -> None:
    cfg, notes = fuzz.state.from_query({"weights": "trained:nope"})
    assert cfg.weights == "random" and notes
