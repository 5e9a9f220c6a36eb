"""Step through: the page's panels (cursor, diagram, equations, predict-then-reveal, clamps, playback, the weight
editor) and the plain helpers under them (input labels, the predict score, the editable weight table).

Everything that depends only on the time cursor, the unit or the view lives in one ``st.fragment``
(:func:`step_view`): a step change reruns that fragment, not the sidebar or the weight editor.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import streamlit as st

from ..core.model import Model
from ..core.sequences import Sequence

# ------------------------------------------------------------------------------------------------- input
from ..core.spec import CLAMPABLE, GRU_VARIANTS, param_key
from ..core.trace import Trace
from ..explain import claims, narration
from ..explain.equations import MINGRU_G, block_latex, format_value, step_equations
from ..explain.palette import BLUE
from ..explain.palette import color as palette_color
from ..figures import cell
from . import state, ui
from .state import Config, Scene


def x_label(seq: Sequence, t: int) -> str:
    """How the input of step ``t`` is shown: the character for text, the number, or a short vector."""
    label = seq.labels[t]
    if seq.alphabet is not None:
        return f"'{label}'"
    if seq.width == 1 or label != f"t{t}":  # a label of its own (a trained task's "0.37 ●"), else the numbers
        return label
    if seq.width <= 4:
        return "[" + ", ".join(f"{v:.3g}" for v in seq.values[t]) + "]"
    return f"({seq.width} values)"


def window(steps: int, t: int, width: int = 25) -> range:
    """The steps shown around the cursor in the sequence strip: ``width`` of them, ``t`` near the middle."""
    width = min(width, steps)
    start = min(max(t - width // 2, 0), steps - width)
    return range(start, start + width)


# ---------------------------------------------------------------------------------------- predict, reveal

# What a viewer guesses, per cell kind: the gates that decide the step (h itself for a gateless RNN).
GUESSABLE = {"gru": ("z", "r"), "lstm": ("f", "i"), "mingru": ("z",), "rnn": ("h",)}


def guess_range(name: str) -> tuple[float, float]:
    """The slider range for a guess: gates lie in [0, 1], an RNN's h in [−1, 1]."""
    return (-1.0, 1.0) if name == "h" else (0.0, 1.0)


def true_values(trace: Trace, t: int, unit: int, names: tuple[str, ...], layer: int = 0,
                direction: int = 0) -> dict[str, float]:
    """The values the viewer guessed at, read from the trace."""
    lt = trace.layer(layer, direction)
    return {n: float((lt.h if n == "h" else lt.gates[n])[t, 0, unit]) for n in names}


@dataclass(frozen=True)
class Score:
    """How far one round of guesses was from the truth (only the values the viewer actually guessed)."""

    errors: dict[str, float]  # name → |guess − truth|, for every value guessed
    skipped: tuple[str, ...] = ()  # values left untouched: not guesses

    @property
    def guessed(self) -> bool:
        """Whether the viewer guessed anything at all."""
        return bool(self.errors)

    @property
    def mean(self) -> float:
        """Mean absolute error of the round (NaN when nothing was guessed)."""
        return float(np.mean(list(self.errors.values()))) if self.errors else float("nan")

    @property
    def verdict(self) -> str:
        """A word for the classroom that follows the error, and says so when there was no guess."""
        if not self.errors:
            return "no guess"
        if self.mean < 0.05:
            return "spot on"
        if self.mean < 0.15:
            return "close"
        if self.mean < 0.3:
            return "some way off"
        return "off this time"


def score(guesses: dict[str, float], truths: dict[str, float]) -> Score:
    """Compare guesses with the true values; a value with no guess (missing, or None) is skipped, not scored."""
    errors = {n: abs(float(guesses[n]) - truths[n]) for n in truths if guesses.get(n) is not None}
    return Score(errors, tuple(n for n in truths if n not in errors))


# ------------------------------------------------------------------------------------------------ weights

MAX_EDIT_HIDDEN = 2
MAX_EDIT_INPUT = 8
WEIGHT_LIMIT = 100.0  # |w| beyond this saturates every gate; the editor refuses it


