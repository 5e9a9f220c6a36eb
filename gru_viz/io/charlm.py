"""The shipped character-level language models (GRU, LSTM, RNN) and the validation text they were measured on.

``scripts/train_char_models.py`` trains them on CPython's own standard library (the ``.py`` files at the top of the
interpreter's stdlib directory, listed with their sha256 in ``data/charlm/corpus.json``) and writes
``data/charlm/{gru,lstm,rnn}.safetensors``: the keys of a torch ``Embedding → GRU/LSTM/RNN → Linear`` (``embedding.
weight``, ``rnn.weight_ih_l0`` …, ``head.weight``, ``head.bias``) in float32, with the vocabulary, the unknown token
and what training measured in the ``__metadata__`` (all strings, ``gru_viz.*``).

The text
--------
A corpus text is its files one after another, each preceded by a header line ``#### <path>`` (the path relative
to the stdlib directory; :data:`HEADER`); every file ends with a newline, so each header starts a line. The
models saw these headers while training, and the validation text is shipped exactly so (``data/charlm/
validation.txt``, UTF-8, under the PSF licence: ``data/charlm/LICENSE-PSF.txt`` and ``NOTICE``), so the page needs
no ``Lib/`` of its own.

Tokens
------
One character is one token. The vocabulary is every character seen at least ``gru_viz.min_count`` times in the
training text, in code-point order, then :data:`UNKNOWN` ("<unk>"): any other character reads as "<unk>" (and is
counted, :func:`text_ids`), and "<unk>" is also what the model predicts for such a character.

Bits per character
------------------
``gru_viz.bits_per_char`` is the cross-entropy, in bits, of predicting each character of the validation text
from all the characters before it: the whole text read as one sequence from a zero state, its first character
not predicted (so over N − 1 predictions), computed in float64 from the float32 weights as shipped.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.kinds import some_kinds
from ..core.model import Model
from ..core.tokens import UNKNOWN, Embedding, Readout, TokenError
from .formats import safetensors
from .formats.checks import WeightsError
from .weights import read_file, read_weights_bytes

__all__ = ["CHARLM_KINDS", "DATA_DIR", "HEADER", "UNKNOWN", "CharLMError", "CharModelInfo", "char_model_info",
           "corpus_record", "join_parts", "load_char_model", "read_char_model", "sha256_text", "split_parts",
           "text_ids", "validation_parts", "validation_text"]

DATA_DIR = Path(__file__).resolve().parent / "data" / "charlm"
HEADER = "#### {path}\n"  # the line before each file of a corpus text
_HEADER_RE = re.compile(r"^#### (\S+)\n", re.MULTILINE)

# the file each shipped model lives in: GRU, LSTM and vanilla RNN only (the kinds the 2015 comparison has)
CHARLM_KINDS = some_kinds("charlm files", {"gru": "gru.safetensors", "lstm": "lstm.safetensors",
                                           "rnn": "rnn.safetensors"})


class CharLMError(ValueError):
    """A shipped file that does not say what it should (a broken checkout, or a file made by another script)."""


def join_parts(parts: list[tuple[str, str]]) -> str:
    """A corpus text: each (path, text) after its header line; every text must end with a newline."""
    out = []
    for path, text in parts:
        if not text.endswith("\n"):
            raise CharLMError(f"{path} does not end with a newline, so the next header would not start a line")
        if _HEADER_RE.search(text):
            raise CharLMError(f"{path} has a line that looks like a corpus header ({HEADER.strip()!r})")
        out.append(HEADER.format(path=path) + text)
    return "".join(out)


def split_parts(text: str) -> list[tuple[str, str]]:
    """The (path, text) parts of a corpus text (:func:`join_parts` undone)."""
    heads = list(_HEADER_RE.finditer(text))
    if not heads or heads[0].start() != 0:
        raise CharLMError("a corpus text starts with a header line")
    ends = [m.start() for m in heads[1:]] + [len(text)]
    return [(m.group(1), text[m.end() : end]) for m, end in zip(heads, ends, strict=True)]


def sha256_text(text: str) -> str:
    """The sha256 of ``text`` encoded as UTF-8 (a file's hash, for a file read as UTF-8 with no newline changes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def corpus_record() -> dict:
    """``data/charlm/corpus.json``: the Python the text came from, the files, their split and sha256."""
    return json.loads((DATA_DIR / "corpus.json").read_text(encoding="utf-8"))


@functools.cache
def validation_text() -> str:
    """The shipped validation text (its files after their header lines), exactly as the models were measured on."""
    return (DATA_DIR / "validation.txt").read_bytes().decode("utf-8")


def validation_parts() -> list[tuple[str, str]]:
    """The validation text's (path, text) parts, in order."""
    return split_parts(validation_text())


@dataclass(frozen=True)
class CharModelInfo:
    """What a shipped model's file says about itself (its ``__metadata__``, parsed)."""

    kind: str
    vocabulary: tuple[str, ...]
    unknown: str
    bits_per_char: float  # on the validation text (see the module docstring)
    bits_per_char_train: float
    params: int  # every parameter: embedding, recurrent layers and readout
    hidden_size: int
    embedding_size: int
    num_layers: int
    steps: int
    seed: int
    train_seconds: float
    corpus_sha256: str
    units: object  # gru_viz.units (JSON) when the analysis has written it, else None
    metadata: dict[str, str]  # everything, as stored


def _path(kind: str) -> Path:
    if kind not in CHARLM_KINDS:
        raise CharLMError(f"no shipped character model {kind!r}; there are {', '.join(CHARLM_KINDS)}")
    return DATA_DIR / CHARLM_KINDS[kind]


@functools.cache
def _read(kind: str) -> tuple[Model, CharModelInfo]:
    model, info = read_char_model(_path(kind))
    if info.kind != kind:
        raise CharLMError(f"{CHARLM_KINDS[kind]} says it is a {info.kind!r} model")
    return model, info


def read_char_model(path: Path) -> tuple[Model, CharModelInfo]:
    """A character model file written by train_char_models.py: the model (float64, with embedding and readout) and
    what its metadata says. Not cached: for the shipped files use :func:`load_char_model` and
    :func:`char_model_info`."""
    try:
        data = read_file(path)
        tensors, meta = safetensors.read_with_metadata(data)
    except WeightsError as exc:
        raise CharLMError(f"{Path(path).name}: {exc}") from None
    try:
        vocabulary = tuple(json.loads(meta["gru_viz.vocabulary"]))
        unknown = meta["gru_viz.unknown"]
        info = CharModelInfo(
            kind=meta["gru_viz.kind"], vocabulary=vocabulary, unknown=unknown,
            bits_per_char=float(meta["gru_viz.bits_per_char"]),
            bits_per_char_train=float(meta["gru_viz.bits_per_char_train"]),
            params=int(meta["gru_viz.params"]), hidden_size=int(meta["gru_viz.hidden_size"]),
            embedding_size=int(meta["gru_viz.embedding_size"]), num_layers=int(meta["gru_viz.num_layers"]),
            steps=int(meta["gru_viz.steps"]), seed=int(meta["gru_viz.seed"]),
            train_seconds=float(meta["gru_viz.train_seconds"]), corpus_sha256=meta["gru_viz.corpus_sha256"],
            units=json.loads(meta["gru_viz.units"]) if "gru_viz.units" in meta else None, metadata=dict(meta))
    except (KeyError, ValueError, TypeError) as exc:
        raise CharLMError(f"{path.name}: its metadata is not what train_char_models.py writes ({exc!r})") from None
    if unknown not in vocabulary:
        raise CharLMError(f"{path.name}: the unknown token {unknown!r} is not in its vocabulary")
    try:
        model = read_weights_bytes(data, path.name).model  # the recurrent stack, under "rnn.", checked as any upload
        embedding = Embedding.of(tensors["embedding.weight"], vocabulary)
        readout = Readout.of(tensors["head.weight"], tensors["head.bias"], vocabulary)
        model = model.with_tokens(embedding, readout)
    except (KeyError, TokenError, WeightsError, ValueError) as exc:
        raise CharLMError(f"{path.name}: {exc}") from None
    return model, info


def load_char_model(kind: str) -> Model:
    """The shipped character-level model of ``kind`` ("gru", "lstm", "rnn"), float64, with embedding and readout."""
    return _read(kind)[0]


def char_model_info(kind: str) -> CharModelInfo:
    """What the shipped file of ``kind`` says about itself: bits per character, sizes, vocabulary, unknown token."""
    return _read(kind)[1]


def text_ids(model: Model, text: str, unknown: str = UNKNOWN) -> tuple[np.ndarray, list[int]]:
    """(ids of each character of ``text``, positions of the characters the vocabulary lacks, read as ``unknown``)."""
    vocabulary = model.vocabulary
    if vocabulary is None or unknown not in vocabulary:
        raise CharLMError(f"this model's vocabulary has no {unknown!r} token to read unknown characters as")
    index = {t: i for i, t in enumerate(vocabulary)}
    fallback = index[unknown]
    ids = np.fromiter((index.get(ch, fallback) for ch in text), dtype=np.int64, count=len(text))
    missing = [pos for pos, ch in enumerate(text) if ch not in index]
    return ids, missing
