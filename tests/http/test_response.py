from __future__ import annotations

import collections.abc as cabc
import hashlib
import json
import typing as t
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from erlen.http.exceptions import NotFound
from erlen.http.exceptions import RequestedRangeNotSatisfiable
from erlen.http.headers import Headers
from erlen.http.parsing import parse_date
from erlen.http.response import Response
from erlen.http.response import get_content_type
from erlen.http.response import iri_to_uri
from erlen.http.response import redirect
from erlen.http.values import ContentRange
from erlen.http.values import ETags
from erlen.http.values import IfRange
from erlen.http.values import Range
from erlen.http.values import WWWAuthenticate


class FakeRequest:
    """The attributes make_conditional reads, parsed as erlen's Request parses them."""

    def __init__(self, method: str = "GET", **headers: str) -> None:
        h = {k.replace("_", "-").lower(): v for k, v in headers.items()}
        self.method = method
        self.if_match = ETags.from_header(h.get("if-match"))
        self.if_none_match = ETags.from_header(h.get("if-none-match"))
        self.if_modified_since = parse_date(h.get("if-modified-since"))
        self.if_unmodified_since = parse_date(h.get("if-unmodified-since"))
        self.if_range = IfRange.from_header(h.get("if-range"))
        self.range = Range.from_header(h.get("range"))


LM = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
LM_TEXT = "Wed, 01 May 2024 12:00:00 GMT"


# -- construction and body ------------------------------------------------------


def test_defaults() -> None:
    r = Response("Hello, World!")
    assert r.status == "200 OK"
    assert r.status_code == 200
    assert list(r.headers) == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", "13"),
    ]
    assert r.mimetype == "text/plain"
    assert r.mimetype_params == {"charset": "utf-8"}
    assert r.data == b"Hello, World!"
    assert r.get_data(as_text=True) == "Hello, World!"
    assert r.response == [b"Hello, World!"]
    assert not r.is_streamed
    assert r.is_sequence
    assert r.direct_passthrough is False
    assert repr(r) == "<Response 13 bytes [200 OK]>"


def test_empty_and_bytes_bodies() -> None:
    r = Response()
    assert r.response == []
    assert r.data == b""
    assert "Content-Length" not in r.headers
    assert Response(b"\xff\x00").data == b"\xff\x00"
    assert Response(b"ab").headers["Content-Length"] == "2"
    assert Response(bytearray(b"abc")).response == [b"abc"]
    assert Response("é").headers["Content-Length"] == "2"


def test_subclass_default_mimetype_and_no_auto_length() -> None:
    class HTMLResponse(Response):
        default_mimetype = "text/html"
        automatically_set_content_length = False
        default_status = 201

    r = HTMLResponse("<p>")
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Length" not in r.headers
    assert r.status_code == 201

    class NoType(Response):
        default_mimetype = None

    assert "Content-Type" not in NoType("x").headers


def test_constructor_fast_path_edges() -> None:
    # The common case (no headers, no content_type) builds the header list
    # in one go; these are the cases beside it.
    big = "x" * 5000
    assert Response(big).headers["Content-Length"] == "5000"
    assert Response("x" * 1023).headers["Content-Length"] == "1023"
    assert Response("x" * 1024).headers["Content-Length"] == "1024"
    assert Response("").headers["Content-Length"] == "0"

    class Text(str):
        pass

    r = Response(Text("héllo"))
    assert r.response == [b"h\xc3\xa9llo"]
    assert r.headers["Content-Length"] == "6"

    class Raw(bytes):
        pass

    r = Response(Raw(b"raw"))
    assert r.response == [b"raw"] and type(r.response[0]) is bytes
    body = b"exact"
    assert Response(body).response[0] is body

    # A mimetype seen for the first time is validated, then cached.
    r = Response("x", mimetype="application/x-erlen-fresh")
    assert list(r.headers) == [
        ("Content-Type", "application/x-erlen-fresh"),
        ("Content-Length", "1"),
    ]
    assert list(Response("x", mimetype="text/x-erlen-fresh").headers) == [
        ("Content-Type", "text/x-erlen-fresh; charset=utf-8"),
        ("Content-Length", "1"),
    ]
    with pytest.raises(ValueError, match="newline"):
        Response("x", mimetype="text/x\r\nSet-Cookie: a=b")
    with pytest.raises(ValueError, match="newline"):
        Response("x", mimetype="text/x\r\nSet-Cookie: a=b")  # not cached either

    # No mimetype and no automatic length: no headers at all.
    class Bare(Response):
        default_mimetype = None
        automatically_set_content_length = False

    assert list(Bare("x").headers) == []
    assert list(Bare("x", mimetype="text/plain").headers) == [
        ("Content-Type", "text/plain; charset=utf-8")
    ]

    class NoLength(Response):
        automatically_set_content_length = False

    assert list(NoLength(b"abc").headers) == [("Content-Type", "text/plain; charset=utf-8")]

    # Streamed bodies and None get no Content-Length on either path.
    assert list(Response(iter([b"a"])).headers) == [("Content-Type", "text/plain; charset=utf-8")]
    assert list(Response(None, headers={"X-A": "1"}).headers) == [
        ("X-A", "1"),
        ("Content-Type", "text/plain; charset=utf-8"),
    ]
    # The header list belongs to the response: two responses don't share it.
    a, b = Response("x"), Response("x")
    a.headers["X-A"] = "1"
    assert "X-A" not in b.headers


