"""An encoder–decoder file uploaded on Your model, in Debian's chromium: the PyTorch seq2seq tutorial's
EncoderRNN/DecoderRNN (random weights, saved whole as .safetensors with its vocabularies) goes through the page's
own uploader, the link to the Encoder–decoder page opens it, and the page shows its answer and circuit with no
error at a desk (1440×900), presenting (1280×720), on a phone (390×844) and in the dark theme.
Screenshots land in test-artifacts/screenshots/<run>/seq2seq-upload-*.png."""

from __future__ import annotations

import pytest
from browser_support import assert_no_error, wait_for_app
from playwright.sync_api import expect
from test_seq2seq_files import saved, translator

pytestmark = pytest.mark.browser

UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'
CHARTS = '[data-testid="stPlotlyChart"] .main-svg'


def test_a_tutorial_translator_opens_on_the_encoder_decoder_page(streamlit_server, browser, screenshot, tmp_path):
    path = tmp_path / "translator.safetensors"
    path.write_bytes(saved(translator(2, 3.0), ".safetensors", vocabularies=True))
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(streamlit_server + "/your_model")
        wait_for_app(page, timeout=120_000)
        page.locator(UPLOADER).first.set_input_files(str(path))
        wait_for_app(page)
        expect(page.get_by_text("It opens on the Encoder–decoder page.")).to_be_visible()
        assert_no_error(page)
        screenshot(page, "seq2seq-upload-your-model", full_page=False)
        page.get_by_test_id("stMain").get_by_text("Open it on the Encoder–decoder page").click()
        wait_for_app(page, timeout=120_000)
        answer = page.get_by_text("The encoder–decoder answers").or_(page.get_by_text("no answer at all"))
        expect(answer).to_be_visible()
        expect(page.get_by_text("relu of its embedding")).to_be_visible()
        expect(page.locator(CHARTS).first).to_be_visible()
        assert_no_error(page)
        screenshot(page, "seq2seq-upload-desk")
        page.emulate_media(color_scheme="dark")
        screenshot(page, "seq2seq-upload-dark")
        page.emulate_media(color_scheme="light")
        page.set_viewport_size({"width": 1280, "height": 720})
        screenshot(page, "seq2seq-upload-presenter", full_page=False)
        page.set_viewport_size({"width": 390, "height": 844})
        expect(page.locator(CHARTS).first).to_be_visible()
        assert_no_error(page)
        screenshot(page, "seq2seq-upload-phone")
    finally:
        context.close()
