"""What the "Your model" page does with an uploaded file, as plain functions (no Streamlit, no torch).

- :func:`read_upload`: weights bytes → an :class:`Upload` (the :class:`Model` plus what the file held:
  format, stripped prefix, ignored keys or layers, what a Keras config or ONNX node said, what was assumed).
  Everything is read from memory; the only loader is :func:`gru_viz.io.weights.read_weights_bytes` (``.pt``
  through ``torch.load(weights_only=True)``).
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

from ..core.kinds import some_kinds
from ..core.model import Model
from ..core.sequences import MAX_ABS_VALUE, MAX_INPUT_CHARS, MAX_STEPS, MAX_WIDTH, Sequence, SequenceError
from ..core.spec import GRU_VARIANTS, KIND_NAMES, Spec, count_params, param_key
from .formats.checks import MAX_PARAMS, MAX_WEIGHTS_BYTES
from .formats.keras import KERAS_CLASS
from .formats.onnx_file import ONNX_OP
from .torch_names import TORCH_MODULES
from .weights import HintNeeded, Loaded, WeightsError, read_weights_bytes

MAX_CSV_BYTES = MAX_INPUT_CHARS  # the same cap as typed input: the CSV becomes the shared sequence box's text
# the app's cap on an uploaded model's input and hidden sizes: the core and the Python API go to MAX_HIDDEN (2048),
# the server's pages stay with the sizes they were built for
MAX_UPLOAD_SIZE = 512
FORMATS = {
    ".safetensors": "safetensors — a JSON header and raw numbers; reading it runs no code",
    ".npz": "NumPy .npz — read with allow_pickle=False; runs no code",
    ".pt": "PyTorch pickle — read with torch.load(weights_only=True)",
    ".pth": "PyTorch pickle — read with torch.load(weights_only=True)",
    ".keras": "Keras 3 model — its config.json and HDF5 weights, read with json and h5py; runs no code",
    ".h5": "Keras HDF5 — a whole model (model.save('model.h5'), Keras 2 or 3: its model_config and weights) or "
           "Keras 3 weights, read with json and h5py; runs no code",
    ".onnx": "ONNX model — a protobuf graph, read with onnx; runs no code",
}
_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
# How a Keras layer's kernel, recurrent_kernel and bias became torch's rows, per Keras kind.
_KERAS_ARRAYS = some_kinds("io.upload.keras_arrays", {
    "gru": "columns z, r, h → torch rows r, z, n; kernel transposed",
    "lstm": "kernel and recurrent_kernel transposed; bias put in bias_ih",
    "rnn": "kernel and recurrent_kernel transposed; bias put in bias_ih",
})
_METADATA_FORMATS = ("safetensors", "npz", "pt")  # the formats whose gru-viz files carry settings in their metadata


@dataclass
class Upload:
    """A model read from an uploaded file, and what the file held besides."""

    filename: str
    size: int  # bytes
    model: Model
    keras: bool = False  # a Keras layer's kernel/recurrent_kernel/bias, converted
    prefix: str = ""  # stripped from every key (the recurrent module's name in a bigger model)
    ignored: list[str] = field(default_factory=list)  # keys, layers or nodes of other parts, not read
    from_metadata: list[str] = field(default_factory=list)  # settings read from a gru-viz file's metadata
    hints: list[str] = field(default_factory=list)  # hints applied, or why one was not
    loaded: Loaded | None = None  # everything the reader said (source, settings read, assumed, notes)

    @property
    def suffix(self) -> str:
        """The file's extension, lower case."""
        return Path(self.filename).suffix.lower()

    @property
    def format(self) -> str:
        """The reader's format name ("safetensors", "keras", "keras-weights", "onnx", …)."""
        return self.loaded.format if self.loaded is not None else self.suffix.lstrip(".")

    @property
    def backwards(self) -> str:
        """Why the file's model reads its input from the last step to the first ("" when it reads forwards)."""
        return self.loaded.backwards if self.loaded is not None else ""


_SETTINGS = ("kind:", "variant:", "nonlinearity:")  # the lines of Loaded.read that are settings from metadata


