"""``python -m blog init-db`` creates the tables; ``python -m blog run`` serves the blog.

Run from ``examples/blog`` (or with it on ``sys.path``). ``BLOG_INSTANCE_PATH``
moves the instance folder, and with it the database, as for ``create_app()``.
"""

from __future__ import annotations

import argparse
import sys

from . import create_app
from .db import init_db_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blog", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init-db", help="clear existing data and create new tables")
    run = commands.add_parser("run", help="serve with erlen's development server")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=5000)
    run.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)

    app = create_app()
    if args.command == "init-db":
        path = init_db_for(app)
        print(f"Initialized the database at {path}.")
    else:
        app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
