"""Typed text into a model's vocabulary (core.tokens.tokenize, read_ids): hand-worked cases and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gru_viz.core.tokens import TokenError, is_mark, read_ids, shown, text_unit, tokenize

LETTERS = ("<pad>", "<unk>", "</s>", *"abcdefghijklmnopqrstuvwxyz")  # g2p-en's graphemes
WORDS = ("", "[UNK]", "the", "cat", "sat", "on", "mat")  # a Keras StringLookup's: padding, [UNK], then words
CASED = ("SOS", "EOS", "Je", "suis", "je", ".")  # a word vocabulary with capitals: the text keeps its case


def test_characters_lower_cased_unknown_to_the_mark():
    got = tokenize("Hi, Al", LETTERS)
    assert got.unit == "character" and got.lowered and got.mark == "<unk>"
    assert got.tokens == ("h", "i", "<unk>", "<unk>", "a", "l")
    assert got.ids.tolist() == [10, 11, 1, 1, 3, 14]
    assert got.unknown == (",", " ") and got.missing == 2 and got.pieces == 6


def test_words_split_on_whitespace_and_keras_unk():
    got = tokenize("The cat\tsat  on\nthe DOG", WORDS)
    assert got.unit == "word" and got.lowered and got.mark == "[UNK]"
    assert got.tokens == ("the", "cat", "sat", "on", "the", "[UNK]")
    assert got.ids.tolist() == [2, 3, 4, 5, 2, 1]
    assert got.unknown == ("dog",) and got.missing == 1


def test_cased_vocabulary_keeps_case_and_leaves_unknown_out():
    got = tokenize("Je suis JE .", CASED)
    assert got.unit == "word" and not got.lowered and got.mark is None
    assert got.tokens == ("Je", "suis", ".") and got.ids.tolist() == [2, 3, 5]
    assert got.unknown == ("JE",) and got.missing == 1 and got.pieces == 4


def test_nothing_typed_and_nothing_known():
    assert tokenize("", WORDS).ids.tolist() == [] and tokenize("   ", WORDS).pieces == 0
    none = tokenize("zebra zebra", CASED)
    assert none.ids.size == 0 and none.unknown == ("zebra",) and none.missing == 2


def test_marks_are_not_text():
    assert all(is_mark(t) for t in ("", "<pad>", "[UNK]", "</s>", "<s>"))
    assert not any(is_mark(t) for t in ("a", "<", "[]", "cat"))
    assert text_unit(LETTERS) == "character" and text_unit(WORDS) == "word"
    assert text_unit(("<pad>", "ab", "c")) == "word"
    assert [shown(t) for t in ("", " ", "\n", "cat")] == ["(empty)", "␣", "⏎", "cat"]


def test_ids_typed():
    got = read_ids("3, 14 15;0", 16)
    assert got.ids.tolist() == [3, 14, 15, 0] and got.tokens == ("3", "14", "15", "0") and got.unit == "id"
    for bad in ("3 x", "-1", "1.5", "16", "99999999999999"):
        with pytest.raises(TokenError):
            read_ids(bad, 16)


vocabularies = st.lists(st.text(min_size=1, max_size=4).filter(lambda t: not is_mark(t)), min_size=1, max_size=12,
                        unique=True)


@settings(max_examples=150, deadline=None)
@given(vocabularies, st.text(max_size=40), st.booleans())
def test_every_step_reads_its_vocabulary_entry(vocabulary, text, with_mark):
    vocab = (*vocabulary, "[UNK]") if with_mark else tuple(vocabulary)
    got = tokenize(text, vocab)
    assert got.ids.dtype == np.int64 and len(got.tokens) == got.ids.size
    assert all(vocab[i] == tok for i, tok in zip(got.ids.tolist(), got.tokens, strict=True))
    # every piece is either read or counted missing; with a mark, none is left out
    assert got.ids.size == (got.pieces if with_mark else got.pieces - got.missing)
    assert set(got.unknown) <= set(got.tokens) | set(got.unknown) and len(got.unknown) <= got.missing
    assert all(u not in vocab for u in got.unknown)
    if with_mark:
        assert got.tokens.count("[UNK]") >= got.missing


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(WORDS[2:]), max_size=15))
def test_known_words_read_back(words):
    got = tokenize(" ".join(w.upper() for w in words), WORDS)
    assert got.tokens == tuple(words) and got.missing == 0
