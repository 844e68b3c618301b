"""send_response: what a WSGI server receives for a response."""

from __future__ import annotations

import typing as t

from erlen.http.headers import Headers
from erlen.wrappers import Response
from erlen.wsgi import send_response


class StartResponse:
    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> None:
        self.status, self.headers = status, headers


def send(response: Response, method: str = "GET") -> tuple[StartResponse, bytes]:
    start = StartResponse()
    body = send_response(response, {"REQUEST_METHOD": method}, start)
    try:
        return start, b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def test_status_and_headers_as_sent() -> None:
    start, body = send(Response("hi", 201, {"X-A": "1"}))
    assert start.status == "201 CREATED"
    assert start.headers == [
        ("X-A", "1"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", "2"),
    ]
    assert body == b"hi"


def test_server_gets_a_copy_of_the_header_list() -> None:
    # COMPAT: servers (wsgiref) add headers to the list they are given; that
    # must not change the response, which may be sent again.
    response = Response("hi")
    start, _ = send(response)
    start.headers.append(("Date", "now"))
    assert "Date" not in response.headers
    assert send(response)[0].headers == list(response.headers)


def test_status_set_after_construction() -> None:
    response = Response("gone")
    response.status_code = 410
    start, body = send(response)
    assert start.status == "410 GONE"
    response.status = "299 Custom"
    assert send(response)[0].status == "299 Custom"


def test_no_body_statuses_and_head() -> None:
    closed: list[bool] = []
    for status in (204, 304):
        response = Response("x", status)
        response.call_on_close(lambda: closed.append(True))
        start, body = send(response)
        assert body == b""
    response = Response("content")
    response.call_on_close(lambda: closed.append(True))
    start, body = send(response, "HEAD")
    assert body == b""
    assert ("Content-Length", "7") in start.headers
    assert closed == [True, True, True]


def test_subclass_status_properties_are_honoured() -> None:
    class Upper(Response):
        @property
        def status(self) -> str:
            return "299 FROM PROPERTY"

        @status.setter
        def status(self, value: t.Any) -> None:
            pass

        @property
        def status_code(self) -> int:
            return 204

        @status_code.setter
        def status_code(self, value: int) -> None:
            pass

    assert Response._plain_class and not Upper._plain_class
    start, body = send(Upper("x"))
    assert start.status == "299 FROM PROPERTY"
    assert body == b""  # status_code 204 from the property: no body

    class Child(Upper):
        pass

    assert not Child._plain_class

    class Plain(Response):
        pass

    assert Plain._plain_class


def test_headers_subclass_to_wsgi_list_is_honoured() -> None:
    class Extra(Headers):
        __slots__ = ()

        def to_wsgi_list(self) -> list[tuple[str, str]]:
            return [*super().to_wsgi_list(), ("X-Extra", "1")]

    start, _ = send(Response("x", headers=Extra()))
    assert start.headers[-1] == ("X-Extra", "1")
    response = Response("x")
    response.headers = Extra([("X-A", "1")])
    assert send(response)[0].headers == [("X-A", "1"), ("X-Extra", "1")]


def test_list_bodies_reach_the_server_as_bytes() -> None:
    # PEP 3333: the body iterable yields bytes, also for a list of str.
    start, body = send(Response(["a", b"b", "é"]))
    assert body == "abé".encode()
    sent = send_response(Response(["a", b"b"]), {"REQUEST_METHOD": "GET"}, StartResponse())
    assert list(sent) == [b"a", b"b"]
    buffered = Response("x")
    assert send_response(buffered, {"REQUEST_METHOD": "GET"}, StartResponse()) is buffered.response
    empty = Response()
    assert list(send_response(empty, {"REQUEST_METHOD": "GET"}, StartResponse())) == []
    replaced = Response("x")
    replaced.response = ["later", b"!"]
    assert list(send_response(replaced, {"REQUEST_METHOD": "GET"}, StartResponse())) == [
        b"later",
        b"!",
    ]


def test_buffered_body_with_close_callbacks_is_closed() -> None:
    closed: list[bool] = []
    response = Response("x")
    response.call_on_close(lambda: closed.append(True))
    sent = send_response(response, {"REQUEST_METHOD": "GET"}, StartResponse())
    assert sent is not response.response
    assert list(sent) == [b"x"]
    t.cast(t.Any, sent).close()
    assert closed == [True]
    response = Response()
    response.set_data("new")
    assert send_response(response, {"REQUEST_METHOD": "GET"}, StartResponse()) is response.response
    passthrough = Response(b"raw", direct_passthrough=True)
    assert list(send_response(passthrough, {"REQUEST_METHOD": "GET"}, StartResponse())) == [b"raw"]


def test_streamed_body_is_iterated_and_closed_once() -> None:
    events: list[str] = []

    def gen() -> t.Iterator[str | bytes]:
        try:
            yield "a"
            yield b"b"
        finally:
            events.append("gen closed")

    response = Response(gen())
    response.call_on_close(lambda: events.append("callback"))
    sent = send_response(response, {"REQUEST_METHOD": "GET"}, StartResponse())
    assert list(iter(sent)) == [b"a", b"b"]
    t.cast(t.Any, sent).close()
    t.cast(t.Any, sent).close()
    assert events == ["gen closed", "callback"]

    # Closed before the end (a client gone): the generator is closed too.
    events.clear()
    response = Response(gen())
    sent = send_response(response, {"REQUEST_METHOD": "GET"}, StartResponse())
    assert next(iter(sent)) == b"a"
    t.cast(t.Any, sent).close()
    assert events == ["gen closed"]
    # next() on the returned object itself works as well.
    sent = send_response(Response(iter([b"x"])), {"REQUEST_METHOD": "GET"}, StartResponse())
    assert next(t.cast(t.Any, sent)) == b"x"


def test_subclass_close_is_called_for_a_buffered_body() -> None:
    closed: list[str] = []

    class Tracked(Response):
        def close(self) -> None:
            closed.append("close")
            super().close()

    assert not Tracked._plain_class
    sent = send_response(Tracked("x"), {"REQUEST_METHOD": "GET"}, StartResponse())
    assert list(sent) == [b"x"]
    t.cast(t.Any, sent).close()
    assert closed == ["close"]
