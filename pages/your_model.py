"""Your model (placeholder until its page lands)."""

import streamlit as st

from gru_viz import ui

st.set_page_config(page_title="Your model · gru-viz", page_icon=":material/upload_file:", layout="wide")
cfg = ui.setup_page("Your model")
st.caption("Upload a checkpoint and explore it (coming in this release).")
