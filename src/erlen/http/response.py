"""The response wrapper: a status, headers and a body the server sends.

:class:`Response` keeps Flask's (Werkzeug's) attributes and behaviour: a ``str``
or ``bytes`` body is buffered with its ``Content-Length``, any other iterable is
streamed as it is, and typed header properties (``cache_control``, ``vary``,
``last_modified``, ...) read and write the :class:`~erlen.http.headers.Headers`.
It knows nothing of WSGI or ASGI; the adapters read ``status``, ``headers`` and
``response`` (the body iterable) and call :meth:`Response.close` when done.
"""

from __future__ import annotations

import collections.abc as cabc
import json
import typing as t
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from html import escape
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from .exceptions import HTTP_STATUS_CODES
from .exceptions import RequestedRangeNotSatisfiable
from .headers import Headers
from .headers import _checked
from .parsing import dump_cookie
from .parsing import dump_header
from .parsing import dump_options_header
from .parsing import generate_etag
from .parsing import http_date
from .parsing import parse_date
from .parsing import parse_options_header
from .parsing import quote_etag
from .parsing import unquote_etag
from .parsing import url_quote
from .values import ContentRange
from .values import HeaderSet
from .values import ResponseCacheControl
from .values import WWWAuthenticate

__all__ = ["Response", "get_content_type", "iri_to_uri", "redirect"]

_R = t.TypeVar("_R", bound="Response")
_F = t.TypeVar("_F", bound=cabc.Callable[[], t.Any])

# Mimetypes outside text/* that are text and so get a charset.
_CHARSET_MIMETYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/sql",
        "application/xml",
        "application/xml-dtd",
        "application/xml-external-parsed-entity",
    }
)
_content_types: dict[str, str] = {}
_BUFFERED_TYPES = (str, bytes, bytearray)
_SEQUENCE_TYPES = (list, tuple)
_new_headers = Headers.__new__
# PERF: Content-Length values of small bodies, prebuilt: str(len(data)) is a
# type call per response (~500 instructions of Response("Hello, World!")).
_DIGITS = tuple(map(str, range(1024)))


def get_content_type(mimetype: str, charset: str = "utf-8") -> str:
    """The ``Content-Type`` for ``mimetype``: a ``charset`` is added to textual types.

    ``text/*``, ``*+xml`` and a few ``application/`` types such as XML and
    JavaScript get ``; charset=utf-8`` unless they already name one; JSON and
    binary types are left as they are.
    """
    cached = _content_types.get(mimetype)
    if cached is not None and charset == "utf-8":
        return cached
    result = mimetype
    base = mimetype.partition(";")[0].strip().lower()
    if (
        base.startswith("text/") or base in _CHARSET_MIMETYPES or base.endswith("+xml")
    ) and "charset=" not in mimetype.lower():
        result = f"{mimetype}; charset={charset}"
    # PERF: a handful of mimetypes are used over and over; bounded so that
    # user-supplied values can't grow it without limit.
    # SECURITY: Response() appends cached values without re-checking them, so
    # only values that are valid header values are cached.
    if (
        charset == "utf-8"
        and len(_content_types) < 256
        and "\r" not in result
        and "\n" not in result
        and "\x00" not in result
    ):
        _content_types[mimetype] = result
    return result


# COMPAT: Werkzeug spells the reason phrase in capitals ("404 NOT FOUND"), and
# tests in the wild compare ``response.status`` to that string.
# PERF: built once, so setting a status from an int is a dict lookup.
_STATUS_LINES: dict[int, str] = {
    code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()
}


def _status_from_int(code: int) -> tuple[str, int]:
    line = _STATUS_LINES.get(code)
    if line is not None:
        return line, code
    if not 100 <= code <= 999:
        raise ValueError(
            f"Status code {code!r} is not a valid HTTP status. Use a three-digit"
            " number from 100 to 999."
        )
    return f"{code} UNKNOWN", code


