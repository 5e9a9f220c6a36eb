"""The Learn page: a lesson's chapters one at a time (gru_viz.explain.lessons), each on its live scene.

The chapter and lesson are in the link (``chapter``, ``lesson``), and so is the chapter's scene: opening the Learn
page puts this session's config on the chapter's scene, so a teacher's link puts every student on the same chapter
and the other pages show the scene the chapter talks about. Each chapter asks its question first (predict, then
reveal); the prose and the figure follow the reveal. The one knob a chapter offers is in the link too (``knob``):
turning it makes a new scene, a new question and a new link.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from ..explain import glossary, lessons
from ..explain import trained as trained_words
from ..explain.lessons import Chapter, Lesson, Live
from ..explain.literal import literal
from ..figures import cell, flow
from ..figures import compare as compare_figs
from ..figures import seq2seq as s2s_figs
from ..figures import timeline as tl
from ..io import seq2seq as s2s_io
from ..serve import state
from ..serve.state import Config, Scene
from . import budget, real_text, step, trained_view, ui

REVEALED = "learn_revealed"  # (lesson, chapter, knob value) → the option picked, or None (shown without a guess)
KNOB = ui.W + "knob"  # the chapter's knob: in the link as knob= (read against the chapter in the link)
JUMP = "learn_jump"  # the chapter picker
CHART = {"displayModeBar": False}
PAGE_NAMES = {"step": "Step through", "timeline": "Timeline", "compare": "Compare cells",
              "gradients": "Gradient flow", "train": "Train"}

LEARN_CSS = """
<style>
.st-key-learn_next_big button { font-size: 2.2rem; padding: 0.8rem 2.4rem; min-height: 4.5rem; }
.st-key-learn_idea p { font-size: 1.9rem !important; line-height: 1.35; font-weight: 600; }
</style>
"""


# ------------------------------------------------------------------------------------------ the chapter


def current(cfg: Config) -> tuple[str, int]:
    """The lesson and chapter (counted from 1) the config names; chapter 0 opens the first."""
    count = len(lessons.chapters(cfg.lesson))
    return cfg.lesson, min(max(cfg.chapter, 1), count)


def scene_config(lesson: str, number: int, base: Config, value: object = None) -> Config:
    """The Config of a chapter's scene (its knob at ``value``), with the lesson, the chapter, the knob (as the link
    writes it) and ``base``'s view."""
    ch = lessons.chapter(number, lesson)
    cfg, _ = state.from_query(ch.scene_for(value))
    knob = "" if ch.knob is None or value is None or value == ch.knob.default else state.knob_text(value)
    return replace(cfg, lesson=lesson, chapter=number, knob=knob, present=base.present, hide=base.hide)


def knob_value(cfg: Config, lesson: str, number: int) -> object:
    """The chapter's knob as the link sets it (its default when the link says nothing)."""
    if lessons.chapter(number, lesson).knob is None:
        return None
    try:
        return state.knob_option(lesson, number, cfg.knob)
    except ValueError:  # (the link reader already said so)
        return lessons.chapter(number, lesson).knob.default


def _knob_moved(lesson: str, number: int) -> None:
    """Callback: the knob's new value is the chapter's scene, and the link's."""
    value = st.session_state.get(KNOB)
    ui.apply(scene_config(lesson, number, ui.config(), lessons.chapter(number, lesson).knob.default
                          if value is None else value))


def step_labels(sc: Scene) -> tuple[str, ...]:
    """How each step's input reads on the pages (a trained task's own symbols where it has them)."""
    return tuple(step.x_label(sc.seq, t) for t in range(sc.steps))


@budget.cached("scenes")  # the same for every session; bounded by bytes with the other scenes
def lesson_of(lesson: str, number: int, value: object) -> tuple[Lesson, Scene]:
    """A chapter as it reads on its live run, and the scene it ran (cached: the same for every session)."""
    cfg = scene_config(lesson, number, Config(), value)
    sc = state.build_scene(replace(cfg, t=0, unit=0, lesson="gru", chapter=0))
    trained = None
    kind, _, key = cfg.weights.partition(":")
    if kind == "trained":
        trained = trained_view.shipped(key)
        labels = trained_words.step_labels(trained[1], sc.seq.values)
        if labels is not None:
            sc = replace(sc, seq=replace(sc.seq, labels=labels, alphabet=trained_words.alphabet(trained[1])))
    sc = replace(sc, cfg=cfg)
    t = min(cfg.t, sc.steps - 1)
    ch = lessons.chapter(number, lesson)
    tr = s2s_io.transcribe(cfg.word) if ch.page == "seq2seq" else None  # the word's run: what the chapter reads
    found = real_text.findings() if ch.page == "real_text" else None  # the three language models' units
    live = Live(sc.model, sc.trace, step_labels(sc), t, cfg.unit, value, trained, ch.scene_for(value), tr, found)
    return lessons.chapter(number, lesson).teach(live), sc


