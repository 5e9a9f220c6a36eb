"""The whole shareable state of the app in one place: a :class:`Config`, its URL form, and what it builds.

Like TensorFlow Playground's ``state.ts``: every setting a page shows lives in the query string, so a
teacher can paste one link and every student sees the same cell at the same step. Reading a URL never
fails: a value that is unknown or out of range falls back to its default and leaves a note to show.
Each setting's URL key, default, range and widget words are one row of :data:`PROPS` (state.ts's PROPS): the
link reader here and the sidebar's widgets read the same row. No Streamlit here; ``gru_viz.app.ui`` wires this
to widgets and ``st.query_params``.
"""

from __future__ import annotations

import base64
import bz2
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from ..core.kinds import KIND
from ..core.model import Model
from ..core.params import init_params, scale_recurrent
from ..core.presets import PRESETS
from ..core.sequences import GENERATORS, MAX_INPUT_CHARS, Sequence, SequenceError, generate, parse_sequence
from ..core.spec import CLAMPABLE, GRU_VARIANTS, KINDS, Spec
from ..core.tokens import TokenError, read_ids, shown, tokenize
from ..core.trace import Ablation, Trace
from ..explain import lessons
from ..explain import tokens as token_words
from ..explain.lessons import LESSONS
from ..explain.literal import literal, quoted
from ..io.seq2seq import MAX_WORD
from .limits import LIMITS, PROFILES, SCENE_MAX_BYTES, Limits, MiB

SOURCES = ("typed", "text", "gen")
CLAMP_VALUES = ("free", "0", "1")
HIDEABLE = ("controls", "equations", "diagram", "ablation", "weights", "predict", "export")
# What a click on the diagram, the bars or the equations can select: an equation line's quantity, or the input.
# what a click may select (the link's "sel"): the input, every kind's quantities, h, and a projected LSTM's m
SELECTABLE = tuple(dict.fromkeys(["x", *(q for r in KIND.values() for q in (*r.blocks, *r.extra)), "h", "m"]))
H0_CHOICES = ("zeros", "random")
UNIT_ORDERS = ("index", "activity", "cluster")  # figures.timeline.ORDERS (serve does not import figures)
CHAR_MODELS = ("gru", "lstm", "rnn")  # the Real text page's shipped language models (gru_viz.io.charlm)
# The Real text page's text when the link has none: a few lines of Python, the kind of text the models learned.
TEXT_DEFAULT = ('def greet(name, times=2):\n    """Say hello (politely)."""\n    for i in range(times):\n'
                '        print("hello, " + name)  # one line each\n    return [name] * times\n')
FULL = PROFILES["default"]  # the full caps: the largest values any server allows (a profile may lower some)

# A session's own model (uploaded or trained) lives in the memory of the one server process serving the tab.
SESSION_MODEL_HOME = (
    "It lives only in the memory of the server process serving this tab (on a school server: one of its replicas), "
    "never on disk: if that process restarts or goes, the tab reconnects and shows the same link, but without "
    "your model — upload or train it again."
)
SESSION_MODEL_GONE = (
    "This link asks for the tab's own model (uploaded or trained), which is not here: it lived in the memory of "
    "one server process, and this tab is now served by another one (a new tab, or the server restarted or a "
    "replica went). Showing random weights instead; upload or train it again."
)


# ------------------------------------------------------------------------------------------------- props
# Every setting's URL key, default, range and widget words in one table, as TensorFlow Playground's PROPS: the
# link reader (from_query) and the sidebar (gru_viz.app.ui) both read it, so a range is written once.


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("use 1 or 0")


def _weights(text: str) -> str:
    kind, _, key = text.partition(":")
    if text in ("random", "session") or (kind == "preset" and key in PRESETS):
        return text
    if kind == "trained":
        from ..io.trained import TRAINED_PRESETS  # only the names; the files load when a page asks for one

        if key in TRAINED_PRESETS:
            return text
    raise ValueError("must be random, preset:<name> or trained:<name> of a shipped model")


def _clamp(text: str) -> str:
    parts = []
    for part in filter(None, text.split(",")):
        gate, sep, value = part.partition(":")
        if not sep or value not in ("0", "1") or gate not in {g for gs in CLAMPABLE.values() for g in gs}:
            raise ValueError("write gate:value pairs such as z:1,r:0")
        parts.append(f"{gate}:{value}")
    return ",".join(parts)


