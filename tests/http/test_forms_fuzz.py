"""Property tests: hostile bodies, query strings and cookies never cause a 500."""

from __future__ import annotations

import io
import typing as t

from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from erlen.http.datastructures import ImmutableMultiDict
from erlen.http.exceptions import BadRequest
from erlen.http.exceptions import HTTPException
from erlen.http.exceptions import RequestEntityTooLarge
from erlen.http.forms import _qs_to_multidict
from erlen.http.forms import pairs_to_multidict
from erlen.http.forms import parse_form_data
from erlen.http.headers import Headers
from erlen.http.parsing import parse_qsl
from erlen.http.request import Request

FUZZ = settings(max_examples=200, deadline=None)
BOUNDARY = "fuzzBoundary42"


class ShortReads(io.RawIOBase):
    """A body that arrives in pieces of at most ``step`` bytes, like a socket."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__()
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        chunk = self._data[self._pos : self._pos + min(len(buffer), self._step)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


def request(
    headers: list[tuple[str, str]], body: bytes = b"", query: bytes = b"", method: str = "POST"
) -> Request:
    if body:
        headers = [*headers, ("Content-Length", str(len(body)))]
    return Request(
        method,
        "http",
        ("localhost", 80),
        "",
        "/",
        query,
        Headers.from_raw(headers),
        "127.0.0.1",
        io.BytesIO(body),
    )


def touch_body(r: Request) -> None:
    # Every access either works or raises a 4xx HTTPException.
    try:
        form = r.form
        files = r.files
    except HTTPException as e:
        assert e.code is not None and 400 <= e.code < 500, e
        return
    try:
        assert isinstance(form, ImmutableMultiDict)
        for _, value in form.items(multi=True):
            assert isinstance(value, str)
        for _, storage in files.items(multi=True):
            storage.read()
    finally:
        r.close()


def close_files(files: ImmutableMultiDict) -> None:
    for _, storage in files.items(multi=True):
        storage.close()


# -- arbitrary input never breaks ----------------------------------------------------


@FUZZ
@given(st.binary(max_size=2000))
def test_urlencoded_body_fuzz(body: bytes) -> None:
    touch_body(request([("Content-Type", "application/x-www-form-urlencoded")], body))


@FUZZ
@given(st.binary(max_size=2000))
def test_query_string_fuzz(query: bytes) -> None:
    r = request([], query=query, method="GET")
    try:
        args = r.args
    except HTTPException as e:
        assert e.code == 400
        return
    for key, value in args.items(multi=True):
        assert isinstance(key, str) and isinstance(value, str)
    assert r.url.isascii()


# Query strings and bodies made of the pieces the one-pass parser cares about.
_QS_BYTES = st.one_of(
    st.binary(max_size=200),
    st.lists(
        st.sampled_from(
            [b"a", b"b", b"=", b"&", b"+", b"%", b"%4", b"%41", b"%26", b"%3D", b"%3d"]
            + [b"%2B", b"%ff", b"%C3%A9", b"\\", b"\\x41", b"\xc3\xa9", b"\xff", b"%zz"]
        ),
        max_size=30,
    ).map(b"".join),
)


@FUZZ
@given(_QS_BYTES, st.one_of(st.none(), st.integers(0, 6)))
def test_qs_to_multidict_is_parse_qsl_grouped(data: bytes, max_parts: int | None) -> None:
    # The fast paths give what the precise parser gives, errors included.
    fields = sum(1 for piece in data.split(b"&") if piece)
    expected: object
    if max_parts is not None and fields > max_parts:
        expected = RequestEntityTooLarge
    else:
        try:
            expected = list(pairs_to_multidict(parse_qsl(data, what="form body")).lists())
        except BadRequest as e:
            expected = e.description
    try:
        got: object = list(
            _qs_to_multidict(data, ImmutableMultiDict, "form body", max_parts).lists()
        )
    except RequestEntityTooLarge:
        got = RequestEntityTooLarge
    except BadRequest as e:
        got = e.description
    assert got == expected


@FUZZ
@given(st.text(max_size=500))
def test_cookie_header_fuzz(header: str) -> None:
    r = request([("Cookie", header)], method="GET")
    try:
        cookies = r.cookies
    except HTTPException as e:
        assert e.code is not None and 400 <= e.code < 500
        return
    for key, value in cookies.items(multi=True):
        assert isinstance(key, str) and isinstance(value, str)
        assert key


@FUZZ
@given(st.binary(max_size=300))
def test_cookie_header_bytes_fuzz(raw: bytes) -> None:
    # What a WSGI server hands over: header bytes decoded as latin-1.
    r = request([("Cookie", raw.decode("latin-1"))], method="GET")
    try:
        _ = r.cookies
    except HTTPException as e:
        assert e.code is not None and 400 <= e.code < 500


_PIECES = st.sampled_from(
    [
        f"--{BOUNDARY}".encode(),
        f"--{BOUNDARY}--".encode(),
        b"\r\n",
        b"\r",
        b"\n",
        b"--",
        b'Content-Disposition: form-data; name="a"',
        b'Content-Disposition: form-data; name="f"; filename="x.txt"',
        b"Content-Disposition: form-data; name*=UTF-8''%C3%A9",
        b"Content-Type: text/plain; charset=latin-1",
        b"Content-Type: text/plain; charset=bogus",
        b": ",
        b"\x00",
        b"\xff\xfe",
        b"value",
    ]
)


@FUZZ
@given(
    st.sampled_from([b"", f"--{BOUNDARY}\r\n".encode()]),
    st.lists(st.one_of(_PIECES, st.binary(max_size=40)), max_size=40),
    st.integers(1, 70),
)
def test_multipart_body_fuzz_valid_boundary(start: bytes, pieces: list[bytes], step: int) -> None:
    body = start + b"".join(pieces)
    r = request([("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")], body)
    r.input_stream = t.cast(t.IO[bytes], ShortReads(body, step))
    touch_body(r)


@FUZZ
@given(st.text(max_size=80), st.binary(max_size=500))
def test_multipart_body_fuzz_arbitrary_boundary(boundary: str, body: bytes) -> None:
    content_type = f'multipart/form-data; boundary="{boundary}"'
    if any(c in content_type for c in "\r\n\x00"):
        content_type = "multipart/form-data; boundary=" + boundary.encode().hex()
    touch_body(request([("Content-Type", content_type)], body))


@FUZZ
@given(st.text(max_size=200), st.binary(max_size=200))
def test_content_type_fuzz(content_type: str, body: bytes) -> None:
    assume("\r" not in content_type and "\n" not in content_type)
    touch_body(request([("Content-Type", content_type)], body))
    r = request([("Content-Type", content_type)], body)
    try:
        r.get_json(force=True)
    except HTTPException as e:
        assert e.code == 400


# -- round trips -----------------------------------------------------------------------

_NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\%'),
    max_size=12,
)
_VALUE = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
_FILE_DATA = st.binary(max_size=3000)


def encode_multipart(
    boundary: str,
    fields: list[tuple[str, str]],
    files: list[tuple[str, str, bytes]],
) -> bytes:
    out = []
    for name, value in fields:
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )
    for name, filename, data in files:
        out.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}";'
                f' filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


_BOUNDARY = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=?",
    min_size=1,
    max_size=70,
)


@FUZZ
@given(
    _BOUNDARY,
    st.lists(st.tuples(_NAME, _VALUE), max_size=8),
    st.lists(st.tuples(_NAME, _NAME, _FILE_DATA), max_size=4),
    st.integers(1, 5000),
)
def test_multipart_round_trip(
    boundary: str,
    fields: list[tuple[str, str]],
    files: list[tuple[str, str, bytes]],
    step: int,
) -> None:
    body = encode_multipart(boundary, fields, files)
    delimiter = f"\r\n--{boundary}".encode()
    # A value holding the delimiter is a client bug, not a parser one.
    assume(all(delimiter not in ("\r\n" + v).encode() for _, v in fields))
    assume(all(delimiter not in b"\r\n" + d for _, _, d in files))
    parsed_form, parsed_files = parse_form_data(
        t.cast(t.IO[bytes], ShortReads(body, step)),
        "multipart/form-data",
        {"boundary": boundary},
        len(body),
        max_form_memory_size=None,
        spool_threshold=1000,
    )
    try:
        assert list(parsed_form.items(multi=True)) == sorted_like(fields)
        got = [(k, s.filename, s.read()) for k, s in parsed_files.items(multi=True)]
        assert got == sorted_like(files)
    finally:
        close_files(parsed_files)


def sorted_like(pairs: list[t.Any]) -> list[t.Any]:
    # A MultiDict groups values by key, keys in first-seen order.
    order: dict[str, list[t.Any]] = {}
    for item in pairs:
        order.setdefault(item[0], []).append(item)
    return [item for group in order.values() for item in group]


@FUZZ
@given(st.lists(st.tuples(_VALUE, _VALUE), max_size=20))
def test_urlencoded_round_trip(fields: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    body = urlencode(fields).encode("ascii")
    form, _ = parse_form_data(io.BytesIO(body), "application/x-www-form-urlencoded", {}, len(body))
    # "=" for an empty pair still gives ("", ""): only "&&" gaps are skipped.
    assert list(form.items(multi=True)) == sorted_like(fields)


@FUZZ
@given(st.lists(_VALUE, max_size=10), st.integers(0, 400))
def test_multipart_memory_limit_is_exact(values: list[str], limit: int) -> None:
    fields = [(f"f{i}", v) for i, v in enumerate(values)]
    body = encode_multipart(BOUNDARY, fields, [])
    assume(all(f"--{BOUNDARY}" not in v for v in values))
    total = sum(len(v.encode("utf-8")) for v in values)
    try:
        form, _ = parse_form_data(
            io.BytesIO(body),
            "multipart/form-data",
            {"boundary": BOUNDARY},
            len(body),
            max_form_memory_size=limit,
        )
    except RequestEntityTooLarge as e:
        assert total > limit
        assert f"more than {limit} bytes (MAX_FORM_MEMORY_SIZE)" in str(e.description)
    else:
        assert total <= limit
        assert [form[f"f{i}"] for i in range(len(values))] == values


@FUZZ
@given(st.integers(0, 30), st.integers(0, 30), st.booleans())
def test_parts_limit_is_exact(count: int, limit: int, urlencoded: bool) -> None:
    fields = [(f"f{i}", "v") for i in range(count)]
    if urlencoded:
        mimetype = "application/x-www-form-urlencoded"
        body = "&".join(f"{k}={v}" for k, v in fields).encode()
    else:
        mimetype = "multipart/form-data"
        body = encode_multipart(BOUNDARY, fields, [])
    try:
        form, _ = parse_form_data(
            io.BytesIO(body), mimetype, {"boundary": BOUNDARY}, len(body), max_form_parts=limit
        )
    except RequestEntityTooLarge as e:
        assert count > limit
        assert f"more than {limit} parts (MAX_FORM_PARTS)" in str(e.description)
    else:
        assert count <= limit
        assert len(form) == count


@FUZZ
@given(
    st.lists(st.tuples(_NAME, _VALUE), min_size=1, max_size=4),
    st.lists(st.tuples(_NAME, _NAME, _FILE_DATA), max_size=2),
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.one_of(_PIECES, st.binary())),
        min_size=1,
        max_size=4,
    ),
    st.integers(1, 500),
)
def test_mutated_multipart_body_fuzz(
    fields: list[tuple[str, str]],
    files: list[tuple[str, str, bytes]],
    edits: list[tuple[int, int, bytes]],
    step: int,
) -> None:
    # Start from a valid body and splice pieces in, so that the parser gets
    # deep into headers and data before something goes wrong.
    body = encode_multipart(BOUNDARY, fields, files)
    for position, cut, piece in edits:
        position %= len(body) + 1
        body = body[:position] + piece + body[position + cut :]
    r = request([("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")], body)
    r.input_stream = t.cast(t.IO[bytes], ShortReads(body, step))
    touch_body(r)
