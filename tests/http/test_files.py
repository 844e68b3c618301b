from __future__ import annotations

import collections.abc as cabc
import io
import os
import pathlib
import time
import typing as t
import zlib

import pytest

from erlen.http.exceptions import NotFound
from erlen.http.exceptions import RequestedRangeNotSatisfiable
from erlen.http.files import FileNameError
from erlen.http.files import FileWrapper
from erlen.http.files import RangeWrapper
from erlen.http.files import safe_join
from erlen.http.files import send_file
from erlen.http.files import send_from_directory
from erlen.http.parsing import http_date
from erlen.http.parsing import parse_date
from erlen.http.response import Response
from erlen.http.values import ETags
from erlen.http.values import IfRange
from erlen.http.values import Range


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


# -- safe_join -----------------------------------------------------------------------

ATTACKS = [
    # absolute and UNC paths (Starlette CVE-2023-29159, CVE-2026-48818)
    ("/etc/passwd",),
    ("//server/share/x",),
    ("a", "/etc/passwd"),
    # backslashes, UNC and device namespaces (CVE-2019-14322)
    ("\\\\server\\share",),
    ("\\\\?\\C:\\Windows",),
    ("\\\\.\\NUL",),
    ("..\\secret",),
    ("a\\..\\..\\b",),
    ("a\\b",),
    # drive paths (CVE-2024-49766, Kludex/starlette#981)
    ("C:\\x",),
    ("C:/x",),
    ("c:x",),
    ("a/C:",),
    ("a.txt::$DATA",),
    # dot-dot
    ("..",),
    ("../secret",),
    ("a/../../secret",),
    ("a/../b",),
    ("a", ".."),
    ("a", "b/../../c"),
    # control characters
    ("a\x00.txt",),
    ("a\x01b",),
    ("a\nb",),
    ("a\tb",),
    ("a\x7fb",),
    # Windows device names (CVE-2025-66221, CVE-2026-21860, CVE-2026-27199)
    ("CON",),
    ("con",),
    ("con.txt",),
    ("NUL.tar.gz",),
    ("nul",),
    ("aux ",),
    ("AUX .txt",),
    ("prn.log",),
    ("COM1",),
    ("com9.txt",),
    ("COM0",),
    ("COM\u00b9",),
    ("lpt\u00b3.txt",),
    ("LPT9.log",),
    ("CONIN$",),
    ("conout$.txt",),
    ("a/b/CON",),
    ("static", "img/nul.png"),
    # trailing dots and spaces alias other names on Windows
    ("a.txt.",),
    ("a.txt ",),
    ("...",),
    ("dir./x",),
    # other characters Windows forbids
    ("a?b",),
    ("a*b",),
    ("a<b",),
    ("a>b",),
    ('a"b',),
    ("a|b",),
    # compatibility lookalikes
    ("\uff0e\uff0e/secret",),
    ("a\uff3cb",),
    ("a\uff0fb",),
    ("c\uff1ax",),
    ("\uff23\uff2f\uff2e",),  # fullwidth CON
    ("\uff0e",),
]


@pytest.mark.parametrize("parts", ATTACKS)
def test_safe_join_refuses(parts: tuple[str, ...]) -> None:
    assert safe_join("/srv/static", *parts) is None


LEGIT = [
    (("a/b.txt",), "/srv/static/a/b.txt"),
    (("css/site.css",), "/srv/static/css/site.css"),
    ((".well-known/x",), "/srv/static/.well-known/x"),
    ((".hidden",), "/srv/static/.hidden"),
    (("con-tact.txt",), "/srv/static/con-tact.txt"),
    (("nullable.txt",), "/srv/static/nullable.txt"),
    (("console.log",), "/srv/static/console.log"),
    (("COM10",), "/srv/static/COM10"),
    (("auxiliary/x",), "/srv/static/auxiliary/x"),
    (("a//b",), "/srv/static/a/b"),
    (("a/./b",), "/srv/static/a/b"),
    (("a/b/",), "/srv/static/a/b"),
    (("a..b",), "/srv/static/a..b"),
    (("..a",), "/srv/static/..a"),
    (("a", "b", "c.tar.gz"), "/srv/static/a/b/c.tar.gz"),
    (("ünïcödé.txt",), "/srv/static/ünïcödé.txt"),
    (("日本語/ファイル.txt",), "/srv/static/日本語/ファイル.txt"),
    (("\ufb01le.txt",), "/srv/static/\ufb01le.txt"),  # ligature: harmless when normalised
    (("a b.txt",), "/srv/static/a b.txt"),
    (("",), "/srv/static"),
    (("a", ""), "/srv/static/a"),
    ((), "/srv/static"),
]


