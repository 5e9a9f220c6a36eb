"""A vocabulary from a text file beside the weights: one token per line, UTF-8, in the embedding's row order."""

from __future__ import annotations

from pathlib import Path

from ..core.tokens import MAX_VOCABULARY
from .formats.checks import WeightsError

MAX_VOCABULARY_BYTES = 4 * 1024 * 1024  # a text file larger than this is refused before it is decoded
MAX_VOCABULARY_LINES = min(MAX_VOCABULARY, 200_000)
MAX_TOKEN_CHARS = 200


def read_vocabulary(data: bytes) -> tuple[str, ...]:
    """The tokens of a vocabulary file: one per line, taken as written (spaces kept; a final newline ends the last
    line), refused with a message naming the line when it is empty, too long or a repeat, or the file too big."""
    if len(data) > MAX_VOCABULARY_BYTES:
        raise WeightsError(f"the vocabulary file is {len(data):,} bytes; at most {MAX_VOCABULARY_BYTES:,} are read")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WeightsError(f"the vocabulary file is not UTF-8 text (byte {exc.start} cannot be read)") from None
    if not text:
        raise WeightsError("the vocabulary file is empty: it needs one token per line")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    if len(lines) > MAX_VOCABULARY_LINES:
        raise WeightsError(f"the vocabulary file has {len(lines):,} lines; at most {MAX_VOCABULARY_LINES:,} are read")
    tokens = [line.removesuffix("\r") for line in lines]
    seen: dict[str, int] = {}
    for n, tok in enumerate(tokens, start=1):
        if tok == "":
            raise WeightsError(f"line {n} of the vocabulary file is empty: every line must hold one token")
        if len(tok) > MAX_TOKEN_CHARS:
            raise WeightsError(f"line {n} of the vocabulary file has {len(tok):,} characters; a token has at most "
                               f"{MAX_TOKEN_CHARS}")
        if tok in seen:
            raise WeightsError(f"line {n} of the vocabulary file repeats {tok[:40]!r} (line {seen[tok]}): each token "
                               "names one embedding row, so each may appear once")
        seen[tok] = n
    return tuple(tokens)


def read_vocabulary_file(path: str | Path) -> tuple[str, ...]:
    """:func:`read_vocabulary` of a file on disk (size checked before it is read)."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_VOCABULARY_BYTES:
            raise WeightsError(f"the vocabulary file {p.name!r} is {p.stat().st_size:,} bytes; at most "
                               f"{MAX_VOCABULARY_BYTES:,} are read")
        with p.open("rb") as f:
            return read_vocabulary(f.read(MAX_VOCABULARY_BYTES + 1))
    except OSError as exc:
        raise WeightsError(f"cannot read the vocabulary file {str(p)!r}: {exc}") from None
