"""The Real text page's words: what a character model predicts, which of its units follow which feature of the text,
how saturated its gates are, how many bits per character it needs, and what pattern search found. Every sentence is
a claim checked against the numbers.

A :class:`~gru_viz.explain.claims.Context` of this page carries, in ``values``:

- ``kind``: the model's kind ("gru", "lstm", "rnn"); ``spec``: its Spec (for what keeps its state);
- ``found``: the model's list of :class:`gru_viz.core.units.Found`, and ``units``: how many units they were chosen
  among;
- ``saturation``: :func:`gru_viz.core.units.saturation`'s dict for the model;
- ``bpc``: kind → bits per character on the validation text, and ``chars``: its length; ``windows``: (chunk, warmup);
- ``reading``: the :class:`gru_viz.core.charlm.Reading` on screen, and ``t``: the character at the cursor;
- ``pattern``: a :class:`Pattern` (the selection, its units and matches).

NumPy and the core only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.charlm import Reading
from ..core.kinds import KIND, some_kinds
from ..core.sources import ATTRIBUTIONS
from ..core.text_features import FEATURE, TOKENIZE, scan
from ..core.tokens import UNKNOWN
from ..core.units import MIN_LENGTH, MODERATE, STRONG, WEAK, Found, Match, PatternIndex, strength
from . import claims
from .claims import KINDS, Context, Sentence

CLAIMS = claims.Book()  # this module's claims, collected with the others in gru_viz.explain.registry
claim = CLAIMS.claim
MOST = 0.5  # a unit "is saturated more than half the time" above this fraction


def say(key: str, **values: object) -> Sentence:
    """The sentence of this page's claim ``key`` with ``values`` in its slots."""
    return CLAIMS.say(key, **values)


def _want(ok: bool, why: str) -> list[str]:
    return [] if ok else [why]


def _fmt(kind: str, value: object) -> str:
    return KINDS[kind][1](value)


def char_label(ch: str) -> str:
    """A character as the words show it: “a”, or its name when it cannot be seen (“newline”, “space”, “tab”); the
    unknown token in words (as "<unk>" a page would read it as an HTML tag)."""
    if ch == UNKNOWN:
        return "the unknown token"
    names = {"\n": "newline", " ": "space", "\t": "tab", "\r": "carriage return"}
    return f"“{names[ch]}”" if ch in names else f"“{ch}”"


def model_name(kind: str) -> str:
    """The model's name for people: GRU, LSTM, vanilla RNN."""
    return KIND[kind].name


# ------------------------------------------------------------------------------------------- prediction


@claim("text.next", "After {char:text}, the model's likeliest next character is {top:text}, with probability "
                    "{p:prob}.", step_numbers=False)
def _next(ctx: Context, s: dict[str, str]) -> list[str]:
    rd: Reading = ctx.values["reading"]
    t = ctx.values["t"]
    (tok, p), = rd.top(t, 1)
    return (_want(s["char"] == char_label(rd.text[t]), f"character {t} is {rd.text[t]!r}")
            + _want(s["top"] == char_label(tok) and s["p"] == _fmt("prob", p), f"the likeliest is {tok!r} ({p:.4f})"))


@claim("text.came", "The character that came next, {char:text}, had probability {p:prob}.", step_numbers=False)
def _came(ctx: Context, s: dict[str, str]) -> list[str]:
    rd: Reading = ctx.values["reading"]
    t = ctx.values["t"]
    if t + 1 >= len(rd.text):
        return ["no character follows the last one"]
    p = rd.probs[t, rd.ids[t + 1]]
    return _want(s["char"] == char_label(rd.text[t + 1]) and s["p"] == _fmt("prob", p),
                 f"the next is {rd.text[t + 1]!r} with {p:.4f}")


def next_sentences(reading: Reading, t: int) -> list[Sentence]:
    """What the model expects after character ``t``, and how likely it found the character that came."""
    (tok, p), = reading.top(t, 1)
    out = [say("text.next", char=char_label(reading.text[t]), top=char_label(tok), p=p)]
    if t + 1 < len(reading.text):
        out.append(say("text.came", char=char_label(reading.text[t + 1]), p=reading.probs[t, reading.ids[t + 1]]))
    return out


