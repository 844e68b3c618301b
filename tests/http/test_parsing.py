from __future__ import annotations

import base64
import time
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest

from erlen.http import parsing
from erlen.http.exceptions import BadRequest
from erlen.http.exceptions import RequestEntityTooLarge
from erlen.http.parsing import dump_cookie
from erlen.http.parsing import dump_header
from erlen.http.parsing import dump_options_header
from erlen.http.parsing import generate_etag
from erlen.http.parsing import http_date
from erlen.http.parsing import is_byte_range_valid
from erlen.http.parsing import parse_accept_header
from erlen.http.parsing import parse_authorization_header
from erlen.http.parsing import parse_cache_control_header
from erlen.http.parsing import parse_content_range_header
from erlen.http.parsing import parse_cookie
from erlen.http.parsing import parse_date
from erlen.http.parsing import parse_dict_header
from erlen.http.parsing import parse_etags
from erlen.http.parsing import parse_if_range_header
from erlen.http.parsing import parse_list_header
from erlen.http.parsing import parse_options_header
from erlen.http.parsing import parse_qsl
from erlen.http.parsing import parse_range_header
from erlen.http.parsing import parse_set_header
from erlen.http.parsing import parse_www_authenticate_header
from erlen.http.parsing import quote_etag
from erlen.http.parsing import quote_header_value
from erlen.http.parsing import unquote_etag
from erlen.http.parsing import unquote_header_value
from erlen.http.parsing import url_encode
from erlen.http.parsing import url_quote
from erlen.http.parsing import url_unquote

# -- parse_qsl ----------------------------------------------------------------


@pytest.mark.parametrize("raw", ["a=1&b=two", b"a=1&b=two"])
def test_qsl_simple(raw: str | bytes) -> None:
    assert parse_qsl(raw) == [("a", "1"), ("b", "two")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("&&", []),
        ("a", [("a", "")]),
        ("a=", [("a", "")]),
        ("=b", [("", "b")]),
        ("a=1&a=2", [("a", "1"), ("a", "2")]),
        ("a=b=c", [("a", "b=c")]),
        ("a+b=c+d", [("a b", "c d")]),
        ("a%2Bb=%26%3D", [("a+b", "&=")]),
        ("x=%C3%A9", [("x", "é")]),
        ("x=%c3%a9", [("x", "é")]),
        ("a=1;b=2", [("a", "1;b=2")]),
        ("&a=1&&b&", [("a", "1"), ("b", "")]),
        ("é=ü", [("é", "ü")]),
    ],
)
def test_qsl_cases(raw: str, expected: list[tuple[str, str]]) -> None:
    assert parse_qsl(raw) == expected
    assert parse_qsl(raw.encode()) == expected


def test_qsl_semicolon_never_separates() -> None:
    # CVE-2020-28473 class: only "&" separates.
    assert parse_qsl(b"a=1;a=2&b=%3B") == [("a", "1;a=2"), ("b", ";")]


@pytest.mark.parametrize(
    ("raw", "pos", "text"),
    [
        (b"a=%zz", 2, "%zz"),
        (b"abc=%4", 4, "%4"),
        (b"abc=1&d=%", 8, "%"),
        (b"a%g1=1", 1, "%g1"),
        (b"ok=%41&x=%4x", 9, "%4x"),
    ],
)
def test_qsl_bad_percent(raw: bytes, pos: int, text: str) -> None:
    with pytest.raises(BadRequest) as exc:
        parse_qsl(raw)
    description = exc.value.description
    assert description is not None
    assert f"position {pos}" in description
    assert repr(text) in description
    assert "query string" in description


def test_qsl_bad_percent_str_input() -> None:
    with pytest.raises(BadRequest, match="invalid percent-encoding"):
        parse_qsl("a=%zz")


@pytest.mark.parametrize("raw", [b"a=%ff", b"a=\xff", b"\xc3=1", b"a=%c3"])
def test_qsl_bad_utf8(raw: bytes) -> None:
    with pytest.raises(BadRequest, match="not valid UTF-8"):
        parse_qsl(raw)


