"""A real browser uploads a hand-written NumPy model on g2p-en's arrays (tests/hand_written.py) on "Your model"
(its names are not torch's), sees the proposed mapping and its Python call, confirms it, and the encoder loads with
its embedding; at a desk (1440×900), in presenter mode (1280×720), on a phone (390×844) and in the dark theme.
Screenshots of each go to the artifacts."""

from __future__ import annotations

import pytest
from browser_support import assert_no_error, wait_for_app
from browser_support import screenshot as take_screenshot
from hand_written import hand_written_npz, two_modules
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'
SCREENS = {
    "desk": ({"width": 1440, "height": 900}, "light", ""),
    "presenter": ({"width": 1280, "height": 720}, "light", "?present=1"),
    "phone": ({"width": 390, "height": 844}, "light", ""),
    "dark": ({"width": 1440, "height": 900}, "dark", ""),
}


@pytest.mark.parametrize("screen", list(SCREENS))
def test_mapping_flow(streamlit_server, browser, screen, tmp_path):
    viewport, scheme, query = SCREENS[screen]
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(streamlit_server + "/your_model" + query)
        wait_for_app(page, timeout=120_000)  # the first run of a page on a loaded machine
        upload = tmp_path / "model.npz"
        upload.write_bytes(hand_written_npz())
        page.locator(UPLOADER).first.set_input_files(str(upload))
        wait_for_app(page, timeout=120_000)  # the first run of a page on a loaded machine
        main = page.get_by_test_id("stMain")
        warning = main.get_by_text("does not use PyTorch's names")
        expect(warning).to_be_visible()
        code = main.get_by_test_id("stCode").first
        expect(code).to_contain_text("'weight_ih_l0': 'enc_w_ih'")
        expect(page.get_by_role("combobox", name="weight_hh_l0")).to_have_value("enc_w_hh")
        assert_no_error(page)
        warning.scroll_into_view_if_needed()
        take_screenshot(page, f"your-model-mapping-{screen}")
        page.get_by_role("combobox", name="bias_hh_l0").scroll_into_view_if_needed()
        take_screenshot(page, f"your-model-mapping-choices-{screen}")
        code.scroll_into_view_if_needed()
        take_screenshot(page, f"your-model-mapping-call-{screen}")
        main.get_by_role("button", name="Load with this mapping").click()
        wait_for_app(page, timeout=120_000)  # the first run of a page on a loaded machine
        table = main.get_by_test_id("stTable").filter(has_text="Embedding")
        expect(table).to_contain_text("29 × 256")
        expect(main.get_by_text("does not use PyTorch's names")).to_have_count(0)
        assert_no_error(page)
        table.scroll_into_view_if_needed()
        take_screenshot(page, f"your-model-mapped-{screen}")
    finally:
        context.close()


@pytest.mark.parametrize("screen", ["desk", "phone"])
def test_module_picker(streamlit_server, browser, screen, tmp_path):
    """A state_dict with an encoder and a decoder: the page lists both, the learner picks the decoder, it loads with
    its embedding and readout."""
    import torch
    from test_mapping import Seq2Seq

    torch.manual_seed(3)
    path = tmp_path / "seq2seq.pt"
    torch.save(two_modules(Seq2Seq().state_dict()), path)
    viewport, scheme, query = SCREENS[screen]
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(streamlit_server + "/your_model" + query)
        wait_for_app(page, timeout=120_000)  # the first run of a page on a loaded machine
        page.locator(UPLOADER).first.set_input_files(str(path))
        wait_for_app(page, timeout=120_000)
        main = page.get_by_test_id("stMain")
        warning = main.get_by_text("holds 2 recurrent modules")
        expect(warning).to_be_visible()
        main.get_by_text("decoder.gru. — GRU, input 6, hidden 6").click()
        wait_for_app(page, timeout=120_000)
        expect(main.get_by_test_id("stCode").first).to_contain_text("prefix='decoder.gru.'")
        assert_no_error(page)
        warning.scroll_into_view_if_needed()
        take_screenshot(page, f"your-model-modules-{screen}")
        main.get_by_role("button", name="Load this module").click()
        wait_for_app(page, timeout=120_000)
        table = main.get_by_test_id("stTable").filter(has_text="Readout")
        expect(table).to_contain_text("9 scores per step")
        assert_no_error(page)
        table.scroll_into_view_if_needed()
        take_screenshot(page, f"your-model-module-loaded-{screen}")
    finally:
        context.close()
