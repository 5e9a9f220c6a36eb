"""Train the shipped presets of ``gru_viz.io.trained.TRAINED_PRESETS`` and write them to ``gru_viz/io/data/trained/``.

Every preset's recipe (task, cell, hidden size, steps, and a TrainConfig with fixed seeds for the data,
the initial weights and the held-out batch) lives in ``gru_viz/trained.py``, so this script has no settings of
its own. To regenerate after changing a recipe, or the training code:

    .venv/bin/python scripts/make_trained_presets.py            # all presets
    .venv/bin/python scripts/make_trained_presets.py gru-adding  # just one

then run ``.venv/bin/pytest tests/test_train.py -k trained_presets`` and commit the ``.npz`` files. The same
seeds give the same arrays on the same machine (the zip's timestamps differ, so the bytes do); other BLAS
builds may differ in the last bits, which changes nothing visible. Each file must stay under 200 KB (the
script refuses to keep a larger one). BLAS is kept to one thread: the matrices are tiny and threads only slow
them down.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gru_viz.core.train import Trainer
from gru_viz.io.trained import TRAINED_PRESETS, TrainedPreset

MAX_BYTES = 200_000


def make(preset: TrainedPreset) -> Path:
    """Train one preset from its recipe and save it; returns the file's path."""
    trainer = Trainer.for_cell(preset.task, preset.cell, preset.hidden_size, preset.config)
    start = time.perf_counter()
    trainer.run(preset.steps)
    seconds = time.perf_counter() - start
    path = trainer.export(preset.path, preset.name, preset.description)
    size = path.stat().st_size
    if size > MAX_BYTES:
        path.unlink()
        raise SystemExit(f"{path.name}: {size} bytes is over the {MAX_BYTES}-byte limit; make the model smaller")
    ev = trainer.evaluate()
    base = trainer.task.baseline(trainer.seq_len)
    acc = "" if ev.accuracy is None else f", accuracy {ev.accuracy:.3f} (chance {base.accuracy:.3f})"
    print(f"{preset.key}: {preset.steps} steps in {seconds:.1f} s, held-out loss {ev.loss:.4f} "
          f"(chance {base.loss:.4f}){acc}; {path.name} {size / 1000:.1f} KB")
    return path


def main(keys: list[str]) -> None:
    unknown = [k for k in keys if k not in TRAINED_PRESETS]
    if unknown:
        raise SystemExit(f"unknown preset(s) {', '.join(unknown)}; choose from {', '.join(TRAINED_PRESETS)}")
    for key in keys or list(TRAINED_PRESETS):
        make(TRAINED_PRESETS[key])


if __name__ == "__main__":
    main(sys.argv[1:])
