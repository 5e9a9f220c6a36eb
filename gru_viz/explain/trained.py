"""A trained model's task in words: each step labelled with the task's own symbols, the target and the model's
answer, and one sentence, computed from the run, about what the model learned to do with its gates.

The sentence about the gates comes from a counterfactual: the input changed where the task says it matters
(“not” removed, another first symbol, other marked values, the jump smoothed away); the unit whose final state
moves most is the one that carries it, and the sentence says what that unit's gates did at that step. NumPy and
the core only; every sentence is a claim of :mod:`gru_viz.explain.claims`, checked against the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.kinds import per_kind
from ..core.model import Model
from ..core.tasks import POLARITY, RECALL_SYMBOLS, VOCAB, Task
from ..core.trace import Trace
from ..core.train import Readout, log_softmax, predict
from . import claims
from .claims import Context, pct_text

CLAIMS = claims.Book()  # this module's claims, collected with the others in gru_viz.explain.registry
claim, say = CLAIMS.claim, CLAIMS.say

PAD, BLANK = "·", "·"


# ------------------------------------------------------------------------------------------------ labels


def _one_hot(x: np.ndarray) -> bool:
    return bool(np.all((x == 0) | (x == 1)) and np.all(x.sum(axis=1) == 1))


def fits(task: Task, x: np.ndarray) -> bool:
    """Whether an input is one the task makes (so its symbols can label it)."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != task.input_size:
        return False
    if task.key in ("sentiment", "recall"):
        return _one_hot(x)
    if task.key == "adding":
        return bool(np.all((x[:, 1] == 0) | (x[:, 1] == 1)))
    return True


def step_labels(task: Task, x: np.ndarray) -> tuple[str, ...] | None:
    """One label per step in the task's symbols: words, symbols, values with the marked ones marked (● ); None
    when the input is not one of the task's."""
    if not fits(task, x):
        return None
    if task.key == "sentiment":
        return tuple(PAD if VOCAB[i] == "<pad>" else VOCAB[i] for i in x.argmax(axis=1))
    if task.key == "recall":
        return tuple(RECALL_SYMBOLS[i] if i < len(RECALL_SYMBOLS) else BLANK for i in x.argmax(axis=1))
    if task.key == "adding":
        return tuple(claims.num2_text(v) + (" ●" if m else "") for v, m in x)
    return tuple(claims.num2_text(v) for v in x[:, 0])


def alphabet(task: Task) -> tuple[str, ...] | None:
    """The symbols of a one-hot task, in the order of its input channels (None for a task of values)."""
    if task.key == "sentiment":
        return VOCAB
    if task.key == "recall":
        return task.channel_names
    return None


def task_line(task: Task) -> str:
    """The task in one line."""
    return f"{task.name}: {task.description}"


# ------------------------------------------------------------------------------------------------ answers


def words_of(x: np.ndarray) -> tuple[str, ...]:
    """A one-hot sentence's words, padding dropped."""
    return tuple(VOCAB[i] for i in np.asarray(x).argmax(axis=1) if VOCAB[i] != "<pad>")


def target_of(task: Task, x: np.ndarray) -> str | None:
    """The right answer for an input, where the input alone decides it (None for anomaly, or a misfit)."""
    if not fits(task, x):
        return None
    if task.key == "sentiment":
        words = words_of(x)
        adjectives = [w for w in words if w in POLARITY]
        if len(adjectives) != 1:
            return None
        return task.class_names[POLARITY[adjectives[0]] ^ ("not" in words)]
    if task.key == "recall":
        first = int(x[0].argmax())
        return RECALL_SYMBOLS[first] if first < len(RECALL_SYMBOLS) else None
    if task.key == "adding":
        marked = np.flatnonzero(x[:, 1] == 1)
        return f"{x[marked, 0].sum():.3f}" if len(marked) == 2 else None
    return None


@dataclass(frozen=True)
class Answer:
    """What the model answers on an input, and how it fares against the target."""

    says: str  # "positive (97%)", "1.231"
    target: str | None
    verdict: str | None  # "right (loss 0.03)", "wrong (loss 2.1)", "off by 0.009 (squared error 0.0001)"


def read_out(trace: Trace, readout: Readout, kind: str) -> np.ndarray:
    """The readout of a run already made (the run on screen, clamps and all), for its one sequence."""
    out = trace.output if trace.batched else trace.output[:, None]
    values = readout(out)
    if kind == "classification":
        values = np.exp(log_softmax(values))
    return values[0] if readout.where == "last" else values[:, 0]


