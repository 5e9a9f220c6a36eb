"""Fuzz the three doors user input comes through, with hypothesis, and time every case.

Run: .venv/bin/python benchmarks/fuzz.py [--examples 3000] [--only sequences,query,scene,bytes,safetensors,npz,pt]
     [--slow 2.0] [--seed 0]

- the sequence parser: ``parse_sequence(text, mode, width)`` in both modes, with and without a width, on
  random text, number-ish pieces, unicode, huge inputs → a ``Sequence`` or ``SequenceError`` only;
- the URL reader: ``state.from_query`` on arbitrary ``{str: str | list[str]}`` (every Config key with junk,
  huge strings, unicode, repeated keys as lists, unknown keys) → never raises, always a Config; its
  ``to_query`` form reads back to the same Config with no notes; and ``state.build_scene`` of what it read
  (small runs only) → a Scene or one of the page's friendly errors;
- the weights loader: ``load_weights_bytes`` on arbitrary bytes under every extension, and on valid files
  of each format (safetensors, npz, torch .pt zip and legacy) mutated: safetensors header length, JSON,
  dtype/shape/data_offsets; truncated or bit-flipped zips, lying .npy headers, rewritten .pt pickles
  → a Model or ``WeightsError`` only.

Each case runs under a timer: a case over ``--slow`` seconds is flagged, one over ``--hang`` seconds is
interrupted (SIGALRM) and counted as a hang. The script prints counts and timings per target as a markdown
table and exits non-zero if any case raised something else, hung or was slow. ``tests/test_fuzz.py`` runs
the same properties with few examples.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import pickle
import resource
import signal
import statistics
import struct
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gru_viz.app import state
from gru_viz.app.state import Config, ConfigError
from gru_viz.core.model import ModelInputError
from gru_viz.core.params import random_model
from gru_viz.core.sequences import Sequence, SequenceError, parse_sequence
from gru_viz.core.spec import GRU_VARIANTS, KINDS, Spec, SpecError
from gru_viz.io.formats.checks import SUPPORTED_EXTENSIONS, WeightsError
from gru_viz.io.weights import load_weights_bytes, save_npz, save_safetensors

PAGE_ERRORS = (SequenceError, ConfigError, ModelInputError, SpecError)  # what gru_viz.app.ui.friendly shows as such

# ------------------------------------------------------------------------------------------------ strategies

_PIECES = ["0", "1", "-1", "0.5", ".5", "5.", "1e3", "1e400", "-1e-400", "nan", "inf", "-inf", "Infinity", "1_000",
           "0x10", "1,", ", ", ",", ";", "\n", "\r\n", " ", "\t", "  ", ";;", "1 2", "1 2 3;", "+", "-", "e", "E5",
           "１", "٣", "½", "é", "🙂", "\x00", "\u200b", "\ufeff", "1" * 400, "9" * 5000, "'", '"', "[", "]", "(1,2)"]

huge_text = st.tuples(st.sampled_from(["1 ", "1;", "1 2;", "a", "1, ", "ab\n", "🙂", "0.1;" * 3, " "]),
                      st.integers(0, 60_000)).map(lambda p: p[0] * p[1])
typed_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(_PIECES), max_size=80).map("".join),
    huge_text,
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
modes = st.sampled_from(["numbers", "text"])
widths = st.one_of(st.none(), st.integers(1, 64), st.integers(-5, 200))


def _junk_value(name: str) -> st.SearchStrategy[str]:
    """Values for a Config field: valid-looking, off by a little, and plain junk."""
    default = getattr(state.DEFAULT, name)
    near = {
        int: st.integers(-10, 10_000).map(str) | st.sampled_from(["1e3", "0x10", "1_0", "  7 ", "-0", "9" * 5000,
                                                                  "2147483648", "64", "65", "5000", "5001"]),
        float: st.floats(allow_nan=True, allow_infinity=True).map(repr) | st.sampled_from(
            ["5", "5.0000001", "-0.0", "1e-320", "nan", "inf", "1e309", "0x1p3", "1_0"]),
        bool: st.sampled_from(["1", "0", "true", "False", "YES", "on", "off", "", "2", "yes please"]),
        str: st.sampled_from([str(default), "gru", "lstm", "rnn", "mingru", *GRU_VARIANTS, "typed", "text", "gen",
                              "sine", "noise", "copy", "random", "session", "preset:latch", "preset:nope",
                              "trained:", "trained:../../etc/passwd", "z:1,r:0", "z:2", "q:1", ":", ",,,",
                              "controls,equations", "export,nope", "period=20", "period=", "=1", "a b=1",
                              "period=1e400", "period=nan", "zeros"]),
    }[type(default)]
    return near | st.text(max_size=60) | huge_text


@st.composite
def queries(draw) -> dict[str, str | list[str]]:
    """A query dict as Streamlit hands it over: str or list[str] values (repeated keys), any keys."""
    names = [f.name for f in fields(Config)]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    out: dict[str, str | list[str]] = {}
    for name in chosen:
        value = _junk_value(name)
        out[name] = draw(value | st.lists(value, max_size=4))
    extra = draw(st.dictionaries(st.text(max_size=20), st.text(max_size=40) | st.lists(st.text(max_size=5),
                                                                                       max_size=3), max_size=4))
    for key, value in extra.items():
        out.setdefault(key, value)
    return out


# ------------------------------------------------------------------------------------------------ weights

def _models() -> list:
    specs = [Spec("gru", 2, 3), Spec("lstm", 1, 2), Spec("rnn", 3, 2), Spec("gru", 1, 2, variant="reset-before"),
             Spec("mingru", 2, 2), Spec("gru", 2, 2, num_layers=2, bidirectional=True), Spec("lstm", 2, 3, proj_size=2)]
    out = []
    for k, spec in enumerate(specs):
        try:
            out.append(random_model(spec, seed=k))
        except Exception:  # a kind this build cannot make: fuzz the others
            continue
    return out


def _valid_files() -> dict[str, list[bytes]]:
    """Valid files of every format (the .pt ones need torch; without it they are skipped)."""
    files: dict[str, list[bytes]] = {"safetensors": [], "npz": [], "pt": []}
    for model in _models():
        files["safetensors"].append(save_safetensors(model))
        files["npz"].append(save_npz(model))
        try:
            import torch

            from gru_viz.io.bridge import save_pt, torch_state_dict

            files["pt"].append(save_pt(model))
            buf = io.BytesIO()
            torch.save(torch_state_dict(model), buf, _use_new_zipfile_serialization=False)
            files["pt"].append(buf.getvalue())
            buf = io.BytesIO()
            torch.save({"model_state_dict": torch_state_dict(model), "epoch": 3}, buf)
            files["pt"].append(buf.getvalue())
        except ImportError:
            pass
    try:  # crafted: a 1-element storage viewed as 10⁹ elements (tiny file, huge tensor), and a pickle with a GLOBAL
        import torch

        buf = io.BytesIO()
        torch.save({"weight_ih_l0": torch.zeros(1).expand(3 * 10**8, 2)}, buf)
        files["pt"].append(buf.getvalue())
        files["pt"].append(pickle.dumps({"weight_ih_l0": print}, protocol=2))
    except ImportError:
        pass
    return files


VALID = _valid_files()


def _flip(data: bytes, positions: list[int], values: list[int]) -> bytes:
    b = bytearray(data)
    for p, v in zip(positions, values, strict=False):
        if b:
            b[p % len(b)] = v
    return bytes(b)


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """Truncate, flip, insert, delete or duplicate bytes of ``data``."""
    how = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "append", "splice"]))
    n = len(data)
    if how == "truncate":
        return data[: draw(st.integers(0, max(n - 1, 0)))]
    if how == "flip":
        k = draw(st.integers(1, 8))
        return _flip(data, draw(st.lists(st.integers(0, n), min_size=k, max_size=k)),
                     draw(st.lists(st.integers(0, 255), min_size=k, max_size=k)))
    at = draw(st.integers(0, n))
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    if how == "delete":
        return data[:at] + data[at + draw(st.integers(1, 64)):]
    if how == "append":
        return data + draw(st.binary(min_size=1, max_size=256))
    other = draw(st.integers(0, n))
    return data[:at] + data[min(at, other): max(at, other)] + data[at:]


_INTS = st.one_of(st.integers(-3, 300), st.integers(-2**70, 2**70), st.sampled_from([2**63 - 1, 2**64, -1, 0]))
_JSONISH = st.one_of(_INTS, st.floats(allow_nan=False), st.text(max_size=8), st.none(), st.booleans(),
                     st.lists(_INTS, max_size=4), st.lists(st.lists(_INTS, max_size=2), max_size=2),
                     st.dictionaries(st.text(max_size=4), _INTS, max_size=2))
_ST_DTYPES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "C64", "f64", "", "F 64"]


@st.composite
def safetensors_files(draw) -> bytes:
    """A valid safetensors file with its header or bytes mutated."""
    data = draw(st.sampled_from(VALID["safetensors"]))
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8: 8 + n])
    body = data[8 + n:]
    how = draw(st.sampled_from(["entry", "entry", "length", "json", "metadata", "keys", "bytes", "body"]))
    if how == "bytes":
        return draw(byte_mutations(data))
    if how == "length":
        return draw(_INTS.filter(lambda v: 0 <= v < 2**64)).to_bytes(8, "little") + data[8:]
    if how == "body":
        body = draw(byte_mutations(body)) if body else draw(st.binary(max_size=16))
    elif how == "json":  # raw text edits of the JSON header
        raw = draw(byte_mutations(data[8: 8 + n]))
        return len(raw).to_bytes(8, "little") + raw + body
    elif how == "metadata":
        header["__metadata__"] = draw(st.dictionaries(st.text(max_size=12), _JSONISH | st.text(max_size=12),
                                                      max_size=4) | _JSONISH)
    elif how == "keys":
        names = [k for k in header if k != "__metadata__"]
        victim = draw(st.sampled_from(names))
        new = draw(st.sampled_from(["", "__metadata__", "weight_ih_l99", "weight_hh_l0_reverse", "bias", "x" * 300,
                                    "weight_ih_l0\x00", "layer.weight_ih_l0", "kernel", "recurrent_kernel"]))
        header[new] = header.pop(victim)
    else:
        names = [k for k in header if k != "__metadata__"]
        entry = header[draw(st.sampled_from(names))]
        field_ = draw(st.sampled_from(["dtype", "shape", "data_offsets", "extra", "drop"]))
        if field_ == "dtype":
            entry["dtype"] = draw(st.sampled_from(_ST_DTYPES) | _JSONISH)
        elif field_ == "shape":
            entry["shape"] = draw(st.lists(_INTS, max_size=40) | _JSONISH)
        elif field_ == "data_offsets":
            entry["data_offsets"] = draw(st.lists(_INTS, min_size=2, max_size=2) | _JSONISH)
        elif field_ == "extra":
            entry[draw(st.text(max_size=6))] = draw(_JSONISH)
        else:
            entry.pop(draw(st.sampled_from(sorted(entry))))
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + body


def _npy(shape: object, descr: object, fortran: object, payload: bytes, version: int = 1) -> bytes:
    text = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode("latin-1", "replace")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text + payload


@st.composite
def npz_files(draw) -> bytes:
    """A valid .npz mutated as bytes, or rebuilt with lying .npy headers / odd members / bomb-like sizes."""
    data = draw(st.sampled_from(VALID["npz"]))
    how = draw(st.sampled_from(["bytes", "bytes", "header", "member", "bomb"]))
    if how == "bytes":
        return draw(byte_mutations(data))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    out = io.BytesIO()
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        victim = draw(st.sampled_from(sorted(members)))
        for name, blob in members.items():
            if name == victim and how == "header":
                shape = draw(st.one_of(st.lists(_INTS, max_size=5).map(tuple), _JSONISH))
                descr = draw(st.sampled_from(["<f8", ">f8", "<f4", "|u1", "|O", "<c16", "|b1", "<M8[s]", "V8",
                                              "<U3", [("a", "<f8")], "x", 3]))
                payload = blob[draw(st.integers(0, len(blob))):]
                blob = _npy(shape, descr, draw(st.sampled_from([False, True, 0, "no"])), payload,
                            draw(st.sampled_from([1, 2])))
            elif name == victim and how == "member":
                name = draw(st.sampled_from(["weights.txt", "../evil.npy", "/abs.npy", "a/b.npy", "x", name]))
                blob = draw(st.sampled_from([blob, b"", pickle.dumps([1, 2]), blob[:20]]))
            zf.writestr(name, blob)
        if how == "bomb":  # a member that unpacks to a lot (still refused by its declared size)
            zf.writestr("weight_ih_l5.npy", _npy((draw(st.integers(1, 40_000_000)),), "<f8", False, b"\0" * 1024))
    return out.getvalue()


@st.composite
def pt_files(draw) -> bytes:
    """A valid .pt (zip or legacy) mutated as bytes, or its pickle rewritten inside the zip."""
    data = draw(st.sampled_from(VALID["pt"])) if VALID["pt"] else b"PK"
    if not data.startswith(b"PK") or draw(st.booleans()):
        return draw(byte_mutations(data))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, blob in members:
            if name.endswith("data.pkl"):
                blob = draw(st.one_of(
                    byte_mutations(blob),
                    st.sampled_from([pickle.dumps({"weight_ih_l0": 1.5}), pickle.dumps([1, 2, 3]), b"",
                                     b"cos\nsystem\n(S'true'\ntR.", pickle.dumps({"state_dict": {"a": None}})]),
                ))
            elif draw(st.integers(0, 5)) == 0:
                blob = draw(byte_mutations(blob)) if blob else blob
            zf.writestr(name, blob)
    return out.getvalue()


filenames = st.one_of(
    st.sampled_from([f"w{ext}" for ext in SUPPORTED_EXTENSIONS] + ["W.SAFETENSORS", "x.PT", "a.b.npz", ".pt",
                                                                   "noext", "w.txt", "w.pkl", "dir/w.pth", ""]),
    st.text(max_size=30),
)
kinds = st.one_of(st.none(), st.sampled_from([*KINDS, "GRU", "lstmcell", "", "transformer"]))

# ------------------------------------------------------------------------------------------------ checks


class Hang(BaseException):
    """Raised by the alarm when a case runs past --hang (a BaseException so no ``except Exception`` eats it)."""


@dataclass
class Tally:
    """Counts and timings of one fuzz target."""

    name: str
    cases: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # unexpected exceptions, wrong results, hangs
    slow: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _short(value: object, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def timed(tally: Tally, case: object, fn: Callable[[], str], *, slow: float, hang: float) -> None:
    """Run ``fn`` (which returns an outcome name or raises AssertionError) under the alarm, and tally it."""
    tally.cases += 1
    previous = signal.signal(signal.SIGALRM, _alarm) if hang else None
    if hang:
        signal.setitimer(signal.ITIMER_REAL, hang)
    t0 = time.perf_counter()
    try:
        outcome = fn()
    except Hang:
        outcome = "hang"
        tally.failures.append(f"hang (> {hang:g} s): {_short(case)}")
    except AssertionError as exc:
        outcome = "failed"
        tally.failures.append(f"{exc}: {_short(case)}")
    finally:
        if hang:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - t0
    tally.times.append(elapsed)
    tally.count(outcome)
    if elapsed > slow and outcome != "hang":
        tally.slow.append(f"{elapsed:.2f} s: {_short(case)}")


def _alarm(signum, frame):
    raise Hang


def check_sequence(text: str, mode: str, width: int | None) -> str:
    """``parse_sequence`` gives a well-formed Sequence or raises SequenceError, nothing else."""
    try:
        seq = parse_sequence(text, mode, width)
    except SequenceError as exc:
        assert str(exc), "SequenceError without a message"
        return "SequenceError"
    except Exception as exc:
        raise AssertionError(f"parse_sequence raised {type(exc).__name__}: {exc}") from None
    assert isinstance(seq, Sequence), f"returned {type(seq).__name__}"
    assert seq.values.ndim == 2 and seq.values.shape[0] == len(seq.labels) >= 1, "bad shape or labels"
    assert np.isfinite(seq.values).all(), "non-finite values"
    if width is not None:
        assert seq.values.shape[1] == width, f"width {seq.values.shape[1]} != {width}"
    return "sequence"


def check_query(query: dict) -> str:
    """``from_query`` never raises, returns a Config and notes; its URL form reads back the same, note-free."""
    try:
        cfg, notes = state.from_query(query)
    except Exception as exc:
        raise AssertionError(f"from_query raised {type(exc).__name__}: {exc}") from None
    assert isinstance(cfg, Config) and isinstance(notes, list) and all(isinstance(n, str) for n in notes)
    try:
        again, again_notes = state.from_query(state.to_query(cfg))
    except Exception as exc:
        raise AssertionError(f"from_query(to_query(cfg)) raised {type(exc).__name__}: {exc}") from None
    assert again == cfg, f"to_query/from_query round trip changed the config: {cfg} → {again}"
    assert not again_notes, f"the app's own link gives notes: {again_notes}"
    return "notes" if notes else "clean"


def check_scene(query: dict) -> str:
    """What a link reads builds a Scene or raises one of the page's friendly errors (small runs only)."""
    cfg, _ = state.from_query(query)
    if cfg.steps > 400 or len(cfg.seq) > 4000:
        cfg = Config(**{**cfg.__dict__, "steps": min(cfg.steps, 400), "seq": cfg.seq[:4000]})
    try:
        sc = state.build_scene(cfg)
    except PAGE_ERRORS as exc:
        return type(exc).__name__
    except Exception as exc:
        raise AssertionError(f"build_scene raised {type(exc).__name__}: {exc} for {cfg}") from None
    assert sc.trace.h_n is not None
    norm = state.normalise(cfg, sc)
    assert 0 <= norm.t < sc.steps and 0 <= norm.unit < sc.model.spec.hidden_size
    return "scene"


