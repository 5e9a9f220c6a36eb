"""Compare cells: the same input through a GRU, an LSTM, a vanilla RNN (and minGRU), side by side."""

from __future__ import annotations

import streamlit as st

from gru_viz.app import compare, ui

st.set_page_config(page_title="Compare cells · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")


def main() -> None:
    cfg = ui.setup_page("Compare cells")
    cfg = ui.sidebar_controls(cfg, weights_note=compare.WEIGHTS_NOTE)
    kinds, keep_bias = compare.page_settings(cfg)
    base = compare.compare_config(cfg)
    lineup, stale = ui.kept("compare", lambda: compare.lineup_of(base, kinds, keep_bias))
    if lineup is None:
        return
    with ui.stale_view(stale):  # greyed: the last good line-up while the input has an error
        st.caption(compare.describe(lineup))
        compare.page_notes(cfg)
        compare.cursor_view(lineup)
        compare.cost_section(lineup)
        compare.experiments(lineup)


with ui.friendly("The comparison"):
    main()
