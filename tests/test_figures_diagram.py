"""The cell diagram shows the flow and explains itself, and every figure speaks the palette's colours.

- Each wire's width and opacity is the documented function of |value| on it (and the box fills); predicting
  hides the flow along with the numbers.
- Every wire and node has a hover naming the quantity, saying what it does for this cell and variant, and holding
  the trace's value; the reverse direction of a bidirectional layer starts from h_{t+1}.
- A selected quantity is highlighted in the diagram (its wires) and in the bars (its row); every wire and node
  selects an equation line of its cell.
- Every gate's colour is the palette's in every figure builder; the cells compared get their own colours.
- Axis and number defects: integer step axes, log axes with decade or 1-2-5 ticks, the clip comparison as markers.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from gru_viz.core.compare import Response
from gru_viz.core.kinds import DEFAULT_VARIANT, KIND, KINDS
from gru_viz.core.model import Model
from gru_viz.core.params import init_params
from gru_viz.core.sequences import generate, parse_sequence
from gru_viz.core.spec import GRU_VARIANTS, Spec
from gru_viz.core.tasks import get_task
from gru_viz.core.train import History
from gru_viz.explain import palette
from gru_viz.explain.equations import format_value, step_equations
from gru_viz.explain.symbols import meaning
from gru_viz.figures import cell, compare, flow, style, timeline, train

CASES = [(k, v) for k in KINDS for v in (GRU_VARIANTS if k == "gru" else (DEFAULT_VARIANT,))]
IDS = [f"{k}-{v}" for k, v in CASES]
T, I, H = 10, 2, 4


def make(kind: str, variant: str = "torch", bidirectional: bool = False, seed: int = 5):
    spec = Spec(kind, I, H, variant=variant, bidirectional=bidirectional)
    model = Model(spec, {k: 2.0 * v for k, v in init_params(spec, seed).items()})
    x = np.random.default_rng(seed).normal(size=(T, I))
    return model, model.run(x)


@pytest.fixture(params=CASES, ids=IDS)
def case(request):
    kind, variant = request.param
    model, trace = make(kind, variant)
    return kind, variant, model, trace


# Wires whose full scale is 2: linear maps, an LSTM's memory, and minLSTM's f + i (two gates, up to 2).
WIDE = ("hn", "r_hn", "pre", "c", "c_prev", "f_c", "f_plus_i")


def expected_width(value: float, key: str, present: bool = False) -> float:
    """The documented encoding, written out again: w_min + (w_max − w_min) · min(|v| / full, 1)."""
    s = cell.SCALES[present]
    full = 2.0 if key in WIDE else 1.0
    return s.w_min + (s.w_max - s.w_min) * min(abs(value) / full, 1.0)


# ------------------------------------------------------------------------------------------------- the flow


@pytest.mark.parametrize("present", [False, True])
def test_each_wire_is_as_wide_as_what_it_carries(case, present):
    _, _, _, trace = case
    for t, u in [(0, 0), (6, 3)]:
        values = cell.step_values(trace, t, u)
        styles = cell.wire_styles(cell.cell_spec(trace, t, u, "x", present=present))
        assert len(styles) == len(cell.diagram_of(trace.spec).wires)
        for key, width, opacity, dash in styles:
            v = values[key]
            assert width == pytest.approx(expected_width(v, key, present)), key
            full = 2.0 if key in WIDE else 1.0
            assert opacity == pytest.approx(0.3 + 0.7 * min(abs(v) / full, 1.0)), key
            assert dash == "solid"


def test_the_encoding_reads_like_the_issue_says():
    s = cell.SCALES[False]
    shut, open_ = cell.wire_width(0.02, "z"), cell.wire_width(0.98, "z")
    assert shut < s.w_min + 0.3 and open_ > 0.95 * s.w_max, "a gate at 0.02 looks shut, at 0.98 wide open"
    assert cell.wire_width(0.0, "h") == s.w_min == 1.0, "a state of 0 is a hairline"
    assert cell.wire_width(-0.5, "h") == cell.wire_width(0.5, "h"), "width is |value|"
    assert cell.wire_width(7.0, "hn") == s.w_max, "beyond its full scale a wire stays at full width"
    widths = [cell.wire_width(v, "z") for v in np.linspace(0, 1, 11)]
    assert widths == sorted(widths) and len(set(widths)) == 11
    assert cell.wire_width(float("nan"), "h") == s.w_min


def test_boxes_fill_with_their_value(case):
    _, _, _, trace = case
    values = cell.step_values(trace, 4, 1)
    spec = cell.cell_spec(trace, 4, 1, "x")
    for tr in spec["data"]:
        if isinstance(tr.get("meta"), str) and tr["meta"].startswith("box:"):
            key = tr["meta"][4:]
            alpha = float(re.search(r"rgba\(\d+,\d+,\d+,([\d.]+)\)", tr["fillcolor"]).group(1))
            assert alpha == pytest.approx(cell.box_fill(values[key], key), abs=1e-3), key


def test_predicting_hides_the_flow_too(case):
    """While the viewer predicts, the wires of the step are drawn alike (dotted, one width) whatever they carry:
    the picture gives nothing away; the input and the state it starts from keep their flow."""
    _, _, _, trace = case
    styles = {}
    for t in (2, 7):
        styles[t] = cell.wire_styles(cell.cell_spec(trace, t, 1, "x", predict=True))
    values = cell.step_values(trace, 2, 1)
    for (key, width, opacity, dash), (_, width7, opacity7, dash7) in zip(styles[2], styles[7], strict=True):
        if key in cell.GIVEN:
            assert width == pytest.approx(expected_width(values[key], key)) and dash == "solid"
        else:
            assert (width, opacity, dash) == (width7, opacity7, dash7) and dash == "dot", key
    for tr in cell.cell_spec(trace, 2, 1, "x", predict=True)["data"]:
        if isinstance(tr.get("meta"), str) and tr["meta"].startswith("box:"):
            assert tr["fillcolor"].endswith(",0.06)")


# ------------------------------------------------------------------------------------------------- words


def test_every_wire_and_node_has_a_hover_with_its_name_meaning_term_and_value(case):
    kind, variant, _, trace = case
    t, u = 5, 2
    values = cell.step_values(trace, t, u)
    hover = cell.hovers(cell.cell_spec(trace, t, u, "the-x"))
    d = cell.diagram_of(trace.spec)
    keys = {w.value_key for w in d.wires} | {n.key for n in d.nodes if n.key}
    assert set(hover) == keys
    for key, text in hover.items():
        m = meaning(key, kind, variant)
        assert m.name in text and m.phrase.split(";")[0].replace("'", "&#x27;") in text and m.term in text, key
        shown = "the-x" if key == "x" else cell.value_text(values[key])
        assert f"at t = {t}: <b>{shown}</b>" in text, key
    glyphs = {n.key: n.symbol for n in d.nodes if n.key}
    for key, glyph in glyphs.items():
        node_hover = next(h for k, g, h in _hits(trace, t, u) if k == key and g)
        assert glyph and node_hover.startswith("<b>"), key


def _hits(trace, t, u):
    hits = next(tr for tr in cell.cell_spec(trace, t, u, "x")["data"] if tr.get("meta") == "hits")
    d = cell.diagram_of(trace.spec)
    node_points = {(n.x, n.y) for n in d.nodes if n.key}
    for x, y, k, h in zip(hits["x"], hits["y"], hits["customdata"], hits["hovertext"], strict=True):
        yield k, (x, y) in node_points, h


@pytest.mark.parametrize("variant", list(GRU_VARIANTS))
def test_the_words_follow_the_variant(variant):
    """z keeps the old state in the PyTorch and reset-before variants and writes the candidate in the z-takes
    ones; the kept and written parts name their products accordingly."""
    keeps = GRU_VARIANTS[variant].z_keeps
    z, one_minus, keep, write = (meaning(k, "gru", variant) for k in ("z", "one_minus_z", "keep", "write"))
    assert ("old state kept" in z.phrase) == keeps and ("candidate written" in z.phrase) != keeps
    assert ("candidate written" in one_minus.phrase) == keeps
    assert keep.term.startswith("z<sub>t</sub> ⊙ h") == keeps
    assert write.term.startswith("z<sub>t</sub> ⊙ n") != keeps
    _model, _trace = make("gru", variant)
    hn = meaning("hn", "gru", variant).term
    assert ("(r<sub>t</sub> ⊙ h" in hn) != GRU_VARIANTS[variant].reset_after
    mingru = meaning("z", "mingru")
    assert "candidate written" in mingru.phrase and "reads only the input" in mingru.phrase


def test_minlstm_words_name_its_shares():
    """minLSTM keeps f′ = f / (f + i) of the old state and writes i′ = i / (f + i) of the candidate; its gates read
    the input alone."""
    words = {k: meaning(k, "minlstm") for k in ("f", "i", "f'", "i'", "f_plus_i", "keep", "write", "h")}
    assert "old state kept" in words["f'"].phrase and "candidate written" in words["i'"].phrase
    assert words["f'"].term == "f′<sub>t</sub> = f<sub>t</sub> / (f<sub>t</sub> + i<sub>t</sub>)"
    assert all("reads only the input" in words[g].phrase and "W<sub>h" not in words[g].term for g in "fi")
    assert words["keep"].term.startswith("f′<sub>t</sub> ⊙ h<sub>t−1</sub>")
    assert words["h"].term == ("h<sub>t</sub> = f′<sub>t</sub> ⊙ h<sub>t−1</sub> + i′<sub>t</sub> ⊙ "
                               "n<sub>t</sub>")


def test_reverse_direction_starts_from_the_step_after():
    """An issue seen: a bidirectional layer's reverse direction labelled its previous state h_{t−1}."""
    for kind in KINDS:
        _model, trace = make(kind, bidirectional=True)
        forward = cell.cell_spec(trace, 0, 0, "x", direction=0)
        reverse = cell.cell_spec(trace, 0, 0, "x", direction=1)
        labels = next(t["text"] for t in reverse["data"] if isinstance(t.get("meta"), list))
        hovers = cell.hovers(reverse)
        assert any("h<sub>t+1</sub>" in text for text in labels)
        assert not any("t−1" in text for text in labels), labels
        assert not any("t−1" in text for text in hovers.values())
        assert "the step after" in hovers["h_prev"] and "runs from the end" in hovers["h_prev"]
        assert any("h<sub>t−1</sub>" in t for t in next(t["text"] for t in forward["data"]
                                                           if isinstance(t.get("meta"), list)))
        bars = cell.unit_bars_spec(trace, 0, 0, direction=1, predict=True)
        assert bars["layout"]["annotations"][0]["text"].endswith("<b>h<sub>t+1</sub></b>")
        # and the values are the reverse direction's own: at its first step (t = T−1) it starts from h0 = 0
        assert cell.step_values(trace, T - 1, 0, direction=1)["h_prev"] == 0.0


