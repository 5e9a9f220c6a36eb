"""Units found for features, gate saturation and LSTMVis's pattern index (core/units.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gru_viz.core import charlm, units
from gru_viz.core.charlm import States
from gru_viz.core.kinds import KIND, KINDS
from gru_viz.core.text_features import FEATURE
from tests.test_charlm import TEXT, char_model


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(3, 30), st.integers(1, 5)),
                  elements=st.floats(-1e3, 1e3, allow_subnormal=False)),
       st.integers(0, 2**31))
def test_correlations_equal_numpy_or_say_no_variation(values: np.ndarray, seed: int) -> None:
    f = np.random.default_rng(seed).normal(size=len(values))
    r = units.correlations(values, f)
    for j in range(values.shape[1]):
        col = values[:, j]
        if np.ptp(col) == 0:
            assert np.isnan(r[j])
        elif np.std(col) > 1e-9 * np.abs(col).max():
            assert r[j] == pytest.approx(np.corrcoef(col, f)[0, 1], abs=1e-9)
    assert np.all(np.isnan(units.correlations(values, np.ones(len(values)))))


def test_correlations_by_hand() -> None:
    v = np.array([[1.0, 5.0, 2.0], [2.0, 5.0, 4.0], [3.0, 5.0, 0.0]])
    r = units.correlations(v, np.array([0.0, 1.0, 2.0]))
    assert r[0] == pytest.approx(1.0) and np.isnan(r[1]) and r[2] == pytest.approx(-0.5)


def test_strength_follows_the_stated_scale() -> None:
    assert (units.STRONG, units.MODERATE, units.WEAK) == (0.7, 0.4, 0.2)
    assert [units.strength(r) for r in (0.7, -0.69, 0.4, 0.2, -0.19, float("nan"))] == [
        "strong", "moderate", "moderate", "weak", "none", "none"]


def planted(text: str, columns: dict[int, np.ndarray], H: int = 40, seed: int = 0) -> States:
    """States of a made-up 2-layer model over ``text``: noise, with the given columns of layer 1's h planted."""
    rng = np.random.default_rng(seed)
    h = [rng.normal(size=(len(text), H)).astype(np.float32) for _ in range(2)]
    for unit, col in columns.items():
        h[1][:, unit] = col
    ids = np.zeros(len(text), dtype=np.int64)
    return States(text, ids, (), "gru", tuple(h), None, {}, {}, charlm.CHUNK, charlm.WARMUP)


LONG = TEXT * 40


def test_find_units_finds_a_planted_unit_and_reports_it_held_out() -> None:
    rng = np.random.default_rng(1)
    depth = FEATURE["brackets"].values(LONG)
    col = depth + 0.3 * rng.normal(size=len(LONG))
    found = {f.feature: f for f in units.find_units(None, LONG, read=planted(LONG, {17: col}))}
    f = found["brackets"]
    cut = units.split_point(LONG)
    assert (f.layer, f.unit, f.which) == (1, 17, "h") and f.chars == len(LONG) - cut
    assert f.r == pytest.approx(np.corrcoef(col[cut:], depth[cut:])[0, 1], abs=1e-6)
    assert f.r_select == pytest.approx(np.corrcoef(col[:cut], depth[:cut])[0, 1], abs=1e-6)
    assert f.strength == "strong" and f.named


def test_noise_is_named_for_nothing_though_its_best_looks_better_on_its_own_half() -> None:
    """With 80 noise units, the best on the selection half beats its held-out r: why the r reported is held out."""
    found = units.find_units(None, LONG, read=planted(LONG, {}, seed=2))
    for f in found:
        if np.isfinite(f.r_select):
            assert not f.named, f
    assert np.mean([abs(f.r_select) > abs(f.r) for f in found if np.isfinite(f.r)]) >= 0.75


def test_a_sign_flip_on_the_held_out_half_is_no_evidence() -> None:
    cut = units.split_point(LONG)
    depth = FEATURE["brackets"].values(LONG)
    col = np.where(np.arange(len(LONG)) < cut, depth, -depth)
    f = next(f for f in units.find_units(None, LONG, read=planted(LONG, {3: col})) if f.feature == "brackets")
    assert f.r_select > 0.99 and f.r < -0.99 and f.strength == "none" and not f.named


