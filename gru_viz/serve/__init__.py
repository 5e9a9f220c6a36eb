"""What serves the pages and is not Streamlit glue: the shareable Config and what it builds (``state``), the
server's limits, the heavy-job pool and its workers (``jobs``, ``work``, ``worker_init``) and the line-ups they
build. No Streamlit here: the job workers import it, and ``gru_viz.app`` wires it to the pages."""
