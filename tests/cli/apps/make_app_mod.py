"""Only a ``make_app`` factory."""

from __future__ import annotations

from erlen import Erlen


def make_app() -> Erlen:
    return Erlen("made_by_make_app")
