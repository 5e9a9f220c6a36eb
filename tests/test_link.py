"""Every setting in the link (issue 23, item 7): long inputs go into the link packed and come back exactly, a hostile
packed input is refused with a note, and every key's junk value gets a note naming the key, in words meant for a
learner (never Python's own message). The pages' knobs: tests/test_link_pages.py."""

from __future__ import annotations

import base64
import bz2
import urllib.parse

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gru_viz.core.sequences import MAX_INPUT_CHARS, MAX_STEPS, parse_sequence
from gru_viz.explain import lessons
from gru_viz.serve import state

LINK_CAP = state.PROPS["seq"].high  # the link reader's own cap on the input's text: "longer than 20000 characters"
PYTHON_WORDS = ("invalid literal", "Traceback", "could not convert", "Exceeds the limit", "base 10", "Error")


def link_length(query: dict[str, str]) -> int:
    return len(urllib.parse.urlencode(query))


def packed(raw: bytes) -> str:
    return state.PACKED + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def typed_numbers(seed: int, steps: int, digits: int, sep: str) -> str:
    """``steps`` scalars as a learner types them: up to ``digits`` significant digits, any size within ±1e6."""
    rng = np.random.default_rng(seed)
    values = np.exp(rng.uniform(-20, 13.8, steps)) * rng.choice([-1, 1], steps)
    return sep.join(f"{v:.{digits}g}" for v in values)


def test_the_5000_step_input_of_the_issue_fits_the_link_and_comes_back_exactly() -> None:
    seq = ", ".join(f"{v:.2f}" for v in np.random.default_rng(23).uniform(-1, 1, MAX_STEPS))
    cfg = state.Config(source="typed", seq=seq)
    assert link_length({"source": "typed", "seq": seq}) > 40_000  # the plain link the issue saw refused
    query = state.to_query(cfg)
    assert query["seq"].startswith(state.PACKED) and len(query["seq"]) <= LINK_CAP
    assert state.from_query(query) == (cfg, [])
    assert state.from_query({"source": "typed", "seq": seq}) != (cfg, [])  # the plain form past the cap: refused


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, MAX_STEPS), digits=st.integers(1, 4),
       sep=st.sampled_from([", ", ",", "\n", " , "]))
def test_typed_numbers_up_to_the_caps_round_trip_and_fit_the_link(seed, steps, digits, sep) -> None:
    seq = typed_numbers(seed, steps, digits, sep)
    cfg = state.Config(source="typed", seq=seq)
    query = state.to_query(cfg)
    assert len(query["seq"]) <= LINK_CAP
    back, notes = state.from_query(query)
    assert (back, notes) == (cfg, [])
    assert np.array_equal(state.build_sequence(back).values, parse_sequence(seq, "numbers").values)


@settings(max_examples=40, deadline=None)
@given(text=st.lists(st.characters(codec="utf-8"), min_size=1, max_size=64, unique=True)
       .flatmap(lambda alphabet: st.text(alphabet=alphabet, min_size=1, max_size=MAX_STEPS)))
def test_text_inputs_up_to_the_caps_round_trip_and_fit_the_link(text) -> None:
    cfg = state.Config(source="text", seq=text)
    query = state.to_query(cfg)
    assert len(query["seq"]) <= LINK_CAP
    assert state.from_query(query) == (cfg, [])


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=3000))
def test_any_typed_text_comes_back_exactly(text) -> None:
    cfg = state.Config(source="typed", seq=text)
    back, _ = state.from_query(state.to_query(cfg))
    assert back.seq == text  # also a text that happens to start like a packed one
    assert state.unpack(state.pack(text)) == text


def test_short_inputs_stay_plain_and_the_plain_form_is_still_read() -> None:
    assert state.to_query(state.Config(source="typed", seq="1, 2, 3"))["seq"] == "1, 2, 3"
    long = "0, 1, " * 200
    assert state.to_query(state.Config(source="typed", seq=long))["seq"].startswith(state.PACKED)
    assert state.from_query({"source": "typed", "seq": long}) == (state.Config(source="typed", seq=long), [])


@pytest.mark.parametrize(("payload", "why"), [
    (packed(bz2.compress(b"1" * 100_000_000, 9)), "unpacks to more than 800,000 bytes"),  # a zip bomb: 100 MB
    ("bz2:not base64!", "is not base64url text"),
    ("bz2:QUJD=", "is not base64url text"),
    ("bz2:A", "is not base64url text"),
    (packed(b"hello, not bzip2"), "is not bzip2 data"),
    (packed(bz2.compress(b"1, 2")[:-4]), "is cut short or has extra bytes"),
    (packed(bz2.compress(b"1, 2") + b"more"), "is cut short or has extra bytes"),
    (packed(bz2.compress(b"\xff\xfe\x00")), "is not UTF-8 text"),
    (packed(bz2.compress(("1" * (MAX_INPUT_CHARS + 1)).encode())), f"at most {MAX_INPUT_CHARS:,}"),
])
def test_a_hostile_packed_input_is_refused_with_a_note(payload, why) -> None:
    assert len(payload) < LINK_CAP  # each fits the link: the packed reader itself refuses it
    cfg, notes = state.from_query({"source": "typed", "seq": payload})
    assert cfg.seq == state.DEFAULT.seq
    assert len(notes) == 1 and notes[0].startswith("Ignored seq=") and why in notes[0]


