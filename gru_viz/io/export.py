"""Export a run and its figures: the per-step trace as CSV or JSON, figures as standalone HTML or PNG.

NumPy and Plotly only (PNG through kaleido, which drives a locally installed Chromium; this module never
downloads a browser). Numbers are written with Python's shortest round-tripping ``repr``, so parsing the
files back gives the trace's float64 values exactly.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Mapping
from dataclasses import asdict
from functools import cache

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from ..core.sequences import Sequence
from ..core.trace import Trace
from ..figures.style import for_file
from ..figures.timeline import quantities

FORMAT = "gru-viz trace 1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class ExportError(RuntimeError):
    """An export that cannot be made here (e.g. no browser for PNG); the message is for the page."""


# ------------------------------------------------------------------------------------------- trace


def trace_columns(seq: Sequence, trace: Trace, layer: int = -1, direction: int = 0) -> dict[str, np.ndarray]:
    """Every per-step column of the CSV except t and label: x_0…, then each quantity per unit (r_0…, h_0…)."""
    lt = trace.layer(layer, direction)
    columns = {f"x_{i}": seq.values[:, i] for i in range(seq.width)}
    for name, values in quantities(lt, trace.spec.kind).items():
        columns.update({f"{name}_{u}": values[:, u] for u in range(values.shape[1])})
    return columns


def trace_csv(seq: Sequence, trace: Trace, layer: int = -1, direction: int = 0) -> str:
    """The run as CSV, one row per step: t, label, x_0…, then r_0… z_0… n_0… h_0… (per the cell kind)."""
    columns = trace_columns(seq, trace, layer, direction)
    table = np.column_stack(list(columns.values()))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["t", "label", *columns])
    # tolist() gives Python floats, which csv writes with repr: the shortest string that reads back exactly.
    for t, (label, row) in enumerate(zip(seq.labels, table.tolist(), strict=True)):
        writer.writerow([t, label, *row])
    return out.getvalue()


def _nested(values: np.ndarray) -> list:
    return np.asarray(values, dtype=np.float64).tolist()


def trace_json(seq: Sequence, trace: Trace, layer: int = -1, direction: int = 0,
               config: Mapping[str, object] | None = None, link: Mapping[str, str] | None = None) -> str:
    """The run as JSON: the app config and its link, the spec, the input, and every array of the layer.

    Arrays are lists over time (T, units) for the single sequence shown; ``pre`` holds pre-activations
    (``hn`` = W_hn h + b_hn for a GRU), ``clamped`` the steps where a gate was held fixed.
    """
    lt = trace.layer(layer, direction)
    doc = {
        "format": FORMAT,
        "config": dict(config or {}),
        "link": dict(link or {}),
        "spec": asdict(trace.spec),
        "layer": layer % trace.spec.num_layers,
        "direction": direction,
        "steps": seq.steps,
        "labels": list(seq.labels),
        "alphabet": None if seq.alphabet is None else list(seq.alphabet),
        "x": _nested(seq.values),
        "h0": _nested(lt.h0[0]),
        "c0": None if lt.c0 is None else _nested(lt.c0[0]),
        "quantities": {name: _nested(v) for name, v in quantities(lt, trace.spec.kind).items()},
        "pre": {name: _nested(v[:, 0, :]) for name, v in lt.pre.items()},
        "clamped": {name: np.asarray(v[:, 0, :], dtype=bool).tolist() for name, v in lt.clamped.items()},
        "ablations": [asdict(a) for a in trace.ablations],
    }
    return json.dumps(doc, allow_nan=False)


# ------------------------------------------------------------------------------------------ figures


def titled(fig: go.Figure, title: str) -> go.Figure:
    """A copy of ``fig`` with a title on top, for a file that has no page around it (in the light theme's colours:
    a file has no theme to follow)."""
    out = for_file(fig)
    top = max(int(out.layout.margin.t or 0), 50)
    out.update_layout(title={"text": title, "x": 0.01, "xanchor": "left"}, margin={"t": top})
    if out.layout.height:
        out.update_layout(height=out.layout.height + top - int(fig.layout.margin.t or 0))
    return out


def figure_html(fig: go.Figure) -> str:
    """A standalone HTML page with the figure: plotly.js is embedded, so it opens offline."""
    return fig.to_html(full_html=True, include_plotlyjs=True, config={"displaylogo": False})


@cache
def find_browser() -> str | None:
    """The Chromium/Chrome that kaleido will drive, or None (looked up, never downloaded)."""
    try:
        from choreographer.browsers.chromium import Chromium  # kaleido's own lookup

        found = Chromium.find_browser(skip_local=False)
        if found:
            return str(found)
    except Exception:  # an internal API of kaleido's dependency: fall back to PATH
        pass
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def png_unavailable() -> str | None:
    """Why PNG export cannot work here, or None if it can be tried."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return "PNG export needs the kaleido package, which is not installed."
    if find_browser() is None:
        return "PNG export needs Chromium or Chrome (kaleido drives it); none is installed on the server."
    return None


def figure_png(fig: go.Figure, width: int = 1200, height: int | None = None, scale: float = 2.0) -> bytes:
    """The figure as PNG bytes, rendered by kaleido in the local Chromium (slow: seconds)."""
    reason = png_unavailable()
    if reason:
        raise ExportError(reason)
    try:
        data = pio.to_image(fig, format="png", width=width, height=height or fig.layout.height, scale=scale)
    except Exception as exc:  # kaleido's errors vary (browser crash, timeout): report, never traceback
        raise ExportError(f"PNG export failed: {type(exc).__name__}: {str(exc)[:200]}") from exc
    if not data.startswith(PNG_SIGNATURE):
        raise ExportError("PNG export returned something that is not a PNG image.")
    return data
