"""gru_viz.app.replica: the replica launcher imports what the pages' first run would, and nothing a server must
not import (torch stays in the job workers; worker_init lowers the priority of whoever imports it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from browser_support import ROOT

PROBE = """
import json, sys
from gru_viz.app import replica
seconds = replica.preload()
print(json.dumps({"seconds": seconds, "modules": sorted(m for m in replica.MODULES if m in sys.modules),
                  "torch": "torch" in sys.modules, "worker_init": "gru_viz.serve.worker_init" in sys.modules,
                  "nice": __import__("os").nice(0)}))
"""


def test_preload_imports_the_pages_modules_and_not_torch() -> None:
    env = {**os.environ, "GRU_VIZ_JOBS": "inline"}  # no fork server in this probe
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    from gru_viz.app import replica

    assert got["modules"] == sorted(replica.MODULES)
    assert not got["torch"], "the server process must never import torch (the job workers do)"
    assert not got["worker_init"] and got["nice"] == os.nice(0), "the server must keep its priority"
    assert "No runtime found" not in out.stderr, out.stderr  # the harmless warning is filtered, not shown


def test_every_page_module_is_preloaded() -> None:
    """A page importing a glue module the launcher does not know would pay its import in a student's first run."""
    from gru_viz.app import replica

    imported = set()
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        for line in path.read_text().splitlines():
            if line.startswith("from gru_viz.") and " import " in line:
                package, names = line[5:].split(" import ")
                imported |= {f"{package}.{n.strip()}" for n in names.split(",")}
    assert imported <= set(replica.MODULES), sorted(imported - set(replica.MODULES))
