"""A copy-paste Python snippet that rebuilds a model in PyTorch and runs the same input.

No torch here: this module only writes text. The snippet needs nothing but torch (and, for models too large
to inline, the ``safetensors`` package and the two files the "Your model" page offers for download). It
ends with ``output`` and ``h_n`` (and ``c_n`` for an LSTM) shaped as the torch module returns them.

- PyTorch's own GRU variant, LSTM and RNN (and their cells) are rebuilt as the ``torch.nn`` module, loaded
  with ``load_state_dict``.
- The other GRU variants, minGRU and minLSTM, which no ``torch.nn`` module computes, and any run with clamped
  gates (``torch.nn`` cannot clamp) get a short step-by-step torch function written out in the snippet.

Numbers are written with ``repr``, the shortest text that reads back to the same float64, so the snippet
reproduces our outputs to round-off.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core import sources
from ..core.kinds import KIND, per_kind
from ..core.model import Model
from ..core.spec import GRU_VARIANTS, Spec, count_params
from ..core.trace import Ablation
from .torch_names import TORCH_MODULES, is_native, module_name

INLINE_NUMBERS = 4000  # more weights (or input numbers) than this are read from the downloaded files instead
WEIGHTS_FILE = "gru_viz_model.safetensors"
INPUT_FILE = "gru_viz_input.csv"

def _carries_c(spec: Spec) -> bool:
    """Whether the kind carries a cell state c beside h (an LSTM): c0 in, c_n out."""
    return "c" in KIND[spec.kind].state


# -------------------------------------------------------------------------------------------- literals


def literal(value: object, indent: int = 0, wrap: bool = True) -> str:
    """A Python literal of nested lists that reads back to exactly the same float64 values."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return repr(float(arr))
    if arr.ndim == 1:
        numbers = [repr(float(v)) for v in arr]
        if len(numbers) <= 4 or not wrap:
            return "[" + ", ".join(numbers) + "]"
        pad = " " * (indent + 4)  # four numbers a line keeps long bias vectors readable
        lines = [pad + ", ".join(numbers[i : i + 4]) + "," for i in range(0, len(numbers), 4)]
        return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"
    pad = " " * (indent + 4)
    rows = ",\n".join(pad + literal(row, indent + 4, wrap=False) for row in arr)  # a matrix row stays one line
    return "[\n" + rows + ",\n" + " " * indent + "]"


def input_csv(x: np.ndarray) -> bytes:
    """The input as CSV (one step per row), with numbers that read back exactly."""
    arr = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return ("\n".join(",".join(repr(float(v)) for v in row) for row in arr) + "\n").encode()


# ------------------------------------------------------------------------------------------ templates

_GRU_STEP = '''
RESET_AFTER, Z_KEEPS = {reset_after}, {z_keeps}  # {variant}


def step(x, h, c, p, clamp):
    """One GRU step; weight rows r, z, n as in torch.nn.GRU."""
    H = h.shape[-1]
    gi = x @ p["weight_ih"].T + p.get("bias_ih", 0.0)
    gh = h @ p["weight_hh"].T + p.get("bias_hh", 0.0)
    r = clamp.get("r", torch.sigmoid(gi[:H] + gh[:H]))
    z = clamp.get("z", torch.sigmoid(gi[H : 2 * H] + gh[H : 2 * H]))
    if RESET_AFTER:  # n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        n = torch.tanh(gi[2 * H :] + r * gh[2 * H :])
    else:  # n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
        b_hn = p["bias_hh"][2 * H :] if "bias_hh" in p else 0.0
        n = torch.tanh(gi[2 * H :] + (r * h) @ p["weight_hh"][2 * H :].T + b_hn)
    h = (1 - z) * n + z * h if Z_KEEPS else (1 - z) * h + z * n
    return h, c
'''

_LSTM_STEP = '''

def step(x, h, c, p, clamp):
    """One LSTM step; weight rows i, f, g, o as in torch.nn.LSTM."""
    H = c.shape[-1]
    pre = x @ p["weight_ih"].T + p.get("bias_ih", 0.0) + h @ p["weight_hh"].T + p.get("bias_hh", 0.0)
    i = clamp.get("i", torch.sigmoid(pre[:H]))
    f = clamp.get("f", torch.sigmoid(pre[H : 2 * H]))
    g = torch.tanh(pre[2 * H : 3 * H])
    o = clamp.get("o", torch.sigmoid(pre[3 * H :]))
    c = f * c + i * g
    h = o * torch.tanh(c)
    if "weight_hr" in p:  # projection: h = W_hr (o * tanh(c))
        h = h @ p["weight_hr"].T
    return h, c
'''

