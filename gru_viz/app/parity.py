"""Streamlit glue for "our numbers equal PyTorch's": cached comparison reports and the live badge.

torch is imported lazily (through :mod:`gru_viz.io.bridge`), so a page that shows the badge still works when
torch is not installed: the badge then says so. Reports are cached by a hash of everything that decides
them — the model's spec and weights, the input, h0 and the clamps — which covers both Config-built models
and a session's uploaded one, and makes a rerun that only moves the time cursor cost nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import threading
from collections.abc import Sequence

import numpy as np
import streamlit as st

from ..core import parity
from ..core.model import Model
from ..core.parity import Report, Summary
from ..core.trace import Ablation, Trace
from . import state
from .state import Scene

MATCHES_PAGE = "pages/matches.py"


class TorchMissing(RuntimeError):
    """torch cannot be imported here, so there is nothing to compare with."""


def _prefetch_torch() -> None:
    """Import torch on a background thread (it takes a second or two), so the first badge does not wait."""
    if "torch" in sys.modules:
        return

    def load() -> None:
        try:
            importlib.import_module("torch")
        except Exception:  # not installed or broken: the badge reports it when asked
            pass

    threading.Thread(target=load, name="gru-viz-torch-prefetch", daemon=True).start()


def _bridge():
    """gru_viz.io.bridge (which imports torch), or :class:`TorchMissing`."""
    try:
        return importlib.import_module("gru_viz.io.bridge")
    except ImportError as exc:
        raise TorchMissing(f"PyTorch is not installed here ({exc})") from None


# --------------------------------------------------------------------------------------------- inputs


def run_of(scene: Scene) -> tuple[Model, np.ndarray, object, tuple[Ablation, ...]]:
    """The model, input, initial state and clamps of the run a scene shows (exactly as it was built)."""
    model, cfg = scene.model, scene.cfg
    return model, scene.seq.values, state.initial_state(cfg, model), state.ablations_of(cfg, model.spec.kind)


def content_key(model: Model, x: np.ndarray, h0: object, ablations: Sequence[Ablation]) -> str:
    """A hash of everything that decides a comparison (no Streamlit state: safe to share between sessions).

    Recomputed on every call rather than remembered per Model: hashing the arrays' buffers (no copies) costs
    ~1 ms per MB of weights, and the key stays right even if someone edits a model's arrays in place.
    """
    h = hashlib.sha256(repr(model.spec).encode())
    for key, arr in model.params.items():
        h.update(key.encode())
        h.update(np.ascontiguousarray(arr, dtype=np.float64))
    h.update(np.ascontiguousarray(x, dtype=np.float64))
    h.update(repr(np.asarray(x).shape).encode())
    for part in h0 if isinstance(h0, tuple) else (h0,):
        h.update(b"none" if part is None else np.ascontiguousarray(part, dtype=np.float64))
    h.update(repr(tuple(ablations)).encode())
    return h.hexdigest()


# -------------------------------------------------------------------------------------------- reports


def compute_report(
    model: Model,
    x: np.ndarray,
    h0: object = None,
    ablations: Sequence[Ablation] = (),
    dtype: str = "float64",
    trace: Trace | None = None,
    ours_model: Model | None = None,
) -> Report:
    """Run the comparison now (no cache): our core against torch in ``dtype``; raises :class:`TorchMissing`.

    ``ours_model`` replaces the model on our side only (to show that a wrong model fails the check).
    """
    bridge = _bridge()
    if ours_model is not None:
        trace = ours_model.run(x, h0, tuple(ablations))
    trace = trace if trace is not None else model.run(x, h0, tuple(ablations))
    cot = parity.cotangents(trace)
    ours = parity.our_side(ours_model or model, trace, cot)
    theirs, how = bridge.torch_side(model, x, h0, tuple(ablations), cot, dtype)
    return parity.compare(ours, theirs, dtype, how, model.spec.directions)


@st.cache_data(max_entries=128, show_spinner=False)
def _cached_report(
    key: str, dtype: str, _model: Model, _x: np.ndarray, _h0: object, _ablations: tuple, _trace: Trace | None
) -> Report:
    # Arguments with a leading underscore are not hashed: ``key`` (content_key) stands for them.
    return compute_report(_model, _x, _h0, _ablations, dtype, _trace)


def report(
    model: Model,
    x: np.ndarray,
    h0: object = None,
    ablations: Sequence[Ablation] = (),
    dtype: str = "float64",
    trace: Trace | None = None,
) -> Report:
    """The (cached) comparison of one run in one dtype; raises :class:`TorchMissing`."""
    ablations = tuple(ablations)
    return _cached_report(content_key(model, x, h0, ablations), dtype, model, x, h0, ablations, trace)


def scene_report(scene: Scene, dtype: str = "float64") -> Report:
    """The (cached) comparison of the run a scene shows: our side is the very trace on screen."""
    return report(*run_of(scene), dtype=dtype, trace=scene.trace)


def live_summary(scene: Scene) -> Summary:
    """The float64 verdict for a scene's run (cached); raises :class:`TorchMissing`."""
    return parity.summarise(scene_report(scene, "float64"))


# ---------------------------------------------------------------------------------------------- badge


def badge_text(summary: Summary) -> tuple[str, str, str]:
    """(label, colour, icon) of the badge for a verdict."""
    if summary.passed:
        return f"Matches PyTorch · max |Δ| {parity.fmt(summary.worst)}", "green", ":material/verified:"
    return f"Differs from PyTorch · max |Δ| {parity.fmt(summary.worst)}", "red", ":material/error:"


BADGE_HELP = (
    "This run, recomputed by PyTorch in float64: outputs, final states, every gate of every step and the "
    "gradients of a fixed random loss. Tolerance: {fwd:g} for the forward numbers and {grad:g} for the "
    "gradients (relative to the values' size when they exceed 1). {how}. Details on the 'Matches PyTorch' page."
)


def parity_badge(scene: Scene | None) -> None:
    """A small badge with the live max |ours − torch| for the displayed run; never raises."""
    if scene is None:
        return
    try:
        summary = live_summary(scene)
    except TorchMissing:
        st.badge("PyTorch not installed: live check off", icon=":material/help:", color="gray",
                 help="Install torch to compare every number on this page with PyTorch's.")
        return
    except Exception as exc:  # a failed check must never take the page down
        st.badge("PyTorch check unavailable", icon=":material/warning:", color="orange",
                 help=f"The comparison could not run ({type(exc).__name__}: {str(exc)[:200]}).")
        return
    label, color, icon = badge_text(summary)
    help_ = BADGE_HELP.format(fwd=parity.FORWARD_TOL, grad=parity.GRADIENT_TOL, how=f"Torch side: {summary.how}")
    st.badge(label, icon=icon, color=color, help=help_)


_prefetch_torch()
