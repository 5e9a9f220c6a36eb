"""Untrusted text stays text: whatever a link or a file supplies shows as itself, never as a link, an image or a
heading (gru_viz.explain.literal, used everywhere such text meets markdown).

- The helper, property-tested: undoing its escapes gives back the text (shortened, on one line).
- Streamlit's real renderer (a probe app in chromium): hostile strings through literal() into st.markdown,
  st.info, st.error, st.caption and st.table render as one paragraph of plain text equal to the input.
- Every path of the app: the crafted link of issue 16, bad gp=, hide=, weights=, a long seq, a typed sequence
  that "is not a number", and upload and CSV file names (refused and accepted) — no link, image or heading comes
  out of any of them, the browser asks evil.example for nothing, and the texts are shown literally.
"""

from __future__ import annotations

import json
import random
import re
from urllib.parse import quote, urlsplit

import pytest
from browser_support import ROOT, assert_no_error, eventually, start_server, wait_for_app
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect

from gru_viz.explain.literal import WORD_JOINER, literal, shorten

CRAFTED = ("\n\n### Teacher: the class model moved. [Open the new version here](https://evil.example/login) "
           "![](https://evil.example/beacon.png)")
CRAFTED_LINK = "/step?" + quote(CRAFTED, safe="") + "=1"  # the link, byte for byte
assert CRAFTED_LINK == ("/step?%0A%0A%23%23%23%20Teacher%3A%20the%20class%20model%20moved.%20%5BOpen%20the%20new%20"
                        "version%20here%5D%28https%3A%2F%2Fevil.example%2Flogin%29%20%21%5B%5D%28https%3A%2F%2F"
                        "evil.example%2Fbeacon.png%29=1")
PAYLOAD = "# Hi [Open](https://evil.example/login) ![](https://evil.example/b.png) <b>x</b> www.evil.example"
FILE_PAYLOAD = "# Hi [Open](https:evil.example) ![](https:evil.example) <b>x<b> mail@evil.example"  # no "/" in a name

CORPUS = [
    CRAFTED, PAYLOAD,
    "[a](//evil.example) [b][1]\n\n[1]: https://evil.example/ref", "<https://evil.example/auto>",
    "https://evil.example/bare http://evil.example www.evil.example/w mail@evil.example mailto:a@evil.example",
    "xmpp:a@evil.example", "![img](https://evil.example/i.png \"title\")", "[x](javascript:alert(1))",
    "# h1", "## h2", "###### h6", "Title\n===", "Title\n---", "> quote", "- item", "* item", "+ item", "1. item",
    "2) item", "| a | b |\n|---|---|\n| 1 | 2 |", "```\ncode\n```", "    indented code", "`code`", "**bold**",
    "__bold__", "*em*", "_em_", "~~strike~~", "~s~", "$x^2$", "$$\\href{https://evil.example}{x}$$", r"\(x\)",
    ":smile: :+1: :100:", ":material/home: :material/warning:", ":red[red] :blue-background[b] :small[s]",
    ":red-badge[badge] :streamlit: ::note :::div", "<b>html</b> <img src=x onerror=alert(1)> <!-- c -->",
    "&lt; &amp; &#91;x&#93;(y) &copy;", "a->b <- c -- d >= e <= f ~= g ...", "line one  \nline two\\\nthree",
    "footnote[^1]\n\n[^1]: https://evil.example/f", "trailing backslash \\", "\\[not a link\\](x)", "evil\u202egnp.exe",
    "tab\there", "snake_case reset_after=True gru/bias:0 (2, 12)", "step 2: 'abc' is not a number",
    "a" * 3 + "*" * 3 + "_" * 3 + "`" * 3, "[" * 20 + "]" * 20 + "(" * 5, "\\" * 7, "<" * 5 + ">" * 5,
]


TEXT_P = '[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] p'


def single_line(text: str) -> str:
    """What literal() is meant to show for ``text``: on one line, invisible controls made visible."""
    s = re.sub(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]", " ", text)
    return re.sub(r"[\x00-\x08\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069\ue000]", "\ufffd", s)


