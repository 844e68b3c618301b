from __future__ import annotations

import collections.abc as cabc
import typing as t
from datetime import UTC
from datetime import datetime

import pytest

from erlen.http.values import Accept
from erlen.http.values import Authorization
from erlen.http.values import CharsetAccept
from erlen.http.values import ContentRange
from erlen.http.values import ETags
from erlen.http.values import HeaderSet
from erlen.http.values import IfRange
from erlen.http.values import LanguageAccept
from erlen.http.values import MIMEAccept
from erlen.http.values import Range
from erlen.http.values import RequestCacheControl
from erlen.http.values import ResponseCacheControl
from erlen.http.values import UserAgent
from erlen.http.values import WWWAuthenticate

# -- Accept -------------------------------------------------------------------


def _has(acc: Accept, value: str) -> bool:
    # mypy --strict-equality can't see that a list of pairs accepts a str.
    return t.cast(t.Any, value) in acc


def test_accept_basics() -> None:
    acc = Accept([("a", 0.5), ("b", 1), ("*", 0.1)])
    assert list(acc) == [("b", 1.0), ("a", 0.5), ("*", 0.1)]
    assert acc.provided
    assert acc["a"] == 0.5
    assert acc["B"] == 1
    assert acc["zzz"] == 0.1  # the wildcard
    assert acc[0] == ("b", 1.0)
    assert acc[1:] == [("a", 0.5), ("*", 0.1)]
    assert _has(acc, "a")
    assert t.cast(t.Any, 1) not in acc
    assert acc.best == "b"
    assert list(acc.values()) == ["b", "a", "*"]
    assert acc.index("a") == 1
    assert acc.index(("a", 0.5)) == 1
    assert acc.find("a") == 1
    assert Accept([("a", 1)]).find("b") == -1
    with pytest.raises(ValueError, match="'b' is not in the Accept"):
        Accept([("a", 1)]).index("b")
    assert acc.to_header() == "b,a;q=0.5,*;q=0.1"
    assert str(acc) == acc.to_header()
    assert repr(Accept([("a", 1)])) == "Accept([('a', 1.0)])"


def test_accept_empty_and_not_provided() -> None:
    acc = Accept.from_header(None)
    assert not acc.provided
    assert acc.best is None
    assert acc.best_match(["a"], default="d") == "d"
    assert acc["a"] == 0
    assert Accept.from_header("").provided
    assert Accept(Accept.from_header(None)).provided is False


def test_accept_is_immutable() -> None:
    acc = Accept([("a", 1)])
    ops: list[cabc.Callable[[], object]] = [
        lambda: acc.append(("b", 1)),
        lambda: acc.__setitem__(0, ("b", 1)),
        lambda: acc.__delitem__(0),
        lambda: acc.sort(),
        lambda: acc.clear(),
        lambda: acc.pop(),
    ]
    for op in ops:
        with pytest.raises(TypeError, match="immutable"):
            op()
    assert hash(acc) == hash(Accept([("a", 1)]))


def test_accept_best_with_only_zero() -> None:
    assert Accept([("a", 0)]).best is None


def test_accept_best_match() -> None:
    acc = Accept.from_header("a;q=0.5, b, c;q=0.8")
    assert acc.best_match(["a", "c"]) == "c"
    assert acc.best_match(["a", "b", "c"]) == "b"
    assert acc.best_match(["x"]) is None
    assert acc.best_match(["x"], default="a") == "a"
    # Ties go to the server's order.
    acc = Accept.from_header("a, b")
    assert acc.best_match(["b", "a"]) == "b"


def test_mime_accept_matching() -> None:
    acc = MIMEAccept.from_header("text/html;q=0, */*;q=0.5, application/json, text/*;q=0.8")
    assert acc["application/json"] == 1
    assert acc["APPLICATION/JSON; charset=utf-8"] == 1
    assert acc["text/plain"] == 0.8
    assert acc["text/html"] == 0  # q=0 beats the wildcards that also match
    assert acc["image/png"] == 0.5
    assert not _has(acc, "text/html")
    assert _has(acc, "image/png")
    assert acc.best == "application/json"
    assert acc.best_match(["text/html", "image/png"]) == "image/png"
    assert acc.best_match(["text/html"]) is None
    assert acc.best_match(["text/html", "text/plain", "application/json"]) == "application/json"


