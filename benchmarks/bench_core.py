"""Benchmark our NumPy core against torch in the same process: ratios of medians, float64.

Run: .venv/bin/python benchmarks/bench_core.py [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gru_viz
from benchmarks.timing import interleaved
from gru_viz.core.grad import backward
from gru_viz.core.model import Model
from gru_viz.core.params import random_model
from gru_viz.core.spec import Spec

torch.set_default_dtype(torch.float64)


def gru_pair(T: int, B: int, I: int, H: int, seed: int = 0):
    """A torch GRU and our Model with the same weights, and one input."""
    torch.manual_seed(seed)
    mod = torch.nn.GRU(I, H)
    model = Model(Spec("gru", I, H), {k: v.detach().numpy().copy() for k, v in mod.state_dict().items()})
    x = np.random.default_rng(seed).standard_normal((T, B, I))
    return mod, model, x


def bench_forward(T: int, B: int, I: int, H: int, repeats: int) -> dict[str, float]:
    mod, model, x = gru_pair(T, B, I, H)
    xt = torch.tensor(x)

    def ours() -> None:
        model.run(x)

    def theirs() -> None:
        with torch.no_grad():
            mod(xt)

    return interleaved({"ours": ours, "torch": theirs}, repeats)


def bench_backward(T: int, B: int, I: int, H: int, repeats: int) -> dict[str, float]:
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
    model = random_model(Spec("mingru", 4, 16), seed=0)
    x = np.random.default_rng(0).standard_normal((T, 4))
    return interleaved({"scan": lambda: model.run(x, scan=True), "loop": lambda: model.run(x, scan=False)}, repeats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    print(f"numpy {np.__version__}, torch {torch.__version__}, threads {torch.get_num_threads()}, float64")
    print(f"gru_viz {gru_viz.__name__}; median of {args.repeats} interleaved runs\n")
    print("| what | shape (T, B, I, H) | ours (ms) | torch (ms) | ours / torch | target |")
    print("|---|---|---|---|---|---|")
    for shape, target in (((1000, 1, 8, 32), 0.6), ((200, 1, 4, 16), 0.6), ((256, 64, 32, 128), 1.0)):
        r = bench_forward(*shape, repeats=args.repeats)
        ratio = r["ours"] / r["torch"]
        print(f"| traced forward vs nn.GRU forward | {shape} | {r['ours'] * 1e3:.2f} | {r['torch'] * 1e3:.2f} | "
              f"{ratio:.2f}× | ≤ {target}× {'✓' if ratio <= target else '✗'} |")
    for shape in ((1000, 1, 8, 32), (200, 1, 4, 16), (256, 64, 32, 128)):
        r = bench_backward(*shape, repeats=args.repeats)
        ratio = r["ours"] / r["torch"]
        print(f"| forward + BPTT vs autograd | {shape} | {r['ours'] * 1e3:.2f} | {r['torch'] * 1e3:.2f} | "
              f"{ratio:.2f}× | ≤ 1.0× {'✓' if ratio <= 1.0 else '✗'} |")
    r = bench_mingru(100_000, repeats=max(3, args.repeats // 3))
    print(f"| minGRU log-space scan vs its loop | (100000, 1, 4, 16) | {r['scan'] * 1e3:.2f} | "
          f"{r['loop'] * 1e3:.2f} (loop) | {r['scan'] / r['loop']:.2f}× | faster than the loop "
          f"{'✓' if r['scan'] < r['loop'] else '✗'} |")


if __name__ == "__main__":
    main()
