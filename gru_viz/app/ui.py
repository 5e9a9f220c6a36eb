"""Streamlit glue shared by every page: the config in session state and the URL, sidebar controls, the
cached scene, presenter mode, and friendly errors. Pages stay thin: they call these and draw figures.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import NamedTuple, TypeVar

import streamlit as st

from ..core.model import Model, ModelInputError
from ..core.presets import PRESETS
from ..core.sequences import GENERATORS, SequenceError
from ..core.spec import CLAMPABLE, GRU_VARIANTS, KIND_NAMES, SpecError
from ..explain.literal import literal, shorten
from ..serve import jobs, state, work
from ..serve.limits import INLINE_WAIT, LIMITS
from ..serve.state import Config, ConfigError, Scene
from . import budget

CFG = "gru_viz_cfg"
NOTES = "gru_viz_notes"
SESSION_MODEL = "gru_viz_session_model"  # an uploaded or freshly trained Model: this session's only
SESSION_MODEL_NAME = "gru_viz_session_model_name"
LAYER_CHOICE = "gru_viz_layer_choice"  # (layer, direction) of the session model picked on "Your model" (0-based)
W = "w_"  # prefix of widget keys that mirror Config fields

T = TypeVar("T")

# The page shows a learner a friendly line; the traceback of a bug of ours goes here, to the server's log.
logger = logging.getLogger(__name__)

FRIENDLY_ERRORS = (SequenceError, ConfigError, ModelInputError, SpecError, jobs.JobError)

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
        cfg, notes = state.from_query(query, LIMITS)
        if cfg.weights == "session" and SESSION_MODEL not in st.session_state:
            # e.g. the replica that held it went: this tab is new here. Say so, and run random weights from the
            # start (so the sidebar does not switch them on the first run and retire the note with that change).
            notes.append(state.SESSION_MODEL_GONE)
            cfg = replace(cfg, weights="random")
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


def widget_args(name: str, **overrides: object) -> dict[str, object]:
    """Keyword arguments of the widget for Config field ``name``: its label, help and options or range, from
    state.PROPS with this server's caps (the link reader uses the same table), then ``overrides``."""
    return {**state.PROPS[name].widget(LIMITS), **overrides}


def _widget(name: str, cfg: Config, value: object = None) -> str:
    """Key of the widget mirroring field ``name``, seeded from the config when it is new."""
    key = W + name
    if key not in st.session_state:
        st.session_state[key] = getattr(cfg, name) if value is None else value
    return key


# -------------------------------------------------------------------------------------------- page

# The favicon of every page, inline (a data: URL): a ":material/…:" page icon is fetched from fonts.gstatic.com,
# which a classroom without internet cannot reach (tests/test_offline.py). A recurrent cell: a loop back into it.
PAGE_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect x="3" y="3" width="58" height="58" rx="14" fill="#0072B2"/>'
    '<path d="M21 43a15 15 0 1 1 22 0" fill="none" stroke="#fff" stroke-width="6" stroke-linecap="round"/>'
    '<path d="M49 36l-5 11-10-5z" fill="#fff"/><circle cx="32" cy="32" r="5" fill="#E69F00"/></svg>'
)


def setup_page(title: str, icon: str = "", landing: bool = False) -> Config:
    """Presenter styling, link notes and the config: the first call of every page. ``landing``: this page shows
    the landing scene to a session that came with no link (see :func:`land`)."""
    st.session_state[OWN_RUN] = st.session_state.pop(OWN_RERUN, False)
    st.session_state.pop(WAITING, None)  # a new run: no job of this tab is waited for yet
    cfg = config()
    if landing:
        cfg = land()
    _one_blas_thread()
    # Widget ids differ per page: re-set the widgets' values so a page switch keeps them (Streamlit's idiom).
    st.session_state.update({k: v for k, v in st.session_state.items() if isinstance(k, str) and k.startswith(W)})
    commit(cfg)  # a page reached from the menu (empty query) writes its link back: the address bar is the link
    presenter(cfg.present)
    nav()
    for note in link_notes(cfg, title):
        st.info(note, icon=":material/link:")
    st.title(f"{icon} {title}".strip())
    if LIMITS.profile != "default":  # serve.sh --class: say what a link may ask for here
        st.caption(f"This server runs its {LIMITS.title} profile: {LIMITS.describe()}.")
    return cfg


