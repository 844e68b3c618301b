"""Tests for the development server, over real sockets on 127.0.0.1."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import http.client
import json
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
import typing as t
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from erlen.dev.serving import AddressInUse
from erlen.dev.serving import DevServer
from erlen.dev.serving import bind_socket
from erlen.dev.serving import make_server
from erlen.dev.serving import make_ssl_devcert
from erlen.dev.serving import run_simple
from erlen.dev.serving import select_address_family
from erlen.dev.serving import startup_lines

Environ = dict[str, t.Any]
StartResponse = cabc.Callable[..., t.Any]
App = cabc.Callable[[Environ, StartResponse], cabc.Iterable[bytes]]

TIMEOUT = 5.0
SRC = str(Path(__file__).resolve().parents[2] / "src")


@contextlib.contextmanager
def serving(app: App, **kwargs: t.Any) -> cabc.Iterator[DevServer]:
    """Run ``app`` on a free loopback port in a thread; always stop it."""
    kwargs.setdefault("log_requests", False)
    server = make_server("127.0.0.1", 0, app, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown(timeout=TIMEOUT)
        thread.join(TIMEOUT)
        server.server_close()
        assert not thread.is_alive(), "serve_forever() did not return"


class Response(t.NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes
    raw_head: bytes


class Client:
    """A raw HTTP/1.1 client that shows exactly what went over the wire."""

    def __init__(self, port: int, timeout: float = TIMEOUT) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def get(self, path: str = "/", extra: str = "") -> Response:
        self.send(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n".encode())
        return self.read()

    def read_head(self) -> tuple[int, dict[str, str], bytes]:
        line = self.file.readline()
        assert line, "connection closed before a response"
        raw = [line]
        status = int(line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = self.file.readline()
            raw.append(line)
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, b"".join(raw)

    def read(self, head: bool = False) -> Response:
        status, headers, raw = self.read_head()
        if head or status in (204, 304) or status < 200:
            body = b""
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int(self.file.readline().split(b";")[0], 16)
                if size == 0:
                    assert self.file.readline() == b"\r\n"
                    break
                parts.append(self.file.read(size))
                assert self.file.read(2) == b"\r\n"
            body = b"".join(parts)
        elif "content-length" in headers:
            body = self.file.read(int(headers["content-length"]))
        else:
            body = self.file.read()
        return Response(status, headers, body, raw)

    def closed_by_server(self) -> bool:
        """True if the server closed (EOF), False if it sent more data."""
        try:
            return self.file.read(1) == b""
        except ConnectionResetError:
            return True


def hello(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, World!"]


def echo_environ(environ: Environ, start_response: StartResponse) -> list[bytes]:
    data = {k: v for k, v in environ.items() if isinstance(v, str | bool | int)}
    body = environ["wsgi.input"].read()
    data["body"] = body.decode("latin-1")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(data).encode()]


# -- basics -----------------------------------------------------------------


def test_get() -> None:
    with serving(hello) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        try:
            conn.request("GET", "/")
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
    assert response.status == 200
    assert body == b"Hello, World!"
    assert response.getheader("Content-Length") == "13"
    assert response.getheader("Server") == "erlen-dev"
    assert response.getheader("Date", "").endswith(" GMT")


def test_environ() -> None:
    with serving(echo_environ) as server, Client(server.port) as c:
        r = c.get(
            "/caf%C3%A9/a%2Fb?x=1&y=%20",
            "X-Multi: one\r\nX-Multi: two\r\nX_Sneaky: 1\r\nX-Sneaky: 2\r\n",
        )
    env = json.loads(r.body)
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/caf\xc3\xa9/a/b"
    assert env["QUERY_STRING"] == "x=1&y=%20"
    assert env["RAW_URI"] == env["REQUEST_URI"] == "/caf%C3%A9/a%2Fb?x=1&y=%20"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == str(server.port)
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert int(env["REMOTE_PORT"]) > 0
    assert env["HTTP_HOST"] == "localhost"
    assert env["HTTP_X_MULTI"] == "one, two"
    assert env["HTTP_X_SNEAKY"] == "2"  # SECURITY: X_Sneaky dropped
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.input_terminated"] is True
    assert env["wsgi.multithread"] is False
    assert env["wsgi.multiprocess"] is False
    assert env["wsgi.run_once"] is False
    assert "CONTENT_LENGTH" not in env
    assert "CONTENT_TYPE" not in env


def test_absolute_form_target() -> None:
    with serving(echo_environ) as server, Client(server.port) as c:
        r = c.get("http://example.com:8080/p/q?z=9")
    env = json.loads(r.body)
    assert env["PATH_INFO"] == "/p/q"
    assert env["QUERY_STRING"] == "z=9"
    assert env["HTTP_HOST"] == "example.com:8080"


def test_keep_alive_two_requests() -> None:
    with serving(echo_environ) as server, Client(server.port) as c:
        first = json.loads(c.get("/one").body)
        second = json.loads(c.get("/two").body)
    assert first["PATH_INFO"] == "/one"
    assert second["PATH_INFO"] == "/two"
    assert first["REMOTE_PORT"] == second["REMOTE_PORT"]


def test_connection_close_honoured() -> None:
    with serving(hello) as server, Client(server.port) as c:
        r = c.get("/", "Connection: close\r\n")
        assert r.headers["connection"] == "close"
        assert c.closed_by_server()


def test_http10_closes_unless_keep_alive_asked() -> None:
    with serving(hello) as server:
        with Client(server.port) as c:
            c.send(b"GET / HTTP/1.0\r\n\r\n")
            r = c.read()
            assert r.body == b"Hello, World!"
            assert c.closed_by_server()
        with Client(server.port) as c:
            c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = c.read()
            assert r.headers["connection"] == "keep-alive"
            assert c.get().body == b"Hello, World!"


def test_pipelined_requests_answered_in_order() -> None:
    with serving(echo_environ) as server, Client(server.port) as c:
        c.send(b"".join(f"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(5)))
        paths = [json.loads(c.read().body)["PATH_INFO"] for _ in range(5)]
    assert paths == ["/0", "/1", "/2", "/3", "/4"]


def ignore_body(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [])
    return [environ["PATH_INFO"].encode()]


def test_unread_body_is_drained_before_next_request() -> None:
    with serving(ignore_body) as server, Client(server.port) as c:
        c.send(
            b"POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{}GET/oops "
            b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        assert c.read().body == b"/first"
        assert c.read().body == b"/second"


def test_content_length_body_read() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        stream = environ["wsgi.input"]
        first = stream.readline()
        rest = stream.read()
        assert stream.read() == b""  # never past the body
        start_response("200 OK", [])
        return [first + b"|" + rest + b"|" + environ["CONTENT_LENGTH"].encode()]

    with serving(app) as server, Client(server.port) as c:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nab\ncdefgGET")
        assert c.read().body == b"ab\n|cdefg|8"
        # "GET" was not swallowed into the body: it starts the next request.
        c.send(b" /next HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        assert c.read().status == 200


def test_chunked_upload_read_by_app() -> None:
    with serving(echo_environ) as server, Client(server.port) as c:
        c.send(
            b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n"
            b"1\r\n \r\n"
            b"5\r\nworld\r\n"
            b"0\r\nX-Trailer: yes\r\n\r\n"
        )
        env = json.loads(c.read().body)
        assert env["body"] == "hello world"
        assert "CONTENT_LENGTH" not in env
        assert env["wsgi.input_terminated"] is True
        assert c.get("/after").status == 200


def body_echo(environ: Environ, start_response: StartResponse) -> list[bytes]:
    stream = environ["wsgi.input"]
    parts = []
    while chunk := stream.read(7):  # small reads cross chunk boundaries
        parts.append(chunk)
    start_response("200 OK", [])
    return [b"".join(parts)]


def test_chunked_bodies_roundtrip_however_they_are_split() -> None:
    with serving(body_echo) as server:

        @settings(max_examples=40, deadline=None)
        @given(
            body=st.binary(max_size=600),
            sizes=st.lists(st.integers(1, 50), min_size=1, max_size=20),
            cuts=st.lists(st.integers(1, 40), max_size=10),
        )
        def check(body: bytes, sizes: list[int], cuts: list[int]) -> None:
            wire = [b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"]
            rest, i = body, 0
            while rest:
                size = sizes[i % len(sizes)]
                i += 1
                wire.append(b"%x\r\n%s\r\n" % (len(rest[:size]), rest[:size]))
                rest = rest[size:]
            wire.append(b"0\r\n\r\n")
            data = b"".join(wire)
            with Client(server.port) as c:
                for cut in cuts:
                    c.send(data[:cut])
                    data = data[cut:]
                c.send(data)
                assert c.read().body == body
                assert c.get().status == 200  # the connection is still in sync

        check()


def test_invalid_chunked_body_is_400() -> None:
    with serving(echo_environ) as server, Client(server.port) as c:
        c.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\nhello\r\n0\r\n\r\n"
        )
        assert c.read().status == 400
        assert c.closed_by_server()


def test_endless_chunked_body_times_out() -> None:
    with serving(echo_environ, request_timeout=0.3) as server, Client(server.port) as c:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        started = time.monotonic()
        r = c.read()
        assert r.status == 408
        assert time.monotonic() - started < 3
        assert c.closed_by_server()


def test_expect_100_continue_when_app_reads() -> None:
    with serving(echo_environ) as server, Client(server.port) as c:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        status, _, _ = c.read_head()
        assert status == 100
        c.send(b"data")
        r = c.read()
        assert r.status == 200
        assert json.loads(r.body)["body"] == "data"


def test_expect_100_continue_not_sent_when_app_ignores_body() -> None:
    with serving(hello) as server, Client(server.port) as c:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        r = c.read()
        assert r.status == 200  # the final answer, no interim 100
        assert r.headers["connection"] == "close"
        assert c.closed_by_server()


# -- refused requests -------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX: a\nb\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431),
    ],
    ids=[
        "cl-and-te",
        "cl-not-a-number",
        "cl-negative",
        "cl-twice",
        "space-in-name",
        "line-folding",
        "bare-lf",
        "http09",
        "http2",
        "te-gzip",
        "long-header",
        "long-url",
        "many-headers",
    ],
)
def test_refused_requests(request_bytes: bytes, status: int) -> None:
    with serving(echo_environ) as server, Client(server.port) as c:
        c.send(request_bytes)
        r = c.read()
        assert r.status == status
        assert r.headers["content-type"].startswith("text/plain")
        assert r.body
        assert c.closed_by_server()


def test_oversized_head_total_is_431() -> None:
    head = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 1000) for i in range(70))
    with serving(hello) as server, Client(server.port) as c:
        with contextlib.suppress(ConnectionError):
            c.send(head + b"\r\n")
        assert c.read().status == 431


# -- responses --------------------------------------------------------------


def test_head_has_no_body() -> None:
    with serving(hello) as server, Client(server.port) as c:
        c.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read(head=True)
        assert r.status == 200
        assert r.headers["content-length"] == "13"
        # The next response starts right away: no body bytes were sent.
        assert c.get().body == b"Hello, World!"


def streaming(environ: Environ, start_response: StartResponse) -> cabc.Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"one,"
    yield b""
    yield b"two,"
    yield b"three"


def test_streaming_response_is_chunked() -> None:
    with serving(streaming) as server, Client(server.port) as c:
        r = c.get()
        assert r.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in r.headers
        assert r.body == b"one,two,three"
        assert c.get().body == b"one,two,three"


def test_streaming_response_to_http10_is_close_delimited() -> None:
    with serving(streaming) as server, Client(server.port) as c:
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.read()
        assert "transfer-encoding" not in r.headers
        assert r.headers["connection"] == "close"
        assert r.body == b"one,two,three"


def test_write_callable_and_empty_body() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        if environ["PATH_INFO"] == "/write":
            write(b"written,")
            return [b"returned"]
        return []

    with serving(app) as server, Client(server.port) as c:
        assert c.get("/write").body == b"written,returned"
        r = c.get("/empty")
        assert r.headers["content-length"] == "0"
        assert r.body == b""


def test_file_wrapper_sends_file(tmp_path: Path) -> None:
    data = os.urandom(200_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)

    def app(environ: Environ, start_response: StartResponse) -> t.Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](open(path, "rb"), 8192)

    with serving(app) as server, Client(server.port) as c:
        r = c.get()
        assert r.headers["content-length"] == str(len(data))
        assert r.body == data
        assert c.get().body == data


def test_app_exception_is_500(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise ZeroDivisionError("boom")

    with caplog.at_level(logging.ERROR, "erlen.serving"):
        with serving(app) as server, Client(server.port) as c:
            r = c.get()
            assert r.status == 500
            assert b"Internal Server Error" in r.body
            assert b"boom" not in r.body
            assert c.closed_by_server()
    assert "ZeroDivisionError: boom" in caplog.text


def test_exception_after_headers_closes_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> cabc.Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        raise RuntimeError("mid-stream")

    with caplog.at_level(logging.ERROR, "erlen.serving"):
        with serving(app) as server, Client(server.port) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, _ = c.read_head()
            assert status == 200
            assert headers["transfer-encoding"] == "chunked"
            rest = c.file.read()  # until the server closes
            assert rest == b"7\r\npartial\r\n"  # no terminating chunk
    assert "mid-stream" in caplog.text


def test_exc_info_replaces_status_before_headers_sent() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-A", "1")])
        try:
            raise ValueError("x")
        except ValueError:
            start_response("503 Service Unavailable", [], sys.exc_info())
        return [b"sorry"]

    with serving(app) as server, Client(server.port) as c:
        r = c.get()
        assert r.status == 503
        assert "x-a" not in r.headers
        assert r.body == b"sorry"


def test_bad_response_header_is_500(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: x=1")])
        return [b"x"]

    with caplog.at_level(logging.ERROR, "erlen.serving"):
        with serving(app) as server, Client(server.port) as c:
            r = c.get()
            assert r.status == 500
            assert "set-cookie" not in r.headers
    assert "contains CR, LF or NUL" in caplog.text


class ClosingBody:
    def __init__(self, fail: bool) -> None:
        self.closed = threading.Event()
        self.fail = fail

    def __iter__(self) -> cabc.Iterator[bytes]:
        yield b"a"
        if self.fail:
            raise KeyError("during iteration")
        yield b"b"

    def close(self) -> None:
        self.closed.set()


@pytest.mark.parametrize("fail", [False, True])
def test_iterable_close_is_called(fail: bool, caplog: pytest.LogCaptureFixture) -> None:
    body = ClosingBody(fail)

    def app(environ: Environ, start_response: StartResponse) -> ClosingBody:
        start_response("200 OK", [])
        return body

    with caplog.at_level(logging.CRITICAL, "erlen.serving"):
        with serving(app) as server, Client(server.port) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            c.read_head()
            assert body.closed.wait(TIMEOUT)


# -- timeouts, concurrency, shutdown -----------------------------------------


def test_idle_keep_alive_connection_closed_after_timeout() -> None:
    with serving(hello, keep_alive_timeout=0.3) as server, Client(server.port) as c:
        assert c.get().status == 200
        started = time.monotonic()
        assert c.closed_by_server()
        assert 0.2 < time.monotonic() - started < 3


@pytest.mark.parametrize("threaded", [False, True])
def test_slow_request_head_times_out(threaded: bool) -> None:
    with (
        serving(hello, request_timeout=0.3, threaded=threaded) as server,
        Client(server.port) as c,
    ):
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finished
        assert c.read().status == 408
        assert c.closed_by_server()


def test_single_threaded_server_multiplexes_keep_alive_connections() -> None:
    with serving(hello) as server:
        with Client(server.port) as a, Client(server.port) as b:
            assert a.get().status == 200
            # An idle keep-alive connection does not block another client.
            assert b.get().status == 200
            assert a.get().status == 200


def test_single_threaded_server_not_stalled_by_slow_head() -> None:
    with serving(echo_environ) as server:
        with Client(server.port) as slow, Client(server.port) as fast:
            slow.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.05)
            assert json.loads(fast.get("/fast").body)["PATH_INFO"] == "/fast"
            slow.send(b"X-Late: 1\r\n\r\n")
            env = json.loads(slow.read().body)
            assert env["PATH_INFO"] == "/slow"
            assert env["HTTP_X_LATE"] == "1"


def test_threaded_serves_slow_requests_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        barrier.wait()  # only returns if both requests are in flight at once
        time.sleep(0.2)
        start_response("200 OK", [])
        return [b"done"]

    results: list[int] = []

    def fetch(port: int) -> None:
        with Client(port) as c:
            results.append(c.get().status)

    with serving(app, threaded=True) as server:
        started = time.monotonic()
        threads = [threading.Thread(target=fetch, args=(server.port,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        elapsed = time.monotonic() - started
    assert results == [200, 200]
    assert elapsed < 1.5


def test_threaded_shutdown_is_prompt_with_idle_connection() -> None:
    server = make_server("127.0.0.1", 0, hello, threaded=True, log_requests=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with Client(server.port) as c:
            assert c.get().status == 200
            started = time.monotonic()
            server.shutdown(timeout=TIMEOUT)
            assert time.monotonic() - started < 2
            assert c.closed_by_server()
    finally:
        server.shutdown(timeout=TIMEOUT)
        thread.join(TIMEOUT)
        server.server_close()
    assert not thread.is_alive()


def test_threaded_and_processes_is_an_error() -> None:
    with pytest.raises(ValueError, match="threaded"):
        make_server("127.0.0.1", 0, hello, threaded=True, processes=2)


WORKER_SCRIPT = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {src!r})
    from erlen.dev.serving import make_server

    def app(environ, start_response):
        start_response("200 OK", [])
        return [str(os.getpid()).encode()]

    server = make_server("127.0.0.1", 0, app, processes=2, log_requests=False)
    print(server.port, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    """
)


