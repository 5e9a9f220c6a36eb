"""The Step-through figures and equations draw the trace's own numbers.

For every cell kind of the registry and GRU variant: the wire labels of the circuit, the per-unit bars, the
playback frames and the ablation curves are compared with the trace; the substituted numbers of the equations are
parsed back and compared with the trace, and their input/recurrent parts with a recomputation from the weights.
"""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest

from gru_viz.app import step as stepview
from gru_viz.core.kinds import DEFAULT_VARIANT, KIND, KINDS
from gru_viz.core.model import Model
from gru_viz.core.params import init_params
from gru_viz.core.presets import PRESETS
from gru_viz.core.spec import GRU_VARIANTS, Spec
from gru_viz.core.trace import Ablation
from gru_viz.explain.equations import format_value, parse_value, step_equations, tex_number
from gru_viz.explain.palette import COLORS
from gru_viz.figures import cell

CASES = [(k, v) for k in KINDS for v in (GRU_VARIANTS if k == "gru" else (DEFAULT_VARIANT,))]
IDS = [f"{k}-{v}" for k, v in CASES]
T, I, H = 12, 2, 5


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def g(v):
    """minGRU's (and minLSTM's) positive candidate, written out again: v + ½ from 0 on, σ(v) below."""
    return np.where(v >= 0, v + 0.5, sigmoid(v))


def make(kind: str, variant: str = "torch", ablations=(), seed: int = 3, h0: bool = True):
    """A model with weights large enough to move the gates, a random input and (for most) a random h0."""
    spec = Spec(kind, I, H, variant=variant)
    params = {k: 2.0 * v for k, v in init_params(spec, seed).items()}
    model = Model(spec, params)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, I))
    init = None
    if h0:
        init = rng.uniform(-1, 1, (1, H))
        if "c" in KIND[kind].state:
            init = (init, rng.uniform(-1, 1, (1, H)))
    return model, model.run(x, init, ablations)


@pytest.fixture(params=CASES, ids=IDS)
def case(request):
    kind, variant = request.param
    model, trace = make(kind, variant)
    return kind, variant, model, trace


# ------------------------------------------------------------------------------------------- wire values


def expected_values(trace, t: int, u: int) -> dict[str, float]:
    """Every wire value recomputed from the trace arrays and the equations."""
    lt = trace.layer(0)
    hp = lt.h_prev()[t, 0, u]
    out = {"h_prev": hp, "h": lt.h[t, 0, u], "x": np.abs(lt.x[t, 0]).max()}
    out.update(EXPECTED[trace.spec.kind](trace.spec, lt, t, u, hp))
    return out


def _rnn_expected(s, lt, t, u, hp):
    return {"pre": lt.pre["h"][t, 0, u]}


def _lstm_expected(s, lt, t, u, hp):
    i, f, g_, o, c = (lt.gates[k][t, 0, u] for k in "ifgoc")
    cp = lt.c_prev()[t, 0, u]
    return dict(c_prev=cp, i=i, f=f, g=g_, o=o, c=c, f_c=f * cp, i_g=i * g_, tanh_c=np.tanh(c))


def _z_expected(s, lt, t, u, hp):
    z, n = lt.gates["z"][t, 0, u], lt.gates["n"][t, 0, u]
    keeps = s.kind == "gru" and s.gru_variant.z_keeps  # minGRU's z takes, as the "z takes" GRUs' does
    out = dict(z=z, n=n, one_minus_z=1 - z)
    out.update({"keep": z * hp, "write": (1 - z) * n} if keeps else {"keep": (1 - z) * hp, "write": z * n})
    if s.kind == "gru":
        r, hn = lt.gates["r"][t, 0, u], lt.pre["hn"][t, 0, u]
        out.update(r=r, hn=hn)
        out.update({"r_hn": r * hn} if s.gru_variant.reset_after else {"r_h": r * hp})
    return out