def check_weights(data: bytes, filename: str, kind: str | None) -> str:
    """``load_weights_bytes`` gives a Model or raises WeightsError, nothing else."""
    try:
        model = load_weights_bytes(data, filename, kind)
    except WeightsError as exc:
        assert str(exc), "WeightsError without a message"
        return "WeightsError"
    except Exception as exc:
        raise AssertionError(f"load_weights_bytes raised {type(exc).__name__}: {str(exc)[:200]}") from None
    assert all(np.isfinite(v).all() or not np.isfinite(v).all() for v in model.params.values())
    return "model"


# ------------------------------------------------------------------------------------------------ targets

TARGETS: dict[str, tuple[object, Callable]] = {
    "sequences": (st.tuples(typed_text, modes, widths), lambda c: check_sequence(*c)),
    "query": (queries(), check_query),
    "scene": (queries(), check_scene),
    "bytes": (st.tuples(st.binary(max_size=2048) | st.binary(max_size=64).map(lambda b: b"PK\x03\x04" + b)
                        | st.binary(max_size=64).map(lambda b: b"\x80\x02" + b), filenames, kinds),
              lambda c: check_weights(*c)),
    "safetensors": (st.tuples(safetensors_files(), st.just("w.safetensors"), kinds), lambda c: check_weights(*c)),
    "npz": (st.tuples(npz_files(), st.just("w.npz"), kinds), lambda c: check_weights(*c)),
    "pt": (st.tuples(pt_files(), st.sampled_from(["w.pt", "w.pth"]), kinds), lambda c: check_weights(*c)),
}