@pytest.mark.dev_server
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_processes_serve_requests_and_leave_no_children() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT.format(src=SRC)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        pids = set()
        for _ in range(6):
            with Client(port) as c:
                r = c.get("/", "Connection: close\r\n")
                assert r.status == 200
                pids.add(int(r.body))
        assert proc.pid not in pids
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


# -- addresses, banner, port in use -----------------------------------------


def test_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    holder = bind_socket("127.0.0.1", 0)
    try:
        port = holder.getsockname()[1]
        with pytest.raises(AddressInUse) as info:
            make_server("127.0.0.1", port, hello)
        message = str(info.value.strerror)
        assert f"port {port}" in message
        assert "another program" in message
        assert "--port" in message
        with pytest.raises(SystemExit) as exit_info:
            run_simple("127.0.0.1", port, hello)
        assert exit_info.value.code == 1
        assert f"port {port}" in capsys.readouterr().err
    finally:
        holder.close()


def test_serve_on_inherited_fd() -> None:
    holder = bind_socket("127.0.0.1", 0)
    try:
        server = make_server("127.0.0.1", 0, hello, fd=holder.fileno(), log_requests=False)
        assert server.port == holder.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with Client(server.port) as c:
                assert c.get().body == b"Hello, World!"
        finally:
            server.shutdown(TIMEOUT)
            thread.join(TIMEOUT)
            server.server_close()
        assert holder.fileno() != -1  # the caller's socket stays open
    finally:
        holder.close()


