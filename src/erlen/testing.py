"""Test tools: build WSGI environs and drive an app without a server.

:class:`ErlenClient` (``app.test_client()``) sends requests straight into the
app's WSGI callable, keeps cookies between requests like a browser, follows
redirects on request and can keep the last request's context pushed inside
``with client:``, so ``request``, ``session`` and ``g`` can be inspected after
the response came back. :class:`EnvironBuilder` turns Flask-style keyword
arguments (``json=``, ``data=``, ``headers=``, ...) into a PEP 3333 environ.
"""

from __future__ import annotations

import base64
import collections.abc as cabc
import contextlib
import dataclasses
import io
import json as _json
import mimetypes
import os
import secrets
import sys
import time
import typing as t
from types import TracebackType
from urllib.parse import unquote_to_bytes
from urllib.parse import urljoin
from urllib.parse import urlsplit

from .http.datastructures import FileStorage
from .http.datastructures import MultiDict
from .http.headers import Headers
from .http.parsing import dump_cookie
from .http.parsing import parse_cookie
from .http.parsing import parse_date
from .http.parsing import url_encode
from .http.parsing import url_quote
from .http.response import Response as _HttpResponse
from .wrappers import Response as _AppResponse

if t.TYPE_CHECKING:
    from .http.request import Request

__all__ = [
    "ClientRedirectError",
    "Cookie",
    "EnvironBuilder",
    "ErlenClient",
    "FlaskClient",
    "TestResponse",
    "encode_multipart",
    "run_wsgi_app",
    "test_client_for",
]

WSGIEnviron = dict[str, t.Any]
WSGIApp = cabc.Callable[[WSGIEnviron, cabc.Callable[..., t.Any]], cabc.Iterable[bytes]]

#: The environ key holding the callable that a request context is handed to
#: when the app pops it, so ``with client:`` can push it again.
PRESERVE_CONTEXT_KEY = "erlen.preserve_context"

_REDIRECT_CODES = frozenset({301, 302, 303, 305, 307, 308})
# Characters kept as they are when a path or query given as text is made a URI.
_PATH_SAFE = "%!$&'()*+,/:;=@"
_QUERY_SAFE = "%!$&'()*+,/:;=?@"


def _user_agent() -> str:
    # Looked up late: erlen/__init__ may still be importing when this module is.
    version = getattr(sys.modules.get("erlen"), "__version__", "dev")
    return f"erlen/{version}"


def _app_config(app: t.Any, key: str, default: t.Any) -> t.Any:
    # Apps that are plain WSGI callables have no config; any value may be None.
    config = getattr(app, "config", None)
    getter = getattr(config, "get", None)
    if getter is None:
        return default
    value = getter(key)
    return default if value is None else value


def _wsgi_str(value: str) -> str:
    # WSGI carries raw bytes as latin-1 str; a server receives UTF-8 on the wire.
    return value.encode("utf-8", "surrogateescape").decode("latin-1")


def _to_uri(value: str | bytes, safe: str) -> str:
    # Percent-encode non-ASCII and unsafe characters, keeping existing escapes.
    return url_quote(value, safe=safe)


def _host_name(host: str) -> str:
    # "example.com:8080" -> "example.com"; "[::1]:80" -> "[::1]".
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1].lower() if end != -1 else host.lower()
    return host.rpartition(":")[0].lower() if ":" in host else host.lower()


def _environ_host(environ: WSGIEnviron) -> str:
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    name = str(environ.get("SERVER_NAME", "localhost"))
    port = str(environ.get("SERVER_PORT", ""))
    scheme = environ.get("wsgi.url_scheme", "http")
    if port and (scheme, port) not in (("http", "80"), ("https", "443")):
        return f"{name}:{port}"
    return name


def _environ_path(environ: WSGIEnviron) -> str:
    # The request path as a client sent it: script root + path, percent-encoded.
    raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    return _to_uri(raw, _PATH_SAFE.replace("%", "")) or "/"


def _environ_url(environ: WSGIEnviron) -> str:
    url = f"{environ.get('wsgi.url_scheme', 'http')}://{_environ_host(environ)}"
    url += _environ_path(environ)
    query = environ.get("QUERY_STRING")
    return f"{url}?{query}" if query else url


# ---------------------------------------------------------------------------
# Multipart
# ---------------------------------------------------------------------------


def _quote_disposition(value: str) -> str:
    # HTML's multipart encoding: escape the quote and line breaks, keep the rest.
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _read_file(stream: t.Any, charset: str) -> bytes:
    # Read a file without moving it, so the same builder can be encoded twice.
    try:
        pos = stream.tell()
    except (AttributeError, OSError, ValueError):
        pos = None
    data = stream.read()
    if pos is not None:
        with contextlib.suppress(OSError, ValueError):
            stream.seek(pos)
    if isinstance(data, str):
        return data.encode(charset)
    return bytes(data)


def _field_bytes(value: t.Any, charset: str) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode(charset)


