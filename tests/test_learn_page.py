"""The Learn page and its lessons: every chapter opens cold from its link, its question reveals the answer read
from the live run (computed here from the run, not from the lesson's own code), every sentence a chapter says about
its scene holds on the live numbers for every setting of its knob, and prev/next, the chapter picker, presenter
mode and bad links behave. Every run of the page fails on an exception or an error box (tests/apptest_support.py).
"""

from __future__ import annotations

import g2p_reference
import numpy as np
import pytest
from apptest_support import open_page
from streamlit.testing.v1 import AppTest

from gru_viz.app import learn, ui
from gru_viz.core import compare, units
from gru_viz.core.grad import gradient_flow
from gru_viz.explain import claims, glossary, lessons, registry
from gru_viz.explain.claims import plain
from gru_viz.io import charlm as charlm_io
from gru_viz.io.trained import load_trained
from gru_viz.serve import state, work

CHAPTERS = lessons.chapters()


def open_learn(query: dict[str, str] | None = None) -> AppTest:
    return open_page("pages/learn.py", query, timeout=180)


def texts(at: AppTest) -> str:
    return "\n".join(plain(m.value) for m in [*at.markdown, *at.caption])


def scene(number: int, value: object = None) -> state.Scene:
    cfg, notes = state.from_query(lessons.chapter(number).scene_for(value))
    assert notes == []
    return state.build_scene(cfg)


# ------------------------------------------------------------------- the right answer, from the run itself


def right_answer(number: int) -> int:
    """The index of the right option of chapter ``number`` at its default knob, read from the run here."""
    sc = scene(number)
    lt = sc.trace.layer(0)
    cfg = sc.cfg
    if number == 1:
        t = cfg.t
        h, hp, n = (float(a[t, 0, 0]) for a in (lt.h, lt.h_prev(), lt.gates["n"]))
        k = (h - n) / (hp - n)  # the old state's share in h, from the arithmetic
        return 0 if k >= 0.95 else 1 if k >= 0.5 else 2 if k > 0.05 else 3
    if number == 2:
        return int(np.argmin([abs(lt.h[-1, 0, 0] - c) for c in (0, 0.5, 1)]))
    if number == 3:
        d = int(np.flatnonzero(sc.seq.values[:, 1] == 1)[0])
        return int(np.argmin([abs(lt.h[d, 0, 0] - c) for c in (lt.h[d - 1, 0, 0], 0.0, 1.0)]))
    if number == 4:
        flipped = compare.flip_z(sc.model).run(sc.seq.values).layer(0).gates["z"][cfg.t, 0, cfg.unit]
        z = lt.gates["z"][cfg.t, 0, cfg.unit]
        return int(np.argmin([abs(flipped - c) for c in (z, 1 - z, 0.5)]))
    if number == 5:
        return int(load_trained("gru-sentiment").predict(sc.seq.values).classes)
    if number == 6:
        models = compare.build_models(lessons.LINEUP, 1, 8, seed=0, keep_bias=2.0)
        steps = [compare.influence_steps(compare.impulse_response(m, 100, 5)) for m in models.values()]
        return int(np.argmin(steps))
    if number == 7:
        models = compare.build_models(("gru", "rnn"), 1, 4, seed=0, keep_bias=lessons.GRADIENT_BETA)
        x = np.random.default_rng(0).standard_normal((100, 1))
        ratio = gradient_flow(models["gru"], x).dh[0] / gradient_flow(models["rnn"], x).dh[0]
        return 0 if ratio < 10 else 1 if ratio <= 1000 else 2
    if number == 8:
        answer = float(load_trained("gru-adding").predict(sc.seq.values).output[0])
        marked = sc.seq.values[sc.seq.values[:, 1] == 1, 0]
        return int(np.argmin([abs(answer - c) for c in (marked.sum(), marked.max(), 1.0)]))
    if number == 9:  # g2p-en's own predict(), not gru-viz's port of it
        said = [p for p in g2p_reference.model().predict(sc.cfg.word) if p != "</s>"]
        return int(np.sign(len(said) - len(sc.cfg.word))) + 1
    if number == 10:  # the shipped GRU's unit for "inside a string", found here from the core on the held-out text
        text = work.analysis_text(charlm_io.validation_text())
        found = units.find_units(charlm_io.load_char_model(sc.cfg.model), text)
        return ("strong", "moderate", "weak", "none").index(next(f for f in found if f.feature == "string").strength)
    raise AssertionError(number)