def answer(model: Model, readout: Readout, task: Task, x: np.ndarray, trace: Trace | None = None) -> Answer:
    """The model's answer on ``x`` (one sequence), in the task's words, with its loss or correctness; read from
    ``trace`` when given (the run the page shows, with its clamps), else from a fresh free run."""
    if trace is None:
        output = predict(model, readout, x, task.kind).output
    else:
        output = read_out(trace, readout, task.kind)
    target = target_of(task, x)
    if task.kind == "classification" and readout.where == "last":
        c = int(np.argmax(output))
        p_c = float(output[c])
        says = f"{task.class_names[c]} ({pct_text(p_c) if 0.005 < p_c < 0.995 else _sure(p_c)})"
        verdict = None
        if target is not None:
            p = float(output[task.class_names.index(target)])
            loss = -np.log(max(p, 1e-300))
            verdict = f"{'right' if task.class_names[c] == target else 'wrong'} (loss {claims.sci_text(loss)})"
        return Answer(says, target, verdict)
    if readout.where == "last":
        value = float(output[0])
        verdict = None
        if target is not None:
            err = abs(value - float(target))
            verdict = f"off by {claims.state_text(err)} (squared error {claims.sci_text(err * err)})"
        return Answer(claims.state_text(value), target, verdict)
    return Answer(f"{len(x)} values, one per step", None, None)


def _sure(p: float) -> str:
    return "over 99%" if p >= 0.995 else "under 1%"


# ----------------------------------------------------------------------------------------- what it learned


@dataclass(frozen=True)
class Counterfactual:
    """The input changed where the task says it matters, and how to say so."""

    x: np.ndarray
    steps: tuple[int, ...]  # where the original has what the change takes away
    event: str  # "“not”", "the first symbol “A”"
    instead: str  # "without “not”", "had it been “B”"


def counterfactual(task: Task, x: np.ndarray) -> Counterfactual | None:
    """The telling change of an input for its task (None when there is none to make)."""
    x = np.asarray(x, dtype=float)
    if not fits(task, x):
        return None
    if task.key == "sentiment":
        ids = list(x.argmax(axis=1))
        not_id = VOCAB.index("not")
        if not_id not in ids:
            return None
        at = ids.index(not_id)
        changed = [0, *ids[:at], *ids[at + 1 :]]  # drop "not", pad on the left: the sentence still ends at T − 1
        return Counterfactual(np.eye(len(VOCAB))[changed], (at,), "“not”", "without “not”")
    if task.key == "recall":
        first = int(x[0].argmax())
        if first >= len(RECALL_SYMBOLS):
            return None
        other = (first + 1) % len(RECALL_SYMBOLS)
        changed = x.copy()
        changed[0] = np.eye(task.input_size)[other]
        return Counterfactual(changed, (0,), f"the first symbol “{RECALL_SYMBOLS[first]}”",
                              f"had it been “{RECALL_SYMBOLS[other]}”")
    if task.key == "adding":
        marked = tuple(int(t) for t in np.flatnonzero(x[:, 1] == 1))
        if not marked:
            return None
        changed = x.copy()
        changed[list(marked), 0] = 1.0 - changed[list(marked), 0]
        where = " and ".join(f"t = {t}" for t in marked)
        return Counterfactual(changed, marked, f"the marked values ({where})", "with each marked value v as 1 − v")
    if task.key == "anomaly" and len(x) >= 3:
        jumps = np.abs(np.diff(x[:, 0]))
        at = int(np.argmax(jumps)) + 1
        changed = x.copy()
        neighbours = [x[at - 1, 0]] + ([x[at + 1, 0]] if at + 1 < len(x) else [])
        changed[at, 0] = float(np.mean(neighbours))
        return Counterfactual(changed, (at,), f"the biggest jump (t = {at})", "with the jump smoothed away")
    return None


def clamps_text(trace: Trace) -> str:
    """The run's clamps as the page lists them ("z = 1, r = 0"; "" when it has none)."""
    return ", ".join(f"{a.gate} = {a.value:g}" if isinstance(a.value, (int, float)) else f"{a.gate} per unit"
                     for a in trace.ablations)