def read_upload(data: bytes, filename: str, *, nonlinearity: str | None = None, variant: str | None = None,
                **options: object) -> Upload:
    """Read an uploaded weights file; every refusal is a :class:`WeightsError` saying what was wrong.

    ``options`` go to the loader as they are: ``keys``, ``gate_order``, ``transpose``, ``prefix``, ``vocabulary``
    (a file whose names are not torch's raises :class:`NeedsMapping`, one with several modules
    :class:`SeveralModules`).

    ``nonlinearity`` (RNN) and ``variant`` (GRU) are hints: weights do not carry them. A hint for another
    kind is not an error: it is noted and left out. A file that does not say something its numbers depend on
    (a bias-free Keras GRU's ``reset_after``) raises :class:`HintNeeded` unless the hint answers it.
    """
    applied: list[str] = []
    try:
        loaded = read_weights_bytes(data, filename, **options)  # the one loader: size cap, format checks, no code
    except HintNeeded as exc:
        answer = {"variant": variant, "nonlinearity": nonlinearity}.get(exc.hint)
        if answer not in exc.choices:
            raise
        loaded = read_weights_bytes(data, filename, **{exc.hint: answer}, **options)
        applied.append(f"{exc.choices[answer]} (your answer: the file does not say)")
        variant = nonlinearity = None  # answered; what follows is about hints the file did not ask for
    model = loaded.model
    for what, size in (("hidden", model.spec.hidden_size), ("input", model.spec.input_size)):
        if size > MAX_UPLOAD_SIZE:
            raise WeightsError(f"{Path(filename).name}: {what} size {size} is outside 1…{MAX_UPLOAD_SIZE}, this app's "
                               "cap on uploads (the Python API, gru_viz.load_weights, reads wider models)")
    kind, hints = model.spec.kind, {}
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
        loaded = read_weights_bytes(data, filename, **hints, **options)  # the loader checks the hint
    return Upload(Path(filename).name, len(data), loaded.model, keras=loaded.format == "keras-arrays",
                  prefix=loaded.prefix, ignored=list(loaded.ignored), hints=applied, loaded=loaded,
                  from_metadata=[m for m in loaded.read if m.startswith(_SETTINGS) and m.split(":")[0] not in hints]
                  if loaded.format in _METADATA_FORMATS else [])


def module_name(upload: Upload) -> str:
    """What the weights are, in their framework's terms: "torch.nn.GRU", "Keras GRU × 2", "ONNX LSTM node", …"""
    s = upload.model.spec
    if upload.keras:
        return f"Keras {KERAS_CLASS[s.kind]} layer"
    if upload.format in ("keras", "keras-weights"):
        name = KERAS_CLASS[s.kind]
        return "Keras " + (f"Bidirectional({name})" if s.bidirectional else name) + (
            f" × {s.num_layers}" if s.num_layers > 1 else " layer")
    if upload.format == "onnx":
        return f"ONNX {ONNX_OP[s.kind]} node" + (f"s × {s.num_layers}" if s.num_layers > 1 else "") + (
            " (bidirectional)" if s.bidirectional else "")
    if TORCH_MODULES[s.kind] is None:
        return f"{KIND_NAMES[s.kind]} (no torch.nn module)"
    return f"torch.nn.{TORCH_MODULES[s.kind]}" + ("Cell" if s.cell else "")


