"""The heavy work of the pages, as plain functions of picklable arguments, and the entry point of the job
workers (:mod:`gru_viz.serve.jobs` runs these in child processes; a page may also call them directly).

No Streamlit here, and no torch at import: the workers' fork server imports this module and
:mod:`gru_viz.io.bridge` (torch) once, so a job starts in milliseconds, and the server process never imports
torch (it imports this module to run small jobs in place).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import mmap
import os
import pickle
import resource
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..core import compare, divergence, parity, paths
from ..core.grad import Flow, gradient_flow
from ..core.kinds import KIND
from ..core.model import Model, ModelInputError
from ..core.parity import Judgement, Report
from ..core.sequences import SequenceError
from ..core.spec import SpecError
from ..core.trace import Ablation, Trace
from . import state
from .limits import JOB_HOLD
from .lineup import Lineup, build_lineup
from .state import Config, ConfigError, Scene

SWEEP_STEPS = 200  # the scale sweep and the clipping demo use the first steps of the input
SCALES = np.round(np.arange(0.0, 5.0001, 0.25), 2)
FRIENDLY = (SequenceError, ConfigError, ModelInputError, SpecError)  # their messages are for the page


class TorchMissing(RuntimeError):
    """torch cannot be imported here, so there is nothing to compare with."""


def bridge():
    """gru_viz.io.bridge (which imports torch), or :class:`TorchMissing`."""
    try:  # import_module honours sys.modules (a test's "no torch here"), `from ..io import bridge` may not
        module = importlib.import_module("gru_viz.io.bridge")
    except ImportError as exc:
        raise TorchMissing(f"PyTorch is not installed here ({exc})") from None
    return module


# --------------------------------------------------------------------------------------------------- the work


def scene(cfg: Config, session_model: Model | None = None) -> Scene:
    """state.build_scene: the input, model and full trace of a config."""
    return state.build_scene(cfg, session_model)


def lineup(base: Config, kinds: tuple[str, ...], keep_bias: float) -> Lineup:
    """Gradient flow's line-up: the cells run on the config's input (no timing)."""
    return build_lineup(base, kinds, timing=False, keep_bias=keep_bias)


def timed_lineup(base: Config, kinds: tuple[str, ...], keep_bias: float) -> Lineup:
    """Compare cells' line-up: the cells run on the config's input, each run timed."""
    return build_lineup(base, kinds, keep_bias=keep_bias)


def gradient_flows(base: Config, kinds: tuple[str, ...], keep_bias: float,
                   _lineup: Lineup | None = None) -> dict[str, Flow]:
    """kind → its gradient flow (‖∂h_T/∂x_t‖, ‖∂h_T/∂h_t‖ over t, also past float64's range)."""
    lu = _lineup or lineup(base, kinds, keep_bias)
    return {k: gradient_flow(m, lu.seq.values, state.initial_state(base, m)) for k, m in lu.models.items()}


def gradient_analyses(base: Config, kinds: tuple[str, ...], keep_bias: float,
                      _lineup: Lineup | None = None) -> dict[str, paths.Analysis]:
    """kind → heatmap and path analysis over the last steps."""
    lu = _lineup or lineup(base, kinds, keep_bias)
    return {k: paths.analyse(m, lu.layer(k)) for k, m in lu.models.items()}


def flip_parting(base: Config, kinds: tuple[str, ...], keep_bias: float,
                 _lineup: Lineup | None = None) -> divergence.Parting:
    """How the line-up's GRU and its z-flipped partner part over the whole input (two more runs of the GRU)."""
    lu = _lineup or lineup(base, kinds, keep_bias)
    model = lu.models["gru"]
    return compare.flip_parting(model, lu.seq.values, state.initial_state(lu.cfg, model))


def scale_sweep(base: Config, kinds: tuple[str, ...], keep_bias: float,
                _lineup: Lineup | None = None) -> dict[str, np.ndarray]:
    """kind → ‖∂L/∂θ‖ at every scale in SCALES (L = Σ h_T over the first steps of the input)."""
    x = (_lineup or lineup(base, kinds, keep_bias)).seq.values[:SWEEP_STEPS]
    return compare.gradient_norms_over_scales(kinds, x, SCALES, base.hidden, seed=base.seed, variant=base.variant,
                                            keep_bias=keep_bias)


def compare_with_torch(model: Model, x: np.ndarray, h0: object = None, ablations: Sequence[Ablation] = (),
                       dtype: str = "float64", trace=None, ours_model: Model | None = None) -> Report:
    """Our core against torch in ``dtype`` (``ours_model`` replaces the model on our side only, to show that a
    wrong model fails the check); raises :class:`TorchMissing`."""
    return _sides(model, x, h0, tuple(ablations), dtype, trace, ours_model)[0]


def _sides(model: Model, x: np.ndarray, h0: object, ablations: tuple[Ablation, ...], dtype: str,
           trace: Trace | None, ours_model: Model | None) -> tuple[Report, Trace, dict[str, np.ndarray]]:
    """(report, our trace, torch's side) of one comparison."""
    torch_bridge = bridge()
    if ours_model is not None:
        trace = ours_model.run(x, h0, ablations)
    trace = trace if trace is not None else model.run(x, h0, ablations)
    cot = parity.cotangents(trace)
    ours = parity.our_side(ours_model or model, trace, cot)
    theirs, how = torch_bridge.torch_side(model, x, h0, ablations, cot, dtype)
    return parity.compare(ours, theirs, dtype, how, model.spec.directions), trace, theirs


def judgement(model: Model, x: np.ndarray, h0: object = None, ablations: Sequence[Ablation] = (),
              trace: Trace | None = None, ours_model: Model | None = None) -> Judgement:
    """The float64 verdict: the whole-run comparison and, when it differs, the diagnosis that tells amplified
    round-off from a wrong core (see :class:`gru_viz.core.parity.Judgement`); raises :class:`TorchMissing`."""
    ablations = tuple(ablations)
    full, ours_trace, theirs = _sides(model, x, h0, ablations, "float64", trace, ours_model)
    if full.passed:
        return Judgement(full)
    s = model.spec
    torch_steps, how = bridge().torch_steps_from(model, ours_trace, ablations)  # torch's equations, our states
    ours_steps = parity.step_side(ours_trace)
    steps = parity.compare(ours_steps, torch_steps, "float64", how, s.directions)
    gaps = parity.per_step_gaps(ours_steps, torch_steps)
    if any(parity.step_key(0, d, "h") not in theirs for d in range(s.directions)):
        return Judgement(full, steps, step_gaps=gaps)
    parting = parity.travel_parting(ours_trace, theirs, ours_model or model)
    torch_parting = None
    if "torch.nn." in full.how and not s.cell and s.num_layers == 1 and s.directions == 1:
        # torch against itself: its module's output and its own step-by-step code, two computations of one run
        torch_parting = divergence.parting(np.asarray(theirs["output"]).reshape(ours_trace.steps, -1),
                                           np.asarray(theirs[parity.step_key(0, 0, "h")]).reshape(ours_trace.steps, -1))
    k = parity.window_steps(s, parting, ours_trace.steps)
    shortest = min(k, parity.MIN_WINDOW)
    window = None
    if not parting.from_start and steps.passed:
        # Shorten the window while its run still overflows or amplifies round-off past the tolerance (a stack's
        # layers multiply their amplifications); a wrong backward pass differs over the shortest window too.
        while True:
            window = compare_with_torch(model, parity.prefix(s, x, k), h0, ablations, "float64", None, ours_model)
            if window.passed or k <= shortest:
                break
            k = max(shortest, k // 2)
    return Judgement(full, steps, parting, window, k, torch_parting, gaps)


def torch_source(model: Model, ablations: Sequence[Ablation] = ()) -> str:
    """The torch code that computes the torch side for this model (from gru_viz/io/bridge.py)."""
    return bridge().torch_side_source(model, tuple(ablations))


# ----------------------------------------------------------------------------------------------- cost estimates


def run_seconds(steps: int, spec) -> float:
    """About how long one traced forward run takes here (Python's per-step overhead plus the products)."""
    return KIND[spec.kind].run_seconds(spec, steps)


# ------------------------------------------------------------------------------------------------- the workers


@dataclass
class Outcome:
    """What a job sends back: its value, or a message for the page (and whether the input was at fault)."""

    ok: bool
    value: object = None
    message: str = ""
    friendly: bool = False
    error: str = ""  # the exception's class name


def end_with_parent() -> None:
    """Be killed when the fork server (this worker's parent) ends: the fork server has a session of its own
    (gru_viz.serve.worker_init), so stopping a server's process group does not reach its workers, and a worker
    must not run on for minutes after its server has gone."""
    from multiprocessing import forkserver

    # Read before the close below: once this worker's copy of the pipe is closed, the fork server of a server that
    # has gone may end at once, and a parent read after that would already be whoever adopted this worker.
    parent = os.getppid()
    # Every child of the fork server inherits the write end of the pipe whose end tells the fork server that its
    # server has gone; a worker that kept it would keep the fork server (and so itself) alive.
    alive = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    if alive is not None:
        with contextlib.suppress(OSError):
            os.close(alive)
        forkserver._forkserver._forkserver_alive_fd = None
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    if os.getppid() != parent:  # the parent ended before the line above
        os._exit(1)


SPILL_BYTES = 1 << 20  # a result whose arrays hold more than this goes back through a file (spill), not the pipe


def send(conn, outcome: Outcome, spill: str | None) -> None:
    """Send ``outcome`` back; when its arrays are large and ``spill`` (a path the server chose) is given, they go to
    that file and only the rest of the pickle goes through the pipe (see :func:`receive`)."""
    if spill:
        arrays: list[pickle.PickleBuffer] = []
        head = pickle.dumps(outcome, protocol=5, buffer_callback=arrays.append)
        raws = [a.raw() for a in arrays]
        if sum(r.nbytes for r in raws) > SPILL_BYTES:
            try:
                with open(spill, "wb") as f:
                    for r in raws:
                        f.write(r)
            except OSError:  # a full disk: the pipe, as for a small result
                pass
            else:
                conn.send(("spilled", head, [r.nbytes for r in raws]))
                return
    conn.send(outcome)


def receive(message: object, spill: str | None) -> Outcome:
    """The :class:`Outcome` a worker sent: as it came, or rebuilt around its spilled arrays.

    The server reads a job's result while the class's clicks run: the pipe hands a 25 MiB trace over in 64 KiB reads,
    each taking the GIL back (py-spy: 38–51 % of the server's GIL time under --abuse's heavy links). A spilled result is
    mapped instead (copy-on-write: its arrays stay writable) and its pickle refers to the mapping, so the arrays are
    neither read nor copied here; the file is unlinked at once and its memory goes with the last array using it."""
    if not (isinstance(message, tuple) and len(message) == 3 and message[0] == "spilled"):
        return message  # type: ignore[return-value]
    _, head, sizes = message
    with open(spill, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    os.unlink(spill)
    view, views, at = memoryview(mapped), [], 0
    for size in sizes:
        views.append(view[at:at + size])
        at += size
    return pickle.loads(head, buffers=views)


def run_job(conn, fn: Callable, args: tuple, nice: int, memory: int, seconds: int, spill: str | None = None) -> None:
    """A worker process's whole life: lower its priority and cap its memory and CPU time, run ``fn(*args)``,
    send the :class:`Outcome` back (large arrays through the file ``spill``), and exit (its memory goes back to the
    system with it)."""
    end_with_parent()
    try:
        os.nice(max(0, nice - os.nice(0)))  # the fork server already gave way (gru_viz.serve.worker_init)
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    except (OSError, ValueError):
        pass
    try:
        outcome = Outcome(True, fn(*args))
    except MemoryError:
        outcome = Outcome(False, message=f"it needs more than the {memory / 2**30:.1f} GB of memory one job may "
                                         "use on this server; try fewer steps or a smaller model")
    except (*FRIENDLY, TorchMissing) as exc:
        outcome = Outcome(False, message=str(exc), friendly=True, error=type(exc).__name__)
    except Exception as exc:  # a bug of ours: the page says so plainly; the details go to the server's log
        traceback.print_exc()
        outcome = Outcome(False, message=f"it failed unexpectedly ({type(exc).__name__})")
    while JOB_HOLD and not os.path.exists(JOB_HOLD):  # a browser test lets its jobs go once it has seen them
        time.sleep(0.05)
    try:
        send(conn, outcome, spill)
    except Exception as exc:  # e.g. a value that does not pickle: still an answer
        conn.send(Outcome(False, message=f"its result could not be sent back ({type(exc).__name__})"))
    finally:
        conn.close()


def warm() -> str:
    """A no-op job: the fork server is up (and has torch, if installed)."""
    return "ok"


# ------------------------------------------------------------------------------------- Real text's analyses

ANALYSIS_CHARS = 60_000  # the held-out text's first characters the units and saturation are computed over (a
# vanilla RNN's analysis took 24–235 s on 100,000 on the loaded 2-core machine: within a job's 300 s, with room)
PATTERN_CHARS = 20_000  # … and those the pattern search looks in (one layer's h of them: 18 MB at H = 231)


@dataclass(frozen=True)
class CharAnalysis:
    """What the Real text page shows of one language model over the held-out text: computed once per server."""

    kind: str
    found: tuple  # gru_viz.core.units.Found, one per feature, over the first ``chars`` characters
    saturation: dict  # (layer, gate) → (share below 0.1, share above 0.9), each (H,), over the same characters
    chars: int  # characters analysed
    bits_per_char: float  # on the whole held-out text read as one sequence (the shipped file's own measure)


def analysis_text(text: str, chars: int = ANALYSIS_CHARS) -> str:
    """The first ``chars`` characters of ``text``, cut at the end of a line (the whole text when shorter)."""
    if len(text) <= chars:
        return text
    cut = text.rfind("\n", 0, chars)
    return text[: cut + 1] if cut > 0 else text[:chars]


def char_analysis(kind: str) -> CharAnalysis:
    """The units found, the gates' saturation and the bits per character of the shipped model ``kind``."""
    from ..core import charlm, units
    from ..io import charlm as charlm_io

    text = analysis_text(charlm_io.validation_text())
    model = charlm_io.load_char_model(kind)
    read = charlm.states(model, text)
    return CharAnalysis(kind, tuple(units.find_units(model, text, read=read)), units.saturation(read), len(text),
                        charlm_io.char_model_info(kind).bits_per_char)


def pattern_states(kind: str, layer: int) -> np.ndarray:
    """One layer's h (float32) of model ``kind`` over the held-out text's first PATTERN_CHARS characters."""
    from ..core import charlm
    from ..io import charlm as charlm_io

    text = analysis_text(charlm_io.validation_text(), PATTERN_CHARS)
    return charlm.states(charlm_io.load_char_model(kind), text).values(layer, "h")
