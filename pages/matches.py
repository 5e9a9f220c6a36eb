"""Matches PyTorch (placeholder until its page lands)."""

import streamlit as st

from gru_viz import ui

st.set_page_config(page_title="Matches PyTorch · gru-viz", page_icon=":material/verified:", layout="wide")
cfg = ui.setup_page("Matches PyTorch")
st.caption("Our numbers against torch's (coming in this release).")
