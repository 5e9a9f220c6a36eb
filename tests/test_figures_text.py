"""Real text's figures (figures/text.py), built and read directly: the HTML escapes the text and stays readable
in both themes; the saturation scatter has one point per gate unit in its gate's colour; the bars carry the numbers."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gru_viz.core.kinds import KIND, WITH_W_HH
from gru_viz.core.units import Match
from gru_viz.explain.palette import CELL_COLORS, DARK, LIGHT, color, contrast, rgb
from gru_viz.figures import text as ft

TAG = re.compile(r"<[^>]*>")


def shown(markup: str) -> str:
    """What a browser shows of the builders' HTML: tags dropped, entities read."""
    return html.unescape(TAG.sub("", markup))


def over(rgba: str, paper: str) -> str:
    """An rgba() tint composited onto an opaque page colour, as a hex colour."""
    r, g, b, a = (float(v) for v in re.findall(r"[\d.]+", rgba))
    out = a * np.array([r, g, b]) / 255 + (1 - a) * rgb(paper)
    return "#" + "".join(f"{round(v * 255):02x}" for v in out)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=60), st.integers(0, 2**31))
def test_coloured_text_escapes_and_keeps_every_character(text: str, seed: int) -> None:
    values = np.random.default_rng(seed).normal(size=len(text))
    markup = ft.coloured_text(text, values, cursor=len(text) // 2 if text else None)
    assert shown(markup) == text.replace("\n", ft.NEWLINE + "\n")
    assert "<script" not in markup.lower().replace("&lt;script", "")


def test_a_learners_markup_stays_text() -> None:
    evil = '<script>alert(1)</script><img src=x onerror="y">&amp;'
    markup = ft.coloured_text(evil, np.linspace(-1, 1, len(evil)))
    assert "<script>" not in markup and "<img" not in markup and shown(markup) == evil
    snippet = ft.match_snippets(evil, [Match(1, 7, 1.0, 2, 0)], context=3)
    assert "<script>" not in snippet and "script" in shown(snippet)


def test_tints_follow_the_values_sign_and_size() -> None:
    lv = ft.levels(np.array([1.0, -0.5, 0.0, 0.26, -1.0]))
    assert lv.tolist() == [ft.LEVELS, -ft.LEVELS // 2, 0, 2, -ft.LEVELS]
    assert ft.levels(np.zeros(3)).tolist() == [0, 0, 0]
    assert ft.levels(np.array([0.5]), scale=1.0).tolist() == [ft.LEVELS // 2]
    assert ft.level_color(ft.LEVELS, "h").startswith("rgba(0,114,178,0.55")  # the palette's h, at MAX_ALPHA
    assert ft.level_color(0) == "transparent"
    markup = ft.coloured_text("ab\nc", np.array([1.0, 1.0, 0.0, -1.0]), quantity="c")
    assert markup.count("<span") == 2  # a and b share one span; the newline has no tint; c its own
    assert "204,51,17" in markup  # the cell state's colour


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
@pytest.mark.parametrize("quantity", ["h", "c", "negative"])
def test_text_on_the_strongest_tint_reads_in_both_themes(theme, quantity: str) -> None:
    tint = ft.level_color(-ft.LEVELS if quantity == "negative" else ft.LEVELS, "h" if quantity == "negative"
                          else quantity)
    assert contrast(theme.ink, over(tint, theme.paper)) >= 4.5


def test_match_snippets_show_context_and_the_span() -> None:
    text = "def f(x):\n    return (x + 1)\n"
    out = ft.match_snippets(text, [Match(21, 28, 0.5, 1, 1)], context=5)
    assert shown(out).startswith("turn " + "(x + 1)" + "↵ ")  # 5 before, the span, what is left after
    assert "characters 21–27, score 0.50" in shown(out)
    assert re.search(r'<span style="background:[^"]+">\(x \+ 1\)</span>', out)


@pytest.mark.parametrize("kind", WITH_W_HH)
def test_saturation_scatter_one_point_per_gate_unit(kind: str) -> None:
    rng = np.random.default_rng(0)
    H = 7
    sat = {(layer, g): (rng.uniform(0, 0.5, H), rng.uniform(0, 0.5, H)) for layer in range(2)
           for g in KIND[kind].sigmoid}
    fig = ft.saturation_figure(kind, sat)
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == len(sat)
    for t in points:
        gate = t.legendgroup
        assert t.marker.line.color == color(gate) and len(t.x) == H
    for (layer, g), (left, right) in sat.items():
        t = next(t for t in points if t.legendgroup == g and t.xaxis == ("x" if layer == 0 else "x2"))
        np.testing.assert_array_equal(t.x, left)
        np.testing.assert_array_equal(t.y, right)
    assert sum(t.showlegend for t in points) == len(KIND[kind].sigmoid)  # each gate once in the legend
    if not KIND[kind].sigmoid:
        assert "no gates" in fig.layout.annotations[-1].text


def test_bpc_bars_carry_the_numbers_in_the_cells_colours() -> None:
    bpc = {k: 1.5 + 0.1 * i for i, k in enumerate(WITH_W_HH)}
    fig = ft.bpc_figure(bpc)
    bar = fig.data[0]
    assert list(bar.x) == [KIND[k].name for k in bpc] and list(bar.y) == list(bpc.values())
    assert list(bar.text) == [f"{v:.2f}" for v in bpc.values()]
    assert list(bar.marker.color) == [CELL_COLORS[k] for k in bpc]
