"""HTTP/1.1 connection handling for the development server.

A :class:`Connection` reads requests from one socket, runs the WSGI
application for each and writes the responses, keeping the connection open
where HTTP allows. Parsing is strict, refusing what could smuggle a request,
and bounded: line, header and body limits, and a timeout on every read and
write.
"""

from __future__ import annotations

import collections.abc as cabc
import email.utils
import io
import logging
import os
import re
import socket
import ssl
import stat
import time
import typing as t
from urllib.parse import unquote_to_bytes

from ._body import EMPTY_INPUT
from ._body import MAX_HEADER_LINE
from ._body import RECV_SIZE
from ._body import BodyInput
from ._body import BodyTimeout
from ._body import ChunkedInput
from ._body import ClientDisconnected
from ._body import EmptyInput
from ._body import FileWrapper
from ._body import InvalidChunkedBody
from ._body import LengthInput

if t.TYPE_CHECKING:
    from types import TracebackType

    ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
    StartResponse = cabc.Callable[..., cabc.Callable[[bytes], object]]
    WSGIApp = cabc.Callable[[dict[str, t.Any], StartResponse], cabc.Iterable[bytes]]

logger = logging.getLogger("erlen.serving")

#: Longest request line accepted (414 beyond).
MAX_REQUEST_LINE = 8192
#: Most header fields accepted in one request (431 beyond).
MAX_HEADERS = 100
#: Largest request head (request line and headers) accepted (431 beyond).
MAX_HEAD = 65536
#: Unread body bytes drained before the next request; more closes instead.
DRAIN_LIMIT = 1 << 20

SERVER_SOFTWARE = "erlen-dev"

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN_STR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_TARGET = re.compile(rb"[\x00-\x20\x7f]")
_NO_BODY_STATUS = frozenset({204, 304})


class _HTTPError(Exception):
    """A request the server refuses: answered with ``status`` and closed."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _ClientGone(Exception):
    """Writing to the client failed; the connection is dead."""


# Header name (raw bytes) -> environ key, or "" for names that are dropped.
_ENV_KEYS: dict[bytes, str] = {
    b"Content-Type": "CONTENT_TYPE",
    b"Content-Length": "CONTENT_LENGTH",
}
_VALID_RESPONSE_NAMES: set[str] = set()

_date_cache: list[t.Any] = [0, ""]


def http_date() -> str:
    """Return the current time as an HTTP date, computed once per second."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = email.utils.formatdate(now, usegmt=True)
    return t.cast(str, _date_cache[1])


def _environ_key(name: bytes) -> str:
    """Map a request header name to its environ key, "" to drop it."""
    key = _ENV_KEYS.get(name)
    if key is not None:
        return key
    if not _TOKEN.fullmatch(name):
        raise _HTTPError("400 Bad Request", f"Invalid header name {name!r}.")
    lowered = name.lower()
    if lowered == b"content-type":
        key = "CONTENT_TYPE"
    elif lowered == b"content-length":
        key = "CONTENT_LENGTH"
    elif b"_" in name:
        # SECURITY: "X_Forwarded" and "X-Forwarded" would both become
        # HTTP_X_FORWARDED; drop the underscore form so it can't shadow.
        key = ""
    else:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
    if len(_ENV_KEYS) < 2048:
        _ENV_KEYS[name] = key
    return key


class Settings:
    """What every connection of one server shares."""

    __slots__ = (
        "app",
        "base_environ",
        "request_timeout",
        "keep_alive_timeout",
        "log_request",
        "stopping",
    )

    def __init__(
        self,
        app: WSGIApp,
        base_environ: dict[str, t.Any],
        request_timeout: float,
        keep_alive_timeout: float,
        log_request: cabc.Callable[[str, str, int], None] | None,
        stopping: cabc.Callable[[], bool],
    ) -> None:
        self.app = app
        self.base_environ = base_environ
        self.request_timeout = request_timeout
        self.keep_alive_timeout = keep_alive_timeout
        self.log_request = log_request
        self.stopping = stopping