def _minlstm_expected(s, lt, t, u, hp):
    """From the pre-activations: f = σ(k_f), i = σ(k_i), n = g(k_n), f′ = f / (f + i), i′ = i / (f + i)."""
    f, i, n = sigmoid(lt.pre["f"][t, 0, u]), sigmoid(lt.pre["i"][t, 0, u]), g(lt.pre["n"][t, 0, u])
    f_n, i_n = f / (f + i), i / (f + i)
    return {"f": f, "i": i, "n": n, "f_plus_i": f + i, "f'": f_n, "i'": i_n, "keep": f_n * hp, "write": i_n * n}


EXPECTED = {"gru": _z_expected, "mingru": _z_expected, "lstm": _lstm_expected, "rnn": _rnn_expected,
            "minlstm": _minlstm_expected}


def test_every_kind_has_its_expected_values():
    assert set(EXPECTED) == set(KINDS)


@pytest.mark.parametrize(("t", "u"), [(0, 0), (5, 2), (T - 1, H - 1)])
def test_step_values_equal_the_trace(case, t, u):
    _, _, _, trace = case
    values = cell.step_values(trace, t, u)
    expected = expected_values(trace, t, u)
    assert set(values) == set(expected)
    for key, value in expected.items():
        # minLSTM's f′ and i′ come from log σ in the core: they agree with f / (f + i) to round-off, not bit for bit
        assert values[key] == pytest.approx(float(value), abs=1e-15, rel=1e-12), key


def test_wire_values_add_up_to_the_cell(case):
    """The wires show the cell's own arithmetic: the products on the + node make h_t (c_t for an LSTM)."""
    kind, _, _, trace = case
    for t in range(T):
        for u in range(H):
            v = cell.step_values(trace, t, u)
            ADD_UP[kind](v)


def _parts_add_up(v):
    assert v["keep"] + v["write"] == pytest.approx(v["h"], abs=1e-12)


def _lstm_adds_up(v):
    assert v["f_c"] + v["i_g"] == pytest.approx(v["c"], abs=1e-12)
    assert v["o"] * v["tanh_c"] == pytest.approx(v["h"], abs=1e-12)


def _rnn_adds_up(v):
    assert math.tanh(v["pre"]) == pytest.approx(v["h"], abs=1e-12)


def _minlstm_adds_up(v):
    _parts_add_up(v)
    assert v["f'"] + v["i'"] == pytest.approx(1.0, abs=1e-15)
    assert v["f'"] * v["f_plus_i"] == pytest.approx(v["f"], abs=1e-12)


ADD_UP = {"gru": _parts_add_up, "mingru": _parts_add_up, "lstm": _lstm_adds_up, "rnn": _rnn_adds_up,
          "minlstm": _minlstm_adds_up}


@pytest.mark.parametrize(("t", "u"), [(0, 0), (7, 3)])
def test_diagram_labels_show_the_trace(case, t, u):
    kind, variant, _, trace = case
    fig = cell.cell_figure(trace, t, u, "x-label")
    drawn = cell.label_values(fig)
    values = cell.step_values(trace, t, u)
    wire_keys = {w.key for w in cell.diagram(kind, variant).wires if w.key}
    assert set(drawn) == wire_keys
    assert wire_keys - {"x"} <= set(values), "every labelled wire has a value"
    assert drawn["x"] == "x-label"
    for key in wire_keys - {"x"}:
        assert drawn[key] == cell.value_text(values[key]), key
        assert parse_value(drawn[key]) == pytest.approx(values[key], abs=5e-4 + 5e-3 * abs(values[key]))


def test_diagram_hides_the_step_while_predicting(case):
    _, _, _, trace = case
    drawn = cell.label_values(cell.cell_figure(trace, 4, 1, "1", predict=True))
    values = cell.step_values(trace, 4, 1)
    for key, text in drawn.items():
        if key in cell.GIVEN:
            assert text == ("1" if key == "x" else cell.value_text(values[key]))
        else:
            assert text == cell.HIDDEN, key