def _clean_status(value: t.Any) -> tuple[str, int]:
    # (status line, code) from an int, "404", "404 Not Found" or "299 Whatever".
    if isinstance(value, int) and not isinstance(value, bool):
        return _status_from_int(int(value))
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        raise TypeError(
            f"Invalid status {value!r}: a status must be an int (404) or a string"
            " ('404' or '404 Not Found')."
        )
    text = value.strip()
    # SECURITY: the status line is written to the wire as-is.
    if "\r" in text or "\n" in text or "\x00" in text:
        raise ValueError(f"Invalid status {value!r}: it must be one line without NUL characters.")
    code_text, sep, phrase = text.partition(" ")
    if not (code_text.isascii() and code_text.isdigit() and len(code_text) == 3):
        raise ValueError(
            f"Invalid status {value!r}: it must start with a three-digit code, such as"
            " '404' or '404 Not Found'."
        )
    code = int(code_text)
    if code < 100:
        raise ValueError(f"Invalid status {value!r}: the code must be from 100 to 999.")
    if sep and phrase.strip():
        return f"{code} {phrase.strip()}", code
    return _status_from_int(code)


def _iter_encoded(iterable: cabc.Iterable[t.Any]) -> cabc.Iterator[bytes]:
    for item in iterable:
        if isinstance(item, str):
            yield item.encode("utf-8")
        else:
            yield item


def _as_utc(value: datetime | None) -> datetime | None:
    # HTTP dates have whole seconds; naive datetimes are taken as UTC.
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.replace(microsecond=0)


def _date_value(value: datetime | int | float | str) -> str:
    if isinstance(value, str):
        return value
    return http_date(value)


def _deleter(name: str) -> cabc.Callable[[Response], None]:
    def fdel(self: Response) -> None:
        self.headers.remove(name)

    return fdel


def _header_property(name: str, doc: str) -> t.Any:
    # A plain string header: reading gives the value or None, None deletes it.
    def fget(self: Response) -> str | None:
        return self.headers.get(name)

    def fset(self: Response, value: str | None) -> None:
        if value is None:
            self.headers.remove(name)
        else:
            self.headers[name] = value

    return property(fget, fset, _deleter(name), doc=doc)


def _int_header_property(name: str, doc: str) -> t.Any:
    def fget(self: Response) -> int | None:
        value = self.headers.get(name)
        if value is None:
            return None
        value = value.strip()
        if value.isascii() and value.isdigit() and len(value) <= 19:
            return int(value)
        return None

    def fset(self: Response, value: int | str | None) -> None:
        if value is None:
            self.headers.remove(name)
        else:
            self.headers[name] = str(value)

    return property(fget, fset, _deleter(name), doc=doc)


def _date_property(name: str, doc: str) -> t.Any:
    def fget(self: Response) -> datetime | None:
        return parse_date(self.headers.get(name))

    def fset(self: Response, value: datetime | int | float | str | None) -> None:
        if value is None:
            self.headers.remove(name)
        else:
            self.headers[name] = _date_value(value)

    return property(fget, fset, _deleter(name), doc=doc)


def _set_property(name: str, doc: str) -> t.Any:
    # A comma-separated set (Vary, Allow): edits to the HeaderSet write back.
    def fget(self: Response) -> HeaderSet:
        def on_update(header_set: HeaderSet) -> None:
            if header_set:
                self.headers[name] = header_set.to_header()
            else:
                self.headers.remove(name)

        return HeaderSet.from_header(self.headers.get(name), on_update)

    def fset(self: Response, value: str | cabc.Iterable[str] | None) -> None:
        if not value:
            self.headers.remove(name)
        elif isinstance(value, str):
            self.headers[name] = value
        else:
            self.headers[name] = dump_header(value)

    return property(fget, fset, _deleter(name), doc=doc)


class _ParamsDict(dict[str, str]):
    # The Content-Type parameters; every change rewrites the header.
    def __init__(self, values: dict[str, str], on_update: cabc.Callable[[_ParamsDict], None]):
        super().__init__(values)
        self.on_update = on_update

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        self.on_update(self)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.on_update(self)

    def clear(self) -> None:
        super().clear()
        self.on_update(self)

    def pop(self, key: str, *default: t.Any) -> t.Any:
        value = super().pop(key, *default)
        self.on_update(self)
        return value

    def popitem(self) -> tuple[str, str]:
        item = super().popitem()
        self.on_update(self)
        return item

    def setdefault(self, key: str, default: str) -> str:
        value = super().setdefault(key, default)
        self.on_update(self)
        return value

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().update(*args, **kwargs)
        self.on_update(self)


