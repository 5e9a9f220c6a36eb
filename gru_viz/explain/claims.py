"""Claims: every sentence the app prints about what a gate does, as a template with the
predicate that must hold on the numbers it talks about.

A sentence is made with :func:`say` (the template filled in, every number rounded for people by its slot's
kind) and found again in any page text with :meth:`Book.find`; :meth:`Book.check_text` tests each sentence found
against a :class:`Context` — the run the page shows — so no caption can drift from the cell it describes. Templates
mark their slots ``{name:kind}``; a gate's phrase is written ``⟨z⟩`` (``⟨Z⟩`` at the start of a sentence) and
reads "the update gate z = 0.50" or, when the gate is clamped, "the update gate, clamped to z = 1,": every
clamp variant is declared, and the check demands that a clamped gate is named as clamped, and only then.

The generic cell claims (narration, ablation caption, Gradient flow's explainer, the home page's summary) live
here, in this module's :class:`Book`; lessons (:mod:`gru_viz.explain.lessons`) and trained models
(:mod:`gru_viz.explain.trained`) keep theirs in books of their own, and :mod:`gru_viz.explain.registry` collects
every book in one place (this module imports none of them). NumPy and the core only.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..core.kinds import KIND, per_kind
from ..core.model import Model
from ..core.trace import Ablation, LayerTrace, Trace

# ------------------------------------------------------------------------------------------------ numbers

MINUS = "\u2212"
_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_UNSUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _signed(text: str) -> str:
    return text.replace("-", MINUS)


def gate_text(value: float) -> str:
    """A gate for people: two decimals, more near 0 or 1 so that a saturated gate shows how close it came
    (z = 0.00005), and a plain 0 or 1 when it is there to within 10⁻⁶."""
    v = float(value)
    d = min(abs(v), abs(1.0 - v))
    if d >= 0.005:
        return _signed(f"{v:.2f}")
    if d < 5e-7:
        return _signed(f"{v:.0f}")
    decimals = min(6, max(3, math.ceil(-math.log10(d))))
    return _signed(f"{v:.{decimals}f}")


def state_text(value: float) -> str:
    """A state, candidate or input for people: three decimals (never −0.000), fewer when it is large."""
    v = float(value)
    if abs(v) < 5e-4:
        return "0.000"
    if abs(v) < 100:
        return _signed(f"{v:.3f}")
    if abs(v) < 1e4:
        return _signed(f"{v:.1f}")
    return _signed(f"{v:.0f}")


def pct_text(share: float) -> str:
    """A share as a whole percentage, kept inside 1–99% (0% and 100% are said in words instead)."""
    return f"{min(99, max(1, round(100 * float(share))))}%"


def prob_text(p: float) -> str:
    """A probability for people: one decimal, "over 99.9%" and "under 0.1%" at the ends (a softmax is never exactly
    1 or 0, so neither 100.0% nor 0.0% is written)."""
    v = 100 * float(p)
    if v >= 99.95:
        return "over 99.9%"
    if v < 0.05:
        return "under 0.1%"
    return f"{v:.1f}%"


def num2_text(value: float) -> str:
    """Two decimals (gate spans, sums)."""
    v = float(value)
    return "0.00" if abs(v) < 0.005 else _signed(f"{v:.2f}")


def sci_text(value: float) -> str:
    """A gradient norm: three digits in the middle range, else 1.2×10⁻⁵ (never 1.2e-05)."""
    v = float(value)
    if not math.isfinite(v):
        return "∞" if v > 0 else "not a number"
    if v == 0:
        return "0"
    if 0.01 <= abs(v) < 1000:
        return _signed(f"{v:.3g}")
    mantissa, _, exponent = f"{v:.1e}".partition("e")
    return f"{_signed(mantissa)}×10{str(int(exponent)).translate(_SUP)}"


def span_text(values: np.ndarray) -> str:
    """'min–max' of an array, two decimals each."""
    return f"{num2_text(np.min(values))}–{num2_text(np.max(values))}"


def parse_number(text: str) -> float:
    """A number as the sentences print it (typographic minus, 1.2×10⁻⁵, 83%) read back."""
    text = text.strip().replace(MINUS, "-")
    if text.endswith("%"):
        return float(text[:-1]) / 100
    if "×10" in text:
        mantissa, _, exponent = text.partition("×10")
        return float(mantissa) * 10 ** int(exponent.translate(_UNSUP))
    return float(text)


def decimals_of(text: str) -> int:
    """How many decimals a printed number carries (its rounding)."""
    text = text.replace(MINUS, "-")
    return len(text.partition(".")[2]) if "." in text and "×" not in text else 0


def state_label(letter: str, index: int) -> str:
    """h₂, c₋₁: a state at a step, with the step as a subscript."""
    return f"{letter}{str(index).translate(_SUB)}"


def previous_index(t: int, direction: int) -> int:
    """The step whose state step t starts from: t − 1 going forward, t + 1 for a reverse-direction layer."""
    return t - 1 if direction == 0 else t + 1


def previous_label(letter: str, t: int, direction: int, steps: int) -> str:
    """The previous state named for people: h₂ (forward, t = 3), h₄ (reverse), "h₋₁ (the initial state)"."""
    index = previous_index(t, direction)
    first = index < 0 if direction == 0 else index >= steps
    return state_label(letter, index) + (" (the initial state)" if first else "")


# -------------------------------------------------------------------------------------------------- slots

_NUM = rf"[{MINUS}-]?\d+(?:\.\d+)?"
KINDS: dict[str, tuple[str, Callable[[object], str]]] = {
    "int": (r"\d+", lambda v: str(int(v))),
    "gate": (_NUM, gate_text),
    "state": (_NUM, state_text),
    "num2": (_NUM, num2_text),
    "pct": (r"\d{1,3}%", pct_text),
    "prob": (r"(?:over |under )?\d{1,3}\.\d%", prob_text),
    "sci": (rf"[{MINUS}-]?\d(?:\.\d)?×10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+|{_NUM}|∞", sci_text),
    "span": (rf"{_NUM}–{_NUM}", lambda v: span_text(np.asarray(v))),
    "label": (r"[hcm][₋₀-₉]+(?: \(the initial state\))?", str),
    "word": (r"[^()\n]+?", str),
    "text": (r".+?", str),
}
NUMERIC = frozenset({"int", "gate", "state", "num2", "pct", "prob", "sci", "span"})
_SLOT = re.compile(r"\{(\w+):(\w+)\}")
_GATE_TOKEN = re.compile(r"⟨(\w)⟩")
GATE_NAMES = {"z": "update gate", "r": "reset gate", "f": "forget gate", "i": "input gate", "o": "output gate"}


def gate_phrase(gate: str, clamped: bool, capital: bool = False) -> str:
    """The template text of a gate's phrase: "the update gate z = {z:gate}" or its clamped form."""
    the = "The" if capital else "the"
    name = GATE_NAMES[gate]
    if clamped:
        return f"{the} {name}, clamped to {gate} = {{{gate}:gate}},"
    return f"{the} {name} {gate} = {{{gate}:gate}}"


