"""A file's own array names mapped onto torch's: ``keys={"weight_ih_l0": "enc_w_ih", …}`` (NumPy only).

Hand-written NumPy models, JAX/Flax and converted TensorFlow models name their arrays their own way. A mapping says,
for each torch name (``weight_ih_l0``, ``bias_hh_l1_reverse``, ``weight_ih`` for a cell, and ``embedding.weight``,
``head.weight``, ``head.bias`` for the embedding and the readout), which of the file's arrays holds it:

- **one name**: the whole array, in torch's layout or transposed (Keras and Flax keep kernels as (in, out));
- **a tuple of names**: one array per gate, concatenated in torch's gate order (r, z, n for a GRU). ``None`` in a
  bias tuple is a zero block: Flax's GRUCell has no bias on its ``hr`` and ``hz`` Dense layers;
- ``"name[k]"``: row k of a 2-D array (a Keras GRU's ``bias`` of shape (2, 3H) holds b_ih in row 0, b_hh in row 1).

``gate_order`` is the file's order of the gate blocks in *whole* arrays (``"z r n"`` for Keras's and ONNX's GRUs);
``transpose`` is True/False for every 2-D array, or None: each array is transposed when its shape says so
unambiguously (a (I, 3H) kernel), and an array whose shape cannot say (a square one) follows the file's others.

:func:`apply_keys` makes the torch-named arrays; :func:`propose_mapping` guesses a mapping from names and shapes
(``enc_``/``dec_`` prefixes, ``w_ih``/``b_hh``, ``kernel``/``recurrent_kernel``/``bias``, Flax's per-gate Dense layers,
``emb``, ``fc``/``out``/``head``); :func:`mapping_call` writes the Python call that loads a file with a mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.kinds import KIND, KINDS, some_kinds
from ..core.sources import ATTRIBUTIONS
from .formats.checks import KIND_OF_BLOCKS, WeightsError

Source = str | tuple[str | None, ...]  # one array, or one per gate in torch's order (None: a zero bias block)
Shape = tuple[int, ...]

EMBEDDING = "embedding.weight"
HEAD_WEIGHT = "head.weight"
HEAD_BIAS = "head.bias"
TOKEN_TARGETS = (EMBEDDING, HEAD_WEIGHT, HEAD_BIAS)
_TARGET_RE = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)(?:_l(\d)(_reverse)?)?$")
_ROW_RE = re.compile(r"^(.*)\[(\d+)\]$")
# Other names for the gate letters (Keras calls a GRU's candidate h and an LSTM's c).
_GATE_ALIASES = some_kinds("io.mapping.gate_aliases", {"gru": {"h": "n"}, "lstm": {"c": "g"}})
FLAX = ATTRIBUTIONS["flax-gru"]


class MappingError(WeightsError):
    """A mapping that does not fit the file: the message names the array and both shapes."""


class NeedsMapping(WeightsError):
    """A file whose array names are not torch's: ``arrays`` (name -> shape) and a ``proposal`` to confirm or change."""

    def __init__(self, message: str, arrays: dict[str, tuple[int, ...]], proposal: Proposal) -> None:
        super().__init__(message)
        self.arrays = arrays
        self.proposal = proposal


def _shape(a: object) -> Shape:
    return tuple(int(s) for s in np.shape(a))


def _show(name: str | None) -> str:
    return "zeros" if name is None else repr(name)


def gate_permutation(order: str | Sequence[str] | None, blocks: int | None = None) -> tuple[str, tuple[int, ...]]:
    """(kind, where each of torch's blocks sits in the file's order) for a gate order such as ``"z r n"``."""
    letters = [c for c in (order.replace(",", " ").split() if isinstance(order, str) else order or ())]
    if isinstance(order, str) and len(letters) == 1:
        letters = list(letters[0])  # "zrn"
    for kind in KINDS:
        want = KIND[kind].blocks
        alias = _GATE_ALIASES.get(kind, {})
        named = [alias.get(c.lower(), c.lower()) for c in letters]
        if sorted(named) == sorted(want) and len(set(named)) == len(want):
            if blocks is not None and blocks != len(want):
                continue
            return kind, tuple(named.index(b) for b in want)
    orders = "; ".join(f"{KIND[k].name}: " + " ".join(KIND[k].blocks) for k in KINDS)
    raise MappingError(f"gate order {order!r} names no kind's gates (each once, in the file's order; torch's are "
                       f"{orders})")


