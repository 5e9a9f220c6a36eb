"""Gradient flow: the page's cached backward passes and its panels (the GRU/LSTM/RNN explainer, the Jacobian's
paths, exploding gradients and clipping, the misconceptions), every number from the live line-up."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from ..core import compare, paths
from ..core.grad import Flow
from ..core.spec import GRU_VARIANTS, KIND_NAMES
from ..explain import claims, glossary
from ..explain import gradients as gradient_words
from ..explain.divergence import norm_words, parting_words
from ..figures import flow as figs
from ..serve import state, work
from ..serve.state import Config
from . import ui
from .compare import Lineup, lineup_settings

MINGRU, KEEP_BIAS = ui.W + "grad_min", ui.W + "grad_beta"  # this page's settings, in the link by these names
MAX_NORM, CLIP_CELL = ui.W + "clip", ui.W + "clip_cell"
SWEEP_STEPS, SCALES = work.SWEEP_STEPS, work.SCALES  # the sweep and the clipping demo use the first steps

# The page's work, by cache. The backward passes, path splits and sweeps are heavy work (gru_viz.serve.jobs): a job
# worker computes them while the class's lighter clicks go on; small ones are done before the page is drawn.


def lineup_of(base: Config, kinds: tuple[str, ...], keep_bias: float) -> Lineup:
    """The cells run on the config's input (cached by the settings that change it)."""
    return ui.heavy("lineups", ("grad-lineup", base, kinds, keep_bias), work.lineup, (base, kinds, keep_bias),
                    "Running every cell over the input", in_pool=ui.long_run(base))


def flows_of(base: Config, kinds: tuple[str, ...], keep_bias: float) -> dict[str, Flow]:
    """kind -> its gradient flow (‖∂h_T/∂x_t‖, ‖∂h_T/∂h_t‖ over t)."""
    args = (base, kinds, keep_bias)
    return ui.heavy("flows", ("grad-flows", *args), work.gradient_flows, args, "Backpropagating through every cell",
                    here=lambda: work.gradient_flows(*args, lineup_of(*args)))