# ---------------------------------------------------------------------------------------------- contexts


@dataclass
class Context:
    """What a page shows, for checking its sentences: the run, the step and unit, and what else it drew."""

    trace: Trace | None = None
    model: Model | None = None
    layer: int = 0
    direction: int = 0
    t: int | None = None
    unit: int | None = None
    labels: tuple[str, ...] | None = None  # how each step's input is shown
    free: Trace | None = None  # the same run without the clamps (an ablation's original)
    traces: Mapping[str, Trace] = field(default_factory=dict)  # a line-up: kind -> run
    models: Mapping[str, Model] = field(default_factory=dict)
    values: Mapping[str, object] = field(default_factory=dict)  # anything else, e.g. a trained model

    @property
    def lt(self) -> LayerTrace:
        """The layer trace the sentences talk about."""
        if self.trace is None:
            raise LookupError("no run to check against")
        return self.trace.layer(self.layer, self.direction)

    def where(self) -> tuple[int, int]:
        """(t, unit), which a step sentence needs."""
        if self.t is None or self.unit is None:
            raise LookupError("no step and unit to check against")
        return self.t, self.unit

    def at(self, name: str, t: int | None = None, unit: int | None = None) -> float:
        """A quantity of the run at a step and unit: h, h_prev, c_prev, a gate, hn, pre (an RNN's), tanh_c,
        fprime and iprime (minLSTM's f′ and i′)."""
        t0, u0 = self.where() if t is None or unit is None else (t, unit)
        t, unit = (t0 if t is None else t), (u0 if unit is None else unit)
        return float(quantity(self.lt, name)[t, 0, unit])


def quantity(lt: LayerTrace, name: str) -> np.ndarray:
    """A (T, B, H) array of a layer trace by the name the sentences use."""
    if name == "h":
        return lt.h
    if name == "h_prev":
        return lt.h_prev()
    if name == "c_prev":
        return lt.c_prev()
    if name == "hn":
        return lt.pre["hn"]
    if name == "pre":
        return lt.pre["h"]
    if name == "tanh_c":
        return np.tanh(lt.gates["c"])
    if name in PRIMES:
        return lt.gates[PRIMES[name]]
    return lt.gates[name]


PRIMES = {"fprime": "f'", "iprime": "i'"}  # slot names (a slot is a word) of minLSTM's f′ and i′
QUANTITIES = frozenset({"h", "h_prev", "c_prev", "hn", "pre", "tanh_c", "r", "z", "n", "i", "f", "g", "o", "c", "m",
                        *PRIMES})


# --------------------------------------------------------------------------------------------- registry

Check = Callable[[Context, dict[str, str]], list[str]]


@dataclass(frozen=True)
class Claim:
    """One sentence pattern and the predicate that must hold on the run whenever the app prints it."""

    key: str
    template: str  # slots {name:kind}, gate phrases already expanded
    check: Check
    clamped: frozenset[str] = frozenset()  # gates this variant names as clamped
    gates: tuple[str, ...] = ()  # gates whose phrase it contains
    step_numbers: bool = True  # numeric slots named like a quantity are the run's at (t, unit)

    @property
    def slots(self) -> dict[str, str]:
        """Slot name → kind."""
        return dict(_SLOT.findall(self.template))

    @property
    def regex(self) -> re.Pattern:
        """The template as a regular expression with one named group per slot."""
        return _compiled(self.template)


_CACHE: dict[str, re.Pattern] = {}


def _compiled(template: str) -> re.Pattern:
    if template not in _CACHE:
        parts, last = [], 0
        for m in _SLOT.finditer(template):
            parts.append(re.escape(template[last : m.start()]))
            parts.append(f"(?P<{m.group(1)}>{KINDS[m.group(2)][0]})")
            last = m.end()
        parts.append(re.escape(template[last:]))
        if template[-1:] in ".,;:":  # a sentence ends at its full stop, not at a decimal point inside a slot
            parts.append(r"(?=\s|$)")
        _CACHE[template] = re.compile("".join(parts))
    return _CACHE[template]


@dataclass(frozen=True)
class Sentence:
    """A sentence made from a claim: its text, the claim and the slot texts."""

    text: str
    key: str
    slots: dict[str, str]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Found:
    """A claim found in a text."""

    claim: Claim
    slots: dict[str, str]
    span: tuple[int, int]