def test_qsl_what_names_the_input() -> None:
    with pytest.raises(BadRequest, match="The form body has"):
        parse_qsl(b"a=%zz", what="form body")


def test_qsl_max_pairs() -> None:
    assert len(parse_qsl("a&b&c", max_pairs=3)) == 3
    with pytest.raises(RequestEntityTooLarge, match="more than 2 fields"):
        parse_qsl("a&b&c", max_pairs=2)
    with pytest.raises(RequestEntityTooLarge):
        parse_qsl(b"a=%41&b&c", max_pairs=2)


def test_qsl_bad_request_is_4xx() -> None:
    with pytest.raises(BadRequest) as exc:
        parse_qsl(b"%")
    assert exc.value.code == 400


# -- url quoting --------------------------------------------------------------


def test_url_quote() -> None:
    assert url_quote("/a b/é") == "/a%20b/%C3%A9"
    assert url_quote("a/b:c", safe="") == "a%2Fb%3Ac"
    assert url_quote("a-b_c.d~e") == "a-b_c.d~e"
    assert url_quote(b"\xff") == "%FF"
    assert url_quote("a+b&c", safe="+") == "a+b%26c"


def test_url_unquote() -> None:
    assert url_unquote("%2Fa%20b") == "/a b"
    assert url_unquote("a+b") == "a+b"
    assert url_unquote("%zz%4") == "%zz%4"
    assert url_unquote("%C3%A9") == "é"
    assert url_unquote(b"%ff") == "\ufffd"
    assert url_unquote("plain") == "plain"


def test_url_encode() -> None:
    assert url_encode({"a": "1", "b": "x y"}) == "a=1&b=x+y"
    assert url_encode([("a", 1), ("a", 2)]) == "a=1&a=2"
    assert url_encode({"a": [1, 2], "b": None}) == "a=1&a=2"
    assert url_encode({"&": "=+%"}) == "%26=%3D%2B%25"
    assert url_encode({"b": 1, "a": 2}, sort=True) == "a=2&b=1"
    assert url_encode({"é": "ü"}) == "%C3%A9=%C3%BC"
    assert url_encode({}) == ""


def test_url_encode_multidict_like() -> None:
    class Multi(dict[str, str]):
        def lists(self) -> list[tuple[str, list[str]]]:
            return [("a", ["1", "2"])]

    assert url_encode(Multi(a="1")) == "a=1&a=2"


# -- quoting, lists, dicts ----------------------------------------------------


def test_quote_header_value() -> None:
    assert quote_header_value("token") == "token"
    assert quote_header_value("a b") == '"a b"'
    assert quote_header_value('a"b\\c') == '"a\\"b\\\\c"'
    assert quote_header_value("") == '""'
    assert quote_header_value("token", allow_token=False) == '"token"'
    assert quote_header_value(42) == "42"


def test_unquote_header_value() -> None:
    assert unquote_header_value('"a\\"b"') == 'a"b'
    assert unquote_header_value('"a\\\\b"') == "a\\b"
    assert unquote_header_value("plain") == "plain"
    assert unquote_header_value('"') == '"'


def test_parse_list_header() -> None:
    assert parse_list_header('a, "b, c", d') == ["a", "b, c", "d"]
    assert parse_list_header("a,,b , ") == ["a", "b"]
    assert parse_list_header('a="x, y", b') == ['a="x, y"', "b"]
    assert parse_list_header('"unterminated, x') == ['"unterminated, x']
    assert parse_list_header(None) == []
    assert parse_list_header("") == []


def test_parse_set_header() -> None:
    assert parse_set_header("Accept, cookie, COOKIE, Origin") == ["Accept", "cookie", "Origin"]
    assert parse_set_header(None) == []


def test_parse_dict_header() -> None:
    assert parse_dict_header('a=b, c="d, e", f') == {"a": "b", "c": "d, e", "f": None}
    assert parse_dict_header(None) == {}
    assert parse_dict_header("=x, , a=1") == {"a": "1"}
    assert parse_dict_header("k*=UTF-8''%C3%A9, k=x") == {"k": "é"}
    assert parse_dict_header("k=x, k*=UTF-8''%C3%A9") == {"k": "é"}