@pytest.mark.parametrize(("parts", "expected"), LEGIT)
def test_safe_join_allows(parts: tuple[str, ...], expected: str) -> None:
    assert safe_join("/srv/static", *parts) == expected


def test_safe_join_relative_and_empty_directory() -> None:
    assert safe_join("static", "a.txt") == "static/a.txt"
    assert safe_join("", "a.txt") == "./a.txt"
    assert safe_join("", "../a.txt") is None


def test_safe_join_does_not_escape_sibling_folder() -> None:
    # commonprefix would accept "/srv/static-secret" for "/srv/static".
    assert safe_join("/srv/static", "x") == "/srv/static/x"
    assert safe_join("/srv/static/", "a") == "/srv/static/a"


def test_safe_join_rejects_non_str() -> None:
    with pytest.raises(TypeError, match="bytes"):
        safe_join("/srv", b"a")  # type: ignore[arg-type]


# -- FileWrapper and RangeWrapper -----------------------------------------------------


def test_file_wrapper_iterates_and_closes() -> None:
    f = io.BytesIO(b"abcdefghij")
    w = FileWrapper(f, buffer_size=4)
    assert iter(w) is w
    assert list(w) == [b"abcd", b"efgh", b"ij"]
    assert w.filelike is f
    assert w.is_whole
    assert w.seekable()
    assert w.seek(2) == 2
    assert w.tell() == 2
    w.close()
    assert f.closed


def test_file_wrapper_without_seekable_method() -> None:
    class Raw:
        def read(self, n: int) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return offset

    assert FileWrapper(Raw()).seekable()  # type: ignore[arg-type]
    FileWrapper(Raw()).close()  # type: ignore[arg-type]  # no close(): nothing to do


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_range_wrapper_seeks_in_files() -> None:
    f = CountingFile(bytes(range(100)) * 100)  # 10,000 bytes
    w = RangeWrapper(FileWrapper(f, buffer_size=64), 9000, 100)
    assert iter(w) is w
    assert not w.is_whole
    data = b"".join(w)
    assert data == (bytes(range(100)) * 100)[9000:9100]
    assert f.bytes_read == 100  # seeked, not read through
    w.close()
    assert f.closed


def test_range_wrapper_counts_from_the_current_position() -> None:
    f = io.BytesIO(b"0123456789")
    f.seek(3)
    assert b"".join(RangeWrapper(FileWrapper(f), 2, 3)) == b"567"


def test_range_wrapper_to_the_end() -> None:
    f = io.BytesIO(b"0123456789")
    assert b"".join(RangeWrapper(FileWrapper(f, 3), 4)) == b"456789"


def test_range_wrapper_over_an_iterable() -> None:
    consumed: list[bytes] = []

    def gen() -> cabc.Iterator[bytes | str]:
        chunks: list[bytes | str] = [b"ab", b"cde", "fg", b"", b"hij", b"klm"]
        for chunk in chunks:
            consumed.append(chunk if isinstance(chunk, bytes) else chunk.encode())
            yield chunk

    w = RangeWrapper(gen(), 3, 5)
    assert b"".join(w) == b"defgh"
    assert consumed[-1] == b"hij"  # stopped without reading "klm"


@pytest.mark.parametrize(
    ("start", "length", "expected"),
    [(0, 3, b"abc"), (2, None, b"cdefg"), (6, 10, b"g"), (7, 1, b""), (0, 0, b"")],
)
def test_range_wrapper_bounds(start: int, length: int | None, expected: bytes) -> None:
    assert b"".join(RangeWrapper([b"abc", b"defg"], start, length)) == expected