def not_editable(model: Model) -> str | None:
    """Why this model's weights cannot be edited on the page, or None if they can."""
    s = model.spec
    if s.hidden_size > MAX_EDIT_HIDDEN:
        return f"weights are editable for cells with H ≤ {MAX_EDIT_HIDDEN}; this one has H = {s.hidden_size}"
    if s.input_size > MAX_EDIT_INPUT:
        return f"weights are editable for inputs of ≤ {MAX_EDIT_INPUT} values per step; this one has {s.input_size}"
    if s.num_layers > 1 or s.bidirectional or s.proj_size or not s.bias:
        return "weights are editable for one-layer, one-direction cells with biases"
    return None


def _keys(model: Model) -> dict[str, str]:
    s = model.spec
    names = ["weight_ih", "bias_ih"] + ([] if s.kind == "mingru" else ["weight_hh", "bias_hh"])
    return {name: param_key(name, 0, 0, s.cell) for name in names}


def weight_columns(model: Model) -> list[str]:
    """Columns of the weight table: one per input value (W_i·), one per unit of h (W_h·), then the biases."""
    s = model.spec
    cols = [f"x{k}" for k in range(s.input_size)]
    if s.kind != "mingru":
        cols += [f"h{k}" for k in range(s.hidden_size)]
    return cols + (["b_i"] if s.kind == "mingru" else ["b_i", "b_h"])


def weight_table(model: Model) -> pd.DataFrame:
    """The parameters as a table: one row per gate and unit ("z0", "n1", …), torch's row order."""
    s, keys = model.spec, _keys(model)
    p = model.params
    parts = [p[keys["weight_ih"]]]
    if s.kind != "mingru":
        parts.append(p[keys["weight_hh"]])
    parts.append(p[keys["bias_ih"]][:, None])
    if s.kind != "mingru":
        parts.append(p[keys["bias_hh"]][:, None])
    index = [f"{gate}{unit}" for gate in s.gates for unit in range(s.hidden_size)]
    return pd.DataFrame(np.hstack(parts), index=index, columns=weight_columns(model))


def model_from_table(model: Model, table: pd.DataFrame) -> Model:
    """A copy of ``model`` with the parameters in ``table`` (empty cells keep the old value)."""
    base = weight_table(model)
    values = table.reindex(index=base.index, columns=base.columns).astype(float).to_numpy()
    values = np.where(np.isnan(values), base.to_numpy(), values)
    if not np.all(np.isfinite(values)):
        raise ValueError("weights must be finite numbers")
    if np.abs(values).max() > WEIGHT_LIMIT:
        raise ValueError(f"weights must lie within ±{WEIGHT_LIMIT:g}")
    s, keys = model.spec, _keys(model)
    I, H = s.input_size, s.hidden_size
    params = dict(model.params)
    params[keys["weight_ih"]] = values[:, :I]
    col = I
    if s.kind != "mingru":
        params[keys["weight_hh"]] = values[:, I : I + H]
        col += H
    params[keys["bias_ih"]] = values[:, col]
    if s.kind != "mingru":
        params[keys["bias_hh"]] = values[:, col + 1]
    return Model(s, params)


def apply_edits(table: pd.DataFrame, edits: dict) -> pd.DataFrame:
    """Apply an ``st.data_editor`` edit state ({"edited_rows": {row: {column: value}}}) to ``table``."""
    out = table.copy()
    for row, changes in (edits or {}).get("edited_rows", {}).items():
        for column, value in changes.items():
            if column in out.columns:
                out.iloc[int(row), out.columns.get_loc(column)] = math.nan if value is None else float(value)
    return out


# -------------------------------------------------------------------------------------------------- the page

MODE = "step_mode"  # "step" or "play" (this browser tab only, not in the link)
LAYER = "step_layer"  # (layer, direction) of a multi-layer session model
REVEALED = "step_revealed"  # round key → the viewer's guesses
ROUNDS = "step_rounds"  # mean error of every revealed round, for the running score
EDITOR = "step_weights_version"  # bumped after an edit is applied, so the editor starts from the new model
GUESS = "step_guess_"
TOUCHED = "step_guess_touched"  # the guess sliders this round has moved: an untouched slider is not a guess
FIGURES = "step_figures"  # this session's circuit and bars, re-pointed at each step rather than rebuilt
PLAYBACK = "step_playback"  # (trace, view, figure) of the last animation
CHART = {"displayModeBar": False}
MODES = {"step": "Step", "play": "Play"}