def test_split_point_is_a_line_start_near_the_middle() -> None:
    text = "abc\ndefgh\nij\n"
    cut = units.split_point(text)
    assert cut == 10 and text[cut - 1] == "\n"
    assert units.split_point("abcdef") == 3


@pytest.mark.parametrize("kind", KINDS)
def test_saturation_from_a_trace_and_from_states_agree(kind: str) -> None:
    model = char_model(kind, 6)
    text = TEXT * 3
    from_trace = units.saturation(charlm.read(model, text).trace)
    from_states = units.saturation(charlm.states(model, text, chunk=len(text)))
    assert set(from_trace) == set(from_states) == {(layer, g) for layer in range(2) for g in KIND[kind].sigmoid}
    for key, (left, right) in from_trace.items():
        np.testing.assert_allclose(from_states[key][0], left, atol=1.5 / len(text))  # float32 states, float64 trace
        np.testing.assert_allclose(from_states[key][1], right, atol=1.5 / len(text))
        assert np.all(left + right <= 1)


def test_saturation_counts_by_hand() -> None:
    model = char_model("gru", 7)
    tr = charlm.read(model, "ab").trace
    z = np.array([[0.05, 0.5, 0.95], [0.0999, 0.91, 0.1]])
    tr.layers[0][0].gates["z"] = z[:, None, :]
    left, right = units.saturation(tr)[(0, "z")]
    np.testing.assert_array_equal(left, [1.0, 0.0, 0.0])  # 0.1 itself is not below 0.1
    np.testing.assert_array_equal(right, [0.0, 0.5, 0.5])


# ------------------------------------------------------------------------------------------ pattern index

H_ = np.array([  # 8 characters × 4 units
    [0.0, 0.5, 0.0, 0.9],
    [0.5, 0.5, 0.0, 0.9],
    [0.5, 0.5, 0.5, 0.9],
    [0.0, 0.0, 0.5, 0.9],
    [0.0, 0.0, 0.0, 0.9],
    [0.5, 0.5, 0.0, 0.0],
    [0.5, 0.5, 0.0, 0.0],
    [0.0, 0.5, 0.0, 0.0],
])


def test_select_keeps_units_on_across_and_off_around() -> None:
    idx = units.PatternIndex(H_, "abcdefgh")
    np.testing.assert_array_equal(idx.select(1, 3, 0.3), [0])  # 1 is on before; 3 is on at 3, after; 2 off at 1
    np.testing.assert_array_equal(idx.select(1, 3, 0.3, before=0, after=0), [0, 1, 3])
    np.testing.assert_array_equal(idx.select(2, 4, 0.3), [2])
    np.testing.assert_array_equal(idx.select(0, 5, 0.3, after=1), [3])  # off at 5; nothing before 0
    np.testing.assert_array_equal(idx.select(0, 3, 0.6), [])
    with pytest.raises(charlm.CharError):
        idx.select(3, 3)


def test_matches_rank_full_runs_first_then_fewer_extras_then_longer() -> None:
    idx = units.PatternIndex(H_, "abcdefgh")
    got = idx.matches(np.array([0, 1]), 0.3)
    # runs where both are on: 1–2 (unit 3 on too), 5–6; where one is: 0–2 (units 1, 3 on across), 5–7 (unit 1)
    assert [(m.start, m.end, m.shared, m.extra) for m in got] == [(5, 7, 2, 0), (1, 3, 2, 1), (5, 8, 1, 0),
                                                                   (0, 3, 1, 1)]
    assert got[0].score == 1.0 and got[1].score == pytest.approx(2 / 3)
    assert all(m.end - m.start >= units.MIN_LENGTH for m in got)
    assert idx.matches(np.array([], dtype=int)) == []


def test_matches_of_a_selection_include_its_own_place_at_the_top() -> None:
    rng = np.random.default_rng(3)
    h = rng.uniform(-1, 1, size=(500, 30))
    idx = units.PatternIndex(h, "x" * 500)
    for start in range(0, 480, 37):
        sel = idx.select(start, start + 3, 0.0)
        if len(sel) == 0:
            continue
        best = idx.matches(sel, 0.0)
        assert best[0].shared == len(sel)
        own = [m for m in best if m.start <= start and start + 3 <= m.end]
        assert own and own[0].shared == len(sel)
