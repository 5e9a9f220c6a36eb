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

from ..core.kinds import KIND
from ..core.model import Model
from ..core.sequences import Sequence, short_number
from ..core.spec import CLAMPABLE, GRU_VARIANTS, param_key
from ..core.trace import Trace
from ..explain import claims, glossary, narration
from ..explain import tokens as token_words
from ..explain.equations import MINGRU_G, format_value, step_equations
from ..explain.literal import literal
from ..explain.palette import COLORS, tint
from ..explain.palette import color as palette_color
from ..explain.predict import GUESSABLE
from ..figures import cell, style
from ..serve import state
from ..serve.state import Config, Scene
from . import ui

# ------------------------------------------------------------------------------------------------- input


def x_label(seq: Sequence, t: int) -> str:
    """How the input of step ``t`` is shown: the character for text, the number, or a short vector."""
    label = seq.labels[t]
    if seq.alphabet is not None or seq.tokens:  # a character or a token of the model's vocabulary
        return f"'{label}'"
    if seq.width == 1 or label != f"t{t}":  # a label of its own (a trained task's "0.37 ●"), else the numbers
        return label
    if seq.width <= 4:
        scale = float(np.abs(seq.values).max(initial=0.0))
        return "[" + ", ".join(short_number(v, scale) for v in seq.values[t]) + "]"
    return f"({seq.width} values)"