def test_startup_lines() -> None:
    assert startup_lines("127.0.0.1", 5000) == [" * Running on http://127.0.0.1:5000"]
    assert startup_lines("::1", 5000, "https") == [" * Running on https://[::1]:5000"]
    lines = startup_lines("0.0.0.0", 5000)
    assert lines[0] == " * Running on all addresses (0.0.0.0)"
    assert lines[1] == " * Running on http://127.0.0.1:5000"
    assert select_address_family("::1", 0) == socket.AF_INET6
    assert select_address_family("127.0.0.1", 0) == socket.AF_INET


def test_access_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "erlen.serving"):
        with serving(hello, log_requests=True) as server, Client(server.port) as c:
            c.get("/logged?x=1")
    line = next(r.getMessage() for r in caplog.records if "/logged" in r.getMessage())
    assert line.startswith("127.0.0.1 - - [")
    assert line.endswith('] "GET /logged?x=1 HTTP/1.1" 200 -')
    assert "\x1b[" not in line  # no colour when stderr is not a TTY


# -- TLS ----------------------------------------------------------------------


def test_tls_with_devcert(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    cert, key = make_ssl_devcert(str(tmp_path / "dev"), host="localhost")
    assert Path(cert).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    client_context = ssl.create_default_context(cafile=cert)
    with serving(echo_environ, ssl_context=(cert, key)) as server:
        conn = http.client.HTTPSConnection(
            "localhost", server.port, timeout=TIMEOUT, context=client_context
        )
        try:
            conn.request("GET", "/secure")
            response = conn.getresponse()
            env = json.loads(response.read())
            conn.request("GET", "/again")  # keep-alive over TLS
            again = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        # A client that isn't speaking TLS doesn't break the server.
        with Client(server.port) as c:
            c.send(b"GET / HTTP/1.1\r\n\r\n")
            assert c.closed_by_server()
    assert env["wsgi.url_scheme"] == "https"
    assert env["PATH_INFO"] == "/secure"
    assert again["PATH_INFO"] == "/again"


def test_adhoc_tls() -> None:
    pytest.importorskip("cryptography")
    client_context = ssl.create_default_context()
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE
    with serving(hello, ssl_context="adhoc", threaded=True) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
            with client_context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(b"Hello, World!")


def test_adhoc_tls_without_cryptography_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(RuntimeError, match="pip install cryptography"):
        make_server("127.0.0.1", 0, hello, ssl_context="adhoc")


def test_large_unread_body_closes_but_response_arrives() -> None:
    with serving(ignore_body) as server, Client(server.port) as c:
        size = 4 << 20  # beyond what the server drains
        c.send(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
        c.send(b"x" * 65536)
        r = c.read()
        assert r.body == b"/big"
        assert r.headers["connection"] == "close"


def test_threaded_environ_flags() -> None:
    with serving(echo_environ, threaded=True) as server, Client(server.port) as c:
        env = json.loads(c.get().body)
    assert env["wsgi.multithread"] is True
    assert env["wsgi.multiprocess"] is False


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = make_server("::1", 0, hello, log_requests=False)
    except OSError:
        pytest.skip("cannot bind ::1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("::1", server.port), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    finally:
        server.shutdown(TIMEOUT)
        thread.join(TIMEOUT)
        server.server_close()
    assert data.endswith(b"Hello, World!")


RUN_SIMPLE_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {src!r})
    from erlen.dev.serving import bind_socket, run_simple

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    port = bind_socket("127.0.0.1", 0).getsockname()[1]  # a free port
    print(port, flush=True)
    run_simple("127.0.0.1", port, app, threaded=True)
    print("exited cleanly", flush=True)
    """
)


@pytest.mark.dev_server
def test_run_simple_banner_and_clean_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_SIMPLE_SCRIPT.format(src=SRC)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        deadline = time.monotonic() + TIMEOUT
        while True:  # wait until it answers
            try:
                with Client(port) as c:
                    assert c.get().body == b"ok"
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=TIMEOUT)
    text = err.decode()
    assert proc.returncode == 0
    assert out.decode().strip() == "exited cleanly"
    assert "WARNING: This is a development server." in text
    assert f" * Running on http://127.0.0.1:{port}" in text
    assert "Press CTRL+C to quit" in text
    assert '"GET / HTTP/1.1" 200 -' in text
    assert "Traceback" not in text


def test_environ_and_calls_pass_wsgiref_validator() -> None:
    from wsgiref.validate import validator

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        environ["wsgi.input"].read(100)  # the validator wants a size
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    with serving(validator(app)) as server, Client(server.port) as c:
        assert c.get("/v?q=1").body == b"ok"
        c.send(b"POST /v HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        assert c.read().body == b"ok"
        c.send(
            b"POST /v HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
        )
        assert c.read().body == b"ok"
