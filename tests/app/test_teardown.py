"""Teardown at the end of a request context: functions, signals, closing the request."""

from __future__ import annotations

import io

from erlen import Erlen
from erlen import request
from erlen.signals import appcontext_tearing_down
from erlen.signals import request_tearing_down
from erlen.wrappers import Request


def test_teardown_runs_for_a_test_request_context_before_any_request() -> None:
    app = Erlen(__name__)
    seen: list[str] = []
    app.teardown_request(lambda exc: seen.append("request"))
    app.teardown_appcontext(lambda exc: seen.append("appcontext"))
    with app.test_request_context("/"):
        pass
    assert seen == ["request", "appcontext"]


def test_signal_receivers_connected_after_the_first_request_are_sent_teardown() -> None:
    app = Erlen(__name__)
    app.route("/")(lambda: "ok")
    client = app.test_client()
    assert client.get("/").text == "ok"
    seen: list[str] = []

    def on_request(sender: Erlen, exc: BaseException | None) -> None:
        seen.append("request_tearing_down")

    def on_appcontext(sender: Erlen, exc: BaseException | None) -> None:
        seen.append("appcontext_tearing_down")

    with request_tearing_down.connected_to(on_request, app):
        with appcontext_tearing_down.connected_to(on_appcontext, app):
            assert client.get("/").text == "ok"
    assert seen == ["request_tearing_down", "appcontext_tearing_down"]


def test_uploaded_files_are_closed_at_the_end_of_the_request() -> None:
    app = Erlen(__name__)
    kept = []

    @app.post("/upload")
    def upload() -> str:
        kept.append(request.files["file"])
        return "ok"

    client = app.test_client()
    response = client.post("/upload", data={"file": (io.BytesIO(b"data"), "a.txt")})
    assert response.text == "ok"
    assert kept[0].stream.closed


def test_a_request_class_with_its_own_close_is_closed() -> None:
    closed: list[str] = []

    class ClosingRequest(Request):
        def close(self) -> None:
            closed.append(self.path)
            super().close()

    app = Erlen(__name__)
    app.request_class = ClosingRequest
    app.route("/")(lambda: "ok")
    assert app.test_client().get("/").text == "ok"
    assert closed == ["/"]