def test_range_wrapper_closes_plain_file_and_iterables() -> None:
    class Holder:
        def __init__(self, file: io.BytesIO) -> None:
            self.file = file

        def __iter__(self) -> cabc.Iterator[bytes]:
            return iter([])

    f = io.BytesIO(b"abcdef")
    w = RangeWrapper(Holder(f), 1, 2)
    assert b"".join(w) == b"bc"
    w.close()
    assert f.closed
    RangeWrapper([b"x"]).close()  # nothing to close


def test_range_wrapper_rejects_negative() -> None:
    with pytest.raises(ValueError, match="start_byte=-1"):
        RangeWrapper([b"x"], -1)
    with pytest.raises(ValueError, match="byte_range=-2"):
        RangeWrapper([b"x"], 0, -2)


def test_range_wrapper_unseekable_file_reads_through() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(b"0123456789")

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, b: t_buffer) -> int:  # type: ignore[override]
            chunk = self.data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    pipe = Pipe()
    assert b"".join(RangeWrapper(FileWrapper(pipe, 4), 5, 3)) == b"567"  # type: ignore[arg-type]
    pipe.close()


t_buffer = bytearray


# -- send_file -----------------------------------------------------------------------------


@pytest.fixture
def text_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"Hello, World!")
    os.utime(path, (1714564800, 1714564800))  # 2024-05-01 12:00:00 UTC
    return path


def test_send_file_path(text_file: pathlib.Path) -> None:
    with send_file(str(text_file), FakeRequest()) as r:
        assert r.status_code == 200
        assert r.direct_passthrough
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert r.headers["Content-Length"] == "13"
        assert r.headers["Content-Disposition"] == "inline; filename=hello.txt"
        assert r.headers["Last-Modified"] == "Wed, 01 May 2024 12:00:00 GMT"
        assert r.headers["Cache-Control"] == "no-cache"
        assert r.headers["Accept-Ranges"] == "bytes"
        check = zlib.adler32(str(text_file).encode()) & 0xFFFFFFFF
        assert r.get_etag() == (f"1714564800.0-13-{check}", False)
        assert isinstance(r.response, FileWrapper)
        assert b"".join(r.response) == b"Hello, World!"
        file = r.response.file
    assert file.closed


def test_send_file_pathlike_and_root_path(text_file: pathlib.Path) -> None:
    with send_file(text_file, FakeRequest()) as r:
        assert r.content_length == 13
    with send_file("hello.txt", FakeRequest(), _root_path=str(text_file.parent)) as r:
        assert r.content_length == 13


def test_send_file_attachment_and_names(text_file: pathlib.Path) -> None:
    with send_file(text_file, FakeRequest(), as_attachment=True) as r:
        assert r.headers["Content-Disposition"] == "attachment; filename=hello.txt"
    with send_file(text_file, FakeRequest(), download_name="my report.txt") as r:
        assert r.headers["Content-Disposition"] == 'inline; filename="my report.txt"'
    with send_file(text_file, FakeRequest(), download_name='a"b\\c.txt') as r:
        assert r.headers["Content-Disposition"] == 'inline; filename="a\\"b\\\\c.txt"'
    with send_file(
        text_file, FakeRequest(), as_attachment=True, download_name="Ünïcode €.txt"
    ) as r:
        assert r.headers["Content-Disposition"] == (
            'attachment; filename="Unicode .txt";'
            " filename*=UTF-8''%C3%9Cn%C3%AFcode%20%E2%82%AC.txt"
        )
    with pytest.raises(ValueError, match="newline"):
        send_file(text_file, FakeRequest(), download_name="a\r\nb.txt")


def test_send_file_mimetypes(text_file: pathlib.Path) -> None:
    with send_file(text_file, FakeRequest(), download_name="x.unknownext") as r:
        assert r.mimetype == "application/octet-stream"
    with send_file(text_file, FakeRequest(), download_name="x.json") as r:
        assert r.headers["Content-Type"] == "application/json"
    with send_file(text_file, FakeRequest(), mimetype="image/png") as r:
        assert r.mimetype == "image/png"
    with send_file(text_file, FakeRequest(), download_name="a.tar.gz") as r:
        assert r.headers["Content-Encoding"] == "gzip"
    with send_file(text_file, FakeRequest(), download_name="a.tar.gz", as_attachment=True) as r:
        assert "Content-Encoding" not in r.headers


