"""Structured header values: Accept, Cache-Control, Authorization, Range, ETags.

The types a :class:`~erlen.http.request.Request` and
:class:`~erlen.http.response.Response` expose, with Werkzeug's names and
behaviour. They wrap the plain results of :mod:`erlen.http.parsing`; the
mutable response-side ones call ``on_update(self)`` after each change so the
response can rewrite its header.
"""

from __future__ import annotations

import base64
import codecs
import collections.abc as cabc
import typing as t
from datetime import datetime

from .parsing import dump_header
from .parsing import generate_etag
from .parsing import http_date
from .parsing import parse_accept_header
from .parsing import parse_authorization_header
from .parsing import parse_cache_control_header
from .parsing import parse_content_range_header
from .parsing import parse_etags
from .parsing import parse_if_range_header
from .parsing import parse_range_header
from .parsing import parse_set_header
from .parsing import parse_www_authenticate_header
from .parsing import quote_etag
from .parsing import quote_header_value
from .parsing import unquote_etag

__all__ = [
    "Accept",
    "Authorization",
    "CharsetAccept",
    "ContentRange",
    "ETags",
    "HeaderSet",
    "IfRange",
    "LanguageAccept",
    "MIMEAccept",
    "Range",
    "RequestCacheControl",
    "ResponseCacheControl",
    "UserAgent",
    "WWWAuthenticate",
]

_Self = t.TypeVar("_Self")


