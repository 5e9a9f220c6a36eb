"""Real text: character-level GRU, LSTM and RNN language models trained on Python's own standard library, read on
your text: the units they learned, their gates' saturation, pattern search, sampling, and the three side by side.

The models and the analyses live in gru_viz.io.charlm, gru_viz.core.charlm and gru_viz.core.units; the words in
gru_viz.explain.charlm and gru_viz.explain.real_text; the panels in gru_viz.app.real_text.
"""

from __future__ import annotations

import streamlit as st

from gru_viz.app import real_text, ui

st.set_page_config(page_title="Real text · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")
cfg = ui.setup_page("Real text: what a GRU learned from Python's source")
with ui.friendly("The Real text page"):
    real_text.page(cfg)