@claim("text.unknown", "{n:int} of the {total:int} characters are not among the {v:int} the model knows, and were "
                       "read as its unknown token: {chars:text}.", step_numbers=False)
def _unknown(ctx: Context, s: dict[str, str]) -> list[str]:
    rd: Reading = ctx.values["reading"]
    return (_want(int(s["n"]) == len(rd.unknown) > 0, f"{len(rd.unknown)} characters are unknown")
            + _want(int(s["total"]) == len(rd.text), f"the text has {len(rd.text)} characters")
            + _want(int(s["v"]) == len(rd.vocabulary) - 1, f"the model knows {len(rd.vocabulary) - 1}")
            + _want(s["chars"] == chars_text(rd), "the unknown characters differ"))


def chars_text(reading: Reading, most: int = 8) -> str:
    """The distinct unknown characters of a reading, in order of first appearance, at most ``most`` shown."""
    seen = list(dict.fromkeys(reading.text[i] for i in reading.unknown))
    shown = ", ".join(char_label(ch) for ch in seen[:most])
    return shown + (f" and {len(seen) - most} more" if len(seen) > most else "")


def unknown_sentence(reading: Reading) -> Sentence | None:
    """How many characters the model did not know (None when it knew them all)."""
    if not reading.unknown:
        return None
    return say("text.unknown", n=len(reading.unknown), total=len(reading.text), v=len(reading.vocabulary) - 1,
               chars=chars_text(reading))


@claim("text.scan.tokenize", "Strings, docstrings and comments in this text are found by Python's own tokenizer.",
       step_numbers=False)
