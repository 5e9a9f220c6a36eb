"""Loading and saving recurrent weights — safely, and without torch unless a ``.pt`` file asks for it.

Formats
-------
One module each in :mod:`gru_viz.io.formats`, with the caps and checks they share in ``formats.checks``.

- ``.safetensors``: read and written by the ``safetensors`` package, with gru-viz's checks on the header first
  (no code runs, nothing is allocated before the header has been checked against the file).
- ``.npz``: ``np.load(..., allow_pickle=False)``, after checking the archive's unpacked size.
- ``.pt`` / ``.pth``: ``torch.load(weights_only=True)``; torch is imported only then. Prefer the two above.
- Keras-style arrays (``kernel``, ``recurrent_kernel``, ``bias``) in any of these: see :func:`from_keras`;
  arrays under Keras's own weight paths (``layers/gru/cell/vars/0``): see ``formats.keras_file.from_paths``.
- ``.keras`` and ``.weights.h5`` (Keras 3): ``formats.keras_file`` (json and h5py; Keras is never imported).
- ``.onnx``: ``formats.onnx_file`` (the onnx package's protobuf reader).

:func:`read_weights_bytes` returns a :class:`Loaded` (the model and what the file said, assumed or left out);
:func:`load_weights` / :func:`load_weights_bytes` return just the model.

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
- **Kind.** From ``weight_hh``: its rows are G times its columns (H), G = 3 → GRU, 4 → LSTM, 1 → RNN (one
  per weight block of the kind, ``checks.KIND_OF_BLOCKS``; with ``weight_hr``, H is its column count and G must
  be 4). This is exact even for a 1-unit model. A ``kind`` hint is checked against the shapes, never trusted
  over them.
- **Kinds without W_hh** (minGRU: rows z, candidate; minLSTM: rows f, i, candidate). ``weight_ih`` with G·H rows
  (G = 2 or 3) and **no** ``weight_hh`` anywhere, and only ``bias_ih`` for biases. The rows say the kind when
  only one G divides them, or when a second layer's input (D·H values) settles H; otherwise the file must say
  it: gru-viz's ``.safetensors`` and ``.npz`` record it (``gru_viz.kind``), else pass ``kind``. A file with no
  ``weight_hh`` under the hint of a kind that has one is a missing-key error.
- **Not in the weights.** An RNN's nonlinearity (default tanh) and a GRU's variant (default "torch",
  PyTorch's) cannot be read from the numbers; pass them as hints. Files written by :func:`save_safetensors`
  carry them in the safetensors ``__metadata__`` (``gru_viz.kind``, ``gru_viz.variant``,
  ``gru_viz.nonlinearity``), which the loader uses when no hint is given; :func:`save_npz` (and the bridge's
  ``save_pt``) record the kind of a kind without W_hh (a ``gru_viz.kind`` string member or entry), the one thing
  its arrays may not say.
- **Every rejection** is a :class:`WeightsError` (a ``ValueError``) whose message names the key or the
  header field at fault.
"""

from __future__ import annotations

import json
import math
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..core.kinds import KIND
from ..core.model import Model
from ..core.spec import (
    GRU_VARIANTS,
    KIND_NAMES,
    MAX_HIDDEN,
    MAX_INPUT,
    MAX_LAYERS,
    Spec,
    SpecError,
    param_key,
    param_shapes,
)
from ..core.tokens import Embedding, Readout, TokenError
from .formats import keras_file, npz, onnx_file, safetensors, torch_pickle
from .formats.checks import (
    KIND_OF_BLOCKS,
    KINDS_WITHOUT_HH,
    MAX_PARAMS,
    MAX_WEIGHTS_BYTES,
    METADATA_PREFIX,
    SUPPORTED_EXTENSIONS,
    WeightsError,
    blocks_text,
    normalise_kind,
    to_float64,
)
from .formats.keras import from_keras, keras_split
from .formats.loaded import HintNeeded, Loaded
from .mapping import (
    TOKEN_TARGETS,
    MappingError,
    NeedsMapping,
    apply_keys,
    has_per_gate_names,
    mapping_call,
    propose_mapping,
)
from .vocabulary import read_vocabulary, read_vocabulary_file

__all__ = ["HintNeeded", "Loaded", "MappingError", "NeedsMapping", "SeveralModules", "WeightsError", "from_keras",
           "load_weights", "load_weights_bytes", "read_vocabulary", "read_weights_bytes"]

# ------------------------------------------------------------------------------------------ state_dict -> spec