def test_diagram_is_drawn_in_the_palette(case):
    kind, variant, _, trace = case
    d = cell.diagram(kind, variant)
    gates = {"gru": "rzn", "lstm": "ifgoc", "rnn": "h", "mingru": "zn", "minlstm": "fin"}[kind]
    box_colors = {n.color for n in d.nodes if n.kind == "box"}
    assert {COLORS[g] for g in gates if g not in "hc"} <= box_colors | {COLORS["c"]}
    for w in d.wires:
        if w.key in COLORS:
            assert w.color == COLORS[w.key], w.key
    fig = cell.cell_figure(trace, 0, 0, "0", present=True)
    small = cell.cell_figure(trace, 0, 0, "0")
    assert fig.layout.font.size > small.layout.font.size


def test_nan_free_labels_for_every_step_and_unit(case):
    _, _, _, trace = case
    for t in range(T):
        for u in range(H):
            for text in cell.label_values(cell.cell_figure(trace, t, u, "x")).values():
                assert "nan" not in text.lower()


def test_clamped_gate_shows_the_clamp():
    _, trace = make("gru", ablations=(Ablation("z", 1.0),))
    drawn = cell.label_values(cell.cell_figure(trace, 3, 0, "x"))
    assert drawn["z"] == "1.000"
    assert drawn["h"] == cell.value_text(trace.layer(0).h_prev()[3, 0, 0])  # z = 1 keeps h_{t−1}


def test_minlstm_clamps_show_on_the_wires():
    """i = 0 makes f′ = f / f = 1 and i′ = 0 (h stays at h_{t−1}); f = 0 makes f′ = 0 and i′ = 1 (h is n)."""
    _, trace = make("minlstm", ablations=(Ablation("i", 0.0),))
    drawn = cell.label_values(cell.cell_figure(trace, 3, 0, "x"))
    assert (drawn["i"], drawn["f'"], drawn["i'"]) == ("0.000", "1.000", "0.000")
    assert drawn["h"] == drawn["h_prev"] == cell.value_text(trace.layer(0).h_prev()[3, 0, 0])
    _, trace = make("minlstm", ablations=(Ablation("f", 0.0),))
    drawn = cell.label_values(cell.cell_figure(trace, 3, 0, "x"))
    assert (drawn["f"], drawn["f'"], drawn["i'"]) == ("0.000", "0.000", "1.000")
    assert drawn["h"] == drawn["n"] == cell.value_text(trace.layer(0).gates["n"][3, 0, 0])


def test_latch_preset_spike():
    model = PRESETS["latch"].model()
    trace = model.run(np.array([[0.0], [0.0], [1.0], [0.0]]))
    drawn = cell.label_values(cell.cell_figure(trace, 2, 0, "1"))
    assert drawn["z"] == "0.00005"  # σ(−10) = 4.54e-05: its first digit, so that it does not read as 0
    assert drawn["h"] == "1.000"


# ----------------------------------------------------------------------------------------------- bars


@pytest.mark.parametrize("t", [0, 6])
def test_unit_bars_are_the_trace(case, t):
    _, _, _, trace = case
    lt = trace.layer(0)
    fig = cell.unit_bars(trace, t, 2)
    names = cell.unit_quantities(trace.spec)
    assert len(fig.data) == len(names)
    for bar, name in zip(fig.data, names, strict=True):
        want = lt.h[t, 0] if name == "h" else lt.gates[name][t, 0]
        np.testing.assert_array_equal(np.asarray(bar.y), want)
        np.testing.assert_array_equal(np.asarray(bar.x), np.arange(H))
        assert bar.marker.color == COLORS[name]
        opacity = np.asarray(bar.marker.opacity)
        assert opacity[2] == 1.0 and np.all(np.delete(opacity, 2) < 1.0)


def test_unit_bars_while_predicting_show_only_h_prev(case):
    _, _, _, trace = case
    fig = cell.unit_bars(trace, 5, 0, predict=True)
    assert len(fig.data) == 1
    np.testing.assert_array_equal(np.asarray(fig.data[0].y), trace.layer(0).h_prev()[5, 0])


