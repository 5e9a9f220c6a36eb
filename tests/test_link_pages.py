"""Every page-scoped knob is in the link (issue 23, item 7): a link with the knob's value opens the page with the
knob and the scene at that value on a fresh session, and moving the knob writes the link. Bad link values leave a
note naming the key on the page. The link's own reading and writing: tests/test_link.py."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from apptest_support import open_page

from gru_viz.app import learn, ui
from gru_viz.core.kinds import KIND, KINDS
from gru_viz.core.sequences import MAX_STEPS
from gru_viz.explain import lessons
from gru_viz.serve import state

KNOBBED = [c for c in lessons.chapters() if c.knob is not None]
SCENE_FIELDS = ("cell", "variant", "hidden", "source", "seq", "weights", "seed", "t", "clamp")


def knob_widget(at):
    for kind in ("segmented_control", "select_slider", "selectbox"):
        try:
            return getattr(at, kind)(key=learn.KNOB)
        except KeyError:
            continue
    raise AssertionError("no knob on the page")


def other_option(ch: lessons.Chapter) -> object:
    return next(o for o in reversed(ch.knob.options) if o != ch.knob.default)


@pytest.mark.parametrize("ch", KNOBBED, ids=[str(c.number) for c in KNOBBED])
def test_a_chapters_knob_opens_from_the_link_and_moving_it_writes_the_link(ch) -> None:
    option = other_option(ch)
    text = state.knob_text(option)
    at = open_page("pages/learn.py", {"chapter": str(ch.number), "knob": text}, timeout=180)
    assert knob_widget(at).value == option
    cfg = at.session_state[ui.CFG]
    want, _ = state.from_query(ch.scene_for(option))
    assert [getattr(cfg, f) for f in SCENE_FIELDS] == [getattr(want, f) for f in SCENE_FIELDS]
    assert (cfg.chapter, cfg.knob, at.query_params["knob"]) == (ch.number, text, text)
    if ch.number == 6:  # β is the experiment's own: the figure says it
        at.button(key="learn_skip").click().run()
        assert any(f"keep bias β = {option:g})" in json.loads(c.proto.spec)["layout"]["title"]["text"]
                   for c in at.get("plotly_chart"))
    knob_widget(at).set_value(ch.knob.default).run()
    assert "knob" not in at.query_params and at.session_state[ui.CFG].knob == ""
    knob_widget(at).set_value(option).run()
    assert at.query_params["knob"] == text


def test_the_compare_pages_settings_open_from_the_link_and_write_it() -> None:
    query = {"hidden": "4", "cmp_beta": "4.5", "cmp_min": "1", "cmp_steps": "30", "cmp_at": "12", "cmp_first": "1"}
    at = open_page("pages/compare.py", query)
    assert at.slider(key=ui.W + "cmp_beta").value == 4.5 and at.toggle(key=ui.W + "cmp_min").value is True
    assert list(at.table[0].value.columns) == [KIND[k].name for k in KINDS]  # minGRU and minLSTM joined
    assert (at.number_input(key=ui.W + "cmp_steps").value, at.number_input(key=ui.W + "cmp_at").value) == (30, 12)
    charts = " ".join(str(c.proto) for c in at.get("plotly_chart"))
    assert "A spike at step 12" in charts and "Two sequences that differ only in step 0" in charts
    assert "keep bias β = 4.5" in " ".join(c.value for c in at.caption)
    at.slider(key=ui.W + "cmp_beta").set_value(1.0).run()
    at.number_input(key=ui.W + "cmp_at").set_value(7).run()
    assert (at.query_params["cmp_beta"], at.query_params["cmp_at"], at.query_params["cmp_first"]) == ("1.0", "7", "1")
    at.toggle(key=ui.W + "cmp_min").set_value(False).run()
    assert "cmp_min" not in at.query_params


def test_a_fresh_compare_session_has_no_experiment_it_was_not_linked_to() -> None:
    at = open_page("pages/compare.py", {"hidden": "4"})
    assert "Two sequences that differ only in step 0" not in " ".join(str(c.proto) for c in at.get("plotly_chart"))
    at.button(key="cmp_run_first").click().run()
    assert at.query_params["cmp_first"] == "1"


def test_the_gradient_pages_settings_open_from_the_link_and_write_it() -> None:
    query = {"hidden": "4", "scale": "4", "grad_beta": "3", "grad_min": "1", "clip": "0.01", "clip_cell": "lstm"}
    at = open_page("pages/gradients.py", query)
    assert at.slider(key=ui.W + "grad_beta").value == 3.0 and at.toggle(key=ui.W + "grad_min").value is True
    assert at.segmented_control(key=ui.W + "clip_cell").value == "lstm"
    assert at.select_slider(key=ui.W + "clip").value == 0.01
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["‖g‖ after"]) == pytest.approx(0.01, rel=1e-3)
    assert "**LSTM**" in " ".join(m.value for m in at.markdown)
    at.segmented_control(key=ui.W + "clip_cell").set_value("gru").run()
    at.select_slider(key=ui.W + "clip").set_value(5.0).run()
    at.slider(key=ui.W + "grad_beta").set_value(0.5).run()
    assert {k: at.query_params[k] for k in ("clip_cell", "clip", "grad_beta")} == {
        "clip_cell": "gru", "clip": "5.0", "grad_beta": "0.5"}


# ---------------------------------------------------------------------------------------------- bad links


@pytest.mark.parametrize("text", ["99", "abc", "-3"])
def test_a_bad_chapter_says_which_chapter_it_shows_and_shows_it(text) -> None:
    at = open_page("pages/learn.py", {"chapter": text}, timeout=180)
    notes = [i.value for i in at.info if "chapter=" in i.value]
    assert len(notes) == 1 and "showing chapter 1" in notes[0] and "invalid literal" not in notes[0]
    assert at.subheader[0].value == f"1. {lessons.chapter(1).title}" and at.query_params["chapter"] == "1"


def test_an_input_without_its_source_is_noted_and_leaves_the_link() -> None:
    at = open_page("pages/step.py", {"seq": "nan,inf", "weights": "random"})
    assert any("Ignored seq=" in i.value and "source=typed" in i.value for i in at.info)
    assert "seq" not in at.query_params


def test_the_5000_step_input_of_the_issue_opens_from_its_packed_link() -> None:
    seq = ", ".join(f"{v:.2f}" for v in np.random.default_rng(23).uniform(-1, 1, MAX_STEPS))
    query = state.to_query(state.Config(source="typed", seq=seq, hidden=2))
    at = open_page("pages/timeline.py", query)
    assert not [i.value for i in at.info if "Ignored" in i.value]
    assert at.sidebar.text_area(key=ui.W + "seq").value == seq
    assert at.query_params["seq"] == query["seq"]


def test_a_hostile_packed_input_leaves_a_note_and_the_page_runs() -> None:
    at = open_page("pages/step.py", {"source": "typed", "seq": "bz2:QlpoOTFBWSZTWQ"})
    assert any("Ignored seq=" in i.value and "cut short" in i.value for i in at.info)


@pytest.mark.parametrize("name", sorted(state.PROPS))
def test_every_keys_junk_leaves_a_note_naming_it_on_the_page(name) -> None:
    at = open_page("app.py", {name: "abc<b>", **({"source": "typed"} if name == "seq" else {})})
    notes = [i.value for i in at.info]
    if name == "seq":  # any text is a typed input: it is honoured (and the sidebar shows it)
        assert at.session_state[ui.CFG] == replace(state.DEFAULT, source="typed", seq="abc<b>")
        return
    if name in ("word", "text"):  # any text is a word the Encoder–decoder reads, a text Real text reads (unknown
        # characters are said on their pages)
        assert getattr(at.session_state[ui.CFG], name) == "abc<b>" and not any(f"{name}=" in n for n in notes)
        return
    assert any(f"{name}=" in n for n in notes), notes
    assert not any(w in n for n in notes for w in ("invalid literal", "Traceback", "could not convert"))


def test_an_input_too_long_for_any_link_says_so_in_the_sidebar() -> None:
    seq = ", ".join(repr(float(v)) for v in np.random.default_rng(5).normal(size=MAX_STEPS))  # full precision
    at = open_page("pages/timeline.py", {"source": "typed", "seq": "1, 2", "hidden": "2"})
    at.sidebar.text_area(key=ui.W + "seq").set_value(seq).run()
    assert any("too long for a link, even packed" in c.value for c in at.sidebar.caption)
    at.sidebar.text_area(key=ui.W + "seq").set_value("1, 2, 3").run()
    assert not any("too long for a link" in c.value for c in at.sidebar.caption)