# --------------------------------------------------------------------------------------------- selection


def test_every_wire_and_node_selects_an_equation_line_of_its_cell(case):
    _kind, _, model, trace = case
    lines = {line.name for line in step_equations(model, trace, 0, 0)}
    d = cell.diagram_of(trace.spec)
    for key in {w.value_key for w in d.wires} | {n.key for n in d.nodes if n.key}:
        q = cell.quantity_of(key, trace.spec)
        assert q in lines or q == "x", (key, q)
    assert set(cell.selectable(trace.spec)) - {"x"} == lines
    from gru_viz.serve.state import SELECTABLE

    missing = set(cell.selectable(trace.spec)) - set(SELECTABLE)
    assert not missing, "the link can carry every selection"


def test_the_selection_is_highlighted_in_the_diagram_and_the_bars(case):
    _kind, _, _, trace = case
    d = cell.diagram_of(trace.spec)
    for q in cell.selectable(trace.spec):
        spec = cell.cell_spec(trace, 3, 1, "x", selected=q)
        halo = next(t for t in spec["data"] if t.get("meta") == "halo")
        wires = [w for w in d.wires if cell.quantity_of(w.value_key, trace.spec) == q]
        assert sum(1 for v in halo["x"] if v is None) == len(wires), q
        assert halo["line"]["color"] == palette.tint(palette.color(q), 0.3)
        boxes = [t for t in spec["data"] if isinstance(t.get("meta"), str) and t["meta"].startswith("box:")]
        for b in boxes:
            chosen = cell.quantity_of(b["meta"][4:], trace.spec) == q
            assert (b["line"]["width"] > 3) == chosen
        bars = cell.unit_bars_spec(trace, 3, 1, selected=q)
        rows = cell.unit_quantities(trace.spec)
        assert len(bars["layout"]["shapes"]) == (2 if q in rows else 1), q
    plain = cell.cell_spec(trace, 3, 1, "x")
    assert next(t for t in plain["data"] if t.get("meta") == "halo")["x"] == []