def _immutable(self: object, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    raise TypeError(f"{type(self).__name__!r} objects are immutable.")


# ---------------------------------------------------------------------------
# Accept
# ---------------------------------------------------------------------------


class Accept(list[tuple[str, float]]):
    """An immutable list of ``(value, quality)`` pairs from an ``Accept*`` header.

    Sorted best first (quality, then specificity). Index with a value to get its
    quality (0 when not accepted): ``accept["en"]``. ``provided`` is false when
    the client sent no header at all.
    """

    def __init__(self, values: cabc.Iterable[tuple[str, float]] | Accept | None = ()) -> None:
        if values is None:
            super().__init__()
            self.provided = False
        elif isinstance(values, Accept):
            self.provided = values.provided
            super().__init__(values)
        else:
            self.provided = True
            items = [(v, float(q)) for v, q in values]
            items.sort(key=lambda x: (-x[1], -self._specificity(x[0])))
            super().__init__(items)

    @classmethod
    def from_header(cls: type[_Self], value: str | None) -> _Self:
        """Build from a header value; ``None`` gives an empty, not provided one."""
        if value is None:
            return cls(None)  # type: ignore[call-arg]  # subclasses keep the signature
        return cls(parse_accept_header(value))  # type: ignore[call-arg]

    # -- matching, overridden by the subclasses --------------------------------

    def _specificity(self, value: str) -> int:
        return 0 if value == "*" else 1

    def _value_matches(self, value: str, item: str) -> bool:
        # value: what the server offers; item: what the client sent.
        return item == "*" or item.lower() == value.lower()

    # -- lookups ---------------------------------------------------------------

    def _match(self, key: str) -> tuple[float, int] | None:
        # The quality of the most specific client item matching key.
        best: tuple[float, int] | None = None
        for item, quality in self:
            if self._value_matches(key, item):
                spec = self._specificity(item)
                if best is None or spec > best[1]:
                    best = (quality, spec)
        return best

    def _match_for_best(self, key: str) -> tuple[float, int] | None:
        return self._match(key)

    def quality(self, key: str) -> float:
        """The client's quality for ``key``, from its most specific match; 0 if none."""
        match = self._match(key)
        return 0 if match is None else match[0]

    @t.overload
    def __getitem__(self, key: str) -> float: ...
    @t.overload
    def __getitem__(self, key: t.SupportsIndex) -> tuple[str, float]: ...
    @t.overload
    def __getitem__(self, key: slice) -> list[tuple[str, float]]: ...
    def __getitem__(
        self, key: str | t.SupportsIndex | slice
    ) -> float | tuple[str, float] | list[tuple[str, float]]:
        if isinstance(key, str):
            return self.quality(key)
        return list.__getitem__(self, key)

    def __contains__(self, value: object) -> bool:
        """Whether ``value`` is acceptable (quality above 0)."""
        if not isinstance(value, str):
            return False
        return self.quality(value) > 0

    def index(self, key: t.Any, *args: t.Any) -> int:
        """The index of the first item matching ``key``, or of a pair.

        :raises ValueError: nothing matches.
        """
        if isinstance(key, str):
            for idx, (item, _) in enumerate(self):
                if self._value_matches(key, item):
                    return idx
            raise ValueError(f"{key!r} is not in the {type(self).__name__}.")
        return list.index(self, key, *args)

    def find(self, key: t.Any) -> int:
        """Like :meth:`index` but -1 when nothing matches."""
        try:
            return self.index(key)
        except ValueError:
            return -1

    def values(self) -> cabc.Iterator[str]:
        """The accepted values, best first."""
        for item in self:
            yield item[0]

    def to_header(self) -> str:
        """Serialise back to a header value."""
        out = []
        for value, quality in self:
            if quality != 1:
                value = f"{value};q={quality:g}"
            out.append(value)
        return ",".join(out)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"

    @property
    def best(self) -> str | None:
        """The client's most preferred value, or None."""
        if self and self[0][1] > 0:
            return self[0][0]
        return None

    def best_match(self, matches: cabc.Iterable[str], default: str | None = None) -> str | None:
        """The server value the client likes best, or ``default``.

        Highest quality first, then the most specific client match; ties go to
        the earlier entry in ``matches``. A value the client rates q=0 is never
        chosen, even when a wildcard would match it.
        """
        result = default
        best: tuple[float, int] | None = None
        for server in matches:
            match = self._match_for_best(server)
            if match is None or match[0] <= 0:
                continue
            if best is None or match > best:
                best = match
                result = server
        return result

    __setitem__ = _immutable
    __delitem__ = _immutable
    __iadd__ = _immutable
    __imul__ = _immutable
    append = _immutable
    extend = _immutable
    insert = _immutable
    pop = _immutable
    remove = _immutable
    reverse = _immutable
    sort = _immutable
    clear = _immutable

    def __hash__(self) -> int:  # type: ignore[override]  # immutable, so hashable
        return hash(tuple(self))


def _split_mime(value: str) -> tuple[str, str]:
    main = value.split(";", 1)[0].strip().lower()
    if main == "*":
        return "*", "*"
    kind, _, sub = main.partition("/")
    return kind.strip(), sub.strip()


class MIMEAccept(Accept):
    """``Accept``: media types, with ``*/*`` and ``text/*`` wildcards.

    Matching ignores case and parameters.
    """

    def _specificity(self, value: str) -> int:
        kind, sub = _split_mime(value)
        return (kind != "*") + (sub != "*")

    def _value_matches(self, value: str, item: str) -> bool:
        vkind, vsub = _split_mime(value)
        ikind, isub = _split_mime(item)
        if not vsub or not isub:
            return False
        if ikind == "*":
            return isub == "*"
        if vkind == "*":
            return vsub == "*"
        if ikind != vkind:
            return False
        return isub == "*" or vsub == "*" or isub == vsub

    @property
    def accept_html(self) -> bool:
        """Whether HTML is acceptable."""
        return (
            self.quality("text/html") > 0
            or self.quality("application/xhtml+xml") > 0
            or self.accept_xhtml
        )

    @property
    def accept_xhtml(self) -> bool:
        """Whether XHTML is acceptable."""
        return self.quality("application/xhtml+xml") > 0 or self.quality("application/xml") > 0

    @property
    def accept_json(self) -> bool:
        """Whether JSON is acceptable."""
        return self.quality("application/json") > 0


def _normalize_lang(value: str) -> str:
    return value.replace("_", "-").lower()


class LanguageAccept(Accept):
    """``Accept-Language``: a range ``en`` matches ``en-US`` (RFC 4647).

    :meth:`best_match` also falls back to primary tags: a client asking for
    ``en-US`` gets the server's ``en`` rather than a language it rated lower.
    """

    def _specificity(self, value: str) -> int:
        if value == "*":
            return 0
        return 1 + value.count("-") + value.count("_")

    def _value_matches(self, value: str, item: str) -> bool:
        if item == "*":
            return True
        v = _normalize_lang(value)
        i = _normalize_lang(item)
        return v == i or v.startswith(i + "-")

    def _match_for_best(self, key: str) -> tuple[float, int] | None:
        # A client asking for en-US still prefers the server's en to nothing:
        # fall back to primary tags, ranked below any direct match.
        match = self._match(key)
        if match is not None:
            return match
        primary = _normalize_lang(key).split("-", 1)[0]
        for item, quality in self:
            if _normalize_lang(item).split("-", 1)[0] == primary:
                return quality, -1
        return None


def _normalize_charset(value: str) -> str:
    try:
        return codecs.lookup(value).name
    except (LookupError, ValueError):
        return value.lower()


class CharsetAccept(Accept):
    """``Accept-Charset``: names compared case-insensitively, codec aliases folded."""

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or _normalize_charset(value) == _normalize_charset(item)


# ---------------------------------------------------------------------------
# Cache-Control
# ---------------------------------------------------------------------------


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    return None


class _CacheControl(dict[str, str | None]):
    # Directive name -> argument (None for a bare directive).

    def __init__(
        self,
        values: cabc.Mapping[str, str | None] | cabc.Iterable[tuple[str, str | None]] = (),
        on_update: cabc.Callable[[t.Any], None] | None = None,
    ) -> None:
        super().__init__(values)
        self.provided = bool(self)
        self.on_update = on_update

    @classmethod
    def from_header(
        cls: type[_Self],
        value: str | None,
        on_update: cabc.Callable[[t.Any], None] | None = None,
    ) -> _Self:
        """Build from a ``Cache-Control`` header value."""
        return cls(parse_cache_control_header(value), on_update)  # type: ignore[call-arg]

    def _get_int(self, key: str) -> int | None:
        return _int_or_none(self.get(key))

    def to_header(self) -> str:
        """Serialise to a header value."""
        items = []
        for key, value in self.items():
            if value is None:
                items.append(key)
            else:
                # Field-name lists (no-cache, private) are always quoted.
                quoted = quote_header_value(value, allow_token=value.isdigit())
                items.append(f"{key}={quoted}")
        return ", ".join(items)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"

    # Read-only here; ResponseCacheControl replaces them with settable ones.
    @property
    def max_age(self) -> int | None:
        """``max-age`` seconds."""
        return self._get_int("max-age")

    @property
    def no_store(self) -> bool:
        """``no-store``."""
        return "no-store" in self

    @property
    def no_transform(self) -> bool:
        """``no-transform``."""
        return "no-transform" in self

    @property
    def stale_if_error(self) -> int | None:
        """``stale-if-error`` seconds."""
        return self._get_int("stale-if-error")


class RequestCacheControl(_CacheControl):
    """A request's ``Cache-Control``, read-only."""

    @property
    def no_cache(self) -> bool:
        """``no-cache``."""
        return "no-cache" in self

    @property
    def max_stale(self) -> int | t.Literal["*"] | None:
        """``max-stale`` seconds, or ``"*"`` when given without a value."""
        if "max-stale" not in self:
            return None
        value = self["max-stale"]
        if value is None:
            return "*"
        return _int_or_none(value)

    @property
    def min_fresh(self) -> int | None:
        """``min-fresh`` seconds."""
        return self._get_int("min-fresh")

    @property
    def only_if_cached(self) -> bool:
        """``only-if-cached``."""
        return "only-if-cached" in self

    __setitem__ = _immutable
    __delitem__ = _immutable
    __ior__ = _immutable
    clear = _immutable
    pop = _immutable
    popitem = _immutable
    setdefault = _immutable
    update = _immutable


def _bool_prop(key: str, doc: str) -> property:
    def fget(self: ResponseCacheControl) -> bool:
        return key in self

    def fset(self: ResponseCacheControl, value: bool | None) -> None:
        if value:
            self[key] = None
        else:
            self.pop(key, None)

    return property(fget, fset, lambda self: fset(self, False), doc)


def _int_prop(key: str, doc: str) -> property:
    def fget(self: ResponseCacheControl) -> int | None:
        return _int_or_none(self.get(key))

    def fset(self: ResponseCacheControl, value: int | None) -> None:
        if value is None:
            self.pop(key, None)
        else:
            self[key] = str(int(value))

    return property(fget, fset, lambda self: fset(self, None), doc)


def _fields_prop(key: str, doc: str) -> property:
    # no-cache / private: bare (True), with field names (str) or absent (None).
    def fget(self: ResponseCacheControl) -> str | t.Literal[True] | None:
        if key not in self:
            return None
        value = self[key]
        return True if value is None else value

    def fset(self: ResponseCacheControl, value: str | bool | None) -> None:
        if value is None or value is False:
            self.pop(key, None)
        elif value is True:
            self[key] = None
        else:
            self[key] = str(value)

    return property(fget, fset, lambda self: fset(self, None), doc)


class ResponseCacheControl(_CacheControl):
    """A response's ``Cache-Control``; setting a property updates the directives.

    Set ``no_cache = True`` for a bare ``no-cache``, ``max_age = 60`` for
    ``max-age=60``, ``None`` or ``False`` to remove a directive. ``on_update``
    is called after every change.
    """

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def __setitem__(self, key: str, value: str | None) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def pop(self, key: str, *default: t.Any) -> t.Any:
        had = key in self
        result = super().pop(key, *default)
        if had:
            self._changed()
        return result

    def popitem(self) -> tuple[str, str | None]:
        result = super().popitem()
        self._changed()
        return result

    def setdefault(self, key: str, default: str | None = None) -> str | None:
        had = key in self
        result = super().setdefault(key, default)
        if not had:
            self._changed()
        return result

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    max_age = _int_prop("max-age", "``max-age`` seconds.")
    s_maxage = _int_prop("s-maxage", "``s-maxage`` seconds (shared caches).")
    no_cache = _fields_prop("no-cache", "``no-cache``: True, field names, or None.")
    private = _fields_prop("private", "``private``: True, field names, or None.")
    no_store = _bool_prop("no-store", "``no-store``.")
    no_transform = _bool_prop("no-transform", "``no-transform``.")
    public = _bool_prop("public", "``public``.")
    must_revalidate = _bool_prop("must-revalidate", "``must-revalidate``.")
    proxy_revalidate = _bool_prop("proxy-revalidate", "``proxy-revalidate``.")
    must_understand = _bool_prop("must-understand", "``must-understand``.")
    immutable = _bool_prop("immutable", "``immutable``.")
    stale_while_revalidate = _int_prop(
        "stale-while-revalidate", "``stale-while-revalidate`` seconds."
    )
    stale_if_error = _int_prop("stale-if-error", "``stale-if-error`` seconds.")


# ---------------------------------------------------------------------------
# Authorization, WWW-Authenticate
# ---------------------------------------------------------------------------


class Authorization:
    """Credentials from an ``Authorization`` header.

    ``type`` is lowercased (``"basic"``, ``"bearer"``, ``"digest"``). Basic
    credentials and auth-params are in ``parameters`` and also readable as
    attributes (``auth.username``, ``auth.realm``); a token scheme has ``token``.
    """

    def __init__(
        self,
        auth_type: str,
        data: cabc.Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> None:
        self.type = auth_type.lower()
        self.parameters: dict[str, str] = dict(data or {})
        self.token = token

    @classmethod
    def from_header(cls, value: str | None) -> Authorization | None:
        """Parse a header value; None when missing or malformed."""
        parsed = parse_authorization_header(value)
        if parsed is None:
            return None
        return cls(*parsed)

    def __getattr__(self, name: str) -> str | None:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.parameters.get(name)

    def __getitem__(self, key: str) -> str | None:
        return self.parameters.get(key)

    def get(self, key: str, default: str | None = None) -> str | None:
        """A parameter, or ``default``."""
        return self.parameters.get(key, default)

    @property
    def username(self) -> str | None:
        """The user name (Basic and Digest)."""
        return self.parameters.get("username")

    @property
    def password(self) -> str | None:
        """The password (Basic)."""
        return self.parameters.get("password")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Authorization):
            return NotImplemented
        return (
            other.type == self.type
            and other.token == self.token
            and other.parameters == self.parameters
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def to_header(self) -> str:
        """Serialise to a header value."""
        if self.type == "basic" and self.token is None:
            raw = f"{self.username or ''}:{self.password or ''}".encode()
            return f"Basic {base64.b64encode(raw).decode('ascii')}"
        if self.token is not None:
            return f"{self.type.title()} {self.token}"
        return f"{self.type.title()} {dump_header(self.parameters)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


# Parameters conventionally sent quoted even when they are tokens.
_ALWAYS_QUOTED = frozenset({"realm", "domain", "nonce", "opaque", "qop"})


class WWWAuthenticate:
    """A ``WWW-Authenticate`` challenge: ``Basic realm="Login"``.

    ``on_update`` is called after a change through :meth:`__setitem__` or the
    ``type``/``token``/``realm`` setters.
    """

    def __init__(
        self,
        auth_type: str,
        values: cabc.Mapping[str, str] | None = None,
        token: str | None = None,
        on_update: cabc.Callable[[WWWAuthenticate], None] | None = None,
    ) -> None:
        self._type = auth_type.lower()
        self._parameters: dict[str, str] = dict(values or {})
        self._token = token
        self._on_update = on_update

    @classmethod
    def from_header(
        cls,
        value: str | None,
        on_update: cabc.Callable[[WWWAuthenticate], None] | None = None,
    ) -> WWWAuthenticate | None:
        """Parse a header value; None when missing or malformed."""
        parsed = parse_www_authenticate_header(value)
        if parsed is None:
            return None
        auth_type, params, token = parsed
        return cls(auth_type, params, token, on_update)

    def _changed(self) -> None:
        if self._on_update is not None:
            self._on_update(self)

    @property
    def type(self) -> str:
        """The scheme, lowercased."""
        return self._type

    @type.setter
    def type(self, value: str) -> None:
        self._type = value.lower()
        self._changed()

    @property
    def parameters(self) -> dict[str, str]:
        """The auth-params (changes made directly here don't call ``on_update``)."""
        return self._parameters

    @property
    def token(self) -> str | None:
        """A token68 challenge instead of parameters."""
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        self._token = value
        self._changed()

    @property
    def realm(self) -> str | None:
        """The ``realm`` parameter."""
        return self._parameters.get("realm")

    @realm.setter
    def realm(self, value: str | None) -> None:
        self["realm"] = value

    def __getitem__(self, key: str) -> str | None:
        return self._parameters.get(key)

    def __setitem__(self, key: str, value: str | None) -> None:
        if value is None:
            self._parameters.pop(key, None)
        else:
            self._parameters[key] = value
        self._changed()

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]
        self._changed()

    def get(self, key: str, default: str | None = None) -> str | None:
        """A parameter, or ``default``."""
        return self._parameters.get(key, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WWWAuthenticate):
            return NotImplemented
        return (
            other.type == self.type
            and other.token == self.token
            and other.parameters == self.parameters
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def to_header(self) -> str:
        """Serialise to a header value."""
        scheme = self._type.title()
        if self._token is not None:
            return f"{scheme} {self._token}"
        if not self._parameters:
            return scheme
        items = []
        for key, value in self._parameters.items():
            quoted = quote_header_value(value, allow_token=key not in _ALWAYS_QUOTED)
            items.append(f"{key}={quoted}")
        return f"{scheme} {', '.join(items)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


# ---------------------------------------------------------------------------
# Range, Content-Range
# ---------------------------------------------------------------------------


class Range:
    """A ``Range`` request header: units and ``(start, stop)`` ranges, stop exclusive.

    ``(500, None)`` is ``500-``; ``(-500, None)`` is the last 500 bytes.
    """

    def __init__(self, units: str, ranges: cabc.Sequence[tuple[int, int | None]]) -> None:
        self.units = units
        self.ranges = list(ranges)

    @classmethod
    def from_header(cls, value: str | None, make_inclusive: bool = True) -> Range | None:
        """Parse a header value; None when missing or malformed."""
        parsed = parse_range_header(value, make_inclusive)
        if parsed is None:
            return None
        return cls(*parsed)

    def range_for_length(self, length: int | None) -> tuple[int, int] | None:
        """The one ``(start, stop)`` to send for a body of ``length`` bytes.

        None unless the units are bytes and there is exactly one range that is
        satisfiable; an end past the body or a suffix longer than it is clamped.
        """
        if self.units != "bytes" or length is None or len(self.ranges) != 1:
            return None
        start, stop = self.ranges[0]
        if stop is None:
            stop = length
            if start < 0:
                start = max(0, start + length)
        stop = min(stop, length)
        if 0 <= start < stop:
            return start, stop
        return None

    def make_content_range(self, length: int | None) -> ContentRange | None:
        """The :class:`ContentRange` answering this range, or None."""
        rng = self.range_for_length(length)
        if rng is None:
            return None
        return ContentRange(self.units, rng[0], rng[1], length)

    def to_header(self) -> str:
        """Serialise to a header value (``bytes=0-499,-500``)."""
        parts = []
        for start, stop in self.ranges:
            if stop is None:
                parts.append(f"{start}-" if start >= 0 else str(start))
            else:
                parts.append(f"{start}-{stop - 1}")
        return f"{self.units}={','.join(parts)}"

    def to_content_range_header(self, length: int | None) -> str | None:
        """The ``Content-Range`` value answering this range, or None."""
        rng = self.range_for_length(length)
        if rng is None:
            return None
        return f"{self.units} {rng[0]}-{rng[1] - 1}/{length}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self.units == other.units and self.ranges == other.ranges

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


class ContentRange:
    """A ``Content-Range`` header: units, ``start``-``stop`` (exclusive), length.

    Setting a field calls ``on_update(self)``.
    """

    def __init__(
        self,
        units: str | None,
        start: int | None,
        stop: int | None,
        length: int | None = None,
        on_update: cabc.Callable[[ContentRange], None] | None = None,
    ) -> None:
        self.on_update = on_update
        self._units = units
        self._start = start
        self._stop = stop
        self._length = length

    @classmethod
    def from_header(
        cls,
        value: str | None,
        on_update: cabc.Callable[[ContentRange], None] | None = None,
    ) -> ContentRange | None:
        """Parse a header value; None when missing or malformed."""
        parsed = parse_content_range_header(value)
        if parsed is None:
            return None
        return cls(*parsed, on_update=on_update)

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    @property
    def units(self) -> str | None:
        """The range unit, usually ``"bytes"``; None when unset."""
        return self._units

    @units.setter
    def units(self, value: str | None) -> None:
        self._units = value
        self._changed()

    @property
    def start(self) -> int | None:
        """The first byte."""
        return self._start

    @start.setter
    def start(self, value: int | None) -> None:
        self._start = value
        self._changed()

    @property
    def stop(self) -> int | None:
        """One past the last byte."""
        return self._stop

    @stop.setter
    def stop(self, value: int | None) -> None:
        self._stop = value
        self._changed()

    @property
    def length(self) -> int | None:
        """The full length, None when unknown."""
        return self._length

    @length.setter
    def length(self, value: int | None) -> None:
        self._length = value
        self._changed()

    def set(
        self, start: int | None, stop: int | None, length: int | None = None, units: str = "bytes"
    ) -> None:
        """Set every field at once (one ``on_update`` call)."""
        self._units = units
        self._start = start
        self._stop = stop
        self._length = length
        self._changed()

    def unset(self) -> None:
        """Clear the header (``on_update`` sees an empty one)."""
        self.set(None, None, None, units=None)  # type: ignore[arg-type]  # units None = unset

    def to_header(self) -> str:
        """Serialise to a header value; empty when unset."""
        if self._units is None:
            return ""
        length = "*" if self._length is None else str(self._length)
        if self._start is None or self._stop is None:
            return f"{self._units} */{length}"
        return f"{self._units} {self._start}-{self._stop - 1}/{length}"

    def __bool__(self) -> bool:
        return self._units is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContentRange):
            return NotImplemented
        return self.to_header() == other.to_header()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


# ---------------------------------------------------------------------------
# ETags, If-Range
# ---------------------------------------------------------------------------


class ETags(cabc.Collection[str]):
    """The entity tags of ``If-Match``/``If-None-Match``, strong and weak, or ``*``."""

    def __init__(
        self,
        strong_etags: cabc.Iterable[str] | None = None,
        weak_etags: cabc.Iterable[str] | None = None,
        star_tag: bool = False,
    ) -> None:
        self.star_tag = star_tag
        self._strong = frozenset(() if star_tag else (strong_etags or ()))
        self._weak = frozenset(weak_etags or ())

    @classmethod
    def from_header(cls, value: str | None) -> ETags:
        """Parse a header value (never fails; garbage gives unquoted strong tags)."""
        return cls(*parse_etags(value))

    def as_set(self, include_weak: bool = False) -> set[str]:
        """The tags as a set, strong only unless ``include_weak``."""
        result = set(self._strong)
        if include_weak:
            result.update(self._weak)
        return result

    def is_weak(self, etag: str) -> bool:
        """Whether ``etag`` is among the weak tags."""
        return etag in self._weak

    def is_strong(self, etag: str) -> bool:
        """Whether ``etag`` is among the strong tags."""
        return etag in self._strong

    def contains(self, etag: str) -> bool:
        """Strong comparison: ``*`` or a strong tag equal to ``etag``."""
        return self.star_tag or etag in self._strong

    def contains_weak(self, etag: str) -> bool:
        """Weak comparison: :meth:`contains`, or a weak tag equal to ``etag``."""
        return self.is_weak(etag) or self.contains(etag)

    def contains_raw(self, etag: str) -> bool:
        """Compare a quoted tag (``W/"x"`` weakly, ``"x"`` strongly)."""
        tag, weak = unquote_etag(etag)
        assert tag is not None  # only None for a None input
        return self.contains_weak(tag) if weak else self.contains(tag)

    def __call__(
        self, etag: str | None = None, data: bytes | None = None, include_weak: bool = False
    ) -> bool:
        """Whether ``etag`` (or the ETag of ``data``) is contained."""
        if etag is None:
            if data is None:
                raise TypeError("Pass an etag or data to compare with.")
            etag = generate_etag(data)
        if include_weak and etag in self._weak:
            return True
        return self.contains(etag)

    def to_header(self) -> str:
        """Serialise to a header value."""
        if self.star_tag:
            return "*"
        return ", ".join(
            [quote_etag(x) for x in sorted(self._strong)]
            + [quote_etag(x, True) for x in sorted(self._weak)]
        )

    def __contains__(self, etag: object) -> bool:
        return isinstance(etag, str) and self.contains(etag)

    def __iter__(self) -> cabc.Iterator[str]:
        return iter(self._strong)

    def __len__(self) -> int:
        return len(self._strong)

    def __bool__(self) -> bool:
        return bool(self.star_tag or self._strong or self._weak)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ETags):
            return NotImplemented
        return (self.star_tag, self._strong, self._weak) == (
            other.star_tag,
            other._strong,
            other._weak,
        )

    def __hash__(self) -> int:
        return hash((self.star_tag, self._strong, self._weak))

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


