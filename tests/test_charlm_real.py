"""The analyses on the shipped character models (gru_viz/io/data/charlm): a stretch of the validation text read in
windows agrees with one unbroken read where the windows change nothing, and every sentence the words make from the
real numbers holds on them."""

from __future__ import annotations

import numpy as np
import pytest

from gru_viz.core import charlm, units
from gru_viz.core.text_features import FEATURE
from gru_viz.explain import charlm as words
from gru_viz.explain import registry
from gru_viz.explain.claims import Context
from gru_viz.io.charlm import CHARLM_KINDS, load_char_model, validation_text

N = 20_000  # characters: enough for every feature to vary on both halves, quick enough for the suite


@pytest.fixture(scope="module")
def text() -> str:
    return validation_text()[:N]


@pytest.mark.parametrize("kind", CHARLM_KINDS)
def test_real_model_states_and_words(kind: str, text: str) -> None:
    model = load_char_model(kind)
    st = charlm.states(model, text)
    # the text's first window is read from its first character: the same states as one unbroken read there
    head = charlm.read(model, text[: charlm.CHUNK + charlm.WARMUP])
    for layer in range(model.spec.num_layers):
        np.testing.assert_allclose(st.h[layer][: len(head.text)], head.trace.layers[layer][0].h[:, 0], rtol=2e-6,
                                   atol=1e-6)
    found = units.find_units(model, text, read=st)
    assert [f.feature for f in found] == [f.key for f in units.FEATURES]
    cut = units.split_point(text)
    for f in found:  # "no variation" exactly where the feature is constant on the selection half (here: docstrings,
        # which the stretch's first file has none of)
        assert np.isfinite(f.r_select) == (np.ptp(FEATURE[f.feature].values(text)[:cut]) > 0), f
    sat = units.saturation(st)
    ctx = Context(values={"kind": kind, "spec": model.spec, "found": found, "units": words.unit_count(model.spec),
                          "saturation": sat})
    said = words.found_sentences(found, words.unit_count(model.spec)) + words.saturation_sentences(model.spec, sat)
    page = "\n".join(str(s) for s in said)
    assert registry.check_text(page, ctx) == [], page
    assert len(registry.find(page)) == len(said)
