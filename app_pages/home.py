"""Home page (placeholder)."""

import streamlit as st

st.title("gru-viz")
st.write("An interactive visual explainer of recurrent cells: GRU, LSTM, RNN and minGRU.")
