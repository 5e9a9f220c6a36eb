"""The package's layers, enforced from the imports themselves.

- ``gru_viz/core/``: NumPy and the standard library only, and nothing above it in gru-viz.
- ``gru_viz/explain/``: like the core (no Streamlit, Plotly or torch); may read the core.
- ``gru_viz/figures/``: Plotly on the core and explain; no Streamlit, no torch.
- ``gru_viz/io/``: files and formats; torch only in ``io/bridge.py`` and, inside a function (lazily), in
  ``io/formats/torch_pickle.py``; no Streamlit.
- ``gru_viz/serve/``: what serves and is not Streamlit glue (the Config, the limits, the job pool and its
  workers): NumPy and the standard library on the core, explain and io; no Streamlit (not even inside a
  function), Plotly, pandas or torch (the job workers reach torch through ``io.bridge``, by name), and nothing of
  the figures or the app.
- ``gru_viz/app/``: the Streamlit glue; may use everything below it, torch only through ``io.bridge``.
- ``pages/*.py`` and ``app.py``: Streamlit and ``gru_viz.app``, ``gru_viz.serve.state`` (the Config),
  ``gru_viz.figures``, ``gru_viz.explain`` only.

Each rule is checked on the source (every ``import``, at any depth, relative ones resolved) and, for the pure
layers, by importing each module in a fresh interpreter and looking at ``sys.modules`` (which also catches a
forbidden module pulled in through another one). The checker is tried on a planted violation of each rule, so
a rule that cannot fail would fail here.

No import cycles among gru_viz's modules, counting every import as written, inside a function too: an import
moved into a function only hides a cycle (the two modules still need each other), so none is allowed. A
package's ``__init__`` running before its modules is not an import of theirs and is not counted.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "gru_viz"
STDLIB = frozenset(sys.stdlib_module_names)
HEAVY = ("streamlit", "plotly", "torch")
PAGES_READ = ("app", "serve.state", "figures", "explain")  # what pages/*.py and app.py may import of ours


@dataclass(frozen=True)
class Import:
    """One imported module, as written in a file: where, what (absolute, dotted) and whether at module level."""

    path: Path
    line: int
    module: str
    top_level: bool


def module_name(path: Path, root: Path) -> str:
    """The dotted module name of a file under ``root`` (``gru_viz/app/ui.py`` → ``gru_viz.app.ui``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every import in ``path`` with relative imports resolved; ``top_level`` is False inside a def or class."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from gru_viz.app import ui` imports the module gru_viz.app.ui: name it, so rules see the room it is in
            names = [f"{prefix}.{a.name}" if _is_module(f"{prefix}.{a.name}", root) else prefix for a in node.names]
        else:
            continue
        found += [Import(path, node.lineno, name, id(node) not in nested) for name in names]
    return found


def _is_module(dotted: str, root: Path) -> bool:
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _top(module: str) -> str:
    return module.split(".")[0]


def _within(module: str, *rooms: str) -> bool:
    return any(module == r or module.startswith(r + ".") for r in rooms)


def violations(root: Path) -> list[str]:
    """Every import in the tree at ``root`` that breaks a layer rule, as ``file:line: what``."""
    out: list[str] = []

    def bad(imp: Import, why: str) -> None:
        out.append(f"{imp.path.relative_to(root)}:{imp.line}: {imp.module} — {why}")

    pkg = root / PACKAGE
    for path in sorted(pkg.rglob("*.py")):
        layer = path.relative_to(pkg).parts[0] if len(path.relative_to(pkg).parts) > 1 else ""
        rel = path.relative_to(pkg).as_posix()
        for imp in imports_of(path, root):
            top, mod = _top(imp.module), imp.module
            ours = top == PACKAGE
            if layer == "core":
                if ours and not _within(mod, f"{PACKAGE}.core"):
                    bad(imp, "the core reads nothing above it")
                elif not ours and top not in STDLIB and top != "numpy":
                    bad(imp, "the core is NumPy and the standard library only")
            elif layer == "explain":
                if ours and not _within(mod, f"{PACKAGE}.core", f"{PACKAGE}.explain"):
                    bad(imp, "explain reads only the core")
                elif not ours and top not in STDLIB and top != "numpy":
                    bad(imp, "explain is pure Python on NumPy (no Streamlit, Plotly or torch)")
            elif layer == "figures":
                if ours and not _within(mod, f"{PACKAGE}.core", f"{PACKAGE}.explain", f"{PACKAGE}.figures"):
                    bad(imp, "figures take traces from the core and words from explain, nothing else of ours")
                elif top in ("streamlit", "torch"):
                    bad(imp, "figures import no Streamlit and no torch")
            elif layer == "io":
                if ours and _within(mod, f"{PACKAGE}.app", f"{PACKAGE}.serve"):
                    bad(imp, "io does not reach up into serve or the app")
                elif top == "streamlit":
                    bad(imp, "io imports no Streamlit")
                elif top == "torch" and rel != "io/bridge.py" and not (
                    rel == "io/formats/torch_pickle.py" and not imp.top_level
                ):
                    bad(imp, "only io/bridge.py imports torch (and io/formats/torch_pickle.py, inside its reader)")
            elif layer == "serve":
                if ours and not _within(mod, *(f"{PACKAGE}.{r}" for r in ("core", "explain", "io", "serve"))):
                    bad(imp, "serve reads the core, explain and io, nothing of the figures or the app")
                elif top == "streamlit":
                    bad(imp, "serve imports no Streamlit, at any depth")
                elif not ours and top not in STDLIB and top != "numpy":
                    bad(imp, "serve is NumPy and the standard library (no Plotly, pandas or torch)")
            elif layer == "app":
                if top == "torch":
                    bad(imp, "the app reaches torch only through gru_viz.io.bridge")
            elif top in HEAVY:  # gru_viz/__init__.py: `import gru_viz` stays light
                bad(imp, "the package's front door imports no Streamlit, Plotly or torch")
    pages = [*sorted((root / "pages").glob("*.py")), root / "app.py"]
    for path in [p for p in pages if p.is_file()]:
        for imp in imports_of(path, root):
            top = _top(imp.module)
            if top == PACKAGE and not _within(imp.module, *(f"{PACKAGE}.{r}" for r in PAGES_READ)):
                bad(imp, "pages import from gru_viz.app, gru_viz.serve.state, gru_viz.figures and gru_viz.explain only")
            elif top not in STDLIB and top not in (PACKAGE, "streamlit"):
                bad(imp, "pages wire Streamlit widgets to gru_viz.app; other libraries belong in the package")
    return out


def test_every_import_keeps_to_its_layer():
    assert violations(ROOT) == []


def test_the_layers_are_folders():
    pkg = ROOT / PACKAGE
    loose = sorted(p.name for p in pkg.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules outside a layer folder: {loose}"
    folders = {p.name for p in pkg.iterdir() if (p / "__init__.py").is_file()}
    assert folders == {"core", "explain", "io", "figures", "serve", "app"}


def _pure_modules(*layers: str) -> list[str]:
    return [module_name(p, ROOT) for layer in layers for p in sorted((ROOT / PACKAGE / layer).rglob("*.py"))]


@pytest.mark.parametrize(("layers", "forbidden"), [
    (("core", "explain"), HEAVY),
    (("figures",), ("streamlit", "torch")),
    (("serve",), (*HEAVY, "pandas")),
])
def test_importing_a_pure_layer_loads_nothing_heavy(layers, forbidden):
    """Import every module of the layer in a fresh interpreter: none of ``forbidden`` may end up loaded."""
    code = (
        "import importlib, json, sys\n"
        f"mods = {json.dumps(_pure_modules(*layers))}\n"
        "loaded = {}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        f"    loaded[m] = [f for f in {list(forbidden)!r} if f in sys.modules]\n"
        "print(json.dumps(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    first = next(((m, f) for m, f in loaded.items() if f), None)
    assert first is None, f"importing {first[0]} (and the ones before it) loaded {first[1]}"


def test_import_gru_viz_needs_no_torch_streamlit_or_plotly():
    code = ("import sys, gru_viz\n"
            "gru_viz.Spec, gru_viz.load_weights, gru_viz.random_model, gru_viz.WeightsError\n"
            f"print([m for m in {list(HEAVY)!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the gru_viz modules it imports (at any depth; a name imported from a module counts as the module)."""
    paths = {module_name(p, root): p for p in sorted((root / PACKAGE).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        graph[name] = set()
        for imp in imports_of(path, root):
            target = imp.module
            while target and target not in paths:  # `from gru_viz.core.spec import Spec` reaches the module
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def import_cycles(root: Path) -> list[str]:
    """Every cycle of imports among gru_viz's modules, one per strongly connected group, as ``a → b → a``."""
    graph = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    out = []
    for group in groups:  # one shortest way round, from the group's first module back to it
        start, members = min(group), set(group)
        came: dict[str, str] = {}
        todo = [start]
        while start not in came:
            v = todo.pop(0)
            for w in sorted(graph[v] & members):
                if w not in came:
                    came[w] = v
                    todo.append(w)
        path = [start]
        while len(path) == 1 or path[-1] != start:
            path.append(came[path[-1]])
        out.append(" → ".join(reversed(path)))
    return sorted(out)


def test_no_import_cycles():
    assert import_cycles(ROOT) == []


# --------------------------------------------------------------------------------- the checker can fail


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of the real package and pages with ``files`` (relative path → source) added or replaced."""
    for src in [*(ROOT / PACKAGE).rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]:
        dst = tmp_path / src.relative_to(ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("rel", "source", "why"), [
    ("gru_viz/core/leak.py", "import streamlit as st\n", "NumPy and the standard library only"),
    ("gru_viz/core/leak.py", "def f():\n    import plotly.graph_objects as go\n",
     "NumPy and the standard library only"),
    ("gru_viz/core/leak.py", "from ..app import ui\n", "reads nothing above it"),
    ("gru_viz/core/leak.py", "from ..io import bridge\n", "reads nothing above it"),
    ("gru_viz/explain/leak.py", "import torch\n", "no Streamlit, Plotly or torch"),
    ("gru_viz/explain/leak.py", "from ..figures import cell\n", "explain reads only the core"),
    ("gru_viz/figures/leak.py", "import streamlit\n", "no Streamlit and no torch"),
    ("gru_viz/figures/leak.py", "from gru_viz.serve.state import Config\n", "nothing else of ours"),
    ("gru_viz/io/formats/leak.py", "import torch\n", "only io/bridge.py imports torch"),
    ("gru_viz/io/formats/torch_pickle.py", "import torch\n", "only io/bridge.py imports torch"),
    ("gru_viz/io/leak.py", "from ..app import ui\n", "does not reach up"),
    ("gru_viz/io/leak.py", "from ..serve.state import Config\n", "does not reach up"),
    ("gru_viz/serve/leak.py", "import streamlit as st\n", "serve imports no Streamlit"),
    ("gru_viz/serve/leak.py", "def f():\n    from streamlit.web import cli\n", "serve imports no Streamlit"),
    ("gru_viz/serve/leak.py", "from ..app import ui\n", "nothing of the figures or the app"),
    ("gru_viz/serve/leak.py", "from gru_viz.figures import cell\n", "nothing of the figures or the app"),
    ("gru_viz/serve/leak.py", "import torch\n", "NumPy and the standard library"),
    ("gru_viz/serve/leak.py", "import pandas as pd\n", "NumPy and the standard library"),
    ("gru_viz/app/leak.py", "from torch import nn\n", "only through gru_viz.io.bridge"),
    ("gru_viz/__init__.py", "import plotly\n", "front door"),
    ("pages/leak.py", "from gru_viz.core.spec import KINDS\n", "pages import from gru_viz.app"),
    ("pages/leak.py", "from gru_viz import io\n", "pages import from gru_viz.app"),
    ("pages/leak.py", "from gru_viz.serve import jobs\n", "pages import from gru_viz.app"),
    ("pages/leak.py", "import numpy as np\n", "other libraries belong in the package"),
    ("app.py", "from gru_viz.io.trained import TRAINED_PRESETS\n", "pages import from gru_viz.app"),
])
def test_a_planted_violation_is_caught(tmp_path, rel, source, why):
    found = violations(_tree(tmp_path, {rel: source}))
    assert len(found) == 1 and why in found[0], found


def test_lazy_torch_in_the_pickle_reader_is_allowed(tmp_path):
    source = "def read(data):\n    import torch\n    return torch\n"
    assert violations(_tree(tmp_path, {"gru_viz/io/formats/torch_pickle.py": source})) == []


@pytest.mark.parametrize(("files", "cycle"), [
    ({"gru_viz/core/leak_a.py": "from . import leak_b\n", "gru_viz/core/leak_b.py": "from .leak_a import X\n"},
     "gru_viz.core.leak_a → gru_viz.core.leak_b → gru_viz.core.leak_a"),
    ({"gru_viz/explain/leak_a.py": "from . import leak_b\n",
      "gru_viz/explain/leak_b.py": "def f():\n    from . import leak_a\n"},  # lazily: still a cycle
     "gru_viz.explain.leak_a → gru_viz.explain.leak_b → gru_viz.explain.leak_a"),
])
def test_a_planted_import_cycle_is_caught(tmp_path, files, cycle):
    assert import_cycles(_tree(tmp_path, files)) == [cycle]


def test_claims_reaching_back_for_the_lessons_is_a_cycle(tmp_path):
    """What claims.py did before the registry: import the lessons (inside a function) to fill itself."""
    source = (ROOT / "gru_viz/explain/claims.py").read_text(encoding="utf-8")
    source += "\n\ndef _all():\n    from . import lessons\n"
    found = import_cycles(_tree(tmp_path, {"gru_viz/explain/claims.py": source}))
    assert len(found) == 1 and found[0].startswith("gru_viz.explain.claims → gru_viz.explain.lessons"), found
