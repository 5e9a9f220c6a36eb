"""HDF5 (Keras's ``.weights.h5``) read from memory with ``h5py``: every dataset's declared shape, type, storage and
filters are checked before a byte of it is read, and nothing that points outside the file is followed.

h5py is imported only when such a file is read. What is refused, and why:

- soft and external links, external raw-data files and virtual datasets: they would make HDF5 open or read other
  files on this machine (an uploaded file could otherwise pull a server file's bytes into its "weights");
- filters other than HDF5's own deflate, shuffle, Fletcher-32 and h5py's LZF: others are plugins, shared libraries
  loaded from disk;
- non-numeric datasets, more than ``MAX_NDIM`` dimensions, and declared sizes over ``MAX_UNPACKED_BYTES`` in all
  (a compressed dataset cannot inflate past its declared size, so this bounds what reading can produce);
- more than ``MAX_OBJECTS`` groups and datasets, or nesting deeper than ``MAX_DEPTH`` (which also stops a cycle of
  hard links).
"""

from __future__ import annotations

import io
import math

import numpy as np

from .checks import MAX_NDIM, MAX_UNPACKED_BYTES, WeightsError

MAX_OBJECTS = 10_000
MAX_DEPTH = 16
_ALLOWED_FILTERS = {1: "deflate", 2: "shuffle", 3: "fletcher32", 32000: "lzf"}
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


MAX_ATTRIBUTE_BYTES = 16 * 1024 * 1024  # a Keras model_config is JSON text; a layer's weight_names a few names


def read(data: bytes, what: str = ".weights.h5") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """({dataset path: array}, {group path: its ``name`` attribute}) of an HDF5 file held in memory."""
    arrays, names, _ = read_with_attributes(data, what)
    return arrays, names


