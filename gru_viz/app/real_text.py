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

from ..core import charlm, text_features, units
from ..core.kinds import KIND
from ..core.model import Model
from ..core.sources import ATTRIBUTIONS
from ..explain import charlm as talk
from ..explain import narration
from ..explain import real_text as words
from ..explain.claims import Context, Sentence, num2_text
from ..explain.literal import literal
from ..figures import cell, style
from ..figures import real_text as figs
from ..figures import text as text_figs
from ..io import charlm as charlm_io
from ..serve import state, work
from ..serve.state import Config
from . import budget, step, ui

CHART = {"displayModeBar": False}
MAX_TEXT = 2_000  # characters of the learner's text the page reads (the rest stays in the box)
NAMES = {k: KIND[k].name for k in charlm_io.CHARLM_KINDS}  # GRU, LSTM, vanilla RNN
SECTIONS = ("Read", "Units found", "Gate saturation", "Pattern search", "Generate", "Compare")
TAB = "rt_section"  # the open section (a view choice of this tab, not in the link)
PASSAGE = "rt_passage"
SPAN = "rt_span"  # the pattern search's selection (start, end)
PASSAGES = 6  # passages of the validation text offered to start from
PASSAGE_CHARS = 600


# ------------------------------------------------------------------------------------------ cached, shared


@st.cache_resource(show_spinner="Loading the language model…")
def model_of(kind: str) -> Model:
    """The shipped model ``kind`` (gru, lstm, rnn), read once per server."""
    return charlm_io.load_char_model(kind)


@budget.cached("scenes")  # every gate of every character: bounded by bytes with the other runs
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
    text = st.text_area(**ui.widget_args("text"), key=key, height=150)
    if text != cfg.text:
        cfg = replace(cfg, text=text, t=0)
        st.session_state.pop(ui.W + "t", None)  # the cursor starts again at the new text's first character
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
        out.append(talk.unknown_sentence(r))
    return out


def context(cfg: Config, r: charlm.Reading | None = None, t: int = 0, **values: object) -> Context:
    """The Context this page's sentences are checked against (``values``: the section's own, see
    :mod:`gru_viz.explain.charlm`)."""
    model = model_of(cfg.model)
    return Context(trace=None if r is None else r.trace, model=model, t=t,
                   values={"reading": r, "kind": cfg.model, "spec": model.spec, "typed": cfg.text, "cap": MAX_TEXT,
                           "t": t, **values})


def say_all(sentences: list[Sentence], sep: str = " ") -> None:
    """Sentences as one paragraph (their text literal), or one paragraph each with ``sep`` "\n\n" (a sentence that
    opens with a name from a record, as the comparison with Karpathy et al.'s finding does, starts a paragraph)."""
    st.markdown(sep.join(literal(s.text, None) for s in sentences))


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
    if st.session_state.get(lkey) not in range(model.spec.num_layers):  # new, or past this model's layers
        st.session_state[lkey] = at.layer
    if st.session_state.get(ukey) not in range(model.spec.hidden_size):
        st.session_state[ukey] = at.unit
    layer = left.selectbox("Layer", list(range(model.spec.num_layers)), key=lkey,
                           help="Layer 0 reads the characters; layer 1 reads layer 0's states.")
    unit = right.number_input("Unit", 0, model.spec.hidden_size - 1, step=1, key=ukey,
                              help=f"Each layer has {model.spec.hidden_size} units, numbered from 0.")
    new = Where(int(layer), int(unit))
    if (cfg.layer, cfg.unit) != (new.layer, new.unit):
        ui.commit(replace(cfg, layer=new.layer, unit=new.unit))
    return new


# ------------------------------------------------------------------------------------------------- Read


def cursor(cfg: Config, r: charlm.Reading) -> int:
    """The character the prediction and the circuit are at (in the link as ``t``)."""
    n = len(r.text)
    t = min(cfg.t, n - 1)
    key = ui.W + "t"
    if st.session_state.get(key) not in range(n):  # new, or past this text's end
        st.session_state[key] = t
    if n > 1:
        t = int(st.slider("Cursor: the character just read", 0, n - 1, key=key,
                          help="Move it along the text: the guess for the next character, and the gates that "
                               "made it, follow."))
    if t != cfg.t:
        ui.commit(replace(cfg, t=t))
    return t