# ------------------------------------------------------------------------------------------- navigation


def go(number: int) -> None:
    """Callback: open chapter ``number`` of the current lesson (its scene becomes the session's)."""
    cfg = ui.config()
    lesson = cfg.lesson
    number = min(max(number, 1), len(lessons.chapters(lesson)))
    st.session_state[JUMP] = number
    ui.apply(scene_config(lesson, number, cfg))


def _jump() -> None:
    go(int(st.session_state[JUMP]))


def header(lesson: str, number: int) -> None:
    """Where the learner is, and the way on: Previous, the chapter's place in the lesson, any chapter, Next."""
    chs = lessons.chapters(lesson)
    count = len(chs)
    # the picker is the widest: a chapter's whole title must fit it, on a projector too (no "…")
    prev, bar, pick, nxt = st.columns([1.3, 2.6, 4.8, 1.3], vertical_alignment="bottom")
    prev.button("Back", key="learn_prev_top", icon=":material/chevron_left:", on_click=go, args=(number - 1,),
                disabled=number <= 1, width="stretch")
    bar.progress(number / count, text=f"Chapter {number} of {count}")
    if st.session_state.get(JUMP) != number:
        st.session_state[JUMP] = number
    pick.selectbox("Chapter", [c.number for c in chs], key=JUMP, on_change=_jump, label_visibility="collapsed",
                   format_func=lambda k: f"{k} · {chs[k - 1].title}")
    nxt.button("Next", key="learn_next_top", icon=":material/chevron_right:", type="primary", on_click=go,
               args=(number + 1,), disabled=number >= count, width="stretch")


def idea(lesson: Lesson) -> None:
    """The chapter's one idea, in the type presenter mode makes large."""
    with st.container(key="learn_idea"):
        st.markdown(literal(lesson.idea.text, None))


def prev_next(lesson: str, number: int, where: str, big: bool = False) -> None:
    """Previous and next chapter by title; in presenter mode the next one is a large button a projector shows."""
    count = len(lessons.chapters(lesson))
    if big:
        if number < count:
            st.button(f"Next: {lessons.chapter(number + 1, lesson).title}", key="learn_next_big", type="primary",
                      icon=":material/arrow_forward:", on_click=go, args=(number + 1,), width="stretch")
        return
    left, right = st.columns(2)
    if number > 1:
        left.button(f"{number - 1}. {lessons.chapter(number - 1, lesson).title}", key=f"learn_prev_{where}",
                    icon=":material/chevron_left:", on_click=go, args=(number - 1,), width="stretch")
    if number < count:
        right.button(f"{number + 1}. {lessons.chapter(number + 1, lesson).title}", key=f"learn_next_{where}",
                     icon=":material/chevron_right:", type="primary", on_click=go, args=(number + 1,),
                     width="stretch")


# -------------------------------------------------------------------------------------------- question


def _reveal(round_key: tuple, answer_key: str) -> None:
    st.session_state.setdefault(REVEALED, {})[round_key] = st.session_state.get(answer_key)


def _show(round_key: tuple) -> None:
    st.session_state.setdefault(REVEALED, {})[round_key] = None


def question_box(lesson: Lesson, round_key: tuple) -> bool:
    """The chapter's question: pick an answer, then reveal the one read from the run. Returns whether revealed."""
    q = lesson.question
    answer_key = "learn_answer_" + "_".join(str(k) for k in round_key)
    revealed = st.session_state.get(REVEALED, {})
    with st.container(border=True, key="learn_question"):
        st.markdown("**Predict first.** " + literal(q.prompt, None))
        if round_key not in revealed:
            st.radio("Your answer", q.options, index=None, key=answer_key, label_visibility="collapsed")
            picked = st.session_state.get(answer_key)
            left, right = st.columns([1, 1])
            left.button("Reveal", key="learn_reveal", type="primary", icon=":material/visibility:", width="stretch",
                        on_click=_reveal, args=(round_key, answer_key), disabled=picked is None,
                        help="Pick an answer first: a guess you did not make is not a guess.")
            right.button("Just show me", key="learn_skip", type="tertiary", on_click=_show, args=(round_key,))
            return False
        picked = revealed[round_key]
        right = q.options[q.answer]
        if picked is None:
            head = "**The answer:**"
        elif picked == right:
            head = "**Right!** The answer is"
        else:
            head = f"**Not quite** (you said “{literal(picked, None)}”). The answer is"
        st.markdown(f"{head} **{literal(right, None)}**.")
        reveal = q.reveal.text if hasattr(q.reveal, "text") else str(q.reveal)
        st.markdown(step.narration_markdown(reveal), unsafe_allow_html=True)
        return True


