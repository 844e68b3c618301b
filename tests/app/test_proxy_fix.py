"""Tests for erlen.middleware.proxy_fix: ProxyFix on its own and in front of a real app."""

from __future__ import annotations

import collections.abc as cabc
import io
import json
import typing as t

import pytest

from erlen import Erlen
from erlen import request
from erlen import url_for
from erlen.middleware.proxy_fix import ORIG_KEY
from erlen.middleware.proxy_fix import ProxyFix

Environ = dict[str, t.Any]


def make_environ(**extra: t.Any) -> Environ:
    environ: Environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "internal",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "internal:8000",
        "REMOTE_ADDR": "10.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(extra)
    return environ


def run(middleware: ProxyFix, environ: Environ) -> tuple[str, bytes]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc: t.Any = None) -> None:
        seen["status"] = status

    iterable = middleware(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return seen["status"], body


def recorder() -> tuple[list[Environ], cabc.Callable[..., cabc.Iterable[bytes]]]:
    # A bare WSGI app that records the environ it was given.
    seen: list[Environ] = []

    def app(environ: Environ, start_response: cabc.Callable[..., t.Any]) -> list[bytes]:
        seen.append(dict(environ))
        start_response("204 No Content", [])
        return []

    return seen, app


def fixed(environ: Environ, **trust: int) -> Environ:
    seen, app = recorder()
    run(ProxyFix(app, **trust), environ)
    return seen[0]


# -- through a real app ----------------------------------------------------------------


@pytest.fixture
def app() -> Erlen:
    app = Erlen("erlen_proxy_fix_test")

    @app.route("/")
    def index() -> dict[str, t.Any]:
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "url": request.url,
            "external": url_for("page", name="x", _external=True),
            "relative": url_for("page", name="x"),
        }

    @app.route("/page/<name>")
    def page(name: str) -> str:
        return name

    return app


def app_json(app: Erlen, **extra: t.Any) -> dict[str, t.Any]:
    status, body = run(t.cast(ProxyFix, app), make_environ(**extra))
    assert status == "200 OK"
    return t.cast(dict[str, t.Any], json.loads(body))


def test_app_without_proxy_fix_sees_the_proxy(app: Erlen) -> None:
    data = app_json(app, HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    assert data["remote_addr"] == "10.0.0.1"
    assert data["scheme"] == "http"
    assert data["url"] == "http://internal:8000/"


def test_app_behind_proxy_fix(app: Erlen) -> None:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    data = app_json(
        app,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="www.example.com",
    )
    assert data == {
        "remote_addr": "203.0.113.9",
        "scheme": "https",
        "host": "www.example.com",
        "url": "https://www.example.com/",
        "external": "https://www.example.com/page/x",
        "relative": "/page/x",
    }


def test_app_behind_proxy_fix_with_port_and_prefix(app: Erlen) -> None:
    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
    )
    data = app_json(
        app,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="www.example.com",
        HTTP_X_FORWARDED_PORT="8443",
        HTTP_X_FORWARDED_PREFIX="/shop/",
    )
    assert data["host"] == "www.example.com:8443"
    assert data["url"] == "https://www.example.com:8443/shop/"
    assert data["external"] == "https://www.example.com:8443/shop/page/x"
    assert data["relative"] == "/shop/page/x"


def test_app_default_trust_leaves_host_alone(app: Erlen) -> None:
    app.wsgi_app = ProxyFix(app.wsgi_app)  # type: ignore[method-assign]
    data = app_json(
        app,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="evil.example",
    )
    assert data["remote_addr"] == "203.0.113.9"
    assert data["scheme"] == "https"
    assert data["host"] == "internal:8000"


# -- the middleware on its own ---------------------------------------------------------


def test_originals_are_kept() -> None:
    environ = fixed(
        make_environ(
            HTTP_X_FORWARDED_FOR="1.2.3.4",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_HOST="example.com",
            HTTP_X_FORWARDED_PREFIX="/p",
        ),
        x_host=1,
        x_prefix=1,
    )
    assert environ[ORIG_KEY] == {
        "REMOTE_ADDR": "10.0.0.1",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "internal:8000",
        "SERVER_NAME": "internal",
        "SERVER_PORT": "8000",
        "SCRIPT_NAME": "",
    }
    assert ORIG_KEY == "erlen.proxy_fix.orig"
    assert environ["SCRIPT_NAME"] == "/p"


