"""Guided lessons: short chapters, one idea each, each on a real scene (a link's settings, so it opens cold), with
a few sentences computed from the live run, one thing to try, and a predict-then-reveal question whose answer is
read from the run.

A :class:`Chapter` holds what does not change: its title, its scene (the query string of a Config, which the app
turns into a run), the one knob a learner may turn, and :func:`Chapter.teach`, which takes the live run
(:class:`Live`) and returns the :class:`Lesson` to show: the key sentence, the prose, the question and the
:class:`~gru_viz.explain.claims.Context` every one of those sentences is checked against. Every sentence about the
scene is a claim declared here, with the predicate that must hold on the numbers ("the latch holds 1 after the
spike": h ≥ 0.99 from the spike on). Pure Python on the core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..core import compare, sources
from ..core.grad import gradient_flow
from ..core.kinds import some_kinds
from ..core.model import Model
from ..core.sequences import Sequence, format_numbers
from ..core.spec import GRU_VARIANTS, KIND_NAMES
from ..core.tasks import SENTENCES, VOCAB, Task, get_task
from ..core.text_features import FEATURE
from ..core.trace import Trace
from ..core.train import Readout
from . import claims, narration
from . import trained as trained_words
from .claims import Context, Sentence, _want, gate_text, sci_text, state_text

# This module's claims (collected with the others in gru_viz.explain.registry); a lesson also says the generic
# sentences and a trained model's answer, so its book reads theirs.
CLAIMS = claims.Book(claims.CLAIMS, trained_words.CLAIMS)
claim, say = CLAIMS.claim, CLAIMS.say

# --------------------------------------------------------------------------------------------------- types


@dataclass(frozen=True)
class Knob:
    """The one thing a learner may change in a chapter: a labelled choice of values."""

    label: str
    options: tuple
    default: object
    names: Mapping[object, str] = field(default_factory=dict)  # how an option is shown (else str)
    help: str = ""

    def name(self, value: object) -> str:
        """How ``value`` is shown."""
        return self.names.get(value, str(value))


@dataclass(frozen=True)
class Question:
    """A predict-then-reveal question: options, the right one (read from the run) and what to say after."""

    prompt: str
    options: tuple[str, ...]
    answer: int
    reveal: Sentence | str


@dataclass
class Live:
    """A chapter's live run, as the app built it from the chapter's scene."""

    model: Model
    trace: Trace
    labels: tuple[str, ...]
    t: int
    unit: int = 0
    knob: object = None
    trained: tuple[Readout, Task] | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    tr: object = None  # an encoder–decoder chapter's gru_viz.io.seq2seq.Transcription (explain does not import io)
    charlm: Mapping[str, object] | None = None  # the Real text chapter's findings: "found" (kind → core.units.Found
    # list over the held-out text) and "bits" (kind → bits per character on it)


@dataclass
class Lesson:
    """A chapter as it reads on this run: the key sentence, the prose, the question, and what they are about."""

    idea: Sentence
    prose: list[Sentence]
    question: Question
    context: Context
    figure: str  # what the app draws: "cell", "timeline", "variants", "memory", "flow"
    data: dict[str, object] = field(default_factory=dict)  # what the figure needs beyond the run

    @property
    def sentences(self) -> list[Sentence]:
        """Every claim the chapter makes (the key sentence, the prose, the revealed answer)."""
        reveal = self.question.reveal
        return [self.idea, *self.prose, *([reveal] if isinstance(reveal, Sentence) else []), *self.data.get("who", [])]


@dataclass(frozen=True)
class Chapter:
    """One idea on one scene."""

    number: int
    key: str
    title: str
    scene: Mapping[str, str]  # the query string of the scene's Config
    page: str  # the page the scene opens on: "step", "timeline", "compare", "gradients", "train"
    try_this: str
    teach: Callable[[Live], Lesson]
    knob: Knob | None = None
    apply: Callable[[dict[str, str], object], dict[str, str]] | None = None  # the knob's value → the scene

    def scene_for(self, value: object = None) -> dict[str, str]:
        """The scene's query with the knob at ``value`` (its default when None)."""
        query = dict(self.scene)
        if self.knob is None or self.apply is None:
            return query
        return self.apply(query, self.knob.default if value is None else value)


def _bucket(value: float, centres: tuple[float, ...]) -> int:
    """The index of the centre nearest ``value``."""
    return int(np.argmin([abs(value - c) for c in centres]))


def _ctx(live: Live, **extra: object) -> Context:
    return Context(trace=live.trace, model=live.model, t=live.t, unit=live.unit, labels=live.labels,
                   values={"trained": live.trained, "knob": live.knob, **extra})


# ------------------------------------------------------------------------------------ 1 · one step

ONE_STEP_SEQ = "0.8, -0.4, 1, 0.6, -1"
WHERE = ("at the old state", "between the two, nearer the old state", "between the two, nearer the candidate",
         "at the candidate")


def _where(k: float) -> int:
    """Where h lands for a keep share k: at the old state, nearer it, nearer the candidate, at the candidate."""
    return 0 if k >= 0.95 else 1 if k >= 0.5 else 2 if k > 0.05 else 3


@claim("lesson.order", "A GRU computes four numbers at every step, in this order: the reset gate r, the update gate "
                       "z, the candidate n, and the new state h.", step_numbers=False)
