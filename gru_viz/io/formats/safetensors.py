"""``.safetensors``: a strict reader and writer (no code runs; nothing is allocated before the header is checked)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np

from .checks import MAX_HEADER_BYTES, MAX_NDIM, MAX_TENSORS, WeightsError

# safetensors dtype -> (numpy dtype as stored, little-endian)
_ST_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # converted to float32 after reading
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NP_TO_ST = {
    np.dtype("float64"): "F64",
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("int16"): "I16",
    np.dtype("int8"): "I8",
    np.dtype("uint64"): "U64",
    np.dtype("uint32"): "U32",
    np.dtype("uint16"): "U16",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise WeightsError(f"safetensors header: key {key!r} appears twice")
        out[key] = value
    return out


def _st_header(data: bytes) -> tuple[dict[str, tuple[str, tuple[int, ...], int, int]], dict[str, str], int]:
    """Parse and check a safetensors header: ({name: (dtype, shape, begin, end)}, metadata, data start)."""
    if len(data) < 8:
        raise WeightsError(f"not a safetensors file: {len(data)} bytes, shorter than the 8-byte header length")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise WeightsError(f"safetensors header length {n} exceeds the {MAX_HEADER_BYTES}-byte limit")
    if n > len(data) - 8:
        raise WeightsError(f"safetensors header length {n} runs past the end of the {len(data)}-byte file")
    if n < 2:
        raise WeightsError(f"safetensors header length {n} is too short to hold a JSON object")
    raw = bytes(data[8 : 8 + n])
    if raw[:1] != b"{":
        raise WeightsError("safetensors header is not a JSON object (it must start with '{')")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except WeightsError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WeightsError(f"safetensors header is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(header, dict):
        raise WeightsError("safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise WeightsError("safetensors __metadata__ must be an object of strings")
    if len(header) > MAX_TENSORS:
        raise WeightsError(f"safetensors header lists {len(header)} tensors, more than the limit of {MAX_TENSORS}")
    data_len = len(data) - 8 - n
    entries: dict[str, tuple[str, tuple[int, ...], int, int]] = {}
    for name, info in header.items():
        where = f"safetensors tensor {name!r}"
        if not isinstance(info, dict):
            raise WeightsError(f"{where}: entry is not an object")
        unknown = set(info) - {"dtype", "shape", "data_offsets"}
        if unknown or len(info) != 3:
            raise WeightsError(f"{where}: entry must have exactly dtype, shape and data_offsets, has {sorted(info)}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype, str) or dtype not in _ST_DTYPES:
            raise WeightsError(f"{where}: unsupported dtype {dtype!r} (supported: {', '.join(_ST_DTYPES)})")
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_NDIM
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
        ):
            raise WeightsError(f"{where}: shape must be a list of at most {MAX_NDIM} non-negative integers")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
        ):
            raise WeightsError(f"{where}: data_offsets must be two non-negative integers")
        begin, end = offsets
        if not begin <= end <= data_len:
            raise WeightsError(f"{where}: data_offsets [{begin}, {end}] lie outside the {data_len}-byte data section")
        nbytes = math.prod(shape) * _ST_DTYPES[dtype].itemsize
        if nbytes != end - begin:
            raise WeightsError(
                f"{where}: shape {shape} of {dtype} needs {nbytes} bytes, data_offsets give {end - begin}"
            )
        entries[name] = (dtype, tuple(shape), begin, end)
    # The format requires the tensors to tile the data section: contiguous, in order, no gaps or overlaps.
    pos = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3])):
        if begin != pos:
            what = "overlaps the previous tensor" if begin < pos else f"leaves a gap at byte {pos}"
            raise WeightsError(f"safetensors tensor {name!r}: data_offsets [{begin}, {end}] {what}")
        pos = end
    if pos != data_len:
        raise WeightsError(f"safetensors data section has {data_len - pos} bytes that belong to no tensor")
    return entries, metadata, 8 + n


def read_with_metadata(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    entries, metadata, start = _st_header(data)
    out: dict[str, np.ndarray] = {}
    for name, (dtype, shape, begin, end) in entries.items():
        dt = _ST_DTYPES[dtype]
        arr = np.frombuffer(data, dtype=dt, count=(end - begin) // dt.itemsize, offset=start + begin).reshape(shape)
        if dtype == "BF16":  # bfloat16 is the top half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        else:
            arr = arr.astype(dt.newbyteorder("="), copy=True)
        out[name] = arr
    return out, metadata


def read(data: bytes) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (BF16 becomes float32); a malformed file raises :class:`WeightsError`."""
    return read_with_metadata(data)[0]


def read_metadata(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (checked like the whole header)."""
    return _st_header(data)[1]


def write(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """A safetensors file holding ``tensors`` (and string ``metadata``), readable by the safetensors package."""
    header: dict[str, object] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise WeightsError("safetensors metadata must map strings to strings")
        header["__metadata__"] = dict(metadata)
    blobs: list[bytes] = []
    pos = 0
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise WeightsError(f"safetensors tensor name {name!r} is not allowed")
        arr = np.asarray(value)
        native = arr.dtype.newbyteorder("=")
        if native not in _NP_TO_ST:
            raise WeightsError(f"tensor {name!r}: dtype {arr.dtype} cannot be stored in safetensors")
        blob = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _NP_TO_ST[native], "shape": list(arr.shape), "data_offsets": [pos, pos + len(blob)]}
        blobs.append(blob)
        pos += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so that the data starts 8-byte aligned, as the package does
    return len(text).to_bytes(8, "little") + text + b"".join(blobs)
