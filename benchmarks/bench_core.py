"""Benchmark our NumPy core against torch in the same process: ratios of medians, float64.

Rows: the traced forward (``Model.run``, every gate of every step kept) against ``nn.GRU``'s forward (no trace),
at batch 1 for small and real sizes (H = 256 at T = 10 and 1,000, H = 1,024 at T = 100) and batched; forward +
BPTT against torch's autograd; minGRU's log-space scan against its own loop. Each row interleaves the two sides
call by call (``benchmarks/timing.py``), so drift on a shared machine hits both alike; read the ratios.

Threads: both sides run with ``--threads`` threads (default 1: OpenBLAS for NumPy, ``torch.set_num_threads``
for torch). On a 2-core machine shared with other work, idle-spinning BLAS threads on either side make its
times swing several-fold; one thread each is the comparison that holds still.

``--core DIR`` times the core of another checkout of this repository (e.g. an older commit unpacked with
``git archive``) with this same script, to compare old and new code in one session; rows that checkout refuses
(sizes over its caps) print as refused.

Run: .venv/bin/python benchmarks/bench_core.py [--repeats N] [--threads 1] [--core DIR] [--rows forward,...]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _arg_from_argv(name: str, default: str) -> str:
    """--threads and --core must act before NumPy loads OpenBLAS and gru_viz is imported: read ahead of argparse."""
    for i, arg in enumerate(sys.argv):
        if arg == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


os.environ["OPENBLAS_NUM_THREADS"] = _arg_from_argv("--threads", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
CORE = _arg_from_argv("--core", "")
if CORE:
    sys.path.insert(0, str(Path(CORE).resolve()))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gru_viz  # noqa: E402
from benchmarks.timing import interleaved  # noqa: E402
from gru_viz.core.grad import backward  # noqa: E402
from gru_viz.core.model import Model  # noqa: E402
from gru_viz.core.params import random_model  # noqa: E402
from gru_viz.core.spec import Spec, SpecError  # noqa: E402

torch.set_default_dtype(torch.float64)

# (T, B, I, H) and the target ratio ours / torch: the small sizes the app draws, the real sizes of issue 24
FORWARD_ROWS = (
    ((1000, 1, 8, 32), 0.6),
    ((200, 1, 4, 16), 0.6),
    ((10, 1, 256, 256), 1.5),
    ((1000, 1, 256, 256), 1.0),
    ((100, 1, 1024, 1024), 1.0),
    ((256, 64, 32, 128), 1.0),
)
BACKWARD_ROWS = ((1000, 1, 8, 32), (200, 1, 4, 16), (256, 64, 32, 128))


def gru_pair(T: int, B: int, I: int, H: int, seed: int = 0):
    """A torch GRU and our Model with the same weights, and one input."""
    torch.manual_seed(seed)
    mod = torch.nn.GRU(I, H)
    model = Model(Spec("gru", I, H), {k: v.detach().numpy().copy() for k, v in mod.state_dict().items()})
    x = np.random.default_rng(seed).standard_normal((T, B, I))
    return mod, model, x


def bench_forward(T: int, B: int, I: int, H: int, repeats: int) -> dict[str, float]:
    """Median seconds of our traced forward and of nn.GRU's forward, interleaved."""
    mod, model, x = gru_pair(T, B, I, H)
    xt = torch.tensor(x)

    def ours() -> None:
        model.run(x)

    def theirs() -> None:
        with torch.no_grad():
            mod(xt)

    return interleaved({"ours": ours, "torch": theirs}, repeats)


def bench_backward(T: int, B: int, I: int, H: int, repeats: int) -> dict[str, float]:
    """Median seconds of our forward + BPTT and of torch's forward + autograd backward, interleaved."""
    mod, model, x = gru_pair(T, B, I, H)
    G = np.random.default_rng(1).standard_normal((T, B, H))
    Gt = torch.tensor(G)

    def ours() -> None:
        tr = model.run(x)
        backward(model, tr, G)

    def theirs() -> None:
        xt = torch.tensor(x, requires_grad=True)
        mod.zero_grad()
        out, _ = mod(xt)
        (out * Gt).sum().backward()

    return interleaved({"ours": ours, "torch": theirs}, repeats)


def bench_mingru(T: int, repeats: int) -> dict[str, float]:
    """Median seconds of minGRU's log-space scan and of its loop."""
    model = random_model(Spec("mingru", 4, 16), seed=0)
    x = np.random.default_rng(0).standard_normal((T, 4))
    return interleaved({"scan": lambda: model.run(x, scan=True), "loop": lambda: model.run(x, scan=False)}, repeats)


def _row(what: str, shape: tuple, r: dict[str, float], target: float) -> str:
    ratio = r["ours"] / r["torch"]
    return (f"| {what} | {shape} | {r['ours'] * 1e3:.2f} | {r['torch'] * 1e3:.2f} | {ratio:.2f}× | "
            f"≤ {target}× {'✓' if ratio <= target else '✗'} |")


def main() -> None:
    """Print the benchmark table (markdown) and what it ran on."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads for NumPy and torch (default 1)")
    ap.add_argument("--core", default="", help="time the gru_viz of this checkout instead of this one")
    ap.add_argument("--rows", default="forward,backward,mingru", help="which groups of rows to run")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = set(args.rows.split(","))
    print(f"numpy {np.__version__}, torch {torch.__version__}, {args.threads} BLAS/torch thread(s), float64, "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"gru_viz from {Path(gru_viz.__file__).resolve().parents[1]}; median of {args.repeats} interleaved runs\n")
    print("| what | shape (T, B, I, H) | ours (ms) | torch (ms) | ours / torch | target |")
    print("|---|---|---|---|---|---|")
    if "forward" in rows:
        for shape, target in FORWARD_ROWS:
            try:
                r = bench_forward(*shape, repeats=args.repeats)
            except SpecError as exc:  # an older core's caps
                print(f"| traced forward vs nn.GRU forward | {shape} | refused: {exc} | | | |")
                continue
            print(_row("traced forward vs nn.GRU forward", shape, r, target), flush=True)
    if "backward" in rows:
        for shape in BACKWARD_ROWS:
            print(_row("forward + BPTT vs autograd", shape, bench_backward(*shape, repeats=args.repeats), 1.0),
                  flush=True)
    if "mingru" in rows:
        r = bench_mingru(100_000, repeats=max(3, args.repeats // 3))
        print(f"| minGRU log-space scan vs its loop | (100000, 1, 4, 16) | {r['scan'] * 1e3:.2f} | "
              f"{r['loop'] * 1e3:.2f} (loop) | {r['scan'] / r['loop']:.2f}× | faster than the loop "
              f"{'✓' if r['scan'] < r['loop'] else '✗'} |")


if __name__ == "__main__":
    main()
