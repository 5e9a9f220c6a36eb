"""Features of Python source computed per character, to hold a model's units against (gru_viz/core/units.py).

Each feature describes the text *after* reading a character, as a model's state does (``h[t]`` has read
character t): a string's opening quote is inside the string, its closing quote is not (after it the string has
ended); a newline ends its line, so its position in the line is 0.

Strings, comments and docstrings come from Python's own tokenizer (:mod:`tokenize`) when the text tokenizes, else
from a simple scanner (quotes, triple quotes, backslash escapes, ``#`` to the end of the line): a learner's own
text need not be Python. :func:`scan` says which was used.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

TOKENIZE, SIMPLE = "Python's tokenizer", "a simple scanner"
OPEN, CLOSE = "([{", ")]}"


@dataclass(frozen=True)
class Scan:
    """Which characters are inside a string, a docstring or a comment, (N,) bool each, and how that was found."""

    string: np.ndarray
    docstring: np.ndarray
    comment: np.ndarray
    method: str  # TOKENIZE or SIMPLE


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _tokenized(text: str) -> Scan:
    """Strings, docstrings and comments from :mod:`tokenize` (raises on text that does not tokenize)."""
    n = len(text)
    string, doc, comment = (np.zeros(n, bool) for _ in range(3))
    starts = _line_starts(text)
    toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    prev = tokenize.NEWLINE  # a docstring is a string alone on its logical line: after NEWLINE/INDENT/DEDENT/NL
    for k, tok in enumerate(toks):
        a, b = (min(n, starts[row - 1] + col) if row <= len(starts) else n for row, col in (tok.start, tok.end))
        if tok.type == tokenize.STRING:
            string[a : b - 1] = True  # the closing quote ends it
            nxt = next((t.type for t in toks[k + 1 :] if t.type not in (tokenize.COMMENT, tokenize.NL)), None)
            if prev in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL) and nxt in (
                tokenize.NEWLINE, tokenize.ENDMARKER
            ) and tok.string.lstrip("rRbBuUfF")[:3] in ('"""', "'''"):
                doc[a : b - 1] = True
        elif tok.type == tokenize.COMMENT:
            comment[a:b] = True
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            prev = tok.type
    return Scan(string, doc, comment, TOKENIZE)


def _simple(text: str) -> Scan:
    """Strings, docstrings and comments by a character scanner that never fails."""
    n = len(text)
    string, doc, comment = (np.zeros(n, bool) for _ in range(3))
    i, line_blank = 0, True  # line_blank: only whitespace so far on this line
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            comment[i:j] = True
            i = j
            continue
        if ch in "'\"":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else ch
            j = i + len(quote)
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    j += len(quote)
                    break
                if len(quote) == 1 and text[j] == "\n":  # an unclosed one-line string ends with its line
                    break
                j += 1
            j = min(j, n)
            closed = text[j - 1 : j] == quote[-1] and j - len(quote) > i
            end = j - 1 if closed else j
            string[i:end] = True
            if len(quote) == 3 and line_blank:
                doc[i:end] = True
            line_blank = False
            i = j
            continue
        if ch == "\n":
            line_blank = True
        elif not ch.isspace():
            line_blank = False
        i += 1
    return Scan(string, doc, comment, SIMPLE)


@lru_cache(maxsize=8)
def scan(text: str) -> Scan:
    """Strings, docstrings and comments of ``text``: by Python's tokenizer when it tokenizes, else by a scanner."""
    try:
        return _tokenized(text)
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        return _simple(text)


def _bracket_depth(text: str) -> np.ndarray:
    s = scan(text)
    quiet = s.string | s.comment
    out = np.zeros(len(text))
    depth = 0
    for i, ch in enumerate(text):
        if not quiet[i]:
            if ch in OPEN:
                depth += 1
            elif ch in CLOSE:
                depth = max(0, depth - 1)  # an unmatched closer (a learner's text) does not go below 0
        out[i] = depth
    return out


def _column(text: str) -> np.ndarray:
    out = np.zeros(len(text))
    col = 0
    for i, ch in enumerate(text):
        col = 0 if ch == "\n" else col + 1
        out[i] = col
    return out


def _indent(text: str) -> np.ndarray:
    out = np.zeros(len(text))
    width, leading = 0, True
    for i, ch in enumerate(text):
        if ch == "\n":
            width, leading = 0, True
        elif leading and ch in " \t":
            width += 4 if ch == "\t" else 1
        else:
            leading = False
        out[i] = width
    return out


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _word_start(text: str) -> np.ndarray:
    return np.array([_is_word(ch) and (i == 0 or not _is_word(text[i - 1])) for i, ch in enumerate(text)], float)


def _after_newline(text: str) -> np.ndarray:
    return np.array([i > 0 and text[i - 1] == "\n" for i in range(len(text))], float)


@dataclass(frozen=True)
class Feature:
    """One feature of the text per character: its key, its name for people, what it measures, and its values."""

    key: str
    label: str
    measures: str
    values: Callable[[str], np.ndarray]  # text → (N,) float


FEATURES: tuple[Feature, ...] = (
    Feature("string", "inside a string", "1 from a string's opening quote to just before its closing quote, else 0",
            lambda text: scan(text).string.astype(float)),
    Feature("docstring", "inside a docstring",
            "1 inside a triple-quoted string that stands alone as a statement (a docstring), else 0",
            lambda text: scan(text).docstring.astype(float)),
    Feature("comment", "inside a comment", "1 from a # outside strings to the end of its line, else 0",
            lambda text: scan(text).comment.astype(float)),
    Feature("brackets", "bracket depth", "how many brackets ( [ { are open, outside strings and comments",
            _bracket_depth),
    Feature("indent", "indentation", "the width of the line's leading spaces read so far (a tab counts 4)", _indent),
    Feature("column", "position in the line", "characters since the last newline (the newline itself is 0)",
            _column),
    Feature("word_start", "start of a word", "1 on a letter, digit or _ that follows none, else 0", _word_start),
    Feature("line_start", "right after a newline", "1 on the first character of a line, else 0", _after_newline),
)
FEATURE = {f.key: f for f in FEATURES}


def feature_values(text: str) -> dict[str, np.ndarray]:
    """Every feature of :data:`FEATURES` over ``text``, by key."""
    return {f.key: f.values(text) for f in FEATURES}
