"""Streamlit glue shared by every page: the config in session state and the URL, sidebar controls, the
cached scene, presenter mode, and friendly errors. Pages stay thin: they call these and draw figures.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TypeVar

import streamlit as st

from ..core.model import ModelInputError
from ..core.presets import PRESETS
from ..core.sequences import GENERATORS, MAX_STEPS, SequenceError
from ..core.spec import CLAMPABLE, GRU_VARIANTS, KIND_NAMES, KINDS, SpecError
from . import state
from .state import Config, ConfigError, Scene

CFG = "gru_viz_cfg"
NOTES = "gru_viz_notes"
SESSION_MODEL = "gru_viz_session_model"  # an uploaded or freshly trained Model: this session's only
SESSION_MODEL_NAME = "gru_viz_session_model_name"
LAYER_CHOICE = "gru_viz_layer_choice"  # (layer, direction) of the session model picked on "Your model" (0-based)
W = "w_"  # prefix of widget keys that mirror Config fields

T = TypeVar("T")

FRIENDLY_ERRORS = (SequenceError, ConfigError, ModelInputError, SpecError)

_GATE_LABEL = {"r": "reset r", "z": "update z", "i": "input i", "f": "forget f", "o": "output o"}


# ------------------------------------------------------------------------------------------ config


LAST_QUERY = "gru_viz_last_query"


def config() -> Config:
    """This session's Config, read from the URL on a session's first run or when a link brings a new one.

    Moving between pages clears the query string; an empty one then keeps the session's config, and the
    page writes it back, so the address bar is always the link to what is on screen.
    """
    query = st.query_params.to_dict()
    fresh = CFG not in st.session_state
    if fresh or (query and query != st.session_state.get(LAST_QUERY)):
        cfg, notes = state.from_query(query)
        if not fresh:
            _forget_widgets()
        st.session_state[CFG] = cfg
        st.session_state[NOTES] = notes
        st.session_state[LAST_QUERY] = query
        if fresh and not query:  # opened with no link at all: Step through and Timeline show the landing scene
            st.session_state[BLANK] = True
        else:
            st.session_state.pop(BLANK, None)
    return st.session_state[CFG]


BLANK = "gru_viz_blank"  # this session came with no link and nothing has been chosen yet


def land() -> Config:
    """On a page that teaches at first sight (Step through, Timeline): a session that came with no link and has
    chosen nothing yet moves to the landing scene (state.LANDING) instead of the Config's defaults."""
    if st.session_state.pop(BLANK, False) and st.session_state[CFG] == state.DEFAULT:
        _forget_widgets()
        commit(state.LANDING)
    return st.session_state[CFG]


def commit(cfg: Config) -> None:
    """Store ``cfg`` and mirror it in the URL, so the address bar is always a shareable link."""
    st.session_state[CFG] = cfg
    if cfg != state.DEFAULT:
        st.session_state.pop(BLANK, None)  # a choice was made: the landing no longer applies
    query = {} if st.session_state.get(BLANK) else state.to_query(cfg)  # no link came, none is written yet
    st.session_state[LAST_QUERY] = query
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def _forget_widgets() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(W)]:
        del st.session_state[key]


def apply(cfg: Config) -> None:
    """Replace the config and every widget mirroring it (call from a callback, before widgets draw)."""
    _forget_widgets()
    st.session_state.pop(BLANK, None)  # an explicit choice, even of the defaults
    commit(cfg)


def update(**changes: object) -> None:
    """Callback helper: change some config fields (and their widgets)."""
    cfg = replace(config(), **changes)
    for name in changes:
        st.session_state.pop(W + name, None)
    commit(cfg)


def _widget(name: str, cfg: Config, value: object = None) -> str:
    """Key of the widget mirroring field ``name``, seeded from the config when it is new."""
    key = W + name
    if key not in st.session_state:
        st.session_state[key] = getattr(cfg, name) if value is None else value
    return key


# -------------------------------------------------------------------------------------------- page


