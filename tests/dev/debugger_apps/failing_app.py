"""An erlen app with failing routes, served behind the debugger (for tests).

Usage: ``python failing_app.py PORT [--processes N]``; binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import sys

from erlen import Erlen
from erlen import request
from erlen.dev.debugger import DebuggedApplication
from erlen.dev.serving import run_simple


def create_app() -> Erlen:
    """The app: one route per kind of failure."""
    app = Erlen(__name__)
    app.debug = True

    @app.route("/")
    def index() -> str:
        return "ok"

    @app.route("/plain")
    def plain() -> str:
        marker = "local-marker-123"
        number = 41
        raise ValueError(f"plain failure {marker} {number + 1}")

    @app.route("/chained")
    def chained() -> str:
        table: dict[str, int] = {}
        try:
            table["missing-key"]
        except KeyError as e:
            raise RuntimeError("lookup wrapper failed") from e
        return "unreachable"

    @app.route("/context")
    def context() -> str:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            raise LookupError("while handling the division") from None
        return "unreachable"

    @app.route("/group")
    def group() -> str:
        first = ValueError("first member")
        first.add_note("note on first member")
        second = TypeError("second member")
        errors: list[Exception] = []
        for exc in (first, second):
            try:
                raise exc
            except Exception as e:
                errors.append(e)
        eg = ExceptionGroup("several things failed", errors)
        eg.add_note("note on the group")
        raise eg

    @app.route("/async")
    async def async_view() -> str:
        await asyncio.sleep(0)
        path_seen = request.path
        raise KeyError(f"async failure at {path_seen}")

    return app


def main() -> None:
    port = int(sys.argv[1])
    processes = 1
    if "--processes" in sys.argv:
        processes = int(sys.argv[sys.argv.index("--processes") + 1])
    application = DebuggedApplication(create_app(), evalex=True)
    run_simple("127.0.0.1", port, application, threaded=processes == 1, processes=processes)


if __name__ == "__main__":
    main()
