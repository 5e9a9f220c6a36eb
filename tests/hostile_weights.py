"""Hostile weights files and what a test needs around them, shared by the loader's tests (test_weights) and the
upload page's (test_your_model_page): pickles whose loading would run code, a zip bomb, a safetensors file with
any header, and a file-tree snapshot to prove that nothing was written.

Import them in tests with ``from hostile_weights import ...`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import zipfile

import numpy as np


class TouchPayload:
    """Unpickling this would create a file."""

    def __init__(self, target: pathlib.Path):
        self.target = target

    def __reduce__(self):
        return (pathlib.Path.touch, (self.target,))


class SystemPayload:
    """Unpickling this would run a shell command (that creates a file)."""

    def __init__(self, target: pathlib.Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def tree(path: pathlib.Path) -> set[str]:
    """Every file and folder below ``path``, relative to it."""
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def st_file(header: object, data: bytes = b"", n: int | None = None) -> bytes:
    """A safetensors file with the given header (dict -> JSON, bytes as they are), data section, and header
    length ``n`` (the true one unless given)."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return (len(raw) if n is None else n).to_bytes(8, "little") + raw + data


def zip_bomb() -> bytes:
    """A small .npz whose one member claims to unpack past the limit."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("weight_ih_l0.npy", "w", force_zip64=True) as f:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (14_000_000,)})
        f.write(header.getvalue())
        chunk = bytes(1 << 20)
        for _ in range(110):
            f.write(chunk)
    return buf.getvalue()