class Book:
    """The claims one module makes, declared with :meth:`claim` into that module's own book (its ``CLAIMS``).

    Declaring registers nothing anywhere else: a book says its own sentences and those of the books it
    ``reads``, and :mod:`gru_viz.explain.registry` collects every module's book in one place."""

    def __init__(self, *reads: Book) -> None:
        self.claims: dict[str, Claim] = {}
        self.reads = reads  # the books whose sentences this module says too (a lesson says a trained model's)

    def claim(self, key: str, template: str, *, step_numbers: bool = True) -> Callable[[Check], Check]:
        """Declare ``template`` under ``key`` with the decorated check (and one variant per set of clamped gates)."""

        def declare(check: Check) -> Check:
            gates = tuple(dict.fromkeys(g.lower() for g in _GATE_TOKEN.findall(template)))
            for n in range(len(gates) + 1):
                for clamped in itertools.combinations(gates, n):
                    def phrase(m: re.Match, clamped: tuple[str, ...] = clamped) -> str:
                        return gate_phrase(m.group(1).lower(), m.group(1).lower() in clamped, m.group(1).isupper())

                    text = _GATE_TOKEN.sub(phrase, template)
                    name = key if not clamped else f"{key}[clamped {','.join(clamped)}]"
                    if name in self.claims:
                        raise ValueError(f"claim {name!r} is declared twice")
                    self.claims[name] = Claim(name, text, check, frozenset(clamped), gates, step_numbers)
            return check

        return declare

    def books(self) -> tuple[Book, ...]:
        """Every book this one reads, then itself, each once (the order :meth:`find` breaks a tie in)."""
        out: dict[int, Book] = {}

        def visit(book: Book) -> None:
            if id(book) not in out:
                for read in book.reads:
                    visit(read)
                out[id(book)] = book

        visit(self)
        return tuple(out.values())

    def visible(self) -> dict[str, Claim]:
        """Every claim this book can say or find: its own and its reads' (a key in two books is a bug)."""
        out: dict[str, Claim] = {}
        for book in self.books():
            for name, c in book.claims.items():
                if name in out:
                    raise ValueError(f"claim {name!r} is declared in two books")
                out[name] = c
        return out

    def lookup(self, name: str) -> Claim:
        """The claim ``name`` (a key, or a key with its clamp variant) from this book or one it reads."""
        for book in self.books():
            if name in book.claims:
                return book.claims[name]
        raise KeyError(name)

    def say(self, key: str, clamped: frozenset[str] | set[str] | tuple = frozenset(), **values: object) -> Sentence:
        """The sentence of claim ``key`` with ``values`` in its slots (numbers formatted by their slot's kind)."""
        clamped = frozenset(clamped)
        base = self.lookup(key)
        named = [g for g in base.gates if g in clamped]
        name = f"{key}[clamped {','.join(named)}]" if named else key
        c = self.lookup(name)
        slots = {}
        for slot, kind in c.slots.items():
            if slot not in values:
                raise KeyError(f"claim {name!r} needs a value for {slot!r}")
            slots[slot] = KINDS[kind][1](values[slot])
        text = _SLOT.sub(lambda m: slots[m.group(1)], c.template)
        if not c.regex.fullmatch(text):  # a value that its own pattern cannot read back is a bug here
            raise ValueError(f"claim {name!r} made a sentence its pattern does not match: {text!r}")
        return Sentence(text, name, slots)

    def find(self, text: str) -> list[Found]:
        """Every claim of this book (and its reads) in ``text`` (longest first where two would overlap)."""
        text = plain(text)
        hits = []
        for c in self.visible().values():
            for m in c.regex.finditer(text):
                hits.append(Found(c, {k: v for k, v in m.groupdict().items() if v is not None}, m.span()))
        hits.sort(key=lambda f: (f.span[0], -(f.span[1] - f.span[0])))
        out: list[Found] = []
        for f in hits:
            if out and f.span[0] < out[-1].span[1]:
                continue
            out.append(f)
        return out

    def check_text(self, text: str, ctx: Context) -> list[str]:
        """Every false claim in ``text``, each as "sentence: why" (empty when all hold)."""
        flat = plain(text)
        return [f"{flat[f.span[0]:f.span[1]]!r}: {'; '.join(p)}" for f in self.find(text) if (p := problems(f, ctx))]


# The generic cell claims, declared below: narration, the ablation caption, Gradient flow's explainer, the home page.
CLAIMS = Book()
claim = CLAIMS.claim  # this module's own claims are declared with it, below


def say(key: str, clamped: frozenset[str] | set[str] | tuple = frozenset(), **values: object) -> Sentence:
    """The sentence of generic claim ``key`` (this module's) with ``values`` in its slots."""
    return CLAIMS.say(key, clamped, **values)


_MARKUP = re.compile(r"</?[a-zA-Z][^<>]*>|\*\*|(?<![\w*\\])\*(?!\s)|(?<![\s\\])\*(?![\w*])|`|\\(?=[!-/:-@\[-`{-~])")


def plain(text: str) -> str:
    """Page text as a reader sees it: HTML tags, bold/italic markers, code ticks and escapes removed."""
    import html

    return html.unescape(_MARKUP.sub("", text)).replace("\u2060", "")  # and literal's word joiners


def problems(found: Found, ctx: Context) -> list[str]:
    """Why a found sentence is false for ``ctx`` (empty when it holds)."""
    c, slots = found.claim, found.slots
    out: list[str] = []
    try:
        if c.step_numbers:
            for slot, kind in c.slots.items():
                if slot in QUANTITIES and kind in ("gate", "state"):
                    want = KINDS[kind][1](ctx.at(slot))
                    if slots[slot] != want:
                        out.append(f"{slot} = {slots[slot]}, the run has {want}")
        if c.gates:
            lt = ctx.lt
            t, unit = ctx.where()
            for g in c.gates:
                mask = lt.clamped.get(g)
                is_clamped = bool(mask is not None and mask[t, 0, unit])
                if is_clamped != (g in c.clamped):
                    out.append(f"{g} is {'clamped' if is_clamped else 'free'} but the sentence says otherwise")
        out += c.check(ctx, slots)
    except (LookupError, KeyError, IndexError, ValueError) as exc:
        out.append(f"cannot be checked on this page's numbers: {exc!r}")
    return out


# ------------------------------------------------------------------------------------------- predicates


def _agrees(kind: str, text: str, value: float) -> bool:
    return text == KINDS[kind][1](value)


def _want(ok: bool, why: str) -> list[str]:
    return [] if ok else [why]


def _t(ctx: Context, slots: dict[str, str]) -> list[str]:
    return _want("t" not in slots or int(slots["t"]) == ctx.where()[0], f"t = {slots.get('t')}, the page is at "
                                                                          f"t = {ctx.t}")


def _prev(ctx: Context, slots: dict[str, str], slot: str = "prev", letter: str = "h") -> list[str]:
    t, _ = ctx.where()
    want = previous_label(letter, t, ctx.direction, ctx.lt.steps)
    return _want(slots[slot] == want, f"the previous state is {want}, not {slots[slot]}")


def role(lt: LayerTrace, t: int | None = None, unit: int | None = None) -> str:
    """What z weights in this run, read from its arithmetic: "keeps" if h = z·h_prev + (1 − z)·n, "takes" if
    h = (1 − z)·h_prev + z·n (checked where the two differ; at a given step and unit, or everywhere)."""
    z, n, h, hp = lt.gates["z"], lt.gates["n"], lt.h, lt.h_prev()
    if t is not None:
        z, n, h, hp = (a[t, 0, unit] for a in (z, n, h, hp))
    keeps_err = np.abs(h - (z * hp + (1 - z) * n))
    takes_err = np.abs(h - ((1 - z) * hp + z * n))
    tol = 1e-10 * (1 + np.abs(hp) + np.abs(n))
    differ = np.abs((2 * z - 1) * (hp - n)) > 1e3 * tol  # where keeping and taking give different states
    if not np.any(differ):
        return "either"
    if np.all(keeps_err[differ] <= tol[differ]):
        return "keeps"
    if np.all(takes_err[differ] <= tol[differ]):
        return "takes"
    return "neither"


def keep_share(lt: LayerTrace, t: int, unit: int) -> float:
    """The weight of the old state in h_t, from the run's own arithmetic (z or 1 − z by :func:`role`)."""
    z = float(lt.gates["z"][t, 0, unit])
    r = role(lt, t, unit)
    if r == "either":  # h_prev = n here: read the role from the whole run
        r = role(lt)
    return z if r == "keeps" else 1.0 - z


