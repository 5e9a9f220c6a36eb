"""Matches PyTorch: the current configuration run again by torch, and the largest difference of every number.

Our side is the very run the other pages draw (ui.scene); the torch side comes from gru_viz.io.bridge.torch_side
(torch.nn's module where it has one, step-by-step torch code for the gates and for what torch.nn lacks).
Bookkeeping and tolerances: gru_viz.core.parity; caching and the badge: gru_viz.app.parity.
"""

from __future__ import annotations

import streamlit as st

from gru_viz.app import parity as parity_ui
from gru_viz.app import ui
from gru_viz.app.state import Scene
from gru_viz.core import parity
from gru_viz.core.parity import Report
from gru_viz.io import codegen

NUDGE = "matches_nudge"
SHORT = {"forward": "Outputs, final states", "steps": "Every gate, every step", "gradients": "Gradients"}

st.set_page_config(page_title="Matches PyTorch · gru-viz", page_icon=":material/verified:", layout="wide")
cfg = ui.setup_page("Matches PyTorch")


def lead(sc: Scene) -> None:
    s = sc.model.spec
    st.markdown(
        f"Every number on these pages comes from gru-viz's NumPy core. Here the run on screen — **{s.describe()}** "
        f"over **{sc.steps} steps** of {sc.seq.source or 'input'} — is computed again by **PyTorch**, and for every "
        "quantity we show the largest absolute difference between the two: the outputs and final states, **every "
        "gate of every step** of every layer and direction, and the **gradients** of a fixed random loss with "
        "respect to every weight, the input and h₀."
    )


def verdict(r64: Report) -> None:
    """Pass or fail against the documented float64 tolerances."""
    limits = f"≤ {parity.FORWARD_TOL:g} forward, ≤ {parity.GRADIENT_TOL:g} for gradients"
    if r64.passed:
        st.success(f"**Matches PyTorch in float64**: {len(r64.rows)} quantities, largest difference "
                   f"{parity.fmt(r64.worst())} (tolerance {limits}).", icon=":material/verified:")
        return
    bad = r64.failures()
    worst = max(bad, key=lambda r: r.diff / r.limit) if bad else None
    detail = f"; worst: {worst.label}, |Δ| = {parity.fmt(worst.diff)} > {worst.limit:.0e}" if worst else ""
    missing = f"; missing on one side: {', '.join(r64.missing[:5])}" if r64.missing else ""
    st.error(f"**Differs from PyTorch**: {len(bad)} of {len(r64.rows)} quantities exceed the tolerance ({limits})"
             f"{detail}{missing}.", icon=":material/error:")


def metrics(r64: Report, r32: Report) -> None:
    cols = st.columns(3)
    for col, group in zip(cols, parity.GROUPS, strict=True):
        col.metric(f"{SHORT[group]} · float64", parity.fmt(r64.worst(group)),
                   f"float32: {parity.fmt(r32.worst(group))}", delta_color="off", delta_arrow="off", border=True,
                   help=f"{parity.GROUP_TITLES[group]}: the largest |ours − torch| over every element of every "
                        "quantity in this group.")


def table(r64: Report, r32: Report, group: str) -> None:
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
    model, x, h0, ablations = parity_ui.run_of(sc)
    st.markdown(f"**The torch side** ran as **{how}**.")
    with st.expander("The torch code that computed its side (from gru_viz/bridge.py)", icon=":material/code:"):
        from gru_viz.io.bridge import torch_side_source

        st.code(torch_side_source(model, ablations), language="python")
    with st.expander("Run it yourself: a standalone snippet that rebuilds it in torch", icon=":material/terminal:"):
        st.code(codegen.snippet(model, x, h0, ablations), language="python")


def nudge_section(sc: Scene) -> None:
    """Show that the check can fail: move our first input weights by 1e-9 and compare again."""
    if not st.toggle("Can it fail? Move our first input weights by 1e-9 and compare again", key=NUDGE):
        return
    model, x, h0, ablations = parity_ui.run_of(sc)
    nudged = parity.nudge(model, 1e-9)
    r = parity_ui.compute_report(model, x, h0, ablations, "float64", ours_model=nudged)
    worst = max(r.rows, key=lambda row: row.diff / row.limit)
    state = "fails" if not r.passed else "still passes"
    st.write(f"With every entry of {next(iter(model.params))} moved by 1e-9 on our side only, the check **{state}**: "
             f"{len(r.failures())} quantities exceed the tolerance, e.g. {worst.label} with |Δ| = "
             f"{parity.fmt(worst.diff)}.")


# ------------------------------------------------------------------------------------------------ page

cfg = ui.sidebar_controls(cfg)
sc = ui.scene(cfg)
if sc is not None:
    lead(sc)
    parity_ui.parity_badge(sc)
    try:
        with st.spinner("Running the same configuration in PyTorch…"):
            r64, r32 = parity_ui.scene_report(sc, "float64"), parity_ui.scene_report(sc, "float32")
    except parity_ui.TorchMissing as exc:
        st.warning(f"{exc}: there is nothing to compare with. Every other page works without it.",
                   icon=":material/help:")
    else:
        with ui.friendly("The comparison"):
            verdict(r64)
            metrics(r64, r32)
            tabs = st.tabs([parity.GROUP_TITLES[g] for g in parity.GROUPS])
            for tab, group in zip(tabs, parity.GROUPS, strict=True):
                with tab:
                    table(r64, r32, group)
            st.markdown(TOLERANCES)
            code_section(sc, r64.how)
            nudge_section(sc)
ui.commit(cfg)