def _hide(text: str) -> str:
    parts = [p for p in text.split(",") if p]
    bad = [p for p in parts if p not in HIDEABLE]
    if bad:
        raise ValueError(f"unknown part {bad[0]!r}; parts: {', '.join(HIDEABLE)}")
    return ",".join(parts)


def _sel(text: str) -> str:
    if text and text not in SELECTABLE:
        raise ValueError(f"must be one of {', '.join(SELECTABLE)}")
    return text


def _gp(text: str) -> str:
    for part in filter(None, text.split(",")):
        name, sep, value = part.partition("=")
        if not sep or not name.isidentifier():
            raise ValueError("write name=value pairs such as period=20")
        try:
            float(value)
        except ValueError:  # Python's own message ("could not convert …") is not for a learner
            raise ValueError(f"{name}={value[:20]!r} is not a number") from None
    return text


CLIP_CHOICES = (0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0)  # Gradient flow's clip thresholds (max_norm)


def _clip(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value not in CLIP_CHOICES:
        raise ValueError(f"must be one of {', '.join(f'{c:g}' for c in CLIP_CHOICES)}")
    return value


@dataclass(frozen=True)
class Prop:
    """One Config field: its URL key, default and allowed values, and the words of the widget that sets it."""

    name: str  # the Config field, and its key in the link
    default: Any
    low: float | None = None  # a number's smallest value
    high: float | None = None  # a number's largest value on any server (FULL); a text's longest length
    step: float | None = None  # the widget's step
    label: str = ""  # the widget's label; "{high}" in it is this server's largest value
    help: str | None = None  # the widget's tooltip
    choices: tuple[str, ...] = ()  # the values a text may take
    cap: str = ""  # the Limits field that a server's profile may set below ``high``
    what: str = ""  # the setting in a sentence, for the note when that cap applies
    reader: Callable[[str], Any] | None = None  # a structured text's own reader (weights, clamps, pairs)
    keep_spaces: bool = False  # read the link's text as it is (typed input), not stripped
    instead: str = ""  # what the page shows when the link's value is refused, if not "using <default>"

    @property
    def type(self) -> type:
        """The field's Python type: that of its default."""
        return type(self.default)

    def top(self, limits: Limits = LIMITS) -> float | None:
        """The largest value on a server with ``limits``: ``high``, or the profile's lower cap."""
        return min(self.high, getattr(limits, self.cap)) if self.cap else self.high

    def read(self, text: str) -> Any:
        """The value a link's text stands for; ValueError (or OverflowError) says why it is refused."""
        if self.reader is not None:
            return self.reader(text)
        if self.type is bool:
            return _bool(text)
        if self.choices:
            if text not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}")
            return text
        if self.type is str:
            if self.high is not None and len(text) > self.high:
                raise ValueError(f"is longer than {self.high} characters")
            return text
        try:
            value = self.type(text)
        except ValueError:  # Python's own message ("invalid literal for int() …") is not for a learner
            what = "a whole number" if self.type is int else "a number"
            raise ValueError(f"must be {what} from {self.low} to {self.high}") from None
        if (self.type is float and not np.isfinite(value)) or not self.low <= value <= self.high:
            raise ValueError(f"must be from {self.low} to {self.high}")
        return value

    @property
    def fallback(self) -> str:
        """What the page uses instead of a refused value, in words."""
        return self.instead or f"using {self.default!r}"

    def widget(self, limits: Limits = LIMITS) -> dict[str, Any]:
        """Keyword arguments of the Streamlit widget for this field on a server with ``limits``: its label, help,
        and its options or its min, max and step."""
        top = self.top(limits)
        out: dict[str, Any] = {"label": self.label.format(high=top), "help": self.help}
        if self.choices:
            out["options"] = self.choices
        elif self.low is not None and self.type in (int, float):
            out.update(min_value=self.low, max_value=top, step=self.step)
        return out