_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
_PARAM_RE = re.compile(r"(?:^|(?<=\.))(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)(?:_l(\d+)(_reverse)?)?$")


def _shape(arr: object) -> tuple[int, ...]:
    return tuple(np.shape(arr))


class SeveralModules(WeightsError):
    """A state_dict holding several recurrent modules; ``modules`` maps each one's prefix to what it is."""

    def __init__(self, message: str, modules: dict[str, str]) -> None:
        super().__init__(message)
        self.modules = modules  # prefix -> "GRU, input 8, hidden 16" (or why it would not load)


def _describe_module(params: Mapping[str, np.ndarray], found: Mapping[str, tuple[str, str]], prefix: str) -> str:
    """What the recurrent module under ``prefix`` is ("GRU, input 8, hidden 16"), or why it would not load."""
    local = {name: params[k] for k, (p, name) in found.items() if p == prefix}
    try:
        return _infer(local, prefix, None, None, None).describe()
    except WeightsError as exc:
        return f"not loadable: {exc}"


def _pick_prefix(prefixes: list[str], chosen: str | None, params: Mapping[str, np.ndarray],
                 found: Mapping[str, tuple[str, str]]) -> str:
    """The one recurrent prefix to read: the only one, or the one ``chosen`` names (exactly, or as its start)."""
    if chosen is not None:
        fits = [p for p in prefixes if p == chosen] or [p for p in prefixes if p.startswith(chosen)]
        if len(fits) == 1:
            return fits[0]
        if not fits:
            shown = ", ".join(repr(p) for p in prefixes)
            raise WeightsError(f"prefix={chosen!r} names none of the file's recurrent modules: {shown}")
        prefixes = fits
    if len(prefixes) == 1:
        return prefixes[0]
    modules = {p: _describe_module(params, found, p) for p in prefixes}
    shown = ", ".join(repr(p) if p else "'' (top level)" for p in prefixes)
    listed = "; ".join(f"{p!r}: {d}" for p, d in modules.items())
    pick = next((p for p in prefixes if p), prefixes[0])
    raise SeveralModules(
        f"recurrent weights under several prefixes: {shown} — the file holds {len(prefixes)} recurrent modules "
        f"({listed}); pick one with prefix={pick!r} (gru_viz.load_weights(path, prefix={pick!r}))", modules)


