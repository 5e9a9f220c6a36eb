"""A recurrent model — a :class:`Spec` and torch-layout parameters — and its traced forward run."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .cells import Clamp, LayerParams
from .kinds import KIND
from .spec import Spec, SpecError, param_key, param_shapes
from .tokens import Embedding, Readout, TokenError
from .trace import Ablation, LayerTrace, Trace

MAX_STEPS = 100_000  # a sanity cap on T; what bounds a run is MAX_TRACE_BYTES (the pages cap far lower)
MAX_BATCH = 4096
# What one run's trace may keep (every gate and pre-activation of every step, float64): 1 GiB, so that a few runs
# at once fit beside a class's server on a 24 GiB machine. While it runs, temporaries add up to a third more (a GRU)
# or about as much again (minGRU's and minLSTM's log-space scan). The app refuses far less (app/limits.py).
MAX_TRACE_BYTES = 2**30
_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
SCAN_FROM_STEPS = 512  # minGRU, minLSTM: the log-space scan pays off from about this many steps


class ModelInputError(ValueError):
    """An input, initial state, ablation or parameter set that does not fit the model."""


def _gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB" if size >= 2**30 else f"{size / 2**20:,.0f} MiB"


def _as_float_array(value: object, what: str) -> np.ndarray:
    if np.iscomplexobj(value):
        raise ModelInputError(f"{what} must be real numbers, not complex")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"{what} must be numbers: {exc}") from None
    if not np.all(np.isfinite(arr)):
        raise ModelInputError(f"{what} contains NaN or infinity")
    return arr


def _read_only(arr: np.ndarray) -> bool:
    """Whether nothing can write to ``arr``'s memory: it and every array it views are read-only."""
    base: object = arr
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    return base is None or isinstance(base, bytes)


def frozen(arr: np.ndarray) -> np.ndarray:
    """``arr`` itself if nothing can write to it, else a read-only copy (what a Model keeps as a parameter)."""
    if _read_only(arr):
        return arr
    out = np.array(arr, dtype=np.float64, order="K", copy=True)
    out.flags.writeable = False
    return out


def trace_bytes(spec: Spec, steps: int, batch: int) -> int:
    """About how many bytes a run of ``steps`` steps over ``batch`` sequences keeps in its trace (float64).

    From the kind record: each layer and direction's gates, pre-activations and h (Kind.trace_floats), the input,
    and, for a bidirectional model, each layer's joined output (the next layer's input). Temporaries come on top
    while it runs: a GRU's input projection, (T, B, 3H); minGRU's and minLSTM's log-space passes, a few (T, B, H).
    """
    per_step = spec.input_size + spec.num_layers * spec.directions * KIND[spec.kind].trace_floats(spec)
    if spec.directions == 2:
        per_step += spec.num_layers * 2 * spec.out_size
    return 8 * steps * batch * per_step


