"""A ``python app.py`` script: the served text comes from this file itself."""

from __future__ import annotations

import json
import os
import sys
import typing as t

MESSAGE = "v1"


def app(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
    body = str(os.getpid()) if environ["PATH_INFO"] == "/pid" else MESSAGE
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]


if __name__ == "__main__":
    from erlen.dev.run import run_dev_server

    run_dev_server(
        lambda: app,
        port=int(sys.argv[1]),
        use_reloader=True,
        reloader_interval=0.1,
        **json.loads(os.environ.get("TEST_RUN_OPTIONS", "{}")),
    )