def split_state_dict(
    params: Mapping[str, np.ndarray], prefix: str | None = None
) -> tuple[dict[str, np.ndarray], str, list[str]]:
    """(the recurrent parameters with their common prefix stripped, that prefix, the ignored keys).

    ``prefix`` picks one recurrent module when there are several (``"decoder."`` picks ``decoder.gru.*``); without
    it several modules raise :class:`SeveralModules`. See the module docstring for the other rules; anything else
    raises :class:`WeightsError`.
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
    prefix = _pick_prefix(prefixes, prefix, params, found)
    others = {k for k, (p, _) in found.items() if p != prefix}
    found = {k: v for k, v in found.items() if k not in others}
    ignored = [k for k in params if k not in found and (k in others or (prefix and not k.startswith(prefix)))]
    unexpected = [k for k in params if k not in found and k not in ignored]
    if unexpected:
        where = f"under the prefix {prefix!r}" if prefix else "alongside the recurrent weights"
        raise WeightsError(
            f"unexpected keys {where}: {', '.join(sorted(unexpected)[:20])}"
            + (" …" if len(unexpected) > 20 else "")
            + "; a recurrent layer's state_dict holds only weight_ih/weight_hh/bias_ih/bias_hh/weight_hr keys"
        )
    return {found[k][1]: params[k] for k in found}, prefix, ignored


def _units(n: int) -> str:
    return f"{n} unit" + ("" if n == 1 else "s")


def _kind_without_hh(
    local: Mapping[str, np.ndarray], name, cell: bool, num_layers: int, directions: int, kind: str | None
) -> tuple[str, int]:
    """(kind, hidden size) of weights with no weight_hh: a kind without W_hh whose G·H rows weight_ih has."""
    k_ih, k_hh = param_key("weight_ih", 0, 0, cell), param_key("weight_hh", 0, 0, cell)
    rows = _shape(local[k_ih])[0]
    has_bias_hh = any(_PARAM_RE.match(k).group(1) == "bias_hh" for k in local)
    if (kind is not None and KIND[kind].recurrent) or has_bias_hh:
        raise WeightsError(f"missing key {name(k_hh)} (a {KIND_NAMES[kind] if kind else 'recurrent'} layer needs it)")
    blocks = {k: len(KIND[k].blocks) for k in KINDS_WITHOUT_HH}
    fits = {k: rows // g for k, g in blocks.items() if rows and rows % g == 0}
    if kind is not None and kind not in fits:
        raise WeightsError(
            f"missing key {name(k_hh)}: without it these would be {KIND_NAMES[kind]} weights, but {name(k_ih)} has "
            f"{rows} rows where a {KIND_NAMES[kind]} has {blocks[kind]}H"
        )
    if kind is not None:
        return kind, fits[kind]
    if not fits:
        where = " and ".join(f"a {KIND_NAMES[k]} has {g}H" for k, g in blocks.items())
        raise WeightsError(
            f"missing key {name(k_hh)}: without it these would be "
            f"{' or '.join(KIND_NAMES[k] for k in blocks)} weights, but {name(k_ih)} has {rows} rows where {where}"
        )
    if len(fits) > 1 and num_layers > 1:  # the layer above reads D·H values: that settles H where the rows do not
        above = local.get(param_key("weight_ih", 1, 0, cell))
        width = _shape(above)[1] if above is not None and len(_shape(above)) == 2 else None
        fits = {k: h for k, h in fits.items() if width == directions * h} or fits
    if len(fits) > 1:
        readings = " or ".join(f"a {KIND_NAMES[k]} of {_units(h)} ({blocks[k]}H rows)" for k, h in fits.items())
        hints = " or ".join(f"kind={k!r}" for k in fits)
        raise WeightsError(
            f"{name(k_ih)} has {rows} rows and there is no {name(k_hh)}: these are the weights of {readings}, and "
            f"the file does not say which; pass {hints} (gru-viz's own .safetensors, .npz and .pt files record it)"
        )
    ((found, hidden),) = fits.items()
    return found, hidden


def _infer(
    local: Mapping[str, np.ndarray],
    prefix: str,
    kind: str | None,
    nonlinearity: str | None,
    variant: str | None,
) -> Spec:
    """The Spec that ``local`` (prefix-stripped recurrent parameters) describes; checks every key's shape."""
    kind = normalise_kind(kind)

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
        kind, hidden = _kind_without_hh(local, name, cell, num_layers, 2 if bidirectional else 1, kind)
    else:
        if kind is not None and not KIND[kind].recurrent:
            raise WeightsError(f"the kind hint says {KIND_NAMES[kind]}, but the file has weight_hh keys "
                               f"({KIND_NAMES[kind]} has none)")
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
            if rem or gates not in KIND_OF_BLOCKS:
                times, kinds = blocks_text(KIND_OF_BLOCKS, KIND_NAMES)
                raise WeightsError(f"{name(k_hh)} has shape {_shape(w_hh)}: its rows must be {times} its columns "
                                   f"({kinds})")
            found_kind = KIND_OF_BLOCKS[gates]
        if kind is not None and kind != found_kind:
            raise WeightsError(
                f"the kind hint says {KIND_NAMES[kind]}, but {name(k_hh)} has shape {_shape(w_hh)}, "
                f"which is a {KIND_NAMES[found_kind]}'s"
            )
        kind = found_kind
    if not 1 <= hidden <= MAX_HIDDEN:
        raise WeightsError(f"{name(k_ih)}: hidden size {hidden} is outside 1…{MAX_HIDDEN}")
    if not 1 <= input_size <= MAX_INPUT:
        raise WeightsError(f"{name(k_ih)}: input size {input_size} is outside 1…{MAX_INPUT}")
    bias = any(_PARAM_RE.match(k).group(1).startswith("bias") for k in local)
    if nonlinearity is not None and kind != "rnn":
        raise WeightsError(f"a nonlinearity hint applies to an RNN only; these weights are a {KIND_NAMES[kind]}'s")
    if variant is not None and kind != "gru":
        raise WeightsError(f"a GRU variant hint applies to a GRU only; these weights are a {KIND_NAMES[kind]}'s")
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

    ``kind`` (a key of ``KINDS``: "gru", "lstm", …) is checked against the shapes; ``nonlinearity`` (RNN) and
    ``variant`` (GRU) are not in the weights and default to "tanh" and "torch".
    """
    local, prefix, _ = split_state_dict(params)
    return _infer(local, prefix, kind, nonlinearity, variant)


def model_from_state_dict(
    params: Mapping[str, np.ndarray],
    kind: str | None = None,
    *,
    nonlinearity: str | None = None,
    variant: str | None = None,
    prefix: str | None = None,
) -> Model:
    """A :class:`Model` from a PyTorch-style state_dict of NumPy arrays, every inconsistency refused; ``prefix``
    picks one recurrent module of several."""
    local, prefix, _ = split_state_dict(params, prefix)
    count = _count(local)
    if count > MAX_PARAMS:
        raise WeightsError(f"the recurrent weights have {count} parameters, more than the limit of {MAX_PARAMS}")
    spec = _infer(local, prefix, kind, nonlinearity, variant)
    arrays = to_float64(local, {k: prefix + k for k in local})
    try:
        return Model(spec, arrays)
    except (SpecError, ValueError) as exc:  # not expected after the checks above
        raise WeightsError(str(exc)) from None


# ------------------------------------------------------------------------------------------------- loading


def _hints_from_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    hints = {}
    for field in ("kind", "variant", "nonlinearity"):
        value = metadata.get(f"gru_viz.{field}")
        if value is not None:
            hints[field] = value
    return hints


def _vocabulary_of(metadata: Mapping[str, str]) -> tuple[tuple[str, ...] | None, str | None]:
    """(the vocabulary, the unknown token) a gru-viz file's metadata records (``gru_viz.vocabulary``, a JSON list)."""
    text = metadata.get("gru_viz.vocabulary")
    unknown = metadata.get("gru_viz.unknown")
    if text is None:
        return None, unknown
    try:
        tokens = json.loads(text)
    except ValueError:
        raise WeightsError("the file's gru_viz.vocabulary metadata is not a JSON list of tokens") from None
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise WeightsError("the file's gru_viz.vocabulary metadata is not a JSON list of token strings")
    return tuple(tokens), unknown


