"""Gate activations over a whole sequence (placeholder)."""

import streamlit as st

from gru_viz import ui

st.set_page_config(page_title="Timeline · gru-viz", page_icon=":material/timeline:", layout="wide")
cfg = ui.setup_page("Timeline")
st.caption("Coming soon.")
