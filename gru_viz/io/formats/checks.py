"""The caps and checks every weights format shares: sizes, archive bombs, kind hints, float64 conversion."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import numpy as np

from ...core.kinds import KIND, KINDS

MAX_WEIGHTS_BYTES = 50 * 1024 * 1024  # a weights file larger than this is refused before it is read
MAX_PARAMS = 5_000_000  # scalar parameters of the recurrent model
MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
MAX_UNPACKED_BYTES = 2 * MAX_WEIGHTS_BYTES  # what an archive (.npz, .pt zip) may unpack to
MAX_TENSORS = 100_000
MAX_NDIM = 32

SUPPORTED_EXTENSIONS = (".safetensors", ".npz", ".pt", ".pth", ".keras", ".h5", ".onnx")


# gru-viz's own settings inside a weights file (safetensors __metadata__, an .npz member, a .pt entry): gru_viz.kind, …
METADATA_PREFIX = "gru_viz."
MAX_METADATA_CHARS = 64

# The kinds with W_hh by its number of H-row blocks: weight_hh's rows ÷ its columns say the kind of a state_dict.
KIND_OF_BLOCKS = {len(KIND[k].blocks): k for k in KINDS if KIND[k].recurrent}
if len(KIND_OF_BLOCKS) != sum(KIND[k].recurrent for k in KINDS):
    raise ImportError("two kinds with W_hh have as many blocks: a state_dict's shapes would not say its kind")
# The kinds without W_hh (minGRU, minLSTM): only weight_ih's rows, G·H, and a file's metadata can say which.
KINDS_WITHOUT_HH = tuple(k for k in KINDS if not KIND[k].recurrent)


class WeightsError(ValueError):
    """A weights file or parameter set that is refused; the message says what was wrong."""


def check_archive(data: bytes, what: str) -> list[zipfile.ZipInfo]:
    """Refuse a zip archive whose declared unpacked size is over the limit (a decompression bomb).

    ``zipfile`` never unpacks a member past its declared size, so this bounds what reading can produce.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WeightsError(f"not a readable {what} archive: {exc}") from None
    if len(infos) > MAX_TENSORS:
        raise WeightsError(f"the {what} archive has {len(infos)} members, more than the limit of {MAX_TENSORS}")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES:
        raise WeightsError(
            f"the {what} archive would unpack to {total} bytes, more than the limit of {MAX_UNPACKED_BYTES}"
        )
    return infos


def blocks_text(kinds: Mapping[int, str], names: Mapping[str, str]) -> str:
    """"1, 3 or 4 times (RNN, GRU, LSTM)"-style words for a shape message, from blocks → kind and kind → name."""
    counts = sorted(kinds)
    times = ", ".join(map(str, counts[:-1])) + (" or " if len(counts) > 1 else "") + str(counts[-1])
    return f"{times} times", ", ".join(names[kinds[c]] for c in counts)


def normalise_kind(kind: str | None) -> str | None:
    """A kind hint as a kind key (case and spaces ignored), or None; an unknown kind is a :class:`WeightsError`."""
    if kind is None:
        return None
    k = str(kind).strip().lower()
    if k not in KINDS:
        raise WeightsError(f"unknown kind hint {kind!r}; choose one of {', '.join(KINDS)}")
    return k


def to_float64(arrays: Mapping[str, np.ndarray], names: Mapping[str, str]) -> dict[str, np.ndarray]:
    """float64 copies, refusing non-numeric and non-finite values (naming the key)."""
    out = {}
    for k, v in arrays.items():
        arr = np.asarray(v)
        if arr.dtype.kind not in "biuf":
            raise WeightsError(f"{names.get(k, k)} has dtype {arr.dtype}, not real numbers")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise WeightsError(f"{names.get(k, k)} contains NaN or infinity")
        out[k] = arr
    return out