def _check_keys(keys: Mapping[str, Source], arrays: Mapping[str, np.ndarray]) -> dict[str, tuple[str | None, ...]]:
    """The mapping with every source as a tuple, every target and name checked."""
    if not isinstance(keys, Mapping) or not keys:
        raise MappingError("keys must be a non-empty dict from torch names (weight_ih_l0, …) to the file's names")
    out: dict[str, tuple[str | None, ...]] = {}
    for target, source in keys.items():
        if not isinstance(target, str) or not (_TARGET_RE.match(target) or target in TOKEN_TARGETS):
            raise MappingError(f"keys: {target!r} is not a torch name gru-viz maps; use weight_ih_l0, weight_hh_l0, "
                               f"bias_ih_l0, bias_hh_l0 (…_l1, …_reverse; weight_ih … for a cell) or "
                               f"{', '.join(TOKEN_TARGETS)}")
        parts = (source,) if isinstance(source, str) else tuple(source) if isinstance(source, tuple | list) else None
        if not parts or not all(p is None or isinstance(p, str) for p in parts):
            raise MappingError(f"keys[{target!r}] must be the file's array name or a tuple of names, one per gate")
        if all(p is None for p in parts) or (None in parts and not target.startswith("bias")):
            raise MappingError(f"keys[{target!r}]: only a bias may have zero blocks (None); a weight needs names")
        for p in parts:
            if p is not None and _get(arrays, p) is None:
                names = ", ".join(repr(n) for n in list(arrays)[:20]) + (" …" if len(arrays) > 20 else "")
                raise MappingError(f"keys[{target!r}]: the file has no array {p!r}; its arrays: {names}")
        out[target] = parts
    return out


def _get(arrays: Mapping[str, np.ndarray], name: str) -> np.ndarray | None:
    """The array ``name``, or row k of a 2-D array for ``"name[k]"``; None when there is none."""
    if name in arrays:
        return np.asarray(arrays[name])
    m = _ROW_RE.match(name)
    if m and m.group(1) in arrays:
        a = np.asarray(arrays[m.group(1)])
        if a.ndim == 2 and int(m.group(2)) < a.shape[0]:
            return a[int(m.group(2))]
    return None


def origin(parts: Sequence[str | None], arrays: Mapping[str, np.ndarray]) -> str:
    """Where a torch name's numbers come from in the file, with the shapes there: "'enc_w_ih' (768, 256)"."""
    return " + ".join("zeros" if p is None else f"{p!r} {_shape(_get(arrays, p))}" for p in parts)


