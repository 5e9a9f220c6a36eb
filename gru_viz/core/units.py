"""What single units of a character model do over a long text: the unit that follows each feature of the text, how
saturated each gate is, and LSTMVis's pattern search.

- :func:`find_units`: for each feature of :mod:`gru_viz.core.text_features`, the unit (any layer; h, or an
  LSTM's c) whose activation correlates best with it. With hundreds of units, the best of them correlates a little
  with anything by chance, so the unit is *selected* on the text's first half and its r *reported* on the second,
  held-out half; a unit is named for a feature only when that held-out |r| reaches WEAK on the scale below, with
  the same sign as on the first half.
- :func:`saturation`: the fraction of characters each gate unit spends below LOW (left-saturated) and above HIGH
  (right-saturated), as in Karpathy, Johnson & Fei-Fei 2015, Figure 3.
- :class:`PatternIndex`: Strobelt et al.'s LSTMVis (2018) select and match, on one layer's h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .charlm import HIGH, LOW, CharError, States, states
from .kinds import KIND
from .model import Model
from .text_features import FEATURES, Feature
from .trace import Trace

# |r| at or above which a correlation is called strong, moderate, weak (below WEAK: none); the Encoder–decoder
# page uses the same scale (io/seq2seq.py reads it from here)
STRONG, MODERATE, WEAK = 0.7, 0.4, 0.2


def strength(r: float) -> str:
    """A word for the size of a correlation, by the thresholds STRONG, MODERATE, WEAK on |r| (NaN: none)."""
    a = abs(r) if np.isfinite(r) else 0.0
    return "strong" if a >= STRONG else "moderate" if a >= MODERATE else "weak" if a >= WEAK else "none"


def correlations(values: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``values`` (N, H) with ``feature`` (N,); NaN where either has no variation."""
    v = np.asarray(values, dtype=np.float64)
    f = np.asarray(feature, dtype=np.float64)
    # the values' own size, before the mean is taken off (a constant column's deviations are round-off of it)
    scale = np.abs(v).max(axis=0) if len(v) else np.zeros(v.shape[1])
    v = v - v.mean(axis=0)
    f = f - f.mean()
    vv = np.sqrt((v * v).sum(axis=0))
    ff = float(np.sqrt((f * f).sum()))
    # "no variation": exactly constant, or varying only by float round-off of its own size
    flat = vv <= 1e-12 * np.maximum(scale, 1e-300) * np.sqrt(max(len(v), 1))
    den = vv * ff
    out = np.full(v.shape[1], np.nan)
    if ff > 0:
        ok = ~flat & (den > 0)
        out[ok] = np.clip((f @ v[:, ok]) / den[ok], -1.0, 1.0)
    return out


@dataclass(frozen=True)
class Found:
    """The unit of one model that follows one feature best: selected on one half of the text, checked on the other."""

    feature: str  # a key of text_features.FEATURES
    kind: str
    layer: int
    unit: int
    which: str  # "h", or "c" for an LSTM's cell state
    r_select: float  # its r on the half it was selected on
    r: float  # its r on the held-out half: what the words report
    chars: int  # characters of the held-out half

    @property
    def strength(self) -> str:
        """strong, moderate, weak or none, from the held-out r; none when its sign is not the one selected."""
        if not (np.isfinite(self.r) and np.sign(self.r) == np.sign(self.r_select)):
            return "none"
        return strength(self.r)

    @property
    def named(self) -> bool:
        """Whether the evidence is enough to name the unit for the feature (at least weak, held out)."""
        return self.strength != "none"


def split_point(text: str) -> int:
    """Where the text is cut into its selection half and its held-out half: the first line start at or after the
    middle (the middle itself if no newline follows it)."""
    mid = len(text) // 2
    nl = text.find("\n", mid)
    return mid if nl < 0 or nl + 1 >= len(text) else nl + 1


def find_units(
    model: Model, text: str, *, read: States | None = None, features: tuple[Feature, ...] = FEATURES
) -> list[Found]:
    """For each feature, the unit (layer, index, h or c) whose activation correlates best (|r|) on the text's first
    half, and its r on the held-out second half (``read``: the model's :func:`~gru_viz.core.charlm.states` over
    ``text``, when already made)."""
    st = read if read is not None else states(model, text)
    if st.text != text:
        raise CharError("the states were read from another text")
    cut = split_point(text)
    if cut < 2 or len(text) - cut < 2:
        raise CharError("the text is too short to select a unit on one half and check it on the other")
    kinds = ("h", "c") if st.c is not None else ("h",)
    blocks = [(layer, which) for layer in range(len(st.h)) for which in kinds]
    out = []
    for feat in features:
        f = feat.values(text)
        best: tuple[float, int, str, int, float] | None = None
        for layer, which in blocks:
            r = correlations(st.values(layer, which)[:cut], f[:cut])
            if np.all(np.isnan(r)):
                continue
            u = int(np.nanargmax(np.abs(r)))
            if best is None or abs(r[u]) > abs(best[0]):
                best = (float(r[u]), layer, which, u, 0.0)
        if best is None:  # the feature does not vary on the selection half: no unit can follow it
            out.append(Found(feat.key, st.kind, 0, 0, "h", float("nan"), float("nan"), len(text) - cut))
            continue
        r_sel, layer, which, u, _ = best
        held = correlations(st.values(layer, which)[cut:, u : u + 1], f[cut:])[0]
        out.append(Found(feat.key, st.kind, layer, u, which, r_sel, float(held), len(text) - cut))
    return out


