"""Gradient flow: why gates beat vanishing gradients, shown on live GRU, LSTM and RNN models."""

from __future__ import annotations

import streamlit as st

from gru_viz.app import compare, gradients, ui
from gru_viz.figures import flow

st.set_page_config(page_title="Gradient flow · gru-viz", page_icon=":material/trending_down:", layout="wide")


def main() -> None:
    cfg = ui.setup_page("Gradient flow")
    cfg = ui.sidebar_controls(cfg)
    first, second, third = st.columns([1.3, 1.5, 2.2], vertical_alignment="center")
    kinds, keep_bias = gradients.page_settings(first, second)
    base = compare.compare_config(cfg)
    try:
        lineup = gradients.lineup_of(base, kinds, keep_bias)
        flows = gradients.flows_of(base, kinds, keep_bias)
    except ui.FRIENDLY_ERRORS as exc:
        st.error(f"Cannot run the cells on this input: {exc}", icon=":material/error:")
        return
    if cfg.clamp:
        st.caption("Gate clamps are off on this page: it shows the cells as they are.")
    with third:
        t = gradients.cursor(lineup)
    left, right = st.columns([3, 2])
    analyses = None
    with left:
        st.plotly_chart(flow.flow_figure(flows, present=cfg.present), key="grad_flow")
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
