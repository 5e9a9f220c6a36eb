"""The Streamlit glue: the shareable Config and its URL form, the sidebar and shared page helpers, and each
page's own helpers. The scripts in ``pages/`` import from here, ``gru_viz.figures`` and ``gru_viz.explain``."""
