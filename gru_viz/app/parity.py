"""Streamlit glue for "our numbers equal PyTorch's": cached comparison reports, the live badge, and the panels of
the Matches PyTorch page.

torch is imported lazily (through :mod:`gru_viz.io.bridge`), so a page that shows the badge still works when
torch is not installed: the badge then says so. Reports are cached by a hash of everything that decides
them — the model's spec and weights, the input, h0 and the clamps — which covers both Config-built models
and a session's uploaded one, and makes a rerun that only moves the time cursor cost nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import streamlit as st

from ..core import parity
from ..core.model import Model
from ..core.parity import Report, Summary
from ..core.trace import Ablation, Trace
from ..explain.divergence import judgement_words
from ..explain.literal import literal as ui_literal
from ..figures import parity as parity_figs
from ..io import codegen
from ..serve import jobs, state, work
from ..serve.state import Scene
from . import budget, ui

MATCHES_PAGE = "pages/matches.py"


TorchMissing = work.TorchMissing  # torch cannot be imported (here, or in the job workers)


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
    """Run the comparison now, in this thread (no cache): our core against torch in ``dtype``; raises
    :class:`TorchMissing`. ``ours_model`` replaces the model on our side only (to show that a wrong model fails
    the check)."""
    return work.compare_with_torch(model, x, h0, ablations, dtype, trace, ours_model)


def compute_judgement(
    model: Model,
    x: np.ndarray,
    h0: object = None,
    ablations: Sequence[Ablation] = (),
    trace: Trace | None = None,
    ours_model: Model | None = None,
) -> parity.Judgement:
    """The float64 verdict now, in this thread (no cache): see :func:`gru_viz.serve.work.judgement`."""
    return work.judgement(model, x, h0, ablations, trace, ours_model)


class _Reports:
    """The reports' cache (``_cached_report.clear()`` empties it, as the tests do)."""

    @staticmethod
    def clear() -> None:
        budget.CACHES["parity"].clear()


_cached_report = _Reports()
LABEL = "Running the same configuration in PyTorch"


def report(
    model: Model,
    x: np.ndarray,
    h0: object = None,
    ablations: Sequence[Ablation] = (),
    dtype: str = "float64",
    trace: Trace | None = None,
) -> Report:
    """The (cached) comparison of one run in one dtype, computed by a job worker (torch lives there, never in the
    server process); raises :class:`TorchMissing`, or shows the job's place in the queue and raises ui.Pending."""
    ablations = tuple(ablations)
    key = ("parity", content_key(model, x, h0, ablations), dtype)
    return ui.heavy("parity", key, work.compare_with_torch, (model, x, h0, ablations, dtype), LABEL,
                    here=lambda: work.compare_with_torch(model, x, h0, ablations, dtype, trace))


def judgement(model: Model, x: np.ndarray, h0: object = None, ablations: Sequence[Ablation] = (),
              trace: Trace | None = None) -> parity.Judgement:
    """The (cached) float64 verdict of one run, computed by a job worker; raises :class:`TorchMissing`, or shows
    the job's place in the queue and raises ui.Pending."""
    ablations = tuple(ablations)
    key = ("judgement", content_key(model, x, h0, ablations))
    return ui.heavy("parity", key, work.judgement, (model, x, h0, ablations), LABEL,
                    here=lambda: work.judgement(model, x, h0, ablations, trace))


def clear_caches() -> None:
    """Forget every cached comparison (reports and judgements)."""
    budget.CACHES["parity"].clear()


def scene_judgement(scene: Scene) -> parity.Judgement:
    """The (cached) float64 verdict of the run a scene shows."""
    return judgement(*run_of(scene), trace=scene.trace)


def scene_report(scene: Scene, dtype: str = "float64") -> Report:
    """The (cached) comparison of the run a scene shows: our side is the very trace on screen."""
    return report(*run_of(scene), dtype=dtype, trace=scene.trace)


def live_summary(scene: Scene) -> Summary:
    """The float64 verdict for a scene's run (cached); raises :class:`TorchMissing`."""
    return scene_judgement(scene).summary()


# ---------------------------------------------------------------------------------------------- badge


def badge_text(summary: Summary) -> tuple[str, str, str]:
    """(label, colour, icon) of the badge for a verdict."""
    if summary.passed and summary.amplified:
        return (f"Matches PyTorch step by step · max |Δ| {parity.fmt(summary.worst)}", "green",
                ":material/verified:")
    if summary.passed:
        return f"Matches PyTorch · max |Δ| {parity.fmt(summary.worst)}", "green", ":material/verified:"
    return f"Differs from PyTorch · max |Δ| {parity.fmt(summary.worst)}", "red", ":material/error:"


BADGE_HELP = (
    "This run, recomputed by PyTorch in float64: outputs, final states, every gate of every step and the "
    "gradients of a fixed random loss. Tolerance: {fwd:g} for the forward numbers and {grad:g} for the "
    "gradients (relative to the values' size when they exceed 1). {how}. Details on the 'Matches PyTorch' page."
)