def _order(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(ctx.trace.spec.kind == "gru" and set(ctx.lt.gates) == {"r", "z", "n"}, "this cell is not a GRU")


@claim("lesson.where", "With z = {z:gate}, h lands {where:word}: {keep:pct} of the old state and {write:pct} of the "
                       "candidate.")
def _where_claim(ctx: Context, s: dict[str, str]) -> list[str]:
    t, unit = ctx.where()
    k = claims.keep_share(ctx.lt, t, unit)
    return _want(s["where"] == WHERE[_where(k)] and s["keep"] == claims.pct_text(k)
                 and s["write"] == claims.pct_text(1 - k), f"h lands {WHERE[_where(k)]} (keep share {k:.3f})")


def _one_step(live: Live) -> Lesson:
    lt = live.trace.layer(0)
    t, u = live.t, live.unit
    story = narration.narrate(live.trace, t, u, x_text=live.labels[t])
    k = claims.keep_share(lt, t, u)
    z, n, hp = (float(a[t, 0, u]) for a in (lt.gates["z"], lt.gates["n"], lt.h_prev()))
    prev = claims.previous_label("h", t, 0, lt.steps)
    question = Question(
        f"At t = {t} the old state is {prev} = {state_text(hp)}, the candidate is n = {state_text(n)} and the update "
        f"gate is z = {gate_text(z)}. Where does h land?", WHERE, _where(k),
        say("lesson.where", z=z, where=WHERE[_where(k)], keep=k, write=1 - k))
    return Lesson(say("lesson.order"), list(story.sentences), question, _ctx(live), "cell")


# ------------------------------------------------------------------------------------------ 2 · latch

LATCH_STEPS = 10


def _spike_seq(at: int, steps: int = LATCH_STEPS) -> str:
    return ", ".join("1" if s == at else "0" for s in range(steps))


def _spike(lt) -> int:
    """The step of the input's spike (its largest value)."""
    return int(np.argmax(lt.x[:, 0, 0]))


# Not "a write switch": a switch that writes when on reads as z ≈ 1 writing, the opposite of PyTorch's z.
@claim("lesson.keep-or-write", "The update gate chooses between keeping and writing: in PyTorch's GRU z ≈ 1 keeps "
                               "the state and z ≈ 0 writes the candidate in.", step_numbers=False)
def _keep_or_write(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(claims.role(ctx.lt) in ("keeps", "either") and ctx.trace.spec.variant == "torch",
                 "this GRU's z does not keep")


@claim("lesson.latch.before", "Before the spike the update gate stays at z ≥ {z_min:gate} and h stays at "
                              "{h_max:state}: the latch keeps its state.", step_numbers=False)
def _latch_before(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    at = _spike(lt)
    z, h = lt.gates["z"][:at, 0, 0], lt.h[:at, 0, 0]
    return _want(at > 0 and s["z_min"] == gate_text(z.min()) and s["h_max"] == state_text(np.abs(h).max())
                 and z.min() >= claims.KEEP and np.abs(h).max() < 5e-4, "the latch does not hold 0 before the spike")


@claim("lesson.latch.spike", "At the spike, t = {at:int}, z falls to {z_at:gate}: the latch replaces its state with "
                             "the candidate n = {n_at:state}, and h jumps to {h_at:state}.", step_numbers=False)
def _latch_spike(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    at = _spike(lt)
    z, n, h = (float(a[at, 0, 0]) for a in (lt.gates["z"], lt.gates["n"], lt.h))
    return _want(int(s["at"]) == at and (s["z_at"], s["n_at"], s["h_at"]) == (gate_text(z), state_text(n),
                                                                              state_text(h))
                 and z <= claims.REPLACE and h >= 0.99, "the spike is not written")


@claim("lesson.latch.after", "From then on h never drops below {h_min:state} to the last step: the latch holds 1.",
       step_numbers=False)
def _latch_after(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    h = lt.h[_spike(lt) :, 0, 0]
    return _want(s["h_min"] == state_text(h.min()) and h.min() >= 0.99, f"h falls to {h.min():.4f} after the spike")


LEVELS = ("about 0: it forgot", "about 0.5: it faded", "about 1: it remembers")


@claim("lesson.last", "At the last step, t = {t:int}, h = {h:state}: {level:word}.", step_numbers=False)
def _last(ctx: Context, s: dict[str, str]) -> list[str]:
    h = float(ctx.lt.h[-1, 0, 0])
    return _want(int(s["t"]) == ctx.lt.steps - 1 and s["h"] == state_text(h)
                 and s["level"] == LEVELS[_bucket(h, (0.0, 0.5, 1.0))], f"h ends at {h:.4f}")


def _latch(live: Live) -> Lesson:
    lt = live.trace.layer(0)
    at = _spike(lt)
    prose = []
    if at > 0:
        prose.append(say("lesson.latch.before", z_min=lt.gates["z"][:at, 0, 0].min(),
                         h_max=np.abs(lt.h[:at, 0, 0]).max()))
    prose.append(say("lesson.latch.spike", at=at, z_at=lt.gates["z"][at, 0, 0], n_at=lt.gates["n"][at, 0, 0],
                     h_at=lt.h[at, 0, 0]))
    prose.append(say("lesson.latch.after", h_min=lt.h[at:, 0, 0].min()))
    h_last = float(lt.h[-1, 0, 0])
    q = Question(f"The spike arrives at t = {at}. What will h be at the last step, t = {lt.steps - 1}?", LEVELS,
                 _bucket(h_last, (0.0, 0.5, 1.0)),
                 say("lesson.last", t=lt.steps - 1, h=h_last, level=LEVELS[_bucket(h_last, (0.0, 0.5, 1.0))]))
    return Lesson(say("lesson.keep-or-write"), prose, q, _ctx(live), "timeline")


# -------------------------------------------------------------------------------------- 3 · delimiter

DELIMITER_SEQ = "0.5 0; 0.5 0; 0.5 0; 0 1; 0.5 0; -0.5 0; 0 1; 1 0"


def _delimiters(lt) -> list[int]:
    return [int(t) for t in np.flatnonzero(lt.x[:, 0, 1] == 1)]


@claim("lesson.reset-idea", "The reset gate decides how much of the old state the candidate sees: with r ≈ 0 the "
                            "candidate n is made from the input alone.", step_numbers=False)
def _reset_idea(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(ctx.trace.spec.kind == "gru" and ctx.trace.spec.gru_variant.reset_after, "not PyTorch's reset")


@claim("lesson.delim.sum", "Before the first delimiter the state builds up: h goes from {h_a:state} at t = 0 to "
                           "{h_b:state} at t = {b:int}.", step_numbers=False)
def _delim_sum(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    b = _delimiters(lt)[0] - 1
    h = lt.h[:, 0, 0]
    return _want(b >= 1 and int(s["b"]) == b and s["h_a"] == state_text(h[0]) and s["h_b"] == state_text(h[b])
                 and abs(h[b]) > abs(h[0]), "h does not build up")


@claim("lesson.delim.reset",
       "At the delimiter, t = {d:int}, the reset gate r = {r:gate} shuts the old state out of the candidate "
       "(n = {n:state}) and the update gate z = {z:gate} takes that candidate: h is wiped to {h:state}.",
       step_numbers=False)
def _delim_reset(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    d = _delimiters(lt)[0]
    r, z, n, h = (float(a[d, 0, 0]) for a in (lt.gates["r"], lt.gates["z"], lt.gates["n"], lt.h))
    clamped = "r" in lt.clamped and bool(lt.clamped["r"][d, 0, 0])
    return _want(int(s["d"]) == d and (s["r"], s["z"], s["n"], s["h"]) == (gate_text(r), gate_text(z),
                                                                           state_text(n), state_text(h))
                 and not clamped and r <= 0.05 and claims.keep_share(lt, d, 0) <= 0.05 and abs(h) <= 0.01,
                 "the delimiter does not wipe the state")


@claim("lesson.delim.no-reset",
       "With r clamped to 1 the candidate still sees the old state (n = {n:state} at the delimiter, t = {d:int}), so "
       "taking it cannot wipe anything: h = {h:state} instead of 0.", step_numbers=False)
def _delim_no_reset(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    d = _delimiters(lt)[0]
    n, h = float(lt.gates["n"][d, 0, 0]), float(lt.h[d, 0, 0])
    return _want("r" in lt.clamped and bool(lt.clamped["r"][d, 0, 0]) and int(s["d"]) == d
                 and (s["n"], s["h"]) == (state_text(n), state_text(h)) and abs(h) > 0.05, "the state is wiped")


DELIMITER_INPUTS = ("value", "delimiter")  # what the preset's channels 0 and 1 carry (core/presets.py)


@claim("lesson.delim.inputs", "The input has two channels: channel 0 carries the value to add up, channel 1 the "
                              "delimiter (1 at a delimiter, 0 elsewhere); the value feeds the candidate n, the "
                              "delimiter drives the gates r and z.", step_numbers=False)
def _delim_inputs(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    flag = lt.x[:, 0, 1]
    w = ctx.model.params["weight_ih_l0"]  # rows r, z, n (PyTorch's order); one column per channel
    H = ctx.trace.spec.hidden_size
    r, z, n = w[:H], w[H : 2 * H], w[2 * H :]
    return _want(lt.x.shape[2] == 2 and set(np.unique(flag)) <= {0.0, 1.0} and flag.any()
                 and np.all(lt.x[flag == 1, 0, 0] == 0), "channel 1 is not a 0/1 delimiter between values") + _want(
        np.all(n[:, 0] != 0) and np.all(n[:, 1] == 0) and np.all(r[:, 1] != 0) and np.all(z[:, 1] != 0)
        and np.all(r[:, 0] == 0) and np.all(z[:, 0] == 0), "the value does not feed n alone, or the delimiter r and z")


def _delimiter(live: Live) -> Lesson:
    lt = live.trace.layer(0)
    d = _delimiters(lt)[0]
    h = lt.h[:, 0, 0]
    inputs = say("lesson.delim.inputs")
    prose = [inputs, say("lesson.delim.sum", h_a=h[0], h_b=h[d - 1], b=d - 1)]
    at = {k: float(lt.gates[k][d, 0, 0]) for k in "rzn"}
    clamped = "r" in lt.clamped and bool(lt.clamped["r"][d, 0, 0])
    if clamped:
        prose.append(say("lesson.delim.no-reset", n=at["n"], d=d, h=h[d]))
    else:
        prose.append(say("lesson.delim.reset", d=d, r=at["r"], n=at["n"], z=at["z"], h=h[d]))
    options = (f"what it was, about {state_text(h[d - 1])}", "about 0: wiped", "about 1")
    answer = _bucket(float(h[d]), (float(h[d - 1]), 0.0, 1.0))
    q = Question(f"Just before the delimiter h = {state_text(h[d - 1])}. What will h be right after it, at t = {d}?",
                 options, answer, prose[-1])
    return Lesson(say("lesson.reset-idea"), prose, q, _ctx(live), "timeline",
                  {"inputs": DELIMITER_INPUTS, "inputs_said": inputs})


# ------------------------------------------------------------------------------------ 4 · conventions

# Who writes which: each name an attribution sourced in gru_viz.core.sources (and checked there against the
# library's own code where it is installable); the check below demands that every name listed makes the choice.
_WRITERS = {
    "z keeps": ("torch", "cudnn", "keras-after", "onnx-after", "flax", "tf-block", "dive", "cho"),
    "z takes": ("chung", "wikipedia"),
    "reset after": ("torch", "cudnn", "keras-after", "onnx-after", "flax"),
    "reset before": ("cho", "dive", "keras-before", "onnx-before", "tf-block"),
}
CONVENTIONS = (
    ("z keeps", "h = (1 − z) ⊙ n + z ⊙ h", sources.who(*_WRITERS["z keeps"])),
    ("z takes", "h = (1 − z) ⊙ h + z ⊙ n", sources.who(*_WRITERS["z takes"])),
    ("reset after", "n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))", sources.who(*_WRITERS["reset after"])),
    ("reset before", "n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)", sources.who(*_WRITERS["reset before"])),
)
_CHOICE = {"z keeps": ("z_keeps", True), "z takes": ("z_keeps", False), "reset after": ("reset_after", True),
           "reset before": ("reset_after", False)}


def _conv_who(choice: str) -> claims.Check:
    def check(ctx: Context, s: dict[str, str]) -> list[str]:
        row = next(r for r in CONVENTIONS if r[0] == choice)
        if (row[1], row[2]) != (s["eq"], s["who"]):
            return [f"{choice} is {row[1]}, written by {row[2]}"]
        field_, value = _CHOICE[choice]
        wrong = [sources.ATTRIBUTIONS[k].who for k in _WRITERS[choice]
                 if getattr(sources.ATTRIBUTIONS[k], field_) != value]
        if wrong:
            return [f"{', '.join(wrong)} do not write {choice} (gru_viz/core/sources.py)"]
        return _conv_equation(ctx, choice, s["eq"])

    return check


def _conv_equation(ctx: Context, choice: str, eq: str) -> list[str]:
    """Whether a variant with this choice computes ``eq``, read from its own run of the chapter's weights."""
    # the equation is the choice's: run this chapter's weights in a variant with that choice and read its arithmetic
    field_, value = _CHOICE[choice]
    variant = next(v for v in GRU_VARIANTS.values() if getattr(v, field_) == value)
    model = Model(ctx.model.spec.with_(variant=variant.key, layer_variants=()), ctx.model.params)  # every layer
    lt = model.run(ctx.trace.layer(0).x[:, 0]).layer(0)
    if field_ == "z_keeps":
        return _want(claims.role(lt) == ("keeps" if value else "takes"), f"{variant.name}'s z does not {choice}")
    p = model.layer_params(0, 0)
    H = lt.h.shape[-1]
    x_in = lt.x[:, 0] @ p.w_ih[2 * H :].T + p.b_ih[2 * H :]
    r, hp = lt.gates["r"][:, 0], lt.h_prev()[:, 0]
    hn = hp @ p.w_hh[2 * H :].T + p.b_hh[2 * H :]
    want = x_in + r * hn if value else x_in + (r * hp) @ p.w_hh[2 * H :].T + p.b_hh[2 * H :]
    return _want(bool(np.allclose(lt.pre["n"][:, 0], want, rtol=0, atol=1e-9)), f"{variant.name}'s n is not {eq}")


for _choice, *_ in CONVENTIONS:
    claim(f"lesson.conv.who.{_choice.replace(' ', '-')}", _choice + " ({eq:text}) is how {who:text} write it.",
          step_numbers=False)(_conv_who(_choice))


def _update_text(z_keeps: bool) -> str:
    return "(1 − z) ⊙ n + z ⊙ h" if z_keeps else "(1 − z) ⊙ h + z ⊙ n"


@claim("lesson.family", "The GRUs of papers and libraries are one family with two choices: what z weights, and "
                        "where r acts.", step_numbers=False)
def _family(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want(len(GRU_VARIANTS) == 4 and ctx.trace.spec.kind == "gru", "not a GRU")


@claim("lesson.conv.this", "This GRU is {name:text}: h = {update:text}, so z {does:word}.", step_numbers=False)
def _conv_this(ctx: Context, s: dict[str, str]) -> list[str]:
    spec = ctx.trace.spec
    r = claims.role(ctx.lt)
    does = "keeps the old state" if r == "keeps" else "takes the candidate"
    return _want((s["name"], s["update"], s["does"]) == (spec.gru_variant.name, _update_text(r == "keeps"), does),
                 f"this GRU's z {r}")


@claim("lesson.conv.flip", "Negate z's weights and biases and run the other update convention: over all {T:int} "
                           "steps the two runs agree to {gap:sci}, float64 round-off. The same cell, relabelled.",
       step_numbers=False)
def _conv_flip(ctx: Context, s: dict[str, str]) -> list[str]:
    x = ctx.trace.layer(0).x[:, 0]
    gap = compare.flip_gap(ctx.model, x)
    return _want(int(s["T"]) == len(x) and s["gap"] == sci_text(gap) and gap < 1e-12, f"the runs differ by {gap:.2e}")


def _reset_moved(model: Model) -> Model:
    """The same weights with the reset on the other side of the product (the same z convention)."""
    v = model.spec.gru_variant
    other = next(o for o in GRU_VARIANTS.values() if o.z_keeps == v.z_keeps and o.reset_after != v.reset_after)
    return Model(model.spec.with_(variant=other.key, layer_variants=()), model.params)


@claim("lesson.conv.reset", "Where r acts is a real choice: the same weights with the reset {side:word} the product "
                            "give states up to {diff:state} apart.", step_numbers=False)
def _conv_reset(ctx: Context, s: dict[str, str]) -> list[str]:
    x = ctx.trace.layer(0).x[:, 0]
    other = _reset_moved(ctx.model)
    diff = float(np.abs(other.run(x).layer(0).h - ctx.trace.layer(0).h).max())
    side = "before" if ctx.trace.spec.gru_variant.reset_after else "after"
    return _want(s["side"] == side and s["diff"] == state_text(diff) and diff > 1e-3, f"they differ by {diff:.4f}")


@claim("lesson.conv.z", "In the other convention this unit's gate reads z′ = {z_flip:gate} = 1 − {z:gate}.")
def _conv_z(ctx: Context, s: dict[str, str]) -> list[str]:
    t, unit = ctx.where()
    flipped = compare.flip_z(ctx.model).run(ctx.trace.layer(0).x[:, 0]).layer(0).gates["z"][t, 0, unit]
    return _want(s["z_flip"] == gate_text(flipped) and abs(flipped - (1 - ctx.at("z"))) < 1e-12, "z′ differs")


def _conventions(live: Live) -> Lesson:
    spec = live.trace.spec
    v = spec.gru_variant
    x = live.trace.layer(0).x[:, 0]
    gap = compare.flip_gap(live.model, x)
    diff = float(np.abs(_reset_moved(live.model).run(x).layer(0).h - live.trace.layer(0).h).max())
    prose = [say("lesson.conv.this", name=v.name, update=_update_text(v.z_keeps),
                 does="keeps the old state" if v.z_keeps else "takes the candidate"),
             say("lesson.conv.flip", T=len(x), gap=gap),
             say("lesson.conv.reset", side="before" if v.reset_after else "after", diff=diff)]
    z = float(live.trace.layer(0).gates["z"][live.t, 0, live.unit])
    flipped = float(compare.flip_z(live.model).run(x).layer(0).gates["z"][live.t, 0, live.unit])
    options = (f"z′ = {gate_text(z)}, the same", f"z′ = {gate_text(1 - z)}", "z′ = 0.50")
    q = Question(f"Unit {live.unit} has z = {gate_text(z)} at t = {live.t}. What is its gate in the other update "
                 "convention, for the very same states?", options, _bucket(flipped, (z, 1 - z, 0.5)),
                 say("lesson.conv.z", z_flip=flipped, z=z))
    who = [say(f"lesson.conv.who.{c.replace(' ', '-')}", eq=eq, who=names) for c, eq, names in CONVENTIONS]
    return Lesson(say("lesson.family"), prose, q, _ctx(live), "variants", {"who": who, "gap": gap, "diff": diff})


# -------------------------------------------------------------------------------------- 5 · sentiment

SENTIMENT_T = 8


def sentence_query(words: tuple[str, ...], T: int = SENTIMENT_T) -> str:
    """A sentence as the typed one-hot input of the sentiment task (left-padded to T steps)."""
    ids = [0] * (T - len(words)) + [VOCAB.index(w) for w in words]
    return format_numbers(Sequence(np.eye(len(VOCAB))[ids], tuple(str(i) for i in range(T))))


SENTENCE_CHOICES = tuple(" ".join(w) for w, _ in SENTENCES)


@claim("lesson.sentiment.idea", "A trained GRU reads one word per step; the word “not” has to flip what “good” and "
                                "“bad” mean, so some unit must remember it until the adjective arrives.",
       step_numbers=False)
def _sentiment_idea(ctx: Context, s: dict[str, str]) -> list[str]:
    _readout, task = ctx.values["trained"]
    return _want(task.key == "sentiment" and ctx.trace.spec.kind == "gru", "not the sentiment GRU")


@claim("lesson.sentiment.flip", "Without “not” the same model says {other:text}: the one word flips its answer.",
       step_numbers=False)
def _sentiment_flip(ctx: Context, s: dict[str, str]) -> list[str]:
    readout, task = ctx.values["trained"]
    cf = trained_words.counterfactual(task, ctx.trace.layer(0).x[:, 0])
    if cf is None:
        return ["there is no “not” to remove"]
    got = trained_words.answer(ctx.model, readout, task, cf.x)
    here = trained_words.answer(ctx.model, readout, task, ctx.trace.layer(0).x[:, 0], ctx.trace)
    return _want(s["other"] == got.says and got.says.split()[0] != here.says.split()[0], "the answer does not flip")


def _sentiment(live: Live) -> Lesson:
    readout, task = live.trained
    x = live.trace.layer(0).x[:, 0]
    prose: list[Sentence] = []
    a = trained_words.answer(live.model, readout, task, x, live.trace)
    prose.append(say("trained.answer", target=a.target, says=a.says, verdict=a.verdict))
    learned = trained_words.learned(live.model, task, live.trace)
    if learned is not None:
        prose.append(learned)
        cf = trained_words.counterfactual(task, x)
        other = trained_words.answer(live.model, readout, task, cf.x)
        if other.says.split()[0] != a.says.split()[0]:
            prose.append(say("lesson.sentiment.flip", other=other.says))
    words = " ".join(trained_words.words_of(x))
    c = task.class_names.index(a.says.split()[0])
    q = Question(f"The model reads “{words}”. What will it answer?", task.class_names, c, prose[0])
    # The unit the sentence names, for the figure to mark among its 16 rows.
    data = {} if learned is None else {"unit": int(learned.slots["unit"])}
    return Lesson(say("lesson.sentiment.idea"), prose, q, _ctx(live), "timeline", data)


# ---------------------------------------------------------------------------------------- 6 · memory

MEMORY_STEPS, MEMORY_AT = 100, 5
LINEUP = ("gru", "lstm", "rnn")


def lineup(query: Mapping[str, str], keep_bias: float) -> dict[str, Model]:
    """The chapter's GRU, LSTM and RNN: the Compare page's seeded models at the scene's H and seed, plus β."""
    H, seed = int(query.get("hidden", 4)), int(query.get("seed", 0))
    return compare.build_models(LINEUP, 1, H, seed=seed, keep_bias=keep_bias)


def memory_of(models: Mapping[str, Model]) -> dict[str, compare.Response]:
    """Every cell's impulse response: a spike at MEMORY_AT, then zeros, for MEMORY_STEPS steps."""
    return {k: compare.impulse_response(m, MEMORY_STEPS, MEMORY_AT) for k, m in models.items()}


def _lasting(resp: compare.Response) -> tuple[int, float]:
    return compare.influence_steps(resp), float(resp.distance[-1])


@claim("lesson.memory.idea", "A gate that keeps is a memory: where an RNN must rewrite its state at every step, a "
                             "GRU's z and an LSTM's f can hold it.", step_numbers=False)
def _memory_idea(ctx: Context, s: dict[str, str]) -> list[str]:
    m = ctx.models
    return _want(set(m) == set(LINEUP) and "weight_hh_l0" in m["rnn"].params, "not the line-up")


@claim("lesson.memory.cell", "The {cell:word}'s memory of the spike {fate:text}.", step_numbers=False)
def _memory_cell(ctx: Context, s: dict[str, str]) -> list[str]:
    names = {KIND_NAMES[k]: k for k in LINEUP}
    if s["cell"] not in names:
        return [f"{s['cell']} is not in the line-up"]
    want = _fate(memory_of({names[s["cell"]]: ctx.models[names[s["cell"]]]})[names[s["cell"]]])
    return _want(s["fate"] == want, f"{s['cell']}: {want}")


def _fate(resp: compare.Response) -> str:
    steps, end = _lasting(resp)
    left = len(resp.distance) - 1 - resp.at
    if steps == left and end >= 1e-6:
        return f"still moves h by {sci_text(end)} after {left} steps"
    return f"falls below 10⁻⁶ after {steps + 1} steps"


@claim("lesson.memory.first", "The first to forget is the {cell:word}.", step_numbers=False)
def _memory_first(ctx: Context, s: dict[str, str]) -> list[str]:
    resp = memory_of(ctx.models)
    first = min(resp, key=lambda k: (_lasting(resp[k])[0], _lasting(resp[k])[1]))
    return _want(s["cell"] == KIND_NAMES[first], f"the first to forget is the {KIND_NAMES[first]}")


def _spiked_gates(models: Mapping[str, Model]) -> tuple[float, float]:
    """The mean of the GRU's z and of the LSTM's f over the spiked run (every step and unit)."""
    x = np.zeros((MEMORY_STEPS, 1))
    x[MEMORY_AT] = 1.0
    return (float(models["gru"].run(x).layer(0).gates["z"].mean()),
            float(models["lstm"].run(x).layer(0).gates["f"].mean()))


@claim("lesson.memory.why", "At β = {beta:num2} the gates sit near ½ (the GRU's z averages {z:num2}, the LSTM's f "
                            "{f:num2}): each step keeps only about half of the memory, so the gated cells forget as "
                            "fast as the RNN, or faster. torch's initialisation is not a trained keep bias; raise β "
                            "to open the gates.", step_numbers=False)
def _memory_why(ctx: Context, s: dict[str, str]) -> list[str]:
    resp = memory_of(ctx.models)
    first = min(resp, key=lambda k: (_lasting(resp[k])[0], _lasting(resp[k])[1]))
    z, f = _spiked_gates(ctx.models)
    return (_want(first != "rnn", "the RNN forgets first: the gates do keep")
            + _want(0.3 < z < 0.7 and 0.3 < f < 0.7, "the gates are not near ½")
            + _want((s["beta"], s["z"], s["f"]) == (claims.num2_text(ctx.values["keep_bias"]),
                                                   claims.num2_text(z), claims.num2_text(f)), "β, z or f differ"))


def _memory(live: Live) -> Lesson:
    beta = float(live.knob if live.knob is not None else MEMORY_BETA)
    models = lineup(live.query, beta)
    resp = memory_of(models)
    prose = [say("lesson.memory.cell", cell=KIND_NAMES[k], fate=_fate(r)) for k, r in resp.items()]
    first = min(resp, key=lambda k: (_lasting(resp[k])[0], _lasting(resp[k])[1]))
    names = tuple(KIND_NAMES[k] for k in LINEUP)
    if first != "rnn":  # the numbers do not show what gating buys: say why (the gates are at torch's init)
        z, f = _spiked_gates(models)
        prose.append(say("lesson.memory.why", beta=beta, z=z, f=f))
    q = Question(f"A spike at t = {MEMORY_AT}, then {MEMORY_STEPS - MEMORY_AT - 1} zeros. Which cell forgets it first?",
                 names, LINEUP.index(first), say("lesson.memory.first", cell=KIND_NAMES[first]))
    ctx = _ctx(live, keep_bias=beta)
    ctx.models = models
    return Lesson(say("lesson.memory.idea"), prose, q, ctx, "memory", {"responses": resp, "keep_bias": beta})


MEMORY_BETA = 2.0  # the keep bias that shows the gating advantage at torch's init (at 0 the GRU forgets as fast)


# -------------------------------------------------------------------------------------- 7 · gradients

GRADIENT_STEPS = 100
GRADIENT_BETA = 2.0  # the default keep bias: the GRU's gradient survives 100 steps (at torch's plain init, β = 0, it
# vanishes too, and the chapter says why)


def gradient_input(query: Mapping[str, str]) -> np.ndarray:
    """The chapter's input: seeded noise, GRADIENT_STEPS steps."""
    return np.random.default_rng(int(query.get("seed", 0))).standard_normal((GRADIENT_STEPS, 1))


def flows_of(models: Mapping[str, Model], x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(‖∂h_T/∂x_t‖, ‖∂h_T/∂h_t‖) over t for every cell."""
    out = {}
    for k, m in models.items():
        flow = gradient_flow(m, x)
        out[k] = (flow.dx, flow.dh)
    return out


@claim("lesson.grad.idea", "Training follows the gradient back through the steps: whatever multiplies it at each "
                           "step, it meets T times.", step_numbers=False)
def _grad_idea(ctx: Context, s: dict[str, str]) -> list[str]:
    return _want("gru" in ctx.models and "rnn" in ctx.models, "no line-up")


@claim("lesson.grad.norms", "From the last step back to t = 0, over {T:int} steps: ‖∂h_T/∂h_0‖ = {rnn:sci} for the "
                            "vanilla RNN and {gru:sci} for the GRU.", step_numbers=False)
def _grad_norms(ctx: Context, s: dict[str, str]) -> list[str]:
    x = ctx.values["x"]
    f = flows_of({k: ctx.models[k] for k in ("rnn", "gru")}, x)
    return _want(int(s["T"]) == len(x) and s["rnn"] == sci_text(f["rnn"][1][0])
                 and s["gru"] == sci_text(f["gru"][1][0]),
                 "the gradient norms differ")


@claim("lesson.grad.path",
       "Each GRU step passes the gradient along a direct path diag(z), with no matrix and no squashing (in PyTorch's "
       "GRU z keeps the old state); here z averages {z_mean:num2}. Each RNN step multiplies it by diag(1 − h²) W_hh, "
       "whose ρ(W_hh) is {rho:num2}.", step_numbers=False)
def _grad_path(ctx: Context, s: dict[str, str]) -> list[str]:
    gru = ctx.models["gru"].run(ctx.values["x"]).layer(0)
    rho = float(np.max(np.abs(np.linalg.eigvals(ctx.models["rnn"].params["weight_hh_l0"]))))
    return _want(claims.role(gru) == "keeps" and s["z_mean"] == claims.num2_text(gru.gates["z"].mean())
                 and s["rho"] == claims.num2_text(rho), "z's mean or ρ differ")


RATIOS = ("about the same", "10 to 1,000 times larger", "more than 1,000 times larger")
RATIO_WORDS = ("about the same size as", "10 to 1,000 times larger than", "more than 1,000 times larger than")


@claim("lesson.grad.ratio", "The GRU's gradient is {ratio:word} the RNN's: {gru:sci} against {rnn:sci}.",
       step_numbers=False)
def _grad_ratio(ctx: Context, s: dict[str, str]) -> list[str]:
    f = flows_of({k: ctx.models[k] for k in ("rnn", "gru")}, ctx.values["x"])
    gru, rnn = f["gru"][1][0], f["rnn"][1][0]
    want = RATIO_WORDS[_ratio(gru, rnn)]
    return _want(s["ratio"] == want and s["gru"] == sci_text(gru) and s["rnn"] == sci_text(rnn),
                 f"it is {want}")


GRADIENT_ALIVE = 1e-6  # below this ‖∂h_T/∂h_0‖ the GRU's gradient has vanished too, for teaching purposes


@claim("lesson.grad.why-not", "At β = {beta:num2} the GRU's gradient vanishes too: z averages only {z_mean:num2}, "
                              "and the direct path diag(z) shrinks the gradient at each of the {T:int} steps. "
                              "torch's initialisation is not a trained keep bias; training, or a larger β, raises z "
                              "toward 1 and keeps the path open.", step_numbers=False)
def _grad_why_not(ctx: Context, s: dict[str, str]) -> list[str]:
    x = ctx.values["x"]
    gru = ctx.models["gru"].run(x).layer(0)
    dh0 = flows_of({"gru": ctx.models["gru"]}, x)["gru"][1][0]
    return (_want(dh0 < GRADIENT_ALIVE, f"the GRU's gradient is {sci_text(dh0)}: alive")
            + _want((s["beta"], s["z_mean"], int(s["T"])) == (claims.num2_text(ctx.values["keep_bias"]),
                                                             claims.num2_text(gru.gates["z"].mean()), len(x)),
                    "β, z or T differ"))


def _ratio(gru: float, rnn: float) -> int:
    ratio = gru / max(rnn, 1e-300)
    return 0 if ratio < 10 else 1 if ratio <= 1000 else 2


def _gradients(live: Live) -> Lesson:
    beta = float(live.knob if live.knob is not None else GRADIENT_BETA)
    models = {k: m for k, m in lineup(live.query, beta).items() if k in ("gru", "rnn")}
    x = gradient_input(live.query)
    flows = flows_of(models, x)
    gru = models["gru"].run(x).layer(0)
    rho = float(np.max(np.abs(np.linalg.eigvals(models["rnn"].params["weight_hh_l0"]))))
    first = {k: float(dh[0]) for k, (_, dh) in flows.items()}
    prose = [say("lesson.grad.norms", T=len(x), rnn=first["rnn"], gru=first["gru"]),
             say("lesson.grad.path", z_mean=gru.gates["z"].mean(), rho=rho)]
    if first["gru"] < GRADIENT_ALIVE:  # the numbers do not show the path kept open: say why
        prose.append(say("lesson.grad.why-not", beta=beta, z_mean=gru.gates["z"].mean(), T=len(x)))
    k = _ratio(first["gru"], first["rnn"])
    q = Question(f"Over {len(x)} steps, how does the GRU's gradient ‖∂h_T/∂h_0‖ compare with the RNN's?",
                 tuple(f"{r}" for r in RATIOS), k,
                 say("lesson.grad.ratio", ratio=RATIO_WORDS[k], gru=first["gru"], rnn=first["rnn"]))
    ctx = _ctx(live, x=x, keep_bias=beta)
    ctx.models = models
    return Lesson(say("lesson.grad.idea"), prose, q, ctx, "flow", {"flows": flows, "keep_bias": beta})


# ----------------------------------------------------------------------------------------- 8 · train

ADDING_T = 20
EXAMPLE_STREAM = 99  # as the Train page: test examples apart from the training and evaluation streams


def adding_example(number: int, seed: int = 1) -> str:
    """The ``number``-th test example of the adding problem, as typed numbers."""
    ex = get_task("adding").example(np.random.default_rng([seed, EXAMPLE_STREAM, number]), ADDING_T)
    return format_numbers(Sequence(ex.x, tuple(str(i) for i in range(ADDING_T))))


@claim("lesson.train.idea", "The task: read a stream of numbers, two of them marked, and answer the sum of the two "
                            "marked ones. Training shaped this GRU's gates for it: they write more of a new candidate "
                            "at the marked steps than at the others.", step_numbers=False)
def _train_idea(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    marked = lt.x[:, 0, 1] == 1
    write = 1 - claims.keep_shares_all(lt)
    return _want(bool(marked.any()) and float(write[marked].mean()) > float(write[~marked].mean()),
                 "the model does not write more at the marked steps")


@claim("lesson.train.marked", "At the marked steps its units take in {write_marked:pct} of a new candidate on "
                              "average, at the other steps {write_rest:pct}.", step_numbers=False)
def _train_marked(ctx: Context, s: dict[str, str]) -> list[str]:
    lt = ctx.lt
    marked = lt.x[:, 0, 1] == 1
    write = 1 - claims.keep_shares_all(lt)
    return _want(s["write_marked"] == claims.pct_text(write[marked].mean())
                 and s["write_rest"] == claims.pct_text(write[~marked].mean()), "the write shares differ")


def _train(live: Live) -> Lesson:
    readout, task = live.trained
    x = live.trace.layer(0).x[:, 0]
    lt = live.trace.layer(0)
    a = trained_words.answer(live.model, readout, task, x, live.trace)
    marked = lt.x[:, 0, 1] == 1
    write = 1 - claims.keep_shares_all(lt)
    prose = [say("trained.answer", target=a.target, says=a.says, verdict=a.verdict),
             say("lesson.train.marked", write_marked=write[marked].mean(), write_rest=write[~marked].mean())]
    learned = trained_words.learned(live.model, task, live.trace)
    if learned is not None:
        prose.append(learned)
    values = x[marked, 0]
    target = float(values.sum())
    options = (f"about {state_text(target)}, their sum", f"about {state_text(values.max())}, the larger one",
               "about 1.000, the average sum")
    q = Question(f"The marked values are {' and '.join(state_text(v) for v in values)}. What will the model answer?",
                 options, _bucket(float(a.says), (target, float(values.max()), 1.0)), prose[0])
    return Lesson(say("lesson.train.idea"), prose, q, _ctx(live), "timeline")


# ------------------------------------------------------------------------------- 9 · encoder–decoder

# The words the chapter offers: each stops by itself (no cap), and between them the decoder says fewer, as many and
# more phonemes than the word has letters ("though" is one it gets wrong: TH AO1, not DH OW1).
S2S_WORDS = ("through", "though", "knight", "axe", "box")
COUNTS = ("fewer than the letters", "as many as the letters", "more than the letters")


def _count(tr: object) -> int:
    """Whether the decoder said fewer (0), as many (1) or more (2) phonemes than the word has letters."""
    n, letters = len(tr.phonemes), len(tr.text)
    return 0 if n < letters else 1 if n == letters else 2


def _enc_dec(ctx: Context) -> list[str]:
    """Why this run is not a GRU encoder–decoder whose decoder starts from the encoder's last state alone."""
    tr = ctx.values.get("tr")
    if tr is None:
        return ["no encoder–decoder run on this page"]
    enc, dec = tr.enc.layer(0, 0), tr.dec.layer(0, 0)
    return _want(tr.enc.spec.kind == tr.dec.spec.kind == "gru" and set(enc.gates) == set(dec.gates) == {"r", "z", "n"}
                 and bool(np.array_equal(dec.h0, tr.enc.h_n)), "not a GRU decoder started from the encoder's state")


@claim("lesson.s2s.idea", "One GRU reads a sequence into a fixed-length vector; a second GRU, starting from that "
                          "vector alone, generates a new sequence.", step_numbers=False)
def _s2s_idea(ctx: Context, s: dict[str, str]) -> list[str]:
    return _enc_dec(ctx)


# The paper is named through its sourced record (core/sources.py, "cho-mt"), with the sections this says.
@claim("lesson.s2s.cho",
       "The gated unit later named the GRU was introduced, with its reset gate and update gate, by "
       + sources.who("cho-mt") + " (“Learning Phrase Representations using RNN Encoder–Decoder for Statistical "
       "Machine Translation”, EMNLP), inside an RNN encoder–decoder for machine translation: the encoder reads the "
       "source sentence into a fixed-length vector, and the decoder generates the target sentence from it.",
       step_numbers=False)
def _s2s_cho(ctx: Context, s: dict[str, str]) -> list[str]:
    return _enc_dec(ctx)  # what the paper says is cited as it says it; the run on screen must be that design


@claim("lesson.s2s.here", "g2p-en trained that design on English words: its encoder reads “{word:text}” one letter a "
                          "step, {steps:int} steps with the end mark, into {units:int} numbers, and its decoder "
                          "starts from those numbers alone.", step_numbers=False)
def _s2s_here(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = ctx.values.get("tr")
    if tr is None:
        return ["no encoder–decoder run on this page"]
    return _enc_dec(ctx) + _want(s["word"] == tr.word and int(s["steps"]) == len(tr.enc_symbols) == tr.enc.steps
                                 and int(s["units"]) == tr.enc.h_n.shape[-1], "the word, its steps or the size differ")


@claim("lesson.s2s.count", "For “{word:text}” the decoder says {arpa:text}, then its end mark: {n:int} phonemes for "
                           "{letters:int} letters, {relation:word}.", step_numbers=False)
def _s2s_count(ctx: Context, s: dict[str, str]) -> list[str]:
    tr = ctx.values.get("tr")
    if tr is None:
        return ["no encoder–decoder run on this page"]
    return _want(s["word"] == tr.word and s["arpa"] == " ".join(tr.phonemes) and not tr.capped
                 and int(s["n"]) == len(tr.phonemes) and int(s["letters"]) == len(tr.text)
                 and s["relation"] == COUNTS[_count(tr)],
                 f"it says {' '.join(tr.phonemes)} ({COUNTS[_count(tr)]})")


def _seq2seq(live: Live) -> Lesson:
    tr = live.tr
    prose = [say("lesson.s2s.cho"),
             say("lesson.s2s.here", word=tr.word, steps=len(tr.enc_symbols), units=tr.enc.h_n.shape[-1]),
             say("lesson.s2s.count", word=tr.word, arpa=" ".join(tr.phonemes), n=len(tr.phonemes),
                 letters=len(tr.text), relation=COUNTS[_count(tr)])]
    # short: on a projector at 1280×720 the question and its Reveal fit under the key sentence
    q = Question(f"The decoder starts from the encoder's last state alone. How many phonemes will it say for the "
                 f"{len(tr.text)} letters of “{tr.word}”?", COUNTS, _count(tr), prose[-1])
    return Lesson(say("lesson.s2s.idea"), prose, q, _ctx(live, tr=tr), "seq2seq", {"tr": tr})


# ----------------------------------------------------------------------- 10 · a GRU on Python's source

# the Real text page's language models (gru_viz.io.charlm.CHARLM_KINDS: explain does not import io), by their names
CHARLM_NAMES = some_kinds("explain.lessons.charlm", {"gru": "GRU", "lstm": "LSTM", "rnn": "vanilla RNN"})
CHARLM_MODELS = tuple(CHARLM_NAMES)
STRING_ANSWERS = ("yes, a strong one", "yes, a moderate one", "only a weak one", "no unit follows it")
_STRENGTH_ANSWER = {"strong": 0, "moderate": 1, "weak": 2, "none": 3}


def _charlm(ctx: Context) -> Mapping[str, object] | None:
    return ctx.values.get("charlm")


def _found(ctx: Context, kind: str, feature: str) -> object | None:
    data = _charlm(ctx)
    if data is None:
        return None
    return next((f for f in data["found"][kind] if f.feature == feature), None)


def clearest(found: list) -> object | None:
    """The unit found with the largest held-out |r| among those named (h or c), or None."""
    named = [f for f in found if f.named]
    return max(named, key=lambda f: abs(f.r)) if named else None


@claim("lesson.rt.idea", "A {model:word} trained only to guess the next character of Python's source grows units "
                         "that follow the code's structure, though nobody told it what a string or a bracket is.",
       step_numbers=False)
def _rt_idea(ctx: Context, s: dict[str, str]) -> list[str]:
    data = _charlm(ctx)
    if data is None:
        return ["no character model on this page"]
    kind = {v: k for k, v in CHARLM_NAMES.items()}.get(s["model"])
    if kind is None:
        return [f"{s['model']} is not a shipped character model"]
    return _want(clearest(data["found"][kind]) is not None, f"the {s['model']} has no unit named for any feature")


@claim("lesson.rt.clearest", "Its clearest: unit {unit:int} of layer {layer:int} ({which:word}) follows "
                             "“{feature:text}” with a correlation of {r:num2} on held-out Python it was not picked on, "
                             "{strength:word} evidence.", step_numbers=False)
def _rt_clearest(ctx: Context, s: dict[str, str]) -> list[str]:
    data = _charlm(ctx)
    if data is None:
        return ["no character model on this page"]
    f = clearest(data["found"][data["kind"]])
    if f is None:
        return ["no unit is named"]
    return _want(int(s["unit"]) == f.unit and int(s["layer"]) == f.layer and s["which"] == _which(f)
                 and s["feature"] == FEATURE[f.feature].label and s["r"] == claims.num2_text(f.r)
                 and s["strength"] == f.strength, f"the clearest is unit {f.unit} of layer {f.layer} for {f.feature}")


def _which(f: object) -> str:
    return "its cell state c" if f.which == "c" else "its state h"


@claim("lesson.rt.string", "For “inside a string” the {model:word}'s best unit reaches a correlation of {r:num2} on "
                           "held-out Python: {answer:word}.", step_numbers=False)
def _rt_string(ctx: Context, s: dict[str, str]) -> list[str]:
    data = _charlm(ctx)
    kind = {v: k for k, v in CHARLM_NAMES.items()}.get(s["model"])
    f = _found(ctx, kind, "string") if kind else None
    if f is None:
        return ["no finding for strings"]
    return _want(s["r"] == claims.num2_text(f.r) and s["answer"] == STRING_ANSWERS[_STRENGTH_ANSWER[f.strength]],
                 f"r = {f.r:.3f}, {f.strength}") + _want(data["kind"] == kind, "another model")


@claim("lesson.rt.bits", "On the same held-out text the GRU needs {gru:num2} bits per character, the LSTM "
                         "{lstm:num2} and the vanilla RNN {rnn:num2}: as {who:text} found on the Linux kernel's "
                         "source, the gated cells guess better than the plain one.",
       step_numbers=False)
def _rt_bits(ctx: Context, s: dict[str, str]) -> list[str]:
    return _bits_beside_karpathy(ctx, s, as_found=True)


def _bits_beside_karpathy(ctx: Context, s: dict[str, str], as_found: bool) -> list[str]:
    """The check of lesson.rt.bits (``as_found``: both gated cells beat the RNN) and of lesson.rt.bits.not."""
    data = _charlm(ctx)
    if data is None:
        return ["no character model on this page"]
    bits = data["bits"]
    ahead = max(bits["gru"], bits["lstm"]) < bits["rnn"]
    return (_want(all(s[k] == claims.num2_text(bits[k]) for k in CHARLM_MODELS), f"the bits are {bits}")
            + _want(s["who"] == sources.ATTRIBUTIONS["karpathy"].who, "the finding is theirs")
            + _want(ahead == as_found, "both gated cells beat the RNN" if ahead
                    else "a gated cell does not beat the RNN here"))


@claim("lesson.rt.bits.not", "On the same held-out text the GRU needs {gru:num2} bits per character, the LSTM "
                             "{lstm:num2} and the vanilla RNN {rnn:num2}: unlike what {who:text} found, the plain "
                             "RNN is not behind both gated cells here.", step_numbers=False)
def _rt_bits_not(ctx: Context, s: dict[str, str]) -> list[str]:
    return _bits_beside_karpathy(ctx, s, as_found=False)


def _real_text(live: Live) -> Lesson:
    data = live.charlm
    kind = str(live.knob or "gru")
    name = CHARLM_NAMES[kind]
    ctx = _ctx(live, charlm={**data, "kind": kind})
    found = data["found"][kind]
    prose = []
    best = clearest(found)
    if best is not None:
        prose.append(say("lesson.rt.clearest", unit=best.unit, layer=best.layer, which=_which(best),
                         feature=FEATURE[best.feature].label, r=best.r, strength=best.strength))
    string = next(f for f in found if f.feature == "string")
    answer = _STRENGTH_ANSWER[string.strength]
    reveal = say("lesson.rt.string", model=name, r=string.r, answer=STRING_ANSWERS[answer])
    prose.append(reveal)
    bits = data["bits"]
    key = "lesson.rt.bits" if max(bits["gru"], bits["lstm"]) < bits["rnn"] else "lesson.rt.bits.not"
    prose.append(say(key, who=sources.ATTRIBUTIONS["karpathy"].who, **{k: bits[k] for k in CHARLM_MODELS}))
    q = Question(f"The {name} was trained only to guess the next character of Python's standard library. Did one of "
                 "its units learn to follow whether the text is inside a string?", STRING_ANSWERS, answer, reveal)
    idea = say("lesson.rt.idea", model=name) if best is not None else reveal
    return Lesson(idea, prose, q, ctx, "real_text", {"kind": kind, "unit": best})


# --------------------------------------------------------------------------------------------- lessons


def _with(**changes: str) -> Callable[[dict[str, str], object], dict[str, str]]:
    def apply(query: dict[str, str], value: object) -> dict[str, str]:
        return {**query, **{k: (v(value) if callable(v) else v) for k, v in changes.items()}}

    return apply


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(1, "one-step", "One step of a GRU, number by number",
            {"cell": "gru", "hidden": "1", "source": "typed", "seq": ONE_STEP_SEQ, "seed": "7", "t": "2"}, "step",
            "Move the step with the slider and watch where h lands between the old state and the candidate.",
            _one_step, Knob("Step t", tuple(range(5)), 2), _with(t=str)),
    Chapter(2, "latch", "The update gate keeps or writes: the latch",
            {"cell": "gru", "hidden": "1", "source": "typed", "seq": _spike_seq(3), "weights": "preset:latch",
             "t": "3"}, "step",
            "Drag the spike to step 7, then predict again: where is h at the end?",
            _latch, Knob("Spike at step", tuple(range(LATCH_STEPS)), 3),
            _with(seq=_spike_seq, t=str)),
    Chapter(3, "delimiter", "The reset gate: forgetting at a delimiter",
            {"cell": "gru", "hidden": "1", "source": "typed", "seq": DELIMITER_SEQ, "weights": "preset:delimiter",
             "t": "3"}, "step",
            "Clamp r to 1 below, predict again, and read what happens at the delimiter.",
            _delimiter, Knob("Reset gate", ("free", "1"), "free", {"free": "free", "1": "clamped to 1"}),
            _with(clamp=lambda v: "" if v == "free" else "r:1")),
    Chapter(4, "conventions", "Two conventions, one family",
            {"cell": "gru", "hidden": "4", "gen": "sine", "steps": "40", "seed": "0", "t": "10"}, "step",
            "Switch the variant: the equations and the words change, the lesson does not.",
            _conventions,
            Knob("GRU variant", tuple(GRU_VARIANTS), "torch", {k: v.name for k, v in GRU_VARIANTS.items()}),
            _with(variant=str)),
    Chapter(5, "not", "A trained GRU reads “not good”",
            {"cell": "gru", "hidden": "16", "source": "typed", "seq": sentence_query(("the", "movie", "is", "not",
                                                                                       "good")),
             "weights": "trained:gru-sentiment", "t": "6"}, "timeline",
            "Pick another sentence: with and without “not”, “good” and “bad”.",
            _sentiment, Knob("Sentence", SENTENCE_CHOICES, "the movie is not good"),
            _with(seq=lambda s: sentence_query(tuple(s.split())),
                  t=lambda s: str(SENTIMENT_T - len(s.split()) + (s.split().index("not") if "not" in s.split()
                                                                   else len(s.split()) - 1)))),
    Chapter(6, "memory", "How long a GRU, an LSTM and an RNN remember",
            {"cell": "gru", "hidden": "8", "source": "typed", "seq": _spike_seq(MEMORY_AT, 20), "seed": "0",
             "t": str(MEMORY_AT)}, "compare",
            "Set the keep bias β to 0, torch's plain init, and predict again.",
            _memory, Knob("Keep bias β", (0.0, 1.0, 2.0, 3.0), MEMORY_BETA), None),
    Chapter(7, "gradients", "Vanishing gradients, and z's direct path",
            {"cell": "gru", "hidden": "4", "gen": "noise", "steps": str(GRADIENT_STEPS), "seed": "0"}, "gradients",
            "Set the keep bias β to 0, torch's plain init, predict again, and watch the GRU's gradient and the RNN's.",
            _gradients, Knob("Keep bias β", (0.0, 1.0, 2.0, 3.0), GRADIENT_BETA), None),
    Chapter(8, "train", "Train one yourself, and open what it learned",
            {"cell": "gru", "hidden": "32", "source": "typed", "seq": adding_example(0),
             "weights": "trained:gru-adding", "t": "0"}, "train",
            "Try another example, then race a GRU, an LSTM and an RNN on the Train page and open what each learned.",
            _train, Knob("Example", tuple(range(5)), 0, {k: f"example {k + 1}" for k in range(5)}),
            _with(seq=adding_example)),
    Chapter(9, "seq2seq", "Where the GRU came from: reading a word, spelling its sound", {"word": S2S_WORDS[0]},
            "seq2seq", "Pick “though”, predict again, and compare its sound with “through”'s.",
            _seq2seq, Knob("Word", S2S_WORDS, S2S_WORDS[0]), _with(word=str)),
    Chapter(10, "real-text", "What a GRU learned from Python's source", {"model": "gru"}, "real_text",
            "Pick the vanilla RNN, predict again, and compare its units with the GRU's.",
            _real_text, Knob("Model", CHARLM_MODELS, "gru", CHARLM_NAMES), _with(model=str)),
)

LESSONS: dict[str, tuple[str, tuple[Chapter, ...]]] = {"gru": ("How a GRU works", CHAPTERS)}
DEFAULT_LESSON = "gru"


def chapters(lesson: str = DEFAULT_LESSON) -> tuple[Chapter, ...]:
    """The chapters of a lesson, in order."""
    return LESSONS[lesson][1]


def chapter(number: int, lesson: str = DEFAULT_LESSON) -> Chapter:
    """Chapter ``number`` (counted from 1) of a lesson."""
    return chapters(lesson)[number - 1]


def check(lesson: Lesson) -> list[str]:
    """Every sentence of a lesson that is false on its own run (empty when all hold)."""
    return [p for sentence in lesson.sentences for p in CLAIMS.check_text(sentence.text, lesson.context)]