def test_constructor_status_forms() -> None:
    assert Response("x", 404).status == "404 NOT FOUND"
    assert Response("x", "404").status == "404 NOT FOUND"
    assert Response("x", "404 Gone Fishing").status == "404 Gone Fishing"
    assert Response("x", 299).status == "299 UNKNOWN"
    with pytest.raises(TypeError):
        Response("x", 200.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Response("x", True)  # type: ignore[arg-type]


def test_constructor_with_content_type_and_headers() -> None:
    r = Response("x", content_type="text/csv")
    assert list(r.headers) == [("Content-Type", "text/csv"), ("Content-Length", "1")]
    r = Response("x", headers=[("X-A", "1")], mimetype="text/csv")
    assert list(r.headers) == [
        ("X-A", "1"),
        ("Content-Type", "text/csv; charset=utf-8"),
        ("Content-Length", "1"),
    ]
    r = Response("abc", headers={"Content-Length": "99", "X-A": "1"})
    assert list(r.headers) == [
        ("Content-Length", "3"),
        ("X-A", "1"),
        ("Content-Type", "text/plain; charset=utf-8"),
    ]
    r = Response("x" * 2000, headers={"X-A": "1"})
    assert r.headers["Content-Length"] == "2000"
    h = Headers([("Content-Type", "image/png")])
    r = Response(b"png", headers=h)
    assert r.headers is h
    assert list(h) == [("Content-Type", "image/png"), ("Content-Length", "3")]


def test_streamed_generator() -> None:
    closed = []

    def gen() -> cabc.Generator[str | bytes, None, None]:
        try:
            yield "a"
            yield b"b"
            yield "ç"
        finally:
            closed.append(True)

    r = Response(gen())
    assert r.is_streamed
    assert not r.is_sequence
    assert "Content-Length" not in r.headers
    assert repr(r) == "<Response streamed [200 OK]>"
    assert r.get_data() == "abç".encode()
    assert r.is_sequence  # read once, kept
    assert r.get_data(as_text=True) == "abç"
    r.close()
    assert closed == [True]


def test_iterable_of_str_is_encoded() -> None:
    r = Response(["a", b"b", "é"])
    assert r.is_sequence
    assert not r.is_streamed
    assert list(r.iter_encoded()) == [b"a", b"b", "é".encode()]
    assert r.calculate_content_length() == 4
    assert "Content-Length" not in r.headers


def test_make_sequence_and_freeze() -> None:
    r = Response(x for x in ["ab", "c"])
    r.freeze()
    assert r.response == [b"ab", b"c"]
    assert r.headers["Content-Length"] == "3"
    t_ = Response(("x", "y"))
    t_.make_sequence()  # already a sequence: unchanged
    assert t_.response == ("x", "y")
    t_._ensure_sequence(mutable=True)
    body: object = t_.response
    assert body == ["x", "y"]


def test_direct_passthrough_refuses_buffering() -> None:
    r = Response(iter([b"a"]), direct_passthrough=True)
    with pytest.raises(RuntimeError, match="direct passthrough"):
        r.get_data()
    assert r.calculate_content_length() is None


def test_implicit_sequence_conversion_off() -> None:
    class Strict(Response):
        implicit_sequence_conversion = False

    r = Strict(iter([b"a"]))
    with pytest.raises(RuntimeError, match="make_sequence"):
        r.get_data()
    r.make_sequence()
    assert r.get_data() == b"a"


def test_set_data() -> None:
    r = Response(iter([b"old"]))
    r.data = "new body"
    assert r.response == [b"new body"]
    assert r.headers["Content-Length"] == "8"
    r.set_data(b"x")
    assert r.content_length == 1
    with pytest.raises(TypeError, match="'int'"):
        r.set_data(5)  # type: ignore[arg-type]


# -- content type ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mimetype", "expected"),
    [
        ("text/html", "text/html; charset=utf-8"),
        ("text/csv", "text/csv; charset=utf-8"),
        ("application/xml", "application/xml; charset=utf-8"),
        ("application/javascript", "application/javascript; charset=utf-8"),
        ("image/svg+xml", "image/svg+xml; charset=utf-8"),
        ("application/json", "application/json"),
        ("application/octet-stream", "application/octet-stream"),
        ("image/png", "image/png"),
        ("text/html; charset=latin-1", "text/html; charset=latin-1"),
    ],
)
def test_content_type_charset(mimetype: str, expected: str) -> None:
    assert get_content_type(mimetype) == expected
    assert Response("x", mimetype=mimetype).headers["Content-Type"] == expected