def test_a_click_point_names_its_wire():
    assert cell.key_of_point({"customdata": "z", "x": 1}) == "z"
    assert cell.key_of_point({"customdata": ["one_minus_z"]}) == "one_minus_z"
    assert cell.key_of_point({"x": 1}) is None and cell.key_of_point({"customdata": 3}) is None


# ----------------------------------------------------------------------------------- labels clear of nodes

NARROW = set(".,:;ilrtfj ·|()−-")  # about half an em in a sans-serif; digits ≈ 0.56 em, other letters ≈ 0.6 em


def _ems(text: str) -> float:
    """A label's width in ems, estimated per character (subscripts at 0.7 size; markup other than <sub> dropped)."""
    text = re.sub(r"<(?!/?sub>)[^>]+>", "", text)
    total = 0.0
    for run in re.findall(r"<sub>[^<]*</sub>|[^<]+", text):
        sub = run.startswith("<sub>")
        chars = run[5:-6] if sub else run
        total += sum(0.3 if c in NARROW else 0.56 if c.isdigit() else 0.6 for c in chars) * (0.7 if sub else 1.0)
    return total


def label_boxes(fig, present: bool) -> list[tuple[str, float, float, float, float]]:
    """Each wire label's estimated box (text, x0, y0, x1, y1) in canvas units, placed as its textposition says."""
    s = cell.SCALES[present]
    spec = fig.to_plotly_json()
    labels = next(t for t in spec["data"] if isinstance(t.get("meta"), list))
    out = []
    for text, x, y, where in zip(labels["text"], labels["x"], labels["y"], labels["textposition"], strict=True):
        w, h = _ems(text) * s.label / s.px, 1.15 * s.label / s.px
        vertical, horizontal = where.split()
        x0 = {"center": x - w / 2, "right": x, "left": x - w}[horizontal]
        y0 = {"top": y, "middle": y - h / 2, "bottom": y - h}[vertical]
        out.append((re.sub(r"<[^>]+>", "", text), x0, y0, x0 + w, y0 + h))
    return out


