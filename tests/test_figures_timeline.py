"""The timeline figures draw exactly the trace: heatmap z against the trace arrays, decimation and the PCA
against hand-computed cases, and one shared time axis."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest

from gru_viz.core.kinds import KINDS
from gru_viz.core.sequences import parse_sequence
from gru_viz.explain import palette
from gru_viz.figures import timeline as tl
from gru_viz.serve import state

EXPECTED = {  # what each kind's trace holds, straight from the LayerTrace, (T, units)
    "gru": lambda lt: {"r": lt.gates["r"], "z": lt.gates["z"], "n": lt.gates["n"], "h": lt.h},
    "lstm": lambda lt: {k: lt.gates[k] for k in "ifgoc"} | {"h": lt.h},
    "mingru": lambda lt: {"z": lt.gates["z"], "n": lt.gates["n"], "h": lt.h},
    "rnn": lambda lt: {"pre_h": lt.pre["h"], "h": lt.h},
    # minLSTM: its gates, then the shares that mix h = f′ ⊙ h + i′ ⊙ n (f and i alone do not say what is kept)
    "minlstm": lambda lt: {k: lt.gates[k] for k in ("f", "i", "n", "f'", "i'")} | {"h": lt.h},
}


def test_every_kind_has_its_expected_rows():
    assert set(EXPECTED) == set(KINDS)


def scene(**changes):
    return state.build_scene(state.Config(**changes))


def heatmaps(fig: go.Figure) -> list[go.Heatmap]:
    return [tr for tr in fig.data if isinstance(tr, go.Heatmap)]


@pytest.mark.parametrize("kind", KINDS)
def test_heatmaps_equal_the_trace(kind):
    sc = scene(cell=kind, hidden=3, steps=25)
    lt = sc.trace.layer()
    fig = tl.timeline_figure(sc.seq, lt, kind)
    expected = EXPECTED[kind](lt)
    heats = heatmaps(fig)
    assert len(heats) == len(expected)  # the input is a line (one value per step): no input heatmap
    for heat, (name, values) in zip(heats, expected.items(), strict=True):
        assert heat.name == tl.NAMES[name]
        np.testing.assert_array_equal(np.asarray(heat.z), values[:, 0, :].T)  # units × time
        own = "h" if name == "pre_h" else name  # an RNN's pre-activation is drawn in h's colour
        assert heat.colorscale == go.Heatmap(colorscale=palette.colorscale(own)).colorscale
        assert heat.colorscale[-1][1] == palette.COLORS[own], "a ramp of the quantity's own colour"
        if name in tl.GATES_01:
            assert (heat.zmin, heat.zmax) == (0.0, 1.0)
        else:
            assert heat.zmin == -heat.zmax and heat.zmax >= 1.0 and heat.zmid == 0.0
            assert heat.zmax >= np.abs(values).max()
    line = fig.data[0]
    np.testing.assert_array_equal(line.y, sc.seq.values[:, 0])
    np.testing.assert_array_equal(line.x, np.arange(sc.steps))


def test_hover_lists_every_quantity_of_the_unit_at_that_step():
    sc = scene(hidden=2, steps=6)
    lt = sc.trace.layer()
    heat = heatmaps(tl.timeline_figure(sc.seq, lt, "gru"))[1]  # z
    custom = np.asarray(heat.customdata)  # (units, T, 1 + 4 + 1): t, r, z, n, h, the real unit
    assert custom.shape == (2, 6, 6)
    t, u = 4, 1
    want = [t, lt.gates["r"][t, 0, u], lt.gates["z"][t, 0, u], lt.gates["n"][t, 0, u], lt.h[t, 0, u], u]
    np.testing.assert_allclose(custom[u, t], want, rtol=1e-6)  # float32 for the 4-decimal hover
    for name in "rznh":
        assert f"{name} = %{{customdata" in heat.hovertemplate


def test_aggregated_heatmaps_are_block_means_with_min_max_in_hover():
    sc = scene(hidden=3, steps=1000)
    lt = sc.trace.layer()
    fig = tl.timeline_figure(sc.seq, lt, "gru")
    b = tl.blocks(1000)
    assert b.aggregated and b.size == 4 and b.count == 250
    h = lt.h[:, 0, :]
    means = np.stack([h[s:e].mean(axis=0) for s, e in zip(b.starts, b.stops, strict=True)])
    heat = heatmaps(fig)[-1]
    np.testing.assert_allclose(np.asarray(heat.z), means.T, rtol=1e-12, atol=1e-15)
    custom = np.asarray(heat.customdata)
    np.testing.assert_allclose(custom[2, 10], [40, 43, h[40:44, 2].min(), h[40:44, 2].max(), 2], rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(heat.x), np.append(b.starts, 1000) - 0.5)  # cells span their steps
    assert "mean" in heat.hovertemplate and "min" in heat.hovertemplate


def test_block_reduce_by_hand():
    values = np.arange(10.0)[:, None] * np.array([[1.0, -1.0]])
    b = tl.blocks(10, max_columns=4)
    assert (b.size, b.starts.tolist(), b.stops.tolist()) == (3, [0, 3, 6, 9], [3, 6, 9, 10])
    np.testing.assert_array_equal(tl.block_reduce(values, b)[:, 0], [1, 4, 7, 9])
    np.testing.assert_array_equal(tl.block_reduce(values, b, "min")[:, 1], [-2, -5, -8, -9])
    np.testing.assert_array_equal(tl.block_reduce(values, b, "max")[:, 0], [2, 5, 8, 9])
    np.testing.assert_array_equal(b.centers, [1, 4, 7, 9])
    unaggregated = tl.blocks(10, max_columns=10)
    assert not unaggregated.aggregated
    assert tl.block_reduce(values, unaggregated) is values


def test_envelope_keeps_every_block_min_and_max_in_time_order():
    values = np.array([0.0, 5, -1, 2, 2, 2, 9, 0, 1, 3])
    t, v = tl.envelope(values, tl.blocks(10, max_columns=4))  # blocks [0,3) [3,6) [6,9) [9,10)
    assert t.tolist() == [1, 2, 3, 6, 7, 9]  # block 2's min and max are both t=3 (first of equal values)
    np.testing.assert_array_equal(v, values[t])
    t, v = tl.envelope(values, tl.blocks(10, max_columns=10))
    np.testing.assert_array_equal(t, np.arange(10))


def test_pca_on_a_line_explains_everything():
    t = np.linspace(-1, 1, 7)
    direction = np.array([3.0, 0.0, -4.0]) / 5
    h = 0.2 + t[:, None] * direction  # points on a line in 3-D
    coords, ratio = tl.pca_2d(h)
    np.testing.assert_allclose(ratio, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(coords[:, 0]), np.abs(t), atol=1e-12)
    np.testing.assert_allclose(coords[:, 1], 0.0, atol=1e-12)
    # The sign is fixed by the largest loading (−4/5 → flipped positive): PC1 = −t.
    np.testing.assert_allclose(coords[:, 0], -t, atol=1e-12)


def test_pca_hand_computed_cross():
    h = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    coords, ratio = tl.pca_2d(h)
    np.testing.assert_allclose(ratio, [0.8, 0.2])  # variances 8/4 and 2/4 along x and y
    np.testing.assert_allclose(coords, h, atol=1e-12)


def test_pca_degenerate_cases():
    coords, ratio = tl.pca_2d(np.full((5, 3), 0.7))  # the state never moves
    assert not coords.any() and not ratio.any()
    coords, ratio = tl.pca_2d(np.array([[0.0], [1.0], [3.0]]))  # H = 1
    np.testing.assert_allclose(ratio, [1.0, 0.0])
    np.testing.assert_allclose(coords[:, 0], [-4 / 3, -1 / 3, 5 / 3])


def test_shared_time_axis():
    sc = scene(cell="lstm", hidden=2, steps=30)
    fig = tl.timeline_figure(sc.seq, sc.trace.layer(), "lstm", t=5)
    axes = [k for k in fig.layout if k.startswith("xaxis")]
    assert len(axes) == 7  # input + i f g o c h
    bottom = f"x{len(axes)}"
    for name in axes:
        axis = fig.layout[name]
        assert axis.matches in (None, bottom) and (axis.matches == bottom) == (name != "xaxis" + bottom[1:])
        assert tuple(axis.range) == (-0.5, 29.5)
    assert fig.layout.hovermode == "x"
    assert fig.layout.shapes[0].x0 == 5  # the step-through cursor
    # Each row's domain is stacked top to bottom without overlap.
    domains = [fig.layout["yaxis" + ("" if i == 1 else str(i))].domain for i in range(1, 8)]
    assert all(lower[1] < upper[0] for upper, lower in itertools.pairwise(domains))


def test_text_input_shows_characters():
    seq = parse_sequence("ab, a<", "text")
    sc = state.build_scene(state.Config(source="text", seq="ab, a<", hidden=2))
    assert sc.seq == seq
    fig = tl.timeline_figure(sc.seq, sc.trace.layer(), "gru")
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", ",", "␣", "a", "&lt;"]
    one_hot = heatmaps(fig)[0]
    np.testing.assert_array_equal(np.asarray(one_hot.z), sc.seq.values.T)
    assert sc.seq.alphabet == (" ", ",", "<", "a", "b")
    assert list(fig.layout.yaxis.ticktext) == ["␣", ",", "&lt;", "a", "b"]
    assert "%{text}" in heatmaps(fig)[1].hovertemplate


def test_picker_points_make_every_column_clickable():
    sc = scene(hidden=2, steps=700)
    fig = tl.timeline_figure(sc.seq, sc.trace.layer(), "gru")
    pickers = [tr for tr in fig.data if isinstance(tr, go.Scatter) and tr.hoverinfo == "none"]
    assert len(pickers) == 5  # the input row and the four quantities
    b = tl.blocks(700)
    for p in pickers:
        assert len(p.x) == b.count
        assert all(s <= x < e for x, s, e in zip(p.x, b.starts, b.stops, strict=True))


def test_step_from_selection():
    sel = {"selection": {"points": [{"x": 12, "y": 1.5, "curve_number": 3}], "point_indices": [12]}}
    assert tl.step_from_selection(sel, 40) == 12
    assert tl.step_from_selection({"selection": {"points": [{"x": 99.4}]}}, 40) == 39
    assert tl.step_from_selection({"selection": {"points": [{"x": -3}]}}, 40) == 0
    assert tl.step_from_selection({"selection": {"points": []}}, 40) is None
    assert tl.step_from_selection({"selection": {"points": [{"x": "a"}]}}, 40) is None
    assert tl.step_from_selection(None, 40) is None


def test_value_range_grows_for_unbounded_quantities():
    assert tl.value_range("z", np.array([3.0])) == (0.0, 1.0)
    assert tl.value_range("h", np.array([0.2, -0.5])) == (-1.0, 1.0)
    assert tl.value_range("c", np.array([0.2, -2.5])) == (-2.5, 2.5)


def unit_of(trace) -> int:
    return int(trace.name.removeprefix("unit "))


@pytest.mark.parametrize("units", [3, 32])
def test_units_figure_draws_each_unit_and_the_selected_one_stands_out(units):
    sc = scene(hidden=units, steps=50)
    h = sc.trace.layer().h[:, 0, :]
    chosen = 2
    fig = tl.units_figure(h, unit=chosen, t=7)
    assert sorted(unit_of(tr) for tr in fig.data) == list(range(units))
    assert unit_of(fig.data[-1]) == chosen, "the selected unit is drawn last, on top"
    for tr in fig.data:
        u = unit_of(tr)
        np.testing.assert_array_equal(tr.y, h[:, u])
        assert f"unit {u}" in tr.hovertemplate, "hover tells the units apart"
        if u == chosen:
            assert tr.line.color == palette.COLORS["h"] and tr.line.width == 3 and tr.opacity == 1.0
        else:  # the rest recede: thin, in the theme's neutral ink, faint
            assert tr.line.color == palette.INK_SOFT and tr.line.width < 1.5 and tr.opacity <= 0.55
    long = scene(hidden=2, steps=5000).trace.layer().h[:, 0, :]
    fig = tl.units_figure(long)
    assert all(len(tr.x) <= 2 * tl.MAX_LINE_BLOCKS for tr in fig.data)
    first = next(tr for tr in fig.data if unit_of(tr) == 0)
    assert first.y.max() == long[:, 0].max() and first.y.min() == long[:, 0].min()


def test_pca_figure_shows_explained_variance():
    sc = scene(hidden=4, steps=3000)
    h = sc.trace.layer().h[:, 0, :]
    coords, ratio = tl.pca_2d(h)
    fig = tl.pca_figure(h)
    assert f"{ratio[0]:.1%}" in fig.layout.xaxis.title.text and f"{ratio[1]:.1%}" in fig.layout.yaxis.title.text
    points = fig.data[1]
    assert len(points.x) <= tl.MAX_PCA_POINTS + 1 and points.customdata[-1] == 2999
    np.testing.assert_array_equal(points.x, coords[points.customdata, 0])


def test_presenter_mode_uses_larger_type():
    sc = scene()
    normal = tl.timeline_figure(sc.seq, sc.trace.layer(), "gru")
    big = tl.timeline_figure(sc.seq, sc.trace.layer(), "gru", present=True)
    assert big.layout.font.size > normal.layout.font.size
    assert big.layout.height > normal.layout.height


@pytest.mark.parametrize("kind", KINDS)
def test_one_step_one_unit(kind):
    sc = state.build_scene(state.Config(cell=kind, hidden=1, source="typed", seq="0.5"))
    lt = sc.trace.layer()
    fig = tl.timeline_figure(sc.seq, lt, kind, t=0)
    for heat, values in zip(heatmaps(fig), EXPECTED[kind](lt).values(), strict=True):
        np.testing.assert_array_equal(np.asarray(heat.z), values[:, 0, :].T)
    h = lt.h[:, 0, :]
    assert len(tl.units_figure(h, t=0).data) == 1
    assert tl.pca_figure(h).layout.meta["explained_variance_ratio"] == [0.0, 0.0]


def test_chart_text_is_in_the_strong_ink_and_no_colour_bar_is_added():
    """Issue 23.5: text left without a colour gets Streamlit's soft grey (3.7:1 on white); style.inked names the
    ink everywhere, and adds no colour bar a trace did not have (the step pickers' markers would grow one)."""
    from gru_viz.figures import style

    sc = state.build_scene(state.Config())
    fig = tl.timeline_figure(sc.seq, sc.trace.layer(0), "gru", t=3)
    axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    assert axes and all(a.tickfont.color == palette.INK and a.title.font.color == palette.INK for a in axes)
    assert all(n.font.color == palette.INK for n in fig.layout.annotations)
    bars = [t for t in fig.data if "colorbar" in t.to_plotly_json()]
    assert bars and all(t.type == "heatmap" and t.colorbar.tickfont.color == palette.INK for t in bars)
    assert not any("colorbar" in t.to_plotly_json().get("marker", {}) for t in fig.data)
    plain = style.inked(go.Figure(go.Scatter(x=[0, 1], y=[0, 1], marker={"color": [0, 1]})))
    assert "colorbar" not in plain.data[0].to_plotly_json().get("marker", {})


# ----------------------------------------------------------------------------------------- unit order (H = 512)


@pytest.fixture(scope="module")
def wide():
    return state.build_scene(state.Config(hidden=512, steps=40))


@pytest.mark.parametrize("how", tl.ORDERS)
def test_unit_order_is_a_permutation(wide, how):
    h = wide.trace.layer(0).h[:, 0, :]
    order = tl.unit_order(h, how)
    assert sorted(order.tolist()) == list(range(512))
    assert tl.unit_order(h, how).tolist() == order.tolist()  # deterministic


def test_activity_order_is_sorted_by_mean_abs_step_change(wide):
    h = wide.trace.layer(0).h[:, 0, :]
    order = tl.unit_order(h, "activity")
    act = np.abs(np.diff(np.vstack([np.zeros((1, 512)), h]), axis=0)).mean(axis=0)
    np.testing.assert_allclose(tl.activity(h), act)
    assert np.all(np.diff(act[order]) <= 0)


def test_cluster_order_puts_units_that_move_together_side_by_side():
    rng = np.random.default_rng(0)
    t = np.arange(60)
    a, b = np.sin(t / 5), np.sign(np.cos(t / 3))  # two families of units, shuffled among 40 units
    family = rng.permutation(np.repeat([0, 1], 20))
    h = np.where(family == 0, a[:, None], b[:, None]) * rng.uniform(0.5, 1, 40) + 0.01 * rng.standard_normal((60, 40))
    order = tl.unit_order(h, "cluster")
    assert np.count_nonzero(np.diff(family[order])) == 1  # one boundary: each family is one block of rows


@pytest.mark.parametrize("how", tl.ORDERS)
def test_ordered_heatmaps_keep_the_real_unit_in_hover_and_axis(wide, how):
    lt = wide.trace.layer(0)
    fig = tl.timeline_figure(wide.seq, lt, "gru", order=how)
    order = tl.unit_order(lt.h[:, 0, :], how)
    maps = [tr for tr in heatmaps(fig) if tr.name != tl.NAMES["x"]]
    assert [tr.name for tr in maps] == [tl.NAMES[q] for q in tl.QUANTITIES["gru"]]
    for tr, q in zip(maps, tl.QUANTITIES["gru"], strict=True):
        values = lt.h[:, 0, :] if q == "h" else lt.gates[q][:, 0, :]
        np.testing.assert_array_equal(np.asarray(tr.z), values[:, order].T)  # row k is unit order[k]
        custom = np.asarray(tr.customdata)
        assert custom.shape[:2] == (512, 40)
        np.testing.assert_array_equal(custom[:, 0, -1], order)  # the hover's unit is the real one
        assert f"unit %{{customdata[{custom.shape[-1] - 1}]}}" in tr.hovertemplate
    axis = fig.layout.yaxis2
    if how != "index":  # thinned labels, each naming the real unit of its row
        assert 4 <= len(axis.tickvals) <= tl.MAX_UNIT_TICKS
        assert list(axis.ticktext) == [str(order[v]) for v in axis.tickvals]
    assert fig.layout.height <= 1200  # the picture stays one screen or so tall at 512 units


def test_the_line_plot_draws_the_most_active_units_and_the_selected_one(wide):
    h = wide.trace.layer(0).h[:, 0, :]
    drawn = tl.line_units(h, unit=500)
    top = tl.unit_order(h, "activity")[: tl.MAX_LINES - 1]
    assert set(drawn) == {500, *top.tolist()} and drawn == sorted(drawn)
    fig = tl.units_figure(h, unit=500)
    assert [tr.name for tr in fig.data][-1] == "unit 500" and len(fig.data) == len(drawn)
    small = h[:, :8]
    assert tl.line_units(small, 3) == list(range(8))


@pytest.mark.parametrize("width", [256, 512])
def test_a_wide_one_hot_input_shows_its_symbols_not_hundreds_of_rows(width):
    """A vocabulary of 256 (or 512) symbols: the x row has one row per symbol the text reads, labelled by it."""
    from gru_viz.core.params import random_model
    from gru_viz.core.sequences import Sequence
    from gru_viz.core.spec import Spec

    alphabet = tuple(chr(0x3B1 + k) if k < 20 else f"w{k}" for k in range(width))
    words = [3, 0, 7, 3, width - 1, 0]
    values = np.eye(width)[words]
    seq = Sequence(values, tuple(alphabet[k] for k in words), alphabet=alphabet)
    lt = random_model(Spec("gru", width, 64), seed=0).run(values).layer(0)
    assert list(tl.input_rows(seq)) == [0, 3, 7, width - 1]
    fig = tl.timeline_figure(seq, lt, "gru")
    x = heatmaps(fig)[0]
    np.testing.assert_array_equal(np.asarray(x.z), values[:, [0, 3, 7, width - 1]].T)
    assert list(fig.layout.yaxis.ticktext) == [alphabet[0], alphabet[3], alphabet[7], f"w{width - 1}"]
    assert list(fig.layout.xaxis.ticktext) == list(seq.labels)  # each step's symbol under the row
    assert fig.layout.yaxis.domain[1] - fig.layout.yaxis.domain[0] < 0.1  # a short row, not 256 lines
