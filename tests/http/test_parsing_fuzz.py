"""Property tests: parsers never fail on arbitrary input, and dumps round-trip."""

from __future__ import annotations

import time
from datetime import UTC
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from erlen.http.exceptions import BadRequest
from erlen.http.parsing import dump_cookie
from erlen.http.parsing import dump_options_header
from erlen.http.parsing import http_date
from erlen.http.parsing import parse_accept_header
from erlen.http.parsing import parse_authorization_header
from erlen.http.parsing import parse_cache_control_header
from erlen.http.parsing import parse_content_range_header
from erlen.http.parsing import parse_cookie
from erlen.http.parsing import parse_date
from erlen.http.parsing import parse_dict_header
from erlen.http.parsing import parse_etags
from erlen.http.parsing import parse_list_header
from erlen.http.parsing import parse_options_header
from erlen.http.parsing import parse_qsl
from erlen.http.parsing import parse_range_header
from erlen.http.parsing import parse_www_authenticate_header
from erlen.http.parsing import quote_etag
from erlen.http.parsing import quote_header_value
from erlen.http.parsing import unquote_etag
from erlen.http.parsing import unquote_header_value
from erlen.http.parsing import url_encode
from erlen.http.parsing import url_quote
from erlen.http.parsing import url_unquote

fuzz = settings(max_examples=200, deadline=None)

# Text biased towards the characters the parsers care about.
_SPECIAL = st.sampled_from(list("%+&=;,\"\\ \t/*-W:'") + ["%4", "%zz", "%C3%A9", "q=", "*0*"])
header_text = st.one_of(
    st.text(),
    st.lists(st.one_of(_SPECIAL, st.text(max_size=3)), max_size=30).map("".join),
)
_TOKEN = st.text(
    alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    min_size=1,
    max_size=10,
)


@fuzz
@given(st.one_of(st.binary(), header_text))
def test_parse_qsl_only_bad_request(raw: bytes | str) -> None:
    try:
        pairs = parse_qsl(raw)
    except BadRequest as e:
        assert e.code == 400
        assert e.description
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)


@fuzz
@given(st.lists(st.tuples(st.text(), st.text())))
def test_url_encode_round_trip(pairs: list[tuple[str, str]]) -> None:
    assert parse_qsl(url_encode(pairs)) == pairs
    assert parse_qsl(url_encode(pairs).encode("ascii")) == pairs


@fuzz
@given(st.text(), st.sampled_from(["", "/", "/:", "/:@"]))
def test_url_quote_round_trip(value: str, safe: str) -> None:
    quoted = url_quote(value, safe=safe)
    assert quoted.isascii()
    assert url_unquote(quoted) == value


@fuzz
@given(st.one_of(st.binary(), header_text))
def test_url_unquote_never_raises(value: bytes | str) -> None:
    assert isinstance(url_unquote(value), str)


@fuzz
@given(st.one_of(st.binary(), header_text))
def test_parse_cookie_never_raises(header: bytes | str) -> None:
    for key, value in parse_cookie(header):
        assert key  # SECURITY: never a nameless cookie
        assert isinstance(value, str)


@fuzz
@given(_TOKEN.filter(lambda k: not set(k) & set('()<>@,;:\\"/[]?={}')), st.text())
def test_cookie_round_trip(key: str, value: str) -> None:
    header = dump_cookie(key, value, path=None, max_size=0)
    assert parse_cookie(header) == [(key, value)]
    assert parse_cookie(f"a=1; {header}; b=2") == [("a", "1"), (key, value), ("b", "2")]


@fuzz
@given(header_text)
def test_parse_options_header_never_raises(value: str) -> None:
    main, params = parse_options_header(value)
    assert isinstance(main, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())


@fuzz
@given(
    _TOKEN,
    st.dictionaries(_TOKEN.map(str.lower).filter(lambda k: "*" not in k and k != "q"), st.text()),
)
def test_options_header_round_trip(main: str, params: dict[str, str]) -> None:
    assert parse_options_header(dump_options_header(main, params)) == (main, params)


@fuzz
@given(header_text)
def test_list_and_dict_headers_never_raise(value: str) -> None:
    assert all(isinstance(x, str) for x in parse_list_header(value))
    assert isinstance(parse_dict_header(value), dict)


