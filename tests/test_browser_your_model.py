"""A real browser uploads a .safetensors file on "Your model", then explores it on the other pages.

The upload goes through the page's own st.file_uploader: Playwright's ``set_input_files`` on the dropzone's
``<input type=file>`` (``data-testid="stFileUploaderDropzoneInput"``, checked in the 1.67 frontend bundle
``static/js/FileUploader.*.js``).
"""

from __future__ import annotations

import pytest
import safetensors.torch
import torch
from browser_support import assert_no_error, still, wait_for_app
from playwright.sync_api import expect
from torch import nn

UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'
CHARTS = '[data-testid="stPlotlyChart"] .js-plotly-plot'


def weights_file(tmp_path):
    torch.manual_seed(0)
    gru = nn.GRU(2, 4, num_layers=2, bidirectional=True)
    path = tmp_path / "my_gru.safetensors"
    path.write_bytes(safetensors.torch.save(gru.state_dict()))
    return path


def choose(page, label: str, option: str) -> None:
    """Pick an option of a selectbox (its menu closes again if the page scrolls under it: retry)."""
    box = page.get_by_role("combobox", name=label)
    item = page.get_by_role("option", name=option)
    for _ in range(5):
        box.scroll_into_view_if_needed()
        still(box)  # a menu opened while the page still scrolls closes again
        box.click()
        try:
            item.wait_for(state="visible", timeout=2000)
            break
        except Exception:
            page.keyboard.press("Escape")
    item.click()
    wait_for_app(page)


def open_from_menu(page, label: str) -> None:
    page.get_by_test_id("stSidebar").get_by_test_id("stPageLink").filter(has_text=label).click()
    wait_for_app(page)


@pytest.mark.browser
def test_upload_safetensors_then_explore_it(streamlit_server, page, screenshot, tmp_path):
    page.goto(streamlit_server + "/your_model")
    wait_for_app(page)
    assert_no_error(page)
    screenshot(page, "your-model-empty")

    page.locator(UPLOADER).first.set_input_files(str(weights_file(tmp_path)))
    wait_for_app(page)
    assert_no_error(page)
    table = page.get_by_test_id("stMain").get_by_test_id("stHorizontalBlock").filter(has=page.get_by_test_id("stTable"))
    expect(table).to_contain_text("torch.nn.GRU")
    expect(table).to_contain_text("2 (bidirectional)")
    expect(table).to_contain_text("Parameters528")
    expect(page.get_by_text("Matches PyTorch · max |Δ|").first).to_be_visible()
    expect(page.get_by_role("combobox", name="Weights")).to_have_value("Your model: my_gru.safetensors")
    table.scroll_into_view_if_needed()
    screenshot(page, "your-model-uploaded")
    chart = page.locator(CHARTS).first
    expect(chart).to_be_visible()  # the chosen layer's h over time
    chart.scroll_into_view_if_needed()
    screenshot(page, "your-model-explore")

    # pick the top layer's reverse direction: the preview follows
    choose(page, "Layer and direction", "layer 1 · reverse")
    wait_for_app(page)
    assert_no_error(page)
    expect(page.locator(CHARTS).first).to_contain_text("layer 1 · reverse")
    page.get_by_text("Export the current model").scroll_into_view_if_needed()
    screenshot(page, "your-model-export")

    for label, shot in (("Step through", "your-model-step"), ("Timeline", "your-model-timeline")):
        open_from_menu(page, label)
        assert_no_error(page)
        expect(page.get_by_role("combobox", name="Weights")).to_have_value("Your model: my_gru.safetensors")
        expect(page.locator(CHARTS).first).to_be_visible()
        screenshot(page, shot)

    open_from_menu(page, "Matches PyTorch")
    assert_no_error(page)
    expect(page.get_by_text("Matches PyTorch in float64").first).to_be_visible()
    screenshot(page, "your-model-matches")


