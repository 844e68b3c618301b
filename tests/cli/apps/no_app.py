"""A module without any app."""

from __future__ import annotations

app = "not an app"


def helper() -> int:
    return 1