def keep_shares_all(lt: LayerTrace) -> np.ndarray:
    """Every step's and unit's keep share, (T, H), from the run's arithmetic."""
    z = lt.gates["z"][:, 0]
    return z if role(lt) == "keeps" else 1.0 - z


def normalised_share(lt: LayerTrace) -> np.ndarray:
    """minLSTM's share of the old state kept, f′, (T, B, H), once the run's own arithmetic shows it is that:
    f′ = f / (f + i) and h = f′ ⊙ h_prev + i′ ⊙ n with f′ + i′ = 1 (a ValueError where it is not)."""
    f, i, fp, ip, n, h, hp = (lt.gates["f"], lt.gates["i"], lt.gates["f'"], lt.gates["i'"], lt.gates["n"], lt.h,
                              lt.h_prev())
    tol = 1e-9 * (1 + np.abs(hp) + np.abs(n))
    # f′ · (f + i) = f rather than f′ = f / (f + i), which is 0 / 0 where both gates underflow; up to σ's own
    # round-off near 0 (about 10⁻¹⁶ absolute), which the core's f′, from log σ, does not share
    if not (np.all(np.abs(fp * (f + i) - f) <= 1e-9 * (f + i) + 1e-14) and np.all(np.abs(fp + ip - 1) <= 1e-12)
            and np.all(np.abs(h - (fp * hp + ip * n)) <= tol)):
        raise ValueError("this run's h is not f′ ⊙ h_prev + i′ ⊙ n with f′ = f / (f + i)")
    return fp


def _stays(lt: LayerTrace, t: int, unit: int) -> tuple[bool, bool]:
    """(h stays at h_prev, h moves to n) at a step: within 1% of the gap between the two."""
    h, hp, n = (float(a[t, 0, unit]) for a in (lt.h, lt.h_prev(), lt.gates["n"]))
    gap = abs(n - hp)
    return abs(h - hp) <= 0.01 * gap + 1e-12, abs(h - n) <= 0.01 * gap + 1e-12


# ------------------------------------------------------------------------------------- step narration

KEEP, REPLACE = 0.99, 0.01  # keep share at or above which a unit keeps its state, at or below which it replaces it


@claim("step.input", "At t = {t:int} the input is {x:text}.")
def _input(ctx: Context, s: dict[str, str]) -> list[str]:
    t, _ = ctx.where()
    if ctx.labels is None:
        raise LookupError("the page's step labels")
    return _t(ctx, s) + _want(s["x"] == ctx.labels[t], f"the input at t = {t} is {ctx.labels[t]}, not {s['x']}")


@claim("step.input-below", "At t = {t:int} this layer reads the output of layer {below:int}.")
def _input_below(ctx: Context, s: dict[str, str]) -> list[str]:
    return _t(ctx, s) + _want(ctx.layer > 0 and int(s["below"]) == ctx.layer - 1, "the layer below is "
                                                                                   f"{ctx.layer - 1}")


def _update(expect: str, z_role: str) -> Check:
    def check(ctx: Context, s: dict[str, str]) -> list[str]:
        lt, (t, unit) = ctx.lt, ctx.where()
        out = _prev(ctx, s)
        r = role(lt, t, unit)
        if r not in (z_role, "either"):
            out.append(f"the sentence reads z as what {z_role}, but this cell's z {r} (h = "
                       f"{'z·h + (1 − z)·n' if r == 'keeps' else '(1 − z)·h + z·n'})")
        k = keep_share(lt, t, unit)
        stays, moves = _stays(lt, t, unit)
        if expect == "keep":
            out += _want(k >= KEEP and stays, f"h does not stay at the old state (keep share {k:.4f})")
        elif expect == "replace":
            out += _want(k <= REPLACE and moves, f"h does not move to the candidate (keep share {k:.4f})")
        else:
            out += _want(REPLACE < k < KEEP, f"keep share {k:.4f} is not a blend")
            out += _want(_agrees("pct", s["keep"], k) and _agrees("pct", s["write"], 1 - k),
                         f"the shares are {pct_text(k)} and {pct_text(1 - k)}")
        return out

    return check


for _role, _phrases in {
    "keeps": {
        "keep": "⟨Z⟩ holds the old state, so the unit keeps its state: h = {h:state}, from {prev:label} = "
                "{h_prev:state}; the candidate n = {n:state} is left out.",
        "replace": "⟨Z⟩ lets go of the old state, so the unit replaces its state with the candidate n = {n:state}: "
                   "h = {h:state}, from {prev:label} = {h_prev:state}.",
        "blend": "⟨Z⟩ blends {keep:pct} of the old state {prev:label} = {h_prev:state} with {write:pct} of the "
                 "candidate n = {n:state}: h = {h:state}.",
    },
    "takes": {
        "keep": "⟨Z⟩ takes almost nothing from the candidate n = {n:state}, so the unit keeps its state: "
                "h = {h:state}, from {prev:label} = {h_prev:state}.",
        "replace": "⟨Z⟩ takes the candidate, so the unit replaces its state with n = {n:state}: h = {h:state}, "
                   "from {prev:label} = {h_prev:state}.",
        "blend": "⟨Z⟩ blends {write:pct} of the candidate n = {n:state} with {keep:pct} of the old state "
                 "{prev:label} = {h_prev:state}: h = {h:state}.",
    },
}.items():
    for _expect, _template in _phrases.items():
        claim(f"step.update.{_role}.{_expect}", _template)(_update(_expect, _role))


def _candidate_input(ctx: Context) -> tuple[float, np.ndarray]:
    """W_in x_t + b_in of the unit, and W_hn (r ⊙ h_prev) + b_hn of every unit, from the page's model."""
    if ctx.model is None:
        raise LookupError("the page's model")
    lt, (t, unit) = ctx.lt, ctx.where()
    p = ctx.model.layer_params(ctx.layer, ctx.direction)
    H = lt.h.shape[-1]
    x_in = float(p.w_ih[2 * H + unit] @ lt.x[t, 0] + p.b_ih[2 * H + unit])
    before = p.w_hh[2 * H :] @ (lt.gates["r"][t, 0] * lt.h_prev()[t, 0]) + p.b_hh[2 * H :]
    return x_in, before


