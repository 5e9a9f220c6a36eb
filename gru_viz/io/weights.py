"""Loading and saving recurrent weights — safely, and without torch unless a ``.pt`` file asks for it.

Formats
-------
- ``.safetensors``: read and written by the small, strict reader/writer here (no code runs, nothing is
  allocated before the header has been checked against the file).
- ``.npz``: ``np.load(..., allow_pickle=False)``, after checking the archive's unpacked size.
- ``.pt`` / ``.pth``: ``torch.load(weights_only=True)``; torch is imported only then. Prefer the two above.
- Keras-style arrays (``kernel``, ``recurrent_kernel``, ``bias``) in any of these: see :func:`from_keras`.

What a file may hold (decisions)
--------------------------------
- **Keys.** A PyTorch ``state_dict`` of ``nn.GRU``/``nn.LSTM``/``nn.RNN`` (``weight_ih_l0``, …,
  ``_reverse``, ``weight_hr_l{k}``) or of a cell module (``weight_ih``, … without ``_l{k}``). A ``.pt``
  may also be a checkpoint dict holding the state_dict under ``"state_dict"`` or ``"model_state_dict"``.
- **Prefixes.** The state_dict of a model *containing* the recurrent layer (``rnn.weight_ih_l0``,
  ``module.gru.weight_hh_l0``, …) is accepted when every recurrent key shares one prefix ending in ``.``;
  the prefix is stripped. Keys outside that prefix belong to other submodules (``fc.weight``,
  ``embedding.weight``) and are ignored (:func:`split_state_dict` reports them). Keys *inside* the prefix
  that are not recurrent parameters are refused, and so is any key that is not a recurrent parameter when
  there is no prefix: such a file is not the plain recurrent layer it looks like. Recurrent keys under
  two different prefixes (an encoder and a decoder, say) are refused: save one module's state_dict.
- **Kind.** From ``weight_hh``: its rows are G times its columns (H), G = 3 → GRU, 4 → LSTM, 1 → RNN
  (with ``weight_hr``, H is its column count and G must be 4). This is exact even for a 1-unit model.
  A ``kind`` hint is checked against the shapes, never trusted over them.
- **minGRU.** ``weight_ih`` with an even number of rows (2H: z then candidate) and **no** ``weight_hh``
  anywhere, and only ``bias_ih`` for biases. A file with no ``weight_hh`` under any other kind hint is a
  missing-key error.
- **Not in the weights.** An RNN's nonlinearity (default tanh) and a GRU's variant (default "torch",
  PyTorch's) cannot be read from the numbers; pass them as hints. Files written by :func:`save_safetensors`
  carry them in the safetensors ``__metadata__`` (``gru_viz.kind``, ``gru_viz.variant``,
  ``gru_viz.nonlinearity``), which the loader uses when no hint is given.
- **Every rejection** is a :class:`WeightsError` (a ``ValueError``) whose message names the key or the
  header field at fault.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import re
import stat
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..core.model import Model
from ..core.spec import GRU_VARIANTS, KINDS, MAX_HIDDEN, MAX_INPUT, MAX_LAYERS, Spec, SpecError, param_key, param_shapes

MAX_WEIGHTS_BYTES = 50 * 1024 * 1024  # a weights file larger than this is refused before it is read
MAX_PARAMS = 5_000_000  # scalar parameters of the recurrent model
MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
MAX_UNPACKED_BYTES = 2 * MAX_WEIGHTS_BYTES  # what an archive (.npz, .pt zip) may unpack to
MAX_TENSORS = 100_000
MAX_NDIM = 32

SUPPORTED_EXTENSIONS = (".safetensors", ".npz", ".pt", ".pth")


class WeightsError(ValueError):
    """A weights file or parameter set that is refused; the message says what was wrong."""


# ------------------------------------------------------------------------------------------------ safetensors

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


def _read_safetensors(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
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


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (BF16 becomes float32); a malformed file raises :class:`WeightsError`."""
    return _read_safetensors(data)[0]


