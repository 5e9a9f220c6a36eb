"""Writes the two small model files the notebook loads: gru.keras (Keras 3, two stacked GRUs and a Dense head) and
gru.onnx (one bidirectional ONNX GRU node, PyTorch's linear_before_reset=1). Run from this folder with
``KERAS_BACKEND=torch python make_examples.py`` (needs keras, torch and onnx; the notebook itself needs none of
Keras)."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)

model = keras.Sequential([
    keras.Input((None, 1)),
    keras.layers.GRU(4, return_sequences=True, name="gru_lower"),
    keras.layers.GRU(4, return_sequences=True, name="gru_upper"),
    keras.layers.Dense(1, name="head"),
])
for w in model.weights:  # Keras starts biases at zero: random values show every parameter at work
    w.assign(rng.uniform(-1, 1, tuple(w.shape)).astype("float32"))
model.save("gru.keras")

H, I, D = 3, 1, 2
inits = [numpy_helper.from_array(rng.uniform(-1, 1, shape).astype(np.float32), name)
         for name, shape in (("W", (D, 3 * H, I)), ("R", (D, 3 * H, H)), ("B", (D, 6 * H)))]
node = helper.make_node("GRU", ["X", "W", "R", "B"], ["Y", "Y_h"], name="encoder", hidden_size=H,
                        direction="bidirectional", linear_before_reset=1)
graph = helper.make_graph([node], "encoder", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", "B", I])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, None)], inits)
onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gru-viz docs")
onnx_model.ir_version = 8
with open("gru.onnx", "wb") as f:
    f.write(onnx_model.SerializeToString())