def test_a_list_value_or_a_number_where_text_is_expected_is_refused_cleanly() -> None:
    cfg, notes = state.from_query({"source": "typed", "seq": ["1, 2", "bz2:@@"]})  # the last of a repeated key
    assert cfg.seq == state.DEFAULT.seq and "not base64url" in notes[0]


# ------------------------------------------------------------------------------------------ the issue's links


def test_a_chapter_past_the_lesson_or_not_a_number_says_the_chapter_it_shows() -> None:
    last = state.PROPS["chapter"].high  # the lesson's last chapter
    for text, why in (("99", f"must be from 0 to {last}"), ("abc", f"must be a whole number from 0 to {last}"),
                      ("1.5", "must be a whole number")):
        cfg, notes = state.from_query({"chapter": text})
        assert cfg.chapter == 0  # which the Learn page opens as chapter 1 (gru_viz.app.learn.current)
        assert notes == [f"Ignored chapter='{text}' from the link ({why}); showing chapter 1."] or why in notes[0]
        assert "invalid literal" not in notes[0] and "showing chapter 1" in notes[0]


def test_an_input_without_a_source_that_reads_it_is_noted_and_left_out_of_the_link() -> None:
    """A link's seq is read as numbers or as text only with the source saying which: guessing could show a
    one-hot text of "nan,inf" its author never meant. So it is ignored, said so, and the link drops it."""
    cfg, notes = state.from_query({"seq": "nan,inf"})
    assert cfg == state.DEFAULT
    assert notes == ["Ignored seq='nan,inf' from the link: the input is read only with source=typed (numbers) or "
                     "source=text, and this link's input is the generator. Add source=typed to the link to use it."]
    assert "seq" not in state.to_query(state.Config(seq="1, 2"))  # a session's own kept input: not in its link
    assert state.from_query({"seq": "1, 2", "source": "typed"}) == (state.Config(source="typed", seq="1, 2"), [])


@pytest.mark.parametrize("number", [c.number for c in lessons.chapters() if c.knob is not None])
def test_every_chapter_knob_value_round_trips_and_a_foreign_one_is_noted(number) -> None:
    knob = lessons.chapter(number).knob
    for option in knob.options:
        cfg = state.Config(chapter=number, knob="" if option == knob.default else state.knob_text(option))
        assert state.from_query(state.to_query(cfg)) == (cfg, [])
        assert state.knob_option("gru", number, cfg.knob) == option
    cfg, notes = state.from_query({"chapter": str(number), "knob": "no-such-value"})
    listed = ", ".join(state.knob_text(o) for o in knob.options)
    assert cfg.knob == "" and notes == [
        f"Ignored knob='no-such-value' from the link (chapter {number}'s {knob.label} takes "
        f"{listed if len(listed) <= 80 else f'one of the {len(knob.options)} on its page'}); "
        "showing the chapter's own setting."]


# ------------------------------------------------------------------------------------------ every key's junk


def junk_values() -> st.SearchStrategy[str]:
    return st.one_of(st.text(max_size=60), st.sampled_from(
        ["abc", "1.5", "-1", "nan", "inf", "-inf", "1e999", "9" * 5000, "", " ", "0x10", "1,2", "true", "z:1",
         "bz2:@@", "bz2:QlpoOTFBWSZTWQ", "<b>x</b>", "${x}", "\x00", "１２"]))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(state.PROPS)), junk=junk_values(), typed=st.booleans())
def test_every_keys_junk_is_noted_by_name_in_a_learners_words(name, junk, typed) -> None:
    query = {name: junk, **({"source": "typed"} if typed and name != "source" else {})}
    cfg, notes = state.from_query(query)
    for note in notes:  # (the junk itself, echoed back in the note, may hold any word: "Error" is a fine junk)
        assert not any(word in note.replace(junk, "") for word in PYTHON_WORDS), note
    prop = state.PROPS[name]
    try:
        honoured = getattr(cfg, name) == state._read_one(prop, junk)
    except (ValueError, OverflowError):
        honoured = False
    if not honoured:  # refused, moved or capped: a note says which key
        assert any(f"{name}=" in note for note in notes), (name, junk, notes)
    state.to_query(cfg)  # and the link it writes back is fine
