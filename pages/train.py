"""Train: watch a GRU, an LSTM and a vanilla RNN (and minGRU) learn a task on the same batches, then open a
trained model on the step-through and timeline pages and see the gates of a model that learned something.

How training stays responsive: the run (every cell's Trainer) lives in session state and is trained a chunk
at a time (about ``CHUNK_SECONDS``) by a fragment that reruns itself every ``TICK`` seconds while the run is
going (``st.fragment(run_every=...)``); each chunk ends by redrawing the progress bar and the curves. Stop
is a button outside the fragment: a click asks for a full rerun, which Streamlit starts at the fragment's next
Streamlit call — right after the chunk in progress — and whose callback ends the run, keeping every weight
learned so far. No thread trains in the background, so nothing outlives the session or races its state.
"""

from __future__ import annotations

import streamlit as st

from gru_viz.app import train, ui

st.set_page_config(page_title="Train · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")

ui.setup_page("Train")  # also writes the session's link back to the address bar
train.init_widgets()
current: train.Run | None = st.session_state.get(train.RUN)
running = current is not None and current.running
st.caption("Race recurrent cells on the same batches, then open a trained one and see what its gates learned.")
with ui.friendly("The training settings"):
    train.settings_panel(running)
    train.save_widgets()
    picked = st.session_state[train.KEYS["task"]]
    if current is not None and not running and picked != current.settings.task:  # the next run's task
        train.task_card(picked)

st.fragment(run_every=train.TICK if running else None)(train.live)()

if current is not None and not current.running:
    with ui.friendly("The results"):
        train.results(current)
