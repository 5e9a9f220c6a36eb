"""Step through a cell one time step at a time (placeholder)."""

import json

import streamlit as st

from gru_viz import ui

st.set_page_config(page_title="Step through · gru-viz", page_icon=":material/step:", layout="wide")
cfg = ui.setup_page("Step through")
st.code(json.dumps(st.query_params.to_dict(), sort_keys=True), language="json")