_RNN_STEP = '''
NONLINEARITY = torch.{nonlinearity}


def step(x, h, c, p, clamp):
    """One vanilla RNN step: h = {nonlinearity}(W_ih x + b_ih + W_hh h + b_hh)."""
    pre = x @ p["weight_ih"].T + p.get("bias_ih", 0.0) + h @ p["weight_hh"].T + p.get("bias_hh", 0.0)
    return NONLINEARITY(pre), c
'''

_MINGRU_STEP = '''

def step(x, h, c, p, clamp):
    """One minGRU step (@FENG@); weight rows z, then the candidate."""
    H = h.shape[-1]
    k = x @ p["weight_ih"].T + p.get("bias_ih", 0.0)
    z = clamp.get("z", torch.sigmoid(k[:H]))
    n = torch.where(k[H:] >= 0, k[H:] + 0.5, torch.sigmoid(k[H:]))  # positive candidate g(k)
    return (1 - z) * h + z * n, c
'''

_MINLSTM_STEP = '''

def step(x, h, c, p, clamp):
    """One minLSTM step (@FENG@); weight rows f, i, then the candidate."""
    H = h.shape[-1]
    k = x @ p["weight_ih"].T + p.get("bias_ih", 0.0)
    f = clamp.get("f", torch.sigmoid(k[:H]))
    i = clamp.get("i", torch.sigmoid(k[H : 2 * H]))
    n = torch.where(k[2 * H :] >= 0, k[2 * H :] + 0.5, torch.sigmoid(k[2 * H :]))  # positive candidate g(k)
    # f / (f + i) as the paper writes it: 0 / 0 only where both σ underflow (pre-activations below about −745),
    # where gru-viz, which computes it in log space, still has a number
    return f / (f + i) * h + i / (f + i) * n, c
'''
# the paper is named through its sourced record (core/sources.py), as every attribution the app shows
_MINGRU_STEP, _MINLSTM_STEP = (t.replace("@FENG@", sources.who("feng")) for t in (_MINGRU_STEP, _MINLSTM_STEP))

# The step function written out for each kind (for the GRU, of the model's variant; for the RNN, its nonlinearity).
_STEP_TEXT = per_kind("io.codegen.steps", {
    "gru": lambda spec: _GRU_STEP.format(reset_after=GRU_VARIANTS[spec.variant].reset_after,
                                         z_keeps=GRU_VARIANTS[spec.variant].z_keeps,
                                         variant=GRU_VARIANTS[spec.variant].name),
    "lstm": lambda spec: _LSTM_STEP,
    "rnn": lambda spec: _RNN_STEP.format(nonlinearity=spec.nonlinearity),
    "mingru": lambda spec: _MINGRU_STEP,
    "minlstm": lambda spec: _MINLSTM_STEP,
})

_RUN = '''

def key(name, layer, direction):
    return {key_expr}


def clamps_at(layer, direction, t):
    """The gates clamped at step t: {{gate: value}}."""
    out = {{}}
    for gate, value, start, stop, only_layer, only_direction in CLAMPS:
        if only_layer not in (None, layer) or only_direction not in (None, direction):
            continue
        if start <= t < (T if stop is None else stop):
            out[gate] = torch.as_tensor(value, dtype=torch.float64).expand({hidden})
    return out


def run(x, h0, c0):
    """Every layer and direction step by step; the reverse direction reads the sequence from the end."""
    inp, h_n, c_n = x, [], []
    for layer in range({layers}):
        outs = []
        for d in range({directions}):
            p = {{name: state_dict[key(name, layer, d)] for name in NAMES if key(name, layer, d) in state_dict}}
            h, c = h0[layer * {directions} + d], c0[layer * {directions} + d]
            hs = [None] * T
            for t in range(T) if d == 0 else reversed(range(T)):
                h, c = step(inp[t], h, c, p, clamps_at(layer, d, t))
                hs[t] = h
            outs.append(torch.stack(hs))
            h_n.append(h)
            c_n.append(c)
        inp = torch.cat(outs, dim=-1)
    return inp, torch.stack(h_n), torch.stack(c_n)
'''


