"""gru-viz is an installable package: ``pip install .`` and ``pip install -e .`` from a copy of the checkout, then
``import gru_viz`` from another folder, the shipped trained models (package data), and the ``gru-viz`` command,
which starts the app a real browser opens and uses (an upload included).

The installs go into throwaway venvs without pip of their own whose site-packages see the project venv's
(``shared.pth``), so no download is needed: ``pip --python VENV install --no-deps --no-build-isolation``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from browser_support import assert_no_error, free_port, wait_for_app
from playwright.sync_api import expect

from gru_viz.app import launch

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# one test drives chromium; all of them build venvs (about a minute each)
pytestmark = [pytest.mark.browser, pytest.mark.slow]
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def test_pyproject_lists_every_package_and_the_data():
    cfg = PYPROJECT["tool"]["setuptools"]
    found = {".".join(p.relative_to(ROOT).parts[:-1]) for p in (ROOT / "gru_viz").rglob("__init__.py")}
    assert found == {p for p in cfg["packages"] if p.startswith("gru_viz.") or p == "gru_viz"}
    assert cfg["package-dir"] == {"gru_viz_app": ".", "gru_viz_app.pages": "pages"}
    assert list((ROOT / "gru_viz" / "io").glob(cfg["package-data"]["gru_viz.io"][0]))
    assert PYPROJECT["project"]["dependencies"] == ["numpy>=2.0"]  # the core: NumPy only
    assert set(PYPROJECT["project"]["optional-dependencies"]) >= {"app", "formats", "torch"}
    assert PYPROJECT["project"]["scripts"] == {"gru-viz": "gru_viz.app.launch:main"}


def test_the_command_runs_the_app_with_its_own_config():
    cmd = launch.command(["--server.port=9999"])
    assert cmd[:3] == ["streamlit", "run", str(ROOT / "app.py")]
    assert "--server.maxUploadSize=50" in cmd and "--runner.postScriptGC=false" in cmd
    assert "--client.showSidebarNavigation=false" in cmd and cmd[-1] == "--server.port=9999"


def checkout_copy(dest: Path) -> Path:
    """The checkout's files as a fresh clone would have them (tracked and new, not ignored)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def venv_with(tmp: Path, *pip_args: str) -> Path:
    """A throwaway venv with gru-viz installed by ``pip install <pip_args>``; its python."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "shared.pth").write_text(str(SITE) + "\n")  # numpy, streamlit, … from the project venv
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                             "--quiet", "--no-deps", "--no-build-isolation", *pip_args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return venv / "bin" / "python"


CHECK = (
    "import sys, gru_viz, gru_viz_app\n"
    "from gru_viz.io import trained\n"
    "from gru_viz.app import launch\n"
    "print(gru_viz.__file__)\n"
    "print(launch.app_dir())\n"
    "print(sorted(p.name for p in trained.DATA_DIR.glob('*.npz')))\n"
    "m = gru_viz.load_weights(sys.argv[1])\n"
    "print(m.spec.describe())\n"
)


def test_pip_install_then_run_from_another_folder(tmp_path, browser):
    src = checkout_copy(tmp_path / "clone")
    python = venv_with(tmp_path, str(src))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([str(python), "-c", CHECK, str(ROOT / "docs" / "examples" / "gru.keras")], cwd=elsewhere,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    venv = python.parent.parent
    assert lines[0].startswith(str(venv)) and lines[1].startswith(str(venv))  # the installed copy, not the clone
    assert lines[2] == str(sorted(p.name for p in (ROOT / "gru_viz/io/data/trained").glob("*.npz")))
    assert lines[3] == "GRU, input 1, hidden 4, PyTorch (reset after, z keeps), 2 layers"

    port = free_port()
    server = subprocess.Popen([str(venv / "bin" / "gru-viz"), "--server.headless=true", f"--server.port={port}",
                               "--server.address=127.0.0.1"], cwd=elsewhere, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "the installed app did not start"
            time.sleep(0.5)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url + "/")
        wait_for_app(page)
        assert_no_error(page)
        expect(page.get_by_text("A GRU is a recurrent cell with two gates").first).to_be_visible()
        page.goto(url + "/your_model")
        wait_for_app(page)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
            str(ROOT / "docs" / "examples" / "gru.onnx"))
        wait_for_app(page)
        assert_no_error(page)
        expect(page.get_by_text("What gru.onnx holds")).to_be_visible()
        expect(page.get_by_role("combobox", name="Weights")).to_have_value("Your model: gru.onnx")
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_editable_install_points_at_the_checkout(tmp_path):
    src = checkout_copy(tmp_path / "clone")
    python = venv_with(tmp_path, "-e", str(src))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([str(python), "-c", CHECK, str(ROOT / "docs" / "examples" / "gru.onnx")], cwd=elsewhere,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": ""})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == str(src / "gru_viz" / "__init__.py") and lines[1] == str(src)
    assert lines[3] == "GRU, input 1, hidden 3, PyTorch (reset after, z keeps), bidirectional"

