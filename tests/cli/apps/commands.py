"""An app with custom commands and a shell context processor."""

from __future__ import annotations

import click

from erlen import Erlen
from erlen import current_app

app = Erlen(__name__)
app.config["GREETING"] = "hello from config"


@app.cli.command("greet")
@click.argument("name", default="world")
def greet(name: str) -> None:
    """Print the config greeting (needs the app context)."""
    click.echo(f"{current_app.config['GREETING']}, {name}")


@app.cli.command
def bare() -> None:
    click.echo(f"bare in {current_app.name}")


@app.shell_context_processor
def extra_names() -> dict[str, object]:
    return {"answer": 42}
