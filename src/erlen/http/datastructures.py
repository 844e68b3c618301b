"""Multi-valued dicts for query strings and forms, and uploaded files.

A form or query string may repeat a key (``?tag=a&tag=b``). :class:`MultiDict`
behaves like a dict of first values (``args["tag"] == "a"``) while keeping every
value for :meth:`MultiDict.getlist`. A missing key raises
:class:`BadRequestKeyError`, which is a ``KeyError`` and, uncaught, a 400.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import os
import shutil
import typing as t

from .exceptions import BadRequestKeyError

if t.TYPE_CHECKING:
    from .headers import Headers

_missing: t.Any = object()
_dict_new = dict.__new__
_dict_update = dict.update

MultiDictSource = t.Union[
    "MultiDict",
    cabc.Mapping[str, t.Any],
    cabc.Iterable[tuple[str, t.Any]],
]


def _immutable(self: object, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    raise TypeError(f"{type(self).__name__!r} objects are immutable; copy() one to change it.")


class MultiDict(dict[str, t.Any]):
    """A dict whose keys may hold several values; item access gives the first.

    Internally each key maps to a list of its values.
    """

    def __init__(self, mapping: MultiDictSource | None = None) -> None:
        super().__init__()
        if mapping is None:
            return
        setitem = dict.__setitem__
        if isinstance(mapping, MultiDict):
            for key, values in mapping.lists():
                setitem(self, key, list(values))
        elif isinstance(mapping, cabc.Mapping):
            for key, value in mapping.items():
                if isinstance(value, list | tuple):
                    if value:
                        setitem(self, key, list(value))
                else:
                    setitem(self, key, [value])
        else:
            getitem = dict.get
            for key, value in mapping:
                existing: list[t.Any] | None = getitem(self, key)
                if existing is None:
                    setitem(self, key, [value])
                else:
                    existing.append(value)

    @classmethod
    def _from_lists(cls, lists: dict[str, list[t.Any]]) -> t.Self:
        # PERF: parsers build the key -> values dict themselves; adopt it as-is.
        # dict.__new__ and dict.update through module globals: cls.__new__(cls)
        # and dict.update cost ~700 instructions more (benchmarks/
        # instructions.py query).
        new: t.Self = _dict_new(cls)
        _dict_update(new, lists)
        return new

    def __getitem__(self, key: str) -> t.Any:
        try:
            return dict.__getitem__(self, key)[0]
        except KeyError:
            raise BadRequestKeyError(key) from None

    def __setitem__(self, key: str, value: t.Any) -> None:
        dict.__setitem__(self, key, [value])

    def add(self, key: str, value: t.Any) -> None:
        """Append a value for ``key``, keeping the ones it has."""
        dict.setdefault(self, key, []).append(value)

    def get(
        self,
        key: str,
        default: t.Any = None,
        type: cabc.Callable[[t.Any], t.Any] | None = None,
    ) -> t.Any:
        """The first value for ``key``, or ``default``.

        With ``type`` the value is converted (``args.get("page", 1, type=int)``); a
        conversion raising ``ValueError`` or ``TypeError`` gives ``default``.
        """
        values = dict.get(self, key)
        if not values:
            return default
        if type is None:
            return values[0]
        try:
            return type(values[0])
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: cabc.Callable[[t.Any], t.Any] | None = None) -> list[t.Any]:
        """Every value for ``key``; with ``type``, values that fail to convert are skipped."""
        values = dict.get(self, key)
        if not values:
            return []
        if type is None:
            return list(values)
        result = []
        for value in values:
            try:
                result.append(type(value))
            except (ValueError, TypeError):
                continue
        return result

    def setlist(self, key: str, new_list: cabc.Iterable[t.Any]) -> None:
        """Replace the values of ``key``."""
        dict.__setitem__(self, key, list(new_list))

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        if key not in self:
            self[key] = default
        return self[key]

    def setlistdefault(
        self, key: str, default_list: cabc.Iterable[t.Any] | None = None
    ) -> list[t.Any]:
        """The live list of values for ``key``, creating it from ``default_list``."""
        if key not in self:
            dict.__setitem__(self, key, list(default_list or ()))
        return dict.__getitem__(self, key)

    def items(self, multi: bool = False) -> cabc.Iterator[tuple[str, t.Any]]:  # type: ignore[override]
        """Pairs of key and first value; with ``multi``, one pair per value."""
        for key, values in dict.items(self):
            if multi:
                for value in values:
                    yield key, value
            else:
                yield key, values[0]

    def lists(self) -> cabc.Iterator[tuple[str, list[t.Any]]]:
        """Pairs of key and the list of its values."""
        for key, values in dict.items(self):
            yield key, list(values)

    def values(self) -> cabc.Iterator[t.Any]:  # type: ignore[override]
        """The first value of each key."""
        for values in dict.values(self):
            yield values[0]

    def listvalues(self) -> cabc.Iterator[list[t.Any]]:
        return (list(values) for values in dict.values(self))

    def to_dict(self, flat: bool = True) -> dict[str, t.Any]:
        """A plain dict of first values, or with ``flat=False`` of value lists."""
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def update(self, mapping: MultiDictSource | None = None, /, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Add the values of ``mapping``; unlike ``dict.update`` nothing is replaced."""
        for source in (mapping, kwargs):
            if not source:
                continue
            if isinstance(source, MultiDict):
                pairs: cabc.Iterable[tuple[str, t.Any]] = source.items(multi=True)
            elif isinstance(source, cabc.Mapping):
                pairs = (
                    (k, item)
                    for k, v in source.items()
                    for item in (v if isinstance(v, list | tuple) else (v,))
                )
            else:
                pairs = source
            for key, value in pairs:
                self.add(key, value)

    def pop(self, key: str, default: t.Any = _missing) -> t.Any:
        """Remove ``key`` and return its first value."""
        try:
            values = dict.pop(self, key)
        except KeyError:
            if default is _missing:
                raise BadRequestKeyError(key) from None
            return default
        return values[0] if values else default

    def popitem(self) -> tuple[str, t.Any]:
        try:
            key, values = dict.popitem(self)
        except KeyError as e:
            raise BadRequestKeyError(e.args[0] if e.args else None) from None
        return key, values[0]

    def poplist(self, key: str) -> list[t.Any]:
        """Remove ``key`` and return all its values (empty if missing)."""
        return dict.pop(self, key, [])

    def popitemlist(self) -> tuple[str, list[t.Any]]:
        try:
            return dict.popitem(self)
        except KeyError as e:
            raise BadRequestKeyError(e.args[0] if e.args else None) from None

    def copy(self) -> t.Self:
        """A shallow copy: new value lists, same values."""
        return self.__class__(self)

    def deepcopy(self, memo: dict[int, t.Any] | None = None) -> t.Self:
        return self.__class__(copy.deepcopy(self.to_dict(flat=False), memo))

    def __copy__(self) -> t.Self:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, t.Any]) -> t.Self:
        return self.deepcopy(memo)

    def __iter__(self) -> cabc.Iterator[str]:
        return dict.__iter__(self)

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> tuple[t.Any, ...]:
        return type(self), (list(self.items(multi=True)),)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return dict.__eq__(self, other)
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items(multi=True))!r})"