def test_get_content_type_other_charset_and_no_caching_of_bad_values() -> None:
    assert get_content_type("text/plain", "latin-1") == "text/plain; charset=latin-1"
    with pytest.raises(ValueError, match="newline"):
        Response("x", mimetype="text/plain\r\nX-Evil: 1")
    with pytest.raises(ValueError, match="newline"):  # still refused the second time
        Response("x", mimetype="text/plain\r\nX-Evil: 1")


def test_content_type_argument_is_used_as_is() -> None:
    r = Response("x", content_type="text/weird")
    assert r.headers["Content-Type"] == "text/weird"
    r = Response("x", headers={"X": "1"}, content_type="text/weird")
    assert r.headers.getlist("Content-Type") == ["text/weird"]


def test_headers_argument_forms() -> None:
    h = Headers([("X-A", "1")])
    r = Response("x", headers=h)
    assert r.headers is h  # used as is, as in Werkzeug
    assert h["Content-Type"] == "text/plain; charset=utf-8"
    assert Response("x", headers=[("X-B", "2")]).headers["x-b"] == "2"
    assert Response("x", headers={"X-C": "3"}).headers["X-C"] == "3"
    # A Content-Type in the headers wins over the default mimetype.
    r = Response("x", headers={"Content-Type": "application/json"})
    assert r.headers.getlist("Content-Type") == ["application/json"]
    r = Response("x", headers={"Content-Type": "a/b"}, mimetype="text/html")
    assert r.headers.getlist("Content-Type") == ["text/html; charset=utf-8"]
    assert Response("x", headers={"X": "1"}).headers["Content-Type"].startswith("text/plain")


def test_mimetype_setter_and_params() -> None:
    r = Response("x")
    r.mimetype = "text/html"
    assert r.content_type == "text/html; charset=utf-8"
    r.mimetype = "application/json"
    assert r.content_type == "application/json"
    params = r.mimetype_params
    params["charset"] = "utf-8"
    assert r.content_type == "application/json; charset=utf-8"
    params = r.mimetype_params
    del params["charset"]
    assert r.content_type == "application/json"
    params.update(a="1")
    assert r.mimetype_params == {"a": "1"}
    assert params.pop("a") == "1"
    params.setdefault("b", "2")
    assert r.mimetype_params == {"b": "2"}
    params.popitem()
    assert r.mimetype_params == {}
    params["c"] = "3"
    params.clear()
    assert r.content_type == "application/json"
    r.content_type = None
    assert r.mimetype is None


def test_json() -> None:
    r = Response(json.dumps({"a": [1, 2]}), mimetype="application/json")
    assert r.is_json
    assert r.json == {"a": [1, 2]}
    assert Response("{}", mimetype="application/vnd.api+json").get_json() == {}
    plain = Response('{"a": 1}')
    assert not plain.is_json
    assert plain.get_json() is None
    assert plain.get_json(force=True) == {"a": 1}
    bad = Response("{nope", mimetype="application/json")
    with pytest.raises(ValueError):
        bad.get_json()
    assert bad.get_json(silent=True) is None


# -- status ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "line", "code"),
    [
        (404, "404 NOT FOUND", 404),
        ("404", "404 NOT FOUND", 404),
        ("404 Not Found", "404 Not Found", 404),
        (" 299 Whatever ", "299 Whatever", 299),
        (299, "299 UNKNOWN", 299),
        ("599", "599 UNKNOWN", 599),
        (b"201 Made", "201 Made", 201),
        (418, "418 I'M A TEAPOT", 418),
    ],
)
def test_status_forms(value: t.Any, line: str, code: int) -> None:
    r = Response(status=value)
    assert (r.status, r.status_code) == (line, code)
    r = Response()
    r.status = value
    assert (r.status, r.status_code) == (line, code)


def test_status_code_setter() -> None:
    r = Response()
    r.status_code = 404
    assert r.status == "404 NOT FOUND"
    r.status_code = 799
    assert r.status == "799 UNKNOWN"


@pytest.mark.parametrize("value", [None, 4.04, [404], object()])
def test_status_wrong_type(value: t.Any) -> None:
    r = Response()
    with pytest.raises(TypeError, match="Invalid status"):
        r.status = value


@pytest.mark.parametrize(
    "value", ["", "abc", "4040", "40", "099 Low", "200 OK\r\nX-Evil: 1", "200\x00", 99, 1000, -1]
)
def test_status_invalid_value(value: t.Any) -> None:
    with pytest.raises(ValueError, match="status"):
        Response(status=value)