def read_with_attributes(
    data: bytes, what: str = ".h5", attributes: tuple[str, ...] = ()
) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, dict[str, str | list[str]]]]:
    """:func:`read`, and {group path: {attribute: text or list of texts}} for the attributes named in ``attributes``
    (Keras's legacy writer splits a long list into ``name0``, ``name1``, …: those are joined back)."""
    if not any(data[o : o + 8] == HDF5_MAGIC for o in (0, 512, 1024, 2048)):  # after a user block, if any
        raise WeightsError(f"not an HDF5 file (a {what} starts with the HDF5 signature)")
    try:
        import h5py
    except ImportError:
        raise WeightsError(f"reading a {what} file needs h5py: pip install 'gru-viz[formats]'") from None
    arrays: dict[str, np.ndarray] = {}
    names: dict[str, str] = {}
    attrs: dict[str, dict[str, str | list[str]]] = {}
    seen = [0]
    total = [0]

    def visit(group: h5py.Group, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise WeightsError(f"HDF5 group {path!r} is nested more than {MAX_DEPTH} deep")
        name_attr = _name_attribute(group)
        if name_attr is not None:
            names[path] = name_attr
        if attributes:
            found = _text_attributes(group, path, attributes)
            if found:
                attrs[path] = found
        for key in group:
            where = f"{path}/{key}" if path else key
            seen[0] += 1
            if seen[0] > MAX_OBJECTS:
                raise WeightsError(f"the HDF5 file holds more than {MAX_OBJECTS} groups and datasets")
            link = group.get(key, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise WeightsError(f"HDF5 {where!r} is an external link to {link.filename!r}; refused")
            if isinstance(link, h5py.SoftLink):
                raise WeightsError(f"HDF5 {where!r} is a soft link to {link.path!r}; refused")
            obj = group.get(key)
            if isinstance(obj, h5py.Group):
                visit(obj, where, depth + 1)
            elif isinstance(obj, h5py.Dataset):
                arrays[where] = _dataset(obj, where, total)
            else:
                raise WeightsError(f"HDF5 {where!r} is a {type(obj).__name__}, not a group or dataset")

    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            visit(f, "", 0)
    except WeightsError:
        raise
    except Exception as exc:  # HDF5 reports a damaged or lying file in many ways (OSError, KeyError, ValueError…)
        raise WeightsError(f"not a readable HDF5 file: {type(exc).__name__}: {str(exc)[:200]}") from None
    return arrays, names, attrs


def _text(value: object, where: str) -> str | list[str]:
    """An attribute's value as text or a list of texts (h5py gives str, bytes or arrays of them)."""
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    arr = np.asarray(value)
    if arr.size == 0:  # Keras writes an empty list of names as an empty float array
        return []
    if arr.ndim == 1 and arr.dtype.kind in "SUO":
        out = []
        for v in arr:
            if isinstance(v, bytes | np.bytes_):
                v = bytes(v).decode("utf-8", "replace")
            if not isinstance(v, str):
                raise WeightsError(f"HDF5 attribute {where!r} holds {type(v).__name__}, not text")
            out.append(v)
        return out
    raise WeightsError(f"HDF5 attribute {where!r} has type {arr.dtype} and shape {arr.shape}, not text")


def _text_attributes(group: object, path: str, wanted: tuple[str, ...]) -> dict[str, str | list[str]]:
    """The attributes of ``group`` named in ``wanted`` (joining ``name0``, ``name1``, … chunks), size-checked."""
    out: dict[str, str | list[str]] = {}
    attrs = group.attrs  # type: ignore[attr-defined]
    total = 0
    for key in attrs:
        base = next((w for w in wanted if key == w or (key.startswith(w) and key[len(w):].isdigit())), None)
        if base is None:
            continue
        where = f"{path}/@{key}" if path else f"@{key}"
        try:
            total += attrs.get_id(key).get_storage_size()
        except RuntimeError:  # variable-length strings: HDF5 does not say; they are in the file, so bounded by it
            pass
        if total > MAX_ATTRIBUTE_BYTES:
            raise WeightsError(f"HDF5 attribute {where!r} takes more than {MAX_ATTRIBUTE_BYTES} bytes")
        value = _text(attrs[key], where)
        total += sum(map(len, value)) if isinstance(value, list) else len(value)
        if total > MAX_ATTRIBUTE_BYTES:
            raise WeightsError(f"HDF5 attribute {where!r} holds more than {MAX_ATTRIBUTE_BYTES} characters")
        if key == base:
            out[base] = value
        else:
            chunk = value if isinstance(value, list) else [value]
            out.setdefault(f"{base}#chunks", []).append((int(key[len(base):]), chunk))  # type: ignore[union-attr]
    for base in wanted:
        chunks = out.pop(f"{base}#chunks", None)
        if chunks is not None and base not in out:
            out[base] = [v for _, part in sorted(chunks) for v in part]  # type: ignore[misc]
    return out


def _name_attribute(group: object) -> str | None:
    """The group's ``name`` attribute (Keras writes the layer's name there), if it is a short string."""
    attrs = group.attrs  # type: ignore[attr-defined]
    if "name" not in attrs:
        return None
    aid = attrs.get_id("name")
    if aid.get_storage_size() > 4096:
        return None
    value = attrs["name"]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) and len(value) <= 200 else None


def _dataset(ds: object, where: str, total: list[int]) -> np.ndarray:
    """The dataset's values, after its declared shape, type, storage and filters have been checked."""
    dtype = ds.dtype  # type: ignore[attr-defined]
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise WeightsError(f"HDF5 dataset {where!r} has type {dtype}, not real numbers")
    shape = ds.shape  # type: ignore[attr-defined]
    if shape is None or len(shape) > MAX_NDIM:
        raise WeightsError(f"HDF5 dataset {where!r} has shape {shape}: at most {MAX_NDIM} dimensions")
    nbytes = math.prod(shape) * dtype.itemsize
    total[0] += nbytes
    if nbytes > MAX_UNPACKED_BYTES or total[0] > MAX_UNPACKED_BYTES:
        raise WeightsError(
            f"HDF5 dataset {where!r} declares shape {tuple(shape)} of {dtype}: the file's datasets would take more "
            f"than the {MAX_UNPACKED_BYTES}-byte limit"
        )
    if ds.external:  # type: ignore[attr-defined]
        raise WeightsError(f"HDF5 dataset {where!r} keeps its data in another file; refused")
    if ds.is_virtual:  # type: ignore[attr-defined]
        raise WeightsError(f"HDF5 dataset {where!r} is virtual (made of other files' data); refused")
    plist = ds.id.get_create_plist()  # type: ignore[attr-defined]
    for i in range(plist.get_nfilters()):
        code = plist.get_filter(i)[0]
        if code not in _ALLOWED_FILTERS:
            raise WeightsError(
                f"HDF5 dataset {where!r} uses filter {code}, which would need a plugin; only "
                f"{', '.join(_ALLOWED_FILTERS.values())} are read"
            )
    arr = np.asarray(ds[()])  # type: ignore[index]
    if arr.shape != tuple(shape):
        raise WeightsError(f"HDF5 dataset {where!r} read as shape {arr.shape}, declared {tuple(shape)}")
    return arr
