"""The maths: recurrent cells, models, traces, gradients, tasks and training, in NumPy only (no Streamlit, Plotly
or torch; ``tests/test_layers.py`` keeps it so)."""