def setup_page(title: str, icon: str = "", landing: bool = False) -> Config:
    """Presenter styling, link notes and the config: the first call of every page. ``landing``: this page shows
    the landing scene to a session that came with no link (see :func:`land`)."""
    cfg = config()
    if landing:
        cfg = land()
    _one_blas_thread()
    # Widget ids differ per page: re-set the widgets' values so a page switch keeps them (Streamlit's idiom).
    st.session_state.update({k: v for k, v in st.session_state.items() if isinstance(k, str) and k.startswith(W)})
    commit(cfg)  # a page reached from the menu (empty query) writes its link back: the address bar is the link
    nav()
    if cfg.present:
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
    for note in st.session_state.pop(NOTES, []):
        st.info(note, icon=":material/link:")
    st.title(f"{icon} {title}".strip())
    return cfg


@st.cache_resource(show_spinner=False)
def _one_blas_thread() -> bool:
    """Once per server: one OpenBLAS thread. Forty sessions share two cores; a second BLAS thread per small
    product only spins against the others (training steps were 10-20× slower with it)."""
    from .train import single_blas_thread

    return single_blas_thread()


PRESENTER_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 1.25rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; max-width: 100%; }
h1 { font-size: 2.4rem !important; }
</style>
"""


_WJ = "\u2060"  # word joiner: invisible, breaks autolinks and :emoji: codes
_ASCII_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md_literal(text: object) -> str:
    """``text`` shown literally by st.markdown / st.caption: every ASCII punctuation mark escaped, and the
    autolinks and codes that escaping cannot stop broken (see notes/streamlit-api.md §5)."""
    s = _ASCII_PUNCT.sub(r"\\\1", str(text))
    s = re.sub(r"\\:(?=\S)", "\\\\:" + _WJ, s).replace("\\@", _WJ + "\\@")  # ':' before a space is safe
    return re.sub(r"(?i)(www)(\\\.)", r"\1" + _WJ + r"\2", s)


@contextlib.contextmanager
def friendly(what: str) -> Iterator[None]:
    """Show any failure inside as a message in the page, never a traceback."""
    try:
        yield
    except FRIENDLY_ERRORS as exc:
        st.error(f"{what}: {exc}", icon=":material/error:")
    except Exception as exc:  # a bug of ours: say so plainly, keep the page alive
        st.error(f"{what} failed unexpectedly ({type(exc).__name__}). Your settings are kept; please change "
                 "one and try again.", icon=":material/bug_report:")


CACHE_TTL = 3 * 3600  # seconds after an entry was built (reads do not extend it): longer than a lesson


@st.cache_resource(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def _cached_scene(cfg: Config) -> Scene:
    # Keyed by the Config only (URL-visible settings, no uploads), so sharing across sessions leaks nothing.
    return state.build_scene(cfg)


def scene(cfg: Config) -> Scene | None:
    """The Scene for ``cfg`` (cached), or None after showing what is wrong with the input or weights."""
    session_model = st.session_state.get(SESSION_MODEL)
    try:
        base = replace(cfg, t=0, unit=0, present=False, hide="", predict=False)  # view-only fields
        if cfg.weights == "session" and session_model is not None:
            return state.build_scene(base, session_model)  # this session's own model: never shared
        if cfg.weights == "session":
            base = replace(base, weights="random")
        return _cached_scene(base)
    except FRIENDLY_ERRORS as exc:
        st.error(f"Cannot run the cell on this input: {exc}", icon=":material/error:")
        return None
    except Exception as exc:  # a bug of ours: say so plainly, keep the page and the settings alive
        st.error(f"Running the cell failed unexpectedly ({type(exc).__name__}). Your settings are kept; "
                 "please change one and try again.", icon=":material/bug_report:")
        return None


@st.cache_resource(max_entries=48, ttl=CACHE_TTL, show_spinner=False)
def _shared(key: tuple, _build: Callable[[], T]) -> T:
    return _build()


def link_key(sc: Scene) -> Config | None:
    """What a scene was built from when every session with its link gets the same one (its cache key); None
    when it holds this session's own model. Taken from the scene itself, so a figure keyed by it can never
    outlive a change of model between building the scene and drawing it."""
    return None if sc.cfg.weights == "session" else sc.cfg


def shared(key: tuple | None, build: Callable[[], T]) -> T:
    """``build()``, made once for every session that asks with the same key (a figure of a shared link: forty
    students on one link cost one build); with key None (this session's own model), built for this run only.
    The result is shared: read it, never change it."""
    return build() if key is None else _shared(key, build)


def layer_label(layer: int, direction: int, directions: int) -> str:
    """ "layer 1 · reverse": layers counted from 0 on every page, as torch's keys (weight_ih_l0) and the traces
    count them; the direction only when there are two."""
    return f"layer {layer}" + (f" · {('forward', 'reverse')[direction]}" if directions == 2 else "")


# ---------------------------------------------------------------------------------------- controls


def sidebar_controls(cfg: Config) -> Config:
    """The shared controls (cell, input, weights, clamps) in the sidebar; returns the updated config."""
    if "controls" in cfg.hidden_parts:
        return cfg
    with st.sidebar:
        st.subheader("Cell")
        cell = st.selectbox("Cell", KINDS, format_func=KIND_NAMES.get, key=_widget("cell", cfg))
        variant = cfg.variant
        if cell == "gru":
            variant = st.selectbox("GRU variant", tuple(GRU_VARIANTS), format_func=lambda k: GRU_VARIANTS[k].name,
                                   key=_widget("variant", cfg), help=GRU_VARIANTS[cfg.variant].description)
        hidden = st.number_input("Hidden size H", 1, state.APP_MAX_HIDDEN, key=_widget("hidden", cfg))

        st.subheader("Input")
        source = st.segmented_control("Input", state.SOURCES, key=_widget("source", cfg),
                                      format_func={"typed": "numbers", "text": "text", "gen": "generator"}.get,
                                      label_visibility="collapsed") or cfg.source
        seq, gen, steps, gp = cfg.seq, cfg.gen, cfg.steps, cfg.gp
        if source in ("typed", "text"):
            help_ = ("Scalars `0.5, 1, -2`, or vectors per step `1 0; 0 1`." if source == "typed"
                     else "Any text: each character becomes a one-hot vector over the text's own alphabet.")
            seq = st.text_area("Sequence", key=_widget("seq", cfg), help=help_, height=90)
        else:
            gen = st.selectbox("Generator", tuple(GENERATORS), format_func=lambda k: GENERATORS[k].name,
                               key=_widget("gen", cfg))
            steps = st.number_input(f"Steps (≤ {MAX_STEPS})", 1, MAX_STEPS, key=_widget("steps", cfg))
            gp = _generator_params(cfg, gen, int(steps))

        st.subheader("Weights")
        weights = _weights_control(cfg, cell)
        seed = st.number_input("Seed", 0, 2**31 - 1, key=_widget("seed", cfg))
        scale = st.slider("Recurrent weight scale", 0.0, 5.0, step=0.1, key=_widget("scale", cfg),
                          help="Multiplies every W_hh: small fades memory, large saturates or explodes.")
        h0 = st.segmented_control("Initial state h₀", state.H0_CHOICES, key=_widget("h0", cfg)) or cfg.h0

        clamp = _clamp_controls(cfg, cell)
        present = st.toggle("Presenter mode", key=_widget("present", cfg),
                            help="Larger type for a projector; the link carries it to every student.")
    new = replace(cfg, cell=cell, variant=variant, hidden=int(hidden), source=source, seq=seq, gen=gen,
                  steps=int(steps), gp=gp, weights=weights, seed=int(seed), scale=float(scale), h0=h0,
                  clamp=clamp, present=bool(present))
    if new != cfg:
        commit(new)
    return new


def _generator_params(cfg: Config, gen: str, steps: int) -> str:
    """Number inputs for the generator's parameters, as a ``gp`` string."""
    try:
        limits = GENERATORS[gen].limits(steps)
    except SequenceError as exc:
        st.caption(str(exc))
        return cfg.gp
    current = cfg.gen_params() if gen == cfg.gen else {}
    parts = []
    for p in GENERATORS[gen].params:
        low, high, default = limits[p.name]
        key = f"{W}gp_{gen}_{p.name}"
        if key not in st.session_state:
            value = current.get(p.name, default)
            st.session_state[key] = int(value) if p.integer else float(value)
        if p.integer:
            value = st.number_input(p.name, int(low), int(high), key=key, help=p.help)
        else:
            value = st.number_input(p.name, float(low), float(high), key=key, help=p.help)
        if value != default:
            parts.append(f"{p.name}={value:g}")
    return ",".join(parts)


def _weights_control(cfg: Config, cell: str) -> str:
    options = ["random"]
    if cell == "gru":
        options += [f"preset:{k}" for k in PRESETS]
    with contextlib.suppress(ImportError):
        from ..io.trained import TRAINED_PRESETS

        options += [f"trained:{k}" for k, p in TRAINED_PRESETS.items() if _trained_kind(p) in (cell, None)]
    if SESSION_MODEL in st.session_state:
        options.append("session")
    key = _widget("weights", cfg)
    if st.session_state[key] not in options:
        st.session_state[key] = "random"

    # Read now, not inside label: AppTest calls format_func outside the script run, where session state is empty.
    session_name = st.session_state.get(SESSION_MODEL_NAME, "uploaded")

    def label(option: str) -> str:
        kind, _, name = option.partition(":")
        if kind == "preset":
            return f"Preset: {PRESETS[name].name}"
        if kind == "trained":
            return f"Trained: {name}"
        if kind == "session":
            return f"Your model: {session_name}"
        return "Random (seeded, like torch's init)"

    return st.selectbox("Weights", options, format_func=label, key=key)


def _trained_kind(preset: object) -> str | None:
    return getattr(preset, "kind", None)


def _clamp_controls(cfg: Config, cell: str) -> str:
    gates = CLAMPABLE[cell]
    if not gates or "ablation" in cfg.hidden_parts:
        return cfg.clamp
    st.subheader("Clamp gates")
    clamps = dict(cfg.clamps)
    for gate in gates:
        key = f"{W}clamp_{gate}"
        if key not in st.session_state:
            st.session_state[key] = clamps.get(gate, "free")
        value = st.segmented_control(_GATE_LABEL[gate], state.CLAMP_VALUES, key=key) or "free"
        if value == "free":
            clamps.pop(gate, None)
        else:
            clamps[gate] = value
    # keep clamps of other kinds' gates (they come back when the cell kind does)
    return ",".join(f"{g}:{v}" for g, v in sorted(clamps.items()))


# -------------------------------------------------------------------------------------------- navigation

# (script, label, material icon). app.py is the home page; the rest live in pages/ and are found by
# Streamlit's folder discovery, which (unlike st.navigation) also serves a cold deep link on a freshly
# started server. Streamlit's own menu is off (.streamlit/config.toml) and this one is drawn instead.
PAGES: list[tuple[str, str, str]] = [
    ("app.py", "Home", ":material/home:"),
    ("pages/learn.py", "Learn", ":material/school:"),
    ("pages/step.py", "Step through", ":material/step:"),
    ("pages/timeline.py", "Timeline", ":material/timeline:"),
    ("pages/compare.py", "Compare cells", ":material/compare_arrows:"),
    ("pages/gradients.py", "Gradient flow", ":material/trending_down:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/your_model.py", "Your model", ":material/upload_file:"),
    ("pages/matches.py", "Matches PyTorch", ":material/verified:"),
]


def nav() -> None:
    """The sidebar's page links, with clear names and icons."""
    with st.sidebar:
        for script, label, icon in PAGES:
            st.page_link(script, label=label, icon=icon)
        st.divider()
