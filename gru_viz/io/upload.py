"""What the "Your model" page does with an uploaded file, as plain functions (no Streamlit, no torch).

- :func:`read_upload`: weights bytes → an :class:`Upload` (the :class:`Model` plus what the file held:
  format, stripped prefix, ignored keys, Keras or not). Everything is read from memory; the only loader is
  :func:`gru_viz.io.weights.load_weights_bytes` (``.pt`` through ``torch.load(weights_only=True)``).
- :func:`layer_model` / :func:`layer_input`: the explainer pages draw one layer of one direction, so they are
  handed that layer as a one-layer model, with the input that layer really reads: the sequence itself for
  layer 0, the lower layers' output (computed by the full model) above it, reversed in time for the reverse
  direction.
- :func:`parse_csv`: a T × input_size CSV, validated (numbers only, finite, one width, caps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.model import Model
from ..core.sequences import MAX_ABS_VALUE, MAX_INPUT_CHARS, MAX_STEPS, MAX_WIDTH, Sequence, SequenceError
from ..core.spec import GRU_VARIANTS, KIND_NAMES, Spec, count_params, param_key
from .formats import npz, safetensors, torch_pickle
from .formats.checks import MAX_PARAMS, MAX_WEIGHTS_BYTES, WeightsError
from .weights import load_weights_bytes, split_state_dict

MAX_CSV_BYTES = MAX_INPUT_CHARS  # the same cap as typed input: the CSV becomes the shared sequence box's text
FORMATS = {
    ".safetensors": "safetensors — a JSON header and raw numbers; reading it runs no code",
    ".npz": "NumPy .npz — read with allow_pickle=False; runs no code",
    ".pt": "PyTorch pickle — read with torch.load(weights_only=True)",
    ".pth": "PyTorch pickle — read with torch.load(weights_only=True)",
}
_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")


@dataclass
class Upload:
    """A model read from an uploaded file, and what the file held besides."""

    filename: str
    size: int  # bytes
    model: Model
    keras: bool = False  # a Keras layer's kernel/recurrent_kernel/bias, converted
    prefix: str = ""  # stripped from every key (the recurrent module's name in a bigger model)
    ignored: list[str] = field(default_factory=list)  # keys of other submodules, not read
    from_metadata: list[str] = field(default_factory=list)  # settings read from a gru-viz file's metadata
    hints: list[str] = field(default_factory=list)  # hints applied, or why one was not

    @property
    def suffix(self) -> str:
        """The file's extension, lower case."""
        return Path(self.filename).suffix.lower()


def _arrays(data: bytes, suffix: str) -> dict[str, np.ndarray]:
    """The file's arrays (already validated by load_weights_bytes), for listing its keys."""
    if suffix == ".safetensors":
        return safetensors.read(data)
    if suffix == ".npz":
        return npz.read(data)
    return torch_pickle.read(data)


def read_upload(data: bytes, filename: str, *, nonlinearity: str | None = None, variant: str | None = None) -> Upload:
    """Read an uploaded weights file; every refusal is a :class:`WeightsError` saying what was wrong.

    ``nonlinearity`` (RNN) and ``variant`` (GRU) are hints: weights do not carry them. A hint for another
    kind is not an error: it is noted and left out.
    """
    model = load_weights_bytes(data, filename)  # the one loader: size cap, format checks, no code runs
    kind, hints, applied = model.spec.kind, {}, []
    if nonlinearity:
        if kind == "rnn":
            hints["nonlinearity"] = nonlinearity
            applied.append(f"RNN nonlinearity: {nonlinearity} (your hint)")
        else:
            applied.append(f"the nonlinearity hint was left out: this is a {KIND_NAMES[kind]}, not an RNN")
    if variant:
        if kind == "gru":
            hints["variant"] = variant
            applied.append(f"GRU variant: {GRU_VARIANTS[variant].name} (your hint)")
        else:
            applied.append(f"the GRU variant hint was left out: this is a {KIND_NAMES[kind]}")
    if hints and any(getattr(model.spec, k) != v for k, v in hints.items()):
        model = load_weights_bytes(data, filename, **hints)  # the loader checks the hint against the file
    suffix = Path(filename).suffix.lower()
    upload = Upload(Path(filename).name, len(data), model, hints=applied)
    arrays = _arrays(data, suffix)
    try:
        _, upload.prefix, upload.ignored = split_state_dict(arrays)
    except WeightsError:  # no state_dict keys: the loader read it as a Keras layer
        upload.keras = True
    if suffix == ".safetensors":
        meta = safetensors.read_metadata(data)
        upload.from_metadata = [f"{k.removeprefix('gru_viz.')}: {v}" for k, v in meta.items()
                                if k.startswith("gru_viz.") and k.removeprefix("gru_viz.") not in hints]
    return upload