# ------------------------------------------------------------------------------------------- at 512 units


@pytest.fixture(scope="module", params=KINDS)
def wide(request):
    """A 512-unit cell of every kind on 6 steps of 3 random inputs."""
    spec = Spec(request.param, 3, 512)
    return Model(spec, init_params(spec, 1)).run(np.random.default_rng(0).standard_normal((6, 3)))


def test_moved_units_are_the_top_k_of_their_measure(wide):
    lt, t = wide.layer(0), 4
    rankings = cell.moved_units(wide, t)
    by = {r.key: r for r in rankings}
    kind = KIND[wide.spec.kind]
    assert set(by) == {"dh"} | ({"replaced"} if kind.keep_share else set()) | ({"reset"} if "r" in kind.sigmoid
                                                                                 else set())
    want = {"dh": np.abs(lt.h[t, 0] - lt.h[t - 1, 0])}
    if kind.keep_share:
        want["replaced"] = 1 - kind.keep_share(wide.spec, lt.gates)[t, 0]
    if "reset" in by:
        want["reset"] = 1 - lt.gates["r"][t, 0]
    for key, values in want.items():
        r = by[key]
        assert len(r.units) == cell.TOP_UNITS == len(set(r.units))
        np.testing.assert_array_equal(r.values, values[list(r.units)])
        assert list(r.values) == sorted(r.values, reverse=True)
        assert min(r.values) >= np.delete(values, list(r.units)).max()  # no unit left out beats one shown
    assert cell.moved_units(wide, t, predict=True) == []


def test_at_512_units_the_bars_show_the_units_that_moved_and_the_selected_one(wide):
    t, unit = 4, 300
    shown = cell.bar_units(wide, t, unit)
    moved = {u for r in cell.moved_units(wide, t) for u in r.units}
    assert set(shown) == moved | {unit} and list(shown) == sorted(shown) and len(shown) <= 3 * cell.TOP_UNITS + 1
    spec = cell.unit_bars_spec(wide, t, unit)
    go.Figure(spec)  # a valid figure
    lt = wide.layer(0)
    for bar in spec["data"]:
        assert [u for _, u in bar["customdata"]] == list(shown)  # a click reads the real unit
        assert list(bar["x"]) == list(range(len(shown)))
        name = bar["meta"]
        np.testing.assert_array_equal(bar["y"], (lt.h if name == "h" else lt.gates[name])[t, 0, shown])
        assert bar["marker"]["opacity"][list(shown).index(unit)] == 1.0
    bottom = spec["layout"][f"xaxis{len(spec['data'])}" if len(spec["data"]) > 1 else "xaxis"]
    assert bottom["ticktext"] == [str(u) for u in shown]
    assert bottom["title"]["text"] == f"unit ({len(shown)} of 512 shown)"
    predicting = cell.bar_units(wide, t, 510, predict=True)  # nothing of step t decides what is shown
    assert list(predicting) == list(range(504, 512))


def test_the_moved_most_panel_is_clickable_units(wide):
    t, unit = 3, 7
    spec = cell.top_units_spec(wide, t, unit)
    go.Figure(spec)
    rankings = cell.moved_units(wide, t)
    assert [b["meta"] for b in spec["data"]] == [r.key for r in rankings]
    for bar, r in zip(spec["data"], rankings, strict=True):
        assert bar["customdata"] == list(r.units) and bar["y"] == [str(u) for u in r.units]
        assert bar["text"] == [f"{v:.2g}" for v in r.values]
        widths = bar["marker"]["line"]["width"]
        assert all((w > 0) == (u == unit) for w, u in zip(widths, r.units, strict=True))


def test_a_small_layer_keeps_every_bar(case):
    _, _, _, trace = case
    assert list(cell.bar_units(trace, 3, 1)) == list(range(H))


# ------------------------------------------------------------------------------------------- playback


