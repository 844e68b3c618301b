"""Parse request bodies into form fields and uploaded files, within limits.

``application/x-www-form-urlencoded`` bodies are read whole (they are small by
nature and bounded by ``max_form_memory_size``); ``multipart/form-data`` bodies
are streamed through python-multipart's low-level parser, with fields kept in
memory (bounded) and files spooled to disk past a threshold. Every limit that
is hit becomes a 413 naming the limit and its value; every malformed body
becomes a 400.
"""

from __future__ import annotations

import collections.abc as cabc
import logging
import typing as t

from .datastructures import FileStorage
from .datastructures import ImmutableMultiDict
from .datastructures import _dict_new
from .datastructures import _dict_update
from .exceptions import BadRequest
from .exceptions import HTTPException
from .exceptions import RequestEntityTooLarge
from .headers import Headers
from .parsing import _qs_unescape
from .parsing import _split_pairs
from .parsing import parse_options_header
from .parsing import parse_qsl

__all__ = [
    "DEFAULT_MAX_FORM_MEMORY_SIZE",
    "DEFAULT_MAX_FORM_PARTS",
    "DEFAULT_SPOOL_THRESHOLD",
    "MAX_PART_HEADER_SIZE",
    "MAX_PART_HEADERS",
    "parse_form_data",
    "pairs_to_multidict",
]

#: Default total size of all non-file form fields (``MAX_FORM_MEMORY_SIZE``).
DEFAULT_MAX_FORM_MEMORY_SIZE = 500_000
#: Default number of fields or multipart parts (``MAX_FORM_PARTS``).
DEFAULT_MAX_FORM_PARTS = 1000
#: Uploaded files larger than this many bytes are moved from memory to disk.
DEFAULT_SPOOL_THRESHOLD = 500 * 1024
#: Bytes of header lines allowed in one multipart part.
MAX_PART_HEADER_SIZE = 8192
#: Header lines allowed in one multipart part.
MAX_PART_HEADERS = 16

# PERF: large reads keep the per-chunk Python overhead small; the parser is
# linear in the chunk size.
_CHUNK_SIZE = 64 * 1024
# RFC 2046 allows 70 characters; be lenient like browsers and other servers.
_MAX_BOUNDARY_LENGTH = 200
# python-multipart logs a warning for every malformed body; erlen turns each
# one into a 400 instead, and a client must not be able to flood the logs.
_QUIET_LOGGER = logging.Logger("erlen.http.forms.python_multipart")
_QUIET_LOGGER.disabled = True
_URLENCODED = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


def pairs_to_multidict(
    pairs: cabc.Iterable[tuple[str, t.Any]],
    cls: type[ImmutableMultiDict] = ImmutableMultiDict,
) -> ImmutableMultiDict:
    """Group ``(key, value)`` pairs, in order, into an :class:`ImmutableMultiDict`."""
    lists: dict[str, list[t.Any]] = {}
    get = lists.get
    for key, value in pairs:
        existing = get(key)
        if existing is None:
            lists[key] = [value]
        else:
            existing.append(value)
    return cls._from_lists(lists)


def _qs_to_multidict(
    data: bytes,
    cls: type[ImmutableMultiDict] = ImmutableMultiDict,
    what: str = "query string",
    max_parts: int | None = None,
) -> ImmutableMultiDict:
    """``pairs_to_multidict(parse_qsl(data, what=what), cls)``, in one pass when it can.

    With ``max_parts`` (a form body), more non-empty fields than that is a
    413, raised before any 400 for the content.

    :raises RequestEntityTooLarge: more than ``max_parts`` fields.
    :raises BadRequest: bad percent-encoding or invalid UTF-8.
    """
    # PERF: the usual query string or form body is decoded whole (parsing's
    # _qs_unescape, only called for text with a "%" or "+") and grouped
    # straight from the split text, with no list of pairs in between; the
    # parts limit is checked on the pieces the split makes anyway
    # (bytes.count costs ~1.2k instructions). With the form body read in
    # Request.form itself, in one function where there were four: form
    # 93.8k -> 91.1k instructions per request (benchmarks/instructions.py).
    text: str | None
    try:
        text = data.decode()
    except UnicodeDecodeError:
        text = None
    else:
        if "%" in text or "+" in text:
            text = _qs_unescape(text)
    if text is None:
        # Invalid UTF-8, a bad escape or one that decoding whole would get
        # wrong: the precise parser, after the parts limit (on the raw
        # pieces, which are the same pieces).
        if max_parts is not None and sum(1 for piece in data.split(b"&") if piece) > max_parts:
            raise _parts_error(max_parts)
        return pairs_to_multidict(parse_qsl(data, what=what), cls)
    pieces = text.split("&")
    if max_parts is not None and len(pieces) > max_parts:
        if sum(1 for piece in pieces if piece) > max_parts:
            raise _parts_error(max_parts)
    lists: dict[str, list[t.Any]] = {}
    for pair in pieces:
        key, _, value = pair.partition("=")
        lists[key] = [value]
    if len(lists) != len(pieces) or "" in lists:
        # A repeated key, or an empty pair or key ("" is a key for both; the
        # precise path skips empty pairs): group them properly.
        return pairs_to_multidict(_split_pairs(text), cls)
    # PERF: cls._from_lists(lists) inlined, a classmethod call less (~450
    # instructions; benchmarks/instructions.py query).
    multidict = _dict_new(cls)
    _dict_update(multidict, lists)
    return multidict


