"""``.onnx``: the ``GRU`` / ``LSTM`` / ``RNN`` nodes of an ONNX graph and their weights, read with the ``onnx``
package (a protobuf message: reading it runs nothing; onnx is imported only when such a file is read).

Mapping (``D`` directions, ``H`` hidden units; gate blocks put in PyTorch's order):

- GRU: ``W`` (D, 3H, I), ``R`` (D, 3H, H) in **z, r, h** blocks → rows r, z, n; ``B`` (D, 6H) = [Wb | Rb] →
  ``bias_ih`` | ``bias_hh``. ``linear_before_reset=1`` is PyTorch's variant, ``0`` (the operator's default) the
  reset-before one (``Rbh`` is its b_hn).
- LSTM: blocks **i, o, f, c** → i, f, g, o; ``B`` (D, 8H). Peepholes (``P``) are refused: gru-viz has none.
- RNN: one block; ``activations`` ``Tanh`` or ``Relu`` (the nonlinearity).
- ``direction``: forward, bidirectional (D = 2), or reverse: a model that reads its input from the last step to
  the first (see :attr:`Loaded.backwards`). ``layout=1`` (batch first) makes the model ``batch_first``.
- Several nodes joined by Transpose / Reshape / Squeeze / Unsqueeze / Identity become one multi-layer model. The
  joins are checked by running them on a probe: the layer above must read the layer below's output with the
  directions side by side on each step, as a stacked layer does.

Refused, naming the node and attribute: non-default ``activations`` (and any ``activation_alpha``/``beta``),
``clip``, ``input_forget=1``, peepholes, weights that are not stored in the file (graph inputs, computed, or in
external data files), more than one chain of recurrent nodes, nodes inside subgraphs, and opsets before 7.
Initial states and sequence lengths given as graph inputs are the caller's to choose, as for any model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...core.kinds import KIND, per_kind
from ...core.spec import GRU_VARIANTS, KIND_NAMES
from .checks import MAX_NDIM, MAX_TENSORS, MAX_UNPACKED_BYTES, WeightsError, normalise_kind
from .loaded import LayerWeights, Loaded, reorder, stack_model

# The ONNX operator for each kind; None where ONNX has none.
ONNX_OP = per_kind("io.formats.onnx.ops", {
    "gru": "GRU",
    "lstm": "LSTM",
    "rnn": "RNN",
    "mingru": None,
    "minlstm": None,
})
KIND_OF_OP = {op: k for k, op in ONNX_OP.items() if op}
GATES = {op: len(KIND[k].blocks) for op, k in KIND_OF_OP.items()}
TO_TORCH = {"GRU": (1, 0, 2), "LSTM": (0, 2, 3, 1), "RNN": (0,)}  # ONNX blocks → PyTorch's gate order
DEFAULT_ACTIVATIONS = {"GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"], "RNN": ["Tanh"]}
ATTRIBUTES = {
    "GRU": {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout",
            "linear_before_reset"},
    "LSTM": {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout",
             "input_forget"},
    "RNN": {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout"},
}
LINKS = ("Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity")
MAX_NODES = 100_000
_DEFAULT_DOMAINS = ("", "ai.onnx")


@dataclass
class _Rec:
    node: object
    label: str
    kind: str
    direction: str
    layout: int
    variant: str
    nonlinearity: str
    weights: list[LayerWeights]


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise WeightsError("reading a .onnx file needs the onnx package: pip install 'gru-viz[formats]'") from None
    return onnx, helper, numpy_helper


def read(data: bytes, *, kind: str | None = None, variant: str | None = None,
         nonlinearity: str | None = None) -> Loaded:
    """The recurrent stack of an ONNX model (see the module docstring); hints are checked against its attributes."""
    onnx, helper, numpy_helper = _onnx()
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(bytes(data))
    except Exception as exc:  # google.protobuf.message.DecodeError and friends
        raise WeightsError(f"not a readable ONNX file (protobuf): {str(exc)[:200] or type(exc).__name__}") from None
    if not proto.HasField("graph"):
        raise WeightsError("not an ONNX model: the file holds no graph")
    opset = next((imp.version for imp in proto.opset_import if imp.domain in _DEFAULT_DOMAINS), None)
    if opset is None:
        raise WeightsError("the ONNX model names no opset of the default domain (opset_import)")
    if opset < 7:
        raise WeightsError(f"the ONNX model uses opset {opset}; gru-viz reads opset 7 and later (re-export it)")
    g = proto.graph
    if len(g.node) > MAX_NODES or len(g.initializer) > MAX_TENSORS:
        raise WeightsError(f"the ONNX graph has {len(g.node)} nodes and {len(g.initializer)} initializers, more "
                           "than gru-viz reads")
    consts: dict[str, object] = {t.name: t for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant" and n.domain in _DEFAULT_DOMAINS and len(n.output) == 1:
            for a in n.attribute:
                if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                    consts[n.output[0]] = a.t
    producers = {out: n for n in g.node for out in n.output if out}
    graph_inputs = {i.name for i in g.input} - set(consts)
    for n in g.node:
        for a in n.attribute:
            sub = list(a.g.node) if a.type == onnx.AttributeProto.GRAPH else []
            sub += [m for gg in a.graphs for m in gg.node]
            if any(m.op_type in KIND_OF_OP for m in sub):
                raise WeightsError(f"node {_label(n)} holds a recurrent node inside a subgraph; gru-viz reads the "
                                   "main graph's recurrent nodes only")
    rec_nodes = [n for n in g.node if n.op_type in KIND_OF_OP and n.domain in _DEFAULT_DOMAINS]
    if not rec_nodes:
        ops = sorted({n.op_type for n in g.node})
        raise WeightsError(f"the ONNX graph has no GRU, LSTM or RNN node (its ops: {', '.join(ops[:12]) or 'none'})")
    budget = [MAX_UNPACKED_BYTES]

    def tensor(name: str, role: str, node: object) -> np.ndarray:
        return _tensor(consts, producers, graph_inputs, name, role, node, budget, onnx, numpy_helper)

    recs = [_node(n, tensor, helper) for n in rec_nodes]
    chain, first_reads, batch_first_input = _chain(recs, producers, consts, graph_inputs, tensor, helper)
    head = chain[0]
    for r in chain[1:]:
        for what in ("kind", "direction", "layout", "variant", "nonlinearity"):
            if getattr(r, what) != getattr(head, what):
                raise WeightsError(
                    f"node {r.label} has {what} {getattr(r, what)!r}, node {head.label} {getattr(head, what)!r}: "
                    "gru-viz runs stacks whose layers agree"
                )
    kind = normalise_kind(kind)
    if kind is not None and kind != head.kind:
        raise WeightsError(f"the kind hint says {KIND_NAMES[kind]}, but the ONNX nodes are {head.node.op_type}s")
    if variant is not None:
        if head.kind != "gru":
            raise WeightsError(f"a GRU variant hint applies to a GRU only; these are {head.node.op_type} nodes")
        if variant != head.variant:
            raise WeightsError(
                f"node {head.label} has linear_before_reset={int(head.variant == 'torch')} "
                f"({GRU_VARIANTS[head.variant].name}); the GRU variant hint asks for "
                f"{GRU_VARIANTS[variant].name if variant in GRU_VARIANTS else variant!r}"
            )
    if nonlinearity is not None:
        if head.kind != "rnn":
            raise WeightsError(f"a nonlinearity hint applies to an RNN only; these are {head.node.op_type} nodes")
        if nonlinearity != head.nonlinearity:
            raise WeightsError(f"node {head.label} computes {head.nonlinearity}; the nonlinearity hint asks for "
                               f"{nonlinearity!r}")
    # A reverse-only stack is the same layers reading the reversed input; bidirectional nodes keep their order.
    stack = [r.weights for r in chain]
    model = stack_model(stack, head.kind, variant=head.variant, nonlinearity=head.nonlinearity,
                        batch_first=head.layout == 1 or batch_first_input, what="node")
    notes = []
    for r in chain:
        notes += _state_notes(r, consts, graph_inputs, tensor)
    if first_reads:
        notes.append(f"the model's input here is what node {head.label} reads: {first_reads}")
    if batch_first_input and head.layout == 0:
        notes.append(f"the graph's input is (batch, time, features), transposed before node {head.label}: so is "
                     "this model's")
    in_chain = {id(r.node) for r in chain}
    for r in chain[1:]:  # the joins between the nodes are part of the stack
        in_chain.update(id(n) for n in _walk_back(r.node.input[0], producers)[0])
    others = [n for n in g.node if id(n) not in in_chain and n.op_type != "Constant"]
    ignored = [_label(n) for n in others[:50]] + ([f"… {len(others) - 50} more"] if len(others) > 50 else [])
    read_attrs = []
    for r in chain:
        bits = [f"{r.label}: {r.node.op_type}, hidden_size {r.weights[0].weight_hh.shape[1]}, direction {r.direction}"]
        if r.kind == "gru":
            bits.append(f"linear_before_reset={int(r.variant == 'torch')}")
        if r.kind == "rnn":
            bits.append(f"activation {r.nonlinearity.capitalize()}")
        if r.layout:
            bits.append("layout=1")
        read_attrs.append(", ".join(bits))
    name = proto.graph.name or "graph"
    return Loaded(
        model,
        "onnx",
        source=f"ONNX graph {name!r} (opset {opset}): " + " → ".join(r.label for r in chain),
        layers=[r.label for r in chain],
        ignored=ignored,
        read=read_attrs,
        notes=notes,
        fixed=frozenset({"variant", "nonlinearity"}),
        backwards=(f"node {head.label} has direction='reverse': it reads the sequence from its last step to its "
                   "first" if head.direction == "reverse" else ""),
        reverse_output=head.direction == "reverse",
    )


def _label(node: object) -> str:
    name = node.name or (node.output[0] if node.output else "")
    return f"{name!r} ({node.op_type})"


def _tensor(consts, producers, graph_inputs, name, role, node, budget, onnx, numpy_helper) -> np.ndarray:
    """A stored tensor's values, after its type, shape and stored size have been checked."""
    where = f"node {_label(node)}: {role} ({name!r})"
    t = consts.get(name)
    if t is None:
        if name in graph_inputs:
            raise WeightsError(f"{where} is a graph input, not stored in the file")
        prod = producers.get(name)
        made = f"computed by node {_label(prod)}" if prod is not None else "not defined in the graph"
        raise WeightsError(f"{where} is {made}; gru-viz reads weights stored in the file")
    if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data):
        raise WeightsError(f"{where} keeps its data in an external file; refused (nothing outside the upload is read)")
    dt = t.data_type
    itemsizes = {onnx.TensorProto.FLOAT: 4, onnx.TensorProto.DOUBLE: 8, onnx.TensorProto.FLOAT16: 2,
                 onnx.TensorProto.BFLOAT16: 2, onnx.TensorProto.INT32: 4, onnx.TensorProto.INT64: 8}
    if dt not in itemsizes:
        shown = onnx.TensorProto.DataType.Name(dt) if dt in onnx.TensorProto.DataType.values() else dt
        raise WeightsError(f"{where} has data type {shown}, not a real number type gru-viz reads")
    dims = list(t.dims)
    if len(dims) > MAX_NDIM or any(d < 0 for d in dims):
        raise WeightsError(f"{where} has shape {dims[:8]}: not a valid tensor shape")
    count = math.prod(dims)
    nbytes = count * itemsizes[dt]
    if nbytes > budget[0]:
        raise WeightsError(f"{where} declares shape {dims[:8]}: more than the {MAX_UNPACKED_BYTES}-byte limit in all")
    budget[0] -= nbytes
    if t.HasField("raw_data"):
        stored = len(t.raw_data) // itemsizes[dt] if len(t.raw_data) % itemsizes[dt] == 0 else -1
    else:
        field = {onnx.TensorProto.FLOAT: t.float_data, onnx.TensorProto.DOUBLE: t.double_data,
                 onnx.TensorProto.INT64: t.int64_data}.get(dt, t.int32_data)
        stored = len(field)
    if stored != count:
        raise WeightsError(f"{where} declares shape {dims[:8]} ({count} numbers) but stores {max(stored, 0)}")
    arr = numpy_helper.to_array(t)
    if arr.dtype.kind not in "biuf":  # bfloat16 comes back as an ml_dtypes type
        arr = arr.astype(np.float32)
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise WeightsError(f"{where} contains NaN or infinity")
    return arr