OWN_RERUN = "gru_viz_own_rerun"  # set just before the page reruns by itself (a job's result, a verdict arriving)
OWN_RUN = "gru_viz_own_run"  # whether this run is such a rerun (read by messages that last until the user acts)


def rerun_by_itself() -> None:
    """Rerun the whole page because a result arrived, not because the learner did something: messages meant to
    last until the learner's next action stay (see :func:`own_run`)."""
    st.session_state[OWN_RERUN] = True
    st.rerun()


def own_run() -> bool:
    """Whether this run is one the page started by itself (:func:`rerun_by_itself`), not the learner."""
    return bool(st.session_state.get(OWN_RUN, False))


def link_notes(cfg: Config, page: str) -> list[str]:
    """What the link that opened this page could not honour: shown on that page for as long as its config is the
    one on screen, so a rerun the page makes by itself (a job's result arriving, a badge's verdict) keeps them;
    the learner's first change, or another page, retires them."""
    held = st.session_state.get(NOTES)
    if not held:
        return []
    if isinstance(held, list):  # fresh from the link: they belong to the first page that shows them
        held = st.session_state[NOTES] = (cfg, page, held)
    noted_cfg, noted_page, notes = held
    if noted_cfg != cfg or noted_page != page:
        del st.session_state[NOTES]
        return []
    return notes


@st.cache_resource(show_spinner=False)
def _one_blas_thread() -> bool:
    """Once per server: one OpenBLAS thread. Forty sessions share two cores; a second BLAS thread per small
    product only spins against the others (training steps were 10-20× slower with it)."""
    budget.tune_malloc()  # freed arrays go back to the system (see gru_viz.app.budget)
    if not jobs.inline_mode():
        from streamlit import runtime

        if runtime.exists():  # a closed tab's queued jobs are dropped
            jobs.POOL.alive = runtime.get_instance().is_active_session
        jobs.POOL.warm()  # the job workers' fork server starts now, in its own (lower-priority) process
    return budget.single_blas_thread()


PRESENTER_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 1.25rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
[data-testid="stWidgetLabel"] p { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] { padding: 2.4rem 2rem 2rem; max-width: 100%; }
/* the header's buttons (open the sidebar, the menu) stay; its band does not take the projector's top */
header[data-testid="stHeader"] { background: transparent; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.4rem; }
h1 { font-size: 1.8rem !important; padding: 0 0 0.2rem !important; }
h2, h3 { font-size: 1.5rem !important; }
.katex { font-size: 1.4em !important; }
</style>
"""


def message(exc: BaseException, limit: int = 300) -> str:
    """An error's message for a markdown box: whatever it quotes from a link or a file stays literal text."""
    return literal(exc, limit)


# Every screen: a label that does not fit wraps onto a second line instead of ending in "…" (a phone's buttons).
SCREEN_CSS = """
<style>
[data-testid^="stBaseButton"] p, [data-testid="stPageLink-NavLink"] p, [data-testid="stPageLink-NavLink"] span,
[data-testid="stWidgetLabel"] p { white-space: normal !important; text-overflow: clip !important;
                                  overflow: visible !important; }
</style>
"""


def presenter(on: bool) -> None:
    """Presenter mode, the same whether it came in with the link (present=1) or from the sidebar's toggle (whose
    callback sets it before the run): larger type, and the sidebar folded away for the projector."""
    st.set_page_config(initial_sidebar_state="collapsed" if on else "auto")
    st.html(SCREEN_CSS + (PRESENTER_CSS if on else ""))  # style only: takes no room on the page


def _presenter_toggled() -> None:
    """Callback of the presenter toggle: the config changes before the run, so the whole page draws presenting."""
    commit(replace(config(), present=bool(st.session_state[W + "present"])))


@contextlib.contextmanager
def friendly(what: str) -> Iterator[None]:
    """Show any failure inside as a message in the page, never a traceback; a bug's traceback goes to the log."""
    try:
        yield
    except Pending:  # a heavy job's place in the queue is on the page already
        pass
    except FRIENDLY_ERRORS as exc:
        st.error(f"{what}: {message(exc)}", icon=":material/error:")
    except Exception as exc:  # a bug of ours: say so plainly, keep the page alive, and log it for us
        logger.exception("%s failed unexpectedly", what)
        st.error(f"{what} failed unexpectedly ({type(exc).__name__}). Your settings are kept; please change "
                 "one and try again.", icon=":material/bug_report:")