def test_mime_accept_specificity_breaks_ties() -> None:
    acc = MIMEAccept.from_header("text/*, text/html")
    assert acc.best_match(["text/plain", "text/html"]) == "text/html"
    acc = MIMEAccept.from_header("*/*, text/plain")
    assert acc.best_match(["image/png", "text/plain"]) == "text/plain"


def test_mime_accept_server_wildcards_and_odd_values() -> None:
    acc = MIMEAccept.from_header("text/html")
    assert acc["text/*"] == 1
    assert acc["*/*"] == 1
    assert acc["image/*"] == 0
    assert acc["text"] == 0
    assert MIMEAccept.from_header("*")["image/png"] == 1
    assert MIMEAccept.from_header("*/html")["text/html"] == 0


def test_mime_accept_properties() -> None:
    assert MIMEAccept.from_header("application/json").accept_json
    assert not MIMEAccept.from_header("application/json").accept_html
    assert MIMEAccept.from_header("text/html").accept_html
    assert MIMEAccept.from_header("application/xhtml+xml").accept_xhtml
    assert MIMEAccept.from_header("application/xml").accept_html
    assert not MIMEAccept.from_header("text/plain").accept_xhtml
    assert MIMEAccept.from_header("*/*").accept_json
    assert not MIMEAccept.from_header("text/html, */*;q=0").accept_json


def test_language_accept() -> None:
    acc = LanguageAccept.from_header("en-US, de;q=0.5")
    assert acc["en-us"] == 1
    assert acc["en_US"] == 1
    assert acc["en"] == 0
    assert LanguageAccept.from_header("en")["en-GB"] == 1
    # Falls back to primary tags in both directions.
    assert acc.best_match(["en", "de"]) == "en"
    assert acc.best_match(["de", "en-GB"]) == "en-GB"
    assert acc.best_match(["de-AT"]) == "de-AT"
    assert acc.best_match(["fr"]) is None
    assert acc.best_match(["fr"], "x") == "x"
    # A direct match still beats a primary-tag fallback of equal quality.
    acc = LanguageAccept.from_header("en-US, en-GB")
    assert acc.best_match(["en-AU", "en-GB"]) == "en-GB"
    assert LanguageAccept.from_header("*")["fr"] == 1


def test_charset_accept() -> None:
    acc = CharsetAccept.from_header("UTF-8, latin1;q=0.5, x-unknown;q=0.2")
    assert acc["utf8"] == 1
    assert acc["iso-8859-1"] == 0.5
    assert acc["X-Unknown"] == 0.2
    assert acc["ascii"] == 0
    assert acc.best_match(["ascii", "latin-1"]) == "latin-1"


# -- Cache-Control ------------------------------------------------------------


def test_request_cache_control() -> None:
    cc = RequestCacheControl.from_header(
        "max-age=5, no-cache, max-stale, min-fresh=3, only-if-cached, no-store,"
        " no-transform, stale-if-error=9"
    )
    assert cc.provided
    assert cc.max_age == 5
    assert cc.no_cache is True
    assert cc.max_stale == "*"
    assert cc.min_fresh == 3
    assert cc.only_if_cached
    assert cc.no_store
    assert cc.no_transform
    assert cc.stale_if_error == 9
    empty = RequestCacheControl.from_header(None)
    assert not empty.provided
    assert empty.max_age is None
    assert not empty.no_cache
    assert empty.max_stale is None
    assert RequestCacheControl.from_header("max-stale=7").max_stale == 7
    assert RequestCacheControl.from_header("max-age=abc").max_age is None


def test_request_cache_control_is_immutable() -> None:
    cc = RequestCacheControl.from_header("no-cache")
    with pytest.raises(TypeError, match="immutable"):
        cc["x"] = "1"
    with pytest.raises(TypeError, match="immutable"):
        cc.update({"x": "1"})
    with pytest.raises(TypeError, match="immutable"):
        cc.pop("no-cache")