PROPS: dict[str, Prop] = {p.name: p for p in (
    Prop("cell", "gru", choices=KINDS, label="Cell"),
    Prop("variant", "torch", choices=tuple(GRU_VARIANTS), label="GRU variant"),
    Prop("hidden", 4, 1, FULL.hidden, 1, "Hidden size H", cap="hidden", what="the hidden size H"),
    Prop("source", "gen", choices=SOURCES, label="Input"),
    Prop("seq", "0, 0, 0, 1, 0, 0, 0, 0, 0, 0", high=20_000, label="Sequence", keep_spaces=True),
    Prop("gen", "sine", choices=tuple(GENERATORS), label="Generator"),
    Prop("steps", 40, 1, FULL.steps, 1, "Steps (≤ {high:,})", cap="steps", what="the number of steps"),
    Prop("gp", "", reader=_gp),
    Prop("weights", "random", label="Weights", reader=_weights),
    Prop("seed", 0, 0, 2**31 - 1, 1, "Seed"),
    Prop("scale", 1.0, 0.0, 5.0, 0.1, "Recurrent weight scale",
         help="Multiplies every W_hh: small fades memory, large saturates or explodes."),
    Prop("h0", "zeros", choices=H0_CHOICES, label="Initial state h₀"),
    Prop("clamp", "", reader=_clamp),
    Prop("t", 0, 0, FULL.steps - 1),  # each page's cursor runs to its own run's end
    Prop("unit", 0, 0, FULL.hidden - 1),  # each page's unit picker runs to its own model's H
    Prop("order", "index", choices=UNIT_ORDERS, label="Order the units",
         help="Timeline's rows: by index; by activity (mean |Δh|, the most active on top); or clustered (units "
              "whose h moves together side by side)."),
    Prop("present", False, label="Presenter mode",
         help="Larger type for a projector; the link carries it to every student."),
    Prop("hide", "", reader=_hide),
    Prop("predict", False, label="Predict",
         help="Predict, then reveal: guess the gates of a step before you see them."),
    Prop("sel", "", reader=_sel),
    Prop("lesson", "gru", choices=tuple(LESSONS)),
    Prop("chapter", 0, 0, max(len(chapters) for _, chapters in LESSONS.values()), instead="showing chapter 1"),
    # Page-scoped settings: each is read by one page only, and named after it (cmp_: Compare cells, grad_: Gradient
    # flow, knob: the Learn chapter's knob, whose values are the chapter's own and checked against it in from_query).
    Prop("knob", "", high=40, label="The chapter's knob"),
    Prop("cmp_beta", 2.0, 0.0, 6.0, 0.5, "Keep bias β"),
    Prop("cmp_min", False, label="Include minGRU and minLSTM"),
    Prop("cmp_steps", 100, 10, FULL.experiment_steps, 1, "Steps", cap="experiment_steps",
         what="the memory experiments' length"),
    Prop("cmp_at", 5, 0, FULL.experiment_steps - 1, 1, "Spike at step k"),
    Prop("cmp_first", False, label="Remember the first input"),
    Prop("grad_beta", 0.0, 0.0, 6.0, 0.5, "Keep bias β"),
    Prop("grad_min", False, label="Include minGRU and minLSTM"),
    Prop("clip", 1.0, label="Clip threshold (max_norm)", reader=_clip),
    Prop("clip_cell", "rnn", choices=KINDS, label="Clip the gradient of"),
    Prop("word", "through", high=MAX_WORD, label="Word", keep_spaces=True,  # the Encoder–decoder page's word
         help="Any word: the model reads the letters a–z; anything else it reads as unknown."),
    Prop("s2s", "g2p", choices=("g2p", "session"), label="Encoder–decoder",  # the Encoder–decoder page's model
         instead="showing g2p-en's model"),
    # The Real text page: which character-level language model, the learner's own text (packed in the link like
    # seq), and the layer its unit is read from (the unit and the cursor are the shared ``unit`` and ``t``).
    Prop("model", "gru", choices=CHAR_MODELS, label="Model",
         help="The character-level language model trained on Python's own standard library: a GRU, an LSTM or a "
              "vanilla RNN of about the same size."),
    Prop("text", TEXT_DEFAULT, high=20_000, label="Your text", keep_spaces=True,
         help="Type or paste any text; the models learned Python source, so Python reads best."),
    Prop("layer", 0, 0, 3, 1, "Layer", instead="showing layer 0"),  # the page keeps it inside its model
)}
PAGE_ONLY = ("knob", "cmp_beta", "cmp_min", "cmp_steps", "cmp_at", "cmp_first", "grad_beta", "grad_min", "clip",
             "clip_cell", "word", "s2s", "model", "text", "layer")  # read by one page each: not a scene's settings


def _default(name: str) -> Any:
    return PROPS[name].default


