"""Figure builders: each takes traces (and plain settings) and returns a ``plotly.graph_objects.Figure``.

No Streamlit here, so every builder can be unit-tested by comparing what it draws with the trace.
"""