@pytest.mark.parametrize("number", [c.number for c in CHAPTERS])
def test_every_chapter_opens_cold_and_reveals_the_computed_answer(number):
    at = open_learn({"chapter": str(number)})
    assert f"Chapter {number} of {len(CHAPTERS)}" in str(at.get("progress")[0].proto)
    assert at.query_params["chapter"] == str(number)
    cfg = at.session_state[ui.CFG]
    assert (cfg.chapter, cfg.weights) == (number, state.from_query(CHAPTERS[number - 1].scene)[0].weights)
    radio = at.radio[0]
    assert radio.value is None, "no answer is picked for the learner"
    assert at.button(key="learn_reveal").disabled, "Reveal waits for a guess"
    right = right_answer(number)
    radio.set_value(radio.options[right]).run()
    at.button(key="learn_reveal").click().run()
    said = texts(at)
    assert f"Right! The answer is {radio.options[right]}." in said
    # the prose is shown once revealed, and every sentence on the page about the scene holds
    lesson, _ = learn.lesson_of("gru", number, CHAPTERS[number - 1].knob.default)
    for sentence in lesson.prose:
        assert sentence.text in said


@pytest.mark.parametrize("number", [1, 2, 5])
def test_a_wrong_guess_is_not_praised(number):
    at = open_learn({"chapter": str(number)})
    radio = at.radio[0]
    wrong = next(i for i in range(len(radio.options)) if i != right_answer(number))
    radio.set_value(radio.options[wrong]).run()
    at.button(key="learn_reveal").click().run()
    said = texts(at)
    assert "Right!" not in said and f"Not quite (you said “{radio.options[wrong]}”)" in said


def test_just_show_me_reveals_without_a_guess():
    at = open_learn({"chapter": "2"})
    assert "Answer the question" in texts(at)
    assert not at.get("plotly_chart"), "the run stays hidden until the learner predicts"
    at.button(key="learn_skip").click().run()
    said = texts(at)
    assert "The answer: about 1: it remembers." in said and "Right!" not in said
    assert at.get("plotly_chart")


@pytest.mark.parametrize("number", [c.number for c in CHAPTERS])
def test_every_claim_holds_for_every_knob_setting(number):
    ch = lessons.chapter(number)
    for value in ch.knob.options:
        lesson, _sc = learn.lesson_of("gru", number, value)
        assert lessons.check(lesson) == [], (number, value)
        assert lesson.sentences and all(registry.find(s.text) for s in lesson.sentences)
        q = lesson.question
        assert 0 <= q.answer < len(q.options) and len(set(q.options)) == len(q.options)


def test_the_latch_holds_1_after_the_spike_wherever_the_spike_is():
    for at in range(lessons.LATCH_STEPS):
        lesson, sc = learn.lesson_of("gru", 2, at)
        h = sc.trace.layer(0).h[:, 0, 0]
        assert np.all(h[at:] >= 0.99) and np.all(np.abs(h[:at]) < 5e-4)
        assert "the latch holds 1." in " ".join(s.text for s in lesson.prose)


def test_the_delimiter_wipes_the_state_only_while_r_is_free():
    free, sc = learn.lesson_of("gru", 3, "free")
    clamped, sc_clamped = learn.lesson_of("gru", 3, "1")
    d = 3
    assert abs(sc.trace.layer(0).h[d, 0, 0]) < 0.01 < abs(sc_clamped.trace.layer(0).h[d, 0, 0])
    assert "h is wiped to" in " ".join(s.text for s in free.prose)
    assert "cannot wipe anything" in " ".join(s.text for s in clamped.prose)


def test_not_flips_the_trained_models_answer():
    model = load_trained("gru-sentiment")
    lesson, sc = learn.lesson_of("gru", 5, "the movie is not good")
    plain_x = lessons.sentence_query(("the", "movie", "is", "good"))
    without = state.build_scene(replace_seq(sc.cfg, plain_x)).seq.values
    assert model.predict(sc.seq.values).classes != model.predict(without).classes
    assert any("flips its answer" in s.text for s in lesson.prose)


def replace_seq(cfg: state.Config, seq: str) -> state.Config:
    from dataclasses import replace

    return replace(cfg, seq=seq, chapter=0)


def test_the_memory_chapter_shows_the_gating_advantage():
    models = compare.build_models(lessons.LINEUP, 1, 8, seed=0, keep_bias=lessons.MEMORY_BETA)
    steps = {k: compare.influence_steps(compare.impulse_response(m, 100, 5)) for k, m in models.items()}
    assert steps["gru"] > steps["rnn"] and steps["lstm"] > steps["rnn"]


