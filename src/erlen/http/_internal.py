"""Small private helpers shared by the HTTP core."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

_T = t.TypeVar("_T")

#: The standard methods, which need no ``.upper()``. PERF: a set lookup costs
#: ~100 instructions, the call ~350 (the request and the router both check).
UPPERCASE_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}
)


class cached_property(t.Generic[_T]):
    """A property computed on first access and stored in the instance ``__dict__``.

    Setting or deleting it works like a plain attribute.
    """

    # PERF: functools.cached_property takes an RLock on every first access on
    # Python 3.11; request attributes are computed once per request on hot paths.
    __slots__ = ("func", "name", "__dict__")

    def __init__(self, func: cabc.Callable[[t.Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @t.overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[_T]: ...
    @t.overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> t.Any:
        if instance is None:
            return self
        value = self.func(instance)
        # PERF: setattr, not instance.__dict__[name]: the value joins the
        # instance's inline attributes, with no __dict__ made for it (~550
        # instructions for the first cached value of a request;
        # benchmarks/instructions.py query). The class attribute is this
        # non-data descriptor, so the value lands in the instance all the same.
        store_in_instance(instance, self.name, value)
        return value


def store_in_instance(instance: object, name: str, value: t.Any) -> None:
    """Cache ``value`` as ``instance``'s own attribute ``name``.

    A subclass may cover the name with a property that calls ``super()``, or
    refuse it in its ``__setattr__``: the value then goes to ``__dict__``.
    """
    try:
        setattr(instance, name, value)  # PERF: see cached_property.__get__
    except AttributeError:
        instance.__dict__[name] = value
