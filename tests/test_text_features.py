"""Per-character features of Python source (core/text_features.py), by hand on small snippets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gru_viz.core import text_features as tf

SNIPPET = 'def f(a):\n    """Doc."""\n    return g(a, "x#") # c\n'


def values(key: str, text: str) -> list[float]:
    return tf.FEATURE[key].values(text).tolist()


def ones(text: str, mask: list[float]) -> str:
    """The characters a 0/1 feature marks, joined (easier to read than the mask)."""
    return "".join(ch for ch, m in zip(text, mask, strict=True) if m)


def test_strings_docstrings_and_comments_by_the_tokenizer() -> None:
    assert tf.scan(SNIPPET).method == tf.TOKENIZE
    # a string runs from its opening quote to just before its closing one (after it, the string has ended)
    assert ones(SNIPPET, values("string", SNIPPET)) == '"""Doc.""' + '"x#'
    assert ones(SNIPPET, values("docstring", SNIPPET)) == '"""Doc.""'
    assert ones(SNIPPET, values("comment", SNIPPET)) == "# c"  # not the # inside "x#"


def test_a_string_that_is_not_alone_is_no_docstring() -> None:
    text = 'x = """not a doc"""\nf("""arg""")\n'
    assert tf.scan(text).method == tf.TOKENIZE
    assert sum(values("docstring", text)) == 0 and ones(text, values("string", text)) == '"""not a doc""' + '"""arg""'


def test_bracket_depth_ignores_strings_and_comments() -> None:
    text = 'f(a, [1, "(", {2}]) # (\n'
    #       f  (  a  ,     [  1  ,     "  (  "  ,     {  2  }  ]  )     #     (  \n
    want = [0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 2, 1, 0, 0, 0, 0, 0, 0]
    assert values("brackets", text) == want


def test_column_indent_word_start_and_line_start() -> None:
    text = "ab c\n  x_1 y\n"
    assert values("column", text) == [1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 0]
    assert values("indent", text) == [0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 0]
    assert ones(text, values("word_start", text)) == "acxy"
    assert ones(text, values("line_start", text)) == " "  # the first character after the newline
    assert values("line_start", text)[5] == 1 and values("indent", "\tx") == [4, 4]


def test_text_that_does_not_tokenize_falls_back_to_the_scanner() -> None:
    text = "print('it\\'s # not\n# a comment\n\"\"\"open doc\n  (x"
    s = tf.scan(text)
    assert s.method == tf.SIMPLE
    assert ones(text, s.string.astype(float)) == "'it\\'s # not" + '"""open doc\n  (x'
    assert ones(text, s.comment.astype(float)) == "# a comment"
    assert ones(text, s.docstring.astype(float)) == '"""open doc\n  (x'
    # the ( of print( counts; the one inside the unclosed docstring does not
    assert values("brackets", text)[-1] == 1


def test_an_unmatched_closer_does_not_go_below_zero() -> None:
    assert values("brackets", "a))(b") == [0, 0, 0, 1, 1]


def test_the_scanner_agrees_with_the_tokenizer_on_python_source() -> None:
    """Where both run (plain source, no string prefixes or nested quotes), they mark the same characters."""
    text = SNIPPET + "x = 'a' + \"b\"  # done\n"
    tok, simple = tf._tokenized(text), tf._simple(text)
    for part in ("string", "docstring", "comment"):
        np.testing.assert_array_equal(getattr(tok, part), getattr(simple, part), err_msg=part)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab (){}[]'\"#\\\n\t_1", max_size=80))
def test_any_text_gets_every_feature_one_value_per_character(text: str) -> None:
    got = tf.feature_values(text)
    assert set(got) == {f.key for f in tf.FEATURES}
    for key, v in got.items():
        assert v.shape == (len(text),) and np.all(np.isfinite(v)), key
    col = got["column"]
    for i, ch in enumerate(text):  # the column counts from the last newline, which itself is 0
        assert col[i] == (0 if ch == "\n" else i - text.rfind("\n", 0, i))
    assert np.all(got["brackets"] >= 0)
    s = tf.scan(text)
    assert not np.any(s.docstring & ~s.string) and not np.any(s.string & s.comment)


@pytest.mark.parametrize("feature", tf.FEATURES, ids=lambda f: f.key)
def test_every_feature_says_what_it_measures(feature: tf.Feature) -> None:
    assert feature.label and len(feature.measures) > 20 and tf.FEATURE[feature.key] is feature