_EMBEDDING_NAMES = ("embedding", "embed", "emb", "embeddings", "encoder")  # nn.Embedding's usual attribute names
_READOUT_NAMES = ("fc", "out", "linear", "head", "decoder", "output", "proj", "classifier")  # nn.Linear's


def _beside(params: Mapping[str, np.ndarray], prefix: str, spec: Spec) -> tuple[str | None, str | None, str | None]:
    """(embedding, readout weight, readout bias) keys beside the recurrent module under ``prefix``, by convention:
    a sibling ``embedding.weight`` (…) as wide as the input, and an ``fc``/``out``/``head``/… Linear reading the top
    layer's width. None where there is none (a module at the top level has no siblings)."""
    if not prefix:
        return None, None, None
    parent = prefix[:-1].rpartition(".")[0]
    parent = parent + "." if parent else ""
    emb = next((k for n in _EMBEDDING_NAMES if (k := f"{parent}{n}.weight") in params
                and _shape(params[k])[1:] == (spec.input_size,) and len(_shape(params[k])) == 2), None)
    top = spec.directions * spec.out_size
    head = next((n for n in _READOUT_NAMES if len(_shape(params.get(f"{parent}{n}.weight"))) == 2
                 and _shape(params[f"{parent}{n}.weight"])[1] == top), None)
    if head is None:
        return emb, None, None
    w, b = f"{parent}{head}.weight", f"{parent}{head}.bias"
    return emb, w, (b if b in params and _shape(params[b]) == (_shape(params[w])[0],) else None)


def _with_tokens(
    model: Model,
    arrays: Mapping[str, np.ndarray],
    names: tuple[str | None, str | None, str | None],
    vocabulary: Sequence[str] | None,
    shown: Mapping[str, str] | None = None,
) -> tuple[Model, list[str]]:
    """The model with the embedding and readout ``names`` (keys of ``arrays``) attached and the vocabulary given to
    them, and the lines saying what was read; a misfit names the array and both numbers."""
    shown = shown or {}
    emb_key, w_key, b_key = names

    def what(key: str) -> str:
        return shown.get(key, repr(key))

    read: list[str] = []
    emb = readout = None
    try:
        if emb_key is not None:
            table = to_float64({emb_key: arrays[emb_key]}, {emb_key: what(emb_key)})[emb_key]
            emb = Embedding.of(table)
            read.append(f"embedding: {what(emb_key)}, {emb.size} tokens × {emb.width} values")
        if w_key is not None:
            got = {k: arrays[k] for k in (w_key, b_key) if k is not None}
            got = to_float64(got, {k: what(k) for k in got})
            readout = Readout.of(got[w_key], got.get(b_key))
            read.append(f"readout: {what(w_key)}" + (f" and {what(b_key)}" if b_key else " (no bias)")
                        + f", {readout.size} scores from {readout.weight.shape[1]} values")
        model = model.with_tokens(emb, readout)
    except (TokenError, SpecError) as exc:
        where = what(emb_key) if emb_key and "embedding" in str(exc) else what(w_key or emb_key or "")
        raise WeightsError(f"{where}: {exc}") from None
    if vocabulary is not None:
        model, line = _with_vocabulary(model, tuple(vocabulary), what(emb_key) if emb_key else "")
        read.append(line)
    return model, read


