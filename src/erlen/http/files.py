"""Serve files: the one safe path joiner, file bodies, ranges and ``send_file``.

Every path that a request names goes through :func:`safe_join`, which refuses
anything that could leave the folder on any operating system, so a traversal
becomes a 404 and never a file outside it. :func:`send_file` builds the
response (type, disposition, length, caching validators) and answers
conditional and range requests with :meth:`Response.make_conditional`.
"""

from __future__ import annotations

import collections.abc as cabc
import io
import mimetypes
import os
import posixpath
import time
import typing as t
import unicodedata
import zlib
from datetime import datetime

from .exceptions import NotFound
from .headers import Headers
from .parsing import quote_header_value
from .parsing import url_quote
from .response import Response

__all__ = [
    "FileWrapper",
    "RangeWrapper",
    "safe_join",
    "send_file",
    "send_from_directory",
]

# ---------------------------------------------------------------------------
# safe_join
# ---------------------------------------------------------------------------

# SECURITY: Windows opens these as devices whatever the folder, with any
# extension (CVE-2025-66221: "NUL"; CVE-2026-21860: compound extensions such as
# "NUL.tar.gz"; CVE-2026-27199: after other segments, "a/CON"). The superscript
# digits count as digits to Windows (COM¹); CONIN$/CONOUT$ are console devices.
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{prefix}{digit}" for prefix in ("COM", "LPT") for digit in "0123456789\u00b9\u00b2\u00b3"}
)
# SECURITY: characters Windows forbids in names. The backslash is a separator
# there (CVE-2019-14322: SharedDataMiddleware accepted "..\\"), ":" makes drive
# paths ("C:x", CVE-2024-49766 and Kludex/starlette#981) and NTFS streams
# ("a.txt::$DATA"), and "?" and "*" are wildcards. Refused on every OS, so the
# same URL means the same thing everywhere and the Linux tests prove it.
_FORBIDDEN_CHARS = frozenset('\\:<>"|?*') | frozenset(chr(c) for c in range(32)) | {"\x7f"}


def _segment_is_safe(segment: str) -> bool:
    # One non-empty path segment that isn't ".".
    if segment == "..":
        return False  # SECURITY: the classic traversal
    for char in segment:
        if char in _FORBIDDEN_CHARS:
            return False  # SECURITY: NUL and control characters, separators, drives
    if segment[-1] in ". ":
        # SECURITY: Windows strips trailing dots and spaces, so "a.txt." opens
        # "a.txt" and "..." opens ".": names that alias others are refused.
        return False
    # SECURITY: "CON.txt", "NUL.tar.gz" and "aux .log" are devices too: Windows
    # looks at the name before the first dot, without trailing spaces.
    stem = segment.partition(".")[0].strip(" ").upper()
    return stem not in _RESERVED_NAMES


def _check_segment(segment: str) -> bool:
    if not _segment_is_safe(segment):
        return False
    if not segment.isascii():
        # SECURITY: lookalikes ("．．", "＼", "COM¹") become the real thing
        # under compatibility normalisation, which some filesystems, code page
        # conversions and later processing apply; judge the normalised form too.
        normal = unicodedata.normalize("NFKC", segment)
        if normal != segment and (
            "/" in normal or normal in ("", ".") or not _segment_is_safe(normal)
        ):
            return False
    return True