class Connection:
    """One client connection: reads requests and answers them in order."""

    __slots__ = (
        "sock",
        "buf",
        "settings",
        "environ",
        "request_timeout",
        "client",
        "continue_pending",
        "headers_sent",
        "idle",
        "fresh",
        "dirty",
        "head_deadline",
    )

    def __init__(self, sock: socket.socket, address: t.Any, settings: Settings) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.settings = settings
        self.request_timeout = settings.request_timeout
        environ = settings.base_environ.copy()
        if isinstance(address, tuple) and len(address) >= 2:
            self.client = str(address[0])
            environ["REMOTE_ADDR"] = self.client
            environ["REMOTE_PORT"] = str(address[1])
        else:
            self.client = "-"
            environ["REMOTE_ADDR"] = ""
            environ["REMOTE_PORT"] = ""
        self.environ = environ
        self.continue_pending = False
        self.headers_sent = False
        self.idle = True
        #: No request has been answered on this connection yet.
        self.fresh = True
        self.dirty = False
        #: When the request head being received must be complete (0: none).
        self.head_deadline = 0.0

    # -- low-level IO ---------------------------------------------------

    def close(self) -> None:
        """Close the socket; after a request left unread, close gently.

        Closing with unread input makes the kernel send a reset, which can
        destroy the response (say a 400) before the client reads it. So
        shut down our side first and discard what still arrives, briefly.
        """
        sock = self.sock
        try:
            if self.dirty:
                self.dirty = False
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(0.2)
                deadline = time.monotonic() + 1.0
                seen = 0
                while time.monotonic() < deadline and seen < DRAIN_LIMIT:
                    data = sock.recv(RECV_SIZE)
                    if not data:
                        break
                    seen += len(data)
        except OSError:
            pass
        finally:
            sock.close()

    def has_buffered(self) -> bool:
        """Whether bytes of a next (pipelined) request are already here."""
        if self.buf:
            return True
        sock = self.sock
        return isinstance(sock, ssl.SSLSocket) and sock.pending() > 0

    def read_some(self, size: int) -> bytes:
        """Up to ``size`` body bytes: from the buffer, else one receive."""
        buf = self.buf
        if buf:
            data = bytes(buf[:size])
            del buf[:size]
            return data
        return self.sock.recv(min(size, RECV_SIZE))

    def read_line(self, limit: int) -> bytes:
        """One CRLF-terminated line (CRLF removed) of at most ``limit`` bytes."""
        buf = self.buf
        start = 0
        while True:
            end = buf.find(b"\r\n", start)
            if end >= 0:
                if end > limit:
                    break
                line = bytes(buf[:end])
                del buf[: end + 2]
                return line
            if len(buf) > limit + 1:
                break
            start = max(len(buf) - 1, 0)
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise ClientDisconnected(
                    "The client closed the connection in the middle of a chunked body."
                )
            buf += data
        raise InvalidChunkedBody(f"A line of the chunked body exceeds {limit} bytes.")

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise _ClientGone() from e

    def send_continue(self) -> None:
        # Only when the app asks for the body, and only once.
        if self.continue_pending and not self.headers_sent:
            self.continue_pending = False
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")

    def expire(self) -> None:
        """Close a connection whose deadline passed (408 if mid-head)."""
        if self.head_deadline and self.buf:
            self.dirty = True
            self.send_error(
                "408 Request Timeout",
                f"The request headers did not arrive within {self.request_timeout:g} seconds.",
            )
            self._log(bytes(self.buf.split(b"\r\n", 1)[0][:200]).decode("latin-1"), 408)
        self.close()

    def send_error(self, status: str, message: str) -> None:
        """Answer a refused request with a short plain-text body and close."""
        body = (message + "\n").encode("utf-8", "replace")
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            f"Date: {http_date()}\r\nServer: {SERVER_SOFTWARE}\r\n\r\n"
        )
        try:
            self.sock.settimeout(min(self.request_timeout, 5.0))
            self.sock.sendall(head.encode("latin-1") + body)
        except OSError:
            pass

    # -- request head ---------------------------------------------------

    def _read_head(self, idle_timeout: float, poll: bool) -> bytes | None:
        """The next request head, or None if the client closed or went idle.

        With ``poll`` (a selector said the socket is readable) receive once
        and return b"" if the head is still incomplete, so that one slow
        client cannot stall a single-threaded server; call again when the
        socket is readable, before ``head_deadline``.
        """
        buf = self.buf
        sock = self.sock
        if poll and self.head_deadline:
            sock.settimeout(self.request_timeout)
            try:
                data = sock.recv(RECV_SIZE)
            except OSError:
                return None
            if not data:
                return None
            buf += data
        elif not buf:
            sock.settimeout(idle_timeout)
            try:
                data = sock.recv(RECV_SIZE)
            except (TimeoutError, OSError):
                return None
            if not data:
                return None
            buf += data
        self.idle = False
        if not self.head_deadline:
            self.head_deadline = time.monotonic() + self.request_timeout
        deadline = self.head_deadline
        start = 0
        while True:
            # Robustness: ignore empty lines before a request line.
            while buf.startswith(b"\r\n"):
                del buf[:2]
            end = buf.find(b"\r\n\r\n", start)
            if 0 <= end <= MAX_HEAD:
                head = bytes(buf[:end])
                del buf[: end + 4]
                self.head_deadline = 0.0
                return head
            size = len(buf) if end < 0 else end
            line_end = buf.find(b"\r\n", 0, MAX_REQUEST_LINE + 2)
            if line_end < 0 and size > MAX_REQUEST_LINE:
                raise _HTTPError(
                    "414 URI Too Long",
                    f"The request line exceeds {MAX_REQUEST_LINE} bytes."
                    " Use a shorter URL or send the data in the request body.",
                )
            if size > MAX_HEAD:
                raise _HTTPError(
                    "431 Request Header Fields Too Large",
                    f"The request headers exceed {MAX_HEAD} bytes in total."
                    " Send fewer or smaller headers (large cookies are the usual cause).",
                )
            start = max(size - 3, 0)
            remaining = deadline - time.monotonic()
            if poll and remaining > 0:
                return b""
            if remaining <= 0:
                raise _HTTPError(
                    "408 Request Timeout",
                    f"The request headers did not arrive within {self.request_timeout:g} seconds.",
                )
            sock.settimeout(remaining)
            try:
                data = sock.recv(RECV_SIZE)
            except TimeoutError:
                continue
            if not data:
                return None
            buf += data

    def _parse_head(
        self, head: bytes
    ) -> tuple[dict[str, t.Any], str, bool, bool, BodyInput | EmptyInput]:
        """Build the environ from a request head; raise _HTTPError if invalid."""
        lines = head.split(b"\r\n")
        if (
            head.count(b"\r") != len(lines) - 1
            or head.count(b"\n") != len(lines) - 1
            or b"\0" in head
        ):
            raise _HTTPError(
                "400 Bad Request",
                "The request head contains a bare CR, LF or NUL; lines must end with CRLF.",
            )
        request_line = lines[0]
        if len(request_line) > MAX_REQUEST_LINE:
            raise _HTTPError(
                "414 URI Too Long", f"The request line exceeds {MAX_REQUEST_LINE} bytes."
            )
        parts = request_line.split(b" ")
        if len(parts) != 3:
            raise _HTTPError(
                "400 Bad Request",
                f"Malformed request line {request_line[:100]!r};"
                " expected 'METHOD target HTTP/1.1'.",
            )
        method_b, target, version_b = parts
        if version_b == b"HTTP/1.1":
            v11 = True
        elif version_b == b"HTTP/1.0":
            v11 = False
        elif re.fullmatch(rb"HTTP/[0-9]\.[0-9]", version_b):
            raise _HTTPError(
                "505 HTTP Version Not Supported",
                f"{version_b.decode('latin-1')} is not supported; use HTTP/1.1.",
            )
        else:
            raise _HTTPError("400 Bad Request", f"Invalid HTTP version {version_b[:20]!r}.")
        if not _TOKEN.fullmatch(method_b):
            raise _HTTPError("400 Bad Request", f"Invalid method {method_b[:20]!r}.")
        if not target or _BAD_TARGET.search(target):
            raise _HTTPError("400 Bad Request", "Invalid request target.")
        if len(lines) - 1 > MAX_HEADERS:
            raise _HTTPError(
                "431 Request Header Fields Too Large",
                f"The request has {len(lines) - 1} header fields; at most"
                f" {MAX_HEADERS} are accepted.",
            )
        environ = self.environ.copy()
        for line in lines[1:]:
            if len(line) > MAX_HEADER_LINE:
                raise _HTTPError(
                    "431 Request Header Fields Too Large",
                    f"A header line exceeds {MAX_HEADER_LINE} bytes.",
                )
            colon = line.find(b":")
            if colon <= 0:
                raise _HTTPError(
                    "400 Bad Request",
                    f"Malformed header line {line[:60]!r}; expected 'Name: value'"
                    " (obsolete line folding is not accepted).",
                )
            key = _environ_key(line[:colon])
            if not key:
                continue
            value = line[colon + 1 :].strip(b" \t").decode("latin-1")
            old = environ.get(key)
            if old is not None:
                if key == "HTTP_HOST":
                    raise _HTTPError(
                        "400 Bad Request", "The request has more than one Host header."
                    )
                value = old + ("; " if key == "HTTP_COOKIE" else ", ") + value
            environ[key] = value

        # Request target: origin-form, absolute-form or "*".
        if target[0] == 47:  # "/"
            path, _, query = target.partition(b"?")
        elif target == b"*":
            path, query = b"*", b""
        elif b"://" in target:
            rest = target.split(b"://", 1)[1]
            authority, slash, path_query = rest.partition(b"/")
            if b"@" in authority or not authority:
                raise _HTTPError("400 Bad Request", "Invalid absolute request target.")
            path, _, query = (slash + path_query).partition(b"?")
            path = path or b"/"
            # An absolute-form target overrides the Host header (RFC 9112 3.2.2).
            environ["HTTP_HOST"] = authority.decode("latin-1")
        else:
            raise _HTTPError(
                "400 Bad Request",
                f"Unsupported request target {target[:60]!r}; send a path like '/x'.",
            )
        if b"#" in path:
            path = path.partition(b"#")[0]
        environ["PATH_INFO"] = (unquote_to_bytes(path) if b"%" in path else path).decode("latin-1")
        environ["QUERY_STRING"] = query.partition(b"#")[0].decode("latin-1")
        raw_uri = target.decode("latin-1")
        environ["RAW_URI"] = environ["REQUEST_URI"] = raw_uri
        method = method_b.decode("latin-1")
        environ["REQUEST_METHOD"] = method
        protocol = "HTTP/1.1" if v11 else "HTTP/1.0"
        environ["SERVER_PROTOCOL"] = protocol

        # Body framing.
        body: BodyInput | EmptyInput = EMPTY_INPUT
        te = environ.get("HTTP_TRANSFER_ENCODING")
        cl = environ.get("CONTENT_LENGTH")
        if te is not None:
            if cl is not None:
                # SECURITY: both framings at once is how requests get smuggled.
                raise _HTTPError(
                    "400 Bad Request",
                    "The request has both Content-Length and Transfer-Encoding; send only one.",
                )
            if not v11:
                raise _HTTPError("400 Bad Request", "Transfer-Encoding is not allowed in HTTP/1.0.")
            if te.lower() != "chunked":
                raise _HTTPError(
                    "501 Not Implemented",
                    f"Transfer-Encoding {te!r} is not supported; use 'chunked'.",
                )
            body = ChunkedInput(self)
        elif cl is not None:
            if not (cl.isascii() and cl.isdigit() and len(cl) <= 18):
                raise _HTTPError(
                    "400 Bad Request",
                    f"Invalid Content-Length {cl[:30]!r}; it must be one non-negative integer.",
                )
            length = int(cl)
            if length:
                body = LengthInput(self, length)
        environ["wsgi.input"] = body

        expect = environ.get("HTTP_EXPECT")
        self.continue_pending = bool(
            expect is not None
            and v11
            and body is not EMPTY_INPUT
            and expect.lower() == "100-continue"
        )

        connection = environ.get("HTTP_CONNECTION")
        if connection is None:
            keep = v11
        else:
            tokens = {tok.strip() for tok in connection.lower().split(",")}
            keep = "close" not in tokens if v11 else "keep-alive" in tokens
        request_line_s = f"{method} {raw_uri} {protocol}"
        return environ, request_line_s, v11, keep, body

    # -- one request ----------------------------------------------------

    def handle_request(self, idle_timeout: float, poll: bool = False) -> bool:
        """Read, run and answer one request; True if the connection stays open.

        With ``poll``, True and a set ``head_deadline`` mean the request head
        is incomplete: call again when the socket is readable.
        """
        self.idle = True
        head: bytes | None = None
        try:
            head = self._read_head(idle_timeout, poll)
            if not head:
                return head is not None
            environ, request_line, v11, keep, body = self._parse_head(head)
        except _HTTPError as e:
            self.dirty = True
            self.send_error(e.status, e.message)
            first = (head or bytes(self.buf)).split(b"\r\n", 1)[0][:200]
            self._log(first.decode("latin-1"), int(e.status[:3]))
            return False
        except OSError:
            return False

        self.sock.settimeout(self.request_timeout)
        self.headers_sent = False
        settings = self.settings
        exchange = _Exchange(self, environ["REQUEST_METHOD"] == "HEAD", v11, keep, body)
        if settings.stopping():
            exchange.keep = False
        result: cabc.Iterable[bytes] | None = None
        try:
            result = settings.app(environ, exchange.start_response)
            exchange.consume(result)
        except _ClientGone:
            exchange.keep = False
        except Exception as e:
            exchange.fail(e, request_line)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logger.exception("Error closing the response iterable.")
                    exchange.keep = False
        if settings.log_request is not None:
            settings.log_request(self.client, request_line, exchange.code)
        keep = exchange.keep
        if not body.done:
            if keep and not self.continue_pending:
                self.sock.settimeout(min(self.request_timeout, 5.0))
                keep = body.drain(DRAIN_LIMIT)
            else:
                keep = False
            # Unread input still on its way: close gently (see close()).
            self.dirty = not keep
        self.continue_pending = False
        self.idle = True
        self.fresh = False
        return keep

    def _log(self, request_line: str, code: int) -> None:
        if self.settings.log_request is not None:
            self.settings.log_request(self.client, request_line, code)

    def serve(self) -> None:
        """Answer requests until the client leaves, goes idle or the server stops."""
        settings = self.settings
        try:
            timeout = settings.request_timeout
            while self.handle_request(timeout):
                if settings.stopping():
                    break
                timeout = settings.keep_alive_timeout
        finally:
            self.close()