def module_name(upload: Upload) -> str:
    """What the weights are, in torch's terms: "torch.nn.GRU", "torch.nn.LSTMCell", "Keras GRU layer", …"""
    s = upload.model.spec
    if upload.keras:
        return {"gru": "Keras GRU layer", "lstm": "Keras LSTM layer", "rnn": "Keras SimpleRNN layer"}[s.kind]
    if s.kind == "mingru":
        return "minGRU (no torch.nn module)"
    return "torch.nn." + {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}[s.kind] + ("Cell" if s.cell else "")


def summary_rows(upload: Upload) -> list[tuple[str, str]]:
    """(what, value) rows describing the upload, for a table."""
    s = upload.model.spec
    rows = [
        ("File", f"{upload.filename} ({upload.size:,} bytes)"),
        ("Format", FORMATS.get(upload.suffix, upload.suffix) + (" · a Keras layer's arrays" if upload.keras else "")),
        ("Module", module_name(upload)),
        ("Kind", KIND_NAMES[s.kind]),
        ("Layers", str(s.num_layers)),
        ("Directions", "2 (bidirectional)" if s.bidirectional else "1"),
        ("Input size", str(s.input_size)),
        ("Hidden size", str(s.hidden_size)),
    ]
    if s.proj_size:
        rows.append(("Projection size", str(s.proj_size)))
    if s.kind == "gru":
        rows.append(("GRU variant", GRU_VARIANTS[s.variant].name))
    if s.kind == "rnn":
        rows.append(("Nonlinearity", s.nonlinearity))
    rows += [("Biases", "yes" if s.bias else "none"), ("Parameters", f"{count_params(s):,}")]
    if upload.keras:
        rows.append(("Converted", "columns z, r, h → torch rows r, z, n; kernel transposed" if s.kind == "gru"
                     else "kernel and recurrent_kernel transposed; bias put in bias_ih"))
    if upload.prefix:
        rows.append(("Prefix stripped", repr(upload.prefix)))
    if upload.ignored:
        more = f" … ({len(upload.ignored)} in all)" if len(upload.ignored) > 8 else ""
        rows.append(("Ignored keys", ", ".join(upload.ignored[:8]) + more))
    if upload.from_metadata:
        rows.append(("From the file's metadata", "; ".join(upload.from_metadata)))
    for note in upload.hints:
        rows.append(("Hint", note))
    return rows


LIMITS = (
    f"files up to {MAX_WEIGHTS_BYTES // 2**20} MB, up to {MAX_PARAMS:,} recurrent parameters, hidden and input sizes "
    "up to 256, up to 4 layers"
)


# --------------------------------------------------------------------------------------------- layers


def layer_spec(spec: Spec, layer: int) -> Spec:
    """The one-layer, one-direction sequence model that computes layer ``layer`` of ``spec``."""
    return Spec(
        spec.kind,
        spec.layer_input_size(layer),
        spec.hidden_size,
        variant=spec.variant,
        nonlinearity=spec.nonlinearity,
        proj_size=spec.proj_size,
        bias=spec.bias,
    )


def layer_model(model: Model, layer: int, direction: int) -> Model:
    """One layer and direction of ``model`` as a one-layer model (keys ``*_l0``), the same weights."""
    s = model.spec
    if not (0 <= layer < s.num_layers and 0 <= direction < s.directions):
        raise ValueError(f"the model has layers 0…{s.num_layers - 1} and {s.directions} direction(s)")
    params = {}
    for name in _NAMES:
        key = param_key(name, layer, direction, s.cell)
        if key in model.params:
            params[param_key(name, 0, 0)] = model.params[key]
    return Model(layer_spec(s, layer), params)


