"""Train (placeholder until its page lands)."""

import streamlit as st

from gru_viz import ui

st.set_page_config(page_title="Train · gru-viz", page_icon=":material/model_training:", layout="wide")
cfg = ui.setup_page("Train")
st.caption("Watch cells learn a task (coming in this release).")