def test_playback_frames_are_the_trace(case):
    kind, variant, _, trace = case
    labels = [f"x{s}" for s in range(T)]
    fig = cell.playback_figure(trace, 4, 1, labels)
    assert [f.name for f in fig.frames] == [str(s) for s in range(T)]
    assert fig.layout.sliders[0].active == 4
    assert [s.label for s in fig.layout.sliders[0].steps] == [str(s) for s in range(T)]
    d = cell.diagram(kind, variant)
    wires = d.labelled
    h = trace.layer(0).h[:, 0, 1]
    for frame in fig.frames:
        s = int(frame.name)
        values = cell.step_values(trace, s, 1)
        *flows_and_boxes, text, marker = frame.data
        for w, shown in zip(wires, text.text, strict=False):
            want = f"x{s}" if w.key == "x" else cell.value_text(values[w.key])
            assert shown.endswith(want), (s, w.key, shown)
        assert text.text[-1].startswith(f"<b>t = {s}</b>")
        assert list(marker.x) == [s] and list(marker.y) == [h[s]]
        # the animation draws the same flow as the step's own circuit: widths, opacities and box fills
        flows = flows_and_boxes[: len(d.wires)]
        for w, f in zip(d.wires, flows, strict=True):
            assert f.line.width == pytest.approx(cell.wire_width(values[w.value_key], w.value_key)), (s, w.key)
            assert f.opacity == pytest.approx(cell.wire_opacity(values[w.value_key], w.value_key))
        frame_traces = [fig.data[i] for i in frame.traces[:-1]]
        assert [t.meta for t in frame_traces[: len(d.wires)]] == [f"flow:{w.value_key}" for w in d.wires]
    # the first drawn state is the cursor's step, and the h curve is the unit's
    np.testing.assert_array_equal(np.asarray(fig.data[-2].y), h)
    play = fig.layout.updatemenus[0].buttons[0]
    assert play.args[0][0] == "4" and play.args[1]["fromcurrent"] is True
    low, high = fig.layout.yaxis2.range
    assert low <= h.min() and high >= h.max() and high - low < 1.3 * (h.max() - h.min()) + 0.01, "h fills its strip"


def test_playback_decimates_long_runs():
    steps = cell.playback_steps(1000, 517)
    assert len(steps) <= 302
    assert 517 in steps and 0 in steps and 999 in steps
    assert cell.playback_steps(300, 5) == list(range(300))
    spec = Spec("gru", 1, 2)
    trace = Model(spec, init_params(spec, 0)).run(np.sin(np.arange(700.0))[:, None])
    fig = cell.playback_figure(trace, 699, 0, [str(s) for s in range(700)])
    assert len(fig.frames) == len(cell.playback_steps(700, 699)) < 700
    assert fig.layout.updatemenus[0].buttons[0].args[0][0] == "0"  # at the end ▶ starts over


# ------------------------------------------------------------------------------------------- ablation


def test_ablation_figure_draws_both_runs():
    model, free = make("gru")
    clamped = model.run(free.layer(0).x[:, 0], free.layer(0).h0, (Ablation("z", 1.0),))
    h_free, h_clamped = free.layer(0).h[:, 0], clamped.layer(0).h[:, 0]
    fig = cell.ablation_figure(h_free, h_clamped, 3, 5, "z = 1")
    original, changed, diff = fig.data
    np.testing.assert_array_equal(np.asarray(original.y), h_free[:, 3])
    np.testing.assert_array_equal(np.asarray(changed.y), h_clamped[:, 3])
    np.testing.assert_allclose(np.asarray(diff.y), h_clamped[:, 3] - h_free[:, 3])
    assert "z = 1" in changed.name
    assert np.abs(np.asarray(diff.y)).max() > 0.01  # z = 1 freezes h: the runs differ
    np.testing.assert_allclose(h_clamped, np.broadcast_to(free.layer(0).h0[0], h_clamped.shape))


# ------------------------------------------------------------------------------------------- equations

NUMBER = re.compile(r"-?\d+\.\d+(?:\\times10\^\{-?\d+\})?")


def bold(latex: str) -> str:
    return re.search(r"\\mathbf\{([^}]*\}?)\}", latex).group(1)


