"""Keras 3 files, read with ``json`` and ``h5py`` (Keras itself is never imported; nothing in the file runs).

- ``.keras``: a zip of ``config.json`` (the architecture), ``model.weights.h5`` and ``metadata.json``. The config
  says what the numbers cannot: units, ``reset_after``, the activations, ``go_backwards``, ``return_sequences``,
  ``Bidirectional``'s ``merge_mode`` and the order of the layers. Keras stores each layer's variables under
  ``layers/<group>/cell/vars/0`` (kernel), ``/1`` (recurrent_kernel), ``/2`` (bias), a ``Bidirectional`` layer's
  under ``…/forward_layer/…`` and ``…/backward_layer/…``; the group's ``vars`` carries the layer's name.
- ``.weights.h5`` (``model.save_weights``): the same HDF5 without the config. Groups are named after the layer's
  class, numbered in the model's layer order (``gru``, ``gru_1``, …), which gives the stack order; the biases'
  shapes give a GRU's ``reset_after``. What the file cannot say is listed as assumed, or, for a bias-free GRU's
  ``reset_after``, asked for (:class:`HintNeeded`).

What becomes one gru-viz model: the recurrent layers (GRU, LSTM, SimpleRNN, ``Bidirectional`` with
``merge_mode="concat"``) of a Sequential or functional model, stacked one on the other, with only layers that do
nothing at inference (Dropout and the like) between them. Layers before the first or after the last (Embedding,
Dense, …) are listed and left out: the model's input is what the first recurrent layer reads. Refused, with the
layer named: custom classes, Lambda layers and Python functions anywhere in the config, activations other than
tanh with sigmoid gates (SimpleRNN: tanh or relu), ``go_backwards`` above the first layer, branches, shared
layers, nested models, and anything else that would make gru-viz compute something the file's model does not.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ...core.kinds import KIND
from ...core.spec import GRU_VARIANTS, KIND_NAMES
from . import hdf5
from .checks import WeightsError, check_archive, normalise_kind, to_float64
from .keras import KERAS_CLASS, RESET_AFTER_CHOICES, cell_weights
from .loaded import HintNeeded, LayerWeights, Loaded, stack_model

MAX_CONFIG_BYTES = 16 * 1024 * 1024
RECURRENT = {cls: k for k, cls in KERAS_CLASS.items() if cls}  # Keras's recurrent layer classes → kind
GROUP_CLASS = {"gru": "GRU", "lstm": "LSTM", "simple_rnn": "SimpleRNN", "bidirectional": "Bidirectional"}
# Layers that pass their input through unchanged at inference: they may sit between two recurrent layers.
PASS_THROUGH = {
    "InputLayer", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "ActivityRegularization", "Identity",
}
_MODELS = ("Sequential", "Functional")
_ROLES = ("kernel", "recurrent_kernel", "bias")


def _json(raw: bytes, what: str) -> object:
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in pairs:
            if key in out:
                raise WeightsError(f"{what}: key {key!r} appears twice in one object")
            out[key] = value
        return out

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except WeightsError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WeightsError(f"{what} is not valid JSON: {str(exc)[:200]}") from None


def _refuse_code(config: object, where: str) -> None:
    """Refuse any custom class, Lambda layer or serialised Python function anywhere in ``config``."""
    stack = [(config, where)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            stack.extend((v, path) for v in node)
            continue
        if not isinstance(node, dict):
            continue
        cls = node.get("class_name")
        if isinstance(cls, str):
            name = node.get("config", {}).get("name") if isinstance(node.get("config"), dict) else None
            here = f"{path}: {cls}" + (f" {name!r}" if isinstance(name, str) else "")
            module, registered = node.get("module"), node.get("registered_name")
            if cls in ("Lambda", "__lambda__") or cls == "function" or registered == "function":
                raise WeightsError(f"{here} is Python code stored in the file; gru-viz runs no code from a file")
            keras_module = module is None or (isinstance(module, str) and (module == "keras" or
                                                                          module.startswith("keras.")))
            custom = (
                not keras_module
                or (registered is not None and registered != cls)
                or ("module" in node and module is None and not cls.startswith("__"))
            )
            if custom:
                label = registered if isinstance(registered, str) else f"{module}.{cls}"
                raise WeightsError(
                    f"{here} is a custom class ({str(label)[:80]}): gru-viz reads Keras's own layers only and runs "
                    "no code from a file"
                )
        stack.extend((v, path) for v in node.values())


# ------------------------------------------------------------------------------------------------ config


@dataclass
class _Layer:
    """One layer entry of a model config."""

    cls: str
    name: str
    config: dict
    inbound: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name!r} ({self.cls})"


def _layers(config: object) -> tuple[str, str, list[_Layer]]:
    """(model class, model name, its layers) from a ``config.json``."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise WeightsError("config.json does not describe a Keras model (no class_name/config object)")
    cls = config.get("class_name")
    if cls not in _MODELS:
        raise WeightsError(
            f"config.json describes a {str(cls)[:60]!r}: gru-viz reads Sequential and functional models only "
            "(a subclassed model's code is not in the file)"
        )
    body = config["config"]
    entries = body.get("layers")
    if not isinstance(entries, list):
        raise WeightsError(f"config.json: the {cls} model has no list of layers")
    layers = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise WeightsError(f"config.json: layer {i} is not a layer object")
        lcfg = entry.get("config")
        if not isinstance(lcfg, dict):
            raise WeightsError(f"config.json: layer {i} ({entry['class_name']}) has no config object")
        name = entry.get("name", lcfg.get("name"))
        if not isinstance(name, str):
            raise WeightsError(f"config.json: layer {i} ({entry['class_name']}) has no name")
        if entry["class_name"] in _MODELS:
            raise WeightsError(f"layer {name!r} is a nested {entry['class_name']} model; save the model flattened")
        inbound = entry.get("inbound_nodes", [])
        layers.append(_Layer(entry["class_name"], name, lcfg, inbound if isinstance(inbound, list) else []))
    names = [ly.name for ly in layers]
    if len(set(names)) != len(names):
        raise WeightsError("config.json: two layers share a name")
    return cls, str(body.get("name", "model")), layers