def top_rows(r: charlm.Reading, t: int) -> list[tuple[str, str, float]]:
    """The top five after the cursor, each (token, as the chart names it, probability)."""
    return [(c, talk.char_label(c), p) for c, p in r.top(t, 5)]


def read_section(cfg: Config, model: Model) -> None:
    """Read: the text, coloured by a unit; the guess at the cursor; the gates that made it."""
    left, right = st.columns([2, 3], gap="medium")
    with left:
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
        t = cursor(cfg, r)
    with right:
        long = r.text.count("\n") + len(r.text) // 80 > TEXT_LINES[cfg.present]  # else as tall as the text
        with st.container(height=TEXT_HEIGHT[cfg.present] if long else "content", border=False, key="rt_coloured"):
            st.html(text_figs.coloured_text(r.text, unit_values(r, at.layer, at.unit), scale=1.0, cursor=t))
        st.caption(words.say("rt.colour", layer=at.layer, unit=at.unit).text)
    circuit, guess = st.columns([3, 2], gap="medium")
    with guess:
        say_all(talk.next_sentences(r, t))
        st.plotly_chart(style.Prebuilt(figs.top_spec(top_rows(r, t), cfg.present)), config=CHART, key="rt_top")
    with circuit:
        x = talk.char_label(r.text[t]).strip("“”")
        st.plotly_chart(style.Prebuilt(cell.cell_spec(r.trace, t, at.unit, x, layer=at.layer, present=cfg.present)),
                        config=CHART, key="rt_circuit")
        story = narration.narrate(r.trace, t, at.unit, at.layer, x_text=talk.char_label(r.text[t]))
        st.markdown(f"**What happened at character {t}** · layer {at.layer}, unit {at.unit}")
        st.markdown(" ".join(step.narration_markdown(s.text) for s in story.sentences), unsafe_allow_html=True)


TEXT_HEIGHT = {False: 420, True: 330}  # px of the coloured text's scrolling box (presenting: above a 720 px fold)
TEXT_LINES = {False: 14, True: 10}  # about the lines that box holds: a shorter text takes only its own height


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
    if not cfg.present:  # (presenting, the projector's height goes to the text)
        intro()
    cfg = model_choice(cfg)
    model = model_of(cfg.model)
    tabs = st.tabs(SECTIONS, key=TAB, on_change="rerun")
    draw = (read_section, units_section, saturation_section, pattern_section, generate_section, compare_section)
    for tab, fn in zip(tabs, draw, strict=True):
        if tab.open:
            with tab, ui.friendly(f"The {tab_name(fn)} section"):
                fn(cfg, model)


def intro() -> None:
    """What the page is about, in a caption."""
    st.caption("Three character-level language models, a GRU, an LSTM and a vanilla RNN of about 200,000 "
               "parameters each, trained by gru-viz on Python's own standard library (its Lib/ source, "
               "PSF licence) to guess the next character, and run here on gru-viz's NumPy core. What do their "
               f"units track, unasked? As {ATTRIBUTIONS['karpathy'].who} found on the Linux kernel's source, "
               "some follow quotes, brackets and the position in a line.")


def tab_name(fn: object) -> str:
    """A section's name from its function."""
    return SECTIONS[(read_section, units_section, saturation_section, pattern_section, generate_section,
                     compare_section).index(fn)]


# ------------------------------------------------------------------------------------------- per model

@st.cache_resource(show_spinner=False)
def _kept(what: tuple) -> dict:
    """One server-wide slot per analysis (shared by every session): filled once, by :func:`analysis` or
    :func:`pattern_index`, outside any cached function, so that a job's waiting panel (its place in the queue, a
    Cancel button) is drawn on the page as for every other heavy job."""
    return {}