def test_no_headers_changes_nothing_but_records_originals() -> None:
    before = make_environ()
    environ = fixed(make_environ(), x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    orig = environ.pop(ORIG_KEY)
    assert {k: v for k, v in environ.items() if not k.startswith("wsgi.")} == {
        k: v for k, v in before.items() if not k.startswith("wsgi.")
    }
    assert orig["HTTP_HOST"] == "internal:8000"


@pytest.mark.parametrize(
    ("x_for", "header", "expected"),
    [
        (1, "1.1.1.1", "1.1.1.1"),
        (1, "spoofed, 1.1.1.1, 2.2.2.2", "2.2.2.2"),
        (2, "spoofed, 1.1.1.1, 2.2.2.2", "1.1.1.1"),
        (3, "spoofed, 1.1.1.1, 2.2.2.2", "spoofed"),
        # SECURITY: fewer values than trusted proxies: a proxy did not add one.
        (2, "1.1.1.1", "10.0.0.1"),
        (0, "1.1.1.1", "10.0.0.1"),
        (1, "", "10.0.0.1"),
        (1, "1.1.1.1, ", "10.0.0.1"),
        (1, "bad value", "10.0.0.1"),
        (1, "1.1.1.1\r\nX: y", "10.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "[2001:db8::1]:4711", "[2001:db8::1]:4711"),
        (1, "unknown", "unknown"),
    ],
)
def test_x_for(x_for: int, header: str, expected: str) -> None:
    environ = fixed(make_environ(HTTP_X_FORWARDED_FOR=header), x_for=x_for)
    assert environ["REMOTE_ADDR"] == expected


@pytest.mark.parametrize(
    ("x_proto", "header", "expected"),
    [
        (1, "https", "https"),
        (1, "HTTPS", "https"),
        (1, "http, https", "https"),
        (2, "http, https", "http"),
        (2, "https", "http"),
        (1, "wss", "wss"),
        (1, "javascript", "http"),
        (1, "https\r\n", "https"),
        (1, "ht tps", "http"),
        (0, "https", "http"),
    ],
)
def test_x_proto(x_proto: int, header: str, expected: str) -> None:
    environ = fixed(make_environ(HTTP_X_FORWARDED_PROTO=header), x_proto=x_proto)
    assert environ["wsgi.url_scheme"] == expected


@pytest.mark.parametrize(
    ("header", "host", "server_name", "server_port"),
    [
        ("example.com", "example.com", "example.com", "80"),
        ("example.com:8443", "example.com:8443", "example.com", "8443"),
        ("a.example, example.com", "example.com", "example.com", "80"),
        ("[2001:db8::1]", "[2001:db8::1]", "[2001:db8::1]", "80"),
        ("[2001:db8::1]:9000", "[2001:db8::1]:9000", "[2001:db8::1]", "9000"),
        ("192.0.2.1:81", "192.0.2.1:81", "192.0.2.1", "81"),
        # Malformed: ignored, the original host stays.
        ("evil.example/path", "internal:8000", "internal", "8000"),
        ("evil example", "internal:8000", "internal", "8000"),
        ("example.com:99999", "internal:8000", "internal", "8000"),
        ("example.com:", "internal:8000", "internal", "8000"),
        ("user@example.com", "internal:8000", "internal", "8000"),
        ("-leading.example", "internal:8000", "internal", "8000"),
    ],
)
def test_x_host(header: str, host: str, server_name: str, server_port: str) -> None:
    environ = fixed(make_environ(HTTP_X_FORWARDED_HOST=header), x_host=1)
    assert environ["HTTP_HOST"] == host
    assert environ["SERVER_NAME"] == server_name
    assert environ["SERVER_PORT"] == server_port


def test_x_host_default_port_follows_forwarded_scheme() -> None:
    environ = fixed(
        make_environ(HTTP_X_FORWARDED_HOST="example.com", HTTP_X_FORWARDED_PROTO="https"),
        x_host=1,
    )
    assert environ["SERVER_PORT"] == "443"


def test_x_host_untrusted_count() -> None:
    environ = fixed(make_environ(HTTP_X_FORWARDED_HOST="example.com"), x_host=2)
    assert environ["HTTP_HOST"] == "internal:8000"


@pytest.mark.parametrize(
    ("header", "host", "server_port"),
    [
        ("8443", "internal:8443", "8443"),
        ("80, 8443", "internal:8443", "8443"),
        ("0", "internal:8000", "8000"),
        ("65536", "internal:8000", "8000"),
        ("abc", "internal:8000", "8000"),
        ("-1", "internal:8000", "8000"),
        ("８０", "internal:8000", "8000"),
    ],
)
def test_x_port(header: str, host: str, server_port: str) -> None:
    environ = fixed(make_environ(HTTP_X_FORWARDED_PORT=header), x_port=1)
    assert environ["HTTP_HOST"] == host
    assert environ["SERVER_PORT"] == server_port


def test_x_port_applies_to_forwarded_host_and_ipv6() -> None:
    environ = fixed(
        make_environ(HTTP_X_FORWARDED_HOST="example.com:1", HTTP_X_FORWARDED_PORT="8443"),
        x_host=1,
        x_port=1,
    )
    assert environ["HTTP_HOST"] == "example.com:8443"
    assert environ["SERVER_NAME"] == "example.com"
    assert environ["SERVER_PORT"] == "8443"
    environ = fixed(make_environ(HTTP_HOST="[::1]", HTTP_X_FORWARDED_PORT="9"), x_port=1)
    assert environ["HTTP_HOST"] == "[::1]:9"


def test_x_port_without_or_with_invalid_host_sets_server_port_only() -> None:
    base = make_environ(HTTP_X_FORWARDED_PORT="8443")
    del base["HTTP_HOST"]
    environ = fixed(base, x_port=1)
    assert "HTTP_HOST" not in environ
    assert environ["SERVER_PORT"] == "8443"
    environ = fixed(make_environ(HTTP_HOST="bad host", HTTP_X_FORWARDED_PORT="8443"), x_port=1)
    assert environ["HTTP_HOST"] == "bad host"  # left for the request to reject
    assert environ["SERVER_PORT"] == "8443"


@pytest.mark.parametrize(
    ("header", "script_name"),
    [
        ("/app", "/app"),
        ("/app/", "/app"),
        ("/a/b", "/a/b"),
        ("app", "/app"),
        ("/", ""),
        ("/outer, /inner", "/inner"),
        ("/a%20b", "/a%20b"),
        ("/app?x=1", "/orig"),
        ("/app#frag", "/orig"),
        ("/a b", "/orig"),
        ("/a\x00b", "/orig"),
    ],
)
def test_x_prefix(header: str, script_name: str) -> None:
    environ = fixed(make_environ(SCRIPT_NAME="/orig", HTTP_X_FORWARDED_PREFIX=header), x_prefix=1)
    assert environ["SCRIPT_NAME"] == script_name


@pytest.mark.parametrize("name", ["x_for", "x_proto", "x_host", "x_port", "x_prefix"])
@pytest.mark.parametrize("value", [-1, True, "1", 1.0])
def test_trust_counts_validated(name: str, value: t.Any) -> None:
    _, app = recorder()
    with pytest.raises(ValueError, match=rf"ProxyFix\({name}={value!r}\) must be a whole number"):
        ProxyFix(app, **{name: value})


def test_attributes_and_passthrough_of_the_response() -> None:
    seen, inner = recorder()
    middleware = ProxyFix(inner, x_for=2, x_proto=0, x_host=3, x_port=4, x_prefix=5)
    assert middleware.app is inner
    assert (
        middleware.x_for,
        middleware.x_proto,
        middleware.x_host,
        middleware.x_port,
        middleware.x_prefix,
    ) == (2, 0, 3, 4, 5)
    assert run(middleware, make_environ()) == ("204 No Content", b"")
    assert len(seen) == 1