@dataclass(frozen=True)
class Config:
    """Everything that decides what the pages show. Field names are the URL keys; defaults and ranges: PROPS."""

    cell: str = _default("cell")  # gru, lstm, rnn, mingru
    variant: str = _default("variant")  # GRU variant key
    hidden: int = _default("hidden")  # H
    source: str = _default("source")  # typed, text or gen(erator)
    seq: str = _default("seq")  # what was typed (numbers or text)
    gen: str = _default("gen")  # generator key
    steps: int = _default("steps")  # generator length
    gp: str = _default("gp")  # generator parameters, "period=20,amplitude=1"
    weights: str = _default("weights")  # random, preset:<key>, trained:<key>, session (uploaded/trained this session)
    seed: int = _default("seed")  # weight seed (and generator seed)
    scale: float = _default("scale")  # multiplier on the recurrent matrices W_hh
    h0: str = _default("h0")  # zeros or random
    clamp: str = _default("clamp")  # "z:1,r:0": gates clamped over the whole run
    t: int = _default("t")  # time cursor
    unit: int = _default("unit")  # selected hidden unit
    order: str = _default("order")  # Timeline's unit rows: index, activity or cluster
    present: bool = _default("present")  # presenter mode: large type, controls collapsed
    hide: str = _default("hide")  # comma-separated HIDEABLE parts
    predict: bool = _default("predict")  # "predict, then reveal"
    sel: str = _default("sel")  # the quantity selected on Step through (highlighted in the diagram, equations and bars)
    lesson: str = _default("lesson")  # the Learn page's lesson (gru_viz.explain.lessons.LESSONS)
    chapter: int = _default("chapter")  # its chapter, from 1; 0: not in a lesson (the Learn page opens chapter 1)
    knob: str = _default("knob")  # the chapter's knob, as text ("" at the chapter's default)
    cmp_beta: float = _default("cmp_beta")  # Compare cells: the keep bias β
    cmp_min: bool = _default("cmp_min")  # Compare cells: minGRU and minLSTM join the line-up
    cmp_steps: int = _default("cmp_steps")  # Compare cells: the memory experiments' length
    cmp_at: int = _default("cmp_at")  # Compare cells: the impulse response's spike
    cmp_first: bool = _default("cmp_first")  # Compare cells: "Remember the first input" is shown
    grad_beta: float = _default("grad_beta")  # Gradient flow: the keep bias β
    grad_min: bool = _default("grad_min")  # Gradient flow: minGRU and minLSTM join
    clip: float = _default("clip")  # Gradient flow: the clip threshold max_norm
    clip_cell: str = _default("clip_cell")  # Gradient flow: the cell whose gradient is clipped
    word: str = _default("word")  # the Encoder–decoder page's word, as typed
    s2s: str = _default("s2s")  # the Encoder–decoder page's model: g2p-en's, or the session's uploaded one
    model: str = _default("model")  # Real text: the language model (gru, lstm, rnn)
    text: str = _default("text")  # Real text: the learner's text, as typed
    layer: int = _default("layer")  # Real text: the layer the unit is read from

    @property
    def clamps(self) -> dict[str, str]:
        """Gate → "0"/"1" for every clamped gate."""
        out = {}
        for part in filter(None, self.clamp.split(",")):
            gate, _, value = part.partition(":")
            out[gate] = value
        return out

    @property
    def hidden_parts(self) -> frozenset[str]:
        """The page parts hidden by the ``hide`` flag."""
        return frozenset(filter(None, self.hide.split(",")))

    def gen_params(self) -> dict[str, float]:
        """Generator parameters from ``gp``."""
        out = {}
        for part in filter(None, self.gp.split(",")):
            name, _, value = part.partition("=")
            out[name] = float(value)
        return out


DEFAULT = Config()

# The three one-click starting demos of the home page.
DEMOS: dict[str, tuple[str, str, Config]] = {
    "latch": (
        "The latch remembers a spike",
        PRESETS["latch"].description,
        Config(cell="gru", hidden=1, source="typed", seq=PRESETS["latch"].example, weights="preset:latch", t=3),
    ),
    "delimiter": (
        "Reset on a delimiter",
        PRESETS["delimiter"].description,
        Config(cell="gru", hidden=1, source="typed", seq=PRESETS["delimiter"].example,
               weights="preset:delimiter", t=3),
    ),
    "sine": (
        "A sine wave through a GRU",
        "Forty steps of a sine wave into a random 4-unit GRU: watch z and r follow the input's phase.",
        Config(cell="gru", hidden=4, source="gen", gen="sine", steps=40, weights="random", seed=0, t=10),
    ),
}