def test_the_memory_and_gradient_chapters_say_why_when_their_numbers_do_not_show_the_point():
    """Issue 23.2: at every β, where a gated cell forgets first (6) or the GRU's gradient vanishes too (7), the
    chapter says why (torch's init is not a trained keep bias); where the numbers show the point, it does not."""
    for value in lessons.chapter(6).knob.options:
        lesson, _ = learn.lesson_of("gru", 6, value)
        models = compare.build_models(lessons.LINEUP, 1, 8, seed=0, keep_bias=float(value))
        steps = {k: compare.influence_steps(compare.impulse_response(m, 100, 5)) for k, m in models.items()}
        gated_first = min(steps["gru"], steps["lstm"]) < steps["rnn"]
        text = " ".join(s.text for s in lesson.prose)
        assert ("not a trained keep bias" in text) == gated_first, (value, steps)
    assert "not a trained keep bias" in " ".join(s.text for s in learn.lesson_of("gru", 6, 0.0)[0].prose)
    x = np.random.default_rng(0).standard_normal((100, 1))
    for value in lessons.chapter(7).knob.options:
        lesson, _ = learn.lesson_of("gru", 7, value)
        gru = compare.build_models(("gru",), 1, 4, seed=0, keep_bias=float(value))["gru"]
        vanished = gradient_flow(gru, x).dh[0] < 1e-6
        assert ("vanishes too" in " ".join(s.text for s in lesson.prose)) == vanished, value
    ch7 = lessons.chapter(7)
    default = compare.build_models(("gru",), 1, 4, seed=0, keep_bias=float(ch7.knob.default))["gru"]
    assert gradient_flow(default, x).dh[0] > 1e-6, "the default β shows the path kept open"
    assert "keeps the GRU's alive" not in ch7.title and "direct path" in ch7.title


def test_prev_next_and_the_chapter_picker_move_through_the_lesson():
    at = open_learn()
    assert at.session_state[ui.CFG].chapter == 1 and at.query_params["chapter"] == "1"
    assert at.button(key="learn_prev_top").disabled
    for number in range(2, len(CHAPTERS) + 1):
        at.button(key="learn_next_top").click().run()
        assert at.query_params["chapter"] == str(number)
        assert f"{number}. {CHAPTERS[number - 1].title}" in [s.value for s in at.subheader]
    assert at.button(key="learn_next_top").disabled
    at.button(key="learn_prev_bottom").click().run()
    assert at.query_params["chapter"] == str(len(CHAPTERS) - 1)
    at.selectbox(key=learn.JUMP).set_value(3).run()
    assert at.query_params["chapter"] == "3" and at.query_params["weights"] == "preset:delimiter"


def test_the_chapter_scene_becomes_the_sessions_for_the_other_pages():
    at = open_learn({"chapter": "3"})
    at.switch_page("pages/step.py").run()
    cfg = at.session_state[ui.CFG]
    assert cfg.weights == "preset:delimiter" and cfg.chapter == 3


def test_the_knob_makes_a_new_scene_and_a_new_question():
    at = open_learn({"chapter": "2"})
    at.select_slider(key=learn.KNOB).set_value(7).run()
    assert at.query_params["knob"] == "7"
    assert "The spike arrives at t = 7." in texts(at)
    link = next(p for p in at.get("page_link") if "Open this scene" in str(p.proto))
    assert "0, 0, 0, 0, 0, 0, 0, 1, 0, 0" in str(link.proto).replace("%2C+", ", ").replace("%2C%20", ", ")


def test_presenter_mode_has_a_large_next_and_the_key_sentence():
    """Issue 23.6: presenting, the large Next comes after the answer, never before it (it invited a skip)."""
    at = open_learn({"chapter": "4", "present": "1"})
    assert not [b for b in at.button if b.key == "learn_next_big"], "the way on is shown only after the answer"
    at.button(key="learn_skip").click().run()
    assert at.button(key="learn_next_big").label == f"Next: {CHAPTERS[4].title}"
    assert any(".st-key-learn_next_big" in m.value for m in at.markdown), "the large-button style is on the page"
    lesson, _ = learn.lesson_of("gru", 4, "torch")
    assert lesson.idea.text in texts(at)


@pytest.mark.parametrize("query", [{"chapter": "99"}, {"chapter": "x"}, {"lesson": "nope"}])
def test_bad_lesson_links_fall_back_with_a_note(query):
    at = open_learn(query)
    assert any("Ignored" in i.value for i in at.info)
    assert at.query_params["chapter"] == "1"


