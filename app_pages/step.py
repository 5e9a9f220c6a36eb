"""Step through a cell one time step at a time (placeholder)."""

import json

import streamlit as st

st.title("Step through")
st.code(json.dumps(st.query_params.to_dict(), sort_keys=True), language="json")
