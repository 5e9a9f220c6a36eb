"""The floor of a first open: a bare one-page Streamlit app. benchmarks/load_test.py --first-open opens it with the
same clients as gru-viz, so what Streamlit itself costs per session is measured in the same run."""

import streamlit as st

st.write("hi")
