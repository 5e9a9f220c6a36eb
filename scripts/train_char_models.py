"""Train the shipped character-level language models (GRU, LSTM, vanilla RNN) on CPython's own standard library.

    .venv/bin/python scripts/train_char_models.py                 # all three, into gru_viz/io/data/charlm/
    .venv/bin/python scripts/train_char_models.py --kinds gru     # just one (each kind is seeded on its own)
    .venv/bin/python scripts/train_char_models.py --write-corpus  # (once) choose the files, write corpus.json,
                                                                  # validation.txt, the PSF licence and NOTICE
    .venv/bin/python scripts/train_char_models.py --annotate      # then: write the units the analysis finds
                                                                  # (gru_viz.units) into the files' metadata

The text: every ``.py`` file at the top of this interpreter's stdlib directory (``sysconfig.get_paths()
["stdlib"]``; no subpackage, no ``site-packages``, no ``test/``), except ``_sysconfigdata_*`` (written by each
build, so it differs between machines). Sorted by name; every tenth from the sixth (index % 10 == 5) is for
validation, the rest for training. ``corpus.json`` records each file's path and sha256 and the Python they came
from; training refuses to start when a listed file differs on the running Python (its text would differ too).
Nothing is downloaded.

The models: embedding (48 wide) → 2-layer ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` (tanh) → ``nn.Linear`` to the
vocabulary, each kind's hidden size chosen so its parameter count is the nearest to 200,000. Truncated BPTT: the
training text is cut into BATCH contiguous streams read CHUNK characters at a time, the state carried (detached)
from one chunk to the next; Adam with a cosine-decayed learning rate, the gradient's norm clipped. A fixed number
of steps: torch.manual_seed per kind, deterministic algorithms, one thread, so the same Python and torch give the
same weights. See gru_viz/io/charlm.py for the file format, the vocabulary and how bits per character are measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from gru_viz.core.kinds import KIND
from gru_viz.io.charlm import CHARLM_KINDS, DATA_DIR, UNKNOWN, join_parts, sha256_text
from gru_viz.io.torch_names import TORCH_MODULES

SEED = 2015
EMBED = 48
LAYERS = 2
TARGET_PARAMS = 200_000
BATCH = 64
CHUNK = 128
LR = 3e-3
LR_END = 0.1  # the cosine decay ends at this share of LR
CLIP = 1.0
STEPS = 2400
THREADS = 1
MIN_COUNT = 20  # a character seen fewer times in the training text reads as UNKNOWN
VALIDATION_EVERY, VALIDATION_FROM = 10, 5
EVAL_STREAMS, EVAL_STEPS = 64, 4096  # the training text's bits per character: the first EVAL_STEPS characters of
# each of EVAL_STREAMS contiguous streams (262,144 characters from all over the text, as many as the validation's)


# ------------------------------------------------------------------------------------------------- the text


def stdlib_dir() -> Path:
    """This interpreter's standard library directory (``Lib/`` in a source tree)."""
    return Path(sysconfig.get_paths()["stdlib"])


def chosen_files(lib: Path) -> list[str]:
    """The corpus: the stdlib's top-level ``.py`` files but the build's own ``_sysconfigdata_*``, sorted."""
    return sorted(p.name for p in lib.glob("*.py") if p.is_file() and not p.name.startswith("_sysconfigdata"))


