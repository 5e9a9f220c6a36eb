"""Every attribution to a paper or a library is a sourced record (gru_viz/core/sources.py), and each one naming an
installable library is checked against that library's own code: torch.nn.GRU, Keras 3's GRU on the torch backend
(its files, built by Keras in tests/keras_fixtures.py) and the ONNX GRU operator run by onnxruntime. Each check
runs the library on random weights, copies the weights into our layout by hand (not through our loaders, which
could compensate for a wrong attribution) and demands that the variant the record names matches while every
other variant does not. The app's strings name papers and libraries only through the records.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from gru_viz.core.model import Model
from gru_viz.core.sources import ATTRIBUTIONS, Attribution
from gru_viz.core.spec import GRU_VARIANTS, Spec
from gru_viz.explain import lessons, registry
from tests.keras_fixtures import keras_dir

ROOT = Path(__file__).resolve().parents[1]
CHECKED = {"torch": ("torch", "torch-init"), "keras": ("keras-after", "keras-before"),
           "onnx": ("onnx-after", "onnx-before")}  # the records each library's tests below check


def variant_of(a: Attribution) -> str:
    """Our GRU variant making the record's two choices."""
    return next(k for k, v in GRU_VARIANTS.items() if (v.reset_after, v.z_keeps) == (a.reset_after, a.z_keeps))


def outputs_by_variant(params: dict[str, np.ndarray], x_tbi: np.ndarray, I: int, H: int) -> dict[str, np.ndarray]:
    """Our outputs (T, B, H) on ``x`` in every GRU variant, from the same weights."""
    return {k: Model(Spec("gru", I, H, variant=k), params).run(x_tbi).output for k in GRU_VARIANTS}


def assert_only(a: Attribution, ours: dict[str, np.ndarray], theirs: np.ndarray, atol: float) -> None:
    """The record's variant matches the library; every other variant is far from it (so the check can fail)."""
    want = variant_of(a)
    for k, y in ours.items():
        gap = float(np.abs(y - theirs).max())
        if k == want:
            assert gap < atol, f"{a.who} is not our {k!r}: off by {gap:.3g} ({a.source})"
        else:
            assert gap > 100 * atol, f"{a.who} also matches {k!r}: the check could not tell ({gap:.3g})"


def from_zrn(blocks: np.ndarray, H: int) -> np.ndarray:
    """Rows in z, r, n order (Keras, ONNX) → torch's r, z, n."""
    return np.concatenate([blocks[H:2 * H], blocks[:H], blocks[2 * H:]], axis=0)


def test_every_record_is_sourced_and_every_library_record_is_checked():
    assert registry.ATTRIBUTIONS is ATTRIBUTIONS and registry.attribution("torch").who == "PyTorch"
    for a in ATTRIBUTIONS.values():
        assert a.who and len(a.source) > 20, a
        assert a.library in (None, *CHECKED), a
        if a.library:
            assert a.key in CHECKED[a.library], f"{a.key} names {a.library} but no test runs it"
    assert {k for keys in CHECKED.values() for k in keys} <= set(ATTRIBUTIONS)


def test_tensorflow_grublockcell_is_reset_before_and_z_keeps():
    """The reference once listed GRUBlockCell under "z takes"; its kernel computes h = (1 − u) ∘ c + u ∘ h_prev."""
    tf = ATTRIBUTIONS["tf-block"]
    assert (tf.reset_after, tf.z_keeps) == (False, True) and "(1 − u) ∘ c + u ∘ h_prev" in tf.source
    assert variant_of(tf) == "reset-before"
    z_takes = dict((c, who) for c, _, who in lessons.CONVENTIONS)["z takes"]
    assert "GRUBlockCell" not in z_takes and "GRUBlockCell" not in GRU_VARIANTS["z-takes"].description
    assert "GRUBlockCell" in GRU_VARIANTS["reset-before"].description


def test_torch_gru_is_our_torch_variant():
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    I, H = 3, 5
    gru = torch.nn.GRU(I, H).double()
    with torch.no_grad():
        for p in gru.parameters():
            p.uniform_(-0.9, 0.9)  # larger than the init, so that the variants part clearly
    x = np.random.default_rng(0).standard_normal((7, 2, I))
    theirs = gru(torch.from_numpy(x))[0].detach().numpy()
    params = {k: v.detach().numpy().copy() for k, v in gru.state_dict().items()}
    assert_only(ATTRIBUTIONS["torch"], outputs_by_variant(params, x, I, H), theirs, 1e-12)


def test_torch_default_initialisation_is_uniform_in_one_over_root_h():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    assert "1/√hidden_size" in ATTRIBUTIONS["torch-init"].source
    for module in (torch.nn.GRU(4, 16), torch.nn.LSTM(4, 16), torch.nn.RNN(4, 16)):
        values = np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])
        bound = 1 / np.sqrt(16)
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
        assert abs(float(np.mean(np.abs(values))) - bound / 2) < 0.05 * bound  # uniform: mean |v| is half the bound