def read_safetensors_metadata(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (checked like the whole header)."""
    return _st_header(data)[1]


def write_safetensors(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
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


# ------------------------------------------------------------------------------------------------------ npz


def _check_archive(data: bytes, what: str) -> list[zipfile.ZipInfo]:
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
            if dtype.kind not in "biuf":
                raise WeightsError(f"array {key!r} in the .npz has dtype {dtype}, not real numbers")
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes != info.file_size - offset:
                raise WeightsError(
                    f"array {key!r} in the .npz: its header's shape {shape} of {dtype} needs {nbytes} bytes, "
                    f"the archive holds {info.file_size - offset}"
                )


def read_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, loaded with ``allow_pickle=False``; only real numbers are accepted."""
    if not data.startswith(b"PK"):
        raise WeightsError("not an .npz file (a zip archive of .npy arrays): it does not start with 'PK'")
    _check_archive(data, ".npz")
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
    for name, arr in out.items():
        if arr.dtype.kind not in "biuf":
            raise WeightsError(f"array {name!r} in the .npz has dtype {arr.dtype}, not real numbers")
    return out


# ---------------------------------------------------------------------------------------------------- torch


def read_torch_pickle(data: bytes) -> dict[str, np.ndarray]:
    """The state_dict in a ``.pt``/``.pth`` file, via ``torch.load(weights_only=True)``, as float64 arrays.

    Accepts a plain state_dict or a checkpoint dict with a ``"state_dict"`` / ``"model_state_dict"`` entry.
    """
    try:
        import torch
    except ImportError:
        raise WeightsError(
            "reading a .pt/.pth file needs torch, which is not installed; save the weights as .safetensors "
            "(safetensors.torch.save_file(model.state_dict(), 'weights.safetensors')) or .npz instead"
        ) from None
    if data.startswith(b"PK"):
        _check_archive(data, ".pt")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Detected pickle protocol 4"
            obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        detail = f" (it asks for {found.group(1)})" if found else " (or is not a torch file at all)"
        raise WeightsError(
            "torch.load(weights_only=True) refused: this .pt file contains objects other than tensors"
            f"{detail}; a pickle can run code when loaded. Save model.state_dict() instead, preferably as "
            ".safetensors"
        ) from None
    except Exception as exc:  # corrupt zip, bad magic number, truncated data, …
        raise WeightsError(f"not a readable .pt file: {type(exc).__name__}: {str(exc)[:200]}") from None
    if isinstance(obj, dict):
        for wrapper in ("state_dict", "model_state_dict"):
            if isinstance(obj.get(wrapper), dict):
                obj = obj[wrapper]
                break
    if not isinstance(obj, dict):
        raise WeightsError(f"the .pt file holds a {type(obj).__name__}, not a state_dict (a dict of tensors)")
    total = sum(t.numel() for t in obj.values() if isinstance(t, torch.Tensor))
    if total * 8 > MAX_UNPACKED_BYTES:
        raise WeightsError(
            f"the .pt state_dict holds {total} numbers, more than the {MAX_UNPACKED_BYTES // 8} gru-viz converts"
        )
    out: dict[str, np.ndarray] = {}
    for name, t in obj.items():
        if not isinstance(name, str):
            raise WeightsError(f"the .pt state_dict has a non-string key {name!r}")
        if not isinstance(t, torch.Tensor):
            raise WeightsError(f"entry {name!r} of the .pt state_dict is a {type(t).__name__}, not a tensor")
        if t.layout != torch.strided or t.is_complex() or t.is_quantized or t.device.type == "meta":
            raise WeightsError(f"tensor {name!r} is not a dense real tensor ({t.dtype}, {t.layout})")
        out[name] = t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()
    return out


# ------------------------------------------------------------------------------------------ state_dict -> spec

_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
_PARAM_RE = re.compile(r"(?:^|(?<=\.))(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)(?:_l(\d+)(_reverse)?)?$")
_KIND_OF_GATES = {3: "gru", 4: "lstm", 1: "rnn"}


def _shape(arr: object) -> tuple[int, ...]:
    return tuple(np.shape(arr))


def split_state_dict(params: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], str, list[str]]:
    """(the recurrent parameters with their common prefix stripped, that prefix, the ignored keys).

    See the module docstring for the rules; anything else raises :class:`WeightsError`.
    """
    found: dict[str, tuple[str, str]] = {}  # key -> (prefix, local name)
    for key in params:
        if not isinstance(key, str):
            raise WeightsError(f"parameter name {key!r} is not a string")
        m = _PARAM_RE.search(key)
        if m and (m.group(2) is None or m.group(2) == str(int(m.group(2)))):
            found[key] = (key[: m.start()], key[m.start() :])
    if not found:
        sample = ", ".join(sorted(params)[:10]) or "none"
        raise WeightsError(
            "no recurrent weights found: expected PyTorch state_dict keys like weight_ih_l0, weight_hh_l0 "
            f"(or weight_ih for a cell); keys found: {sample}"
        )
    prefixes = sorted({p for p, _ in found.values()})
    if len(prefixes) > 1:
        shown = ", ".join(repr(p) if p else "'' (top level)" for p in prefixes)
        raise WeightsError(
            f"recurrent weights under several prefixes: {shown}; save the state_dict of one recurrent module"
        )
    prefix = prefixes[0]
    ignored = [k for k in params if k not in found and prefix and not k.startswith(prefix)]
    unexpected = [k for k in params if k not in found and k not in ignored]
    if unexpected:
        where = f"under the prefix {prefix!r}" if prefix else "alongside the recurrent weights"
        raise WeightsError(
            f"unexpected keys {where}: {', '.join(sorted(unexpected)[:20])}"
            + (" …" if len(unexpected) > 20 else "")
            + "; a recurrent layer's state_dict holds only weight_ih/weight_hh/bias_ih/bias_hh/weight_hr keys"
        )
    return {found[k][1]: params[k] for k in found}, prefix, ignored