def _with_vocabulary(model: Model, vocabulary: tuple[str, ...], emb_name: str = "") -> tuple[Model, str]:
    """The model with ``vocabulary`` naming its embedding's rows (its readout's too, when as many), and a line on it."""
    emb, readout = model.embedding, model.readout
    if emb is None and readout is None:
        raise WeightsError(f"a vocabulary of {len(vocabulary):,} tokens was given, but the file has no embedding (or "
                           "readout) whose rows it could name")
    try:
        if emb is not None:
            if len(vocabulary) != emb.size:
                raise WeightsError(f"the vocabulary has {len(vocabulary):,} tokens, but the embedding {emb_name} has "
                                   f"{emb.size:,} rows: it needs one token per row, in the rows' order")
            emb = Embedding.of(emb.table, vocabulary)
        if readout is not None and readout.size == len(vocabulary):
            readout = Readout.of(readout.weight, readout.bias, vocabulary)
        elif emb is None:
            raise WeightsError(f"the vocabulary has {len(vocabulary):,} tokens, but the readout gives {readout.size:,} "
                               "scores: it needs one token per score")
    except TokenError as exc:
        raise WeightsError(f"the vocabulary: {exc}") from None
    first = ", ".join(repr(t) for t in vocabulary[:8]) + (" …" if len(vocabulary) > 8 else "")
    return model.with_tokens(emb, readout), f"vocabulary: {len(vocabulary):,} tokens ({first})"


def _mapped(
    arrays: Mapping[str, np.ndarray],
    keys: Mapping,
    *,
    kind: str | None,
    nonlinearity: str | None,
    variant: str | None,
    gate_order: object,
    transpose: bool | None,
    vocabulary: Sequence[str] | None,
) -> tuple[Model, list[str], list[str]]:
    """(the model a ``keys=`` mapping makes of the file's arrays, what was read, the arrays left out)."""
    mapped = apply_keys(arrays, keys, gate_order=gate_order, transpose=transpose)
    rec = {k: v for k, v in mapped.arrays.items() if k not in TOKEN_TARGETS}
    if not rec:
        raise MappingError("keys maps no recurrent weights (weight_ih_l0, weight_hh_l0, …)")
    try:
        model = model_from_state_dict(rec, kind, nonlinearity=nonlinearity, variant=variant)
    except MappingError:
        raise
    except WeightsError as exc:
        raise MappingError(mapped.explain(str(exc))) from None
    shown = {t: f"{t} (the file's {mapped.origins[t]})" for t in TOKEN_TARGETS if t in mapped.arrays}
    names = tuple(t if t in mapped.arrays else None for t in TOKEN_TARGETS)
    model, read = _with_tokens(model, mapped.arrays, names, vocabulary, shown)
    pairs = ", ".join(f"{t} ← {o}" for t, o in mapped.origins.items() if t not in TOKEN_TARGETS)
    read.insert(0, f"keys: {pairs}")
    read[1:1] = mapped.notes
    return model, read, [k for k in arrays if k not in mapped.used]


