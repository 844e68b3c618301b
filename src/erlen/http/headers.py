"""HTTP headers: ordered, multi-valued, case-insensitive, and safe to send.

A :class:`Headers` keeps the exact ``(name, value)`` pairs it was given, in order,
because HTTP allows repeated headers (``Set-Cookie``) and their order matters.
Lookups ignore case. Every value added through the public API is checked for CR,
LF and NUL, so a header can never be split into two by user input.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from .exceptions import BadRequestKeyError

_T = t.TypeVar("_T")
# A mapping value of one of these types means several headers of that name.
_MULTI_VALUE_TYPES = (list, tuple)
_missing: t.Any = object()

HeaderSource = t.Union[
    "Headers",
    cabc.Mapping[str, t.Any],
    cabc.Iterable[tuple[str, t.Any]],
]


def _checked(name: str, value: t.Any) -> tuple[str, str]:
    """Validate one header; values that aren't str are converted (``5`` -> ``"5"``)."""
    if not isinstance(value, str):
        value = str(value)
    # SECURITY: CR or LF would let a value start a new header or the body
    # (response splitting); NUL is refused by servers and confuses parsers.
    if "\n" in value or "\r" in value or "\x00" in value:
        raise ValueError(
            f"Header {name!r} has a value with a newline or NUL character: {value!r}."
            " Header values must be one line; remove the control characters."
        )
    if not name or "\n" in name or "\r" in name or "\x00" in name or ":" in name:
        raise ValueError(
            f"Invalid header name {name!r}: names must be non-empty and contain"
            " no colon, newline or NUL character."
        )
    return name, value


def _with_options(value: t.Any, options: dict[str, t.Any]) -> t.Any:
    if not options:
        return value
    from .parsing import dump_options_header

    return dump_options_header(str(value), {k.replace("_", "-"): v for k, v in options.items()})