# ------------------------------------------------------------------------------------------- snippet


def _weights_block(model: Model, inline: bool) -> str:
    if not inline:
        return (
            "from safetensors.torch import load_file\n\n"
            f'# The weights: download "{WEIGHTS_FILE}" from the "Your model" page next to this script.\n'
            f'state_dict = load_file("{WEIGHTS_FILE}")\n'
        )
    lines = ["state_dict = {"]
    for k, v in model.params.items():
        lines.append(f'    "{k}": torch.tensor({literal(v, 4)}, dtype=torch.float64),')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _input_block(x: np.ndarray, inline: bool) -> str:
    T, I = x.shape
    if not inline:
        return (
            "import numpy as np\n\n"
            f'# The input: download "{INPUT_FILE}" (one step per row) from the "Your model" page.\n'
            f'x = torch.tensor(np.loadtxt("{INPUT_FILE}", delimiter=",", ndmin=2), dtype=torch.float64)'
            f"  # (T, I) = ({T}, {I})\n"
        )
    return f"x = torch.tensor({literal(x)}, dtype=torch.float64)  # (T, I) = ({T}, {I}): one sequence, time first\n"


def _state_shape(spec: Spec) -> tuple[int, ...]:
    return (spec.num_layers * spec.directions,) if not spec.cell else ()


def _initial_block(spec: Spec, h0: object) -> str:
    """h0 (and c0) as the torch module takes them for one sequence."""
    if _carries_c(spec):
        h, c = (None, None) if h0 is None else h0
    else:
        h, c = h0, None
    lead = _state_shape(spec)
    what = "(H,)" if spec.cell else "(layers × directions, H)"

    def one(name: str, value: object, size: int) -> str:
        if value is None:
            return f"{name} = torch.zeros({(*lead, size)}, dtype=torch.float64)  # {what}\n"
        arr = np.asarray(value, dtype=np.float64).reshape(*lead, size)
        return f"{name} = torch.tensor({literal(arr)}, dtype=torch.float64)  # {what}\n"

    text = one("h0", h, spec.out_size)
    if _carries_c(spec):
        text += one("c0", c, spec.hidden_size)
    return text


def _native_block(spec: Spec) -> str:
    name = TORCH_MODULES[spec.kind]
    pair = _carries_c(spec)
    if spec.cell:
        extra = f', nonlinearity="{spec.nonlinearity}"' if spec.kind == "rnn" else ""
        sizes = f"{spec.input_size}, {spec.hidden_size}"
        ctor = f"torch.nn.{name}Cell({sizes}, bias={spec.bias}{extra}, dtype=torch.float64)"
    else:
        extra = [f"num_layers={spec.num_layers}", f"bias={spec.bias}", f"batch_first={spec.batch_first}",
                 f"bidirectional={spec.bidirectional}"]
        if spec.kind == "rnn":
            extra.append(f'nonlinearity="{spec.nonlinearity}"')
        if spec.proj_size:
            extra.append(f"proj_size={spec.proj_size}")
        ctor = f"torch.nn.{name}({spec.input_size}, {spec.hidden_size}, {', '.join(extra)}, dtype=torch.float64)"
    text = f"\nmodel = {ctor}\nmodel.load_state_dict(state_dict)\nmodel.eval()\n\nwith torch.no_grad():\n"
    if not spec.cell:
        if pair:
            return text + "    output, (h_n, c_n) = model(x, (h0, c0))\n"
        return text + "    output, h_n = model(x, h0)\n"
    state = "(h0, c0)" if pair else "h0"
    text += f"    state, outs = {state}, []\n    for x_t in x:  # a cell module takes one step at a time\n"
    text += "        state = model(x_t, state)\n"
    if pair:
        return text + "        outs.append(state[0])\n    output, (h_n, c_n) = torch.stack(outs), state\n"
    return text + "        outs.append(state)\n    output, h_n = torch.stack(outs), state\n"


