from __future__ import annotations

import io
import time
import typing as t

import pytest

from erlen.http import forms
from erlen.http.datastructures import FileStorage
from erlen.http.datastructures import ImmutableMultiDict
from erlen.http.exceptions import BadRequest
from erlen.http.exceptions import RequestEntityTooLarge
from erlen.http.forms import pairs_to_multidict
from erlen.http.forms import parse_form_data
from erlen.http.parsing import parse_qsl

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BOUNDARY = "----erlenBoundary7MA4YWxk"


def part(
    name: str,
    value: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    extra: str = "",
) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    head += extra
    return head.encode("utf-8") + b"\r\n" + value + b"\r\n"


def end() -> bytes:
    return f"--{BOUNDARY}--\r\n".encode()


def parse_multipart(
    body: bytes, boundary: str | None = BOUNDARY, **kwargs: t.Any
) -> tuple[ImmutableMultiDict, ImmutableMultiDict]:
    options = {} if boundary is None else {"boundary": boundary}
    return parse_form_data(io.BytesIO(body), MULTIPART, options, len(body), **kwargs)


def parse_urlencoded(
    body: bytes, content_length: int | None = None, **kwargs: t.Any
) -> tuple[ImmutableMultiDict, ImmutableMultiDict]:
    return parse_form_data(io.BytesIO(body), URLENCODED, {}, content_length, **kwargs)


def close_all(files: ImmutableMultiDict) -> None:
    for _, storage in files.items(multi=True):
        storage.close()


# -- helpers -------------------------------------------------------------------


def test_pairs_to_multidict_keeps_order_and_repeats() -> None:
    md = pairs_to_multidict([("a", "1"), ("b", "2"), ("a", "3")])
    assert isinstance(md, ImmutableMultiDict)
    assert md.getlist("a") == ["1", "3"]
    assert md["b"] == "2"
    assert list(md) == ["a", "b"]


def test_other_content_types_give_empty_dicts_without_reading() -> None:
    stream = io.BytesIO(b'{"a": 1}')
    form, files = parse_form_data(stream, "application/json", {}, 8)
    assert not form and not files
    assert stream.tell() == 0


# -- urlencoded ----------------------------------------------------------------


def test_urlencoded_fields() -> None:
    form, files = parse_urlencoded(b"a=1&b=x+y&a=%C3%A9&empty=&flag")
    assert form.getlist("a") == ["1", "é"]
    assert form["b"] == "x y"
    assert form["empty"] == ""
    assert form["flag"] == ""
    assert not files


def test_urlencoded_semicolon_does_not_separate() -> None:
    form, _ = parse_urlencoded(b"a=1;b=2")
    assert form.to_dict() == {"a": "1;b=2"}


def test_urlencoded_bad_percent_is_400() -> None:
    with pytest.raises(BadRequest) as info:
        parse_urlencoded(b"a=%zz")
    assert info.value.code == 400
    assert "form body" in str(info.value.description)


def test_urlencoded_invalid_utf8_is_400() -> None:
    with pytest.raises(BadRequest):
        parse_urlencoded(b"a=%ff%fe")


def test_urlencoded_memory_limit_by_declared_length_reads_nothing() -> None:
    stream = io.BytesIO(b"a=" + b"x" * 100)
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_form_data(stream, URLENCODED, {}, 102, max_form_memory_size=50)
    assert stream.tell() == 0
    assert "50 bytes" in str(info.value.description)
    assert "MAX_FORM_MEMORY_SIZE" in str(info.value.description)


def test_urlencoded_memory_limit_unknown_length_reads_limit_plus_one() -> None:
    stream = io.BytesIO(b"a=" + b"x" * 1000)
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_form_data(stream, URLENCODED, {}, None, max_form_memory_size=50)
    assert stream.tell() == 51
    assert info.value.description == (
        "The form's fields hold more than 50 bytes (MAX_FORM_MEMORY_SIZE)."
        " Send less form data or raise MAX_FORM_MEMORY_SIZE."
    )


def test_urlencoded_memory_limit_exactly_at_limit_passes() -> None:
    body = b"a=" + b"x" * 48
    form, _ = parse_urlencoded(body, max_form_memory_size=50)
    assert form["a"] == "x" * 48


