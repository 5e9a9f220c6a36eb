"""The Streamlit glue: the sidebar and shared page helpers, the byte-bounded caches, each page's own helpers, and
what starts Streamlit (the ``gru-viz`` command, serve.sh's replicas). The scripts in ``pages/`` import from here,
``gru_viz.serve`` (the Config), ``gru_viz.figures`` and ``gru_viz.explain``."""