def carrier(model: Model, trace: Trace, cf: Counterfactual) -> tuple[int, float, float]:
    """The unit whose final state moves most under the counterfactual: (unit, h_T here, h_T there). The other
    input is run as this one was: from the same initial state, with the same clamps."""
    first = trace.layer(0)
    h0 = first.h0[:1] if first.c0 is None else (first.h0[:1], first.c0[:1])  # one layer, one direction
    other = model.run(cf.x, h0, ablations=trace.ablations).layer(-1)
    h, h_other = trace.layer(-1).h[-1, 0], other.h[-1, 0]
    unit = int(np.argmax(np.abs(h - h_other)))
    return unit, float(h[unit]), float(h_other[unit])


def learned(model: Model, task: Task, trace: Trace) -> claims.Sentence | None:
    """One sentence about what the model learned to do with its gates on this input (None if nothing telling)."""
    lt = trace.layer(-1)
    x = trace.layer(0).x[:, 0]
    cf = counterfactual(task, x)
    if cf is None or trace.spec.num_layers != 1 or trace.spec.directions != 1:
        return None
    unit, here, there = carrier(model, trace, cf)
    if claims.state_text(here) == claims.state_text(there):
        return None  # no unit carries the change on this run (a clamp can hold every state still): nothing to say
    at = cf.steps[0]
    common = {"event": cf.event, "unit": unit, "here": here, "instead": cf.instead, "there": there, "t": at}
    return _LEARNED[trace.spec.kind](lt, at, unit, common)


def _clamped_at(lt, gate: str, steps: slice | int, unit: int) -> bool:
    """Whether ``gate`` is clamped at any of ``steps`` for ``unit`` in this run."""
    mask = lt.clamped.get(gate)
    return bool(mask is not None and np.any(mask[steps, 0, unit]))


def _learned_z(lt, at: int, unit: int, common: dict) -> claims.Sentence:
    k = claims.keep_share(lt, at, unit)
    key = "trained.learned.gated" + (".clamped" if _clamped_at(lt, "z", at, unit) else "")
    return say(key, z=float(lt.gates["z"][at, 0, unit]), write=1.0 - k, **common)


def _learned_lstm(lt, at: int, unit: int, common: dict) -> claims.Sentence | None:
    f_after = lt.gates["f"][at + 1 :, 0, unit]
    if f_after.size == 0 or _clamped_at(lt, "i", at, unit) or _clamped_at(lt, "f", slice(at + 1, None), unit):
        return None  # a clamped gate learned nothing: the sentence would credit the model with the clamp
    return say("trained.learned.lstm", i=float(lt.gates["i"][at, 0, unit]), f_min=float(f_after.min()), **common)


def _learned_minlstm(lt, at: int, unit: int, common: dict) -> claims.Sentence | None:
    if _clamped_at(lt, "i", at, unit) or _clamped_at(lt, "f", at, unit):
        return None  # a clamped gate learned nothing: the sentence would credit the model with the clamp
    return say("trained.learned.minlstm", i=float(lt.gates["i"][at, 0, unit]), f=float(lt.gates["f"][at, 0, unit]),
               write=float(claims.quantity(lt, "iprime")[at, 0, unit]), **common)


# What each kind's carrying unit did with its gates at the step that mattered (None: nothing to say).
_LEARNED = per_kind("explain.learned", {"gru": _learned_z, "mingru": _learned_z, "lstm": _learned_lstm,
                                        "rnn": lambda lt, at, unit, common: None, "minlstm": _learned_minlstm})


# ---------------------------------------------------------------------------------------------- claims


def _trained(ctx: Context) -> tuple[Readout, Task]:
    got = ctx.values.get("trained")
    if got is None:
        raise LookupError("the trained model's readout and task")
    return got


@claim("trained.task", "Task: {line:text}.", step_numbers=False)
def _task(ctx: Context, s: dict[str, str]) -> list[str]:
    _, task = _trained(ctx)
    return claims._want(s["line"] == task_line(task).rstrip("."), f"the task is {task.name}")


def _which_run(ctx: Context, s: dict[str, str]) -> list[str]:
    """A sentence on a clamped run names the clamps; one on a free run names none."""
    said, has = s.get("clamps", ""), clamps_text(ctx.trace)
    return claims._want(said == has, f"the run's clamps are {has or 'none'}, the sentence says {said or 'none'}")


def _answer(ctx: Context, s: dict[str, str]) -> list[str]:
    readout, task = _trained(ctx)
    got = answer(ctx.model, readout, task, ctx.trace.layer(0).x[:, 0], ctx.trace)
    return _which_run(ctx, s) + claims._want(
        (s["target"], s["says"], s["verdict"]) == (got.target, got.says, got.verdict), f"the model's answer is {got}")


