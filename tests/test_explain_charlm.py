"""Real text's words (explain/charlm.py): every sentence made from the numbers holds on them, and the same
sentence with any one of its numbers or words changed is caught."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gru_viz.core import charlm, units
from gru_viz.core.kinds import KIND, WITH_W_HH
from gru_viz.core.sources import ATTRIBUTIONS
from gru_viz.explain import charlm as words
from gru_viz.explain import registry
from gru_viz.explain.claims import _SLOT, NUMERIC, Context, Sentence
from tests.test_charlm import TEXT, char_model
from tests.test_units import planted

CHAR_KINDS = WITH_W_HH  # the kinds torch.nn has, and so the shipped character models (GRU, LSTM, RNN)
WORD_SWAPS = {"h": "c", "c": "h", "strong": "weak", "weak": "moderate", "moderate": "strong", "none": "weak",
              "above 0.9": "below 0.1", "below 0.1": "above 0.9"}


def falsified(s: Sentence) -> list[str]:
    """The sentence with each slot in turn changed to another value of its kind."""
    c = registry.EVERY.lookup(s.key)
    out = []
    for slot, kind in c.slots.items():
        v = s.slots[slot]
        if kind == "int":
            new = str(int(v) + 1)
        elif kind in NUMERIC:
            m = re.search(r"\d", v)
            new = v[: m.start()] + str((int(v[m.start()]) + 1) % 10) + v[m.start() + 1 :] if m else v
        elif v in WORD_SWAPS:
            new = WORD_SWAPS[v]
        elif slot in ("feature", "model", "gate", "state", "who"):
            new = {"feature": "bracket depth" if v != "bracket depth" else "inside a string",
                   "model": "LSTM" if v != "LSTM" else "GRU", "gate": "reset gate r" if v != "reset gate r" else
                   "update gate z", "state": "cell state c" if v != "cell state c" else "hidden state h",
                   "who": "Someone 2015"}[slot]
        else:
            new = v + "x"
        if new != v:
            slots = dict(s.slots, **{slot: new})
            out.append(_SLOT.sub(lambda m, slots=slots: slots[m.group(1)], c.template))
    return out


def assert_true_and_caught(sentences: list[Sentence], ctx: Context, caught: bool = True) -> None:
    """Every sentence holds; with ``caught``, each falsified variant is found false (numbers that tell every
    variant apart: a variant that happens to be true as well is the test's mistake, not the check's)."""
    text = "\n".join(str(s) for s in sentences)
    assert registry.check_text(text, ctx) == [], text
    assert [f.claim.key for f in registry.find(text)] == [s.key for s in sentences]
    for s in sentences if caught else ():
        for wrong in falsified(s):
            assert registry.check_text(wrong, ctx), f"not caught: {wrong!r} (true: {s.text!r})"


@pytest.mark.parametrize("kind", CHAR_KINDS)
def test_reading_sentences(kind: str) -> None:
    model = char_model(kind)
    rd = charlm.read(model, TEXT + "éé∑")
    for t in (0, 4, len(rd.text) - 2):
        ctx = Context(values={"reading": rd, "t": t})
        sentences = words.next_sentences(rd, t)
        assert len(sentences) == 2
        assert_true_and_caught([*sentences, words.unknown_sentence(rd)], ctx)
    last = words.next_sentences(rd, len(rd.text) - 1)
    assert [s.key for s in last] == ["text.next"]  # nothing follows the last character
    assert "“é” and “∑”" not in words.unknown_sentence(rd).text and "“é”, “∑”" in words.unknown_sentence(rd).text
    assert words.unknown_sentence(charlm.read(model, TEXT)) is None
    assert words.char_label("\n") == "“newline”" and words.char_label("<") == "“<”"


def test_units_found_sentences_named_none_and_flat() -> None:
    long = TEXT * 40
    rng = np.random.default_rng(1)
    col = units.FEATURES[3].values(long) + 0.3 * rng.normal(size=len(long))  # bracket depth, planted
    found = units.find_units(None, long, read=planted(long, {17: col}))
    ctx = Context(values={"found": found, "units": 80})
    sentences = words.found_sentences(found, 80)
    keys = [s.key for s in sentences]
    assert keys[:2] == ["text.scale", "text.heldout"]
    by = {f.feature: s for f, s in zip(found, sentences[2:], strict=True)}
    assert by["brackets"].key == "text.unit" and "Unit 17 of layer 1's h" in by["brackets"].text
    assert by["docstring"].key == "text.unit.flat"  # the snippet has no docstring
    assert "text.unit.none" in keys
    assert_true_and_caught(sentences, ctx)
    # a sentence naming a unit for a feature whose evidence is below the scale is false
    weak = next(f for f in found if not f.named and np.isfinite(f.r))
    from gru_viz.core.text_features import FEATURE
    claim = words.say("text.unit", unit=weak.unit, layer=weak.layer, which=weak.which,
                      feature=FEATURE[weak.feature].label, r=weak.r, chars=weak.chars, strength="weak")
    assert registry.check_text(claim.text, ctx)


@pytest.mark.parametrize("kind", CHAR_KINDS)
def test_saturation_sentences(kind: str) -> None:
    model = char_model(kind, 2)
    sat = units.saturation(charlm.states(model, TEXT * 5))
    ctx = Context(values={"kind": kind, "spec": model.spec, "saturation": sat})
    sentences = words.saturation_sentences(model.spec, sat)
    if not KIND[kind].sigmoid:
        assert [s.key for s in sentences] == ["text.sat.none"]
    else:
        assert sum(s.key == "text.sat" for s in sentences) == len(sat)
    assert_true_and_caught(sentences, ctx, caught=False)  # random gates: several layers may share the counts


def distinct(H: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Left and right shares of H units, with counts above one half that differ from seed to seed."""
    left = np.r_[np.full(seed % 3, 0.6), np.zeros(H - seed % 3)]
    right = np.r_[np.zeros(seed % 3), np.full(1 + seed % 2, 0.55), np.full(H - seed % 3 - 1 - seed % 2, 0.2)]
    return left * 0.98 + 0.01, right