def analysis(kind: str) -> work.CharAnalysis:
    """Model ``kind``'s units, saturation and bits per character over the held-out text: computed once for the
    whole server by a job worker (its place in the queue on the page; in the page's own thread, under a status box,
    in the tests' inline mode), then shared by every session (``st.cache_resource``)."""
    slot = _kept(("analysis", kind))
    if "value" not in slot:
        with st.status(f"Reading {work.ANALYSIS_CHARS:,} characters of held-out Python through the {NAMES[kind]} "
                       "and finding its units: once for the whole server…", expanded=False) as box:
            slot["value"] = ui.heavy("lineups", ("charlm-analysis", kind), work.char_analysis, (kind,),
                                     f"Reading held-out Python through the {NAMES[kind]} and finding its units "
                                     "(once for the whole server)")
            box.update(label=f"The {NAMES[kind]} is analysed.", state="complete")
    return slot["value"]


def analysed(kind: str) -> bool:
    """Whether this server has analysed model ``kind`` already."""
    return "value" in _kept(("analysis", kind))


def pattern_index(kind: str, layer: int) -> units.PatternIndex:
    """LSTMVis's index over one layer's h on the held-out text's first PATTERN_CHARS characters (the states computed
    by a job worker, once for the whole server, then shared)."""
    slot = _kept(("pattern", kind, layer))
    if "value" not in slot:
        h = ui.heavy("lineups", ("charlm-pattern", kind, layer), work.pattern_states, (kind, layer),
                     f"Reading held-out Python through the {NAMES[kind]} for pattern search (once for the whole "
                     "server)")
        slot["value"] = units.PatternIndex(h, work.analysis_text(validation(), work.PATTERN_CHARS))
    return slot["value"]


def findings() -> dict[str, object]:
    """What the Learn chapter reads: every model's units found (by kind) and bits per character."""
    return {"found": {k: list(analysis(k).found) for k in NAMES}, "bits": {k: analysis(k).bits_per_char for k in NAMES}}


def lesson_figure(kind: str, found: object) -> None:
    """The Learn chapter's picture: the page's opening text coloured by the unit it names."""
    r = reading(kind, state.TEXT_DEFAULT)
    if found is None:
        st.caption(f"The {NAMES[kind]} has no unit named for any feature.")
        return
    values = unit_values(r, found.layer, found.unit, found.which)
    st.caption(f"The {NAMES[kind]}'s layer {found.layer}, unit {found.unit} ({found.which}) on a few lines of "
               "Python: blue where it is positive, grey where negative.")
    with st.container(key="learn_tinted_text"):  # (a key: what a browser test finds)
        st.html(text_figs.coloured_text(r.text, values, quantity=found.which))


def found_label(f: object) -> str:
    """A found unit in a picker: its feature, where it is, r held out."""
    feat = text_features.FEATURE[f.feature]
    where_ = f"layer {f.layer}, unit {f.unit}" + (" (its cell state c)" if f.which == "c" else "")
    return f"{feat.label} → {where_}, r = {num2_text(f.r)} ({f.strength})"


def units_section(cfg: Config, model: Model) -> None:
    """Units found, not hand-picked: per feature, the unit that follows it best, r on held-out text."""
    a = analysis(cfg.model)
    rows = []
    for f in a.found:
        feat = text_features.FEATURE[f.feature]
        rows.append({"feature": feat.label, "layer": f.layer, "unit": f.unit,
                     "state": "c (cell)" if f.which == "c" else "h", "r held out": num2_text(f.r),
                     "evidence": f.strength})
    st.dataframe(rows, hide_index=True, width="stretch")
    named = [f for f in a.found if f.named and f.which == "h"]
    if named:
        unit_pick(cfg, named)
    said = talk.found_sentences(list(a.found), talk.unit_count(model.spec))
    say_all(said[:2])
    st.markdown("\n".join(f"- {literal(s.text, None)}" for s in said[2:]))  # one feature a line
    st.caption("The features are computed from the text itself; r is Pearson's correlation of the unit's value "
               "with the feature, character by character. A unit that follows a feature is a hint of what the state "
               "holds, not proof that the model uses it.")