def _normalise_kind(kind: str | None) -> str | None:
    if kind is None:
        return None
    k = str(kind).strip().lower()
    if k not in KINDS:
        raise WeightsError(f"unknown kind hint {kind!r}; choose one of {', '.join(KINDS)}")
    return k


def _infer(
    local: Mapping[str, np.ndarray],
    prefix: str,
    kind: str | None,
    nonlinearity: str | None,
    variant: str | None,
) -> Spec:
    """The Spec that ``local`` (prefix-stripped recurrent parameters) describes; checks every key's shape."""
    kind = _normalise_kind(kind)

    def name(k: str) -> str:
        return prefix + k

    for k, v in local.items():
        want = 2 if k.startswith("weight") else 1
        if len(_shape(v)) != want:
            raise WeightsError(f"{name(k)} must be {want}-D, it has shape {_shape(v)}")
    parsed = {k: _PARAM_RE.match(k) for k in local}
    cell_keys = [k for k, m in parsed.items() if m.group(2) is None]
    if cell_keys and len(cell_keys) != len(parsed):
        raise WeightsError("cell keys (" + ", ".join(name(k) for k in cell_keys) + ") mixed with layer keys (_l0, …)")
    cell = bool(cell_keys)
    layers = {int(m.group(2)) for m in parsed.values() if m.group(2) is not None}
    num_layers = 1 if cell else max(layers) + 1
    if num_layers > MAX_LAYERS:
        raise WeightsError(
            f"{name(param_key('weight_ih', max(layers), 0))}: {num_layers} layers, more than {MAX_LAYERS}"
        )
    missing_layers = [] if cell else sorted(set(range(num_layers)) - layers)
    if missing_layers:
        raise WeightsError(
            f"missing key {name(param_key('weight_ih', missing_layers[0], 0))} (layers must be 0…{num_layers - 1})"
        )
    bidirectional = any(m.group(3) for m in parsed.values())

    def get(n: str, layer: int = 0, d: int = 0) -> np.ndarray | None:
        return local.get(param_key(n, layer, d, cell))

    k_ih = param_key("weight_ih", 0, 0, cell)
    w_ih = get("weight_ih")
    if w_ih is None:
        raise WeightsError(f"missing key {name(k_ih)}")
    rows, input_size = _shape(w_ih)
    has_hh = any(_PARAM_RE.match(k).group(1) == "weight_hh" for k in local)
    proj_size = 0
    if not has_hh:
        has_bias_hh = any(_PARAM_RE.match(k).group(1) == "bias_hh" for k in local)
        k_hh = param_key("weight_hh", 0, 0, cell)
        if kind not in (None, "mingru") or has_bias_hh:
            raise WeightsError(f"missing key {name(k_hh)} (a {(kind or 'recurrent').upper()} layer needs it)")
        kind = "mingru"
        if rows % 2:
            raise WeightsError(
                f"missing key {name(k_hh)}: without it these would be minGRU weights, but {name(k_ih)} has "
                f"{rows} rows where a minGRU has 2H"
            )
        hidden = rows // 2
    else:
        if kind == "mingru":
            raise WeightsError("the kind hint says minGRU, but the file has weight_hh keys (minGRU has none)")
        k_hh = param_key("weight_hh", 0, 0, cell)
        w_hh = get("weight_hh")
        if w_hh is None:
            raise WeightsError(f"missing key {name(k_hh)}")
        w_hr = get("weight_hr")
        if w_hr is not None:
            proj_size, hidden = _shape(w_hr)
            gates, rem = divmod(rows, hidden) if hidden else (0, 1)
            if rem or gates != 4:
                raise WeightsError(
                    f"{name(param_key('weight_hr', 0, 0, cell))} makes the hidden size {hidden}, but {name(k_ih)} "
                    f"has {rows} rows, not 4 × {hidden} as a projected LSTM needs"
                )
            found_kind = "lstm"
        else:
            hidden = _shape(w_hh)[1]
            gates, rem = divmod(_shape(w_hh)[0], hidden) if hidden else (0, 1)
            if rem or gates not in _KIND_OF_GATES:
                raise WeightsError(
                    f"{name(k_hh)} has shape {_shape(w_hh)}: its rows must be 1, 3 or 4 times its columns "
                    "(RNN, GRU, LSTM)"
                )
            found_kind = _KIND_OF_GATES[gates]
        if kind is not None and kind != found_kind:
            raise WeightsError(
                f"the kind hint says {kind.upper()}, but {name(k_hh)} has shape {_shape(w_hh)}, "
                f"which is a {found_kind.upper()}'s"
            )
        kind = found_kind
    if not 1 <= hidden <= MAX_HIDDEN:
        raise WeightsError(f"{name(k_ih)}: hidden size {hidden} is outside 1…{MAX_HIDDEN}")
    if not 1 <= input_size <= MAX_INPUT:
        raise WeightsError(f"{name(k_ih)}: input size {input_size} is outside 1…{MAX_INPUT}")
    bias = any(_PARAM_RE.match(k).group(1).startswith("bias") for k in local)
    if nonlinearity is not None and kind != "rnn":
        raise WeightsError(f"a nonlinearity hint applies to an RNN only; these weights are a {kind.upper()}'s")
    if variant is not None and kind != "gru":
        raise WeightsError(f"a GRU variant hint applies to a GRU only; these weights are a {kind.upper()}'s")
    if variant is not None and variant not in GRU_VARIANTS:
        raise WeightsError(f"unknown GRU variant {variant!r}; choose one of {', '.join(GRU_VARIANTS)}")
    try:
        spec = Spec(
            kind,
            input_size,
            hidden,
            num_layers=num_layers,
            bidirectional=bidirectional,
            variant=variant or "torch",
            nonlinearity=nonlinearity or "tanh",
            proj_size=proj_size,
            bias=bias,
            cell=cell,
        )
    except SpecError as exc:
        raise WeightsError(f"these weights do not describe a supported model: {exc}") from None
    shapes = param_shapes(spec)
    missing = [k for k in shapes if k not in local]
    if missing:
        raise WeightsError(
            f"missing key{'s' if len(missing) > 1 else ''} {', '.join(name(k) for k in missing)} "
            f"for a {spec.describe()}"
        )
    extra = [k for k in local if k not in shapes]
    if extra:
        raise WeightsError(f"unexpected keys {', '.join(name(k) for k in extra)} for a {spec.describe()}")
    for k, shape in shapes.items():
        if _shape(local[k]) != shape:
            raise WeightsError(f"{name(k)} has shape {_shape(local[k])}, a {spec.describe()} needs {shape}")
    return spec


