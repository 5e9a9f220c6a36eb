"""``.pt`` / ``.pth``: ``torch.load(weights_only=True)``; torch is imported only when such a file is read.

Besides tensors, a gru-viz ``.pt`` may hold what the weights cannot say (a minGRU's or minLSTM's kind) as
``gru_viz.<field>`` entries, each one short string; any other entry that is not a tensor is refused.
"""

from __future__ import annotations

import io
import pickle
import re
import warnings

import numpy as np

from .checks import MAX_METADATA_CHARS, MAX_UNPACKED_BYTES, METADATA_PREFIX, WeightsError, check_archive


def read(data: bytes) -> dict[str, np.ndarray]:
    """The state_dict in a ``.pt``/``.pth`` file, via ``torch.load(weights_only=True)``, as float64 arrays."""
    return read_with_metadata(data)[0]


def read_with_metadata(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The state_dict in a ``.pt``/``.pth`` file as float64 arrays, and its gru-viz metadata (fields by name).

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
        check_archive(data, ".pt")
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
    metadata: dict[str, str] = {}
    for name, t in obj.items():
        if not isinstance(name, str):
            raise WeightsError(f"the .pt state_dict has a non-string key {name!r}")
        if name.startswith(METADATA_PREFIX):
            if not isinstance(t, str) or len(t) > MAX_METADATA_CHARS:
                raise WeightsError(f"entry {name!r} of the .pt state_dict is not one string of at most "
                                   f"{MAX_METADATA_CHARS} characters, as gru-viz's metadata is")
            metadata[name[len(METADATA_PREFIX):]] = t
            continue
        if not isinstance(t, torch.Tensor):
            raise WeightsError(f"entry {name!r} of the .pt state_dict is a {type(t).__name__}, not a tensor")
        if t.layout != torch.strided or t.is_complex() or t.is_quantized or t.device.type == "meta":
            raise WeightsError(f"tensor {name!r} is not a dense real tensor ({t.dtype}, {t.layout})")
        out[name] = t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()
    return out, metadata
