"""The app's logger: named after the app, with a default handler until you configure one."""

from __future__ import annotations

import logging
import sys
import typing as t

from .globals import request

if t.TYPE_CHECKING:
    from .app import Erlen


def _errors_stream() -> t.TextIO:
    # The server's error stream during a request (wsgi.errors), else stderr.
    try:
        stream = request.environ.get("wsgi.errors")
    except RuntimeError:
        return sys.stderr
    return stream if stream is not None else sys.stderr


class _WSGIErrorsStream:
    """A stream object that writes to ``wsgi.errors`` of the current request, or stderr."""

    def write(self, text: str) -> int:
        return _errors_stream().write(text)

    def flush(self) -> None:
        _errors_stream().flush()


#: Where the default handler writes: the request's ``wsgi.errors``, else ``sys.stderr``.
wsgi_errors_stream: t.TextIO = t.cast(t.TextIO, _WSGIErrorsStream())

#: The handler added to an app logger when logging has not been configured.
default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether a handler in the logger's chain handles its effective level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def create_logger(app: Erlen) -> logging.Logger:
    """The logger named after ``app.name``; DEBUG level in debug mode if no level is set."""
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