# ------------------------------------------------------------------------------------------------ figure


def figure(lesson: Lesson, sc: Scene, revealed: bool, present: bool) -> None:
    """What the chapter draws: the cell, the timeline, the conventions, the memory or the gradients."""
    trace, t = sc.trace, min(sc.cfg.t, sc.steps - 1)
    if lesson.figure in ("cell", "variants"):
        x_label = step.x_label(sc.seq, t)
        st.plotly_chart(cell.cell_figure(trace, t, sc.cfg.unit, x_label, present=present, predict=not revealed),
                        config=CHART, key="learn_cell")
        if lesson.figure == "variants" and revealed:
            who = "\n".join(f"- {literal(s.text, None)}" for s in lesson.data["who"])
            st.markdown("**Who writes which**\n\n" + who)
        return
    if lesson.figure == "timeline":
        st.plotly_chart(tl.timeline_figure(sc.seq, trace.layer(0), sc.model.spec.kind, t=t, present=present,
                                           input_names=lesson.data.get("inputs"),
                                           mark_unit=lesson.data.get("unit")),
                        config=CHART, key="learn_timeline")  # Streamlit's theme fills in the ink
    elif lesson.figure == "memory":
        beta = lesson.data["keep_bias"]
        st.plotly_chart(compare_figs.memory_figure(
            lesson.data["responses"], f"A spike at t = {lessons.MEMORY_AT}, then zeros (keep bias β = {beta:g})",
            "step t", "‖h_t − h_t without the spike‖", present=present), config=CHART, key="learn_memory")
    elif lesson.figure == "flow":
        st.plotly_chart(flow.flow_figure(lesson.data["flows"], present=present), config=CHART, key="learn_flow")
    elif lesson.figure == "seq2seq":
        tr = lesson.data["tr"]
        st.plotly_chart(s2s_figs.heatmap_figure(
            tr.enc.layer(0, 0).h[:, 0], tr.enc_symbols, "h", t=tr.enc.steps - 1, present=present,
            title="The encoder's h, 256 units, by letter read"), config=CHART, key="learn_s2s")  # fits a phone
    elif lesson.figure == "real_text":
        real_text.lesson_figure(lesson.data["kind"], lesson.data["unit"])


# -------------------------------------------------------------------------------------------------- page


def try_box(ch: Chapter, lesson_key: str, number: int, value: object) -> None:
    """The one thing to try, with the knob that does it."""
    with st.container(border=True, key="learn_try"):
        st.markdown("**Try this.** " + literal(ch.try_this, None))
        if ch.knob is not None:
            key = KNOB
            if key not in st.session_state:
                st.session_state[key] = value
            knob = ch.knob
            moved = {"on_change": _knob_moved, "args": (lesson_key, number)}
            if len(knob.options) <= 5:
                st.segmented_control(knob.label, knob.options, key=key, format_func=knob.name, help=knob.help or None,
                                     **moved)
            elif all(isinstance(o, int) for o in knob.options):
                st.select_slider(knob.label, knob.options, key=key, format_func=knob.name, **moved)
            else:
                st.selectbox(knob.label, knob.options, key=key, format_func=knob.name, **moved)


def open_links(ch: Chapter, cfg: Config) -> None:
    """Open the chapter's scene on its page (the knob as it is now), and the Train page for the last chapter."""
    if ch.page == "real_text":  # the model, and the unit the chapter names
        unit = lessons.clearest(real_text.findings()["found"][cfg.model])
        query = {"model": cfg.model, **({"layer": str(unit.layer), "unit": str(unit.unit)}
                                        if unit is not None and unit.which == "h" else {})}
        st.page_link("pages/real_text.py", label="Open this on the Real text page", icon=":material/open_in_new:",
                     query_params=query)
        return
    if ch.page == "seq2seq":  # the word is all that page reads
        st.page_link("pages/seq2seq.py", label="Open this on the Encoder–decoder page",
                     icon=":material/open_in_new:", query_params={"word": cfg.word})
        return
    query = state.to_query(cfg)
    page = ch.page if ch.page != "train" else "timeline"
    st.page_link(f"pages/{page}.py", label=f"Open this scene on {PAGE_NAMES[page]}", icon=":material/open_in_new:",
                 query_params=query)
    if ch.page == "train":
        st.page_link("pages/train.py", label="Train a GRU, an LSTM and an RNN yourself",
                     icon=":material/model_training:")