# ------------------------------------------------------------------------------------------------ cursor


def view_config(sc: Scene) -> Config:
    """This session's config with the cursor and unit inside the run (a note says when they were moved)."""
    cfg = ui.config()
    fixed = state.normalise(cfg, sc)
    if fixed != cfg:
        if fixed.t != cfg.t:
            st.info(f"Step {cfg.t} is past the end of this {sc.steps}-step input; showing step {fixed.t}.",
                    icon=":material/info:")
        if fixed.unit != cfg.unit:
            st.info(f"Unit {cfg.unit} does not exist in a cell with H = {sc.model.spec.hidden_size}; showing "
                    "unit 0.", icon=":material/info:")
        ui.commit(fixed)
        for name in ("t", "unit"):
            st.session_state.pop(ui.W + name, None)
    return fixed


def view_controls(cfg: Config, sc: Scene) -> Config:
    """Step/Play, the predict toggle and the unit: how the step is shown."""
    mode, predict, unit, _ = st.columns([2.2, 2.2, 2.6, 3], vertical_alignment="center")
    mode.segmented_control("View", tuple(MODES), format_func=MODES.get, key=MODE, default="step",
                           label_visibility="collapsed", help="Step: one step with its equations. Play: the whole "
                           "run as an animation in your browser.")
    want_predict = False
    if "predict" not in cfg.hidden_parts:
        want_predict = predict.toggle("Predict", key=ui._widget("predict", cfg),
                                      help="Predict, then reveal: guess the gates of a step before you see them.")
    chosen = cfg.unit
    if sc.model.spec.hidden_size > 1:
        chosen = unit.selectbox("Unit", range(sc.model.spec.hidden_size), key=ui._widget("unit", cfg),
                                format_func=lambda u: f"unit {u}", label_visibility="collapsed",
                                help="The diagram and the equations show this unit's values.")
    new = replace(cfg, predict=bool(want_predict), unit=int(chosen))
    if new != cfg:
        ui.commit(new)
    return new


def _step_by(delta: int, steps: int) -> None:
    """Callback of ◀/▶: move the cursor from wherever it is now (not where it was when the button was drawn)."""
    ui.update(t=min(max(ui.config().t + delta, 0), steps - 1))


def cursor(cfg: Config, sc: Scene) -> Config:
    """Prev, the time slider and Next; returns the config with the new cursor."""
    steps = sc.steps
    prev, slider, nxt = st.columns([1.5, 7, 1.5], vertical_alignment="center")
    t = cfg.t
    if steps > 1:  # the slider first: ◀ and ▶ are enabled by the step it now shows
        t = slider.slider("Time step t", 0, steps - 1, key=ui._widget("t", cfg), label_visibility="collapsed")
    else:
        slider.caption("The input has a single step.")
    prev.button("Prev", key="step_prev", icon=":material/chevron_left:", on_click=_step_by, args=(-1, steps),
                disabled=t == 0, width="stretch", shortcut="P", help="Previous step (key P)")
    nxt.button("Next", key="step_next", icon=":material/chevron_right:", on_click=_step_by, args=(1, steps),
               disabled=t >= steps - 1, width="stretch", shortcut="N", help="Next step (key N)")
    new = replace(cfg, t=int(t))
    if new != cfg:
        ui.commit(new)
    return new


def _share_layer() -> None:
    """Callback of the layer picker: the other pages that draw one layer show the same one."""
    st.session_state[ui.LAYER_CHOICE] = st.session_state[LAYER]


def layer_picker(sc: Scene) -> tuple[int, int]:
    """Layer and direction to show (only a stacked or bidirectional session model has a choice)."""
    s = sc.model.spec
    choices = [(layer, d) for layer in range(s.num_layers) for d in range(s.directions)]
    if len(choices) == 1:
        return 0, 0
    if st.session_state.get(LAYER) not in choices:  # a new model: the layer picked on "Your model", else the first
        shared = st.session_state.get(ui.LAYER_CHOICE)
        st.session_state[LAYER] = tuple(shared) if shared and tuple(shared) in choices else choices[0]
    return st.selectbox("Layer", choices, key=LAYER, on_change=_share_layer,
                        format_func=lambda c: ui.layer_label(*c, s.directions))


