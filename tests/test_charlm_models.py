"""The shipped character-level models (gru_viz/io/data/charlm/): gru-viz's core equals torch on them, their
metadata says what they measure, and the validation text is the files corpus.json lists."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
import torch

from gru_viz.core.tokens import log_softmax
from gru_viz.io import charlm
from gru_viz.io.charlm import CHARLM_KINDS, DATA_DIR, UNKNOWN
from gru_viz.io.formats import safetensors as safetensors_format
from gru_viz.io.torch_names import TORCH_MODULES
from gru_viz.io.weights import read_file, read_weights_bytes

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_char_models.py"


def torch_model(kind: str, dtype: torch.dtype) -> torch.nn.Module:
    """nn.Embedding → nn.GRU/LSTM/RNN → nn.Linear, built from the file's own tensors (not through gru-viz)."""
    tensors = safetensors.numpy.load_file(str(DATA_DIR / CHARLM_KINDS[kind]))
    V, E = tensors["embedding.weight"].shape
    H = tensors["rnn.weight_hh_l0"].shape[1]
    layers = sum(k.startswith("rnn.weight_ih_l") for k in tensors)
    cls = getattr(torch.nn, TORCH_MODULES[kind])  # nn.GRU, nn.LSTM, nn.RNN
    module = torch.nn.ModuleDict({"embedding": torch.nn.Embedding(V, E), "rnn": cls(E, H, layers),
                                  "head": torch.nn.Linear(H, V)})
    module.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    return module.to(dtype).eval()


def torch_run(module: torch.nn.Module, ids: np.ndarray):
    """(logits (T, V), top layer's h (T, H), h_n) of torch on one sequence of ids."""
    with torch.no_grad():
        out, state = module["rnn"](module["embedding"](torch.from_numpy(ids)))
        h_n = state[0] if isinstance(state, tuple) else state
        return module["head"](out).double().numpy(), out.double().numpy(), h_n.double().numpy()


def passage() -> str:
    """1,500 characters of the validation text from the start of dataclasses.py: strings, comments, brackets."""
    text = charlm.validation_text()
    start = text.index("#### dataclasses.py\n")
    return text[start : start + 1500]


