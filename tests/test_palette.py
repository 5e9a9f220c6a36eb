"""The palette: one colour per quantity, told apart with and without a colour-vision deficiency, legible on the
light and the dark theme; the cells' own palette reuses no gate colour; the simulation itself is sound.

Distances are CIEDE2000 on colours simulated with Machado et al. (2009) at full severity: about 2 is just
noticeable, 10 and more reads as a different colour side by side. Each threshold is the tested floor of the
palette as it is (a change that makes two quantities harder to tell apart fails here).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gru_viz.core.kinds import KINDS
from gru_viz.explain import palette as P

# The quantities each kind draws, written out by hand (minLSTM's f′ and i′ are f and i normalised).
CELLS = {"gru": ("x", "r", "z", "n", "h"), "lstm": ("x", "i", "f", "g", "o", "c", "h"), "mingru": ("x", "z", "n", "h"),
         "rnn": ("x", "h"), "minlstm": ("x", "f", "i", "n", "f'", "i'", "h")}
DEFICIENCIES = (None, "deuteranopia", "protanopia", "tritanopia")
# Floor of the smallest distance between two quantities of one cell, per kind of vision.
FLOOR = {None: 16.0, "deuteranopia": 11.0, "protanopia": 11.0, "tritanopia": 11.0}


def pairs(keys: tuple[str, ...]):
    return [(a, b) for a, b in itertools.combinations(keys, 2) if P.COLORS[a] != P.COLORS[b]]


def test_every_kind_has_its_quantities_written_here():
    assert set(CELLS) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("deficiency", DEFICIENCIES, ids=str)
def test_quantities_of_one_cell_stay_apart(kind, deficiency):
    worst = min((P.distance(P.COLORS[a], P.COLORS[b], deficiency), a + b) for a, b in pairs(CELLS[kind]))
    assert worst[0] >= FLOOR[deficiency], worst


def test_one_colour_per_quantity_and_the_candidate_shares_its_role():
    assert P.COLORS["n"] == P.COLORS["g"], "GRU's n and LSTM's g are both the candidate"
    letters = [q for q in "xrznhifoc"]
    assert len({P.COLORS[q] for q in letters}) == len(letters), "every other quantity has a colour of its own"
    assert (P.COLORS["f'"], P.COLORS["i'"]) == (P.COLORS["f"], P.COLORS["i"]), "minLSTM's f′, i′ are f, i normalised"


@pytest.mark.parametrize("deficiency", DEFICIENCIES[:3], ids=str)
def test_lstm_gates_are_not_the_gru_gates(deficiency):
    """On the Compare page both cells are drawn at once (each in its own column): the LSTM's i, f, o, c are far
    from the GRU's r everywhere; z's nearest LSTM colour (o, a light violet) is the weakest pair for deuteranopes."""
    floors = {"r": (35.0, 19.0), "z": (29.0, 7.0)}
    for gru_gate, lstm in itertools.product("rz", "ifoc"):
        d = P.distance(P.COLORS[gru_gate], P.COLORS[lstm], deficiency)
        assert d >= floors[gru_gate][deficiency is not None], (gru_gate, lstm, d)
    assert P.distance(P.COLORS["i"], P.COLORS["r"], deficiency) >= (40.0 if deficiency is None else 30.0)


def test_cells_have_a_palette_of_their_own():
    assert set(P.CELL_COLORS) == set(P.CELL_DASH) == set(KINDS)
    gates = set(P.COLORS.values())
    for kind, c in P.CELL_COLORS.items():
        assert c not in gates, kind
        assert min(P.distance(c, g) for g in gates) >= 15.0, kind
    for deficiency in DEFICIENCIES:
        worst = min(P.distance(a, b, deficiency) for a, b in itertools.combinations(P.CELL_COLORS.values(), 2))
        assert worst >= 15.0, deficiency
    assert len(set(P.CELL_DASH.values())) == len(P.CELL_DASH), "a line names its cell twice: colour and dash"


@pytest.mark.parametrize("theme", [P.LIGHT, P.DARK], ids=lambda t: t.name)
def test_every_colour_shows_on_both_themes(theme):
    for name, c in {**P.COLORS, **P.CELL_COLORS}.items():
        assert P.contrast(c, theme.paper) >= (2.2 if theme is P.LIGHT else 3.0), (name, c, theme.name)
    assert P.contrast(theme.ink, theme.paper) >= 12.0


def test_heatmap_scales_are_the_quantity_s_own_colour():
    for q in ("r", "z", "i", "f", "o", "f'", "i'"):
        assert P.colorscale(q) == [[0.0, P.ZERO], [1.0, P.COLORS[q]]]
    for q in "nhgc":
        scale = P.colorscale(q)
        assert scale[1] == [0.5, P.ZERO] and scale[-1] == [1.0, P.COLORS[q]]
    assert P.colorscale("r") != P.colorscale("z"), "r and z no longer share one scale"


def test_placeholders_resolve_per_theme():
    text = f"{P.INK} on {P.PAPER}, {P.GRID}"
    assert P.resolve(text, P.LIGHT) == "#262730 on #FFFFFF, #E6EAF1"
    assert P.resolve(text, P.DARK) == "#FAFAFA on #171614, #31333F"
    assert P.resolve(P.COLORS["z"]) == P.COLORS["z"]


# ------------------------------------------------------------------------------------ the simulation itself


@pytest.mark.parametrize("deficiency", list(P.CVD))
def test_simulation_keeps_greys_and_white(deficiency):
    """Machado's matrices map every grey to itself (each row sums to 1): a deficiency changes hue, not light."""
    for level in (0.0, 0.2, 0.5, 1.0):
        grey = np.full(3, level)
        np.testing.assert_allclose(P.simulate(grey, deficiency), grey, atol=2e-6)


def test_simulation_confuses_what_it_should():
    """Red and green, far apart for normal vision, come close for deuteranopes and protanopes; blue and yellow
    stay apart for both (and come close for tritanopes' blue–green instead)."""
    red, green, blue, yellow = "#D62728", "#2CA02C", "#1F77B4", "#FFD700"
    assert P.distance(red, green) > 50
    for deficiency in ("deuteranopia", "protanopia"):
        assert P.distance(red, green, deficiency) < 0.5 * P.distance(red, green)
        assert P.distance(blue, yellow, deficiency) > 40
    assert P.delta_e(P.lab(P.rgb("#336699")), P.lab(P.rgb("#336699"))) == 0.0


def test_delta_e_matches_published_pairs():
    """CIEDE2000 against Sharma, Wu & Dalal (2005), table 1 (pairs 1, 7 and 17)."""
    cases = [((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
             ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
             ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492)]
    for a, b, want in cases:
        assert P.delta_e(np.array(a), np.array(b)) == pytest.approx(want, abs=1e-4)


def test_contrast_is_wcag():
    assert P.contrast("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert P.contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme", [P.LIGHT, P.DARK], ids=["light", "dark"])
def test_a_heatmap_zero_is_not_the_page_background(theme):
    """Issue 23.5: a value of 0 must not take the page's colour (it read as a missing cell in the dark theme)."""
    for q in ("r", "z", "f", "h", "n", "c", "x"):
        scale = P.colorscale(q)
        zero = P.resolve(dict((round(p, 3), c) for p, c in scale)[0.0 if q in P.GATES_01 else 0.5], theme)
        assert zero.lower() != theme.paper.lower(), (q, theme.name)
        assert P.distance(zero, theme.paper) >= 5.0, (q, theme.name, P.distance(zero, theme.paper))