# What Step through and Timeline show a session that came with no link at all (gru_viz.app.ui.land): a scene that
# teaches (the latch writing its spike, with the narration beside it), not muddy random weights. It is not the
# Config's defaults: links leave out default values, so every old link keeps its meaning; a link to the defaults
# themselves (random weights) says so (see to_query).
LANDING = DEMOS["latch"][2]


# --------------------------------------------------------------------------------------------------- URL


# A long typed input goes into the link packed: "bz2:" + base64url of the bzip2 of the text's UTF-8 exactly as
# typed, so the link gives back the very text (hence the very values) the sidebar parsed. bzip2, not deflate: on
# typed numbers it is about a fifth shorter, enough for 5,000 steps of numbers with 4 significant digits to stay under
# the link's 20,000 characters (the plain form took about 47,000). The plain form is still read.
PACKED = "bz2:"
PACK_OVER = 200  # characters of input from which the link writes the packed form (when it is the shorter one)
PACKED_MAX_BYTES = 4 * MAX_INPUT_CHARS  # the longest input in UTF-8: a packed input may unpack to no more
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
INPUT_SOURCES = ("typed", "text")  # the sources that read ``seq``
PACKED_KEYS = ("seq", "text")  # the typed texts a link may carry packed


def pack(text: str) -> str:
    """The link form of a typed input: as it is when short, else packed (see PACKED)."""
    if len(text) <= PACK_OVER and not text.startswith(PACKED):
        return text
    packed = PACKED + base64.urlsafe_b64encode(bz2.compress(text.encode("utf-8"), 9)).decode("ascii").rstrip("=")
    return packed if len(packed) < len(text) or text.startswith(PACKED) else text


def unpack(text: str) -> str:
    """The typed input a link's ``seq`` stands for: a packed one unpacked (at most PACKED_MAX_BYTES), a plain one as
    it is; ValueError says what is wrong with a packed one."""
    if not text.startswith(PACKED):
        return text
    payload = text[len(PACKED):]
    if not _BASE64URL.fullmatch(payload) or len(payload) % 4 == 1:
        raise ValueError("its packed input is not base64url text")
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    unzip = bz2.BZ2Decompressor()
    try:
        out = unzip.decompress(data, PACKED_MAX_BYTES + 1)  # a zip bomb stops here, at the cap
    except (OSError, EOFError):  # not bzip2 data
        raise ValueError("its packed input is not bzip2 data") from None
    if len(out) > PACKED_MAX_BYTES:
        raise ValueError(f"its packed input unpacks to more than {PACKED_MAX_BYTES:,} bytes")
    if not unzip.eof or unzip.unused_data:
        raise ValueError("its packed input is cut short or has extra bytes")
    try:
        plain = out.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("its packed input is not UTF-8 text") from None
    if len(plain) > MAX_INPUT_CHARS:
        raise ValueError(f"its packed input is {len(plain):,} characters long; at most {MAX_INPUT_CHARS:,}")
    return plain


def knob_text(value: object) -> str:
    """A chapter knob's value as the link writes it (a β of 2.0 as "2")."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def knob_option(lesson: str, chapter: int, text: str) -> object:
    """The option of chapter ``chapter``'s knob (chapter 0: the first) that ``text`` names; its default for ""."""
    ch = lessons.chapter(min(max(chapter, 1), len(lessons.chapters(lesson))), lesson)
    if ch.knob is None:
        raise ValueError(f"chapter {ch.number} has no knob")
    if text == "":
        return ch.knob.default
    by_text = {knob_text(o): o for o in ch.knob.options}
    if text in by_text:
        return by_text[text]
    with_floats = {float(o): o for o in ch.knob.options if isinstance(o, float)}
    try:
        if float(text) in with_floats:
            return with_floats[float(text)]
    except ValueError:
        pass
    listed = ", ".join(by_text)
    raise ValueError(f"chapter {ch.number}'s {ch.knob.label} takes "
                     + (listed if len(listed) <= 80 else f"one of the {len(by_text)} on its page"))


