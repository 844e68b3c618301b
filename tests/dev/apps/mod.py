"""The module the CLI-style runner imports by name."""

from __future__ import annotations

import os
import typing as t

MESSAGE = "m1"


def app(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
    body = str(os.getpid()) if environ["PATH_INFO"] == "/pid" else MESSAGE
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
