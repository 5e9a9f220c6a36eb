"""Compare cells: the line-up (the same input and cursor through a GRU, an LSTM, a vanilla RNN and minGRU) built
from a Config, and the page's panels: the cells over time, what each costs, and the memory experiments."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from ..core import compare, sources
from ..core.compare import Response
from ..core.kinds import KIND, KINDS, WITH_W_HH
from ..core.spec import GRU_VARIANTS, KIND_NAMES, Spec
from ..explain import glossary
from ..explain.claims import sci_text
from ..figures import compare as figs
from ..serve import state, work
from ..serve.limits import LIMITS
from ..serve.lineup import Lineup, build_lineup, compare_config, models_of  # noqa: F401 (re-exported: pages, tests)
from ..serve.state import Config
from . import budget, ui

# ---------------------------------------------------------------------------------------- the line-up
# (built in gru_viz.serve.lineup, which has no Streamlit: the job workers build line-ups too)

MINIMAL = tuple(k for k in KINDS if k not in WITH_W_HH)  # minGRU, minLSTM: their gates read x only
MINIMAL_NAMES = " and ".join(KIND_NAMES[k] for k in MINIMAL)


def _keep_bias_help() -> str:
    """Which gate β opens in each cell, read from the kind records (a GRU's in PyTorch's variant)."""
    kept = [f"{KIND_NAMES[k]}'s {KIND[k].keep_text(Spec(k, 1, 1))}" for k in KINDS if KIND[k].keep(Spec(k, 1, 1))]
    bare = [KIND_NAMES[k] for k in KINDS if not KIND[k].keep(Spec(k, 1, 1))]
    return ("Adds β to the pre-activation of what keeps the old state — " + ", ".join(kept) + " (a GRU's 1 − z when "
            "z takes) — like the common forget-gate-bias initialisation. 0 is torch's init; the "
            + " and the ".join(bare) + " has no such gate.")


KEEP_BIAS_HELP = _keep_bias_help()


def lineup_settings(cfg: Config, left, right, page: str) -> tuple[tuple[str, ...], float]:
    """A line-up page's own settings, in the link as ``<page>_min`` and ``<page>_beta``, in two containers: whether
    minGRU and minLSTM join (``left``) and the keep bias β (``right``). Returns the cells to line up and β."""
    with_min_name, beta_name = f"{page}_min", f"{page}_beta"
    with_min = left.toggle(**ui.widget_args(with_min_name, label=f"Include {MINIMAL_NAMES}",
                                            help=f"{MINIMAL_NAMES} ({sources.who('feng')}): their gates and "
                                                 "candidate read x only."), key=ui._widget(with_min_name, cfg))
    keep_bias = right.slider(**ui.widget_args(beta_name, help=KEEP_BIAS_HELP), key=ui._widget(beta_name, cfg))
    chosen = {with_min_name: bool(with_min), beta_name: float(keep_bias)}
    if any(getattr(cfg, k) != v for k, v in chosen.items()):
        ui.commit(replace(ui.config(), **chosen))  # the link follows the page's own settings too
    return (KINDS if with_min else WITH_W_HH), float(keep_bias)


# ------------------------------------------------------------------------------------------------- the page

MINGRU, KEEP_BIAS = ui.W + "cmp_min", ui.W + "cmp_beta"  # this page's settings (in the link: cmp_min, cmp_beta)
# The keep bias this page starts at: at torch's plain init (β = 0) the gates sit near ½, and a GRU forgets a spike
# about as fast as a vanilla RNN (H = 8: 32 steps against 35), which hides what gating buys; β = 2 opens the keep
# gates as the common forget-gate-bias initialisation does, and the gated cells still remember after 100 steps.
COMPARE_KEEP_BIAS = state.PROPS["cmp_beta"].default
SHOW_IMPULSE = "cmp_show_impulse"
EXP_STEPS, EXP_AT = ui.W + "cmp_steps", ui.W + "cmp_at"  # in the link: cmp_steps, cmp_at (and cmp_first)
WINDOW = 300  # the cells-over-time figure shows at most this many steps, around the cursor


def lineup_of(base: Config, kinds: tuple[str, ...], keep_bias: float) -> Lineup:
    """The line-up for a config (cached: keyed by the settings that change it, never by the cursor; a long one
    is run by a job worker)."""
    return ui.heavy("lineups", ("cmp-lineup", base, kinds, keep_bias), work.timed_lineup, (base, kinds, keep_bias),
                    "Running every cell over the input", in_pool=ui.long_run(base))


@budget.cached("lineups")
def impulse_of(_lineup: Lineup, key: tuple, steps: int, at: int) -> dict[str, Response]:
    """Impulse responses of every cell (cached by the line-up's ``key`` and the experiment settings)."""
    return {k: compare.impulse_response(m, steps, at) for k, m in _lineup.models.items()}


@budget.cached("lineups")
def first_of(_lineup: Lineup, key: tuple, steps: int) -> dict[str, Response]:
    """"Remember the first input" distances of every cell (cached by the line-up's ``key``)."""
    return {k: compare.remember_first(m, steps, _lineup.cfg.seed) for k, m in _lineup.models.items()}


def lineup_key(lineup: Lineup) -> tuple:
    """What a line-up is built from: the cache key of the experiments run on its models."""
    return lineup.cfg, lineup.kinds, lineup.keep_bias


def describe(lineup: Lineup) -> str:
    """One line saying what runs through what."""
    cfg = lineup.cfg
    scale = f", every W_hh × {cfg.scale:g}" if cfg.scale != 1 else ""
    scale += f", keep bias {lineup.keep_bias:g}" if lineup.keep_bias else ""
    return (f"Input: {lineup.seq.source or 'your sequence'} ({lineup.seq.steps} steps × {lineup.seq.width}). "
            f"Every cell: H = {cfg.hidden}, its own torch-like init from seed {cfg.seed}{scale}, h₀ {cfg.h0}. "
            f"GRU variant: {GRU_VARIANTS[cfg.variant].name}.")


# Under the sidebar's weights, where the line-up's own choice would otherwise go unsaid.
WEIGHTS_NOTE = "Not used on this page: every cell gets seeded random weights (a preset or trained model fits one cell)."


def page_notes(cfg: Config) -> None:
    """Say which sidebar settings this page does not use."""
    if cfg.clamp:
        st.caption("Gate clamps are off on this page: it compares the cells as they are.")
    if cfg.weights != "random":
        st.caption("This page gives every cell seeded random weights (a preset or trained model fits one cell only).")


@st.fragment
def cursor_view(lineup: Lineup) -> None:
    """The time cursor and the cells over time: reruns on its own when the cursor moves."""
    with ui.friendly("The cells over time"):  # a fragment's own reruns bypass the page's guard
        _cursor_view(lineup)


def _cursor_view(lineup: Lineup) -> None:
    cfg = ui.config()
    T, H = lineup.seq.steps, lineup.cfg.hidden
    t_key, unit_key = ui.W + "t", ui.W + "unit"
    if st.session_state.get(t_key, cfg.t) > T - 1 or t_key not in st.session_state:
        st.session_state[t_key] = min(cfg.t, T - 1)
    if st.session_state.get(unit_key, cfg.unit) > H - 1 or unit_key not in st.session_state:
        st.session_state[unit_key] = min(cfg.unit, H - 1)
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    with left:
        t = st.slider("Time cursor t", 0, T - 1, key=t_key) if T > 1 else 0
    with right:
        unit = st.number_input("Unit", 0, H - 1, key=unit_key, help="The unit whose gates are drawn as lines.")
    if (t, unit) != (cfg.t, cfg.unit):
        ui.commit(replace(cfg, t=int(t), unit=int(unit)))
    start = max(0, min(t - WINDOW // 2, T - WINDOW))
    window = (start, min(T, start + WINDOW))
    if T > WINDOW:
        st.caption(f"Showing steps {window[0]}–{window[1] - 1} of {T}, around the cursor.")
    layers = {k: lineup.layer(k) for k in lineup.kinds}
    st.plotly_chart(figs.lineup_figure(layers, int(t), int(unit), window, present=cfg.present), key="cmp_lineup")
    st.dataframe(cursor_table(lineup, int(t), int(unit)), hide_index=True)


def cursor_table(lineup: Lineup, t: int, unit: int) -> list[dict[str, object]]:
    """Each cell's state and gates of one unit at the cursor (blank where a cell has no such quantity)."""
    rows = []
    # every quantity of the cells lined up, once, in the order the cells name them (an LSTM's c first)
    names = list(dict.fromkeys(q for k in lineup.kinds for q in (*KIND[k].extra, *KIND[k].blocks) if q != "h"))
    for kind in lineup.kinds:
        lt = lineup.layer(kind)
        row = {f"t = {t}, unit {unit}": KIND_NAMES[kind], "h": f"{lt.h[t, 0, unit]:+.4f}"}
        for name in names:
            row[name] = f"{lt.gates[name][t, 0, unit]:+.4f}" if name in lt.gates else "·"
        rows.append(row)
    return rows


def cost_section(lineup: Lineup) -> None:
    """The comparison table, then the spectral radii of the recurrent blocks."""
    st.subheader("What each cell costs", anchor=False)
    st.table(pd.DataFrame.from_dict(compare.summary(lineup.models, lineup.seconds, lineup.cfg.scale), orient="index"))
    st.caption("Parameters by formula and counted from the live arrays agree. Time per step is the median of timed "
               "runs of our NumPy core on this machine: display only, as other work shares the CPU.")
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        radii = {k: compare.block_radii(m) for k, m in lineup.models.items() if KIND[k].recurrent}
        st.plotly_chart(figs.radii_figure(radii, present=ui.config().present), key="cmp_radii")
    with right:
        st.markdown(
            "**From vanishing to exploding.** The sidebar's **Recurrent weight scale** multiplies every W_hh, and "
            "ρ with it (" + glossary.GLOSSARY["ρ"] + "). Well below 1, a vanilla RNN forgets within a few steps and "
            "its gradients vanish; above 1 its state swings and its gradients can explode. The gated cells also "
            "have an additive path that no "
            f"W_hh multiplies (diag(z) in a GRU, diag(f) on an LSTM's c); {MINIMAL_NAMES} have no W_hh at all.")


def experiments(lineup: Lineup) -> None:
    """The two memory experiments, one click each."""
    st.subheader("Memory experiments", anchor=False)
    cfg = ui.config()
    a, b, c, d = st.columns([1, 1, 1.3, 1.5], vertical_alignment="bottom")
    steps = int(a.number_input(**ui.widget_args("cmp_steps"), key=ui._widget("cmp_steps", cfg)))
    top = LIMITS.experiment_steps - 1  # (a classroom profile's own)
    at = int(b.number_input(**ui.widget_args("cmp_at", max_value=top),
                            key=ui._widget("cmp_at", cfg, min(cfg.cmp_at, top))))
    st.session_state.setdefault(SHOW_IMPULSE, True)  # the impulse response shows from the start: it is the lesson
    if c.button("Impulse response", icon=":material/bolt:", key="cmp_run_impulse"):
        st.session_state[SHOW_IMPULSE] = True
    first = d.button("Remember the first input", icon=":material/history:", key="cmp_run_first") or cfg.cmp_first
    if (steps, at, first) != (cfg.cmp_steps, cfg.cmp_at, cfg.cmp_first):
        ui.commit(replace(cfg, cmp_steps=steps, cmp_at=at, cmp_first=first))
    left, right = st.columns(2)
    if st.session_state.get(SHOW_IMPULSE):
        with left, ui.friendly("The impulse response"):
            at = min(at, steps - 1)
            responses = impulse_of(lineup, lineup_key(lineup), steps, at)
            st.plotly_chart(figs.memory_figure(
                responses, f"A spike at step {at}, then zeros: ‖h_t − h_t without it‖", "step t",
                "‖Δh_t‖", present=ui.config().present), key="cmp_impulse")
            st.caption(survival_text(responses) + " " + keep_bias_note(lineup.keep_bias))
    if first:
        with right, ui.friendly("Remember the first input"):
            responses = first_of(lineup, lineup_key(lineup), steps)
            st.plotly_chart(figs.memory_figure(
                responses, "Two sequences that differ only in step 0", "sequence length L",
                "‖Δh_L‖ (final states)", x_offset=1, present=ui.config().present), key="cmp_first")
            st.caption("Step 0 is +1 in one sequence and −1 in the other; the rest is the same random noise "
                       f"(seed {lineup.cfg.seed}). " + survival_text(responses, "differ by"))


def survival_text(responses: dict[str, Response], verb: str = "moves h by") -> str:
    """How long each cell's memory of the difference lasts, in words."""
    parts = []
    for kind, resp in responses.items():
        steps = compare.influence_steps(resp)
        end = resp.distance[-1]
        left = len(resp.distance) - 1 - resp.at
        if steps == left and end >= 1e-6:
            parts.append(f"{KIND_NAMES[kind]} still {verb} {sci_text(end)} after {left} steps")  # one notation
        else:
            parts.append(f"{KIND_NAMES[kind]} falls below 10⁻⁶ after {steps + 1} step{'s' if steps else ''}")
    return "; ".join(parts) + "."


def keep_bias_note(keep_bias: float) -> str:
    """What the keep bias does to these experiments, for the β now set."""
    if keep_bias:
        return (f"Every gated cell here starts with keep bias β = {keep_bias:g} (the slider above; this page starts "
                f"at {COMPARE_KEEP_BIAS:g}): at torch's plain init, β = 0, the gates sit near ½ and a GRU forgets "
                "about as fast as the vanilla RNN. Set β to 0 to see it.")
    return ("β = 0 is torch's plain init: the gates sit near ½, so the gated cells forget almost as fast as the "
            "vanilla RNN. Raise the keep bias β to open what keeps their state.")


def page_settings(cfg: Config) -> tuple[tuple[str, ...], float]:
    """This page's own settings: whether minGRU joins, and the keep bias (starting at COMPARE_KEEP_BIAS)."""
    left, right = st.columns([1, 2], vertical_alignment="center")
    return lineup_settings(cfg, left, right, "cmp")
