"""Writes docs/gru-viz-from-python.ipynb, without outputs (tests/test_notebook.py runs it).

Run from the repository root: ``python docs/examples/make_notebook.py``.
"""

import nbformat as nbf

nb = nbf.v4.new_notebook()
md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
md("""# gru-viz from Python: your model, step by step

Load a recurrent model the way its framework saved it — a PyTorch module, a Keras 3 `.keras` file, an ONNX graph —
run it on a sequence, and look inside: the **Step** figure shows one step of the cell with the live value on every
wire (update gate z, reset gate r, candidate n, hidden state h), the **Timeline** every gate of every unit over the
whole sequence.

```bash
pip install 'gru-viz[app,formats,torch,notebook]'   # or, in a checkout: pip install -e '.[app,formats,torch,notebook]'
```

Reading the Keras and ONNX files needs only `h5py` and `onnx` (the `formats` extra): neither Keras nor ONNX Runtime
is imported, and nothing stored in a file is run."""),
code("""import numpy as np
import torch

import gru_viz
from gru_viz.core.sequences import Sequence
from gru_viz.figures.cell import cell_figure
from gru_viz.figures.timeline import timeline_figure
from gru_viz.io.weights import read_weights_bytes

# an input: 40 steps of a sine wave with a jump at step 20, one value per step
t = np.arange(40)
x = (np.sin(t / 3) + (t >= 20)).reshape(40, 1)
seq = Sequence(x, tuple(f"{v:.2f}" for v in x[:, 0]), source="sine with a step")"""),
md("""## A PyTorch module

`gru_viz.from_torch` copies the weights of an `nn.GRU` / `nn.LSTM` / `nn.RNN` (or a `…Cell`); the NumPy core then
computes what torch computes, to float64 round-off, and keeps every intermediate."""),
code("""torch.manual_seed(0)
module = torch.nn.GRU(input_size=1, hidden_size=4).double()
model = gru_viz.from_torch(module)
trace = model.run(x)
out, h_n = module(torch.from_numpy(x))
err = float(np.abs(trace.output - out.detach().numpy()).max())
print(model, f"· max |ours − torch| = {err:.0e} (float64 round-off)")"""),
code("""# Step: the circuit at step 20 (where the input jumps), unit 0
cell_figure(trace, t=20, unit=0, x_label=seq.labels[20])"""),
code("""# Timeline: the input, then r, z, n and h of every unit at every step
timeline_figure(seq, trace.layer(0, 0), model.spec.kind, t=20)"""),
md("""## A Keras 3 model (`.keras`)

The file's `config.json` says what the numbers cannot (units, `reset_after`, activations, `go_backwards`, layer
order); the weights come from its HDF5 part. Recurrent layers become one multi-layer model; the Dense head is listed
and left out. `read_weights_bytes` tells what was read; `gru_viz.load_weights(path)` returns just the model."""),
code("""from pathlib import Path

path = Path("examples/gru.keras")
loaded = read_weights_bytes(path.read_bytes(), path.name)
print(loaded.source)
print("\\n".join(loaded.read))
print("left out:", loaded.ignored)
keras_model = loaded.model               # Keras layers take (batch, time, features): batch_first
keras_trace = keras_model.run(x[None])   # one sequence as a batch of one
keras_model"""),
code("""# Timeline of the upper GRU layer (layer 1 reads the lower layer's output)
timeline_figure(seq, keras_trace.layer(1, 0), keras_model.spec.kind, t=20)"""),
md("""## An ONNX graph (`.onnx`)

A bidirectional `GRU` node with `linear_before_reset=1` (PyTorch's variant). ONNX's gate blocks (z, r, h) are put
in PyTorch's order (r, z, n); the reverse direction reads the sequence from its last step to its first."""),
code("""onnx_model = gru_viz.load_weights("examples/gru.onnx")
onnx_trace = onnx_model.run(x)
print(onnx_model, "·", onnx_trace.output.shape, "(steps, forward and reverse halves)")"""),
code("""# Step of the reverse direction at step 20: its previous state is h[21], the one it read just before
cell_figure(onnx_trace, t=20, unit=0, x_label=seq.labels[20], direction=1)"""),
]
nb.cells = cells
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbf.write(nb, "docs/gru-viz-from-python.ipynb")
