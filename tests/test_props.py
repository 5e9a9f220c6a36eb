"""One place per setting: state.PROPS holds each Config field's URL key, default, range and widget words; the link
reader and the sidebar both read it. The sidebar's widgets show exactly the table's labels and ranges (with this
server's profile caps), and a link is taken up to the table's bounds and refused (or capped) just past them, with a
note on the page."""

from __future__ import annotations

from dataclasses import fields

import pytest
from apptest_support import open_page

from gru_viz.app import ui
from gru_viz.serve import state
from gru_viz.serve.limits import PROFILES

FULL, CLASS = PROFILES["default"], PROFILES["class"]
NUMBERS = [p for p in state.PROPS.values() if p.low is not None]
# Config fields whose widget is the sidebar's (the cursor and the unit have one per page, sized by its run).
SIDEBAR = {"cell", "variant", "hidden", "source", "seq", "gen", "steps", "weights", "seed", "scale", "h0", "present"}


def test_the_table_is_the_config() -> None:
    assert list(state.PROPS) == [f.name for f in fields(state.Config)]
    for f in fields(state.Config):
        prop = state.PROPS[f.name]
        assert (prop.name, getattr(state.DEFAULT, f.name)) == (f.name, prop.default)
        assert f.type == prop.type.__name__, f.name  # the dataclass says the type the table reads
        if prop.cap:  # the full profile's cap is the absolute top: no second number for it anywhere
            assert prop.high == getattr(FULL, prop.cap) and prop.top(CLASS) == getattr(CLASS, prop.cap) < prop.high
        if prop.low is not None:
            assert prop.low <= prop.default <= prop.high and prop.type in (int, float)
    assert {p.name for p in state.PROPS.values() if p.label} >= SIDEBAR


def sidebar_widgets(at) -> dict[str, object]:
    """Config field → the sidebar widget keyed by it."""
    out = {}
    for kind in ("selectbox", "number_input", "slider", "segmented_control", "toggle", "text_area"):
        for w in getattr(at.sidebar, kind):
            if isinstance(w.key, str) and w.key.startswith(ui.W) and w.key[len(ui.W):] in state.PROPS:
                out[w.key[len(ui.W):]] = w
    return out


@pytest.mark.parametrize("limits", [FULL, CLASS], ids=["full", "class"])
def test_the_sidebar_shows_the_tables_labels_and_ranges(limits, monkeypatch) -> None:
    monkeypatch.setattr(ui, "LIMITS", limits)  # what a server started with that profile reads
    seen = {}
    for query in ({"weights": "random"}, {"source": "typed", "seq": "1, 2"}):
        seen.update(sidebar_widgets(open_page("pages/step.py", query)))
    assert set(seen) == SIDEBAR
    for name, w in seen.items():
        prop, want = state.PROPS[name], state.PROPS[name].widget(limits)
        assert w.label == want["label"], name
        if name not in ("variant", "seq"):  # (their help follows the variant, the kind of input)
            assert (w.help or None) == prop.help, name
        if prop.low is not None:
            assert (w.min, w.max, w.step) == (prop.low, prop.top(limits), prop.step), name
        if prop.choices:
            assert len(w.options) == len(prop.choices), name
    assert seen["hidden"].max == limits.hidden and seen["steps"].label == f"Steps (≤ {limits.steps:,})"


def edges(prop: state.Prop, top: float) -> tuple[list[str], list[str]]:
    """(texts at the table's bounds, texts just past them) for a number field."""
    past = 1 if prop.type is int else prop.step
    return [str(prop.low), str(top)], [str(prop.type(prop.low - past)), str(prop.type(top + past))]


@pytest.mark.parametrize("prop", NUMBERS, ids=[p.name for p in NUMBERS])
def test_the_link_reader_takes_the_tables_bounds_and_refuses_just_past_them(prop) -> None:
    inside, outside = edges(prop, prop.high)
    for text in inside:
        cfg, notes = state.from_query({prop.name: text})
        assert (getattr(cfg, prop.name), notes) == (prop.type(text), []), text
    for text in outside:
        cfg, notes = state.from_query({prop.name: text})
        assert getattr(cfg, prop.name) == prop.default
        assert notes == [f"Ignored {prop.name}='{text}' from the link (must be from {prop.low} to {prop.high}); "
                         f"{prop.fallback}."]


@pytest.mark.parametrize("prop", [p for p in NUMBERS if p.cap], ids=lambda p: p.name)
def test_a_profile_caps_at_its_own_top_with_a_note(prop) -> None:
    top = prop.top(CLASS)
    cfg, notes = state.from_query({prop.name: str(top)}, CLASS)
    assert (getattr(cfg, prop.name), notes) == (top, [])
    for asked in (top + 1, prop.high):  # above the profile's cap, within the table's range: capped, and said
        cfg, notes = state.from_query({prop.name: str(asked)}, CLASS)
        assert getattr(cfg, prop.name) == top
        assert notes == [f"This server runs its classroom profile: {prop.what} is at most {top:,} here, so the "
                         f"link's {prop.name}={asked} is shown as {prop.name}={top}."]
    cfg, notes = state.from_query({prop.name: str(prop.high + 1)}, CLASS)  # past the table: refused, as anywhere
    assert getattr(cfg, prop.name) == prop.default and notes[0].startswith(f"Ignored {prop.name}=")


def test_texts_and_choices_stop_at_the_table() -> None:
    seq = state.PROPS["seq"]
    assert state.from_query({"source": "typed", "seq": "1" * seq.high})[1] == []
    assert state.from_query({"source": "typed", "seq": "1" * (seq.high + 1)})[1][0].endswith(
        f"(is longer than {seq.high} characters); using {seq.default!r}.")
    for prop in (p for p in state.PROPS.values() if p.choices):
        for choice in prop.choices:
            assert state.from_query({prop.name: choice}) == (state.Config(**{prop.name: choice}), [])
        assert "must be one of" in state.from_query({prop.name: "no-such-" + prop.name})[1][0]


@pytest.mark.parametrize("limits", [FULL, CLASS], ids=["full", "class"])
def test_the_page_says_what_it_did_with_a_link_past_the_bounds(limits, monkeypatch) -> None:
    """The notes are on the page, and the sidebar shows the value the page runs."""
    monkeypatch.setattr(ui, "LIMITS", limits)
    hidden = state.PROPS["hidden"]
    at = open_page("pages/step.py", {"hidden": str(hidden.high + 1)})
    assert f"Ignored hidden='{hidden.high + 1}' from the link (must be from 1 to {hidden.high}); using 4." in [
        i.value for i in at.info]
    assert at.sidebar.number_input(key=ui.W + "hidden").value == hidden.default
    at = open_page("pages/step.py", {"hidden": str(hidden.high)})
    capped = [i.value for i in at.info if "profile" in i.value]
    assert at.sidebar.number_input(key=ui.W + "hidden").value == limits.hidden
    assert capped == ([] if limits is FULL else [
        f"This server runs its classroom profile: the hidden size H is at most {limits.hidden} here, so the link's "
        f"hidden={hidden.high} is shown as hidden={limits.hidden}."])
