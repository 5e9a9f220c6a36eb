"""The page-test helper (tests/apptest_support.py) fails on what a page shows by mistake; every page test uses it."""

from __future__ import annotations

import re

import pytest
from apptest_support import ROOT, Page


def _error_box() -> None:
    import streamlit as st

    st.error("Cannot run the cell on this input: step 2 is empty")
    st.write("the page goes on")


def _exception() -> None:
    raise RuntimeError("a traceback on the page")


def _clean() -> None:
    import streamlit as st

    st.write("all good")


def test_an_error_box_fails_the_run_with_its_text() -> None:
    at = Page.from_function(_error_box, default_timeout=30)
    with pytest.raises(AssertionError, match="unexpected error box: Cannot run the cell on this input: step 2"):
        at.run()


def test_an_exception_fails_the_run_with_its_traceback() -> None:
    with pytest.raises(AssertionError, match=r"exception on the page: a traceback on the page\n(.|\n)*_exception"):
        Page.from_function(_exception, default_timeout=30).run()


def test_an_expected_error_box_passes_and_a_missing_one_fails() -> None:
    at = Page.from_function(_error_box, default_timeout=30)
    with at.expecting("Cannot run the cell on this input"):
        at.run()
    with pytest.raises(AssertionError, match="unexpected error box"):  # expected for those runs only
        at.run()
    with pytest.raises(AssertionError, match="expected an error box saying 'Cannot run'; the page shows"):
        with Page.from_function(_clean, default_timeout=30).expecting("Cannot run") as clean:
            clean.run()


BARE = re.compile(r"\bAppTest\.from_(?:file|function|string)\(|\bAppTest\(")


def test_every_page_test_runs_its_pages_through_the_helper() -> None:
    """A bare AppTest would let an error box pass unseen: page tests build a :class:`apptest_support.Page`."""
    bare = [f"{path.name}:{n}" for path in sorted((ROOT / "tests").glob("*.py")) if path.name != "apptest_support.py"
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if BARE.search(line)]
    assert bare == [], "use apptest_support.open_page / Page instead of a bare AppTest"
