"""Compare cells (placeholder until its page lands)."""

import streamlit as st

from gru_viz import ui

st.set_page_config(page_title="Compare cells · gru-viz", page_icon=":material/compare_arrows:", layout="wide")
cfg = ui.setup_page("Compare cells")
st.caption("GRU, LSTM, RNN and minGRU side by side (coming in this release).")
