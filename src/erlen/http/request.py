"""The incoming request: method, URL parts, headers and body, parsed on demand.

A :class:`Request` is built from a transport-neutral description (method,
scheme, server, root path, path, query string, headers and a body stream), so
the WSGI and the ASGI adapters both build the same object. Everything beyond
those values (arguments, cookies, form, JSON, typed header values) is parsed
on first access and cached.
"""

from __future__ import annotations

import collections.abc as cabc
import io
import json
import re
import typing as t
from types import MappingProxyType
from types import TracebackType

from ._internal import UPPERCASE_METHODS
from ._internal import cached_property
from ._internal import store_in_instance
from .datastructures import CombinedMultiDict
from .datastructures import FileStorage
from .datastructures import ImmutableMultiDict
from .datastructures import MultiDict
from .datastructures import _dict_new
from .datastructures import _dict_update
from .exceptions import BadRequest
from .exceptions import ClientDisconnected
from .exceptions import RequestEntityTooLarge
from .exceptions import SecurityError
from .exceptions import UnsupportedMediaType
from .forms import _parse_urlencoded
from .forms import _qs_to_multidict
from .forms import pairs_to_multidict
from .forms import parse_form_data
from .headers import Headers
from .parsing import _to_int
from .parsing import parse_cookie
from .parsing import parse_date
from .parsing import parse_list_header
from .parsing import parse_options_header
from .parsing import parse_qsl
from .parsing import url_quote

if t.TYPE_CHECKING:
    from datetime import datetime

    from .values import Accept
    from .values import Authorization
    from .values import CharsetAccept
    from .values import ETags
    from .values import HeaderSet
    from .values import IfRange
    from .values import LanguageAccept
    from .values import MIMEAccept
    from .values import Range
    from .values import RequestCacheControl
    from .values import UserAgent

__all__ = ["Request"]

_URLENCODED = "application/x-www-form-urlencoded"
_FORM_MIMETYPES = frozenset({_URLENCODED, "multipart/form-data"})
# What the direct urlencoded path in Request._load_form_data stands in for: a
# subclass overriding any of these takes the general path instead.
_BODY_ATTRIBUTES = (
    "content_type",
    "_parsed_content_type",
    "mimetype",
    "mimetype_params",
    "content_length",
    "stream",
    "input_stream",
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# SECURITY: a Host header may only hold what a host[:port] can; "/", "?",
# "#", "@", "\\" and whitespace would let it rewrite the URLs built from it.
_HOST_RE = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=]*(?::[0-9]*)?|\[[0-9A-Fa-f:.]+\](?::[0-9]*)?")
# Characters kept as they are when building request.url (COMPAT: Werkzeug's).
_PATH_SAFE = "/!$&'()*+,:;=@%~"
_QUERY_SAFE = ":&%=+$!*'(),/?@;~"
_CHUNK_SIZE = 64 * 1024