def unit_pick(cfg: Config, named: list) -> None:
    """Choose one of the units found: the Read section (and this one) colour the text by it."""
    labels = {found_label(f): f for f in named}
    pick = st.selectbox("Colour your text by one of them (here and in the Read section)", [None, *labels],
                        key="rt_found", format_func=lambda k: "—" if k is None else k)
    if pick is None:
        return
    f = labels[pick]
    if (cfg.layer, cfg.unit) != (f.layer, f.unit):
        ui.update(layer=f.layer, unit=f.unit)  # the Read section's pickers follow
    text = cfg.text[:MAX_TEXT]
    if text:
        r = reading(cfg.model, text)
        with st.container(height=TEXT_HEIGHT[cfg.present], border=False):
            st.html(text_figs.coloured_text(r.text, unit_values(r, f.layer, f.unit), scale=1.0))


def unit_values(r: charlm.Reading, layer: int, unit: int, which: str = "h") -> np.ndarray:
    """h (or an LSTM's c) of one unit over a reading, one value per character."""
    lt = r.trace.layer(layer)
    h = lt.gates["c"] if which == "c" else lt.h
    return h[:, 0, unit] if h.ndim == 3 else h[:, unit]


def saturation_section(cfg: Config, model: Model) -> None:
    """Gate saturation, as Karpathy et al.'s Figure 3: per layer, each gate unit a point."""
    a = analysis(cfg.model)
    said = talk.saturation_sentences(model.spec, a.saturation)
    if not a.saturation:
        st.info(said[0].text, icon=":material/info:")
        return
    st.plotly_chart(text_figs.saturation_figure(cfg.model, a.saturation, present=cfg.present), config=CHART,
                    key="rt_saturation")
    st.caption(f"Each point is one gate of one unit, over {a.chars:,} characters of held-out Python: across, the "
               f"share of characters where it is below {charlm.LOW} (left-saturated, shut); up, the share above "
               f"{charlm.HIGH} (right-saturated, open). Points near the corners are gates that are nearly always shut "
               "or nearly always open; points near the origin switch with the text.")
    say_all(said)


def pattern_section(cfg: Config, model: Model) -> None:
    """Pattern search (LSTMVis): a span of the text, its units, and where else they do the same."""
    text = cfg.text[:MAX_TEXT]
    if len(text) < 2:
        st.info("Pattern search needs a text of at least two characters: type some in the Read section.",
                icon=":material/info:")
        return
    r = reading(cfg.model, text)
    at, _ = where(cfg, model)
    n = len(text)
    key = SPAN
    if key not in st.session_state or st.session_state[key][1] > n:
        st.session_state[key] = (max(0, min(cfg.t, n - 2)), min(n, max(cfg.t, 0) + 6))
    start, end = st.slider("Select a span of your text (characters from … to)", 0, n, key=key)
    if end - start < 1:
        st.info("Select at least one character.", icon=":material/info:")
        return
    threshold = st.slider("Threshold: a unit is on where its h is at least", 0.05, 0.95, units.THRESHOLD, 0.05,
                          key="rt_threshold")
    mine = units.PatternIndex(unit_block(r, at.layer), text)
    picked = mine.select(start, end, threshold)
    st.html(figs.span_html(text, [(start, end)]))
    index = pattern_index(cfg.model, at.layer)
    p = talk.search(index, at.layer, 0, 1, threshold)  # the held-out text's index, matched with your span's units
    p = replace(p, index=mine, start=start, end=end, units=picked,
                matches=tuple(index.matches(picked, threshold)) if len(picked) else ())
    say_all(talk.pattern_sentences(p))
    if len(picked) == 0:
        return
    st.caption(f"Units: {', '.join(str(u) for u in picked[:30])}{' …' if len(picked) > 30 else ''}. "
               + words.say("rt.searched", chars=len(index.text), who=ATTRIBUTIONS["lstmvis"].who).text)
    if p.matches:
        with st.container(height=TEXT_HEIGHT[cfg.present], border=True, key="rt_matches"):  # every match listed
            st.html('<div style="overflow-x:auto">' + text_figs.match_snippets(index.text, list(p.matches))
                    + "</div>")


def unit_block(r: charlm.Reading, layer: int) -> np.ndarray:
    """(T, H) h of one layer over a reading."""
    h = r.trace.layer(layer).h
    return h[:, 0] if h.ndim == 3 else h


GEN = "rt_generated"