HEAVY_RUN = 0.15  # estimated seconds of a run above which it is built by a job worker (a long, wide input)
SESSION_SCENE = "gru_viz_session_scene"  # ((config, model id), Scene) of this session's own model


def _cached_scene(cfg: Config) -> Scene:
    # Keyed by the Config only (URL-visible settings, no uploads), so sharing across sessions leaks nothing;
    # bounded by bytes (gru_viz.serve.limits.BUDGETS["scenes"]).
    return heavy("scenes", ("scene", cfg), work.scene, (cfg,), "Running the cell over the whole input",
                 in_pool=long_run(cfg))


def long_run(cfg: Config, model=None) -> bool:
    """Whether building this run takes long enough to hand it to a job worker (estimated from its size)."""
    try:
        reader = model if isinstance(model, Model) else None
        seq = (state.token_sequence(cfg.seq, reader)[0] if state.reads_tokens(cfg, reader)
               else state.build_sequence(cfg))
    except (SequenceError, ConfigError, ValueError):
        return False  # it fails fast, with its message, right here
    if model is None:
        model = state.build_spec(cfg, seq.width)
    spec = getattr(model, "spec", model)
    return work.run_seconds(seq.steps, spec) > HEAVY_RUN


def _session_scene(cfg: Config, model) -> Scene:
    """This session's own model on the config's input: kept for the session (never shared), built by a job
    worker when it is long."""
    key = (cfg, id(model))  # the model lives in session state, so its id is not reused while the memo holds it
    memo = st.session_state.get(SESSION_SCENE)
    if memo is not None and memo[0] == key:
        return memo[1]
    if jobs.inline_mode() or not long_run(cfg, model):
        sc = state.build_scene(cfg, model)
    else:
        job = jobs.run(("session-scene", session_id(), key), work.scene, (cfg, model),
                       "Running your model over the whole input", session_id())
        if not job.wait(INLINE_WAIT):
            _waiting_panel(job, key)
            raise Pending("your model's run")
        sc = job_value(job)
    st.session_state[SESSION_SCENE] = (key, sc)
    return sc


def scene(cfg: Config, remember: bool = True) -> Scene | None:
    """The Scene for ``cfg`` (cached). When the input or weights are wrong: the error, and this session's last good
    scene marked stale (``Scene.stale``, drawn greyed in :func:`stale_view`) so that nothing the learner was looking
    at is lost; None when there is none yet. ``remember=False`` for a side run (e.g. the unclamped twin of the
    scene), which must not become the page's last good scene."""
    session_model = st.session_state.get(SESSION_MODEL)
    try:
        base = state.without_view(cfg)  # view-only fields
        if cfg.weights == "session" and session_model is not None:
            built = _session_scene(base, session_model)  # this session's own model: never shared
        else:
            built = _cached_scene(replace(base, weights="random") if cfg.weights == "session" else base)
        if remember:
            st.session_state[LAST_GOOD] = built
        return built
    except Pending:  # built by a job worker: the page shows its place in the queue and fills in by itself
        return None
    except FRIENDLY_ERRORS as exc:
        st.error(f"Cannot run the cell on this input: {message(exc)}", icon=":material/error:")
        last = st.session_state.get(LAST_GOOD) if remember else None
        if last is None or (cfg.weights == "session" and last.model is not session_model):
            return None  # nothing drawn yet, or it was another model than the one now chosen
        return replace(last, stale=str(exc))
    except Exception as exc:  # a bug of ours: say so plainly, keep the page and the settings alive, log it
        logger.exception("Running the cell failed unexpectedly (%s)", type(exc).__name__)
        st.error(f"Running the cell failed unexpectedly ({type(exc).__name__}). Your settings are kept; "
                 "please change one and try again.", icon=":material/bug_report:")
        return None


LAST_GOOD = "gru_viz_last_good_scene"  # this session's last scene that built: kept, greyed, under an error
STALE_KEY = "gru_viz_stale"  # the container a stale view is drawn in (Streamlit gives it the class st-key-…)
# A page with two stale views keys the second one STALE_KEY_<part> (a key may appear once per run).
STALE_CSS = f"""<style>.st-key-{STALE_KEY}, [class*="st-key-{STALE_KEY}_"] {{ opacity: 0.45; filter: grayscale(0.7);
transition: opacity 0.2s; }}
</style>"""
STALE_NOTE = ("Greyed out: the last settings that worked, kept so that nothing you were looking at is lost. The "
              "sidebar keeps what you typed: correct it and the page comes back to life.")