@pytest.fixture(scope="module")
def kdir(tmp_path_factory) -> Path:
    return keras_dir(tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("key,case", [("keras-after", "gru"), ("keras-before", "gru-reset-before")])
def test_keras_gru_is_our_variant(kdir, key, case):
    """Keras's own output on its own random weights, against ours on those weights copied by hand. The "gru" case
    is built as GRU(4) with no reset_after: its two-row bias is Keras's default, reset_after=True."""
    h5py = pytest.importorskip("h5py")
    ref = np.load(kdir / f"{case}.ref.npz")
    with h5py.File(kdir / f"{case}.weights.h5", "r") as f:
        cells = []
        f.visit(lambda name: cells.append(name) if name.endswith("cell/vars") else None)
        assert len(cells) == 1, cells
        kernel, recurrent, bias = (np.asarray(f[f"{cells[0]}/{i}"], np.float64) for i in range(3))
    H = recurrent.shape[0]
    a = ATTRIBUTIONS[key]
    assert bias.shape == ((2, 3 * H) if a.reset_after else (3 * H,))  # the default, for the case built without it
    b_ih, b_hh = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros(3 * H))
    params = {"weight_ih_l0": from_zrn(kernel.T, H), "weight_hh_l0": from_zrn(recurrent.T, H),
              "bias_ih_l0": from_zrn(b_ih, H), "bias_hh_l0": from_zrn(b_hh, H)}
    x = np.asarray(ref["x"], np.float64).transpose(1, 0, 2)  # Keras is batch-first
    theirs = np.asarray(ref["y"], np.float64).transpose(1, 0, 2)
    assert_only(a, outputs_by_variant(params, x, x.shape[-1], H), theirs, 2e-5)  # Keras computed in float32


@pytest.mark.parametrize("key,lbr", [("onnx-after", 1), ("onnx-before", None)])
def test_onnx_gru_is_our_variant(key, lbr):
    """onnxruntime's GRU with linear_before_reset=1, and with the attribute left out (the operator's default)."""
    pytest.importorskip("onnxruntime")
    from onnx import numpy_helper

    from tests.onnx_fixtures import recurrent_graph, run_onnxruntime

    graph = recurrent_graph("GRU", linear_before_reset=lbr, initial_state=False, seed=4)  # float32: ort's GRU
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.graph.initializer}
    W, R, B = init["W0"][0], init["R0"][0], init["B0"][0]
    H = R.shape[1]
    params = {"weight_ih_l0": from_zrn(W, H), "weight_hh_l0": from_zrn(R, H),
              "bias_ih_l0": from_zrn(B[:3 * H], H), "bias_hh_l0": from_zrn(B[3 * H:], H)}
    x = np.random.default_rng(2).standard_normal((6, 2, W.shape[1]))
    y = run_onnxruntime(graph, {"X": x.astype(np.float32)})[0].astype(np.float64)  # (T, D, B, H)
    x = x.astype(np.float32).astype(np.float64)
    assert_only(ATTRIBUTIONS[key], outputs_by_variant(params, x, W.shape[1], H), y[:, 0], 2e-5)


# Names of papers and libraries that only the records may spell (in strings the app shows, not docstrings).
NAMES = ("GRUBlockCell", "Chung", "Wikipedia", "d2l", "Cho ", "Cho v", "Cho et", "cuDNN", "Flax", "Jozefowicz",
         "Feng et", "Heinsen", "Hochreiter", "Keras default", "ONNX's default", "et al.", "Karpathy",
         "Strobelt", "LSTMVis")


def shown_strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant in a module but its docstrings (f-strings' literal parts included)."""
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_papers_and_libraries_are_named_only_through_the_records():
    files = [*(ROOT / "gru_viz").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    found = [f"{p.relative_to(ROOT)}:{line}: {text[:80]!r}" for p in files if p.name != "sources.py"
             for line, text in shown_strings(p) if any(name in text for name in NAMES)]
    assert not found, "name these through gru_viz.core.sources:\n" + "\n".join(found)


def test_the_scan_sees_a_planted_name(tmp_path):
    planted = tmp_path / "m.py"
    planted.write_text('"""Docstrings may cite Chung et al."""\nHELP = f"as {1} in Chung et al. 2014"\n')
    assert [line for line, text in shown_strings(planted) if "Chung" in text] == [2]


def test_variant_labels_are_unchanged_by_the_records():
    """The labels people already know (and the links' hints) read the same, now built from the records."""
    assert [v.name for v in GRU_VARIANTS.values()] == [
        "PyTorch (reset after, z keeps)", "Cho v3 / d2l (reset before, z keeps)",
        "Chung / Wikipedia (reset before, z takes)", "Reset after, z takes"]