def test_dump_header() -> None:
    assert dump_header({"a": "b", "c": None, "d": "x y"}) == 'a=b, c, d="x y"'
    assert dump_header(["a", "b c"]) == 'a, "b c"'


# -- options headers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", {})),
        ("", ("", {})),
        ("text/html", ("text/html", {})),
        ("text/html; charset=utf-8", ("text/html", {"charset": "utf-8"})),
        ('text/html; Charset="utf-8"', ("text/html", {"charset": "utf-8"})),
        (
            'form-data; name="a;b"; filename="x\\"y.txt"',
            ("form-data", {"name": "a;b", "filename": 'x"y.txt'}),
        ),
        ("a; b; c=1", ("a", {"c": "1"})),
        ("a; ;; c = 1 ", ("a", {"c": "1"})),
        ('a; c="unterminated; d=2', ("a", {"c": "unterminated; d=2"})),
        ("a; =x", ("a", {})),
    ],
)
def test_parse_options_header(value: str | None, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_options_header(value) == expected


def test_options_rfc2231() -> None:
    value = "attachment; filename=fallback.txt; filename*=UTF-8''na%C3%AFve%20file.txt"
    assert parse_options_header(value) == ("attachment", {"filename": "naïve file.txt"})
    # The extended form wins regardless of order.
    value = "attachment; filename*=UTF-8'en'%C3%A9.txt; filename=fallback.txt"
    assert parse_options_header(value)[1] == {"filename": "é.txt"}
    # Latin-1 and an unknown charset.
    assert parse_options_header("a; f*=iso-8859-1''%E9")[1] == {"f": "é"}
    assert parse_options_header("a; f*=bogus''%C3%A9")[1] == {"f": "é"}
    # A codec that is not a text charset is not applied.
    assert parse_options_header("a; f*=rot13''abc")[1] == {"f": "abc"}
    # Not in charset'lang'value shape: kept under the starred name.
    assert parse_options_header("a; f*=plain")[1] == {"f*": "plain"}


def test_options_continuations() -> None:
    value = "form-data; name*0*=UTF-8''a%C3%A9; name*1=\"b c\"; name*2=d"
    assert parse_options_header(value) == ("form-data", {"name": "aéb cd"})
    # Out-of-order pieces are sorted.
    assert parse_options_header("a; n*1=y; n*0=x")[1] == {"n": "xy"}
    # The extended single value wins over continuations.
    assert parse_options_header("a; n*0=x; n*=UTF-8''z")[1] == {"n": "z"}
    # Continuations override the plain value.
    assert parse_options_header("a; n=plain; n*0=x")[1] == {"n": "x"}


def test_options_too_many_continuations_dropped() -> None:
    pieces = "; ".join(f"n*{i}=x" for i in range(150))
    assert parse_options_header(f"a; {pieces}") == ("a", {})


def test_dump_options_header() -> None:
    assert dump_options_header("text/html", {"charset": "utf-8"}) == "text/html; charset=utf-8"
    assert dump_options_header("a", {"x": None, "y": "a b", "z": 1}) == 'a; x; y="a b"; z=1'
    assert (
        dump_options_header("attachment", {"filename": "naïve.txt"})
        == "attachment; filename*=UTF-8''na%C3%AFve.txt"
    )
    assert dump_options_header(None, {"a": "b"}) == "a=b"


# -- accept, cache control, auth ----------------------------------------------


def test_parse_accept_header() -> None:
    value = "text/html;q=0.5, */*, text/*;q=0.8, application/json;q=x, a/b;q=2, c/d;level=1"
    assert parse_accept_header(value) == [
        ("c/d; level=1", 1.0),
        ("a/b", 1.0),
        ("*/*", 1.0),
        ("text/*", 0.8),
        ("text/html", 0.5),
    ]
    assert parse_accept_header("en;q=-1, de;q=nan, fr;q=inf, *") == [
        ("fr", 1.0),
        ("*", 1.0),
        ("en", 0.0),
    ]
    assert parse_accept_header("a, b, c") == [("a", 1.0), ("b", 1.0), ("c", 1.0)]
    assert parse_accept_header(None) == []
    assert parse_accept_header(" , ;q=1") == []


def test_parse_cache_control_header() -> None:
    assert parse_cache_control_header('Max-Age=60, no-cache, private="Set-Cookie"') == {
        "max-age": "60",
        "no-cache": None,
        "private": "Set-Cookie",
    }
    assert parse_cache_control_header(None) == {}


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


def test_parse_authorization_basic() -> None:
    assert parse_authorization_header(_basic(b"user:pa:ss")) == (
        "basic",
        {"username": "user", "password": "pa:ss"},
        None,
    )
    assert parse_authorization_header(_basic("ü:p".encode())) == (
        "basic",
        {"username": "ü", "password": "p"},
        None,
    )
    assert parse_authorization_header(_basic(b"nocolon")) is None
    assert parse_authorization_header(_basic(b"\xff:x")) is None
    assert parse_authorization_header("Basic !!!") is None
    assert parse_authorization_header("Basic") is None
    assert parse_authorization_header("Basic é") is None


def test_parse_authorization_other() -> None:
    assert parse_authorization_header("Bearer abc.def-_~+/==") == ("bearer", None, "abc.def-_~+/==")
    assert parse_authorization_header('Digest username="a b", realm=r, flag') == (
        "digest",
        {"username": "a b", "realm": "r"},
        None,
    )
    assert parse_authorization_header("Custom") == ("custom", None, None)
    assert parse_authorization_header(None) is None
    assert parse_authorization_header("") is None
    assert parse_authorization_header("B@d x") is None


def test_parse_www_authenticate_header() -> None:
    assert parse_www_authenticate_header('Basic realm="Login Required"') == (
        "basic",
        {"realm": "Login Required"},
        None,
    )
    assert parse_www_authenticate_header("Bearer") == ("bearer", {}, None)
    assert parse_www_authenticate_header("Negotiate abc=") == ("negotiate", None, "abc=")
    assert parse_www_authenticate_header(None) is None


# -- ranges -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes=0-499", ("bytes", [(0, 500)])),
        ("bytes=0-499, 500-", ("bytes", [(0, 500), (500, None)])),
        ("bytes=-500", ("bytes", [(-500, None)])),
        ("Bytes = 0-0,2-3", ("bytes", [(0, 1), (2, 4)])),
        ("bytes=0-1,-5", ("bytes", [(0, 2), (-5, None)])),
        ("bytes=5-1", None),
        ("bytes=0-1,1-2", None),
        ("bytes=2-3,0-1", None),
        ("bytes=-5,0-1", None),
        ("bytes=5-,6-7", None),
        ("bytes=-0", None),
        ("bytes=a-b", None),
        ("bytes=1", None),
        ("bytes=", None),
        ("bytes", None),
        ("=0-1", None),
        ("bytes=+1-2", None),
        ("bytes=" + "9" * 30 + "-", None),
        (None, None),
    ],
)
def test_parse_range_header(value: str | None, expected: object) -> None:
    assert parse_range_header(value) == expected