BADGE_POLL = 1.0  # seconds between looks at the badge's job


def _badge_summary(scene: Scene) -> Summary | None:
    """The verdict for the badge: cached, or computed now in the tests' inline mode; else None, after asking a job
    worker for it and drawing a "checking" badge that turns into the verdict when the job is done. The page never
    waits for torch (it lives in the workers)."""
    if jobs.inline_mode():
        return live_summary(scene)
    model, x, h0, ablations = run_of(scene)
    key = ("judgement", content_key(model, x, h0, ablations))  # the Matches PyTorch page's verdict, shared
    store = budget.CACHES["parity"]
    done = store.get(key)
    if done is not None:
        return done.summary()
    job = jobs.run(key, work.judgement, (model, x, h0, ablations), LABEL, ui.session_id(),
                   on_done=lambda j: store.put(key, j.value))
    if job.over:
        return ui.job_value(job).summary()

    def checking() -> None:
        if job.over:
            ui.rerun_by_itself()  # the page again, with the verdict from the cache
        st.badge("Checking against PyTorch…", icon=":material/hourglass_top:", color="gray",
                 help="PyTorch recomputes this run on the server's job worker; the verdict appears here by itself.")

    st.fragment(run_every=BADGE_POLL)(checking)()
    return None


def parity_badge(scene: Scene | None) -> None:
    """A small badge with the live max |ours − torch| for the displayed run; never raises, never waits."""
    if scene is None:
        return
    try:
        summary = _badge_summary(scene)
        if summary is None:
            return
    except TorchMissing:
        st.badge("PyTorch not installed: live check off", icon=":material/help:", color="gray",
                 help="Install torch to compare every number on this page with PyTorch's.")
        return
    except Exception as exc:  # a failed check must never take the page down
        st.badge("PyTorch check unavailable", icon=":material/warning:", color="orange",
                 help=f"The comparison could not run ({type(exc).__name__}: {ui_literal(exc, 200)}).")
        return
    label, color, icon = badge_text(summary)
    help_ = BADGE_HELP.format(fwd=parity.FORWARD_TOL, grad=parity.GRADIENT_TOL, how=f"Torch side: {summary.how}")
    if summary.amplified:
        help_ += (" This run amplifies round-off until the two whole runs part, so every step is checked from the "
                  "same state, and every number over the steps before they part.")
    st.badge(label, icon=icon, color=color, help=help_)



# ------------------------------------------------------------------------------ the Matches PyTorch page

NUDGE = "matches_nudge"
SHORT = {"forward": "Outputs, final states", "steps": "Every gate, every step", "gradients": "Gradients"}


def lead(sc: Scene) -> None:
    """What the page compares, in words."""
    s = sc.model.spec
    st.markdown(
        f"Every number on these pages comes from gru-viz's NumPy core. Here the run on screen — **{s.describe()}** "
        f"over **{sc.steps} steps** of {sc.seq.source or 'input'} — is computed again by **PyTorch**, and for every "
        "quantity we show the largest absolute difference between the two: the outputs and final states, **every "
        "gate of every step** of every layer and direction, and the **gradients** of a fixed random loss with "
        "respect to every weight, the input and h₀."
    )


def verdict(j: parity.Judgement) -> None:
    """Pass, pass step by step (a chaotic run), or fail, against the documented float64 tolerances."""
    kind, text = judgement_words(j)
    if kind == "differs":
        st.error(text, icon=":material/error:")
    else:
        st.success(text, icon=":material/verified:")


def shown_reports(sc: Scene, j: parity.Judgement) -> tuple[Report, Report, str | None]:
    """(float64, float32, caption) of the tables: the whole run, or — on a chaotic run that matched step by step —
    its first steps, where every number of both whole runs is still comparable."""
    if not j.amplified:
        return j.full, scene_report(sc, "float32"), None
    model, x, h0, ablations = run_of(sc)
    k = j.window_size
    r32 = report(model, parity.prefix(model.spec, x, k), h0, ablations, "float32")
    return j.window, r32, (f"The tables compare the first **{k} steps** of the input, run again on both sides: "
                           "after them the run has amplified round-off past the tolerance.")


def parting_section(j: parity.Judgement) -> None:
    """Where the two whole runs part, against the per-step check (only when the whole run differs)."""
    if j.parting is None or j.full.passed:
        return
    st.markdown("**Where the runs part** — |ours − torch| at every step, on a log scale")
    window = j.window_size if j.amplified else None
    st.plotly_chart(parity_figs.parting_figure(j.parting, j.step_gaps, window, j.torch_parting,
                                               present=ui.config().present),
                    key="matches_parting")
    st.caption("Solid: the two whole runs, each carrying its own round-off forward. Dash-dot: torch computing each "
               "step again from our state before it, so nothing is carried and nothing is amplified. A wrong equation "
               "lifts both lines far above the tolerance from the first steps; amplified round-off lifts only the "
               "solid one, and only gradually.")


