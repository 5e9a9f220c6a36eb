"""Encoder–decoder: g2p-en's trained GRU reads a word letter by letter, then spells out its pronunciation.

The model, the words and the panels live in gru_viz.io.seq2seq, gru_viz.explain.seq2seq and gru_viz.app.seq2seq.
"""

from __future__ import annotations

import streamlit as st

from gru_viz.app import seq2seq, ui

st.set_page_config(page_title="Encoder–decoder · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")
cfg = ui.setup_page("Encoder–decoder: a GRU that reads and spells")
with ui.friendly("The encoder–decoder"):
    seq2seq.page(cfg)
