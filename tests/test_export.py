"""Exports carry exactly the trace's numbers: CSV and JSON parse back to the same float64 values; HTML is
standalone with the data inside; PNG really renders through kaleido in Debian's chromium (never skipped)."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from dataclasses import asdict

import numpy as np
import plotly.graph_objects as go
import pytest

from gru_viz.core.kinds import KIND, KINDS
from gru_viz.core.spec import Spec
from gru_viz.figures import timeline as tl
from gru_viz.io import export
from gru_viz.serve import state

DTYPES = {"f8": np.float64, "f4": np.float32, "i1": np.int8, "i2": np.int16, "i4": np.int32, "u1": np.uint8}




def scene(**changes):
    return state.build_scene(state.Config(**changes))


def expected_columns(sc) -> dict[str, np.ndarray]:
    lt = sc.trace.layer()
    out = {f"x_{i}": sc.seq.values[:, i] for i in range(sc.seq.width)}
    for name, values in tl.quantities(lt, sc.model.spec.kind).items():
        out |= {f"{name}_{u}": values[:, u] for u in range(values.shape[1])}
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_csv_round_trips_exactly(kind):
    sc = scene(cell=kind, hidden=3, steps=30, scale=2.5, seed=4)
    rows = list(csv.reader(io.StringIO(export.trace_csv(sc.seq, sc.trace))))
    header, body = rows[0], rows[1:]
    expected = expected_columns(sc)
    assert header == ["t", "label", *expected]
    first = {"gru": "r_0", "lstm": "i_0", "rnn": "pre_h_0", "mingru": "z_0", "minlstm": "f_0"}[kind]
    assert header[2] == "x_0" and header[3] == first
    assert len(body) == sc.steps
    assert [int(r[0]) for r in body] == list(range(sc.steps))
    assert [r[1] for r in body] == list(sc.seq.labels)
    table = np.array([[float(v) for v in r[2:]] for r in body])
    for k, (name, values) in enumerate(expected.items()):
        np.testing.assert_array_equal(table[:, k], values, err_msg=name)  # exact, not approximate


def test_csv_quotes_text_labels():
    text = 'a,"b" c\nd'
    sc = scene(source="text", seq=text, hidden=2)
    rows = list(csv.reader(io.StringIO(export.trace_csv(sc.seq, sc.trace))))
    assert [r[1] for r in rows[1:]] == list(sc.seq.labels) == ["a", ",", '"', "b", '"', "␣", "c", "⏎", "d"]
    assert rows[0][2 : 2 + sc.seq.width] == [f"x_{i}" for i in range(sc.seq.width)]


@pytest.mark.parametrize("kind", KINDS)
def test_json_round_trips_exactly(kind):
    gate = {"gru": "z", "lstm": "f", "mingru": "z", "minlstm": "f", "rnn": None}[kind]
    cfg = state.Config(cell=kind, hidden=3, steps=20, h0="random", seed=3, clamp=f"{gate}:1" if gate else "")
    sc = state.build_scene(cfg)
    doc = json.loads(export.trace_json(sc.seq, sc.trace, config=asdict(cfg), link=state.to_query(cfg)))
    lt = sc.trace.layer()
    assert doc["format"] == export.FORMAT
    assert doc["config"] == asdict(cfg) and doc["link"] == state.to_query(cfg)
    assert Spec(**doc["spec"]) == sc.model.spec  # (JSON has no tuples: the spec rebuilds from its lists)
    assert (doc["layer"], doc["direction"], doc["steps"]) == (0, 0, 20)
    assert doc["labels"] == list(sc.seq.labels) and doc["alphabet"] is None
    np.testing.assert_array_equal(np.array(doc["x"]), sc.seq.values)
    np.testing.assert_array_equal(np.array(doc["h0"]), lt.h0[0])
    for name, values in tl.quantities(lt, kind).items():
        np.testing.assert_array_equal(np.array(doc["quantities"][name]), values, err_msg=name)
    for name, values in lt.pre.items():
        np.testing.assert_array_equal(np.array(doc["pre"][name]), values[:, 0, :], err_msg=name)
    if "c" in KIND[kind].state:
        np.testing.assert_array_equal(np.array(doc["c0"]), lt.c0[0])
    else:
        assert doc["c0"] is None
    if gate:
        assert np.array(doc["clamped"][gate]).all() and np.array(doc["quantities"][gate]).min() == 1.0
        assert [a["gate"] for a in doc["ablations"]] == [gate]


def _figure_from_html(html: str) -> tuple[list, dict]:
    """The data and layout Plotly.newPlot receives in an exported page."""
    start = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", html).end()
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(html, start)
    layout, _ = decoder.raw_decode(html, html.index("{", end))
    return data, layout


def _array(value) -> np.ndarray:
    if isinstance(value, dict) and "bdata" in value:  # plotly's base64 typed arrays
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=DTYPES[value["dtype"]])
        shape = [int(s) for s in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(value)


def test_html_is_standalone_with_the_data():
    import streamlit.elements.plotly_chart  # noqa: F401  (as in the app: Plotly's default template becomes Streamlit's)

    sc = scene(hidden=3, steps=12)
    fig = export.titled(tl.timeline_figure(sc.seq, sc.trace.layer(), "gru"), "A GRU on a sine")
    html = export.figure_html(fig)
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "plotly.js v" in html and len(html) > 3_000_000  # plotly.js itself is embedded …
    assert not re.search(r"<script[^>]+src=", html)  # … and nothing is fetched from elsewhere
    data, layout = _figure_from_html(html)
    assert layout["title"]["text"] == "A GRU on a sine"
    # the page's theme placeholders are the light theme's colours in a file, on an opaque page
    spec = json.dumps([data, layout])
    assert not re.search(r"#0000[34]\d", spec), "a Streamlit placeholder colour left in the file"
    assert layout["paper_bgcolor"] == "#FFFFFF" and layout["font"]["color"] == "#262730"  # the strong ink
    heats = [d for d in data if d["type"] == "heatmap"]
    lt = sc.trace.layer()
    for heat, name in zip(heats, "rznh", strict=True):
        values = lt.h if name == "h" else lt.gates[name]
        np.testing.assert_array_equal(_array(heat["z"]), values[:, 0, :].T)


def test_titled_keeps_the_original():
    fig = go.Figure(go.Scatter(y=[1, 2]), layout={"height": 300, "margin": {"t": 10}})
    out = export.titled(fig, "T")
    assert out.layout.title.text == "T" and fig.layout.title.text is None
    assert out.layout.height == 340 and out.layout.margin.t == 50


def test_png_export_runs_kaleido_in_the_local_chromium():
    """Must really run: if kaleido cannot start chromium here, this fails (and says why) instead of skipping."""
    assert export.png_unavailable() is None, export.png_unavailable()
    assert export.find_browser()
    sc = scene(hidden=2, steps=10)
    png = export.figure_png(tl.pca_figure(sc.trace.layer().h[:, 0, :]), width=500, height=300, scale=1)
    assert png.startswith(export.PNG_SIGNATURE)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # IHDR
    assert (width, height) == (500, 300)


def test_png_failure_is_an_export_error(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("browser crashed")

    monkeypatch.setattr(export.pio, "to_image", boom)
    with pytest.raises(export.ExportError, match="browser crashed"):
        export.figure_png(go.Figure())
    monkeypatch.setattr(export, "find_browser", lambda: None)
    assert "Chromium" in export.png_unavailable()
    with pytest.raises(export.ExportError, match="Chromium"):
        export.figure_png(go.Figure())
