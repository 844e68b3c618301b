"""CLI test fixtures: importable apps, and a clean environment, sys.path and sys.modules."""

from __future__ import annotations

import collections.abc as cabc
import os
import sys

import pytest

import erlen.cli
from erlen.ctx import has_app_context

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch) -> cabc.Iterator[None]:
    """Undo what loading apps does to the process: env vars, sys.path, imported modules."""
    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    for key in list(os.environ):
        if key.startswith(("ERLEN_", "FLASK_")) or key == "PYTHONSTARTUP":
            del os.environ[key]
    monkeypatch.setattr(erlen.cli, "_env_note_shown", False)
    try:
        yield
        assert not has_app_context(), "a CLI command left an app context pushed"
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]


@pytest.fixture
def in_apps(monkeypatch: pytest.MonkeyPatch) -> str:
    """Run from ``tests/cli/apps``, as a user runs ``erlen`` from the project folder."""
    monkeypatch.chdir(APPS)
    return APPS


@pytest.fixture
def group() -> erlen.cli.ErlenGroup:
    """A fresh ``erlen`` group, so plugin loading and caches don't leak between tests."""
    return erlen.cli.ErlenGroup(name="erlen")