def _read_one(prop: Prop, text: str) -> Any:
    value = prop.read(text if prop.keep_spaces else text.strip())
    return unpack(value) if prop.name in PACKED_KEYS else value


def _cross_check(values: dict[str, object], notes: list[str]) -> None:
    """The settings whose meaning depends on another one: the input without a source that reads it, a chapter
    past its lesson's end, a knob its chapter does not have."""
    if "seq" in values and values.get("source", DEFAULT.source) not in INPUT_SOURCES:
        notes.append(f"Ignored seq={quoted(str(values.pop('seq')), 40)} from the link: the input is read only with "
                     "source=typed (numbers) or source=text, and this link's input is the generator. Add source=typed "
                     "to the link to use it.")
    lesson = str(values.get("lesson", DEFAULT.lesson))
    count = len(lessons.chapters(lesson))
    if int(values.get("chapter", 0)) > count:
        notes.append(f"Ignored chapter={values['chapter']} from the link: this lesson has chapters 1 to {count}; "
                     "showing chapter 1.")
        values["chapter"] = 0
    if "knob" in values:
        chapter = int(values.get("chapter", 0))
        try:
            option = knob_option(lesson, chapter, str(values["knob"]))
        except ValueError as exc:
            notes.append(f"Ignored knob={quoted(str(values.pop('knob')), 40)} from the link ({literal(exc, 160)}); "
                         "showing the chapter's own setting.")
        else:  # the chapter's default is written as no knob: one link per scene
            ch = lessons.chapter(min(max(chapter, 1), count), lesson)
            values["knob"] = "" if option == ch.knob.default else knob_text(option)


def from_query(query: Mapping[str, str | list[str]], limits: Limits = LIMITS) -> tuple[Config, list[str]]:
    """The Config a URL describes, and a note for every value that was ignored (never an exception); the notes
    are markdown in which everything the link supplied is literal text."""
    values: dict[str, object] = {}
    notes: list[str] = []
    for name, prop in PROPS.items():
        if name not in query:
            continue
        raw = query[name]
        text = raw[-1] if isinstance(raw, list) and raw else raw
        text = str(text) if not isinstance(text, list) else ""
        try:
            values[name] = _read_one(prop, text)
        except (ValueError, OverflowError) as exc:  # the value (and a message quoting it) stays literal text
            notes.append(f"Ignored {name}={quoted(text, 40)} from the link ({literal(exc, 120)}); {prop.fallback}.")
    _cross_check(values, notes)
    for prop in (p for p in PROPS.values() if p.cap):  # the classroom profile: the cap, and a note saying so
        name, cap = prop.name, prop.top(limits)
        if int(values.get(name, prop.default)) > cap:
            notes.append(f"This server runs its {limits.title} profile: {prop.what} is at most {cap:,} here, so the "
                         f"link's {name}={values[name]} is shown as {name}={cap}.")
            values[name] = cap
    unknown = sorted(k for k in query if k not in PROPS)
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        notes.append(f"Ignored unknown link settings: {', '.join(literal(k, 60) for k in unknown[:5])}{more}.")
    return replace(DEFAULT, **values), notes


def to_query(cfg: Config) -> dict[str, str]:
    """The query-string form of ``cfg``: only the values that differ from the defaults, so links stay short; a
    long input packed (see :func:`pack`), and none at all when the generator is the input.

    The defaults themselves are written ``weights=random``: an empty link is the landing scene (:data:`LANDING`)."""
    out = {}
    for f in fields(Config):
        value = getattr(cfg, f.name)
        if value == getattr(DEFAULT, f.name) or (f.name == "seq" and cfg.source not in INPUT_SOURCES):
            continue
        text = ("1" if value else "0") if isinstance(value, bool) else str(value)
        out[f.name] = pack(text) if f.name in PACKED_KEYS else text
    return out or {"weights": cfg.weights}


# ------------------------------------------------------------------------------------------------ build


@dataclass
class Scene:
    """What a Config builds: the input, the model, its run, and notes (e.g. about adjusted settings)."""

    cfg: Config
    seq: Sequence
    model: Model
    trace: Trace
    notes: list[str] = field(default_factory=list)
    stale: str = ""  # set on the last good scene kept under an error: that error (the page greys the scene)

    @property
    def steps(self) -> int:
        """T."""
        return self.seq.steps


class ConfigError(ValueError):
    """A Config whose input or weights cannot be built; the message is for the page."""