def _reference_block(spec: Spec, ablations: Sequence[Ablation]) -> str:
    text = _STEP_TEXT[spec.kind](spec)
    if spec.mixed:  # each layer of the stack in its own GRU variant: run() sets the step's flags layer by layer
        flags = [(GRU_VARIANTS[v].reset_after, GRU_VARIANTS[v].z_keeps) for v in spec.layer_variants]
        names = " / ".join(GRU_VARIANTS[v].name for v in spec.layer_variants)
        first = text.splitlines()[1]
        text = text.replace(first, f"LAYER_VARIANTS = {flags!r}  # (RESET_AFTER, Z_KEEPS) per layer: {names}\n"
                                   "RESET_AFTER, Z_KEEPS = LAYER_VARIANTS[0]")
    clamps = [
        (a.gate, list(a.value) if isinstance(a.value, tuple | list) else float(a.value), a.start, a.stop, a.layer,
         a.direction)
        for a in ablations
    ]
    key_expr = "name" if spec.cell else 'f"{name}_l{layer}" + ("_reverse" if direction else "")'
    text = (
        "\nNAMES = (\"weight_ih\", \"weight_hh\", \"bias_ih\", \"bias_hh\", \"weight_hr\")\n"
        f"CLAMPS = {clamps!r}  # (gate, value, from step, to step, layer, direction); None: all\n"
        f"T = x.shape[0]\n{text}"
        + _RUN.format(key_expr=key_expr, hidden=spec.hidden_size, layers=spec.num_layers, directions=spec.directions)
    )
    if spec.mixed:
        doc = "reads the sequence from the end.\"\"\"\n"
        text = text.replace(doc, doc + "    global RESET_AFTER, Z_KEEPS\n", 1)
        i = text.index("    for layer in range(")
        j = text.index("\n", i) + 1
        text = text[:j] + "        RESET_AFTER, Z_KEEPS = LAYER_VARIANTS[layer]\n" + text[j:]
    pair = _carries_c(spec)
    c0 = "c0" if pair else "torch.zeros_like(h0)"  # only a kind with a cell state (an LSTM) has c0
    out = "output, h_n, c_n" if pair else "output, h_n, _"
    if spec.cell:  # one layer, one direction, states (H,)
        text += f"\n\nwith torch.no_grad():\n    {out} = run(x, h0.reshape(1, -1), {c0}.reshape(1, -1))\n"
        text += "    h_n, c_n = h_n[0], c_n[0]\n" if pair else "    h_n = h_n[0]\n"
    else:
        text += f"\n\nwith torch.no_grad():\n    {out} = run(x, h0, {c0})\n"
    return text


def snippet(model: Model, x: np.ndarray, h0: object = None, ablations: Sequence[Ablation] = ()) -> str:
    """Python code that rebuilds ``model`` in torch (float64) and runs it over ``x`` (T, I) from ``h0``.

    ``h0`` is shaped as the torch module takes it for one sequence (a pair for an LSTM); ``ablations`` are
    the clamped gates of the run. Weights and input are written into the code when small, else read from
    :data:`WEIGHTS_FILE` and :data:`INPUT_FILE`.
    """
    s = model.spec
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"the snippet runs one sequence (T, I); got shape {x.shape}")
    native = is_native(s) and not ablations
    how = f"torch.nn.{module_name(s)}" if native else "a step-by-step torch function"
    why = ""
    if not native:
        why = " (torch.nn cannot clamp gates)" if is_native(s) else " (no torch.nn module computes this cell)"
    header = (
        f"# Rebuild {s.describe()} in PyTorch and run the same input — generated by gru-viz.\n"
        f"# It runs as {how}{why}, in float64; output and h_n{' and c_n' if _carries_c(s) else ''} "
        "are what gru-viz shows.\n"
        "import torch\n\n"
    )
    body = _weights_block(model, count_params(s) <= INLINE_NUMBERS) + "\n"
    body += _input_block(x, x.size <= INLINE_NUMBERS) + _initial_block(s, h0)
    body += _native_block(s) if native else _reference_block(s, ablations)
    tail = "\nprint(output)\nprint(h_n)\n" + ("print(c_n)\n" if _carries_c(s) else "")
    return header + body + tail