SETUP = {  # before the reveal, what a chapter without a circuit shows of its scene
    "memory": "The cells: a GRU, an LSTM and a vanilla RNN, seeded as torch initialises them plus the keep bias β on "
              "the gates that keep (the RNN has none), each fed a spike of 1 "
              "at t = {at}, then zeros; the figure shows how far each one's state still is from the state without "
              "the spike.",
    "flow": "The cells: a GRU and a vanilla RNN, seeded as torch initialises them plus the keep bias β on the GRU's "
            "z, on {steps} steps of noise; the "
            "figure shows how much of the gradient from the last step reaches each earlier step.",
    "real_text": "The models: a GRU, an LSTM and a vanilla RNN of about 200,000 parameters each, trained by gru-viz "
                 "to guess the next character of Python's standard library; their units are correlated with "
                 "features of held-out Python (inside a string, bracket depth, position in the line …).",
    "seq2seq": "The model: g2p-en's trained GRU encoder–decoder. Its encoder reads “{word}” letter by letter; its "
               "decoder spells the sound, one ARPAbet phoneme a step.",
}


def setup(lesson: Lesson, sc: Scene, cfg: Config) -> None:
    """What goes in, before the reveal: the input sequence, or the experiment in words."""
    if lesson.figure in SETUP:
        st.caption(SETUP[lesson.figure].format(at=lessons.MEMORY_AT, steps=lessons.GRADIENT_STEPS, word=cfg.word))
    else:
        if "inputs_said" in lesson.data:  # what each input channel carries, named where the input is shown
            st.caption(literal(lesson.data["inputs_said"].text, None))
        step.sequence_strip(replace(sc.cfg, t=min(sc.cfg.t, sc.steps - 1)), sc)
    st.caption("Answer the question (or press *Just show me*) to see the run.")


def page(cfg: Config) -> None:
    """The Learn page below its title."""
    lesson_key, number = current(cfg)
    ch = lessons.chapter(number, lesson_key)
    value = knob_value(cfg, lesson_key, number)
    want = scene_config(lesson_key, number, cfg, value)
    if want != cfg:  # the link is the chapter, and the other pages show its scene
        ui.apply(want)
        cfg = want
    if cfg.present:
        st.markdown(LEARN_CSS, unsafe_allow_html=True)
    header(lesson_key, number)
    with ui.friendly("This chapter"):
        lesson, sc = lesson_of(lesson_key, number, value)
        st.subheader(f"{number}. {ch.title}", anchor=False)
        round_key = (lesson_key, number, value)
        if not cfg.present:
            idea(lesson)
        left, right = st.columns([3, 2], gap="large")
        with right:
            revealed = question_box(lesson, round_key)
            if revealed:
                with st.container(key="learn_prose"):
                    for sentence in lesson.prose:
                        if sentence is not lesson.question.reveal:  # said once, in the answer above
                            st.markdown(step.narration_markdown(sentence.text), unsafe_allow_html=True)
                    words = glossary.explain(" ".join(s.text for s in lesson.prose))
                    if words:  # the notation the chapter's words use, in plain words
                        st.caption(words)
                if cfg.present:  # the way on comes after the answer, never above the question inviting a skip
                    prev_next(lesson_key, number, "answer", big=True)
        with left:
            if cfg.present:  # presenting, the idea heads the scene's column: the question and Reveal stay above
                idea(lesson)  # the fold of a 1280×720 projector, beside it
            if revealed or lesson.figure in ("cell", "variants"):
                figure(lesson, sc, revealed, cfg.present)
            else:
                setup(lesson, sc, cfg)
        tried, links = st.columns([3, 2], gap="large", vertical_alignment="center")
        with tried:
            try_box(ch, lesson_key, number, value)
        with links:
            open_links(ch, replace(scene_config(lesson_key, number, cfg, value), chapter=number))
    prev_next(lesson_key, number, "bottom")