# the type each attribute must have (onnx.AttributeProto: FLOAT 1, INT 2, STRING 3, FLOATS 6, STRINGS 8)
_ATTRIBUTE_TYPES = {"activation_alpha": 6, "activation_beta": 6, "activations": 8, "clip": 1, "direction": 3,
                    "hidden_size": 2, "layout": 2, "linear_before_reset": 2, "input_forget": 2}
_TYPE_NAMES = {1: "a float", 2: "an integer", 3: "a string", 6: "a list of floats", 8: "a list of strings"}


def _node(n, tensor, helper) -> _Rec:
    """One GRU / LSTM / RNN node read and checked, its weights in PyTorch's layout."""
    op, label = n.op_type, _label(n)
    for a in n.attribute:
        if a.name in ATTRIBUTES[op] and a.type != _ATTRIBUTE_TYPES[a.name]:
            raise WeightsError(f"node {label}: attribute {a.name!r} must be {_TYPE_NAMES[_ATTRIBUTE_TYPES[a.name]]}")
    attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
    if len(attrs) != len(n.attribute):
        raise WeightsError(f"node {label} has an attribute twice")
    unknown = sorted(str(a) for a in set(attrs) - ATTRIBUTES[op])
    if unknown:
        raise WeightsError(f"node {label} has attribute {unknown[0]!r}, which gru-viz does not know")
    direction = attrs.get("direction", b"forward")
    direction = direction.decode("utf-8", "replace") if isinstance(direction, bytes) else str(direction)
    if direction not in ("forward", "reverse", "bidirectional"):
        raise WeightsError(f"node {label}: direction {direction!r} is not forward, reverse or bidirectional")
    D = 2 if direction == "bidirectional" else 1
    acts = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in attrs.get("activations", [])]
    nonlinearity = "tanh"
    if acts:
        per = len(DEFAULT_ACTIVATIONS[op])
        if len(acts) != per * D:
            raise WeightsError(f"node {label}: activations lists {len(acts)} functions, the operator takes {per * D}")
        dirs = [acts[i * per : (i + 1) * per] for i in range(D)]
        if op == "RNN" and all(d == ["Relu"] for d in dirs):
            nonlinearity = "relu"
        elif any(d != DEFAULT_ACTIVATIONS[op] for d in dirs):
            raise WeightsError(
                f"node {label}: activations {acts} are not the default {DEFAULT_ACTIVATIONS[op]}"
                + (" (or Relu)" if op == "RNN" else "") + "; gru-viz would compute something else"
            )
    for key in ("activation_alpha", "activation_beta"):
        if attrs.get(key):
            raise WeightsError(f"node {label}: {key} is set; gru-viz computes the standard activations only")
    if "clip" in attrs:  # (the operator has no "no clip" value: any clip is refused)
        raise WeightsError(f"node {label}: clip={attrs['clip']:g} clips the cell's pre-activations to ±"
                           f"{attrs['clip']:g}, which gru-viz does not do")
    if attrs.get("input_forget", 0):
        raise WeightsError(f"node {label}: input_forget=1 couples the input and forget gates, which gru-viz does "
                           "not do")
    layout = attrs.get("layout", 0)
    if layout not in (0, 1):
        raise WeightsError(f"node {label}: layout {layout} is not 0 or 1")
    lbr = attrs.get("linear_before_reset", 0)
    if lbr not in (0, 1):
        raise WeightsError(f"node {label}: linear_before_reset {lbr} is not 0 or 1")
    inputs = list(n.input) + [""] * 8
    if op == "LSTM" and inputs[7]:
        raise WeightsError(f"node {label} has peepholes (input P, {inputs[7]!r}); gru-viz's LSTM has none")
    if not inputs[1] or not inputs[2]:
        raise WeightsError(f"node {label} lacks its W or R input")
    G = GATES[op]
    W, R = tensor(inputs[1], "W", n), tensor(inputs[2], "R", n)
    if R.ndim != 3 or R.shape[0] != D or R.shape[2] == 0 or R.shape[1] != G * R.shape[2]:
        raise WeightsError(f"node {label}: R has shape {R.shape}, expected ({D}, {G}·hidden, hidden)")
    H = R.shape[2]
    if "hidden_size" in attrs and attrs["hidden_size"] != H:
        raise WeightsError(f"node {label}: hidden_size={attrs['hidden_size']}, but R has {H} columns")
    if W.ndim != 3 or W.shape[:2] != (D, G * H):
        raise WeightsError(f"node {label}: W has shape {W.shape}, expected ({D}, {G * H}, input)")
    B = tensor(inputs[3], "B", n) if inputs[3] else None
    if B is not None and B.shape != (D, 2 * G * H):
        raise WeightsError(f"node {label}: B has shape {B.shape}, expected ({D}, {2 * G * H})")
    order = TO_TORCH[op]
    weights = []
    for d in range(D):
        name = f"node {label}" + (" (reverse)" if d else "")
        b_ih = b_hh = None
        if B is not None:
            b_ih, b_hh = reorder(B[d, : G * H], order, G), reorder(B[d, G * H :], order, G)
        weights.append(LayerWeights(name, reorder(W[d], order, G), reorder(R[d], order, G), b_ih, b_hh))
    return _Rec(n, label, KIND_OF_OP[op], direction, layout, "torch" if lbr else "reset-before", nonlinearity,
                weights)


