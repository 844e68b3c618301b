"""A module whose import fails in user code."""

from __future__ import annotations


def load_settings() -> dict[str, str]:
    raise RuntimeError("settings file is broken")


SETTINGS = load_settings()