@pytest.mark.parametrize("value", ["404", 404.0, True, None])
def test_status_code_wrong_type(value: t.Any) -> None:
    r = Response()
    with pytest.raises(TypeError, match="status_code"):
        r.status_code = value
    assert r.status_code == 200


def test_status_code_out_of_range() -> None:
    r = Response()
    with pytest.raises(ValueError, match="1000"):
        r.status_code = 1000


def test_http_exception_uses_this_response() -> None:
    r = NotFound().get_response()
    assert isinstance(r, Response)
    assert r.status_code == 404
    assert r.mimetype == "text/html"
    r = RequestedRangeNotSatisfiable(length=10).get_response()
    assert r.status == "416 REQUESTED RANGE NOT SATISFIABLE"
    assert r.headers["Content-Range"] == "bytes */10"


# -- header properties ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("attr", "header"),
    [
        ("location", "Location"),
        ("content_location", "Content-Location"),
        ("content_encoding", "Content-Encoding"),
        ("accept_ranges", "Accept-Ranges"),
        ("content_type", "Content-Type"),
    ],
)
def test_string_header_properties(attr: str, header: str) -> None:
    r = Response()
    setattr(r, attr, "some/value")
    assert r.headers[header] == "some/value"
    assert getattr(r, attr) == "some/value"
    setattr(r, attr, None)
    assert header not in r.headers
    assert getattr(r, attr) is None


def test_location_is_not_made_absolute() -> None:
    r = Response()
    r.location = "/next"
    assert r.headers["Location"] == "/next"


def test_content_length_property() -> None:
    r = Response("abc")
    assert r.content_length == 3
    r.content_length = 10
    assert r.headers["Content-Length"] == "10"
    r.headers["Content-Length"] = "nope"
    assert r.content_length is None
    r.content_length = None
    assert "Content-Length" not in r.headers


@pytest.mark.parametrize("attr", ["last_modified", "expires", "date"])
def test_date_properties(attr: str) -> None:
    header = {"last_modified": "Last-Modified", "expires": "Expires", "date": "Date"}[attr]
    r = Response()
    setattr(r, attr, LM)
    assert r.headers[header] == LM_TEXT
    assert getattr(r, attr) == LM
    setattr(r, attr, LM.timestamp())
    assert r.headers[header] == LM_TEXT
    setattr(r, attr, datetime(2024, 5, 1, 12))  # naive means UTC
    assert getattr(r, attr) == LM
    setattr(r, attr, "garbage")
    assert getattr(r, attr) is None
    setattr(r, attr, None)
    assert header not in r.headers


def test_age() -> None:
    r = Response()
    r.age = timedelta(minutes=1)
    assert r.headers["Age"] == "60"
    assert r.age == timedelta(seconds=60)
    r.age = 5
    assert r.age == timedelta(seconds=5)
    with pytest.raises(ValueError, match="negative"):
        r.age = -1
    r.headers["Age"] = "soon"
    assert r.age is None
    r.headers["Age"] = "9" * 19
    assert r.age is None  # too large for a timedelta
    r.age = None
    assert "Age" not in r.headers
    assert r.age is None


def test_retry_after() -> None:
    r = Response()
    assert r.retry_after is None
    r.retry_after = 120
    assert r.headers["Retry-After"] == "120"
    value = r.retry_after
    assert value is not None
    assert timedelta(seconds=115) < value - datetime.now(UTC) <= timedelta(seconds=120)
    r.retry_after = LM
    assert r.headers["Retry-After"] == LM_TEXT
    assert r.retry_after == LM
    r.retry_after = None
    assert "Retry-After" not in r.headers


@pytest.mark.parametrize(
    ("attr", "header"),
    [("vary", "Vary"), ("allow", "Allow"), ("content_language", "Content-Language")],
)
def test_set_properties(attr: str, header: str) -> None:
    r = Response()
    assert len(getattr(r, attr)) == 0
    getattr(r, attr).add("Cookie")
    assert r.headers[header] == "Cookie"
    s = getattr(r, attr)
    s.add("Accept-Encoding")
    s.add("cookie")  # already there, in another case
    assert r.headers[header] == "Cookie, Accept-Encoding"
    s.discard("Cookie")
    s.discard("Accept-Encoding")
    assert header not in r.headers
    setattr(r, attr, ["A", "B"])
    assert r.headers[header] == "A, B"
    setattr(r, attr, "C")
    assert r.headers[header] == "C"
    setattr(r, attr, None)
    assert header not in r.headers


def test_cache_control() -> None:
    r = Response()
    r.cache_control.max_age = 60
    assert r.headers["Cache-Control"] == "max-age=60"
    cc = r.cache_control
    cc.public = True
    assert r.cache_control.public
    assert r.cache_control.max_age == 60
    assert "public" in r.headers["Cache-Control"]
    cc.max_age = None
    cc.public = False
    assert "Cache-Control" not in r.headers


