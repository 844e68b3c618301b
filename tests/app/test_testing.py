"""Tests for erlen.testing: EnvironBuilder, the test client, redirects, cookies, contexts."""

from __future__ import annotations

import collections.abc as cabc
import email.parser
import email.policy
import io
import json
import sys
import time
import typing as t
from datetime import UTC
from datetime import datetime
from urllib.parse import parse_qsl

import pytest

from erlen.http.datastructures import FileStorage
from erlen.http.datastructures import MultiDict
from erlen.http.headers import Headers
from erlen.http.response import Response as HttpResponse
from erlen.testing import PRESERVE_CONTEXT_KEY
from erlen.testing import ClientRedirectError
from erlen.testing import Cookie
from erlen.testing import EnvironBuilder
from erlen.testing import ErlenClient
from erlen.testing import FlaskClient
from erlen.testing import TestResponse
from erlen.testing import encode_multipart
from erlen.testing import run_wsgi_app
from erlen.testing import test_client_for
from erlen.wrappers import Response as AppResponse

Environ = dict[str, t.Any]
StartResponse = cabc.Callable[..., t.Any]


# -- helpers -----------------------------------------------------------------


def echo_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Report what the request looked like, as JSON."""
    body = environ["wsgi.input"].read()
    info = {
        key: value
        for key, value in environ.items()
        if isinstance(value, str | int | bool | tuple) and not key.startswith("wsgi.input")
    }
    info["body"] = body.decode("latin-1")
    data = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [data]


def echo(client: ErlenClient, *args: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], json.loads(client.open(*args, **kwargs).get_data()))


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, payload) for each part, parsed by the stdlib."""
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert message.is_multipart()
    out: list[tuple[str, str | None, str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out.append((str(name), filename, part.get_content_type(), payload))
    return out


class FakeApp:
    """A WSGI app with a Flask-like config, JSON provider and response class."""

    def __init__(self, **config: t.Any) -> None:
        self.config = {
            "SERVER_NAME": None,
            "APPLICATION_ROOT": "/",
            "PREFERRED_URL_SCHEME": "http",
            **config,
        }

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        return echo_app(environ, start_response)


class CustomResponse(AppResponse):
    pass


# -- EnvironBuilder ------------------------------------------------------------


def test_environ_defaults() -> None:
    environ = EnvironBuilder().get_environ()
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/"
    assert environ["QUERY_STRING"] == ""
    assert environ["SERVER_NAME"] == "localhost"
    assert environ["SERVER_PORT"] == "80"
    assert environ["HTTP_HOST"] == "localhost"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["HTTP_USER_AGENT"].startswith("erlen/")
    assert environ["REQUEST_URI"] == environ["RAW_URI"] == "/"
    assert environ["wsgi.version"] == (1, 0)
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.input"].read() == b""
    assert environ["wsgi.errors"] is sys.stderr
    assert environ["wsgi.multithread"] is False
    assert environ["wsgi.multiprocess"] is False
    assert environ["wsgi.run_once"] is False
    assert "CONTENT_TYPE" not in environ
    assert "CONTENT_LENGTH" not in environ


def test_environ_is_valid_wsgi() -> None:
    from wsgiref.validate import validator

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))]

    client = ErlenClient(validator(app))
    response = client.post("/x?y=1", data={"a": "b"})
    assert response.get_data() == b"a=b"
    response.close()


def test_method_is_uppercased() -> None:
    assert EnvironBuilder(method="patch").get_environ()["REQUEST_METHOD"] == "PATCH"


@pytest.mark.parametrize(
    ("path", "query_string", "expected"),
    [
        ("/x?a=1", None, "a=1"),
        ("/x?a=1", {"b": "2"}, "a=1&b=2"),
        ("/x?a=1", "b=2", "a=1&b=2"),
        ("/x", b"b=2&c", "b=2&c"),
        ("/x", MultiDict([("t", "1"), ("t", "2")]), "t=1&t=2"),
        ("/x", [("t", "1"), ("u", "a b")], "t=1&u=a+b"),
        ("/x", {"t": ["1", "2"], "n": None}, "t=1&t=2"),
        ("/x", {"q": "ü&="}, "q=%C3%BC%26%3D"),
        ("/x?q=ü", None, "q=%C3%BC"),
        ("/x", "", ""),
    ],
)
def test_query_string_merging(path: str, query_string: t.Any, expected: str) -> None:
    environ = EnvironBuilder(path=path, query_string=query_string).get_environ()
    assert environ["PATH_INFO"] == "/x"
    assert environ["QUERY_STRING"] == expected
    assert environ["REQUEST_URI"] == ("/x?" + expected if expected else "/x")


def test_non_ascii_path_is_wsgi_latin1() -> None:
    environ = EnvironBuilder(path="/ünï/a b").get_environ()
    assert environ["PATH_INFO"] == "/ünï/a b".encode().decode("latin-1")
    assert environ["REQUEST_URI"] == "/%C3%BCn%C3%AF/a%20b"


def test_percent_encoded_path_is_decoded() -> None:
    environ = EnvironBuilder(path="/a%20b/%C3%BC").get_environ()
    assert environ["PATH_INFO"] == "/a b/" + "ü".encode().decode("latin-1")
    assert environ["REQUEST_URI"] == "/a%20b/%C3%BC"


def test_relative_path_gets_slash() -> None:
    assert EnvironBuilder(path="x").get_environ()["PATH_INFO"] == "/x"


def test_app_config_supplies_host_root_and_scheme() -> None:
    app = FakeApp(
        SERVER_NAME="example.com:8080", APPLICATION_ROOT="/root/", PREFERRED_URL_SCHEME="https"
    )
    environ = EnvironBuilder(app, "/x").get_environ()
    assert environ["HTTP_HOST"] == "example.com:8080"
    assert environ["SERVER_NAME"] == "example.com"
    assert environ["SERVER_PORT"] == "8080"
    assert environ["SCRIPT_NAME"] == "/root"
    assert environ["PATH_INFO"] == "/x"
    assert environ["REQUEST_URI"] == "/root/x"
    assert environ["wsgi.url_scheme"] == "https"


def test_app_without_server_name_uses_localhost() -> None:
    environ = EnvironBuilder(FakeApp(), "/").get_environ()
    assert environ["HTTP_HOST"] == "localhost"


def test_https_default_port() -> None:
    environ = EnvironBuilder(FakeApp(PREFERRED_URL_SCHEME="https")).get_environ()
    assert environ["SERVER_PORT"] == "443"


