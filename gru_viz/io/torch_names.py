"""What torch.nn has for each cell kind, by name only (no torch here): the bridge builds its modules from these names,
the code snippets write them, and the "Your model" page names them.

A kind torch.nn has no module for (minGRU, minLSTM) is ``None`` here: its torch side is the bridge's step-by-step
torch code, and ``to_torch`` refuses it. :func:`per_kind` makes a new kind fail at import until it is said here.
"""

from __future__ import annotations

from ..core.kinds import per_kind
from ..core.spec import Spec

# torch.nn's class for a sequence model of the kind (its one-step module is the same name + "Cell").
TORCH_MODULES = per_kind("io.torch_modules", {
    "gru": "GRU",
    "lstm": "LSTM",
    "rnn": "RNN",
    "mingru": None,
    "minlstm": None,
})


def is_native(spec: Spec) -> bool:
    """Whether a torch.nn module computes this model: a kind torch.nn has, and of a GRU only PyTorch's variant."""
    return TORCH_MODULES[spec.kind] is not None and not (spec.kind == "gru" and (spec.variant != "torch" or
                                                                                 spec.mixed))


def module_name(spec: Spec) -> str | None:
    """The torch.nn class that computes this model ("GRU", "LSTMCell", …), or None where torch.nn has none."""
    if not is_native(spec):
        return None
    return TORCH_MODULES[spec.kind] + ("Cell" if spec.cell else "")