def test_the_keeping_sentence_only_when_most_units_keep() -> None:
    model = char_model("gru", 3)
    H = model.spec.hidden_size
    keeps = (np.zeros(H), np.r_[np.full(H - 1, 0.8), 0.1])  # z (which keeps, torch) above 0.9 most of the time
    sat = {(0, "r"): distinct(H, 1), (0, "z"): keeps, (1, "r"): distinct(H, 2), (1, "z"): distinct(H, 3)}
    ctx = Context(values={"kind": "gru", "spec": model.spec, "saturation": sat})
    sentences = words.saturation_sentences(model.spec, sat)
    keep = [s for s in sentences if s.key == "text.sat.keep"]
    assert len(keep) == 1 and "layer 0's update gate z units (5 of 6) are above 0.9" in keep[0].text
    assert "hidden state h" in keep[0].text
    assert_true_and_caught(sentences, ctx)
    # the other side: most z units below 0.1, so the GRU mostly replaces h (and says nothing of keeping)
    sat[(1, "z")] = (keeps[1], keeps[0])
    sentences = words.saturation_sentences(model.spec, sat)
    write = [s for s in sentences if s.key == "text.sat.write"]
    assert len(write) == 1 and "layer 1's update gate z units (5 of 6) are below 0.1" in write[0].text
    assert_true_and_caught(sentences, ctx)
    assert registry.check_text(write[0].text.replace("layer 1", "layer 0"), ctx)  # layer 0's z keeps instead
    lstm = char_model("lstm", 3)
    sat = {(0, "i"): distinct(H, 4), (0, "f"): keeps, (0, "o"): distinct(H, 5)}
    s = [s for s in words.saturation_sentences(lstm.spec, sat) if s.key == "text.sat.keep"]
    assert len(s) == 1 and "forget gate f" in s[0].text and "cell state c" in s[0].text
    assert_true_and_caught(s, Context(values={"kind": "lstm", "spec": lstm.spec, "saturation": sat}))


@pytest.mark.parametrize("bpc, verdict", [({"gru": 2.01, "lstm": 1.96, "rnn": 2.4}, "text.bpc.same"),
                                          ({"gru": 2.4, "lstm": 1.9, "rnn": 2.1}, "text.bpc.differs")])
def test_bits_per_char_sentences_beside_the_paper(bpc: dict[str, float], verdict: str) -> None:
    ctx = Context(values={"bpc": bpc, "chars": 291388, "windows": (charlm.CHUNK, charlm.WARMUP)})
    sentences = words.bpc_sentences(bpc, 291388, charlm.CHUNK, charlm.WARMUP)
    assert [s.key for s in sentences][-2:] == ["text.bpc.paper", verdict]
    assert ATTRIBUTIONS["karpathy"].who in sentences[-2].text
    assert_true_and_caught(sentences, ctx)
    other = "text.bpc.differs" if verdict == "text.bpc.same" else "text.bpc.same"
    assert registry.check_text(words.say(other).text, ctx)


def test_pattern_sentences() -> None:
    rng = np.random.default_rng(4)
    idx = units.PatternIndex(rng.uniform(-1, 1, size=(400, 12)), "x" * 400)
    p = words.search(idx, 1, 100, 102, 0.0)
    assert len(p.units) and p.matches
    assert_true_and_caught(words.pattern_sentences(p), Context(values={"pattern": p}))
    assert p.full == sum(m.shared == len(p.units) for m in p.matches) - 1  # its own run is not "another place"
    none = words.search(idx, 1, 100, 200, 0.9)
    assert len(none.units) == 0
    assert_true_and_caught(words.pattern_sentences(none), Context(values={"pattern": none}))


def test_one_unit_is_said_in_the_singular() -> None:
    h = -np.ones((400, 12))
    for start in (100, 200, 300):  # unit 5 alone is on across three spans, off around them
        h[start : start + 3, 5] = 1.0
    p = words.search(units.PatternIndex(h, "x" * 400), 1, 100, 103, 0.3)
    assert [int(u) for u in p.units] == [5] and p.full == 2
    sentences = words.pattern_sentences(p)
    assert [s.key for s in sentences] == ["text.pattern.one", "text.pattern.found.one"]
    assert "one unit of layer 1, unit 5, is on" in sentences[0].text and "1 units" not in sentences[0].text
    assert_true_and_caught(sentences, Context(values={"pattern": p}))


def test_scan_sentence_says_how_strings_were_found() -> None:
    model = char_model("gru")
    for text, key in (("x = 'a'  # b\n", "text.scan.tokenize"), ("print('a\n  (", "text.scan.simple")):
        rd = charlm.read(model, text)
        s = words.scan_sentence(text)
        assert s.key == key
        assert_true_and_caught([s], Context(values={"reading": rd}), caught=False)
        other = "text.scan.simple" if key == "text.scan.tokenize" else "text.scan.tokenize"
        assert registry.check_text(words.say(other).text, Context(values={"reading": rd}))


def test_the_saturation_words_use_the_cores_thresholds() -> None:
    assert (charlm.LOW, charlm.HIGH) == (0.1, 0.9)
    for key in ("text.sat", "text.sat.mean"):
        t = registry.EVERY.lookup(key).template
        assert "below 0.1" in t and "above 0.9" in t
