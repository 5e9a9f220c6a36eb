"""The ``gru-viz`` command: ``streamlit run`` on the app (``app.py`` and ``pages/``) with its own settings.

Installed, the app's files are the ``gru_viz_app`` package beside ``gru_viz`` (see pyproject.toml); in a checkout
they are the repository's root. Streamlit reads ``.streamlit/config.toml`` from the folder it is started in, so the
app's own config is passed as command-line options instead: started from any folder, the app behaves as it does
in the repository (upload cap, theme, no post-run GC, …). Options given to ``gru-viz`` (``--server.port 8600``)
come last and win.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path


def app_dir() -> Path:
    """The folder holding ``app.py``, ``pages/`` and ``.streamlit/config.toml``."""
    spec = importlib.util.find_spec("gru_viz_app")
    for place in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(place) / "app.py").is_file():
            return Path(place)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "app.py").is_file():
        return checkout
    raise SystemExit("gru-viz: the app's files (app.py, pages/) are not installed; reinstall gru-viz[app]")


def config_options(config: Path) -> list[str]:
    """``--section.key=value`` for every setting in a Streamlit ``config.toml``."""
    if not config.is_file():
        return []
    out = []
    for section, values in tomllib.loads(config.read_text(encoding="utf-8")).items():
        for key, value in values.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            out.append(f"--{section}.{key}={text}")
    return out


def command(args: Sequence[str] = ()) -> list[str]:
    """The ``streamlit`` command line the ``gru-viz`` command runs."""
    where = app_dir()
    return ["streamlit", "run", str(where / "app.py"), *config_options(where / ".streamlit" / "config.toml"),
            *args]


def main() -> None:
    """Entry point of the ``gru-viz`` console command."""
    try:
        from streamlit.web import cli
    except ImportError:
        raise SystemExit("gru-viz: the app needs its extra: pip install 'gru-viz[app]'") from None
    from .replica import preload

    sys.argv = command(sys.argv[1:])
    preload()  # the app's imports before the first session, as serve.sh's replicas do
    sys.exit(cli.main())