def _reset(expect: str, after: bool) -> Check:
    def check(ctx: Context, s: dict[str, str]) -> list[str]:
        lt, (t, unit) = ctx.lt, ctx.where()
        r, hn, pre_n = ctx.at("r"), ctx.at("hn"), float(lt.pre["n"][t, 0, unit])
        x_in, before = _candidate_input(ctx)
        # where r acts, from the numbers: after, n's pre-activation is W_in x + b_in + r·(W_hn h + b_hn);
        # before, it is W_in x + b_in + W_hn (r ⊙ h) + b_hn
        if after:
            out = _want(abs(pre_n - (x_in + r * hn)) < 1e-9, "r does not scale W_hn h + b_hn in this cell")
        else:
            out = _want(abs(pre_n - (x_in + float(before[unit]))) < 1e-9 and abs(hn - float(before[unit])) < 1e-9,
                        "r does not act on h before W_hn in this cell")
        if expect == "shut":
            out += _want(r <= 0.05, f"r = {r:.4f} is not shut")
        elif expect == "open":
            out += _want(r >= 0.95, f"r = {r:.4f} is not open")
        else:
            out += _want(0.05 < r < 0.95 and _agrees("pct", s["share"], r), f"r = {r:.4f} is not {s.get('share')}")
        return out

    return check


for _after, _phrases in {
    True: {
        "shut": "⟨R⟩ shuts the old state out of the candidate: n reads the input alone.",
        "open": "⟨R⟩ lets the whole recurrent part W_hn h + b_hn = {hn:state} into the candidate.",
        "part": "⟨R⟩ lets {share:pct} of the recurrent part W_hn h + b_hn = {hn:state} into the candidate.",
    },
    False: {
        "shut": "⟨R⟩ hides this unit's old state from the candidates (reset before the product): they read the "
                "input and the other units.",
        "open": "⟨R⟩ passes this unit's whole old state into the candidates, before the product W_hn (r ⊙ h).",
        "part": "⟨R⟩ passes {share:pct} of this unit's old state into the candidates, before the product "
                "W_hn (r ⊙ h).",
    },
}.items():
    for _expect, _template in _phrases.items():
        claim(f"step.reset.{'after' if _after else 'before'}.{_expect}", _template)(_reset(_expect, _after))


@claim("step.mingru", "minGRU's gate reads the input alone, z = σ(W_iz x + b_iz): no W_hz h term, so whether it "
                      "writes depends on x, never on the state.")
def _mingru(ctx: Context, s: dict[str, str]) -> list[str]:
    model = ctx.model
    ok = ctx.trace is not None and ctx.trace.spec.kind == "mingru"
    if model is not None:
        ok = ok and not any(k.startswith("weight_hh") for k in model.params)
    return _want(ok, "this cell's gates read the state too")


@claim("step.rnn", "A vanilla RNN has no gates: it rewrites its whole state at every step, h = {fn:word}(W_ih x + "
                   "b_ih + W_hh {prev:label} + b_hh) = {fn2:word}({pre:state}) = {h:state}.")
def _rnn(ctx: Context, s: dict[str, str]) -> list[str]:
    spec = ctx.trace.spec
    fn = "tanh" if spec.nonlinearity == "tanh" else "ReLU"
    want = math.tanh(ctx.at("pre")) if fn == "tanh" else max(0.0, ctx.at("pre"))
    return (_prev(ctx, s) + _want(spec.kind == "rnn" and s["fn"] == s["fn2"] == fn, f"this cell is not a {fn} RNN")
            + _want(abs(want - ctx.at("h")) < 1e-9, "h is not the activation of its pre-activation"))


def _lstm(expect: str) -> Check:
    def check(ctx: Context, s: dict[str, str]) -> list[str]:
        f, i = ctx.at("f"), ctx.at("i")
        c, cp, g = ctx.at("c"), ctx.at("c_prev"), ctx.at("g")
        out = _prev(ctx, s, "cprev", "c") + _want(abs(c - (f * cp + i * g)) < 1e-9, "c is not f·c_prev + i·g")
        high_f, low_f, high_i, low_i = f >= KEEP, f <= REPLACE, i >= KEEP, i <= REPLACE
        if expect == "keep":
            out += _want(high_f and low_i and abs(c - cp) <= 0.01 * (abs(cp) + abs(g)) + 1e-12, "c does not stay")
        elif expect == "overwrite":
            out += _want(low_f and high_i and abs(c - g) <= 0.01 * (abs(cp) + abs(g)) + 1e-12,
                         "c is not overwritten by g")
        elif expect == "erase":
            out += _want(low_f and low_i, "c is not erased")
        elif expect == "add":
            out += _want(high_f and high_i, "c does not keep and add")
        else:
            out += _want(not ((high_f or low_f) and (high_i or low_i)), "f and i are both saturated: not a blend")
            out += _want(_agrees("pct", s["fshare"], f) and _agrees("pct", s["ishare"], i),
                         f"the shares are {pct_text(f)} and {pct_text(i)}")
        return out

    return check


for _expect, _template in {
    "keep": "⟨F⟩ keeps the cell state and ⟨i⟩ writes almost nothing, so the unit keeps its cell state: "
            "c = {c:state}, from {cprev:label} = {c_prev:state}.",
    "overwrite": "⟨F⟩ erases the cell state and ⟨i⟩ writes the candidate g = {g:state}, so the unit overwrites its "
                 "cell state: c = {c:state}, from {cprev:label} = {c_prev:state}.",
    "erase": "⟨F⟩ erases the cell state and ⟨i⟩ writes almost nothing: c falls to {c:state}, from {cprev:label} = "
             "{c_prev:state}.",
    "add": "⟨F⟩ keeps the cell state and ⟨i⟩ adds the candidate g = {g:state} on top: c = {c:state}, from "
           "{cprev:label} = {c_prev:state}.",
    "blend": "⟨F⟩ keeps {fshare:pct} of {cprev:label} = {c_prev:state} and ⟨i⟩ adds {ishare:pct} of the "
             "candidate g = {g:state}: c = {c:state}.",
}.items():
    claim(f"step.lstm.{_expect}", _template)(_lstm(_expect))


@claim("step.lstm.separate", "Unlike a GRU's single z, f and i are separate gates: here f + i = {fi:num2}, not 1.")
def _separate(ctx: Context, s: dict[str, str]) -> list[str]:
    total = ctx.at("f") + ctx.at("i")
    return _want(_agrees("num2", s["fi"], total) and abs(total - 1) >= 0.005, f"f + i = {total:.4f}")


def _output(expect: str) -> Check:
    def check(ctx: Context, s: dict[str, str]) -> list[str]:
        o = ctx.at("o")
        lt = ctx.lt
        shown = lt.gates["m"] if "m" in lt.gates else lt.h
        t, unit = ctx.where()
        out = _want(abs(float(shown[t, 0, unit]) - o * ctx.at("tanh_c")) < 1e-9, "h is not o·tanh(c)")
        if "m" in s:
            out += _want(_agrees("state", s["m"], float(shown[t, 0, unit])), "m differs")
        if expect == "all":
            out += _want(o >= KEEP, f"o = {o:.4f} does not show all")
        elif expect == "none":
            out += _want(o <= REPLACE, f"o = {o:.4f} does not hide")
        else:
            out += _want(REPLACE < o < KEEP and _agrees("pct", s["oshare"], o), f"o shows {pct_text(o)}")
        return out

    return check