def metrics(r64: Report, r32: Report) -> None:
    """The worst difference of each group, float64 with float32 beside it."""
    cols = st.columns(3)
    for col, group in zip(cols, parity.GROUPS, strict=True):
        col.metric(f"{SHORT[group]} · float64", parity.fmt(r64.worst(group)),
                   f"float32: {parity.fmt(r32.worst(group))}", delta_color="off", delta_arrow="off", border=True,
                   help=f"{parity.GROUP_TITLES[group]}: the largest |ours − torch| over every element of every "
                        "quantity in this group.")


def tables(r64: Report, r32: Report) -> None:
    """One tab per group of quantities."""
    tabs = st.tabs([parity.GROUP_TITLES[g] for g in parity.GROUPS])
    for tab, group in zip(tabs, parity.GROUPS, strict=True):
        with tab:
            table(r64, r32, group)


def table(r64: Report, r32: Report, group: str) -> None:
    """Every quantity of one group with its float64 and float32 differences."""
    f32 = {r.key: r.diff for r in r32.rows}
    rows = [r for r in r64.rows if r.group == group]
    st.dataframe(
        {
            "quantity": [r.label for r in rows],
            "numbers": [r.size for r in rows],
            "float64 max |Δ|": [r.diff for r in rows],
            "tolerance": [r.limit for r in rows],
            "within": ["✓" if r.diff <= r.limit else "✗" for r in rows],
            "float32 max |Δ|": [f32.get(r.key, float("nan")) for r in rows],
        },
        hide_index=True,
        height=min(38 + 35 * len(rows), 420),
        column_config={
            "float64 max |Δ|": st.column_config.NumberColumn(format="%.2e"),
            "tolerance": st.column_config.NumberColumn(format="%.0e"),
            "float32 max |Δ|": st.column_config.NumberColumn(format="%.2e"),
        },
    )


TOLERANCES = f"""
**Tolerances.** float64 carries about 16 significant digits; two correct implementations that add the same
numbers in a different order differ by a few units of the last digit, ~1e-16 per operation. We require
**≤ {parity.FORWARD_TOL:g}** for outputs, states and gates and **≤ {parity.GRADIENT_TOL:g}** for gradients (they
sum over every step), each times the largest value when that exceeds 1 (a ReLU RNN's states can grow large). A
wrong equation — a swapped gate, z where 1 − z belongs — differs by ~0.1, ten orders of magnitude more.
**float32** is only reported: torch's float32 keeps ~7 digits, so ~1e-7 to 1e-6 against our float64 is expected.

**The loss.** L = Σ R_out ⊙ output + Σ R_h ⊙ h_n (+ Σ R_c ⊙ c_n for an LSTM), with R drawn once from a
seeded normal distribution (seed {parity.LOSS_SEED}): a fixed "random loss" touches every output, so its
gradients exercise every weight, step and unit.
"""


def code_section(sc: Scene, how: str) -> None:
    """The torch code that computed the torch side, and a standalone snippet."""
    model, x, h0, ablations = run_of(sc)
    st.markdown(f"**The torch side** ran as **{how}**.")
    with st.expander("The torch code that computed its side (from gru_viz/io/bridge.py)", icon=":material/code:"):
        with ui.friendly("The torch code"):  # read where torch is (a job worker), once per kind of model
            source = ui.heavy("parity", ("torch-source", model.spec, tuple(ablations)), work.torch_source,
                              (model, ablations), "Reading the torch code")
            st.code(source, language="python")
    with st.expander("Run it yourself: a standalone snippet that rebuilds it in torch", icon=":material/terminal:"):
        st.code(codegen.snippet(model, x, h0, ablations), language="python")


def nudge_section(sc: Scene) -> None:
    """Show that the check can fail: move our first input weights by 1e-9 and judge again (step by step too)."""
    if not st.toggle("Can it fail? Move our first input weights by 1e-9 and compare again", key=NUDGE):
        return
    model, x, h0, ablations = run_of(sc)
    nudged = parity.nudge(model, 1e-9)
    j = ui.heavy("parity", ("judgement-nudged", content_key(model, x, h0, ablations)), work.judgement,
                 (model, x, h0, ablations, None, nudged), "Comparing the nudged model with PyTorch")
    r = j.full
    finite = [row for row in r.rows if row.diff == row.diff] or r.rows
    worst = max(finite, key=lambda row: row.diff / row.limit if row.diff == row.diff else float("inf"))
    state = "fails" if not j.passed else "still passes"
    text = (f"With every entry of {next(iter(model.params))} moved by 1e-9 on our side only, the check **{state}**: "
            f"{len(r.failures())} quantities of the whole run exceed the tolerance, e.g. {worst.label} with |Δ| = "
            f"{parity.fmt(worst.diff)}.")
    if j.steps is not None and not j.steps.passed:
        w = max(j.steps.failures(), key=lambda row: row.diff / row.limit)
        text += (f" Computed from the same state at every step, it still differs ({w.label}: |Δ| = "
                 f"{parity.fmt(w.diff)}): the step-by-step check sees a wrong model even on a chaotic run.")
    st.write(text)