def test_response_cache_control_setters() -> None:
    calls: list[ResponseCacheControl] = []
    cc = ResponseCacheControl(on_update=calls.append)
    cc.max_age = 60
    cc.s_maxage = 120
    cc.public = True
    cc.no_cache = "Set-Cookie"
    cc.must_revalidate = True
    cc.immutable = True
    cc.stale_while_revalidate = 30
    assert len(calls) == 7
    assert calls[-1] is cc
    assert cc.to_header() == (
        'max-age=60, s-maxage=120, public, no-cache="Set-Cookie", must-revalidate,'
        " immutable, stale-while-revalidate=30"
    )
    assert cc.max_age == 60
    assert cc.no_cache == "Set-Cookie"
    assert cc.private is None
    cc.no_cache = True
    assert cc.no_cache is True
    assert "no-cache," in cc.to_header()
    cc.public = False
    cc.max_age = None
    del cc.immutable
    assert "public" not in cc
    assert "max-age" not in cc
    assert not cc.immutable
    cc.no_cache = None
    assert cc.no_cache is None
    assert str(cc) == cc.to_header()
    assert repr(cc).startswith("<ResponseCacheControl ")


def test_response_cache_control_dict_changes_notify() -> None:
    calls: list[object] = []
    cc = ResponseCacheControl.from_header("no-store", on_update=calls.append)
    assert cc.no_store
    cc["private"] = None
    del cc["private"]
    cc.update({"max-age": "1"})
    cc.setdefault("max-age", "2")  # already present: no change
    cc.setdefault("public", None)
    cc.pop("missing", None)  # absent: no change
    cc.pop("public")
    cc.popitem()
    cc.clear()
    assert len(calls) == 7
    assert cc == {}


def test_response_cache_control_private_and_proxy() -> None:
    cc = ResponseCacheControl()
    cc.private = True
    cc.proxy_revalidate = True
    cc.must_understand = True
    cc.no_transform = True
    cc.stale_if_error = 5
    assert cc.private is True
    assert cc.to_header() == (
        "private, proxy-revalidate, must-understand, no-transform, stale-if-error=5"
    )


# -- Authorization ------------------------------------------------------------


def test_authorization_basic() -> None:
    auth = Authorization.from_header("Basic dXNlcjpwYXNz")
    assert auth is not None
    assert auth.type == "basic"
    assert auth.username == "user"
    assert auth.password == "pass"
    assert auth["username"] == "user"
    assert auth.get("nope", "d") == "d"
    assert auth.token is None
    assert auth.to_header() == "Basic dXNlcjpwYXNz"
    assert auth == Authorization("BASIC", {"username": "user", "password": "pass"})
    assert auth != Authorization("basic", {"username": "other", "password": "pass"})
    assert (auth == "x") is False
    assert str(auth) == auth.to_header()


def test_authorization_token_and_params() -> None:
    bearer = Authorization.from_header("Bearer abc")
    assert bearer is not None
    assert bearer.type == "bearer"
    assert bearer.token == "abc"
    assert bearer.username is None
    assert bearer.to_header() == "Bearer abc"
    digest = Authorization.from_header('Digest username="a b", realm=r, nonce=n')
    assert digest is not None
    assert digest.username == "a b"
    assert digest.realm == "r"
    assert digest.nonce == "n"
    assert digest.to_header() == 'Digest username="a b", realm=r, nonce=n'
    assert Authorization.from_header("Basic !!") is None
    assert Authorization.from_header(None) is None
    with pytest.raises(AttributeError):
        _ = bearer.__wrapped__


def test_www_authenticate() -> None:
    calls: list[WWWAuthenticate] = []
    www = WWWAuthenticate("basic", {"realm": "Login"}, on_update=calls.append)
    assert www.to_header() == 'Basic realm="Login"'
    www.realm = "Other place"
    assert www.realm == "Other place"
    www["charset"] = "UTF-8"
    assert www.to_header() == 'Basic realm="Other place", charset=UTF-8'
    www["charset"] = None
    www["x"] = "1"
    del www["x"]
    www.type = "Digest"
    assert www.type == "digest"
    assert www.get("realm") == "Other place"
    assert www["nope"] is None
    assert len(calls) == 6
    www.token = "tok"
    assert www.to_header() == "Digest tok"
    assert WWWAuthenticate("bearer").to_header() == "Bearer"
    parsed = WWWAuthenticate.from_header('Basic realm="x"')
    assert parsed == WWWAuthenticate("basic", {"realm": "x"})
    assert parsed != WWWAuthenticate("basic", {"realm": "y"})
    assert WWWAuthenticate.from_header("") is None
    assert str(parsed) == 'Basic realm="x"'
    assert parsed is not None
    assert parsed.parameters == {"realm": "x"}
    assert parsed.token is None