def _walk_back(name: str, producers: dict) -> tuple[list, object | None, str]:
    """Follow ``name`` back through link ops: (the link nodes, top first, the node that made it, its output)."""
    links = []
    while True:
        prod = producers.get(name)
        if prod is None or prod.op_type not in LINKS or prod.domain not in _DEFAULT_DOMAINS or len(links) > 16:
            return links, prod, name
        links.append(prod)
        name = prod.input[0]


def _run_links(links: list, y: np.ndarray, consts, tensor, helper) -> np.ndarray:
    """Apply the link ops (bottom first) to the probe ``y``, as ONNX defines them."""
    x = y
    for node in reversed(links):
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        op = node.op_type

        def operand(i: int, _node=node) -> list[int] | None:
            if len(_node.input) > i and _node.input[i]:
                return [int(v) for v in tensor(_node.input[i], f"input {i}", _node).astype(np.int64).ravel()]
            return None

        if op == "Identity":
            continue
        if op == "Transpose":
            perm = attrs.get("perm") or list(range(x.ndim))[::-1]
            x = np.transpose(x, perm)
        elif op == "Reshape":
            shape = operand(1) or []
            if not attrs.get("allowzero", 0):
                shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
            x = x.reshape(shape)
        elif op in ("Squeeze", "Unsqueeze"):
            axes = attrs.get("axes") or operand(1)
            if op == "Squeeze":
                x = np.squeeze(x, axis=tuple(axes)) if axes is not None else np.squeeze(x)
            else:
                for ax in sorted(a % (x.ndim + len(axes)) for a in axes):
                    x = np.expand_dims(x, ax)
    return x


