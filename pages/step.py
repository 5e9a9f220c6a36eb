"""Step through a recurrent cell one time step at a time: its circuit with the live value on every wire, the
equations with the step's numbers, a time cursor (and in-browser playback), gate clamps compared with the
original run, predict-then-reveal for a classroom, and in-place weight editing for small cells.

Everything that depends only on the time cursor, the unit or the view lives in one ``st.fragment``: a step
change reruns that fragment, not the sidebar or the weight editor.
"""

from __future__ import annotations

import streamlit as st

from gru_viz.app import parity, step, trained_view, ui

st.set_page_config(page_title="Step through · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")
cfg = ui.setup_page("Step through", landing=True)  # no link: a scene that teaches; present=1 folds the sidebar

cfg = ui.sidebar_controls(cfg)
sc = None
with ui.friendly("Running the cell"):  # bad input is ui.scene's message; anything else, ours
    sc = ui.scene(cfg)
if sc is not None:
    sc = trained_view.labelled(sc)  # a trained model's steps in its task's symbols (words, marked values, …)
    with ui.stale_view(sc.stale):  # the last good run, greyed, while the input has an error
        with st.container(key="step_about", horizontal=True, vertical_alignment="center"):
            st.caption(sc.model.spec.describe() + " · " + sc.seq.source, width="content")
            parity.parity_badge(sc)  # live max |ours − torch|, cached by content
        for note in sc.notes:
            st.info(note, icon=":material/info:")
        step.session_model_note(cfg, sc)
        step.landing_note(cfg)
        trained_view.panel(sc)
        step.step_view(sc)
        if "weights" not in cfg.hidden_parts and not sc.stale:
            with ui.friendly("The weight editor"):
                step.weights_editor(ui.config(), sc)
