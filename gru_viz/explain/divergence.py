"""Words for two runs that should agree — ours and torch's, a GRU and its z-flipped partner — computed from how
they part (:class:`gru_viz.core.divergence.Parting`), and for gradients that explode past float64's range."""

from __future__ import annotations

import math

from ..core.divergence import Parting

HEAD_STEPS = 10  # "over the first steps": where round-off is still round-off
FLOAT_MAX = "1.8e308"


def sci(value: float) -> str:
    """A difference in e-notation with two significant digits ("2.8e-17"); "0" for exact agreement."""
    return "0" if value == 0 else f"{value:.1e}"


def head(p: Parting) -> tuple[int, float]:
    """(n, largest gap over the first n steps) with n ≤ HEAD_STEPS, all before the runs part."""
    n = min(HEAD_STEPS, p.steps if p.parts_at is None else p.parts_at)
    return n, float(p.gap[:n].max(initial=0.0))


def growth_words(p: Parting) -> str:
    """How fast the gap grows, in words: "about tenfold every 8 steps (×1.32 per step)"."""
    if p.tenfold_steps is None:
        return "quickly"
    every = p.tenfold_steps
    every_text = f"{every:.0f}" if every >= 10 else f"{every:.1f}"
    return f"about tenfold every {every_text} steps (×{math.exp(p.growth):.4g} per step)"


def exponent_words(p: Parting) -> str:
    """Whether the run is chaotic, from its largest Lyapunov exponent λ alone: "chaotic" exactly when λ > 0, with λ
    and how fast a difference grows (or shrinks) at that rate; "" when λ was not measured."""
    rate = p.exponent
    if rate is None or math.isnan(rate):
        return ""
    if rate == -math.inf:
        return ("The run is **not chaotic**: a step of it wipes out any difference in its state (largest Lyapunov "
                "exponent λ = −∞).")
    measured = (f"its largest Lyapunov exponent, measured along it from its step Jacobians, is **λ = {rate:.2g}** "
                "per step")
    if rate == 0:
        return (f"The run is **not chaotic**: {measured}, so on average a difference in its state neither grows nor "
                "shrinks.")
    every = math.log(10.0) / abs(rate)
    every_text = f"{every:,.0f}" if every >= 10 else f"{every:.1f}"
    if rate > 0:
        return (f"The run is **chaotic**: {measured}, so on average any difference in its state, round-off "
                f"included, grows tenfold every {every_text} steps.")
    return (f"The run is **not chaotic**: {measured}, so on average a difference in its state shrinks tenfold every "
            f"{every_text} steps.")


def parting_words(p: Parting, a: str, b: str) -> str:
    """What the gap between run ``a`` and run ``b`` is, in words that follow the numbers: round-off throughout;
    round-off amplified (where it starts, where it passes round-off, how fast it grows); or a difference from the
    first steps (not round-off). Whether the run is chaotic follows its Lyapunov exponent (:func:`exponent_words`),
    never the size the gap reached: that depends on the machine's round-off."""
    tol = f"{p.tolerance:.0e}"
    chaos = exponent_words(p)
    if p.parts_at is None:
        text = f"max |{a} − {b}| over the whole run = **{sci(p.largest)}**: float64 round-off (≤ {tol})."
        return f"{text} {chaos}" if chaos else text
    if p.from_start:
        return (f"|{a} − {b}| = **{sci(float(p.gap[0]))}** at the first step already: more than float64 "
                f"round-off (≤ {tol}), so the two compute different things.")
    n, first = head(p)
    steps = "step" if n == 1 else f"{n} steps"
    grows = f"grows, {growth_words(p)}" if p.tenfold_steps is not None else "grows quickly"
    text = (f"max |{a} − {b}| over the first {steps} = **{sci(first)}**: float64 round-off. Then the gap {grows}: it "
            f"passes {tol} at t = {p.parts_at} and reaches **{sci(p.largest)}** over the whole run.")
    if chaos:
        text += f" {chaos}"
    if p.chaotic:
        text += " Any two float64 computations of it part this way, whatever the order of their sums."
    return text