def layer_input(model: Model, x: np.ndarray, layer: int, direction: int) -> np.ndarray:
    """What layer ``layer`` (direction ``direction``) reads, in its reading order, for the sequence x (T, I).

    Layer 0 reads x; layer k > 0 reads the lower layers' output (both directions side by side), computed by
    the full model from h0 = 0. The reverse direction reads it from the last step to the first.
    """
    x = np.asarray(x, dtype=np.float64)
    if layer > 0:
        below = model.run(x).layers[layer - 1]  # a multi-layer model is never a cell
        x = np.concatenate([lt.h[:, 0] for lt in below], axis=-1)
    return x[::-1].copy() if direction else x


def as_sequence(values: np.ndarray, source: str) -> Sequence:
    """Values as a Sequence (checked against the app's caps: steps, width, size of the numbers)."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[1] == 1:
        labels = tuple(f"{v:.3g}" for v in values[:, 0])
    else:
        labels = tuple(f"t{t}" for t in range(len(values)))
    return Sequence(values, labels, source=source)


def example_input(width: int, steps: int = 12, seed: int = 0) -> Sequence:
    """A short example input of the right width: seeded normal numbers rounded to two decimals."""
    values = np.round(np.random.default_rng(seed).standard_normal((steps, width)), 2)
    return as_sequence(values, f"example input ({steps} steps of {width} random numbers, seed {seed})")


# ------------------------------------------------------------------------------------------------ CSV

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _show(token: str) -> str:
    return repr(token if len(token) <= 24 else token[:20] + "…")


def parse_csv(data: bytes, width: int | None = None, name: str = "input.csv") -> Sequence:
    """A T × I input from CSV bytes: one step per row, values separated by commas; raises SequenceError.

    Numbers only (no header row, no NaN or infinity), every row as wide as the first, at most MAX_STEPS
    rows, MAX_WIDTH columns, |value| ≤ MAX_ABS_VALUE, MAX_CSV_BYTES bytes; ``width`` is the model's input size.
    """
    if len(data) > MAX_CSV_BYTES:
        raise SequenceError(f"the CSV is {len(data):,} bytes; at most {MAX_CSV_BYTES:,} are accepted")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SequenceError("the CSV is not UTF-8 text") from None
    rows = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows:
        raise SequenceError("the CSV holds no numbers")
    if len(rows) > MAX_STEPS:
        raise SequenceError(f"the CSV has {len(rows):,} rows; at most {MAX_STEPS:,} steps are accepted")
    values: list[list[float]] = []
    for n, line in rows:  # n: the file's line number (from 1, as an editor shows it); the step is t = len(values)
        at = f"row {n} (step t = {len(values)})"
        cells = [c.strip() for c in line.split(",")]
        if len(cells) > MAX_WIDTH:
            raise SequenceError(f"{at} has {len(cells)} columns; at most {MAX_WIDTH} values per step")
        if values and len(cells) != len(values[0]):
            raise SequenceError(f"{at} has {len(cells)} value(s), the first row has {len(values[0])}")
        row = []
        for c, cell in enumerate(cells, start=1):
            if not _NUMBER.fullmatch(cell.replace("\u2212", "-")):
                hint = " (a header row? remove it: numbers only)" if not values and cell else ""
                what = "an empty cell" if not cell else f"{_show(cell)} is not a number"
                if cell.lstrip("+-").lower() in ("nan", "inf", "infinity"):
                    what, hint = f"{_show(cell)} is not allowed", " (NaN and infinity are refused)"
                raise SequenceError(f"{at}, column {c}: {what}{hint}")
            value = float(cell.replace("\u2212", "-"))
            if not abs(value) <= MAX_ABS_VALUE:
                raise SequenceError(f"{at}, column {c}: {_show(cell)} is too large (at most {MAX_ABS_VALUE:g})")
            row.append(value)
        values.append(row)
    got = len(values[0])
    if width is not None and got != width:
        raise SequenceError(f"the model reads {width} value(s) per step; the CSV has {got} column(s)")
    return as_sequence(np.array(values), f"CSV {name}")
