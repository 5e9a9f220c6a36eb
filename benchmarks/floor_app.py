"""The floor of a first open: a bare one-page Streamlit app. benchmarks/load_test.py --first-open opens it with the
same clients as gru-viz, so what Streamlit itself costs per session is measured in the same run. Opened as
``/?chart=1`` it also draws one small Plotly chart: the floor of a page with a picture (Plotly's frontend code is
most of a first open's time in the browser)."""

import streamlit as st

st.write("hi")
if st.query_params.get("chart"):
    import plotly.graph_objects as go

    st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))