def _scan_tokenize(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(scan(ctx.values["reading"].text).method == TOKENIZE, "the text does not tokenize")


@claim("text.scan.simple", "This text does not tokenize as Python, so its strings, docstrings and comments are found "
                           "by a simple scanner (quotes, triple quotes and # only).", step_numbers=False)
def _scan_simple(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(scan(ctx.values["reading"].text).method != TOKENIZE, "the text tokenizes")


def scan_sentence(text: str) -> Sentence:
    """How the text's strings, docstrings and comments were found (core/text_features.scan)."""
    return say("text.scan.tokenize" if scan(text).method == TOKENIZE else "text.scan.simple")


# ------------------------------------------------------------------------------------------- units found


def _found(ctx: Context, feature: str) -> Found:
    for f in ctx.values["found"]:
        if f.feature == feature:
            return f
    raise LookupError(f"no unit found for {feature!r}")


def _feature_key(label: str) -> str:
    for key, feat in FEATURE.items():
        if feat.label == label:
            return key
    raise LookupError(f"no feature is called {label!r}")


@claim("text.unit", "Unit {unit:int} of layer {layer:int}'s {which:word} follows “{feature:word}”: r = {r:num2} on "
                    "the held-out half of the text ({chars:int} characters), {strength:word} by our scale.",
       step_numbers=False)
def _unit(ctx: Context, s: dict[str, str]) -> list[str]:
    f = _found(ctx, _feature_key(s["feature"]))
    return (_want(f.named, "the evidence is below the scale's weak")
            + _want((int(s["unit"]), int(s["layer"]), s["which"]) == (f.unit, f.layer, f.which),
                    f"it is unit {f.unit} of layer {f.layer}'s {f.which}")
            + _want(s["r"] == _fmt("num2", f.r) and int(s["chars"]) == f.chars, f"r = {f.r:.3f} over {f.chars}")
            + _want(s["strength"] == f.strength, f"by the scale it is {f.strength}"))


@claim("text.unit.none", "No unit follows “{feature:word}”: the best on the first half, unit {unit:int} of layer "
                         "{layer:int}'s {which:word}, reaches r = {r:num2} on the held-out half, short of our weak "
                         "{weak:num2}.", step_numbers=False)
def _unit_none(ctx: Context, s: dict[str, str]) -> list[str]:
    f = _found(ctx, _feature_key(s["feature"]))
    return (_want(not f.named and np.isfinite(f.r), "a unit is named for it")
            + _want((int(s["unit"]), int(s["layer"]), s["which"]) == (f.unit, f.layer, f.which),
                    f"the best is unit {f.unit} of layer {f.layer}'s {f.which}")
            + _want(s["r"] == _fmt("num2", f.r), f"r = {f.r:.3f}") + _want(s["weak"] == _fmt("num2", WEAK), "weak"))


@claim("text.unit.flat", "No unit can follow “{feature:word}”: it does not vary over the first half of the text.",
       step_numbers=False)
def _unit_flat(ctx: Context, s: dict[str, str]) -> list[str]:
    f = _found(ctx, _feature_key(s["feature"]))
    return _want(not np.isfinite(f.r_select), "the feature varies")


@claim("text.heldout", "Each unit is chosen on the first half of the text and its r measured on the second half, "
                       "which it was not chosen on: the best of {units:int} units on the same half would flatter it.",
       step_numbers=False)
def _heldout(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(int(s["units"]) == ctx.values["units"], f"they were chosen among {ctx.values['units']} units")


@claim("text.scale", "Our scale for |r| on held-out text: {strong:num2} or more is strong, {moderate:num2} moderate, "
                     "{weak:num2} weak, and below that no unit is named.", step_numbers=False)
def _scale(ctx: Context, s: dict[str, str]) -> list[str]:
    want = [_fmt("num2", v) for v in (STRONG, MODERATE, WEAK)]
    return _want([s["strong"], s["moderate"], s["weak"]] == want, f"the scale is {want}")


def unit_count(spec: object) -> int:
    """How many units find_units chooses among: every layer's h, and an LSTM's c too."""
    return spec.num_layers * spec.hidden_size * len(KIND[spec.kind].state)


def found_sentences(found: list[Found], units: int) -> list[Sentence]:
    """The scale, the held-out rule, then one sentence per feature: its unit, or that none follows it."""
    out = [say("text.scale", strong=STRONG, moderate=MODERATE, weak=WEAK), say("text.heldout", units=units)]
    for f in found:
        label = FEATURE[f.feature].label
        if not np.isfinite(f.r_select):
            out.append(say("text.unit.flat", feature=label))
        elif f.named:
            out.append(say("text.unit", unit=f.unit, layer=f.layer, which=f.which, feature=label, r=f.r,
                           chars=f.chars, strength=f.strength))
        else:
            out.append(say("text.unit.none", feature=label, unit=f.unit, layer=f.layer, which=f.which,
                           r=0.0 if not np.isfinite(f.r) else f.r, weak=WEAK))
    return out


# ---------------------------------------------------------------------------------------------- saturation


def saturated_counts(left: np.ndarray, right: np.ndarray) -> tuple[int, int]:
    """How many units are left-saturated, and how many right-saturated, more than half the time."""
    return int((left > MOST).sum()), int((right > MOST).sum())


def _gate(ctx: Context, layer: int, gate: str) -> tuple[np.ndarray, np.ndarray]:
    return ctx.values["saturation"][(layer, gate)]


@claim("text.sat", "Layer {layer:int}'s {gate:word} ({units:int} units): {right:int} are above 0.9 more than half "
                   "the time, {left:int} below 0.1 more than half the time.", step_numbers=False)
def _sat(ctx: Context, s: dict[str, str]) -> list[str]:
    gate = s["gate"].split()[-1]
    left, right = _gate(ctx, int(s["layer"]), gate)
    nl, nr = saturated_counts(left, right)
    return (_want(s["gate"] == _gate_name(gate), f"the gate is {_gate_name(gate)}")
            + _want(int(s["units"]) == len(left), f"{len(left)} units")
            + _want((int(s["right"]), int(s["left"])) == (nr, nl), f"{nr} right-, {nl} left-saturated"))


@claim("text.sat.mean", "On average a unit of layer {layer:int}'s {gate:word} is below 0.1 {left:pct} of the time "
                        "and above 0.9 {right:pct} of the time.", step_numbers=False)
def _sat_mean(ctx: Context, s: dict[str, str]) -> list[str]:
    gate = s["gate"].split()[-1]
    left, right = _gate(ctx, int(s["layer"]), gate)
    a, b = float(left.mean()), float(right.mean())
    return (_want(all(0.005 <= v <= 0.995 for v in (a, b)), "a share rounds to 0% or 100%")
            + _want((s["left"], s["right"]) == (_fmt("pct", a), _fmt("pct", b)), f"{a:.3f} and {b:.3f}"))


@claim("text.sat.keep", "Most of layer {layer:int}'s {gate:word} units ({n:int} of {units:int}) are {side:word} more "
                        "than half the time: there, they keep their {state:word} almost unchanged.",
       step_numbers=False)
def _sat_keep(ctx: Context, s: dict[str, str]) -> list[str]:
    return _sat_side(ctx, s, keeps=True)


def _sat_side(ctx: Context, s: dict[str, str], keeps: bool) -> list[str]:
    """The check of text.sat.keep (``keeps``) and text.sat.write: most of a layer's keeping gate on one side."""
    spec = ctx.values["spec"]
    keep = KIND[spec.kind].keep(spec)
    if keep is None:
        return ["this kind has no gate that keeps its state"]
    left, right = _gate(ctx, int(s["layer"]), keep.gate)
    high = (keep.sign > 0) == keeps  # the side that keeps the old state, or the one that lets it go
    n = saturated_counts(left, right)[1 if high else 0]
    side = "above 0.9" if high else "below 0.1"
    state = {"h": "hidden state h", "c": "cell state c"}[keep.of]
    return (_want(s["gate"] == _gate_name(keep.gate) and s["side"] == side and s["state"] == state,
                  f"{keep.gate} {side} {'keeps' if keeps else 'replaces'} {state}")
            + _want(int(s["n"]) == n and int(s["units"]) == len(left) and n > len(left) / 2,
                    f"{n} of {len(left)} units"))


@claim("text.sat.write", "Most of layer {layer:int}'s {gate:word} units ({n:int} of {units:int}) are {side:word} "
                         "more than half the time: there, they let the new values all but replace their {state:word}.",
       step_numbers=False)
def _sat_write(ctx: Context, s: dict[str, str]) -> list[str]:
    return _sat_side(ctx, s, keeps=False)


@claim("text.sat.none", "A {model:word} has no gates, so nothing to saturate: every character rewrites its h through "
                        "tanh.", step_numbers=False)
def _sat_none(ctx: Context, s: dict[str, str]) -> list[str]:
    kind = ctx.values["kind"]
    return _want(s["model"] == model_name(kind) and not KIND[kind].sigmoid, f"a {model_name(kind)} has gates")


def _gate_name(gate: str) -> str:
    return f"{claims.GATE_NAMES[gate]} {gate}"


def saturation_sentences(spec: object, sat: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]) -> list[Sentence]:
    """Per layer and gate, how many units are saturated; the mean shares when neither rounds to 0% or 100%; and
    what the keeping gate does when most of its units keep, or most let the old state go. A kind without gates says
    so."""
    kind = KIND[spec.kind]
    if not kind.sigmoid:
        return [say("text.sat.none", model=kind.name)]
    out = []
    keep = kind.keep(spec)
    for (layer, gate), (left, right) in sat.items():
        nl, nr = saturated_counts(left, right)
        out.append(say("text.sat", layer=layer, gate=_gate_name(gate), units=len(left), right=nr, left=nl))
        a, b = float(left.mean()), float(right.mean())
        if all(0.005 <= v <= 0.995 for v in (a, b)):
            out.append(say("text.sat.mean", layer=layer, gate=_gate_name(gate), left=a, right=b))
        if keep is not None and gate == keep.gate:
            n = nr if keep.sign > 0 else nl
            state = {"h": "hidden state h", "c": "cell state c"}[keep.of]
            if n > len(left) / 2:
                out.append(say("text.sat.keep", layer=layer, gate=_gate_name(gate), n=n, units=len(left),
                               side="above 0.9" if keep.sign > 0 else "below 0.1", state=state))
            n = nl if keep.sign > 0 else nr
            if n > len(left) / 2:
                out.append(say("text.sat.write", layer=layer, gate=_gate_name(gate), n=n, units=len(left),
                               side="below 0.1" if keep.sign > 0 else "above 0.9", state=state))
    return out



# -------------------------------------------------------------------------------------- bits per character


@claim("text.bpc", "On the validation text ({chars:int} characters) the {model:word} needs {bpc:num2} bits per "
                   "character.", step_numbers=False)
def _bpc(ctx: Context, s: dict[str, str]) -> list[str]:
    kind = next((k for k in ctx.values["bpc"] if model_name(k) == s["model"]), None)
    if kind is None:
        return [f"no bits per character for the {s['model']}"]
    b = ctx.values["bpc"][kind]
    return (_want(s["bpc"] == _fmt("num2", b), f"it needs {b:.3f}")
            + _want(int(s["chars"]) == ctx.values["chars"], f"the text has {ctx.values['chars']} characters"))


# Karpathy et al.'s comparison, by nature about these three: the two gated cells and the plain one
COMPARED = some_kinds("explain.charlm.compared", {"gru": "gated", "lstm": "gated", "rnn": "plain"})


def _gaps(bpc: dict[str, float]) -> tuple[float, float]:
    """(|GRU − LSTM|, how far the RNN is behind the better of the two), in bits per character."""
    (a, b), (c,) = ([bpc[k] for k, role in COMPARED.items() if role == r] for r in ("gated", "plain"))
    return abs(a - b), c - min(a, b)


@claim("text.bpc.paper", "{who:text} found LSTM and GRU close to each other and both well ahead of a vanilla RNN. "
                         "Here the GRU and the LSTM are {gap:num2} bits per character apart, and the vanilla RNN is "
                         "{behind:num2} behind the better of the two.", step_numbers=False)
def _bpc_paper(ctx: Context, s: dict[str, str]) -> list[str]:
    gap, behind = _gaps(ctx.values["bpc"])
    return (_want(s["who"] == ATTRIBUTIONS["karpathy"].who, "the finding is theirs")
            + _want((s["gap"], s["behind"]) == (_fmt("num2", gap), _fmt("num2", behind)),
                    f"{gap:.3f} apart, {behind:.3f} behind"))


@claim("text.bpc.same", "So it is here too: the two gated cells are closer to each other than the better of them is "
                        "to the vanilla RNN.", step_numbers=False)
def _bpc_same(ctx: Context, s: dict[str, str]) -> list[str]:
    gap, behind = _gaps(ctx.values["bpc"])
    return _want(behind > gap, "the RNN is not further behind than the two are apart")


@claim("text.bpc.differs", "Not so here: the vanilla RNN is no further behind the better gated cell than the two "
                           "gated cells are from each other.", step_numbers=False)
def _bpc_differs(ctx: Context, s: dict[str, str]) -> list[str]:
    gap, behind = _gaps(ctx.values["bpc"])
    return _want(behind <= gap, "the RNN is further behind than the two are apart")


@claim("text.windows", "The text is read in windows of {chunk:int} characters run side by side, each from a zero "
                       "state {warmup:int} characters before its first: what a state held from further back is "
                       "forgotten at each window's start.", step_numbers=False)
def _windows(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want((int(s["chunk"]), int(s["warmup"])) == tuple(ctx.values["windows"]),
                 f"windows of {ctx.values['windows']}")


def bpc_sentences(bpc: dict[str, float], chars: int, chunk: int, warmup: int) -> list[Sentence]:
    """Each model's bits per character, how they were read, and the comparison beside Karpathy et al.'s finding
    (when all three of GRU, LSTM and RNN are given)."""
    out = [say("text.windows", chunk=chunk, warmup=warmup)]
    out += [say("text.bpc", chars=chars, model=model_name(k), bpc=b) for k, b in bpc.items()]
    if set(COMPARED) <= set(bpc):
        gap, behind = _gaps(bpc)
        out.append(say("text.bpc.paper", who=ATTRIBUTIONS["karpathy"].who, gap=gap, behind=behind))
        out.append(say("text.bpc.same" if behind > gap else "text.bpc.differs"))
    return out


# ------------------------------------------------------------------------------------------ pattern search


@dataclass(frozen=True)
class Pattern:
    """One pattern search: the selected span of the index's text, the threshold, the units picked and the matches."""

    index: PatternIndex
    layer: int
    start: int
    end: int
    threshold: float
    units: np.ndarray
    matches: tuple[Match, ...]

    @property
    def full(self) -> int:
        """How many matches, besides the selection's own run, have every picked unit on."""
        n = len(self.units)
        return sum(m.shared == n and not (m.start < self.end and self.start < m.end) for m in self.matches)


def search(index: PatternIndex, layer: int, start: int, end: int, threshold: float) -> Pattern:
    """Select the span and match its units (LSTMVis's select and match, core/units.PatternIndex)."""
    units = index.select(start, end, threshold)
    return Pattern(index, layer, start, end, threshold, units, tuple(index.matches(units, threshold)))


@claim("text.pattern", "Across characters {start:int} to {end:int}, {n:int} units of layer {layer:int} are on (h ≥ "
                       "{th:num2}) and off on either side.", step_numbers=False)
def _pattern(ctx: Context, s: dict[str, str]) -> list[str]:
    p: Pattern = ctx.values["pattern"]
    units = p.index.select(p.start, p.end, p.threshold)
    return _span(p, s) + _want(int(s["n"]) == len(units) > 1, f"{len(units)} units")


def _span(p: Pattern, s: dict[str, str]) -> list[str]:
    """The selection's span, layer and threshold as a pattern sentence says them."""
    return (_want((int(s["start"]), int(s["end"]), int(s["layer"])) == (p.start, p.end - 1, p.layer), "the span")
            + _want(s["th"] == _fmt("num2", p.threshold), f"the threshold is {p.threshold}"))


@claim("text.pattern.none", "No unit of layer {layer:int} is on (h ≥ {th:num2}) across the whole selection and off "
                            "on either side: select a shorter span or lower the threshold.", step_numbers=False)
def _pattern_none(ctx: Context, s: dict[str, str]) -> list[str]:
    p: Pattern = ctx.values["pattern"]
    units = p.index.select(p.start, p.end, p.threshold)
    return (_want(int(s["layer"]) == p.layer and s["th"] == _fmt("num2", p.threshold), "layer and threshold")
            + _want(len(units) == 0, f"{len(units)} units are"))


@claim("text.pattern.found", "Listed: the best {k:int} of the places where they are on together; in {full:int} of "
                             "those, besides the selection itself, all {n:int} are on for at least {min:int} "
                             "characters.", step_numbers=False)
def _pattern_found(ctx: Context, s: dict[str, str]) -> list[str]:
    p: Pattern = ctx.values["pattern"]
    return _want((int(s["k"]), int(s["full"]), int(s["n"]), int(s["min"])) == (len(p.matches), p.full,
                                                                                len(p.units), MIN_LENGTH)
                 and len(p.units) > 1,
                 f"{len(p.matches)} listed, {p.full} with all {len(p.units)}")


@claim("text.pattern.one", "Across characters {start:int} to {end:int}, one unit of layer {layer:int}, unit "
                           "{unit:int}, is on (h ≥ {th:num2}) and off on either side.", step_numbers=False)
def _pattern_one(ctx: Context, s: dict[str, str]) -> list[str]:
    p: Pattern = ctx.values["pattern"]
    units = [int(u) for u in p.index.select(p.start, p.end, p.threshold)]
    return _span(p, s) + _want(units == [int(s["unit"])], f"the units on are {units}")


@claim("text.pattern.found.one", "Listed: the best {k:int} of the places where it is on; in {full:int} of those, "
                                 "besides the selection itself, it is on for at least {min:int} characters.",
       step_numbers=False)
def _pattern_found_one(ctx: Context, s: dict[str, str]) -> list[str]:
    p: Pattern = ctx.values["pattern"]
    return _want((int(s["k"]), int(s["full"]), len(p.units), int(s["min"])) == (len(p.matches), p.full, 1,
                                                                                 MIN_LENGTH),
                 f"{len(p.matches)} listed, {p.full} with all {len(p.units)}")


def pattern_sentences(p: Pattern) -> list[Sentence]:
    """What the selection picked, and what the search found."""
    if len(p.units) == 0:
        return [say("text.pattern.none", layer=p.layer, th=p.threshold)]
    if len(p.units) == 1:  # one unit: said in the singular
        return [say("text.pattern.one", start=p.start, end=p.end - 1, layer=p.layer, unit=int(p.units[0]),
                    th=p.threshold),
                say("text.pattern.found.one", k=len(p.matches), full=p.full, min=MIN_LENGTH)]
    return [say("text.pattern", start=p.start, end=p.end - 1, n=len(p.units), layer=p.layer, th=p.threshold),
            say("text.pattern.found", k=len(p.matches), full=p.full, n=len(p.units), min=MIN_LENGTH)]


__all__ = ["CLAIMS", "Pattern", "bpc_sentences", "char_label", "found_sentences", "model_name", "next_sentences",
           "pattern_sentences", "saturation_sentences", "scan_sentence", "search", "strength", "unit_count",
           "unknown_sentence"]