def _tensors(node: object) -> list[tuple[str, int]]:
    """The (layer, tensor index) of every Keras tensor named in an inbound node's args and kwargs."""
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if n.get("class_name") == "__keras_tensor__":
                hist = n.get("config", {}).get("keras_history") if isinstance(n.get("config"), dict) else None
                if not (isinstance(hist, list) and len(hist) == 3 and isinstance(hist[0], str)):
                    raise WeightsError("config.json: a layer input names no layer (keras_history)")
                out.append((hist[0], hist[2]))
            else:
                stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return out


def _chain(model_cls: str, layers: list[_Layer]) -> list[_Layer]:
    """The recurrent layers, bottom to top, after checking that they form one stack."""
    rec = [ly for ly in layers if ly.cls in RECURRENT or ly.cls == "Bidirectional"]
    for ly in layers:
        if ly.cls not in RECURRENT and ly.cls != "Bidirectional" and re.search(r"(RNN|GRU|LSTM)", ly.cls):
            raise WeightsError(
                f"layer {ly.label}: gru-viz reads GRU, LSTM, SimpleRNN and Bidirectional layers, not {ly.cls}"
            )
    if not rec:
        classes = ", ".join(sorted({ly.cls for ly in layers})) or "none"
        raise WeightsError(f"the model has no GRU, LSTM, SimpleRNN or Bidirectional layer (its layers: {classes})")
    if model_cls == "Sequential":
        idx = [layers.index(r) for r in rec]
        for a, b in itertools.pairwise(idx):
            for ly in layers[a + 1 : b]:
                if ly.cls not in PASS_THROUGH:
                    raise WeightsError(
                        f"layer {ly.label} sits between recurrent layers {layers[a].name!r} and {layers[b].name!r}: "
                        "gru-viz runs a stack of recurrent layers, with nothing but dropout between them"
                    )
        return rec
    by_name = {ly.name: ly for ly in layers}

    def source(ly: _Layer) -> tuple[str, int] | None:
        if len(ly.inbound) != 1:
            raise WeightsError(f"layer {ly.label} is called {len(ly.inbound)} times; gru-viz reads a plain stack")
        found = _tensors(ly.inbound[0])
        if len(found) != 1:
            raise WeightsError(
                f"layer {ly.label} reads {len(found)} tensors (an initial state or mask from another layer?); "
                "gru-viz reads a plain stack"
            )
        return found[0]

    below: dict[str, _Layer | None] = {}
    reads: dict[str, str] = {}
    for r in rec:
        src, tensor = source(r)
        cur = by_name.get(src)
        while cur is not None and cur.cls in PASS_THROUGH and cur.cls != "InputLayer":
            src, tensor = source(cur)
            cur = by_name.get(src)
        if cur is not None and (cur.cls in RECURRENT or cur.cls == "Bidirectional"):
            if tensor != 0:
                raise WeightsError(f"layer {r.label} reads the state output of {cur.label}, not its sequence")
            below[r.name] = cur
        else:
            below[r.name] = None
            reads[r.name] = cur.label if cur is not None else repr(src)
    starts = [r for r in rec if below[r.name] is None]
    if len(starts) > 1:
        a, b = starts[0], starts[1]
        raise WeightsError(
            f"recurrent layers {a.label} and {b.label} do not read one another ({b.name!r} reads {reads[b.name]}): "
            "gru-viz runs one stack of recurrent layers, with nothing but dropout between them"
        )
    chain = [starts[0]]
    while True:
        above = [r for r in rec if below[r.name] is chain[-1]]
        if len(above) > 1:
            raise WeightsError(f"layers {above[0].label} and {above[1].label} both read {chain[-1].label}: a branch")
        if not above:
            break
        chain.append(above[0])
    return chain