def _count(params: Mapping[str, np.ndarray]) -> int:
    return sum(math.prod(_shape(v)) for v in params.values())


def infer_spec(
    params: Mapping[str, np.ndarray],
    kind: str | None = None,
    *,
    nonlinearity: str | None = None,
    variant: str | None = None,
) -> Spec:
    """The :class:`Spec` a PyTorch-style state_dict describes (prefix stripped; see the module docstring).

    ``kind`` ("gru", "lstm", "rnn", "mingru") is checked against the shapes; ``nonlinearity`` (RNN) and
    ``variant`` (GRU) are not in the weights and default to "tanh" and "torch".
    """
    local, prefix, _ = split_state_dict(params)
    return _infer(local, prefix, kind, nonlinearity, variant)


def _to_float64(arrays: Mapping[str, np.ndarray], names: Mapping[str, str]) -> dict[str, np.ndarray]:
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


def model_from_state_dict(
    params: Mapping[str, np.ndarray],
    kind: str | None = None,
    *,
    nonlinearity: str | None = None,
    variant: str | None = None,
) -> Model:
    """A :class:`Model` from a PyTorch-style state_dict of NumPy arrays, every inconsistency refused."""
    local, prefix, _ = split_state_dict(params)
    count = _count(local)
    if count > MAX_PARAMS:
        raise WeightsError(f"the recurrent weights have {count} parameters, more than the limit of {MAX_PARAMS}")
    spec = _infer(local, prefix, kind, nonlinearity, variant)
    arrays = _to_float64(local, {k: prefix + k for k in local})
    try:
        return Model(spec, arrays)
    except (SpecError, ValueError) as exc:  # not expected after the checks above
        raise WeightsError(str(exc)) from None