@pytest.mark.browser
def test_hostile_upload_shows_a_message_in_the_browser(streamlit_server, page, screenshot, tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(b"\x80\x04\x95junk that is not a torch file")
    page.goto(streamlit_server + "/your_model")
    wait_for_app(page)
    page.locator(UPLOADER).first.set_input_files(str(path))
    wait_for_app(page)
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert.first).to_contain_text("Refused 'evil.pt'")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "your-model-refused")


@pytest.fixture(scope="session")
def kdir(tmp_path_factory):
    from keras_fixtures import keras_dir

    return keras_dir(tmp_path_factory.getbasetemp())


def summary_table(page):
    return page.get_by_test_id("stMain").get_by_test_id("stHorizontalBlock").filter(has=page.get_by_test_id("stTable"))


@pytest.mark.browser
def test_upload_keras_and_onnx_in_the_browser(streamlit_server, browser, screenshot, kdir, tmp_path):
    """A .keras model (two stacked GRUs and a Dense), an ONNX graph (two bidirectional GRU nodes) and a bias-free
    .weights.h5 (which asks reset_after) go through the real uploader at 1440×900; each summary says what the file
    held, and the pages run it."""
    from onnx_fixtures import recurrent_graph

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(streamlit_server + "/your_model")
        wait_for_app(page)
        keras_path = tmp_path / "stacked.keras"
        keras_path.write_bytes((kdir / "stacked-gru.keras").read_bytes())
        page.locator(UPLOADER).first.set_input_files(str(keras_path))
        wait_for_app(page)
        assert_no_error(page)
        table = summary_table(page)
        expect(table).to_contain_text("Keras GRU × 2")
        expect(table).to_contain_text("Keras Sequential")
        expect(table).to_contain_text("'dense' (Dense)")
        expect(page.get_by_role("combobox", name="Weights")).to_have_value("Your model: stacked.keras")
        table.scroll_into_view_if_needed()
        screenshot(page, "your-model-keras-1440")

        onnx_path = tmp_path / "gru.onnx"
        onnx_path.write_bytes(recurrent_graph("GRU", I=2, H=3, layers=2, direction="bidirectional",
                                              linear_before_reset=0, initial_state=False).SerializeToString())
        page.locator(UPLOADER).first.set_input_files(str(onnx_path))
        wait_for_app(page)
        assert_no_error(page)
        expect(table).to_contain_text("ONNX GRU nodes × 2 (bidirectional)")
        expect(table).to_contain_text("linear_before_reset=0")
        expect(page.get_by_role("combobox", name="Weights")).to_have_value("Your model: gru.onnx")
        expect(page.get_by_text("Matches PyTorch · max |Δ|").first).to_be_visible()
        table.scroll_into_view_if_needed()
        screenshot(page, "your-model-onnx-1440")

        h5_path = tmp_path / "nobias.weights.h5"
        h5_path.write_bytes((kdir / "gru-reset-before-nobias.weights.h5").read_bytes())
        page.locator(UPLOADER).first.set_input_files(str(h5_path))
        wait_for_app(page)
        assert_no_error(page)
        question = page.get_by_text("does not say how to compute it")
        expect(question).to_be_visible()
        question.scroll_into_view_if_needed()
        screenshot(page, "your-model-question-1440")
        page.get_by_role("button", name="reset_after=False: the reset gate acts before the recurrent product").click()
        wait_for_app(page)
        assert_no_error(page)
        expect(question).to_have_count(0)
        expect(table).to_contain_text("Cho v3 / d2l (reset before, z keeps)")
        expect(page.get_by_role("combobox", name="Weights")).to_have_value("Your model: nobias.weights.h5")

        open_from_menu(page, "Step through")
        assert_no_error(page)
        expect(page.get_by_role("combobox", name="Weights")).to_have_value("Your model: nobias.weights.h5")
        expect(page.locator(CHARTS).first).to_be_visible()
        screenshot(page, "your-model-keras-step-1440")
    finally:
        context.close()
