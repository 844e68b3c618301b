"""Tests for erlen.flashing: flash and get_flashed_messages across requests."""

from __future__ import annotations

import json
import typing as t

import pytest

from erlen import Erlen
from erlen import redirect
from erlen import session
from erlen.flashing import flash
from erlen.flashing import get_flashed_messages
from erlen.globals import request_ctx
from erlen.signals import message_flashed


def make_app(**config: t.Any) -> Erlen:
    app = Erlen(__name__)
    app.config["SECRET_KEY"] = "flash key"
    app.config.update(config)

    @app.route("/save")
    def save() -> t.Any:
        flash("Saved.")
        flash("Disk almost full.", "warning")
        flash("Could not email.", "error")
        return redirect("/show")

    @app.route("/show")
    def show() -> str:
        return json.dumps(get_flashed_messages())

    @app.route("/categories")
    def categories() -> str:
        return json.dumps(get_flashed_messages(with_categories=True))

    @app.route("/problems")
    def problems() -> str:
        return json.dumps(
            get_flashed_messages(with_categories=True, category_filter=["error", "warning"])
        )

    @app.route("/errors")
    def errors() -> str:
        return json.dumps(get_flashed_messages(category_filter=("error",)))

    return app


def test_flash_then_show_after_redirect() -> None:
    client = make_app().test_client()
    response = client.get("/save", follow_redirects=True)
    assert json.loads(response.text) == ["Saved.", "Disk almost full.", "Could not email."]
    # Shown once: the next request finds none.
    assert json.loads(client.get("/show").text) == []


def test_with_categories() -> None:
    client = make_app().test_client()
    client.get("/save")
    assert json.loads(client.get("/categories").text) == [
        ["message", "Saved."],
        ["warning", "Disk almost full."],
        ["error", "Could not email."],
    ]


def test_category_filter_with_and_without_categories() -> None:
    client = make_app().test_client()
    client.get("/save")
    assert json.loads(client.get("/problems").text) == [
        ["warning", "Disk almost full."],
        ["error", "Could not email."],
    ]
    # The filtered-out messages were consumed too.
    assert json.loads(client.get("/show").text) == []
    client.get("/save")
    assert json.loads(client.get("/errors").text) == ["Could not email."]


def test_repeated_calls_in_one_request_see_the_same_messages() -> None:
    app = make_app()

    @app.route("/twice")
    def twice() -> str:
        first = get_flashed_messages(with_categories=True)
        second = get_flashed_messages()
        only_warnings = get_flashed_messages(category_filter=["warning"])
        return json.dumps([first, second, only_warnings])

    client = app.test_client()
    client.get("/save")
    first, second, only_warnings = json.loads(client.get("/twice").text)
    assert [m for _, m in first] == second == ["Saved.", "Disk almost full.", "Could not email."]
    assert only_warnings == ["Disk almost full."]


def test_messages_are_stored_as_category_message_tuples() -> None:
    app = make_app()
    with app.test_request_context():
        flash("hi")
        flash("careful", category="warning")
        assert session["_flashes"] == [("message", "hi"), ("warning", "careful")]
        assert session.modified
        assert get_flashed_messages(with_categories=True) == [
            ("message", "hi"),
            ("warning", "careful"),
        ]
        assert request_ctx.flashes == [("message", "hi"), ("warning", "careful")]
        assert "_flashes" not in session


def test_flashes_survive_requests_until_read() -> None:
    client = make_app().test_client()
    client.get("/save")
    session_cookie = client.get_cookie("session")
    assert session_cookie is not None
    # A request that doesn't read flashes leaves them in place.
    client.get("/save")
    assert len(json.loads(client.get("/show").text)) == 6


def test_reading_no_flashes_does_not_modify_session() -> None:
    client = make_app().test_client()
    response = client.get("/show")
    assert response.text == "[]"
    assert response.headers.getlist("Set-Cookie") == []
    assert "Cookie" in response.headers.get("Vary", "")


def test_message_flashed_signal() -> None:
    app = make_app()
    received: list[tuple[t.Any, str, str]] = []

    def record(sender: t.Any, message: str, category: str) -> None:
        received.append((sender, message, category))

    with message_flashed.connected_to(record, app):
        app.test_client().get("/save")
    assert received == [
        (app, "Saved.", "message"),
        (app, "Disk almost full.", "warning"),
        (app, "Could not email.", "error"),
    ]


def test_flash_and_get_need_a_request_context() -> None:
    app = make_app()
    with pytest.raises(RuntimeError, match="outside of request context"):
        flash("x")
    with pytest.raises(RuntimeError, match="outside of request context"):
        get_flashed_messages()
    with app.app_context(), pytest.raises(RuntimeError, match="outside of request context"):
        flash("x")


def test_flash_without_secret_key_explains() -> None:
    app = make_app(SECRET_KEY=None)
    with app.test_request_context():
        assert get_flashed_messages() == []
        with pytest.raises(RuntimeError, match="no secret key was set"):
            flash("x")


def test_markup_messages_keep_their_type() -> None:
    from markupsafe import Markup

    app = make_app()

    @app.route("/markup")
    def flash_markup() -> str:
        flash(Markup("<b>bold</b>"))
        return ""

    @app.route("/markup/show")
    def show_markup() -> str:
        (message,) = get_flashed_messages()
        return type(message).__name__

    client = app.test_client()
    client.get("/markup")
    assert client.get("/markup/show").text == "Markup"
