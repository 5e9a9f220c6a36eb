"""The line-up: the same input and cursor through a GRU, an LSTM, a vanilla RNN (and minGRU), built from a Config.
No Streamlit here: Compare cells and Gradient flow draw it, and the job workers (gru_viz.serve.work) build it too."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core import compare
from ..core.kinds import KINDS
from ..core.model import Model
from ..core.sequences import Sequence
from ..core.trace import LayerTrace, Trace
from .state import Config, build_sequence, initial_state, without_page


@dataclass
class Lineup:
    """The same input through several cells: each cell's model, run, and measured time per step."""

    cfg: Config
    seq: Sequence
    models: dict[str, Model]
    traces: dict[str, Trace]
    seconds: dict[str, float]  # median seconds per step of Model.run
    keep_bias: float = 0.0

    @property
    def kinds(self) -> tuple[str, ...]:
        """The cells in the line-up, in display order."""
        return tuple(self.models)

    def layer(self, kind: str) -> LayerTrace:
        """The (single) layer trace of one cell."""
        return self.traces[kind].layer(0)


def compare_config(cfg: Config) -> Config:
    """The part of ``cfg`` a line-up depends on: view-only fields, cell, weights source and clamps reset."""
    return replace(without_page(cfg), cell="gru", weights="random", clamp="", t=0, unit=0, present=False, hide="",
                   predict=False)


def models_of(cfg: Config, kinds: tuple[str, ...], input_size: int, keep_bias: float = 0.0) -> dict[str, Model]:
    """One seeded random model per kind with the settings of ``cfg`` (H, seed, W_hh scale, GRU variant)."""
    return compare.build_models(kinds, input_size, cfg.hidden, seed=cfg.seed, scale=cfg.scale, variant=cfg.variant,
                                keep_bias=keep_bias)


def build_lineup(cfg: Config, kinds: tuple[str, ...] = KINDS, timing: bool = True, keep_bias: float = 0.0) -> Lineup:
    """Build the input of ``cfg`` and run it through every cell in ``kinds`` (raises SequenceError etc.)."""
    cfg = compare_config(cfg)
    seq = build_sequence(cfg)
    models = models_of(cfg, kinds, seq.width, keep_bias)
    traces, seconds = {}, {}
    for k, model in models.items():
        h0 = initial_state(cfg, model)
        if timing:
            traces[k], seconds[k] = compare.timed_run(model, seq.values, h0)
        else:
            traces[k], seconds[k] = model.run(seq.values, h0), float("nan")
    return Lineup(cfg, seq, models, traces, seconds, keep_bias)