class _Exchange:
    """The response side of one request: start_response, write, framing."""

    __slots__ = (
        "conn",
        "head_only",
        "v11",
        "keep",
        "status",
        "headers",
        "code",
        "chunked",
        "length",
        "sent",
        "body",
    )

    def __init__(
        self,
        conn: Connection,
        head_only: bool,
        v11: bool,
        keep: bool,
        body: BodyInput | EmptyInput,
    ) -> None:
        self.conn = conn
        self.body = body
        self.head_only = head_only
        self.v11 = v11
        self.keep = keep
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.code = 0
        self.chunked = False
        self.length: int | None = None
        self.sent = 0

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> cabc.Callable[[bytes], object]:
        if exc_info is not None:
            try:
                if self.conn.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError(
                "start_response() was called a second time without exc_info."
                " Pass sys.exc_info() when replacing the status after an error."
            )
        if not isinstance(status, str):
            raise TypeError(f"The WSGI status must be a str, not {type(status).__name__}.")
        if len(status) < 3 or not status[:3].isdigit() or (len(status) > 3 and status[3] != " "):
            raise ValueError(f"Invalid WSGI status {status!r}; expected e.g. '200 OK'.")
        if not isinstance(headers, list):
            raise TypeError(
                f"The WSGI headers must be a list of (name, value) tuples,"
                f" not {type(headers).__name__}."
            )
        self.status = status
        self.code = int(status[:3])
        self.headers = headers
        return self.write

    def _head(self, total: int | None) -> bytes:
        """Serialize the status line and headers and decide the framing."""
        status = self.status
        if status is None:
            raise RuntimeError(
                "The WSGI application sent a body before calling start_response()."
                " Call start_response(status, headers) first."
            )
        code = self.code
        lines = [f"HTTP/1.1 {status}\r\n"]
        has_date = has_server = has_te = close = False
        length: int | None = None
        for item in self.headers:
            try:
                name, value = item
            except (TypeError, ValueError):
                raise TypeError(f"WSGI header {item!r} is not a (name, value) tuple.") from None
            if name not in _VALID_RESPONSE_NAMES:
                if not isinstance(name, str) or not _TOKEN_STR.fullmatch(name):
                    raise ValueError(
                        f"Invalid response header name {name!r}; use letters, digits and '-'."
                    )
                if len(_VALID_RESPONSE_NAMES) < 1024:
                    _VALID_RESPONSE_NAMES.add(name)
            if not isinstance(value, str):
                raise TypeError(
                    f"The value of response header {name!r} must be a str,"
                    f" not {type(value).__name__}."
                )
            lowered = name.lower()
            if lowered == "content-length":
                if not (value.isascii() and value.isdigit()):
                    raise ValueError(
                        f"Invalid Content-Length response header {value!r};"
                        " it must be a non-negative integer."
                    )
                length = int(value)
            elif lowered == "date":
                has_date = True
            elif lowered == "server":
                has_server = True
            elif lowered == "transfer-encoding":
                has_te = True
            elif lowered == "connection":
                if "close" in value.lower():
                    close = True
            lines.append(f"{name}: {value}\r\n")
        if not has_date:
            lines.append(f"Date: {http_date()}\r\n")
        if not has_server:
            lines.append(f"Server: {SERVER_SOFTWARE}\r\n")
        bodyless = self.head_only or code < 200 or code in _NO_BODY_STATUS
        if close:
            self.keep = False
        if length is None and total is not None and (not bodyless or (self.head_only and total)):
            length = total
            lines.append(f"Content-Length: {total}\r\n")
        if bodyless:
            pass
        elif has_te:
            # The app framed the body itself; only closing can end it.
            self.keep = False
        elif length is None:
            if self.v11:
                self.chunked = True
                lines.append("Transfer-Encoding: chunked\r\n")
            else:
                self.keep = False
        self.length = None if bodyless else length
        body = self.body
        if isinstance(body, LengthInput) and body.remaining > DRAIN_LIMIT:
            self.keep = False  # too much unread body to drain: say so now
        if self.conn.continue_pending or self.conn.settings.stopping():
            # A client still waiting for 100 Continue may or may not send
            # its body now: closing is the only unambiguous way on.
            self.keep = False
        if not close:
            if not self.keep:
                lines.append("Connection: close\r\n")
            elif not self.v11:
                lines.append("Connection: keep-alive\r\n")
        lines.append("\r\n")
        block = "".join(lines)
        n = len(lines)
        if block.count("\r") != n or block.count("\n") != n or "\0" in block:
            for name, value in self.headers:
                if any(c in name + value for c in "\r\n\0"):
                    raise ValueError(
                        f"Response header {name!r} contains CR, LF or NUL;"
                        " remove line breaks from header values."
                    )
            raise ValueError(f"WSGI status {status!r} contains CR, LF or NUL.")
        try:
            encoded = block.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(
                "A response header is not latin-1 encodable; use ASCII"
                " (percent- or RFC 8187-encode other text)."
            ) from None
        self.conn.headers_sent = True
        self.conn.continue_pending = False
        return encoded

    def _frame(self, data: bytes) -> bytes:
        """Body bytes as they go on the wire, or b"" if none may be sent."""
        if self.length is not None:
            room = self.length - self.sent
            if len(data) > room:
                logger.warning(
                    "The application sent more bytes than its Content-Length"
                    " (%d); the extra bytes were dropped.",
                    self.length,
                )
                data = data[:room]
                self.keep = False
            self.sent += len(data)
            return data
        if self.chunked:
            return b"%x\r\n%b\r\n" % (len(data), data) if data else b""
        if self.head_only or self.code < 200 or self.code in _NO_BODY_STATUS:
            return b""
        self.sent += len(data)
        return data

    def write(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(
                f"The WSGI application produced {type(data).__name__}, not bytes;"
                " encode response bodies to bytes."
            )
        conn = self.conn
        if not conn.headers_sent:
            conn.send(self._head(None) + self._frame(bytes(data)))
        elif data:
            framed = self._frame(bytes(data))
            if framed:
                conn.send(framed)

    def consume(self, result: cabc.Iterable[bytes]) -> None:
        """Send the body from the app's iterable, then end the response."""
        conn = self.conn
        if type(result) is list or type(result) is tuple:
            if self.status is not None and not conn.headers_sent:
                # PERF: a list body has a known length; one send, no chunking.
                try:
                    body = b"".join(result)
                except TypeError:
                    raise TypeError(
                        "The WSGI application returned a list containing"
                        " non-bytes items; encode response bodies to bytes."
                    ) from None
                conn.send(self._head(len(body)) + self._frame(body))
                self.finish()
                return
        elif type(result) is FileWrapper and self._sendfile(result):
            return
        for chunk in result:
            if chunk:
                self.write(chunk)
            elif not isinstance(chunk, bytes | bytearray):
                self.write(chunk)
        if not conn.headers_sent:
            if self.status is None:
                raise RuntimeError(
                    "The WSGI application returned without calling start_response()."
                    " Call start_response(status, headers) before returning the body."
                )
            conn.send(self._head(0))
        self.finish()

    def finish(self) -> None:
        if self.chunked:
            self.conn.send(b"0\r\n\r\n")
        elif self.length is not None and self.sent < self.length:
            logger.warning(
                "The application sent %d bytes but its Content-Length is %d;"
                " the connection was closed.",
                self.sent,
                self.length,
            )
            self.keep = False

    def _sendfile(self, wrapper: FileWrapper) -> bool:
        """Send a regular file with ``socket.sendfile``; False to iterate instead."""
        f = wrapper.filelike
        if self.status is None or self.conn.headers_sent:
            return False
        try:
            fd = f.fileno()
            info = os.fstat(fd)
            position = f.tell()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        size = max(info.st_size - position, 0)
        conn = self.conn
        conn.send(self._head(size))
        count = self.length
        if count is None:  # head only, or a bodyless status
            self.finish()
            return True
        count = min(count, size)
        try:
            sent = conn.sock.sendfile(f, position, count) if count else 0
        except OSError as e:
            raise _ClientGone() from e
        self.sent = sent
        self.finish()
        return True

    def fail(self, exc: Exception, request_line: str) -> None:
        """Handle an exception from the app: a 4xx/500 if still possible, else close."""
        conn = self.conn
        self.keep = False
        if isinstance(exc, ClientDisconnected):
            return
        if isinstance(exc, BodyTimeout):
            status = "408 Request Timeout"
            message = str(exc)
        elif isinstance(exc, InvalidChunkedBody):
            status = "400 Bad Request"
            message = str(exc)
        else:
            logger.error(
                "Error on request %r:", request_line, exc_info=(type(exc), exc, exc.__traceback__)
            )
            status = "500 Internal Server Error"
            message = (
                "Internal Server Error: the application raised an exception."
                " See the server's log for the traceback."
            )
        if not conn.headers_sent:
            self.code = int(status[:3])
            conn.send_error(status, message)