def test_issue_23_4_small_untruths_are_said_truly():
    """Learn 2's h never goes past 1 (a blend of values in (−1, 1)); Learn 8 states its task; the latch card says
    what z does in the latch's own run; one number notation per sentence in Compare's survival text."""
    from gru_viz.app.compare import survival_text
    from gru_viz.core.presets import PRESETS, latch

    lesson, sc = learn.lesson_of("gru", 2, lessons.chapter(2).knob.default)
    text = " ".join(s.text for s in lesson.prose)
    assert "or more" not in text and "never drops below" in text
    assert np.all(sc.trace.layer(0).h < 1.0)
    lesson8, _ = learn.lesson_of("gru", 8, 0)
    assert lesson8.idea.text.startswith("The task: read a stream of numbers") and "sum" in lesson8.idea.text
    card = PRESETS["latch"].description
    assert "write-enable" not in card and "z ≈ 0 lets the spike in, z ≈ 1 keeps it" in card
    x = np.zeros((10, 1))
    x[3] = 1.0
    z = latch().run(x).layer(0).gates["z"][:, 0, 0]
    assert z[3] < 0.01 and np.all(z[4:] > 0.99) and np.all(z[:3] > 0.99)
    said = survival_text({"gru": compare.Response(np.r_[np.ones(5), np.full(95, 5e-6)], 0)})
    assert "e-0" not in said and "5.0×10⁻⁶" in said and "10⁻⁶" not in said.replace("5.0×10⁻⁶", "")


def test_the_real_text_chapter_names_the_units_found_and_links_to_its_page():
    at = open_learn({"chapter": "10"})
    at.button(key="learn_skip").click().run()
    said = texts(at)
    lesson, _ = learn.lesson_of("gru", 10, "gru")
    assert lessons.check(lesson) == []
    string = next(f for f in lesson.context.values["charlm"]["found"]["gru"] if f.feature == "string")
    assert f"For “inside a string” the GRU's best unit reaches a correlation of {claims.num2_text(string.r)}" in said
    link = next(e for e in at.get("page_link") if "real_text" in e.proto.page)
    assert "model=gru" in link.proto.query_string
    best = lessons.clearest(lesson.context.values["charlm"]["found"]["gru"])
    if best is not None and best.which == "h":
        assert f"unit={best.unit}" in link.proto.query_string and f"layer={best.layer}" in link.proto.query_string


def test_the_encoder_decoder_chapter_counts_what_g2p_en_says_and_links_to_its_page():
    reference = g2p_reference.model()
    answers = set()
    for word in lessons.S2S_WORDS:
        lesson, _ = learn.lesson_of("gru", 9, word)
        said = [p for p in reference.predict(word) if p != "</s>"]
        assert lesson.question.reveal.text.startswith(f"For “{word}” the decoder says {' '.join(said)}, then its end "
                                                      f"mark: {len(said)} phonemes for {len(word)} letters")
        answers.add(lesson.question.answer)
    assert answers == {0, 1, 2}, "the words cover fewer, as many and more phonemes than letters"
    at = open_learn({"chapter": "9", "knob": "box"})
    link = next(p for p in at.get("page_link") if "Encoder–decoder page" in str(p.proto))
    assert "seq2seq" in link.proto.page and "word=box" in link.proto.query_string
    at.button(key="learn_skip").click().run()
    said = texts(at)
    assert "The answer: more than the letters." in said and "Cho et al." in said
    assert at.get("plotly_chart"), "the encoder's states, drawn after the reveal"


def test_the_encoder_decoder_chapter_catches_a_false_count():
    lesson, _ = learn.lesson_of("gru", 9, "box")
    assert lessons.check(lesson) == []
    lie = lesson.question.reveal.text.replace("more than the letters", "fewer than the letters")
    assert lessons.CLAIMS.check_text(lie, lesson.context)
    other, _ = learn.lesson_of("gru", 9, "through")  # the same words about another word's run
    assert lessons.CLAIMS.check_text(lesson.question.reveal.text, other.context)