@contextlib.contextmanager
def stale_view(stale: str, part: str = "") -> Iterator[None]:
    """Draw what is inside greyed out, under a note, when it is the last good view kept under an error
    (``stale`` is that error; empty: drawn as usual). ``part`` names a second stale view on the same page."""
    if not stale:
        yield
        return
    st.markdown(STALE_CSS, unsafe_allow_html=True)
    st.caption(STALE_NOTE)
    with st.container(key=f"{STALE_KEY}_{part}" if part else STALE_KEY):
        yield


def kept(name: str, build: Callable[[], T], what: str = "Cannot run the cells on this input") -> tuple[T | None, str]:
    """``build()``, remembered as this session's last good ``name``; on a friendly error, the error shown and the
    last good one returned with that error (for :func:`stale_view`), or None when there is none yet. For pages
    that draw a line-up rather than a Scene."""
    slot = f"gru_viz_last_good_{name}"
    try:
        value = build()
    except FRIENDLY_ERRORS as exc:
        st.error(f"{what}: {message(exc)}", icon=":material/error:")
        return st.session_state.get(slot), str(exc)
    st.session_state[slot] = value
    return value, ""


@budget.cached("figures")
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


# ------------------------------------------------------------------------------------------- heavy work


class Pending(Exception):
    """A result is being computed by a job (gru_viz.serve.jobs); its place in the queue is shown on the page, which
    fills in by itself when it is done. ``friendly`` and ``scene`` catch it and draw nothing more."""


WAITING = "gru_viz_waiting"  # this run already shows a job's panel: the page's other heavy parts wait their turn
CANCELLED = "gru_viz_cancelled_jobs"  # keys of the jobs this tab cancelled: not asked for again until it says so
POLL = 1.0  # seconds between looks at a pending job
_MISSING = object()


def session_id() -> str:
    """This tab's Streamlit session id (one heavy job per session)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


def heavy(cache: str, key: tuple, fn: Callable[..., T], args: tuple, label: str, *,
          here: Callable[[], T] | None = None, in_pool: bool = True) -> T:
    """The result of ``fn(*args)``: from the byte-bounded cache ``cache`` if there, else computed by a job
    worker (``in_pool``; in the page's own thread otherwise, and in the tests' inline mode, by ``here`` if given).

    A job that takes longer than INLINE_WAIT seconds leaves a panel with its place in the queue, its time and a
    Cancel button, and raises :class:`Pending`; the page reruns by itself when the result is in the cache."""
    store = budget.CACHES[cache]
    value = store.get(key, _MISSING)
    if value is not _MISSING:
        return value
    if not in_pool or jobs.inline_mode():
        return store.get_or_build(key, here or (lambda: fn(*args)))
    if key in st.session_state.get(CANCELLED, ()):
        _cancelled_panel(key, label)
        raise Pending(label)
    if st.session_state.get(WAITING):  # one job per tab: a second submit would drop the one whose panel is shown
        raise Pending(label)
    job = jobs.run(key, fn, args, label, session_id(), on_done=lambda j: store.put(key, j.value))
    if job.wait(INLINE_WAIT):
        return job_value(job)
    _waiting_panel(job, key)
    st.session_state[WAITING] = True
    raise Pending(label)


def job_value(job: jobs.Job) -> object:
    """A finished job's value, or its failure as the exception the page expects."""
    if job.state == "failed" and job.error == "TorchMissing":
        from ..serve.work import TorchMissing

        raise TorchMissing(job.message)
    return job.result()


def _waiting_panel(job: jobs.Job, key: tuple) -> None:
    session = session_id()
    tag = hashlib.sha1(repr(key).encode()).hexdigest()[:12]

    def watch() -> None:
        if job.over:
            rerun_by_itself()  # the whole page, now with the result (or its failure) from the cache
        place = jobs.POOL.position(job)
        with st.container(border=True):
            if place <= 0:
                st.markdown(f"**{job.label}…** running on the server's worker for {job.elapsed():.0f} s.")
            else:
                ahead = "no job" if place == 1 else f"{place - 1} job{'s' if place > 2 else ''}"
                st.markdown(f"**{job.label}…** waiting for the server's worker: {ahead} ahead of it in the queue.")
            st.caption("Heavy work runs beside the class's lighter clicks, one job at a time per worker; this part "
                       "of the page fills in by itself when it is done.")
            if st.button("Cancel", key=f"job_cancel_{tag}", icon=":material/cancel:"):
                jobs.POOL.leave(job, session)
                st.session_state.setdefault(CANCELLED, set()).add(key)
                st.rerun()

    st.fragment(run_every=POLL)(watch)()