def test_equations_values_are_the_trace(case):
    kind, _, _, trace = case
    lt = trace.layer(0)
    for t, u in [(0, 0), (6, 4), (T - 1, 2)]:
        lines = step_equations(case[2], trace, t, u)
        names = [line.name for line in lines]
        assert names == {"gru": ["r", "z", "n", "h"], "lstm": ["i", "f", "g", "o", "c", "h"], "rnn": ["h"],
                         "mingru": ["z", "n", "h"], "minlstm": ["f", "i", "n", "f'", "i'", "h"]}[kind]
        for line in lines:
            want = lt.h[t, 0, u] if line.name == "h" else lt.gates[line.name][t, 0, u]
            assert line.value == want
            shown = bold(line.numeric)
            assert shown == tex_number(want)
            assert parse_value(shown) == pytest.approx(want, abs=5e-4 + 5e-3 * abs(want))
            # every substituted number is printed, in the order the formula uses them
            printed = [parse_value(m) for m in NUMBER.findall(line.numeric)]
            assert printed, line.numeric
            for value in line.numbers.values():
                if not math.isnan(value):
                    assert tex_number(value) in line.numeric.replace("(-", "-"), (line.name, value)
            assert printed[-1] == parse_value(tex_number(want))


def test_equation_parts_recomputed_from_the_weights(case):
    """The input and recurrent parts printed inside σ(…) are W·x + b and W·h + b of the model's weights."""
    kind, _, model, trace = case
    lt = trace.layer(0)
    p = model.layer_params(0)
    t, u = 5, 3
    x, hp = lt.x[t, 0], lt.h_prev()[t, 0]
    for line in step_equations(model, trace, t, u):
        if "x_part" not in line.numbers:
            continue
        gate = model.spec.gates.index(line.name) if line.name in model.spec.gates else 0
        row = gate * H + u
        assert line.numbers["x_part"] == pytest.approx(p.w_ih[row] @ x + p.b_ih[row], abs=1e-12)
        if "h_part" in line.numbers:
            assert line.numbers["h_part"] == pytest.approx(p.w_hh[row] @ hp + p.b_hh[row], abs=1e-12)
            assert line.numbers["x_part"] + line.numbers["h_part"] == pytest.approx(line.numbers["pre"], abs=1e-12)
        if kind == "gru" and line.name in "rz":
            assert line.value == pytest.approx(sigmoid(line.numbers["pre"]), abs=1e-12)
        if kind == "gru" and line.name == "n":
            r = line.numbers.get("r", 1.0)  # reset before: r is inside hn = W_hn(r ⊙ h) + b_hn
            inner = line.numbers["x_part"] + r * line.numbers["hn"]
            assert math.tanh(inner) == pytest.approx(line.value, abs=1e-12)
    if kind == "minlstm":  # f, i through σ and n through g of the input part alone; f′, i′ from the f and i shown
        f, i, n, f_n, i_n, h = step_equations(model, trace, t, u)
        assert (f.value, i.value) == pytest.approx((sigmoid(f.numbers["x_part"]), sigmoid(i.numbers["x_part"])))
        assert n.value == pytest.approx(g(n.numbers["x_part"]), abs=1e-12)
        assert f_n.numbers["f"] == f.value and f_n.numbers["i"] == i.value
        assert f_n.value == pytest.approx(f.value / (f.value + i.value), abs=1e-12)
        assert i_n.value == pytest.approx(i.value / (f.value + i.value), abs=1e-12)
        assert h.numbers["h_prev_weight"] == f_n.value and h.numbers["n_weight"] == i_n.value


