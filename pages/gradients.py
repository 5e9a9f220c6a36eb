"""Gradient flow: why gates beat vanishing gradients, shown on live GRU, LSTM and RNN models."""

from __future__ import annotations

import streamlit as st

from gru_viz.app import compare, gradients, ui
from gru_viz.figures import flow

st.set_page_config(page_title="Gradient flow · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")


def main() -> None:
    cfg = ui.setup_page("Gradient flow")
    cfg = ui.sidebar_controls(cfg)
    first, second, third = st.columns([1.3, 1.5, 2.2], vertical_alignment="center")
    kinds, keep_bias = gradients.page_settings(cfg, first, second)
    base = compare.compare_config(cfg)
    built, stale = ui.kept("gradients", lambda: (base, gradients.lineup_of(base, kinds, keep_bias),
                                                  gradients.flows_of(base, kinds, keep_bias)))
    if built is None:
        return
    with ui.stale_view(stale):  # greyed: the last good line-up while the input has an error
        draw(cfg, *built, third)


def draw(cfg, base, lineup, flows, third) -> None:
    """The page below the settings, for one line-up (the live one, or the last good one kept under an error)."""
    kinds, keep_bias = lineup.kinds, lineup.keep_bias
    if cfg.clamp:
        st.caption("Gate clamps are off on this page: it shows the cells as they are.")
    with third:
        t = gradients.cursor(lineup)
    left, right = st.columns([3, 2])
    analyses = None
    with left:
        st.plotly_chart(flow.flow_figure(gradients.flow_curves(flows), present=cfg.present), key="grad_flow")
        if note := gradients.overflow_note(flows):
            st.caption(note)
        with ui.friendly("The (T′, t) map"):
            analyses = gradients.analyses_of(base, kinds, keep_bias)
            start = next(iter(analyses.values())).heat_start
            st.markdown("**‖∂h_T′/∂h_t‖ for a sliding end step T′** (log₁₀; row T′ looks back to every t ≤ T′)")
            st.plotly_chart(flow.heatmap_figure({k: a.heat for k, a in analyses.items()}, start, present=cfg.present),
                            key="grad_heat")
            if start > 0:
                st.caption(f"The last {lineup.seq.steps - start} steps (a wider state makes each entry costlier).")
    with right:
        gradients.explainer(lineup, flows, t)
    if analyses is not None:
        gradients.paths_section(lineup, analyses)
    gradients.clipping_section(lineup, kinds)
    gradients.misconceptions(lineup, t)


with ui.friendly("The gradient-flow view"):
    main()