def encode_multipart(
    values: cabc.Mapping[str, t.Any] | cabc.Iterable[tuple[str, t.Any]],
    boundary: str | None = None,
    charset: str = "utf-8",
) -> tuple[str, bytes]:
    """Encode fields and files as a ``multipart/form-data`` body; returns ``(boundary, body)``.

    Values are strings (or anything ``str()`` accepts), bytes, or
    :class:`FileStorage` objects; ``None`` values are skipped. A random
    boundary is chosen unless one is given.
    """
    parts: list[tuple[str, str | None, str | None, bytes]] = []
    for name, value in _iter_pairs(values):
        if value is None:
            continue
        if isinstance(value, FileStorage):
            file_type = value.content_type or "application/octet-stream"
            data = _read_file(value.stream, charset)
            parts.append((name, value.filename or "", file_type, data))
        else:
            parts.append((name, None, None, _field_bytes(value, charset)))
    if boundary is None:
        boundary = _new_boundary(parts)
    marker = f"--{boundary}".encode("ascii")
    out = io.BytesIO()
    for name, filename, content_type, body in parts:
        out.write(marker + b"\r\n")
        disposition = f'form-data; name="{_quote_disposition(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quote_disposition(filename)}"'
        out.write(f"Content-Disposition: {disposition}\r\n".encode(charset))
        if content_type is not None:
            out.write(f"Content-Type: {content_type}\r\n".encode(charset))
        out.write(b"\r\n")
        out.write(body)
        out.write(b"\r\n")
    out.write(marker + b"--\r\n")
    return boundary, out.getvalue()


def _new_boundary(parts: list[tuple[str, str | None, str | None, bytes]]) -> str:
    # 128 random bits never collide in practice; checking costs one scan per part.
    while True:
        boundary = f"----ErlenFormBoundary{secrets.token_hex(16)}"
        needle = boundary.encode("ascii")
        if not any(needle in data for *_, data in parts):
            return boundary


def _iter_pairs(
    values: cabc.Mapping[str, t.Any] | cabc.Iterable[tuple[str, t.Any]],
) -> cabc.Iterator[tuple[str, t.Any]]:
    # Pairs from a MultiDict, a mapping (list values expand) or pairs.
    if isinstance(values, MultiDict):
        yield from values.items(multi=True)
    elif isinstance(values, cabc.Mapping):
        for key, value in values.items():
            if isinstance(value, list):
                for item in value:
                    yield key, item
            else:
                yield key, value
    else:
        yield from values


# ---------------------------------------------------------------------------
# EnvironBuilder
# ---------------------------------------------------------------------------