@pytest.mark.parametrize("present", [False, True], ids=["desk", "presenter"])
def test_no_wire_label_overlaps_a_node_in_any_diagram(case, present):
    """Issue 23 item 4: Learn 4's Chung (z takes) diagram hid "r = …" under the r gate's σ box when presenting."""
    kind, variant, _model, trace = case
    fig = cell.cell_figure(trace, 5, 0, "x", present=present)
    nodes = fig.layout.meta["nodes"]
    for text, x0, y0, x1, y1 in label_boxes(fig, present):
        for nx0, ny0, nx1, ny1, node_kind, key, glyph in nodes:
            clear = x1 <= nx0 or nx1 <= x0 or y1 <= ny0 or ny1 <= y0
            assert clear, f"{kind}/{variant}: label {text!r} overlaps the {glyph!r} {node_kind} ({key})"


# --------------------------------------------------------------------------------------- one colour each


def colours_in_figures() -> dict[str, set[str]]:
    """For each quantity, every colour a figure builder gives it (wires, boxes, bars, lines, heatmap ramps, row
    letters, equation heads, the legend)."""
    found: dict[str, set[str]] = {}

    def add(name: str, colour: str) -> None:
        found.setdefault(name, set()).add(colour)

    for kind, variant in CASES:
        model, trace = make(kind, variant)
        d = cell.diagram_of(model.spec)
        for w in d.labelled:
            if w.key in palette.COLORS:
                add(w.key, w.color)
        for n in d.boxes:
            if n.key in palette.COLORS:
                add(n.key, n.color)
        for bar in cell.unit_bars_spec(trace, 2, 1)["data"]:
            add(bar["meta"], bar["marker"]["color"])
        for colour, name in cell.legend_colors(model.spec):
            add(next(q for q, full in palette.NAMES.items() if full == name), colour)
        for line in step_equations(model, trace, 2, 1):
            head = re.search(r"\\textcolor\{([^}]*)\}\{(\w'?)_t\}", line.latex()).groups()
            add(head[1], head[0])
        seq = generate("sine", T, 0)
        lt = model.run(seq.values if model.spec.input_size == 1 else np.repeat(seq.values, I, 1)).layer()
        fig = timeline.timeline_figure(seq, lt, kind)
        for tr in fig.data:
            if tr.type == "heatmap" and tr.name in [timeline.NAMES.get(q) for q in QUANTITIES]:
                q = next(q for q in QUANTITIES if timeline.NAMES[q] == tr.name)
                add(q, tr.colorscale[-1][1])
        for a in fig.layout.annotations:
            q = re.sub(r"</?b>", "", a.text)
            if q in palette.COLORS:
                add(q, a.font.color)
    layers = {k: make(k)[1].layer() for k in KINDS}
    for tr in compare.lineup_figure(layers, 3, 1).data:
        if tr.type == "scatter":
            q = tr.hovertemplate.split("=")[0].replace("′", "'")  # the hover writes f' as f′
            add(q, tr.line.color)
    return found


