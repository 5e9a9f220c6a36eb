"""What sits around a recurrent stack in a real model: the embedding before it and the readout after it.

A language model (and most real models) reads token ids, not vectors: ``x[t] = E[id_t]``, the row of an
embedding table E (vocabulary × input width), as ``nn.Embedding`` and Keras's ``Embedding`` do. It answers with
scores over the vocabulary: ``logits[t] = W h[t] + b`` from the top layer's h (``nn.Linear``, Keras ``Dense``).
The vocabulary, when the file has one, names each id (a character, a word, a phoneme).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_VOCABULARY = 1_000_000
UNKNOWN = "<unk>"


class TokenError(ValueError):
    """Token ids, an embedding, a vocabulary or a readout that do not fit the model."""


def _table(value: object, what: str, ndim: int) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TokenError(f"{what} must be numbers: {exc}") from None
    if arr.ndim != ndim:
        raise TokenError(f"{what} must have {ndim} axes, it has shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise TokenError(f"{what} contains NaN or infinity")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class Embedding:
    """An embedding table (vocabulary × width, read-only) and the tokens its rows stand for (or None)."""

    table: np.ndarray
    vocabulary: tuple[str, ...] | None = None

    @classmethod
    def of(cls, table: object, vocabulary: Sequence[str] | None = None) -> Embedding:
        """An :class:`Embedding` with its shapes and vocabulary checked."""
        arr = _table(table, "the embedding", 2)
        if not 1 <= arr.shape[0] <= MAX_VOCABULARY:
            raise TokenError(f"the embedding has {arr.shape[0]:,} rows; gru-viz reads 1 to {MAX_VOCABULARY:,}")
        return cls(arr, check_vocabulary(vocabulary, arr.shape[0], "the embedding"))

    @property
    def size(self) -> int:
        """V, the number of tokens."""
        return self.table.shape[0]

    @property
    def width(self) -> int:
        """The width of each token's vector (the recurrent stack's input size)."""
        return self.table.shape[1]

    def lookup(self, ids: object) -> np.ndarray:
        """The rows of ``ids`` (any shape of whole numbers in 0…V−1): shape ``ids.shape + (width,)``."""
        return self.table[check_ids(ids, self.size)]


@dataclass(frozen=True)
class Readout:
    """A linear layer from the top layer's h to scores over a vocabulary: ``logits = h @ weight.T + bias``."""

    weight: np.ndarray  # (V, H_out), as nn.Linear keeps it
    bias: np.ndarray  # (V,)
    vocabulary: tuple[str, ...] | None = None

    @classmethod
    def of(cls, weight: object, bias: object = None, vocabulary: Sequence[str] | None = None) -> Readout:
        """A :class:`Readout` with its shapes checked; no bias is a zero bias (exact)."""
        w = _table(weight, "the readout's weight", 2)
        b = _table(np.zeros(w.shape[0]) if bias is None else bias, "the readout's bias", 1)
        if b.shape != (w.shape[0],):
            raise TokenError(f"the readout's bias has shape {b.shape}, its weight {w.shape} needs ({w.shape[0]},)")
        return cls(w, b, check_vocabulary(vocabulary, w.shape[0], "the readout"))

    @property
    def size(self) -> int:
        """V, the number of scores per step."""
        return self.weight.shape[0]

    def logits(self, h: np.ndarray) -> np.ndarray:
        """Scores ``h @ W.T + b`` for h of shape (…, H_out)."""
        return h @ self.weight.T + self.bias


def check_vocabulary(vocabulary: Sequence[str] | None, size: int, what: str) -> tuple[str, ...] | None:
    """The vocabulary as a tuple, or None; refused unless it is ``size`` distinct strings."""
    if vocabulary is None:
        return None
    if isinstance(vocabulary, str | bytes):
        raise TokenError("a vocabulary is a list of tokens, one per row, not one string")
    tokens = tuple(vocabulary)
    if not all(isinstance(t, str) for t in tokens):
        raise TokenError("every token of a vocabulary must be a string")
    if len(tokens) != size:
        raise TokenError(f"the vocabulary has {len(tokens):,} tokens, {what} has {size:,} rows")
    if len(set(tokens)) != len(tokens):
        seen: set[str] = set()
        dup = next(t for t in tokens if t in seen or seen.add(t))
        raise TokenError(f"the vocabulary lists {dup!r} twice")
    return tokens


def check_ids(ids: object, size: int) -> np.ndarray:
    """``ids`` as an int64 array, refused unless every id is a whole number in 0…size−1."""
    arr = np.asarray(ids)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TokenError("token ids must be whole numbers")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        bad = int(arr[(arr < 0) | (arr >= size)].flat[0])
        raise TokenError(f"token id {bad} is outside the vocabulary's 0…{size - 1}")
    return arr