def test_urlencoded_memory_limit_none_is_unlimited() -> None:
    form, _ = parse_urlencoded(b"a=" + b"x" * 600_000, max_form_memory_size=None)
    assert len(form["a"]) == 600_000


def test_urlencoded_default_memory_limit() -> None:
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_urlencoded(b"a=" + b"x" * 500_000)
    assert "500000 bytes (MAX_FORM_MEMORY_SIZE)" in str(info.value.description)


def test_urlencoded_parts_limit() -> None:
    body = "&".join(f"k{i}=v" for i in range(11)).encode()
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_urlencoded(body, max_form_parts=10)
    assert info.value.description == (
        "The form has more than 10 parts (MAX_FORM_PARTS)."
        " Send fewer fields or files, or raise MAX_FORM_PARTS."
    )


def test_urlencoded_parts_limit_counts_only_nonempty_fields() -> None:
    body = "&".join(f"k{i}=v" for i in range(10)).encode() + b"&&&&&"
    form, _ = parse_urlencoded(body, max_form_parts=10)
    assert len(form) == 10


def test_urlencoded_default_parts_limit() -> None:
    body = b"&".join(b"a=b" for _ in range(1001))
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_urlencoded(body)
    assert "1000 parts (MAX_FORM_PARTS)" in str(info.value.description)
    form, _ = parse_urlencoded(b"&".join(b"a=b" for _ in range(1000)))
    assert len(form.getlist("a")) == 1000


# -- the one-pass query string and form body parser -----------------------------

# Inputs for every branch of forms._qs_to_multidict: no escapes, "+" only,
# escapes decoded whole, and the inputs decoding whole would get wrong or
# cannot decode, which take the precise parser.
_QS_CASES = [
    b"",
    b"a=1&b=2",
    b"a=1&a=2&b=3",
    b"a=1&b=2&a=3",
    b"a&b=&=c&=",
    b"&&a=1&&",
    b"a=1&",
    b"&",
    b"a=b=c",
    b"a+b=c+d&e=f+",
    b"a%2Bb=%2B",
    b"k=%41%42&l=%c3%a9",
    b"a%26b=c%26d&e=1",
    b"a%3Db=c%3dd&e=%3D",
    b"a=%5C&b=\\x41",
    b"a=\\&b=%41",
    b"a=\\x41",
    b"a=%",
    b"a=%4",
    b"a=%zz&b=1",
    b"a=%ff",
    b"a=%C3",
    b"\xff=1",
    b"a=\xc3\xa9+%C3%A9",
    b"q=%41;b=2",
]


def _reference(data: bytes, what: str) -> object:
    # What _qs_to_multidict stands for: the precise parser, grouped.
    try:
        return list(pairs_to_multidict(parse_qsl(data, what=what)).lists())
    except BadRequest as e:
        return ("400", e.description)


@pytest.mark.parametrize("data", _QS_CASES)
@pytest.mark.parametrize("what", ["query string", "form body"])
def test_qs_to_multidict_matches_parse_qsl(data: bytes, what: str) -> None:
    try:
        result: object = list(forms._qs_to_multidict(data, ImmutableMultiDict, what).lists())
    except BadRequest as e:
        result = ("400", e.description)
    assert result == _reference(data, what)


def test_qs_to_multidict_gives_the_class_asked_for() -> None:
    class Args(ImmutableMultiDict):
        pass

    for data in (b"a=1", b"a=1&a=2", b"a=%41", b"a=%3D"):
        md = forms._qs_to_multidict(data, Args)
        assert type(md) is Args
        assert md["a"] in ("1", "A", "=")


@pytest.mark.parametrize(
    ("data", "limit", "ok"),
    [
        (b"a=1&b=2&c=3", 3, True),
        (b"a=1&b=2&c=3", 2, False),
        (b"a=1&&&b=2&", 2, True),  # empty pieces are not fields
        (b"a=1&&&b=2&c", 2, False),
        (b"a=%41&b=%42&c=%43", 2, False),  # escapes decoded whole
        (b"a=%26&b=%3D&c", 2, False),  # escapes decoded piece by piece
        (b"a=1&a=1&a=1", 2, False),  # repeated keys count
        (b"a=1&a=1", 2, True),
        (b"", 0, True),
        (b"a", 0, False),
    ],
)
def test_qs_to_multidict_parts_limit(data: bytes, limit: int, ok: bool) -> None:
    if ok:
        md = forms._qs_to_multidict(data, ImmutableMultiDict, "form body", limit)
        assert list(md.lists()) == list(pairs_to_multidict(parse_qsl(data)).lists())
        return
    with pytest.raises(RequestEntityTooLarge, match=f"more than {limit} parts"):
        forms._qs_to_multidict(data, ImmutableMultiDict, "form body", limit)