class ImmutableMultiDict(MultiDict):
    """A read-only :class:`MultiDict`, as ``request.args`` and ``request.form`` are."""

    __setitem__ = _immutable
    __delitem__ = _immutable
    add = _immutable
    setlist = _immutable
    setdefault = _immutable
    setlistdefault = _immutable
    update = _immutable
    pop = _immutable
    popitem = _immutable
    poplist = _immutable
    popitemlist = _immutable
    clear = _immutable

    def copy(self) -> MultiDict:  # type: ignore[override]
        """A mutable :class:`MultiDict` copy."""
        return MultiDict(self)

    def __copy__(self) -> t.Self:
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple((k, tuple(v)) for k, v in self.lists()))


class CombinedMultiDict(ImmutableMultiDict):
    """A read-only view over several multidicts, as ``request.values`` is.

    The first dict holding a key answers ``[]`` and ``get``; ``getlist`` joins
    the values from every dict.
    """

    def __init__(self, dicts: cabc.Iterable[MultiDict] | None = None) -> None:
        super().__init__()
        self.dicts: list[MultiDict] = list(dicts or ())

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> tuple[t.Any, ...]:
        return type(self), (self.dicts,)

    def __getitem__(self, key: str) -> t.Any:
        for d in self.dicts:
            if key in d:
                return d[key]
        raise BadRequestKeyError(key)

    def get(self, key: str, default: t.Any = None, type: t.Any = None) -> t.Any:
        for d in self.dicts:
            if key in d:
                return d.get(key, default, type) if type is not None else d[key]
        return default

    def getlist(self, key: str, type: cabc.Callable[[t.Any], t.Any] | None = None) -> list[t.Any]:
        result: list[t.Any] = []
        for d in self.dicts:
            result.extend(d.getlist(key, type))
        return result

    def _keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for d in self.dicts:
            seen.update(dict.fromkeys(d))
        return list(seen)

    def keys(self) -> t.Any:
        return iter(self._keys())

    def __iter__(self) -> cabc.Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __contains__(self, key: object) -> bool:
        return any(key in d for d in self.dicts)

    def items(self, multi: bool = False) -> cabc.Iterator[tuple[str, t.Any]]:  # type: ignore[override]
        if multi:
            for d in self.dicts:
                yield from d.items(multi=True)
        else:
            for key in self._keys():
                yield key, self[key]

    def lists(self) -> cabc.Iterator[tuple[str, list[t.Any]]]:
        for key in self._keys():
            yield key, self.getlist(key)

    def values(self) -> cabc.Iterator[t.Any]:  # type: ignore[override]
        for key in self._keys():
            yield self[key]

    def listvalues(self) -> cabc.Iterator[list[t.Any]]:
        for key in self._keys():
            yield self.getlist(key)

    def to_dict(self, flat: bool = True) -> dict[str, t.Any]:
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def copy(self) -> MultiDict:  # type: ignore[override]
        """A mutable :class:`MultiDict` holding every value."""
        return MultiDict(list(self.items(multi=True)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return self.to_dict(flat=False) == other.to_dict(flat=False)
        return NotImplemented

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.dicts and (id(d) for d in self.dicts)))

    def __bool__(self) -> bool:
        return any(self.dicts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dicts!r})"