def test_subdomain_and_url_scheme() -> None:
    app = FakeApp(SERVER_NAME="example.com")
    environ = EnvironBuilder(app, "/", subdomain="api", url_scheme="https").get_environ()
    assert environ["HTTP_HOST"] == "api.example.com"
    assert environ["wsgi.url_scheme"] == "https"


def test_full_url_as_path() -> None:
    environ = EnvironBuilder(FakeApp(), "https://other.test:444/p?q=1").get_environ()
    assert environ["HTTP_HOST"] == "other.test:444"
    assert environ["SERVER_PORT"] == "444"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["PATH_INFO"] == "/p"
    assert environ["QUERY_STRING"] == "q=1"


def test_base_url() -> None:
    environ = EnvironBuilder(path="/x", base_url="http://h.test/app/").get_environ()
    assert environ["HTTP_HOST"] == "h.test"
    assert environ["SCRIPT_NAME"] == "/app"
    assert environ["PATH_INFO"] == "/x"


def test_base_url_with_subdomain_is_an_error() -> None:
    with pytest.raises(TypeError, match="base_url"):
        EnvironBuilder(path="/", base_url="http://h.test", subdomain="x")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Foo": "bar", "Content-Type": "text/plain"},
        [("X-Foo", "bar"), ("Content-Type", "text/plain")],
        Headers([("X-Foo", "bar"), ("Content-Type", "text/plain")]),
    ],
)
def test_headers_become_http_keys(headers: t.Any) -> None:
    environ = EnvironBuilder(headers=headers, data=b"hi").get_environ()
    assert environ["HTTP_X_FOO"] == "bar"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "2"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert "HTTP_CONTENT_LENGTH" not in environ


def test_repeated_headers_are_joined() -> None:
    environ = EnvironBuilder(
        headers=[("Accept", "a/b"), ("Accept", "c/d"), ("Cookie", "a=1"), ("Cookie", "b=2")]
    ).get_environ()
    assert environ["HTTP_ACCEPT"] == "a/b, c/d"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"


def test_host_header_overrides() -> None:
    environ = EnvironBuilder(headers={"Host": "h.test"}).get_environ()
    assert environ["HTTP_HOST"] == "h.test"


def test_non_ascii_header_is_utf8_in_latin1() -> None:
    environ = EnvironBuilder(headers={"X-Name": "ü"}).get_environ()
    assert environ["HTTP_X_NAME"] == "ü".encode().decode("latin-1")


def test_auth_tuple() -> None:
    environ = EnvironBuilder(auth=("user", "pass")).get_environ()
    assert environ["HTTP_AUTHORIZATION"] == "Basic dXNlcjpwYXNz"


def test_json_body() -> None:
    environ = EnvironBuilder(method="POST", json={"a": [1, "ü"]}).get_environ()
    assert environ["CONTENT_TYPE"] == "application/json"
    body = environ["wsgi.input"].read()
    assert json.loads(body) == {"a": [1, "ü"]}
    assert environ["CONTENT_LENGTH"] == str(len(body))


def test_json_keeps_given_content_type() -> None:
    environ = EnvironBuilder(json=[1], content_type="application/vnd.x+json").get_environ()
    assert environ["CONTENT_TYPE"] == "application/vnd.x+json"


def test_json_uses_app_provider() -> None:
    class Provider:
        def dumps(self, obj: t.Any) -> str:
            return "custom:" + json.dumps(obj)

    app = FakeApp()
    app.json = Provider()  # type: ignore[attr-defined]
    environ = EnvironBuilder(app, json={"a": 1}).get_environ()
    assert environ["wsgi.input"].read() == b'custom:{"a": 1}'


def test_json_and_data_together_is_an_error() -> None:
    with pytest.raises(TypeError, match="'json' or 'data'"):
        EnvironBuilder(json={}, data=b"x")


def test_data_and_input_stream_together_is_an_error() -> None:
    with pytest.raises(TypeError, match="'data' or 'input_stream'"):
        EnvironBuilder(data=b"x", input_stream=io.BytesIO())


@pytest.mark.parametrize(("data", "body"), [(b"raw", b"raw"), ("ü", "ü".encode())])
def test_bytes_and_str_data(data: t.Any, body: bytes) -> None:
    environ = EnvironBuilder(method="PUT", data=data, content_type="text/plain").get_environ()
    assert environ["wsgi.input"].read() == body
    assert environ["CONTENT_LENGTH"] == str(len(body))
    assert environ["CONTENT_TYPE"] == "text/plain"


def test_str_data_uses_charset() -> None:
    environ = EnvironBuilder(data="ü", charset="latin-1").get_environ()
    assert environ["wsgi.input"].read() == b"\xfc"


def test_data_without_content_type_has_none() -> None:
    environ = EnvironBuilder(data=b"x").get_environ()
    assert "CONTENT_TYPE" not in environ


def test_file_object_as_data() -> None:
    environ = EnvironBuilder(data=io.BytesIO(b"stream")).get_environ()
    assert environ["wsgi.input"].read() == b"stream"


def test_mimetype_sets_content_type() -> None:
    assert EnvironBuilder(mimetype="text/csv").get_environ()["CONTENT_TYPE"] == "text/csv"


def test_explicit_content_length() -> None:
    environ = EnvironBuilder(data=b"abc", content_length=2).get_environ()
    assert environ["CONTENT_LENGTH"] == "2"


def test_input_stream_length_from_position() -> None:
    stream = io.BytesIO(b"xxbody")
    stream.seek(2)
    environ = EnvironBuilder(input_stream=stream).get_environ()
    assert environ["wsgi.input"] is stream
    assert environ["CONTENT_LENGTH"] == "4"


@pytest.mark.parametrize(
    "data",
    [
        {"a": "1", "b": ["2", "3"], "c": 4},
        MultiDict([("a", "1"), ("b", "2"), ("b", "3"), ("c", 4)]),
        [("a", "1"), ("b", "2"), ("b", "3"), ("c", 4)],
    ],
)
def test_urlencoded_form(data: t.Any) -> None:
    environ = EnvironBuilder(method="POST", data=data).get_environ()
    assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    body = environ["wsgi.input"].read()
    assert parse_qsl(body.decode()) == [("a", "1"), ("b", "2"), ("b", "3"), ("c", "4")]
    assert environ["CONTENT_LENGTH"] == str(len(body))