# -- Range --------------------------------------------------------------------


def test_range() -> None:
    rng = Range.from_header("bytes=0-499")
    assert rng is not None
    assert rng.units == "bytes"
    assert rng.ranges == [(0, 500)]
    assert rng.range_for_length(1000) == (0, 500)
    assert rng.range_for_length(100) == (0, 100)  # clamped
    assert rng.range_for_length(0) is None
    assert rng.range_for_length(None) is None
    assert rng.to_header() == "bytes=0-499"
    assert rng.to_content_range_header(1000) == "bytes 0-499/1000"
    content_range = rng.make_content_range(1000)
    assert content_range is not None
    assert content_range.to_header() == "bytes 0-499/1000"
    assert Range.from_header("nonsense") is None


def test_range_suffix_and_open() -> None:
    suffix = Range("bytes", [(-500, None)])
    assert suffix.range_for_length(1000) == (500, 1000)
    assert suffix.range_for_length(100) == (0, 100)  # longer than the body
    assert suffix.to_header() == "bytes=-500"
    open_end = Range("bytes", [(500, None)])
    assert open_end.range_for_length(1000) == (500, 1000)
    assert open_end.range_for_length(500) is None
    assert open_end.to_header() == "bytes=500-"
    assert open_end.make_content_range(10) is None
    assert open_end.to_content_range_header(10) is None


def test_range_multiple_or_other_units() -> None:
    multi = Range("bytes", [(0, 1), (5, 6)])
    assert multi.range_for_length(10) is None
    assert multi.to_header() == "bytes=0-0,5-5"
    assert Range("items", [(0, 1)]).range_for_length(10) is None
    assert multi == Range("bytes", [(0, 1), (5, 6)])
    assert multi != Range("bytes", [(0, 1)])
    assert str(multi) == "bytes=0-0,5-5"


def _fields(cr: ContentRange) -> tuple[int | None, int | None, int | None]:
    return cr.start, cr.stop, cr.length


def test_content_range() -> None:
    calls: list[ContentRange] = []
    cr = ContentRange("bytes", 0, 10, 100, on_update=calls.append)
    assert bool(cr)
    assert cr.to_header() == "bytes 0-9/100"
    cr.start = 10
    cr.stop = 20
    cr.length = None
    assert cr.to_header() == "bytes 10-19/*"
    cr.units = "items"
    assert cr.units == "items"
    cr.set(None, None, 50)
    assert cr.to_header() == "bytes */50"
    assert _fields(cr) == (None, None, 50)
    cr.unset()
    assert not cr
    assert cr.to_header() == ""
    assert len(calls) == 6
    parsed = ContentRange.from_header("bytes 0-9/100")
    assert parsed == ContentRange("bytes", 0, 10, 100)
    assert ContentRange.from_header("bytes 9-0/100") is None
    assert str(parsed) == "bytes 0-9/100"


# -- ETags and If-Range -------------------------------------------------------


def test_etags() -> None:
    etags = ETags.from_header('"a", W/"b"')
    assert etags.contains("a")
    assert not etags.contains("b")
    assert etags.contains_weak("b")
    assert etags.contains_weak("a")
    assert etags.is_weak("b")
    assert etags.is_strong("a")
    assert not etags.is_strong("b")
    assert etags.contains_raw('W/"b"')
    assert etags.contains_raw('"a"')
    assert not etags.contains_raw('"b"')
    assert "a" in etags
    assert "b" not in etags
    assert t.cast(t.Any, 1) not in etags
    assert etags.as_set() == {"a"}
    assert etags.as_set(include_weak=True) == {"a", "b"}
    assert list(etags) == ["a"]
    assert len(etags) == 1
    assert etags.to_header() == '"a", W/"b"'
    assert etags == ETags(["a"], ["b"])
    assert hash(etags) == hash(ETags(["a"], ["b"]))
    assert etags("a")
    assert etags("b", include_weak=True)
    assert not etags("b")
    with pytest.raises(TypeError, match="etag or data"):
        etags()