class EnvironBuilder:
    """Build a WSGI environ from Flask-style request arguments.

    With an ``app``, the host, script root and scheme default to its
    ``SERVER_NAME`` (else ``localhost``), ``APPLICATION_ROOT`` and
    ``PREFERRED_URL_SCHEME``, so URLs built by the app match the request.
    ``path`` may carry a query string, merged before ``query_string``.
    ``data`` is the body: bytes or str as they are, a dict or
    :class:`MultiDict` as a form (multipart when a value is a file), a file
    object read whole. ``json`` is serialised with the app's JSON provider.
    """

    #: The protocol put in ``SERVER_PROTOCOL``.
    server_protocol = "HTTP/1.1"
    #: The WSGI version put in ``wsgi.version``.
    wsgi_version = (1, 0)

    def __init__(
        self,
        app: t.Any = None,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *,
        method: str = "GET",
        query_string: t.Any = None,
        headers: t.Any = None,
        data: t.Any = None,
        json: t.Any = None,
        content_type: str | None = None,
        content_length: int | None = None,
        environ_base: cabc.Mapping[str, t.Any] | None = None,
        environ_overrides: cabc.Mapping[str, t.Any] | None = None,
        input_stream: t.IO[bytes] | None = None,
        charset: str = "utf-8",
        mimetype: str | None = None,
        auth: tuple[str, str] | str | None = None,
        errors_stream: t.TextIO | None = None,
        multithread: bool = False,
        multiprocess: bool = False,
        run_once: bool = False,
    ) -> None:
        self.app = app
        self.charset = charset
        self.method = method.upper()
        self.headers = Headers(headers)
        self.environ_base: dict[str, t.Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": _user_agent(),
        }
        if environ_base:
            self.environ_base.update(environ_base)
        self.environ_overrides: dict[str, t.Any] = dict(environ_overrides or {})
        self.errors_stream: t.TextIO = errors_stream if errors_stream is not None else sys.stderr
        self.multithread = multithread
        self.multiprocess = multiprocess
        self.run_once = run_once
        self.input_stream = input_stream
        #: Form fields and files, encoded when the environ is built.
        self.form: MultiDict = MultiDict()
        self.files: MultiDict = MultiDict()
        self._body: bytes | None = None

        url = urlsplit(path)
        if base_url is None:
            self._base_from_app(url.scheme, url.netloc, subdomain, url_scheme)
        else:
            if subdomain or url_scheme:
                raise TypeError(
                    "Pass either 'base_url' or 'subdomain'/'url_scheme', not both:"
                    " put the scheme and subdomain in 'base_url'."
                )
            base = urlsplit(base_url)
            self.url_scheme = base.scheme or "http"
            self.host = base.netloc or "localhost"
            self.script_root = base.path.rstrip("/")
        self.path = _to_uri(url.path or "/", _PATH_SAFE)
        if not self.path.startswith("/"):
            self.path = "/" + self.path
        self.query_string = self._merge_query(url.query, query_string)

        if mimetype is not None and content_type is None:
            content_type = mimetype
        if content_type is not None:
            self.headers.set("Content-Type", content_type)
        if content_length is not None:
            self.headers.set("Content-Length", str(content_length))
        if auth is not None:
            self.headers.set("Authorization", _auth_header(auth))

        if json is not None:
            if data is not None:
                raise TypeError(
                    "Pass either 'json' or 'data', not both: 'json' is serialised and"
                    " sent as the body, which 'data' would also be."
                )
            data = self._json_dumps(json)
            if "Content-Type" not in self.headers:
                self.headers.set("Content-Type", "application/json")
        if data is not None:
            if input_stream is not None:
                raise TypeError(
                    "Pass either 'data' or 'input_stream', not both: each is the request body."
                )
            self._set_data(data)

    # -- construction helpers -------------------------------------------------

    def _base_from_app(
        self, scheme: str, netloc: str, subdomain: str | None, url_scheme: str | None
    ) -> None:
        host = _app_config(self.app, "SERVER_NAME", "localhost")
        if subdomain:
            host = f"{subdomain}.{host}"
        if url_scheme is None:
            url_scheme = _app_config(self.app, "PREFERRED_URL_SCHEME", "http")
        root = _app_config(self.app, "APPLICATION_ROOT", "/")
        self.url_scheme = scheme or str(url_scheme)
        self.host = netloc or str(host)
        self.script_root = _to_uri(str(root), _PATH_SAFE).rstrip("/")

    def _merge_query(self, from_path: str, query_string: t.Any) -> str:
        parts = [_to_uri(from_path, _QUERY_SAFE)] if from_path else []
        if query_string is None:
            pass
        elif isinstance(query_string, str | bytes):
            if query_string:
                parts.append(_to_uri(query_string, _QUERY_SAFE))
        else:
            encoded = self._urlencode(_iter_pairs(query_string))
            if encoded:
                parts.append(encoded)
        return "&".join(parts)

    def _urlencode(self, pairs: cabc.Iterable[tuple[str, t.Any]]) -> str:
        if self.charset.lower().replace("-", "") == "utf8":
            return url_encode(list(pairs))
        return url_encode(
            [(k, v if isinstance(v, bytes) else str(v).encode(self.charset)) for k, v in pairs]
        )

    def _json_dumps(self, obj: t.Any) -> str:
        provider = getattr(self.app, "json", None)
        dumps = getattr(provider, "dumps", None)
        if callable(dumps):
            return t.cast(str, dumps(obj))
        return _json.dumps(obj)

    def _set_data(self, data: t.Any) -> None:
        if isinstance(data, str):
            data = data.encode(self.charset)
        elif hasattr(data, "read"):
            data = _read_file(data, self.charset)
        if isinstance(data, bytes | bytearray | memoryview):
            self._body = bytes(data)
            if "Content-Length" not in self.headers:
                self.headers.set("Content-Length", str(len(self._body)))
            return
        for key, value in _iter_pairs(data):
            if isinstance(value, list):
                for item in value:
                    self._add_value(key, item)
            else:
                self._add_value(key, value)

    def _add_value(self, key: str, value: t.Any) -> None:
        if isinstance(value, FileStorage):
            if value.name is None:
                value.name = key
            self.files.add(key, value)
        elif isinstance(value, tuple):
            self.add_file(key, *value)
        elif hasattr(value, "read"):
            self.add_file(key, value)
        elif value is not None:
            self.form.add(key, value)

    def add_file(
        self,
        name: str,
        file: t.IO[bytes] | str | os.PathLike[str],
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Add a file to send as ``name``: a binary file object or a path to open.

        The content type is guessed from the file name, else
        ``application/octet-stream``. :meth:`close` closes the file.
        """
        if isinstance(file, str | os.PathLike):
            if filename is None:
                filename = os.path.basename(os.fspath(file))
            file = open(file, "rb")  # noqa: SIM115 - closed by close()
        if filename is None:
            raw = getattr(file, "name", None)
            if isinstance(raw, str) and not (raw.startswith("<") and raw.endswith(">")):
                filename = os.path.basename(raw)
        if content_type is None:
            guessed = mimetypes.guess_type(filename)[0] if filename else None
            content_type = guessed or "application/octet-stream"
        self.files.add(
            name,
            FileStorage(file, filename=filename or "", name=name, content_type=content_type),
        )

    # -- reading --------------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` to send; for forms, decided by whether there are files."""
        value = self.headers.get("Content-Type")
        if value is None and self._body is None and self.input_stream is None:
            if self.files:
                return "multipart/form-data"
            if self.form:
                return "application/x-www-form-urlencoded"
        return value

    @property
    def mimetype(self) -> str | None:
        """The content type without parameters, lowercased."""
        value = self.content_type
        return value.split(";", 1)[0].strip().lower() if value else None

    @property
    def server_name(self) -> str:
        """The host name without the port."""
        return _host_name(self.host)

    @property
    def server_port(self) -> int:
        """The port from the host, else the scheme's default."""
        name = self.server_name
        rest = self.host[len(name) :]
        if rest.startswith(":") and rest[1:].isdigit():
            return int(rest[1:])
        return 443 if self.url_scheme == "https" else 80

    def _body_stream(self) -> tuple[t.IO[bytes], int | None, str | None]:
        # The body stream, its length if known and the final content type.
        content_type = self.content_type
        mimetype = self.mimetype
        if self.input_stream is not None:
            stream = self.input_stream
            length: int | None = self.headers.get("Content-Length", None, type=int)
            if length is None:
                try:
                    start = stream.tell()
                    stream.seek(0, io.SEEK_END)
                    length = stream.tell() - start
                    stream.seek(start)
                except (AttributeError, OSError, ValueError):
                    length = None
            return stream, length, content_type
        if self._body is not None:
            length = self.headers.get("Content-Length", len(self._body), type=int)
            return io.BytesIO(self._body), length, content_type
        if mimetype == "multipart/form-data":
            values = [*self.form.items(multi=True), *self.files.items(multi=True)]
            boundary, body = encode_multipart(values, charset=self.charset)
            return io.BytesIO(body), len(body), f"multipart/form-data; boundary={boundary}"
        if mimetype == "application/x-www-form-urlencoded":
            body = self._urlencode(self.form.items(multi=True)).encode("ascii")
            return io.BytesIO(body), len(body), content_type
        return io.BytesIO(), self.headers.get("Content-Length", None, type=int), content_type

    def get_environ(self) -> WSGIEnviron:
        """Build the environ; may be called again after changing the builder."""
        stream, length, content_type = self._body_stream()
        path = unquote_to_bytes(self.path).decode("latin-1")
        script = unquote_to_bytes(self.script_root).decode("latin-1")
        raw_uri = self.script_root + self.path
        if self.query_string:
            raw_uri += "?" + self.query_string
        environ: WSGIEnviron = dict(self.environ_base)
        environ.update(
            {
                "REQUEST_METHOD": self.method,
                "SCRIPT_NAME": script,
                "PATH_INFO": path,
                "QUERY_STRING": self.query_string,
                "REQUEST_URI": raw_uri,
                "RAW_URI": raw_uri,
                "SERVER_NAME": self.server_name,
                "SERVER_PORT": str(self.server_port),
                "HTTP_HOST": self.host,
                "SERVER_PROTOCOL": self.server_protocol,
                "wsgi.version": self.wsgi_version,
                "wsgi.url_scheme": self.url_scheme,
                "wsgi.input": stream,
                "wsgi.errors": self.errors_stream,
                "wsgi.multithread": self.multithread,
                "wsgi.multiprocess": self.multiprocess,
                "wsgi.run_once": self.run_once,
            }
        )
        if content_type is not None:
            environ["CONTENT_TYPE"] = _wsgi_str(content_type)
        if length is not None:
            environ["CONTENT_LENGTH"] = str(length)
        combined: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                continue
            combined.setdefault(f"HTTP_{key}", []).append(_wsgi_str(value))
        for key, items in combined.items():
            # COMPAT: repeated headers arrive joined, as a server joins them.
            environ[key] = ("; " if key == "HTTP_COOKIE" else ", ").join(items)
        environ.update(self.environ_overrides)
        return environ

    def get_request(self, cls: type[Request] | None = None) -> Request:
        """Build the environ and wrap it in a request (the app's request class by default)."""
        return _request_from_environ(self.get_environ(), self.app, cls)

    def close(self) -> None:
        """Close the files added to the form; safe to call more than once."""
        for _, value in self.files.items(multi=True):
            value.close()

    def __enter__(self) -> EnvironBuilder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _auth_header(auth: tuple[str, str] | str) -> str:
    if isinstance(auth, str):
        return auth
    username, password = auth
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _request_from_environ(environ: WSGIEnviron, app: t.Any, cls: t.Any = None) -> Request:
    from .wsgi import request_from_environ

    if cls is None:
        cls = getattr(app, "request_class", None)
    if cls is None:
        return t.cast("Request", request_from_environ(environ))
    return t.cast("Request", request_from_environ(environ, cls))


# ---------------------------------------------------------------------------
# Running a WSGI app
# ---------------------------------------------------------------------------


class _ClosingIterator:
    """Iterate a WSGI body and call its ``close()`` once, when exhausted or closed."""

    __slots__ = ("_iter", "_close", "closed")

    def __init__(
        self, iterator: cabc.Iterator[bytes], close: cabc.Callable[[], t.Any] | None
    ) -> None:
        self._iter = iterator
        self._close = close
        self.closed = False

    def __iter__(self) -> _ClosingIterator:
        return self

    def __next__(self) -> bytes:
        if self.closed:
            raise StopIteration
        try:
            return next(self._iter)
        except StopIteration:
            self.close()
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._close is not None:
            self._close()


def run_wsgi_app(
    app: WSGIApp, environ: WSGIEnviron, buffered: bool = False
) -> tuple[cabc.Iterable[bytes], str, list[tuple[str, str]]]:
    """Call a WSGI app; returns ``(body, status, headers)``.

    With ``buffered`` the body is read whole and closed at once. Otherwise it is
    an iterator that calls the app's ``close()`` when exhausted or closed.
    """
    started: list[t.Any] = []
    written: list[bytes] = []
    body_started = False

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> cabc.Callable[[bytes], object]:
        if exc_info is not None:
            try:
                # PEP 3333: an error after the body began cannot change the
                # status any more; before that, the new status replaces it.
                if body_started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif started:
            raise AssertionError(
                "start_response was called twice without exc_info; a WSGI app may"
                " call it again only to report an error (PEP 3333)."
            )
        started[:] = [status, list(headers)]
        return written.append

    app_rv = app(environ, start_response)
    close = getattr(app_rv, "close", None)
    try:
        iterator = iter(app_rv)
        # COMPAT: generators may call start_response on their first step.
        while not started:
            try:
                chunk = next(iterator)
            except StopIteration:
                raise RuntimeError(
                    "The WSGI app returned without calling start_response; call it"
                    " before or while producing the body."
                ) from None
            written.append(chunk)
        body_started = True
        if buffered:
            chunks = [*written, *iterator]
    except BaseException:
        if close is not None:
            close()
        raise
    status, headers = started
    if buffered:
        if close is not None:
            close()
        return chunks, status, headers
    return _ClosingIterator(_chain(written, iterator), close), status, headers


def _chain(first: list[bytes], rest: cabc.Iterator[bytes]) -> cabc.Iterator[bytes]:
    yield from first
    yield from rest


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------


class _TestResponseMixin:
    """What a test response adds to the app's response class."""

    #: Earlier responses, in order, when redirects were followed.
    history: tuple[t.Any, ...] = ()
    _test_environ: WSGIEnviron
    _test_app: t.Any
    _test_request: Request | None = None
    _test_body_start: int | None = None

    @property
    def request(self) -> Request:
        """The request the app saw, built from its environ on first access."""
        if self._test_request is None:
            self._test_request = _request_from_environ(self._test_environ, self._test_app)
        return self._test_request

    @request.setter
    def request(self, value: Request) -> None:
        self._test_request = value

    @property
    def text(self) -> str:
        """The body decoded as text."""
        return t.cast(str, self.get_data(as_text=True))  # type: ignore[attr-defined]


_test_response_classes: dict[type[t.Any], type[t.Any]] = {}


class TestResponse(_TestResponseMixin, _AppResponse):
    """The response a test client returns: the app's response plus the request and history."""

    __test__ = False  # not a pytest test class


_test_response_classes[_AppResponse] = TestResponse


def _test_response_class(base: type[t.Any]) -> type[t.Any]:
    # One subclass per response class: isinstance checks against the app's
    # response class keep working, and repeated clients share the class.
    if issubclass(base, _TestResponseMixin):
        return base
    cls = _test_response_classes.get(base)
    if cls is None:
        # Subclasses of the app response class also subclass TestResponse, as
        # in Flask; TestResponse adds no response behaviour, so the base class's
        # own overrides still win. Other classes only get the mixin, so that
        # TestResponse's text/html default cannot shadow theirs.
        parent = TestResponse if issubclass(base, _AppResponse) else _TestResponseMixin
        namespace = {"__module__": __name__, "__test__": False}
        cls = type(f"Test{base.__name__}", (parent, base), namespace)
        _test_response_classes[base] = cls
    return cls


# ---------------------------------------------------------------------------
# Cookies
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Cookie:
    """A cookie in the test client's jar, as the app set it."""

    #: The name and value as they appeared in the header (value maybe quoted).
    key: str
    value: str
    #: The name and value after unquoting.
    decoded_key: str
    decoded_value: str
    #: ``Expires`` as a UNIX timestamp, ``Max-Age`` in seconds.
    expires: float | None
    max_age: int | None
    domain: str
    #: Sent only to ``domain`` itself, not its subdomains (no ``Domain`` attribute).
    origin_only: bool
    path: str
    secure: bool | None
    http_only: bool | None
    same_site: str | None
    _expiry: float | None = dataclasses.field(default=None, repr=False, compare=False)

    @classmethod
    def _from_set_cookie(cls, server_name: str, path: str, header: str) -> Cookie:
        pair, _, attributes = header.partition(";")
        key, _, value = pair.partition("=")
        key = key.strip()
        value = value.strip()
        parsed = parse_cookie(f"{key}={value}")
        decoded_key, decoded_value = parsed[0] if parsed else (key, value)
        params: dict[str, str | None] = {}
        for item in attributes.split(";"):
            name, sep, attr = item.partition("=")
            name = name.strip().lower()
            if name:
                params[name] = attr.strip() if sep else None
        expires: float | None = None
        date = parse_date(params.get("expires"))
        if date is not None:
            expires = date.timestamp()
        max_age: int | None = None
        raw_age = params.get("max-age")
        if raw_age is not None:
            try:
                max_age = int(raw_age)
            except ValueError:
                max_age = None
        domain = (params.get("domain") or "").lstrip(".").lower()
        origin_only = not domain
        if not domain:
            domain = server_name
        cookie_path = params.get("path")
        if not cookie_path or not cookie_path.startswith("/"):
            # RFC 6265 default path: the request path up to its last slash.
            cookie_path = path.rpartition("/")[0] or "/"
        same_site = params.get("samesite")
        # RFC 6265: Max-Age wins over Expires.
        expiry = time.time() + max_age if max_age is not None else expires
        return cls(
            key=key,
            value=value,
            decoded_key=decoded_key,
            decoded_value=decoded_value,
            expires=expires,
            max_age=max_age,
            domain=domain,
            origin_only=origin_only,
            path=cookie_path,
            secure="secure" in params,
            http_only="httponly" in params,
            same_site=same_site,
            _expiry=expiry,
        )

    @property
    def _storage_key(self) -> tuple[str, str, str]:
        return self.domain, self.path, self.decoded_key

    def _expired(self, now: float) -> bool:
        return self._expiry is not None and self._expiry <= now

    def _matches(self, server_name: str, path: str) -> bool:
        # COMPAT: Secure cookies are sent over http too, as Flask's client does,
        # so apps with SESSION_COOKIE_SECURE can be tested without https URLs.
        domain = self.domain
        host_ok = server_name == domain or (
            not self.origin_only and server_name.endswith("." + domain)
        )
        if not host_ok:
            return False
        cookie_path = self.path
        if path == cookie_path:
            return True
        # RFC 6265 path-match: a prefix that ends at a "/" boundary.
        return path.startswith(cookie_path) and (
            cookie_path.endswith("/") or path[len(cookie_path)] == "/"
        )


# ---------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------


class ClientRedirectError(RuntimeError):
    """Following redirects went in a loop or on for too long."""


class _Context(t.Protocol):
    def push(self) -> None: ...
    def pop(self) -> None: ...


class ErlenClient:
    """Send requests to a WSGI app and get :class:`TestResponse` objects back.

    Usually made by ``app.test_client()``. Positional and keyword arguments of
    :meth:`open` and the method helpers are those of :class:`EnvironBuilder`.
    """

    __test__ = False  # not a pytest test class

    #: Give up following redirects after this many.
    max_redirects = 30
    #: Follow redirects to subdomains of the request's host.
    allow_subdomain_redirects = False

    def __init__(
        self,
        application: WSGIApp,
        response_wrapper: type[t.Any] | None = None,
        use_cookies: bool = True,
    ) -> None:
        self.application = application
        if response_wrapper is None or response_wrapper is _HttpResponse:
            base = getattr(application, "response_class", None)
            if not isinstance(base, type):
                base = _HttpResponse
            response_wrapper = base
        self.response_wrapper: type[t.Any] = _test_response_class(response_wrapper)
        self._cookies: dict[tuple[str, str, str], Cookie] | None = {} if use_cookies else None
        #: Defaults for every request's environ; keys given per request win.
        self.environ_base: dict[str, t.Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": _user_agent(),
        }
        #: True inside ``with client:``.
        self.preserve_context = False
        self._new_contexts: list[_Context] = []
        self._pushed: _Context | None = None

    # -- cookies --------------------------------------------------------------

    def _jar(self) -> dict[tuple[str, str, str], Cookie]:
        if self._cookies is None:
            raise TypeError(
                "Cookies are disabled for this client. Create it with 'use_cookies=True'."
            )
        return self._cookies

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """The cookie ``key`` stored for ``domain`` and ``path``, if it is there and unexpired."""
        cookie = self._jar().get((domain, path, key))
        if cookie is not None and cookie._expired(time.time()):
            return None
        return cookie

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        domain: str = "localhost",
        origin_only: bool = True,
        path: str = "/",
        **kwargs: t.Any,
    ) -> None:
        """Store a cookie as if a response had set it; keyword arguments are ``dump_cookie``'s.

        ``origin_only`` sends it to ``domain`` only, not its subdomains.
        """
        jar = self._jar()
        header = dump_cookie(key, value, domain=domain, path=path, **kwargs)
        cookie = Cookie._from_set_cookie(domain, path, header)
        cookie.origin_only = origin_only
        self._store(jar, cookie)

    def delete_cookie(self, key: str, *, domain: str = "localhost", path: str = "/") -> None:
        """Remove the cookie ``key`` for ``domain`` and ``path``, if there is one."""
        self._jar().pop((domain, path, key), None)

    @staticmethod
    def _store(jar: dict[tuple[str, str, str], Cookie], cookie: Cookie) -> None:
        if cookie._expired(time.time()) or (cookie.max_age is not None and cookie.max_age <= 0):
            jar.pop(cookie._storage_key, None)
        else:
            jar[cookie._storage_key] = cookie

    def _add_cookies(self, environ: WSGIEnviron, explicit: str | None) -> None:
        jar = self._cookies
        if jar is None:
            return
        server_name = _host_name(_environ_host(environ))
        path = _environ_path(environ)
        now = time.time()
        values = [explicit] if explicit else []
        for key, cookie in list(jar.items()):
            if cookie._expired(now):
                del jar[key]
            elif cookie._matches(server_name, path):
                values.append(f"{cookie.key}={cookie.value}")
        if values:
            environ["HTTP_COOKIE"] = "; ".join(values)
        else:
            environ.pop("HTTP_COOKIE", None)

    def _update_cookies(
        self, environ: WSGIEnviron, headers: cabc.Iterable[tuple[str, str]]
    ) -> None:
        jar = self._cookies
        if jar is None:
            return
        server_name = _host_name(_environ_host(environ))
        path = _environ_path(environ)
        for name, value in headers:
            if name.lower() == "set-cookie":
                self._store(jar, Cookie._from_set_cookie(server_name, path, value))

    @contextlib.contextmanager
    def session_transaction(self, *args: t.Any, **kwargs: t.Any) -> cabc.Iterator[t.Any]:
        """Open the session the client's cookies carry, to read or change it in a test.

        Takes the arguments of ``app.test_request_context``; on exit the
        session is saved back into the client's cookies.
        """
        if self._cookies is None:
            raise TypeError(
                "Cookies are disabled. Create a client with 'use_cookies=True' to use"
                " session_transaction."
            )
        app: t.Any = self.application
        ctx = app.test_request_context(*args, **kwargs)
        self._add_cookies(ctx.request.environ, None)
        # The request was built before the cookies were added; rebuild it.
        ctx = app.request_context(ctx.request.environ)
        interface = app.session_interface
        with ctx:
            session = interface.open_session(app, ctx.request)
        if session is None:
            raise RuntimeError(
                "Session backend did not open a session. Check the configuration: a"
                " SECRET_KEY is needed for the default signed-cookie sessions."
            )
        yield session
        if interface.is_null_session(session):
            return
        response = app.response_class()
        with ctx:
            interface.save_session(app, session, response)
        self._update_cookies(ctx.request.environ, response.headers.items())

    # -- requests -------------------------------------------------------------

    def _environ_from_args(self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> WSGIEnviron:
        if not kwargs and len(args) == 1:
            arg = args[0]
            environ: WSGIEnviron | None = None
            if isinstance(arg, EnvironBuilder):
                environ = arg.get_environ()
            elif isinstance(arg, dict):
                environ = dict(arg)
            elif isinstance(getattr(arg, "environ", None), dict):
                environ = dict(arg.environ)
            if environ is not None:
                for key, value in self.environ_base.items():
                    environ.setdefault(key, value)
                environ.setdefault("wsgi.input", io.BytesIO())
                return environ
        base = {**self.environ_base, **(kwargs.pop("environ_base", None) or {})}
        builder = EnvironBuilder(self.application, *args, environ_base=base, **kwargs)
        try:
            return builder.get_environ()
        finally:
            builder.close()

    def open(
        self,
        *args: t.Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: t.Any,
    ) -> TestResponse:
        """Send a request and return the response.

        Takes a path and :class:`EnvironBuilder` keyword arguments, an
        :class:`EnvironBuilder`, or a WSGI environ dict. ``buffered`` reads the
        whole body before returning; ``follow_redirects`` follows 3xx
        responses, recording the earlier ones in ``response.history``.
        """
        environ = self._environ_from_args(args, kwargs)
        # Contexts kept from an earlier request must not leak into this one.
        self._pop_preserved()
        explicit_cookie = environ.get("HTTP_COOKIE")
        try:
            response = self._run(environ, buffered, explicit_cookie)
            if follow_redirects:
                response = self._follow(response, buffered, explicit_cookie)
        finally:
            # Also after an error the app let through, so it can be inspected.
            self._push_preserved()
        # Plain WSGI apps get a response that has TestResponse's attributes
        # without being a subclass; the annotation says what callers may use.
        return t.cast(TestResponse, response)

    def _run(self, environ: WSGIEnviron, buffered: bool, explicit_cookie: str | None) -> t.Any:
        self._add_cookies(environ, explicit_cookie)
        if self.preserve_context:
            environ[PRESERVE_CONTEXT_KEY] = self._new_contexts.append
        else:
            # A reused environ may still carry the key from an earlier request.
            environ.pop(PRESERVE_CONTEXT_KEY, None)
        stream = environ.get("wsgi.input")
        try:
            body_start: int | None = stream.tell() if stream is not None else None
        except (AttributeError, OSError, ValueError):
            body_start = None
        body, status, headers = run_wsgi_app(self.application, environ, buffered)
        self._update_cookies(environ, headers)
        response = self.response_wrapper(body, status=status, headers=headers)
        response._test_environ = environ
        response._test_app = self.application
        response._test_body_start = body_start
        json_provider = getattr(self.application, "json", None)
        if json_provider is not None and hasattr(response, "json_module"):
            response.json_module = json_provider
        return response

    def _follow(self, response: t.Any, buffered: bool, explicit_cookie: str | None) -> t.Any:
        history: list[t.Any] = []
        seen: set[tuple[str, int]] = set()
        while response.status_code in _REDIRECT_CODES:
            location = response.headers.get("Location")
            if not location:
                break
            # Read intermediate bodies whole so the app's cleanup runs now.
            response.get_data()
            response.close()
            entry = (location, response.status_code)
            if entry in seen:
                chain = " -> ".join(r.headers.get("Location", "?") for r in history)
                raise ClientRedirectError(
                    f"Redirect loop: a {response.status_code} redirect to {location!r} was"
                    f" already followed ({chain} -> {location}). Fix the redirects in the"
                    " app, or call without follow_redirects to inspect them."
                )
            if len(history) >= self.max_redirects:
                raise ClientRedirectError(
                    f"Followed {len(history)} redirects without reaching a final response"
                    f" (last: {response.status_code} to {location!r}). The app may be"
                    " redirecting in a loop; raise client.max_redirects if this is intended."
                )
            seen.add(entry)
            response.history = tuple(history)
            history.append(response)
            environ = self._redirect_environ(response, location)
            response = self._run(environ, buffered, explicit_cookie)
        response.history = tuple(history)
        return response

    def _redirect_environ(self, response: t.Any, location: str) -> WSGIEnviron:
        old: WSGIEnviron = response._test_environ
        target = urlsplit(urljoin(_environ_url(old), location))
        from_name = _host_name(_environ_host(old))
        to_name = _host_name(target.netloc) if target.netloc else from_name
        if to_name != from_name:
            if not (self.allow_subdomain_redirects and to_name.endswith("." + from_name)):
                what = "subdomain" if to_name.endswith("." + from_name) else "external server"
                raise RuntimeError(
                    f"The test client cannot follow a redirect to the {what} {to_name!r}"
                    f" (from {from_name!r}): it only talks to the app under test."
                    " Check response.location without follow_redirects instead."
                    + (
                        " Set client.allow_subdomain_redirects = True to follow it."
                        if what == "subdomain"
                        else ""
                    )
                )
        environ = {k: v for k, v in old.items() if k not in ("HTTP_COOKIE", PRESERVE_CONTEXT_KEY)}
        environ["wsgi.url_scheme"] = target.scheme or old.get("wsgi.url_scheme", "http")
        if target.netloc:
            environ["HTTP_HOST"] = target.netloc
            environ["SERVER_NAME"] = _host_name(target.netloc)
            port = target.port
            if port is None:
                port = 443 if environ["wsgi.url_scheme"] == "https" else 80
            environ["SERVER_PORT"] = str(port)
        full_path = unquote_to_bytes(target.path or "/").decode("latin-1")
        script = str(old.get("SCRIPT_NAME", ""))
        if script and (full_path == script or full_path.startswith(script + "/")):
            environ["PATH_INFO"] = full_path[len(script) :]
        else:
            environ["SCRIPT_NAME"] = ""
            environ["PATH_INFO"] = full_path
        environ["QUERY_STRING"] = target.query
        raw_uri = (target.path or "/") + (f"?{target.query}" if target.query else "")
        environ["REQUEST_URI"] = environ["RAW_URI"] = raw_uri
        if response.status_code in (307, 308):
            environ["wsgi.input"] = self._replay_body(response)
        else:
            # COMPAT: as browsers do, other redirects become a GET without a body.
            if environ.get("REQUEST_METHOD") != "HEAD":
                environ["REQUEST_METHOD"] = "GET"
            environ["wsgi.input"] = io.BytesIO()
            for key in ("CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"):
                environ.pop(key, None)
        return environ

    @staticmethod
    def _replay_body(response: t.Any) -> t.IO[bytes]:
        old = response._test_environ
        stream = old["wsgi.input"]
        start = response._test_body_start
        try:
            if start is None:
                raise OSError("position unknown")
            stream.seek(start)
            length = old.get("CONTENT_LENGTH")
            data = stream.read(int(length)) if length else stream.read()
        except (AttributeError, OSError, ValueError) as e:
            raise RuntimeError(
                f"Cannot repeat the request body for a {response.status_code} redirect:"
                f" the input stream can't be rewound ({e}). Pass the body as 'data'"
                " bytes instead of 'input_stream'."
            ) from e
        return io.BytesIO(data)

    # -- context preservation -------------------------------------------------

    def _pop_preserved(self) -> None:
        self._new_contexts.clear()
        ctx = self._pushed
        if ctx is not None:
            self._pushed = None
            ctx.pop()

    def _push_preserved(self) -> None:
        if not self._new_contexts:
            return
        # Only the last request's context is kept; earlier redirect hops are done.
        ctx = self._new_contexts[-1]
        self._new_contexts.clear()
        # A request context makes a fresh ``g`` when pushed; keep the one the
        # request used, so ``g`` can be inspected as in Flask.
        g = getattr(ctx, "g", None)
        ctx.push()
        if g is not None and getattr(ctx, "g", None) is not g:
            ctx.g = g  # type: ignore[attr-defined]  # request contexts have g
        self._pushed = ctx

    def __enter__(self) -> t.Self:
        if self.preserve_context:
            raise RuntimeError(
                "Cannot nest client invocations: this client is already inside a"
                " 'with client:' block. Use one block, or a second client."
            )
        self.preserve_context = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.preserve_context = False
        self._pop_preserved()

    # -- method helpers -------------------------------------------------------

    def get(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send a GET request; see :meth:`open`."""
        kwargs["method"] = "GET"
        return self.open(*args, **kwargs)

    def post(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send a POST request; see :meth:`open`."""
        kwargs["method"] = "POST"
        return self.open(*args, **kwargs)

    def put(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send a PUT request; see :meth:`open`."""
        kwargs["method"] = "PUT"
        return self.open(*args, **kwargs)

    def patch(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send a PATCH request; see :meth:`open`."""
        kwargs["method"] = "PATCH"
        return self.open(*args, **kwargs)

    def delete(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send a DELETE request; see :meth:`open`."""
        kwargs["method"] = "DELETE"
        return self.open(*args, **kwargs)

    def head(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send a HEAD request; see :meth:`open`."""
        kwargs["method"] = "HEAD"
        return self.open(*args, **kwargs)

    def options(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send an OPTIONS request; see :meth:`open`."""
        kwargs["method"] = "OPTIONS"
        return self.open(*args, **kwargs)

    def trace(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send a TRACE request; see :meth:`open`."""
        kwargs["method"] = "TRACE"
        return self.open(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.application!r}>"


#: Flask's name for the test client.
FlaskClient = ErlenClient


def test_client_for(app: WSGIApp, use_cookies: bool = True, **kwargs: t.Any) -> ErlenClient:
    """A client for ``app`` whose responses subclass the app's ``response_class``.

    What ``app.test_client()`` does; an app's ``test_client_class`` wins if set.
    """
    cls = getattr(app, "test_client_class", None) or ErlenClient
    return t.cast(ErlenClient, cls(app, None, use_cookies, **kwargs))


test_client_for.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