@pytest.mark.parametrize("data", [b"a=%ff&b&c", b"a=%zz&b&c", b"\xff&b&c"])
def test_qs_to_multidict_parts_limit_before_a_bad_body(data: bytes) -> None:
    # Too many fields is a 413 even when the body is also malformed.
    with pytest.raises(RequestEntityTooLarge, match="more than 2 parts"):
        forms._qs_to_multidict(data, ImmutableMultiDict, "form body", 2)
    with pytest.raises(BadRequest, match="form body"):
        forms._qs_to_multidict(data, ImmutableMultiDict, "form body", 3)


# -- multipart -----------------------------------------------------------------


def test_multipart_fields_and_files() -> None:
    body = (
        part("a", b"hello")
        + part("a", "wörld".encode())
        + part("upload", b"file contents\r\nline 2", "report.txt", "text/plain")
        + end()
    )
    form, files = parse_multipart(body)
    try:
        assert form.getlist("a") == ["hello", "wörld"]
        storage = files["upload"]
        assert isinstance(storage, FileStorage)
        assert storage.filename == "report.txt"
        assert storage.name == "upload"
        assert storage.content_type == "text/plain"
        assert storage.headers["Content-Disposition"].startswith("form-data")
        assert storage.read() == b"file contents\r\nline 2"
    finally:
        close_all(files)


def test_multipart_several_files_for_one_name() -> None:
    body = part("f", b"one", "1.txt") + part("f", b"two", "2.txt") + end()
    form, files = parse_multipart(body)
    try:
        assert not form
        assert [s.filename for s in files.getlist("f")] == ["1.txt", "2.txt"]
        assert [s.read() for s in files.getlist("f")] == [b"one", b"two"]
    finally:
        close_all(files)


def test_multipart_empty_filename_is_still_a_file() -> None:
    # COMPAT: browsers send filename="" for an empty file input.
    form, files = parse_multipart(part("f", b"", "") + end())
    try:
        assert "f" not in form
        assert files["f"].filename == ""
        assert not files["f"]
    finally:
        close_all(files)


def test_multipart_rfc2231_filename() -> None:
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f";'
            f" filename=\"plain.txt\"; filename*=UTF-8''na%C3%AFve%20file.txt\r\n\r\n"
        ).encode()
        + b"data\r\n"
        + end()
    )
    _, files = parse_multipart(body)
    try:
        assert files["f"].filename == "naïve file.txt"
    finally:
        close_all(files)


def test_multipart_raw_utf8_filename() -> None:
    _, files = parse_multipart(part("f", b"x", "résumé.pdf") + end())
    try:
        assert files["f"].filename == "résumé.pdf"
    finally:
        close_all(files)


def test_multipart_ie_full_path_filename_keeps_last_segment() -> None:
    _, files = parse_multipart(part("f", b"x", "C:\\\\Users\\\\me\\\\a.txt") + end())
    try:
        assert files["f"].filename == "a.txt"
    finally:
        close_all(files)


def test_multipart_small_file_stays_in_memory_big_file_spools() -> None:
    small = b"s" * 100
    big = b"b" * 5000
    body = part("small", small, "s.bin") + part("big", big, "b.bin") + end()
    _, files = parse_multipart(body, spool_threshold=1000)
    try:
        small_file = files["small"].stream
        big_file = files["big"].stream
        assert small_file._rolled is False
        assert big_file._rolled is True
        assert files["small"].read() == small
        assert files["big"].read() == big
    finally:
        close_all(files)


def test_multipart_file_is_rewound() -> None:
    _, files = parse_multipart(part("f", b"abc", "a") + end())
    try:
        assert files["f"].stream.tell() == 0
    finally:
        close_all(files)


def test_multipart_large_file_across_chunks() -> None:
    data = bytes(range(256)) * 2000  # 512000 bytes, crosses many 64 KiB chunks
    _, files = parse_multipart(part("f", data, "bin") + end())
    try:
        assert files["f"].read() == data
    finally:
        close_all(files)