def test_urlencoded_form_non_ascii() -> None:
    body = EnvironBuilder(data={"k": "ü x"}).get_environ()["wsgi.input"].read()
    assert body == b"k=%C3%BC+x"


def test_empty_form_has_no_body_or_type() -> None:
    environ = EnvironBuilder(method="POST", data={}).get_environ()
    assert "CONTENT_TYPE" not in environ
    assert environ["wsgi.input"].read() == b""


def test_multipart_form_with_files(tmp_path: t.Any) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"from disk")
    with open(path, "rb") as on_disk:
        builder = EnvironBuilder(
            method="POST",
            data={
                "field": "välue",
                "two": (io.BytesIO(b"\x00\x01binary"), "a.bin"),
                "three": (io.BytesIO(b"<p>"), "page.html", "text/x-custom"),
                "storage": FileStorage(io.BytesIO(b"fs"), filename="fs.txt", content_type="a/b"),
                "disk": on_disk,
                "many": [(io.BytesIO(b"1"), "one.txt"), (io.BytesIO(b"2"), "two.txt")],
            },
        )
        environ = builder.get_environ()
    content_type = environ["CONTENT_TYPE"]
    assert content_type.startswith("multipart/form-data; boundary=")
    body = environ["wsgi.input"].read()
    assert environ["CONTENT_LENGTH"] == str(len(body))
    parts = parse_multipart(content_type, body)
    assert parts == [
        ("field", None, "text/plain", "välue".encode()),
        ("two", "a.bin", "application/octet-stream", b"\x00\x01binary"),
        ("three", "page.html", "text/x-custom", b"<p>"),
        ("storage", "fs.txt", "a/b", b"fs"),
        ("disk", "notes.txt", "text/plain", b"from disk"),
        ("many", "one.txt", "text/plain", b"1"),
        ("many", "two.txt", "text/plain", b"2"),
    ]


def test_multipart_content_type_without_files() -> None:
    environ = EnvironBuilder(data={"a": "b"}, content_type="multipart/form-data").get_environ()
    parts = parse_multipart(environ["CONTENT_TYPE"], environ["wsgi.input"].read())
    assert parts == [("a", None, "text/plain", b"b")]


def test_multipart_encoded_twice_gives_same_files() -> None:
    builder = EnvironBuilder(data={"f": (io.BytesIO(b"data"), "f.txt")})
    first = builder.get_environ()
    second = builder.get_environ()
    for environ in (first, second):
        parts = parse_multipart(environ["CONTENT_TYPE"], environ["wsgi.input"].read())
        assert parts[0][3] == b"data"


def test_builder_close_closes_files() -> None:
    stream = io.BytesIO(b"x")
    builder = EnvironBuilder(data={"f": (stream, "f.txt")})
    builder.get_environ()
    builder.close()
    assert stream.closed


def test_builder_as_context_manager_closes_files() -> None:
    stream = io.BytesIO(b"x")
    with EnvironBuilder(data={"f": (stream, "f.txt")}) as builder:
        builder.get_environ()
    assert stream.closed


def test_add_file_from_path(tmp_path: t.Any) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(b"png")
    builder = EnvironBuilder(data={"f": (str(path),)})
    environ = builder.get_environ()
    builder.close()
    parts = parse_multipart(environ["CONTENT_TYPE"], environ["wsgi.input"].read())
    assert parts == [("f", "pic.png", "image/png", b"png")]


def test_encode_multipart_escapes_names() -> None:
    boundary, body = encode_multipart(
        [('a"b\r\n', FileStorage(io.BytesIO(b"x"), filename='q"uote'))], boundary="BOUND"
    )
    assert boundary == "BOUND"
    assert b'name="a%22b%0D%0A"; filename="q%22uote"' in body
    assert body.startswith(b"--BOUND\r\n")
    assert body.endswith(b"--BOUND--\r\n")


def test_encode_multipart_random_boundary() -> None:
    first, _ = encode_multipart({"a": "1"})
    second, _ = encode_multipart({"a": "1"})
    assert first != second


def test_environ_base_and_overrides() -> None:
    environ = EnvironBuilder(
        environ_base={"REMOTE_ADDR": "10.0.0.1", "custom": 1, "PATH_INFO": "/lost"},
        environ_overrides={"SERVER_PROTOCOL": "HTTP/1.0"},
        path="/kept",
    ).get_environ()
    assert environ["REMOTE_ADDR"] == "10.0.0.1"
    assert environ["custom"] == 1
    assert environ["PATH_INFO"] == "/kept"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert environ["HTTP_USER_AGENT"].startswith("erlen/")


def test_user_agent_header_wins() -> None:
    environ = EnvironBuilder(headers={"User-Agent": "me"}).get_environ()
    assert environ["HTTP_USER_AGENT"] == "me"


# -- running apps ------------------------------------------------------------