def test_content_range() -> None:
    r = Response()
    assert not r.content_range
    r.content_range.set(0, 5, 10)
    assert r.headers["Content-Range"] == "bytes 0-4/10"
    rng = r.content_range
    assert (rng.units, rng.start, rng.stop, rng.length) == ("bytes", 0, 5, 10)
    rng.unset()
    assert "Content-Range" not in r.headers
    r.content_range = "bytes 1-2/3"
    assert r.content_range.start == 1
    r.content_range = ContentRange("bytes", 2, 4, 9)
    assert r.headers["Content-Range"] == "bytes 2-3/9"
    r.content_range = None
    assert "Content-Range" not in r.headers


def test_www_authenticate() -> None:
    r = Response()
    unset = r.www_authenticate
    assert unset.type == "basic"
    assert "WWW-Authenticate" not in r.headers
    unset.realm = "Login"  # editing the placeholder sets the header
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Login"'
    challenge = r.www_authenticate
    assert challenge.realm == "Login"
    challenge.realm = "Other"
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Other"'
    r.www_authenticate = WWWAuthenticate("bearer")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r.www_authenticate = [WWWAuthenticate("bearer"), 'Basic realm="x"']
    assert r.headers.getlist("WWW-Authenticate") == ["Bearer", 'Basic realm="x"']
    assert r.www_authenticate.type == "bearer"  # the first one
    r.www_authenticate = None
    assert "WWW-Authenticate" not in r.headers
    r.www_authenticate = "Basic"
    del r.www_authenticate
    assert "WWW-Authenticate" not in r.headers


def test_deleting_header_properties() -> None:
    r = Response("x")
    r.location = "/a"
    del r.location
    del r.content_length
    r.vary = "Cookie"
    del r.vary
    r.last_modified = LM
    del r.last_modified
    assert list(r.headers) == [("Content-Type", "text/plain; charset=utf-8")]


# -- cookies -----------------------------------------------------------------------------


def test_set_cookie() -> None:
    r = Response()
    r.set_cookie("a", "1")
    r.set_cookie(
        "b",
        "two words",
        max_age=60,
        path="/p",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="lax",
    )
    cookies = r.headers.getlist("Set-Cookie")
    assert cookies[0] == "a=1; Path=/"
    second = cookies[1]
    assert second.startswith('b="two words"; Domain=example.com; Expires=')
    assert "; Max-Age=60; Secure; HttpOnly; Path=/p; SameSite=Lax" in second
    r.set_cookie("c", "v", partitioned=True, expires=LM)
    assert r.headers.getlist("Set-Cookie")[2] == (
        f"c=v; Expires={LM_TEXT}; Secure; Path=/; Partitioned"
    )


@pytest.mark.parametrize("key", ["", "a;b", "a b", "a\r\nb", "a=b", "é"])
def test_set_cookie_bad_key(key: str) -> None:
    r = Response()
    with pytest.raises(ValueError, match="Cookie name"):
        r.set_cookie(key, "v")
    assert "Set-Cookie" not in r.headers


def test_set_cookie_value_cannot_break_the_header() -> None:
    r = Response()
    r.set_cookie("k", "a;b\r\nSet-Cookie: evil=1")
    (value,) = r.headers.getlist("Set-Cookie")
    assert "\r" not in value and "\n" not in value
    assert value.startswith('k="a\\073b\\015\\012Set-Cookie: evil=1"')
    with pytest.raises(ValueError, match="SameSite"):
        r.set_cookie("k", samesite="sometimes")
    with pytest.raises(ValueError, match="domain"):
        r.set_cookie("k", domain="a;b")


def test_set_cookie_too_large_warns() -> None:
    r = Response()
    with pytest.warns(UserWarning, match="'big' cookie"):
        r.set_cookie("big", "x" * 5000)

    class Unlimited(Response):
        max_cookie_size = 0

    Unlimited().set_cookie("big", "x" * 5000)  # no warning (filterwarnings=error)


def test_delete_cookie() -> None:
    r = Response()
    r.delete_cookie("session", path="/app", domain="example.com", secure=True, samesite="Lax")
    (value,) = r.headers.getlist("Set-Cookie")
    assert value == (
        "session=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0;"
        " Secure; Path=/app; SameSite=Lax"
    )


# -- lifecycle ---------------------------------------------------------------------------


class ClosingBody:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __iter__(self) -> cabc.Iterator[bytes]:
        return iter([b"x"])

    def close(self) -> None:
        self.log.append("body")


def test_close_order_and_once() -> None:
    log: list[str] = []
    r = Response(ClosingBody(log))

    @r.call_on_close
    def first() -> None:
        log.append("first")

    assert first.__name__ == "first"  # the decorator returns the function
    r.call_on_close(lambda: log.append("second"))
    r.close()
    r.close()
    assert log == ["body", "first", "second"]


def test_with_statement_closes() -> None:
    log: list[str] = []
    with Response(ClosingBody(log)) as r:
        assert isinstance(r, Response)
    assert log == ["body"]


