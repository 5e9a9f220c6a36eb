"""Learn: a guided lesson, one idea per chapter, each on a live scene with a question to predict first.

The chapters and their words live in gru_viz.explain.lessons; the page's panels in gru_viz.app.learn.
"""

from __future__ import annotations

import streamlit as st

from gru_viz.app import learn, ui

st.set_page_config(page_title="Learn · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")
cfg = ui.setup_page("Learn: how a GRU works")
if cfg.present:  # a projector needs the room
    st.set_page_config(initial_sidebar_state="collapsed")
with ui.friendly("The lesson"):
    learn.page(cfg)
