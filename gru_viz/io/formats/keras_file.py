"""Keras files, read with ``json`` and ``h5py`` (Keras itself is never imported; nothing in the file runs).

- ``.keras``: a zip of ``config.json`` (the architecture), ``model.weights.h5`` and ``metadata.json``. The config
  says what the numbers cannot: units, ``reset_after``, the activations, ``go_backwards``, ``return_sequences``,
  ``Bidirectional``'s ``merge_mode`` and the order of the layers. Keras stores each layer's variables under
  ``layers/<group>/cell/vars/0`` (kernel), ``/1`` (recurrent_kernel), ``/2`` (bias), a ``Bidirectional`` layer's
  under ``…/forward_layer/…`` and ``…/backward_layer/…``; the group's ``vars`` carries the layer's name.
- ``.weights.h5`` (``model.save_weights``): the same HDF5 without the config. Groups are named after the layer's
  class, numbered in the model's layer order (``gru``, ``gru_1``, …), which gives the stack order; the biases'
  shapes give a GRU's ``reset_after``. What the file cannot say is listed as assumed, or, for a bias-free GRU's
  ``reset_after``, asked for (:class:`HintNeeded`).
- ``.h5`` whole models (``model.save("model.h5")``: Keras 2's ``hdf5_format.py``, Keras 3's
  ``legacy_h5_format.py``): the config is the root's ``model_config`` attribute (JSON), each layer's arrays are under
  ``model_weights/<layer>/`` at the names its ``weight_names`` attribute lists, in the order Keras loads them
  (kernel, recurrent_kernel, bias; a Bidirectional's forward layer's, then its backward layer's). Keras 2's names
  (``gru/gru_cell/kernel:0``) and configs (no ``module`` keys, ``"Model"`` for a functional model, an old
  Sequential's bare list of layers, ``[name, node, tensor, kwargs]`` inbound nodes) read like Keras 3's.

What becomes one gru-viz model: the recurrent layers (GRU, LSTM, SimpleRNN, ``Bidirectional`` with
``merge_mode="concat"``) of a Sequential or functional model, stacked one on the other, with only layers that do
nothing at inference (Dropout and the like) between them; GRU layers may differ in ``reset_after`` (each keeps its
own variant). An Embedding that feeds the first recurrent layer becomes the model's embedding (with the vocabulary
of a StringLookup or TextVectorization before it, from its config or the ``.keras`` file's assets), a linear or
softmax Dense that reads the last one its readout; other layers before or after are listed and left out, and the
model's input is then what the first recurrent layer reads. Refused, with the
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ...core.kinds import KIND
from ...core.model import Model
from ...core.spec import GRU_VARIANTS, KIND_NAMES
from ...core.tokens import Embedding, Readout, TokenError
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
_MODELS = ("Sequential", "Functional", "Model")  # "Model": Keras 2's name for a functional model
_ROLES = ("kernel", "recurrent_kernel", "bias")
# The attributes of a whole-model .h5 (Keras's legacy_h5_format / Keras 2's hdf5_format): the config and versions at
# the root, the layers' names on model_weights, each layer's weights' names on its group.
_LEGACY_ATTRIBUTES = ("model_config", "keras_version", "backend", "layer_names", "weight_names")


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
                or ">" in cls  # tf.keras 2's register_keras_serializable names a class "package>Name"
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
    """(model class, model name, its layers) from a ``config.json`` (or a legacy .h5's ``model_config``)."""
    if isinstance(config, dict) and config.get("class_name") == "Sequential" and isinstance(config.get("config"), list):
        config = {**config, "config": {"layers": config["config"]}}  # Keras ≤ 2.2.2 wrote a Sequential as its list
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise WeightsError("config.json does not describe a Keras model (no class_name/config object)")
    cls = config.get("class_name")
    cls = "Functional" if cls == "Model" else cls
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
            if n.get("class_name") == "__keras_tensor__":  # Keras 3
                hist = n.get("config", {}).get("keras_history") if isinstance(n.get("config"), dict) else None
                if not (isinstance(hist, list) and len(hist) == 3 and isinstance(hist[0], str)):
                    raise WeightsError("config.json: a layer input names no layer (keras_history)")
                out.append((hist[0], hist[2]))
            else:
                stack.extend(n.values())
        elif isinstance(n, list):
            if 3 <= len(n) <= 4 and isinstance(n[0], str) and all(isinstance(v, int) for v in n[1:3]):
                out.append((n[0], n[2]))  # Keras 2: [layer name, node index, tensor index, kwargs]
                stack.extend(n[3:])
            else:
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
    below: dict[str, _Layer | None] = {}
    reads: dict[str, str] = {}
    for r in rec:
        cur, src, tensor = _upstream(r, by_name)
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


def _source(ly: _Layer) -> tuple[str, int]:
    """The (layer, tensor index) a functional model's layer reads, refused unless it is called once on one tensor."""
    if len(ly.inbound) != 1:
        raise WeightsError(f"layer {ly.label} is called {len(ly.inbound)} times; gru-viz reads a plain stack")
    node = ly.inbound[0]
    if isinstance(node, dict) and isinstance(node.get("kwargs"), dict) and "mask" in node["kwargs"]:
        # Keras 3 passes an Embedding's mask_zero mask along; the notes say gru-viz runs every step anyway
        node = {**node, "kwargs": {k: v for k, v in node["kwargs"].items() if k != "mask"}}
    found = _tensors(node)
    if len(found) != 1:
        raise WeightsError(
            f"layer {ly.label} reads {len(found)} tensors (an initial state or mask from another layer?); "
            "gru-viz reads a plain stack"
        )
    return found[0]


def _upstream(ly: _Layer, by_name: Mapping[str, _Layer]) -> tuple[_Layer | None, str, int]:
    """(the first layer below ``ly`` that does something at inference, or None; its name; which of its outputs)."""
    src, tensor = _source(ly)
    cur = by_name.get(src)
    while cur is not None and cur.cls in PASS_THROUGH and cur.cls != "InputLayer":
        src, tensor = _source(cur)
        cur = by_name.get(src)
    return cur, src, tensor


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
    if flag("time_major", False):  # tf.keras 2's key: the input is (time, batch, features)
        raise WeightsError(f"{here}: time_major=True (tf.keras 2): gru-viz reads Keras's (batch, time, features) "
                           "layers; save the model with time_major=False")
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
    extra = sorted(k for k in arrays if k.startswith(base + "/") and k not in keys.values())
    if extra:
        raise WeightsError(f"unexpected {extra[0]} beside the kernel, recurrent_kernel and bias of {label}")
    return _cell_at(arrays, keys, label, use_bias, used, kind, reset_after)


def _cell_at(arrays: Mapping[str, np.ndarray], keys: Mapping[str, str], label: str, use_bias: bool | None,
             used: set[str], kind: str | None, reset_after: bool | None) -> tuple[str, str, LayerWeights]:
    """The cell whose kernel, recurrent_kernel and bias are at ``keys`` (role → path), converted; see :func:`_cell`."""
    for role in ("kernel", "recurrent_kernel"):
        if keys[role] not in arrays:
            raise WeightsError(f"missing {keys[role]} (the {role} of {label}) in the weights")
    if use_bias is True and keys.get("bias") not in arrays:
        raise WeightsError(f"missing {keys.get('bias', 'a bias')} (the bias of {label}) in the weights")
    if use_bias is False and keys.get("bias") in arrays:
        raise WeightsError(f"{keys['bias']}: {label} has use_bias=False in its config, but the weights hold a bias")
    present = {role: k for role, k in keys.items() if k in arrays}
    vals = to_float64({role: arrays[k] for role, k in present.items()}, present)
    used.update(present.values())
    names = {role: f"{keys.get(role, role)} ({role} of {label})" for role in _ROLES}
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


class _KerasStore:
    """Where a ``.keras`` file's weights keep each layer's variables: ``layers/<group>/…/vars/<i>``."""

    def __init__(self, arrays: Mapping[str, np.ndarray], group_names: Mapping[str, str], model_cls: str,
                 layers: list[_Layer]) -> None:
        self.arrays = arrays
        self.group_of = _groups_by_name(model_cls, layers, arrays, group_names)

    def cells(self, ly: _Layer, ss: list[_Settings]) -> list[dict[str, str]]:
        """{role: path} of each direction's cell of recurrent layer ``ly``."""
        group = self.group_of.get(ly.name)
        if group is None:
            raise WeightsError(f"model.weights.h5 holds no weights for layer {ly.label}")
        subs = ["cell/vars"] if ly.cls in RECURRENT else ["forward_layer/cell/vars", "backward_layer/cell/vars"]
        out = []
        for sub in subs:
            base = f"{group}/{sub}"
            keys = {role: f"{base}/{i}" for i, role in enumerate(_ROLES)}
            extra = sorted(k for k in self.arrays if k.startswith(base + "/") and k not in keys.values())
            if extra:
                raise WeightsError(f"unexpected {extra[0]} beside the kernel, recurrent_kernel and bias of {ly.label}")
            out.append(keys)
        return out

    def variables(self, ly: _Layer) -> list[str]:
        """The paths of a layer's own variables, in Keras's order."""
        group = self.group_of.get(ly.name)
        if group is None:
            return []
        found = [k for k in self.arrays if k.startswith(f"{group}/vars/") and k.rsplit("/", 1)[1].isdigit()]
        return sorted(found, key=lambda k: int(k.rsplit("/", 1)[1]))


class _LegacyStore:
    """Where a Keras 2-era ``.h5`` (``model.save("model.h5")``) keeps each layer's variables:
    ``model_weights/<layer>/<weight name>``, in the order of the group's ``weight_names`` attribute (Keras's legacy
    loader assigns them by that order, not by name)."""

    def __init__(self, arrays: Mapping[str, np.ndarray], attrs: Mapping[str, Mapping[str, object]]) -> None:
        self.arrays = arrays
        listed = attrs.get("model_weights", {}).get("layer_names")
        if not isinstance(listed, list):
            raise WeightsError("the .h5 file's model_weights group has no layer_names attribute (Keras writes one "
                               "with model.save('model.h5')): save the whole model with Keras again")
        self.weight_names: dict[str, list[str]] = {}
        for name in listed:
            names = attrs.get(f"model_weights/{name}", {}).get("weight_names", [])
            self.weight_names[name] = [names] if isinstance(names, str) else list(names)  # type: ignore[arg-type]

    def cells(self, ly: _Layer, ss: list[_Settings]) -> list[dict[str, str]]:
        """{role: path} of each direction's cell of recurrent layer ``ly``: its weight_names split in order."""
        names = self.weight_names.get(ly.name)
        if not names:
            listed = ", ".join(repr(n) for n in list(self.weight_names)[:8]) or "none"
            raise WeightsError(f"the file's model_weights hold no weights for layer {ly.label} (layer_names: {listed})")
        per = [2 + s.use_bias for s in ss]
        if len(names) != sum(per):
            want = "kernel, recurrent_kernel" + (", bias" if ss[0].use_bias else "")
            raise WeightsError(
                f"model_weights/{ly.name} lists {len(names)} weights ({', '.join(names[:6])}); its config asks for "
                f"{sum(per)}: {want}" + (" for each direction" if len(ss) == 2 else "")
            )
        out, i = [], 0
        for n in per:
            keys = {}
            for role, wn in zip(_ROLES, names[i : i + n], strict=False):
                leaf = wn.rsplit("/", 1)[-1].split(":")[0]
                if leaf in _ROLES and leaf != role:
                    raise WeightsError(f"model_weights/{ly.name}: weight {wn!r} stands where Keras loads the {role} "
                                       f"of {ly.label} (Keras loads a layer's weights in their listed order)")
                keys[role] = f"model_weights/{ly.name}/{wn}"
            out.append(keys)
            i += n
        return out

    def variables(self, ly: _Layer) -> list[str]:
        """The paths of a layer's own variables, in the order Keras loads them."""
        return [f"model_weights/{ly.name}/{wn}" for wn in self.weight_names.get(ly.name, [])]


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
    vocab_files = [n for n in infos if n.startswith("assets/") and n.endswith("/vocabulary.txt")]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            raw_config = zf.read("config.json")
            h5 = zf.read("model.weights.h5")
            assets = {n.removeprefix("assets/").removesuffix("/vocabulary.txt"): zf.read(n) for n in vocab_files}
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, bad CRC, truncated data, unknown compression, …
        raise WeightsError(f"not a readable .keras archive: {type(exc).__name__}: {str(exc)[:200]}") from None
    config = _json(raw_config, "config.json")
    arrays, group_names = hdf5.read(h5, "model.weights.h5")

    def store(model_cls: str, layers: list[_Layer]) -> _KerasStore:
        return _KerasStore(arrays, group_names, model_cls, layers)

    return _from_config(config, "config.json", store, assets, kind=kind, variant=variant, nonlinearity=nonlinearity)


def read_legacy_h5(arrays: Mapping[str, np.ndarray], attrs: Mapping[str, Mapping[str, object]], *,
                   kind: str | None = None, variant: str | None = None, nonlinearity: str | None = None) -> Loaded:
    """The recurrent stack of a Keras 2-era whole-model ``.h5`` (its ``model_config`` attribute and
    ``model_weights`` group; Keras 3 still writes one for ``model.save("model.h5")``), read as a ``.keras`` is."""
    root = attrs.get("", {})
    raw = root.get("model_config")
    if not isinstance(raw, str):
        raise WeightsError("the .h5 file's model_config attribute is not JSON text")
    config = _json(raw.encode("utf-8"), "the .h5 file's model_config")
    version, backend = root.get("keras_version"), root.get("backend")

    def store(model_cls: str, layers: list[_Layer]) -> _LegacyStore:
        return _LegacyStore(arrays, attrs)

    saved = "Keras " + (version if isinstance(version, str) else "(version not recorded)") + (
        f", backend {backend}" if isinstance(backend, str) else "")
    return _from_config(config, "model_config", store, {}, kind=kind, variant=variant, nonlinearity=nonlinearity,
                        saved=f"saved by {saved} as a whole-model .h5")


def _from_config(config: object, where: str, store: Callable[[str, list[_Layer]], _KerasStore | _LegacyStore],
                 assets: Mapping[str, bytes], *, kind: str | None, variant: str | None, nonlinearity: str | None,
                 saved: str = "") -> Loaded:
    """The recurrent stack a Keras model config describes, its weights found by ``store``; hints are checked."""
    _refuse_code(config, where)
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
    per_layer = [settings[r.name][0].variant for r in chain]  # a Bidirectional's two directions match (checked)
    nls = {s.nonlinearity for ss in settings.values() for s in ss}
    if len(nls) > 1:
        raise WeightsError("the SimpleRNN layers differ in activation; gru-viz runs stacks of one nonlinearity")
    var, nl = per_layer[0], nls.pop()
    if variant is not None and kind_found == "gru" and set(per_layer) != {variant}:
        said = ", ".join(f"reset_after={v == 'torch'}" + (f" for {r.name!r}" if len(chain) > 1 else "")
                         for r, v in zip(chain, per_layer, strict=True))
        raise WeightsError(
            f"the config says {said} ({' / '.join(GRU_VARIANTS[v].name for v in per_layer)}); the GRU variant hint "
            f"asks for {GRU_VARIANTS[variant].name if variant in GRU_VARIANTS else variant!r}"
        )
    if nonlinearity is not None and kind_found == "rnn" and nonlinearity != nl:
        raise WeightsError(f"the config says activation={nl!r}; the nonlinearity hint asks for {nonlinearity!r}")
    if variant is not None and kind_found != "gru":
        raise WeightsError(f"a GRU variant hint applies to a GRU only; this model's layers are "
                           f"{KIND_NAMES[kind_found]}s")
    if nonlinearity is not None and kind_found != "rnn":
        raise WeightsError(f"a nonlinearity hint applies to an RNN only; this model's layers are "
                           f"{KIND_NAMES[kind_found]}s")

    weights = store(model_cls, layers)
    used: set[str] = set()
    stack = []
    for r in chain:
        dirs = []
        for keys, s in zip(weights.cells(r, settings[r.name]), settings[r.name], strict=True):
            _, _, lw = _cell_at(weights.arrays, keys, f"layer {r.label}", s.use_bias, used, s.kind,
                                (s.variant == "torch") if s.kind == "gru" else None)
            if lw.weight_hh.shape[1] != s.units:
                raise WeightsError(f"{keys['recurrent_kernel']}: {lw.weight_hh.shape[1]} units, the config of "
                                   f"{r.label} says {s.units}")
            dirs.append(lw)
        stack.append(dirs)
    model = stack_model(stack, kind_found, variant=var, nonlinearity=nl, batch_first=True, layer_variants=per_layer)
    tokens = _tokens(model_cls, layers, chain, settings, weights, assets, model)
    if tokens.embedding is not None or tokens.readout is not None:
        model = model.with_tokens(tokens.embedding, tokens.readout)
    kept = {ly.name for ly in chain} | tokens.kept
    ignored = [ly.label for ly in layers if ly.name not in kept and ly.cls != "InputLayer"]
    last = settings[chain[-1].name][0]
    notes = []
    if not last.return_sequences:
        notes.append(f"{chain[-1].name!r} has return_sequences=False: Keras returns only its last step; gru-viz "
                     "shows every step")
    notes.extend(tokens.notes)
    for ly in layers:
        if ly.cls == "Masking" or (ly.cls == "Embedding" and ly.config.get("mask_zero") and ly.name not in kept):
            notes.append(f"{ly.label} masks steps in Keras; gru-viz runs every step, masked or not")
        if ly.cls == "Bidirectional" or ly.cls in RECURRENT:
            if ly.config.get("stateful"):
                notes.append(f"{ly.label} is stateful: gru-viz starts every run from the state you choose")
    policy = _dtype_name(chain[0].config)
    if policy not in (None, "float32", "float64"):
        notes.append(f"Keras runs this model in {policy}; gru-viz computes in float64")
    before = [ly for ly in layers[: layers.index(chain[0])] if ly.cls != "InputLayer"]
    if tokens.embedding is not None:  # the tokens' notes say what the model reads
        before = []
    if before and model_cls == "Sequential":
        notes.append(f"the model's input here is what {chain[0].label} reads: the output of {before[-1].label}")
    elif model_cls == "Functional" and tokens.embedding is None:
        src = _tensors(chain[0].inbound[0])[0][0] if chain[0].inbound else None
        if src in {ly.name for ly in layers if ly.cls != "InputLayer"}:
            notes.append(f"the model's input here is what {chain[0].label} reads: the output of layer {src!r}")
    read = [_describe(r, settings[r.name]) for r in chain] + tokens.read
    if saved:
        read.insert(0, saved)
    return Loaded(
        model,
        "keras",
        source=f"Keras {model_cls} {model_name!r}: " + " → ".join(r.label for r in chain),
        layers=[r.label for r in chain],
        ignored=ignored,
        read=read,
        assumed=tokens.assumed,
        notes=notes,
        fixed=frozenset({"variant", "nonlinearity"}),
        backwards=(f"layer {chain[0].label} has go_backwards=True: it reads the sequence from its last step to its "
                   "first" if first[0].go_backwards and chain[0].cls in RECURRENT else ""),
    )


# ------------------------------------------------------------------------------ embedding, vocabulary, readout

LOOKUPS = ("StringLookup", "TextVectorization")  # Keras layers that turn text into the ids an Embedding reads
_READOUT_ACTIVATIONS = {"linear": "scores (logits)", "softmax": "probabilities: softmax of the scores"}


@dataclass
class _Tokens:
    """What sits around the stack in the file: the embedding before it and the readout after it, kept."""

    embedding: Embedding | None = None
    readout: Readout | None = None
    kept: set[str] = field(default_factory=set)  # the layers read into them
    read: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _neighbour(model_cls: str, layers: list[_Layer], ly: _Layer, *, after: bool) -> _Layer | None:
    """The layer that feeds ``ly`` (or, ``after``, the one layer that reads its output), skipping pass-through
    layers; None when there is none or it is not one plain layer."""
    if model_cls == "Sequential":
        step = 1 if after else -1
        i = layers.index(ly) + step
        while 0 <= i < len(layers) and layers[i].cls in PASS_THROUGH and layers[i].cls != "InputLayer":
            i += step
        return layers[i] if 0 <= i < len(layers) and layers[i].cls != "InputLayer" else None
    by_name = {x.name: x for x in layers}
    if not after:
        try:
            below, _, tensor = _upstream(ly, by_name)
        except WeightsError:
            return None
        return below if below is not None and below.cls != "InputLayer" and tensor == 0 else None
    readers = []
    for x in layers:
        if x.cls in PASS_THROUGH or not x.inbound:
            continue
        try:
            below, _, tensor = _upstream(x, by_name)
        except WeightsError:
            if any(src == ly.name for node in x.inbound for src, _ in _tensors(node)):
                return None  # something reads it along with other tensors
            continue
        if below is ly:
            readers.append((x, tensor))
    return readers[0][0] if len(readers) == 1 and readers[0][1] == 0 else None


def _values(store: _KerasStore | _LegacyStore, ly: _Layer, count: int) -> list[np.ndarray] | None:
    """The layer's variables as float64, or None unless it has exactly ``count`` (a quantised or LoRA layer)."""
    keys = store.variables(ly)
    if len(keys) != count:
        return None
    missing = [k for k in keys if k not in store.arrays]
    if missing:
        raise WeightsError(f"missing {missing[0]} (a variable of layer {ly.label}) in the weights")
    vals = to_float64({k: store.arrays[k] for k in keys}, {k: f"{k} (of layer {ly.label})" for k in keys})
    return [vals[k] for k in keys]


def _vocabulary(ly: _Layer, store: _KerasStore | _LegacyStore, assets: Mapping[str, bytes]
                ) -> tuple[list[str] | None, str]:
    """(the tokens a StringLookup / TextVectorization maps to ids 0, 1, …, as its ``get_vocabulary()`` lists them,
    or None; where they came from, or why not)."""
    cfg = ly.config
    if cfg.get("output_mode", "int") != "int" or cfg.get("invert", False):
        return None, f"{ly.label} does not map tokens to ids (output_mode/invert), so it gives no vocabulary"
    if ly.cls == "TextVectorization":  # its lookup is a StringLookup with mask "" (id 0) and one [UNK] (id 1)
        mask, oov, n_oov = "", "[UNK]", 1
    else:
        mask, oov, n_oov = cfg.get("mask_token"), cfg.get("oov_token", "[UNK]"), cfg.get("num_oov_indices", 1)
    if cfg.get("vocabulary_dtype", "string") != "string":
        return None, f"{ly.label} looks up {cfg.get('vocabulary_dtype')!r} values, not text"
    if n_oov != 1 or not isinstance(oov, str) or not (mask is None or isinstance(mask, str)):
        return None, f"{ly.label} has num_oov_indices={n_oov!r}: gru-viz names one out-of-vocabulary id"
    vocab = cfg.get("vocabulary")
    source = f"the config of {ly.label}"
    if isinstance(vocab, str):
        return None, (f"{ly.label} names a vocabulary file outside the model ({vocab[:80]!r}), which Keras also "
                      "refuses to read by default")
    if vocab is None:
        group = store.group_of.get(ly.name) if isinstance(store, _KerasStore) else None
        raw = assets.get(group) if group is not None else None
        if raw is None:  # Keras writes an adapted vocabulary to assets/<layer's path>/vocabulary.txt in a .keras
            return None, f"the file holds no vocabulary for {ly.label} (no config list, no assets file)"
        lines = raw.decode("utf-8", "replace").splitlines()
        while lines and lines[-1] == "":  # Keras's load_assets drops trailing empty lines
            lines.pop()
        vocab = lines
        source = f"assets/{group}/vocabulary.txt"
    if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
        return None, f"the vocabulary of {ly.label} is not a list of strings"
    special = ([mask] if mask is not None else []) + [oov]
    tokens = vocab[len(special):] if vocab[: len(special)] == special else vocab  # as Keras's set_vocabulary
    return special + tokens, source


def _tokens(model_cls: str, layers: list[_Layer], chain: list[_Layer], settings: Mapping[str, list[_Settings]],
            store: _KerasStore | _LegacyStore, assets: Mapping[str, bytes], model: Model) -> _Tokens:
    """The Embedding that feeds the stack (with the vocabulary of a lookup layer before it) and the Dense that
    reads it, when the file has them."""
    out = _Tokens()
    spec = model.spec
    emb = _neighbour(model_cls, layers, chain[0], after=False)
    if emb is not None and emb.cls == "Embedding":
        vals = _values(store, emb, 1)
        if vals is None:
            out.notes.append(f"{emb.label} keeps more than one table (quantised?); gru-viz leaves it out")
        else:
            table = vals[0]
            if table.ndim != 2 or table.shape[1] != spec.input_size:
                raise WeightsError(f"{store.variables(emb)[0]}: the table of {emb.label} has shape {table.shape}; "
                                   f"{chain[0].label} reads {spec.input_size} values per step")
            vocab, note = None, ""
            lookup = _neighbour(model_cls, layers, emb, after=False)
            if lookup is not None and lookup.cls in LOOKUPS:
                vocab, note = _vocabulary(lookup, store, assets)
                if vocab is not None and len(vocab) > table.shape[0]:
                    note = (f"the vocabulary of {lookup.label} has {len(vocab)} tokens, more than the {table.shape[0]} "
                            f"rows of {emb.label}; gru-viz leaves it out")
                    vocab = None
                elif vocab is not None:
                    extra = table.shape[0] - len(vocab)
                    if extra:
                        out.notes.append(f"{emb.label} has {extra} more rows than {lookup.label} has tokens; their ids "
                                         f"are named <id N> (the lookup never gives them)")
                    vocab = vocab + [f"<id {i}>" for i in range(len(vocab), table.shape[0])]
                    out.kept.add(lookup.name)
                    out.read.append(f"vocabulary: {len(vocab)} tokens from {note}")
                    note = ""
                    if lookup.cls == "TextVectorization":
                        out.notes.append(
                            f"{lookup.label} first standardises text (standardize={lookup.config.get('standardize')!r})"
                            f" and splits it (split={lookup.config.get('split')!r}); gru-viz's vocabulary is what it "
                            "looks the pieces up in")
                    if vocab[0] == "" or lookup.cls == "TextVectorization":
                        out.notes.append(f"id 0 is the mask token \"\" of {lookup.label} (padding); id 1 is "
                                         f"{vocab[1]!r}, what any token outside the vocabulary becomes")
                    else:
                        out.notes.append(f"id 0 is {vocab[0]!r}, what {lookup.label} gives any token outside "
                                         "the vocabulary")
            if note:
                out.notes.append(note)
            try:
                out.embedding = Embedding.of(table, vocab)
            except TokenError as exc:
                raise WeightsError(f"layer {emb.label}: {exc}") from None
            out.kept.add(emb.name)
            out.read.append(f"embedding: {emb.label}, {table.shape[0]} tokens × {table.shape[1]} values")
            out.notes.append(f"the model reads token ids: {emb.label} gives x[t] = E[id_t] (run_tokens)")
            if emb.config.get("mask_zero"):
                out.notes.append(f"{emb.label} has mask_zero=True: Keras skips every step whose id is 0 (padding; "
                                 "the state carries over it); gru-viz runs every step, so give it ids without 0")
    top = _neighbour(model_cls, layers, chain[-1], after=True)
    if top is not None and top.cls == "Dense":
        act = top.config.get("activation", "linear")
        act = "linear" if act is None else act
        use_bias = top.config.get("use_bias", True) is True
        vals = _values(store, top, 1 + use_bias)
        if act not in _READOUT_ACTIVATIONS:
            shown = act if isinstance(act, str) else "a serialised function"
            out.notes.append(f"{top.label} has activation {shown!r}: gru-viz keeps a readout whose activation is "
                             "linear or softmax, so it leaves this one out")
        elif vals is None:
            out.notes.append(f"{top.label} keeps other variables than a kernel and a bias (quantised? LoRA?); "
                             "gru-viz leaves it out")
        else:
            kernel = vals[0]
            width = spec.directions * spec.out_size
            if kernel.ndim != 2 or kernel.shape[0] != width:
                raise WeightsError(f"{store.variables(top)[0]}: the kernel of {top.label} has shape {kernel.shape}; "
                                   f"{chain[-1].label} gives {width} values")
            vocab = None
            if out.embedding is not None and out.embedding.vocabulary is not None and \
                    kernel.shape[1] == out.embedding.size:
                vocab = out.embedding.vocabulary
                out.assumed.append(f"{top.label} scores the embedding's {kernel.shape[1]} tokens, in their order (as "
                                   "many units as tokens; the file does not say what its units stand for)")
            try:
                out.readout = Readout.of(kernel.T, vals[1] if use_bias else None, vocab)
            except TokenError as exc:
                raise WeightsError(f"layer {top.label}: {exc}") from None
            out.kept.add(top.name)
            out.read.append(f"readout: {top.label}, {width} → {kernel.shape[1]}, activation {act}")
            last = settings[chain[-1].name][0]
            gives = _READOUT_ACTIVATIONS[act]
            if last.return_sequences:
                reads = f"reads every step of {chain[-1].label}; its outputs are {gives} (model.logits(trace))"
            elif spec.directions == 2:
                reads = (f"reads only the final states of {chain[-1].label} (return_sequences=False): the forward "
                         "direction's at the last step and the backward one's at the first (h_n); its outputs are "
                         f"{gives}")
            else:
                reads = (f"reads only the last step of {chain[-1].label} (return_sequences=False); its outputs are "
                         f"{gives} of that step (model.logits(trace)[-1])")
            out.notes.append(f"the readout {top.label} {reads}")
    return out


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
    """The recurrent stack of a ``.h5``: a Keras 3 ``.weights.h5`` (no config: see :func:`from_paths`) or a whole
    model saved as ``.h5`` by Keras 2 or 3 (:func:`read_legacy_h5`)."""
    arrays, names, attrs = hdf5.read_with_attributes(data, ".h5", _LEGACY_ATTRIBUTES)
    if "model_config" in attrs.get("", {}):
        return read_legacy_h5(arrays, attrs, kind=kind, variant=variant, nonlinearity=nonlinearity)
    if "layer_names" in attrs.get("", {}) or any(k.startswith("model_weights/") for k in arrays):
        raise WeightsError(
            "this .h5 holds a Keras 2-style model's weights without its architecture (no model_config attribute: "
            "model.save_weights, or a model saved without its config): save the whole model with model.save("
            "'model.h5') or model.save('model.keras')"
        )
    if not any(k.startswith("layers/") for k in arrays):
        raise WeightsError(
            "this HDF5 file is not a Keras model or weights file (no model_config attribute, no layers/… groups): "
            "save it with Keras as .keras (model.save('model.keras')), .h5 (model.save('model.h5')) or .weights.h5"
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