QUANTITIES = ("r", "z", "n", "g", "i", "f", "o", "c", "h", "f'", "i'")


def test_every_quantity_has_one_colour_in_every_figure():
    found = colours_in_figures()
    for q in QUANTITIES:
        assert found.get(q), f"no figure draws {q}"
        assert found[q] == {palette.COLORS[q]}, (q, found[q])


def test_the_cells_compared_have_their_own_colour_and_dash():
    kinds = KINDS
    gates = set(palette.COLORS.values())
    responses = {k: Response(np.geomspace(1, 1e-9, 12), 2) for k in kinds}
    figures = [compare.memory_figure(responses, "t", "x", "y"),
               flow.flow_figure({k: (np.geomspace(1, 1e-6, 8), np.geomspace(1, 1e-3, 8)) for k in kinds}),
               flow.explode_figure(np.linspace(0, 3, 5), {k: np.geomspace(1e-3, 1e3, 5) for k in kinds}, 1.0, 1.0)]
    task = get_task("adding")
    h = History(step=[1, 2, 3], loss=[1.0, 0.5, 0.2], accuracy=[], eval_step=[1, 3], eval_loss=[0.9, 0.3],
                eval_accuracy=[])
    figures.append(train.curves_figure({k: h for k in kinds}, task.baseline(20)))
    for fig in figures:
        lines = [tr for tr in fig.data if tr.type == "scatter" and tr.name in [_name(k) for k in kinds]]
        assert lines
        for tr in lines:
            kind = next(k for k in kinds if _name(k) == tr.name)
            assert tr.line.color == palette.CELL_COLORS[kind] and tr.line.color not in gates
            assert tr.line.dash == palette.CELL_DASH[kind]