def test_send_file_caching_options(text_file: pathlib.Path) -> None:
    with send_file(text_file, FakeRequest(), max_age=60) as r:
        assert r.cache_control.public
        assert r.cache_control.max_age == 60
        assert not r.cache_control.no_cache
        expires = r.expires
        assert expires is not None
        assert abs(expires.timestamp() - (time.time() + 60)) < 5
    with send_file(text_file, FakeRequest(), max_age=0) as r:
        assert r.cache_control.no_cache
        assert r.cache_control.max_age == 0
    seen: list[str | None] = []

    def max_age(path: str | None) -> int:
        seen.append(path)
        return 10

    with send_file(text_file, FakeRequest(), max_age=max_age) as r:
        assert r.cache_control.max_age == 10
    assert seen == [str(text_file)]
    with send_file(text_file, FakeRequest(), etag="fixed", last_modified=0) as r:
        assert r.headers["ETag"] == '"fixed"'
        assert r.headers["Last-Modified"] == http_date(0)
    with send_file(text_file, FakeRequest(), etag=False) as r:
        assert "ETag" not in r.headers


def test_send_file_bytesio() -> None:
    with send_file(io.BytesIO(b"data"), FakeRequest(), mimetype="application/x-thing") as r:
        assert r.content_length == 4
        assert "Content-Disposition" not in r.headers
        assert "ETag" not in r.headers
        assert "Last-Modified" not in r.headers
        assert b"".join(r.response) == b"data"
    buf = io.BytesIO(b"skip:rest")
    buf.seek(5)
    with send_file(buf, FakeRequest(), download_name="r.bin") as r:
        assert r.content_length == 4
        assert r.mimetype == "application/octet-stream"
        assert b"".join(r.response) == b"rest"
    assert buf.closed


def test_send_file_object_needs_a_name() -> None:
    buf = io.BytesIO(b"x")
    with pytest.raises(FileNameError, match="mimetype=") as info:
        send_file(buf, FakeRequest())
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, TypeError)  # what Flask raises
    with pytest.raises(FileNameError, match="download_name"):
        send_file(buf, FakeRequest(), mimetype="a/b", as_attachment=True)


def test_send_file_text_mode_refused(text_file: pathlib.Path) -> None:
    with open(text_file) as f, pytest.raises(ValueError, match="binary mode"):
        send_file(f, FakeRequest(), mimetype="text/plain")  # type: ignore[arg-type]


def test_send_file_opened_file_has_a_size(text_file: pathlib.Path) -> None:
    f = open(text_file, "rb")
    with send_file(f, FakeRequest(), download_name="x.txt") as r:
        assert r.content_length == 13
    assert f.closed


def test_send_file_unseekable_object_streams() -> None:
    class Stream(io.RawIOBase):
        def __init__(self) -> None:
            self.inner = io.BytesIO(b"abc")

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            chunk = self.inner.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    with send_file(Stream(), FakeRequest(range="bytes=0-0"), mimetype="a/b") as r:  # type: ignore[arg-type]
        assert r.status_code == 200  # size unknown: no range
        assert r.content_length is None
        assert b"".join(r.response) == b"abc"


def test_send_file_custom_wrapper_and_response_class(text_file: pathlib.Path) -> None:
    made: list[int] = []

    def wrapper(file: t.IO[bytes], size: int) -> FileWrapper:
        made.append(size)
        return FileWrapper(file, 2)

    class Mine(Response):
        pass

    with send_file(text_file, FakeRequest(), file_wrapper=wrapper, response_class=Mine) as r:
        assert type(r) is Mine
        assert list(r.response)[:2] == [b"He", b"ll"]
    assert made == [8192]