def _chain(recs: list[_Rec], producers, consts, graph_inputs, tensor, helper) -> tuple[list[_Rec], str, bool]:
    """The recurrent nodes, bottom to top (checking every join), what the first one reads, and whether the graph's
    input reaches it through a (batch, time) transpose."""
    by_output = {r.node.output[0]: r for r in recs if len(r.node.output) and r.node.output[0]}
    below: dict[int, tuple[_Rec | None, list]] = {}
    for r in recs:
        links, prod, name = _walk_back(r.node.input[0], producers)
        src = by_output.get(name) if prod is not None else None
        if prod is not None and prod.op_type in KIND_OF_OP and src is None:
            raise WeightsError(f"node {r.label} reads an output of node {_label(prod)} other than Y (its sequence)")
        below[id(r)] = (src, links)
    starts = [r for r in recs if below[id(r)][0] is None]
    if len(starts) > 1:
        raise WeightsError(
            f"nodes {starts[0].label} and {starts[1].label} are separate recurrent chains (neither reads the other's "
            "output): gru-viz reads one stack"
        )
    if not starts:
        raise WeightsError("the recurrent nodes read one another in a cycle")
    chain = [starts[0]]
    while True:
        above = [r for r in recs if below[id(r)][0] is chain[-1]]
        if len(above) > 1:
            raise WeightsError(f"nodes {above[0].label} and {above[1].label} both read node {chain[-1].label}")
        if not above:
            break
        lower, upper = chain[-1], above[0]
        _check_join(lower, upper, below[id(upper)][1], consts, tensor, helper)
        chain.append(upper)
    if len(chain) != len(recs):
        left = next(r for r in recs if r not in chain)
        raise WeightsError(f"node {left.label} is not part of the stack that starts at node {chain[0].label}")
    links, prod, name = _walk_back(chain[0].node.input[0], producers)
    reads, batch_first = "", False
    if prod is not None:
        reads = f"the output of node {_label(prod)}"
    elif name not in graph_inputs:
        raise WeightsError(f"node {chain[0].label} reads {name!r}, which the graph does not define")
    if links and prod is None:
        perms = [helper.get_attribute_value(a) for n in links for a in n.attribute if a.name == "perm"]
        if len(links) == 1 and links[0].op_type == "Transpose" and perms == [[1, 0, 2]] and chain[0].layout == 0:
            batch_first = True
        else:
            reads = f"the graph input {name!r} through {', '.join(n.op_type for n in reversed(links))}"
    return chain, reads, batch_first