def _memory_error(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(
        f"The form's fields hold more than {limit} bytes (MAX_FORM_MEMORY_SIZE)."
        " Send less form data or raise MAX_FORM_MEMORY_SIZE."
    )


def _parts_error(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(
        f"The form has more than {limit} parts (MAX_FORM_PARTS)."
        " Send fewer fields or files, or raise MAX_FORM_PARTS."
    )


def parse_form_data(
    stream: t.IO[bytes],
    mimetype: str,
    options: cabc.Mapping[str, str],
    content_length: int | None,
    *,
    max_form_memory_size: int | None = DEFAULT_MAX_FORM_MEMORY_SIZE,
    max_form_parts: int | None = DEFAULT_MAX_FORM_PARTS,
    spool_threshold: int = DEFAULT_SPOOL_THRESHOLD,
) -> tuple[ImmutableMultiDict, ImmutableMultiDict]:
    """Parse a request body into ``(form, files)``.

    ``stream`` must end at the end of the body. ``mimetype`` is the lowercased
    content type without parameters and ``options`` its parameters. Content
    types other than the two form types give two empty dicts without reading
    the stream. ``None`` for a limit means no limit.

    :raises RequestEntityTooLarge: a form limit was hit.
    :raises BadRequest: the body is malformed.
    """
    if mimetype == _URLENCODED:
        return _parse_urlencoded(stream, content_length, max_form_memory_size, max_form_parts)
    if mimetype == _MULTIPART:
        return _MultipartReader(
            options.get("boundary"), max_form_memory_size, max_form_parts, spool_threshold
        ).parse(stream)
    return _dict_new(ImmutableMultiDict), _dict_new(ImmutableMultiDict)


def _parse_urlencoded(
    stream: t.IO[bytes],
    content_length: int | None,
    max_memory: int | None,
    max_parts: int | None,
) -> tuple[ImmutableMultiDict, ImmutableMultiDict]:
    # SECURITY: unlike Flask, both form limits hold for urlencoded bodies too
    # (the Starlette CVE-2026-54283 class): the body is read at most up to the
    # memory limit plus one byte, and the fields are counted before decoding.
    if max_memory is not None and content_length is not None and content_length > max_memory:
        raise _memory_error(max_memory)
    if max_memory is None:
        body = stream.read()
    else:
        # PERF: _read_at_most(stream, max_memory) inlined for a body that
        # arrives in one read (benchmarks/instructions.py form).
        body = stream.read(min(_CHUNK_SIZE, max_memory + 1))
        # PERF: a body of its declared length is whole (the stream ends at
        # the end of the body); no read to find its end (~1k instructions,
        # benchmarks/instructions.py form).
        if body and len(body) <= max_memory and len(body) != content_length:
            more = stream.read(min(_CHUNK_SIZE, max_memory + 1 - len(body)))
            if more:
                body += more
                if len(body) <= max_memory:
                    body += _read_at_most(stream, max_memory - len(body))
        if len(body) > max_memory:
            raise _memory_error(max_memory)
    form = _qs_to_multidict(body, ImmutableMultiDict, "form body", max_parts)
    # PERF: an empty ImmutableMultiDict needs no __init__ call.
    return form, _dict_new(ImmutableMultiDict)


def _read_at_most(stream: t.IO[bytes], limit: int | None) -> bytes:
    # Read to EOF, but stop once more than ``limit`` bytes have arrived.
    if limit is None:
        return stream.read()
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(_CHUNK_SIZE, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _valid_boundary(boundary: str) -> bool:
    # Printable ASCII, not ending in a space (RFC 2046 bcharsnospace).
    return (
        0 < len(boundary) <= _MAX_BOUNDARY_LENGTH
        and boundary.isascii()
        and boundary.isprintable()
        and boundary[-1] != " "
    )


def _fix_ie_filename(filename: str) -> str:
    # COMPAT: old Internet Explorer sent the full client path ("C:\\x\\a.txt");
    # Werkzeug keeps only the last segment, so does erlen.
    if filename[1:3] == ":\\" or filename[:2] == "\\\\":
        return filename.rpartition("\\")[2]
    return filename


class _MultipartReader:
    """One multipart body's parse: python-multipart callbacks plus erlen's limits."""

    __slots__ = (
        "boundary",
        "max_memory",
        "max_parts",
        "spool_threshold",
        "memory_used",
        "part_count",
        "finished",
        "fields",
        "files",
        "header_pairs",
        "header_field",
        "header_value",
        "header_size",
        "name",
        "filename",
        "headers",
        "charset",
        "value",
        "file",
    )

    def __init__(
        self,
        boundary: str | None,
        max_memory: int | None,
        max_parts: int | None,
        spool_threshold: int,
    ) -> None:
        if not boundary:
            raise BadRequest(
                "The multipart/form-data Content-Type has no boundary parameter."
                " Send the boundary the body uses, as in"
                " 'multipart/form-data; boundary=...'."
            )
        if not _valid_boundary(boundary):
            raise BadRequest(
                f"The multipart boundary {boundary[:80]!r} is invalid: it must be 1 to"
                f" {_MAX_BOUNDARY_LENGTH} printable ASCII characters, not ending in a"
                " space."
            )
        self.boundary = boundary
        self.max_memory = max_memory
        self.max_parts = max_parts
        self.spool_threshold = spool_threshold
        self.memory_used = 0
        self.part_count = 0
        self.finished = False
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self.header_pairs: list[tuple[str, str]] = []
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.header_size = 0
        self.name = ""
        self.filename: str | None = None
        self.headers: Headers | None = None
        self.charset = "utf-8"
        self.value = bytearray()
        self.file: t.IO[bytes] | None = None

    def parse(self, stream: t.IO[bytes]) -> tuple[ImmutableMultiDict, ImmutableMultiDict]:
        from python_multipart.multipart import MultipartParser

        callbacks: t.Any = {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_begin": self.on_header_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }
        boundary = self.boundary.encode("ascii")
        try:
            # SECURITY: python-multipart CVE-2026-42561 (unbounded part
            # headers): erlen bounds them itself in the callbacks below, so
            # any version is safe; newer versions also take their own limits,
            # which are set just above erlen's so that erlen's message wins.
            parser = MultipartParser(
                boundary,
                callbacks,
                max_header_count=MAX_PART_HEADERS + 1,
                max_header_size=MAX_PART_HEADER_SIZE + _CHUNK_SIZE,
            )
        except TypeError:  # pragma: no cover - python-multipart < 0.0.27
            parser = MultipartParser(boundary, callbacks)
        parser.logger = _QUIET_LOGGER
        started = False
        try:
            while not self.finished:
                chunk = stream.read(_CHUNK_SIZE)
                if not chunk:
                    break
                started = True
                try:
                    parser.write(chunk)
                except HTTPException:
                    raise
                except Exception as e:
                    # Never let python-multipart's own exception escape: a
                    # malformed body is the client's error.
                    raise BadRequest(
                        f"The multipart body is malformed: {e}. Send a valid"
                        " multipart/form-data body."
                    ) from None
            if not started:
                # COMPAT: an empty body is an empty form, as in Werkzeug.
                return ImmutableMultiDict(), ImmutableMultiDict()
            if not self.finished:
                raise BadRequest(
                    "The multipart body ended before its closing boundary"
                    f" ('--{self.boundary}--'). Send the complete body."
                )
        except BaseException:
            self.close_files()
            raise
        return pairs_to_multidict(self.fields), pairs_to_multidict(self.files)

    def close_files(self) -> None:
        # Nothing opened here may leak when the parse fails half way.
        if self.file is not None:
            self.file.close()
            self.file = None
        for _, storage in self.files:
            storage.close()

    # -- python-multipart callbacks ------------------------------------------

    def on_part_begin(self) -> None:
        self.part_count += 1
        if self.max_parts is not None and self.part_count > self.max_parts:
            raise _parts_error(self.max_parts)
        self.header_pairs = []
        self.header_size = 0
        self.name = ""
        self.filename = None
        self.headers = None
        self.charset = "utf-8"
        self.value = bytearray()
        self.file = None

    def on_header_begin(self) -> None:
        self.header_field = bytearray()
        self.header_value = bytearray()
        if len(self.header_pairs) >= MAX_PART_HEADERS:
            raise RequestEntityTooLarge(
                f"A multipart part has more than {MAX_PART_HEADERS} header lines."
                " Send fewer headers per part."
            )

    def _count_header_bytes(self, size: int) -> None:
        # SECURITY: python-multipart CVE-2026-42561: part headers are
        # otherwise unbounded in size.
        self.header_size += size
        if self.header_size > MAX_PART_HEADER_SIZE:
            raise RequestEntityTooLarge(
                f"A multipart part's headers are over {MAX_PART_HEADER_SIZE} bytes."
                " Send shorter part headers."
            )

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self.header_field.decode("latin-1").strip()
        raw = bytes(self.header_value)
        if b"\n" in raw or b"\0" in raw:
            # SECURITY: Headers.from_raw below trusts its input; these would
            # otherwise reach code that copies part headers into a response.
            raise BadRequest(
                f"The multipart part header {name!r} holds a line feed or NUL"
                " character. Send part headers without control characters."
            )
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("latin-1")
        self.header_pairs.append((name, value.strip()))

    def on_headers_finished(self) -> None:
        headers = Headers.from_raw(self.header_pairs)
        disposition, params = parse_options_header(headers.get("Content-Disposition"))
        name = params.get("name")
        if name is None:
            raise BadRequest(
                "A multipart part has no name: its Content-Disposition header is"
                f" {headers.get('Content-Disposition')!r}. Send"
                " 'Content-Disposition: form-data; name=\"...\"' in every part."
            )
        self.name = name
        self.headers = headers
        filename = params.get("filename")
        if filename is not None:
            self.filename = _fix_ie_filename(filename)
            import tempfile

            self.file = t.cast(
                t.IO[bytes],
                tempfile.SpooledTemporaryFile(max_size=self.spool_threshold, mode="w+b"),
            )
        else:
            content_type = headers.get("Content-Type")
            if content_type:
                charset = parse_options_header(content_type)[1].get("charset")
                if charset:
                    self.charset = charset

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.file is not None:
            self.file.write(memoryview(data)[start:end])
            return
        if self.max_memory is not None:
            # SECURITY: CVE-2024-49767 class: non-file fields are bounded in
            # total, as they arrive, not after buffering them.
            self.memory_used += end - start
            if self.memory_used > self.max_memory:
                raise _memory_error(self.max_memory)
        self.value += data[start:end]

    def on_part_end(self) -> None:
        if self.headers is None:
            # A part whose headers never ended (python-multipart only calls
            # this after headers_finished, but be strict).
            raise BadRequest("A multipart part ended inside its headers.")
        file = self.file
        if file is not None:
            self.file = None
            file.seek(0)
            storage = FileStorage(
                file,
                self.filename,
                self.name,
                headers=self.headers,
            )
            self.files.append((self.name, storage))
            return
        try:
            # bytes.decode refuses non-text codecs (zlib, base64) with LookupError.
            text = bytes(self.value).decode(self.charset)
        except LookupError:
            raise BadRequest(
                f"The form field {self.name!r} uses the unknown charset"
                f" {self.charset!r}. Send it as UTF-8."
            ) from None
        except UnicodeDecodeError:
            raise BadRequest(
                f"The form field {self.name!r} is not valid {self.charset}."
                " Send form fields as UTF-8."
            ) from None
        self.value = bytearray()
        self.fields.append((self.name, text))

    def on_end(self) -> None:
        self.finished = True