def read_weights_bytes(
    data: bytes,
    filename: str,
    kind: str | None = None,
    *,
    nonlinearity: str | None = None,
    variant: str | None = None,
    keys: Mapping | None = None,
    gate_order: str | Sequence[str] | None = None,
    transpose: bool | None = None,
    prefix: str | None = None,
    vocabulary: Sequence[str] | None = None,
) -> Loaded:
    """The model in a weights file's bytes and what the file said about it (:class:`Loaded`); the extension of
    ``filename`` picks the format. Hints (``kind``, RNN ``nonlinearity``, GRU ``variant``) override a gru-viz
    safetensors file's metadata; a ``.keras`` config or an ONNX node's attributes are checked against them.

    For a state_dict (.safetensors, .npz, .pt): ``keys`` maps torch's names to the file's (see
    :mod:`gru_viz.io.mapping`, with ``gate_order`` and ``transpose``); ``prefix`` picks one recurrent module of
    several; ``vocabulary`` (tokens, one per embedding row) names the embedding's rows, over the file's own.
    """
    if len(data) > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"the weights file is {len(data)} bytes, more than the limit of {MAX_WEIGHTS_BYTES}")
    name = Path(str(filename)).name
    suffix = Path(str(filename)).suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise WeightsError(f"unsupported weights file {name!r}; supported: {', '.join(SUPPORTED_EXTENSIONS)}")
    if not data:
        raise WeightsError("the weights file is empty")
    data = bytes(data)
    hints_kw = {"kind": kind, "variant": variant, "nonlinearity": nonlinearity}
    if suffix in (".keras", ".h5", ".onnx"):
        given = [k for k, v in (("keys", keys), ("gate_order", gate_order), ("transpose", transpose),
                                ("prefix", prefix), ("vocabulary", vocabulary)) if v is not None]
        if given:
            raise WeightsError(f"{', '.join(given)} apply to a state_dict's arrays (.safetensors, .npz, .pt); "
                               f"{name!r} names its layers itself")
    if suffix == ".keras":
        return keras_file.read_keras(data, **hints_kw)
    if suffix == ".h5":
        return keras_file.read_weights_h5(data, **hints_kw)
    if suffix == ".onnx":
        return onnx_file.read(data, **hints_kw)
    hints: dict[str, str] = {}
    if suffix == ".safetensors":
        arrays, metadata = safetensors.read_with_metadata(data)
        hints = _hints_from_metadata(metadata)
    else:
        reader = npz.read_with_metadata if suffix == ".npz" else torch_pickle.read_with_metadata
        arrays, metadata = reader(data)
        hints = {k: v for k, v in metadata.items() if k in ("kind", "variant", "nonlinearity")}
        metadata = {METADATA_PREFIX + k: v for k, v in metadata.items()}
    fmt = suffix.lstrip(".").replace("pth", "pt")
    if not arrays:
        raise WeightsError("the weights file holds no arrays")
    file_vocabulary, unknown = _vocabulary_of(metadata)
    vocab_line = "" if vocabulary is not None or file_vocabulary is None else "vocabulary from the file's metadata"
    vocabulary = vocabulary if vocabulary is not None else file_vocabulary
    kind = kind if kind is not None else hints.get("kind")
    if keys is not None:
        model, read, ignored = _mapped(arrays, keys, kind=kind, nonlinearity=nonlinearity, variant=variant,
                                       gate_order=gate_order, transpose=transpose, vocabulary=vocabulary)
        return Loaded(model, fmt, source="the file's arrays, mapped onto torch's names", ignored=ignored,
                      read=read + ([vocab_line] if vocab_line else []), unknown=unknown)
    if gate_order is not None or transpose is not None:
        raise WeightsError("gate_order and transpose go with keys= (they say how the file's arrays map onto torch's)")
    if not any(isinstance(k, str) and _PARAM_RE.search(k) for k in arrays):
        if keras_file.looks_like_paths(arrays):
            return keras_file.from_paths(arrays, kind=kind, variant=variant, nonlinearity=nonlinearity,
                                         what=f"Keras weights in a {suffix}", fmt="keras-weights")
        if has_per_gate_names(arrays):  # one Dense layer per gate (ir/kernel, …): not one Keras layer's arrays
            raise needs_mapping(arrays, name)
        keras = keras_split(arrays)
        if keras is not None:
            reset_after = None
            if variant is not None:
                if variant not in ("torch", "reset-before"):
                    raise WeightsError(f"a Keras GRU is the 'torch' or 'reset-before' variant, not {variant!r}")
                reset_after = variant == "torch"
            model = from_keras(arrays, kind, reset_after=reset_after, nonlinearity=nonlinearity)
            fixed = frozenset({"variant"}) if model.spec.kind == "gru" and model.spec.bias else frozenset()
            return Loaded(model, "keras-arrays", source="a Keras layer's kernel, recurrent_kernel and bias",
                          fixed=fixed)
        raise needs_mapping(arrays, name)
    from_metadata = []
    if nonlinearity is None and kind in (None, "rnn"):
        nonlinearity = hints.get("nonlinearity")
        if nonlinearity is not None:
            from_metadata.append(f"nonlinearity: {nonlinearity}")
    if variant is None and kind in (None, "gru"):
        variant = hints.get("variant")
        if variant is not None:
            from_metadata.append(f"variant: {variant}")
    if "kind" in hints and hints_kw["kind"] is None:
        from_metadata.insert(0, f"kind: {hints['kind']}")
    local_prefix = split_state_dict(arrays, prefix)[1]
    model = model_from_state_dict(arrays, kind, nonlinearity=nonlinearity, variant=variant, prefix=local_prefix)
    layer_variants = metadata.get("gru_viz.layer_variants")
    bottom = None if layer_variants is None else layer_variants.split(",")[0]
    if layer_variants is not None and hints_kw["variant"] in (None, bottom) and model.spec.kind == "gru":
        try:
            model = Model(model.spec.with_(layer_variants=tuple(layer_variants.split(","))), model.params)
        except SpecError as exc:
            raise WeightsError(f"the metadata's gru_viz.layer_variants {layer_variants!r} does not fit: {exc}"
                               ) from None
        from_metadata.append(f"layer variants: {layer_variants}")
    _, local_prefix, ignored = split_state_dict(arrays, local_prefix)
    names = _beside(arrays, local_prefix, model.spec)
    model, read = _with_tokens(model, arrays, names, vocabulary)
    if vocab_line and vocabulary is not None:
        read[-1] += " (from the file's metadata)"
    ignored = [k for k in ignored if k not in names]
    return Loaded(model, fmt, source="a PyTorch state_dict", prefix=local_prefix, ignored=ignored,
                  read=from_metadata + read, unknown=unknown)


