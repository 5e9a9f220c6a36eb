"""The Real text page in AppTest, on tiny seeded test-only character models (tests/charlm_support.py): every section
draws with no error box and every sentence on it is a registered claim that holds on the numbers; junk link values,
an empty text, an over-long one and characters the model never saw get a learner's note, never a traceback, and
nothing typed is lost; what Generate writes can be read; the link keys round-trip.
(The shipped models' numbers are checked by the Learn chapter's tests and the browser test.)"""

from __future__ import annotations

import numpy as np
import pytest
from apptest_support import open_page
from charlm_support import HIDDEN, VALIDATION, install
from test_claims_pages import page_text, verdict

from gru_viz.app import real_text as page
from gru_viz.app import ui
from gru_viz.core import charlm, units
from gru_viz.explain import charlm as talk
from gru_viz.explain import real_text as words
from gru_viz.explain.claims import Context
from gru_viz.io import charlm as charlm_io
from gru_viz.serve import state, work

PAGE = "pages/real_text.py"


@pytest.fixture(autouse=True)
def tiny_models(monkeypatch):
    install(monkeypatch)
    yield
    from charlm_support import clear_caches

    clear_caches()


def open_rt(query: dict[str, str] | None = None, section: str | None = None):
    return open_page(PAGE, query, {page.TAB: section} if section else None, timeout=240)


def page_context(at, section: str = "Read") -> Context:
    """What the page shows, rebuilt here from its config and the core (not from the page's own objects)."""
    cfg = at.session_state[ui.CFG]
    model = page.model_of(cfg.model)
    text = cfg.text[: page.MAX_TEXT]
    r = charlm.read(model, text) if text else None
    layer = cfg.layer if cfg.layer < model.spec.num_layers else 0
    unit = cfg.unit if cfg.unit < model.spec.hidden_size else 0
    t = min(cfg.t, len(text) - 1) if text else 0
    values = {"reading": r, "t": t, "typed": cfg.text, "cap": page.MAX_TEXT, "kind": cfg.model, "spec": model.spec}
    if section in ("Units found", "Gate saturation", "Compare"):
        st_ = charlm.states(model, VALIDATION)
        values |= {"found": units.find_units(model, VALIDATION, read=st_), "units": talk.unit_count(model.spec),
                   "saturation": units.saturation(st_), "chars": len(VALIDATION),
                   "windows": (charlm.CHUNK, charlm.WARMUP),
                   "bpc": {k: charlm_io.char_model_info(k).bits_per_char for k in page.NAMES}}
    if section == "Pattern search":
        start, end = at.session_state[page.SPAN]
        th = at.session_state["rt_threshold"]
        mine = units.PatternIndex(page.unit_block(r, layer), text)
        near = work.analysis_text(VALIDATION, work.PATTERN_CHARS)
        held = units.PatternIndex(charlm.states(model, near).values(layer, "h"), near)
        picked = mine.select(start, end, th)
        values["pattern"] = talk.Pattern(mine, layer, start, end, th, picked,
                                         tuple(held.matches(picked, th)) if len(picked) else ())
        values["pattern_text"] = near
    if section == "Generate":
        prompt, temp, seed, n = (at.session_state[k] for k in ("rt_prompt", "rt_temp", "rt_seed", "rt_len"))
        values["generated"] = {"model": page.NAMES[cfg.model], "temperature": temp, "seed": seed,
                               "text": charlm.sample(model, prompt, n, temp, seed)}
    return Context(trace=None if r is None else r.trace, model=model, layer=layer, t=t, unit=unit,
                   labels=None if r is None else tuple(talk.char_label(c) for c in r.text), values=values)


def assert_true(at, ctx: Context, least: int) -> list[str]:
    texts = page_text(at)
    false, loose, count = verdict(texts, ctx)
    assert false == [], "sentences that are false on this page's numbers"
    assert loose == [], "gate sentences that are not registered claims"
    assert count >= least, f"expected at least {least} claims, found {count}: {texts}"
    return texts


# -------------------------------------------------------------------------------------------- sections


def test_read_colours_the_text_predicts_the_next_character_and_narrates_the_gates():
    at = open_rt({"model": "gru", "text": "def f(x):\n    return 'a'  # b\n", "t": "4", "layer": "1", "unit": "3"})
    cfg = at.session_state[ui.CFG]
    assert (cfg.model, cfg.t, cfg.layer, cfg.unit) == ("gru", 4, 1, 3)
    texts = assert_true(at, page_context(at), least=4)
    joined = " ".join(texts)
    assert "After “f”, the model's likeliest next character is" in joined
    assert "The character that came next, “(”, had probability" in joined
    assert "What happened at character 4" in joined and "layer 1, unit 3" in joined
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "outline:2px solid currentColor" in html and "background:" in html  # coloured, the cursor boxed
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(charts) == 2  # the circuit and the top five


def test_the_cursor_layer_and_unit_widgets_write_the_link():
    at = open_rt({"text": "for i in range(3):\n    pass\n"})
    at.slider(key=ui.W + "t").set_value(7).run()
    at.selectbox(key=ui.W + "layer").set_value(1).run()
    at.number_input(key=ui.W + "unit").set_value(4).run()
    cfg = at.session_state[ui.CFG]
    assert (cfg.t, cfg.layer, cfg.unit) == (7, 1, 4)
    assert (at.query_params["t"], at.query_params["layer"], at.query_params["unit"]) in (
        ("7", "1", "4"), (["7"], ["1"], ["4"]))
    assert_true(at, page_context(at), least=4)
    at.text_area(key=ui.W + "text").set_value("x = 1\n").run()
    assert at.session_state[ui.CFG].t == 0 and at.slider(key=ui.W + "t").value == 0


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_read_on_every_model(kind):
    at = open_rt({"model": kind, "text": "x = [1, 2]\n", "t": "3"})
    assert_true(at, page_context(at), least=3)


