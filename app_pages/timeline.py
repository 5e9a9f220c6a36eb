"""Gate activations over a whole sequence (placeholder)."""

import streamlit as st

st.title("Timeline")
st.caption("Coming soon.")