@st.cache_data(show_spinner=False, max_entries=64)
def generated(kind: str, prompt: str, length: int, temperature: float, seed: int) -> str:
    """What model ``kind`` writes after ``prompt`` (shared by every session asking the same)."""
    return charlm.sample(model_of(kind), prompt, length, temperature, seed)


def _read_it(text: str) -> None:
    st.session_state[ui.W + "text"] = text
    st.session_state[TAB] = SECTIONS[0]
    ui.update(text=text, t=0)
    st.session_state[ui.W + "text"] = text


def generate_section(cfg: Config, model: Model) -> None:
    """Generate: sample at a temperature, then read what it wrote."""
    prompt = st.text_input("Start it with", "def ", key="rt_prompt", max_chars=200)
    left, mid, right = st.columns(3)
    temperature = left.slider("Temperature", 0.1, 2.0, 0.7, 0.1, key="rt_temp",
                              help="Below 1 it picks its likelier guesses; above 1 it takes more chances.")
    seed = mid.number_input("Seed", 0, 2**31 - 1, 0, key="rt_seed")
    length = right.slider("Characters", 50, 500, 300, 50, key="rt_len")
    out = generated(cfg.model, prompt, int(length), float(temperature), int(seed))
    st.code(prompt + out, language="python", wrap_lines=True)
    st.caption(words.say("rt.generated", model=NAMES[cfg.model], n=len(out), temperature=float(temperature),
                         seed=int(seed)).text)
    st.button("Read what it wrote: step through it", key="rt_read_generated", icon=":material/play_arrow:",
              on_click=_read_it, args=((prompt + out)[:MAX_TEXT],), type="primary")


def saturated_text(sat: dict) -> str:
    """How many gate units are below 0.1 or above 0.9 more than half the time, of all its gate units."""
    if not sat:
        return "no gates"
    n = sum(int(((left > talk.MOST) | (right > talk.MOST)).sum()) for left, right in sat.values())
    total = sum(len(left) for left, _ in sat.values())
    return f"{n} of {total}"


def compare_section(cfg: Config, model: Model) -> None:
    """GRU, LSTM and RNN on the same text."""
    text = cfg.text[:MAX_TEXT]
    bar = st.progress(0.0, text="Analysing the three models…") if not all(map(analysed, NAMES)) else None
    rows, lists = [], []
    for i, kind in enumerate(NAMES):
        a = analysis(kind)
        info = charlm_io.char_model_info(kind)
        mine = reading(kind, text).bits_per_char() if len(text) >= 2 else float("nan")
        named = [text_features.FEATURE[f.feature].label for f in a.found if f.named]
        lists.append(f"- **{NAMES[kind]}**: {', '.join(named) or 'no feature'}")
        rows.append({"model": NAMES[kind], "parameters": f"{info.params:,}",
                     "bits per char, held-out Python": f"{a.bits_per_char:.2f}",
                     "bits per char, your text": "—" if not np.isfinite(mine) else f"{mine:.2f}",
                     "features with a unit": f"{len(named)} of {len(a.found)}",
                     "gate units saturated over half the time": saturated_text(a.saturation)})
        if bar is not None:
            bar.progress((i + 1) / len(NAMES), text=f"Analysed: {', '.join(NAMES[k] for k in list(NAMES)[:i + 1])}")
    if bar is not None:
        bar.empty()
    # three rows: a plain table, drawn at once on every screen (a data grid paints later)
    st.table({key: [r[key] for r in rows] for key in rows[0]}, hide_index=True)
    st.markdown("**The features each has a unit for** (see Units found for the units and their r):\n\n"
                + "\n".join(lists))
    st.plotly_chart(text_figs.bpc_figure({k: analysis(k).bits_per_char for k in NAMES}, present=cfg.present),
                    config=CHART, key="rt_bits")
    said = talk.bpc_sentences({k: analysis(k).bits_per_char for k in NAMES}, len(validation()), charlm.CHUNK,
                              charlm.WARMUP)[1:]  # (measured in one sequence, not in windows: said below)
    say_all([words.say("rt.bpc.how", chars=len(validation())), *said], "\n\n")


