"""Test-only character models: tiny seeded GRU, LSTM and RNN language models with the shipped models' shape (an
embedding, two layers, a readout, a vocabulary ending in "<unk>"), and a short validation text, for page tests
that must not wait for the shipped models' analyses. :func:`install` puts them behind gru_viz.io.charlm's loaders
(and clears the page's caches, before and after) for one test. Never shipped: nothing in gru_viz imports this.
"""

from __future__ import annotations

import inspect
import string
from dataclasses import replace

import numpy as np
import streamlit as st

from gru_viz.core import text_features, units
from gru_viz.core.model import Model
from gru_viz.core.params import init_params
from gru_viz.core.spec import Spec
from gru_viz.core.tokens import UNKNOWN, Embedding, Readout
from gru_viz.io import charlm as charlm_io

VOCAB = (*sorted(set(string.printable) - set("\x0b\x0c\r")), UNKNOWN)
HIDDEN, EMBED = 12, 6
SEEDS = {kind: seed for seed, kind in enumerate(charlm_io.CHARLM_KINDS, start=1)}
# Python to read: two of the analysis' own modules (strings, comments, brackets, indentation: every feature varies)
VALIDATION = inspect.getsource(text_features) + inspect.getsource(units)


def tiny(kind: str) -> Model:
    """A seeded two-layer character model of ``kind`` (gru, lstm, rnn), H = 12."""
    rng = np.random.default_rng(SEEDS[kind])
    spec = Spec(kind, EMBED, HIDDEN, num_layers=2)
    emb = Embedding.of(rng.normal(0, 1, (len(VOCAB), EMBED)), VOCAB)
    head = Readout.of(rng.normal(0, 1, (len(VOCAB), HIDDEN)), rng.normal(0, 0.1, len(VOCAB)), VOCAB)
    return Model(spec, init_params(spec, SEEDS[kind], 3.0), embedding=emb, readout=head)


def info(kind: str) -> charlm_io.CharModelInfo:
    """What a shipped file would say about the tiny model."""
    m = tiny(kind)
    params = sum(a.size for a in m.params.values()) + m.embedding.table.size + m.readout.weight.size + len(VOCAB)
    return charlm_io.CharModelInfo(kind, VOCAB, UNKNOWN, 6.5, 6.4, int(params), HIDDEN, EMBED, 2, 1, SEEDS[kind],
                                   1.0, "0" * 64, None, {})


def clear_caches() -> None:
    from gru_viz.app import budget

    st.cache_resource.clear()
    st.cache_data.clear()
    budget.clear_all()  # the analyses' jobs' results and the readings


def install(monkeypatch) -> None:
    """The tiny models and text behind gru_viz.io.charlm for this test (the page's caches cleared around it)."""
    models = {k: tiny(k) for k in SEEDS}
    monkeypatch.setattr(charlm_io, "load_char_model", lambda kind: models[kind])
    monkeypatch.setattr(charlm_io, "char_model_info", info)
    monkeypatch.setattr(charlm_io, "validation_text", lambda: VALIDATION)
    clear_caches()


__all__ = ["VALIDATION", "VOCAB", "clear_caches", "info", "install", "replace", "tiny"]
