"""The SQLite database: one connection per app context, kept on ``g``."""

from __future__ import annotations

import sqlite3

from erlen import Erlen
from erlen import current_app
from erlen import g


def get_db() -> sqlite3.Connection:
    """The app context's connection, opened on first use; rows behave like mappings."""
    if "db" not in g:
        conn = sqlite3.connect(current_app.config["DATABASE"])
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        g.db = conn
    return g.db  # type: ignore[no-any-return]


def close_db(exc: BaseException | None = None) -> None:
    """Close the context's connection, if one was opened."""
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_db() -> None:
    """Drop and recreate every table from ``schema.sql`` (needs an app context)."""
    conn = get_db()
    with current_app.open_resource("schema.sql", "r") as f:
        conn.executescript(f.read())


def init_db_for(app: Erlen) -> str:
    """Create ``app``'s tables in a fresh app context; returns the database path."""
    with app.app_context():
        init_db()
    return str(app.config["DATABASE"])


def init_app(app: Erlen) -> None:
    """Close connections at teardown; add ``init-db`` to the CLI when there is one."""
    app.teardown_appcontext(close_db)
    cli = getattr(app, "cli", None)
    if cli is not None:
        import click

        @cli.command("init-db")
        def init_db_command() -> None:
            """Clear existing data and create new tables."""
            init_db()
            click.echo("Initialized the database.")