def build_sequence(cfg: Config, width: int | None = None, limits: Limits = LIMITS) -> Sequence:
    """The input sequence of ``cfg`` (raises SequenceError with a message for the page)."""
    if cfg.source in ("text", "typed"):
        seq = parse_sequence(cfg.seq, "text") if cfg.source == "text" else parse_sequence(cfg.seq, "numbers", width)
        if seq.steps > limits.steps:  # the classroom profile's cap (the core's own is MAX_STEPS)
            raise SequenceError(f"the input has {seq.steps:,} steps; this server ({limits.title} profile) runs "
                                f"inputs of up to {limits.steps:,} steps")
        return seq
    try:
        params = cfg.gen_params()
    except ValueError:
        raise SequenceError(f"generator settings {cfg.gp!r} are not name=number pairs") from None
    return generate(cfg.gen, min(cfg.steps, limits.steps), cfg.seed, **params)


def reads_tokens(cfg: Config, model: Model | None) -> bool:
    """Whether ``cfg``'s typed text goes into ``model``'s own embedding (your model, with one, on the text input)."""
    return cfg.source == "text" and cfg.weights == "session" and model is not None and model.embedding is not None


def token_sequence(text: str, model: Model, limits: Limits = LIMITS) -> tuple[Sequence, list[str]]:
    """Typed text (or token ids, when the file names no tokens) read into ``model``'s embedding: the embedded rows
    as the input, the tokens as the step labels, and what was done to the text in notes (SequenceError: why not)."""
    emb = model.embedding
    try:
        tok = tokenize(text, emb.vocabulary) if emb.vocabulary is not None else read_ids(text, emb.size)
    except TokenError as exc:
        raise SequenceError(str(exc)) from None
    if tok.ids.size == 0:
        if tok.pieces == 0:
            what = "token ids, e.g. 3 14 15" if emb.vocabulary is None else f"a few {tok.unit}s"
            raise SequenceError(f"there is no text to read: type {what}")
        typed = token_words.quoted_list(tok.unknown, escape=False)
        raise SequenceError(f"the model's vocabulary has none of the {tok.unit}s typed ({typed}) and no unknown "
                            "mark, so there is nothing to read: use words it knows")
    if tok.ids.size > limits.steps:
        raise SequenceError(f"the text makes {tok.ids.size:,} steps; this server ({limits.title} profile) runs "
                            f"inputs of up to {limits.steps:,} steps")
    n = tok.ids.size
    unit = "token id" if tok.unit == "id" else tok.unit
    seq = Sequence(emb.lookup(tok.ids), tuple(shown(t) for t in tok.tokens),
                   source=f"your text ({n} {unit}{'s' if n != 1 else ''})", tokens=True)
    said = token_words.notes(tok, emb.size)
    if tok.unit == "id":
        return seq, [" ".join(s.text for s in said) + " " + token_words.ADD_VOCABULARY]
    return seq, [" ".join(s.text for s in said)]


def build_spec(cfg: Config, input_size: int) -> Spec:
    """The model architecture for ``cfg`` and an input width."""
    return Spec(cfg.cell, input_size, cfg.hidden, variant=cfg.variant if cfg.cell == "gru" else "torch")


def build_model(cfg: Config, input_size: int, session_model: Model | None = None) -> tuple[Model, list[str]]:
    """The model ``cfg`` names, with its recurrent matrices scaled; notes say what was adjusted."""
    notes: list[str] = []
    kind, _, key = cfg.weights.partition(":")
    if kind == "preset":
        model = PRESETS[key].model()
        if model.spec.input_size != input_size:
            raise ConfigError(
                f"the preset {PRESETS[key].name!r} takes {model.spec.input_size} value(s) per step, "
                f"the input has {input_size}: pick Random weights in the sidebar for a cell that reads this input"
            )
    elif kind == "session" and session_model is not None:
        model = session_model
        if model.spec.input_size != input_size:
            raise ConfigError(f"this model takes {model.spec.input_size} value(s) per step, the input has {input_size}")
    elif kind == "trained":
        from ..io.trained import load_trained  # the trained presets ship as files; loaded only when asked for

        model = load_trained(key).model
        if model.spec.input_size != input_size:
            raise ConfigError(f"this trained model takes {model.spec.input_size} value(s) per step, "
                              f"the input has {input_size}: pick Random weights in the sidebar for a cell that "
                              "reads this input")
    else:
        if kind == "session":
            notes.append(SESSION_MODEL_GONE)
        model = Model(build_spec(cfg, input_size), init_params(build_spec(cfg, input_size), cfg.seed))
    return scale_recurrent(model, cfg.scale), notes