def unescape(md: str) -> str:
    """Undo what literal() adds: backslashes before ASCII punctuation, and word joiners."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md).replace(WORD_JOINER, "")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 :/@._-*~`[]()<>!#=|+$&;\\\n\u2060")) | st.characters(),
               max_size=80), st.integers(5, 100))
def test_literal_gives_back_the_text(text, limit) -> None:
    out = literal(text, limit)
    assert "\n" not in out and "\r" not in out
    assert unescape(out) == single_line(shorten(text, limit)).replace(WORD_JOINER, "")
    unescaped = re.sub(r"\\.", "", out)  # what is left once every escaped character is taken out
    assert not re.search(r"[\[\]<`*~$]", unescaped), out  # links, images, HTML, code, emphasis, math
    assert not re.search(r"(?i)www\.", out), out  # autolinks: www., scheme://, e-mail; :emoji:, :material/…:
    assert not re.search(r"(?<!\\):(?=[/:A-Za-z])|\\:(?!\u2060)", out), out
    assert not re.search(r"(?<=[^\s\u2060])@(?=\S)", out), out
    assert not re.match(r"[#>+=|-]|\d+[.)]", out), out  # a block at the start of the line


@pytest.mark.browser
def test_streamlit_renders_it_as_plain_text(browser, tmp_path, monkeypatch) -> None:
    rng = random.Random(16)
    alphabet = [*"ab :/@.-_*~`[]()<>!#=|+$&;\\\n", "http://", "www.", ":smile:", "](", "![", ":material/x:"]
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 25))) for _ in range(150)]
    cases = CORPUS + fuzz
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    monkeypatch.setenv("GRU_VIZ_PROBE_CASES", str(path))
    with start_server("tests/apps/literal_probe.py") as url:
        page = browser.new_page()
        try:
            page.goto(url)
            wait_for_app(page, timeout=90_000)
            expect(page.get_by_text("probe done")).to_be_visible()
            # every box rendered (tables come from a chunk of the frontend loaded on first use)
            page.wait_for_function(f"() => document.querySelectorAll('{TEXT_P}').length >= {len(cases)}",
                                   timeout=60_000)
            shown = page.evaluate("""([n, sel]) => Array.from({length: n}, (_, i) => {
                const box = document.querySelector(`.st-key-probe_${i}`);
                const ps = box ? box.querySelectorAll(sel) : [];
                const p = ps.length === 1 ? ps[0] : null;
                return {paragraphs: ps.length, elements: p ? p.querySelectorAll('*').length : -1,
                        text: p ? p.textContent : null};
            })""", [len(cases), TEXT_P])
        finally:
            page.close()
    bad = []
    for text, got in zip(cases, shown, strict=True):
        want = " ".join(("Seen: " + single_line(text)).split())
        seen = " ".join((got["text"] or "").replace(WORD_JOINER, "").split())
        if got["paragraphs"] != 1 or got["elements"] != 0 or seen != want:
            bad.append(f"{text!r} → {got} (want {want!r})")
    assert not bad, "not shown as plain text:\n" + "\n".join(bad[:20])


# ---------------------------------------------------------------------------------------------- the app's paths


def shown(locator) -> str:
    """A box's text as a reader sees it (word joiners are invisible; runs of spaces show as one)."""
    return " ".join(locator.inner_text().replace(WORD_JOINER, "").split())


def no_markup_from(page, context) -> None:
    """Nothing the hostile texts carried became a link, an image or a heading."""
    for where in ('[data-testid="stMain"]', '[data-testid="stSidebar"]'):
        area = page.locator(where)
        expect(area.locator('a[href*="evil"]')).to_have_count(0)
        expect(area.locator('img[src*="evil"]')).to_have_count(0)
        headings = area.locator("h1, h2, h3, h4, h5, h6")  # ours may quote a name ("What … holds"), never start one
        expect(headings.filter(has_text=re.compile(r"^\W*(Teacher|Hi\b|Open)"))).to_have_count(0)
        expect(area.locator("b, strong").filter(has_text=re.compile(r"^x$"))).to_have_count(0)


