"""``.safetensors``, read and written by the ``safetensors`` package (``safetensors.deserialize`` /
``safetensors.numpy.save``), with gru-viz's own checks on top.

The package parses the header, checks every offset against the bytes and that the tensors tile the data section,
and copies a tensor's bytes only once the whole header has been validated. Before handing it the file, gru-viz
checks what it alone cares about, naming the tensor at fault: the header's size, that no key appears twice, at
most ``MAX_TENSORS`` tensors of at most ``MAX_NDIM`` dimensions, real-number dtypes only (BF16 becomes float32),
each shape's size matching its offsets, and string-only ``__metadata__`` (which the package does not return for
bytes, so it is read from the header here).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

import numpy as np

from .checks import MAX_HEADER_BYTES, MAX_NDIM, MAX_TENSORS, WeightsError

# the dtypes gru-viz reads: safetensors name -> item size; BF16 is widened to float32 here (NumPy has no bfloat16)
_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4,
             "U16": 2, "U8": 1, "BOOL": 1}
_NUMPY = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
_WRITABLE = {np.dtype(t) for t in ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64",
                                   "uint32", "uint16", "uint8", "bool")}


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise WeightsError(f"safetensors header: key {key!r} appears twice")
        out[key] = value
    return out


def _naturals(v: object) -> bool:
    """A JSON list of non-negative integers (not booleans)."""
    return isinstance(v, list) and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in v)


def _check_header(data: bytes) -> tuple[dict[str, str], list[str]]:
    """gru-viz's checks on a safetensors header (see the module docstring): its ``__metadata__`` and tensor names."""
    if len(data) < 8:
        raise WeightsError(f"not a safetensors file: {len(data)} bytes, shorter than the 8-byte header length")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise WeightsError(f"safetensors header length {n} exceeds the {MAX_HEADER_BYTES}-byte limit")
    if n > len(data) - 8:
        raise WeightsError(f"safetensors header length {n} runs past the end of the {len(data)}-byte file")
    try:
        header = json.loads(bytes(data[8 : 8 + n]).decode("utf-8"), object_pairs_hook=_no_duplicates)
    except WeightsError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WeightsError(f"safetensors header is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(header, dict):
        raise WeightsError("safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise WeightsError("safetensors __metadata__ must be an object of strings")
    if len(header) > MAX_TENSORS:
        raise WeightsError(f"safetensors header lists {len(header)} tensors, more than the limit of {MAX_TENSORS}")
    data_len = len(data) - 8 - n
    for name, info in header.items():
        where = f"safetensors tensor {name!r}"
        if not isinstance(info, dict):
            raise WeightsError(f"{where}: entry is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in _ITEMSIZE:
            raise WeightsError(f"{where}: unsupported dtype {dtype!r} (supported: {', '.join(_ITEMSIZE)})")
        if not _naturals(shape) or len(shape) > MAX_NDIM:
            raise WeightsError(f"{where}: shape must be a list of at most {MAX_NDIM} non-negative integers")
        if not _naturals(offsets) or len(offsets) != 2:
            raise WeightsError(f"{where}: data_offsets must be two non-negative integers")
        if not offsets[0] <= offsets[1] <= data_len:
            raise WeightsError(f"{where}: data_offsets {offsets} lie outside the {data_len}-byte data section")
        nbytes = math.prod(shape) * _ITEMSIZE[dtype]
        if nbytes != offsets[1] - offsets[0]:
            raise WeightsError(
                f"{where}: shape {shape} of {dtype} needs {nbytes} bytes, data_offsets give {offsets[1] - offsets[0]}"
            )
    return metadata, list(header)


def _explain(message: str) -> str:
    """The package's refusal, in words that say what is wrong with the file."""
    message = message.removeprefix("Error while deserializing: ").strip()
    bad = re.search(r"invalid offset for tensor `(.*)`", message)
    if bad:
        return (f"safetensors tensor {bad.group(1)[:100]!r}: its data_offsets overlap another tensor or leave a gap "
                "(the tensors must tile the data section, in order)")
    if "not fully covered" in message:
        return "safetensors data section has bytes that belong to no tensor"
    return f"not a valid safetensors file: {message[:200]}"


def read_with_metadata(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors (BF16 widened to float32, native byte order, writeable) and ``__metadata__`` of a file."""
    import safetensors

    metadata, order = _check_header(data)
    try:
        flat = safetensors.deserialize(bytes(data))
    except Exception as exc:  # safetensors.SafetensorError: offsets, gaps, JSON types, …
        raise WeightsError(_explain(str(exc))) from None
    views = dict(flat)
    out: dict[str, np.ndarray] = {}
    for name in order:  # the header's order (the package returns them in no particular one)
        view = views[name]
        arr = np.frombuffer(view["data"], dtype=_NUMPY[view["dtype"]]).reshape(view["shape"])
        if view["dtype"] == "BF16":  # bfloat16 is the top half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr.astype(arr.dtype.newbyteorder("="), copy=True)
    return out, metadata


def read(data: bytes) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (BF16 becomes float32); a malformed file raises :class:`WeightsError`."""
    return read_with_metadata(data)[0]


def read_metadata(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (checked like the whole header)."""
    return _check_header(data)[0]


def write(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """A safetensors file holding ``tensors`` (and string ``metadata``), written by ``safetensors.numpy.save``."""
    import safetensors.numpy

    if metadata and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise WeightsError("safetensors metadata must map strings to strings")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise WeightsError(f"safetensors tensor name {name!r} is not allowed")
        arr = np.asarray(value)
        if arr.dtype.newbyteorder("=") not in _WRITABLE:
            raise WeightsError(f"tensor {name!r}: dtype {arr.dtype} cannot be stored in safetensors")
        # the package reads the array's memory as it lies: make it C-ordered and little-endian first
        arrays[name] = np.array(arr, dtype=arr.dtype.newbyteorder("<"), order="C")  # (keeps 0-d arrays 0-d)
    try:
        return safetensors.numpy.save(arrays, metadata=dict(metadata) if metadata else None)
    except Exception as exc:
        raise WeightsError(f"cannot write safetensors: {str(exc)[:200]}") from None
