"""Timeline: every gate and state of a run over time × unit, the hidden-state trajectory, and export; a click on
a column opens that step on Step through (see gru_viz.app.timeline)."""

from __future__ import annotations

import streamlit as st

from gru_viz.app import timeline, ui
from gru_viz.serve import state

st.set_page_config(page_title="Timeline · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")
cfg = ui.setup_page("Timeline", landing=True)  # no link: a scene that teaches, not random weights
cfg = ui.sidebar_controls(cfg)
sc = ui.scene(cfg)
if sc is None:
    st.stop()
cfg = state.normalise(cfg, sc)
ui.commit(cfg)
timeline.open_picked_step(cfg)

with ui.friendly("Drawing the timeline"), ui.stale_view(sc.stale):  # greyed: the last good run under an error
    timeline.draw(cfg, sc)