class FileStorage:
    """An uploaded file: its stream plus what the client said about it.

    ``filename`` is the client's name for the file and must not be trusted as a
    path; pass it through a sanitiser before saving under it.
    """

    def __init__(
        self,
        stream: t.IO[bytes] | None = None,
        filename: str | None = None,
        name: str | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        from .headers import Headers

        if stream is None:
            import io

            stream = io.BytesIO()
        self.stream: t.IO[bytes] = stream
        if filename is None:
            raw = getattr(stream, "name", None)
            if isinstance(raw, str | bytes) and not isinstance(raw, int):
                raw = os.fsdecode(raw)
                if raw[:1] != "<" or raw[-1:] != ">":
                    filename = raw
        self.filename = filename
        self.name = name
        self.headers = headers if headers is not None else Headers()
        if content_type is not None:
            self.headers.set("Content-Type", content_type)
        if content_length is not None:
            self.headers.set("Content-Length", str(content_length))

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` the client sent for this file."""
        return self.headers.get("Content-Type")

    @property
    def content_length(self) -> int:
        return self.headers.get("Content-Length", 0, type=int)

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lowercased (``text/plain``)."""
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters (``{"charset": "utf-8"}``)."""
        from .parsing import parse_options_header

        return parse_options_header(self.content_type)[1]

    def save(self, dst: str | os.PathLike[str] | t.IO[bytes], buffer_size: int = 16384) -> None:
        """Copy the file to a path or a binary file object (which stays open)."""
        if isinstance(dst, str | os.PathLike):
            with open(dst, "wb") as f:
                shutil.copyfileobj(self.stream, f, buffer_size)
        else:
            shutil.copyfileobj(self.stream, dst, buffer_size)

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)

    def close(self) -> None:
        try:
            self.stream.close()
        except Exception:
            pass

    def __getattr__(self, name: str) -> t.Any:
        # Behave like the underlying file object (seek, tell, readline, ...).
        if name == "stream":
            raise AttributeError(name)
        return getattr(self.stream, name)

    def __iter__(self) -> cabc.Iterator[bytes]:
        return iter(self.stream)

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.filename!r} ({self.content_type!r})>"