def test_etags_star_and_empty() -> None:
    star = ETags.from_header("*")
    assert star.star_tag
    assert star.contains("anything")
    assert star.contains_raw('"x"')
    assert star.to_header() == "*"
    assert bool(star)
    empty = ETags()
    assert not empty
    assert not empty.contains("a")
    assert empty.to_header() == ""
    assert not ETags.from_header(None)
    assert ETags(["x"])(data=b"") is False
    assert ETags(["da39a3ee5e6b4b0d3255bfef95601890afd80709"])(data=b"")
    assert repr(ETags(["a"])) == "<ETags '\"a\"'>"


def test_if_range() -> None:
    by_etag = IfRange.from_header('"abc"')
    assert by_etag.etag == "abc"
    assert by_etag.date is None
    assert by_etag.to_header() == '"abc"'
    by_date = IfRange.from_header("Sun, 06 Nov 1994 08:49:37 GMT")
    assert by_date.date == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert by_date.to_header() == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert IfRange().to_header() == ""
    assert IfRange.from_header(None) == IfRange()
    assert str(by_etag) == '"abc"'


# -- HeaderSet ----------------------------------------------------------------


def test_header_set() -> None:
    calls: list[HeaderSet] = []
    hs = HeaderSet(["Accept", "cookie", "COOKIE"], on_update=calls.append)
    assert list(hs) == ["Accept", "cookie"]
    assert "ACCEPT" in hs
    assert t.cast(t.Any, 1) not in hs
    hs.add("Cookie")  # present already: no change
    assert calls == []
    hs.add("Origin")
    assert len(calls) == 1
    assert hs.to_header() == "Accept, cookie, Origin"
    assert hs.find("origin") == 2
    assert hs.find("nope") == -1
    assert hs.index("COOKIE") == 1
    with pytest.raises(IndexError):
        hs.index("nope")
    hs.discard("nope")
    assert len(calls) == 1
    hs.discard("ACCEPT")
    assert list(hs) == ["cookie", "Origin"]
    with pytest.raises(KeyError):
        hs.remove("nope")
    hs.remove("cookie")
    hs.update(["a", "b", "A"])
    assert list(hs) == ["Origin", "a", "b"]
    assert hs.as_set() == {"origin", "a", "b"}
    assert hs.as_set(preserve_casing=True) == {"Origin", "a", "b"}
    assert hs[0] == "Origin"
    hs[0] = "X-Thing"
    assert hs[0] == "X-Thing"
    hs[1] = "B"  # already present elsewhere: one copy kept
    assert list(hs) == ["X-Thing", "b"]
    del hs[0]
    assert list(hs) == ["b"]
    assert len(hs) == 1
    assert hs
    hs.clear()
    assert not hs
    assert len(calls) == 8


def test_header_set_from_header_and_compare() -> None:
    hs = HeaderSet.from_header('Accept, "quoted value"')
    assert list(hs) == ["Accept", "quoted value"]
    assert hs.to_header() == 'Accept, "quoted value"'
    assert str(hs) == hs.to_header()
    assert hs == HeaderSet(["accept", "QUOTED VALUE"])
    assert hs == {"Accept", "quoted value"}
    assert hs != {"Accept"}
    assert repr(HeaderSet(["a"])) == "HeaderSet(['a'])"


# -- UserAgent ----------------------------------------------------------------


def test_user_agent() -> None:
    ua = UserAgent("Mozilla/5.0 (X11)")
    assert ua.string == "Mozilla/5.0 (X11)"
    assert str(ua) == ua.to_header() == "Mozilla/5.0 (X11)"
    assert ua
    assert ua.platform is None
    assert ua.browser is None
    assert ua.version is None
    assert ua.language is None
    assert not UserAgent(None)
    assert UserAgent("x") == UserAgent("x")
    assert UserAgent("x") != UserAgent("y")
    assert hash(UserAgent("x")) == hash(UserAgent("x"))
    assert repr(ua) == "<UserAgent 'Mozilla/5.0 (X11)'>"
