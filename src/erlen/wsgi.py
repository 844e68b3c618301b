"""The WSGI adapter: a WSGI environ in, an :mod:`erlen.http` request out, and back.

It knows PEP 3333 and nothing of apps, blueprints or hooks: the app calls
:func:`request_from_environ` and :func:`send_response` around its pipeline.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from .http.exceptions import BadRequestKeyError
from .http.headers import Headers
from .http.parsing import _MAX_INT_DIGITS
from .http.request import Request
from .http.request import _BoundedInput

if t.TYPE_CHECKING:
    from .http.response import Response

_R = t.TypeVar("_R", bound=Request)

# COMPAT: two headers live outside the HTTP_ namespace in a WSGI environ.
_UNPREFIXED = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}
_NO_BODY_STATUS = frozenset({204, 304})
# Header name as the app spells it ("Content-Type") -> its environ key
# ("CONTENT_TYPE"). Bounded: a name may come from the client.
_environ_keys: dict[str, str] = {}


class EnvironHeaders(Headers):
    """The request headers of a WSGI environ, read straight from it (read-only).

    Nothing is copied when a request starts; a lookup reads one environ key.
    """

    __slots__ = ("environ",)

    def __init__(self, environ: cabc.Mapping[str, t.Any]) -> None:
        self.environ = environ

    @property
    def _list(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self)

    def _lookup(self, key: str) -> str | None:
        # PERF: an app asks for the same few names on every request; map each
        # to its environ key once (benchmarks/run.py --scenarios form,cookie).
        environ_key = _environ_keys.get(key)
        if environ_key is None:
            environ_key = _environ_key(key)
        value: str | None = self.environ.get(environ_key)
        if not value and environ_key in _UNPREFIXED:
            # COMPAT: some servers always set these two, empty when absent.
            return None
        return value

    def __getitem__(self, key: t.Any) -> t.Any:
        if not isinstance(key, str):
            return list(self)[key]
        value = self._lookup(key)
        if value is None:
            raise BadRequestKeyError(key)
        return value

    def get(
        self,
        key: str,
        default: t.Any = None,
        type: cabc.Callable[[str], t.Any] | None = None,
    ) -> t.Any:
        # PERF: _lookup inlined: request.headers.get is the lookup a request
        # makes most (benchmarks/run.py --scenarios form,cookie).
        environ_key = _environ_keys.get(key)
        if environ_key is None:
            environ_key = _environ_key(key)
        value = self.environ.get(environ_key)
        if not value and (value is None or environ_key in _UNPREFIXED):
            # COMPAT: some servers always set these two, empty when absent.
            return default
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: cabc.Callable[[str], t.Any] | None = None) -> list[t.Any]:
        value = self._lookup(key)
        if value is None:
            return []
        if type is None:
            return [value]
        try:
            return [type(value)]
        except (ValueError, TypeError):
            return []

    get_all = getlist

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def __iter__(self) -> cabc.Iterator[tuple[str, str]]:
        for key, value in self.environ.items():
            if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                yield key[5:].replace("_", "-").title(), value
            elif key in _UNPREFIXED and value:
                yield _UNPREFIXED[key], value

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return any(True for _ in self)

    def copy(self) -> Headers:
        return Headers(list(self))

    def _read_only(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise TypeError(
            "Request headers are read-only. Copy them first: headers = request.headers.copy()"
        )

    add = add_header = set = setlist = setdefault = extend = update = _read_only
    remove = pop = popitem = clear = __setitem__ = __delitem__ = _read_only


def _environ_key(name: str) -> str:
    # The environ key of a header name ("Content-Type" -> "CONTENT_TYPE").
    key = name.upper().replace("-", "_")
    if key not in _UNPREFIXED:
        key = "HTTP_" + key
    if len(_environ_keys) < 256:
        _environ_keys[name] = key
    return key


def _decode_path(value: str) -> str:
    # PEP 3333 gives paths as latin-1 strings of the raw bytes; URLs are UTF-8.
    return value.encode("latin-1").decode("utf-8", "replace")


# The keys request_from_environ reads from every environ, in the order of
# its fast path, and the value each takes when it is missing.
_ENVIRON_KEYS = (
    "REQUEST_METHOD",
    "wsgi.url_scheme",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
)
_ENVIRON_DEFAULTS = ("GET", "http", "", None, "", "", "")
_ports: dict[str | None, int | None] = {}
_request_init = Request.__init__
_new_object = object.__new__


def _port(value: str | None) -> int | None:
    # PERF: SERVER_PORT is one of a few strings; parse each once.
    if value is None:
        return None
    port = _ports.get(value, -1)
    if port == -1:
        port = int(value) if value.isdigit() and len(value) <= 5 else None
        if len(_ports) < 64:
            _ports[value] = port
    return port


def request_from_environ(
    environ: dict[str, t.Any],
    request_class: type[_R] = Request,  # type: ignore[assignment]
) -> _R:
    """Build a request from a WSGI environ; ``request.environ`` keeps the environ."""
    # PERF: runs for every request; nothing is parsed here.
    get = environ.get
    try:
        # PERF: subscripts, not get(): ~300 instructions less for the keys
        # PEP 3333 requires (and QUERY_STRING, which servers set anyway)
        # (benchmarks/instructions.py hello).
        method = environ["REQUEST_METHOD"]
        scheme = environ["wsgi.url_scheme"]
        server_name = environ["SERVER_NAME"]
        port_value = environ["SERVER_PORT"]
        script_name = environ["SCRIPT_NAME"]
        path = environ["PATH_INFO"]
        query = environ["QUERY_STRING"]
    except KeyError:
        # An incomplete environ (a hand-made one in a test): the same keys,
        # each with its default.
        method, scheme, server_name, port_value, script_name, path, query = map(
            get, _ENVIRON_KEYS, _ENVIRON_DEFAULTS
        )
    if script_name and not script_name.isascii():  # PERF: usually empty
        script_name = _decode_path(script_name)
    if not path:
        path = "/"
    elif not path.isascii():
        path = _decode_path(path)
    # The body, cut at Content-Length; None when there is none or its length
    # is unknown. An invalid Content-Length gets no stream: the Request
    # reports it as a 400.
    # PERF: a request without Content-Length (most of them) reads no more keys.
    stream: t.IO[bytes] | None = None
    length = get("CONTENT_LENGTH")
    content_length = None
    unbounded = None
    if length:
        stream = get("wsgi.input")
        if stream is not None:
            # PERF: parsing._to_int's rule written out, a Python call less
            # per request with a body (~400 instructions, benchmarks/
            # instructions.py form): a plain decimal integer of at most 19
            # digits, else None (a 400 when the body is read).
            content_length = (
                int(length)
                if length.isdigit() and length.isascii() and len(length) <= _MAX_INT_DIGITS
                else None
            )
            if content_length is not None and request_class.__init__ is _request_init:
                # PERF: the Request cuts the stream at Content-Length when it
                # is first used (Request.input_stream), ~5.7k instructions
                # that a urlencoded form never pays (benchmarks/
                # instructions.py form). A class with its own __init__ gets
                # the cut stream as before.
                unbounded = (stream, content_length)
                stream = None
            elif content_length is not None:
                # PERF: no t.cast(t.IO[bytes], ...): it subscripts a generic
                # at run time on every request.
                bounded: t.Any = _BoundedInput(stream, content_length)
                stream = bounded
            else:
                stream = None
    elif get("wsgi.input_terminated"):
        stream = get("wsgi.input")
    # PERF: _port's cache and EnvironHeaders.__init__ inlined: a Python call
    # each, ~1% of the hello scenario's instructions (callgrind).
    port = _ports.get(port_value, -1)
    if port == -1:
        port = _port(port_value)
    headers = _new_object(EnvironHeaders)
    headers.environ = environ
    request = request_class(
        method,
        scheme,
        (server_name, port),
        script_name,
        path,
        query.encode("latin-1") if query else b"",
        headers,
        get("REMOTE_ADDR"),
        stream,
    )
    request.environ = environ
    if unbounded is not None:
        request._unbounded_input = unbounded
    if unbounded is not None and request_class._direct_form:
        # PERF: the length was just parsed; Request.content_length would parse
        # it again (the same checks, plus Transfer-Encoding: chunked, which
        # makes it None). The Content-Type of a body is read here too, for
        # the form and JSON checks: ~1k instructions less than through
        # EnvironHeaders.get (benchmarks/instructions.py form). Only for a
        # class that keeps Request's own __init__, content_length and
        # content_type, whose values these would otherwise hide.
        encoding = get("HTTP_TRANSFER_ENCODING")
        if encoding is None or "chunked" not in encoding.lower():
            values = request.__dict__
            values["content_length"] = content_length
            # COMPAT: EnvironHeaders.get's rule: an empty CONTENT_TYPE is none.
            values["content_type"] = get("CONTENT_TYPE") or None
    return request


class _ClosingIterator:
    """The body iterable handed to the server; its ``close`` closes the response."""

    __slots__ = ("_iterator", "_close")

    def __init__(self, iterable: cabc.Iterable[bytes], close: cabc.Callable[[], None]) -> None:
        self._iterator = iter(iterable)
        self._close = close

    def __iter__(self) -> cabc.Iterator[bytes]:
        # PERF: the server iterates the body's own iterator, with no Python
        # call per chunk (a 100-chunk body: 77.6k -> 10.6k instructions); PEP 3333
        # servers call close() on this object, which is what closes the response.
        return self._iterator

    def __next__(self) -> bytes:
        return next(self._iterator)

    def close(self) -> None:
        self._close()


class _ResponseFile:
    """A whole-file body's file as a server's ``wsgi.file_wrapper`` gets it.

    Reads, ``fileno`` (for sendfile), ``seek`` and ``tell`` go to the file;
    ``close`` closes the response, which closes the file and runs its
    ``call_on_close`` functions.
    """

    def __init__(self, file: t.IO[bytes], close: cabc.Callable[[], None]) -> None:
        self._file = file
        self.close = close

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._file, name)


def send_response(
    response: Response,
    environ: dict[str, t.Any],
    start_response: cabc.Callable[..., t.Any],
) -> cabc.Iterable[bytes]:
    """Start the WSGI response and return the body iterable (closing the response with it)."""
    # PERF: the status as stored and the header list copied without a method
    # call, unless a subclass redefines status, status_code or to_wsgi_list
    # (with the buffered-body check below: 4.5k -> 3.3k instructions per
    # response, benchmarks/ hello).
    headers = response.headers
    plain = response._plain_class
    if plain:
        status_code = response._status_code
        start_response(
            response._status,
            headers._list[:] if type(headers) is Headers else headers.to_wsgi_list(),
        )
    else:
        start_response(response.status, headers.to_wsgi_list())
        status_code = response.status_code
    body: t.Any = response.response
    if status_code in _NO_BODY_STATUS or environ.get("REQUEST_METHOD") == "HEAD":
        # COMPAT: HEAD keeps the headers (Content-Length included) but sends no body.
        response.close()
        return []
    # PERF: a body the response buffered itself (bytes only) with nothing to
    # close goes to the server as-is. Other lists may hold str items
    # (Response(["a", "b"])): those are encoded below, as PEP 3333 wants bytes.
    own = response._plain_body
    if own is not None and body is own and plain:
        return body
    if getattr(body, "is_whole", False):
        # A whole file (send_file): the server gets it in its own file wrapper,
        # which servers recognise (isinstance) to use sendfile, around a file
        # whose close() closes the response (and so runs call_on_close). This
        # is the one place a file meets the server's wrapper: send_file makes
        # erlen's own FileWrapper, so a range (206) or a 304 works the same
        # under every server.
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper is not None:
            file = _ResponseFile(body.file, response.close)
            return file_wrapper(file, getattr(body, "buffer_size", 8192))  # type: ignore[no-any-return]
    if not response.direct_passthrough:
        body = response.iter_encoded()
    return _ClosingIterator(body, response.close)
