"""Matches PyTorch: the current configuration run again by torch, and the largest difference of every number.

Our side is the very run the other pages draw (ui.scene); the torch side comes from gru_viz.io.bridge.torch_side
(torch.nn's module where it has one, step-by-step torch code for the gates and for what torch.nn lacks).
Bookkeeping and tolerances: gru_viz.core.parity; caching and the badge: gru_viz.app.parity.
"""

from __future__ import annotations

import streamlit as st

from gru_viz.app import parity, ui

st.set_page_config(page_title="Matches PyTorch · gru-viz", page_icon=ui.PAGE_ICON, layout="wide")
cfg = ui.setup_page("Matches PyTorch")


def draw(sc) -> None:
    """The comparison of the run on screen."""
    parity.lead(sc)
    parity.parity_badge(sc)
    try:
        with st.spinner("Running the same configuration in PyTorch…"):
            judgement = parity.scene_judgement(sc)
            r64, r32, note = parity.shown_reports(sc, judgement)
    except parity.TorchMissing as exc:
        st.warning(f"{ui.message(exc)}: there is nothing to compare with. Every other page works without it.",
                   icon=":material/help:")
        return
    except ui.Pending:  # a job worker computes it: its place in the queue is on the page, which fills in by itself
        return
    except ui.FRIENDLY_ERRORS as exc:
        st.error(f"The comparison: {ui.message(exc)}", icon=":material/error:")
        return
    with ui.friendly("The comparison"):
        parity.verdict(judgement)
        parity.parting_section(judgement)
        if note:
            st.caption(note)
        parity.metrics(r64, r32)
        parity.tables(r64, r32)
        st.markdown(parity.TOLERANCES)
        parity.code_section(sc, r64.how)
        parity.nudge_section(sc)


cfg = ui.sidebar_controls(cfg)
sc = ui.scene(cfg)
if sc is not None:
    with ui.stale_view(sc.stale):  # greyed: the last good run while the input has an error
        draw(sc)
ui.commit(cfg)
