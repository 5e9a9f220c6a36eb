"""Timeline: every gate and state of a run over time × unit, the hidden-state trajectory, and export.

Clicking a column of the timeline opens that step on the Step-through page: the chart's selection callback
sets ``t`` (``ui.update``, which also resets the widgets mirroring it), and the run that follows switches page
with the config in the link.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ..core.sequences import Sequence
from ..core.spec import KIND_NAMES
from ..figures import timeline as tl
from ..io import export
from ..serve import state
from ..serve.state import Config, Scene
from . import trained_view, ui
from .step import landing_note

PICK = "timeline_pick"  # the timeline chart's selection state
GOTO = "timeline_goto"  # set by a click on the timeline: the next run switches to Step through
LAYER = "timeline_layer"
PNG = "timeline_png"  # figure name -> (signature, PNG bytes)
PNG_FAILED = "timeline_png_failed"  # why the last PNG export failed, if it did
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}



# Said where "PCA" first appears on the page: a learner from the lesson has not met the term.
PCA_HELP = "PCA: the two directions along which h varies most, so its many numbers fit on a plane."

def open_picked_step(cfg: Config) -> None:
    """After a click on the timeline picked a step (``on_pick`` set t), open it on Step through."""
    if st.session_state.pop(GOTO, False):
        st.switch_page("pages/step.py", query_params=state.to_query(cfg))


def pick_layer(sc: Scene) -> tuple[int, int]:
    """The layer and direction to show: a choice only for stacked or bidirectional models."""
    s = sc.model.spec
    if s.num_layers * s.directions == 1:
        return 0, 0
    options = {ui.layer_label(layer, d, s.directions): (layer, d)
               for layer in range(s.num_layers) for d in range(s.directions)}
    if st.session_state.get(LAYER) not in options:  # new model: the layer picked on "Your model", else the last
        picked = st.session_state.get(ui.LAYER_CHOICE)
        by_value = {v: k for k, v in options.items()}
        st.session_state[LAYER] = by_value.get(tuple(picked) if picked else None, list(options)[-s.directions])
    return options[st.selectbox("Layer", list(options), key=LAYER)]


@dataclass(frozen=True)
class LayerInput:
    """What a layer above the first reads, shaped as the timeline's x row takes an input: the layer below's output
    (both directions side by side). Not a Sequence: it may be wider (2·64) or larger (a ReLU RNN) than a typed
    input is allowed to be."""

    values: np.ndarray  # (T, D·H_out)
    labels: tuple[str, ...]
    source: str
    alphabet: None = None

    @property
    def steps(self) -> int:
        """T."""
        return self.values.shape[0]

    @property
    def width(self) -> int:
        """Values per step."""
        return self.values.shape[1]


def layer_input(sc: Scene, layer: tuple[int, int]) -> Sequence | LayerInput:
    """The x row of a layer's timeline: the input for layer 0, the output of the layer below for layer k > 0 (what
    that layer really reads, step by step, as its trace keeps it)."""
    if layer[0] == 0:
        return sc.seq
    return LayerInput(sc.trace.layer(*layer).x[:, 0, :], sc.seq.labels, f"the output of layer {layer[0] - 1}")


def on_pick(steps: int) -> None:
    """Selection callback: set the clicked step as t (and reset the widgets mirroring it, e.g. Step through's
    slider); the run that follows switches page."""
    step = tl.step_from_selection(st.session_state.get(PICK), steps)
    if step is not None:
        ui.update(t=step)
        st.session_state[GOTO] = True


ORDER_WORDS = {"index": "by index", "activity": "most active first", "cluster": "clustered"}


def _set_order() -> None:
    ui.update(order=st.session_state[ORDER])


ORDER = "timeline_order"


def order_control(cfg: Config, units: int) -> str:
    """The heatmaps' unit order (the link's ``order``), chosen above them when there are units to order."""
    if units <= 2:
        return "index"
    st.session_state[ORDER] = cfg.order  # follows the link (a shared link, a back button)
    st.segmented_control(**ui.widget_args("order", format_func=ORDER_WORDS.get), key=ORDER, on_change=_set_order,
                         required=True)
    return cfg.order


def describe(cfg: Config, sc: Scene) -> str:
    """What is shown, and how to use it."""
    s = sc.model.spec
    source = sc.seq.source or cfg.source
    return (f"{KIND_NAMES[s.kind]} with H = {s.hidden_size} on {sc.steps} steps of {source}. Hover a cell for every "
            "value of that unit at that step; **click a column** to open that step in *Step through*.")


def decimation_note(sc: Scene) -> str | None:
    """What the figures do with a long run, in words (None when every step is drawn)."""
    b = tl.blocks(sc.steps)
    if not b.aggregated:
        return None
    line = tl.blocks(sc.steps, tl.MAX_LINE_BLOCKS)
    stride = -(-sc.steps // tl.MAX_PCA_POINTS)
    parts = [f"{sc.steps} steps are too many to draw one by one: each heatmap column is the **mean** of a block of "
             f"{b.size} steps (hover a cell for the block's min and max)"]
    if line.aggregated:
        parts.append(f"the line plots show each block of {line.size} steps by its **min and max**")
    if stride > 1:
        parts.append(f"the PCA plot shows every {stride}th step (the PCA itself uses all of them)")
    return "; ".join(parts) + ". Every number comes from the full run."


def signature(cfg: Config, sc: Scene, layer: tuple[int, int]) -> str:
    """What a figure depends on: the link (config and view), the layer, and the run itself (for own models)."""
    digest = hashlib.sha1(sc.trace.layer(*layer).h.tobytes()).hexdigest()[:16]
    return f"{sorted(state.to_query(cfg).items())}|{layer}|{digest}"


def png_control(name: str, title: str, fig: go.Figure, sig: str, stem: str) -> None:
    """Prepare a PNG on demand (kaleido takes seconds), then offer it for download; cached per figure."""
    store = st.session_state.setdefault(PNG, {})
    slot = st.empty()
    cached = store.get(name)
    if cached is None or cached[0] != sig:
        reason = export.png_unavailable() or st.session_state.get(PNG_FAILED)
        if not slot.button("Prepare PNG", key=f"png_{name}", icon=":material/image:", disabled=bool(reason),
                           help=reason or "Renders the figure in a headless browser: a few seconds."):
            if reason:
                st.caption(reason)
            return
        with st.spinner("Rendering the PNG…"):
            try:
                store[name] = (sig, export.figure_png(export.titled(fig, title)))
            except export.ExportError as exc:
                st.session_state[PNG_FAILED] = str(exc)
                slot.button("Prepare PNG", key=f"png_{name}_failed", icon=":material/image:", disabled=True,
                            help=str(exc))
                st.caption(str(exc))
                return
    slot.download_button("Download PNG", data=store[name][1], file_name=f"{stem}-{name}.png", mime="image/png",
                         icon=":material/image:", on_click="ignore", key=f"png_dl_{name}")


def export_section(cfg: Config, sc: Scene, figures: list[tuple[str, str, go.Figure]], layer: tuple[int, int]) -> None:
    """Downloads: the trace as CSV and JSON, each figure as standalone HTML and PNG."""
    seq, trace = sc.seq, sc.trace
    stem = f"gru-viz-{sc.model.spec.kind}-timeline"
    with st.expander("Export", icon=":material/download:"):
        st.markdown("**The run, step by step** — exactly the numbers above, at full precision.")
        row = st.container(horizontal=True)
        row.download_button("Trace as CSV", data=lambda: export.trace_csv(seq, trace, *layer), mime="text/csv",
                           file_name=f"{stem}.csv", icon=":material/table:", on_click="ignore", key="dl_csv")
        row.download_button("Trace as JSON", mime="application/json", file_name=f"{stem}.json",
                           data=lambda: export.trace_json(seq, trace, *layer, config=asdict(cfg),
                                                          link=state.to_query(cfg)),
                           icon=":material/data_object:", on_click="ignore", key="dl_json")
        st.markdown("**The figures** — HTML files work offline (plotly.js is inside); PNG is rendered on demand.")
        sig = signature(cfg, sc, layer)
        for name, title, fig in figures:
            st.caption(title)
            with st.container(horizontal=True):
                st.download_button("HTML", data=lambda f=fig, t=title: export.figure_html(export.titled(f, t)),
                                   file_name=f"{stem}-{name}.html", mime="text/html", icon=":material/code:",
                                   on_click="ignore", key=f"html_{name}")
                png_control(name, title, fig, sig, stem)


def draw(cfg: Config, sc: Scene) -> None:
    """The page below the title: timeline, trajectories, export."""
    sc = trained_view.labelled(sc)  # a trained model's steps in its task's symbols
    st.caption(describe(cfg, sc))
    for note in sc.notes:
        st.info(note, icon=":material/info:")
    trained_view.panel(sc)
    landing_note(cfg)  # the first view's note and its way to random weights, as on Step through
    layer = pick_layer(sc)
    lt = sc.trace.layer(*layer)
    kind = sc.model.spec.kind
    if note := decimation_note(sc):
        st.info(note, icon=":material/compress:")

    key = ui.link_key(sc)

    def shared(name: str, view: tuple, build):
        """A figure of this link, built once for every session on it (never for a session's own model);
        ``view`` is what else it depends on."""
        return ui.shared(None if key is None else (f"timeline/{name}", key, layer, cfg.present, *view), build)

    order = order_control(cfg, lt.h.shape[-1])
    timeline = shared("timeline", (cfg.t, order),
                      lambda: tl.timeline_figure(layer_input(sc, layer), lt, kind, t=cfg.t, present=cfg.present,
                                                 order=order))
    st.plotly_chart(timeline, key=PICK, on_select=functools.partial(on_pick, sc.steps), selection_mode="points",
                    config=CHART_CONFIG)
    if layer[0] > 0:
        halves = ", its forward and reverse halves side by side" if sc.model.spec.directions == 2 else ""
        st.caption(f"The x row is what layer {layer[0]} reads: the output of layer {layer[0] - 1} "
                   f"({layer_input(sc, layer).width} values per step{halves}), not the raw input.")

    h = lt.h[:, 0, :]
    labels = sc.seq.labels if sc.seq.alphabet is not None or sc.seq.tokens else None
    unit = min(cfg.unit, h.shape[1] - 1)
    units = shared("units", (cfg.t, unit), lambda: tl.units_figure(h, unit=unit, t=cfg.t, present=cfg.present))
    drawn = len(tl.line_units(h, unit))
    pca = shared("pca", (), lambda: tl.pca_figure(h, labels=labels, present=cfg.present))
    left, right = st.columns(2)
    with left:
        st.subheader("Hidden state per unit")
        st.plotly_chart(units, config=CHART_CONFIG, key="timeline_units")
        st.caption(f"One line per unit; unit {unit} (the selected one) is bold." if drawn == h.shape[1] else
                   f"The {drawn - 1} most active of the {h.shape[1]} units (mean |Δh| per step) and unit {unit} "
                   "(the selected one, bold): hundreds of lines would be a grey mass.")
    with right:
        st.subheader("Trajectory of h (PCA)", help=PCA_HELP)
        st.plotly_chart(pca, config=CHART_CONFIG, key="timeline_pca")
        st.caption(pca_caption(h.shape[1], pca.layout.meta["explained_variance_ratio"]))

    if "export" not in cfg.hidden_parts:
        title = f"{KIND_NAMES[kind]} (H = {sc.model.spec.hidden_size}) on {sc.seq.source or cfg.source}"
        export_section(cfg, sc, [("timeline", f"{title}: gates and state over time", timeline),
                        ("units", f"{title}: hidden state per unit", units),
                        ("pca", f"{title}: trajectory of h on its top two principal components", pca)], layer)


def pca_caption(units: int, ratio: list[float]) -> str:
    """The explained variance in words."""
    if sum(ratio) == 0:
        return "h does not move during this run, so there is no direction of variance to show."
    if units == 1:
        return "With one unit, h is already one number per step: PC1 is h itself (centred), PC2 is 0."
    return (f"h projected on the two directions along which it varies most: PC1 explains {ratio[0]:.1%} and PC2 "
            f"{ratio[1]:.1%} of its variance over the run ({sum(ratio):.1%} together).")