class TrackedBody:
    """A WSGI body that records how far it was read and whether it was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.closed = 0

    def __iter__(self) -> cabc.Iterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk

    def close(self) -> None:
        self.closed += 1


def tracked_app(body: TrackedBody) -> t.Any:
    def app(environ: Environ, start_response: StartResponse) -> TrackedBody:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    return app


def test_buffered_reads_and_closes_at_once() -> None:
    body = TrackedBody([b"a", b"b"])
    response = ErlenClient(tracked_app(body)).get("/", buffered=True)
    assert body.read == 2
    assert body.closed == 1
    assert response.get_data() == b"ab"
    response.close()
    assert body.closed == 1


def test_streamed_is_lazy_and_closed_when_read() -> None:
    body = TrackedBody([b"a", b"b"])
    response = ErlenClient(tracked_app(body)).get("/")
    assert body.read == 0
    assert body.closed == 0
    assert response.get_data(as_text=True) == "ab"
    assert body.read == 2
    assert body.closed == 1
    response.close()
    assert body.closed == 1


def test_streamed_closed_by_response_close() -> None:
    body = TrackedBody([b"a", b"b"])
    response = ErlenClient(tracked_app(body)).get("/")
    response.close()
    assert body.read == 0
    assert body.closed == 1


def test_start_response_inside_generator() -> None:
    def app(environ: Environ, start_response: StartResponse) -> cabc.Iterator[bytes]:
        start_response("201 Created", [("X-A", "1")])
        yield b"first"
        yield b"second"

    response = ErlenClient(app).get("/")
    assert response.status_code == 201
    assert response.headers["X-A"] == "1"
    assert response.get_data() == b"firstsecond"


def test_write_callable() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"written ")
        return [b"returned"]

    assert ErlenClient(app).get("/").get_data() == b"written returned"


def test_start_response_exc_info_replaces_status_before_body() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-Old", "1")])
        try:
            raise ValueError("boom")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"error"]

    response = ErlenClient(app).get("/")
    assert response.status_code == 500
    assert "X-Old" not in response.headers


def test_start_response_exc_info_after_body_reraises() -> None:
    def app(environ: Environ, start_response: StartResponse) -> cabc.Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        try:
            raise ValueError("late")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        yield b"never"

    response = ErlenClient(app).get("/")
    with pytest.raises(ValueError, match="late"):
        response.get_data()


def test_start_response_twice_is_an_error() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        start_response("200 OK", [])
        return []

    with pytest.raises(AssertionError, match="twice"):
        ErlenClient(app).get("/")


def test_app_without_start_response() -> None:
    body = TrackedBody([])

    def app(environ: Environ, start_response: StartResponse) -> TrackedBody:
        return body

    with pytest.raises(RuntimeError, match="without calling start_response"):
        ErlenClient(app).get("/")
    assert body.closed == 1


def test_app_error_propagates_and_closes() -> None:
    body = TrackedBody([])

    class Failing(TrackedBody):
        def __iter__(self) -> cabc.Iterator[bytes]:
            raise KeyError("broken")

    failing = Failing([])

    def app(environ: Environ, start_response: StartResponse) -> TrackedBody:
        return failing

    with pytest.raises(KeyError, match="broken"):
        ErlenClient(app).get("/", buffered=True)
    assert failing.closed == 1
    assert body.closed == 0


def test_run_wsgi_app_returns_parts() -> None:
    body, status, headers = run_wsgi_app(echo_app, EnvironBuilder().get_environ(), buffered=True)
    assert status == "200 OK"
    assert headers == [("Content-Type", "application/json")]
    assert json.loads(b"".join(body))["PATH_INFO"] == "/"


# -- the client and its responses ---------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options", "trace"])
def test_method_helpers(method: str) -> None:
    client = ErlenClient(echo_app)
    info = json.loads(getattr(client, method)("/p").get_data())
    assert info["REQUEST_METHOD"] == method.upper()


def test_head_helper() -> None:
    response = ErlenClient(echo_app).head("/")
    assert json.loads(response.get_data())["REQUEST_METHOD"] == "HEAD"


def test_open_with_builder_and_environ() -> None:
    client = ErlenClient(echo_app)
    builder = EnvironBuilder(path="/from-builder", method="PUT")
    assert echo(client, builder)["PATH_INFO"] == "/from-builder"
    environ = EnvironBuilder(path="/from-environ").get_environ()
    del environ["REMOTE_ADDR"]
    info = echo(client, environ)
    assert info["PATH_INFO"] == "/from-environ"
    assert info["REMOTE_ADDR"] == "127.0.0.1"
    assert "REMOTE_ADDR" not in environ


def test_open_with_minimal_environ_dict() -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/m", "SERVER_NAME": "localhost"}
    assert echo(ErlenClient(echo_app), environ)["body"] == ""


def test_client_environ_base() -> None:
    client = ErlenClient(echo_app)
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    assert echo(client, "/")["REMOTE_ADDR"] == "192.0.2.1"
    info = echo(client, "/", environ_base={"REMOTE_ADDR": "192.0.2.2"})
    assert info["REMOTE_ADDR"] == "192.0.2.2"


def test_client_passes_app_to_builder() -> None:
    client = ErlenClient(FakeApp(SERVER_NAME="app.test", APPLICATION_ROOT="/r"))
    info = echo(client, "/x")
    assert info["HTTP_HOST"] == "app.test"
    assert info["SCRIPT_NAME"] == "/r"


def test_response_attributes() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("418 I'm a teapot", [("Content-Type", "application/json")])
        return [b'{"a": "\\u00fc"}']

    response = ErlenClient(app).get("/")
    assert isinstance(response, HttpResponse)
    response = t.cast(t.Any, response)
    assert response.status == "418 I'm a teapot"
    assert response.status_code == 418
    assert response.headers["Content-Type"] == "application/json"
    assert response.data == b'{"a": "\\u00fc"}'
    assert response.text == '{"a": "\\u00fc"}'
    assert response.get_data(as_text=True) == '{"a": "\\u00fc"}'
    assert response.json == {"a": "ü"}
    assert response.history == ()


def test_response_class_follows_app() -> None:
    app = FakeApp()
    app.response_class = CustomResponse  # type: ignore[attr-defined]
    response = ErlenClient(app).get("/")
    assert isinstance(response, CustomResponse)
    assert type(response).__name__ == "TestCustomResponse"
    assert type(ErlenClient(app).get("/")) is type(response)


def test_response_wrapper_argument() -> None:
    client = ErlenClient(echo_app, CustomResponse)
    assert isinstance(client.get("/"), CustomResponse)
    assert ErlenClient(echo_app, TestResponse).response_wrapper is TestResponse


def test_test_response_is_app_response() -> None:
    assert issubclass(TestResponse, AppResponse)
    assert TestResponse.default_mimetype == "text/html"


def test_default_mimetype_when_app_sends_none() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    app.response_class = AppResponse  # type: ignore[attr-defined]
    response = ErlenClient(app).get("/")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_flask_client_alias_and_helper() -> None:
    assert FlaskClient is ErlenClient
    client = test_client_for(echo_app, use_cookies=False)
    assert isinstance(client, ErlenClient)
    with pytest.raises(TypeError, match="disabled"):
        client.get_cookie("x")


def test_test_client_for_uses_app_client_class() -> None:
    class MyClient(ErlenClient):
        pass

    app = FakeApp()
    app.test_client_class = MyClient  # type: ignore[attr-defined]
    assert type(test_client_for(app)) is MyClient


# -- redirects ---------------------------------------------------------------


def redirect_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """/redirect/<code>?to=<location> redirects; anything else echoes."""
    path = environ["PATH_INFO"]
    if path.startswith("/redirect/") and path[10:].isdigit():
        code = int(path.rsplit("/", 1)[1])
        query = dict(parse_qsl(environ["QUERY_STRING"]))
        environ["wsgi.input"].read()
        start_response(f"{code} Redirect", [("Location", query.get("to", "/target"))])
        return [b"redirecting"]
    return echo_app(environ, start_response)


@pytest.mark.parametrize("code", [301, 302, 303])
def test_redirect_becomes_get_without_body(code: int) -> None:
    client = ErlenClient(redirect_app)
    response = client.post(
        f"/redirect/{code}", data={"a": "b"}, headers={"X-Keep": "1"}, follow_redirects=True
    )
    info = json.loads(response.get_data())
    assert info["REQUEST_METHOD"] == "GET"
    assert info["PATH_INFO"] == "/target"
    assert info["body"] == ""
    assert "CONTENT_TYPE" not in info
    assert "CONTENT_LENGTH" not in info
    assert info["HTTP_X_KEEP"] == "1"
    assert [r.status_code for r in response.history] == [code]


@pytest.mark.parametrize("code", [307, 308])
def test_redirect_repeats_method_and_body(code: int) -> None:
    client = ErlenClient(redirect_app)
    response = client.put(f"/redirect/{code}", data={"a": "b"}, follow_redirects=True)
    info = json.loads(response.get_data())
    assert info["REQUEST_METHOD"] == "PUT"
    assert info["body"] == "a=b"
    assert info["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert info["CONTENT_LENGTH"] == "3"


def test_307_with_unseekable_stream_is_an_error() -> None:
    class Unseekable(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: t.Any) -> int:
            return 0

        def tell(self) -> int:
            raise OSError("no position")

    client = ErlenClient(redirect_app)
    with pytest.raises(RuntimeError, match="Cannot repeat the request body"):
        client.post(
            "/redirect/307",
            input_stream=Unseekable(),
            content_length=0,
            follow_redirects=True,
        )


def test_head_stays_head_on_302() -> None:
    response = ErlenClient(redirect_app).head("/redirect/302", follow_redirects=True)
    assert json.loads(response.get_data())["REQUEST_METHOD"] == "HEAD"


def test_redirect_not_followed_by_default() -> None:
    response = ErlenClient(redirect_app).get("/redirect/302")
    assert response.status_code == 302
    assert response.headers["Location"] == "/target"


@pytest.mark.parametrize(
    ("start", "location", "path", "query"),
    [
        ("/redirect/302", "/abs?x=1", "/abs", "x=1"),
        ("/redirect/302", "http://localhost/full", "/full", ""),
        ("/redirect/302", "sibling", "/redirect/sibling", ""),
        ("/redirect/302", "../up", "/up", ""),
        ("/redirect/302", "/%C3%BC", "/" + "ü".encode().decode("latin-1"), ""),
    ],
)
def test_redirect_locations(start: str, location: str, path: str, query: str) -> None:
    response = ErlenClient(redirect_app).get(
        start, query_string={"to": location}, follow_redirects=True
    )
    info = json.loads(response.get_data())
    assert info["PATH_INFO"] == path
    assert info["QUERY_STRING"] == query


def test_redirect_to_other_port_same_host() -> None:
    response = ErlenClient(redirect_app).get(
        "/redirect/302", query_string={"to": "https://localhost:8443/s"}, follow_redirects=True
    )
    info = json.loads(response.get_data())
    assert info["HTTP_HOST"] == "localhost:8443"
    assert info["SERVER_PORT"] == "8443"
    assert info["wsgi.url_scheme"] == "https"


def test_redirect_under_script_root() -> None:
    app = FakeApp(APPLICATION_ROOT="/root")

    def rooted(environ: Environ, start_response: StartResponse) -> list[bytes]:
        return redirect_app(environ, start_response)

    rooted.config = app.config  # type: ignore[attr-defined]
    client = ErlenClient(rooted)
    inside = client.get("/redirect/302", query_string={"to": "/root/in"}, follow_redirects=True)
    info = json.loads(inside.get_data())
    assert (info["SCRIPT_NAME"], info["PATH_INFO"]) == ("/root", "/in")
    outside = client.get("/redirect/302", query_string={"to": "/out"}, follow_redirects=True)
    info = json.loads(outside.get_data())
    assert (info["SCRIPT_NAME"], info["PATH_INFO"]) == ("", "/out")


def test_redirect_history_in_order() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/one":
            start_response("301 Moved", [("Location", "/two")])
        elif path == "/two":
            start_response("302 Found", [("Location", "/three")])
        else:
            start_response("200 OK", [])
        return [path.encode()]

    response = ErlenClient(app).get("/one", follow_redirects=True)
    assert response.get_data() == b"/three"
    assert [r.get_data() for r in response.history] == [b"/one", b"/two"]
    assert [r.status_code for r in response.history] == [301, 302]
    assert response.history[1].history == (response.history[0],)
    assert response.history[0].history == ()
    assert response.request.path == "/three"


def test_redirect_to_external_host_is_an_error() -> None:
    client = ErlenClient(redirect_app)
    with pytest.raises(RuntimeError, match="cannot follow a redirect to the external server"):
        client.get(
            "/redirect/302", query_string={"to": "http://example.com/"}, follow_redirects=True
        )


def test_redirect_to_subdomain() -> None:
    client = ErlenClient(redirect_app)
    args = {"query_string": {"to": "http://api.localhost/s"}, "follow_redirects": True}
    with pytest.raises(RuntimeError, match="allow_subdomain_redirects"):
        client.get("/redirect/302", **args)
    client.allow_subdomain_redirects = True
    info = json.loads(client.get("/redirect/302", **args).get_data())
    assert info["HTTP_HOST"] == "api.localhost"


def test_redirect_loop_is_detected() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        other = "/b" if environ["PATH_INFO"] == "/a" else "/a"
        start_response("302 Found", [("Location", other)])
        return [b""]

    with pytest.raises(ClientRedirectError, match=r"Redirect loop.*'/b'.*already followed"):
        ErlenClient(app).get("/a", follow_redirects=True)


def test_too_many_redirects() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        n = int(environ["PATH_INFO"].strip("/") or 0)
        start_response("302 Found", [("Location", f"/{n + 1}")])
        return [b""]

    client = ErlenClient(app)
    client.max_redirects = 5
    with pytest.raises(ClientRedirectError, match="Followed 5 redirects"):
        client.get("/", follow_redirects=True)


def test_redirect_without_location_stops() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("302 Found", [])
        return [b""]

    response = ErlenClient(app).get("/", follow_redirects=True)
    assert response.status_code == 302
    assert response.history == ()


def test_intermediate_redirect_bodies_are_closed() -> None:
    body = TrackedBody([b"x"])

    def app(environ: Environ, start_response: StartResponse) -> t.Any:
        if environ["PATH_INFO"] == "/start":
            start_response("302 Found", [("Location", "/end")])
            return body
        start_response("200 OK", [])
        return [b"end"]

    response = ErlenClient(app).get("/start", follow_redirects=True)
    assert body.closed == 1
    assert response.history[0].get_data() == b"x"


# -- cookies -----------------------------------------------------------------


def cookie_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """/set?<Set-Cookie values> sets cookies; every response echoes the Cookie header."""
    headers = []
    if environ["PATH_INFO"].endswith("/set"):
        headers = [("Set-Cookie", v) for _, v in parse_qsl(environ["QUERY_STRING"])]
    start_response("200 OK", [*headers, ("Content-Type", "text/plain")])
    return [environ.get("HTTP_COOKIE", "").encode()]


def set_cookies(client: ErlenClient, *values: str, path: str = "/set", **kw: t.Any) -> None:
    client.get(path, query_string=[("c", v) for v in values], **kw).close()


def sent_cookies(client: ErlenClient, path: str = "/", **kw: t.Any) -> str:
    return t.cast(str, client.get(path, **kw).get_data(as_text=True))


def test_cookie_is_stored_and_sent_back() -> None:
    client = ErlenClient(cookie_app)
    set_cookies(client, "a=1", 'b="quoted \\"v\\""; Path=/')
    assert sent_cookies(client) == 'a=1; b="quoted \\"v\\""'
    cookie = client.get_cookie("b")
    assert cookie is not None
    assert cookie.value == '"quoted \\"v\\""'
    assert cookie.decoded_value == 'quoted "v"'
    assert cookie.decoded_key == cookie.key == "b"


def test_cookie_attributes() -> None:
    client = ErlenClient(cookie_app)
    set_cookies(
        client,
        "s=v; Domain=.localhost; Path=/p; Max-Age=60; Secure; HttpOnly; SameSite=Lax;"
        " Expires=Wed, 21 Oct 2099 07:28:00 GMT",
    )
    cookie = client.get_cookie("s", path="/p")
    assert cookie is not None
    assert cookie.domain == "localhost"
    assert cookie.origin_only is False
    assert cookie.path == "/p"
    assert cookie.max_age == 60
    assert cookie.expires == datetime(2099, 10, 21, 7, 28, tzinfo=UTC).timestamp()
    assert cookie.secure is True
    assert cookie.http_only is True
    assert cookie.same_site == "Lax"
    assert client.get_cookie("s") is None


def test_cookie_path_matching() -> None:
    client = ErlenClient(cookie_app)
    set_cookies(client, "c=1; Path=/foo")
    assert sent_cookies(client, "/foo") == "c=1"
    assert sent_cookies(client, "/foo/bar") == "c=1"
    assert sent_cookies(client, "/foobar") == ""
    assert sent_cookies(client, "/") == ""


def test_cookie_path_with_trailing_slash() -> None:
    client = ErlenClient(cookie_app)
    set_cookies(client, "c=1; Path=/foo/")
    assert sent_cookies(client, "/foo/x") == "c=1"
    assert sent_cookies(client, "/foo") == ""


def test_cookie_default_path_is_request_directory() -> None:
    client = ErlenClient(cookie_app)
    set_cookies(client, "c=1", path="/dir/sub/set")
    assert client.get_cookie("c", path="/dir/sub") is not None
    assert sent_cookies(client, "/dir/sub/page") == "c=1"
    assert sent_cookies(client, "/dir/other") == ""


def test_cookie_host_only_vs_domain() -> None:
    client = ErlenClient(cookie_app)
    base = "http://example.com/"
    set_cookies(client, "host=1", "dom=2; Domain=example.com", base_url=base)
    assert sent_cookies(client, base_url=base) == "host=1; dom=2"
    assert sent_cookies(client, base_url="http://api.example.com/") == "dom=2"
    assert sent_cookies(client, base_url="http://badexample.com/") == ""
    assert sent_cookies(client) == ""


def test_cookie_deleted_by_max_age_zero_and_past_date() -> None:
    client = ErlenClient(cookie_app)
    set_cookies(client, "a=1", "b=2", "c=3")
    set_cookies(client, "a=; Max-Age=0", "b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert sent_cookies(client) == "c=3"
    assert client.get_cookie("a") is None
    assert client.get_cookie("b") is None


def test_cookie_expires_over_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    client = ErlenClient(cookie_app)
    set_cookies(client, "short=1; Max-Age=10", "long=2; Max-Age=100")
    assert sent_cookies(client) == "short=1; long=2"
    now[0] += 11
    assert client.get_cookie("short") is None
    assert sent_cookies(client) == "long=2"


def test_max_age_wins_over_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ErlenClient(cookie_app)
    set_cookies(client, "c=1; Max-Age=100; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert sent_cookies(client) == "c=1"


def test_set_get_delete_cookie() -> None:
    client = ErlenClient(cookie_app)
    client.set_cookie("k", "v w", path="/", httponly=True)
    cookie = client.get_cookie("k")
    assert isinstance(cookie, Cookie)
    assert cookie.decoded_value == "v w"
    assert cookie.http_only is True
    assert cookie.origin_only is True
    assert sent_cookies(client) == 'k="v w"'
    client.delete_cookie("k")
    assert client.get_cookie("k") is None
    assert sent_cookies(client) == ""


def test_set_cookie_for_domain_and_subdomains() -> None:
    client = ErlenClient(cookie_app)
    client.set_cookie("k", "v", domain="example.com", origin_only=False)
    assert sent_cookies(client, base_url="http://www.example.com") == "k=v"
    client.set_cookie("k", "v", domain="example.com")
    assert sent_cookies(client, base_url="http://www.example.com") == ""


def test_set_cookie_with_max_age_zero_removes() -> None:
    client = ErlenClient(cookie_app)
    client.set_cookie("k", "v")
    client.set_cookie("k", "", max_age=0)
    assert client.get_cookie("k") is None


def test_explicit_cookie_header_merges_with_jar() -> None:
    client = ErlenClient(cookie_app)
    client.set_cookie("jar", "1")
    assert sent_cookies(client, headers={"Cookie": "mine=2"}) == "mine=2; jar=1"


def test_cookies_disabled() -> None:
    client = ErlenClient(cookie_app, use_cookies=False)
    set_cookies(client, "a=1")
    assert sent_cookies(client) == ""
    assert sent_cookies(client, headers={"Cookie": "own=1"}) == "own=1"
    calls: list[cabc.Callable[[], object]] = [
        lambda: client.get_cookie("a"),
        lambda: client.set_cookie("a", "1"),
        lambda: client.delete_cookie("a"),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="Cookies are disabled.*use_cookies=True"):
            call()


def test_cookie_set_during_redirect_is_sent_to_target() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        if environ["PATH_INFO"] == "/login":
            start_response("302 Found", [("Location", "/home"), ("Set-Cookie", "sid=abc")])
            return [b""]
        return cookie_app(environ, start_response)

    client = ErlenClient(app)
    response = client.get("/login", headers={"Cookie": "own=1"}, follow_redirects=True)
    assert response.get_data() == b"own=1; sid=abc"


# -- context preservation ------------------------------------------------------


class FakeContext:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def push(self) -> None:
        self.log.append(f"push {self.name}")

    def pop(self) -> None:
        self.log.append(f"pop {self.name}")


def context_app(log: list[str]) -> t.Any:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        log.append(f"run {environ['PATH_INFO']}")
        preserve = environ.get(PRESERVE_CONTEXT_KEY)
        if preserve is not None:
            preserve(FakeContext(environ["PATH_INFO"], log))
        if environ["PATH_INFO"] == "/redirect":
            start_response("302 Found", [("Location", "/final")])
        else:
            start_response("200 OK", [])
        return [b""]

    return app


def test_no_preservation_outside_with() -> None:
    log: list[str] = []
    client = ErlenClient(context_app(log))
    client.get("/a")
    assert log == ["run /a"]


def test_with_client_keeps_last_context() -> None:
    log: list[str] = []
    client = ErlenClient(context_app(log))
    with client:
        client.get("/a")
        assert log == ["run /a", "push /a"]
        client.get("/b")
        assert log == ["run /a", "push /a", "pop /a", "run /b", "push /b"]
    assert log[-1] == "pop /b"
    client.get("/c")
    assert log[-1] == "run /c"


def test_with_client_after_redirects_keeps_final_context() -> None:
    log: list[str] = []
    client = ErlenClient(context_app(log))
    with client:
        client.get("/redirect", follow_redirects=True)
        assert log == ["run /redirect", "run /final", "push /final"]
    assert log[-1] == "pop /final"


def test_with_client_pops_on_error() -> None:
    log: list[str] = []
    client = ErlenClient(context_app(log))
    with pytest.raises(ZeroDivisionError), client:
        client.get("/a")
        1 / 0  # noqa: B018
    assert log[-1] == "pop /a"
    assert client.preserve_context is False


def test_nested_with_client_is_an_error() -> None:
    client = ErlenClient(echo_app)
    with client:
        with pytest.raises(RuntimeError, match="Cannot nest client invocations"):
            with client:
                pass
        assert client.preserve_context is True


# -- through a real Erlen app --------------------------------------------------


@pytest.fixture
def app() -> t.Any:
    from erlen import Erlen
    from erlen import g
    from erlen import redirect
    from erlen import request

    app = Erlen(__name__)

    @app.route("/hello")
    def hello() -> t.Any:
        g.setdefault("seen", request.args.get("q"))
        return {"q": request.args.get("q"), "ua": request.headers.get("User-Agent")}

    @app.route("/go")
    def go() -> t.Any:
        return redirect("/hello?q=redirected")

    @app.route("/upload", methods=["POST"])
    def upload() -> t.Any:
        f = request.files["f"]
        return {
            "form": request.form.to_dict(),
            "file": [f.filename, f.read().decode(), f.content_type],
        }

    @app.route("/json", methods=["POST"])
    def echo_json() -> t.Any:
        return {"got": request.get_json()}

    @app.route("/cookie")
    def cookie() -> t.Any:
        response = app.make_response(request.cookies.get("n", "none"))
        response.set_cookie("n", str(int(request.cookies.get("n", "0")) + 1))
        return response

    return app


def test_erlen_test_client_response(app: t.Any) -> None:
    from erlen.wrappers import Request

    client = app.test_client()
    assert isinstance(client, ErlenClient)
    response = client.get("/hello", query_string={"q": "1"})
    assert isinstance(response, TestResponse)
    assert isinstance(response, app.response_class)
    assert response.status_code == 200
    assert response.json == {"q": "1", "ua": response.request.headers["User-Agent"]}
    assert response.request.headers["User-Agent"].startswith("erlen/")
    assert isinstance(response.request, Request)
    assert response.request.args["q"] == "1"


def test_erlen_custom_response_class(app: t.Any) -> None:
    app.response_class = CustomResponse
    response: t.Any = app.test_client().get("/hello")
    assert issubclass(type(response), CustomResponse)
    assert isinstance(response, TestResponse)
    mro = type(response).__mro__
    assert mro.index(TestResponse) < mro.index(CustomResponse) < mro.index(AppResponse)
    assert response.request.path == "/hello"


def test_erlen_forms_and_json(app: t.Any) -> None:
    client = app.test_client()
    response = client.post("/upload", data={"a": "b", "f": (io.BytesIO(b"hi"), "x.txt")})
    assert response.json == {"form": {"a": "b"}, "file": ["x.txt", "hi", "text/plain"]}
    assert client.post("/json", json={"k": [1, 2]}).json == {"got": {"k": [1, 2]}}


def test_erlen_redirect_and_cookies(app: t.Any) -> None:
    client = app.test_client()
    response = client.get("/go", follow_redirects=True)
    assert response.json["q"] == "redirected"
    assert [r.status_code for r in response.history] == [302]
    assert client.get("/cookie").text == "none"
    assert client.get("/cookie").text == "1"
    assert client.get("/cookie").text == "2"
    cookie = client.get_cookie("n")
    assert cookie is not None
    assert cookie.value == "3"


def test_erlen_with_client_keeps_request_and_g(app: t.Any) -> None:
    from erlen import g
    from erlen import has_request_context
    from erlen import request

    client = app.test_client()
    with client:
        client.get("/hello?q=first")
        assert request.args["q"] == "first"
        assert g.get("seen") == "first"
        client.get("/go", follow_redirects=True)
        assert request.path == "/hello"
        assert request.args["q"] == "redirected"
    assert not has_request_context()
    client.get("/hello")
    assert not has_request_context()


def test_erlen_server_name_and_root(app: t.Any) -> None:
    from erlen import url_for

    app.config.update(SERVER_NAME="example.test", APPLICATION_ROOT="/base")
    client = app.test_client()
    with client:
        response = client.get("/hello")
        assert response.status_code == 200
        assert request_url() == "http://example.test/base/hello"
        assert url_for("hello", _external=True) == "http://example.test/base/hello"


def request_url() -> str:
    from erlen import request

    return request.url


# -- edge cases ----------------------------------------------------------------


def test_form_with_other_charset() -> None:
    body = EnvironBuilder(data={"k": "ü"}, charset="latin-1").get_environ()["wsgi.input"].read()
    assert body == b"k=%FC"


def test_pairs_with_list_values() -> None:
    environ = EnvironBuilder(data=[("a", ["1", "2"])]).get_environ()
    assert environ["wsgi.input"].read() == b"a=1&a=2"


def test_multipart_text_file_bytes_field_and_none() -> None:
    environ = EnvironBuilder(
        data={"t": (io.StringIO("text ü"), "t.txt"), "b": b"\xff", "n": None}
    ).get_environ()
    parts = parse_multipart(environ["CONTENT_TYPE"], environ["wsgi.input"].read())
    assert parts == [
        ("b", None, "text/plain", b"\xff"),
        ("t", "t.txt", "text/plain", "text ü".encode()),
    ]


def test_encode_multipart_skips_none() -> None:
    _, body = encode_multipart({"a": None, "b": "1"}, boundary="X")
    assert body == b'--X\r\nContent-Disposition: form-data; name="b"\r\n\r\n1\r\n--X--\r\n'


def test_unseekable_file_is_read_once() -> None:
    class OneShot(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readall(self) -> bytes:
            return b"once"

        def tell(self) -> int:
            raise OSError("not seekable")

    environ = EnvironBuilder(data={"f": (OneShot(), "f.bin")}).get_environ()
    parts = parse_multipart(environ["CONTENT_TYPE"], environ["wsgi.input"].read())
    assert parts[0][3] == b"once"


def test_input_stream_without_length() -> None:
    class Unsized(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def tell(self) -> int:
            raise OSError("not seekable")

    environ = EnvironBuilder(input_stream=t.cast(t.IO[bytes], Unsized())).get_environ()
    assert "CONTENT_LENGTH" not in environ


def test_auth_string() -> None:
    environ = EnvironBuilder(auth="Bearer token").get_environ()
    assert environ["HTTP_AUTHORIZATION"] == "Bearer token"


def test_get_request(app: t.Any) -> None:
    from erlen.wrappers import Request

    request = EnvironBuilder(app, "/p?a=1").get_request()
    assert isinstance(request, Request)
    assert request.args["a"] == "1"
    plain = EnvironBuilder(path="/q").get_request()
    assert plain.path == "/q"


def test_builder_close_ignores_errors() -> None:
    class BadClose(io.BytesIO):
        def close(self) -> None:
            raise OSError("cannot close")

    builder = EnvironBuilder(data={"f": (BadClose(b"x"), "f.txt")})
    builder.close()
    assert builder.files["f"].filename == "f.txt"


def test_ipv6_host() -> None:
    environ = EnvironBuilder(base_url="http://[::1]:8080/").get_environ()
    assert environ["SERVER_NAME"] == "[::1]"
    assert environ["SERVER_PORT"] == "8080"
    client = ErlenClient(cookie_app)
    set_cookies(client, "v6=1", base_url="http://[::1]:8080/")
    assert client.get_cookie("v6", domain="[::1]") is not None


def test_environ_without_http_host_redirects_with_port() -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/redirect/302",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8080",
        "wsgi.url_scheme": "http",
    }
    response = ErlenClient(redirect_app).open(environ, follow_redirects=True)
    info = json.loads(response.get_data())
    assert info["PATH_INFO"] == "/target"
    assert info["HTTP_HOST"] == "localhost:8080"


def test_open_with_request_object() -> None:
    client = ErlenClient(echo_app)
    first = client.get("/again?x=1")
    info = echo(client, first.request)
    assert (info["PATH_INFO"], info["QUERY_STRING"]) == ("/again", "x=1")


def test_response_request_can_be_set() -> None:
    response = ErlenClient(echo_app).get("/")
    marker = EnvironBuilder(path="/other").get_request()
    response.request = marker
    assert response.request is marker


def test_closed_body_iterator_stops() -> None:
    body, _, _ = run_wsgi_app(
        tracked_app(TrackedBody([b"a", b"b"])), EnvironBuilder().get_environ()
    )
    iterator = iter(body)
    assert next(iterator) == b"a"
    t.cast(t.Any, body).close()
    assert list(iterator) == []


def test_bad_max_age_is_ignored() -> None:
    client = ErlenClient(cookie_app)
    set_cookies(client, "c=1; Max-Age=soon")
    cookie = client.get_cookie("c")
    assert cookie is not None
    assert cookie.max_age is None


def test_client_repr() -> None:
    assert repr(ErlenClient(echo_app)).startswith("<ErlenClient <function echo_app")


def test_context_kept_after_app_error() -> None:
    log: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        environ[PRESERVE_CONTEXT_KEY](FakeContext("failed", log))
        raise LookupError("view failed")

    client = ErlenClient(app)
    with client:
        with pytest.raises(LookupError):
            client.get("/")
        assert log == ["push failed"]
    assert log == ["push failed", "pop failed"]


def test_reused_environ_does_not_preserve_outside_with() -> None:
    log: list[str] = []
    client = ErlenClient(context_app(log))
    with client:
        response = client.get("/a")
    environ = response.request.environ
    assert PRESERVE_CONTEXT_KEY in environ
    client.open(environ)
    assert log == ["run /a", "push /a", "pop /a", "run /a"]


def test_secure_cookie_is_sent_over_http() -> None:
    client = ErlenClient(cookie_app)
    set_cookies(client, "s=1; Secure")
    assert sent_cookies(client) == "s=1"


def test_plain_response_subclass_keeps_its_mimetype() -> None:
    class PlainJson(HttpResponse):
        default_mimetype = "application/json"

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b"{}"]

    app.response_class = PlainJson  # type: ignore[attr-defined]
    response = ErlenClient(app).get("/")
    assert isinstance(response, PlainJson)
    assert not isinstance(response, TestResponse)
    assert response.headers["Content-Type"] == "application/json"
    assert response.json == {}