def safe_join(directory: str, *pathnames: str) -> str | None:
    """Join untrusted ``pathnames`` onto a trusted ``directory``; None if unsafe.

    This is the only joiner for paths that come from a request; callers turn
    None into a 404. Each pathname is split on ``/`` and every segment is
    checked, the same way on every operating system. Refused:

    - absolute paths (``/etc/passwd``, ``//server/share``) and backslashes
      anywhere (``\\\\server\\share``, ``\\\\?\\C:\\``, ``..\\x``);
    - drive paths and colons (``C:/x``, ``c:x``, ``a.txt::$DATA``);
    - ``..`` segments, NUL and other control characters;
    - Windows device names in any segment, in any case, with any extension
      or trailing spaces (``CON``, ``nul.tar.gz``, ``COM¹``, ``CONIN$``);
    - segments ending in a dot or a space, which Windows aliases.

    Empty and ``.`` segments (``a//b``, ``a/./b``) collapse. Last, the
    normalised result must lie inside the normalised ``directory``, a
    lexical check: symlinks inside the folder are followed, as the site's
    owner put them there.
    """
    if not directory:
        directory = "."
    segments: list[str] = []
    for pathname in pathnames:
        if not isinstance(pathname, str):
            raise TypeError(
                f"safe_join() takes str path names, not {type(pathname).__name__!r}"
                f" ({pathname!r}). Decode bytes first."
            )
        # SECURITY: an absolute path would replace the directory in a join
        # (Starlette CVE-2023-29159), and "//host/share" is a UNC path whose
        # opening sends the server's NTLM credentials to that host
        # (CVE-2026-48818).
        if pathname.startswith("/"):
            return None
        for segment in pathname.split("/"):
            if not segment or segment == ".":
                continue
            if not _check_segment(segment):
                return None
            segments.append(segment)
    joined = posixpath.join(directory, *segments)
    # SECURITY: defence in depth. commonpath compares whole segments, unlike
    # commonprefix, which let Starlette serve "/static-secret" for "/static"
    # (CVE-2023-29159).
    # abspath is lexical too (no symlinks resolved); it keeps "." comparable.
    base = os.path.abspath(directory)
    try:
        inside = os.path.commonpath([base, os.path.abspath(joined)]) == base
    except ValueError:  # different drives, or absolute mixed with relative
        return None
    return joined if inside else None


# ---------------------------------------------------------------------------
# File bodies
# ---------------------------------------------------------------------------


class FileWrapper:
    """Iterate over a binary file in chunks of ``buffer_size`` bytes; ``close()`` closes it.

    The response body for files. The WSGI adapter may swap in the server's
    ``wsgi.file_wrapper`` (for ``sendfile``); ``file`` stays reachable so a
    range can seek instead of reading what it skips.
    """

    #: The body is the whole file from its position, so a server's
    #: ``wsgi.file_wrapper`` (``sendfile``) may send ``file`` directly.
    is_whole = True

    def __init__(self, file: t.IO[bytes], buffer_size: int = 8192) -> None:
        self.file = file
        self.buffer_size = buffer_size

    @property
    def filelike(self) -> t.IO[bytes]:
        """The file (the name ``wsgiref``'s wrapper uses)."""
        return self.file

    def close(self) -> None:
        """Close the file."""
        close = getattr(self.file, "close", None)
        if close is not None:
            close()

    def seekable(self) -> bool:
        """Whether the file can seek."""
        seekable = getattr(self.file, "seekable", None)
        if seekable is not None:
            return bool(seekable())
        return hasattr(self.file, "seek")

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move the file's position (as ``file.seek``)."""
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        """The file's position."""
        return self.file.tell()

    def __iter__(self) -> FileWrapper:
        return self

    def __next__(self) -> bytes:
        data = self.file.read(self.buffer_size)
        if data:
            return data
        raise StopIteration


