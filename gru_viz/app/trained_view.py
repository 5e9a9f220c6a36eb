"""A trained model on Step through and Timeline: its steps labelled with the task's symbols, the task in one line,
the target and the model's answer, and what it learned to do with its gates (words from gru_viz.explain.trained).

A shipped model (weights ``trained:<key>``) brings its readout and task from its file; a model trained on the
Train page brings them from the hand-off (:func:`remember`), kept beside the session's model and used only while
that very model is the one shown.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from ..core.tasks import Task
from ..core.train import Readout
from ..explain import claims
from ..explain import trained as words
from ..explain.literal import literal
from ..serve.state import Scene
from . import ui

SESSION_TRAINED = "gru_viz_session_trained"  # (model, readout, task) of a model handed over by the Train page


@st.cache_resource(show_spinner=False)
def shipped(key: str) -> tuple[Readout, Task]:
    """The readout and task of a shipped trained model (read from its file once per server)."""
    from ..io.trained import load_trained

    t = load_trained(key)
    return t.readout, t.task


def remember(model, readout: Readout, task: Task) -> None:
    """Keep a freshly trained model's readout and task beside it (called when it becomes the session's model)."""
    st.session_state[SESSION_TRAINED] = (model, Readout(readout.weight.copy(), readout.bias.copy(), readout.where),
                                         task)


def trained_of(sc: Scene) -> tuple[Readout, Task] | None:
    """The readout and task of the trained model a scene shows (None for any other model)."""
    kind, _, key = sc.cfg.weights.partition(":")
    if kind == "trained":
        return shipped(key)
    if kind == "session":
        held = st.session_state.get(SESSION_TRAINED)
        if held is not None and held[0] is st.session_state.get(ui.SESSION_MODEL):
            return held[1], held[2]
    return None


def labelled(sc: Scene) -> Scene:
    """The scene with its steps labelled in the task's symbols (words, symbols, marked values), if it shows a
    trained model on an input of its task; else the scene as it is."""
    got = trained_of(sc)
    if got is None:
        return sc
    _, task = got
    labels = words.step_labels(task, sc.seq.values)
    if labels is None:
        return sc
    seq = replace(sc.seq, labels=labels, alphabet=words.alphabet(task), source=f"{task.name.lower()} input")
    return replace(sc, seq=seq)


def sentences(sc: Scene) -> list[claims.Sentence]:
    """What the page says about a trained model on this input: the task, the answer, what its gates did."""
    got = trained_of(sc)
    if got is None:
        return []
    readout, task = got
    out = [words.say("trained.task", line=words.task_line(task).rstrip("."))]
    x = sc.seq.values
    if sc.model.spec.input_size != task.input_size or not words.fits(task, x):
        return out
    a = words.answer(sc.model, readout, task, x, sc.trace)  # the run on screen, clamps and all
    clamps = words.clamps_text(sc.trace)
    which = {"clamps": clamps} if clamps else {}
    if a.target is not None and a.verdict is not None:
        out.append(words.say("trained.answer" + (".clamped" if clamps else ""), target=a.target, says=a.says,
                             verdict=a.verdict, **which))
    else:
        out.append(words.say("trained.says" + (".clamped" if clamps else ""), says=a.says, **which))
    learned = words.learned(sc.model, task, sc.trace)
    if learned is not None:
        out.append(learned)
    return out


def panel(sc: Scene) -> None:
    """The trained model's task, answer and what it learned, in a box (nothing for other models)."""
    with ui.friendly("The trained model's task"):
        said = sentences(sc)
        if not said:
            return
        with st.container(border=True, key="trained_task"):
            st.markdown("**A trained model** · " + literal(said[0].text, None))
            got = trained_of(sc)
            if got is not None and not words.fits(got[1], sc.seq.values):
                st.caption("This input is not one of the task's (its steps are not the task's symbols), so there is "
                           "no right answer to compare with.")
            for sentence in said[1:]:
                st.markdown(literal(sentence.text, None))