def input_label(sc: Scene, t: int, layer: int) -> str:
    """How x_t is shown: the step's input on the first layer, the layer below's output above it."""
    return x_label(sc.seq, t) if layer == 0 else f"h of layer {layer - 1}"


def sequence_strip(cfg: Config, sc: Scene) -> None:
    """The step's input, and the sequence around it with the current step highlighted."""
    seq, t = sc.seq, cfg.t
    label_chars = max(len(label) for label in seq.labels)
    shown = window(seq.steps, t, max(7, min(25, 760 // (9 * label_chars + 18))))
    chips = []
    for s in shown:
        style = (f"background:{BLUE};color:white;font-weight:700" if s == t else "background:#f0f2f6;color:#262730")
        chips.append(f'<span title="t = {s}" style="display:inline-block;min-width:1.9em;padding:1px 5px;margin:1px;'
                     f'border-radius:4px;text-align:center;font-family:monospace;{style}">'
                     f"{html.escape(seq.labels[s])}</span>")
    more_before = "… " if shown.start > 0 else ""
    more_after = " …" if shown.stop < seq.steps else ""
    st.markdown(
        f"**Step t = {t}** of 0 … {seq.steps - 1} · input x<sub>{t}</sub> = "
        f"<code>{html.escape(x_label(seq, t))}</code> &nbsp; {more_before}{''.join(chips)}{more_after}",
        unsafe_allow_html=True,
    )


# -------------------------------------------------------------------------------------------------- parts


def _reused(key: tuple, build, restep):
    """This session's figure for ``key``, re-pointed at the current step (built the first time only)."""
    cache = st.session_state.setdefault(FIGURES, {})
    if key in cache:
        return restep(cache[key])
    if len(cache) >= 8:  # a handful of cell kinds and modes at most; start afresh beyond that
        cache.clear()
    cache[key] = build()
    return cache[key]


def diagram_row(cfg: Config, sc: Scene, layer: int, d: int, hide_step: bool, aside=None) -> None:
    """The circuit of the cell for the selected unit; beside it ``aside()`` (the narration) and, when H > 1, the
    per-unit bars."""
    spec = sc.model.spec
    left, right = st.columns([13, 7]) if spec.hidden_size > 1 or aside is not None else (st.container(), None)
    if aside is not None:
        with right:
            aside()
    x_label = input_label(sc, cfg.t, layer)
    with left:
        fig = _reused(
            ("cell", spec.kind, spec.variant, cfg.present),
            lambda: cell.cell_figure(sc.trace, cfg.t, cfg.unit, x_label, layer=layer, direction=d,
                                     present=cfg.present, predict=hide_step),
            lambda f: cell.restep_cell_figure(f, sc.trace, cfg.t, cfg.unit, x_label, layer=layer, direction=d,
                                              predict=hide_step),
        )
        st.plotly_chart(fig, config=CHART, key="step_diagram")
    if right is not None and spec.hidden_size > 1:
        with right:
            fig = _reused(
                ("bars", spec.kind, spec.hidden_size, cfg.present, hide_step),
                lambda: cell.unit_bars(sc.trace, cfg.t, cfg.unit, layer=layer, direction=d, present=cfg.present,
                                       predict=hide_step),
                lambda f: cell.restep_unit_bars(f, sc.trace, cfg.t, cfg.unit, layer=layer, direction=d),
            )
            st.plotly_chart(fig, config=CHART, key="step_units")


_TOKEN = re.compile(r"(?<![\w_])([zrnhfigoc])(?= = )|(?<![\w_])([hc][₋₀-₉]+)")


def narration_markdown(text: str) -> str:
    """A narration as markdown: literal text, with each quantity's letter (z, r, n, h, h₂, …) bold in its colour."""
    out, last = [], 0
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        out.append(ui.md_literal(text[last : m.start()]))
        out.append(f'<b style="color:{palette_color(token[0])}">{html.escape(token)}</b>')
        last = m.end()
    out.append(ui.md_literal(text[last:]))
    return "".join(out)


def narration_panel(cfg: Config, sc: Scene, layer: int, d: int) -> None:
    """What the cell just did at this step, in words computed from the run (see gru_viz.explain.narration)."""
    story = narration.narrate(sc.trace, cfg.t, cfg.unit, layer, d, x_text=input_label(sc, cfg.t, layer))
    head = f"**What happened at t = {cfg.t}**" + (f" · unit {cfg.unit}" if sc.model.spec.hidden_size > 1 else "")
    with st.container(border=True, key="step_narration"):  # one element: a step change redraws it cheaply
        st.markdown("\n\n".join([head, *(narration_markdown(s.text) for s in story.sentences)]),
                    unsafe_allow_html=True)


def equations_panel(cfg: Config, sc: Scene, layer: int, d: int, numbers: bool) -> None:
    """The selected variant's equations, with the numbers of this step and unit substituted."""
    spec = sc.model.spec
    name = GRU_VARIANTS[spec.variant].name if spec.kind == "gru" else spec.describe().split(",")[0]
    where = f"unit {cfg.unit}, step t = {cfg.t}" if spec.hidden_size > 1 else f"step t = {cfg.t}"
    st.markdown(f"**Equations** · {name} · " + (f"numbers of {where}" if numbers else "numbers hidden until you "
                                                                                       "reveal"))
    st.latex(block_latex(step_equations(sc.model, sc.trace, cfg.t, cfg.unit, layer, d), numbers=numbers))
    if spec.kind == "mingru":
        st.latex(MINGRU_G)


def _round_key(cfg: Config, layer: int, d: int) -> tuple:
    model_part = tuple(sorted(state.to_query(replace(cfg, t=0, unit=0, predict=False, present=False, hide="")).items()))
    return (model_part, cfg.t, cfg.unit, layer, d)


def _touched(name: str) -> None:
    """Callback of a guess slider: it was moved, so its value is a guess."""
    st.session_state.setdefault(TOUCHED, set()).add(name)


def _reveal(key: tuple, names: tuple[str, ...], truths: dict[str, float]) -> None:
    """Callback of "Reveal": keep the guesses (only sliders that were moved), score them, start afresh."""
    touched = st.session_state.get(TOUCHED, set())
    guesses = {n: float(st.session_state[GUESS + n]) for n in names if n in touched and GUESS + n in st.session_state}
    st.session_state.setdefault(REVEALED, {})[key] = guesses
    result = score(guesses, truths)
    if result.guessed:  # a round with no guess is not a round
        st.session_state.setdefault(ROUNDS, []).append(result.mean)
    for n in names:
        st.session_state.pop(GUESS + n, None)
    st.session_state.pop(TOUCHED, None)


def reveal_text(result: Score, truths: dict[str, float], guesses: dict[str, float]) -> str:
    """The verdict and, per value, the truth with the guess and its error (or that it was not guessed)."""
    parts = []
    for n, truth in truths.items():
        if n in result.errors:
            parts.append(f"**{n}** = {format_value(truth)} (you: {guesses[n]:.2f}, off by {result.errors[n]:.2f})")
        else:
            parts.append(f"**{n}** = {format_value(truth)} (no guess)")
    if not result.guessed:
        head = "**No guess this time.** Move a slider before you reveal; here are the values:"
    else:
        head = f"**{result.verdict.capitalize()}!**"
    return head + " " + " · ".join(parts)


def predict_panel(cfg: Config, sc: Scene, layer: int, d: int) -> bool:
    """Guess sliders and "Reveal" before; guesses, truths and errors after. Returns whether it is revealed."""
    names = GUESSABLE[sc.model.spec.kind]
    key = _round_key(cfg, layer, d)
    truths = true_values(sc.trace, cfg.t, cfg.unit, names, layer, d)
    guesses = st.session_state.get(REVEALED, {}).get(key)
    unit = f" of unit {cfg.unit}" if sc.model.spec.hidden_size > 1 else ""
    with st.container(border=True):
        if guesses is None:
            st.markdown(f"**Predict step t = {cfg.t}{unit}.** You see x<sub>t</sub> and h<sub>t−1</sub>; what will "
                        f"{' and '.join(names)} be?", unsafe_allow_html=True)
            cols = st.columns([*([3] * len(names)), 2], vertical_alignment="bottom")
            for col, name in zip(cols, names, strict=False):
                low, high = guess_range(name)
                col.slider(f"Your guess for {name}", low, high, value=(low + high) / 2, step=0.01, key=GUESS + name,
                           on_change=_touched, args=(name,))
            cols[-1].button("Reveal", key="step_reveal", type="primary", icon=":material/visibility:",
                            on_click=_reveal, args=(key, names, truths), width="stretch")
            return False
        result = score(guesses, truths)
        rounds = st.session_state.get(ROUNDS, [])
        st.markdown(reveal_text(result, truths, guesses))
        so_far = (f"{len(rounds)} round(s) so far, mean error {np.mean(rounds):.2f}." if rounds
                  else "No round scored yet.")
        st.caption(f"{so_far} Press Next (key N) for the next step.")
        return True


def ablation_panel(cfg: Config, sc: Scene, layer: int, d: int) -> None:
    """h of the unit with and without the sidebar's clamps, and the difference."""
    kind = sc.model.spec.kind
    st.markdown("**Clamped gates**")
    if not CLAMPABLE[kind]:
        st.caption("A vanilla RNN has no gates to clamp.")
        return
    ablations = state.ablations_of(cfg, kind)
    if not ablations:  # what a clamp would do, in this variant's own terms (z = 1 keeps in one, replaces in another)
        hint = narration.ablation_hint(kind, sc.model.spec.gru_variant.z_keeps)
        st.caption(ui.md_literal(hint.text))
        return
    free = ui.scene(replace(cfg, clamp=""))
    if free is None:
        return
    text = ", ".join(f"{a.gate} = {a.value:g}" for a in ablations)
    h_clamped, h_free = sc.trace.layer(layer, d).h[:, 0], free.trace.layer(layer, d).h[:, 0]
    st.plotly_chart(cell.ablation_figure(h_free, h_clamped, cfg.unit, cfg.t, text, present=cfg.present),
                    config=CHART, key="step_ablation")
    diff = np.abs(h_clamped - h_free)
    moved = claims.say("ablation.moved", clamps=text, unit=cfg.unit, unit_move=diff[:, cfg.unit].max(),
                       all_move=diff.max())
    st.caption(ui.md_literal(moved.text))


def playback_panel(cfg: Config, sc: Scene, layer: int, d: int) -> None:
    """The whole run as a Plotly animation that plays in the browser (▶ Play in the chart)."""
    steps = cell.playback_steps(sc.steps, cfg.t)
    note = "Press ▶ Play in the chart: the animation runs in your browser."
    if len(steps) < sc.steps:
        note += (f" This input has {sc.steps} steps, so the animation shows every "
                 f"{steps[1] - steps[0]}th step ({len(steps)} frames).")
    st.caption(note + " Switch back to *Step* for the equations.")
    # The animation (a frame per step) is slow to build: keep it while the run and the view stay the same.
    view = (cfg.t, cfg.unit, cfg.present, layer, d)
    cached = st.session_state.get(PLAYBACK)
    if cached is not None and cached[0] is sc.trace and cached[1] == view:
        fig = cached[2]
    else:
        labels = [input_label(sc, s, layer) for s in range(sc.steps)]
        fig = cell.playback_figure(sc.trace, cfg.t, cfg.unit, labels, layer=layer, direction=d,
                                   present=cfg.present)
        st.session_state[PLAYBACK] = (sc.trace, view, fig)
    st.plotly_chart(fig, config=CHART, key="step_playback")


@st.fragment
def step_view(sc: Scene) -> None:
    """Everything that follows the time cursor: reruns alone when the cursor, unit or view changes."""
    with ui.friendly("Drawing this step"):
        cfg = view_controls(view_config(sc), sc)
        cfg = cursor(cfg, sc)
        layer, d = layer_picker(sc)
        sequence_strip(cfg, sc)
        hidden = cfg.hidden_parts
        if st.session_state.get(MODE) == "play":
            if "diagram" not in hidden:
                playback_panel(cfg, sc, layer, d)
            return
        revealed = True
        if cfg.predict and "predict" not in hidden:
            revealed = predict_panel(cfg, sc, layer, d)
        if "diagram" not in hidden:  # the narration beside the circuit (not while the step is to be predicted)
            aside = (lambda: narration_panel(cfg, sc, layer, d)) if revealed else None
            diagram_row(cfg, sc, layer, d, hide_step=not revealed, aside=aside)
        elif revealed:
            narration_panel(cfg, sc, layer, d)
        if "equations" not in hidden:
            equations_panel(cfg, sc, layer, d, numbers=revealed)
        if "ablation" not in hidden and revealed:
            ablation_panel(cfg, sc, layer, d)


# ------------------------------------------------------------------------------------------------ weights


def _base_model(cfg: Config, sc: Scene):
    """The model before the sidebar's recurrent scale (edits are made to it; the scale applies on top)."""
    if cfg.weights == "session" and ui.SESSION_MODEL in st.session_state:
        return st.session_state[ui.SESSION_MODEL]
    weights = "random" if cfg.weights == "session" else cfg.weights
    return state.build_model(replace(cfg, weights=weights, scale=1.0), sc.seq.width)[0]


def weights_editor(cfg: Config, sc: Scene) -> None:
    """For a small cell, its weights and biases in an editable table; an edit makes this session's own model."""
    reason = not_editable(sc.model)
    st.markdown("**Weights and biases**")
    if reason:
        st.caption(reason[0].upper() + reason[1:] + ".")
        return
    base = _base_model(cfg, sc)
    table = weight_table(base)
    version = st.session_state.setdefault(EDITOR, 0)
    columns = {c: st.column_config.NumberColumn(c, min_value=-WEIGHT_LIMIT, max_value=WEIGHT_LIMIT,
                                                format="%.3f") for c in table.columns}
    edited = st.data_editor(table, key=f"step_weights_{version}", column_config=columns)
    st.caption("Rows: gate and unit (torch's order). Columns: the weights on each input value x·, on each unit of "
               "h<sub>t−1</sub> (h·), and the two biases. Edit a cell and everything above recomputes."
               + (f" The sidebar's recurrent scale ×{cfg.scale:g} applies on top." if cfg.scale != 1 else ""),
               unsafe_allow_html=True)
    if edited.equals(table):
        return
    try:
        model = model_from_table(base, edited)
    except ValueError as exc:
        st.error(f"Cannot use these weights: {exc}", icon=":material/error:")
        return
    st.session_state[ui.SESSION_MODEL] = model
    st.session_state[ui.SESSION_MODEL_NAME] = "edited on Step through"
    st.session_state[EDITOR] = version + 1
    ui.update(weights="session")
    st.rerun()


def landing_note(cfg: Config) -> None:
    """On the first view of a session opened with no link (the latch), say what it is, and keep random weights one
    click away."""
    view = replace(cfg, t=state.LANDING.t, unit=state.LANDING.unit, present=False, hide="", predict=False)
    if view != state.LANDING:
        return
    left, right = st.columns([5, 2], vertical_alignment="center")
    left.caption("A first view: **the latch**, a hand-made GRU that remembers a spike. New to GRUs? **Learn** goes "
                 "one idea at a time.")
    right.button("Random weights instead", key="landing_random", icon=":material/casino:", on_click=ui.apply,
                 args=(state.DEFAULT,), width="stretch", help="A random 4-unit GRU on a sine wave, as torch "
                 "initialises one.")


def session_model_note(cfg: Config, sc: Scene) -> None:
    """Say so when the session's own model does not match the sidebar's cell settings."""
    s = sc.model.spec
    if cfg.weights == "session" and (s.kind != cfg.cell or s.hidden_size != cfg.hidden):
        st.info(f"Showing this session's own model ({s.describe()}); the sidebar's cell and hidden size apply "
                "once you pick other weights.", icon=":material/info:")