def _cancelled_panel(key: tuple, label: str) -> None:
    tag = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
    with st.container(border=True):
        st.markdown(f"**{label}**: cancelled. Change a setting, or compute it after all.")
        if st.button("Compute it", key=f"job_again_{tag}", icon=":material/play_arrow:"):
            st.session_state.get(CANCELLED, set()).discard(key)
            st.rerun()


def layer_label(layer: int, direction: int, directions: int) -> str:
    """ "layer 1 · reverse": layers counted from 0 on every page, as torch's keys (weight_ih_l0) and the traces
    count them; the direction only when there are two."""
    return f"layer {layer}" + (f" · {('forward', 'reverse')[direction]}" if directions == 2 else "")


# ---------------------------------------------------------------------------------------- controls


def sidebar_controls(cfg: Config, weights_note: str = "") -> Config:
    """The shared controls (cell, input, weights, clamps) in the sidebar; returns the updated config.
    ``weights_note``: what this page does instead of using the chosen weights, said under them in the sidebar."""
    if "controls" in cfg.hidden_parts:
        return cfg
    with st.sidebar:
        st.subheader("Cell")
        fixed = fixed_by_weights(st.session_state.get(W + "weights", cfg.weights))
        if fixed is None:
            cell = st.selectbox(**widget_args("cell"), format_func=KIND_NAMES.get, key=_widget("cell", cfg))
            variant = cfg.variant
            if cell == "gru":
                variant = st.selectbox(**widget_args("variant", help=GRU_VARIANTS[cfg.variant].description),
                                       format_func=lambda k: GRU_VARIANTS[k].name, key=_widget("variant", cfg))
            hidden = st.number_input(**widget_args("hidden"), key=_widget("hidden", cfg))
        else:  # the weights come with their own cell: show it, greyed out, and keep the config's own choice
            cell, variant, hidden = cfg.cell, cfg.variant, cfg.hidden
            fixed_controls(fixed)

        st.subheader("Input")
        source = st.segmented_control(**widget_args("source"), key=_widget("source", cfg),
                                      format_func={"typed": "numbers", "text": "text", "gen": "generator"}.get,
                                      label_visibility="collapsed") or cfg.source
        seq, gen, steps, gp = cfg.seq, cfg.gen, cfg.steps, cfg.gp
        if source in ("typed", "text"):
            help_ = ("Scalars `0.5, 1, -2`, or vectors per step `1 0; 0 1`." if source == "typed"
                     else "Any text: each character becomes a one-hot vector over the text's own alphabet.")
            reader = st.session_state.get(SESSION_MODEL)
            if source == "text" and state.reads_tokens(replace(cfg, source="text"), reader):
                help_ = ("Text into your model's own vocabulary: each token is a row of its embedding."
                         if reader.vocabulary is not None else
                         "Token ids, e.g. `3 14 15`: your model's file names no tokens, so its embedding's rows "
                         "are read by number.")
            seq = st.text_area(**widget_args("seq", help=help_), key=_widget("seq", cfg), height=90)
            cap = state.PROPS["seq"].high
            if len(seq) > cap and len(link := state.pack(seq)) > cap:  # (packing is tried only when it must be)
                st.caption(f"This input is too long for a link, even packed ({len(link):,} characters; at most "
                           f"{cap:,}): a link to this page opens with a note instead of it. Fewer steps or fewer "
                           "digits per value make it fit.")
        else:
            gen = st.selectbox(**widget_args("gen"), format_func=lambda k: GENERATORS[k].name, key=_widget("gen", cfg))
            steps = st.number_input(**widget_args("steps"), key=_widget("steps", cfg))
            gp = _generator_params(cfg, gen, int(steps))

        st.subheader("Weights")
        weights = _weights_control(cfg, cell)
        if weights_note and weights != "random":  # the choice stays in the link, but the sidebar says it is unused
            st.caption(weights_note)
        seed = st.number_input(**widget_args("seed"), key=_widget("seed", cfg))
        scale = st.slider(**widget_args("scale"), key=_widget("scale", cfg))
        h0 = st.segmented_control(**widget_args("h0"), key=_widget("h0", cfg)) or cfg.h0

        clamp = _clamp_controls(cfg, cell if fixed is None else fixed.kind)
        present = st.toggle(**widget_args("present"), key=_widget("present", cfg), on_change=_presenter_toggled)
    new = replace(cfg, cell=cell, variant=variant, hidden=int(hidden), source=source, seq=seq, gen=gen,
                  steps=int(steps), gp=gp, weights=weights, seed=int(seed), scale=float(scale), h0=h0,
                  clamp=clamp, present=bool(present))
    if new != cfg:
        commit(new)
    return new


