"""ONNX recurrent graphs built with ``onnx.helper`` (as exporters write them: weights as initializers, initial states
as graph inputs, layers joined by Transpose/Reshape/Squeeze), and onnxruntime's outputs on them as the reference."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

GATES = {"GRU": 3, "LSTM": 4, "RNN": 1}
OPSET = 17


def recurrent_graph(
    op: str = "GRU",
    *,
    I: int = 3,
    H: int = 4,
    layers: int = 1,
    direction: str = "forward",
    linear_before_reset: int | None = None,
    activations: list[str] | None = None,
    bias: bool = True,
    initial_state: bool = True,
    layout: int = 0,
    seed: int = 0,
    dtype: np.dtype = np.float32,
    extra_attrs: dict | None = None,
    join: str = "auto",
    peepholes: bool = False,
) -> onnx.ModelProto:
    """A graph of ``layers`` stacked ``op`` nodes reading the graph input ``X``; outputs ``Y`` and ``Y_h`` of the top
    node (and ``Y_c`` for an LSTM). ``join`` "auto" uses the exporters' joins (Transpose + Reshape when
    bidirectional, Squeeze otherwise); "bad-reshape" reshapes (T, D, B, H) straight to (T, B, D·H), which scrambles
    a bidirectional layer's output (gru-viz must refuse it)."""
    rng = np.random.default_rng(seed)
    D = 2 if direction == "bidirectional" else 1
    G = GATES[op]
    elem = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    nodes, inits, inputs = [], [], [helper.make_tensor_value_info("X", elem, ["T", "B", I] if layout == 0
                                                                  else ["B", "T", I])]
    x_name = "X"
    for k in range(layers):
        width = I if k == 0 else D * H
        w = rng.uniform(-0.8, 0.8, (D, G * H, width)).astype(dtype)
        r = rng.uniform(-0.8, 0.8, (D, G * H, H)).astype(dtype)
        b = rng.uniform(-0.8, 0.8, (D, 2 * G * H)).astype(dtype)
        names = [x_name, f"W{k}", f"R{k}", f"B{k}" if bias else "", "", ""]
        inits += [numpy_helper.from_array(w, f"W{k}"), numpy_helper.from_array(r, f"R{k}")]
        if bias:
            inits.append(numpy_helper.from_array(b, f"B{k}"))
        state_shape = [D, "B", H] if layout == 0 else ["B", D, H]
        if initial_state:
            names[5] = f"h0_{k}"
            inputs.append(helper.make_tensor_value_info(f"h0_{k}", elem, state_shape))
            if op == "LSTM":
                names.append(f"c0_{k}")
                inputs.append(helper.make_tensor_value_info(f"c0_{k}", elem, state_shape))
        if peepholes and op == "LSTM":
            names += [""] * (7 - len(names)) + [f"P{k}"]
            inits.append(numpy_helper.from_array(rng.uniform(-1, 1, (D, 3 * H)).astype(dtype), f"P{k}"))
        attrs = {"hidden_size": H, "direction": direction}
        if layout:
            attrs["layout"] = layout
        if linear_before_reset is not None:
            attrs["linear_before_reset"] = linear_before_reset
        if activations is not None:
            attrs["activations"] = activations
        attrs.update(extra_attrs or {})
        outs = [f"Y{k}", f"Yh{k}"] + ([f"Yc{k}"] if op == "LSTM" else [])
        nodes.append(helper.make_node(op, names, outs, name=f"{op.lower()}{k}", **attrs))
        if k < layers - 1:  # the join to the next layer, as exporters write it
            if layout == 1:  # Y is (B, T, D, H)
                shape = numpy_helper.from_array(np.array([0, 0, -1], np.int64), f"shape{k}")
                inits.append(shape)
                nodes.append(helper.make_node("Reshape", [f"Y{k}", f"shape{k}"], [f"X{k + 1}"], name=f"join{k}"))
            elif join == "bad-reshape" or (D == 2 and join == "auto"):
                src = f"Y{k}"
                if join == "auto":
                    nodes.append(helper.make_node("Transpose", [src], [f"Yt{k}"], perm=[0, 2, 1, 3], name=f"tr{k}"))
                    src = f"Yt{k}"
                shape = numpy_helper.from_array(np.array([0, 0, -1], np.int64), f"shape{k}")
                inits.append(shape)
                nodes.append(helper.make_node("Reshape", [src, f"shape{k}"], [f"X{k + 1}"], name=f"join{k}"))
            else:
                axes = numpy_helper.from_array(np.array([1], np.int64), f"axes{k}")
                inits.append(axes)
                nodes.append(helper.make_node("Squeeze", [f"Y{k}", f"axes{k}"], [f"X{k + 1}"], name=f"join{k}"))
            x_name = f"X{k + 1}"
    top = layers - 1
    outputs = [helper.make_tensor_value_info(f"Y{top}", elem, None), helper.make_tensor_value_info(f"Yh{top}", elem,
                                                                                                   None)]
    if op == "LSTM":
        outputs.append(helper.make_tensor_value_info(f"Yc{top}", elem, None))
    graph = helper.make_graph(nodes, f"{op.lower()}-graph", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="gru-viz tests")
    model.ir_version = 8
    return model


def run_onnxruntime(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The graph's outputs as onnxruntime computes them (one CPU thread)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def feeds_for(model: onnx.ModelProto, T: int = 5, B: int = 2, seed: int = 1) -> dict[str, np.ndarray]:
    """Random values for every graph input (X and the initial states), shaped from the graph's declared dims."""
    rng = np.random.default_rng(seed)
    out = {}
    for vi in model.graph.input:
        dims = [d.dim_value if d.HasField("dim_value") else {"T": T, "B": B}[d.dim_param]
                for d in vi.type.tensor_type.shape.dim]
        dtype = np.float32 if vi.type.tensor_type.elem_type == TensorProto.FLOAT else np.float64
        out[vi.name] = rng.standard_normal(dims).astype(dtype)
    return out


def run_reference_evaluator(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The graph's outputs per onnx's own reference evaluator (for layout=1, which onnxruntime's CPU kernels
    refuse: "Batchwise recurrent operations (layout == 1) are not supported")."""
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(model).run(None, feeds)
