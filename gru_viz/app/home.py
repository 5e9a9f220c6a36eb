"""The home page: the call to start the lesson, what a GRU is (in words checked against PyTorch's GRU), the
one-click demos and the shipped trained models."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ..core.params import random_model
from ..core.sources import ATTRIBUTIONS
from ..core.spec import Spec
from ..explain import claims, lessons
from ..explain.literal import literal
from ..io.trained import TRAINED_PRESETS
from ..serve import state
from . import ui
from .train import preset_showcase


def learn_call() -> None:
    """The main call to action: the guided lesson, chapter 1."""
    chs = lessons.chapters()
    with st.container(border=True, key="home_learn"):
        left, right = st.columns([3, 1], vertical_alignment="center")
        with left:
            st.markdown(f"### New to GRUs? Start the lesson\n{len(chs)} short chapters, one idea each, from *one step "
                        "of a GRU, number by number* to *training one yourself*. Every chapter is a live cell you can "
                        "change, and each asks you to predict before it shows you.")
        with right:
            st.page_link("pages/learn.py", label="Start: chapter 1", icon=":material/school:",
                         query_params={"chapter": "1"}, width="stretch")


def gru_summary() -> None:
    """What a GRU is, in a few lines; the gate sentences are registered claims (checked on a PyTorch GRU)."""
    st.markdown(
        "**A GRU is a recurrent cell with two gates.** At every step t it reads an input x_t and its previous state "
        "h_{t−1}, and decides, unit by unit, what to keep and what to write:\n\n"
        f"- {literal(claims.say('home.reset').text, None)}\n"
        f"- {literal(claims.say('home.gru').text, None)}\n\n"
        "Other papers and libraries swap z and 1 − z, or move r before the product: chapter 4 of the lesson shows "
        "the family. Every number on these pages is computed live by gru-viz's NumPy core, which agrees with "
        "`torch.nn.GRU` to float64 round-off. Or start with one of these:")


def summary_context() -> claims.Context:
    """The run the home page's sentences are about: a PyTorch GRU (for the page test's claims check)."""
    model = random_model(Spec("gru", 1, 3), 0)
    trace = model.run(np.sin(np.arange(12.0))[:, None])
    return claims.Context(trace=trace, model=model)


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


def real_text_card() -> None:
    """The real models on real text: the Real text page."""
    st.subheader("Real models on real text")
    with st.container(border=True, key="home_real_text"):
        st.markdown("**What a GRU learned from Python's source.** A GRU, an LSTM and a vanilla RNN, trained to guess "
                    "the next character of Python's own standard library: read your text through them, see the units "
                    "that learned to follow strings, brackets and the position in a line, and their gates' "
                    f"saturation, as {ATTRIBUTIONS['karpathy'].who} did on the Linux kernel's source.")
        st.page_link("pages/real_text.py", label="Open Real text", icon=":material/article:")