for _expect, _template in {
    "all": "⟨O⟩ shows all of tanh(c) = {tanh_c:state}: h = {h:state}.",
    "none": "⟨O⟩ hides the cell state: h = {h:state}.",
    "part": "⟨O⟩ shows {oshare:pct} of tanh(c) = {tanh_c:state}: h = {h:state}.",
    "proj": "⟨O⟩ shows o ⊙ tanh(c) = {m:state}, which the projection W_hr turns into h.",
}.items():
    claim(f"step.lstm.output.{_expect}", _template)(_output("part" if _expect == "proj" else _expect))


def _minlstm_update(expect: str) -> Check:
    def check(ctx: Context, s: dict[str, str]) -> list[str]:
        lt, (t, unit) = ctx.lt, ctx.where()
        k = float(normalised_share(lt)[t, 0, unit])
        stays, moves = _stays(lt, t, unit)
        out = _prev(ctx, s)
        if expect == "keep":
            out += _want(k >= KEEP and stays, f"h does not stay at the old state (f′ = {k:.4f})")
        elif expect == "replace":
            out += _want(k <= REPLACE and moves, f"h does not move to the candidate (f′ = {k:.4f})")
        else:
            write = ctx.at("iprime")
            out += _want(REPLACE < k < KEEP, f"f′ = {k:.4f} is not a blend")
            out += _want(_agrees("pct", s["keep"], k) and _agrees("pct", s["write"], write),
                         f"the shares are {pct_text(k)} and {pct_text(write)}")
        return out

    return check


for _expect, _template in {
    "keep": "⟨F⟩ outweighs ⟨i⟩ by far, so the unit holds on to f′ = f / (f + i) = {fprime:gate} of the old state "
            "and keeps its state: h = {h:state}, from {prev:label} = {h_prev:state}; the candidate n = {n:state} is "
            "left out.",
    "replace": "⟨I⟩ outweighs ⟨f⟩ by far, so the unit writes i′ = i / (f + i) = {iprime:gate} of the candidate "
               "n = {n:state} and replaces its state: h = {h:state}, from {prev:label} = {h_prev:state}.",
    "blend": "⟨F⟩ and ⟨i⟩ are divided by their sum: the unit blends {keep:pct} of the old state {prev:label} = "
             "{h_prev:state} with {write:pct} of the candidate n = {n:state}: h = {h:state}.",
}.items():
    claim(f"step.minlstm.{_expect}", _template)(_minlstm_update(_expect))


@claim("step.minlstm", "minLSTM's gates read the input alone, f = σ(W_if x + b_if) and i = σ(W_ii x + b_ii): no "
                       "W_hf h term, so the share it keeps, f′ = f / (f + i), depends on x, never on the state.")
def _minlstm(ctx: Context, s: dict[str, str]) -> list[str]:
    model = ctx.model
    ok = ctx.trace is not None and ctx.trace.spec.kind == "minlstm"
    if model is not None:
        ok = ok and not any(k.startswith("weight_hh") for k in model.params)
    return _want(ok, "this cell's gates read the state too")


# ---------------------------------------------------------------------------------------- layer summary

MOSTLY = 0.9  # a unit "mostly keeps" above this keep share, "mostly replaces" below 1 − this


def keep_shares(lt: LayerTrace, t: int) -> np.ndarray:
    """Every unit's keep share at step t (GRU, minGRU), from the run's arithmetic."""
    z = lt.gates["z"][t, 0]
    r = role(lt)
    return z if r == "keeps" else 1.0 - z


def _z_layer(lt: LayerTrace, t: int) -> tuple[np.ndarray, tuple[str, str]]:
    keeps = role(lt) == "keeps"
    return keep_shares(lt, t), (("z > 0.9", "z < 0.1") if keeps else ("z < 0.1", "z > 0.9"))


def _normalised_layer(lt: LayerTrace, t: int) -> tuple[np.ndarray, tuple[str, str]]:
    return normalised_share(lt)[t, 0], ("f′ > 0.9", "f′ < 0.1")


def _no_share(lt: LayerTrace, t: int) -> tuple[np.ndarray, tuple[str, str]]:
    raise LookupError("this cell has no share of h that keeps it")


# Each kind's share of h kept at a step, read from the run, and the rules the summary names it by.
LAYER_SHARES = per_kind("explain.layer_shares", {"gru": _z_layer, "mingru": _z_layer, "minlstm": _normalised_layer,
                                                 "lstm": _no_share, "rnn": _no_share})


@claim("layer.gated", "Across the layer, {n_keep:int} of {units:int} units mostly keep their state ({keep_rule:word})"
                      ", {n_replace:int} mostly replace it ({replace_rule:word}) and {n_mix:int} blend.")