def test_parse_range_not_inclusive() -> None:
    assert parse_range_header("bytes=0-500", make_inclusive=False) == ("bytes", [(0, 500)])


def test_parse_range_caps_count() -> None:
    ok = ",".join(f"{i * 2}-{i * 2}" for i in range(parsing.MAX_RANGES))
    parsed = parse_range_header(f"bytes={ok}")
    assert parsed is not None
    assert len(parsed[1]) == parsing.MAX_RANGES
    too_many = ",".join(f"{i * 2}-{i * 2}" for i in range(parsing.MAX_RANGES + 1))
    assert parse_range_header(f"bytes={too_many}") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes 0-499/1234", ("bytes", 0, 500, 1234)),
        ("bytes 0-499/*", ("bytes", 0, 500, None)),
        ("bytes */1234", ("bytes", None, None, 1234)),
        ("bytes */*", None),
        ("bytes 5-4/10", None),
        ("bytes 0-10/10", None),
        ("bytes 0-9/10", ("bytes", 0, 10, 10)),
        ("bytes 0-9", None),
        ("bytes x-9/10", None),
        ("bytes 0/10", None),
        ("bytes 0-1/x", None),
        ("b@d 0-1/2", None),
        (None, None),
    ],
)
def test_parse_content_range_header(value: str | None, expected: object) -> None:
    assert parse_content_range_header(value) == expected