def needs_mapping(arrays: Mapping[str, np.ndarray], filename: str) -> NeedsMapping:
    """The refusal of a file whose names are not torch's: its arrays and shapes, and a proposed ``keys=`` call."""
    shapes = {k: _shape(v) for k, v in arrays.items()}
    proposal = propose_mapping(shapes)
    listed = ", ".join(f"{k} {s}" for k, s in list(shapes.items())[:24]) + (" …" if len(shapes) > 24 else "")
    if proposal.complete:
        call = mapping_call(filename, proposal.keys, gate_order=proposal.gate_order, transpose=proposal.transpose)
        how = f"proposed from their names and shapes (check it):\n{call.partition('model = ')[2]}"
        if len(proposal.groups) > 1:
            how += (f"\n(the file holds {len(proposal.groups)} recurrent modules, "
                    f"{', '.join(map(repr, proposal.groups))}: this is {proposal.group!r})")
    else:
        how = ('map them with keys=, e.g. gru_viz.load_weights(path, keys={"weight_ih_l0": "<input weights>", '
               '"weight_hh_l0": "<recurrent weights>", "bias_ih_l0": …, "bias_hh_l0": …})')
    return NeedsMapping(
        f"no recurrent weights found under PyTorch's names (weight_ih_l0, weight_hh_l0, …); the file's arrays: "
        f"{listed}; {how}", shapes, proposal)


def backwards_refusal(loaded: Loaded) -> str:
    """Why a model that reads its input backwards is not returned as a plain Model (and how to get it)."""
    after = ("; the file's Y is then the output reversed in time" if loaded.reverse_output
             else "; its outputs are then in the order the file's model returns them")
    return (f"{loaded.backwards}, and a gru-viz model reads forwards: pass reversed_input=True to get the same "
            f"layers reading forwards, and run them on the input reversed in time (x[::-1]){after}")


def load_weights_bytes(
    data: bytes,
    filename: str,
    kind: str | None = None,
    *,
    nonlinearity: str | None = None,
    variant: str | None = None,
    reversed_input: bool = False,
    keys: Mapping | None = None,
    gate_order: str | Sequence[str] | None = None,
    transpose: bool | None = None,
    prefix: str | None = None,
    vocabulary: Sequence[str] | str | Path | None = None,
) -> Model:
    """A :class:`Model` from the bytes of a weights file; the extension of ``filename`` picks the format.

    Hints (``kind``, RNN ``nonlinearity``, GRU ``variant``) override a gru-viz safetensors file's metadata. A model
    that reads its input from the last step to the first (Keras ``go_backwards``, ONNX ``direction="reverse"``) is
    refused unless ``reversed_input=True``: then the model returned is its layers reading forwards, to be run on
    the time-reversed input (see :func:`read_weights_bytes` for everything the file said).
    """
    if isinstance(vocabulary, str | Path):
        vocabulary = read_vocabulary_file(vocabulary)
    loaded = read_weights_bytes(data, filename, kind, nonlinearity=nonlinearity, variant=variant, keys=keys,
                                gate_order=gate_order, transpose=transpose, prefix=prefix, vocabulary=vocabulary)
    if loaded.backwards and not reversed_input:
        raise WeightsError(backwards_refusal(loaded))
    return loaded.model


