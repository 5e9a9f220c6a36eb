"""Every assertion on a browser page waits: no browser test asserts on a read that does not (an ``inner_text()``,
``count()``, ``evaluate()``, ``get_attribute()``, ``bounding_box()``… or the address bar's query read once), and no
browser test pauses a fixed time (``page.wait_for_timeout``) for the page to do something.

Such a read takes the page as it is at that instant; on a loaded machine the frontend may not have drawn yet
(``all_inner_texts()`` read ``[]`` for the menu of a fresh server and failed a newcomer's first run). Use
Playwright's ``expect(...)``, or ``browser_support.eventually`` / ``expect_query`` / ``settled`` where no
``expect`` exists. This test reads the browser tests' source (AST) and points at any ``assert`` that reads the
page directly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
BROWSER_FILES = sorted(
    p for p in TESTS.glob("test_*.py")
    if p.name != Path(__file__).name and "pytest.mark.browser" in p.read_text(encoding="utf-8")
)
READS = {"inner_text", "all_inner_texts", "text_content", "all_text_contents", "count", "is_visible", "is_hidden",
         "is_enabled", "is_disabled", "is_checked", "is_editable", "bounding_box", "evaluate", "get_attribute",
         "input_value", "inner_html"}
# helpers of the browser tests that read the page once (asserting on them is the same mistake)
ONE_SHOT_HELPERS = {"url_query", "nav_labels", "step_shown", "label_now", "labels", "progress", "query", "shown"}
# a pause of a guessed length standing in for something the page does (a loaded machine can take longer)
FIXED_WAITS = {"wait_for_timeout"}


def one_shot_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of every assert whose test calls a page read directly."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        for call in (n for n in ast.walk(node.test) if isinstance(n, ast.Call)):
            f = call.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if (isinstance(f, ast.Attribute) and name in READS) or name in ONE_SHOT_HELPERS:
                found.append((node.lineno, name))
        for attr in (n for n in ast.walk(node.test) if isinstance(n, ast.Attribute)):
            if attr.attr == "url" and isinstance(attr.value, ast.Name) and attr.value.id in ("page", "a", "b"):
                found.append((node.lineno, "page.url"))
    return found


def fixed_waits(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of every fixed pause (``page.wait_for_timeout``): wait for the event instead (``expect``,
    ``still``, ``drawn_in_view``, ``page.wait_for_function``), or for what must not happen, ``stays``."""
    return [(n.lineno, n.func.attr) for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in FIXED_WAITS]


@pytest.mark.parametrize("path", BROWSER_FILES, ids=lambda p: p.name)
def test_browser_tests_wait_for_events_not_for_a_while(path: Path) -> None:
    bad = fixed_waits(ast.parse(path.read_text(encoding="utf-8")))
    assert not bad, f"{path.name}: waits a fixed time for the page: " + ", ".join(
        f"line {line}: {what}()" for line, what in bad)


def test_the_check_finds_a_fixed_wait() -> None:
    source = "def test_x(page):\n    page.mouse.move(1, 2)\n    page.wait_for_timeout(300)\n    still(page)\n"
    assert fixed_waits(ast.parse(source)) == [(3, "wait_for_timeout")]


@pytest.mark.parametrize("path", BROWSER_FILES, ids=lambda p: p.name)
def test_browser_assertions_wait(path: Path) -> None:
    bad = one_shot_reads(ast.parse(path.read_text(encoding="utf-8")))
    assert not bad, f"{path.name}: asserts on a read that does not wait (use expect/eventually): " + ", ".join(
        f"line {line}: {what}()" for line, what in bad)


def test_the_check_finds_a_one_shot_read() -> None:
    """The check itself can fail: the assertion that once read [] is caught, and so is a bare count()."""
    source = (
        "def test_x(page):\n"
        "    assert nav_labels(page) == NAV_LABELS\n"
        "    assert page.get_by_test_id('stSidebarNav').count() == 0\n"
        "    assert url_query(page.url)['t'] == '3'\n"
        "    expect(page.get_by_test_id('stSidebarNav')).to_have_count(0)\n"
    )
    assert [line for line, _ in one_shot_reads(ast.parse(source))] == [2, 3, 4, 4]  # url_query, page.url
    assert len(BROWSER_FILES) >= 8  # every file with browser tests is read