def test_is_byte_range_valid() -> None:
    assert is_byte_range_valid(0, 10, 10)
    assert is_byte_range_valid(0, 10, None)
    assert is_byte_range_valid(None, None, 5)
    assert is_byte_range_valid(None, None, None)
    assert not is_byte_range_valid(None, None, -1)
    assert not is_byte_range_valid(0, None, 10)
    assert not is_byte_range_valid(5, 5, 10)
    assert not is_byte_range_valid(0, 11, 10)
    assert not is_byte_range_valid(-1, 5, None)


# -- etags --------------------------------------------------------------------


def test_parse_etags() -> None:
    assert parse_etags('"a", W/"b", c, w/"d", "e,f"') == (["a", "c", "e,f"], ["b", "d"], False)
    assert parse_etags("*") == ([], [], True)
    assert parse_etags('"a", *') == ([], [], True)
    assert parse_etags(None) == ([], [], False)
    assert parse_etags('"unterminated') == (["unterminated"], [], False)
    assert parse_etags(' , ,"x"') == (["x"], [], False)


def test_quote_unquote_etag() -> None:
    assert quote_etag("abc") == '"abc"'
    assert quote_etag("abc", weak=True) == 'W/"abc"'
    with pytest.raises(ValueError, match="double quote"):
        quote_etag('a"b')
    assert unquote_etag('W/"abc"') == ("abc", True)
    assert unquote_etag(' "abc" ') == ("abc", False)
    assert unquote_etag("abc") == ("abc", False)
    assert unquote_etag(None) == (None, False)


def test_generate_etag() -> None:
    assert generate_etag(b"") == "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_parse_if_range_header() -> None:
    assert parse_if_range_header('"abc"') == ("abc", None)
    assert parse_if_range_header("Sun, 06 Nov 1994 08:49:37 GMT") == (
        None,
        datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC),
    )
    assert parse_if_range_header(None) == (None, None)


# -- dates --------------------------------------------------------------------


def test_http_date() -> None:
    expected = "Sun, 06 Nov 1994 08:49:37 GMT"
    assert http_date(784111777) == expected
    assert http_date(784111777.9) == expected
    assert http_date(datetime(1994, 11, 6, 8, 49, 37)) == expected
    assert http_date(datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)) == expected
    plus_two = timezone(timedelta(hours=2))
    assert http_date(datetime(1994, 11, 6, 10, 49, 37, tzinfo=plus_two)) == expected
    assert http_date(date(1994, 11, 6)) == "Sun, 06 Nov 1994 00:00:00 GMT"
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_http_date_now() -> None:
    before = int(time.time())
    parsed = parse_date(http_date())
    after = int(time.time())
    assert parsed is not None
    assert before <= parsed.timestamp() <= after


def test_http_date_now_cached_per_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [784111777.2]
    monkeypatch.setattr(time, "time", lambda: now[0])
    assert http_date() == "Sun, 06 Nov 1994 08:49:37 GMT"
    now[0] = 784111777.9
    assert http_date() == "Sun, 06 Nov 1994 08:49:37 GMT"
    now[0] = 784111778.0
    assert http_date() == "Sun, 06 Nov 1994 08:49:38 GMT"


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "06 Nov 1994 08:49:37 GMT",
        "sun, 06 nov 1994 08:49:37 utc",
        "Sun, 06 Nov 1994 09:49:37 +0100",
        "Sun, 06 Nov 1994 07:49:37 -0100",
    ],
)
def test_parse_date_formats(value: str) -> None:
    assert parse_date(value) == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "Sun, 06 Nov 1994",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 06 Nov 0 08:49:37 GMT" + "x",
        "Sun, 06 Nov 99999 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:4:9:37 GMT",
        "Sunday, 06-Nov 08:49:37 GMT",
        "Sun, ٠٦ Nov 1994 08:49:37 GMT",
        "x" * 200,
    ],
)
def test_parse_date_garbage(value: str | None) -> None:
    assert parse_date(value) is None


