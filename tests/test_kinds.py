"""The kind registry: one record per cell kind, and every per-kind table in every layer covers every kind.

A new kind is added by adding its record to ``gru_viz/core/kinds.py`` and a row to each ``per_kind`` table;
these tests make sure that is all it takes, and that nothing else names kinds behind the registry's back:

- every module of the package imports, so every ``per_kind`` table was checked (a table that lacks a kind
  raises at import);
- no module holds a hand-written table keyed by kinds outside ``per_kind`` (read from the source: dict
  literals with kind keys);
- no ``if``/``elif`` chain on a kind ends in an ``else`` that would stand for "the remaining kinds";
- the tests themselves iterate the registry: no literal list of kinds in ``tests/``.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import gru_viz
from gru_viz.core.kinds import KIND, KINDS, TABLES
from gru_viz.core.spec import Spec

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gru_viz"
KIND_KEYS = set(KINDS)


def _modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(gru_viz.__path__, "gru_viz.")]


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "kinds.py" or p.parent.name != "core")


def _kind_strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in KIND_KEYS}


def test_every_module_imports_so_every_table_is_checked():
    for name in _modules():
        if name.startswith("gru_viz.app") or name.startswith("gru_viz.serve"):
            pytest.importorskip("streamlit")
        importlib.import_module(name)
    assert TABLES, "no per_kind table registered"
    for name, table in TABLES.items():
        assert tuple(table) == KINDS or set(table) == KIND_KEYS, f"{name} does not name every kind"


def _per_kind_args(tree: ast.AST) -> set[int]:
    """ids of the dict literals passed straight to per_kind(...) or, for a table about some kinds by nature (what
    a Keras file can hold), to some_kinds(...)."""
    out = set()
    for node in ast.walk(tree):
        name = getattr(node.func, "id", getattr(node.func, "attr", None)) if isinstance(node, ast.Call) else None
        if name in ("per_kind", "some_kinds"):
            out.update(id(a) for a in node.args if isinstance(a, ast.Dict))
    return out


def test_no_hand_written_kind_table_outside_the_registry():
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        allowed = _per_kind_args(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict) and id(node) not in allowed:
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if len(keys) >= 2 and keys <= KIND_KEYS:  # every key a kind (Keras's group names share some)
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "tables keyed by kinds outside per_kind(): " + ", ".join(found)


def _is_kind_test(test: ast.AST) -> bool:
    """``kind == "gru"``, ``spec.kind in ("gru", "mingru")``, ``s.kind != "rnn"`` and the like."""
    if not isinstance(test, ast.Compare):
        return False
    names = [test.left, *test.comparators]
    mentions_kind = any(getattr(n, "id", getattr(n, "attr", None)) == "kind" for n in names)
    return mentions_kind and bool(_kind_strings(test))


def test_no_else_stands_for_the_remaining_kinds():
    """An if/elif chain over kinds (or one test of several kinds) must not end in an else that means "every other
    kind": that is how an unknown kind fell through to minGRU's equations. One kind against the rest stays allowed
    (a GRU's variant, an RNN's nonlinearity: fields only that kind has)."""
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        chained = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_kind_test(node.test) and id(node) not in chained:
                tail, tests = node, [node.test]
                while len(tail.orelse) == 1 and isinstance(tail.orelse[0], ast.If) and _is_kind_test(
                        tail.orelse[0].test):
                    tail = tail.orelse[0]
                    chained.add(id(tail))
                    tests.append(tail.test)
                several = len(tests) > 1 or len(_kind_strings(node.test)) > 1
                if tail.orelse and several:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "if/elif chains on a kind that end in else: " + ", ".join(found)


def test_the_tests_iterate_the_registry():
    found = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):  # a list of kinds only, not of named test cases
                values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
                if len(values) >= 3 and set(values) <= KIND_KEYS:
                    found.append(f"{path.name}:{node.lineno}")
    assert not found, "private lists of kinds in tests (iterate gru_viz.core.kinds.KINDS): " + ", ".join(found)


@pytest.mark.parametrize("kind", KINDS)
def test_the_record_agrees_with_a_run(kind):
    rec = KIND[kind]
    spec = Spec(kind, 2, 3)
    model = gru_viz.random_model(spec, seed=0)
    lt = model.run(np.random.default_rng(0).standard_normal((6, 2))).layer()
    assert set(rec.blocks) - {"h"} <= set(lt.gates) | set(lt.pre)
    assert set(rec.extra) <= set(lt.gates)
    assert set(rec.sigmoid) <= set(rec.blocks)
    assert ("weight_hh_l0" in model.params) == rec.recurrent
    assert model.params["weight_ih_l0"].shape[0] == len(rec.blocks) * 3
    assert sum(a.size for a in model.params.values()) == rec.params(2, 3)
    share = rec.keep_share
    if share is not None:  # h' = share ⊙ h + (1 − share) ⊙ candidate, from the trace's own numbers
        keep = share(spec, lt.gates)
        cand = lt.gates["n"]
        np.testing.assert_allclose(lt.h, keep * lt.h_prev() + (1 - keep) * cand, rtol=0, atol=1e-12)
    keep = rec.keep(spec)
    if keep is not None:
        assert keep.gate in rec.sigmoid and keep.of in rec.state