class Headers:
    """An ordered list of headers with dict-like, case-insensitive access.

    ``headers["X"]`` gives the first value and raises :class:`BadRequestKeyError`
    (a ``KeyError`` that becomes a 400) when missing; ``getlist`` gives them all.
    Iterating yields ``(name, value)`` pairs, as in Flask.
    """

    __slots__ = ("_list",)

    def __init__(self, defaults: HeaderSource | None = None) -> None:
        self._list: list[tuple[str, str]] = []
        if defaults is not None:
            self.extend(defaults)

    @classmethod
    def from_raw(cls, pairs: list[tuple[str, str]]) -> Headers:
        """Wrap pairs a server already parsed, without copying or re-validating them."""
        # PERF: adapters build one of these per request; servers have already
        # split the header lines, so the checks in _checked would be redundant.
        headers = cls.__new__(cls)
        headers._list = pairs
        return headers

    # -- reading -------------------------------------------------------------

    @t.overload
    def __getitem__(self, key: str) -> str: ...
    @t.overload
    def __getitem__(self, key: int) -> tuple[str, str]: ...
    @t.overload
    def __getitem__(self, key: slice) -> Headers: ...

    def __getitem__(self, key: str | int | slice) -> str | tuple[str, str] | Headers:
        if isinstance(key, str):
            lkey = key.lower()
            for name, value in self._list:
                if name.lower() == lkey:
                    return value
            raise BadRequestKeyError(key)
        if isinstance(key, slice):
            return self.__class__(self._list[key])
        return self._list[key]

    @t.overload
    def get(self, key: str) -> str | None: ...
    @t.overload
    def get(self, key: str, default: str) -> str: ...
    @t.overload
    def get(self, key: str, default: _T) -> str | _T: ...
    @t.overload
    def get(self, key: str, default: _T, type: cabc.Callable[[str], _T]) -> _T: ...
    @t.overload
    def get(self, key: str, *, type: cabc.Callable[[str], _T]) -> _T | None: ...

    def get(
        self,
        key: str,
        default: t.Any = None,
        type: cabc.Callable[[str], t.Any] | None = None,
    ) -> t.Any:
        """The first value for ``key``, or ``default``.

        With ``type``, the value is converted; a conversion that raises
        ``ValueError`` or ``TypeError`` gives ``default``.
        """
        # PERF: a miss must not build and catch a BadRequestKeyError (optional
        # headers are looked up on every request).
        lkey = key.lower()
        for name, found in self._list:
            if name.lower() == lkey:
                value = found
                break
        else:
            return default
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: cabc.Callable[[str], t.Any] | None = None) -> list[t.Any]:
        """Every value for ``key`` in order (values failing ``type`` are skipped)."""
        lkey = key.lower()
        if type is None:
            return [v for k, v in self._list if k.lower() == lkey]
        result = []
        for k, v in self._list:
            if k.lower() == lkey:
                try:
                    result.append(type(v))
                except (ValueError, TypeError):
                    continue
        return result

    get_all = getlist

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        lkey = key.lower()
        # PERF: a plain loop, not any() over a generator (a frame per test):
        # 6.5k -> 3.4k instructions for a miss among three headers.
        for name, _ in self._list:
            if name.lower() == lkey:
                return True
        return False

    def __iter__(self) -> cabc.Iterator[tuple[str, str]]:
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def __bool__(self) -> bool:
        return bool(self._list)

    def keys(self, lower: bool = False) -> cabc.Iterator[str]:
        """Header names in order (repeated names repeat)."""
        for k, _ in self:
            yield k.lower() if lower else k

    def values(self) -> cabc.Iterator[str]:
        for _, v in self:
            yield v

    def items(self, lower: bool = False) -> cabc.Iterator[tuple[str, str]]:
        for k, v in self:
            yield (k.lower() if lower else k), v

    # -- writing -------------------------------------------------------------

    def add(self, key: str, value: t.Any, **options: t.Any) -> None:
        """Append a header; keyword arguments become options (``filename="a.txt"``)."""
        if options:
            value = _with_options(value, options)
        self._list.append(_checked(key, value))

    add_header = add

    def set(self, key: str, value: t.Any, **options: t.Any) -> None:
        """Replace every ``key`` header with one, kept at the first one's place."""
        if options:
            value = _with_options(value, options)
        pair = _checked(key, value)
        lkey = key.lower()
        items = self._list
        # PERF: plain loops; the tail is edited only when it repeats the name
        # (10.7k -> 7.5k instructions to replace one of three headers).
        index = 0
        for name, _ in items:
            if name.lower() == lkey:
                items[index] = pair
                for later in range(len(items) - 1, index, -1):
                    if items[later][0].lower() == lkey:
                        del items[later]
                return
            index += 1
        items.append(pair)

    def setlist(self, key: str, values: cabc.Iterable[t.Any]) -> None:
        """Replace every ``key`` header with one header per value."""
        checked = [_checked(key, v) for v in values]
        if not checked:
            self.remove(key)
            return
        self.set(*checked[0])
        self._list.extend(checked[1:])

    def setdefault(self, key: str, default: t.Any) -> str:
        """The first ``key`` value, adding ``default`` first if there is none."""
        try:
            return self[key]
        except KeyError:
            self.add(key, default)
            return self._list[-1][1]

    def setlistdefault(self, key: str, default: cabc.Iterable[t.Any]) -> list[str]:
        if key not in self:
            for value in default:
                self.add(key, value)
        return self.getlist(key)

    def __setitem__(self, key: str | int, value: t.Any) -> None:
        if isinstance(key, int):
            self._list[key] = _checked(*value)
        else:
            self.set(key, value)

    def _pairs(
        self, source: HeaderSource | None, kwargs: dict[str, t.Any]
    ) -> cabc.Iterator[tuple[str, t.Any]]:
        # Yields (name, value) pairs from every accepted input shape; a mapping
        # value that is a list or tuple means several headers.
        # PERF: tuples of types, not X | Y unions (built anew on each test).
        if source is not None:
            if isinstance(source, Headers):
                yield from source
            elif type(source) is dict or isinstance(source, cabc.Mapping):
                for key, value in source.items():
                    if isinstance(value, _MULTI_VALUE_TYPES):
                        for item in value:
                            yield key, item
                    else:
                        yield key, value
            else:
                yield from source
        for key, value in kwargs.items():
            if isinstance(value, _MULTI_VALUE_TYPES):
                for item in value:
                    yield key, item
            else:
                yield key, value

    def extend(self, source: HeaderSource | None = None, /, **kwargs: t.Any) -> None:
        """Add every header from a mapping, a :class:`Headers` or pairs, keeping existing ones."""
        if type(source) is list and not kwargs:
            # PERF: the usual shape, Headers([(name, value), ...]), without
            # the generator that sorts out the others.
            for key, value in source:
                self.add(key, value)
            return
        for key, value in self._pairs(source, kwargs):
            self.add(key, value)

    def update(self, source: HeaderSource | None = None, /, **kwargs: t.Any) -> None:
        """Replace the headers named in ``source``; a list value sets several."""
        grouped: dict[str, tuple[str, list[t.Any]]] = {}
        for key, value in self._pairs(source, kwargs):
            grouped.setdefault(key.lower(), (key, []))[1].append(value)
        for key, values in grouped.values():
            self.setlist(key, values)

    def remove(self, key: str) -> None:
        """Remove every ``key`` header (no error when there is none)."""
        lkey = key.lower()
        items = self._list
        # PERF: deletes in place, last first; nothing is rebuilt on a miss.
        for index in range(len(items) - 1, -1, -1):
            if items[index][0].lower() == lkey:
                del items[index]

    def __delitem__(self, key: str | int) -> None:
        if isinstance(key, str):
            self.remove(key)
        else:
            del self._list[key]

    def pop(self, key: str | int | None = None, default: t.Any = _missing) -> t.Any:
        """Remove ``key`` and return its first value; no key pops the last pair."""
        if key is None:
            return self._list.pop()
        if isinstance(key, int):
            return self._list.pop(key)
        try:
            value = self[key]
        except KeyError:
            if default is _missing:
                raise
            return default
        self.remove(key)
        return value

    def popitem(self) -> tuple[str, str]:
        return self._list.pop()

    def clear(self) -> None:
        del self._list[:]

    # -- the rest ------------------------------------------------------------

    def copy(self) -> Headers:
        new = self.__class__.__new__(self.__class__)
        new._list = list(self)
        return new

    __copy__ = copy

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        """The pairs as a list for ``start_response``."""
        return self._list[:]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        mine = sorted((k.lower(), v) for k, v in self)
        theirs = sorted((k.lower(), v) for k, v in other)
        return mine == theirs

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __str__(self) -> str:
        lines = [f"{k}: {v}\r\n" for k, v in self]
        return "".join(lines) + "\r\n"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"
