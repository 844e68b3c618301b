"""An app inside a package, loaded by file path: ``--app .../mypkg/web.py``."""

from __future__ import annotations

from erlen import Erlen

from . import helpers

app = Erlen(__name__)
app.config["GREETING"] = helpers.GREETING
