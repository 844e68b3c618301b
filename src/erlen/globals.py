"""The context-bound names: ``current_app``, ``g``, ``request``, ``session``.

One :class:`contextvars.ContextVar` holds the active context (an app context or
a request context, which is also an app context). The proxies look it up on
every use, so each thread and each asyncio task sees its own.

This module imports nothing from erlen at runtime, so any module may import it.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from contextvars import ContextVar

if t.TYPE_CHECKING:
    from .app import Erlen
    from .ctx import AppContext
    from .ctx import RequestContext
    from .ctx import _AppCtxGlobals
    from .sessions import SessionMixin
    from .wrappers import Request

_no_app_msg = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application. To solve this, set up an application context
with app.app_context(). See the documentation for more information.\
"""
_no_req_msg = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed
an active HTTP request. Consult the documentation on testing for
information about how to avoid this problem.\
"""

#: The active context: an :class:`~erlen.ctx.AppContext` or a
#: :class:`~erlen.ctx.RequestContext` (a subclass of it).
_cv_ctx: ContextVar[AppContext] = ContextVar("erlen.ctx")
# COMPAT: Flask exposes these two names; both read the single variable above.
_cv_app = _cv_ctx
_cv_request = _cv_ctx
# PERF: the variable's methods as plain names, for the modules that import
# them. On CPython 3.11 `_cv_ctx.get()` in a module that imports `_cv_ctx`
# compiles to a generic attribute lookup plus a new bound method per call
# (the compiler treats imported names like modules): push and pop of a
# request context cost ~2k instructions more that way.
_ctx_get = _cv_ctx.get
_ctx_set = _cv_ctx.set
_ctx_reset = _cv_ctx.reset


def _app_ctx() -> AppContext:
    try:
        return _cv_ctx.get()
    except LookupError:
        raise RuntimeError(_no_app_msg) from None


def _request_ctx() -> RequestContext:
    try:
        ctx = _cv_ctx.get()
    except LookupError:
        raise RuntimeError(_no_req_msg) from None
    if ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx  # type: ignore[return-value]  # a context with a request is a RequestContext


class _Proxy:
    """Forwards every operation to the object the active context holds.

    Thin on purpose: one context-variable read and one attribute access per use.
    """

    __slots__ = ()
    #: Returns the object behind the proxy. Each proxy is the one instance of
    #: its own subclass (see _proxy), which sets this.
    _erlen_target: t.ClassVar[cabc.Callable[[], t.Any]]

    def _get_current_object(self) -> t.Any:
        """The real object behind the proxy, e.g. to send it to another thread."""
        return type(self)._erlen_target()

    # PERF: __getattribute__, not __getattr__. On Python 3.11 a class with only
    # __getattr__ first runs the generic lookup, which builds and formats an
    # AttributeError for every name the proxy lacks (every attribute of the
    # target) before __getattr__ runs: `request.args` cost 6.1k instructions,
    # now 2.0k (benchmarks/instructions.py query: -8k). Names the proxy class
    # itself has (_PROXY_NAMES: its methods and object's) resolve on the proxy,
    # exactly as the generic lookup would; every other name is forwarded.
    # Inside the class, reach the target with type(self)._erlen_target():
    # `self._erlen_target` would come through here (a Python frame more).
    def __getattribute__(self, name: str) -> t.Any:
        if name in _PROXY_NAMES:
            return _object_getattribute(self, name)
        return getattr(type(self)._erlen_target(), name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(type(self)._erlen_target(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(type(self)._erlen_target(), name)

    def __getitem__(self, key: t.Any) -> t.Any:
        return type(self)._erlen_target()[key]

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        type(self)._erlen_target()[key] = value

    def __delitem__(self, key: t.Any) -> None:
        del type(self)._erlen_target()[key]

    def __contains__(self, key: t.Any) -> bool:
        return key in type(self)._erlen_target()

    def __iter__(self) -> t.Iterator[t.Any]:
        return iter(type(self)._erlen_target())

    def __len__(self) -> int:
        return len(type(self)._erlen_target())

    def __bool__(self) -> bool:
        try:
            return bool(type(self)._erlen_target())
        except RuntimeError:
            return False

    def __or__(self, other: t.Any) -> t.Any:
        return type(self)._erlen_target() | other

    def __ror__(self, other: t.Any) -> t.Any:
        return other | type(self)._erlen_target()

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return type(self)._erlen_target()(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return bool(type(self)._erlen_target() == other)

    def __ne__(self, other: object) -> bool:
        return bool(type(self)._erlen_target() != other)

    def __hash__(self) -> int:
        return hash(type(self)._erlen_target())

    def __str__(self) -> str:
        return str(type(self)._erlen_target())

    def __repr__(self) -> str:
        try:
            obj = type(self)._erlen_target()
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"
        return repr(obj)

    def __dir__(self) -> t.Iterable[str]:
        try:
            return dir(type(self)._erlen_target())
        except RuntimeError:
            return []

    def __enter__(self) -> t.Any:
        return type(self)._erlen_target().__enter__()

    def __exit__(self, *exc: t.Any) -> t.Any:
        return type(self)._erlen_target().__exit__(*exc)

    @property  # type: ignore[misc]  # isinstance(request, Request) works as in Flask
    def __class__(self) -> type:
        try:
            return type(type(self)._erlen_target())
        except RuntimeError:
            return _Proxy

    @property
    def __wrapped__(self) -> t.Any:
        return type(self)._erlen_target()


_object_getattribute = object.__getattribute__
#: What the generic attribute lookup finds on a proxy itself (not forwarded);
#: the class's documentation and annotations are the target's, as in Flask.
_PROXY_NAMES = frozenset(
    {*(name for cls in _Proxy.__mro__ for name in vars(cls)), "_erlen_target"}
) - {"__doc__", "__annotations__"}


def _proxy(
    get: cabc.Callable[[], t.Any], attr: str | None = None, message: str = _no_app_msg
) -> t.Any:
    """A proxy for what ``get`` returns.

    With ``attr``, attribute access reads that attribute of the active context
    (its app, g or request) directly, raising ``RuntimeError(message)`` outside
    of one; ``get`` must return the same object.
    """
    namespace: dict[str, t.Any] = {
        "__slots__": (),
        "__doc__": _Proxy.__doc__,
        "_erlen_target": staticmethod(get),
    }
    if attr == "request":
        namespace["__getattribute__"] = _request_getattribute
    elif attr is not None:
        context_attr = attr

        # PERF: the context lookup inlined, with `attr` and `message` read from
        # the closure: one Python frame per attribute use (benchmarks/ query
        # reads request.args twice).
        def __getattribute__(self: _Proxy, name: str) -> t.Any:
            if name in _PROXY_NAMES:
                return _object_getattribute(self, name)
            try:
                target = getattr(_cv_ctx.get(), context_attr)
            except LookupError:
                raise RuntimeError(message) from None
            if target is None:
                raise RuntimeError(message)
            return getattr(target, name)

        namespace["__getattribute__"] = __getattribute__
    # Named like its base, so type(request).__name__ is "_Proxy" as before.
    return type("_Proxy", (_Proxy,), namespace)()


# PERF: the request proxy's lookup with `.request` written out: a
# specialised attribute read instead of getattr(ctx, "request"), which the
# generic version above needs for its variable name (~250 instructions per
# `request.X`; benchmarks/instructions.py query and form read it twice).
def _request_getattribute(self: _Proxy, name: str) -> t.Any:
    if name in _PROXY_NAMES:
        return _object_getattribute(self, name)
    try:
        request = _cv_ctx.get().request
    except LookupError:
        raise RuntimeError(_no_req_msg) from None
    if request is None:
        raise RuntimeError(_no_req_msg)
    return getattr(request, name)


def _get_app() -> Erlen:
    return _app_ctx().app


def _get_g() -> _AppCtxGlobals:
    return _app_ctx().g


def _get_request() -> Request:
    try:
        request = _cv_ctx.get().request
    except LookupError:
        raise RuntimeError(_no_req_msg) from None
    if request is None:
        raise RuntimeError(_no_req_msg)
    return request


def _get_session() -> SessionMixin:
    return _request_ctx().session


#: The application handling the current request or app context.
current_app: Erlen = _proxy(_get_app, "app", _no_app_msg)
#: A namespace for data during one app context (one request).
g: _AppCtxGlobals = _proxy(_get_g, "g", _no_app_msg)
#: The current request.
request: Request = _proxy(_get_request, "request", _no_req_msg)
#: The current session.
session: SessionMixin = _proxy(_get_session)
#: The active app context (also set while a request is handled).
app_ctx: AppContext = _proxy(_app_ctx)
#: The active request context.
request_ctx: RequestContext = _proxy(_request_ctx)