class _EmptyStream(io.RawIOBase):
    """A body of zero bytes; one shared instance stands for every bodiless request."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        return 0

    def read(self, size: int | None = -1) -> bytes:
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass  # shared: closing it must not break other requests


_EMPTY_STREAM: t.IO[bytes] = t.cast(t.IO[bytes], _EmptyStream())


class _BoundedInput(io.RawIOBase):
    """A server's body stream cut at Content-Length: reading to the end never blocks."""

    def __init__(self, stream: t.IO[bytes], length: int) -> None:
        self._stream = stream
        self._remaining = length

    def readable(self) -> bool:
        return True

    def _take(self, size: int | None) -> int:
        if size is None or size < 0 or size > self._remaining:
            return self._remaining
        return size

    def read(self, size: int | None = -1) -> bytes:
        # PERF: _take and _check inlined: a form body is read through here
        # (benchmarks/run.py --scenarios form).
        if size is None or size < 0:
            return self.readall()
        remaining = self._remaining
        want = size if size < remaining else remaining
        if want == 0:
            return b""
        data = self._stream.read(want)
        if not data:
            self._check(data, want)
        self._remaining = remaining - len(data)
        return data

    def readall(self) -> bytes:
        """The whole rest: one read of the server's stream, more only when it
        gives less (a socket may), never past the end of the body."""
        chunks = []
        while self._remaining:
            chunks.append(self.read(self._remaining))
        return b"".join(chunks)

    def readline(self, size: int | None = -1) -> bytes:
        want = self._take(size)
        if want == 0:
            return b""
        data = self._stream.readline(want)
        self._check(data, 1)
        return data

    def readinto(self, buffer: t.Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _check(self, data: bytes, wanted: int) -> None:
        if not data and wanted:
            raise ClientDisconnected(
                f"The client disconnected with {self._remaining} bytes of the declared"
                " Content-Length still unsent."
            )
        self._remaining -= len(data)


class _LimitedStream(io.RawIOBase):
    """Reads through to ``inner`` and raises 413 past ``limit`` bytes.

    Used when the body length is unknown (chunked) and MAX_CONTENT_LENGTH is
    set: at most ``limit + 1`` bytes are ever read from ``inner``.
    """

    def __init__(self, inner: t.IO[bytes], limit: int) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def _count(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._limit:
            raise RequestEntityTooLarge(
                f"The request body is over the limit of {self._limit} bytes"
                " (MAX_CONTENT_LENGTH). Send a smaller body or raise MAX_CONTENT_LENGTH."
            )
        return data

    def _allowed(self, size: int | None) -> int:
        # One byte past the limit is enough to know it was exceeded.
        left = self._limit + 1 - self._read
        return left if size is None or size < 0 else min(size, left)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            chunks: list[bytes] = []
            while True:
                chunk = self.read(_CHUNK_SIZE)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        return self._count(self._inner.read(self._allowed(size)))

    def readinto(self, buffer: t.Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self._inner.readline(self._allowed(size)))


class _ArgsProperty:
    """The query string's arguments.

    :raises BadRequest: bad percent-encoding or invalid UTF-8 (on first access).
    """

    # PERF: Request.args is a cached_property written as its own descriptor:
    # the parse runs in __get__, one Python call per first access where a
    # cached_property makes two (its __get__, then the function): ~600
    # instructions (benchmarks/instructions.py query). Like a cached_property,
    # the value is then an instance attribute: set or delete it at will.

    @t.overload
    def __get__(self, request: None, owner: type | None = None) -> _ArgsProperty: ...
    @t.overload
    def __get__(self, request: Request, owner: type | None = None) -> ImmutableMultiDict: ...

    def __get__(self, request: Request | None, owner: type | None = None) -> t.Any:
        if request is None:
            return self
        query = request.query_string
        if not query:
            args = _empty_parameters(request.parameter_storage_class)
        elif type(query) is bytes:
            args = _qs_to_multidict(query, request.parameter_storage_class)
        else:
            args = pairs_to_multidict(parse_qsl(query), request.parameter_storage_class)
        store_in_instance(request, "args", args)
        return args


class _FormProperty:
    """Fields of a urlencoded or multipart body; empty for other content types.

    :raises RequestEntityTooLarge: a body or form limit was hit.
    :raises BadRequest: the body is malformed.
    """

    # PERF: Request.form is a cached_property written as its own descriptor,
    # as Request.args is (~600 instructions, benchmarks/instructions.py form).

    @t.overload
    def __get__(self, request: None, owner: type | None = None) -> _FormProperty: ...
    @t.overload
    def __get__(self, request: Request, owner: type | None = None) -> ImmutableMultiDict: ...

    def __get__(self, request: Request | None, owner: type | None = None) -> t.Any:
        if request is None:
            return self
        d = request.__dict__
        if request._direct_form and "_cached_data" not in d:
            # PERF: a urlencoded body of known length within MAX_CONTENT_LENGTH
            # (what a browser form sends) goes straight from the input stream
            # to the parser: no options parsing and no `stream` checks, which
            # would only hand back this same stream. With the faster parsing
            # behind it: 206k -> 125k instructions per request (callgrind,
            # benchmarks/run.py --scenarios form).
            # Every other body, and a subclass that overrides one of the body
            # attributes, takes the general path in _load_form_data.
            # The WSGI adapter sets content_type (and content_length) for a
            # request with a body: no Python call for either.
            if request.content_type == _URLENCODED:
                length = request.content_length
                if length is not None:
                    limit, max_memory, max_parts = request._form_limits()
                    if limit is None or length <= limit:
                        unbounded = request._unbounded_input
                        if (
                            unbounded is not None
                            and unbounded[1] == length
                            and "input_stream" not in d
                            and (max_memory is None or length <= max_memory)
                        ):
                            # The body is untouched: read it from the server's
                            # stream, exactly Content-Length bytes, with no
                            # input_stream made to bound the read.
                            stream = unbounded[0]
                            body = stream.read(length)
                            if body is None or len(body) < length:
                                body = _read_rest(stream, body, length)
                            d["input_stream"] = _EMPTY_STREAM  # read to its end
                            form = _qs_to_multidict(
                                body, ImmutableMultiDict, "form body", max_parts
                            )
                            # PERF: a urlencoded body has no files; `files` is
                            # made empty when first asked for (_load_form_data),
                            # not here: ~1k instructions (benchmarks/
                            # instructions.py form).
                            d["_no_files"] = True
                            d["form"] = form
                            return form
                        form, d["files"] = _parse_urlencoded(
                            request.input_stream, length, max_memory, max_parts
                        )
                        d["form"] = form
                        return form
        request._load_form_data()
        return d["form"]


class Request:
    """An HTTP request as a view receives it.

    Built by the WSGI and ASGI adapters from plain values. ``stream`` is the
    body, already bounded by the adapter: reading it to EOF ends at the end of
    the body. The three limit attributes are class attributes here; the app's
    request class reads them from its config instead.
    """

    #: Largest body, in bytes, that ``data``, ``form`` and ``get_json`` will
    #: read (``MAX_CONTENT_LENGTH``); ``None`` for no limit.
    max_content_length: int | None = None
    #: Total bytes of non-file form fields (``MAX_FORM_MEMORY_SIZE``).
    max_form_memory_size: int | None = 500_000
    #: Number of form fields or multipart parts (``MAX_FORM_PARTS``).
    max_form_parts: int | None = 1000
    #: Uploaded files past this many bytes are spooled to a temporary file.
    form_spool_threshold: int = 500 * 1024
    #: Host names ``host`` may be (``TRUSTED_HOSTS``); ``None`` trusts any.
    #: ``".example.com"`` matches example.com and its subdomains.
    trusted_hosts: list[str] | None = None
    #: The WSGI environ, set by the WSGI adapter on each instance.
    environ: cabc.Mapping[str, t.Any] = MappingProxyType({})
    #: The ASGI scope, set by the ASGI adapter on each instance.
    scope: cabc.MutableMapping[str, t.Any] | None = None
    #: The class of ``args``, ``form``, ``files`` and ``cookies``.
    parameter_storage_class: type[ImmutableMultiDict] = ImmutableMultiDict
    # Whether the class keeps the body attributes the direct form path skips.
    _direct_form: t.ClassVar[bool] = True
    # Whether close() has work to do: files were parsed, or a subclass has its
    # own close(). PERF: the end of every request reads this one attribute.
    _needs_close: bool = False
    #: The body as the server gives it and its declared length, set by an
    #: adapter instead of a ``stream``: ``input_stream`` is then cut at that
    #: length when first used, and the direct form path reads it without one.
    _unbounded_input: tuple[t.IO[bytes], int] | None = None

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._direct_form = all(
            getattr(cls, name) is getattr(Request, name) for name in _BODY_ATTRIBUTES
        )
        cls._needs_close = cls.close is not Request.close

    def __init__(
        self,
        method: str,
        scheme: str,
        server: tuple[str, int | None] | None,
        root_path: str,
        path: str,
        query_string: bytes,
        headers: Headers,
        remote_addr: str | None = None,
        stream: t.IO[bytes] | None = None,
    ) -> None:
        # PERF: this runs for every request: assign, never parse. Everything
        # else is a cached_property computed on first use. The method and path
        # checks below cost ~1.1k instructions less than method.upper() and
        # `path[:1] == "/" and path[1:2] != "/"` (slicing and method calls;
        # benchmarks/instructions.py hello).
        self.method = method if method in UPPERCASE_METHODS else method.upper()
        self.scheme = scheme
        self.server = server
        # COMPAT: Werkzeug strips the trailing slash of the root path and makes
        # the path start with exactly one slash ("//x" is "/x"). Past the
        # first test, path[0] exists; past the third, so does path[1].
        self.root_path = root_path.rstrip("/") if root_path else ""
        if path != "/" and (not path or path[0] != "/" or path[1] == "/"):
            path = "/" + path.lstrip("/")
        self.path = path
        self.query_string = query_string
        self.headers = headers
        self.remote_addr = remote_addr
        if stream is not None:
            self.input_stream = stream

    @cached_property
    def input_stream(self) -> t.IO[bytes]:
        """The body as given, ending at the end of the body; empty when there is none."""
        # PERF: cutting the server's stream at Content-Length costs an io
        # object (~5.7k instructions with its finalizer); a urlencoded form
        # never needs it (benchmarks/instructions.py form).
        unbounded = self._unbounded_input
        if unbounded is None:
            return _EMPTY_STREAM
        return t.cast(t.IO[bytes], _BoundedInput(*unbounded))

    def __repr__(self) -> str:
        try:
            url = self.url
        except Exception:
            url = "(invalid URL)"
        return f"<{type(self).__name__} {url!r} [{self.method}]>"

    # -- URL -----------------------------------------------------------------

    @property
    def script_root(self) -> str:
        """The prefix the app is mounted under, without a trailing slash."""
        return self.root_path

    @cached_property
    def full_path(self) -> str:
        """The path and query string: ``/p?x=1`` (``/p?`` with no query, as in Flask)."""
        return f"{self.path}?{self.query_string.decode('utf-8', 'replace')}"

    @cached_property
    def host(self) -> str:
        """The host the request was sent to, with a non-default port.

        From the Host header, else the server address. When ``trusted_hosts``
        is set, a host not in it raises :class:`SecurityError` (400).
        """
        host = self.headers.get("Host")
        if host:
            # COMPAT: Werkzeug drops the scheme's default port from the header.
            default = _DEFAULT_PORTS.get(self.scheme)
            if default is not None and host.endswith(f":{default}"):
                host = host[: -len(str(default)) - 1]
            if _HOST_RE.fullmatch(host) is None:
                raise SecurityError(
                    f"The Host header {host[:100]!r} is not a valid host name."
                    " Send a host name or address, with an optional port."
                )
        elif self.server is not None:
            name, port = self.server
            host = f"[{name}]" if ":" in name and not name.startswith("[") else name
            if port is not None and port != _DEFAULT_PORTS.get(self.scheme):
                host = f"{host}:{port}"
        else:
            host = ""
        if self.trusted_hosts is not None and not _host_is_trusted(host, self.trusted_hosts):
            raise SecurityError(
                f"The host {host!r} is not trusted. Add it to TRUSTED_HOSTS"
                " or send the request to a trusted host."
            )
        return host

    @cached_property
    def host_url(self) -> str:
        """``scheme://host/``."""
        return f"{self.scheme}://{self.host}/"

    @cached_property
    def root_url(self) -> str:
        """``scheme://host/root_path/``: the URL the app is mounted at."""
        return f"{self.scheme}://{self.host}{url_quote(self.root_path, _PATH_SAFE)}/"

    @property
    def url_root(self) -> str:
        """Alias of :attr:`root_url`."""
        return self.root_url

    @cached_property
    def base_url(self) -> str:
        """The URL without the query string, IRI-safe (percent-encoded)."""
        return (
            f"{self.scheme}://{self.host}{url_quote(self.root_path, _PATH_SAFE)}"
            f"{url_quote(self.path, _PATH_SAFE)}"
        )

    @cached_property
    def url(self) -> str:
        """The full URL, IRI-safe: non-ASCII and unsafe characters percent-encoded."""
        if not self.query_string:
            return self.base_url
        return f"{self.base_url}?{url_quote(self.query_string, _QUERY_SAFE)}"

    @property
    def is_secure(self) -> bool:
        """Whether the request came over TLS (``https`` or ``wss``)."""
        return self.scheme in ("https", "wss")

    # -- query string and cookies ---------------------------------------------

    #: The query string's arguments (parsed on first access, then cached).
    args = _ArgsProperty()

    @cached_property
    def cookies(self) -> ImmutableMultiDict:
        """The cookies the client sent, by name."""
        header = self.headers.get("Cookie")
        if not header:
            return _empty_parameters(self.parameter_storage_class)
        if type(header) is str and header.isascii() and '"' not in header:
            return _cookies_to_multidict(header, self.parameter_storage_class)
        return pairs_to_multidict(parse_cookie(header), self.parameter_storage_class)

    # -- body --------------------------------------------------------------------

    @cached_property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header as sent."""
        return self.headers.get("Content-Type")

    @cached_property
    def _parsed_content_type(self) -> tuple[str, dict[str, str]]:
        mimetype, options = parse_options_header(self.content_type)
        return mimetype.lower(), options

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lowercased (``application/json``)."""
        return self._parsed_content_type[0]

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters (``{"charset": "utf-8"}``)."""
        return self._parsed_content_type[1]

    @cached_property
    def content_length(self) -> int | None:
        """The body length from ``Content-Length``; None when absent, invalid or chunked."""
        return _content_length(self.headers)

    @cached_property
    def content_encoding(self) -> str | None:
        """The ``Content-Encoding`` header (``gzip``...)."""
        return self.headers.get("Content-Encoding")

    @property
    def want_form_data_parsed(self) -> bool:
        """Whether the body may hold form data: a Content-Type was sent.

        Only the two form content types are actually read by the form parser.
        """
        return bool(self.headers.get("Content-Type"))

    @cached_property
    def stream(self) -> t.IO[bytes]:
        """The body as a stream, within MAX_CONTENT_LENGTH.

        Reading it directly bypasses form parsing (and ``data``), as in Werkzeug.

        :raises RequestEntityTooLarge: the declared length is over the limit.
        :raises BadRequest: the ``Content-Length`` header is invalid.
        """
        length = self.content_length
        if length is None and self.headers.get("Content-Length") is not None:
            if not _is_chunked(self.headers):
                raise BadRequest(
                    f"The Content-Length header {self.headers.get('Content-Length')!r} is"
                    " not a non-negative integer (or is repeated with different values)."
                    " Send the body's length in bytes."
                )
        limit = self.max_content_length
        if limit is None:
            return self.input_stream
        if length is not None:
            if length > limit:
                raise RequestEntityTooLarge(
                    f"The request body is {length} bytes, over the limit of {limit} bytes"
                    " (MAX_CONTENT_LENGTH). Send a smaller body or raise MAX_CONTENT_LENGTH."
                )
            # The adapter already ends the stream at Content-Length.
            return self.input_stream
        return t.cast(t.IO[bytes], _LimitedStream(self.input_stream, limit))

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> t.Any:
        """Read the whole body (within MAX_CONTENT_LENGTH), as bytes or text.

        With ``parse_form_data``, form bodies are parsed first, and so the
        result is empty for them. With ``cache``, later calls (and ``form``)
        reuse the bytes read here.
        """
        data: bytes | None = self.__dict__.get("_cached_data")
        if data is None:
            if parse_form_data:
                self._load_form_data()
            data = self.stream.read()
            if cache:
                self.__dict__["_cached_data"] = data
        if as_text:
            return data.decode("utf-8", "replace")
        return data

    @cached_property
    def data(self) -> bytes:
        """The body as bytes; empty for form bodies once the form is parsed."""
        return t.cast(bytes, self.get_data(parse_form_data=True))

    def _load_form_data(self) -> None:
        # Parse form and files once; both land in the instance __dict__.
        d = self.__dict__
        if "_no_files" in d and "files" not in d:
            # The direct urlencoded path in `form` read the body: no files.
            d["files"] = _dict_new(ImmutableMultiDict)
        if "form" in d and "files" in d:
            return
        mimetype = self.mimetype
        if mimetype in _FORM_MIMETYPES:
            cached = d.get("_cached_data")
            stream = io.BytesIO(cached) if cached is not None else self.stream
            form, files = parse_form_data(
                stream,
                mimetype,
                self.mimetype_params,
                self.content_length,
                max_form_memory_size=self.max_form_memory_size,
                max_form_parts=self.max_form_parts,
                spool_threshold=self.form_spool_threshold,
            )
            if files:
                self._needs_close = True
        else:
            form = _empty_parameters(self.parameter_storage_class)
            files = _empty_parameters(self.parameter_storage_class)
        d["form"] = form
        d["files"] = files

    def _form_limits(self) -> tuple[int | None, int | None, int | None]:
        # max_content_length, max_form_memory_size and max_form_parts; the
        # app's request class reads all three from the config at once.
        return self.max_content_length, self.max_form_memory_size, self.max_form_parts

    #: Fields of a urlencoded or multipart body (parsed on first access, then cached).
    form = _FormProperty()

    @cached_property
    def files(self) -> ImmutableMultiDict:
        """Uploaded files of a multipart body, as :class:`FileStorage` values."""
        self._load_form_data()
        return t.cast(ImmutableMultiDict, self.__dict__["files"])

    @cached_property
    def values(self) -> CombinedMultiDict:
        """``args`` and ``form`` together (``form`` left out for GET requests)."""
        # COMPAT: Werkzeug >= 2.0 ignores the body of a GET here.
        sources: list[MultiDict] = [self.args]
        if self.method != "GET":
            sources.append(self.form)
        return CombinedMultiDict(sources)

    def close(self) -> None:
        """Close the uploaded files; the app calls this at the end of the request."""
        files = self.__dict__.get("files")
        if files:
            for _, value in files.items(multi=True):
                if isinstance(value, FileStorage):
                    value.close()

    def __enter__(self) -> Request:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- JSON ------------------------------------------------------------------

    @property
    def is_json(self) -> bool:
        """Whether the body is JSON: ``application/json`` or ``application/*+json``."""
        mt = self.mimetype
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    @property
    def json(self) -> t.Any:
        """The parsed JSON body: ``get_json()`` (415/400 on a wrong type or bad JSON)."""
        return self.get_json()

    def json_loads(self, data: bytes) -> t.Any:
        """Decode a JSON body; the app layer overrides this with its JSON provider."""
        return json.loads(data)

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> t.Any:
        """Parse the body as JSON.

        :param force: parse whatever the content type says.
        :param silent: return None instead of raising on a wrong content type
            or invalid JSON.
        :param cache: keep the result for later calls.
        :raises UnsupportedMediaType: the content type is not JSON (415).
        :raises BadRequest: the body is not valid JSON (400).
        """
        # COMPAT: Flask/Werkzeug keep separate cached results for silent and
        # non-silent calls.
        cached: tuple[t.Any, t.Any] = self.__dict__.get("_cached_json", (..., ...))
        if cache and cached[silent] is not ...:
            return cached[silent]
        if not (force or self.is_json):
            if silent:
                return None
            return self.on_json_loading_failed(None)
        data = self.get_data(cache=cache)
        try:
            rv = self.json_loads(data)
        except (ValueError, RecursionError) as e:
            # SECURITY: deeply nested JSON raises RecursionError; it is the
            # client's error (400), not the server's.
            if silent:
                rv = None
                if cache:
                    self.__dict__["_cached_json"] = (cached[0], None)
            else:
                rv = self.on_json_loading_failed(e)
                if cache:
                    self.__dict__["_cached_json"] = (rv, cached[1])
        else:
            if cache:
                self.__dict__["_cached_json"] = (rv, rv)
        return rv

    def on_json_loading_failed(self, e: BaseException | None) -> t.Any:
        """Called when ``get_json`` cannot parse; raise, or return a value to use.

        ``e`` is None when the content type was not JSON (a 415), else the
        decoding error (a 400).
        """
        if e is not None:
            if isinstance(e, RecursionError):
                e = ValueError("the JSON is nested too deeply")
            raise BadRequest(f"Failed to decode JSON object: {e}")
        raise UnsupportedMediaType(
            "Did not attempt to load JSON data because the request Content-Type was"
            f" {self.content_type!r}, not 'application/json'. Send the body with"
            " 'Content-Type: application/json'."
        )

    # -- client and typed headers ------------------------------------------------

    @cached_property
    def access_route(self) -> list[str]:
        """``X-Forwarded-For`` addresses (client first), else ``[remote_addr]``.

        Only meaningful behind a trusted proxy; the header is client-controlled.
        """
        forwarded = self.headers.get("X-Forwarded-For")
        if forwarded is not None:
            return parse_list_header(forwarded)
        if self.remote_addr is not None:
            return [self.remote_addr]
        return []

    @cached_property
    def referrer(self) -> str | None:
        """The ``Referer`` header."""
        return self.headers.get("Referer")

    @cached_property
    def origin(self) -> str | None:
        """The ``Origin`` header."""
        return self.headers.get("Origin")

    @cached_property
    def user_agent(self) -> UserAgent:
        """The ``User-Agent`` header, wrapped."""
        from .values import UserAgent

        return UserAgent(self.headers.get("User-Agent"))

    @cached_property
    def authorization(self) -> Authorization | None:
        """The ``Authorization`` header, parsed; None when absent or unparsable."""
        from .values import Authorization

        return Authorization.from_header(self.headers.get("Authorization"))

    @cached_property
    def accept_mimetypes(self) -> MIMEAccept:
        """The ``Accept`` header, parsed."""
        from .values import MIMEAccept

        return MIMEAccept.from_header(self.headers.get("Accept"))

    @cached_property
    def accept_charsets(self) -> CharsetAccept:
        """The ``Accept-Charset`` header, parsed."""
        from .values import CharsetAccept

        return CharsetAccept.from_header(self.headers.get("Accept-Charset"))

    @cached_property
    def accept_encodings(self) -> Accept:
        """The ``Accept-Encoding`` header, parsed."""
        from .values import Accept

        return Accept.from_header(self.headers.get("Accept-Encoding"))

    @cached_property
    def accept_languages(self) -> LanguageAccept:
        """The ``Accept-Language`` header, parsed."""
        from .values import LanguageAccept

        return LanguageAccept.from_header(self.headers.get("Accept-Language"))

    @cached_property
    def cache_control(self) -> RequestCacheControl:
        """The ``Cache-Control`` header, parsed."""
        from .values import RequestCacheControl

        return RequestCacheControl.from_header(self.headers.get("Cache-Control"))

    @cached_property
    def pragma(self) -> HeaderSet:
        """The ``Pragma`` header as a set of values."""
        from .values import HeaderSet

        return HeaderSet.from_header(self.headers.get("Pragma"))

    @cached_property
    def if_match(self) -> ETags:
        """The ``If-Match`` header's entity tags."""
        from .values import ETags

        return ETags.from_header(self.headers.get("If-Match"))

    @cached_property
    def if_none_match(self) -> ETags:
        """The ``If-None-Match`` header's entity tags."""
        from .values import ETags

        return ETags.from_header(self.headers.get("If-None-Match"))

    @cached_property
    def if_range(self) -> IfRange:
        """The ``If-Range`` header: an entity tag or a date."""
        from .values import IfRange

        return IfRange.from_header(self.headers.get("If-Range"))

    @cached_property
    def range(self) -> Range | None:
        """The ``Range`` header, parsed; None when absent or invalid."""
        from .values import Range

        return Range.from_header(self.headers.get("Range"))

    @cached_property
    def date(self) -> datetime | None:
        """The ``Date`` header as an aware datetime."""
        return parse_date(self.headers.get("Date"))

    @cached_property
    def if_modified_since(self) -> datetime | None:
        """The ``If-Modified-Since`` header as an aware datetime."""
        return parse_date(self.headers.get("If-Modified-Since"))

    @cached_property
    def if_unmodified_since(self) -> datetime | None:
        """The ``If-Unmodified-Since`` header as an aware datetime."""
        return parse_date(self.headers.get("If-Unmodified-Since"))


def _empty_parameters(cls: type[ImmutableMultiDict]) -> ImmutableMultiDict:
    # PERF: an empty ImmutableMultiDict without its Python __init__ (which
    # does nothing for no arguments): ~1.5k instructions less for a request
    # without a query string or cookies that reads args or cookies.
    if cls is ImmutableMultiDict:
        empty: ImmutableMultiDict = _dict_new(cls)
        return empty
    return cls()


def _read_rest(stream: t.IO[bytes], data: bytes | None, length: int) -> bytes:
    # The rest of a ``length``-byte body after a short first read of it
    # (``data``; None from a non-blocking stream: nothing yet), from a stream
    # that may hold more. It goes on through _BoundedInput, which raises
    # ClientDisconnected when the body ends early.
    data = data or b""
    return data + _BoundedInput(stream, length - len(data)).readall()


def _cookies_to_multidict(header: str, cls: type[ImmutableMultiDict]) -> ImmutableMultiDict:
    # PERF: pairs_to_multidict(parse_cookie(header), cls) in one pass, for an
    # ASCII header without quotes: parse_cookie's own fast path, one list per
    # name, with no grouping unless a name repeats (benchmarks/run.py
    # --scenarios cookie).
    pieces = header.split(";")
    lists: dict[str, list[t.Any]] = {}
    for part in pieces:
        key, _, value = part.partition("=")
        lists[key.strip()] = [value.strip()]
    if len(lists) != len(pieces) or "" in lists:
        # A repeated name, or an empty one (parse_cookie skips those).
        return pairs_to_multidict(parse_cookie(header), cls)
    # PERF: cls._from_lists(lists) inlined, a classmethod call less (~450
    # instructions; benchmarks/instructions.py cookie).
    multidict = _dict_new(cls)
    _dict_update(multidict, lists)
    return multidict


def _host_is_trusted(host: str, trusted: list[str]) -> bool:
    # Exact names, or ".example.com" for example.com and its subdomains; ports
    # are ignored on both sides and names compare case-insensitively.
    name = _strip_port(host).lower()
    if not name:
        return False
    for ref in trusted:
        suffix = ref.startswith(".")
        ref = _strip_port(ref[1:] if suffix else ref).lower()
        if name == ref or (suffix and name.endswith("." + ref)):
            return True
    return False


def _strip_port(host: str) -> str:
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.partition(":")[0]


def _is_chunked(headers: Headers) -> bool:
    encoding = headers.get("Transfer-Encoding")
    return encoding is not None and "chunked" in encoding.lower()


def _content_length(headers: Headers) -> int | None:
    # None when absent, chunked, not a plain non-negative integer, or repeated
    # with different values (SECURITY: a smuggling vector).
    values = headers.getlist("Content-Length")
    if not values or _is_chunked(headers):
        return None
    value = values[0].strip()
    if any(v.strip() != value for v in values[1:]):
        return None
    return _to_int(value)