def ablations_of(cfg: Config, kind: str) -> tuple[Ablation, ...]:
    """The clamps of ``cfg`` that this kind of cell has."""
    return tuple(
        Ablation(gate, float(value)) for gate, value in cfg.clamps.items() if gate in CLAMPABLE[kind]
    )


def initial_state(cfg: Config, model: Model) -> np.ndarray | tuple[np.ndarray, np.ndarray] | None:
    """h0 (and c0) for one unbatched sequence: zeros, or seeded random in (−1, 1)."""
    if cfg.h0 == "zeros":
        return None
    s = model.spec
    rng = np.random.default_rng(cfg.seed + 1)
    shape = (s.num_layers * s.directions, s.out_size)
    h0 = rng.uniform(-1, 1, shape)
    if s.kind == "lstm":
        return h0, rng.uniform(-1, 1, (s.num_layers * s.directions, s.hidden_size))
    return h0


def trace_bytes(model: Model, seq: Sequence) -> int:
    """About how many bytes the full trace of ``model`` on ``seq`` keeps (measured on its first two steps)."""
    probe = model.run(seq.values[:2])
    per_step = sum(arr.nbytes for lt in (lt for layer in probe.layers for lt in layer)
                   for arr in (lt.x, lt.h, *lt.gates.values(), *lt.pre.values())) / min(seq.steps, 2)
    return int(per_step * seq.steps)


def check_trace_size(model: Model, seq: Sequence) -> None:
    """Refuse a run whose trace would not fit one server's budget (a large uploaded model on a long input)."""
    size = trace_bytes(model, seq)
    if size <= SCENE_MAX_BYTES:
        return
    fits = max(1, int(seq.steps * SCENE_MAX_BYTES / size))
    raise ConfigError(f"this run would keep about {size / MiB:,.0f} MB of gates and states ({seq.steps:,} steps "
                      f"through {model.spec.describe()}); one run may keep at most {SCENE_MAX_BYTES / MiB:.0f} MB "
                      f"on this server: use at most {fits:,} steps, or a smaller model")


def build_scene(cfg: Config, session_model: Model | None = None) -> Scene:
    """Build input, model and trace for ``cfg``; raises SequenceError/ConfigError with a page message."""
    width = session_model.spec.input_size if cfg.weights == "session" and session_model is not None else None
    if cfg.weights.startswith("preset:"):
        width = PRESETS[cfg.weights.partition(":")[2]].model().spec.input_size
    said: list[str] = []
    if reads_tokens(cfg, session_model):
        seq, said = token_sequence(cfg.seq, session_model)
    else:
        seq = build_sequence(cfg, width if cfg.source == "typed" else None)
    model, notes = build_model(cfg, seq.width, session_model)
    notes = said + notes
    check_trace_size(model, seq)
    trace = model.run(seq.values, initial_state(cfg, model), ablations_of(cfg, model.spec.kind))
    return Scene(cfg, seq, model, trace, notes)


VIEW_ONLY = {"t": 0, "unit": 0, "order": "index", "present": False, "hide": "", "predict": False, "sel": "",
             "word": PROPS["word"].default, "s2s": PROPS["s2s"].default}  # the Encoder–decoder page's: no scene


def without_view(cfg: Config) -> Config:
    """``cfg`` with the fields that only change how a run is shown reset: what a scene is built (and cached) from."""
    return replace(without_page(cfg), **VIEW_ONLY)


def without_page(cfg: Config) -> Config:
    """``cfg`` with the page-scoped settings (:data:`PAGE_ONLY`) at their defaults: what the shared scene is."""
    return replace(cfg, **{name: PROPS[name].default for name in PAGE_ONLY})


def normalise(cfg: Config, scene: Scene | None = None) -> Config:
    """Keep the cursor and unit inside the run, and settings consistent with the model that was built."""
    changes: dict[str, object] = {}
    if scene is not None:
        if cfg.t >= scene.steps:
            changes["t"] = scene.steps - 1
        if cfg.unit >= scene.model.spec.hidden_size:
            changes["unit"] = 0
    return replace(cfg, **changes) if changes else cfg