def test_send_file_conditional_304(text_file: pathlib.Path) -> None:
    with send_file(text_file, FakeRequest()) as first:
        etag = first.headers["ETag"]
    r = send_file(text_file, FakeRequest(if_none_match=etag))
    assert r.status_code == 304
    assert r.response == []
    wrapper = r._on_close[0].__self__  # type: ignore[index, union-attr]
    assert isinstance(wrapper, FileWrapper)
    r.close()
    assert wrapper.file.closed
    r = send_file(text_file, FakeRequest(if_modified_since="Wed, 01 May 2024 12:00:00 GMT"))
    assert r.status_code == 304
    r.close()
    with send_file(text_file, FakeRequest(if_none_match=etag), conditional=False) as r:
        assert r.status_code == 200
        assert "Accept-Ranges" not in r.headers


@pytest.fixture
def big_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 400)  # 102,400 bytes
    return path


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100000-", 100000, 102400),
        ("bytes=-10", 102390, 102400),
        ("bytes=50000-60000", 50000, 60001),
        ("bytes=102399-200000", 102399, 102400),
    ],
)
def test_send_file_ranges_on_a_real_file(
    big_file: pathlib.Path, header: str, start: int, stop: int
) -> None:
    content = big_file.read_bytes()
    with send_file(big_file, FakeRequest(range=header)) as r:
        assert r.status_code == 206
        assert r.headers["Content-Range"] == f"bytes {start}-{stop - 1}/102400"
        assert r.headers["Content-Length"] == str(stop - start)
        assert isinstance(r.response, RangeWrapper)
        assert b"".join(r.response) == content[start:stop]
        file = r.response.iterable.file  # type: ignore[union-attr]
    assert file.closed


def test_send_file_if_range(big_file: pathlib.Path) -> None:
    with send_file(big_file, FakeRequest()) as r:
        etag = r.headers["ETag"]
    with send_file(big_file, FakeRequest(range="bytes=0-9", if_range=etag)) as r:
        assert r.status_code == 206
    with send_file(big_file, FakeRequest(range="bytes=0-9", if_range='"stale"')) as r:
        assert r.status_code == 200
        assert r.content_length == 102400


def test_send_file_unsatisfiable_range_closes_the_file() -> None:
    buf = io.BytesIO(b"0123456789")
    with pytest.raises(RequestedRangeNotSatisfiable) as info:
        send_file(buf, FakeRequest(range="bytes=10-"), mimetype="a/b")
    assert info.value.length == 10
    assert buf.closed


def test_send_file_range_on_bytesio() -> None:
    buf = io.BytesIO(b"0123456789")
    with send_file(buf, FakeRequest(range="bytes=2-4"), mimetype="a/b") as r:
        assert r.status_code == 206
        assert b"".join(r.response) == b"234"


def test_send_file_missing_path(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        send_file(tmp_path / "missing.txt", FakeRequest())


# -- send_from_directory ---------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: pathlib.Path) -> pathlib.Path:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_text("body {}")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "static-secret").mkdir()
    (tmp_path / "static-secret" / "x.txt").write_text("secret")
    return static


def test_send_from_directory(site: pathlib.Path) -> None:
    with send_from_directory(site, "css/site.css", FakeRequest()) as r:
        assert r.status_code == 200
        assert r.mimetype == "text/css"
        assert b"".join(r.response) == b"body {}"
    with send_from_directory(site, "css/site.css", FakeRequest(), as_attachment=True) as r:
        assert r.headers["Content-Disposition"] == "attachment; filename=site.css"


def test_send_from_directory_root_path(site: pathlib.Path) -> None:
    with send_from_directory("static", "css/site.css", FakeRequest(), _root_path=site.parent) as r:
        assert r.content_length == 7


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "css/../../secret.txt",
        "/etc/passwd",
        "..\\secret.txt",
        "../static-secret/x.txt",
        "css",  # a folder, not a file
        "missing.css",
        "css/site.css\x00.png",
        "CON",
    ],
)
def test_send_from_directory_not_found(site: pathlib.Path, path: str) -> None:
    with pytest.raises(NotFound):
        send_from_directory(site, path, FakeRequest())