def test_failing_callback_still_runs_the_rest() -> None:
    log: list[str] = []
    r = Response()

    def boom() -> None:
        raise OSError("first failure")

    r.call_on_close(boom)
    r.call_on_close(lambda: log.append("after"))
    with pytest.raises(OSError, match="first failure"):
        r.close()
    assert log == ["after"]


def test_body_close_failure_still_runs_callbacks() -> None:
    log: list[str] = []

    class Bad:
        def __iter__(self) -> cabc.Iterator[bytes]:
            return iter([])

        def close(self) -> None:
            raise RuntimeError("body close failed")

    r = Response(Bad())
    r.call_on_close(lambda: log.append("cb"))
    with pytest.raises(RuntimeError, match="body close failed"):
        r.close()
    assert log == ["cb"]


def test_force_type() -> None:
    class Mine(Response):
        pass

    r = Response("x")
    forced = Mine.force_type(r)
    assert forced is r
    assert type(r) is Mine
    with pytest.raises(TypeError, match="Only Response objects|only Response objects"):
        Mine.force_type("nope")  # type: ignore[arg-type]


# -- ETags --------------------------------------------------------------------------------


def test_etags() -> None:
    r = Response("body")
    assert r.get_etag() == (None, False)
    r.add_etag()
    assert r.get_etag() == (hashlib.sha1(b"body").hexdigest(), False)
    assert r.headers["ETag"] == f'"{hashlib.sha1(b"body").hexdigest()}"'
    r.data = "other"
    r.add_etag()  # kept
    assert r.get_etag()[0] == hashlib.sha1(b"body").hexdigest()
    r.add_etag(overwrite=True, weak=True)
    assert r.headers["ETag"] == f'W/"{hashlib.sha1(b"other").hexdigest()}"'
    assert r.get_etag() == (hashlib.sha1(b"other").hexdigest(), True)
    r.set_etag("v1")
    assert r.headers["ETag"] == '"v1"'
    with pytest.raises(ValueError, match="double quote"):
        r.set_etag('a"b')


# -- make_conditional -----------------------------------------------------------------------


def make(body: str = "Hello, World!", etag: str | None = "v1", weak: bool = False) -> Response:
    r = Response(body)
    if etag is not None:
        r.set_etag(etag, weak)
    r.last_modified = LM
    r.cache_control.max_age = 60
    r.vary.add("Accept")
    r.headers["Content-Location"] = "/here"
    r.expires = LM
    r.set_cookie("k", "v")
    return r


def test_only_get_and_head() -> None:
    r = make().make_conditional(FakeRequest("POST", if_none_match='"v1"'))
    assert r.status_code == 200
    assert "Date" not in r.headers
    r = make().make_conditional(FakeRequest("HEAD", if_none_match='"v1"'))
    assert r.status_code == 304


def test_unconditional_get_adds_date_and_keeps_body() -> None:
    r = make()
    assert r.make_conditional(FakeRequest()) is r
    assert r.status_code == 200
    assert parse_date(r.headers["Date"]) is not None
    assert r.data == b"Hello, World!"
    assert "Accept-Ranges" not in r.headers
    r = Response("x", headers={"Date": "kept"})
    r.make_conditional(FakeRequest())
    assert r.headers["Date"] == "kept"


@pytest.mark.parametrize("if_none_match", ['"v1"', 'W/"v1"', '"other", "v1"', "*", 'W/"x", W/"v1"'])
def test_if_none_match_gives_304(if_none_match: str) -> None:
    log: list[str] = []
    r = make()
    r.response = ClosingBody(log)
    r.make_conditional(FakeRequest(if_none_match=if_none_match))
    assert r.status_code == 304
    body: object = r.response
    assert body == []
    assert r.data == b""
    for kept in ("ETag", "Cache-Control", "Vary", "Date", "Expires", "Content-Location"):
        assert kept in r.headers, kept
    assert r.headers["Set-Cookie"] == "k=v; Path=/"
    for dropped in ("Content-Type", "Content-Length", "Last-Modified"):
        assert dropped not in r.headers, dropped
    r.close()
    assert log == ["body"]  # the replaced body is still closed


def test_weak_etag_matches_if_none_match() -> None:
    r = make(weak=True).make_conditional(FakeRequest(if_none_match='"v1"'))
    assert r.status_code == 304


def test_if_none_match_miss_ignores_if_modified_since() -> None:
    r = make().make_conditional(FakeRequest(if_none_match='"v2"', if_modified_since=LM_TEXT))
    assert r.status_code == 200
    assert r.data == b"Hello, World!"


@pytest.mark.parametrize(
    ("since", "status"),
    [
        (LM_TEXT, 304),
        ("Wed, 01 May 2024 13:00:00 GMT", 304),
        ("Wed, 01 May 2024 11:59:59 GMT", 200),
        ("not a date", 200),
    ],
)
def test_if_modified_since(since: str, status: int) -> None:
    r = make().make_conditional(FakeRequest(if_modified_since=since))
    assert r.status_code == status