def test_equations_of_each_variant_differ():
    symbols = {}
    for variant in GRU_VARIANTS:
        model, trace = make("gru", variant)
        lines = step_equations(model, trace, 2, 0)
        symbols[variant] = (lines[2].symbolic, lines[3].symbolic)
        h = lines[3]
        z = h.numbers["n_weight"] if "n_weight" in h.numbers else h.numbers["h_prev_weight"]
        assert z == lines[1].value
    assert len({s[0] for s in symbols.values()}) == 2  # reset before / after
    assert len({s[1] for s in symbols.values()}) == 2  # z keeps / takes
    assert r"r_t \odot (W_{hn}h_{t-1} + b_{hn})" in symbols["torch"][0]
    assert r"(1 - z_t) \odot h_{t-1} + z_t \odot n_t" == symbols["z-takes"][1]


def test_clamped_equation_says_so():
    model, trace = make("lstm", ablations=(Ablation("f", 1.0),))
    f = step_equations(model, trace, 4, 1)[1]
    assert f.name == "f" and f.clamped and f.value == 1.0
    assert r"\text{clamped to }" in f.numeric and bold(f.numeric) == "1.000"
    assert f.numbers["free"] == pytest.approx(sigmoid(f.numbers["pre"]), abs=1e-12)


def test_equations_hide_numbers_and_colour_the_quantity():
    model, trace = make("gru")
    z = step_equations(model, trace, 0, 0)[1]
    assert "=" in z.latex() and r"\mathbf" in z.latex()
    assert r"\mathbf" not in z.latex(numbers=False)
    assert COLORS["z"] in z.latex()


def test_format_value_round_trips():
    for v in (0.0, 1.0, -0.5, 0.41823, 4.54e-5, -3.2e-7, 12345.6, 999.9994, -0.0):
        text = format_value(v)
        assert "nan" not in text
        assert parse_value(text) == pytest.approx(v, rel=5e-3, abs=5e-4)
        assert parse_value(tex_number(v)) == parse_value(text)
    assert format_value(-0.0) == "0.000"
    assert tex_number(-0.5, wrap_negative=True) == "(-0.500)"


# ------------------------------------------------------------------------------------------- stepview


TABLE_KINDS = KINDS  # the weight table (gru_viz/app/step.py) of every kind, W_hh or not


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_weight_table_round_trip_and_edit(kind):
    model = Model(Spec(kind, 2, 2), init_params(Spec(kind, 2, 2), 1))
    table = stepview.weight_table(model)
    assert table.shape[0] == len(model.spec.gates) * 2
    again = stepview.model_from_table(model, table)
    for key, value in model.params.items():
        np.testing.assert_array_equal(again.params[key], value)
    edited = stepview.apply_edits(table, {"edited_rows": {1: {"W·x[0]": 3.5}, "0": {"b_i": None}}})
    changed = stepview.model_from_table(model, edited)
    w_ih = next(k for k in model.params if k.startswith("weight_ih"))
    assert changed.params[w_ih][1, 0] == 3.5
    b_ih = next(k for k in model.params if k.startswith("bias_ih"))
    assert changed.params[b_ih][0] == model.params[b_ih][0]  # an emptied cell keeps its value
    with pytest.raises(ValueError, match="within"):
        stepview.model_from_table(model, stepview.apply_edits(table, {"edited_rows": {0: {"W·x[0]": 1e9}}}))


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_weight_table_names_what_each_weight_multiplies(kind):
    """One name per concept: no column is called like the initial state h₀; "W·h[k]" holds the weights on unit k
    of the previous state, "W·x[k]" those on input value k, row "z[1]" is unit 1's z (torch's row order)."""
    spec = Spec(kind, 3, 2)
    model = Model(spec, init_params(spec, 4))
    table = stepview.weight_table(model)
    assert not any(re.fullmatch(r"[hx]\d+", c) for c in table.columns)
    gates, H = spec.gates, 2
    for g, gate in enumerate(gates):
        for unit in range(H):
            row = table.loc[f"{gate}[{unit}]"]
            for k in range(3):
                assert row[f"W·x[{k}]"] == model.params["weight_ih_l0"][g * H + unit, k]
            for k in range(H if KIND[kind].recurrent else 0):
                assert row[f"W·h[{k}]"] == model.params["weight_hh_l0"][g * H + unit, k]
            assert row["b_i"] == model.params["bias_ih_l0"][g * H + unit]