# ------------------------------------------------------------------------------------------- saturation


def saturation(source: Trace | States) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
    """(layer, gate) → (fraction of steps each unit's gate is below LOW, fraction above HIGH), each (H,), for the
    kind's σ gates (GRU r, z; LSTM i, f, o); empty for a kind without gates (a vanilla RNN). From a Trace, every
    step of every sequence counts; from :class:`~gru_viz.core.charlm.States`, every character of its text."""
    if isinstance(source, States):
        n = source.steps
        return {key: (source.low[key] / n, source.high[key] / n) for key in source.low}
    kind = KIND[source.spec.kind]
    out = {}
    for layer, row in enumerate(source.layers):
        for g in kind.sigmoid:
            v = row[0].gates[g].reshape(-1, row[0].gates[g].shape[-1])
            out[(layer, g)] = ((v < LOW).mean(axis=0), (v > HIGH).mean(axis=0))
    return out


# ------------------------------------------------------------------------------------------ pattern search

THRESHOLD = 0.3  # LSTMVis's default: a unit is "on" where h ≥ 0.3
RESULTS = 50  # LSTMVis lists the best 50 matches
MIN_LENGTH = 2  # a match is at least 2 characters long (LSTMVis's cut-off)


@dataclass(frozen=True)
class Match:
    """A place where the selected units do the same: characters start … end − 1, all of ``common`` on across it."""

    start: int
    end: int
    score: float  # |common ∩ selected| / |common ∪ selected| (Jaccard), 1 when exactly the selected units are on
    shared: int  # selected units on across the match
    extra: int  # units on across the match that were not selected


class PatternIndex:
    """LSTMVis's select and match over one layer's h on a long text, precomputed once (Strobelt et al. 2018).

    A unit is *on* at a character where h ≥ threshold. Selecting characters start … end − 1 picks the units that are
    on at every one of them and off at the ``before`` characters just before and the ``after`` just after (LSTMVis's
    select view). Matching finds the maximal runs of characters where all of those units are on (at least
    MIN_LENGTH long; where there are fewer than ``limit``, runs where all but one are, and so on), and ranks them by
    how many selected units are on across the run, then by how few others are, then by length (LSTMVis's match
    view's ranking).
    """

    def __init__(self, h: np.ndarray, text: str) -> None:
        if len(h) != len(text):
            raise CharError(f"the states have {len(h)} steps, the text {len(text)} characters")
        self.h = np.asarray(h, dtype=np.float32)
        self.text = text
        self._on: dict[float, np.ndarray] = {}

    def on(self, threshold: float = THRESHOLD) -> np.ndarray:
        """(N, H) bool: where each unit is on (h ≥ threshold); kept for the last few thresholds asked."""
        key = float(threshold)
        if key not in self._on:
            if len(self._on) >= 4:
                self._on.pop(next(iter(self._on)))
            self._on[key] = self.h >= np.float32(key)
        return self._on[key]

    def select(self, start: int, end: int, threshold: float = THRESHOLD, before: int = 1, after: int = 1
               ) -> np.ndarray:
        """The units on at every character start … end − 1 and off at the ``before`` just before and ``after`` just
        after (fewer at the text's ends)."""
        n = len(self.text)
        if not 0 <= start < end <= n:
            raise CharError(f"the selection {start}…{end} is not inside the text's 0…{n}")
        on = self.on(threshold)
        keep = on[start:end].all(axis=0)
        keep &= ~on[max(0, start - before) : start].any(axis=0)
        keep &= ~on[end : min(n, end + after)].any(axis=0)
        return np.flatnonzero(keep)

    def matches(self, units: np.ndarray, threshold: float = THRESHOLD, limit: int = RESULTS,
                min_length: int = MIN_LENGTH) -> list[Match]:
        """Other places where ``units`` are on together, best first (see the class docstring); empty for no units."""
        units = np.asarray(units, dtype=np.int64)
        if units.size == 0:
            return []
        on = self.on(threshold)
        count = on[:, units].sum(axis=1)
        seen: dict[tuple[int, int], None] = {}
        need = len(units)
        while need > 0 and len(seen) < 20 * limit:
            starts, ends = _runs(count >= need)
            for a, b in zip(starts, ends, strict=True):
                if b - a >= min_length:
                    seen.setdefault((int(a), int(b)), None)
            need -= 1
        picked = set(units.tolist())
        found = []
        for a, b in seen:
            common = np.flatnonzero(on[a:b].all(axis=0))
            shared = len(picked.intersection(common.tolist()))
            union = len(picked) + len(common) - shared
            found.append(Match(a, b, shared / union, shared, len(common) - shared))
        found.sort(key=lambda m: (-m.shared, m.extra, -(m.end - m.start), m.start))
        return found[:limit]


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the maximal runs of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)