def _says(ctx: Context, s: dict[str, str]) -> list[str]:
    readout, task = _trained(ctx)
    got = answer(ctx.model, readout, task, ctx.trace.layer(0).x[:, 0], ctx.trace)
    return _which_run(ctx, s) + claims._want(s["says"] == got.says and got.target is None,
                                             f"the model says {got.says}")


# The answer is the run's on screen: with clamps on, the sentence says so and names them.
claim("trained.answer", "The answer is {target:text}; the model says {says:text}: {verdict:text}.",
      step_numbers=False)(_answer)
claim("trained.answer.clamped", "With the clamps on ({clamps:text}), the answer is {target:text}; the model says "
      "{says:text}: {verdict:text}.", step_numbers=False)(_answer)
claim("trained.says", "The model says {says:text}.", step_numbers=False)(_says)
claim("trained.says.clamped", "With the clamps on ({clamps:text}), the model says {says:text}.",
      step_numbers=False)(_says)


def _learned(ctx: Context, s: dict[str, str]) -> list[str]:
    _, task = _trained(ctx)
    x = ctx.trace.layer(0).x[:, 0]
    cf = counterfactual(task, x)
    if cf is None:
        return ["no telling change for this input"]
    unit, here, there = carrier(ctx.model, ctx.trace, cf)
    at = cf.steps[0]
    lt = ctx.trace.layer(-1)
    out = claims._want((s["event"], s["instead"], int(s["unit"]), int(s["t"])) == (cf.event, cf.instead, unit, at),
                       f"unit {unit} carries {cf.event} at t = {at}")
    out += claims._want(s["here"] == claims.state_text(here) and s["there"] == claims.state_text(there)
                        and s["here"] != s["there"], "the final states differ")
    if "z" in s:
        k = claims.keep_share(lt, at, unit)
        out += claims._want(s.get("said_clamped") == str(_clamped_at(lt, "z", at, unit)),
                            "z is clamped there" if _clamped_at(lt, "z", at, unit) else "z is free there")
        out += claims._want(s["z"] == claims.gate_text(lt.gates["z"][at, 0, unit]) and s["write"] == pct_text(1 - k),
                            "z or its write share differ")
    elif "write" in s:  # minLSTM: i against f, and the share i′ = i / (f + i) they write
        claims.normalised_share(lt)  # the run's h is f′ ⊙ h_prev + i′ ⊙ n (a ValueError where it is not)
        out += claims._want(s["i"] == claims.gate_text(lt.gates["i"][at, 0, unit])
                            and s["f"] == claims.gate_text(lt.gates["f"][at, 0, unit])
                            and s["write"] == pct_text(lt.gates["i'"][at, 0, unit]), "i, f or the share written differ")
    else:
        out += claims._want(s["i"] == claims.gate_text(lt.gates["i"][at, 0, unit])
                            and s["f_min"] == claims.gate_text(lt.gates["f"][at + 1 :, 0, unit].min()),
                            "i or f differ")
    return out


claim("trained.learned.gated", "Unit {unit:int} carries {event:text}: it ends at h = {here:state}, against "
      "{there:state} {instead:text}. At t = {t:int} its update gate z = {z:gate} takes in {write:pct} of a new "
      "candidate.", step_numbers=False)(lambda ctx, s: _learned(ctx, {**s, "said_clamped": "False"}))
claim("trained.learned.gated.clamped", "Unit {unit:int} carries {event:text}: it ends at h = {here:state}, against "
      "{there:state} {instead:text}. At t = {t:int} its update gate, clamped to z = {z:gate}, "
      "takes in {write:pct} of a new candidate.", step_numbers=False)(
    lambda ctx, s: _learned(ctx, {**s, "said_clamped": "True"}))
claim("trained.learned.lstm", "Unit {unit:int} carries {event:text}: it ends at h = {here:state}, against "
      "{there:state} {instead:text}. At t = {t:int} its input gate i = {i:gate} writes it into the cell, and from "
      "then on its forget gate stays at f ≥ {f_min:gate}.", step_numbers=False)(_learned)
claim("trained.learned.minlstm", "Unit {unit:int} carries {event:text}: it ends at h = {here:state}, against "
      "{there:state} {instead:text}. At t = {t:int} its input gate i = {i:gate}, against its forget gate "
      "f = {f:gate}, writes {write:pct} of a new candidate.", step_numbers=False)(_learned)
