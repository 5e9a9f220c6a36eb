"""Your model: upload recurrent weights, see what they are, explore them on every page, and export any model.

The uploaded model becomes this session's (see gru_viz.app.your_model): Step through, Timeline and Gradient flow
run the whole model and show the layer picked here; the input is the shared sequence box or a CSV.
"""

from __future__ import annotations

import streamlit as st

from gru_viz.app import parity, ui, your_model

st.set_page_config(page_title="Your model · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")
cfg = ui.setup_page("Your model")

cfg = ui.sidebar_controls(cfg)
st.markdown(your_model.LEAD)
up = your_model.upload_section()
your_model.show_messages()
your_model.question_section()
your_model.mapping_section()
your_model.seq2seq_section()
if up is not None:
    your_model.summary_section(up)
sc = ui.scene(cfg)
your_model.explore_section(cfg, sc)
if sc is not None:
    with ui.stale_view(sc.stale):  # greyed: the last good run while the input has an error
        if cfg.weights != "session":  # (with your model, the badge sits under "Explore it")
            with ui.friendly("The PyTorch check"):
                parity.parity_badge(sc)
        with ui.friendly("The export"):
            your_model.export_section(sc)
ui.commit(cfg)
