"""What a viewer predicts before the reveal on Step through, per cell kind: the gates that decide the step."""

from __future__ import annotations

from ..core.kinds import per_kind

# The quantities a viewer guesses: the gates that decide what happens to the state (h itself for a gateless RNN;
# for minLSTM the share kept, f′ = f / (f + i), which is what its two gates decide together).
GUESSABLE = per_kind("explain.predict.guessable", {
    "gru": ("z", "r"),
    "lstm": ("f", "i"),
    "rnn": ("h",),
    "mingru": ("z",),
    "minlstm": ("f'",),
})