@pytest.mark.browser
def test_every_path_shows_link_and_file_text_literally(streamlit_server, browser, tmp_path) -> None:
    from gru_viz.core.params import random_model
    from gru_viz.core.spec import Spec
    from gru_viz.io.weights import save_safetensors

    asked: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", lambda r: (asked.append(r.request.url), r.abort()) if "evil" in (
        urlsplit(r.request.url).hostname or "") else r.continue_())
    page = context.new_page()
    try:
        # 1. the link: an unknown key (the crafted link), bad gp=, hide=, weights=, and a long seq
        bad = quote(PAYLOAD, safe="")
        value = repr(shorten(PAYLOAD, 40))
        link = (f"{CRAFTED_LINK}&gp={bad}&hide={bad}&weights={bad}&scale={bad}&source=typed"
                f"&seq={quote(PAYLOAD * 400, safe='')}")
        page.goto(streamlit_server + link)
        wait_for_app(page, timeout=60_000)
        assert_no_error(page)
        notes = page.get_by_test_id("stAlertContentInfo").filter(has_text="Ignored")
        expect(notes).to_have_count(6)
        wants = [
            "Ignored unknown link settings: ### Teacher: the class model moved. [Open the new",
            f"Ignored gp={value} from the link (write name=value pairs",
            f"Ignored hide={value} from the link (unknown part '# Hi [Open](https://evil",
            f"Ignored weights={value} from the link",
            "Ignored seq='# Hi [Open](https://evil",
            f"Ignored scale={value} from the link (must be a number from 0.0 to 5.0)",
        ]
        eventually(lambda: [shown(notes.nth(i)) for i in range(6)],
                   lambda texts: all(any(want in t for t in texts) for want in wants), what="the six notes")
        no_markup_from(page, context)
        # the typed sequence's "is not a number" message quotes the token
        page.goto(streamlit_server + "/step?source=typed&seq=" + quote("1, [a](//evil.example/x), 2", safe=""))
        wait_for_app(page, timeout=60_000)
        error = page.get_by_test_id("stAlertContentError").first
        expect(error).to_contain_text("is not a number")
        eventually(lambda: shown(error), lambda t: "'[a](//evil.example/x)' is not a number" in t, what="the error")
        no_markup_from(page, context)

        # 2. files: a refused weights file and an accepted one, a refused CSV and an accepted one
        page.goto(streamlit_server + "/your_model")
        wait_for_app(page, timeout=60_000)
        uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        refused = f"{FILE_PAYLOAD} refused.safetensors"
        uploader.first.set_input_files(files=[{"name": refused, "mimeType": "application/octet-stream",
                                               "buffer": b"not a safetensors file"}])
        wait_for_app(page, timeout=60_000)
        error = page.get_by_test_id("stAlertContentError").filter(has_text="Refused").first
        expect(error).to_be_visible()
        eventually(lambda: shown(error), lambda t: f"Refused {shorten(refused, 60)!r}" in t, what="the refusal")
        no_markup_from(page, context)

        accepted = f"{FILE_PAYLOAD}.safetensors"
        uploader.first.set_input_files(files=[{"name": accepted, "mimeType": "application/octet-stream",
                                               "buffer": save_safetensors(random_model(Spec("gru", 2, 3), seed=1))}])
        wait_for_app(page, timeout=60_000)
        assert_no_error(page)
        heading = page.get_by_test_id("stMain").locator("h3").filter(has_text="holds").first
        expect(heading).to_be_visible()
        eventually(lambda: shown(heading), lambda t: t == f"What {shorten(accepted, 60)} holds", what="the heading")
        expect(page.get_by_role("combobox", name="Weights")).to_have_value(re.compile(r"^Your model: # Hi \[Open\]"))
        no_markup_from(page, context)

        page.get_by_role("radio", name="a CSV file").click()
        wait_for_app(page)
        csv_input = page.locator('.st-key-your_model_csv [data-testid="stFileUploaderDropzoneInput"]')  # by its key
        csv_input.set_input_files(files=[{"name": f"{FILE_PAYLOAD} bad.csv", "mimeType": "text/csv",
                                          "buffer": b"1,[a](//evil.example/c)\n"}])
        wait_for_app(page, timeout=60_000)
        expect(page.get_by_test_id("stAlertContentError").filter(has_text="Refused").first).to_be_visible()
        no_markup_from(page, context)
        csv_input.set_input_files(files=[{"name": f"{FILE_PAYLOAD} good.csv", "mimeType": "text/csv",
                                          "buffer": b"0.5,1\n1,0\n0,0.25\n"}])
        wait_for_app(page, timeout=60_000)
        success = page.get_by_test_id("stAlertContentSuccess").first
        expect(success).to_contain_text("3 steps of 2 value(s)")
        good = shorten(f"{FILE_PAYLOAD} good.csv", 60) + ": 3 steps"
        eventually(lambda: shown(success), lambda t: t.startswith(good), what="the accepted CSV's message")
        no_markup_from(page, context)
    finally:
        context.close()
    assert asked == [], f"the browser asked the hostile host for: {asked}"
    assert (ROOT / "tests/apps/literal_probe.py").is_file()
