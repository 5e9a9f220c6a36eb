"""Embedding in, readout out: ``Model.run_tokens`` and ``Model.logits`` against torch (Embedding → RNN → Linear)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gru_viz import ModelInputError, Spec, SpecError, random_model
from gru_viz.core.kinds import WITH_W_HH
from gru_viz.core.tokens import Embedding, Readout, TokenError, encode, log_softmax
from gru_viz.io.bridge import to_torch


@pytest.mark.parametrize("kind", WITH_W_HH)  # the kinds torch.nn has
def test_tokens_through_a_stack_equal_torch(kind: str) -> None:
    rng = np.random.default_rng(3)
    spec = Spec(kind, 6, 10, num_layers=2)
    emb = Embedding.of(rng.normal(size=(7, 6)), list("abcdefg"))
    ro = Readout.of(rng.normal(size=(7, 10)), rng.normal(size=7), list("abcdefg"))
    model = random_model(spec, 4).with_tokens(emb, ro)
    ids = rng.integers(0, 7, size=23)
    trace = model.run_tokens(ids)
    module = to_torch(model)
    with torch.no_grad():
        x = torch.nn.functional.embedding(torch.from_numpy(ids), torch.tensor(emb.table))
        y = module(x)[0]
        want = torch.nn.functional.linear(y, torch.tensor(ro.weight), torch.tensor(ro.bias)).numpy()
    np.testing.assert_allclose(model.logits(trace), want, rtol=1e-10, atol=1e-12)
    lp = log_softmax(model.logits(trace))
    np.testing.assert_allclose(lp, torch.log_softmax(torch.tensor(want), -1).numpy(), rtol=1e-10, atol=1e-12)


def test_with_tokens_keeps_the_stack() -> None:
    model = random_model(Spec("gru", 3, 4), 0)
    emb = Embedding.of(np.eye(3))
    withe = model.with_tokens(emb)
    assert all(withe.params[k] is v for k, v in model.params.items())
    assert withe.vocabulary is None and model.embedding is None
    np.testing.assert_array_equal(withe.run_tokens([0, 2, 1]).output, model.run(np.eye(3)[[0, 2, 1]]).output)


def test_refusals_name_the_shapes() -> None:
    model = random_model(Spec("lstm", 3, 4), 0)
    with pytest.raises(SpecError, match="gives 5 values per token"):
        model.with_tokens(Embedding.of(np.zeros((2, 5))))
    with pytest.raises(SpecError, match="readout reads 3"):
        model.with_tokens(None, Readout.of(np.zeros((2, 3))))
    with pytest.raises(ModelInputError, match="no embedding"):
        model.run_tokens([0])
    with pytest.raises(ModelInputError, match="outside the vocabulary"):
        model.with_tokens(Embedding.of(np.zeros((2, 3)))).run_tokens([0, 2])
    with pytest.raises(TokenError, match="twice"):
        Embedding.of(np.zeros((2, 3)), ["a", "a"])
    with pytest.raises(TokenError, match="NaN"):
        Embedding.of([[np.nan, 0, 0]])


@given(st.lists(st.sampled_from("abcxyz"), max_size=30))
def test_encode_maps_known_tokens_and_reports_the_rest(tokens: list[str]) -> None:
    vocab = ["a", "b", "c", "<unk>"]
    ids, missing = encode(tokens, vocab, unknown="<unk>")
    assert len(ids) == len(tokens)
    assert missing == [i for i, t in enumerate(tokens) if t not in vocab]
    assert all(vocab[i] == (t if t in vocab else "<unk>") for i, t in zip(ids, tokens, strict=True))
    dropped, missing2 = encode(tokens, vocab[:3])
    assert missing2 == missing and len(dropped) == len(tokens) - len(missing)