class Model:
    """A recurrent model: ``spec`` plus ``params``, a dict keyed and shaped like torch's state_dict.

    The parameters never change after construction: the model keeps read-only arrays (the caller's own when they
    are read-only already, else copies), so that what is prepared from them once (Kind.prepare: transposed
    copies, σ's ½ folded in) stays true. ``live=True`` is for a caller that updates the arrays in place between
    runs (a Trainer's optimiser): they are kept as given, and the preparation is made again on every run.

    A real model usually reads token ids and answers with scores over a vocabulary: ``embedding`` (an
    :class:`Embedding`, ``x[t] = E[id_t]``) and ``readout`` (a :class:`Readout`, ``logits = W h + b`` from the top
    layer) sit around the recurrent stack when the file has them; :meth:`run_tokens` and :meth:`logits` use them.
    """

    def __init__(
        self,
        spec: Spec,
        params: dict[str, np.ndarray],
        *,
        live: bool = False,
        embedding: Embedding | None = None,
        readout: Readout | None = None,
    ) -> None:
        self.spec = spec
        self.live = live
        if embedding is not None and embedding.width != spec.input_size:
            raise SpecError(f"the embedding gives {embedding.width} values per token, the model reads "
                            f"{spec.input_size}")
        if readout is not None and readout.weight.shape[1] != spec.directions * spec.out_size:
            raise SpecError(f"the readout reads {readout.weight.shape[1]} values, the top layer gives "
                            f"{spec.directions * spec.out_size}")
        self.embedding = embedding
        self.readout = readout
        shapes = param_shapes(spec)
        missing = sorted(set(shapes) - set(params))
        extra = sorted(set(params) - set(shapes))
        if missing or extra:
            raise SpecError(
                "parameters do not match the model"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unexpected: {', '.join(extra)}" if extra else "")
            )
        self.params: dict[str, np.ndarray] = {}
        for key, shape in shapes.items():
            arr = _as_float_array(params[key], f"parameter {key}")
            if arr.shape != shape:
                raise SpecError(f"parameter {key} has shape {arr.shape}, the model needs {shape}")
            if not live and arr is not params[key] and arr.base is None:
                arr.flags.writeable = False  # converted here (float32 → float64, a list): nobody else holds it
            self.params[key] = arr if live else frozen(arr)
        # the arrays the model vouches for: a key that someone later points elsewhere is prepared run by run
        self._frozen = {} if live else dict(self.params)
        self._prepared: dict[tuple[int, int], tuple[tuple[object, ...], object]] = {}

    def __repr__(self) -> str:
        return f"Model({self.spec.describe()})"

    @property
    def vocabulary(self) -> tuple[str, ...] | None:
        """The tokens the model reads (the embedding's), or None when the file names none."""
        return None if self.embedding is None else self.embedding.vocabulary

    def with_tokens(self, embedding: Embedding | None, readout: Readout | None = None) -> Model:
        """The same recurrent stack (same arrays, same preparation) with another embedding and readout."""
        out = Model.__new__(Model)
        out.__dict__.update(self.__dict__)
        Model.__init__(out, self.spec, self.params, live=self.live, embedding=embedding, readout=readout)
        out._prepared = self._prepared
        return out

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state["_prepared"] = {}  # made again where the model lands: no need to ship a second copy of the weights
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        defaults = {"live": False, "_frozen": {}, "_prepared": {}, "embedding": None, "readout": None}
        self.__dict__.update({**defaults, **state})
        for arr in self._frozen.values():  # unpickled (or deep-copied) arrays come back writable; nobody else has them
            arr.flags.writeable = False

    def prepared(self, layer: int, direction: int = 0) -> object:
        """What the kind's forward reads besides the parameters of one layer and direction (Kind.prepare), made once.

        Kept while the spec and that layer's parameter arrays are the ones the model was built with (so never for
        a ``live`` model, nor for a key pointed at another array after construction).
        """
        s = self.spec
        keys = [param_key(name, layer, direction, s.cell) for name in _PARAM_NAMES]
        sources = (s, *(self.params.get(k) for k in keys))
        hit = self._prepared.get((layer, direction))
        if hit is not None and all(a is b for a, b in zip(hit[0], sources, strict=True)):
            return hit[1]
        prep = KIND[s.kind].prepare(self.layer_params(layer, direction), s.layer_spec(layer))
        if all(k not in self.params or self.params[k] is self._frozen.get(k) for k in keys):
            self._prepared[(layer, direction)] = (sources, prep)
        return prep

    def layer_params(self, layer: int, direction: int = 0) -> LayerParams:
        """The parameters of one layer and direction, with zero biases where the model has none."""
        s = self.spec

        def get(name: str) -> np.ndarray | None:
            return self.params.get(param_key(name, layer, direction, s.cell))

        w_ih = get("weight_ih")
        rows = w_ih.shape[0]
        zeros = np.zeros(rows)
        has_hh = KIND[s.kind].recurrent
        b_ih = get("bias_ih") if s.bias else zeros
        b_hh = (get("bias_hh") if s.bias else zeros) if has_hh else None
        return LayerParams(w_ih, get("weight_hh"), b_ih, b_hh, get("weight_hr"))

    # ------------------------------------------------------------------------------------------ shapes

    def _batched_input(self, x: object) -> tuple[np.ndarray, bool]:
        """(T, B, I) input in time-major order, and whether the caller's input had a batch axis."""
        s = self.spec
        x = _as_float_array(x, "the input")
        if x.ndim == 2:
            batched = False
            x = x[:, None, :]
        elif x.ndim == 3:
            batched = True
            if s.batch_first:
                x = x.transpose(1, 0, 2)
        else:
            raise ModelInputError(
                f"the input must be (T, I) or {'(B, T, I)' if s.batch_first else '(T, B, I)'}, got shape {x.shape}"
            )
        T, B, I = x.shape
        if I != s.input_size:
            raise ModelInputError(f"the model takes {s.input_size} values per step, the input has {I}")
        if not 1 <= T <= MAX_STEPS:
            raise ModelInputError(f"the input must have 1 to {MAX_STEPS} steps, it has {T}")
        if not 1 <= B <= MAX_BATCH:
            raise ModelInputError(f"the batch must have 1 to {MAX_BATCH} rows, it has {B}")
        self._check_trace_size(T, B)
        return np.ascontiguousarray(x), batched

    def _check_trace_size(self, T: int, B: int) -> None:
        """Refuse, before anything is allocated, a run whose trace would take more than MAX_TRACE_BYTES."""
        s = self.spec
        size = trace_bytes(s, T, B)
        if size <= MAX_TRACE_BYTES:
            return
        per_step = trace_bytes(s, 1, B)
        widths = " → ".join([str(s.input_size)] + [str(s.hidden_size)] * s.num_layers)
        layers = f"{s.num_layers} layer{'s' if s.num_layers > 1 else ''} ({widths})" + (
            ", both directions" if s.directions == 2 else "")
        if per_step <= MAX_TRACE_BYTES:
            fix = (f"use at most {MAX_TRACE_BYTES // per_step:,} steps at this batch (or a smaller batch), or run "
                   "the sequence in parts, passing each part's h_n on as the next part's h0")
        else:
            fix = f"use a batch of at most {max(1, MAX_TRACE_BYTES // trace_bytes(s, 1, 1)):,} sequences"
        raise ModelInputError(
            f"this run's trace would take about {_gib(size)}: T = {T:,} steps × B = {B:,} sequences through a "
            f"{KIND[s.kind].name} of H = {s.hidden_size}, {layers}, every gate of every step in float64. One run may "
            f"keep at most {_gib(MAX_TRACE_BYTES)} (MAX_TRACE_BYTES): {fix}."
        )

    def _initial(self, h0: object, size: int, B: int, batched: bool, what: str) -> np.ndarray:
        """(L·D, B, size) initial state from torch's (L·D, B, size), (L·D, size), or for a cell (B, size)/(size,)."""
        s = self.spec
        LD = s.num_layers * s.directions
        if h0 is None:
            return np.zeros((LD, B, size))
        arr = _as_float_array(h0, what)
        if s.cell:
            want = (B, size) if batched else (size,)
            if arr.shape != want:
                raise ModelInputError(f"{what} must have shape {want}, got {arr.shape}")
            return arr.reshape(1, B, size)
        want = (LD, B, size) if batched else (LD, size)
        if arr.shape != want:
            raise ModelInputError(f"{what} must have shape {want} (layers × directions, batch, size), got {arr.shape}")
        return arr.reshape(LD, B, size)

    def _clamps(self, ablations: Sequence[Ablation], layer: int, direction: int, T: int) -> dict[str, Clamp]:
        s = self.spec
        kind = KIND[s.kind]
        clamps: dict[str, Clamp] = {}
        for ab in ablations:
            if ab.gate not in kind.clampable:
                allowed = ", ".join(kind.clampable) or "none"
                raise ModelInputError(f"a {kind.name} has no gate {ab.gate!r} to clamp (it has: {allowed})")
            if ab.layer is not None and not (isinstance(ab.layer, int) and 0 <= ab.layer < s.num_layers):
                raise ModelInputError(f"the clamp of {ab.gate} names layer {ab.layer!r}; the model has layers "
                                      f"0..{s.num_layers - 1}")
            if ab.direction is not None and not (isinstance(ab.direction, int) and 0 <= ab.direction < s.directions):
                raise ModelInputError(f"the clamp of {ab.gate} names direction {ab.direction!r}; the model has "
                                      f"{s.directions} direction(s)")
            for bound in (ab.start, ab.stop):
                if bound is not None and (not isinstance(bound, int | np.integer) or isinstance(bound, bool)):
                    raise ModelInputError(f"the clamp of {ab.gate} has a step bound {bound!r}: steps are whole numbers")
            if not ab.applies(layer, direction):
                continue
            value = _as_float_array(ab.value, f"the clamp value of {ab.gate}")
            if value.ndim == 0:
                value = np.full(s.hidden_size, float(value))
            if value.shape != (s.hidden_size,):
                raise ModelInputError(f"a clamp of {ab.gate} needs one value or {s.hidden_size}, got {value.shape}")
            if np.any(value < 0) or np.any(value > 1):
                raise ModelInputError(f"a gate lies between 0 and 1; the clamp of {ab.gate} does not")
            stop = T if ab.stop is None else ab.stop
            if not 0 <= ab.start <= stop <= T:
                raise ModelInputError(f"the clamp of {ab.gate} covers steps {ab.start}..{stop}, the run has 0..{T}")
            c = clamps.setdefault(ab.gate, Clamp(np.zeros(T, bool), np.zeros((T, s.hidden_size))))
            c.mask[ab.start : stop] = True
            c.value[ab.start : stop] = value
        problem = kind.check_clamps(clamps)
        if problem:
            raise ModelInputError(problem)
        return clamps

    # ------------------------------------------------------------------------------------------- run

    def run(
        self,
        x: object,
        h0: object = None,
        ablations: Sequence[Ablation] = (),
        scan: bool | None = None,
    ) -> Trace:
        """Run the model over ``x`` (shaped as the torch module takes it) and return the full :class:`Trace`.

        ``h0`` is shaped as torch takes it (a tuple ``(h0, c0)`` for an LSTM). ``scan`` picks minGRU's
        parallel log-space scan (True) or its sequential loop (False); the two agree. By default the scan runs
        for long sequences (T ≥ SCAN_FROM_STEPS), where the loop's per-step cost dominates, and the loop for
        short ones, where the scan's extra log/exp passes cost more than they save.
        """
        s = self.spec
        x_tbi, batched = self._batched_input(x)
        if scan is None:
            scan = x_tbi.shape[0] >= SCAN_FROM_STEPS
        _T, B, _ = x_tbi.shape
        c0_all = None
        if "c" in KIND[s.kind].state:
            if h0 is None:
                h0, c0 = None, None
            elif isinstance(h0, tuple | list) and len(h0) == 2:
                h0, c0 = h0
            else:
                raise ModelInputError("an LSTM's initial state is a pair (h0, c0)")
            c0_all = self._initial(c0, s.hidden_size, B, batched, "c0")
        h0_all = self._initial(h0, s.out_size, B, batched, "h0")
        layers: list[list[LayerTrace]] = []
        inp = x_tbi
        for layer in range(s.num_layers):
            row = []
            for d in range(s.directions):
                idx = layer * s.directions + d
                c0 = None if c0_all is None else c0_all[idx]
                lt = self._run_layer(inp, h0_all[idx], c0, layer, d, ablations, scan)
                row.append(lt)
            layers.append(row)
            inp = np.concatenate([lt.h for lt in row], axis=-1) if s.directions == 2 else row[0].h
        return self._assemble(layers, inp, batched, tuple(ablations))

    def run_tokens(
        self,
        ids: object,
        h0: object = None,
        ablations: Sequence[Ablation] = (),
        scan: bool | None = None,
    ) -> Trace:
        """Embed token ``ids`` (shape (T,), or (B, T)/(T, B) as the model's batch_first says) and :meth:`run`."""
        if self.embedding is None:
            raise ModelInputError("this model has no embedding: give it vectors with run(x)")
        try:
            x = self.embedding.lookup(ids)
        except TokenError as exc:
            raise ModelInputError(str(exc)) from None
        if x.ndim not in (2, 3):
            raise ModelInputError(f"token ids must be (T,) or a batch of sequences, got shape {np.shape(ids)}")
        return self.run(x, h0, ablations, scan)

    def logits(self, trace: Trace) -> np.ndarray:
        """The readout's scores for every step of ``trace`` (shaped as ``trace.output``, last axis V)."""
        if self.readout is None:
            raise ModelInputError("this model has no readout layer")
        return self.readout.logits(trace.output)

    def _run_layer(
        self,
        x: np.ndarray,
        h0: np.ndarray,
        c0: np.ndarray | None,
        layer: int,
        d: int,
        ablations: Sequence[Ablation],
        scan: bool = True,
    ) -> LayerTrace:
        s = self.spec
        p = self.layer_params(layer, d)
        clamps = self._clamps(ablations, layer, d, x.shape[0])
        h, gates, pre = KIND[s.kind].forward(x, h0, c0, p, s.layer_spec(layer), d, clamps, scan,
                                             self.prepared(layer, d))
        clamped = {g: np.broadcast_to(c.mask[:, None, None], (*h.shape[:2], s.hidden_size)) for g, c in clamps.items()}
        return LayerTrace(layer, d, x, h0, h, gates, pre, c0, clamped)

    def _assemble(self, layers: list[list[LayerTrace]], top: np.ndarray, batched: bool, ablations: tuple) -> Trace:
        """Shape the results as torch returns them."""
        s = self.spec
        last = [lt.h[-1] if lt.direction == 0 else lt.h[0] for row in layers for lt in row]  # final state of travel
        h_n = np.stack(last)  # (L·D, B, H_out)
        c_n = None
        if "c" in KIND[s.kind].state:
            c = [lt.gates["c"][-1] if lt.direction == 0 else lt.gates["c"][0] for row in layers for lt in row]
            c_n = np.stack(c)
        output = top
        if s.cell:
            h_n, c_n = h_n[0], None if c_n is None else c_n[0]
            if not batched:
                output, h_n = output[:, 0], h_n[0]
                c_n = None if c_n is None else c_n[0]
        elif not batched:
            output, h_n = output[:, 0], h_n[:, 0]
            c_n = None if c_n is None else c_n[:, 0]
        elif s.batch_first:
            output = output.transpose(1, 0, 2)
        return Trace(s, layers, output, h_n, c_n, batched, ablations)