@pytest.mark.parametrize("section", page.SECTIONS[1:])
@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_every_section_draws_and_every_sentence_holds(section, kind):
    at = open_rt({"model": kind, "text": "if a:\n    print('hi')  # say\n", "t": "2"}, section)
    least = {"Units found": 5, "Gate saturation": 1, "Pattern search": 1, "Generate": 1, "Compare": 4}[section]
    assert_true(at, page_context(at, section), least=least)


def test_units_found_lists_every_feature_and_a_pick_colours_the_text():
    at = open_rt({"model": "lstm"}, "Units found")
    found = page.analysis("lstm").found
    rows = at.dataframe[0].value
    assert len(rows) == len(found)
    named = [f for f in found if f.named and f.which == "h"]
    if named:
        at.selectbox(key="rt_found").set_value(page.found_label(named[0])).run()
        cfg = at.session_state[ui.CFG]
        assert (cfg.layer, cfg.unit) == (named[0].layer, named[0].unit)


def test_pattern_search_picks_units_and_lists_matches_at_a_low_threshold():
    at = open_rt({"model": "gru", "text": VALIDATION[:400]}, "Pattern search")
    at.slider(key="rt_threshold").set_value(0.05).run()
    at.slider(key=page.SPAN).set_value((10, 12)).run()
    ctx = page_context(at, "Pattern search")
    texts = assert_true(at, ctx, least=1)
    p = ctx.values["pattern"]
    if len(p.units):
        assert any(t.startswith("Across characters 10 to 11,") for t in texts)


def test_generate_then_read_what_it_wrote():
    at = open_rt({"model": "gru"}, "Generate")
    at.text_input(key="rt_prompt").set_value("import ").run()
    written = page.generated("gru", "import ", 300, 0.7, 0)
    assert written == charlm.sample(page.model_of("gru"), "import ", 300, 0.7, 0)
    assert any(("import " + written) in c.value for c in at.code)
    at.button(key="rt_read_generated").click().run()
    cfg = at.session_state[ui.CFG]
    assert cfg.text == "import " + written and cfg.t == 0
    assert at.session_state[page.TAB] == "Read"
    assert_true(at, page_context(at), least=3)
    assert state.from_query(state.to_query(cfg))[0].text == cfg.text  # the link carries it (packed)


# ------------------------------------------------------------------------------------------- bad input


def test_junk_link_values_are_notes_never_a_traceback():
    at = open_rt({"unit": "99999", "layer": "7", "model": "foo", "text": "ok"})
    notes = [i.value for i in at.info]
    for key in ("unit=", "layer=", "model="):
        assert any(f"Ignored {key}" in n for n in notes), notes
    cfg = at.session_state[ui.CFG]
    assert (cfg.model, cfg.layer, cfg.unit, cfg.text) == ("gru", 0, 0, "ok")


def test_a_unit_or_layer_past_the_model_is_a_note_and_the_first_is_shown():
    at = open_rt({"unit": str(HIDDEN + 5), "layer": "3", "text": "abc"})
    notes = " ".join(i.value for i in at.info)
    assert f"has units 0 to {HIDDEN - 1}: showing unit 0 instead of unit {HIDDEN + 5}" in notes
    assert "has layers 0 to 1: showing layer 0 instead of layer 3" in notes


def test_an_empty_text_is_a_note():
    at = open_rt({"text": ""})
    assert any("Nothing to read yet" in i.value for i in at.info)
    at = open_rt({"text": ""}, "Pattern search")
    assert any("at least two characters" in i.value for i in at.info)


def test_a_long_text_is_read_up_to_the_cap_and_kept_whole():
    long = ("x = 1  # one\n" * 8_000)[:100_000]
    at = open_rt({"text": "abc"})
    at.text_area(key=ui.W + "text").set_value(long).run()
    cfg = at.session_state[ui.CFG]
    assert cfg.text == long, "nothing typed is lost"
    assert any(f"Your text has 100000 characters; the page reads the first {page.MAX_TEXT}" in i.value
               for i in at.info), [i.value for i in at.info]
    ctx = page_context(at)
    assert_true(at, ctx, least=3)
    assert len(ctx.values["reading"].text) == page.MAX_TEXT


def test_a_link_too_long_for_the_link_reader_is_a_note():
    at = open_rt({"text": "é" * 20_001})
    assert any("Ignored text=" in i.value and "longer than 20000 characters" in i.value for i in at.info)


def test_characters_the_model_never_saw_are_counted_and_named():
    text = "naïve → ok"
    at = open_rt({"text": text, "t": "2"})
    notes = [i.value for i in at.info]
    assert any(n.startswith("2 of the 10 characters are not among the") and "“ï”, “→”" in n for n in notes), notes
    assert_true(at, page_context(at), least=4)


def test_the_cap_claim_is_checked():
    r = charlm.read(page.model_of("gru"), "ab")
    ctx = Context(values={"reading": r, "typed": "abc", "cap": 2})
    assert words.CLAIMS.check_text(words.say("rt.cap", n=3, cap=2).text, ctx) == []
    assert words.CLAIMS.check_text(words.say("rt.cap", n=4, cap=2).text, ctx)


def test_link_keys_round_trip():
    cfg = state.Config(model="lstm", text="print('hi')\n" * 40, layer=1, unit=7, t=5)
    assert state.from_query(state.to_query(cfg)) == (cfg, [])
    assert state.to_query(cfg)["text"].startswith(state.PACKED)
    assert np.isfinite(page.analysis("lstm").bits_per_char)