def _check_join(lower: _Rec, upper: _Rec, links: list, consts, tensor, helper) -> None:
    """The ops between two nodes must hand the upper one the lower one's Y as a stacked layer reads it."""
    D = len(lower.weights)
    H = lower.weights[0].weight_hh.shape[1]
    T, B = 3, 2
    shape = (T, D, B, H) if lower.layout == 0 else (B, T, D, H)
    y = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    if lower.layout == 0:
        want = y.transpose(0, 2, 1, 3).reshape(T, B, D * H)
    else:
        want = y.reshape(B, T, D * H)
    if upper.layout != lower.layout:
        want = want.transpose(1, 0, 2)
    ops = ", ".join(n.op_type for n in reversed(links)) or "nothing"
    try:
        got = _run_links(links, y, consts, tensor, helper)
    except WeightsError:
        raise
    except Exception:  # a reshape or transpose that does not fit the probe: not a stacking join
        got = None
    if got is None or got.shape != want.shape or not np.array_equal(got, want):
        raise WeightsError(
            f"node {upper.label} reads node {lower.label}'s output through {ops}, which does not hand it each step's "
            "directions side by side as a stacked layer reads them"
        )


def _state_notes(r: _Rec, consts, graph_inputs, tensor) -> list[str]:
    """What the node's optional inputs (sequence_lens, initial_h, initial_c) mean for the model shown."""
    inputs = list(r.node.input) + [""] * 8
    notes = []
    for i, role in ((4, "sequence_lens"), (5, "initial_h"), (6, "initial_c")):
        name = inputs[i]
        if not name:
            continue
        if name in consts and role != "sequence_lens":
            value = tensor(name, role, r.node)
            if np.any(value != 0):
                notes.append(f"node {r.label} starts from a fixed, non-zero {role} stored in the file; gru-viz starts "
                             "from the state you choose (zeros unless you pass one)")
        elif role == "sequence_lens":
            notes.append(f"node {r.label} takes sequence_lens ({name!r}); gru-viz runs every step of every sequence")
        elif name in graph_inputs:
            notes.append(f"node {r.label}'s {role} is a graph input ({name!r}): choose it yourself, as for any model")
    return notes
