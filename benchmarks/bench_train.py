"""Training benchmarks: (a) one training step, ours vs torch; (b) the adding problem at T = 50, GRU vs the rest.

(a) One step = forward, loss (linear readout at the last step, MSE), BPTT, gradient clipping and Adam, on a
    GRU with H = 32, T = 50, B = 32 in float64. Ours: ``Trainer.update``; torch: ``nn.GRU`` + ``nn.Linear``,
    autograd, ``clip_grad_norm_``, ``torch.optim.Adam``. Medians of interleaved runs, printed as a markdown
    table row with the ratio ours / torch.
(b) Each cell trains on the adding problem at T = 50 (chance MSE 1/6 ≈ 0.167) with the same data, seeds and
    settings (H = 32, B = 32, Adam lr 1e-2, clip 1.0) until the held-out MSE (512 sequences, checked every
    50 steps) is below 0.01, or the time budget (60 s) runs out. A vanilla RNN fails at these settings; an
    extra row gives it a smaller learning rate (--rnn-lr), its better setting, to show what it takes.

BLAS threads: both sides run with ``--threads`` threads (default 1). The matrices are tiny, so threads buy
nothing, and on a busy machine OpenBLAS's spinning threads make our steps several times slower.

Run: .venv/bin/python benchmarks/bench_train.py [--repeats 50] [--budget 60] [--seeds 0 1] [--threads 1]
     [--T 50] [--cells gru lstm mingru rnn] [--rnn-lr 3e-3] [--skip-step] [--skip-race]
"""

from __future__ import annotations

import argparse
import os
import sys


def _threads_from_argv() -> str:
    """--threads must act before NumPy loads OpenBLAS, so it is read ahead of argparse."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


os.environ["OPENBLAS_NUM_THREADS"] = _threads_from_argv()

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.timing import interleaved  # noqa: E402
from gru_viz.core.tasks import get_task  # noqa: E402
from gru_viz.core.train import TrainConfig, Trainer  # noqa: E402

TARGET_MSE = 0.01


def bench_step(repeats: int, T: int = 50, B: int = 32, H: int = 32) -> dict[str, float]:
    """Median seconds of one full training step, ours and torch's, on the same GRU, readout and batch."""
    task = get_task("adding")
    config = TrainConfig(seq_len=T, batch_size=B, lr=1e-3, clip=1.0, eval_every=10**9, eval_size=1)
    ours = Trainer.for_cell(task, "gru", H, config)
    gru = torch.nn.GRU(task.input_size, H).double()
    gru.load_state_dict({k: torch.tensor(v) for k, v in ours.model.params.items()})
    lin = torch.nn.Linear(H, 1).double()
    lin.load_state_dict({"weight": torch.tensor(ours.readout.weight), "bias": torch.tensor(ours.readout.bias)})
    params = list(gru.parameters()) + list(lin.parameters())
    opt = torch.optim.Adam(params, lr=config.lr)
    x, y = task.batch(B, np.random.default_rng(0), T)
    xt, yt = torch.tensor(x), torch.tensor(y)

    def torch_step() -> None:
        opt.zero_grad()
        out, _ = gru(xt)
        torch.nn.functional.mse_loss(lin(out[-1]), yt).backward()
        torch.nn.utils.clip_grad_norm_(params, config.clip)
        opt.step()

    return interleaved({"ours": lambda: ours.update(x, y), "torch": torch_step}, repeats)


def race(cell: str, seed: int, budget: float, lr: float = 1e-2, T: int = 50) -> dict[str, object]:
    """Train one cell on the adding problem until the held-out MSE < TARGET_MSE or the budget is spent."""
    config = TrainConfig(
        seq_len=T, batch_size=32, lr=lr, clip=1.0, seed=seed, init_seed=seed, eval_every=50, eval_size=512
    )
    trainer = Trainer.for_cell("adding", cell, 32, config)
    start = time.perf_counter()
    reached: dict[str, float] = {}

    def check(t: Trainer) -> bool:
        if t.history.eval_step[-1] == t.steps_done and t.history.eval_loss[-1] < TARGET_MSE:
            reached.update(steps=t.steps_done, seconds=time.perf_counter() - start)
            return False
        return True

    trainer.run(10**9, callback=check, every=50, max_seconds=budget)
    return {
        "cell": cell,
        "lr": lr,
        "seed": seed,
        "steps": trainer.steps_done,
        "seconds": time.perf_counter() - start,
        "reached": reached,
        "final": trainer.history.eval_loss[-1],
        "best": min(trainer.history.eval_loss),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per cell in the race")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--cells", nargs="+", default=["gru", "lstm", "mingru", "rnn"])
    ap.add_argument("--rnn-lr", type=float, default=3e-3, help="the extra RNN row's learning rate (0: none)")
    ap.add_argument("--T", type=int, default=50, help="sequence length of the race")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads for NumPy and torch")
    ap.add_argument("--skip-step", action="store_true")
    ap.add_argument("--skip-race", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"numpy {np.__version__}, torch {torch.__version__}, float64, {args.threads} BLAS/torch thread(s), "
          f"{os.cpu_count()} cores\n")

    if not args.skip_step:
        r = bench_step(args.repeats)
        ratio = r["ours"] / r["torch"]
        print(f"(a) one training step, median of {args.repeats} interleaved runs\n")
        print("| what | shape (T, B, I, H) | ours (ms) | torch (ms) | ours / torch | target |")
        print("|---|---|---|---|---|---|")
        print(f"| forward + MSE readout + BPTT + clip + Adam vs autograd + clip_grad_norm_ + optim.Adam | "
              f"(50, 32, 2, 32) | {r['ours'] * 1e3:.2f} | {r['torch'] * 1e3:.2f} | {ratio:.2f}× | "
              f"≤ 1.0× {'✓' if ratio <= 1.0 else '✗'} |\n")

    if not args.skip_race:
        chance = get_task("adding").baseline().loss
        print(f"(b) adding problem, T = {args.T}, chance MSE {chance:.3f}; stop at held-out "
              f"MSE < {TARGET_MSE} or after {args.budget:g} s (H = 32, B = 32, clip 1.0)\n")
        print("| cell | lr | seed | reached MSE < 0.01 | steps run | seconds | final MSE | best MSE |")
        print("|---|---|---|---|---|---|---|---|")
        runs = [(cell, 1e-2) for cell in args.cells]
        if args.rnn_lr:
            runs.append(("rnn", args.rnn_lr))
        for seed in args.seeds:
            for cell, lr in runs:
                r = race(cell, seed, args.budget, lr, args.T)
                hit = r["reached"]
                when = f"yes: step {hit['steps']}, {hit['seconds']:.1f} s" if hit else "no"
                print(f"| {cell} | {lr:g} | {seed} | {when} | {r['steps']} | {r['seconds']:.1f} | "
                      f"{r['final']:.4f} | {r['best']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