def test_if_modified_since_without_last_modified() -> None:
    r = Response("x").make_conditional(FakeRequest(if_modified_since=LM_TEXT))
    assert r.status_code == 200


def test_last_modified_microseconds_are_ignored() -> None:
    r = Response("x")
    r.headers["Last-Modified"] = LM_TEXT
    req = FakeRequest()
    req.if_modified_since = LM.replace(microsecond=0)
    assert r.make_conditional(req).status_code == 304


@pytest.mark.parametrize(
    ("if_match", "etag", "weak", "status"),
    [
        ('"v1"', "v1", False, 200),
        ('"v0", "v1"', "v1", False, 200),
        ('"v2"', "v1", False, 412),
        ('W/"v1"', "v1", False, 412),  # If-Match compares strongly
        ('"v1"', "v1", True, 412),  # a weak ETag never matches If-Match
        ("*", "v1", False, 200),
        ("*", None, False, 200),
        ('"v1"', None, False, 412),
    ],
)
def test_if_match(if_match: str, etag: str | None, weak: bool, status: int) -> None:
    r = make(etag=etag, weak=weak).make_conditional(FakeRequest(if_match=if_match))
    assert r.status_code == status
    if status == 412:
        assert r.data == b""
        assert r.headers["Content-Length"] == "0"
        assert "Content-Type" not in r.headers


@pytest.mark.parametrize(
    ("since", "status"),
    [
        (LM_TEXT, 200),
        ("Wed, 01 May 2024 13:00:00 GMT", 200),
        ("Wed, 01 May 2024 11:00:00 GMT", 412),
    ],
)
def test_if_unmodified_since(since: str, status: int) -> None:
    r = make().make_conditional(FakeRequest(if_unmodified_since=since))
    assert r.status_code == status


def test_if_match_takes_precedence_over_if_unmodified_since() -> None:
    req = FakeRequest(if_match='"v1"', if_unmodified_since="Wed, 01 May 2024 11:00:00 GMT")
    assert make().make_conditional(req).status_code == 200


def test_non_2xx_is_left_alone() -> None:
    r = Response("missing", 404)
    r.set_etag("v1")
    r.make_conditional(FakeRequest(if_none_match='"v1"', range="bytes=0-1"), accept_ranges=True)
    assert r.status_code == 404
    assert r.data == b"missing"


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=0-4", b"Hello", "bytes 0-4/13"),
        ("bytes=7-", b"World!", "bytes 7-12/13"),
        ("bytes=-6", b"World!", "bytes 7-12/13"),
        ("bytes=-100", b"Hello, World!", "bytes 0-12/13"),
        ("bytes=7-100", b"World!", "bytes 7-12/13"),
        ("bytes=12-12", b"!", "bytes 12-12/13"),
    ],
)
def test_range_on_buffered_body(header: str, body: bytes, content_range: str) -> None:
    r = make().make_conditional(FakeRequest(range=header), accept_ranges=True)
    assert r.status_code == 206
    assert r.data == body
    assert r.headers["Content-Range"] == content_range
    assert r.headers["Content-Length"] == str(len(body))
    assert r.headers["Accept-Ranges"] == "bytes"


def test_range_unsatisfiable_raises_416_and_closes() -> None:
    log: list[str] = []
    r = make()
    r.call_on_close(lambda: log.append("closed"))
    with pytest.raises(RequestedRangeNotSatisfiable) as info:
        r.make_conditional(FakeRequest(range="bytes=13-"), accept_ranges=True)
    assert info.value.length == 13
    assert ("Content-Range", "bytes */13") in info.value.get_headers()
    assert log == ["closed"]


@pytest.mark.parametrize(
    ("headers", "accept_ranges"),
    [
        ({"range": "bytes=0-1, 5-6"}, True),  # several ranges: the full body
        ({"range": "items=0-1"}, True),  # another unit
        ({"range": "bytes=0-1"}, False),  # ranges not accepted here
        ({"range": "bytes=oops"}, True),  # malformed: ignored
        ({"range": "bytes=0-1", "if_range": '"v2"'}, True),
        ({"range": "bytes=0-1", "if_range": "Wed, 01 May 2024 11:00:00 GMT"}, True),
    ],
)
def test_range_ignored(headers: dict[str, str], accept_ranges: bool) -> None:
    r = make().make_conditional(FakeRequest(**headers), accept_ranges=accept_ranges)
    assert r.status_code == 200
    assert r.data == b"Hello, World!"
    assert "Content-Range" not in r.headers


def test_if_range_with_weak_etag_is_ignored() -> None:
    req = FakeRequest(range="bytes=0-1", if_range='"v1"')
    assert make(weak=True).make_conditional(req, accept_ranges=True).status_code == 200