# ------------------------------------------------------------------------------------------------------ Keras

_KERAS_RE = re.compile(r"(?:^|(?<=[/.]))(recurrent_kernel|kernel|bias)(?::0)?$")


def _keras_split(arrays: Mapping[str, np.ndarray]) -> dict[str, tuple[str, np.ndarray]] | None:
    """{"kernel"|"recurrent_kernel"|"bias": (original key, array)} when ``arrays`` looks like one Keras layer."""
    found: dict[str, str] = {}
    prefixes = set()
    for key in arrays:
        m = _KERAS_RE.search(key) if isinstance(key, str) else None
        if m:
            prefixes.add(key[: m.start()])
            if m.group(1) in found:
                raise WeightsError(f"two Keras {m.group(1)} arrays: {found[m.group(1)]!r} and {key!r}; one layer only")
            found[m.group(1)] = key
    if "kernel" not in found or "recurrent_kernel" not in found:
        return None
    if len(prefixes) > 1:
        raise WeightsError(f"Keras arrays under several prefixes {sorted(prefixes)}; one layer per file")
    extra = sorted(k for k in arrays if k not in found.values())
    if extra:
        raise WeightsError(f"unexpected keys alongside the Keras kernel/recurrent_kernel/bias: {', '.join(extra[:20])}")
    return {role: (key, arrays[key]) for role, key in found.items()}


def _zrh_to_rzn(a: np.ndarray, u: int, axis: int) -> np.ndarray:
    """Keras's z, r, h blocks (along ``axis``) in PyTorch's r, z, n order."""
    z, r, h = np.split(a, [u, 2 * u], axis=axis)
    return np.concatenate([r, z, h], axis=axis)


