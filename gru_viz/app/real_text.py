"""The Real text page: character-level GRU, LSTM and RNN language models trained on Python's standard library.

Sections (tabs, drawn only when open): **Read** (the learner's text coloured by a unit, the next-character guess
at the cursor with its top five, and the gates at that character on Step through's circuit and narration),
**Units found** (the unit each model learned for each text feature, with r on held-out text), **Gate saturation**
(Karpathy et al.'s Figure 3), **Pattern search** (LSTMVis: a span's units, and every other place they do the
same), **Generate** (sample, then read what it wrote) and **Compare** (the three models side by side).

The model, the text, the unit, its layer and the cursor live in the link (``model``, ``text``, ``unit``,
``layer``, ``t``). Everything computed per model over the validation text (its units, saturation, pattern index,
bits per character) is computed once per server and shared by every session (``st.cache_resource``); a learner's
own text is read once per (model, text) and shared too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from ..core import charlm
from ..core.model import Model
from ..explain import narration
from ..explain import real_text as words
from ..explain.claims import Context, Sentence
from ..explain.literal import literal
from ..figures import cell, style
from ..io import charlm as charlm_io
from ..serve import state
from ..serve.state import Config
from . import step, ui

CHART = {"displayModeBar": False}
MAX_TEXT = 2_000  # characters of the learner's text the page reads (the rest stays in the box)
NAMES = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}
SECTIONS = ("Read", "Units found", "Gate saturation", "Pattern search", "Generate", "Compare")
TAB = "rt_section"  # the open section (a view choice of this tab, not in the link)
PASSAGE = "rt_passage"
PASSAGES = 6  # passages of the validation text offered to start from
PASSAGE_CHARS = 600


# ------------------------------------------------------------------------------------------ cached, shared


@st.cache_resource(show_spinner="Loading the language model…")
def model_of(kind: str) -> Model:
    """The shipped model ``kind`` (gru, lstm, rnn), read once per server."""
    return charlm_io.load_char_model(kind)


@st.cache_resource(show_spinner=False, max_entries=64)
def reading(kind: str, text: str) -> charlm.Reading:
    """``text`` through model ``kind``: every state and every next-character guess (shared: only read)."""
    return charlm.read(model_of(kind), text)


@st.cache_resource(show_spinner=False)
def validation() -> str:
    """The held-out text the analyses are computed on (Python's own source, never seen in training)."""
    return charlm_io.validation_text()


@st.cache_data(show_spinner=False)
def passages() -> list[tuple[str, str]]:
    """A few passages of the validation text to start from: (label, text), each starting at a line's start."""
    text = validation()
    out = []
    for k in range(PASSAGES):
        start = text.find("\n", k * len(text) // PASSAGES) + 1
        chunk = text[start:start + PASSAGE_CHARS]
        chunk = chunk[: chunk.rfind("\n") + 1] or chunk
        first = next((line.strip() for line in chunk.splitlines() if line.strip()), "")
        out.append((f"{k + 1}: {first[:48]}", chunk))
    return out


# -------------------------------------------------------------------------------------------- the text


def typed_text(cfg: Config) -> Config:
    """The text box (and the passages to start from); a change goes into the link."""
    key = ui.W + "text"
    if key not in st.session_state:
        st.session_state[key] = cfg.text
    opts = passages()
    st.selectbox("Or start from a passage of Python's own source (held out: the models never trained on it)",
                 [None, *range(len(opts))], key=PASSAGE, format_func=lambda i: "—" if i is None else opts[i][0],
                 on_change=_passage_picked)
    text = st.text_area(**ui.widget_args("text"), key=key, height=180)
    if text != cfg.text:
        cfg = replace(cfg, text=text, t=0)
        ui.commit(cfg)
    return cfg


def _passage_picked() -> None:
    i = st.session_state.get(PASSAGE)
    if i is None:
        return
    st.session_state[ui.W + "text"] = passages()[i][1]
    ui.update(text=passages()[i][1], t=0)
    st.session_state[ui.W + "text"] = passages()[i][1]


def text_notes(cfg: Config, r: charlm.Reading | None) -> list[Sentence]:
    """The notes about the text as a whole: over the cap, characters the model never saw."""
    out = []
    if len(cfg.text) > MAX_TEXT:
        out.append(words.say("rt.cap", n=len(cfg.text), cap=MAX_TEXT))
    if r is not None and r.unknown:
        out.append(words.say("rt.unknown", model=NAMES[cfg.model], chars=words.chars_text(words.unknown_chars(r)),
                             count=len(r.unknown)))
    return out


def context(cfg: Config, r: charlm.Reading, t: int = 0, layer: int = 0, unit: int = 0) -> Context:
    """The Context this page's sentences are checked against."""
    return Context(trace=r.trace, model=model_of(cfg.model), t=t, unit=unit,
                   values={"reading": r, "model": NAMES[cfg.model], "typed": cfg.text, "cap": MAX_TEXT, "t": t,
                           "layer": layer})


def prediction_sentences(cfg: Config, r: charlm.Reading, t: int) -> list[Sentence]:
    """What the model expects after the character at the cursor, and what came."""
    (best, p), = r.top(t, 1)
    out = [words.say("rt.next", seen=words.char_label(r.text[t]), t=t, model=NAMES[cfg.model], p=p,
                     best=words.char_label(best))]
    if t + 1 < len(r.text):
        ranked = [c for c, _ in r.top(t, 5)]
        nxt = r.text[t + 1]
        out.append(words.say("rt.actual", actual=words.char_label(nxt), p=words.actual_prob(r, t),
                             verdict=words.verdict(nxt, ranked)))
    else:
        out.append(words.say("rt.end", model=NAMES[cfg.model]))
    return out


# ---------------------------------------------------------------------------------------- layer and unit


@dataclass(frozen=True)
class Where:
    """The unit the text is coloured by: its layer and index, inside the model."""

    layer: int
    unit: int


def where(cfg: Config, model: Model) -> tuple[Where, list[str]]:
    """The link's layer and unit, kept inside the model, with a note for each moved."""
    notes = []
    layers, units = model.spec.num_layers, model.spec.hidden_size
    layer, unit = cfg.layer, cfg.unit
    if layer >= layers:
        notes.append(f"The {NAMES[cfg.model]} has layers 0 to {layers - 1}: showing layer 0 instead of layer {layer}.")
        layer = 0
    if unit >= units:
        notes.append(f"Each layer of the {NAMES[cfg.model]} has units 0 to {units - 1}: showing unit 0 instead of "
                     f"unit {unit}.")
        unit = 0
    return Where(layer, unit), notes


def unit_picker(cfg: Config, model: Model, at: Where) -> Where:
    """Layer and unit number inputs (in the link as ``layer`` and ``unit``)."""
    left, right = st.columns(2)
    lkey, ukey = ui.W + "layer", ui.W + "unit"
    if st.session_state.get(lkey) != at.layer:
        st.session_state[lkey] = at.layer
    if st.session_state.get(ukey) != at.unit:
        st.session_state[ukey] = at.unit
    layer = left.selectbox("Layer", list(range(model.spec.num_layers)), key=lkey,
                           help="Layer 0 reads the characters; layer 1 reads layer 0's states.")
    unit = right.number_input("Unit", 0, model.spec.hidden_size - 1, step=1, key=ukey,
                              help=f"Each layer has {model.spec.hidden_size} units, numbered from 0.")
    new = Where(int(layer), int(unit))
    if new != at or (cfg.layer, cfg.unit) != (new.layer, new.unit):
        ui.commit(replace(cfg, layer=new.layer, unit=new.unit))
    return new


# ------------------------------------------------------------------------------------------------- Read


def cursor(cfg: Config, r: charlm.Reading) -> int:
    """The character the prediction and the circuit are at (in the link as ``t``)."""
    n = len(r.text)
    t = min(cfg.t, n - 1)
    key = ui.W + "t"
    if st.session_state.get(key) != t:
        st.session_state[key] = t
    if n > 1:
        t = int(st.slider("Cursor: the character just read", 0, n - 1, key=key,
                          help="Move it along the text: the guess for the next character, and the gates that "
                               "made it, follow."))
    if t != cfg.t:
        ui.commit(replace(cfg, t=t))
    return t


def top_figure(top: list[tuple[str, float]], present: bool) -> dict:
    """The top five next characters as horizontal bars (a plain Plotly spec)."""
    labels = [words.char_label(c).strip("“”") if len(c) == 1 and not c.isspace() else words.char_label(c)
              for c, _ in top]
    probs = [p for _, p in top]
    from ..explain.claims import KINDS  # the rule the sentences round by

    return {"data": [{"type": "bar", "orientation": "h", "x": probs, "y": labels, "marker": {"color": "#0072B2"},
                      "text": [KINDS["prob"][1](p) for p in probs], "textposition": "auto",
                      "hovertemplate": "%{y}: %{x:.1%}<extra></extra>"}],
            "layout": {**style.layout(present), "height": 240 if not present else 300,
                       "margin": {"l": 10, "r": 10, "t": 30, "b": 30},
                       "title": {"text": "The next character: its top five"},
                       "xaxis": style.axis(present, range=[0, 1], tickformat=".0%"),
                       "yaxis": style.axis(present, autorange="reversed", automargin=True)}}


def read_section(cfg: Config, model: Model) -> None:
    """Read: the text, coloured by a unit; the guess at the cursor; the gates that made it."""
    cfg = typed_text(cfg)
    text = cfg.text[:MAX_TEXT]
    if not text:
        st.info("Nothing to read yet: type or paste some text above, or pick a passage of Python's source.",
                icon=":material/info:")
        return
    r = reading(cfg.model, text)
    for note in text_notes(cfg, r):
        st.info(note.text, icon=":material/info:")
    at, notes = where(cfg, model)
    for note in notes:
        st.info(note, icon=":material/info:")
    at = unit_picker(cfg, model, at)
    from ..figures import text as text_figs

    values = r.trace.layer(at.layer).h[:, 0, at.unit] if r.trace.batched else r.trace.layer(at.layer).h[:, at.unit]
    t = cursor(cfg, r)
    st.html(text_figs.coloured_html(r.text, values, cursor=t, unknown=r.unknown))
    st.caption(f"Each character's background: h of layer {at.layer}, unit {at.unit} right after reading it, blue for "
               "positive, grey for negative, stronger for larger |h| (as Karpathy et al. colour their cells).")
    left, right = st.columns([3, 2], gap="medium")
    with right:
        said = prediction_sentences(cfg, r, t)
        st.markdown(" ".join(literal(s.text, None) for s in said))
        st.plotly_chart(style.Prebuilt(top_figure(r.top(t, 5), cfg.present)), config=CHART, key="rt_top")
    with left:
        x = words.char_label(r.text[t]).strip("“”")
        st.plotly_chart(style.Prebuilt(cell.cell_spec(r.trace, t, at.unit, x, layer=at.layer, present=cfg.present)),
                        config=CHART, key="rt_circuit")
    story = narration.narrate(r.trace, t, at.unit, at.layer, x_text=words.char_label(r.text[t]))
    st.markdown(f"**What happened at character {t}** · layer {at.layer}, unit {at.unit}")
    st.markdown(" ".join(step.narration_markdown(s.text) for s in story.sentences), unsafe_allow_html=True)


# ------------------------------------------------------------------------------------------------- page


def model_choice(cfg: Config) -> Config:
    """Which language model (in the link as ``model``)."""
    key = ui.W + "model"
    if key not in st.session_state:
        st.session_state[key] = cfg.model
    kind = st.segmented_control(**ui.widget_args("model"), key=key, format_func=NAMES.get) or cfg.model
    if kind != cfg.model:
        cfg = replace(cfg, model=kind)
        ui.commit(cfg)
    return cfg


def page(cfg: Config) -> None:
    """The whole page below its title."""
    st.caption("Three character-level language models, a GRU, an LSTM and a vanilla RNN of about 200,000 "
               "parameters each, trained by gru-viz on Python's own standard library (its Lib/ source, "
               "PSF licence) to guess the next character, and run here on gru-viz's NumPy core. What do their "
               "units track, unasked? As Karpathy, Johnson & Fei-Fei (2015) found on the Linux kernel's source, "
               "some follow quotes, brackets and the position in a line.")
    cfg = model_choice(cfg)
    model = model_of(cfg.model)
    tabs = st.tabs(SECTIONS, key=TAB, on_change="rerun")
    draw = (read_section, units_section, saturation_section, pattern_section, generate_section, compare_section)
    for tab, fn in zip(tabs, draw, strict=True):
        if tab.open:
            with tab, ui.friendly(f"The {tab_name(fn)} section"):
                fn(cfg, model)


def tab_name(fn: object) -> str:
    """A section's name from its function."""
    return SECTIONS[(read_section, units_section, saturation_section, pattern_section, generate_section,
                     compare_section).index(fn)]


def units_section(cfg: Config, model: Model) -> None:
    st.write("…")


def saturation_section(cfg: Config, model: Model) -> None:
    st.write("…")


def pattern_section(cfg: Config, model: Model) -> None:
    st.write("…")


def generate_section(cfg: Config, model: Model) -> None:
    st.write("…")


def compare_section(cfg: Config, model: Model) -> None:
    st.write("…")


_ = (np, state)