def test_not_editable_reasons():
    assert stepview.not_editable(PRESETS["latch"].model()) is None
    big = Model(Spec("gru", 1, 3), init_params(Spec("gru", 1, 3), 0))
    assert "H ≤ 2" in stepview.not_editable(big)
    wide = Model(Spec("gru", 20, 1), init_params(Spec("gru", 20, 1), 0))
    assert "inputs" in stepview.not_editable(wide)


def test_sequence_window_and_labels():
    assert list(stepview.window(100, 0, 25)) == list(range(25))
    assert list(stepview.window(100, 99, 25)) == list(range(75, 100))
    assert 50 in stepview.window(100, 50, 25)
    assert list(stepview.window(3, 2, 25)) == [0, 1, 2]
    from gru_viz.core.sequences import parse_sequence

    assert stepview.x_label(parse_sequence("ab c", "text"), 2) == "'␣'"
    assert stepview.x_label(parse_sequence("0.5 0; 1 2", "numbers"), 1) == "[1, 2]"
    assert stepview.x_label(parse_sequence("0.5, 2", "numbers"), 0) == "0.5"


def test_score():
    s = stepview.score({"z": 0.5, "r": 0.9}, {"z": 0.45, "r": 0.1})
    assert s.errors == pytest.approx({"z": 0.05, "r": 0.8})
    assert s.mean == pytest.approx(0.425) and s.verdict == "off this time"
    assert stepview.score({"z": 0.5}, {"z": 0.52}).verdict == "spot on"
    # the verdict follows the error, and a value not guessed is neither scored nor praised
    words = [stepview.score({"z": 0.5 + e}, {"z": 0.5}).verdict for e in (0.0, 0.04, 0.1, 0.2, 0.45)]
    assert words == ["spot on", "spot on", "close", "some way off", "off this time"]
    none = stepview.score({}, {"z": 0.3, "r": 0.9})
    assert none.verdict == "no guess" and not none.guessed and none.skipped == ("z", "r")
    part = stepview.score({"z": 0.3, "r": None}, {"z": 0.3, "r": 0.9})
    assert part.errors == {"z": 0.0} and part.skipped == ("r",) and part.verdict == "spot on"
    _, trace = make("gru")
    truths = stepview.true_values(trace, 3, 1, ("z", "r"))
    assert truths["z"] == trace.layer(0).gates["z"][3, 0, 1]


def test_specs_are_valid_plotly(case):
    """The page draws the plain specs unvalidated (a step change stays fast); Plotly's validation of the same spec
    must accept every property of every combination the page can ask for."""
    _, _, _, trace = case
    for present in (False, True):
        for predict in (False, True):
            sel = "h" if predict else "z" if "z" in cell.selectable(trace.spec) else "h"
            spec = cell.cell_spec(trace, 3, 1, "a", present=present, predict=predict, selected=sel)
            assert len(go.Figure(spec).data) == len(spec["data"])
            bars = cell.unit_bars_spec(trace, 3, 1, present=present, predict=predict, selected=sel)
            assert len(go.Figure(bars).data) == len(bars["data"])
    spec = cell.playback_spec(trace, 2, 0, [str(s) for s in range(T)])
    assert len(go.Figure(spec).frames) == T


@pytest.mark.parametrize("width", [256, 512])
def test_the_step_input_of_a_wide_one_hot_sequence_is_its_symbol(width):
    from gru_viz.core.sequences import Sequence

    alphabet = tuple(f"w{k}" for k in range(width))
    seq = Sequence(np.eye(width)[[5, width - 1]], ("w5", f"w{width - 1}"), alphabet=alphabet)
    assert [stepview.x_label(seq, t) for t in range(2)] == ["'w5'", f"'w{width - 1}'"]
    numbers = Sequence(np.eye(width)[[5, 6]], ("t0", "t1"))  # numbers without symbols: not 256 numbers
    assert stepview.x_label(numbers, 0) == f"({width} values)"
