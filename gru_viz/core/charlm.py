"""A character-level language model reading text: its next-character guesses, its bits per character, its samples,
and its states over a long text for the analyses (gru_viz/core/units.py).

The model is a :class:`~gru_viz.core.model.Model` with an embedding and a readout whose vocabulary is one
character per token (and an unknown token, ``<unk>``, for characters it never saw). ``h[t]`` is the state after
reading character t, so ``logits[t]`` is the guess for character t + 1.

A long text is read in windows run side by side as one batch, time-major ``(T, B)`` ids: each window starts from
a zero state, ``WARMUP`` characters before the ``CHUNK`` characters it is scored on (or analysed over), so every
character but the text's first ``WARMUP`` is read with at least that much context; a few hundred KB then takes
seconds, not the minutes of one 300,000-step loop. The numbers differ a little from one unbroken run (a state
older than the window is forgotten); the words say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .kinds import KIND
from .model import Model, trace_bytes
from .tokens import UNKNOWN, encode, log_softmax
from .trace import Trace

CHUNK = 1000  # characters scored (or analysed) per window
WARMUP = 100  # characters read before them, from a zero state, and not scored
WINDOW_BYTES = 2**27  # what one batch of windows may keep in its trace (128 MiB): B = this / one window's trace
LN2 = float(np.log(2.0))


class CharError(ValueError):
    """A model or text that the character-level reader cannot use."""


def _vocabulary(model: Model) -> tuple[str, ...]:
    if model.embedding is None or model.readout is None or model.vocabulary is None:
        raise CharError("a character model needs an embedding with a vocabulary and a readout")
    return model.vocabulary


def ids_of(model: Model, text: str, unknown: str = UNKNOWN) -> tuple[np.ndarray, tuple[int, ...]]:
    """(ids of ``text``'s characters, positions of the characters not in the vocabulary, read as ``unknown``)."""
    vocab = _vocabulary(model)
    if unknown not in vocab:
        raise CharError(f"the vocabulary has no {unknown!r} token to read unknown characters as")
    ids, missing = encode(list(text), vocab, unknown)
    return ids, tuple(missing)


@dataclass(frozen=True)
class Reading:
    """What a model makes of one (short) text: every state, and its next-character distribution after each character."""

    text: str
    ids: np.ndarray  # (T,)
    unknown: tuple[int, ...]  # positions of characters not in the vocabulary (read as the unknown token)
    trace: Trace  # one unbatched run from a zero state
    logits: np.ndarray  # (T, V): after character t, the scores for character t + 1
    probs: np.ndarray  # (T, V)
    vocabulary: tuple[str, ...] = field(repr=False, default=())

    def top(self, t: int, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` likeliest next characters after character ``t``, with their probabilities, likeliest first."""
        p = self.probs[t]
        order = np.argsort(-p, kind="stable")[:k]
        return [(self.vocabulary[i], float(p[i])) for i in order]

    def bits_per_char(self) -> float:
        """Mean −log₂ p of each next character within the text (T − 1 predictions); NaN for fewer than 2 characters."""
        if len(self.ids) < 2:
            return float("nan")
        logp = log_softmax(self.logits[:-1])
        return float(-logp[np.arange(len(self.ids) - 1), self.ids[1:]].mean() / LN2)


def read(model: Model, text: str, unknown: str = UNKNOWN) -> Reading:
    """Run ``model`` over ``text`` from a zero state, one character a step (empty text: refused)."""
    if not text:
        raise CharError("there is no text to read")
    ids, missing = ids_of(model, text, unknown)
    trace = model.run_tokens(ids)
    logits = model.logits(trace)
    return Reading(text, ids, missing, trace, logits, np.exp(log_softmax(logits)), _vocabulary(model))


# ------------------------------------------------------------------------------------------- long texts


@dataclass(frozen=True)
class Windows:
    """How a long text of ``n`` characters is cut: window w reads ids[starts[w] : starts[w] + width] and is
    scored on its steps ``skip[w]`` … ``skip[w] + keep[w]`` (the text's characters ``starts[w] + skip[w]`` on)."""

    starts: np.ndarray
    skip: np.ndarray
    keep: np.ndarray
    width: int


def windows(n: int, chunk: int = CHUNK, warmup: int = WARMUP) -> Windows:
    """Windows of equal width covering characters 0 … n − 1 once each (the first scored from its first character)."""
    if n < 1:
        raise CharError("there is no text to read")
    width = min(n, chunk + warmup)
    starts, skip, keep = [0], [0], [width]
    done = width
    while done < n:
        k = min(chunk, n - done)
        starts.append(done - warmup)
        skip.append(warmup)
        keep.append(k)
        done += k
    return Windows(np.array(starts), np.array(skip), np.array(keep), width)


def _batch_size(model: Model, width: int, batch: int | None) -> int:
    if batch is not None:
        return max(1, int(batch))
    return max(1, WINDOW_BYTES // trace_bytes(model.spec, width, 1))


def _runs(model: Model, ids: np.ndarray, batch: int | None, chunk: int, warmup: int):
    """Yield (window indices, trace) for batches of windows over ``ids``; the last window is padded at its end."""
    w = windows(len(ids), chunk, warmup)
    B = _batch_size(model, w.width, batch)
    padded = np.concatenate([ids, np.zeros(w.width, dtype=ids.dtype)])  # padding after a window's end changes nothing
    cols = w.starts[:, None] + np.arange(w.width)[None, :]  # (W, width)
    for first in range(0, len(w.starts), B):
        rows = np.arange(first, min(first + B, len(w.starts)))
        grid = padded[cols[rows]].T  # time-major (width, b)
        if model.spec.batch_first:
            grid = grid.T
        yield w, rows, model.run_tokens(grid)


def bits_per_char(
    model: Model, text: str, batch: int | None = None, chunk: int = CHUNK, warmup: int = WARMUP
) -> float:
    """Bits per character of ``text``: the mean −log₂ p the model gives each next character, read in windows of
    ``warmup`` + ``chunk`` characters run side by side ``batch`` at a time (by default as many as fit in
    WINDOW_BYTES), each from a zero state and scored after its first ``warmup`` characters (see the module's
    docstring). Unknown characters are read, and scored, as the unknown token."""
    ids, _ = ids_of(model, text)
    if len(ids) < 2:
        raise CharError("bits per character needs at least 2 characters")
    total, count = 0.0, 0
    for w, rows, trace in _runs(model, ids, batch, chunk, warmup):
        out = trace.output if not model.spec.batch_first else trace.output.transpose(1, 0, 2)  # (width, b, H)
        logp = log_softmax(model.readout.logits(out))  # (width, b, V)
        for j, r in enumerate(rows):
            a = w.starts[r] + w.skip[r]  # first scored character's position in the text
            steps = np.arange(w.skip[r], w.skip[r] + w.keep[r])
            pos = a + steps - w.skip[r]
            ok = pos + 1 < len(ids)  # the text's last character predicts nothing within the text
            total -= float(logp[steps[ok], j, ids[pos[ok] + 1]].sum())
            count += int(ok.sum())
    return total / count / LN2


@dataclass(frozen=True)
class States:
    """Every layer's states over a long text (read in windows, see the module's docstring), in float32.

    ``h[layer]`` and, for an LSTM, ``c[layer]`` are (N, H): the state after each character. ``low`` and ``high``
    count, per (layer, gate) of the kind's σ gates, how many characters each unit's gate was below
    units.LOW or above units.HIGH (the gates themselves are not kept: over a few hundred KB they would take GBs).
    """

    text: str
    ids: np.ndarray
    unknown: tuple[int, ...]
    kind: str
    h: tuple[np.ndarray, ...]
    c: tuple[np.ndarray, ...] | None
    low: dict[tuple[int, str], np.ndarray]
    high: dict[tuple[int, str], np.ndarray]
    chunk: int
    warmup: int

    @property
    def steps(self) -> int:
        """N, the number of characters."""
        return len(self.ids)

    def values(self, layer: int, which: str = "h") -> np.ndarray:
        """(N, H) of one layer's h or (LSTM) c."""
        if which == "c":
            if self.c is None:
                raise CharError(f"a {KIND[self.kind].name} has no cell state c")
            return self.c[layer]
        return self.h[layer]


LOW, HIGH = 0.1, 0.9  # a gate below LOW is left-saturated, above HIGH right-saturated (Karpathy et al.'s Fig. 3)


def states(
    model: Model, text: str, batch: int | None = None, chunk: int = CHUNK, warmup: int = WARMUP
) -> States:
    """Every layer's h (and c) over ``text`` and each σ gate's saturation counts, read in windows (module docstring)."""
    ids, missing = ids_of(model, text)
    kind = KIND[model.spec.kind]
    L, N, H = model.spec.num_layers, len(ids), model.spec.hidden_size
    h = [np.empty((N, model.spec.out_size), np.float32) for _ in range(L)]
    c = [np.empty((N, H), np.float32) for _ in range(L)] if "c" in kind.state else None
    low = {(layer, g): np.zeros(H, np.int64) for layer in range(L) for g in kind.sigmoid}
    high = {key: np.zeros(H, np.int64) for key in low}
    for w, rows, trace in _runs(model, ids, batch, chunk, warmup):
        for layer in range(L):
            lt = trace.layers[layer][0]
            for j, r in enumerate(rows):
                s, k = w.skip[r], w.keep[r]
                at = slice(w.starts[r] + s, w.starts[r] + s + k)
                h[layer][at] = lt.h[s : s + k, j]
                if c is not None:
                    c[layer][at] = lt.gates["c"][s : s + k, j]
                for g in kind.sigmoid:
                    v = lt.gates[g][s : s + k, j]
                    low[(layer, g)] += (v < LOW).sum(axis=0)
                    high[(layer, g)] += (v > HIGH).sum(axis=0)
    for arr in (*h, *(c or ())):
        arr.flags.writeable = False
    return States(text, ids, missing, model.spec.kind, tuple(h), None if c is None else tuple(c), low, high,
                  chunk, warmup)


# ---------------------------------------------------------------------------------------------- sampling


def sample(
    model: Model, prompt: str, length: int, temperature: float = 1.0, seed: int = 0, greedy: bool = False
) -> str:
    """``length`` characters the model writes after ``prompt`` (not included), drawn from softmax(logits /
    temperature) with NumPy's Generator seeded by ``seed``, or the likeliest each time when ``greedy``; the unknown
    token is never written. An empty prompt starts from a newline (the model read one before every file's text)."""
    if not greedy and not temperature > 0:
        raise CharError("the temperature must be above 0 (or choose greedy)")
    if length < 0:
        raise CharError("the length must be 0 or more")
    vocab = _vocabulary(model)
    ids, _ = ids_of(model, prompt or "\n")
    rng = np.random.default_rng(seed)
    banned = np.array([t == UNKNOWN for t in vocab])
    trace = model.run_tokens(ids)
    out: list[str] = []
    lstm = "c" in KIND[model.spec.kind].state
    for _ in range(length):
        scores = model.logits(trace)[-1].copy()
        scores[banned] = -np.inf
        if greedy:
            nxt = int(np.argmax(scores))
        else:
            p = np.exp(log_softmax(scores / temperature))
            nxt = int(rng.choice(len(p), p=p / p.sum()))
        out.append(vocab[nxt])
        h0 = (trace.h_n, trace.c_n) if lstm else trace.h_n
        trace = model.run_tokens(np.array([nxt]), h0=h0)
    return "".join(out)