def from_keras(
    arrays: Mapping[str, np.ndarray],
    kind: str | None = None,
    *,
    reset_after: bool | None = None,
    nonlinearity: str | None = None,
    batch_first: bool = True,
) -> Model:
    """A :class:`Model` from one Keras GRU / LSTM / SimpleRNN layer's ``kernel``, ``recurrent_kernel``, ``bias``.

    Keys may carry a prefix (``gru/kernel:0``). ``kind`` ("gru", "lstm", "rnn") is inferred from the
    kernel's columns (3u, 4u, u) and checked when given. Keras's default activations are assumed (tanh,
    and sigmoid for the gates). Mapping (``u`` units):

    - GRU, columns z, r, h → rows r, z, n: ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``
      reordered. ``reset_after=True`` (bias (2, 3u): input row, recurrent row) is PyTorch's variant
      ("torch"); ``reset_after=False`` (bias (3u,), put in ``bias_ih``, ``bias_hh = 0``) is "reset-before".
      Both keep Keras's ``h = z ⊙ h_prev + (1 − z) ⊙ hh``. Without a bias the weights cannot tell the two
      apart: ``reset_after`` then defaults to True, Keras's default.
    - LSTM (i, f, c, o = PyTorch's i, f, g, o): ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``,
      ``bias_ih = bias``, ``bias_hh = 0``.
    - SimpleRNN: the same with one gate; ``nonlinearity`` ("tanh", Keras's default, or "relu") says its
      activation.

    Keras layers take (batch, time, features), so the model is ``batch_first`` unless told otherwise.
    """
    parts = _keras_split(arrays)
    if parts is None:
        have = ", ".join(sorted(map(str, arrays))[:10]) or "none"
        raise WeightsError(f"Keras weights need 'kernel' and 'recurrent_kernel' arrays; keys found: {have}")
    kind = _normalise_kind(kind)
    names = {role: key for role, (key, _) in parts.items()}
    vals = _to_float64({role: a for role, (_, a) in parts.items()}, names)
    kernel, rk = vals["kernel"], vals["recurrent_kernel"]
    if kernel.ndim != 2:
        raise WeightsError(f"{names['kernel']} must be 2-D (input, gates × units), it has shape {kernel.shape}")
    if rk.ndim != 2:
        raise WeightsError(f"{names['recurrent_kernel']} must be 2-D (units, gates × units), it has shape {rk.shape}")
    u = rk.shape[0]
    gates, rem = divmod(rk.shape[1], u) if u else (0, 1)
    if rem or gates not in _KIND_OF_GATES:
        raise WeightsError(
            f"{names['recurrent_kernel']} has shape {rk.shape}: its columns must be 1, 3 or 4 times its rows "
            "(SimpleRNN, GRU, LSTM)"
        )
    found_kind = _KIND_OF_GATES[gates]
    if kind is not None and kind != found_kind:
        raise WeightsError(
            f"the kind hint says {kind.upper()}, but {names['recurrent_kernel']} is a {found_kind.upper()}'s"
        )
    kind = found_kind
    if kernel.shape[1] != gates * u:
        raise WeightsError(f"{names['kernel']} has shape {kernel.shape}, expected (input, {gates * u})")
    if not 1 <= u <= MAX_HIDDEN:
        raise WeightsError(f"{names['recurrent_kernel']}: {u} units, outside 1…{MAX_HIDDEN}")
    if not 1 <= kernel.shape[0] <= MAX_INPUT:
        raise WeightsError(f"{names['kernel']}: input size {kernel.shape[0]}, outside 1…{MAX_INPUT}")
    bias = vals.get("bias")
    rows = gates * u
    w_ih, w_hh = kernel.T, rk.T
    variant = "torch"
    b_ih = b_hh = None
    if kind == "gru":
        w_ih, w_hh = _zrh_to_rzn(w_ih, u, 0), _zrh_to_rzn(w_hh, u, 0)
        if bias is None:
            variant = "torch" if reset_after in (None, True) else "reset-before"
        elif bias.shape == (2, rows):
            if reset_after is False:
                raise WeightsError(f"{names['bias']} has shape (2, {rows}), which is reset_after=True, not False")
            b_ih, b_hh = _zrh_to_rzn(bias[0], u, 0), _zrh_to_rzn(bias[1], u, 0)
        elif bias.shape == (rows,):
            if reset_after is True:
                raise WeightsError(f"{names['bias']} has shape ({rows},), which is reset_after=False, not True")
            variant = "reset-before"
            b_ih, b_hh = _zrh_to_rzn(bias, u, 0), np.zeros(rows)
        else:
            raise WeightsError(
                f"{names['bias']} has shape {bias.shape}; a Keras GRU's is (2, {rows}) (reset_after=True) "
                f"or ({rows},) (reset_after=False)"
            )
    else:
        if reset_after is not None:
            raise WeightsError("reset_after applies to a Keras GRU only")
        if bias is not None:
            if bias.shape != (rows,):
                raise WeightsError(f"{names['bias']} has shape {bias.shape}, expected ({rows},)")
            b_ih, b_hh = bias, np.zeros(rows)
    if nonlinearity is not None and kind != "rnn":
        raise WeightsError(f"a nonlinearity hint applies to an RNN only; these weights are a Keras {kind.upper()}'s")
    try:
        spec = Spec(
            kind,
            kernel.shape[0],
            u,
            batch_first=batch_first,
            variant=variant,
            nonlinearity=nonlinearity or "tanh",
            bias=bias is not None,
        )
    except SpecError as exc:
        raise WeightsError(f"these Keras weights do not describe a supported model: {exc}") from None
    params = {"weight_ih_l0": np.ascontiguousarray(w_ih), "weight_hh_l0": np.ascontiguousarray(w_hh)}
    if bias is not None:
        params["bias_ih_l0"], params["bias_hh_l0"] = b_ih, b_hh
    return Model(spec, params)


