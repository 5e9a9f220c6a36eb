"""A bug of ours inside a page is a friendly message for the learner and a traceback in the server's log:
``ui.friendly`` never swallows the exception silently (``ui.scene`` neither: tests/test_step_page.py)."""

from __future__ import annotations

import logging

from apptest_support import Page, open_page

from gru_viz.app import ui


def _buggy_part() -> None:
    from gru_viz.app import ui

    with ui.friendly("The injected part"):
        raise RuntimeError("injected bug in a page part")


def logged(caplog, text: str) -> list[logging.LogRecord]:
    """ERROR records of gru_viz.app.ui whose traceback mentions ``text``."""
    return [r for r in caplog.records if r.name == ui.__name__ and r.levelno == logging.ERROR and r.exc_info
            and text in str(r.exc_info[1])]


def test_friendly_shows_the_message_and_logs_the_traceback(caplog) -> None:
    caplog.set_level(logging.ERROR, logger=ui.__name__)
    at = Page.from_function(_buggy_part, default_timeout=30)
    with at.expecting("The injected part failed unexpectedly (RuntimeError). Your settings are kept"):
        at.run()
    records = logged(caplog, "injected bug in a page part")
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert "The injected part failed unexpectedly" in records[0].getMessage()
    assert "RuntimeError: injected bug in a page part" in caplog.text  # the traceback, in the log
    assert "injected bug" not in at.error[0].value  # the learner sees the friendly line, not the exception


def test_friendly_does_not_log_the_learners_own_mistakes(caplog) -> None:
    """A bad input is the page's message, not a bug: nothing is logged."""
    caplog.set_level(logging.ERROR, logger=ui.__name__)
    open_page("pages/step.py", {"source": "typed", "seq": "1, oops"}, expect=("Cannot run the cell on this input",))
    assert not [r for r in caplog.records if r.name == ui.__name__]