def _rows(parts: dict[str, tuple[str | None, ...]], arrays: Mapping[str, np.ndarray],
          transpose: bool | None) -> tuple[int | None, int | None]:
    """(G, H): gate blocks and hidden size from weight_hh_l0 (or a cell's weight_hh); None when it cannot say."""
    hh = parts.get("weight_hh_l0") or parts.get("weight_hh")
    if hh is None:
        return None, None
    if len(hh) > 1:
        first = _shape(_get(arrays, hh[0]))
        return len(hh), (first[0] if len(first) == 2 else None)
    a = _shape(_get(arrays, hh[0]))
    target = "weight_hh_l0" if "weight_hh_l0" in parts else "weight_hh"
    if len(a) != 2 or 0 in a:
        raise MappingError(f"{target} (the file's {hh[0]!r}, shape {a}) is not a 2-D recurrent weight matrix")
    r, c = a
    fits = []
    if transpose is not True and r % c == 0 and r // c in KIND_OF_BLOCKS:
        fits.append((r // c, c))
    if transpose is not False and c % r == 0 and c // r in KIND_OF_BLOCKS:
        fits.append((c // r, r))
    if not fits:
        times = " or ".join(map(str, sorted(KIND_OF_BLOCKS)))
        raise MappingError(f"{target} (the file's {hh[0]!r}, shape {a}) does not fit a recurrent weight: torch's is "
                           f"(G·H, H) and a kernel's (H, G·H), with G = {times} gate blocks")
    return fits[0]


@dataclass
class Mapped:
    """The file's arrays under torch's names, and where each came from (for messages)."""

    arrays: dict[str, np.ndarray]
    origins: dict[str, str]  # torch name -> "'enc_w_ih' (768, 256)" …
    used: list[str]  # the file's names read
    notes: list[str] = field(default_factory=list)  # what was done: transposed, reordered, zero blocks

    def explain(self, message: str) -> str:
        """A loader's message with every torch name followed by the file's array(s) and shape(s) it came from."""
        for target in sorted(self.origins, key=len, reverse=True):
            message = re.sub(rf"(?<![\w.]){re.escape(target)}(?![\w])",
                             f"{target} (the file's {self.origins[target]})", message, count=1)
        return message


def apply_keys(
    arrays: Mapping[str, np.ndarray],
    keys: Mapping[str, Source],
    *,
    gate_order: str | Sequence[str] | None = None,
    transpose: bool | None = None,
) -> Mapped:
    """The torch-named arrays a mapping makes of ``arrays`` (see the module docstring); a misfit is a MappingError."""
    if transpose not in (None, True, False):
        raise MappingError(f"transpose must be True, False or None (by shape), not {transpose!r}")
    parts = _check_keys(keys, arrays)
    raw = {t: [None if p is None else _get(arrays, p) for p in ps] for t, ps in parts.items()}
    origins = {t: origin(ps, arrays) for t, ps in parts.items()}
    for t, arrs in raw.items():  # a bias (and a bias's block) is a vector; anything else a matrix
        want = 1 if t.startswith("bias") or t == HEAD_BIAS else 2
        for p, a in zip(parts[t], arrs, strict=True):
            if a is not None and (a.ndim != want or a.size == 0):
                raise MappingError(f"{t} (the file's {p!r}, shape {a.shape}) must be a non-empty "
                                   f"{'vector' if want == 1 else 'matrix'}: torch's {t} has {want} "
                                   f"ax{'is' if want == 1 else 'es'}")
    blocks, hidden = _rows(parts, arrays, transpose)
    perm = None
    if gate_order is not None:
        kind, perm = gate_permutation(gate_order, blocks)
        blocks = len(KIND[kind].blocks)
    rows = blocks * hidden if blocks and hidden else None
    directions = 2 if any(t.endswith("_reverse") for t in parts) else 1

    def fits(t: str, shape: Shape, piece: bool) -> tuple[bool, bool]:
        """(fits as torch keeps it, fits transposed), from what the shapes above say."""
        if t == HEAD_WEIGHT:  # torch's Linear is (V, D·H): it reads the top layer's width
            top = directions * hidden if hidden else None
            return top is not None and shape[1] == top, top is not None and shape[0] == top
        want = hidden if piece else rows
        if want is None:
            return False, False
        return shape[0] == want, shape[1] == want

    # Decide each 2-D array's orientation; an array whose shape cannot say follows the file's others.
    decided: dict[tuple[str, int], bool] = {}
    undecided: list[tuple[str, int]] = []
    for t, arrs in raw.items():
        if t == EMBEDDING or t.startswith("bias") or t == HEAD_BIAS:
            continue
        for i, a in enumerate(arrs):
            if a is None or a.ndim != 2:
                continue
            if transpose is not None:
                decided[t, i] = transpose
                continue
            as_is, flipped = fits(t, a.shape, len(arrs) > 1)
            if as_is != flipped:
                decided[t, i] = flipped
            else:
                undecided.append((t, i))
    votes = set(decided.values())
    for t, i in undecided:
        if len(votes) != 1:
            raise MappingError(
                f"{t} (the file's {_show(parts[t][i])}, shape {raw[t][i].shape}): its shape does not say whether it "
                f"is stored as torch keeps it (out, in) or transposed (in, out), and the file's other arrays do not "
                "settle it; pass transpose=False (torch's layout) or transpose=True (kernels kept as (in, out))")
        decided[t, i] = next(iter(votes))
    notes: list[str] = []
    out: dict[str, np.ndarray] = {}
    for t, arrs in raw.items():
        fixed = [a.T if decided.get((t, i)) else a for i, a in enumerate(arrs)]
        if any(decided.get((t, i)) for i in range(len(arrs))):
            notes.append(f"{t}: transposed")
        if len(fixed) > 1:
            size = hidden or next((a.shape[0] for a in fixed if a is not None), 0)
            fixed = [np.zeros(size) if a is None else a for a in fixed]
            lead = {a.shape[0] for a in fixed}
            if len(lead) != 1 or (hidden and lead != {hidden}):
                shown = ", ".join(f"{_show(p)} {a.shape}" for p, a in zip(parts[t], fixed, strict=True))
                raise MappingError(f"{t}: its gate arrays ({shown}) must each have {hidden or 'the same number of'} "
                                   "rows once in torch's layout (out, in)")
            if fixed[0].ndim == 2 and len({a.shape[1] for a in fixed}) != 1:
                shown = ", ".join(f"{_show(p)} {a.shape}" for p, a in zip(parts[t], fixed, strict=True))
                raise MappingError(f"{t}: its gate arrays ({shown}) read different widths")
            value = np.concatenate(fixed, axis=0)
            if None in parts[t]:
                notes.append(f"{t}: zero blocks where the file has no array")
        else:
            value = fixed[0]
        if perm is not None and len(arrs) == 1 and _TARGET_RE.match(t) and not t.startswith("weight_hr"):
            if value.shape[0] % blocks:
                raise MappingError(f"{t} (the file's {origins[t]}) has {value.shape[0]} rows once in torch's layout, "
                                   f"which {blocks} gate blocks cannot split")
            cut = np.split(value, blocks, axis=0)
            value = np.concatenate([cut[j] for j in perm], axis=0)
            notes.append(f"{t}: gate blocks reordered to torch's")
        out[t] = value
    used = list(dict.fromkeys(_ROW_RE.sub(r"\1", p) if p not in arrays else p
                              for ps in parts.values() for p in ps if p is not None))
    return Mapped(out, origins, used, list(dict.fromkeys(notes)))


# ------------------------------------------------------------------------------------------------- proposals

_ROLE_PATTERNS = (
    ("weight_ih", r"(?:weight|w)_?(?:ih|ix|xh|in(?:put)?)"),
    ("weight_hh", r"(?:weight|w)_?(?:hh|rec(?:urrent)?)"),
    ("bias_ih", r"(?:bias|b)_?(?:ih|ix|in(?:put)?)"),
    ("bias_hh", r"(?:bias|b)_?(?:hh|rec(?:urrent)?)"),
    ("weight_hh", r"recurrent_?kernel"),
    ("weight_ih", r"kernel"),
    ("bias", r"bias"),
)
_ROLE_RE = [(role, re.compile(rf"(?:^|(?<=[._/\-]))({pat})(?:_?l(\d))?(?:[:]\d+)?$", re.I))
            for role, pat in _ROLE_PATTERNS]
_FLAX_RE = re.compile(r"(?:^|(?<=[._/\-]))(ir|iz|in|hr|hz|hn)[._/](kernel|bias)(?::\d+)?$")
_EMB_RE = re.compile(r"(?:^|[._/\-])(?:emb|embed|embedding|embeddings|wte|lookup)(?:[._/\-]|$)", re.I)
_HEAD_RE = re.compile(r"(?:^|[._/\-])(?:fc|out|output|linear|head|dense|proj|logits|classifier|decoder|readout)"
                      r"(?:[._/\-]\w*)?[._/\-](w|weight|kernel|b|bias)(?::\d+)?$", re.I)


def has_per_gate_names(names: Mapping[str, object]) -> bool:
    """Whether some array is one gate's Dense layer (``…/ir/kernel``, ``…/hn/bias``), as a per-gate GRU stores it."""
    return any(isinstance(n, str) and _FLAX_RE.search(n) for n in names)


@dataclass(frozen=True)
class Proposal:
    """A mapping guessed from a file's names and shapes, for one of the recurrent modules found in it."""

    keys: dict[str, Source]  # torch name -> the file's name(s)
    gate_order: str | None = None  # the file's gate order in whole arrays; None: torch's
    transpose: bool | None = None  # None: by shape
    group: str = ""  # the file's prefix of the proposed module ("enc_")
    groups: tuple[str, ...] = ()  # every module found, in the file's order
    reasons: tuple[str, ...] = ()  # why, in words

    @property
    def complete(self) -> bool:
        """Whether it names at least an input weight and a recurrent (or cell) weight."""
        return any(k.startswith("weight_ih") for k in self.keys)


def _groups(shapes: Mapping[str, Shape]) -> dict[str, dict]:
    """The file's recurrent modules: prefix -> {"roles": {torch name: source}, "flax": bool, "keras": bool}."""
    found: dict[str, dict] = {}
    for name, shape in shapes.items():
        m = _FLAX_RE.search(name)
        if m:
            g = found.setdefault(name[: m.start()], {"flax": {}, "roles": {}, "keras": False})
            g["flax"][m.group(1), m.group(2)] = name
            continue
        for role, rx in _ROLE_RE:
            m = rx.search(name)
            if m:
                g = found.setdefault(name[: m.start()], {"flax": {}, "roles": {}, "keras": False})
                layer = m.group(2)
                if role == "bias":
                    if len(shape) == 2 and shape[0] == 2:  # a reset_after Keras GRU's two bias rows
                        g["roles"]["bias_ih_l0"], g["roles"]["bias_hh_l0"] = f"{name}[0]", f"{name}[1]"
                    else:
                        g["roles"]["bias_ih_l0"] = name
                    g["keras"] = True
                else:
                    g["roles"][f"{role}_l{layer or 0}"] = name
                    g["keras"] |= "kernel" in m.group(1).lower()
                break
    # a module has a recurrent weight (or, with no W_hh, a w_ih by that name): a Dense layer's kernel is not one
    return {p: g for p, g in found.items() if g["flax"] or any(k.startswith("weight_hh") for k in g["roles"])
            or (not g["keras"] and any(k.startswith("weight_ih") for k in g["roles"]))}


def _stem(prefix: str) -> str:
    return prefix.rstrip("._/-").lower()


def propose_mapping(arrays: Mapping[str, Shape | np.ndarray], group: str | None = None) -> Proposal:
    """A mapping guessed from the names and shapes of a file's arrays (name -> shape), for ``group`` (a module's
    prefix, e.g. "dec_") or the first module found; ``Proposal.keys`` is empty when nothing is recognised."""
    shapes = {n: (tuple(v) if isinstance(v, tuple | list) else _shape(v)) for n, v in arrays.items()}
    groups = _groups(shapes)
    if not groups:
        return Proposal({}, reasons=("no array name says it is a recurrent weight",))
    names = tuple(groups)
    if group is None or group not in groups:
        group = names[0]
    g = groups[group]
    reasons: list[str] = []
    keys: dict[str, Source] = {}
    gate_order, transpose = None, None
    if g["flax"]:
        f = g["flax"]
        keys["weight_ih_l0"] = tuple(f.get((x, "kernel")) for x in ("ir", "iz", "in"))
        keys["weight_hh_l0"] = tuple(f.get((x, "kernel")) for x in ("hr", "hz", "hn"))
        keys["bias_ih_l0"] = tuple(f.get((x, "bias")) for x in ("ir", "iz", "in"))
        keys["bias_hh_l0"] = tuple(f.get((x, "bias")) for x in ("hr", "hz", "hn"))
        keys = {k: v for k, v in keys.items() if any(v)}
        transpose = True
        reasons.append(f"per-gate Dense layers ir, iz, in, hr, hz, hn as {FLAX.who} names them: concatenated in "
                       "torch's order r, z, n, kernels (in, out) transposed; hr and hz have no bias (zeros)")
    else:
        keys.update(g["roles"])
        if g["keras"]:
            hh = shapes.get(str(keys.get("weight_hh_l0")), ())
            transpose = True
            if len(hh) == 2 and hh[0] and hh[1] == 3 * hh[0]:
                gate_order = "z r n"
            reasons.append("kernel, recurrent_kernel and bias as Keras names them: kernels (in, out) transposed"
                           + ("; gate columns z, r, n put in torch's order" if gate_order else ""))
        else:
            reasons.append("input and recurrent weights and biases by their names (w_ih, w_hh, b_ih, b_hh)")
    # the module's input and top widths, for its embedding and readout
    hidden, width = _widths(keys, shapes, transpose)
    stem = _stem(group)
    embs = [n for n, s in shapes.items() if len(s) == 2 and _EMB_RE.search(n) and width in (None, s[1])]
    mine = [n for n in embs if stem and n.lower().startswith(stem)] or (embs if len(groups) == 1 else [])
    if len(mine) == 1:
        keys[EMBEDDING] = mine[0]
        reasons.append(f"{mine[0]!r} is the embedding: a row per token, {shapes[mine[0]][1]} values each")
    heads = [n for n in shapes if _HEAD_RE.search(n)]
    head_w = [n for n in heads if _HEAD_RE.search(n).group(1).lower() in ("w", "weight", "kernel")
              and len(shapes[n]) == 2 and hidden in shapes[n]]
    if len(head_w) == 1 and _head_belongs(group, groups, shapes, head_w[0], hidden, keys.get(EMBEDDING)):
        w = head_w[0]
        keys[HEAD_WEIGHT] = w
        vocab = shapes[w][0] if shapes[w][1] == hidden else shapes[w][1]
        bias = [n for n in heads if n not in head_w and shapes[n] == (vocab,)
                and _HEAD_RE.search(n).group(1).lower() in ("b", "bias")]
        if len(bias) == 1:
            keys[HEAD_BIAS] = bias[0]
        reasons.append(f"{w!r} is the readout: {vocab} scores from the top layer's {hidden} values")
    if len(names) > 1:
        reasons.append(f"modules found: {', '.join(map(repr, names))}; this is {group!r}")
    return Proposal(keys, gate_order, transpose, group, names, tuple(reasons))


def _widths(keys: Mapping[str, Source], shapes: Mapping[str, Shape], transpose: bool | None) -> tuple[int | None,
                                                                                                      int | None]:
    """(hidden size, input size) of a proposed module, from its weights' shapes."""
    def shape(src: Source | None) -> Shape:
        name = src if isinstance(src, str) else next((s for s in src or () if s), None)
        if name is None:
            return ()
        m = _ROW_RE.match(name)
        s = shapes.get(name) or (shapes.get(m.group(1), ())[1:] if m else ())
        return tuple(reversed(s)) if transpose else s
    hh, ih = shape(keys.get("weight_hh_l0")), shape(keys.get("weight_ih_l0"))
    hidden = hh[1] if len(hh) == 2 else None
    width = ih[1] if len(ih) == 2 else None
    return hidden, width


def _head_belongs(group: str, groups: Mapping[str, dict], shapes: Mapping[str, Shape], head: str,
                  hidden: int | None, emb: str | None) -> bool:
    """Whether a readout goes with ``group``: the only module, or the one that feeds its outputs back (its embedding
    has a row per score), else the last module (a decoder comes after its encoder)."""
    if len(groups) == 1:
        return True
    vocab = set(shapes[head])
    if emb is not None and shapes[emb][0] in vocab - {hidden}:
        return True
    stems = [_stem(g) for g in groups]
    others_fed = [g for g in groups if g != group and any(
        _EMB_RE.search(n) and n.lower().startswith(_stem(g)) and len(shapes[n]) == 2 and shapes[n][0] in vocab
        for n in shapes)]
    return not others_fed and group == list(groups)[-1] and len(set(stems)) == len(stems)


def mapping_call(
    filename: str,
    keys: Mapping[str, Source] | None = None,
    *,
    gate_order: str | None = None,
    transpose: bool | None = None,
    prefix: str | None = None,
) -> str:
    """The Python call that loads ``filename`` with this mapping (or module prefix), for a page to show."""
    args = [repr(filename)]
    if prefix is not None:
        args.append(f"prefix={prefix!r}")
    if keys:
        inner = ",\n".join(f"        {k!r}: {v!r}" for k, v in keys.items())
        args.append("keys={\n" + inner + ",\n    }")
    if gate_order is not None:
        args.append(f"gate_order={gate_order!r}")
    if transpose is not None:
        args.append(f"transpose={transpose!r}")
    one_line = "gru_viz.load_weights(" + ", ".join(args) + ")"
    if "\n" not in one_line and len(one_line) <= 100:
        return "import gru_viz\n\nmodel = " + one_line
    return "import gru_viz\n\nmodel = gru_viz.load_weights(\n" + "".join(f"    {a},\n" for a in args) + ")"
