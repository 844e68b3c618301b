"""Shared fixtures: an app, its test client, and real server processes."""

from __future__ import annotations

import collections.abc as cabc
import os
import sys
import typing as t

import pytest

from erlen import Erlen

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def app() -> Erlen:
    """A fresh app in testing mode, rooted in the tests folder."""
    app = Erlen("test_app", root_path=os.path.dirname(__file__))
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


@pytest.fixture
def client(app: Erlen) -> cabc.Iterator[t.Any]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """Environment for child processes: erlen importable from the checkout."""
    env = dict(os.environ)
    src = os.path.join(ROOT, "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("ERLEN_RUN_FROM_CLI", None)
    return env


PYTHON = sys.executable