def test_parse_date_two_digit_years() -> None:
    assert parse_date("Monday, 01-Jan-68 00:00:00 GMT") == datetime(2068, 1, 1, tzinfo=UTC)
    assert parse_date("Wednesday, 01-Jan-69 00:00:00 GMT") == datetime(1969, 1, 1, tzinfo=UTC)
    assert parse_date("Sun, 06 Nov 1994 08:49 GMT") == datetime(1994, 11, 6, 8, 49, tzinfo=UTC)


# -- cookies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, []),
        ("", []),
        ("a=1", [("a", "1")]),
        ("a=1; b=2;c=3", [("a", "1"), ("b", "2"), ("c", "3")]),
        ("a = 1 ;  b=", [("a", "1"), ("b", "")]),
        ("a=1; a=2", [("a", "1"), ("a", "2")]),
        ("a=b=c", [("a", "b=c")]),
        ('a="x;y"; b=2', [("a", "x;y"), ("b", "2")]),
        ('a="x\\"y\\\\z"', [("a", 'x"y\\z')]),
        ('a="\\303\\251"', [("a", "é")]),
        ('a="\\377"', [("a", "\ufffd")]),
        ('a="x"y; b=1', [("a", '"x"y'), ("b", "1")]),
        ('a="unterminated; b=1', [("a", '"unterminated'), ("b", "1")]),
        ("=x; b=1", [("b", "1")]),
        (" =x", []),
        ("flag; b=1", [("flag", ""), ("b", "1")]),
        (";;; ;", []),
        ("a=é", [("a", "é")]),
    ],
)
def test_parse_cookie(header: str | None, expected: list[tuple[str, str]]) -> None:
    assert parse_cookie(header) == expected


def test_parse_cookie_latin1_view_of_utf8() -> None:
    raw = "a=é; b=日本".encode()
    assert parse_cookie(raw.decode("latin-1")) == [("a", "é"), ("b", "日本")]
    # Not UTF-8 underneath: kept as given.
    assert parse_cookie("a=\xe9") == [("a", "\xe9")]
    assert parse_cookie("a=日本") == [("a", "日本")]


def test_parse_cookie_bytes() -> None:
    assert parse_cookie("a=é; b=\xff".encode("latin-1")) == [("a", "\ufffd"), ("b", "\ufffd")]
    assert parse_cookie("a=é".encode()) == [("a", "é")]


def test_dump_cookie_basic() -> None:
    assert dump_cookie("a", "b") == "a=b; Path=/"
    assert dump_cookie("a", "b", path=None) == "a=b"
    assert dump_cookie("a", b"b") == "a=b; Path=/"
    assert dump_cookie("a") == "a=; Path=/"


def test_dump_cookie_quoting() -> None:
    assert dump_cookie("a", 'x y;"é\\', path=None) == 'a="x y\\073\\"\\303\\251\\\\"'
    assert dump_cookie("a", "b,c", path=None) == 'a="b\\054c"'


def test_dump_cookie_all_attributes() -> None:
    value = dump_cookie(
        "k",
        "v",
        max_age=60,
        expires=784111777,
        path="/p",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="strict",
        partitioned=True,
    )
    assert value == (
        "k=v; Domain=example.com; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=60;"
        " Secure; HttpOnly; Path=/p; SameSite=Strict; Partitioned"
    )


def test_dump_cookie_max_age() -> None:
    value = dump_cookie("k", "v", max_age=timedelta(hours=1))
    assert "Max-Age=3600" in value
    expires = parse_date(value.split("Expires=")[1].split(";")[0])
    assert expires is not None
    assert abs(expires.timestamp() - (time.time() + 3600)) < 5
    assert "Expires" not in dump_cookie("k", "v", max_age=10, sync_expires=False)
    assert "Expires=Thu, 01 Jan 1970" in dump_cookie("k", "", max_age=0, expires=0)


