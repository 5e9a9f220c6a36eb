"""AppTest runs that cannot hide a failure: every run of a page asserts that it drew no exception and no error box.

A page turns its failures into friendly ``st.error`` boxes (``ui.friendly``, ``ui.scene``), so a test that only
looked at ``at.exception`` passed while the page showed an error. :class:`Page` is an ``AppTest`` whose every run
(``at.run()``, a widget's ``.set_value(…).run()``, ``switch_page(…).run()``) fails with the boxes' text unless the
test said which messages it expects (:meth:`Page.expecting`). Every page test opens its page with :func:`open_page`
(or builds a :class:`Page`); ``tests/test_apptest_support.py`` checks that no test file runs a bare ``AppTest``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"


def problems(at: AppTest, expected: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with the page ``at`` shows: every exception element (with its traceback), every error box that
    contains none of ``expected``, and every expected message that no error box contains."""
    out = [f"exception on the page: {e.value}\n{''.join(e.stack_trace)}" for e in at.exception]
    boxes = [e.value for e in at.error]
    out += [f"unexpected error box: {box}" for box in boxes if not any(want in box for want in expected)]
    out += [f"expected an error box saying {want!r}; the page shows {boxes}" for want in expected
            if not any(want in box for box in boxes)]
    return out


def assert_clean(at: AppTest, *expected: str) -> None:
    """No exception element and no error box on the page, but one for each of the ``expected`` messages."""
    found = problems(at, expected)
    assert not found, "\n".join(found)


class Page(AppTest):
    """An AppTest whose every run asserts :func:`assert_clean` (with the messages :meth:`expecting` names)."""

    def __init__(self, script_path: str | Path = APP, *, default_timeout: float = 120,
                 args: tuple[Any, ...] | None = None, kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(script_path, default_timeout=default_timeout, args=args, kwargs=kwargs)
        self.expected: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, script_path: str | Path, *, default_timeout: float = 3) -> Page:
        """A checking AppTest of a script (absolute path, or relative to the tests)."""
        path = Path(script_path)
        return cls(path if path.is_absolute() else ROOT / "tests" / path, default_timeout=default_timeout)

    @classmethod
    def from_function(cls, script: Callable[..., Any], *, default_timeout: float = 3,
                      args: tuple[Any, ...] | None = None, kwargs: dict[str, Any] | None = None) -> Page:
        """A checking AppTest of a function's body (as ``AppTest.from_function``)."""
        plain = AppTest.from_function(script, default_timeout=default_timeout, args=args, kwargs=kwargs)
        return cls(plain._script_path, default_timeout=default_timeout, args=plain.args, kwargs=plain.kwargs)

    # Every run goes through _run: AppTest.run and each widget's .run() (via the element tree) both call it.
    def _run(self, widget_state: Any = None, timeout: float | None = None) -> Page:
        shown = st_config.get_option("client.showErrorDetails")
        st_config.set_option("client.showErrorDetails", "full")  # the app redacts them; a failing test says all
        try:
            super()._run(widget_state, timeout)
        finally:
            st_config.set_option("client.showErrorDetails", shown)
        assert_clean(self, *self.expected)
        return self

    @contextlib.contextmanager
    def expecting(self, *messages: str) -> Iterator[Page]:
        """Runs inside must show an error box containing each of ``messages``, and no other error box."""
        before, self.expected = self.expected, messages
        try:
            yield self
        finally:
            self.expected = before


def open_page(page: str = "app.py", query: dict[str, str] | None = None, session: dict[str, Any] | None = None, *,
              timeout: float = 120, expect: tuple[str, ...] = ()) -> Page:
    """``page`` run as a session's first run, with ``query`` as its link and ``session`` in its session state;
    asserts the page is clean but for the ``expect``-ed error boxes."""
    at = Page(APP, default_timeout=timeout)
    if page != "app.py":
        at.switch_page(page)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    with at.expecting(*expect):
        at.run()
    return at