def run_target(name: str, examples: int, *, slow: float = 2.0, hang: float = 20.0, seed: int | None = 0) -> Tally:
    """Run ``examples`` hypothesis cases of one target and tally them (never raises on a failing case)."""
    strategy, check = TARGETS[name]
    tally = Tally(name)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is not None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(strategy)
    def prop(case):
        timed(tally, case, lambda: check(case), slow=slow, hang=hang)

    if seed is not None:
        prop = __import__("hypothesis").seed(seed)(prop)
    prop()
    return tally


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=3000, help="hypothesis cases per target")
    ap.add_argument("--only", default=",".join(TARGETS), help=f"comma-separated targets: {', '.join(TARGETS)}")
    ap.add_argument("--slow", type=float, default=2.0, help="flag a case that takes longer (s)")
    ap.add_argument("--hang", type=float, default=20.0, help="interrupt a case that takes longer (s)")
    ap.add_argument("--seed", type=int, default=0, help="-1 for a random run")
    args = ap.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        ap.error(f"unknown targets {unknown}; choose from {', '.join(TARGETS)}")
    print(f"fuzz: {args.examples} cases per target, slow > {args.slow:g} s, hang > {args.hang:g} s; "
          f"valid seed files: {', '.join(f'{k} {len(v)}' for k, v in VALID.items())}", flush=True)
    tallies = []
    t_all = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        tally = run_target(name, args.examples, slow=args.slow, hang=args.hang,
                           seed=None if args.seed < 0 else args.seed)
        tallies.append(tally)
        print(f"  {name}: {tally.cases} cases in {time.perf_counter() - t0:.1f} s, {len(tally.failures)} failures",
              flush=True)
    lines = ["", f"Command: `.venv/bin/python benchmarks/fuzz.py --examples {args.examples}`", "",
             f"| target | cases | outcomes | failures | slow (> {args.slow:g} s) | median | p99 | max |",
             "|---|---|---|---|---|---|---|---|"]
    for t in tallies:
        outs = ", ".join(f"{k} {v}" for k, v in sorted(t.outcomes.items(), key=lambda kv: -kv[1]))
        times = sorted(t.times) or [math.nan]
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        lines.append(f"| {t.name} | {t.cases} | {outs} | {len(t.failures)} | {len(t.slow)} | "
                     f"{statistics.median(times) * 1000:.2f} ms | {p99 * 1000:.1f} ms | {times[-1] * 1000:.0f} ms |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append("")
    lines.append(f"Total {sum(t.cases for t in tallies)} cases in {time.perf_counter() - t_all:.0f} s; "
                 f"peak RSS of this process {peak:.0f} MiB.")
    print("\n".join(lines))
    bad = False
    for t in tallies:
        for kind, items in (("FAILURES", t.failures), ("SLOW", t.slow)):
            if items:
                bad = True
                print(f"\n{kind} in {t.name} ({len(items)}, first 10):")
                for item in items[:10]:
                    print("  -", item)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