@dataclass
class _Settings:
    """What one recurrent layer's config says."""

    kind: str
    units: int
    variant: str
    nonlinearity: str
    use_bias: bool
    go_backwards: bool
    return_sequences: bool


def _settings(ly: _Layer, cfg: dict, cls: str) -> _Settings:
    """Read and check one GRU / LSTM / SimpleRNN config (``cls``) of layer ``ly``."""
    kind = RECURRENT[cls]
    here = f"layer {ly.label}" + (f" ({cfg.get('name')!r} inside it)" if cls != ly.cls else "")

    def flag(key: str, default: bool) -> bool:
        value = cfg.get(key, default)
        if not isinstance(value, bool):
            raise WeightsError(f"{here}: {key} is {value!r}, not true or false")
        return value

    units = cfg.get("units")
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise WeightsError(f"{here}: units is {units!r}, not a positive whole number")
    act = cfg.get("activation", "tanh")
    allowed = ("tanh", "relu") if kind == "rnn" else ("tanh",)
    if act not in allowed:
        shown = act if isinstance(act, str) else "a serialised function"
        raise WeightsError(
            f"{here}: activation is {shown!r}; gru-viz computes {' or '.join(allowed)} only, so it would compute "
            "something else"
        )
    if KIND[kind].sigmoid:  # Keras's recurrent_activation is the gates' activation
        ract = cfg.get("recurrent_activation", "sigmoid")
        if ract != "sigmoid":
            shown = ract if isinstance(ract, str) else "a serialised function"
            raise WeightsError(
                f"{here}: recurrent_activation is {shown!r}; gru-viz's gates are the standard sigmoid, so it "
                "would compute something else"
            )
    variant = "torch"
    if kind == "gru":
        variant = "torch" if flag("reset_after", True) else "reset-before"
    return _Settings(kind, units, variant, act if kind == "rnn" else "tanh", flag("use_bias", True),
                     flag("go_backwards", False), flag("return_sequences", False))