@fuzz
@given(st.text())
def test_quote_header_value_round_trip(value: str) -> None:
    assert unquote_header_value(quote_header_value(value, allow_token=False)) == value
    assert parse_list_header(quote_header_value(value, allow_token=False)) == [value]


@fuzz
@given(header_text)
def test_parse_accept_header_never_raises(value: str) -> None:
    items = parse_accept_header(value)
    qualities = [q for _, q in items]
    assert all(0 <= q <= 1 for q in qualities)
    assert qualities == sorted(qualities, reverse=True)


@fuzz
@given(header_text)
def test_parse_cache_control_header_never_raises(value: str) -> None:
    assert all(k == k.lower() for k in parse_cache_control_header(value))


@fuzz
@given(st.one_of(header_text, st.text().map(lambda s: "Basic " + s)))
def test_parse_authorization_header_never_raises(value: str) -> None:
    result = parse_authorization_header(value)
    assert result is None or result[0] == result[0].lower()
    result = parse_www_authenticate_header(value)
    assert result is None or isinstance(result[0], str)


@fuzz
@given(st.one_of(header_text, header_text.map(lambda s: "bytes=" + s)))
def test_parse_range_header_never_raises(value: str) -> None:
    result = parse_range_header(value)
    if result is not None:
        last = -1
        for start, stop in result[1]:
            if stop is not None:
                assert 0 <= start < stop
                assert start >= last
                last = stop


@fuzz
@given(st.one_of(header_text, header_text.map(lambda s: "bytes " + s)))
def test_parse_content_range_header_never_raises(value: str) -> None:
    result = parse_content_range_header(value)
    if result is not None:
        _, start, stop, length = result
        assert (start is None) == (stop is None)


@fuzz
@given(header_text)
def test_parse_etags_never_raises(value: str) -> None:
    strong, weak, star = parse_etags(value)
    assert not (star and (strong or weak))


@fuzz
@given(st.text().filter(lambda s: '"' not in s), st.booleans())
def test_etag_round_trip(etag: str, weak: bool) -> None:
    assert unquote_etag(quote_etag(etag, weak)) == (etag, weak)
    strong_tags, weak_tags, _ = parse_etags(quote_etag(etag, weak))
    if "," not in etag:
        assert (weak_tags if weak else strong_tags) == [etag]


@fuzz
@given(header_text)
def test_parse_date_never_raises(value: str) -> None:
    result = parse_date(value)
    assert result is None or result.tzinfo is UTC


@fuzz
@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_http_date_round_trip(dt: datetime) -> None:
    assert parse_date(http_date(dt)) == dt.replace(microsecond=0, tzinfo=UTC)


@fuzz
@given(st.integers(min_value=0, max_value=int(time.time()) * 2))
def test_http_date_timestamp_round_trip(ts: int) -> None:
    parsed = parse_date(http_date(ts))
    assert parsed is not None
    assert parsed.timestamp() == ts


@pytest.mark.parametrize(
    "func",
    [
        parse_cookie,
        parse_options_header,
        parse_list_header,
        parse_dict_header,
        parse_accept_header,
        parse_etags,
        parse_range_header,
    ],
)
def test_linear_time_on_adversarial_input(func: object) -> None:
    # Patterns that make naive scanners quadratic: many quotes, escapes,
    # separators without "=", unterminated quoted strings.
    n = 100_000
    inputs = [
        '"\\' * n,
        '"' * n,
        ";" * n,
        "a;" * n,
        'a="' * n,
        "=" * n,
        ", " * n,
        'W/"' * n,
        "\\" * n,
    ]
    assert callable(func)
    start = time.perf_counter()
    for value in inputs:
        func(value)
    assert time.perf_counter() - start < 5


def test_parse_qsl_linear_time() -> None:
    n = 100_000
    start = time.perf_counter()
    assert len(parse_qsl(b"a=%41&" * n)) == n
    assert len(parse_qsl("a+b&" * n)) == n
    assert parse_qsl(b"=" * n) == [("", "=" * (n - 1))]
    with pytest.raises(BadRequest, match=f"position {6 * n}"):
        parse_qsl(b"a=%41&" * n + b"%")
    assert time.perf_counter() - start < 5
