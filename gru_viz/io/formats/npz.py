"""``.npz``: ``np.load(allow_pickle=False)`` after the archive's unpacked size and every ``.npy`` header are checked.

Besides the arrays, a gru-viz ``.npz`` may hold metadata the weights cannot say (a minGRU's or minLSTM's kind):
members named ``gru_viz.<field>``, each one short string (a 0-d unicode array, which needs no pickle). Nothing
else that is not a real-number array is read.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Sequence

import numpy as np

from ...core.tokens import MAX_VOCABULARY
from .checks import MAX_METADATA_CHARS, METADATA_PREFIX, WeightsError, check_archive

VOCABULARY = METADATA_PREFIX + "vocabulary"  # a 1-D array of strings: the embedding's tokens, in its row order
MAX_TOKEN_CHARS = 200


def _is_metadata(key: str, shape: tuple[int, ...], dtype: np.dtype) -> bool:
    """A member that is metadata: a gru_viz.* name holding one short unicode string (or the vocabulary's strings)."""
    if key == VOCABULARY:
        return dtype.kind == "U" and len(shape) == 1 and 0 < shape[0] <= MAX_VOCABULARY and (
            dtype.itemsize <= 4 * MAX_TOKEN_CHARS)
    return (key.startswith(METADATA_PREFIX) and dtype.kind == "U" and shape == ()
            and dtype.itemsize <= 4 * MAX_METADATA_CHARS)


def _check_npy_headers(data: bytes) -> None:
    """Check every member's .npy header against the bytes behind it, before numpy allocates anything.

    (numpy allocates the array a header declares before reading it, so a lying header would otherwise cost
    memory.) Object and non-numeric dtypes are refused here too.
    """
    fmt = np.lib.format
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            name = info.filename
            if not name.endswith(".npy"):
                raise WeightsError(f"member {name!r} of the .npz is not a .npy array")
            key = name[:-4]
            with zf.open(info) as f:
                version = fmt.read_magic(f)
                if version == (1, 0):
                    shape, _fortran, dtype = fmt.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _fortran, dtype = fmt.read_array_header_2_0(f)
                else:
                    raise WeightsError(f"array {key!r} in the .npz uses .npy format version {version}, not 1.0/2.0")
                offset = f.tell()
            if dtype.hasobject:
                raise WeightsError(f"array {key!r} in the .npz is an object array, which would need pickle; refused")
            if _is_metadata(key, shape, dtype):
                pass
            elif key.startswith(METADATA_PREFIX):
                raise WeightsError(f"member {key!r} of the .npz is not one string of at most {MAX_METADATA_CHARS} "
                                   "characters, as gru-viz's metadata is")
            elif dtype.kind not in "biuf":
                raise WeightsError(f"array {key!r} in the .npz has dtype {dtype}, not real numbers")
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes != info.file_size - offset:
                raise WeightsError(
                    f"array {key!r} in the .npz: its header's shape {shape} of {dtype} needs {nbytes} bytes, "
                    f"the archive holds {info.file_size - offset}"
                )


def read_with_metadata(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays of an ``.npz`` archive (real numbers only) and its gru-viz metadata, read with allow_pickle=False."""
    if not data.startswith(b"PK"):
        raise WeightsError("not an .npz file (a zip archive of .npy arrays): it does not start with 'PK'")
    check_archive(data, ".npz")
    try:
        _check_npy_headers(data)
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            out = {}
            for name in npz.files:
                value = npz[name]
                if not isinstance(value, np.ndarray):
                    raise WeightsError(f"member {name!r} of the .npz is not a .npy array")
                out[name] = value
    except WeightsError:
        raise
    except Exception as exc:  # zip and .npy format errors come in many types
        raise WeightsError(f"not a readable .npz archive: {type(exc).__name__}: {str(exc)[:200]}") from None
    metadata = {name[len(METADATA_PREFIX):]: (json.dumps(out.pop(name).tolist(), ensure_ascii=False)
                                               if name == VOCABULARY else str(out.pop(name)))
                for name in list(out) if _is_metadata(name, out[name].shape, out[name].dtype)}
    for name, arr in out.items():
        if arr.dtype.kind not in "biuf":
            raise WeightsError(f"array {name!r} in the .npz has dtype {arr.dtype}, not real numbers")
    return out, metadata


def read(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, loaded with ``allow_pickle=False``; only real numbers are accepted."""
    return read_with_metadata(data)[0]


def write(arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None,
          vocabulary: Sequence[str] | None = None) -> bytes:
    """An ``.npz`` archive of the arrays, with each metadata field as a ``gru_viz.<field>`` string member (and the
    vocabulary, if any, as a ``gru_viz.vocabulary`` array of strings)."""
    members = dict(arrays)
    if vocabulary is not None:
        members[VOCABULARY] = np.array(list(vocabulary), dtype=str)
    for field, value in (metadata or {}).items():
        if len(value) > MAX_METADATA_CHARS:
            raise ValueError(f"metadata {field!r} is longer than {MAX_METADATA_CHARS} characters")
        members[METADATA_PREFIX + field] = np.array(value)
    buf = io.BytesIO()
    np.savez(buf, **members)
    return buf.getvalue()
