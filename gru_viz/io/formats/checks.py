"""The caps and checks every weights format shares: sizes, archive bombs, kind hints, float64 conversion."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import numpy as np

from ...core.spec import KINDS

MAX_WEIGHTS_BYTES = 50 * 1024 * 1024  # a weights file larger than this is refused before it is read
MAX_PARAMS = 5_000_000  # scalar parameters of the recurrent model
MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
MAX_UNPACKED_BYTES = 2 * MAX_WEIGHTS_BYTES  # what an archive (.npz, .pt zip) may unpack to
MAX_TENSORS = 100_000
MAX_NDIM = 32

SUPPORTED_EXTENSIONS = (".safetensors", ".npz", ".pt", ".pth", ".keras", ".h5", ".onnx")


KIND_OF_BLOCKS = {3: "gru", 4: "lstm", 1: "rnn"}  # H-row blocks of weight_hh (a Keras kernel's columns ÷ u)


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


def normalise_kind(kind: str | None) -> str | None:
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