class RangeWrapper:
    """Yield exactly ``byte_range`` bytes starting at ``start_byte`` of a body.

    When the body is a :class:`FileWrapper` (or exposes a seekable ``file`` or
    ``filelike``), it seeks to the start and reads only the range; any other
    iterable is read through, discarding bytes before the start and stopping
    at the end. Positions count from where the body was when wrapped.
    ``byte_range=None`` means to the end. ``close()`` closes the body.
    """

    #: Only part of the file: a server must not send ``file`` as a whole.
    is_whole = False

    def __init__(
        self,
        iterable: cabc.Iterable[bytes | str] | FileWrapper,
        start_byte: int = 0,
        byte_range: int | None = None,
    ) -> None:
        if start_byte < 0 or (byte_range is not None and byte_range < 0):
            raise ValueError(
                f"Invalid range: start_byte={start_byte!r}, byte_range={byte_range!r}."
                " Both must be zero or more."
            )
        self.iterable = iterable
        self.start_byte = start_byte
        self.byte_range = byte_range
        self._remaining = byte_range
        self._file: t.IO[bytes] | None = None
        self._buffer_size = getattr(iterable, "buffer_size", 8192)
        file = getattr(iterable, "file", None) or getattr(iterable, "filelike", None)
        if file is not None and _is_seekable(file):
            # PERF: seek past the skipped bytes instead of reading them.
            file.seek(file.tell() + start_byte)
            self._file = file
            self._iterator: cabc.Iterator[bytes | str] | None = None
        else:
            self._iterator = iter(iterable)
        self._to_skip = 0 if self._file is not None else start_byte

    def __iter__(self) -> RangeWrapper:
        return self

    def _next_chunk(self) -> bytes:
        if self._file is not None:
            size = self._buffer_size
            if self._remaining is not None:
                size = min(size, self._remaining)
            return self._file.read(size) if size > 0 else b""
        assert self._iterator is not None
        for chunk in self._iterator:
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            if self._to_skip:
                if len(chunk) <= self._to_skip:
                    self._to_skip -= len(chunk)
                    continue
                chunk = chunk[self._to_skip :]
                self._to_skip = 0
            if chunk:
                return chunk
        return b""

    def __next__(self) -> bytes:
        if self._remaining == 0:
            raise StopIteration
        chunk = self._next_chunk()
        if not chunk:
            raise StopIteration
        if self._remaining is not None:
            chunk = chunk[: self._remaining]
            self._remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        """Close the wrapped body."""
        close = getattr(self.iterable, "close", None)
        if close is not None:
            close()
        elif self._file is not None:
            self._file.close()


def _is_seekable(file: t.Any) -> bool:
    seekable = getattr(file, "seekable", None)
    try:
        return bool(seekable()) if seekable is not None else False
    except (OSError, ValueError):
        return False


def _remaining_size(file: t.Any) -> int | None:
    # Bytes from the file's position to its end; None if it can't be known.
    if isinstance(file, io.BytesIO):
        return file.getbuffer().nbytes - file.tell()
    if not _is_seekable(file):
        return None
    try:
        position = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(position)
    except (OSError, ValueError, AttributeError):
        return None
    return int(end) - int(position)


# ---------------------------------------------------------------------------
# send_file
# ---------------------------------------------------------------------------


class FileNameError(ValueError, TypeError):
    """A name is needed to send a file object and none was given.

    A ``ValueError`` (a bad argument value) that is also a ``TypeError``, which
    is what Flask raises here.
    """