@pytest.mark.parametrize("if_range", ['"v1"', LM_TEXT])
def test_if_range_match_gives_206(if_range: str) -> None:
    req = FakeRequest(range="bytes=0-1", if_range=if_range)
    r = make().make_conditional(req, accept_ranges=True)
    assert r.status_code == 206
    assert r.data == b"He"


def test_accept_ranges_custom_unit_and_length() -> None:
    r = Response(iter([b"abc", b"def"]))
    r.make_conditional(FakeRequest(range="pages=1-3"), accept_ranges="pages", complete_length=6)
    assert r.status_code == 206
    assert r.headers["Accept-Ranges"] == "pages"
    assert r.headers["Content-Range"] == "pages 1-3/6"
    assert b"".join(r.response) == b"bcd"
    r.close()


def test_range_on_streamed_body_uses_content_length_header() -> None:
    r = Response(iter([b"ab", b"cdef"]), headers={"Content-Length": "6"})
    r.make_conditional(FakeRequest(range="bytes=1-4"), accept_ranges=True)
    assert r.status_code == 206
    assert b"".join(r.response) == b"bcde"
    r.close()


def test_range_on_streamed_body_without_length_is_ignored() -> None:
    r = Response(iter([b"ab"]))
    r.make_conditional(FakeRequest(range="bytes=0-0"), accept_ranges=True)
    assert r.status_code == 200
    assert r.is_streamed  # not buffered to find a length
    assert "Content-Length" not in r.headers
    assert b"".join(r.response) == b"ab"


def test_make_conditional_sets_content_length_for_sequences() -> None:
    r = Response(["ab", "c"])
    r.make_conditional(FakeRequest())
    assert r.headers["Content-Length"] == "3"


def test_empty_body_range_ignored() -> None:
    r = Response("")
    r.make_conditional(FakeRequest(range="bytes=0-0"), accept_ranges=True)
    assert r.status_code == 200


# -- redirect --------------------------------------------------------------------------------


def test_redirect_basics() -> None:
    r = redirect("/next")
    assert r.status_code == 302
    assert r.headers["Location"] == "/next"
    assert r.mimetype == "text/html"
    body = r.get_data(as_text=True)
    assert "<title>Redirecting...</title>" in body
    assert '<a href="/next">/next</a>' in body
    assert redirect("/x", 301).status == "301 MOVED PERMANENTLY"


def test_redirect_escapes_html_and_encodes_location() -> None:
    r = redirect('/a"><script>alert(1)</script>')
    body = r.get_data(as_text=True)
    assert "<script>" not in body
    assert "&quot;&gt;&lt;script&gt;" in body
    assert r.headers["Location"] == "/a%22%3E%3Cscript%3Ealert(1)%3C/script%3E"


@pytest.mark.parametrize(
    ("iri", "uri"),
    [
        ("/ä b?q=é#frag", "/%C3%A4%20b?q=%C3%A9#frag"),
        ("http://example.com/a?b=c&d=%20e#f", "http://example.com/a?b=c&d=%20e#f"),
        ("http://üser@bücher.example:8080/ä", "http://üser@xn--bcher-kva.example:8080/%C3%A4"),
        ("https://[::1]:8443/p", "https://[::1]:8443/p"),
        ("/a\\b{c}|d^`", "/a%5Cb%7Bc%7D%7Cd%5E%60"),
        ("/\ud800", "/%ED%A0%80"),
    ],
)
def test_iri_to_uri(iri: str, uri: str) -> None:
    result = iri_to_uri(iri)
    assert result == uri.replace("üser", "%C3%BCser")
    assert result.isascii()


def test_iri_to_uri_bad_idna_host_is_percent_encoded() -> None:
    result = iri_to_uri("http://a\u00ad..ü/")
    assert result.isascii()
    assert result.startswith("http://")


@pytest.mark.parametrize("location", ["/a\r\nSet-Cookie: x=1", "/a\nb", "/a\rb", "/a\x00b"])
def test_redirect_refuses_line_breaks(location: str) -> None:
    with pytest.raises(ValueError, match="must be one line"):
        redirect(location)


def test_redirect_custom_response_class() -> None:
    class Mine(Response):
        pass

    r = redirect("/x", 307, Mine)
    assert type(r) is Mine
    assert r.status_code == 307


@pytest.mark.parametrize(
    ("code", "line"),
    [
        (413, "413 REQUEST ENTITY TOO LARGE"),
        (414, "414 REQUEST URI TOO LONG"),
        (416, "416 REQUESTED RANGE NOT SATISFIABLE"),
        (418, "418 I'M A TEAPOT"),
        (422, "422 UNPROCESSABLE ENTITY"),
    ],
)
def test_status_lines_do_not_depend_on_the_python_version(code: int, line: str) -> None:
    # Python 3.13 renamed several of these phrases; the status line stays Werkzeug's.
    assert Response(status=code).status == line
