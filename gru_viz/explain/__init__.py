"""Words and equations computed from traces: pure Python on the core (no Streamlit, Plotly or torch)."""