def norm_words(value: float, log10: float, overflow_step: int | None, steps: int) -> str:
    """A gradient norm for the text, after its name: "= 3.4e+33", or, past float64's range, "≈ 10^561: it exploded
    past float64's largest number (1.8e308) at t = 2226, 2773 steps back from T"."""
    if math.isfinite(value):
        return f"= **{value:.1e}**"
    where = ""
    if overflow_step is not None:
        where = f" at t = {overflow_step}, {steps - 1 - overflow_step} steps back from T"
    size = f"≈ **10^{log10:.0f}**" if math.isfinite(log10) else "**past float64's range**"
    return f"{size}: it exploded past float64's largest number ({FLOAT_MAX}){where}"


def _limits() -> str:
    from ..core.parity import FORWARD_TOL, GRADIENT_TOL

    return (f"≤ {FORWARD_TOL:g} forward, ≤ {GRADIENT_TOL:g} for gradients, times the values' size where it "
            "exceeds 1")


def _worst(report) -> tuple[str, float, float] | None:
    """(label, |Δ|, limit) of a report's worst failure relative to its limit."""
    bad = report.failures()
    if not bad:
        return None
    row = max(bad, key=lambda r: r.diff / r.limit if r.diff == r.diff else math.inf)
    return row.label, row.diff, row.limit


def _fmt(diff: float) -> str:
    return "not finite" if diff != diff else sci(diff)


def judgement_words(j) -> tuple[str, str]:
    """("match" | "amplified" | "differs", the verdict in words) for a :class:`gru_viz.core.parity.Judgement`: every
    number in it is read from the judgement."""
    full = j.full
    limits = _limits()
    if full.passed:
        return "match", (f"**Matches PyTorch in float64**: {len(full.rows)} quantities, largest difference "
                         f"{sci(full.worst())} (tolerance {limits}).")
    T = j.parting.steps if j.parting is not None else None
    if j.amplified:
        numbers = sum(r.size for r in j.steps.rows)
        text = (f"**Matches PyTorch in float64, step by step.** From our state before each step, torch computes "
                f"every gate and state of all {T} steps ({numbers:,} numbers) within {sci(j.steps.worst())} of "
                f"ours; over the first {j.window_size} steps, every quantity matches, gradients included (largest "
                f"difference {sci(j.window.worst())}; tolerance {limits}).")
        if j.parting.amplified:
            text += " The whole runs part: " + parting_words(j.parting, "ours", "torch")
            tp = j.torch_parting
            if tp is not None and tp.amplified:
                text += (f" Torch against itself — its module and its own step-by-step code — parts too, at "
                         f"t = {tp.parts_at}.")
        over = j.overflowed
        if over:
            sides = {r.nonfinite for r in over}
            where = "on both sides" if sides == {"both"} else "on " + " or ".join(
                {"both": "both sides", "ours": "our side", "torch": "torch's side"}[x] for x in sorted(sides))
            names = ", ".join(r.label for r in over[:3]) + (", …" if len(over) > 3 else "")
            text += (f" On the whole run, {len(over)} {'quantity is' if len(over) == 1 else 'quantities are'} not "
                     f"finite {where} ({names}): they exploded past float64's largest number ({FLOAT_MAX}), so "
                     f"they are compared over the first {j.window_size} steps instead.")
        return "amplified", text
    bad = full.failures()
    worst = _worst(full)
    detail = f"; worst: {worst[0]}, |Δ| = {_fmt(worst[1])} > {worst[2]:.0e}" if worst else ""
    missing = f"; missing on one side: {', '.join(full.missing[:5])}" if full.missing else ""
    text = (f"**Differs from PyTorch**: {len(bad)} of {len(full.rows)} quantities exceed the tolerance ({limits})"
            f"{detail}{missing}.")
    if j.steps is not None and not j.steps.passed:
        w = _worst(j.steps)
        if w:
            text += (f" From the same state before each step, torch's step still differs from ours (worst: {w[0]}, "
                     f"|Δ| = {_fmt(w[1])} > {w[2]:.0e}): the equations differ — this is not amplified round-off.")
    elif j.parting is not None and j.parting.from_start:
        text += (f" The runs differ from the first step on (|Δ| = {sci(float(j.parting.gap[0]))}): not amplified "
                 "round-off.")
    elif j.window is not None and not j.window.passed:
        w = _worst(j.window)
        if w:
            text += (f" Even over the first {j.window_size} steps, before the runs part, {len(j.window.failures())} "
                     f"quantities differ (worst: {w[0]}, |Δ| = {_fmt(w[1])} > {w[2]:.0e}).")
    return "differs", text