# Headers that describe the body; a 304 or 412 drops them with the body. ETag,
# Cache-Control, Vary, Date, Expires and Content-Location stay (RFC 9110 15.4.5).
_ENTITY_HEADERS = (
    "Allow",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-MD5",
    "Content-Range",
    "Content-Type",
    "Last-Modified",
    "Accept-Ranges",
)


class Response:
    """An HTTP response: ``Response(body, status, headers, mimetype=..., content_type=...)``.

    ``body`` may be ``str`` or ``bytes`` (buffered, ``Content-Length`` set for
    you), or any iterable of ``str``/``bytes`` such as a generator (streamed as
    it is produced). ``status`` is an int or a string like ``"404 Not Found"``;
    ``headers`` a mapping, a list of pairs or a :class:`Headers`, which is then
    used as it is.
    """

    #: The status when none is given.
    default_status: int = 200
    #: The mimetype when neither ``mimetype`` nor ``content_type`` is given.
    #: The app's response class sets ``text/html``, as Flask does.
    default_mimetype: str | None = "text/plain"
    #: Whether a buffered body sets ``Content-Length`` automatically.
    automatically_set_content_length: bool = True
    #: Whether :meth:`get_data` may read a streamed body into memory.
    implicit_sequence_conversion: bool = True
    #: Cookies longer than this warn when set (browsers drop them); 0 disables.
    max_cookie_size: int = 4093
    #: The module :meth:`get_json` parses with.
    json_module: t.Any = json

    _on_close: list[cabc.Callable[[], t.Any]] | None = None
    _closed: bool = False
    #: The body list this response built itself from ``str``/``bytes`` (so
    #: bytes only), while no close callback is registered: as long as it is
    #: still the body, the adapters may hand it to the server as it is.
    _plain_body: list[bytes] | None = None
    #: Whether ``status``, ``status_code`` and ``close`` are this base class's
    #: own, so the adapters may read the stored status, and skip ``close()``
    #: for a plain body (set per subclass).
    _plain_class: t.ClassVar[bool] = True
    _status: str
    _status_code: int

    def __init__(
        self,
        response: cabc.Iterable[str | bytes] | str | bytes | bytearray | None = None,
        status: int | str | None = None,
        headers: Headers
        | cabc.Mapping[str, t.Any]
        | cabc.Iterable[tuple[str, t.Any]]
        | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        # PERF: Response("Hello") is on every request's path (benchmarks/ hello
        # world). In the common case (no headers or content_type, a mimetype
        # seen before) the header list is built in one go from prebuilt
        # values instead of through Headers.set; type checks are exact-type
        # tests first and use tuples, not X | Y unions (built anew per call).
        # Response("Hello, World!"): 8.5k -> 7.7k instructions (perf stat over
        # a loop; benchmarks/instructions.py --scenarios hello for the request).
        if status is None:
            status = self.default_status
        line = _STATUS_LINES.get(status) if type(status) is int else None
        if line is not None:
            self._status_code = status  # type: ignore[assignment]  # PERF: no t.cast call
            self._status = line
        else:
            self._status, self._status_code = _clean_status(status)
        self.direct_passthrough = direct_passthrough

        data: bytes | None = None
        self.response: cabc.Iterable[t.Any]
        if type(response) is str:
            data = response.encode()
            self.response = self._plain_body = [data]
        elif response is None:
            self.response = self._plain_body = []
        elif type(response) is bytes:
            data = response
            self.response = self._plain_body = [data]
        elif isinstance(response, _BUFFERED_TYPES):
            data = response.encode() if isinstance(response, str) else bytes(response)
            self.response = self._plain_body = [data]
        else:
            self.response = response

        if headers is None and content_type is None:
            if mimetype is None:
                mimetype = self.default_mimetype
            ct: str | None = None
            if mimetype is not None:
                try:
                    ct = _content_types[mimetype]
                except KeyError:
                    ct = _checked("Content-Type", get_content_type(mimetype))[1]
            if data is not None and self.automatically_set_content_length:
                size = len(data)
                length = ("Content-Length", _DIGITS[size] if size < 1024 else str(size))
                pairs = [("Content-Type", ct), length] if ct is not None else [length]
            else:
                pairs = [("Content-Type", ct)] if ct is not None else []
            h = _new_headers(Headers)
            h._list = pairs
            self.headers = h
            return

        if headers is None:
            h = Headers()
        elif isinstance(headers, Headers):
            # COMPAT: a Headers object is used as it is, not copied (Werkzeug).
            h = headers
        else:
            h = Headers(headers)
        self.headers = h
        if content_type is not None:
            h.set("Content-Type", content_type)
        elif mimetype is not None:
            h.set("Content-Type", get_content_type(mimetype))
        else:
            mimetype = self.default_mimetype
            if mimetype is not None and "Content-Type" not in h:
                h.add("Content-Type", get_content_type(mimetype))  # absent: appended
        if data is not None and self.automatically_set_content_length:
            size = len(data)
            h.set("Content-Length", _DIGITS[size] if size < 1024 else str(size))

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        base = Response
        cls._plain_class = (
            cls.status is base.status
            and cls.status_code is base.status_code
            and cls.close is base.close
        )

    def __repr__(self) -> str:
        if self.is_sequence:
            body = f"{sum(len(x) for x in self.iter_encoded())} bytes"
        else:
            body = "streamed"
        return f"<{type(self).__name__} {body} [{self.status}]>"

    @classmethod
    def force_type(cls, response: Response, environ: t.Any = None) -> t.Self:
        """Make ``response`` an instance of this class, in place, and return it.

        Useful to turn a plain :class:`Response` into an app's subclass.
        """
        if not isinstance(response, Response):
            raise TypeError(
                f"Cannot convert {type(response).__name__!r} to {cls.__name__!r}: only"
                " Response objects can be converted. Return a Response instead."
            )
        response.__class__ = cls
        return response  # type: ignore[return-value]  # re-classed above

    # -- status --------------------------------------------------------------

    @property
    def status(self) -> str:
        """The status line, such as ``"200 OK"``; set from ``404`` or ``"404 Not Found"``."""
        return self._status

    @status.setter
    def status(self, value: int | str) -> None:
        self._status, self._status_code = _clean_status(value)

    @property
    def status_code(self) -> int:
        """The status as an int, such as ``200``."""
        return self._status_code

    @status_code.setter
    def status_code(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(
                f"Invalid status_code {value!r}: it must be an int such as 404."
                " To set a status with a reason phrase, assign to 'status'."
            )
        self._status, self._status_code = _status_from_int(value)

    # -- body ----------------------------------------------------------------

    @property
    def is_streamed(self) -> bool:
        """Whether the body has no known length (a generator or other iterator)."""
        try:
            len(self.response)  # type: ignore[arg-type]  # probing for a length
        except (TypeError, AttributeError):
            return True
        return False

    @property
    def is_sequence(self) -> bool:
        """Whether the body is a list or tuple (buffered)."""
        return isinstance(self.response, _SEQUENCE_TYPES)

    def iter_encoded(self) -> cabc.Iterator[bytes]:
        """Iterate over the body as bytes (``str`` items encoded as UTF-8)."""
        return _iter_encoded(self.response)

    def make_sequence(self) -> None:
        """Read a streamed body into a list, so it can be read more than once.

        The iterable's ``close()``, if any, still runs when the response closes.
        """
        if not self.is_sequence:
            close = getattr(self.response, "close", None)
            self.response = list(self.iter_encoded())
            if close is not None:
                self.call_on_close(close)

    def _ensure_sequence(self, mutable: bool = False) -> None:
        if self.is_sequence:
            if mutable and not isinstance(self.response, list):
                self.response = list(self.response)
            return
        if self.direct_passthrough:
            raise RuntimeError(
                "The response is in direct passthrough mode, so its body can't be read"
                " into memory. Set 'direct_passthrough = False' first."
            )
        if not self.implicit_sequence_conversion:
            raise RuntimeError(
                "The response body is streamed and 'implicit_sequence_conversion' is"
                " off. Call make_sequence() first to buffer it."
            )
        self.make_sequence()

    def get_data(self, as_text: bool = False) -> t.Any:
        """The body as ``bytes`` (or ``str`` with ``as_text``), read into memory once."""
        self._ensure_sequence()
        data = b"".join(self.iter_encoded())
        if as_text:
            return data.decode("utf-8", "replace")
        return data

    def set_data(self, value: str | bytes | bytearray) -> None:
        """Replace the body with ``value`` and set ``Content-Length``."""
        if isinstance(value, str):
            data = value.encode("utf-8")
        elif isinstance(value, bytes | bytearray):
            data = bytes(value)
        else:
            raise TypeError(
                f"Response data must be str or bytes, not {type(value).__name__!r}."
                " Pass an iterable as 'response' to stream it instead."
            )
        self.response = self._plain_body = [data]
        if self.automatically_set_content_length:
            self.headers["Content-Length"] = str(len(data))

    data = property(get_data, set_data, doc="The body as bytes; setting it replaces the body.")

    def calculate_content_length(self) -> int | None:
        """The body's length in bytes, or None when it can't be known without reading it."""
        try:
            self._ensure_sequence()
        except RuntimeError:
            return None
        return sum(len(x) for x in self.iter_encoded())

    def freeze(self) -> None:
        """Buffer the body and set ``Content-Length``, so it can be stored and replayed."""
        self.make_sequence()
        self.response = list(self.iter_encoded())
        self.headers["Content-Length"] = str(sum(map(len, self.response)))

    # -- content type ----------------------------------------------------------

    content_type = _header_property(
        "Content-Type", "The ``Content-Type`` header, such as ``text/html; charset=utf-8``."
    )

    @property
    def mimetype(self) -> str | None:
        """The mimetype without parameters, lowercased (``text/html``)."""
        value = self.headers.get("Content-Type")
        if value is None:
            return None
        return value.partition(";")[0].strip().lower()

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers["Content-Type"] = get_content_type(value)

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The ``Content-Type`` parameters (``{"charset": "utf-8"}``); edits write back."""

        def on_update(params: _ParamsDict) -> None:
            self.headers["Content-Type"] = dump_options_header(self.mimetype or "", params)

        return _ParamsDict(parse_options_header(self.headers.get("Content-Type"))[1], on_update)

    @property
    def is_json(self) -> bool:
        """Whether the mimetype is ``application/json`` or ``application/*+json``."""
        mt = self.mimetype
        return mt is not None and (
            mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))
        )

    @property
    def json(self) -> t.Any:
        """The body parsed as JSON (None unless the mimetype is JSON); for tests."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False) -> t.Any:
        """Parse the body as JSON.

        None when the mimetype isn't JSON (unless ``force``); with ``silent``,
        None instead of an error when the body isn't valid JSON.
        """
        if not (force or self.is_json):
            return None
        data = self.get_data()
        try:
            return self.json_module.loads(data)
        except ValueError:
            if not silent:
                raise
            return None

    # -- plain headers ---------------------------------------------------------

    content_length = _int_header_property(
        "Content-Length", "The body's length in bytes from ``Content-Length``, or None."
    )
    content_encoding = _header_property(
        "Content-Encoding", "The ``Content-Encoding`` header, such as ``gzip``."
    )
    content_language = _set_property(
        "Content-Language", "The ``Content-Language`` header as a set of language tags."
    )
    content_location = _header_property(
        "Content-Location", "The ``Content-Location`` header: where this body can be fetched."
    )
    location = _header_property(
        "Location", "The ``Location`` header (sent as given; not made absolute)."
    )
    accept_ranges = _header_property(
        "Accept-Ranges", "The ``Accept-Ranges`` header: the range unit accepted, or ``none``."
    )
    last_modified = _date_property(
        "Last-Modified", "``Last-Modified`` as a UTC datetime; set a datetime or timestamp."
    )
    expires = _date_property("Expires", "``Expires`` as a UTC datetime.")
    date = _date_property("Date", "``Date`` as a UTC datetime.")
    vary = _set_property("Vary", "The ``Vary`` header as a set of header names.")
    allow = _set_property("Allow", "The ``Allow`` header as a set of methods.")

    @property
    def age(self) -> timedelta | None:
        """``Age`` as a timedelta (seconds the response spent in a cache)."""
        value = self.headers.get("Age")
        if value is None:
            return None
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 19):
            return None
        try:
            return timedelta(seconds=int(value))
        except OverflowError:
            return None

    @age.setter
    def age(self, value: timedelta | int | None) -> None:
        if value is None:
            self.headers.remove("Age")
            return
        seconds = int(value.total_seconds()) if isinstance(value, timedelta) else int(value)
        if seconds < 0:
            raise ValueError(f"Age {value!r} is negative; it must be zero or more seconds.")
        self.headers["Age"] = str(seconds)

    @property
    def retry_after(self) -> datetime | None:
        """``Retry-After`` as a UTC datetime (seconds are counted from now)."""
        value = self.headers.get("Retry-After")
        if value is None:
            return None
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 10:
            return datetime.now(UTC) + timedelta(seconds=int(text))
        return parse_date(text)

    @retry_after.setter
    def retry_after(self, value: datetime | int | str | None) -> None:
        if value is None:
            self.headers.remove("Retry-After")
        elif isinstance(value, datetime):
            self.headers["Retry-After"] = http_date(value)
        else:
            self.headers["Retry-After"] = str(value)

    @property
    def cache_control(self) -> ResponseCacheControl:
        """``Cache-Control`` as a :class:`ResponseCacheControl`; edits write the header."""

        def on_update(cc: ResponseCacheControl) -> None:
            if cc:
                self.headers["Cache-Control"] = cc.to_header()
            else:
                self.headers.remove("Cache-Control")

        return ResponseCacheControl.from_header(self.headers.get("Cache-Control"), on_update)

    @property
    def content_range(self) -> ContentRange:
        """``Content-Range`` as a :class:`ContentRange` (empty when unset); edits write back."""

        def on_update(rng: ContentRange) -> None:
            if rng:
                self.headers["Content-Range"] = rng.to_header()
            else:
                self.headers.remove("Content-Range")

        parsed = ContentRange.from_header(self.headers.get("Content-Range"), on_update)
        if parsed is None:
            return ContentRange(None, None, None, on_update=on_update)
        return parsed

    @content_range.setter
    def content_range(self, value: ContentRange | str | None) -> None:
        if not value:
            self.headers.remove("Content-Range")
        elif isinstance(value, str):
            self.headers["Content-Range"] = value
        else:
            self.headers["Content-Range"] = value.to_header()

    @property
    def www_authenticate(self) -> WWWAuthenticate:
        """The first ``WWW-Authenticate`` challenge; changing it writes the header.

        When the header is unset this is an empty ``Basic`` challenge, so
        ``response.www_authenticate.realm = "Login"`` sets it. Assign a list to
        send several challenges (editing those items doesn't write back).
        """

        def on_update(challenge: WWWAuthenticate) -> None:
            self.www_authenticate = challenge

        # COMPAT: Werkzeug's shape: one object, and a Basic one when unset.
        value = WWWAuthenticate.from_header(self.headers.get("WWW-Authenticate"), on_update)
        if value is None:
            value = WWWAuthenticate("basic", on_update=on_update)
        return value

    @www_authenticate.deleter
    def www_authenticate(self) -> None:
        self.headers.remove("WWW-Authenticate")

    @www_authenticate.setter
    def www_authenticate(
        self, value: WWWAuthenticate | str | cabc.Iterable[WWWAuthenticate | str] | None
    ) -> None:
        if value is None or value == "" or value == []:
            self.headers.remove("WWW-Authenticate")
            return
        items = [value] if isinstance(value, WWWAuthenticate | str) else list(value)
        self.headers.setlist(
            "WWW-Authenticate", [v if isinstance(v, str) else v.to_header() for v in items]
        )

    # -- cookies ---------------------------------------------------------------

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: timedelta | int | None = None,
        expires: str | datetime | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header.

        :raises ValueError: the name, domain, path or ``samesite`` would break
            the header.
        """
        self.headers.add(
            "Set-Cookie",
            dump_cookie(
                key,
                value=value,
                max_age=max_age,
                expires=expires,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
                partitioned=partitioned,
                max_size=self.max_cookie_size,
            ),
        )

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Tell the browser to drop a cookie: expires in 1970, ``Max-Age=0``.

        ``path`` and ``domain`` must match the ones it was set with.
        """
        self.set_cookie(
            key,
            expires=0,
            max_age=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    # -- lifecycle -------------------------------------------------------------

    def call_on_close(self, func: _F) -> _F:
        """Call ``func()`` when the response is closed; returns it, so it works as a decorator."""
        if self._on_close is None:
            self._on_close = []
        self._on_close.append(func)
        self._plain_body = None  # the server must now close the response
        return func

    def close(self) -> None:
        """Close the body iterable (if it has ``close()``), then run the close callbacks.

        Safe to call more than once; everything runs once.
        """
        if self._closed:
            return
        self._closed = True
        close = getattr(self.response, "close", None)
        try:
            if close is not None:
                close()
        finally:
            callbacks = self._on_close or []
            self._on_close = None
            self._run_callbacks(callbacks)

    @staticmethod
    def _run_callbacks(callbacks: list[cabc.Callable[[], t.Any]]) -> None:
        # Each one runs even when an earlier one raises; the first error propagates.
        error: BaseException | None = None
        for func in callbacks:
            try:
                func()
            except BaseException as e:  # noqa: B036 - re-raised below
                if error is None:
                    error = e
        if error is not None:
            raise error

    def __enter__(self) -> t.Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- ETags and conditional requests ----------------------------------------

    def get_etag(self) -> tuple[str | None, bool]:
        """The ``ETag`` as ``(tag, is_weak)``, or ``(None, False)``."""
        return unquote_etag(self.headers.get("ETag"))

    def set_etag(self, etag: str, weak: bool = False) -> None:
        """Set the ``ETag`` header (quoted for you)."""
        self.headers["ETag"] = quote_etag(etag, weak)

    def add_etag(self, overwrite: bool = False, weak: bool = False) -> None:
        """Set an ``ETag`` computed from the body, unless there is one (or ``overwrite``)."""
        if overwrite or "ETag" not in self.headers:
            self.set_etag(generate_etag(self.get_data()), weak)

    def _drop_body(self) -> None:
        # For 304 and 412: no body, no headers describing it. The old body is
        # still closed when the response closes.
        old = self.response
        self.response = []
        close = getattr(old, "close", None)
        if close is not None:
            self.call_on_close(close)
        for name in _ENTITY_HEADERS:
            self.headers.remove(name)

    def make_conditional(
        self,
        request: t.Any,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> t.Self:
        """Answer the request's conditional and range headers (GET and HEAD only).

        In RFC 9110 order: a failing ``If-Match`` or ``If-Unmodified-Since``
        gives 412; a matching ``If-None-Match`` (weak comparison) or, without
        one, an ``If-Modified-Since`` not older than ``Last-Modified`` gives 304.
        Both drop the body and its headers. Otherwise, with ``accept_ranges``
        (``True`` means ``"bytes"``), one satisfiable range gives 206 with
        ``Content-Range`` and the slice; an unsatisfiable one raises
        :class:`RequestedRangeNotSatisfiable` (416, the response is closed). A
        Range is ignored (full 200) when ``If-Range`` doesn't match, when its
        unit isn't the accepted one, or when it asks for several ranges
        (multipart/byteranges is not produced). ``complete_length`` is the full
        body's length; a buffered body's own length is used when it is None.

        ``request`` needs ``method``, ``if_match``, ``if_none_match``,
        ``if_modified_since``, ``if_unmodified_since``, ``if_range`` and
        ``range``, as :class:`~erlen.http.request.Request` has.
        """
        if request.method not in ("GET", "HEAD"):
            return self
        if "Date" not in self.headers:
            self.headers["Date"] = http_date()
        if not 200 <= self._status_code < 300:
            return self

        etag, weak = self.get_etag()
        last_modified = _as_utc(self.last_modified)

        precondition = self._evaluate_preconditions(request, etag, weak, last_modified)
        if precondition is not None:
            self.status_code = precondition
            self._drop_body()
            if precondition == 412:
                self.headers["Content-Length"] = "0"
            return self

        unit = ""
        if accept_ranges:
            unit = "bytes" if accept_ranges is True else str(accept_ranges)
            self.headers["Accept-Ranges"] = unit
            if complete_length is None:
                if self.is_sequence:
                    complete_length = self.calculate_content_length()
                else:
                    complete_length = self.content_length
            self._process_range(request, unit, complete_length, etag, weak, last_modified)

        if (
            self.automatically_set_content_length
            and self.is_sequence
            and "Content-Length" not in self.headers
        ):
            self.headers["Content-Length"] = str(sum(len(x) for x in self.iter_encoded()))
        return self

    @staticmethod
    def _evaluate_preconditions(
        request: t.Any, etag: str | None, weak: bool, last_modified: datetime | None
    ) -> int | None:
        # 412, 304 or None (go on), per RFC 9110 section 13.2.2.
        if_match = getattr(request, "if_match", None)
        if if_match:
            if not getattr(if_match, "star_tag", False) and (
                etag is None or weak or not if_match.contains(etag)
            ):
                return 412  # If-Match uses the strong comparison
        else:
            since = _as_utc(getattr(request, "if_unmodified_since", None))
            if since is not None and last_modified is not None and last_modified > since:
                return 412
        if_none_match = getattr(request, "if_none_match", None)
        if if_none_match:
            if getattr(if_none_match, "star_tag", False) or (
                etag is not None and if_none_match.contains_weak(etag)
            ):
                return 304
        else:
            since = _as_utc(getattr(request, "if_modified_since", None))
            if since is not None and last_modified is not None and last_modified <= since:
                return 304
        return None

    def _process_range(
        self,
        request: t.Any,
        unit: str,
        complete_length: int | None,
        etag: str | None,
        weak: bool,
        last_modified: datetime | None,
    ) -> None:
        rng = getattr(request, "range", None)
        if rng is None or not complete_length:
            return
        if rng.units.lower() != unit.lower() or len(rng.ranges) != 1:
            return
        if_range = getattr(request, "if_range", None)
        if if_range is not None:
            if if_range.etag is not None:
                # If-Range uses the strong comparison: a weak ETag never matches.
                if etag is None or weak or if_range.etag != etag:
                    return
            elif if_range.date is not None:
                if last_modified is None or last_modified != _as_utc(if_range.date):
                    return
        start, stop = rng.ranges[0]
        if start < 0:  # the last -start bytes; a longer suffix is the whole body
            start = max(0, complete_length + start)
            stop = complete_length
        elif stop is None or stop > complete_length:
            stop = complete_length
        if start >= complete_length or start >= stop:
            self.close()
            raise RequestedRangeNotSatisfiable(length=complete_length, units=unit)
        self.status_code = 206
        self.headers["Content-Range"] = f"{unit} {start}-{stop - 1}/{complete_length}"
        self.headers["Content-Length"] = str(stop - start)
        if self.is_sequence and not self.direct_passthrough:
            data = b"".join(self.iter_encoded())
            self.response = [data[start:stop]]
        else:
            from .files import RangeWrapper

            self.response = RangeWrapper(self.response, start, stop - start)


_DefaultResponse = Response


def iri_to_uri(iri: str) -> str:
    """Percent-encode an IRI into a URI: non-ASCII and unsafe characters are escaped.

    Reserved characters and existing ``%XX`` escapes are kept, so a valid URI
    comes back unchanged; a non-ASCII host name is IDNA-encoded.
    """
    if iri.isascii():
        netloc_done = iri
    else:
        parts = urlsplit(iri)
        netloc = parts.netloc
        if netloc and not netloc.isascii():
            userinfo, at, hostport = netloc.rpartition("@")
            host, colon, port = hostport.partition(":")
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                host = url_quote(host, safe="")
            netloc = f"{userinfo}{at}{host}{colon}{port}"
        netloc_done = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url_quote(netloc_done, safe=":/?#[]@!$&'()*+,;=%")


@t.overload
def redirect(location: str, code: int = 302, Response: None = None) -> _DefaultResponse: ...
@t.overload
def redirect(location: str, code: int, Response: type[_R]) -> _R: ...
@t.overload
def redirect(location: str, code: int = 302, *, Response: type[_R]) -> _R: ...


def redirect(
    location: str,
    code: int = 302,
    Response: type[_DefaultResponse] | None = None,  # Flask's argument name
) -> _DefaultResponse:
    """A response redirecting the client to ``location`` (302 by default).

    The ``Location`` header gets ``location`` with non-ASCII and unsafe
    characters percent-encoded; the body is a short HTML page with the link.

    :raises ValueError: ``location`` contains CR, LF or NUL.
    """
    # SECURITY: CVE-2016-9964 (Bottle's redirect): a newline in the target
    # would end the Location header and let the caller write new headers.
    if "\r" in location or "\n" in location or "\x00" in location:
        raise ValueError(
            f"Redirect location {location!r} contains a newline or NUL character."
            " A redirect location must be one line; strip or encode those characters."
        )
    cls: type[t.Any] = _DefaultResponse if Response is None else Response
    link = escape(location)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n"
        f'<p>This page has moved to <a href="{link}">{link}</a>.\n'
    )
    response = cls(body, code, mimetype="text/html")
    response.headers["Location"] = iri_to_uri(location)
    return t.cast("_DefaultResponse", response)
