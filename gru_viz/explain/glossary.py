"""Plain words for the notation a learner meets on the pages: each term, where it first appears, gets one line."""

from __future__ import annotations

# term as it is printed -> what it means, in words a learner who has not met it can read
GLOSSARY: dict[str, str] = {
    "⊙": "⊙ multiplies element by element (unit by unit)",
    "σ": "σ is the logistic function 1 / (1 + e^−x): it squashes any number into (0, 1), which makes a gate",
    "ρ": "ρ(W), the spectral radius, is the largest |eigenvalue| of W: below 1, multiplying a vector by W again and "
         "again shrinks it; above 1 it can grow",
    "diag(1 − h": "diag(1 − h′²) W_hh is the step's Jacobian ∂h′/∂h for tanh: W_hh, each row scaled by tanh's slope "
                  "1 − h′² at that unit",
}
# how each term is written in LaTeX (the equations are LaTeX)
LATEX: dict[str, str] = {"⊙": r"\odot", "σ": r"\sigma", "ρ": r"\rho"}


def terms_in(text: str) -> list[str]:
    """The glossary's terms that ``text`` (plain or LaTeX) uses, in the glossary's order."""
    return [t for t in GLOSSARY if t in text or (t in LATEX and LATEX[t] in text)]


def explain(text: str) -> str | None:
    """One caption that says what every term ``text`` uses means, or None when it uses none."""
    used = terms_in(text)
    return "; ".join(GLOSSARY[t] for t in used) + "." if used else None