def encode(
    tokens: Sequence[str], vocabulary: Sequence[str], unknown: str | None = None
) -> tuple[np.ndarray, list[int]]:
    """(ids of ``tokens``, positions of the tokens not in the vocabulary).

    An unknown token becomes the id of ``unknown`` when the vocabulary has it (Keras's ``[UNK]``, ``<unk>``), else
    it is dropped from the ids; either way its position is reported, so the page can say so.
    """
    index = {t: i for i, t in enumerate(vocabulary)}
    fallback = index.get(unknown) if unknown is not None else None
    ids: list[int] = []
    missing: list[int] = []
    for pos, tok in enumerate(tokens):
        i = index.get(tok)
        if i is None:
            missing.append(pos)
            if fallback is None:
                continue
            i = fallback
        ids.append(i)
    return np.array(ids, dtype=np.int64), missing


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, stable for any finite scores."""
    m = logits.max(axis=-1, keepdims=True)
    z = logits - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


# ------------------------------------------------------------------------------------------- typed text

UNKNOWN_MARKS = ("[UNK]", "<unk>", "<UNK>")  # Keras's, torchtext's and others' mark for a token never seen
SHOWN = {" ": "␣", "\n": "⏎", "\t": "⇥", "": "(empty)"}  # how a blank token is written on screen (Keras pads with "")


def is_mark(token: str) -> bool:
    """Whether a vocabulary entry is a mark, not text: "" (Keras's padding), "<pad>", "[UNK]", "</s>", …"""
    return token == "" or (len(token) > 2 and (token[0], token[-1]) in (("<", ">"), ("[", "]")))


def shown(token: str) -> str:
    """A token as the page writes it: a blank one visible (␣ for a space), the rest as they are."""
    return SHOWN.get(token, token)


@dataclass(frozen=True)
class Tokenised:
    """Typed text read into a vocabulary: what each step reads, and what was done to the text to get there."""

    tokens: tuple[str, ...]  # the vocabulary entry each step reads (the unknown mark where a piece was unknown)
    ids: np.ndarray  # int64, one id a step
    unknown: tuple[str, ...]  # the pieces of the text not in the vocabulary, each once, in order
    missing: int  # how many pieces of the text were not in the vocabulary (with repeats)
    pieces: int  # how many pieces the text was split into
    unit: str  # "character", "word" or "id": how the text was split
    lowered: bool  # the text was lower-cased first (the vocabulary is all lower-case)
    mark: str | None  # the vocabulary's unknown mark that stood in for an unknown piece, or None (left out)


def text_unit(vocabulary: Sequence[str]) -> str:
    """ "character" when every token of the vocabulary (marks aside) is one character, else "word"."""
    text = [t for t in vocabulary if not is_mark(t)]
    return "character" if text and all(len(t) == 1 for t in text) else "word"


def all_lower(vocabulary: Sequence[str]) -> bool:
    """Whether the vocabulary's tokens (marks aside) are all lower-case, so typed text is lower-cased to match."""
    text = [t for t in vocabulary if not is_mark(t)]
    return bool(text) and all(t == t.lower() for t in text) and any(t != t.upper() for t in text)


def tokenize(text: str, vocabulary: Sequence[str]) -> Tokenised:
    """``text`` read into ``vocabulary`` as its tokens suggest: one step a character when every token is one
    character, else one a word (split on whitespace); lower-cased first only when the vocabulary is all lower-case.
    A piece not in the vocabulary becomes its unknown mark ([UNK], <unk> or <UNK>) when it has one, else is left out.
    """
    unit = text_unit(vocabulary)
    lowered = all_lower(vocabulary)
    read = text.lower() if lowered else text
    pieces = list(read) if unit == "character" else read.split()
    mark = next((m for m in UNKNOWN_MARKS if m in vocabulary), None)
    ids, missing = encode(pieces, vocabulary, mark)
    unknown = tuple(dict.fromkeys(pieces[i] for i in missing))
    return Tokenised(tuple(vocabulary[i] for i in ids), ids, unknown, len(missing), len(pieces), unit, lowered,
                     mark)


def read_ids(text: str, size: int) -> Tokenised:
    """Token ids typed as whole numbers ("3 14 15", commas allowed) for an embedding of ``size`` rows and no
    vocabulary; TokenError says which piece is not an id."""
    pieces = text.replace(",", " ").replace(";", " ").split()
    ids = []
    for piece in pieces:
        if not piece.isdigit() or not piece.isascii():
            raise TokenError(f"{piece[:20]!r} is not a token id: this model names no tokens, so type whole numbers "
                             f"from 0 to {size - 1}, e.g. 3 14 15")
        if len(piece) > 9:  # no vocabulary reaches a billion rows (MAX_VOCABULARY)
            raise TokenError(f"token id {piece[:12]}… is outside the vocabulary's 0…{size - 1}")
        ids.append(int(piece))
    arr = check_ids(np.array(ids, dtype=np.int64), size)
    return Tokenised(tuple(str(i) for i in ids), arr, (), 0, len(ids), "id", False, None)


def example_text(vocabulary: Sequence[str] | None, size: int, count: int = 6) -> str:
    """Something to type into a model: its first ``count`` tokens that are text (marks aside), as it reads them;
    ids 0 1 2 … when it names no tokens."""
    if vocabulary is None:
        return " ".join(str(i) for i in range(min(count, size)))
    text = [t for t in vocabulary if not is_mark(t) and t.strip()][:count]
    if not text:
        return ""
    return "".join(text) if text_unit(vocabulary) == "character" else " ".join(text)