class Fixed(NamedTuple):
    """The architecture that chosen weights come with, and what they are (for the sidebar's words)."""

    kind: str
    variant: str
    hidden: int
    what: str  # "your model 'gru.npz'", "the preset 'The latch'", …


def fixed_by_weights(weights: str) -> Fixed | None:
    """The cell, variant and size that the chosen weights fix (an uploaded, trained or edited model, a preset, a
    shipped trained model), or None when the sidebar chooses them (random weights)."""
    kind, _, key = weights.partition(":")
    if weights == "session":
        model = st.session_state.get(SESSION_MODEL)
        if model is None:
            return None
        s = model.spec
        name = st.session_state.get(SESSION_MODEL_NAME, "uploaded")
        return Fixed(s.kind, s.variant, s.hidden_size, f"your model ({literal(name, 60)})")  # a file's name: text
    if kind == "preset" and key in PRESETS:
        s = PRESETS[key].model().spec
        return Fixed(s.kind, s.variant, s.hidden_size, f"the preset {PRESETS[key].name!r}")
    if kind == "trained":
        with contextlib.suppress(ImportError):
            from ..core.train import CELLS
            from ..io.trained import TRAINED_PRESETS

            if key in TRAINED_PRESETS:
                p = TRAINED_PRESETS[key]
                spec = CELLS[p.cell][1]
                return Fixed(str(spec["kind"]), str(spec.get("variant", "torch")), p.hidden_size,
                             f"the trained model {p.name!r}")
    return None


FIXED_KEY = "gru_viz_fixed_"  # widgets that show what the weights fix (not Config fields: never in the link)


def fixed_controls(fixed: Fixed) -> None:
    """Cell, GRU variant and H as the chosen weights fix them: disabled, with the reason."""
    why = (f"Fixed by {fixed.what}: these weights come with their own cell and size. Pick Random weights below to "
           "choose them.")
    st.session_state[FIXED_KEY + "hidden"] = fixed.hidden  # what the disabled widgets show
    label = {name: state.PROPS[name].label for name in ("cell", "variant", "hidden")}
    st.selectbox(label["cell"], [fixed.kind], format_func=KIND_NAMES.get, disabled=True, key=FIXED_KEY + "cell",
                 help=why)
    if fixed.kind == "gru":
        st.selectbox(label["variant"], [fixed.variant], format_func=lambda k: GRU_VARIANTS[k].name, disabled=True,
                     key=FIXED_KEY + "variant", help=why)
    st.number_input(label["hidden"], 1, 10**6, disabled=True, key=FIXED_KEY + "hidden", help=why)  # any model's H
    st.caption(f"Cell and size fixed by {fixed.what}; pick Random weights to choose them.")


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
            return f"Your model: {shorten(session_name, 60)}"  # option labels are plain text
        return "Random (seeded, like torch's init)"

    return st.selectbox(**widget_args("weights"), options=options, format_func=label, key=key)


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
    ("pages/seq2seq.py", "Encoder–decoder", ":material/record_voice_over:"),
    ("pages/real_text.py", "Real text", ":material/article:"),
    ("pages/matches.py", "Matches PyTorch", ":material/verified:"),
]


def nav() -> None:
    """The sidebar's page links, with clear names and icons."""
    with st.sidebar:
        for script, label, icon in PAGES:
            st.page_link(script, label=label, icon=icon)
        st.divider()
        st.fragment(run_every=RECONNECT_TICK)(_rerun_after_reconnect)()


RECONNECT_TICK = 3600.0  # seconds: the timer only has to exist (its hourly tick is an empty fragment run)


def _rerun_after_reconnect() -> None:
    """Draws nothing. Streamlit's frontend reruns the page after its websocket reconnects only when a fragment
    with a timer is on it; with one, a tab whose server restarted (or whose replica went, nginx moving it to a
    live one) gets a fresh session that shows its link's view, instead of a stale page that no longer answers."""