def _content_disposition(disposition: str, name: str) -> str:
    if name.isascii():
        return f"{disposition}; filename={quote_header_value(name)}"
    # RFC 6266: an ASCII approximation for old clients, the exact name for the
    # rest as RFC 5987 UTF-8 percent-encoding.
    simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    quoted = url_quote(name, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename={quote_header_value(simple)}; filename*=UTF-8''{quoted}"


def send_file(
    path_or_file: str | os.PathLike[str] | t.IO[bytes],
    request: t.Any,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | cabc.Callable[[str | None], int | None] | None = None,
    response_class: type[Response] | None = None,
    file_wrapper: cabc.Callable[[t.IO[bytes], int], cabc.Iterable[bytes]] | None = None,
    _root_path: str | os.PathLike[str] | None = None,
) -> Response:
    """A response that sends a file, from a path or a binary file object.

    Only pass paths the app chose, or ones checked with :func:`safe_join` (see
    :func:`send_from_directory`). The mimetype is guessed from the name
    (``download_name`` or the path), else ``application/octet-stream``.
    ``Content-Disposition`` is ``inline`` or ``attachment`` with the name,
    with an RFC 5987 ``filename*`` when it isn't ASCII. A path gets
    ``Content-Length``, ``Last-Modified`` and an ETag from its modification
    time, size and name; a seekable file object gets its remaining size. With
    ``max_age`` (seconds, or a function of the path) the response may be
    cached publicly; otherwise ``Cache-Control: no-cache``. ``conditional``
    answers ``If-None-Match``, ``If-Modified-Since`` and ``Range`` (304, 206,
    416). The file is closed when the response is.

    ``request`` needs the attributes :meth:`Response.make_conditional` reads.
    ``file_wrapper(file, buffer_size)`` makes the body, :class:`FileWrapper`
    by default. Keep the default under a WSGI server: the adapter hands a
    whole :class:`FileWrapper` body to the server's ``wsgi.file_wrapper``
    itself (sendfile), after ranges and conditional answers are settled.

    :raises FileNameError: a file object without ``mimetype`` or
        ``download_name``, or ``as_attachment`` without a name.
    :raises ValueError: a file opened in text mode.
    """
    if response_class is None:
        response_class = Response
    path: str | None = None
    file: t.IO[bytes] | None = None
    size: int | None = None
    mtime: float | None = None

    if isinstance(path_or_file, str | os.PathLike):
        if _root_path is not None:
            path = os.path.join(os.fspath(_root_path), os.fspath(path_or_file))
        else:
            path = os.path.abspath(os.fspath(path_or_file))
        stat = os.stat(path)
        size = stat.st_size
        mtime = stat.st_mtime
        if download_name is None:
            download_name = os.path.basename(path)
    else:
        file = path_or_file
        if isinstance(file, io.TextIOBase):
            raise ValueError(
                f"The file {file!r} is open in text mode. Open it in binary mode"
                " ('rb') or pass an io.BytesIO."
            )

    headers = Headers()
    if mimetype is None:
        if download_name is None:
            raise FileNameError(
                "Can't tell the mimetype of a file object without a name. Pass"
                " mimetype='...' or download_name='...', or pass a path instead."
            )
        mimetype, encoding = mimetypes.guess_type(download_name)
        if mimetype is None:
            mimetype = "application/octet-stream"
        # COMPAT: no Content-Encoding for attachments: browsers would unpack
        # a downloaded .tar.gz and save it under the .gz name.
        if encoding is not None and not as_attachment:
            headers.set("Content-Encoding", encoding)

    if download_name is not None:
        disposition = "attachment" if as_attachment else "inline"
        headers.set("Content-Disposition", _content_disposition(disposition, download_name))
    elif as_attachment:
        raise FileNameError(
            "as_attachment=True needs a file name for the download. Pass download_name='...'."
        )

    if file is None:
        assert path is not None
        file = open(path, "rb")  # closed with the response
    else:
        size = _remaining_size(file)

    try:
        body = (file_wrapper or FileWrapper)(file, 8192)
        rv = response_class(body, mimetype=mimetype, headers=headers, direct_passthrough=True)
    except BaseException:
        file.close()
        raise

    if size is not None:
        rv.content_length = size
    if last_modified is not None:
        rv.last_modified = last_modified
    elif mtime is not None:
        rv.last_modified = mtime

    if callable(max_age):
        max_age = max_age(path)
    cache_control = rv.cache_control
    if max_age is not None and max_age > 0:
        cache_control.public = True
    else:
        # Caches must ask again every time (and get a 304 while unchanged).
        cache_control.no_cache = True
    if max_age is not None:
        cache_control.max_age = max_age
        rv.expires = int(time.time() + max_age)

    if isinstance(etag, str):
        rv.set_etag(etag)
    elif etag and path is not None:
        check = zlib.adler32(path.encode("utf-8", "surrogateescape")) & 0xFFFFFFFF
        rv.set_etag(f"{mtime}-{size}-{check}")

    if conditional:
        rv = rv.make_conditional(request, accept_ranges=True, complete_length=size)
    return rv


def send_from_directory(
    directory: str | os.PathLike[str],
    path: str | os.PathLike[str],
    request: t.Any,
    **kwargs: t.Any,
) -> Response:
    """Send the file ``path`` from inside ``directory``, or raise :class:`NotFound`.

    ``path`` may come from the request: it is joined with :func:`safe_join`,
    so a traversal attempt is a 404 like a missing file. Other arguments are
    :func:`send_file`'s.
    """
    joined = safe_join(os.fspath(directory), os.fspath(path))
    if joined is None:
        raise NotFound()
    root = kwargs.get("_root_path")
    full = os.path.join(os.fspath(root), joined) if root is not None else joined
    if not os.path.isfile(full):
        raise NotFound()
    return send_file(joined, request, **kwargs)