def window(steps: int, t: int, width: int = 25) -> range:
    """The steps shown around the cursor in the sequence strip: ``width`` of them, ``t`` near the middle."""
    width = min(width, steps)
    start = min(max(t - width // 2, 0), steps - width)
    return range(start, start + width)


# ---------------------------------------------------------------------------------------- predict, reveal



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
    names = ["weight_ih", "bias_ih"] + (["weight_hh", "bias_hh"] if KIND[s.kind].recurrent else [])
    return {name: param_key(name, 0, 0, s.cell) for name in names}


def weight_columns(model: Model) -> list[str]:
    """Columns of the weight table, named by what each weight multiplies: "W·x[k]" input value k of x_t, "W·h[k]"
    unit k of the previous state (never "h0", which is the initial state h₀), then the biases b_i and b_h."""
    s = model.spec
    cols = [f"W·x[{k}]" for k in range(s.input_size)]
    if KIND[s.kind].recurrent:
        cols += [f"W·h[{k}]" for k in range(s.hidden_size)]
    return cols + (["b_i", "b_h"] if KIND[s.kind].recurrent else ["b_i"])


def weight_table(model: Model) -> pd.DataFrame:
    """The parameters as a table: one row per gate and unit ("z[0]" is unit 0's z, …), torch's row order."""
    s, keys = model.spec, _keys(model)
    p = model.params
    parts = [p[keys["weight_ih"]]]
    if KIND[s.kind].recurrent:
        parts.append(p[keys["weight_hh"]])
    parts.append(p[keys["bias_ih"]][:, None])
    if KIND[s.kind].recurrent:
        parts.append(p[keys["bias_hh"]][:, None])
    index = [f"{gate}[{unit}]" for gate in s.gates for unit in range(s.hidden_size)]
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
    if KIND[s.kind].recurrent:
        params[keys["weight_hh"]] = values[:, I : I + H]
        col += H
    params[keys["bias_ih"]] = values[:, col]
    if KIND[s.kind].recurrent:
        params[keys["bias_hh"]] = values[:, col + 1]
    return Model(s, params, embedding=model.embedding, readout=model.readout)


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


def view_controls(cfg: Config, sc: Scene, slots: tuple | None = None) -> Config:
    """Step/Play, the predict toggle and the unit: how the step is shown (in ``slots`` (mode, predict, unit) when
    given, else a row of their own)."""
    mode, predict, unit = slots or st.columns([2.2, 2.2, 2.6, 3], vertical_alignment="center")[:3]
    mode.segmented_control("View", tuple(MODES), format_func=MODES.get, key=MODE, default="step",
                           label_visibility="collapsed", help="Step: one step with its equations. Play: the whole "
                           "run as an animation in your browser.")
    want_predict = False
    if "predict" not in cfg.hidden_parts:
        want_predict = predict.toggle(**ui.widget_args("predict"), key=ui._widget("predict", cfg))
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


def cursor(cfg: Config, sc: Scene, slots: tuple | None = None) -> Config:
    """Prev, the time slider and Next (in ``slots`` when given, else a row of their own); returns the config with
    the new cursor."""
    steps = sc.steps
    prev, slider, nxt = slots or st.columns([1.5, 7, 1.5], vertical_alignment="center")
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
    room, per_char = (700, 14) if cfg.present else (760, 9)  # px for the chips on one line, px per character
    shown = window(seq.steps, t, max(5, min(25, room // (per_char * label_chars + 18))))
    chips = []
    for s in shown:
        look = (f"background:{COLORS['h']};color:white;font-weight:700" if s == t
                else "background:rgba(128,128,128,0.16);color:inherit")
        chips.append(f'<span title="t = {s}" style="display:inline-block;min-width:1.9em;padding:1px 5px;margin:1px;'
                     f'border-radius:4px;text-align:center;font-family:monospace;font-size:0.9em;{look}">'
                     f"{html.escape(seq.labels[s])}</span>")
    more_before = "… " if shown.start > 0 else ""
    more_after = " …" if shown.stop < seq.steps else ""
    st.markdown(
        f"**Step t = {t}** of 0 … {seq.steps - 1} · input x<sub>{t}</sub> = "
        f"<code>{html.escape(x_label(seq, t))}</code> &nbsp; {more_before}{''.join(chips)}{more_after}",
        unsafe_allow_html=True,
    )


# -------------------------------------------------------------------------------------------------- parts


DIAGRAM = "step_diagram"  # the circuit chart (its selection state)
UNITS = "step_units"  # the unit bars chart
TOP = "step_top_units"  # the units that moved most at this step (above cell.MAX_BARS units)
# The diagram keeps its drawn size (labels at their size, never on a node): its box scrolls sideways on a narrow
# screen. Beside it, the narration and the bars take the rest of the row; where the row has no room beside the
# diagram (a laptop with the sidebar open, a phone) they go above it, so the words stay above the fold.
STEP_CSS = """
<style>
.st-key-step_diagram_row { container-type: inline-size; }
@container (max-width: BESIDEpx) {  /* Streamlit wraps each child of a row in a div of its own: move that */
  .st-key-step_diagram_row > div:has(> .st-key-step_side) { order: -1; flex: 1 1 100% !important;
                                                           min-width: 0 !important; }
}
.st-key-step_narration_text p { margin-bottom: 0.5rem; }
.st-key-step_diagram_box { overflow-x: auto; overflow-y: hidden; max-width: 100%; padding-bottom: 1.2rem; }
.st-key-step_diagram, .st-key-step_playback { width: WIDTHpx !important; min-width: WIDTHpx !important;
                                              max-width: none !important; }
.st-key-step_side { min-width: 230px; flex: 1 1 230px; }
.st-key-step_equations .katex-display { overflow-x: auto; overflow-y: hidden; padding: 3px 0 3px 0.5rem;
                                        margin: 0.3em 0; text-align: left; }
.gv-legend { display: flex; flex-wrap: wrap; gap: 0.2rem 1rem; font-size: 0.9rem; line-height: 1.5;
             margin-top: 0.1rem; }
.gv-note { font-size: 0.9rem; opacity: 0.85; }
.gv-swipe { display: none; font-size: 0.85rem; opacity: 0.8; }
[class*="st-key-eqnarrow_"] { display: none; }
@media (max-width: 640px) {
  .gv-swipe { display: block; }
  [class*="st-key-eqnarrow_"] { display: block; }
  [class*="st-key-eqwide_"] { display: none; }
}
.gv-legend span.gv-sym { font-weight: 700; display: inline-block; min-width: 1.6em; text-align: center;
                         border: 1.5px solid rgba(128,128,128,0.6); border-radius: 5px; padding: 0 4px;
                         margin-right: 0.25rem; }
.gv-legend span.gv-chip { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 3px;
                          vertical-align: -0.1em; margin-right: 0.3rem; }
</style>
"""


def step_css(present: bool) -> str:
    """The page's own styles, for the diagram's drawn width in this mode."""
    css = STEP_CSS.replace("WIDTH", str(diagram_width(present))).replace("BESIDE", str(diagram_width(present) + 250))
    if present:  # the narration beside the projector's circuit: still large, and whole above the fold at 720 px
        css += ('<style>.st-key-step_narration_text [data-testid="stMarkdownContainer"] p '
                "{ font-size: 0.9rem !important; line-height: 1.4; }</style>")
    return css


def diagram_width(present: bool) -> int:
    """Width in px of the circuit at its fixed scale (every cell kind is as wide)."""
    return round(cell.SCALES[present].px * (cell.RIGHT + 2 * cell.PAD))


def selected_quantity(cfg: Config, sc: Scene) -> str:
    """The quantity of the link's ``sel`` if this cell has it ("" otherwise: the selection waits for its cell)."""
    return cfg.sel if cfg.sel in cell.selectable(sc.model.spec) else ""


def _toggle_selection(quantity: str | None, unit: int | None = None) -> None:
    """Select ``quantity`` (a click on what is selected clears it); a bar's click also picks its unit."""
    if quantity is None:
        return
    cfg = ui.config()
    changes: dict[str, object] = {"sel": "" if quantity == cfg.sel and unit in (None, cfg.unit) else quantity}
    if unit is not None:
        changes["unit"] = int(unit)
    ui.update(**changes)


def _first_point(key: str) -> dict | None:
    state_ = st.session_state.get(key)
    points = ((state_ or {}).get("selection") or {}).get("points") or []
    return points[0] if points else None


def _pick_diagram(spec) -> None:
    """Callback of a click on the circuit: the wire or node clicked selects its quantity."""
    point = _first_point(DIAGRAM)
    key = cell.key_of_point(point) if point else None
    _toggle_selection(cell.quantity_of(key, spec) if key else None)


def _pick_bar() -> None:
    """Callback of a click on a bar: its row's quantity and its unit."""
    point = _first_point(UNITS)
    if not point:
        return
    row = cell.key_of_point(point)
    data = point.get("customdata")  # [quantity, unit]: x is a position when only some units are drawn
    unit = data[1] if isinstance(data, list | tuple) and len(data) > 1 else point.get("x")
    if row is None or not isinstance(unit, int | float):
        return
    _toggle_selection("h" if row == "h_prev" else row, round(unit))


def _pick_top() -> None:
    """Callback of a click on a unit of the "moved most" panel: that unit is shown."""
    point = _first_point(TOP)
    unit = (point or {}).get("customdata")
    if isinstance(unit, list | tuple):
        unit = unit[0] if unit else None
    if isinstance(unit, int | float):
        ui.update(unit=int(unit))


def diagram_legend(spec) -> None:
    """What the symbols do and which colour is which quantity, under the circuit (it wraps on a phone)."""
    symbols = "".join(f'<span title="{html.escape(what)}"><span class="gv-sym">{html.escape(glyph)}</span>'
                      f"{html.escape(name)}</span>" for glyph, name, what in cell.legend_symbols(spec))
    colors = "".join(f'<span><span class="gv-chip" style="background:{c}"></span>{html.escape(name)}</span>'
                     for c, name in cell.legend_colors(spec))
    st.markdown(f'<div class="gv-legend">{symbols}</div>'
                f'<div class="gv-legend">{colors}</div><div class="gv-note">A wire\'s width and opacity show how much '
                "flows: |value| on a fixed scale (gates 0 … 1, states −1 … 1), a hairline is 0. Hover a wire or a "
                "box for what it is; click it to follow it in the equations and the bars.</div>",
                unsafe_allow_html=True)


def diagram_row(cfg: Config, sc: Scene, layer: int, d: int, hide_step: bool):
    """The circuit of the cell for the selected unit (click a wire or a node to select its quantity), its legend,
    and beside it the narration slot and the per-unit bars (when H > 1). Returns the narration container: the
    plain-words narration of this step goes there, beside the diagram (under it on a phone)."""
    spec = sc.model.spec
    selected = selected_quantity(cfg, sc)
    x_label = input_label(sc, cfg.t, layer)
    st.html(step_css(cfg.present))  # style only: takes no room on the page
    row = st.container(horizontal=True, gap="medium", key="step_diagram_row")
    with row:
        box = st.container(width=diagram_width(cfg.present), key="step_diagram_box")
        side = st.container(key="step_side")
    with box:
        figure = cell.cell_spec(sc.trace, cfg.t, cfg.unit, x_label, layer=layer, direction=d, present=cfg.present,
                                predict=hide_step, selected=selected)
        st.html('<div class="gv-swipe">← swipe the diagram sideways →</div>')
        st.plotly_chart(style.Prebuilt(figure), config=CHART, key=DIAGRAM, width="content",
                        on_select=lambda: _pick_diagram(spec), selection_mode="points")
        diagram_legend(spec)
    with side:
        narration = st.container(key="step_narration")
        if spec.hidden_size > cell.MAX_BARS and not hide_step:  # hundreds of units: which ones to look at
            top_units_panel(cfg, sc, layer, d)
        if spec.hidden_size > 1:
            bars = cell.unit_bars_spec(sc.trace, cfg.t, cfg.unit, layer=layer, direction=d, present=cfg.present,
                                       predict=hide_step, selected=selected)
            st.plotly_chart(style.Prebuilt(bars), config=CHART, key=UNITS, on_select=_pick_bar,
                            selection_mode="points")
    return narration


def top_units_panel(cfg: Config, sc: Scene, layer: int, d: int) -> None:
    """The units that moved most at this step, by |Δh| and by gate; a click on one shows it."""
    spec = cell.top_units_spec(sc.trace, cfg.t, cfg.unit, layer=layer, direction=d, present=cfg.present)
    with st.container(key="step_top"):
        st.markdown(f"**Which of the {sc.model.spec.hidden_size} units to look at**")
        st.caption(f"The ones that moved most at t = {cfg.t}; click one to show it (unit {cfg.unit} is shown now). "
                   "The bars below show these and the selected one.")
        st.plotly_chart(style.Prebuilt(spec), config=CHART, key=TOP, on_select=_pick_top, selection_mode="points")


NARROW_CHARS = 27  # about what a phone's 358 px hold of display math


def _visible_length(tex: str) -> float:
    """Roughly how many characters a LaTeX row shows (commands count as the glyph they draw)."""
    t = re.sub(r"\\textcolor\{[^}]*\}", "", tex)
    t = re.sub(r"\\(mathbf|text|mathrm)", "", t)
    t = re.sub(r"\\(times|odot|sigma|to|cdot)", "x", t)
    t = re.sub(r"_\{([^}]*)\}", lambda m: m.group(1)[: (len(m.group(1)) + 1) // 2], t)
    t = re.sub(r"\\[;,!]|[{}\\&]", "", t)
    return len(t.replace(" ", "")) + 0.3 * t.count(" ")


def _wrap_row(row: str, limit: float = NARROW_CHARS) -> list[str]:
    """Break a long row before a " + " (the outermost one that keeps the first part short): a phone's rows."""
    if _visible_length(row) <= limit:
        return [row]
    depth, cuts = 0, []
    for k, ch in enumerate(row):
        depth += ch in "({"
        depth -= ch in ")}"
        if row.startswith(" + ", k) or row.startswith(" - ", k):
            cuts.append((depth, k))
    fitting = [(d, k) for d, k in cuts if _visible_length(row[:k]) <= limit and k > 0]
    if not fitting:
        return [row]
    shallowest = min(d for d, _ in fitting)
    k = max(k for d, k in fitting if d == shallowest)
    return [row[:k], *_wrap_row(r"\quad " + row[k:].lstrip(), limit)]


def narrow_latex(line) -> str:
    """An equation with its numbers for a narrow screen: each "= …" of the numbers on a row of its own, and a row
    still too long for a phone broken before a "+"."""
    head = rf"\textcolor{{{COLORS.get(line.name, COLORS['x'])}}}{{{line.name}_t}}"
    parts = [p for p in line.numeric.removeprefix("= ").split(" = ") if p]
    rows = []
    for k, row in enumerate([line.symbolic, *parts]):
        pieces = _wrap_row(row, NARROW_CHARS - (3 if k == 0 else 0))
        rows.append((rf"{head} &= " if k == 0 else "&= ") + pieces[0])
        rows += [rf"& {p}" for p in pieces[1:]]
    return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"


_TOKEN = re.compile(r"(?<![\w_])([zrnhfigoc])(?= = )|(?<![\w_])([hc][₋₀-₉]+)")


def narration_markdown(text: str) -> str:
    """A narration as markdown: literal text, with each quantity's letter (z, r, n, h, h₂, …) bold in its colour."""
    out, last = [], 0
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        out.append(literal(text[last : m.start()], None))
        out.append(f'<b style="color:{palette_color(token[0])}">{html.escape(token)}</b>')
        last = m.end()
    out.append(literal(text[last:], None))
    return "".join(out)


def readout_vocabulary(model: Model) -> tuple[str, ...] | None:
    """The tokens the readout's scores stand for: its own, else the embedding's when they are as many."""
    ro = model.readout
    if ro.vocabulary is not None:
        return ro.vocabulary
    return model.vocabulary if model.embedding is not None and model.embedding.size == ro.size else None


def readout_panel(cfg: Config, sc: Scene) -> None:
    """The readout's top choices at the step: its scores over the vocabulary, and their softmax."""
    vocab = readout_vocabulary(sc.model)
    logits = sc.model.readout.logits(sc.trace.output[cfg.t])  # this step only: V scores from the top layer's h
    probs = token_words.softmax(logits)
    with st.container(border=True, key="step_readout"):
        st.markdown(f"**The readout at t = {cfg.t}** · " + token_words.best(probs, cfg.t, vocab).text)
        rows = token_words.readout_rows(logits, vocab)
        # st.table renders markdown in its cells: a file's tokens stay literal text
        st.table({"token": [literal(r[0], 40) for r in rows], "probability": [r[1] for r in rows],
                      "score": [r[2] for r in rows]}, hide_index=True)
        st.caption("Scores are the readout's raw outputs, W·h + b from the top layer's state (logits); the "
                   "probabilities are their softmax over all its tokens. A model trained to predict the next token "
                   "gives here its guess for the token after this one.")


def narration_panel(cfg: Config, sc: Scene, layer: int, d: int) -> None:
    """What the cell just did at this step, in words computed from the run (see gru_viz.explain.narration)."""
    story = narration.narrate(sc.trace, cfg.t, cfg.unit, layer, d, x_text=input_label(sc, cfg.t, layer))
    head = f"**What happened at t = {cfg.t}**" + (f" · unit {cfg.unit}" if sc.model.spec.hidden_size > 1 else "")
    with st.container(border=True, key="step_narration_text"):  # one element: a step change redraws it cheaply
        st.markdown("\n\n".join([head, *(narration_markdown(s.text) for s in story.sentences)]),
                    unsafe_allow_html=True)


def equations_panel(cfg: Config, sc: Scene, layer: int, d: int, numbers: bool) -> None:
    """The selected variant's equations, with the numbers of this step and unit substituted; the line of the
    selected quantity is highlighted (one line per block, so that it can be)."""
    spec = sc.model.spec
    name = GRU_VARIANTS[spec.layer_variant(layer)].name if spec.kind == "gru" else spec.describe().split(",")[0]
    where = f"unit {cfg.unit}, step t = {cfg.t}" if spec.hidden_size > 1 else f"step t = {cfg.t}"
    st.markdown(f"**Equations** · {name} · " + (f"numbers of {where}" if numbers else "numbers hidden until you "
                                                                                       "reveal"))
    selected = selected_quantity(cfg, sc)
    lines = step_equations(sc.model, sc.trace, cfg.t, cfg.unit, layer, d)
    with st.container(key="step_equations"):
        for line in lines:
            key = f"eq_{line.name}" + ("_selected" if line.name == selected else "")
            with st.container(key=key):
                with st.container(key=f"{'eqwide' if numbers else 'eqonly'}_{line.name}"):
                    st.latex(line.latex(numbers=numbers))
                if numbers:  # a phone shows this one instead: one "=" per row, so nothing runs off the edge
                    with st.container(key=f"eqnarrow_{line.name}"):
                        st.latex(narrow_latex(line))
        if KIND[spec.kind].candidate == "g":  # minGRU's and minLSTM's positive candidate
            st.latex(MINGRU_G)
    words = glossary.explain(" ".join(line.latex(numbers=False) for line in lines))
    if words:  # the notation in plain words, under the equations that use it
        st.caption(words)
    if selected:
        c = COLORS.get(selected, COLORS["x"])
        st.html(f"<style>.st-key-eq_{selected}_selected {{ background: {tint(c, 0.14)}; "
                f"box-shadow: inset 4px 0 0 {c}; border-radius: 6px; }}</style>")


def _round_key(cfg: Config, layer: int, d: int) -> tuple:
    model_part = tuple(sorted(state.to_query(state.without_view(cfg)).items()))
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
        hint = narration.ablation_hint(kind, sc.model.spec.layer_spec(layer).gru_variant.z_keeps)
        st.caption(literal(hint.text, None))
        return
    free = ui.scene(replace(sc.cfg, clamp=""), remember=False)  # the run shown, unclamped (stale or not)
    if free is None:
        return
    text = ", ".join(f"{a.gate} = {a.value:g}" for a in ablations)
    h_clamped, h_free = sc.trace.layer(layer, d).h[:, 0], free.trace.layer(layer, d).h[:, 0]
    st.plotly_chart(cell.ablation_figure(h_free, h_clamped, cfg.unit, cfg.t, text, present=cfg.present),
                    config=CHART, key="step_ablation")
    diff = np.abs(h_clamped - h_free)
    moved = claims.say("ablation.moved", clamps=text, unit=cfg.unit, unit_move=diff[:, cfg.unit].max(),
                       all_move=diff.max())
    st.caption(literal(moved.text, None))


def playback_panel(cfg: Config, sc: Scene, layer: int, d: int) -> None:
    """The whole run as a Plotly animation that plays in the browser (▶ Play in the chart): its slider and frame
    title are the one time cursor of Play mode."""
    steps = cell.playback_steps(sc.steps, cfg.t)
    note = (f"Press ▶ Play: the animation runs in your browser, from step {cfg.t}; its slider is the time cursor "
            "here.")
    if len(steps) < sc.steps:
        note += (f" This input has {sc.steps} steps, so the animation shows every "
                 f"{steps[1] - steps[0]}th step ({len(steps)} frames).")
    st.caption(note + f" Switch back to *Step* for the equations (at step {cfg.t}).")
    # The animation (a frame per step) is slow to build: keep it while the run and the view stay the same.
    view = (cfg.t, cfg.unit, cfg.present, layer, d)
    cached = st.session_state.get(PLAYBACK)
    if cached is not None and cached[0] is sc.trace and cached[1] == view:
        figure = cached[2]
    else:
        labels = [input_label(sc, s, layer) for s in range(sc.steps)]
        figure = style.Prebuilt(cell.playback_spec(sc.trace, cfg.t, cfg.unit, labels, layer=layer, direction=d,
                                                   present=cfg.present))
        st.session_state[PLAYBACK] = (sc.trace, view, figure)
    st.html(step_css(cfg.present))  # style only: takes no room on the page
    with st.container(width=diagram_width(cfg.present), key="step_diagram_box"):
        st.plotly_chart(figure, config=CHART, key="step_playback", width="content")
        diagram_legend(sc.model.spec)


@st.fragment
def step_view(sc: Scene) -> None:
    """Everything that follows the time cursor: reruns alone when the cursor, unit or view changes."""
    with ui.friendly("Drawing this step"):
        cfg = view_config(sc)
        play = st.session_state.get(MODE) == "play"
        row = None
        if cfg.present:  # a projector's 720 px: the view and the cursor share one row, the diagram fits under it
            row = st.columns([2.3, 1.9, 3.3, 1.9, 1.7, 1.9], vertical_alignment="center")
        cfg = view_controls(cfg, sc, None if row is None else (row[0], row[5], row[4]))
        hidden = cfg.hidden_parts
        if play:  # one time cursor: the animation's own
            layer, d = layer_picker(sc)
            if "diagram" not in hidden:
                playback_panel(cfg, sc, layer, d)
            return
        cfg = cursor(cfg, sc, None if row is None else (row[1], row[2], row[3]))
        layer, d = layer_picker(sc)
        sequence_strip(cfg, sc)
        revealed = True
        if cfg.predict and "predict" not in hidden:
            revealed = predict_panel(cfg, sc, layer, d)
        if "diagram" not in hidden:  # the narration beside the circuit (not while the step is to be predicted)
            slot = diagram_row(cfg, sc, layer, d, hide_step=not revealed)
            if revealed:
                with slot:
                    narration_panel(cfg, sc, layer, d)
        elif revealed:
            narration_panel(cfg, sc, layer, d)
        if revealed and sc.model.readout is not None:
            readout_panel(cfg, sc)
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
    st.caption("Rows: gate and unit — z[0] is unit 0's z (torch's order). Columns: W·x[k] multiplies value k of "
               "the input x<sub>t</sub>, W·h[k] multiplies unit k of the previous state h<sub>t−1</sub>; b_i and "
               "b_h are the biases. Edit a cell and everything above recomputes."
               + (f" The sidebar's recurrent scale ×{cfg.scale:g} applies on top." if cfg.scale != 1 else ""),
               unsafe_allow_html=True)
    if edited.equals(table):
        return
    try:
        model = model_from_table(base, edited)
    except ValueError as exc:
        st.error(f"Cannot use these weights: {ui.message(exc)}", icon=":material/error:")
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
    """Say so when the session's own model is not the cell the sidebar chose before (its controls are disabled)."""
    s = sc.model.spec
    if cfg.weights == "session" and (s.kind != cfg.cell or s.hidden_size != cfg.hidden):
        st.info(f"Showing this session's own model ({s.describe()}): it fixes the cell and its size, so the "
                "sidebar's Cell and Hidden size are greyed out while it is chosen. Pick other Weights to choose "
                "them again.", icon=":material/info:")