def test_dump_cookie_expires_kinds() -> None:
    dt = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert "Expires=Sun, 06 Nov 1994 08:49:37 GMT" in dump_cookie("k", expires=dt)
    assert "Expires=whenever" in dump_cookie("k", expires="whenever")
    with pytest.raises(ValueError, match="expires"):
        dump_cookie("k", expires="x; Secure")


def test_dump_cookie_partitioned_implies_secure() -> None:
    assert "; Secure;" in dump_cookie("k", partitioned=True)


@pytest.mark.parametrize(
    ("given", "sent"), [("lax", "Lax"), ("NONE", "None"), ("Strict", "Strict")]
)
def test_dump_cookie_samesite(given: str, sent: str) -> None:
    assert f"SameSite={sent}" in dump_cookie("k", samesite=given)


def test_dump_cookie_bad_samesite() -> None:
    with pytest.raises(ValueError, match="'sometimes'"):
        dump_cookie("k", samesite="sometimes")


@pytest.mark.parametrize("key", ["", "a;b", "a\r\nb", "a b", "a=b", "é", "a\x00", 'a"'])
def test_dump_cookie_bad_key(key: str) -> None:
    with pytest.raises(ValueError, match="Cookie name"):
        dump_cookie(key, "v")


def test_dump_cookie_bad_domain_and_path() -> None:
    with pytest.raises(ValueError, match="domain"):
        dump_cookie("k", domain="a.com\r\nX: y")
    assert "Domain=xn--bcher-kva.example" in dump_cookie("k", domain="bücher.example")
    # A path can't inject attributes: ";" is percent-encoded.
    assert "Path=/a%3B%20Secure" in dump_cookie("k", path="/a; Secure")


def test_dump_cookie_max_size_warns() -> None:
    with pytest.warns(UserWarning, match="'k' cookie is"):
        dump_cookie("k", "x" * 5000)
    assert dump_cookie("k", "x" * 5000, max_size=0).startswith("k=xxx")


@pytest.mark.parametrize("value", ["", "plain", "x y", 'a"b', "a;b", "é", "\x00\x7f", "\\"])
def test_cookie_round_trip(value: str) -> None:
    header = dump_cookie("k", value, path=None)
    assert parse_cookie(header) == [("k", value)]
    assert parse_cookie(f"x=1; {header}; y=2") == [("x", "1"), ("k", value), ("y", "2")]


# -- edge cases found by line coverage ----------------------------------------


def test_options_malformed_extended_values() -> None:
    # charset'lang'value needs both quotes; otherwise the raw value is kept.
    assert parse_options_header("a; f*=utf-8'only-one")[1] == {"f*": "utf-8'only-one"}
    # A malformed first continuation drops the whole parameter.
    assert parse_options_header("a; f*0*=utf-8'x; f*1=y")[1] == {}


def test_accept_empty_or_huge_quality_dropped() -> None:
    assert parse_accept_header("a;q=, b;q=0.12345678901, c;q=é, d") == [("d", 1.0)]


def test_range_bad_end() -> None:
    assert parse_range_header("bytes=0-x") is None


def test_parse_date_more_shapes() -> None:
    expected = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert parse_date("Sun Nov  6 08:49:37 1994 GMT") == expected
    assert parse_date("Sun Nov  6 08:49:37 1994 +0000") == expected
    assert parse_date("Sun, 06 Nov 1994 08:xx:37 GMT") is None
    assert parse_date("Sun, 06 Nov 1994 08:49:37 +01x0") is None


def test_parse_cookie_space_after_quoted_value() -> None:
    assert parse_cookie('a="x y"  ; b=1') == [("a", "x y"), ("b", "1")]
    assert parse_cookie('a="x"\t') == [("a", "x")]


def test_dump_cookie_bad_idna_domain() -> None:
    with pytest.raises(ValueError, match="not a valid host name"):
        dump_cookie("k", domain="é" * 70 + ".com")