def summary_rows(upload: Upload) -> list[tuple[str, str]]:
    """(what, value) rows describing the upload, for a table."""
    s = upload.model.spec
    loaded = upload.loaded
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
    if s.mixed:
        rows.append(("GRU variant", " / ".join(f"layer {k}: {GRU_VARIANTS[v].name}"
                                               for k, v in enumerate(s.layer_variants))))
    elif s.kind == "gru":
        rows.append(("GRU variant", GRU_VARIANTS[s.variant].name))
    if s.kind == "rnn":
        rows.append(("Nonlinearity", s.nonlinearity))
    rows += [("Biases", "yes" if s.bias else "none"), ("Parameters", f"{count_params(s):,}")]
    if upload.keras:
        rows.append(("Converted", _KERAS_ARRAYS[s.kind]))
    if loaded is not None and loaded.format in ("keras", "keras-weights", "onnx"):
        rows.append(("In the file", loaded.source))
        rows.append(("Converted", _converted(loaded.format, s.kind)))
        for line in loaded.read:
            rows.append(("Read from the file", line))
        for line in loaded.assumed:
            rows.append(("Assumed", line))
        if loaded.backwards:
            rows.append(("Reads", "backwards: " + loaded.backwards))
        for line in loaded.notes:
            rows.append(("Note", line))
    if loaded is not None and loaded.format in _METADATA_FORMATS:
        for line in loaded.read:
            if line.startswith("keys: "):
                rows.append(("Mapping", line.removeprefix("keys: ")))
            elif not line.startswith(_SETTINGS):
                rows.append(("Read from the file", line))
    rows += token_rows(upload.model)
    if upload.prefix:
        rows.append(("Prefix stripped", repr(upload.prefix)))
    if upload.ignored:
        what = {"keras": "Ignored layers", "keras-weights": "Ignored layers", "onnx": "Ignored nodes"}.get(
            upload.format, "Ignored keys")
        more = f" … ({len(upload.ignored)} in all)" if len(upload.ignored) > 8 else ""
        rows.append((what, ", ".join(upload.ignored[:8]) + more))
    if upload.from_metadata:
        rows.append(("From the file's metadata", "; ".join(upload.from_metadata)))
    for note in upload.hints:
        rows.append(("Hint", note))
    return rows


def token_rows(model: Model) -> list[tuple[str, str]]:
    """What sits around the recurrent stack: the embedding (V × I), the readout and the vocabulary's first tokens."""
    rows = []
    if model.embedding is not None:
        rows.append(("Embedding", f"{model.embedding.size:,} × {model.embedding.width} (a row of "
                                  f"{model.embedding.width} values per token)"))
    if model.readout is not None:
        r = model.readout
        rows.append(("Readout", f"{r.size:,} scores per step from the top layer's {r.weight.shape[1]} values"))
    vocabulary = model.vocabulary or (model.readout.vocabulary if model.readout is not None else None)
    if vocabulary is not None:
        first = " ".join(repr(t) for t in vocabulary[:10]) + (" …" if len(vocabulary) > 10 else "")
        rows.append(("Vocabulary", f"{len(vocabulary):,} tokens: {first}"))
    elif model.embedding is not None:
        rows.append(("Vocabulary", "none in the file: upload a text file beside it (one token per line)"))
    return rows


def _converted(fmt: str, kind: str) -> str:
    """How the file's arrays became torch's layout, in one line."""
    return (_ONNX_CONVERSION if fmt == "onnx" else _KERAS_CONVERSION)[kind]


# What the ONNX and Keras files can hold: GRU, LSTM and RNN layers only.
_ONNX_CONVERSION = some_kinds("io.upload.onnx_conversion", {
    "gru": "gate blocks z, r, h → torch rows r, z, n; B split into bias_ih | bias_hh",
    "lstm": "gate blocks i, o, f, c → torch rows i, f, g, o; B split into bias_ih | bias_hh",
    "rnn": "W, R as they are; B split into bias_ih | bias_hh",
})
_KERAS_CONVERSION = some_kinds("io.upload.keras_conversion", {
    "gru": "columns z, r, h → torch rows r, z, n; kernels transposed; bias rows → bias_ih, bias_hh",
    "lstm": "kernels transposed (gates i, f, c, o = torch's i, f, g, o); bias put in bias_ih",
    "rnn": "kernels transposed; bias put in bias_ih",
})


LIMITS = (
    f"files up to {MAX_WEIGHTS_BYTES // 2**20} MB, up to {MAX_PARAMS:,} recurrent parameters, hidden and input sizes "
    f"up to {MAX_UPLOAD_SIZE}, up to 4 layers"
)


# --------------------------------------------------------------------------------------------- layers


def layer_spec(spec: Spec, layer: int) -> Spec:
    """The one-layer, one-direction sequence model that computes layer ``layer`` of ``spec``."""
    return Spec(
        spec.kind,
        spec.layer_input_size(layer),
        spec.hidden_size,
        variant=spec.layer_variant(layer),
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
