"""An app that calls ``app.run()`` at module level, unguarded (as old tutorials do)."""

from __future__ import annotations

from erlen import Erlen

app = Erlen(__name__)


@app.route("/")
def index() -> str:
    return "unguarded"


app.run()