def _name(kind: str) -> str:
    return KIND[kind].name


# --------------------------------------------------------------------------------------- axes and numbers


def test_step_axes_are_whole_steps():
    """An issue seen: the clamp comparison's step axis read 0, 0.5, 1, 1.5."""
    _model, free = make("gru")
    h = free.layer().h[:, 0]
    for steps in (2, 3, 40):
        fig = cell.ablation_figure(h[:steps], h[:steps] * 0.5, 1, 0, "z = 1")
        for ax in (fig.layout.xaxis, fig.layout.xaxis2):
            assert ax.dtick >= 1 and float(ax.dtick).is_integer() and ax.tickformat == "d"
    for first, last in [(0, 1), (0, 4), (3, 17), (0, 4999)]:
        ticks = style.step_ticks(first, last)
        assert ticks["dtick"] >= 1 and isinstance(ticks["dtick"], int)
        assert (last - first) / ticks["dtick"] <= 8


def test_log_axes_have_decade_or_one_two_five_ticks():
    """An issue seen: log axes labelled '3 4 5 … 9 1 2' (the digits of minor ticks) over a short span."""
    # the last: a gradient that vanished to a subnormal (Gradient flow at 5,000 steps), where 10.0**-324 is 0
    for values in ([0.0031, 0.0094], [2e-9, 3e4], [0.4, 1.7], [1e-300, 1e300], [5e-324, 1e-320, 0.5]):
        ticks = style.log_ticks(values)
        assert ticks["type"] == "log" and len(ticks["tickvals"]) <= 8
        for v, text in zip(ticks["tickvals"], ticks["ticktext"], strict=True):
            mantissa = v / 10 ** np.floor(np.log10(v) + 1e-9)
            assert round(mantissa, 6) in (1.0, 2.0, 5.0), v
            assert re.fullmatch(r"[0-9.]+|([25]·)?10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+", text), text
        assert ticks["tickvals"][0] <= min(values) * 1.0000001 or len(ticks["tickvals"]) > 1
    grads = {"weight_ih_l0": np.array([3.0, 4.0]), "weight_hh_l0": np.array([0.06])}
    clipped = {k: v * 0.2 for k, v in grads.items()}
    fig = flow.clip_bars_figure(grads, clipped)
    assert not any(tr.type == "bar" for tr in fig.data), "markers, not bars from an arbitrary floor"
    assert fig.layout.yaxis.tickmode == "array" and fig.layout.yaxis.type == "log"
    before = next(tr for tr in fig.data if tr.name == "before clipping")
    assert list(before.y) == pytest.approx([5.0, 0.06])


def test_unit_bars_leave_room_for_their_labels():
    """An issue seen: the bars' "unit" title sat on tick 4 and the r/z row labels were clipped."""
    _, trace = make("gru")
    for present in (False, True):
        bars = cell.unit_bars_spec(trace, 1, 0, present=present)
        layout = bars["layout"]
        size = style.font(present)
        title = layout[f"xaxis{len(bars['data'])}"]["title"]
        assert title["text"] == "unit" and title["standoff"] >= 8
        for a in layout["annotations"]:
            assert a["xanchor"] == "right" and -a["xshift"] >= 2.5 * size
            assert layout["margin"]["l"] >= -a["xshift"] + 1.5 * size, "the row letter fits in the margin"


def test_numbers_are_rounded_for_people():
    assert format_value(1.22e-16) == "0.000" and format_value(-3e-9) == "0.000"
    assert format_value(4.54e-05) == "0.00005" and format_value(-0.00031) == "-0.0003"
    assert format_value(0.41823) == "0.418" and format_value(12345.6) == "1.23e+04"
    sine = generate("sine", 40, 0)
    assert sine.labels[10] == "0" and sine.labels[20] == "0", "sin(π·k) is 0 for people, not 1.22e-16"
    assert sine.labels[5] == "1" and sine.labels[1] == "0.309"
    assert parse_sequence("0.00005, 1", "numbers").labels == ("0.00005", "1")