def write_corpus(out: Path) -> None:
    """Choose the files, record them in corpus.json, ship the validation text with the PSF licence and a NOTICE."""
    lib = stdlib_dir()
    files = []
    for i, name in enumerate(chosen_files(lib)):
        data = (lib / name).read_bytes()
        data.decode("utf-8")  # every corpus file is UTF-8 (PEP 3120); refuse here if not
        split = "validation" if i % VALIDATION_EVERY == VALIDATION_FROM else "train"
        files.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "split": split})
    record = {
        "about": "The text the character-level models were trained on: CPython's own standard library, the .py "
                 "files at the top of its stdlib directory (no subpackage, no site-packages, no test/), except "
                 "_sysconfigdata_* (written by each build). Sorted by name; every tenth from the sixth (index % 10 "
                 "== 5) is for validation. A corpus text is its files in this order, each after a header line "
                 "'#### <path>' (see gru_viz/io/charlm.py). Made by scripts/train_char_models.py --write-corpus.",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "stdlib": "sysconfig.get_paths()['stdlib']",
        "header": "#### {path}\\n",
        "files": files,
    }
    record["corpus_sha256"] = corpus_hash(record)
    parts = read_parts(lib, record, "validation")
    text = join_parts(parts)
    record["validation_sha256"] = sha256_text(text)
    record["validation_chars"] = len(text)
    record["train_chars"] = len(join_parts(read_parts(lib, record, "train")))
    out.mkdir(parents=True, exist_ok=True)
    (out / "corpus.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "validation.txt").write_bytes(text.encode("utf-8"))
    licence = next((lib / n for n in ("LICENSE.txt", "LICENSE") if (lib / n).is_file()), None)
    if licence is None:
        raise SystemExit(f"no LICENSE.txt in {lib}: the validation text cannot be shipped without its licence")
    (out / "LICENSE-PSF.txt").write_bytes(licence.read_bytes())
    names = ", ".join(p for p, _ in parts)
    (out / "NOTICE").write_text(
        f"validation.txt is source code from the Python standard library (CPython {record['python']}, its "
        f"Lib/ directory as installed), copyright the Python Software Foundation, distributed under the PSF licence "
        f"in LICENSE-PSF.txt (the LICENSE.txt of that Python, copied unchanged).\n\n"
        f"It holds these files, unchanged, one after another, each after a header line '#### <path>' that "
        f"gru-viz added: {names}.\nTheir sha256 are in corpus.json. The models gru.safetensors, lstm.safetensors "
        f"and rnn.safetensors were trained on the other files listed there (scripts/train_char_models.py).\n",
        encoding="utf-8")
    print(f"wrote {out}/corpus.json ({len(files)} files), validation.txt ({len(text):,} characters), "
          f"LICENSE-PSF.txt, NOTICE")


def corpus_hash(record: dict) -> str:
    """One hash for the corpus: each file's path, split and sha256, one line each."""
    lines = "".join(f"{f['path']} {f['split']} {f['sha256']}\n" for f in record["files"])
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def read_parts(lib: Path, record: dict, split: str) -> list[tuple[str, str]]:
    """The (path, text) of the corpus files of ``split``, refused unless each is the file corpus.json recorded."""
    parts, bad = [], []
    for f in record["files"]:
        if f["split"] != split:
            continue
        path = lib / f["path"]
        data = path.read_bytes() if path.is_file() else None
        if data is None or hashlib.sha256(data).hexdigest() != f["sha256"]:
            bad.append(f["path"] + (" (missing)" if data is None else ""))
            continue
        parts.append((f["path"], data.decode("utf-8")))
    if bad:
        raise SystemExit(
            f"{len(bad)} file(s) of the corpus differ from the ones recorded in corpus.json (Python "
            f"{record['python']}); this is Python {platform.python_version()} ({lib}): {', '.join(bad[:8])}"
            f"{' …' if len(bad) > 8 else ''}. The training text would differ, so the models would not be the shipped "
            f"ones. Run this script with CPython {record['python']}, or choose a new corpus with --write-corpus.")
    return parts


def texts(data_dir: Path) -> tuple[str, str, dict]:
    """(training text, validation text, corpus record), the validation text checked against the shipped one."""
    record = json.loads((data_dir / "corpus.json").read_text(encoding="utf-8"))
    if corpus_hash(record) != record["corpus_sha256"]:
        raise SystemExit("corpus.json's corpus_sha256 does not match its file list: it was edited by hand")
    lib = stdlib_dir()
    train = join_parts(read_parts(lib, record, "train"))
    valid = join_parts(read_parts(lib, record, "validation"))
    shipped = data_dir / "validation.txt"
    if shipped.is_file() and shipped.read_bytes().decode("utf-8") != valid:
        raise SystemExit(f"{shipped} is not the validation files joined: run --write-corpus again")
    return train, valid, record


def vocabulary_of(train: str) -> list[str]:
    """The characters seen at least MIN_COUNT times in the training text, by code point, then UNKNOWN."""
    chars, counts = np.unique(np.array(list(train)), return_counts=True)
    return [*sorted(str(c) for c, n in zip(chars, counts, strict=True) if n >= MIN_COUNT), UNKNOWN]


def ids_of(text: str, vocabulary: list[str]) -> np.ndarray:
    """Each character's id; characters not in the vocabulary become UNKNOWN's."""
    index = {c: i for i, c in enumerate(vocabulary)}
    unk = index[UNKNOWN]
    return np.fromiter((index.get(c, unk) for c in text), dtype=np.int64, count=len(text))


# ----------------------------------------------------------------------------------------------- the models


def count_params(kind: str, V: int, H: int) -> int:
    """Parameters of embedding (V×EMBED) → LAYERS layers of ``kind`` (H units) → Linear (H → V)."""
    rnn = sum(KIND[kind].params(width, H) for width in [EMBED] + [H] * (LAYERS - 1))
    return V * EMBED + rnn + V * H + V


def hidden_size(kind: str, V: int) -> int:
    """The hidden size whose parameter count is nearest TARGET_PARAMS."""
    return min(range(8, 1024), key=lambda H: abs(count_params(kind, V, H) - TARGET_PARAMS))


def build(kind: str, V: int, H: int):
    """A torch CharLM: state_dict keys embedding.weight, rnn.*, head.weight, head.bias."""
    import torch
    from torch import nn

    class CharLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(V, EMBED)
            cls = getattr(nn, TORCH_MODULES[kind])  # nn.GRU, nn.LSTM, nn.RNN
            extra = {"nonlinearity": "tanh"} if kind == "rnn" else {}
            self.rnn = cls(EMBED, H, LAYERS, **extra)
            self.head = nn.Linear(H, V)

        def forward(self, ids: torch.Tensor, state=None):
            out, state = self.rnn(self.embedding(ids), state)
            return self.head(out), state

    return CharLM()


def detach(state):
    """The carried state, cut from the graph (truncated BPTT)."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def bits_per_char(model, ids: np.ndarray, streams: int = 1, steps: int | None = None, chunk: int = 4096) -> float:
    """Cross-entropy in bits of each character given all before it in its stream; ``ids`` cut into ``streams``
    contiguous streams (1: one sequence from a zero state), each read for its first ``steps`` characters (None:
    all). The first character of a stream is not predicted."""
    import torch

    n = len(ids) // streams
    x = torch.from_numpy(ids[: n * streams].reshape(streams, n).T.copy())  # (T, B)
    n = n if steps is None else min(n, steps)
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for start in range(0, n - 1, chunk):
            stop = min(start + chunk, n - 1)
            logits, state = model(x[start:stop], state)
            lp = torch.log_softmax(logits.double(), dim=-1)
            total -= lp.gather(-1, x[start + 1 : stop + 1, :, None]).sum().item()
            count += (stop - start) * streams
    return total / count / math.log(2)


def train_one(kind: str, train_ids: np.ndarray, valid_ids: np.ndarray, V: int, steps: int, eval_chars: int | None):
    """Train one kind; returns (float32 state_dict as NumPy, facts for the metadata)."""
    import torch

    torch.manual_seed(SEED)
    H = hidden_size(kind, V)
    model = build(kind, V, H)
    params = sum(p.numel() for p in model.parameters())
    assert params == count_params(kind, V, H), (params, count_params(kind, V, H))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: LR_END + (1 - LR_END) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / max(steps, 1))))
    n = len(train_ids) // BATCH
    streams = torch.from_numpy(train_ids[: n * BATCH].reshape(BATCH, n).T.copy())  # (n, BATCH)
    per_pass = (n - 1) // CHUNK
    print(f"{kind}: H = {H}, {params:,} parameters; {steps} steps of {BATCH} × {CHUNK} characters "
          f"({steps * BATCH * CHUNK / len(train_ids):.2f} passes over the training text)", flush=True)
    start, cpu, state, recent = time.perf_counter(), time.process_time(), None, []
    for step in range(steps):
        at = (step % per_pass) * CHUNK
        if at == 0:
            state = None  # a new pass over the text: the streams start again from a zero state
        x, y = streams[at : at + CHUNK], streams[at + 1 : at + CHUNK + 1]
        logits, state = model(x, state)
        state = detach(state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        sched.step()
        recent.append(loss.item())
        if (step + 1) % 100 == 0 or step + 1 == steps:
            bpc = sum(recent) / len(recent) / math.log(2)
            print(f"  {kind} step {step + 1}/{steps}: {bpc:.3f} bits/char over the last {len(recent)} steps, "
                  f"{time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.2f}", flush=True)
            recent = []
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    weights = {k: v.detach().to(torch.float32).numpy().copy() for k, v in model.state_dict().items()}
    # measured on the weights as shipped (float32), in float64, as gru-viz's core computes them
    shipped = build(kind, V, H).double()
    shipped.load_state_dict({k: torch.from_numpy(v).double() for k, v in weights.items()})
    shipped.eval()
    t0 = time.perf_counter()
    valid = valid_ids if eval_chars is None else valid_ids[:eval_chars]
    bpc_valid = bits_per_char(shipped, valid)
    bpc_train = bits_per_char(shipped, train_ids, EVAL_STREAMS, EVAL_STEPS if eval_chars is None else eval_chars)
    print(f"{kind}: trained in {seconds:.0f} s ({cpu_seconds:.0f} s of CPU); bits per character: training "
          f"{bpc_train:.4f}, validation {bpc_valid:.4f} (measured in {time.perf_counter() - t0:.0f} s)", flush=True)
    facts = {"hidden_size": H, "params": params, "seconds": seconds, "cpu_seconds": cpu_seconds,
             "bpc_valid": bpc_valid, "bpc_train": bpc_train, "valid_chars": len(valid)}
    return weights, facts


def save(out: Path, kind: str, weights: dict, facts: dict, vocabulary: list[str], record: dict, steps: int,
         eval_chars: int | None) -> Path:
    """Write ``{kind}.safetensors`` with the metadata gru_viz/io/charlm.py reads (safetensors.numpy.save_file)."""
    import safetensors.numpy
    import torch

    meta = {
        "format": "pt",
        "gru_viz.kind": kind,
        "gru_viz.vocabulary": json.dumps(vocabulary, ensure_ascii=False),
        "gru_viz.unknown": UNKNOWN,
        "gru_viz.min_count": str(MIN_COUNT),
        "gru_viz.bits_per_char": repr(facts["bpc_valid"]),
        "gru_viz.bits_per_char_train": repr(facts["bpc_train"]),
        "gru_viz.bits_per_char_chars": str(facts["valid_chars"]),
        "gru_viz.params": str(facts["params"]),
        "gru_viz.hidden_size": str(facts["hidden_size"]),
        "gru_viz.embedding_size": str(EMBED),
        "gru_viz.num_layers": str(LAYERS),
        "gru_viz.seed": str(SEED),
        "gru_viz.steps": str(steps),
        "gru_viz.batch": str(BATCH),
        "gru_viz.chunk": str(CHUNK),
        "gru_viz.lr": repr(LR),
        "gru_viz.clip": repr(CLIP),
        "gru_viz.threads": str(THREADS),
        "gru_viz.train_seconds": f"{facts['seconds']:.1f}",
        "gru_viz.train_cpu_seconds": f"{facts['cpu_seconds']:.1f}",
        "gru_viz.load_average": f"{os.getloadavg()[0]:.2f}",  # the machine's, when the file was written
        "gru_viz.corpus_sha256": record["corpus_sha256"],
        "gru_viz.python": platform.python_version(),
        "gru_viz.torch": torch.__version__,
        "gru_viz.trained_by": "scripts/train_char_models.py",
    }
    if kind == "gru":
        meta["gru_viz.variant"] = "torch"
    if kind == "rnn":
        meta["gru_viz.nonlinearity"] = "tanh"
    if eval_chars is not None:
        meta["gru_viz.note"] = f"a trial run: bits per character measured on the first {eval_chars} characters only"
    out.mkdir(parents=True, exist_ok=True)
    path = out / CHARLM_KINDS[kind]
    safetensors.numpy.save_file(weights, str(path), metadata=meta)
    return path


def units_found(kind: str, out: Path) -> list[dict]:
    """The units the analysis finds in the model of ``kind`` in ``out``, read on the shipped validation text.

    The analysis is gru_viz.core.units.find_units (issue 26's analysis branch): for each text feature, the unit
    that follows it best on the text's first half and its correlation on the held-out second half.
    """
    import dataclasses

    try:
        from gru_viz.core.units import find_units
    except ImportError:
        raise SystemExit("--annotate needs the analysis (gru_viz.core.units.find_units), which this checkout does not "
                         "have yet") from None
    from gru_viz.io import charlm

    model = charlm.load_char_model(kind) if out == DATA_DIR else charlm.read_char_model(out / CHARLM_KINDS[kind])[0]
    def plain(value: object) -> object:  # strict JSON: a feature no unit could follow has r = NaN, stored as null
        return None if isinstance(value, float) and not math.isfinite(value) else value

    found = find_units(model, charlm.validation_text())
    return [{k: plain(v) for k, v in dataclasses.asdict(f).items()} for f in found]


def annotate(kinds: list[str], out: Path) -> None:
    """Write ``gru_viz.units`` (JSON: :func:`units_found`) into each model's metadata; the tensors stay as they are.

    The hook for the analysis: once the models are trained, ``--annotate`` stores the units it finds in the files
    themselves, so that any tool reading them (not only gru-viz) sees what was found, and with what evidence.
    """
    import safetensors.numpy
    from safetensors import safe_open

    for kind in kinds:
        found = units_found(kind, out)
        path = out / CHARLM_KINDS[kind]
        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata())
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta["gru_viz.units"] = json.dumps(found, ensure_ascii=False, allow_nan=False)
        safetensors.numpy.save_file(tensors, str(path), metadata=meta)
        print(f"{path}: wrote gru_viz.units ({len(found)} features)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kinds", nargs="+", default=list(CHARLM_KINDS), choices=list(CHARLM_KINDS))
    ap.add_argument("--steps", type=int, default=STEPS, help=f"training steps per model (default {STEPS})")
    ap.add_argument("--out", type=Path, default=DATA_DIR, help="where the .safetensors go (default: the shipped)")
    ap.add_argument("--eval-chars", type=int, default=None,
                    help="measure bits per character on only this many validation characters (a trial run)")
    ap.add_argument("--write-corpus", action="store_true", help="choose the files and write corpus.json etc.")
    ap.add_argument("--annotate", action="store_true",
                    help="write the units the analysis finds (gru_viz.units) into the files in --out; no training")
    args = ap.parse_args(argv)
    if args.write_corpus:
        write_corpus(DATA_DIR)
        return
    if args.annotate:
        annotate(args.kinds, args.out)
        return
    import torch

    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    train, valid, record = texts(DATA_DIR)
    vocabulary = vocabulary_of(train)
    V = len(vocabulary)
    train_ids, valid_ids = ids_of(train, vocabulary), ids_of(valid, vocabulary)
    unk = vocabulary.index(UNKNOWN)
    print(f"Python {platform.python_version()}, torch {torch.__version__}, {THREADS} thread(s); training text "
          f"{len(train):,} characters, validation {len(valid):,}; vocabulary {V} (with {UNKNOWN}: "
          f"{int((train_ids == unk).sum())} training and {int((valid_ids == unk).sum())} validation characters)")
    for kind in args.kinds:
        print(f"  {kind}: H = {hidden_size(kind, V)}, {count_params(kind, V, hidden_size(kind, V)):,} parameters")
    start = time.perf_counter()
    for kind in args.kinds:
        weights, facts = train_one(kind, train_ids, valid_ids, V, args.steps, args.eval_chars)
        path = save(args.out, kind, weights, facts, vocabulary, record, args.steps, args.eval_chars)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)", flush=True)
    print(f"all done in {time.perf_counter() - start:.0f} s; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