# ------------------------------------------------------------------------------------------------- loading


def _hints_from_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    hints = {}
    for field in ("kind", "variant", "nonlinearity"):
        value = metadata.get(f"gru_viz.{field}")
        if value is not None:
            hints[field] = value
    return hints


def load_weights_bytes(
    data: bytes,
    filename: str,
    kind: str | None = None,
    *,
    nonlinearity: str | None = None,
    variant: str | None = None,
) -> Model:
    """A :class:`Model` from the bytes of a weights file; the extension of ``filename`` picks the format.

    Hints (``kind``, RNN ``nonlinearity``, GRU ``variant``) override a gru-viz safetensors file's metadata.
    """
    if len(data) > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"the weights file is {len(data)} bytes, more than the limit of {MAX_WEIGHTS_BYTES}")
    suffix = Path(str(filename)).suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise WeightsError(
            f"unsupported weights file {Path(str(filename)).name!r}; supported: {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if not data:
        raise WeightsError("the weights file is empty")
    hints: dict[str, str] = {}
    if suffix == ".safetensors":
        arrays, metadata = _read_safetensors(bytes(data))
        hints = _hints_from_metadata(metadata)
    elif suffix == ".npz":
        arrays = read_npz(bytes(data))
    else:
        arrays = read_torch_pickle(bytes(data))
    if not arrays:
        raise WeightsError("the weights file holds no arrays")
    kind = kind if kind is not None else hints.get("kind")
    if not any(isinstance(k, str) and _PARAM_RE.search(k) for k in arrays):
        keras = _keras_split(arrays)
        if keras is not None:
            reset_after = None
            if variant is not None:
                if variant not in ("torch", "reset-before"):
                    raise WeightsError(f"a Keras GRU is the 'torch' or 'reset-before' variant, not {variant!r}")
                reset_after = variant == "torch"
            return from_keras(arrays, kind, reset_after=reset_after, nonlinearity=nonlinearity)
    if nonlinearity is None and kind in (None, "rnn"):
        nonlinearity = hints.get("nonlinearity")
    if variant is None and kind in (None, "gru"):
        variant = hints.get("variant")
    return model_from_state_dict(arrays, kind, nonlinearity=nonlinearity, variant=variant)


def load_weights(
    path: str | Path,
    kind: str | None = None,
    *,
    nonlinearity: str | None = None,
    variant: str | None = None,
) -> Model:
    """A :class:`Model` from a weights file (.safetensors, .npz, .pt, .pth); see :func:`load_weights_bytes`."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise WeightsError(f"no such weights file: {str(p)!r}") from None
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {str(p)!r}: {exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise WeightsError(f"{str(p)!r} is a directory, not a weights file")
    if not stat.S_ISREG(st.st_mode):
        raise WeightsError(f"{str(p)!r} is not a regular file")
    if st.st_size > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"the weights file is {st.st_size} bytes, more than the limit of {MAX_WEIGHTS_BYTES}")
    if p.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise WeightsError(f"unsupported weights file {p.name!r}; supported: {', '.join(SUPPORTED_EXTENSIONS)}")
    try:
        with p.open("rb") as f:
            data = f.read(MAX_WEIGHTS_BYTES + 1)  # the file may have grown since stat
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {str(p)!r}: {exc}") from None
    return load_weights_bytes(data, p.name, kind, nonlinearity=nonlinearity, variant=variant)


# ------------------------------------------------------------------------------------------------- saving


def _metadata(model: Model) -> dict[str, str]:
    s = model.spec
    meta = {"format": "pt", "gru_viz.kind": s.kind}
    if s.kind == "gru":
        meta["gru_viz.variant"] = s.variant
    if s.kind == "rnn":
        meta["gru_viz.nonlinearity"] = s.nonlinearity
    return meta


def save_safetensors(model: Model) -> bytes:
    """The model's parameters (state_dict keys, float64) as a safetensors file, with its kind, GRU variant
    and RNN nonlinearity in ``__metadata__`` so that :func:`load_weights_bytes` restores them."""
    return write_safetensors(model.params, _metadata(model))


def save_npz(model: Model) -> bytes:
    """The model's parameters (state_dict keys, float64) as an ``.npz`` archive."""
    buf = io.BytesIO()
    np.savez(buf, **model.params)
    return buf.getvalue()