def _layer_gated(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    t, _ = ctx.where()
    k, rules = LAYER_SHARES[ctx.trace.spec.kind](lt, t)
    counts = (int(np.sum(k > MOSTLY)), int(np.sum(k < 1 - MOSTLY)))
    got = (int(s["n_keep"]), int(s["n_replace"]))
    return (_want((s["keep_rule"], s["replace_rule"]) == rules, f"the rules are {rules}")
            + _want(got == counts and int(s["n_mix"]) == k.size - sum(counts) and int(s["units"]) == k.size,
                    f"the counts are {counts} of {k.size}"))


@claim("layer.lstm", "Across the layer, {n_keep:int} of {units:int} units mostly keep their cell state (f > 0.9) and "
                     "{n_write:int} write strongly into it (i > 0.9).")
def _layer_lstm(ctx: Context, s: dict[str, str]) -> list[str]:
    t, _ = ctx.where()
    f, i = ctx.lt.gates["f"][t, 0], ctx.lt.gates["i"][t, 0]
    want = (int(np.sum(f > MOSTLY)), f.size, int(np.sum(i > MOSTLY)))
    return _want((int(s["n_keep"]), int(s["units"]), int(s["n_write"])) == want, f"the counts are {want}")


@claim("layer.rnn", "All {units:int} units rewrite their state at every step: an RNN has no gate to keep it.")
def _layer_rnn(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(ctx.trace.spec.kind == "rnn" and int(s["units"]) == ctx.lt.h.shape[-1], "not an RNN of this size")


# -------------------------------------------------------------------------------------------- ablation


def _clamped_run(ctx: Context, gate: str, value: float) -> LayerTrace:
    """The page's model rerun on the page's input with ``gate`` clamped to ``value`` over the whole run."""
    if ctx.model is None or ctx.trace is None:
        raise LookupError("the page's model")
    first = ctx.trace.layer(0, 0)
    s = ctx.model.spec
    h0 = np.stack([lt.h0[0] for row in ctx.trace.layers for lt in row])
    if "c" in KIND[s.kind].state:
        h0 = (h0, np.stack([lt.c0[0] for row in ctx.trace.layers for lt in row]))
    run = ctx.model.run(first.x[:, 0], h0, [Ablation(gate, value)])
    return run.layer(ctx.layer, ctx.direction)


def _frozen(lt: LayerTrace, what: str) -> bool:
    """Whether h (or c) equals the state it started from at every step."""
    now, before = (lt.gates["c"], lt.c_prev()) if what == "c" else (lt.h, lt.h_prev())
    return bool(np.allclose(now, before, rtol=0, atol=1e-12))


@claim("ablation.gru", "Clamp a gate in the sidebar ({gates:word}) to see how the run changes: for example "
                       "{keep_gate:word} = {keep_value:int} keeps the old state at every step, and {write_gate:word} = "
                       "{write_value:int} replaces it with the candidate.", step_numbers=False)
def _ablation_gru(ctx: Context, s: dict[str, str]) -> list[str]:
    keep = _clamped_run(ctx, s["keep_gate"], float(s["keep_value"]))
    write = _clamped_run(ctx, s["write_gate"], float(s["write_value"]))
    return (_want(_frozen(keep, "h"), f"{s['keep_gate']} = {s['keep_value']} does not keep h")
            + _want(bool(np.allclose(write.h, write.gates["n"], rtol=0, atol=1e-12)),
                    f"{s['write_gate']} = {s['write_value']} does not replace h with n"))


@claim("ablation.lstm", "Clamp a gate in the sidebar ({gates:word}) to see how the run changes: for example f = 1 "
                        "never forgets, c only adds i ⊙ g at every step, and f = 0 erases the cell at every step.",
       step_numbers=False)
def _ablation_lstm(ctx: Context, s: dict[str, str]) -> list[str]:
    keep, erase = _clamped_run(ctx, "f", 1.0), _clamped_run(ctx, "f", 0.0)
    c_added = keep.c_prev() + keep.gates["i"] * keep.gates["g"]
    return (_want(bool(np.allclose(keep.gates["c"], c_added, rtol=0, atol=1e-12)), "f = 1 loses some of c")
            + _want(bool(np.allclose(erase.gates["c"], erase.gates["i"] * erase.gates["g"], rtol=0, atol=1e-12)),
                    "f = 0 keeps some of c"))


@claim("ablation.moved", "With {clamps:word}, h of unit {unit:int} moves by up to {unit_move:state} from the original "
                         "run (all units: up to {all_move:state}).", step_numbers=False)
def _ablation_moved(ctx: Context, s: dict[str, str]) -> list[str]:
    if ctx.free is None:
        raise LookupError("the run without clamps")
    diff = np.abs(ctx.lt.h[:, 0] - ctx.free.layer(ctx.layer, ctx.direction).h[:, 0])
    unit = int(s["unit"])
    return _want(unit == ctx.where()[1] and _agrees("state", s["unit_move"], diff[:, unit].max())
                 and _agrees("state", s["all_move"], diff.max()), "the moves differ from the runs")


# ------------------------------------------------------------------------------------------- gradient flow


def _norm_of(ctx: Context, kind: str) -> float:
    """‖∂h_T/∂h_0‖ of a line-up's cell, recomputed from its model and input."""
    from ..core.grad import gradient_flow

    model, trace = ctx.models[kind], ctx.traces[kind]
    lt = trace.layer(0)
    h0 = None if not np.any(lt.h0) else lt.h0[0][None]
    if "c" in KIND[model.spec.kind].state and h0 is not None:
        h0 = (h0, lt.c0[0][None])
    return float(gradient_flow(model, lt.x[:, 0], h0).dh[0])


def _span_at(ctx: Context, kind: str, values: Callable[[LayerTrace], np.ndarray]) -> str:
    t = ctx.t if ctx.t is not None else 0
    return span_text(values(ctx.traces[kind].layer(0))[t, 0])


@claim("gradients.rnn", "Vanilla RNN: no gates. Every step rewrites the whole state, h′ = tanh(W_ih x + W_hh h + b), "
                        "so the gradient is multiplied by diag(1 − h′²) W_hh at every step, with no additive part "
                        "(ρ(W_hh) = {rho:num2}). ‖∂h_T/∂h_0‖ = {norm:sci}.", step_numbers=False)
def _gradients_rnn(ctx: Context, s: dict[str, str]) -> list[str]:
    w = ctx.models["rnn"].params["weight_hh_l0"]
    rho = float(np.max(np.abs(np.linalg.eigvals(w))))
    return (_want(_agrees("num2", s["rho"], rho), f"ρ = {rho:.3f}")
            + _want(_agrees("sci", s["norm"], _norm_of(ctx, "rnn")), "the RNN's gradient norm differs"))


@claim("gradients.gru", "GRU: two gates. The reset gate r sets how much of the old state the candidate n sees; the "
                        "update gate z sets, unit by unit, how much old state to keep ({keep:word}) and how much "
                        "candidate to write ({write:word}): h′ = {update:text}. One gate ties keeping and writing: "
                        "keep + write = 1 exactly. The direct path diag({direct:word}) is additive: where it is near "
                        "1 the gradient passes through untouched. z here: {z_span:span}. ‖∂h_T/∂h_0‖ = {norm:sci}.",
       step_numbers=False)
def _gradients_gru(ctx: Context, s: dict[str, str]) -> list[str]:
    r = role(ctx.traces["gru"].layer(0))
    want = ("z", "1 − z", "(1 − z) ⊙ n + z ⊙ h") if r == "keeps" else ("1 − z", "z", "(1 − z) ⊙ h + z ⊙ n")
    return (_want((s["keep"], s["write"], s["update"]) == want and s["direct"] == want[0],
                  f"this GRU's z {r}: keep is {want[0]}")
            + _want(s["z_span"] == _span_at(ctx, "gru", lambda lt: lt.gates["z"]), "the z span differs")
            + _want(_agrees("sci", s["norm"], _norm_of(ctx, "gru")), "the GRU's gradient norm differs"))


@claim("gradients.lstm", "LSTM: separate input and forget gates, c′ = f ⊙ c + i ⊙ g: it can keep and write at once, "
                         "or erase (i + f here: {if_span:span}, not tied to 1). Its additive path is the cell state, "
                         "diag(f) (f here: {f_span:span}). An output gate shows part of c: h′ = o ⊙ tanh(c′) (o here: "
                         "{o_span:span}). ‖∂h_T/∂h_0‖ = {norm:sci}.", step_numbers=False)
def _gradients_lstm(ctx: Context, s: dict[str, str]) -> list[str]:
    t = ctx.t if ctx.t is not None else 0
    lt = ctx.traces["lstm"].layer(0)
    total = lt.gates["i"][t, 0] + lt.gates["f"][t, 0]
    return (_want(s["if_span"] == span_text(total) and float(np.max(np.abs(total - 1))) >= 0.005,
                  "the i + f span differs or it is tied to 1")
            + _want(s["f_span"] == _span_at(ctx, "lstm", lambda lt: lt.gates["f"]), "the f span differs")
            + _want(s["o_span"] == _span_at(ctx, "lstm", lambda lt: lt.gates["o"]), "the o span differs")
            + _want(_agrees("sci", s["norm"], _norm_of(ctx, "lstm")), "the LSTM's gradient norm differs"))


@claim("gradients.no-output", "A GRU has no output gate: it exposes its whole state; h is its memory.",
       step_numbers=False)
def _gradients_no_output(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.traces["gru"].layer(0)
    out = ctx.traces["gru"].output
    return _want("o" not in lt.gates and np.array_equal(out.reshape(lt.h[:, 0].shape), lt.h[:, 0]),
                 "the GRU's output is not h")


@claim("gradients.mingru", "minGRU: z and n read x only, so its step Jacobian is diag(1 − z): all direct path. "
                           "‖∂h_T/∂h_0‖ = {norm:sci}.", step_numbers=False)
def _gradients_mingru(ctx: Context, s: dict[str, str]) -> list[str]:
    model = ctx.models["mingru"]
    return (_want(not any(k.startswith("weight_hh") for k in model.params), "minGRU reads h")
            + _want(_agrees("sci", s["norm"], _norm_of(ctx, "mingru")), "minGRU's gradient norm differs"))


@claim("gradients.minlstm", "minLSTM: f, i and n read x only, so its step Jacobian is diag(f′) with f′ = f / (f + i): "
                            "all direct path, and dividing by f + i makes what it keeps and what it writes add up to "
                            "1, as a GRU's z does. ‖∂h_T/∂h_0‖ = {norm:sci}.", step_numbers=False)
def _gradients_minlstm(ctx: Context, s: dict[str, str]) -> list[str]:
    model, gates = ctx.models["minlstm"], ctx.traces["minlstm"].layer(0).gates
    return (_want(not any(k.startswith("weight_hh") for k in model.params), "minLSTM reads h")
            + _want(bool(np.allclose(gates["f'"] + gates["i'"], 1.0, rtol=0, atol=1e-12)), "f′ + i′ is not 1")
            + _want(_agrees("sci", s["norm"], _norm_of(ctx, "minlstm")), "minLSTM's gradient norm differs"))


@claim("gradients.near-half", "With torch's random init the gates sit near ½ (here the GRU's z averages "
                              "{z_mean:num2} and the LSTM's f {f_mean:num2}), so every cell forgets fast.",
       step_numbers=False)
def _gradients_near_half(ctx: Context, s: dict[str, str]) -> list[str]:
    z = float(ctx.traces["gru"].layer(0).gates["z"].mean())
    f = float(ctx.traces["lstm"].layer(0).gates["f"].mean())
    return _want(_agrees("num2", s["z_mean"], z) and _agrees("num2", s["f_mean"], f) and 0.3 < z < 0.7
                 and 0.3 < f < 0.7, f"z averages {z:.3f}, f {f:.3f}")


# ------------------------------------------------------------------------------------------------ home


@claim("home.gru", "In PyTorch's GRU the update gate z is how much of the old state to keep: h_t = (1 − z) ⊙ n + "
                   "z ⊙ h_{t−1}, so z = 1 keeps the old state and z = 0 takes the candidate.", step_numbers=False)
def _home_gru(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    ok = ctx.trace.spec.kind == "gru" and ctx.trace.spec.layer_variant(lt.layer) == "torch" and role(lt) in (
        "keeps", "either")
    return _want(ok, "PyTorch's GRU, run here, does not keep with z")


@claim("home.reset", "The reset gate r decides how much of the old state the candidate n sees: in PyTorch's GRU "
                     "n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), so r = 0 leaves n to the input alone.",
       step_numbers=False)
def _home_reset(ctx: Context, s: dict[str, str]) -> list[str]:
    if ctx.model is None:
        raise LookupError("the page's model")
    lt = ctx.lt
    # n's pre-activation minus r ⊙ (W_hn h + b_hn) must be the input part W_in x + b_in, at every step
    p = ctx.model.layer_params(ctx.layer, ctx.direction)
    H = lt.h.shape[-1]
    x_part = (lt.pre["n"] - lt.gates["r"] * lt.pre["hn"])[:, 0]
    want = lt.x[:, 0] @ p.w_ih[2 * H :].T + p.b_ih[2 * H :]
    return _want(ctx.trace.spec.kind == "gru" and bool(np.allclose(x_part, want, rtol=0, atol=1e-9)),
                 "in this run r does not act after the product")




def _preset_run(key: str) -> LayerTrace:
    """A hand-made preset run on its own example input."""
    from ..core.presets import PRESETS
    from ..core.sequences import parse_sequence

    preset = PRESETS[key]
    model = preset.model()
    return model.run(parse_sequence(preset.example, "numbers", model.spec.input_size).values).layer(0)


def _demo(key: str) -> Check:
    def check(ctx: Context, s: dict[str, str]) -> list[str]:
        lt = _preset_run(key)
        if key == "latch":  # holds 0, then 1 from the spike on, because z shuts exactly at the spike
            at = int(np.argmax(lt.x[:, 0, 0]))
            h = lt.h[:, 0, 0]
            return _want(bool(np.all(np.abs(h[:at]) < 1e-3) and np.all(h[at:] >= 0.99))
                         and lt.gates["z"][at, 0, 0] <= REPLACE, "the latch does not hold its spike")
        marks = np.flatnonzero(lt.x[:, 0, 1] == 1)  # the delimiter: r and z both near 0 there, and h wiped
        ok = all(lt.gates["r"][d, 0, 0] <= 0.05 and keep_share(lt, d, 0) <= 0.05 and abs(lt.h[d, 0, 0]) <= 0.01
                 for d in marks)
        return _want(bool(marks.size) and ok, "a delimiter does not wipe the state")

    return check


def _register_demos() -> None:
    from ..core.presets import PRESETS

    for key in ("latch", "delimiter"):  # their descriptions are shown as they are: each is a claim on its preset
        claim(f"demo.{key}", PRESETS[key].description.replace("{", "{{"), step_numbers=False)(_demo(key))


_register_demos()