def load_weights(
    path: str | Path,
    kind: str | None = None,
    *,
    nonlinearity: str | None = None,
    variant: str | None = None,
    reversed_input: bool = False,
    keys: Mapping | None = None,
    gate_order: str | Sequence[str] | None = None,
    transpose: bool | None = None,
    prefix: str | None = None,
    vocabulary: Sequence[str] | str | Path | None = None,
) -> Model:
    """A :class:`Model` from a weights file (.safetensors, .npz, .pt/.pth, .keras, .weights.h5, .onnx); see
    :func:`load_weights_bytes`.

    ``keys={"weight_ih_l0": "enc_w_ih", …}`` maps torch's names to the file's (with ``gate_order``, ``transpose``;
    see :mod:`gru_viz.io.mapping`); ``prefix="decoder."`` picks one recurrent module of several; ``vocabulary``
    (a list of tokens, or the path of a text file with one token per line) names the embedding's rows.
    """
    return load_weights_bytes(read_file(path), Path(path).name, kind, nonlinearity=nonlinearity, variant=variant,
                              reversed_input=reversed_input, keys=keys, gate_order=gate_order, transpose=transpose,
                              prefix=prefix, vocabulary=vocabulary)


def read_file(path: str | Path) -> bytes:
    """A weights file's bytes, refusing what is not a regular file or is over the size limit."""
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
            return f.read(MAX_WEIGHTS_BYTES + 1)  # the file may have grown since stat
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {str(p)!r}: {exc}") from None


# ------------------------------------------------------------------------------------------------- saving


def _metadata(model: Model, unknown: str | None = None) -> dict[str, str]:
    s = model.spec
    meta = {"format": "pt", "gru_viz.kind": s.kind}
    if s.kind == "gru":
        meta["gru_viz.variant"] = s.variant
    if s.layer_variants:  # a stack whose layers differ in variant (a Keras file's reset_after per layer)
        meta["gru_viz.layer_variants"] = ",".join(s.layer_variants)
    if s.kind == "rnn":
        meta["gru_viz.nonlinearity"] = s.nonlinearity
    vocabulary = model.vocabulary or (model.readout.vocabulary if model.readout is not None else None)
    if vocabulary is not None:
        meta["gru_viz.vocabulary"] = json.dumps(list(vocabulary), ensure_ascii=False)
        if unknown is not None:
            meta["gru_viz.unknown"] = unknown
    return meta


def _arrays(model: Model) -> dict[str, np.ndarray]:
    """The state_dict a file holds: the recurrent module's alone, or under ``rnn.`` beside ``embedding.weight``
    and ``head.weight``/``head.bias`` when the model has an embedding or a readout (the whole language model)."""
    if model.embedding is None and model.readout is None:
        return dict(model.params)
    out = {f"rnn.{k}": v for k, v in model.params.items()}
    if model.embedding is not None:
        out["embedding.weight"] = model.embedding.table
    if model.readout is not None:
        out["head.weight"], out["head.bias"] = model.readout.weight, model.readout.bias
    return out


def save_safetensors(model: Model, *, unknown: str | None = None) -> bytes:
    """The model's parameters (state_dict keys, float64) as a safetensors file, with its kind, GRU variant
    and RNN nonlinearity in ``__metadata__`` so that :func:`load_weights_bytes` restores them; a model with an
    embedding or readout is saved whole (``embedding.weight``, ``rnn.*``, ``head.*``) with its vocabulary (and
    ``unknown``, its token for what it lacks) as ``gru_viz.vocabulary`` (a JSON list) and ``gru_viz.unknown``."""
    return safetensors.write(_arrays(model), _metadata(model, unknown))


def save_npz(model: Model) -> bytes:
    """The model's parameters (state_dict keys, float64) as an ``.npz`` archive; for a kind without W_hh also its
    kind (``gru_viz.kind``), which its arrays alone may not say (a 6-row weight_ih: minGRU of 3 or minLSTM of 2).
    A model with an embedding or readout is saved whole, as :func:`save_safetensors` does, its vocabulary a
    ``gru_viz.vocabulary`` member (an array of strings: no pickle)."""
    kind = model.spec.kind
    # A kind with W_hh is said by its shapes: its archive stays a plain state_dict, loadable as is into torch.
    meta = {} if KIND[kind].recurrent else {"kind": kind}
    if model.spec.layer_variants:  # each layer's variant, which no array says
        meta["layer_variants"] = ",".join(model.spec.layer_variants)
    vocabulary = model.vocabulary or (model.readout.vocabulary if model.readout is not None else None)
    return npz.write(_arrays(model), meta or None, vocabulary)
