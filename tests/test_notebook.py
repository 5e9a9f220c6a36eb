"""The example notebook (docs/gru-viz-from-python.ipynb) runs from top to bottom in a real Jupyter kernel (nbclient),
loads the torch, Keras and ONNX models it shows, and its figure cells display Plotly figures; no cell errs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "gru-viz-from-python.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + env if env else "")  # as `pip install -e .` would
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        if env is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = env
    return nb


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "strip the outputs before committing"


def test_notebook_runs_and_shows_figures(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    figures = []
    for c in code:
        for o in c.outputs:
            if PLOTLY in o.get("data", {}):
                figures.append((c.source, json.loads(json.dumps(o["data"][PLOTLY]))))
    assert len(figures) == 4, [s for s, _ in figures]
    sources = [s for s, _ in figures]
    assert sum("cell_figure" in s for s in sources) == 2 and sum("timeline_figure" in s for s in sources) == 2
    for _, fig in figures:
        assert fig["data"], "an empty figure"
    timeline = figures[1][1]
    assert sum(tr["type"] == "heatmap" for tr in timeline["data"]) >= 4  # r, z, n, h


def test_notebook_numbers(executed):
    text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "max |ours − torch| = " in text and "(float64 round-off)" in text
    assert "Keras Sequential 'sequential': 'gru_lower' (GRU) → 'gru_upper' (GRU)" in text
    assert "readout: (1, 4) (outputs × h); left out: []" in text  # the Dense head is the model's readout
    assert "Model(GRU, input 1, hidden 3, PyTorch (reset after, z keeps), bidirectional)" in text