def test_multipart_field_charset() -> None:
    body = part("a", "été".encode("latin-1"), content_type="text/plain; charset=latin-1") + end()
    form, _ = parse_multipart(body)
    assert form["a"] == "été"


def test_multipart_unknown_charset_is_400() -> None:
    body = part("a", b"x", content_type="text/plain; charset=nope-42") + end()
    with pytest.raises(BadRequest) as info:
        parse_multipart(body)
    assert "'nope-42'" in str(info.value.description)


def test_multipart_non_text_codec_is_400() -> None:
    body = part("a", b"x", content_type="text/plain; charset=zlib") + end()
    with pytest.raises(BadRequest):
        parse_multipart(body)


def test_multipart_invalid_utf8_field_is_400() -> None:
    with pytest.raises(BadRequest) as info:
        parse_multipart(part("a", b"\xff\xfe") + end())
    assert "'a'" in str(info.value.description)
    assert "utf-8" in str(info.value.description)


def test_multipart_missing_boundary_is_400() -> None:
    with pytest.raises(BadRequest) as info:
        parse_multipart(part("a", b"x") + end(), boundary=None)
    assert "no boundary" in str(info.value.description)


@pytest.mark.parametrize("boundary", ["", "a" * 201, "trailing ", "bad\x00", "é"])
def test_multipart_invalid_boundary_is_400(boundary: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_multipart(b"--x--\r\n", boundary=boundary)
    assert "boundary" in str(info.value.description)


def test_multipart_truncated_body_is_400_and_closes_files() -> None:
    body = part("a", b"x") + part("f", b"y" * 10_000, "f.bin")
    opened: list[t.Any] = []
    original = forms._MultipartReader.on_headers_finished

    def spy(self: t.Any) -> None:
        original(self)
        if self.file is not None:
            opened.append(self.file)

    forms._MultipartReader.on_headers_finished = spy  # type: ignore[method-assign]
    try:
        with pytest.raises(BadRequest) as info:
            parse_multipart(body)
    finally:
        forms._MultipartReader.on_headers_finished = original  # type: ignore[method-assign]
    assert "ended before its closing boundary" in str(info.value.description)
    assert opened and all(f.closed for f in opened)


def test_multipart_stream_ends_mid_headers_is_400() -> None:
    body = f"--{BOUNDARY}\r\nContent-Disposition: form-da".encode()
    with pytest.raises(BadRequest) as info:
        parse_multipart(body)
    assert "ended before its closing boundary" in str(info.value.description)


def test_multipart_empty_body_is_empty_form() -> None:
    form, files = parse_multipart(b"")
    assert not form and not files


@pytest.mark.parametrize(
    "body",
    [
        b"garbage that is not multipart at all",
        b"--wrongboundary\r\n\r\n",
        f"--{BOUNDARY}\r\nNo Colon Here\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        f"--{BOUNDARY}\r\n: empty-name\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        f"--{BOUNDARY}Xjunk\r\n".encode(),
    ],
)
def test_multipart_garbage_is_400(body: bytes) -> None:
    with pytest.raises(BadRequest) as info:
        parse_multipart(body)
    assert info.value.code == 400
    assert "multipart" in str(info.value.description).lower()


def test_multipart_part_without_name_is_400() -> None:
    body = f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n".encode() + end()
    with pytest.raises(BadRequest) as info:
        parse_multipart(body)
    assert "no name" in str(info.value.description)


def test_multipart_part_without_disposition_is_400() -> None:
    body = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n".encode() + end()
    with pytest.raises(BadRequest):
        parse_multipart(body)


def test_multipart_header_with_nul_is_400() -> None:
    with pytest.raises(BadRequest) as info:
        parse_multipart(part("a", b"x", extra="X-Bad: a\x00b\r\n") + end())
    assert "NUL" in str(info.value.description)


def test_multipart_memory_limit_counts_all_fields() -> None:
    body = part("a", b"x" * 30) + part("b", b"y" * 30) + end()
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_multipart(body, max_form_memory_size=50)
    assert info.value.description == (
        "The form's fields hold more than 50 bytes (MAX_FORM_MEMORY_SIZE)."
        " Send less form data or raise MAX_FORM_MEMORY_SIZE."
    )
    form, _ = parse_multipart(body, max_form_memory_size=60)
    assert form["a"] == "x" * 30


def test_multipart_memory_limit_stops_reading_early() -> None:
    body = part("a", b"x" * 2_000_000) + end()
    stream = io.BytesIO(body)
    with pytest.raises(RequestEntityTooLarge):
        parse_form_data(stream, MULTIPART, {"boundary": BOUNDARY}, None, max_form_memory_size=1000)
    assert stream.tell() <= 2 * 64 * 1024


def test_multipart_memory_limit_ignores_files() -> None:
    body = part("a", b"x" * 10) + part("f", b"y" * 5000, "f") + end()
    form, files = parse_multipart(body, max_form_memory_size=100)
    try:
        assert form["a"] == "x" * 10
        assert files["f"].read() == b"y" * 5000
    finally:
        close_all(files)


def test_multipart_default_memory_limit() -> None:
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_multipart(part("a", b"x" * 500_001) + end())
    assert "500000 bytes (MAX_FORM_MEMORY_SIZE)" in str(info.value.description)


def test_multipart_parts_limit_counts_files_too() -> None:
    body = part("a", b"1") + part("b", b"2") + part("f", b"3", "f") + end()
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_multipart(body, max_form_parts=2)
    assert info.value.description == (
        "The form has more than 2 parts (MAX_FORM_PARTS)."
        " Send fewer fields or files, or raise MAX_FORM_PARTS."
    )
    form, files = parse_multipart(body, max_form_parts=3)
    close_all(files)
    assert len(form) == 2


def test_multipart_default_parts_limit() -> None:
    body = b"".join(part(f"k{i}", b"v") for i in range(1001)) + end()
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_multipart(body)
    assert "1000 parts (MAX_FORM_PARTS)" in str(info.value.description)


def test_multipart_part_header_count_is_bounded() -> None:
    extra = "".join(f"X-H{i}: v\r\n" for i in range(forms.MAX_PART_HEADERS))
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_multipart(part("a", b"x", extra=extra) + end())
    assert f"more than {forms.MAX_PART_HEADERS} header lines" in str(info.value.description)
    fewer = "".join(f"X-H{i}: v\r\n" for i in range(forms.MAX_PART_HEADERS - 1))
    form, _ = parse_multipart(part("a", b"x", extra=fewer) + end())
    assert form["a"] == "x"


def test_multipart_part_header_size_is_bounded() -> None:
    extra = "X-Big: " + "v" * forms.MAX_PART_HEADER_SIZE + "\r\n"
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_multipart(part("a", b"x", extra=extra) + end())
    assert f"over {forms.MAX_PART_HEADER_SIZE} bytes" in str(info.value.description)


def test_multipart_huge_header_value_across_chunks_is_bounded() -> None:
    # A header line with no end must not be buffered without limit.
    body = f"--{BOUNDARY}\r\nX-Big: ".encode() + b"v" * 3_000_000
    stream = io.BytesIO(body)
    with pytest.raises((RequestEntityTooLarge, BadRequest)):
        parse_form_data(stream, MULTIPART, {"boundary": BOUNDARY}, None)
    assert stream.tell() <= 2 * 64 * 1024


def test_multipart_epilogue_is_not_read() -> None:
    body = part("a", b"x") + end() + b"epilogue" * 100_000
    stream = io.BytesIO(body)
    form, _ = parse_form_data(stream, MULTIPART, {"boundary": BOUNDARY}, None)
    assert form["a"] == "x"
    assert stream.tell() <= 64 * 1024


def test_multipart_crlf_heavy_part_is_linear() -> None:
    # CVE-2023-46136 class: a part of CR/LF and megabytes of data must stay fast.
    data = b"\r\n" + b"\r" * 2_000_000 + b"\n" * 2_000_000
    body = part("f", data, "f") + end()
    start = time.perf_counter()
    _, files = parse_multipart(body)
    elapsed = time.perf_counter() - start
    try:
        assert files["f"].read() == data
    finally:
        close_all(files)
    assert elapsed < 5.0


def test_multipart_boundary_lookalikes_in_data() -> None:
    data = f"\r\n--{BOUNDARY[:-1]}\r\n--{BOUNDARY}x".encode()
    _, files = parse_multipart(part("f", data, "f") + end())
    try:
        assert files["f"].read() == data
    finally:
        close_all(files)