def _recurrent_settings(ly: _Layer) -> list[_Settings]:
    """[forward] or, for a Bidirectional layer, [forward, backward] settings."""
    if ly.cls in RECURRENT:
        return [_settings(ly, ly.config, ly.cls)]
    mode = ly.config.get("merge_mode", "concat")
    if mode != "concat":
        raise WeightsError(
            f"layer {ly.label} has merge_mode={mode!r}: gru-viz runs bidirectional layers whose directions are "
            "concatenated (merge_mode='concat'), as PyTorch's are"
        )
    out = []
    for key in ("layer", "backward_layer"):
        sub = ly.config.get(key)
        if key == "backward_layer" and sub is None:
            sub = ly.config.get("layer")  # Keras builds the backward layer from the forward one's config
            sub = {**sub, "config": {**sub.get("config", {}), "go_backwards": True}} if isinstance(sub, dict) else sub
        if not isinstance(sub, dict) or sub.get("class_name") not in RECURRENT or not isinstance(sub.get("config"),
                                                                                                  dict):
            shown = sub.get("class_name") if isinstance(sub, dict) else sub
            raise WeightsError(f"layer {ly.label} wraps {str(shown)[:60]!r}; gru-viz reads GRU, LSTM and SimpleRNN")
        out.append(_settings(ly, sub["config"], sub["class_name"]))
    fwd, bwd = out
    if fwd.go_backwards or not bwd.go_backwards:
        raise WeightsError(f"layer {ly.label}: its forward layer must read forwards and its backward layer backwards")
    if (fwd.kind, fwd.units, fwd.variant, fwd.nonlinearity) != (bwd.kind, bwd.units, bwd.variant, bwd.nonlinearity):
        raise WeightsError(f"layer {ly.label}: its forward and backward layers differ; gru-viz runs matching pairs")
    return out


# ----------------------------------------------------------------------------------------------- weights


def _cell(arrays: Mapping[str, np.ndarray], base: str, label: str, use_bias: bool | None, used: set[str],
          kind: str | None, reset_after: bool | None) -> tuple[str, str, LayerWeights]:
    """The cell stored under ``base`` (``…/cell/vars``), converted; its keys are added to ``used``."""
    keys = {role: f"{base}/{i}" for i, role in enumerate(_ROLES)}
    for role in ("kernel", "recurrent_kernel"):
        if keys[role] not in arrays:
            raise WeightsError(f"missing {keys[role]} (the {role} of {label}) in the weights")
    if use_bias is True and keys["bias"] not in arrays:
        raise WeightsError(f"missing {keys['bias']} (the bias of {label}) in the weights")
    if use_bias is False and keys["bias"] in arrays:
        raise WeightsError(f"{keys['bias']}: {label} has use_bias=False in its config, but the weights hold a bias")
    present = {role: k for role, k in keys.items() if k in arrays}
    extra = sorted(k for k in arrays if k.startswith(base + "/") and k not in present.values())
    if extra:
        raise WeightsError(f"unexpected {extra[0]} beside the kernel, recurrent_kernel and bias of {label}")
    vals = to_float64({role: arrays[k] for role, k in present.items()}, present)
    used.update(present.values())
    names = {role: f"{k} ({role} of {label})" for role, k in keys.items()}
    return cell_weights(vals["kernel"], vals["recurrent_kernel"], vals.get("bias"), names, kind=kind,
                        reset_after=reset_after)


def _layer_groups(arrays: Mapping[str, np.ndarray]) -> dict[str, set[str]]:
    """{``layers/<group>``: its dataset paths} for every top-level layer group in the weights."""
    groups: dict[str, set[str]] = {}
    for path in arrays:
        parts = path.split("/")
        if len(parts) >= 3 and parts[0] == "layers":
            groups.setdefault(f"layers/{parts[1]}", set()).add(path)
    return groups


def _check_variant_hint(variant: str | None) -> bool | None:
    if variant is None:
        return None
    if variant not in ("torch", "reset-before"):
        raise WeightsError(f"a Keras GRU is the 'torch' or 'reset-before' variant, not {variant!r}")
    return variant == "torch"