class IfRange:
    """An ``If-Range`` header: an entity tag or a date (or neither)."""

    def __init__(self, etag: str | None = None, date: datetime | None = None) -> None:
        self.etag = etag
        self.date = date

    @classmethod
    def from_header(cls, value: str | None) -> IfRange:
        """Parse a header value (an empty one when missing)."""
        return cls(*parse_if_range_header(value))

    def to_header(self) -> str:
        """Serialise to a header value."""
        if self.date is not None:
            return http_date(self.date)
        if self.etag is not None:
            return quote_etag(self.etag)
        return ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IfRange):
            return NotImplemented
        return (self.etag, self.date) == (other.etag, other.date)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


# ---------------------------------------------------------------------------
# HeaderSet, UserAgent
# ---------------------------------------------------------------------------


class HeaderSet(cabc.MutableSet[str]):
    """A case-insensitive ordered set of tokens, for ``Vary``, ``Allow`` and the like.

    Keeps the first spelling of each value; ``on_update(self)`` is called after
    every change.
    """

    def __init__(
        self,
        headers: cabc.Iterable[str] | None = None,
        on_update: cabc.Callable[[HeaderSet], None] | None = None,
    ) -> None:
        self._headers: list[str] = []
        self._set: set[str] = set()
        for header in headers or ():
            key = header.lower()
            if key not in self._set:
                self._set.add(key)
                self._headers.append(header)
        self.on_update = on_update

    @classmethod
    def from_header(
        cls,
        value: str | None,
        on_update: cabc.Callable[[HeaderSet], None] | None = None,
    ) -> HeaderSet:
        """Parse a comma-separated header value."""
        return cls(parse_set_header(value), on_update)

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def add(self, header: str) -> None:
        """Add ``header`` unless present (in any case)."""
        self.update((header,))

    def discard(self, header: str) -> None:
        """Remove ``header`` if present."""
        key = header.lower()
        if key not in self._set:
            return
        self._set.discard(key)
        self._headers = [h for h in self._headers if h.lower() != key]
        self._changed()

    def remove(self, header: str) -> None:
        """Remove ``header``.

        :raises KeyError: it isn't present.
        """
        if header.lower() not in self._set:
            raise KeyError(header)
        self.discard(header)

    def update(self, iterable: cabc.Iterable[str]) -> None:
        """Add every value of ``iterable`` (one ``on_update`` call)."""
        changed = False
        for header in iterable:
            key = header.lower()
            if key not in self._set:
                self._set.add(key)
                self._headers.append(header)
                changed = True
        if changed:
            self._changed()

    def clear(self) -> None:
        """Remove every value."""
        self._set.clear()
        self._headers.clear()
        self._changed()

    def find(self, header: str) -> int:
        """The index of ``header`` (any case), or -1."""
        key = header.lower()
        for idx, item in enumerate(self._headers):
            if item.lower() == key:
                return idx
        return -1

    def index(self, header: str) -> int:
        """The index of ``header`` (any case).

        :raises IndexError: it isn't present.
        """
        idx = self.find(header)
        if idx < 0:
            raise IndexError(header)
        return idx

    def as_set(self, preserve_casing: bool = False) -> set[str]:
        """The values as a set, lowercased unless ``preserve_casing``."""
        if preserve_casing:
            return set(self._headers)
        return set(self._set)

    def to_header(self) -> str:
        """Serialise to a header value."""
        return ", ".join([quote_header_value(x) for x in self._headers])

    def __getitem__(self, idx: int) -> str:
        return self._headers[idx]

    def __delitem__(self, idx: int) -> None:
        removed = self._headers.pop(idx)
        self._set.discard(removed.lower())
        self._changed()

    def __setitem__(self, idx: int, value: str) -> None:
        old = self._headers[idx]
        self._set.discard(old.lower())
        key = value.lower()
        if key in self._set:
            # The value is elsewhere already: keep one copy, at that place.
            del self._headers[idx]
        else:
            self._headers[idx] = value
            self._set.add(key)
        self._changed()

    def __contains__(self, header: object) -> bool:
        return isinstance(header, str) and header.lower() in self._set

    def __iter__(self) -> cabc.Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)

    def __bool__(self) -> bool:
        return bool(self._headers)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HeaderSet):
            return self._set == other._set
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._headers!r})"


class UserAgent:
    """The ``User-Agent`` string, unparsed.

    COMPAT: Werkzeug dropped its sniffing database; ``platform``, ``browser``,
    ``version`` and ``language`` stay None for code that reads them. Subclass
    and set them from a real parser if you need them.
    """

    platform: str | None = None
    browser: str | None = None
    version: str | None = None
    language: str | None = None

    def __init__(self, string: str | None) -> None:
        self.string = string or ""

    def to_header(self) -> str:
        """The header value."""
        return self.string

    def __str__(self) -> str:
        return self.string

    def __bool__(self) -> bool:
        return bool(self.string)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UserAgent):
            return NotImplemented
        return self.string == other.string

    def __hash__(self) -> int:
        return hash(self.string)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.string!r}>"
