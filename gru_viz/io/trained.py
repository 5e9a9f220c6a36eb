"""Trained presets: small models trained on the tasks by ``scripts/make_trained_presets.py`` and shipped as ``.npz``.

Each entry of :data:`TRAINED_PRESETS` holds the recipe it was made with (cell, size, training config, steps),
so the files can be made again bit for bit; :func:`load_trained` reads one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.train import TrainConfig, TrainedModel, TrainError, load_trained_file

__all__ = ["DATA_DIR", "TRAINED_PRESETS", "TrainedPreset", "load_trained"]

DATA_DIR = Path(__file__).resolve().parent / "data" / "trained"


@dataclass(frozen=True)
class TrainedPreset:
    """A shipped trained model: what it is, and how it was trained."""

    key: str
    name: str
    description: str  # one line
    task: str  # a key of gru_viz.core.tasks.TASKS
    cell: str  # a key of gru_viz.core.train.CELLS
    hidden_size: int
    steps: int  # training steps
    config: TrainConfig = field(default_factory=TrainConfig)

    @property
    def path(self) -> Path:
        """Where the file lives."""
        return DATA_DIR / f"{self.key}.npz"


TRAINED_PRESETS: dict[str, TrainedPreset] = {
    p.key: p
    for p in (
        TrainedPreset(
            "gru-adding",
            "GRU that adds",
            "A 32-unit GRU trained on the adding problem over 20 steps: it keeps the marked values, skips the rest.",
            task="adding",
            cell="gru",
            hidden_size=32,
            steps=1500,
            config=TrainConfig(seq_len=20, batch_size=32, lr=1e-2, clip=1.0, seed=1, init_seed=1),
        ),
        TrainedPreset(
            "gru-sentiment",
            "GRU that reads “not”",
            "A 16-unit GRU trained on the tiny movie-review language: “not” flips good and bad.",
            task="sentiment",
            cell="gru",
            hidden_size=16,
            steps=600,
            config=TrainConfig(seq_len=8, batch_size=32, lr=1e-2, clip=1.0, seed=2, init_seed=2),
        ),
        TrainedPreset(
            "lstm-recall",
            "LSTM that remembers the first symbol",
            "A 32-unit LSTM that names the first of three symbols after a gap of blanks, 20 steps in all.",
            task="recall",
            cell="lstm",
            hidden_size=32,
            steps=800,
            # forget-gate bias +1: with torch's default init the LSTM never leaves chance here (torch's own too)
            config=TrainConfig(seq_len=20, batch_size=32, lr=1e-2, clip=1.0, seed=4, init_seed=4, forget_bias=1.0),
        ),
        TrainedPreset(
            "gru-anomaly",
            "GRU that spots glitches",
            "A 32-unit GRU that tells whether a noisy 30-step wave hides a sudden jump.",
            task="anomaly",
            cell="gru",
            hidden_size=32,
            steps=1500,
            config=TrainConfig(seq_len=30, batch_size=32, lr=1e-2, clip=1.0, seed=0, init_seed=0),
        ),
    )
}


def load_trained(key: str) -> TrainedModel:
    """The trained preset ``key``: a fresh copy of its model, readout and task."""
    if key not in TRAINED_PRESETS:
        raise TrainError(f"unknown trained preset {key!r}; choose one of {', '.join(TRAINED_PRESETS)}")
    path = TRAINED_PRESETS[key].path
    if not path.exists():
        raise TrainError(f"{path.name} is missing; make it with scripts/make_trained_presets.py")
    return load_trained_file(path)
