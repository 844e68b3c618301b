"""Request body streams (``wsgi.input``) for the development server.

Each stream reads only its own request's body from the connection, so the
next request on a keep-alive connection starts exactly where the body ends.
"""

from __future__ import annotations

import collections.abc as cabc
import re
import typing as t

#: Longest header or trailer line accepted.
MAX_HEADER_LINE = 8192
#: Longest chunk-size line (with extensions) in a chunked body.
MAX_CHUNK_LINE = 4096
#: Largest trailer section of a chunked body.
MAX_TRAILERS = 16384
#: Bytes asked of the socket per receive.
RECV_SIZE = 65536

_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


class _Source(t.Protocol):
    """What a body stream needs from its connection."""

    request_timeout: float

    def send_continue(self) -> None: ...

    def read_some(self, size: int) -> bytes: ...

    def read_line(self, limit: int) -> bytes: ...


class ClientDisconnected(ConnectionError):
    """The client closed the connection before sending the whole body."""


class InvalidChunkedBody(ValueError):
    """The client sent a malformed ``Transfer-Encoding: chunked`` body."""


class BodyTimeout(TimeoutError):
    """The client stopped sending the request body for too long."""


class FileWrapper:
    """``wsgi.file_wrapper``: iterate a file in blocks, or ``sendfile`` it."""

    def __init__(self, filelike: t.Any, blksize: int = 65536) -> None:
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self) -> cabc.Iterator[bytes]:
        read = self.filelike.read
        while True:
            data = read(self.blksize)
            if not data:
                return
            yield data

    def close(self) -> None:
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


class EmptyInput:
    """``wsgi.input`` for requests without a body; shared and stateless."""

    __slots__ = ()

    def read(self, size: int | None = -1) -> bytes:
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        return b""

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return []

    def __iter__(self) -> cabc.Iterator[bytes]:
        return iter(())

    def drain(self, limit: int) -> bool:
        return True

    started = False
    done = True


EMPTY_INPUT = EmptyInput()


class BodyInput:
    """``wsgi.input`` base: buffered ``read``/``readline`` over ``_raw``."""

    __slots__ = ("_conn", "_pending", "started", "done")

    def __init__(self, conn: _Source) -> None:
        self._conn = conn
        self._pending = b""
        self.started = False
        self.done = False

    def _raw(self, size: int) -> bytes:
        raise NotImplementedError

    def _next(self, size: int) -> bytes:
        # Every body read goes through here: 100 Continue and timeouts.
        if not self.started:
            self.started = True
            self._conn.send_continue()
        if self.done:
            return b""
        try:
            data = self._raw(size)
        except TimeoutError:
            raise BodyTimeout(
                f"The client sent no request body data for {self._conn.request_timeout:g} seconds."
            ) from None
        if not data:
            self.done = True
        return data

    def read(self, size: int | None = -1) -> bytes:
        pending = self._pending
        if size is None or size < 0:
            parts = [pending]
            self._pending = b""
            while chunk := self._next(RECV_SIZE):
                parts.append(chunk)
            return b"".join(parts)
        if len(pending) >= size:
            self._pending = pending[size:]
            return pending[:size]
        parts = [pending]
        have = len(pending)
        self._pending = b""
        while have < size:
            chunk = self._next(size - have)
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None else size
        while True:
            pending = self._pending
            end = pending.find(b"\n", 0, limit if limit >= 0 else len(pending))
            if end >= 0:
                cut = end + 1
                break
            if 0 <= limit <= len(pending):
                cut = limit
                break
            chunk = self._next(RECV_SIZE)
            if not chunk:
                cut = len(pending)
                break
            self._pending = pending + chunk
        line = self._pending[:cut]
        self._pending = self._pending[cut:]
        return line

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> cabc.Iterator[bytes]:
        while line := self.readline():
            yield line

    def drain(self, limit: int) -> bool:
        """Discard the rest of the body; False if that failed or passed ``limit``."""
        self._pending = b""
        self.started = True  # no 100 Continue for a body we throw away
        seen = 0
        try:
            while chunk := self._next(RECV_SIZE):
                seen += len(chunk)
                if seen > limit:
                    return False
        except (OSError, ValueError):
            return False
        return True


class LengthInput(BodyInput):
    """A ``Content-Length`` body; never reads past its last byte."""

    __slots__ = ("remaining", "length")

    def __init__(self, conn: _Source, length: int) -> None:
        super().__init__(conn)
        self.remaining = length
        self.length = length

    def _raw(self, size: int) -> bytes:
        if self.remaining <= 0:
            return b""
        data = self._conn.read_some(min(size, self.remaining))
        if not data:
            raise ClientDisconnected(
                f"The client closed the connection after sending"
                f" {self.length - self.remaining} of {self.length} body bytes."
            )
        self.remaining -= len(data)
        return data

    def drain(self, limit: int) -> bool:
        if self.remaining - len(self._pending) > limit:
            return False
        return super().drain(limit)


class ChunkedInput(BodyInput):
    """A ``Transfer-Encoding: chunked`` body, decoded as it is read."""

    __slots__ = ("_left", "_need_crlf")

    def __init__(self, conn: _Source) -> None:
        super().__init__(conn)
        self._left = 0
        self._need_crlf = False

    def _raw(self, size: int) -> bytes:
        conn = self._conn
        if self._left == 0:
            if self._need_crlf:
                if conn.read_line(2) != b"":
                    raise InvalidChunkedBody("Chunk data is not followed by CRLF.")
                self._need_crlf = False
            line = conn.read_line(MAX_CHUNK_LINE)
            size_field = line.split(b";", 1)[0].rstrip(b" \t")
            if not _HEX.fullmatch(size_field):
                raise InvalidChunkedBody(f"Invalid chunk size line {line[:40]!r}.")
            chunk_size = int(size_field, 16)
            if chunk_size == 0:
                self._read_trailers()
                return b""
            self._left = chunk_size
        data = conn.read_some(min(size, self._left))
        if not data:
            raise ClientDisconnected(
                "The client closed the connection in the middle of a chunked body."
            )
        self._left -= len(data)
        if self._left == 0:
            self._need_crlf = True
        return data

    def _read_trailers(self) -> None:
        total = 0
        while line := self._conn.read_line(MAX_HEADER_LINE):
            total += len(line) + 2
            if total > MAX_TRAILERS:
                raise InvalidChunkedBody(
                    f"The chunked body's trailers exceed {MAX_TRAILERS} bytes."
                )
