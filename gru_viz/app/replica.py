"""``python -m gru_viz.app.replica run app.py …``: ``streamlit run``, with the app's modules imported first.

A fresh Streamlit server imports a script's modules during its first session's run: about 1.1 s of one core here
(pandas, plotly, numpy, gru_viz), which the first students of a class wait for, and the students behind them in
the same burst queue behind it (``benchmarks/load_test.py --first-open``). Streamlit has no start-up hook, so
``scripts/serve.sh`` starts each replica through this module: the imports, and the job workers' fork server (torch's
import, at a lower priority), are paid before the replica answers its health check and nginx sends it anyone.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time

# What the pages import, and what their first run imports lazily (Plotly's figure classes, pandas for tables).
MODULES = ("pandas", "plotly.graph_objects", "plotly.io", "gru_viz.app.ui", "gru_viz.app.home", "gru_viz.app.learn",
           "gru_viz.app.step", "gru_viz.app.parity", "gru_viz.app.trained_view", "gru_viz.serve.state",
           "gru_viz.app.timeline", "gru_viz.app.compare", "gru_viz.app.gradients", "gru_viz.app.train",
           "gru_viz.app.your_model", "gru_viz.app.seq2seq", "gru_viz.app.real_text",
           "gru_viz.figures.flow")


# Two warnings that importing before the CLI provokes, both harmless here: st.cache_data checks its storage at
# decoration time (the runtime's own storage is used once it exists), and the CLI's re-read of the config with its
# flags sees [server] options change (before any server has started on them).
QUIET = ("No runtime found, using MemoryCacheStorageManager", "An update to the [server] config option section")


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(QUIET)


def preload() -> float:
    """Import the app's modules and start the job workers' fork server; the seconds the imports took."""
    from streamlit.logger import get_logger

    for logger in ("streamlit.runtime.caching.cache_data_api", "streamlit.config"):
        get_logger(logger).addFilter(_Quiet())
    t0 = time.perf_counter()
    for name in MODULES:
        importlib.import_module(name)
    from gru_viz.serve import jobs

    if not jobs.inline_mode():
        jobs.POOL.warm()  # in the background: the first PyTorch badge then finds torch imported
    return time.perf_counter() - t0


def main() -> None:
    """Preload, then hand the command line to Streamlit's own CLI, as ``streamlit`` would."""
    seconds = preload()
    print(f"gru-viz: the app's modules imported in {seconds:.1f} s, before the first session", file=sys.stderr)
    from streamlit.web import cli

    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
