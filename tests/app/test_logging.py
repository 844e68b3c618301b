"""The app logger: named after the app, with Flask's default handler."""

from __future__ import annotations

import io
import logging
import typing as t

import pytest

from erlen import Erlen
from erlen.logging import default_handler
from erlen.logging import has_level_handler
from erlen.logging import wsgi_errors_stream

NAMES = ("logging_app", "logging_debug", "logging_quiet")


def bare(name: str) -> logging.Logger:
    """The logger ``name`` with no handlers and no propagation.

    pytest attaches its capture handlers to the root logger and to loggers that
    don't propagate when a test starts; they are removed here, in the test body.
    """
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.propagate = False
    return logger


@pytest.fixture(autouse=True)
def _restore_loggers() -> t.Iterator[None]:
    yield
    for name in NAMES:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def test_logger_named_after_app_with_default_handler() -> None:
    bare("logging_app")
    app = Erlen("logging_app")
    assert app.logger.name == "logging_app"
    assert default_handler in app.logger.handlers
    assert app.logger.level == logging.NOTSET


def test_debug_mode_sets_debug_level() -> None:
    bare("logging_debug")
    app = Erlen("logging_debug")
    app.debug = True
    assert app.logger.level == logging.DEBUG


def test_no_default_handler_when_logging_is_configured() -> None:
    bare("logging_quiet").propagate = True
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        app = Erlen("logging_quiet")
    finally:
        root.removeHandler(handler)
    assert default_handler not in app.logger.handlers
    assert has_level_handler(app.logger)


def test_has_level_handler_respects_levels_and_propagation() -> None:
    logger = bare("logging_app")
    logger.setLevel(logging.INFO)
    assert not has_level_handler(logger)
    handler = logging.StreamHandler(io.StringIO())
    handler.setLevel(logging.ERROR)
    logger.addHandler(handler)
    assert not has_level_handler(logger)
    handler.setLevel(logging.INFO)
    assert has_level_handler(logger)


def test_default_handler_writes_to_wsgi_errors_during_a_request() -> None:
    bare("logging_app")
    app = Erlen("logging_app")
    errors = io.StringIO()

    @app.route("/")
    def index() -> str:
        app.logger.error("something went wrong")
        return "ok"

    app.test_client().get("/", environ_overrides={"wsgi.errors": errors})
    assert "ERROR in test_logging: something went wrong" in errors.getvalue()


def test_wsgi_errors_stream_is_stderr_outside_requests(capsys: pytest.CaptureFixture[str]) -> None:
    wsgi_errors_stream.write("outside\n")
    wsgi_errors_stream.flush()
    assert capsys.readouterr().err == "outside\n"


def test_unhandled_error_is_logged_with_traceback() -> None:
    bare("logging_app")
    app = Erlen("logging_app")
    errors = io.StringIO()
    app.add_url_rule("/", "boom", lambda: 1 / 0)
    rv = app.test_client().get("/", environ_overrides={"wsgi.errors": errors})
    assert rv.status_code == 500
    text = errors.getvalue()
    assert "Exception on / [GET]" in text
    assert "ZeroDivisionError" in text