def read_keras(data: bytes, *, kind: str | None = None, variant: str | None = None,
               nonlinearity: str | None = None) -> Loaded:
    """The recurrent stack of a ``.keras`` file (see the module docstring); hints are checked against the config."""
    if not data.startswith(b"PK"):
        raise WeightsError("not a .keras file (a zip archive): it does not start with 'PK'")
    infos = {i.filename: i for i in check_archive(data, ".keras")}
    if "config.json" not in infos:
        raise WeightsError(f"the .keras archive has no config.json (members: {', '.join(sorted(infos)[:8])})")
    if "model.weights.h5" not in infos:
        sharded = any(n.endswith(".json") and "weights" in n for n in infos)
        sharded = " (sharded weights are not read)" if sharded else ""
        raise WeightsError(f"the .keras archive has no model.weights.h5{sharded}")
    if infos["config.json"].file_size > MAX_CONFIG_BYTES:
        raise WeightsError(f"config.json is {infos['config.json'].file_size} bytes, more than {MAX_CONFIG_BYTES}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            raw_config = zf.read("config.json")
            h5 = zf.read("model.weights.h5")
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, bad CRC, truncated data, unknown compression, …
        raise WeightsError(f"not a readable .keras archive: {type(exc).__name__}: {str(exc)[:200]}") from None
    config = _json(raw_config, "config.json")
    _refuse_code(config, "config.json")
    model_cls, model_name, layers = _layers(config)
    chain = _chain(model_cls, layers)
    settings = {r.name: _recurrent_settings(r) for r in chain}
    for below, above in itertools.pairwise(chain):
        if not settings[below.name][0].return_sequences:
            raise WeightsError(
                f"layer {below.label} returns only its last step (return_sequences=False), yet {above.label} reads it"
            )
    for r in chain[1:]:
        if r.cls in RECURRENT and settings[r.name][0].go_backwards:
            raise WeightsError(
                f"layer {r.label} has go_backwards=True above another recurrent layer: it reads the layer below from "
                "the last step to the first, which a gru-viz stack does not do"
            )
    first = settings[chain[0].name]
    kinds = {s.kind for ss in settings.values() for s in ss}
    if len(kinds) > 1:
        raise WeightsError(f"the stack mixes {' and '.join(sorted(KIND_NAMES[k] for k in kinds))} layers; gru-viz "
                           "runs stacks of one kind")
    kind_found = kinds.pop()
    kind = normalise_kind(kind)
    if kind is not None and kind != kind_found:
        raise WeightsError(
            f"the kind hint says {KIND_NAMES[kind]}, but the config's layers are {KIND_NAMES[kind_found]}s")
    variants = {s.variant for ss in settings.values() for s in ss}
    nls = {s.nonlinearity for ss in settings.values() for s in ss}
    if len(variants) > 1:
        raise WeightsError("the GRU layers differ in reset_after; gru-viz runs stacks of one variant")
    if len(nls) > 1:
        raise WeightsError("the SimpleRNN layers differ in activation; gru-viz runs stacks of one nonlinearity")
    var, nl = variants.pop(), nls.pop()
    if variant is not None and kind_found == "gru" and variant != var:
        raise WeightsError(
            f"the config says reset_after={var == 'torch'} ({GRU_VARIANTS[var].name}); the GRU variant hint asks for "
            f"{GRU_VARIANTS[variant].name if variant in GRU_VARIANTS else variant!r}"
        )
    if nonlinearity is not None and kind_found == "rnn" and nonlinearity != nl:
        raise WeightsError(f"the config says activation={nl!r}; the nonlinearity hint asks for {nonlinearity!r}")
    if variant is not None and kind_found != "gru":
        raise WeightsError(f"a GRU variant hint applies to a GRU only; this model's layers are "
                           f"{KIND_NAMES[kind_found]}s")
    if nonlinearity is not None and kind_found != "rnn":
        raise WeightsError(f"a nonlinearity hint applies to an RNN only; this model's layers are "
                           f"{KIND_NAMES[kind_found]}s")

    arrays, group_names = hdf5.read(h5, "model.weights.h5")
    group_of = _groups_by_name(model_cls, layers, arrays, group_names)
    used: set[str] = set()
    stack = []
    for r in chain:
        group = group_of.get(r.name)
        if group is None:
            raise WeightsError(f"model.weights.h5 holds no weights for layer {r.label}")
        subs = ["cell/vars"] if r.cls in RECURRENT else ["forward_layer/cell/vars", "backward_layer/cell/vars"]
        dirs = []
        for sub, s in zip(subs, settings[r.name], strict=True):
            _, _, lw = _cell(arrays, f"{group}/{sub}", f"layer {r.label}", s.use_bias, used, s.kind,
                             (s.variant == "torch") if s.kind == "gru" else None)
            if lw.weight_hh.shape[1] != s.units:
                raise WeightsError(f"{group}/{sub}/1: {lw.weight_hh.shape[1]} units, the config of {r.label} says "
                                   f"{s.units}")
            dirs.append(lw)
        stack.append(dirs)
    model = stack_model(stack, kind_found, variant=var, nonlinearity=nl, batch_first=True)
    chained = {ly.name for ly in chain}
    ignored = [ly.label for ly in layers if ly.name not in chained and ly.cls != "InputLayer"]
    last = settings[chain[-1].name][0]
    notes = []
    if not last.return_sequences:
        notes.append(f"{chain[-1].name!r} has return_sequences=False: Keras returns only its last step; gru-viz "
                     "shows every step")
    for ly in layers:
        if ly.cls == "Masking" or (ly.cls == "Embedding" and ly.config.get("mask_zero")):
            notes.append(f"{ly.label} masks steps in Keras; gru-viz runs every step, masked or not")
        if ly.cls == "Bidirectional" or ly.cls in RECURRENT:
            if ly.config.get("stateful"):
                notes.append(f"{ly.label} is stateful: gru-viz starts every run from the state you choose")
    policy = _dtype_name(chain[0].config)
    if policy not in (None, "float32", "float64"):
        notes.append(f"Keras runs this model in {policy}; gru-viz computes in float64")
    before = [ly for ly in layers[: layers.index(chain[0])] if ly.cls != "InputLayer"]
    if before and model_cls == "Sequential":
        notes.append(f"the model's input here is what {chain[0].label} reads: the output of {before[-1].label}")
    elif model_cls == "Functional":
        src = _tensors(chain[0].inbound[0])[0][0] if chain[0].inbound else None
        if src in {ly.name for ly in layers if ly.cls != "InputLayer"}:
            notes.append(f"the model's input here is what {chain[0].label} reads: the output of layer {src!r}")
    read = [_describe(r, settings[r.name]) for r in chain]
    return Loaded(
        model,
        "keras",
        source=f"Keras {model_cls} {model_name!r}: " + " → ".join(r.label for r in chain),
        layers=[r.label for r in chain],
        ignored=ignored,
        read=read,
        notes=notes,
        fixed=frozenset({"variant", "nonlinearity"}),
        backwards=(f"layer {chain[0].label} has go_backwards=True: it reads the sequence from its last step to its "
                   "first" if first[0].go_backwards and chain[0].cls in RECURRENT else ""),
    )


def _dtype_name(cfg: dict) -> str | None:
    dt = cfg.get("dtype")
    if isinstance(dt, str):
        return dt
    if isinstance(dt, dict) and isinstance(dt.get("config"), dict):
        name = dt["config"].get("name")
        return name if isinstance(name, str) else None
    return None


def _describe(ly: _Layer, ss: list[_Settings]) -> str:
    s = ss[0]
    bits = [f"{ly.name}: {ly.cls}" + (f"({ly.config['layer']['class_name']})" if ly.cls == "Bidirectional" else ""),
            f"{s.units} units"]
    if s.kind == "gru":
        bits.append(f"reset_after={s.variant == 'torch'}")
    bits.append(f"activation {s.nonlinearity}" + (", recurrent_activation sigmoid" if KIND[s.kind].sigmoid else ""))
    if not s.use_bias:
        bits.append("use_bias=False")
    if s.go_backwards:
        bits.append("go_backwards=True")
    if ly.cls == "Bidirectional":
        bits.append("merge_mode concat")
    bits.append(f"return_sequences={s.return_sequences}")
    return ", ".join(bits)


def _snake(name: str) -> str:
    """Keras's ``naming.to_snake_case`` (how it names a layer's group in the weights file)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _groups_by_name(model_cls: str, layers: list[_Layer], arrays: Mapping[str, np.ndarray],
                    group_names: Mapping[str, str]) -> dict[str, str]:
    """{layer name: its group in the weights}: from the name Keras writes on ``<group>/vars``, else from Keras's
    rule (class name in snake case, numbered in the model's layer order; Sequential leaves its InputLayer out)."""
    out = {}
    for path, name in group_names.items():
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "layers" and parts[2] == "vars":
            out.setdefault(name, f"layers/{parts[1]}")
    if all(ly.name in out for ly in layers if ly.cls != "InputLayer"):
        return out
    used: dict[str, int] = {}
    guessed = {}
    for ly in layers:
        if model_cls == "Sequential" and ly.cls == "InputLayer":
            continue
        base = _snake(ly.cls)
        n = used.get(base)
        used[base] = 0 if n is None else n + 1
        guessed[ly.name] = f"layers/{base}" if n is None else f"layers/{base}_{n + 1}"
    return {**guessed, **out}


# --------------------------------------------------------------------------------------- bare .weights.h5


def read_weights_h5(data: bytes, *, kind: str | None = None, variant: str | None = None,
                    nonlinearity: str | None = None) -> Loaded:
    """The recurrent stack of a ``.weights.h5`` (no config): see :func:`from_paths`."""
    arrays, names = hdf5.read(data, ".weights.h5")
    if any(k.startswith("model_weights/") for k in arrays) or not any(k.startswith("layers/") for k in arrays):
        raise WeightsError(
            "this HDF5 file is not a Keras 3 weights file (no layers/… groups; a Keras 2 .h5 model?): save it with "
            "Keras 3 as .keras (model.save('model.keras')) or .weights.h5"
        )
    return from_paths(arrays, names, kind=kind, variant=variant, nonlinearity=nonlinearity,
                      what="Keras weights file (.weights.h5)", fmt="keras-weights")


def from_paths(arrays: Mapping[str, np.ndarray], names: Mapping[str, str] | None = None, *, kind: str | None = None,
               variant: str | None = None, nonlinearity: str | None = None, what: str = "Keras weights",
               fmt: str = "keras-weights") -> Loaded:
    """The recurrent stack in arrays keyed by Keras's weight paths (``layers/gru/cell/vars/0``, …), no config.

    Recurrent groups are ``gru``, ``lstm``, ``simple_rnn`` (``…/cell/vars``) and ``bidirectional``
    (``…/forward_layer/…``, ``…/backward_layer/…``), numbered ``_1``, ``_2`` in the model's layer order. A GRU's
    ``reset_after`` is read from its bias, else taken from ``variant`` (else :class:`HintNeeded`); activations,
    ``go_backwards`` and ``merge_mode`` are not in such a file and are assumed to be Keras's defaults (and said so).
    """
    names = names or {}
    kind = normalise_kind(kind)
    reset_after = _check_variant_hint(variant)
    groups = _layer_groups(arrays)
    rec: list[tuple[int, str, str]] = []  # (number, base, group)
    others = []
    for group, paths in groups.items():
        leaf = group.split("/")[1]
        m = re.fullmatch(r"([a-z0-9_]+?)(?:_(\d+))?", leaf)
        base, num = (m.group(1), int(m.group(2) or 0)) if m else (leaf, 0)
        if any("/layers/" in p[len(group):] for p in paths):
            raise WeightsError(f"{group} is a nested model; save the model flattened")
        has_cell = any("/cell/vars/" in p for p in paths)
        if base in GROUP_CLASS:
            rec.append((num, base, group))
        elif has_cell:
            raise WeightsError(f"{group} holds a recurrent cell of a layer class gru-viz does not know ({leaf!r})")
        else:
            label = names.get(f"{group}/vars")
            others.append(f"{group}" + (f" ({label!r})" if label else ""))
    if not rec:
        shown = ", ".join(sorted(groups)[:10]) or "none"
        raise WeightsError(f"the {what} holds no GRU, LSTM, SimpleRNN or Bidirectional layer (groups: {shown})")
    bases = {b for _, b, _ in rec}
    if len(bases) > 1:
        raise WeightsError(
            f"the {what} mixes {' and '.join(GROUP_CLASS[b] for b in sorted(bases))} layers; gru-viz runs stacks of "
            "one kind (and a stack's layers are all one-way or all bidirectional)"
        )
    base = bases.pop()
    rec.sort()
    used: set[str] = set()
    stack, kinds, variants, labels = [], set(), set(), []
    for _, _, group in rec:
        shown = names.get(f"{group}/vars")
        label = f"{group}" + (f" ({shown!r})" if shown else "")
        subs = ["cell/vars"] if base != "bidirectional" else ["forward_layer/cell/vars", "backward_layer/cell/vars"]
        dirs = []
        for sub in subs:
            k, v, lw = _cell(arrays, f"{group}/{sub}", label, None, used, kind, reset_after)
            kinds.add(k)
            variants.add(v)
            dirs.append(lw)
        extra = sorted(p for p in groups[group] if p not in used)
        if extra:
            raise WeightsError(f"unexpected {extra[0]} in the weights of {label}")
        stack.append(dirs)
        labels.append(label)
    if len(kinds) > 1:
        raise WeightsError(f"the layers mix {' and '.join(sorted(KIND_NAMES[k] for k in kinds))}; gru-viz runs stacks "
                           "of one kind")
    kind_found = kinds.pop()
    expected = RECURRENT.get(GROUP_CLASS[base])
    if expected is not None and expected != kind_found:
        raise WeightsError(f"{rec[0][2]} is named like a {GROUP_CLASS[base]}, but its weights are a "
                           f"{KIND_NAMES[kind_found]}'s")
    if len(variants) > 1:
        raise WeightsError("the GRU layers differ in reset_after (their biases' shapes); gru-viz runs stacks of one "
                           "variant")
    var = variants.pop()
    if nonlinearity is not None and kind_found != "rnn":
        raise WeightsError(f"a nonlinearity hint applies to an RNN only; these weights are a "
                           f"{KIND_NAMES[kind_found]}'s")
    if variant is not None and kind_found != "gru":
        raise WeightsError(f"a GRU variant hint applies to a GRU only; these weights are a "
                           f"{KIND_NAMES[kind_found]}'s")
    model = stack_model(stack, kind_found, variant=var, nonlinearity=nonlinearity or "tanh", batch_first=True)
    biased = kind_found == "gru" and all(lw.bias_ih is not None for layer in stack for lw in layer)
    assumed = []
    if kind_found == "rnn":
        if nonlinearity is None:
            assumed.append("activation tanh (Keras's default; the file does not record it)")
    else:
        assumed.append("activation tanh with sigmoid gates (Keras's defaults; the file does not record them)")
    assumed.append("go_backwards=False (the file does not record it)")
    if base == "bidirectional":
        assumed.append("Bidirectional merge_mode 'concat' (Keras's default)")
    if others and len(rec) > 1:
        assumed.append("the recurrent layers follow one another directly (the file does not say where "
                       f"{', '.join(o.split('/')[-1] for o in others[:3])} sit)")
    read = []
    if kind_found == "gru":
        if biased:
            read.append(f"reset_after={var == 'torch'} (from the biases' shapes)")
        else:
            read.append(f"reset_after={var == 'torch'} (your choice: the file has no biases to tell)")
    return Loaded(
        model,
        fmt,
        source=f"{what}: " + " → ".join(labels),
        layers=labels,
        ignored=others,
        read=read,
        assumed=assumed,
        fixed=frozenset({"variant"}) if biased else frozenset(),
    )


def looks_like_paths(arrays: Mapping[str, np.ndarray]) -> bool:
    """Whether the keys are Keras's weight paths (``layers/<group>/cell/vars/0`` …)."""
    return any(isinstance(k, str) and k.startswith("layers/") and "/cell/vars/" in k for k in arrays)


__all__ = ["RESET_AFTER_CHOICES", "HintNeeded", "from_paths", "looks_like_paths", "read_keras", "read_weights_h5"]
