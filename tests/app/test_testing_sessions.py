"""The test client's session_transaction."""

from __future__ import annotations

import typing as t

import pytest

from erlen import Erlen
from erlen import session


def test_session_transaction_round_trip(app: Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return str(session.get("user"))

    @app.route("/set")
    def set_() -> str:
        session["user"] = "from view"
        return "ok"

    client = app.test_client()
    with client.session_transaction() as sess:
        assert "user" not in sess
        sess["user"] = "alice"
    assert client.get("/").text == "alice"
    client.get("/set")
    with client.session_transaction() as sess:
        assert sess["user"] == "from view"


def test_session_transaction_needs_cookies(app: Erlen) -> None:
    client = app.test_client(use_cookies=False)
    with pytest.raises(TypeError, match="use_cookies"):
        with client.session_transaction():
            pass


def test_session_transaction_without_secret_key(app: Erlen) -> None:
    # COMPAT: as in Flask, there is no session to open without a secret key.
    app.secret_key = None
    client = app.test_client()
    with pytest.raises(RuntimeError, match="did not open a session"):
        with client.session_transaction():
            pass


def test_session_cookie_defaults_to_samesite_lax(app: Erlen) -> None:
    @app.route("/")
    def index() -> t.Any:
        session["x"] = 1
        return "ok"

    rv = app.test_client().get("/")
    cookie = rv.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie
