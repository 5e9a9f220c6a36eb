"""Gradient flow (placeholder until its page lands)."""

import streamlit as st

from gru_viz import ui

st.set_page_config(page_title="Gradient flow · gru-viz", page_icon=":material/trending_down:", layout="wide")
cfg = ui.setup_page("Gradient flow")
st.caption("Why gates beat vanishing gradients (coming in this release).")