def flow_curves(flows: dict[str, Flow]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """kind -> (‖∂h_T/∂x_t‖, ‖∂h_T/∂h_t‖), as the flow figure takes them."""
    return {k: (f.dx, f.dh) for k, f in flows.items()}


def first_norm(flow: Flow) -> str:
    """‖∂h_T/∂h_0‖ for the text: a number, or how far past float64's range it exploded and where."""
    return norm_words(float(flow.dh[0]), float(flow.log10_dh[0]), flow.overflow_step, len(flow.dh))


def overflow_note(flows: dict[str, Flow]) -> str | None:
    """Which curves leave the chart because their gradient exploded past float64's range, and where."""
    parts = []
    for k, f in flows.items():
        past = [f"‖∂h_T/∂{v}_t‖ from t = {int(np.flatnonzero(np.isinf(arr))[-1])} back"
                for v, arr in (("h", f.dh), ("x", f.dx)) if np.isinf(arr).any()]
        if past:
            parts.append(f"the {KIND_NAMES[k]}'s " + " and ".join(past))
    if not parts:
        return None
    return ("Exploded past float64's largest number (1.8e308), so not drawn: " + "; ".join(parts) + ". Their "
            "size is still followed exactly (in powers of two): the text gives it.")


def analyses_of(base: Config, kinds: tuple[str, ...], keep_bias: float) -> dict[str, paths.Analysis]:
    """kind -> heatmap and path analysis over the last steps."""
    args = (base, kinds, keep_bias)
    return ui.heavy("flows", ("grad-paths", *args), work.gradient_analyses, args,
                    "Splitting the step Jacobians into their paths",
                    here=lambda: work.gradient_analyses(*args, lineup_of(*args)))


def sweep_of(base: Config, kinds: tuple[str, ...], keep_bias: float) -> dict[str, np.ndarray]:
    """kind -> ‖∂L/∂θ‖ at every scale in SCALES (L = Σ h_T over the first steps of the input)."""
    args = (base, kinds, keep_bias)
    return ui.heavy("flows", ("grad-sweep", *args), work.scale_sweep, args, "Sweeping the recurrent weight scale",
                    here=lambda: work.scale_sweep(*args, lineup_of(*args)))


def cursor(lineup: Lineup) -> int:
    """The shared time cursor (cfg.t), as a slider; returns t."""
    cfg = ui.config()
    T = lineup.seq.steps
    key = ui.W + "t"
    if key not in st.session_state or st.session_state[key] > T - 1:
        st.session_state[key] = min(cfg.t, T - 1)
    if T == 1:
        return 0
    t = int(st.slider("Time cursor t", 0, T - 1, key=key, help="The step the live numbers in the text are read at."))
    if t != cfg.t:
        ui.commit(replace(cfg, t=t))
    return t


def span(values: np.ndarray) -> str:
    """'min–max' of an array, for the text."""
    return f"{values.min():.2f}–{values.max():.2f}"


def listed(values: np.ndarray) -> str:
    """Numbers for the text, three decimals each."""
    return ", ".join(f"{v:.3f}" for v in values)


def _bold_lead(sentence: claims.Sentence) -> str:
    """A claim's text with its lead ("GRU", "Vanilla RNN", …, up to the first colon) in bold."""
    lead, sep, rest = sentence.text.partition(":")
    return f"**{lead}**{sep}{rest}"


def explainer(lineup: Lineup, flows: dict, t: int) -> None:
    """GRU vs LSTM vs RNN in a few lines, each a registered claim backed by the live models at the cursor."""
    gru, lstm = lineup.layer("gru"), lineup.layer("lstm")
    first = {k: float(f.dh[0]) for k, f in flows.items()}  # ∞ when it exploded past float64: then say how far
    past = {k: "" if np.isfinite(first[k]) else f" Past float64's range: ‖∂h_T/∂h_0‖ {first_norm(f)}."
            for k, f in flows.items()}
    evidence = gradient_words.Evidence(lineup.traces, first, {k: compare.block_radii(m) for k, m in
                                                              lineup.models.items()}, t,
                                       GRU_VARIANTS[lineup.cfg.variant].z_keeps)
    bullets = [_bold_lead(sentence) + (past[kind] if i == 0 else "")
               for kind, sentences in gradient_words.bullets(evidence, tuple(flows)).items()
               for i, sentence in enumerate(sentences)]
    if not lineup.keep_bias:
        z_mean, f_mean = float(gru.gates["z"].mean()), float(lstm.gates["f"].mean())
        if 0.3 < z_mean < 0.7 and 0.3 < f_mean < 0.7:
            bullets.append(claims.say("gradients.near-half", z_mean=z_mean, f_mean=f_mean).text + " Raise the "
                           "**keep bias β** above: the gated cells' additive paths open and their gradients survive; "
                           "the RNN has nothing to open.")
        else:
            bullets.append("Raise the **keep bias β** above: the gated cells' additive paths open further; the RNN has "
                           "nothing to open.")
    st.markdown(f"**GRU vs LSTM vs RNN** — live numbers at t = {t}; gradients from the last step "
                f"T = {lineup.seq.steps - 1} back to t = 0.\n\n" + "\n".join(f"- {b}" for b in bullets))
    words = glossary.explain(" ".join(bullets))
    if words:  # the notation the bullets use, in plain words
        st.caption(words)


def explainer_context(lineup: Lineup, t: int) -> claims.Context:
    """The runs the explainer's sentences are about (for the page test's claims check)."""
    return claims.Context(t=t, traces=lineup.traces, models=lineup.models)


def misconceptions(lineup: Lineup, t: int) -> None:
    """What tutorials get wrong about GRUs, each corrected with evidence from the live GRU."""
    model, lt = lineup.models["gru"], lineup.layer("gru")
    H, I = model.spec.hidden_size, model.spec.input_size
    w_hh = model.params["weight_hh_l0"]
    r, z, n = (lt.gates[g][:, 0] for g in "rzn")
    W_hz = w_hh[H : 2 * H]
    off = W_hz[~np.eye(H, dtype=bool)]
    r_t, z_t = r[t], z[t]
    shown = min(H, 4)
    partner = GRU_VARIANTS[compare.partner_variant(model.spec.variant)].name
    args = (lineup.cfg, lineup.kinds, lineup.keep_bias)  # two more runs of the GRU: a job when the input is long
    gap = ui.heavy("flows", ("grad-flip", *args), work.flip_parting, args, "Running the GRU with z flipped",
                   here=lambda: work.flip_parting(*args, lineup), in_pool=ui.long_run(lineup.cfg))
    if H > 1:
        mixing = (f"its {H * H - H} off-diagonal weights (mean |w| = {np.abs(off).mean():.3f}) let every unit of h "
                  f"move every z_j.")
    else:
        mixing = "with H = 1 the matrix is 1×1; make H larger to see the off-diagonal weights that mix units."
    with st.container(border=True):
        st.markdown(f"""
**Common misconceptions, checked on the live GRU**

1. *"A GRU has three gates."* — **Two.** `weight_hh_l0` has shape {w_hh.shape} = {w_hh.shape[0] // H} blocks of H rows
   (r, z, n), but only r and z are gates: sigmoids between 0 and 1 (here r ∈ [{r.min():.3f}, {r.max():.3f}],
   z ∈ [{z.min():.3f}, {z.max():.3f}]). The third block feeds the candidate n, a tanh that goes negative
   (n ∈ [{n.min():.3f}, {n.max():.3f}]).
2. *"Gates are element-wise: z = σ(w ⊙ h)."* — **Matrix–vector products of x and h**:
   z = σ(W_iz x + b_iz + W_hz h + b_hz) with W_hz of shape {W_hz.shape} and W_iz of shape ({H}, {I}); {mixing}
3. *"Reset and update are the same gate (or r = 1 − z)."* — **Different weights, different values.** At t = {t}, units
   0–{shown - 1}: r = [{listed(r_t[:shown])}], z = [{listed(z_t[:shown])}];
   max |r − z| = {np.abs(r_t - z_t).max():.3f}, max |r − (1 − z)| = {np.abs(r_t - 1 + z_t).max():.3f}.
4. *"(1 − z) ⊙ h + z ⊙ n and z ⊙ h + (1 − z) ⊙ n are different GRUs."* — **One family, z ↔ 1 − z.** Negate W_iz, W_hz,
   b_iz, b_hz and run the *{partner}* variant: {parting_words(gap, "h", "h′")}
""")


def paths_section(lineup: Lineup, analyses: dict[str, paths.Analysis]) -> None:
    """The GRU's and the LSTM's step Jacobians split into paths, and their products along the sequence."""
    st.subheader("Where the gradient survives: the step Jacobian's paths", anchor=False)
    T = lineup.seq.steps
    for kind, text in (
        ("gru", "∂h′/∂h = diag(keep) + [through n] + [through z] + [through r]. The direct path has no matrix "
                "and no squashing; the product along it alone is diag(Π keep)."),
        ("lstm", "state (h, c): the cell-state path ∂c′/∂c = diag(f) against every other path."),
    ):
        a = analyses[kind]
        st.markdown(f"**{KIND_NAMES[kind]}** — {text}")
        st.plotly_chart(figs.paths_figure(kind, a.norms, a.chains, a.path_start, present=ui.config().present),
                        key=f"grad_paths_{kind}")
        if a.path_start > 0:
            st.caption(f"Steps {a.path_start}–{T - 1}: the last {T - a.path_start} steps of the run.")


def clipping_section(lineup: Lineup, kinds: tuple[str, ...]) -> None:
    """Exploding gradients against the weight scale, and what norm clipping does to one update."""
    st.subheader("Exploding gradients and norm clipping", anchor=False)
    base = lineup.cfg
    T = min(lineup.seq.steps, SWEEP_STEPS)
    a, b = st.columns([1, 1], vertical_alignment="bottom")
    cfg = ui.config()
    max_norm = float(a.select_slider(state.PROPS["clip"].label, state.CLIP_CHOICES, key=ui._widget("clip", cfg)))
    ui._widget("clip_cell", cfg)
    if st.session_state[CLIP_CELL] not in kinds:  # a cell of the line-up only (minGRU left when it did)
        st.session_state[CLIP_CELL] = "rnn"
    cell = b.segmented_control(**ui.widget_args("clip_cell", options=kinds), format_func=KIND_NAMES.get,
                               key=CLIP_CELL) or "rnn"
    if (max_norm, cell) != (cfg.clip, cfg.clip_cell):
        ui.commit(replace(cfg, clip=max_norm, clip_cell=cell))
    left, right = st.columns(2)
    with left, ui.friendly("The scale sweep"):
        sweep = sweep_of(base, kinds, lineup.keep_bias)
        st.plotly_chart(figs.explode_figure(SCALES, sweep, base.scale, max_norm, present=ui.config().present),
                        key="grad_explode")
        st.caption(f"L = Σ h_T over the first {T} steps, from h₀ = 0; every W_hh multiplied by the scale. "
                   "Move the sidebar's **Recurrent weight scale** to move the dotted line.")
    with right, ui.friendly("Clipping"):
        grads = paths.last_state_gradient(lineup.models[cell], lineup.seq.values[:SWEEP_STEPS])
        clipped = paths.clip_grad_norm(grads, max_norm)
        st.plotly_chart(figs.clip_bars_figure(grads, clipped.grads, present=ui.config().present), key="grad_clip_bars")
    left, right = st.columns(2, vertical_alignment="center")
    with left:
        st.plotly_chart(figs.clip_arrows_figure(grads, clipped.grads, present=ui.config().present),
                        key="grad_clip_arrows")
    with right:
        m1, m2, m3 = st.columns(3)
        m1.metric("‖g‖ before", f"{clipped.total_norm:.3g}")
        m2.metric("‖g‖ after", f"{clipped.clipped_norm:.3g}")
        m3.metric("cos(before, after)", f"{paths.cosine(grads, clipped.grads):.4f}")
        st.markdown(f"**{KIND_NAMES[cell]}**, at the current scale: `torch.nn.utils.clip_grad_norm_` multiplies "
                    f"every gradient by min(max_norm / (‖g‖ + 10⁻⁶), 1) = **{clipped.coef:.3g}**. The update gets "
                    "shorter; its direction does not change (cos = 1). Clipping tames an exploding step, but it "
                    "cannot bring back a vanished gradient: a tiny g is left as it is.")


def page_settings(cfg: Config, left, right) -> tuple[tuple[str, ...], float]:
    """This page's own settings: whether minGRU joins, and the keep bias."""
    return lineup_settings(cfg, left, right, "grad")
