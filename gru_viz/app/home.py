"""The home page's cards: the one-click demos and the shipped trained models."""

from __future__ import annotations

import streamlit as st

from ..io.trained import TRAINED_PRESETS
from . import state, ui
from .train import preset_showcase


def demo_cards() -> None:
    """One card per demo, each opening it on Step through."""
    cols = st.columns(len(state.DEMOS))
    for col, (name, description, demo) in zip(cols, state.DEMOS.values(), strict=True):
        with col.container(border=True):
            st.subheader(name)
            st.write(description)
            st.page_link("pages/step.py", label="Step through it", icon=":material/play_arrow:",
                         query_params=state.to_query(demo))


@st.cache_data(show_spinner=False)
def showcase(key: str) -> tuple[dict[str, str], str]:
    """The link settings and a one-line result of a trained preset on a test example (cached: files and a run)."""
    cfg, line = preset_showcase(key)
    return state.to_query(cfg), line


def trained_cards() -> None:
    """One card per shipped trained model, each with its result on a test example and links to open it."""
    cols = st.columns(len(TRAINED_PRESETS))
    for col, (key, preset) in zip(cols, TRAINED_PRESETS.items(), strict=True):
        with col.container(border=True):
            st.markdown(f"**{preset.name}**")
            st.caption(preset.description)
            with ui.friendly(f"The trained model {preset.name!r}"):
                query, line = showcase(key)
                st.caption(line)
                st.page_link("pages/step.py", label="Step through it", icon=":material/play_arrow:", query_params=query)
                st.page_link("pages/timeline.py", label="Timeline", icon=":material/timeline:", query_params=query)
