"""g2p-en 2.1.0's own model code, run without importing the ``g2p_en`` package.

``import g2p_en`` downloads NLTK's tagger and CMUdict at import time (and fails offline), though ``predict`` uses
neither. So the installed ``g2p_en/g2p.py`` is parsed and only its class ``G2p`` is executed, as written, with
NumPy, ``os`` and the package's directory in scope; the two NLTK things its ``__init__`` reads (``cmudict.dict()``
and the homograph dictionary) are empty stand-ins. Its vocabularies, ``load_variables`` (its own
``checkpoint20.npz``), ``grucell``, ``gru``, ``encode`` and ``predict`` are its code, unchanged.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np


def package_dir() -> Path:
    """Where pip installed g2p_en (found without running its __init__)."""
    spec = importlib.util.find_spec("g2p_en")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("g2p-en is not installed: pip install g2p-en==2.1.0 (requirements.txt, tests)")
    return Path(next(iter(spec.submodule_search_locations)))


def g2p_class() -> type:
    """g2p-en's class G2p, executed from its source with NLTK's dictionaries stubbed out."""
    source = (package_dir() / "g2p.py").read_text(encoding="utf-8")
    with warnings.catch_warnings():  # its source has a "\-" in a plain string (in __call__, not run here)
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "G2p")
    scope = {"np": np, "os": os, "dirname": str(package_dir()),
             "cmudict": SimpleNamespace(dict=dict), "construct_homograph_dictionary": dict}
    exec(compile(ast.Module([cls], []), str(package_dir() / "g2p.py"), "exec"), scope)
    return scope["G2p"]


def model(dtype: type = np.float32) -> object:
    """g2p-en's G2p on its own weights, in ``dtype`` (float32 as shipped; float64 upcasts every array)."""
    g = g2p_class()()
    for name in ("enc_emb", "enc_w_ih", "enc_w_hh", "enc_b_ih", "enc_b_hh", "dec_emb", "dec_w_ih", "dec_w_hh",
                 "dec_b_ih", "dec_b_hh", "fc_w", "fc_b"):
        setattr(g, name, getattr(g, name).astype(dtype))
    return g