def test_learn_2_says_the_update_gate_keeps_or_writes_not_a_write_switch():
    """Issue 23 item 4: with z ≈ 1 keeping (PyTorch), "write switch" reads as z ≈ 1 writing; the title, the key
    sentence and the README's Learn row say keep-or-write, and the chapter keeps its number and link."""
    from pathlib import Path

    ch = lessons.chapter(2)
    assert (ch.number, ch.key) == (2, "latch")
    lesson, sc = learn.lesson_of("gru", 2, ch.knob.default)
    readme = Path(__file__).resolve().parents[1].joinpath("README.md").read_text()
    for said in (ch.title, lesson.idea.text, readme):
        assert "write switch" not in said
    assert "keeps or writes" in ch.title
    assert "z ≈ 1 keeps" in lesson.idea.text and "z ≈ 0 writes" in lesson.idea.text
    assert "keeping or writing (the latch)" in readme
    z = sc.trace.layer(0).gates["z"][:, 0, 0]
    at = int(np.argmax(sc.seq.values[:, 0]))
    assert z[at] < 0.01 and np.all(np.delete(z, at) > 0.99), "the latch's own run: z ≈ 0 writes, z ≈ 1 keeps"
    assert lessons.check(lesson) == []
    at_page = open_learn({"chapter": "2"})
    assert at_page.selectbox(key=learn.JUMP).value == 2
    assert "2 · The update gate keeps or writes: the latch" in at_page.selectbox(key=learn.JUMP).options


def test_learn_3_names_its_two_input_channels_in_the_words_and_on_the_chart():
    """Issue 23 item 4: channel 0 is the value, channel 1 the delimiter (core/presets.py's delimiter preset)."""
    from gru_viz.figures import timeline as tl

    lesson, sc = learn.lesson_of("gru", 3, "free")
    said = lesson.prose[0].text
    assert "channel 0 carries the value" in said and "channel 1 the delimiter" in said
    assert lessons.check(lesson) == []
    x = sc.seq.values  # the claim is about this run: channel 1 is 0/1 and a delimiter step carries no value
    assert set(np.unique(x[:, 1])) == {0.0, 1.0} and np.all(x[x[:, 1] == 1, 0] == 0)
    fig = tl.timeline_figure(sc.seq, sc.trace.layer(0), "gru", input_names=lesson.data["inputs"])
    assert list(fig.layout.yaxis.ticktext) == ["0 · value", "1 · delimiter"]
    assert list(tl.timeline_figure(sc.seq, sc.trace.layer(0), "gru").layout.yaxis.ticktext) == ["0", "1"]
    at = open_learn({"chapter": "3"})
    assert "channel 0 carries the value" in texts(at), "named before the reveal, beside the input strip"
    at.button(key="learn_skip").click().run()
    import json

    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert chart["layout"]["yaxis"]["ticktext"] == ["0 · value", "1 · delimiter"]


@pytest.mark.parametrize("sentence", ["the movie is not good", "the movie is not bad"])
@pytest.mark.parametrize("order", ["index", "activity"])
def test_learn_5_marks_the_unit_its_sentence_names(sentence, order):
    """Issue 23 item 4: the unit the sentence names is outlined on its own row in every quantity, among 16."""
    import re

    from gru_viz.figures import timeline as tl

    lesson, sc = learn.lesson_of("gru", 5, sentence)
    named = next(s for s in lesson.prose if s.key.startswith("trained.learned"))
    unit = int(re.search(r"[Uu]nit (\d+)", named.text).group(1))
    assert lesson.data["unit"] == unit
    lt = sc.trace.layer(0)
    fig = tl.timeline_figure(sc.seq, lt, "gru", mark_unit=lesson.data["unit"], order=order)
    marks = [s for s in fig.layout.shapes if s.name == f"unit {unit}"]
    rows = tl.unit_order(lt.h[:, 0], order)
    heatmaps = [tr for tr in fig.data if tr.type == "heatmap" and tr.yaxis != "y"]
    assert len(marks) == len(heatmaps) == 4  # r, z, n, h
    for mark, heat in zip(marks, heatmaps, strict=True):
        assert mark.yref == heat.yaxis and mark.xref == heat.xaxis
        k = (mark.y0 + mark.y1) / 2
        assert mark.y1 - mark.y0 == 1 and rows[int(k)] == unit
        assert np.all(np.asarray(heat.customdata)[int(k), :, -1] == unit), "the row the hover names as the unit"
    assert not [s for s in tl.timeline_figure(sc.seq, lt, "gru").layout.shapes if s.type == "rect"]


def test_the_notation_of_a_chapter_is_said_in_words():
    """Issue 23.4: a chapter whose words use ⊙ (Learn 4's conventions) says what ⊙ means under them, once revealed."""
    for number in (4, 1):
        lesson, _ = learn.lesson_of("gru", number, lessons.chapter(number).knob.default)
        uses = "⊙" in " ".join(s.text for s in lesson.prose)
        at = open_learn({"chapter": str(number)})
        at.button(key="learn_skip").click().run()
        assert (glossary.GLOSSARY["⊙"] in " ".join(c.value for c in at.caption)) == uses, number
    assert "⊙" in " ".join(s.text for s in learn.lesson_of("gru", 4, lessons.chapter(4).knob.default)[0].prose)