@pytest.mark.parametrize("kind", list(CHARLM_KINDS))
def test_shipped_model_equals_torch_in_float64(kind: str) -> None:
    model = charlm.load_char_model(kind)
    ids, _ = charlm.text_ids(model, passage())
    trace = model.run_tokens(ids)
    logits, out, h_n = torch_run(torch_model(kind, torch.float64), ids)
    np.testing.assert_allclose(trace.output, out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.h_n, h_n, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.logits(trace), logits, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("kind", list(CHARLM_KINDS))
def test_shipped_model_equals_torch_in_float32_to_its_round_off(kind: str) -> None:
    model = charlm.load_char_model(kind)
    ids, _ = charlm.text_ids(model, passage())
    trace = model.run_tokens(ids)
    logits, out, _ = torch_run(torch_model(kind, torch.float32), ids)
    worst_h = np.abs(trace.output - out).max()
    # float32's epsilon is 1.2e-7: over 1,500 steps of two layers the differences stay within about 170 of them
    # (measured: 1.7e-6 to 2.7e-6 on h, 3.7e-6 to 4.9e-6 on logits up to 11.5), and they are not zero (torch
    # really ran in float32, gru-viz in float64)
    assert 1e-9 < worst_h < 2e-5
    np.testing.assert_allclose(model.logits(trace), logits, rtol=0, atol=4e-5)


def core_bits_per_char(kind: str, text: str, chunk: int = 8192) -> float:
    """Bits per character of ``text`` read as one sequence by gru-viz's core, the state carried across chunks."""
    model = charlm.load_char_model(kind)
    ids, _ = charlm.text_ids(model, text)
    state, total = None, 0.0
    for start in range(0, len(ids) - 1, chunk):
        stop = min(start + chunk, len(ids) - 1)
        trace = model.run_tokens(ids[start:stop], state)
        state = trace.h_n if trace.c_n is None else (trace.h_n, trace.c_n)
        lp = log_softmax(model.logits(trace))
        total -= lp[np.arange(stop - start), ids[start + 1 : stop + 1]].sum()
    return total / (len(ids) - 1) / math.log(2)


@pytest.mark.parametrize("kind", list(CHARLM_KINDS))
def test_bits_per_char_on_a_slice_equal_torch(kind: str) -> None:
    text = charlm.validation_text()[:20_000]  # 20,000 characters, carried across three chunks
    model = charlm.load_char_model(kind)
    ids, _ = charlm.text_ids(model, text)
    logits, _, _ = torch_run(torch_model(kind, torch.float64), ids)
    lp = torch.log_softmax(torch.from_numpy(logits), -1).numpy()
    want = -lp[np.arange(len(ids) - 1), ids[1:]].mean() / math.log(2)
    assert core_bits_per_char(kind, text) == pytest.approx(want, rel=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(CHARLM_KINDS))
def test_bits_per_char_of_the_whole_validation_text_is_the_metadatas(kind: str) -> None:
    info = charlm.char_model_info(kind)
    text = charlm.validation_text()
    assert int(info.metadata["gru_viz.bits_per_char_chars"]) == len(text)
    assert core_bits_per_char(kind, text) == pytest.approx(info.bits_per_char, rel=1e-9)


# ------------------------------------------------------------------------------------------- the files


def test_validation_text_is_the_listed_files() -> None:
    record = charlm.corpus_record()
    listed = [f for f in record["files"] if f["split"] == "validation"]
    parts = charlm.validation_parts()
    assert [p for p, _ in parts] == [f["path"] for f in listed]
    for (path, text), f in zip(parts, listed, strict=True):
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == f["sha256"], path
        assert len(text.encode("utf-8")) == f["bytes"]
    assert charlm.join_parts(parts) == charlm.validation_text()
    assert hashlib.sha256(charlm.validation_text().encode("utf-8")).hexdigest() == record["validation_sha256"]
    assert 200_000 <= len(charlm.validation_text()) <= 400_000
    train = {f["path"] for f in record["files"] if f["split"] == "train"}
    assert train and not train & {f["path"] for f in listed}  # split by file


def test_corpus_hash_and_licence() -> None:
    record = charlm.corpus_record()
    lines = "".join(f"{f['path']} {f['split']} {f['sha256']}\n" for f in record["files"])
    assert hashlib.sha256(lines.encode()).hexdigest() == record["corpus_sha256"]
    assert all(not f["path"].startswith("_sysconfigdata") and "/" not in f["path"] for f in record["files"])
    assert record["files"] == sorted(record["files"], key=lambda f: f["path"])
    assert "PYTHON SOFTWARE FOUNDATION LICENSE" in (DATA_DIR / "LICENSE-PSF.txt").read_text(encoding="utf-8")
    notice = (DATA_DIR / "NOTICE").read_text(encoding="utf-8")
    assert record["python"] in notice and all(p in notice for p, _ in charlm.validation_parts())
    for kind in CHARLM_KINDS:
        assert charlm.char_model_info(kind).corpus_sha256 == record["corpus_sha256"]


def test_files_are_small_and_their_metadata_parses() -> None:
    assert sum((DATA_DIR / name).stat().st_size for name in CHARLM_KINDS.values()) <= 5_000_000
    vocabularies, counts = set(), {}
    for kind in CHARLM_KINDS:
        info = charlm.char_model_info(kind)
        tensors, meta = safetensors.numpy.load_file(str(DATA_DIR / CHARLM_KINDS[kind])), info.metadata
        assert meta == safetensors_format.read_metadata(read_file(DATA_DIR / CHARLM_KINDS[kind]))
        assert all(v.dtype == np.float32 for v in tensors.values())
        assert info.params == sum(v.size for v in tensors.values())
        assert info.hidden_size == tensors["rnn.weight_hh_l0"].shape[1] == charlm.load_char_model(kind).spec.hidden_size
        assert info.embedding_size == tensors["embedding.weight"].shape[1]
        assert info.num_layers == charlm.load_char_model(kind).spec.num_layers == 2
        assert 0 < info.bits_per_char < math.log2(len(info.vocabulary))  # better than guessing uniformly
        assert info.steps > 0 and info.train_seconds > 0
        voc = info.vocabulary
        assert info.unknown == UNKNOWN and voc.count(UNKNOWN) == 1 and len(set(voc)) == len(voc)
        assert all(len(t) == 1 for t in voc if t != UNKNOWN)
        assert charlm.load_char_model(kind).vocabulary == voc
        vocabularies.add(voc)
        counts[kind] = info.params
    assert len(vocabularies) == 1  # the three read the same characters
    assert max(counts.values()) / min(counts.values()) < 1.03  # matched parameter counts


def test_text_ids_count_the_unknown_characters() -> None:
    model = charlm.load_char_model("gru")
    voc = model.vocabulary
    ids, missing = charlm.text_ids(model, "a☃b\n☃")
    assert missing == [1, 4]
    assert ids.tolist() == [voc.index("a"), voc.index(UNKNOWN), voc.index("b"), voc.index("\n"), voc.index(UNKNOWN)]
    assert charlm.text_ids(model, "")[0].shape == (0,)
    with pytest.raises(charlm.CharLMError, match="no shipped character model"):
        charlm.load_char_model("mingru")


# -------------------------------------------------------------------------------------------- the script


def script():
    spec = importlib.util.spec_from_file_location("train_char_models", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_refuses_a_corpus_file_that_differs(tmp_path: Path) -> None:
    mod = script()
    record = charlm.corpus_record()
    lib = mod.stdlib_dir()
    val = [f for f in record["files"] if f["split"] == "validation"]
    for f in val:
        (tmp_path / f["path"]).write_bytes((lib / f["path"]).read_bytes())
    assert mod.join_parts(mod.read_parts(tmp_path, record, "validation")) == charlm.validation_text()
    (tmp_path / val[3]["path"]).write_bytes((lib / val[3]["path"]).read_bytes() + b"# changed\n")
    with pytest.raises(SystemExit, match=f"1 file.*differ.*{val[3]['path']}.*Run this script with CPython"):
        mod.read_parts(tmp_path, record, "validation")


def test_matched_sizes() -> None:
    mod = script()
    V = len(charlm.char_model_info("gru").vocabulary)
    counts = {k: mod.count_params(k, V, mod.hidden_size(k, V)) for k in CHARLM_KINDS}
    assert counts == {k: charlm.char_model_info(k).params for k in CHARLM_KINDS}
    assert all(abs(n - mod.TARGET_PARAMS) / mod.TARGET_PARAMS < 0.02 for n in counts.values())


@pytest.mark.slow
def test_the_script_writes_loadable_deterministic_files(tmp_path: Path) -> None:
    def run(out: Path, *kinds: str) -> None:
        subprocess.run([sys.executable, str(SCRIPT), "--steps", "3", "--eval-chars", "300", "--out", str(out),
                        "--kinds", *kinds], check=True, capture_output=True, timeout=600)

    run(tmp_path / "a", *CHARLM_KINDS)
    run(tmp_path / "b", "rnn")
    counts = {}
    for kind, name in CHARLM_KINDS.items():
        loaded = read_weights_bytes((tmp_path / "a" / name).read_bytes(), name)
        assert loaded.model.spec.kind == kind and loaded.prefix == "rnn."
        assert loaded.ignored == []  # the embedding and the head beside the stack are the model's own
        assert loaded.model.embedding.size == loaded.model.readout.size == len(loaded.model.vocabulary)
        tensors, meta = safetensors_format.read_with_metadata((tmp_path / "a" / name).read_bytes())
        assert len(json.loads(meta["gru_viz.vocabulary"])) == tensors["head.bias"].shape[0]
        assert "trial run" in meta["gru_viz.note"]
        counts[kind] = sum(v.size for v in tensors.values())
    assert max(counts.values()) / min(counts.values()) < 1.03
    first = safetensors.numpy.load_file(str(tmp_path / "a" / "rnn.safetensors"))
    again = safetensors.numpy.load_file(str(tmp_path / "b" / "rnn.safetensors"))
    assert all(np.array_equal(first[k], again[k]) for k in first)  # seeded per kind: the same weights


def test_annotate_writes_the_units_into_the_metadata_only(tmp_path: Path, monkeypatch) -> None:
    mod = script()
    name = CHARLM_KINDS["rnn"]
    (tmp_path / name).write_bytes((DATA_DIR / name).read_bytes())
    found = [{"feature": "comment", "kind": "rnn", "layer": 0, "unit": 105, "which": "h", "r_select": -0.34,
              "r": -0.23, "chars": 145665}, {"feature": "indent", "r": None}]
    monkeypatch.setattr(mod, "units_found", lambda kind, out: found)  # the analysis' find_units, not in this test
    mod.annotate(["rnn"], tmp_path)
    model, info = charlm.read_char_model(tmp_path / name)
    assert info.units == found
    before = {k: v for k, v in charlm.char_model_info("rnn").metadata.items() if k != "gru_viz.units"}
    assert {k: v for k, v in info.metadata.items() if k != "gru_viz.units"} == before
    shipped, again = (safetensors.numpy.load_file(str(d / name)) for d in (DATA_DIR, tmp_path))
    assert all(np.array_equal(shipped[k], again[k]) for k in shipped) and shipped.keys() == again.keys()
    np.testing.assert_array_equal(model.embedding.table, charlm.load_char_model("rnn").embedding.table)
